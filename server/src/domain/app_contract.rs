//! What the HubSpot project (`hubspot/`) and this backend agree on, read from the project's own
//! `hubspot/contract.json` at build time: the paths under the backend's origin and the scopes
//! the app asks for. The project's check holds its files to the same file.

use std::sync::LazyLock;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contract {
    pub paths: Paths,
    pub scopes: Scopes,
    pub workflow_action: WorkflowAction,
}

/// The workflow action's fields: each input's values, each output's values (`None`: free
/// text).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowAction {
    pub input_fields: std::collections::BTreeMap<String, Vec<String>>,
    pub output_fields: std::collections::BTreeMap<String, Option<Vec<String>>>,
}

/// The backend's paths the project's files name.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Paths {
    /// Where HubSpot sends the admin back with the grant's code.
    pub oauth_redirect: String,
    pub webhooks: String,
    pub workflow_action: String,
    pub card: String,
}

/// The scopes the app asks for at install.
#[derive(Debug, Clone, Deserialize)]
pub struct Scopes {
    pub required: Vec<String>,
    pub optional: Vec<String>,
}

static CONTRACT: LazyLock<Contract> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../../hubspot/contract.json"))
        .expect("hubspot/contract.json has paths and scopes (its unit test reads it)")
});

/// The contract of the HubSpot project.
pub fn contract() -> &'static Contract {
    &CONTRACT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_contract_names_every_path_and_asks_for_oauth() {
        let c = contract();
        for path in [
            &c.paths.oauth_redirect,
            &c.paths.webhooks,
            &c.paths.workflow_action,
            &c.paths.card,
        ] {
            assert!(path.starts_with("/hubspot/"), "{path}");
        }
        assert!(c.scopes.required.iter().any(|s| s == "oauth"));
    }

    /// The card words every reason the backend can give: its list is the reason table's.
    #[test]
    fn the_card_knows_every_reason_a_verification_can_fail_for() {
        let file: serde_json::Value =
            serde_json::from_str(include_str!("../../../hubspot/contract.json")).unwrap();
        let theirs: Vec<&str> = file["failureCodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c.as_str())
            .collect();
        let ours: Vec<&str> = super::super::reasons::Failure::ALL
            .iter()
            .map(|f| f.code())
            .collect();
        assert_eq!(theirs, ours);
    }
}
