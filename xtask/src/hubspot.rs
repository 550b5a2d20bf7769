//! The HubSpot project in `hubspot/`: its offline checks for `cargo xtask test`, and the folder
//! `cargo xtask pack` leaves ready for `hs project upload`.

use std::{path::Path, process::Command};

use anyhow::{Context, Result};

use crate::run;

/// The folder of the project, relative to the repository root.
pub const DIR: &str = "hubspot";

/// Where `cargo xtask pack` writes the project with the operator's origin, relative to the root.
pub const OUTPUT: &str = "target/hubspot-project";

/// Where the demo's stand-in HubSpot host for the cards is built, relative to the root.
pub const HOST_OUTPUT: &str = "target/hubspot-host";

/// The origin the repository's files carry until an operator sets theirs (`hubspot/backend.json`).
pub const PLACEHOLDER_ORIGIN: &str = "https://idv.example.com";

/// `npm ci` in `hubspot/` when its node_modules is missing or was installed from another
/// package-lock.json, then the type check, the lint and the Vitest suite (the cards' tests and the
/// check of every `*-hsmeta.json`).
pub fn checks(root: &Path) -> Result<()> {
    let dir = root.join(DIR);
    crate::node::install(&dir, "the HubSpot project checks")?;
    for args in [
        &["tsc", "--noEmit"][..],
        // The cards again, against the demo's stand-in host (DOM types).
        &["tsc", "--noEmit", "-p", "tsconfig.stand-in.json"][..],
        &["eslint", "--max-warnings=0", "."][..],
        &["vitest", "run"][..],
    ] {
        run(Command::new("npx")
            .arg("--no-install")
            .args(args)
            .current_dir(&dir))?;
    }
    build_host(root)
}

/// Builds the demo's stand-in HubSpot host (the real cards drawn as plain HTML, their
/// `hubspot.fetch` sent to the demo's signing proxy) into target/hubspot-host; the browser
/// tests and `cargo xtask demo` serve it.
pub fn build_host(root: &Path) -> Result<()> {
    let dir = root.join(DIR);
    crate::node::install(&dir, "the demo's HubSpot card host")?;
    run(Command::new("node")
        .arg("scripts/build-host.mjs")
        .arg(root.join(HOST_OUTPUT))
        .current_dir(&dir))
}

/// The origin to build the upload folder with: `IDV_PUBLIC_URL` when it is an HTTPS URL (its
/// origin only), else the one `hubspot/backend.json` holds; with a line when that is the
/// placeholder or `IDV_PUBLIC_URL` could not be used.
pub fn pack_origin(public_url: Option<&str>, current: &str) -> (String, Option<String>) {
    let kept = |why: String| {
        let note = if current == PLACEHOLDER_ORIGIN {
            format!(
                "{why}: the folder keeps the placeholder {PLACEHOLDER_ORIGIN}; set \
                 IDV_PUBLIC_URL to the backend's https:// address and pack again"
            )
        } else {
            format!("{why}: the folder keeps hubspot/backend.json's {current}")
        };
        (current.to_string(), Some(note))
    };
    match public_url.map(str::trim) {
        Some(url) if url.starts_with("https://") => {
            let rest = &url["https://".len()..];
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            (format!("https://{host}"), None)
        }
        Some(url) if !url.is_empty() => kept(format!(
            "IDV_PUBLIC_URL={url} is not https://, which HubSpot requires"
        )),
        _ => kept("IDV_PUBLIC_URL is not set".to_string()),
    }
}

/// `cargo xtask pack`: copies the project into target/hubspot-project with the backend origin
/// written into every file that names it (hubspot/scripts/set-origin.mjs, Node only, no packages).
pub fn pack(root: &Path) -> Result<()> {
    let dir = root.join(DIR);
    let backend: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join("backend.json")).context("reading hubspot/backend.json")?,
    )
    .context("hubspot/backend.json is not JSON")?;
    let current = backend["origin"]
        .as_str()
        .context("hubspot/backend.json has no origin")?;
    let public_url = std::env::var("IDV_PUBLIC_URL").ok();
    let (origin, note) = pack_origin(public_url.as_deref(), current);
    if let Some(note) = note {
        eprintln!("    {note}");
    }
    crate::node::version("the HubSpot project checks")?;
    let out = root.join(OUTPUT);
    run(Command::new("node")
        .arg(dir.join("scripts/set-origin.mjs"))
        .arg(&origin)
        .arg("--out")
        .arg(&out))?;
    eprintln!(
        "    HubSpot project ready in {}: run `hs project upload` there",
        out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACME: &str = "https://idv.acme.com";

    #[test]
    fn the_pack_origin_is_the_https_origin_of_the_public_url() {
        assert_eq!(
            pack_origin(Some("https://idv.acme.com/"), PLACEHOLDER_ORIGIN),
            (ACME.to_string(), None)
        );
        assert_eq!(
            pack_origin(Some("https://idv.acme.com:8443/base?x=1"), ACME).0,
            "https://idv.acme.com:8443"
        );
    }

    #[test]
    fn without_an_https_public_url_the_pack_keeps_backend_json_and_says_so() {
        let (origin, note) = pack_origin(Some("http://127.0.0.1:8080"), PLACEHOLDER_ORIGIN);
        assert_eq!(origin, PLACEHOLDER_ORIGIN);
        let note = note.unwrap();
        assert!(
            note.contains("not https://") && note.contains("placeholder"),
            "{note}"
        );
        let (origin, note) = pack_origin(None, ACME);
        assert_eq!(origin, ACME);
        assert!(note.unwrap().contains("keeps hubspot/backend.json's"));
    }
}
