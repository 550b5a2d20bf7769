//! `cargo xtask app-check`: the rules of the Freshworks app package that `fdk validate` and
//! `fdk pack` would enforce, checked by the project itself (the official CLI cannot be installed
//! here). Each broken rule is reported with the file, what is wrong and what to do.
//!
//! Rules (the id in brackets starts each message):
//! - `[manifest]` manifest.json is a JSON object with the platform 3.0 shape: `platform-version`
//!   "3.0", `modules` (with `common` and at least one product module, each a known module with
//!   known keys; request templates and functions only in `common`), `engines` for Node and FDK.
//! - `[whitelisted-domains]` the deprecated key appears nowhere in the manifest.
//! - `[location]` every placeholder is one its module offers, and its `url` and `icon` exist under
//!   `app/` (while `app/` is not built, the page may come from `widget/`, trunk's source).
//! - `[events]` every event is one its module offers, and its handler is exported by
//!   server/server.js.
//! - `[requests]` the templates declared in the manifest and those in config/requests.json are the
//!   same set; each is well formed (https, a method, a bare host, a path) and names only iparams
//!   that config/iparams.json defines.
//! - `[templates-used]` every template the code invokes is declared, and every declared one is
//!   invoked. Code = `$request.invokeTemplate("name", …)` in server/server.js, and in the widget's
//!   Rust sources (widget/src/**/*.rs) the string literals of a constant or static whose name
//!   contains `TEMPLATE` (e.g. `pub const REQUEST_TEMPLATES: &[&str] = &["getContactStatus", …];`),
//!   plus any `invoke_template("name"` call with a literal name.
//! - `[secure-iparams]` secure iparams appear in request templates only inside `schema.headers`,
//!   and never in front-end code.
//! - `[iparams]` config/iparams.json entries have a display name and a known type; the app has
//!   either iparams.json or iparams.html, not both.
//! - `[appclient]` every HTML page loads `{{{appclient}}}` (outside comments), none the old
//!   `fresh_client.js`.
//! - `[no-eval]`, `[no-unpkg]`, `[no-direct-fetch]`, `[no-timers]`: no `eval`/`new Function`, no
//!   UNPKG CDN, no direct network calls to the backend from app pages or from server.js (which may
//!   use only request templates), and no timers in server.js.
//! - `[unit-tests]` package.json has the `fdk-unit-test` script, vitest.config.js and serverless
//!   tests exist (the pre-pack check of FDK 10.1.9).

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

use anyhow::{bail, Result};
use serde_json::{Map, Value};

