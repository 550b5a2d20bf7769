//! `[appclient]` every HTML page loads the platform client, none the old one.

use std::fs;

use super::{
    platform,
    scan::{files_under, strip_html_comments},
    Checker,
};

impl Checker {
    pub(super) fn pages(&mut self) {
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
}

#[cfg(test)]
mod tests {
    use crate::appcheck::tests::{breaks, edit_text, write};

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
}
