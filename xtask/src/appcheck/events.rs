//! `[events]` every event is one its module offers, with a handler server/server.js exports.

use serde_json::Value;

use super::{platform, scan::exports_handler, Checker};

impl Checker {
    pub(super) fn events(&mut self, m: &Value, server_code: Option<&str>) {
        let r = "events";
        for (module, body) in self.modules(m) {
            let Some(events) = body.get("events") else {
                continue;
            };
            let Some(events) = events.as_object() else {
                self.error(
                    r,
                    format!("manifest.json: modules.{module}.events must be an object"),
                );
                continue;
            };
            let offered = platform::EVENTS
                .iter()
                .find(|(name, _)| name == module)
                .map(|(_, e)| *e)
                .unwrap_or_default();
            for (event, spec) in events {
                let at = format!("manifest.json: modules.{module}.events.{event}");
                if !offered.contains(&event.as_str()) {
                    let home = platform::EVENTS
                        .iter()
                        .find(|(_, e)| e.contains(&event.as_str()))
                        .map(|(m, _)| format!(" (it belongs in modules.{m})"))
                        .unwrap_or_default();
                    self.error(
                        r,
                        format!("{at}: module {module} has no event \"{event}\"{home}"),
                    );
                }
                let Some(handler) = spec
                    .get("handler")
                    .and_then(Value::as_str)
                    .filter(|h| !h.is_empty())
                else {
                    self.error(r, format!("{at}: \"handler\" is missing"));
                    continue;
                };
                match server_code {
                    None => self.error(
                        r,
                        format!(
                            "{at}: handler {handler} needs server/server.js, which does not exist"
                        ),
                    ),
                    Some(code) if !exports_handler(code, handler) => self.error(
                        r,
                        format!(
                            "{at}: handler \"{handler}\" is not exported by server/server.js \
                             (exports = {{ {handler}: function (payload) {{ … }} }})"
                        ),
                    ),
                    Some(_) => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use crate::appcheck::tests::{breaks, edit_json, edit_text};

    #[test]
    fn events_must_belong_to_their_module_and_be_exported() {
        breaks(
            |r| {
                edit_json(r, "manifest.json", |m| {
                    m["modules"]["contact"]["events"]["onDealUpdate"] =
                        serde_json::json!({"handler": "onDealUpdateHandler"});
                })
            },
            &["module contact has no event \"onDealUpdate\" (it belongs in modules.deal)"],
        );
        breaks(
            |r| {
                edit_text(r, "server/server.js", |t| {
                    t.replace("onDealUpdateHandler:", "onDealChangedHandler:")
                })
            },
            &["[events] manifest.json: modules.deal.events.onDealUpdate: handler \"onDealUpdateHandler\" is not exported"],
        );
        breaks(
            |r| fs::remove_file(r.join("server/server.js")).unwrap(),
            &["handler onAppInstallHandler needs server/server.js, which does not exist"],
        );
    }
}
