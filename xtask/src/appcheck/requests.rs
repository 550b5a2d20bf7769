//! `[requests]` the request templates of manifest.json and config/requests.json, and
//! `[templates-used]` the templates the code invokes.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
};

use serde_json::Value;

use super::{
    iparams::Iparams,
    platform,
    scan::{
        collect_strings, files_under, iparam_refs, rust_template_list, strip_rust_comments,
        template_calls,
    },
    Checker,
};

/// A template's use by code: which side calls it.
#[derive(Default)]
pub(super) struct Uses {
    server: BTreeSet<String>,
    widget: BTreeSet<String>,
    /// Whether the widget's sources name any template at all (the list exists).
    widget_listed: bool,
}

impl Checker {
    pub(super) fn uses(&mut self, server_code: Option<&str>) -> Uses {
        let mut uses = Uses::default();
        if let Some(code) = server_code {
            for call in template_calls(code, "invokeTemplate") {
                match call {
                    Ok(name) => {
                        uses.server.insert(name);
                    }
                    Err(snippet) => self.error(
                        "templates-used",
                        format!(
                            "server/server.js: invokeTemplate({snippet}…) names its template \
                             with an expression; use a string literal so that the check can \
                             follow it"
                        ),
                    ),
                }
            }
        }
        for file in files_under(&self.path("widget/src"), &["rs"]) {
            let Ok(text) = fs::read_to_string(&file) else {
                continue;
            };
            let text = strip_rust_comments(&text);
            let mut names = rust_template_list(&text);
            names.extend(
                template_calls(&text, "invoke_template")
                    .into_iter()
                    .chain(template_calls(&text, "invokeTemplate"))
                    .flatten(),
            );
            if !names.is_empty() {
                uses.widget_listed = true;
            }
            uses.widget.extend(names);
        }
        uses
    }

    pub(super) fn requests(&mut self, m: &Value, requests: &Value, iparams: &Iparams, uses: &Uses) {
        let r = "requests";
        let declared: BTreeSet<String> = match m.pointer("/modules/common/requests") {
            None => BTreeSet::new(),
            Some(Value::Object(map)) => {
                for (name, v) in map {
                    if !v.is_object() {
                        self.error(
                            r,
                            format!(
                                "manifest.json: modules.common.requests.{name} must be an object \
                                 ({{}})"
                            ),
                        );
                    }
                }
                map.keys().cloned().collect()
            }
            Some(_) => {
                self.error(
                    r,
                    "manifest.json: modules.common.requests must be an object",
                );
                BTreeSet::new()
            }
        };
        let defined: BTreeMap<String, Value> = requests
            .as_object()
            .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        for name in &declared {
            if !defined.contains_key(name) {
                self.error(
                    r,
                    format!(
                        "template \"{name}\" is declared in manifest.json (modules.common.requests) \
                         but not defined in config/requests.json"
                    ),
                );
            }
        }
        for (name, template) in &defined {
            if !declared.contains(name) {
                self.error(
                    r,
                    format!(
                        "template \"{name}\" is defined in config/requests.json but not declared \
                         in manifest.json (modules.common.requests)"
                    ),
                );
            }
            self.template_shape(name, template, iparams);
        }

        let r = "templates-used";
        for (side, names) in [
            ("server/server.js", &uses.server),
            ("widget/src", &uses.widget),
        ] {
            for name in names {
                if !declared.contains(name) || !defined.contains_key(name) {
                    self.error(
                        r,
                        format!(
                            "{side} invokes template \"{name}\", which is not both declared in \
                             manifest.json and defined in config/requests.json"
                        ),
                    );
                }
            }
        }
        for name in declared.iter().filter(|n| defined.contains_key(*n)) {
            if uses.server.contains(name) || uses.widget.contains(name) {
                continue;
            }
            if uses.widget_listed {
                self.error(
                    r,
                    format!(
                        "template \"{name}\" is declared but no code invokes it (server/server.js \
                         invokeTemplate(\"{name}\", …) or the widget's TEMPLATE constant list); \
                         remove it or use it"
                    ),
                );
            } else {
                self.warn(
                    r,
                    format!(
                        "template \"{name}\" is not invoked by server/server.js, and widget/src \
                         has no TEMPLATE constant list yet (e.g. pub const REQUEST_TEMPLATES: \
                         &[&str] = &[\"{name}\", …]); once it has one, unused templates are errors"
                    ),
                );
            }
        }
        if !platform::CONTEXT_IN_HEADERS_FROM_PAGES {
            for name in &uses.widget {
                let Some(schema) = defined.get(name).and_then(|t| t.get("schema")) else {
                    continue;
                };
                let host = schema.get("host").and_then(Value::as_str).unwrap_or("");
                let in_headers = schema
                    .get("headers")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                    .any(|(_, v)| v.as_str().is_some_and(|s| s.contains("context.")));
                if in_headers || host.contains("context.") {
                    self.warn(
                        r,
                        format!(
                            "template \"{name}\" is invoked from the widget and uses context.* \
                             in its host or headers, which the platform fills only on the \
                             installation page and in serverless code (UNCONFIRMED for app \
                             pages): the backend should not depend on that value"
                        ),
                    );
                }
            }
        }
    }

