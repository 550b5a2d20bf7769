//! `cargo xtask pack`: the Freshworks submission zip (what `fdk pack` would upload), built from
//! the repository root: the manifest, the built widget in `app/`, `config/`, the serverless
//! forwarder and its unit tests. No Rust sources, no build output besides the widget's.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

use anyhow::{bail, Context, Result};
use zip::{write::SimpleFileOptions, CompressionMethod, DateTime, ZipWriter};

/// Where the zip goes, relative to the repository root.
pub const OUTPUT: &str = "target/freshsales-idv.zip";

/// Single files of the package.
const FILES: &[&str] = &[
    "manifest.json",
    "server/server.js",
    "package.json",
    "vitest.config.js",
];

/// Folders of the package, taken whole (hidden files and `node_modules` left out).
const DIRS: &[&str] = &["app", "config", "tests/serverless"];

/// The package's files as (name in the zip, path on disk), sorted by name.
pub fn contents(root: &Path) -> Result<Vec<(String, PathBuf)>> {
    if !root.join("app/index.html").is_file() {
        bail!("app/ is not built (no app/index.html): run `cargo xtask build-widget` first");
    }
    let mut out = Vec::new();
    for rel in FILES {
        let path = root.join(rel);
        if !path.is_file() {
            bail!("{rel} is missing");
        }
        out.push(((*rel).to_string(), path));
    }
    for rel in DIRS {
        let dir = root.join(rel);
        if !dir.is_dir() {
            bail!("{rel}/ is missing");
        }
        walk(&dir, rel, &mut out)?;
    }
    out.sort();
    Ok(out)
}

fn walk(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        // The widget's compressed copies are the backend's to serve, not the package's.
        if name.starts_with('.') || name == "node_modules" || crate::precompress::is_copy(&name) {
            continue;
        }
        let rel = format!("{prefix}/{name}");
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&entry.path(), &rel, out)?;
        } else if kind.is_file() {
            out.push((rel, entry.path()));
        }
    }
    Ok(())
}

/// Writes the zip of `root`'s package to `out` and returns the names it holds. Entries are
/// sorted and carry a fixed date, so the same tree gives the same bytes.
pub fn write_zip(root: &Path, out: &Path) -> Result<Vec<String>> {
    let files = contents(root)?;
    if let Some(parent) = out.parent() {
        fs::create_dir_all(parent)?;
    }
    let tmp = out.with_extension("zip.part");
    let file = fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let mut zip = ZipWriter::new(file);
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644);
    for (name, path) in &files {
        let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        zip.start_file(name.as_str(), options)?;
        zip.write_all(&bytes)?;
    }
    zip.finish()?.sync_all()?;
    fs::rename(&tmp, out)?;
    Ok(files.into_iter().map(|(name, _)| name).collect())
}

/// `cargo xtask pack` after the widget build and the app check.
pub fn run(root: &Path) -> Result<()> {
    let out = root.join(OUTPUT);
    let names = write_zip(root, &out)?;
    let size = fs::metadata(&out)?.len();
    for name in &names {
        eprintln!("    {name}");
    }
    eprintln!(
        "    wrote {} ({} files, {:.1} KB): upload it as a custom app, or submit it",
        out.display(),
        names.len(),
        size as f64 / 1024.0
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appcheck::tests::{write, TempDir};
    use std::io::Read;

    #[test]
    fn the_zip_holds_the_app_package_and_nothing_else() {
        let dir = TempDir::new("pack");
        let root = &dir.0;
        for rel in [
            "manifest.json",
            "package.json",
            "package-lock.json",
            "vitest.config.js",
            "README.md",
            "Cargo.toml",
            "Cargo.lock",
            "app/index.html",
            "app/idv-widget-0123_bg.wasm",
            "app/idv-widget-0123_bg.wasm.br",
            "app/idv-widget-0123.js",
            "app/idv-widget-0123.js.gz",
            "app/style-0123.css",
            "app/snippets/idv-widget-0123/inline0.js",
            "app/styles/images/icon.svg",
            "app/.DS_Store",
            "config/iparams.json",
            "config/requests.json",
            "server/server.js",
            "server/Cargo.toml",
            "server/src/main.rs",
            "server/src/demo/fwclient.js",
            "tests/serverless/server.test.js",
            "tests/serverless/fixtures/onDealUpdate.json",
            "tests/serverless/node_modules/x/index.js",
            "tests/e2e/main.rs",
            "tests/lib.rs",
            "widget/src/lib.rs",
            "widget/index.html",
            "target/release/server",
            "node_modules/vitest/package.json",
            "coverage/unit/coverage-final.json",
            "xtask/src/main.rs",
        ] {
            write(root, rel, &format!("contents of {rel}\n"));
        }
        let out = root.join(OUTPUT);
        let names = write_zip(root, &out).unwrap();
        let expected = [
            "app/idv-widget-0123.js",
            "app/idv-widget-0123_bg.wasm",
            "app/index.html",
            "app/snippets/idv-widget-0123/inline0.js",
            "app/style-0123.css",
            "app/styles/images/icon.svg",
            "config/iparams.json",
            "config/requests.json",
            "manifest.json",
            "package.json",
            "server/server.js",
            "tests/serverless/fixtures/onDealUpdate.json",
            "tests/serverless/server.test.js",
            "vitest.config.js",
        ];
        assert_eq!(names, expected);

        // The archive itself lists exactly those entries, with their contents.
        let mut zip = zip::ZipArchive::new(fs::File::open(&out).unwrap()).unwrap();
        let mut listed: Vec<String> = (0..zip.len())
            .map(|i| zip.by_index(i).unwrap().name().unwrap().into_owned())
            .collect();
        listed.sort();
        assert_eq!(listed, expected);
        let mut manifest = String::new();
        zip.by_name("manifest.json")
            .unwrap()
            .read_to_string(&mut manifest)
            .unwrap();
        assert_eq!(manifest, "contents of manifest.json\n");

        // Same tree, same bytes.
        let first = fs::read(&out).unwrap();
        write_zip(root, &out).unwrap();
        assert_eq!(first, fs::read(&out).unwrap());
    }

    #[test]
    fn the_repository_packs_to_the_app_package_only() {
        let root = crate::root();
        if !root.join("app/index.html").is_file() {
            eprintln!("app/ is not built: skipping the pack of the repository");
            return;
        }
        let dir = TempDir::new("pack-repo");
        let names = write_zip(&root, &dir.0.join("app.zip")).unwrap();
        for must in [
            "manifest.json",
            "app/index.html",
            "app/styles/images/icon.svg",
            "config/iparams.json",
            "config/requests.json",
            "server/server.js",
            "tests/serverless/server.test.js",
            "package.json",
            "vitest.config.js",
        ] {
            assert!(
                names.iter().any(|n| n == must),
                "{must} missing: {names:#?}"
            );
        }
        for name in &names {
            let allowed = FILES.contains(&name.as_str())
                || DIRS.iter().any(|d| name.starts_with(&format!("{d}/")));
            assert!(allowed, "{name} does not belong in the package");
            assert!(!name.ends_with(".rs"), "{name}: no Rust sources");
        }
        assert!(names.iter().any(|n| n.ends_with(".wasm")), "{names:#?}");
    }

    #[test]
    fn an_unbuilt_app_is_refused() {
        let dir = TempDir::new("pack-unbuilt");
        write(&dir.0, "manifest.json", "{}");
        let err = write_zip(&dir.0, &dir.0.join(OUTPUT)).unwrap_err();
        assert!(err.to_string().contains("app/ is not built"), "{err}");
    }
}
