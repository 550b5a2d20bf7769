//! `[manifest]` the platform 3.0 shape of manifest.json, and `[whitelisted-domains]`.

use serde_json::{Map, Value};

use super::{platform, Checker};

impl Checker {
    pub(super) fn manifest_shape(&mut self, m: &Value) {
        let r = "manifest";
        match m.get("platform-version") {
            Some(Value::String(v)) if v == platform::VERSION => {}
            Some(v) => self.error(
                r,
                format!(
                    "manifest.json: \"platform-version\" is {v}, expected \"{}\" (platform 2.3 \
                     is retired)",
                    platform::VERSION
                ),
            ),
            None => self.error(
                r,
                format!(
                    "manifest.json: \"platform-version\" is missing, expected \"{}\"",
                    platform::VERSION
                ),
            ),
        }
        if m.get("product").is_some() {
            self.error(
                r,
                "manifest.json: \"product\" is the platform 2.x shape; in 3.0 use \"modules\" \
                 (request templates and app events in modules.common, placeholders and product \
                 events in their module)",
            );
        }
        let obj = m.as_object().expect("checked to be an object");
        for key in obj.keys() {
            if !platform::TOP_LEVEL_KEYS.contains(&key.as_str()) && key != "product" {
                self.error(
                    r,
                    format!(
                        "manifest.json: unknown top-level key \"{key}\" (expected {})",
                        platform::TOP_LEVEL_KEYS.join(", ")
                    ),
                );
            }
        }
        match m.get("modules") {
            Some(Value::Object(modules)) => self.modules_shape(modules),
            Some(_) => self.error(r, "manifest.json: \"modules\" must be an object"),
            None => self.error(r, "manifest.json: \"modules\" is missing"),
        }
        self.engines(m.get("engines"));
    }

    fn modules_shape(&mut self, modules: &Map<String, Value>) {
        let r = "manifest";
        if !modules.contains_key("common") {
            self.error(r, "manifest.json: modules.common is missing (it holds the request templates and the app set-up events)");
        }
        if !modules.keys().any(|k| k != "common") {
            self.error(
                r,
                "manifest.json: modules needs at least one product module besides common (e.g. \
                 contact or deal); it ties the app to Freshsales",
            );
        }
        for (name, module) in modules {
            if !platform::MODULES.iter().any(|(m, _)| m == name) {
                self.error(
                    r,
                    format!("manifest.json: unknown module \"{name}\" (known: {})", {
                        let names: Vec<_> = platform::MODULES.iter().map(|(m, _)| *m).collect();
                        names.join(", ")
                    }),
                );
                continue;
            }
            let Some(module) = module.as_object() else {
                self.error(
                    r,
                    format!("manifest.json: modules.{name} must be an object"),
                );
                continue;
            };
            let allowed = if name == "common" {
                platform::COMMON_KEYS
            } else {
                platform::PRODUCT_MODULE_KEYS
            };
            for key in module.keys() {
                if allowed.contains(&key.as_str()) {
                    continue;
                }
                if key == "requests" || key == "functions" {
                    self.error(
                        r,
                        format!(
                            "manifest.json: modules.{name}.{key} is not allowed; in platform 3.0 \
                             {key} belong to modules.common"
                        ),
                    );
                } else {
                    self.error(
                        r,
                        format!(
                            "manifest.json: unknown key modules.{name}.{key} (allowed: {})",
                            allowed.join(", ")
                        ),
                    );
                }
            }
        }
    }

    fn engines(&mut self, engines: Option<&Value>) {
        let r = "manifest";
        let Some(engines) = engines.and_then(Value::as_object) else {
            self.error(
                r,
                format!(
                    "manifest.json: \"engines\" is missing or not an object; platform 3.0 needs \
                     e.g. {{\"node\": \"{}.x.y\", \"fdk\": \"{}.x.y\"}}",
                    platform::NODE_MAJOR,
                    platform::FDK_MAJOR
                ),
            );
            return;
        };
        for (key, major) in [("node", platform::NODE_MAJOR), ("fdk", platform::FDK_MAJOR)] {
            let version = engines.get(key).and_then(Value::as_str);
            let found = version.and_then(|v| v.split('.').next()?.parse::<u64>().ok());
            if found != Some(major) {
                self.error(
                    r,
                    format!(
                        "manifest.json: engines.{key} is {}, expected version {major}.x",
                        version.map_or("missing".to_string(), |v| format!("\"{v}\""))
                    ),
                );
            }
        }
    }