    fn template_shape(&mut self, name: &str, template: &Value, iparams: &Iparams) {
        let r = "requests";
        let at = format!("config/requests.json: {name}");
        let Some(schema) = template.get("schema").and_then(Value::as_object) else {
            self.error(r, format!("{at}: \"schema\" is missing or not an object"));
            return;
        };
        let field = |k: &str| schema.get(k).and_then(Value::as_str).unwrap_or("");
        if field("protocol") != "https" {
            self.error(
                r,
                format!(
                    "{at}: schema.protocol is \"{}\"; templates must use \"https\"",
                    field("protocol")
                ),
            );
        }
        if !platform::TEMPLATE_METHODS.contains(&field("method")) {
            self.error(
                r,
                format!(
                    "{at}: schema.method \"{}\" is not one of {}",
                    field("method"),
                    platform::TEMPLATE_METHODS.join(", ")
                ),
            );
        }
        let host = field("host");
        if host.is_empty() || host.contains("://") || host.contains('/') {
            self.error(
                r,
                format!(
                    "{at}: schema.host \"{host}\" must be a bare host name (no scheme, no path)"
                ),
            );
        }
        if !field("path").starts_with('/') {
            self.error(
                r,
                format!(
                    "{at}: schema.path \"{}\" must start with \"/\"",
                    field("path")
                ),
            );
        }
        let mut strings = Vec::new();
        collect_strings(template, "", &mut strings);
        for (_, s) in &strings {
            for used in iparam_refs(s) {
                if !iparams.all.contains(&used) {
                    self.error(
                        r,
                        format!(
                            "{at}: references iparam.{used}, which config/iparams.json does not \
                             define"
                        ),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use crate::appcheck::{
        check,
        tests::{breaks, edit_json, edit_text, fixture},
    };

    #[test]
    fn declared_templates_and_defined_templates_match() {
        breaks(
            |r| {
                edit_json(r, "config/requests.json", |t| {
                    t.as_object_mut().unwrap().remove("getDealStatus");
                })
            },
            &["template \"getDealStatus\" is declared in manifest.json (modules.common.requests) but not defined in config/requests.json"],
        );
        breaks(
            |r| {
                edit_json(r, "manifest.json", |m| {
                    m["modules"]["common"]["requests"]
                        .as_object_mut()
                        .unwrap()
                        .remove("forwardEvent");
                })
            },
            &[
                "template \"forwardEvent\" is defined in config/requests.json but not declared in manifest.json",
                "server/server.js invokes template \"forwardEvent\", which is not both declared",
            ],
        );
    }

    #[test]
    fn templates_are_well_formed() {
        breaks(
            |r| {
                edit_json(r, "config/requests.json", |t| {
                    let s = &mut t["getContactStatus"]["schema"];
                    s["protocol"] = "http".into();
                    s["method"] = "FETCH".into();
                    s["host"] = "https://idv.example.com".into();
                    s["path"] = "api/v1".into();
                    s["headers"]["X-Tenant"] = "<%= iparam.tenant_id %>".into();
                })
            },
            &[
                "config/requests.json: getContactStatus: schema.protocol is \"http\"",
                "schema.method \"FETCH\" is not one of",
                "schema.host \"https://idv.example.com\" must be a bare host name",
                "schema.path \"api/v1\" must start with \"/\"",
                "references iparam.tenant_id, which config/iparams.json does not define",
            ],
        );
    }

    #[test]
    fn code_may_invoke_only_declared_templates() {
        breaks(
            |r| {
                edit_text(r, "server/server.js", |t| {
                    t.replace(
                        "invokeTemplate('forwardEvent'",
                        "invokeTemplate('relayEvent'",
                    )
                })
            },
            &[
                "server/server.js invokes template \"relayEvent\"",
                "template \"forwardEvent\" is declared but no code invokes it",
            ],
        );
        breaks(
            |r| {
                edit_text(r, "widget/src/transport.rs", |t| {
                    t.replace("\"getDealStatus\",", "\"getDealState\", // renamed\n")
                })
            },
            &[
                "widget/src invokes template \"getDealState\"",
                "template \"getDealStatus\" is declared but no code invokes it",
            ],
        );
        breaks(
            |r| {
                edit_text(r, "server/server.js", |t| {
                    t.replace(
                        "invokeTemplate('forwardEvent'",
                        "invokeTemplate(eventTemplate",
                    )
                })
            },
            &["invokeTemplate(eventTemplate…) names its template with an expression"],
        );
    }

    #[test]
    fn without_a_widget_list_unused_templates_are_warnings() {
        let dir = fixture();
        fs::remove_file(dir.0.join("widget/src/transport.rs")).unwrap();
        let report = check(&dir.0);
        assert!(report.errors.is_empty(), "{:#?}", report.errors);
        assert!(report
            .warnings
            .iter()
            .any(|w| w.contains("\"getContactStatus\" is not invoked by server/server.js, and widget/src has no TEMPLATE constant list yet")));
    }
}
