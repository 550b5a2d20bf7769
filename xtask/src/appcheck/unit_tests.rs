//! `[unit-tests]` the serverless unit tests that `fdk pack` runs are configured.

use std::fs;

use serde_json::Value;

use super::{platform, scan::files_under, Checker};

impl Checker {
    pub(super) fn unit_tests(&mut self) {
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

#[cfg(test)]
mod tests {
    use std::fs;

    use crate::appcheck::tests::{breaks, edit_json};

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
}
