//! `[no-eval]`, `[no-unpkg]`, `[no-direct-fetch]`, `[no-timers]`: what the code of app pages and of
//! server/server.js must not do.

use std::fs;

use super::{
    platform,
    scan::{contains_call, contains_word, literal_fetch},
    Checker,
};

/// Path fragments of this project's backend: a literal one in an app page is a direct call.
const BACKEND_PATHS: &[&str] = &["/api/v1/", "/hooks/"];

impl Checker {
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

    pub(super) fn front_end_code(&mut self) {
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

    pub(super) fn server_code(&mut self, code: &str) {
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
}

#[cfg(test)]
mod tests {
    use crate::appcheck::{
        check,
        tests::{breaks, edit_text, fixture, write},
    };

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
}