/// What this check knows of Freshworks platform 3.0 (shared/reference/freshworks.md). Facts the
/// reference marks UNCONFIRMED are here and only here: when the platform says otherwise, edit
/// this module.
pub mod platform {
    pub const VERSION: &str = "3.0";
    /// `engines` majors: the official 3.0 sample pins node 24.11.0 and fdk 10.1.2.
    pub const NODE_MAJOR: u64 = 24;
    pub const FDK_MAJOR: u64 = 10;
    pub const TOP_LEVEL_KEYS: &[&str] = &["platform-version", "modules", "engines", "dependencies"];
    /// Keys a module may have; templates and functions belong to `common` only.
    pub const COMMON_KEYS: &[&str] = &["location", "requests", "functions", "events"];
    pub const PRODUCT_MODULE_KEYS: &[&str] = &["location", "events"];
    /// Freshsales 3.0 modules and their placeholders. `contact_quick_actions` and
    /// `deal_quick_actions` are UNCONFIRMED (knowledge base only); the placeholders of the modules
    /// listed with none are unknown to this check.
    pub const MODULES: &[(&str, &[&str])] = &[
        (
            "common",
            &["full_page_app", "left_nav_cti", "left_nav_chat"],
        ),
        ("contact", &["contact_entity_menu", "contact_quick_actions"]),
        ("deal", &["deal_entity_menu", "deal_quick_actions"]),
        (
            "sales_account",
            &["sales_account_entity_menu", "sales_account_quick_actions"],
        ),
        ("lead", &["lead_entity_menu", "lead_quick_actions"]),
        ("appointment", &[]),
        ("cpq_document", &[]),
        ("phone", &[]),
        ("product", &[]),
        ("task", &[]),
        ("chat_conversation", &[]),
        ("custom_module", &[]),
    ];
    /// Events each module offers. Set-up, external and scheduled events sit in `common`. The
    /// `…Delete` product events come from older sample payloads (UNCONFIRMED for 3.0).
    pub const EVENTS: &[(&str, &[&str])] = &[
        (
            "common",
            &[
                "onAppInstall",
                "afterAppUpdate",
                "onAppUninstall",
                "onExternalEvent",
                "onScheduledEvent",
            ],
        ),
        (
            "contact",
            &["onContactCreate", "onContactUpdate", "onContactDelete"],
        ),
        ("deal", &["onDealCreate", "onDealUpdate", "onDealDelete"]),
        (
            "sales_account",
            &[
                "onSalesAccountCreate",
                "onSalesAccountUpdate",
                "onSalesAccountDelete",
            ],
        ),
        ("lead", &["onLeadCreate", "onLeadUpdate", "onLeadDelete"]),
        ("task", &["onTaskCreate", "onTaskUpdate", "onTaskDelete"]),
        (
            "custom_module",
            &["onCustomModuleCreate", "onCustomModuleUpdate"],
        ),
    ];
    pub const IPARAM_TYPES: &[&str] = &[
        "text",
        "paragraph",
        "dropdown",
        "multiselect",
        "email",
        "number",
        "phone_number",
        "date",
        "url",
        "radio",
        "checkbox",
        "domain",
        "api_key",
    ];
    pub const TEMPLATE_METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];
    /// `context.*` is substituted in a template's host and headers only on the installation page
    /// and in serverless code; from an app page only in path and query (UNCONFIRMED in detail).
    pub const CONTEXT_IN_HEADERS_FROM_PAGES: bool = false;
    pub const APPCLIENT: &str = "{{{appclient}}}";
    pub const OLD_CLIENT_SCRIPT: &str = "fresh_client.js";
    pub const UNPKG: &str = "unpkg.com";
    /// The pre-pack check wants this npm script (in package.json, as the official sample has it).
    pub const UNIT_TEST_SCRIPT: &str = "fdk-unit-test";
    /// Node modules server.js must not use to reach the network (only request templates may).
    pub const NETWORK_MODULES: &[&str] = &[
        "http",
        "https",
        "http2",
        "net",
        "tls",
        "dgram",
        "node-fetch",
        "axios",
        "undici",
        "request",
        "got",
    ];
}

/// Path fragments of this project's backend: a literal one in an app page is a direct call.
const BACKEND_PATHS: &[&str] = &["/api/v1/", "/hooks/"];

/// The outcome: errors fail the check, warnings are printed.
#[derive(Debug, Default)]
pub struct Report {
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

/// Runs every rule on the app rooted at `root`, prints the findings, fails on any error.
pub fn run(root: &Path) -> Result<()> {
    let report = check(root);
    for w in &report.warnings {
        eprintln!("    warning: {w}");
    }
    for e in &report.errors {
        eprintln!("    error: {e}");
    }
    if report.errors.is_empty() {
        eprintln!(
            "    app check passed ({} warning(s)): manifest, locations, events, request templates, \
             iparams, pages, serverless",
            report.warnings.len()
        );
        Ok(())
    } else {
        bail!(
            "the Freshworks app check found {} error(s)",
            report.errors.len()
        )
    }
}

/// Runs every rule and returns the findings.
pub fn check(root: &Path) -> Report {
    let mut c = Checker {
        root: root.to_path_buf(),
        report: Report::default(),
    };
    c.all();
    c.report
}

struct Checker {
    root: PathBuf,
    report: Report,
}

/// A template's use by code: which side calls it.
#[derive(Default)]
struct Uses {
    server: BTreeSet<String>,
    widget: BTreeSet<String>,
    /// Whether the widget's sources name any template at all (the list exists).
    widget_listed: bool,
}

impl Checker {
    fn error(&mut self, rule: &str, msg: impl AsRef<str>) {
        self.report
            .errors
            .push(format!("[{rule}] {}", msg.as_ref()));
    }

