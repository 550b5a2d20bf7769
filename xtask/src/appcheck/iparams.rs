//! `[iparams]` the entries of config/iparams.json, and `[secure-iparams]` where secure iparams
//! may appear.

use std::{collections::BTreeSet, fs};

use serde_json::Value;

use super::{
    platform,
    scan::{collect_strings, contains_word, files_under, iparam_refs, strip_rust_comments},
    Checker,
};

/// The iparams config/iparams.json defines: all of them, and the secure ones.
#[derive(Default)]
pub(super) struct Iparams {
    pub(super) all: BTreeSet<String>,
    pub(super) secure: BTreeSet<String>,
    /// Iparams shown only where some modules are installed: name → its `modules`.
    pub(super) scoped: Vec<(String, Vec<String>)>,
}

impl Checker {
    pub(super) fn iparams(&mut self) -> Iparams {
        let r = "iparams";
        let mut out = Iparams::default();
        let has_json = self.path("config/iparams.json").is_file();
        if self.path("config/iparams.html").is_file() && has_json {
            self.error(
                r,
                "config/ has both iparams.json and iparams.html; use one of them",
            );
        }
        if !has_json {
            return out;
        }
        let Some(v) = self.read_json(r, "config/iparams.json") else {
            return out;
        };
        for (name, spec) in v.as_object().into_iter().flatten() {
            out.all.insert(name.clone());
            let at = format!("config/iparams.json: {name}");
            if spec
                .get("display_name")
                .and_then(Value::as_str)
                .is_none_or(|s| s.trim().is_empty())
            {
                self.error(r, format!("{at}: \"display_name\" is missing"));
            }
            if spec
                .get("description")
                .and_then(Value::as_str)
                .is_none_or(|s| s.trim().is_empty())
            {
                self.error(
                    r,
                    format!("{at}: \"description\" is missing (admins read it at install)"),
                );
            }
            let kind = spec.get("type").and_then(Value::as_str).unwrap_or("");
            if !platform::IPARAM_TYPES.contains(&kind) {
                self.error(
                    r,
                    format!(
                        "{at}: type \"{kind}\" is not one of {}",
                        platform::IPARAM_TYPES.join(", ")
                    ),
                );
            }
            match spec.get("modules") {
                None => {}
                Some(Value::Array(list))
                    if !list.is_empty() && list.iter().all(|m| m.as_str().is_some()) =>
                {
                    out.scoped.push((
                        name.clone(),
                        list.iter()
                            .filter_map(Value::as_str)
                            .map(String::from)
                            .collect(),
                    ));
                }
                Some(other) => self.error(
                    r,
                    format!(
                        "{at}: \"modules\" must be a non-empty list of module names, not {other}"
                    ),
                ),
            }
            match spec.get("secure") {
                None | Some(Value::Bool(false)) => {}
                Some(Value::Bool(true)) => {
                    out.secure.insert(name.clone());
                }
                Some(other) => self.error(
                    r,
                    format!("{at}: \"secure\" must be true or false, not {other}"),
                ),
            }
        }
        out
    }

    /// An iparam scoped with `modules` names product modules the manifest declares (else the
    /// install page never shows it).
    pub(super) fn iparam_modules(&mut self, m: &Value, iparams: &Iparams) {
        let declared: Vec<String> = self
            .modules(m)
            .into_iter()
            .map(|(name, _)| name.clone())
            .filter(|name| name != "common")
            .collect();
        for (name, modules) in &iparams.scoped {
            for module in modules {
                if !declared.contains(module) {
                    self.error(
                        "iparams",
                        format!(
                            "config/iparams.json: {name}: module {module:?} is not a product module of manifest.json ({})",
                            declared.join(", ")
                        ),
                    );
                }
            }
        }
    }

    pub(super) fn secure_in_templates(&mut self, requests: &Value, iparams: &Iparams) {
        let mut strings = Vec::new();
        collect_strings(requests, "", &mut strings);
        for (pointer, s) in strings {
            let in_headers = pointer
                .split('/')
                .nth(2)
                .zip(pointer.split('/').nth(3))
                .is_some_and(|(a, b)| a == "schema" && b == "headers");
            if in_headers {
                continue;
            }
            for used in iparam_refs(&s) {
                if iparams.secure.contains(&used) {
                    let shown = pointer.trim_start_matches('/').replace('/', ".");
                    self.error(
                        "secure-iparams",
                        format!(
                            "config/requests.json: {shown} uses the secure iparam {used}; secure \
                             iparams may appear only in schema.headers"
                        ),
                    );
                }
            }
        }
    }

