//! `[policy-iparams]` the install form offers every switch of the backend's tenant policy and
//! `server/server.js` passes each one on at install: every field of `pub struct Policy` in
//! `server/src/services/tenant/policy.rs` is an iparam of config/iparams.json that server.js reads
//! (`iparams.<name>`), and every iparam that no request template uses (the connection's own)
//! is such a field. A dropdown has choices and its default is one of them.

use std::fs;

use serde_json::Value;

use super::{
    scan::{collect_strings, contains_word, iparam_refs, strip_rust_comments},
    Checker,
};

/// Where the backend's policy is declared.
pub(super) const POLICY_SOURCE: &str = "server/src/services/tenant/policy.rs";

/// The field names of `pub struct Policy { … }` in `source`.
fn policy_fields(source: &str) -> Option<Vec<String>> {
    let code = strip_rust_comments(source);
    let start = code.find("pub struct Policy {")?;
    let body = &code[start + "pub struct Policy {".len()..];
    let body = &body[..body.find('}')?];
    Some(
        body.lines()
            .map(str::trim)
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.strip_prefix("pub "))
            .filter_map(|l| l.split_once(':').map(|(name, _)| name.trim().to_string()))
            .collect(),
    )
}

impl Checker {
    pub(super) fn policy_iparams(&mut self, requests: Option<&Value>, server_code: Option<&str>) {
        let r = "policy-iparams";
        let Ok(source) = fs::read_to_string(self.path(POLICY_SOURCE)) else {
            self.error(r, format!("{POLICY_SOURCE} cannot be read"));
            return;
        };
        let Some(fields) = policy_fields(&source).filter(|f| !f.is_empty()) else {
            self.error(
                r,
                format!("{POLICY_SOURCE}: no `pub struct Policy` with fields"),
            );
            return;
        };
        let Some(form) = self.read_json(r, "config/iparams.json") else {
            return;
        };
        let form = form.as_object().cloned().unwrap_or_default();
        let mut connection = Vec::new();
        if let Some(req) = requests {
            let mut strings = Vec::new();
            collect_strings(req, "", &mut strings);
            for (_, s) in strings {
                connection.extend(iparam_refs(&s));
            }
        }
        for name in &fields {
            if !form.contains_key(name) {
                self.error(
                    r,
                    format!(
                        "config/iparams.json has no {name:?}: the install form must offer every \
                         switch of the backend's Policy ({POLICY_SOURCE})"
                    ),
                );
            }
            let passed =
                server_code.is_some_and(|code| contains_word(code, &format!("iparams.{name}")));
            if !passed {
                self.error(
                    r,
                    format!(
                        "server/server.js does not pass the policy switch {name} on install \
                         (read it as iparams.{name})"
                    ),
                );
            }
        }
        for (name, spec) in &form {
            if !connection.contains(name) && !fields.contains(name) {
                self.error(
                    r,
                    format!(
                        "config/iparams.json: {name} is neither used by a request template nor a \
                         field of the backend's Policy: the backend would never see it"
                    ),
                );
            }
            if spec.get("type").and_then(Value::as_str) == Some("dropdown") {
                let options: Vec<&str> = spec
                    .get("options")
                    .and_then(Value::as_array)
                    .map(|o| o.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                if options.is_empty() {
                    self.error(
                        "iparams",
                        format!("config/iparams.json: {name}: a dropdown needs \"options\""),
                    );
                } else if let Some(d) = spec.get("default_value").and_then(Value::as_str) {
                    if !options.contains(&d) {
                        self.error(
                            "iparams",
                            format!(
                                "config/iparams.json: {name}: the default {d:?} is not one of its options"
                            ),
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::policy_fields;
    use crate::appcheck::tests::{breaks, edit_json, edit_text};

    #[test]
    fn reads_the_policy_s_fields() {
        let src = "/// x\n#[derive(Debug)]\npub struct Policy {\n    /// a: b\n    pub one: bool,\n    #[serde(default)]\n    pub two_words: Vec<String>,\n}\npub struct Other { pub no: u8 }\n";
        assert_eq!(
            policy_fields(src).unwrap(),
            ["one".to_string(), "two_words".to_string()]
        );
    }

    #[test]
    fn every_policy_switch_is_offered_and_passed_on() {
        breaks(
            |r| {
                edit_json(r, "config/iparams.json", |p| {
                    p.as_object_mut().unwrap().remove("reverify_on_expiry");
                    p["stray_switch"] = serde_json::json!({
                        "display_name": "Stray", "description": "Goes nowhere", "type": "checkbox"});
                    p["min_ial"]["default_value"] = "IAL3".into();
                })
            },
            &[
                "config/iparams.json has no \"reverify_on_expiry\"",
                "config/iparams.json: stray_switch is neither used by a request template",
                "config/iparams.json: min_ial: the default \"IAL3\" is not one of its options",
            ],
        );
        breaks(
            |r| {
                edit_text(r, "server/server.js", |t| {
                    t.replace("asBool(iparams.invalidate_on_identity_change)", "false")
                })
            },
            &["server/server.js does not pass the policy switch invalidate_on_identity_change"],
        );
        breaks(
            |r| {
                edit_text(r, super::POLICY_SOURCE, |t| {
                    t.replace(
                        "pub struct Policy {",
                        "pub struct Policy {\n    pub brand_new_switch: bool,",
                    )
                })
            },
            &["config/iparams.json has no \"brand_new_switch\""],
        );
    }
}