    pub(super) fn whitelisted_domains(&mut self, v: &Value, at: &str) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    let here = format!("{at} → {k}");
                    if k == "whitelisted-domains" {
                        self.error(
                            "whitelisted-domains",
                            format!(
                                "{here}: \"whitelisted-domains\" has been deprecated; declare \
                                 request templates in config/requests.json instead"
                            ),
                        );
                    }
                    self.whitelisted_domains(child, &here);
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.whitelisted_domains(item, at);
                }
            }
            _ => {}
        }
    }

    /// The manifest's modules that are objects, by name.
    pub(super) fn modules<'v>(&self, m: &'v Value) -> Vec<(&'v String, &'v Map<String, Value>)> {
        m.get("modules")
            .and_then(Value::as_object)
            .map(|mods| {
                mods.iter()
                    .filter_map(|(k, v)| Some((k, v.as_object()?)))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use crate::appcheck::tests::{breaks, edit_json, write};

    #[test]
    fn manifest_must_be_json() {
        breaks(
            |r| write(r, "manifest.json", "{ not json"),
            &["[manifest] manifest.json is not valid JSON"],
        );
    }

    #[test]
    fn platform_version_must_be_3_0() {
        breaks(
            |r| edit_json(r, "manifest.json", |m| m["platform-version"] = "2.3".into()),
            &["\"platform-version\" is \"2.3\", expected \"3.0\""],
        );
    }

    #[test]
    fn the_2x_product_shape_is_rejected() {
        breaks(
            |r| {
                edit_json(r, "manifest.json", |m| {
                    m["product"] = serde_json::json!({"freshworks_crm": {}});
                })
            },
            &["\"product\" is the platform 2.x shape"],
        );
    }

    #[test]
    fn modules_need_common_and_a_product_module() {
        breaks(
            |r| {
                edit_json(r, "manifest.json", |m| {
                    let common = m["modules"]["common"].clone();
                    m["modules"] = serde_json::json!({ "common": common });
                })
            },
            &["modules needs at least one product module besides common"],
        );
        breaks(
            |r| {
                edit_json(r, "manifest.json", |m| {
                    m["modules"].as_object_mut().unwrap().remove("common");
                })
            },
            &["modules.common is missing"],
        );
        breaks(
            |r| {
                edit_json(r, "manifest.json", |m| {
                    m["modules"]["ticket"] = serde_json::json!({})
                })
            },
            &["unknown module \"ticket\""],
        );
    }

    #[test]
    fn templates_belong_to_common() {
        breaks(
            |r| {
                edit_json(r, "manifest.json", |m| {
                    m["modules"]["contact"]["requests"] = serde_json::json!({"getContactStatus": {}});
                })
            },
            &["modules.contact.requests is not allowed; in platform 3.0 requests belong to modules.common"],
        );
    }

    #[test]
    fn engines_are_required() {
        breaks(
            |r| {
                edit_json(r, "manifest.json", |m| {
                    m.as_object_mut().unwrap().remove("engines");
                })
            },
            &["\"engines\" is missing"],
        );
        breaks(
            |r| {
                edit_json(r, "manifest.json", |m| {
                    m["engines"]["node"] = "18.20.0".into()
                })
            },
            &["engines.node is \"18.20.0\", expected version 24.x"],
        );
    }

    #[test]
    fn whitelisted_domains_is_deprecated() {
        breaks(
            |r| {
                edit_json(r, "manifest.json", |m| {
                    m["modules"]["common"]["whitelisted-domains"] =
                        serde_json::json!(["https://idv.example.com"]);
                })
            },
            &[
                "[whitelisted-domains]",
                "\"whitelisted-domains\" has been deprecated",
            ],
        );
    }
}