    fn warn(&mut self, rule: &str, msg: impl AsRef<str>) {
        self.report
            .warnings
            .push(format!("[{rule}] {}", msg.as_ref()));
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn rel(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/")
    }

    fn read_json(&mut self, rule: &str, rel: &str) -> Option<Value> {
        let text = match fs::read_to_string(self.path(rel)) {
            Ok(t) => t,
            Err(e) => {
                self.error(rule, format!("{rel} cannot be read ({e})"));
                return None;
            }
        };
        match serde_json::from_str::<Value>(&text) {
            Ok(v @ Value::Object(_)) => Some(v),
            Ok(_) => {
                self.error(rule, format!("{rel} must be a JSON object"));
                None
            }
            Err(e) => {
                self.error(rule, format!("{rel} is not valid JSON ({e})"));
                None
            }
        }
    }

    /// `app/` holds a build of the widget (else pages come from `widget/`, trunk's source).
    fn app_built(&self) -> bool {
        self.path("app/index.html").is_file()
    }

    fn all(&mut self) {
        let manifest = self.read_json("manifest", "manifest.json");
        let iparams = self.iparams();
        let requests = self.read_json("requests", "config/requests.json");
        let server_js = fs::read_to_string(self.path("server/server.js")).ok();
        let server_code = server_js.as_deref().map(strip_js_comments);

        if let Some(m) = &manifest {
            self.manifest_shape(m);
            self.whitelisted_domains(m, "manifest.json");
            self.locations(m);
            self.events(m, server_code.as_deref());
        }
        let uses = self.uses(server_code.as_deref());
        if let (Some(m), Some(r)) = (&manifest, &requests) {
            self.requests(m, r, &iparams, &uses);
        }
        if let Some(r) = &requests {
            self.secure_in_templates(r, &iparams);
        }
        self.secure_in_front_end(&iparams);
        self.pages();
        self.front_end_code();
        if let Some(code) = &server_code {
            self.server_code(code);
        }
        self.unit_tests();
    }

    // --- manifest -------------------------------------------------------------------------

    fn manifest_shape(&mut self, m: &Value) {
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

    fn whitelisted_domains(&mut self, v: &Value, at: &str) {
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

    fn modules<'v>(&self, m: &'v Value) -> Vec<(&'v String, &'v Map<String, Value>)> {
        m.get("modules")
            .and_then(Value::as_object)
            .map(|mods| {
                mods.iter()
                    .filter_map(|(k, v)| Some((k, v.as_object()?)))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn locations(&mut self, m: &Value) {
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

    fn events(&mut self, m: &Value, server_code: Option<&str>) {
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

    // --- request templates -----------------------------------------------------------------

    fn uses(&mut self, server_code: Option<&str>) -> Uses {
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

    fn requests(&mut self, m: &Value, requests: &Value, iparams: &Iparams, uses: &Uses) {
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

    // --- iparams ---------------------------------------------------------------------------

    fn iparams(&mut self) -> Iparams {
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

    fn secure_in_templates(&mut self, requests: &Value, iparams: &Iparams) {
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

    fn secure_in_front_end(&mut self, iparams: &Iparams) {
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

    // --- pages and code --------------------------------------------------------------------

    /// The app's own text files: built pages and scripts under app/, and the installation page.
    fn app_text_files(&self) -> Vec<PathBuf> {
        let mut files = files_under(&self.path("app"), &["html", "js"]);
        files.extend(files_under(&self.path("config"), &["html", "js"]));
        files
    }

    fn pages(&mut self) {
        let r = "appclient";
        let mut pages = vec![self.path("widget/index.html")];
        pages.extend(files_under(&self.path("app"), &["html"]));
        pages.extend(files_under(&self.path("config"), &["html"]));
        for page in pages {
            let Ok(text) = fs::read_to_string(&page) else {
                if page == self.path("widget/index.html") && !self.app_built() {
                    self.error(
                        r,
                        "widget/index.html (the source of app/index.html) is missing",
                    );
                }
                continue;
            };
            let code = strip_html_comments(&text);
            let rel = self.rel(&page);
            if !code.contains(platform::APPCLIENT) {
                self.error(
                    r,
                    format!(
                        "{rel} does not load the platform client: add <script src=\"{}\"></script>",
                        platform::APPCLIENT
                    ),
                );
            }
            if code.contains(platform::OLD_CLIENT_SCRIPT) {
                self.error(
                    r,
                    format!(
                        "{rel} loads the old {}; use <script src=\"{}\"></script>",
                        platform::OLD_CLIENT_SCRIPT,
                        platform::APPCLIENT
                    ),
                );
            }
        }
    }

    fn common_lints(&mut self, rel: &str, code: &str) {
        if contains_call(code, "eval") || code.contains("new Function(") {
            self.error(
                "no-eval",
                format!("{rel} uses eval or new Function, which the platform's lint rejects"),
            );
        }
        if code.to_ascii_lowercase().contains(platform::UNPKG) {
            self.error(
                "no-unpkg",
                format!("{rel} loads from the UNPKG CDN, which the platform's lint rejects; ship the file in app/"),
            );
        }
    }

    fn front_end_code(&mut self) {
        let mut files = self.app_text_files();
        files.push(self.path("widget/index.html"));
        for file in files {
            let Ok(text) = fs::read_to_string(&file) else {
                continue;
            };
            let rel = self.rel(&file);
            self.common_lints(&rel, &text);
            let direct = BACKEND_PATHS
                .iter()
                .find(|p| text.contains(*p))
                .map(|p| format!("the backend path \"{p}\""))
                .or_else(|| literal_fetch(&text).map(|u| format!("a direct fetch of \"{u}\"")))
                .or_else(|| {
                    text.contains("new XMLHttpRequest")
                        .then(|| "an XMLHttpRequest".to_string())
                });
            if let Some(what) = direct {
                self.error(
                    "no-direct-fetch",
                    format!(
                        "{rel} contains {what}: app pages reach the backend only through request \
                         templates (client.request.invokeTemplate)"
                    ),
                );
            }
        }
    }

    fn server_code(&mut self, code: &str) {
        let rel = "server/server.js";
        self.common_lints(rel, code);
        let mut direct = Vec::new();
        if contains_call(code, "fetch") {
            direct.push("fetch()".to_string());
        }
        if code.contains("XMLHttpRequest") {
            direct.push("XMLHttpRequest".to_string());
        }
        for method in ["get", "post", "put", "patch", "delete"] {
            if code.contains(&format!("$request.{method}(")) {
                direct.push(format!("$request.{method}() (removed in platform 2.3)"));
            }
        }
        for module in platform::NETWORK_MODULES {
            for q in ['\'', '"', '`'] {
                for prefix in ["", "node:"] {
                    let needle = format!("require({q}{prefix}{module}{q})");
                    if code.contains(&needle) {
                        direct.push(needle);
                    }
                }
            }
        }
        for what in direct {
            self.error(
                "no-direct-fetch",
                format!(
                    "{rel} uses {what}; serverless code reaches the backend only through request \
                     templates ($request.invokeTemplate)"
                ),
            );
        }
        for timer in ["setTimeout", "setInterval"] {
            if contains_word(code, timer) {
                self.error(
                    "no-timers",
                    format!("{rel} uses {timer}, which the serverless platform does not allow"),
                );
            }
        }
    }

    fn unit_tests(&mut self) {
        let r = "unit-tests";
        match fs::read_to_string(self.path("package.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        {
            None => self.error(r, "package.json is missing or not valid JSON"),
            Some(pkg) => {
                if pkg
                    .pointer(&format!("/scripts/{}", platform::UNIT_TEST_SCRIPT))
                    .and_then(Value::as_str)
                    .is_none()
                {
                    self.error(
                        r,
                        format!(
                            "package.json has no \"{}\" script (fdk pack runs the unit tests \
                             with it), e.g. \"vitest run --coverage\"",
                            platform::UNIT_TEST_SCRIPT
                        ),
                    );
                }
            }
        }
        if !self.path("vitest.config.js").is_file() {
            self.error(r, "vitest.config.js is missing");
        }
        if files_under(&self.path("tests/serverless"), &["js"])
            .iter()
            .all(|f| !f.to_string_lossy().ends_with(".test.js"))
        {
            self.error(r, "tests/serverless/ has no *.test.js file");
        }
    }
}

#[derive(Default)]
struct Iparams {
    all: BTreeSet<String>,
    secure: BTreeSet<String>,
}

// --- text helpers ------------------------------------------------------------------------------

/// Files under `dir` (recursively, sorted) whose extension is one of `exts`.
fn files_under(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if name == "node_modules" {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| exts.contains(&e))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$'
}

/// `needle` occurs with no identifier character right before or after it.
fn contains_word(text: &str, needle: &str) -> bool {
    text.match_indices(needle).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + needle.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// `name(` called as a function (`eval(`, `window.eval (`), not `__wbg_eval_…`.
fn contains_call(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let rest = text[i + name.len()..].trim_start();
        !before.is_some_and(is_ident) && rest.starts_with('(')
    })
}

/// Whether server.js exports `handler` (an `exports = { handler: … }` key or `exports.handler =`).
fn exports_handler(code: &str, handler: &str) -> bool {
    code.match_indices(handler).any(|(i, _)| {
        let before = code[..i].chars().next_back();
        let rest = code[i + handler.len()..].trim_start();
        let rest = rest.strip_prefix(['\'', '"']).unwrap_or(rest).trim_start();
        let keyed = !before.is_some_and(is_ident) && rest.starts_with(':');
        keyed || code[..i].ends_with("exports.")
    })
}

/// The names passed as first argument to `func(`: Ok(name) for a literal, Err(snippet) otherwise.
fn template_calls(code: &str, func: &str) -> Vec<Result<String, String>> {
    let mut out = Vec::new();
    let needle = format!("{func}(");
    for (i, _) in code.match_indices(&needle) {
        if code[..i].chars().next_back().is_some_and(is_ident) {
            continue;
        }
        let rest = code[i + needle.len()..].trim_start();
        let quote = rest.chars().next();
        let literal = quote
            .filter(|q| matches!(q, '"' | '\'' | '`'))
            .and_then(|q| {
                let body = &rest[1..];
                let end = body.find(q)?;
                let name = &body[..end];
                (!name.contains("${") && !name.contains('\\')).then(|| name.to_string())
            });
        match literal {
            Some(name) => out.push(Ok(name)),
            None => out.push(Err(rest
                .chars()
                .take_while(|c| !matches!(c, ',' | ')' | '\n'))
                .take(40)
                .collect())),
        }
    }
    out
}

/// String literals of every Rust `const`/`static` whose name contains `TEMPLATE`.
fn rust_template_list(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for keyword in ["const ", "static "] {
        for (i, _) in text.match_indices(keyword) {
            if text[..i].chars().next_back().is_some_and(is_ident) {
                continue;
            }
            let after = text[i + keyword.len()..].trim_start();
            let after = after.strip_prefix("mut ").unwrap_or(after);
            let ident: String = after.chars().take_while(|c| is_ident(*c)).collect();
            if !ident.contains("TEMPLATE") {
                continue;
            }
            let Some(eq) = after.find('=') else { continue };
            names.extend(rust_strings_until_semicolon(&after[eq + 1..]));
        }
    }
    names
}

/// The string literals of Rust code up to the first `;` outside strings and comments.
fn rust_strings_until_semicolon(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ';' => break,
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                let mut prev = ' ';
                for c in chars.by_ref() {
                    if prev == '*' && c == '/' {
                        break;
                    }
                    prev = c;
                }
            }
            '"' => {
                let mut s = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some(n) = chars.next() {
                                s.push(n);
                            }
                        }
                        '"' => break,
                        c => s.push(c),
                    }
                }
                out.push(s);
            }
            _ => {}
        }
    }
    out
}

/// JavaScript without `//` and `/* */` comments (string-aware; for hand-written code).
fn strip_js_comments(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                for c in chars.by_ref() {
                    if prev == '*' && c == '/' {
                        break;
                    }
                    prev = c;
                }
                out.push(' ');
            }
            '"' | '\'' | '`' => {
                out.push(c);
                while let Some(n) = chars.next() {
                    out.push(n);
                    if n == '\\' {
                        if let Some(e) = chars.next() {
                            out.push(e);
                        }
                    } else if n == c {
                        break;
                    }
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Rust without `//` and `/* */` comments (string- and char-literal-aware; lifetimes kept).
fn strip_rust_comments(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    let mut out = String::with_capacity(code.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
            out.push(' ');
        } else if c == '"' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i = (i + 1).min(chars.len());
            out.extend(&chars[start..i]);
        } else {
            // A char literal ('x', '\n', '"') is copied whole; any other quote is a lifetime.
            let len = match (c, next, chars.get(i + 2)) {
                ('\'', Some('\\'), _) => chars[i + 2..]
                    .iter()
                    .position(|&c| c == '\'')
                    .map(|p| p + 3),
                ('\'', Some(_), Some('\'')) => Some(3),
                _ => None,
            }
            .unwrap_or(1);
            let end = (i + len).min(chars.len());
            out.extend(&chars[i..end]);
            i = end;
        }
    }
    out
}

fn strip_html_comments(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        match rest[start + 4..].find("-->") {
            Some(end) => rest = &rest[start + 4 + end + 3..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The URL of a `fetch("http…")` or `fetch("/…")` with a literal argument, if any.
fn literal_fetch(text: &str) -> Option<String> {
    text.match_indices("fetch(").find_map(|(i, _)| {
        if text[..i].chars().next_back().is_some_and(is_ident) {
            return None;
        }
        let rest = text[i + "fetch(".len()..].trim_start();
        let q = rest
            .chars()
            .next()
            .filter(|q| matches!(q, '"' | '\'' | '`'))?;
        let body = &rest[1..];
        let url = &body[..body.find(q)?];
        (url.starts_with("http") || url.starts_with('/')).then(|| url.to_string())
    })
}

/// Every string in a JSON value with its JSON pointer.
fn collect_strings(v: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(s) => out.push((at.to_string(), s.clone())),
        Value::Object(map) => {
            for (k, child) in map {
                collect_strings(child, &format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                collect_strings(child, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// The iparam names a template string refers to (`<%= iparam.name %>`, `encode(iparam.name)`).
fn iparam_refs(s: &str) -> Vec<String> {
    s.match_indices("iparam.")
        .filter(|(i, _)| !s[..*i].chars().next_back().is_some_and(is_ident))
        .map(|(i, m)| {
            s[i + m.len()..]
                .chars()
                .take_while(|c| is_ident(*c))
                .collect::<String>()
        })
        .filter(|n| !n.is_empty())
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A directory under the system temp dir, removed when dropped.
    pub(crate) struct TempDir(pub PathBuf);

    impl TempDir {
        pub(crate) fn new(tag: &str) -> Self {
            static N: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "idv-{tag}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    pub(crate) fn write(root: &Path, rel: &str, text: &str) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn repo() -> PathBuf {
        crate::root()
    }

    /// A copy of the repository's app package (unbuilt app/), with a widget whose sources list
    /// the templates server.js does not invoke, as the widget's transport does.
    fn fixture() -> TempDir {
        let dir = TempDir::new("appcheck");
        let root = dir.0.clone();
        for rel in [
            "manifest.json",
            "config/iparams.json",
            "config/requests.json",
            "server/server.js",
            "widget/index.html",
            "app/styles/images/icon.svg",
            "package.json",
            "vitest.config.js",
            "tests/serverless/server.test.js",
        ] {
            let from = repo().join(rel);
            fs::create_dir_all(root.join(rel).parent().unwrap()).unwrap();
            fs::copy(&from, root.join(rel))
                .unwrap_or_else(|e| panic!("copying {}: {e}", from.display()));
        }
        let requests: Value =
            serde_json::from_str(&fs::read_to_string(root.join("config/requests.json")).unwrap())
                .unwrap();
        let server = strip_js_comments(&fs::read_to_string(root.join("server/server.js")).unwrap());
        let server_uses: BTreeSet<String> = template_calls(&server, "invokeTemplate")
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let widget: Vec<String> = requests
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| !server_uses.contains(*k))
            .map(|k| format!("    \"{k}\",\n"))
            .collect();
        write(
            &root,
            "widget/src/transport.rs",
            &format!(
                "/// Request templates the widget invokes (checked by `cargo xtask app-check`).\n\
                 pub const REQUEST_TEMPLATES: &[&str] = &[\n{}];\n",
                widget.concat()
            ),
        );
        dir
    }

    fn edit_json(root: &Path, rel: &str, f: impl FnOnce(&mut Value)) {
        let path = root.join(rel);
        let mut v: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        f(&mut v);
        fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    }

    fn edit_text(root: &Path, rel: &str, f: impl FnOnce(String) -> String) {
        let path = root.join(rel);
        let text = fs::read_to_string(&path).unwrap();
        fs::write(&path, f(text)).unwrap();
    }

    /// Breaks the fixture with `f` and asserts the check names the problem.
    fn breaks(f: impl FnOnce(&Path), expected: &[&str]) {
        let dir = fixture();
        f(&dir.0);
        let report = check(&dir.0);
        for want in expected {
            assert!(
                report.errors.iter().any(|e| e.contains(want)),
                "expected an error containing {want:?}, got {:#?}",
                report.errors
            );
        }
    }

    #[test]
    fn the_repository_passes() {
        let report = check(&repo());
        assert!(report.errors.is_empty(), "{:#?}", report.errors);
    }

    #[test]
    fn the_fixture_passes_without_warnings_but_the_unconfirmed_header_one() {
        let dir = fixture();
        let report = check(&dir.0);
        assert!(report.errors.is_empty(), "{:#?}", report.errors);
        assert!(
            report
                .warnings
                .iter()
                .all(|w| w.contains("startVerification") && w.contains("context.*")),
            "{:#?}",
            report.warnings
        );
    }

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

    #[test]
    fn every_page_loads_appclient() {
        breaks(
            |r| {
                edit_text(r, "widget/index.html", |t| {
                    t.replace(
                        "<script src=\"{{{appclient}}}\"></script>",
                        "<!-- <script src=\"{{{appclient}}}\"></script> -->",
                    )
                })
            },
            &["[appclient] widget/index.html does not load the platform client"],
        );
        breaks(
            |r| write(r, "app/index.html", "<html><body></body></html>"),
            &["[appclient] app/index.html does not load the platform client"],
        );
        breaks(
            |r| {
                write(
                    r,
                    "app/index.html",
                    "<script src=\"{{{appclient}}}\"></script>\
                     <script src=\"https://static.freshdev.io/fdk/2.0/assets/fresh_client.js\"></script>",
                )
            },
            &["app/index.html loads the old fresh_client.js"],
        );
    }

    #[test]
    fn no_eval_anywhere() {
        breaks(
            |r| write(r, "app/idv-widget.js", "const f = eval('1 + 1');\n"),
            &["[no-eval] app/idv-widget.js uses eval"],
        );
        breaks(
            |r| {
                write(
                    r,
                    "app/idv-widget.js",
                    "const f = new Function('return 1');\n",
                )
            },
            &["[no-eval] app/idv-widget.js uses eval or new Function"],
        );
        breaks(
            |r| edit_text(r, "server/server.js", |t| t + "\neval('1');\n"),
            &["[no-eval] server/server.js uses eval"],
        );
        // wasm-bindgen names such as __wbg_eval_… are not calls of eval.
        let dir = fixture();
        write(
            &dir.0,
            "app/idv-widget.js",
            "imports.wbg.__wbg_eval_1234 = function (a) { return a; };\n",
        );
        assert!(check(&dir.0).errors.is_empty());
    }

    #[test]
    fn no_unpkg() {
        breaks(
            |r| {
                edit_text(r, "widget/index.html", |t| {
                    t.replace(
                        "</head>",
                        "<script src=\"https://UNPKG.com/qrcode@1/qrcode.js\"></script></head>",
                    )
                })
            },
            &["[no-unpkg] widget/index.html loads from the UNPKG CDN"],
        );
    }

    #[test]
    fn no_direct_fetch_to_the_backend() {
        breaks(
            |r| {
                write(
                    r,
                    "app/scripts/app.js",
                    "fetch('https://idv.example.com/status');\n",
                )
            },
            &["[no-direct-fetch] app/scripts/app.js contains a direct fetch of \"https://idv.example.com/status\""],
        );
        breaks(
            |r| {
                write(
                    r,
                    "app/scripts/app.js",
                    "var u = base + \"/api/v1/contacts/\" + id + \"/status\";\n",
                )
            },
            &["app/scripts/app.js contains the backend path \"/api/v1/\""],
        );
        breaks(
            |r| edit_text(r, "server/server.js", |t| t + "\nfetch(url);\n"),
            &["[no-direct-fetch] server/server.js uses fetch()"],
        );
        breaks(
            |r| {
                edit_text(r, "server/server.js", |t| {
                    t + "\nvar https = require('https');\n"
                })
            },
            &["server/server.js uses require('https')"],
        );
        breaks(
            |r| edit_text(r, "server/server.js", |t| t + "\n$request.post(url, {});\n"),
            &["server/server.js uses $request.post() (removed in platform 2.3)"],
        );
        // A generic fetch in wasm-bindgen glue (the wasm file itself, gloo-net) is not a
        // direct call to the backend.
        let dir = fixture();
        write(
            &dir.0,
            "app/idv-widget.js",
            "function f(arg0) { const ret = fetch(arg0); return ret; }\n\
             module_or_path = fetch(module_or_path);\n",
        );
        assert!(check(&dir.0).errors.is_empty());
    }

    #[test]
    fn no_timers_in_server_js() {
        breaks(
            |r| {
                edit_text(r, "server/server.js", |t| {
                    t + "\nsetTimeout(function () {}, 10);\n"
                })
            },
            &["[no-timers] server/server.js uses setTimeout"],
        );
        // Words in comments are not code.
        let dir = fixture();
        edit_text(&dir.0, "server/server.js", |t| {
            t + "\n// never setTimeout or eval( here\n"
        });
        assert!(check(&dir.0).errors.is_empty());
    }

    #[test]
    fn unit_tests_are_configured() {
        breaks(
            |r| {
                edit_json(r, "package.json", |p| {
                    p["scripts"]
                        .as_object_mut()
                        .unwrap()
                        .remove("fdk-unit-test");
                })
            },
            &["[unit-tests] package.json has no \"fdk-unit-test\" script"],
        );
        breaks(
            |r| {
                fs::remove_file(r.join("vitest.config.js")).unwrap();
                fs::remove_file(r.join("tests/serverless/server.test.js")).unwrap();
            },
            &[
                "vitest.config.js is missing",
                "tests/serverless/ has no *.test.js file",
            ],
        );
    }

    #[test]
    fn helpers() {
        assert!(contains_call("x = eval (y)", "eval"));
        assert!(!contains_call("__wbg_eval_12(y)", "eval"));
        assert!(!contains_call("evaluate(y)", "eval"));
        assert_eq!(
            rust_template_list(
                "pub(crate) const WIDGET_TEMPLATES: [&str; 2] = [\n  \"a\", // \"not\"\n  /* \"no\" */ \"b\"\n];\nconst X: &str = \"c\";"
            ),
            vec!["a", "b"]
        );
        assert_eq!(
            iparam_refs("Bearer <%= iparam.api_token %> <%= encode(iparam.key) %> myiparam.x"),
            vec!["api_token", "key"]
        );
        assert_eq!(
            strip_js_comments("a('//x') // c\n/* d */b"),
            "a('//x') \n b"
        );
        assert_eq!(
            strip_rust_comments(
                r#"let q = '"'; // "a"
fn f<'a>(x: &'a str) {} /* "b" */ "c // d" '\''"#
            ),
            "let q = '\"'; \nfn f<'a>(x: &'a str) {}   \"c // d\" '\\''"
        );
        assert!(exports_handler(
            "exports = {\n  onX: function () {}\n}",
            "onX"
        ));
        assert!(exports_handler("exports.onX = function () {}", "onX"));
        assert!(!exports_handler("function onXY() {}", "onX"));
    }
}
