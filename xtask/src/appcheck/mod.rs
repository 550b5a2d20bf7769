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
//! - `[iparams]` config/iparams.json entries have a display name and a known type (a dropdown
//!   its options, its default among them), and those scoped with `modules` name product
//!   modules of the manifest; the app has either iparams.json or iparams.html, not both.
//! - `[policy-iparams]` every field of the backend's tenant `Policy` is offered on the install
//!   form and passed on by server.js's install; every iparam is either used by a request
//!   template or such a field.
//! - `[appclient]` every HTML page loads `{{{appclient}}}` (outside comments), none the old
//!   `fresh_client.js`.
//! - `[no-eval]`, `[no-unpkg]`, `[no-direct-fetch]`, `[no-timers]`: no `eval`/`new Function`, no
//!   UNPKG CDN, no direct network calls to the backend from app pages or from server.js (which may
//!   use only request templates), and no timers in server.js.
//! - `[unit-tests]` package.json has the `fdk-unit-test` script, vitest.config.js and serverless
//!   tests exist (the pre-pack check of FDK 10.1.9).
//!
//! Each rule family has its own file in this folder: `manifest.rs` (`[manifest]`,
//! `[whitelisted-domains]`), `location.rs`, `events.rs`, `requests.rs` (`[requests]`,
//! `[templates-used]`), `iparams.rs` (`[iparams]`, `[secure-iparams]`), `pages.rs`
//! (`[appclient]`), `lints.rs` (`[no-eval]`, `[no-unpkg]`, `[no-direct-fetch]`, `[no-timers]`) and
//! `policy.rs` (`[policy-iparams]`) and `unit_tests.rs`. What the check knows of the platform is in `platform.rs`; the text scanners
//! the rules share are in `scan.rs`.

mod events;
mod iparams;
mod lints;
mod location;
mod manifest;
mod pages;
mod platform;
mod policy;
mod requests;
mod scan;
mod unit_tests;

use std::{
    fs,
    path::{Path, PathBuf},
};

use anyhow::{bail, Result};
use serde_json::Value;

use scan::{files_under, strip_js_comments};

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
            self.iparam_modules(m, &iparams);
        }
        let uses = self.uses(server_code.as_deref());
        if let (Some(m), Some(r)) = (&manifest, &requests) {
            self.requests(m, r, &iparams, &uses);
        }
        if let Some(r) = &requests {
            self.secure_in_templates(r, &iparams);
        }
        self.secure_in_front_end(&iparams);
        self.policy_iparams(requests.as_ref(), server_code.as_deref());
        self.pages();
        self.front_end_code();
        if let Some(code) = &server_code {
            self.server_code(code);
        }
        self.unit_tests();
    }

    /// The app's own text files: built pages and scripts under app/, and the installation page.
    fn app_text_files(&self) -> Vec<PathBuf> {
        let mut files = files_under(&self.path("app"), &["html", "js"]);
        files.extend(files_under(&self.path("config"), &["html", "js"]));
        files
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::{
        collections::BTreeSet,
        sync::atomic::{AtomicUsize, Ordering},
    };

    use super::scan::template_calls;

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

    pub(super) fn repo() -> PathBuf {
        crate::root()
    }

    /// A copy of the repository's app package (unbuilt app/), with a widget whose sources list
    /// the templates server.js does not invoke, as the widget's transport does.
    pub(super) fn fixture() -> TempDir {
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
            policy::POLICY_SOURCE,
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

    pub(super) fn edit_json(root: &Path, rel: &str, f: impl FnOnce(&mut Value)) {
        let path = root.join(rel);
        let mut v: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        f(&mut v);
        fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    }

    pub(super) fn edit_text(root: &Path, rel: &str, f: impl FnOnce(String) -> String) {
        let path = root.join(rel);
        let text = fs::read_to_string(&path).unwrap();
        fs::write(&path, f(text)).unwrap();
    }

    /// Breaks the fixture with `f` and asserts the check names the problem.
    pub(super) fn breaks(f: impl FnOnce(&Path), expected: &[&str]) {
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
}
