//! Whether the CRM account is set up for this app, and what an admin must still create.

use serde::{Deserialize, Serialize};

/// Something the CRM account lacks for this app to write its results. `what`, `expected` and
/// `problem` say it in English (the command line, logs); `part`, `field_type`, `choices` and
/// `issue` say it as codes that the widget and the HubSpot card word in the rep's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetupGap {
    /// `contact field`, `custom module`, `module field`, `deal stage` or `CRM write`.
    pub what: String,
    /// What an admin sees in the CRM's settings (e.g. `IDV Status`).
    pub label: String,
    /// The API name (e.g. `cf_idv_status`), or the stage name as the policy spells it.
    pub name: String,
    /// The type to create it with (e.g. `dropdown: pending, verified, failed, expired`).
    pub expected: String,
    /// What is wrong: `missing`, `has type text`, `no stage of this name in any pipeline`…
    /// (for a refusal of the CRM, the CRM's own words).
    pub problem: String,
    /// Which part of the account this is (`other` in reports stored before codes existed).
    #[serde(default)]
    pub part: SetupPart,
    /// For a field: the type it needs (`dropdown`, `date`, `number`, `text`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_type: Option<String>,
    /// For a dropdown: the choices it needs (API values, the same in every language).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    /// What is wrong, as a code with its particulars.
    #[serde(default)]
    pub issue: SetupIssue,
}

impl SetupGap {
    /// A gap of `part` (its English `what` follows from it), without a field type or choices.
    pub fn new(
        part: SetupPart,
        label: impl Into<String>,
        name: impl Into<String>,
        expected: impl Into<String>,
        problem: impl Into<String>,
        issue: SetupIssue,
    ) -> Self {
        Self {
            what: part.words().into(),
            label: label.into(),
            name: name.into(),
            expected: expected.into(),
            problem: problem.into(),
            part,
            field_type: None,
            choices: Vec::new(),
            issue,
        }
    }
}

/// Which part of the CRM account a [`SetupGap`] is about.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SetupPart {
    ContactField,
    ModuleField,
    CustomModule,
    DealStage,
    /// The app's own preparation of the account (HubSpot: its property group and list).
    Preparation,
    /// A write of the app that the CRM refused.
    CrmWrite,
    #[default]
    #[serde(other)]
    Other,
}

impl SetupPart {
    /// In English, as [`SetupGap::what`] says it.
    pub fn words(self) -> &'static str {
        match self {
            Self::ContactField => "contact field",
            Self::ModuleField => "module field",
            Self::CustomModule => "custom module",
            Self::DealStage => "deal stage",
            Self::Preparation => "set-up",
            Self::CrmWrite => "CRM write",
            Self::Other => "set-up",
        }
    }
}

/// What is wrong with a part of the CRM account: a code and the particulars it has (a flat
/// object, so that a client reads it without buffering: the widget's wasm is weighed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetupIssue {
    pub code: SetupIssueCode,
    /// `wrong_type`: the field's type as the CRM names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has: Option<String>,
    /// `wrong_type`: the type views and workflows need (`dropdown`, `date`, `number`, `text`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs: Option<String>,
    /// `lacks_choices`: the dropdown's missing values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    /// `no_stage`: a stage of the account spelled nearly so, if one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub similar: Option<String>,
    /// `not_created`, `write_refused`: the CRM's refusal in its own words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The codes of [`SetupIssue`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SetupIssueCode {
    /// It does not exist.
    Missing,
    /// A field of another type than views and workflows need.
    WrongType,
    /// A dropdown without some of the choices the app writes.
    LacksChoices,
    /// A gated stage of the policy names no stage of any pipeline: it gates nothing.
    NoStage,
    /// The app tried to create it and the CRM refused.
    NotCreated,
    /// The CRM refused a write of the app for a missing piece.
    WriteRefused,
    /// A code this reader does not know: the gap's `problem` says it in English.
    #[default]
    #[serde(other)]
    Other,
}

impl SetupIssue {
    fn of(code: SetupIssueCode) -> Self {
        Self {
            code,
            ..Self::default()
        }
    }

    pub fn missing() -> Self {
        Self::of(SetupIssueCode::Missing)
    }

    pub fn wrong_type(has: &str, needs: &str) -> Self {
        Self {
            has: Some(has.into()),
            needs: Some(needs.into()),
            ..Self::of(SetupIssueCode::WrongType)
        }
    }

    pub fn lacks_choices(choices: Vec<String>) -> Self {
        Self {
            choices,
            ..Self::of(SetupIssueCode::LacksChoices)
        }
    }

    pub fn no_stage(similar: Option<String>) -> Self {
        Self {
            similar,
            ..Self::of(SetupIssueCode::NoStage)
        }
    }

    pub fn not_created(detail: String) -> Self {
        Self {
            detail: Some(detail),
            ..Self::of(SetupIssueCode::NotCreated)
        }
    }

    pub fn write_refused(detail: String) -> Self {
        Self {
            detail: Some(detail),
            ..Self::of(SetupIssueCode::WriteRefused)
        }
    }
}

/// Whether the CRM account is set up for this app: complete, or exactly what an admin must
/// still create (by label and type). Writes that need a missing piece wait until it exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetupReport {
    pub complete: bool,
    /// RFC 3339.
    pub checked_at: String,
    #[serde(default)]
    pub gaps: Vec<SetupGap>,
    /// What the last check created by itself (e.g. the history module).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub created: Vec<String>,
    /// The product whose account this is (`Freshsales` or `Freshdesk`), for the banner.
    #[serde(default = "freshsales")]
    pub product: String,
}

fn freshsales() -> String {
    "Freshsales".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report stored before gaps had codes still reads (its words only); a code from a newer
    /// backend reads as `other`, so an older widget shows the English words, never nothing.
    #[test]
    fn a_gap_without_codes_or_with_an_unknown_one_still_reads() {
        let old: SetupGap = serde_json::from_str(
            r#"{"what":"contact field","label":"IDV Status","name":"cf_idv_status",
                "expected":"dropdown","problem":"missing"}"#,
        )
        .unwrap();
        assert_eq!(
            (old.part, old.issue.code),
            (SetupPart::Other, SetupIssueCode::Other)
        );
        let newer: SetupGap = serde_json::from_str(
            r#"{"what":"x","label":"x","name":"x","expected":"x","problem":"x",
                "part":"workflow","issue":{"code":"renamed","by":"someone"}}"#,
        )
        .unwrap();
        assert_eq!(
            (newer.part, newer.issue.code),
            (SetupPart::Other, SetupIssueCode::Other)
        );
        let gap = SetupGap {
            issue: SetupIssue::wrong_type("text", "dropdown"),
            part: SetupPart::ContactField,
            ..old
        };
        let json = serde_json::to_value(&gap).unwrap();
        assert_eq!(
            json["issue"],
            serde_json::json!({"code": "wrong_type", "has": "text", "needs": "dropdown"})
        );
        assert_eq!(json["part"], "contact_field");
    }
}
