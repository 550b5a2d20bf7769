//! `[location]` every placeholder is one its module offers, and its `url` and `icon` exist.

use serde_json::Value;

use super::{platform, Checker};

impl Checker {
    pub(super) fn locations(&mut self, m: &Value) {
        let r = "location";
        let built = self.app_built();
        for (module, body) in self.modules(m) {
            let Some(locations) = body.get("location") else {
                continue;
            };
            let Some(locations) = locations.as_object() else {
                self.error(
                    r,
                    format!("manifest.json: modules.{module}.location must be an object"),
                );
                continue;
            };
            let offered = platform::MODULES
                .iter()
                .find(|(name, _)| name == module)
                .map(|(_, p)| *p)
                .unwrap_or_default();
            for (placeholder, loc) in locations {
                let at = format!("manifest.json: modules.{module}.location.{placeholder}");
                if !offered.contains(&placeholder.as_str()) {
                    self.error(
                        r,
                        format!(
                            "{at}: module {module} has no placeholder \"{placeholder}\" (it offers: {})",
                            if offered.is_empty() {
                                "none known to this check".to_string()
                            } else {
                                offered.join(", ")
                            }
                        ),
                    );
                }
                for key in ["url", "icon"] {
                    let Some(file) = loc
                        .get(key)
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                    else {
                        self.error(
                            r,
                            format!("{at}: \"{key}\" is missing (a path relative to app/)"),
                        );
                        continue;
                    };
                    if file.contains("://") || file.starts_with('/') || file.contains("..") {
                        self.error(
                            r,
                            format!("{at}.{key} \"{file}\" must be a path inside app/"),
                        );
                        continue;
                    }
                    let in_app = self.path("app").join(file).is_file();
                    let in_source = key == "url" && self.path("widget").join(file).is_file();
                    if in_app || (!built && in_source) {
                        continue;
                    }
                    let msg = if key == "url" && built {
                        format!("{at}.url: app/{file} does not exist in the built app/")
                    } else if key == "url" {
                        format!(
                            "{at}.url: neither app/{file} nor widget/{file} (the trunk source of \
                             app/) exists"
                        )
                    } else {
                        format!("{at}.icon: app/{file} does not exist")
                    };
                    self.error(r, msg);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use crate::appcheck::tests::{breaks, edit_json, write};

    #[test]
    fn placeholders_must_belong_to_their_module() {
        breaks(
            |r| {
                edit_json(r, "manifest.json", |m| {
                    let loc = m["modules"]["deal"]["location"]["deal_entity_menu"].clone();
                    m["modules"]["contact"]["location"]["deal_entity_menu"] = loc;
                })
            },
            &["[location] manifest.json: modules.contact.location.deal_entity_menu: module contact has no placeholder"],
        );
    }

    #[test]
    fn location_url_must_exist() {
        breaks(
            |r| {
                edit_json(r, "manifest.json", |m| {
                    m["modules"]["contact"]["location"]["contact_entity_menu"]["url"] =
                        "contact.html".into();
                })
            },
            &["contact_entity_menu.url: neither app/contact.html nor widget/contact.html"],
        );
        // Once app/ is built, the page must be in it.
        breaks(
            |r| {
                write(
                    r,
                    "app/index.html",
                    "<script src=\"{{{appclient}}}\"></script>",
                );
                write(
                    r,
                    "widget/deal.html",
                    "<script src=\"{{{appclient}}}\"></script>",
                );
                edit_json(r, "manifest.json", |m| {
                    m["modules"]["deal"]["location"]["deal_entity_menu"]["url"] =
                        "deal.html".into();
                })
            },
            &["deal_entity_menu.url: app/deal.html does not exist in the built app/"],
        );
        breaks(
            |r| {
                edit_json(r, "manifest.json", |m| {
                    m["modules"]["deal"]["location"]["deal_entity_menu"]["url"] =
                        "https://idv.example.com/".into();
                })
            },
            &["must be a path inside app/"],
        );
    }

    #[test]
    fn location_icon_must_exist() {
        breaks(
            |r| fs::remove_file(r.join("app/styles/images/icon.svg")).unwrap(),
            &[
                "modules.contact.location.contact_entity_menu.icon: app/styles/images/icon.svg does not exist",
                "modules.deal.location.deal_entity_menu.icon",
            ],
        );
        breaks(
            |r| {
                edit_json(r, "manifest.json", |m| {
                    m["modules"]["deal"]["location"]["deal_entity_menu"]
                        .as_object_mut()
                        .unwrap()
                        .remove("icon");
                })
            },
            &["deal_entity_menu: \"icon\" is missing"],
        );
    }
}