    pub(super) fn secure_in_front_end(&mut self, iparams: &Iparams) {
        if iparams.secure.is_empty() {
            return;
        }
        let mut files = self.app_text_files();
        files.push(self.path("widget/index.html"));
        files.extend(files_under(&self.path("widget/src"), &["rs"]));
        for file in files {
            let Ok(text) = fs::read_to_string(&file) else {
                continue;
            };
            let rust = file.extension().is_some_and(|e| e == "rs");
            let text = if rust {
                strip_rust_comments(&text)
            } else {
                text
            };
            for name in &iparams.secure {
                let dotted = [format!("iparam.{name}"), format!("iparams.{name}")];
                let hit = dotted.iter().any(|p| contains_word(&text, p))
                    || (rust && text.contains(&format!("\"{name}\"")));
                if hit {
                    self.error(
                        "secure-iparams",
                        format!(
                            "{}: front-end code names the secure iparam {name}; secure iparams \
                             reach the backend only through request-template headers",
                            self.rel(&file)
                        ),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::appcheck::{
        check,
        tests::{breaks, edit_json, fixture, write},
    };

    #[test]
    fn secure_iparams_only_in_template_headers() {
        breaks(
            |r| {
                edit_json(r, "config/requests.json", |t| {
                    t["getContactStatus"]["schema"]["query"] =
                        serde_json::json!({"token": "<%= iparam.api_token %>"});
                })
            },
            &["[secure-iparams] config/requests.json: getContactStatus.schema.query.token uses the secure iparam api_token"],
        );
        breaks(
            |r| {
                edit_json(r, "config/requests.json", |t| {
                    t["getVerification"]["schema"]["path"] =
                        "/api/v1/verifications/<%= iparam.freshsales_api_key %>".into();
                })
            },
            &["getVerification.schema.path uses the secure iparam freshsales_api_key"],
        );
        breaks(
            |r| {
                write(
                    r,
                    "widget/src/config.rs",
                    "pub const KEY: &str = \"api_token\";\n",
                )
            },
            &["widget/src/config.rs: front-end code names the secure iparam api_token"],
        );
        breaks(
            |r| {
                write(
                    r,
                    "app/scripts/app.js",
                    "client.iparams.get().then(function (p) { return p.iparams.freshsales_api_key; });\n",
                )
            },
            &["app/scripts/app.js: front-end code names the secure iparam freshsales_api_key"],
        );
        // Documentation of the template in a comment is not a use.
        let dir = fixture();
        write(
            &dir.0,
            "widget/src/doc.rs",
            "//! The platform adds `Authorization: Bearer <%= iparam.api_token %>`.\n\
             // const OLD_TEMPLATES: &[&str] = &[\"gone\"];\n",
        );
        let report = check(&dir.0);
        assert!(report.errors.is_empty(), "{:#?}", report.errors);
    }

    #[test]
    fn scoped_iparams_name_the_manifest_s_modules() {
        breaks(
            |r| {
                edit_json(r, "config/iparams.json", |p| {
                    p["freshdesk_api_key"]["modules"] = serde_json::json!(["support_tickets"]);
                    p["freshsales_api_key"]["modules"] = "contact".into();
                })
            },
            &[
                "config/iparams.json: freshdesk_api_key: module \"support_tickets\" is not a product module of manifest.json",
                "config/iparams.json: freshsales_api_key: \"modules\" must be a non-empty list",
            ],
        );
    }

    #[test]
    fn iparams_are_described() {
        breaks(
            |r| {
                edit_json(r, "config/iparams.json", |p| {
                    p["backend_host"]
                        .as_object_mut()
                        .unwrap()
                        .remove("display_name");
                    p["validity_days"]["type"] = "integer".into();
                    p["gated_stages"]["description"] = "".into();
                    p["api_token"]["secure"] = "yes".into();
                })
            },
            &[
                "config/iparams.json: backend_host: \"display_name\" is missing",
                "config/iparams.json: validity_days: type \"integer\" is not one of",
                "config/iparams.json: gated_stages: \"description\" is missing",
                "config/iparams.json: api_token: \"secure\" must be true or false",
            ],
        );
        breaks(
            |r| {
                write(
                    r,
                    "config/iparams.html",
                    "<script src=\"{{{appclient}}}\"></script>",
                )
            },
            &["config/ has both iparams.json and iparams.html"],
        );
    }
}
