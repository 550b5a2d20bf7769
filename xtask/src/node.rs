//! Node.js for the npm checks: its version, and `npm ci` in a folder whenever its node_modules
//! is missing or was installed from another package-lock.json.

use std::{path::Path, process::Command};

use anyhow::{bail, Context, Result};

use crate::run;

/// Node's version; the checks need 20.19 or later (Vite under Vitest). `what` names the checks.
pub fn version(what: &str) -> Result<String> {
    let version = Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .with_context(|| format!("Node.js is needed for {what}: apt-get install nodejs npm"))?;
    let mut parts = version.trim_start_matches('v').split('.');
    let major: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    if (major, minor) < (20, 19) {
        bail!("{what} need Node.js 20.19 or later, this machine has {version}");
    }
    Ok(version)
}

/// `npm ci` in `dir` unless its node_modules was installed from the same package-lock.json.
pub fn install(dir: &Path, what: &str) -> Result<()> {
    let version = version(what)?;
    let lock = dir.join("package-lock.json");
    let stamp = dir.join("node_modules/.idv-package-lock.json");
    let wanted = std::fs::read(&lock).with_context(|| format!("reading {}", lock.display()))?;
    if std::fs::read(&stamp).ok().as_deref() != Some(wanted.as_slice()) {
        eprintln!(
            "    installing the packages of {} for {what} (npm ci; node {version})",
            lock.display()
        );
        run(Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(dir))?;
        std::fs::write(&stamp, &wanted)?;
    }
    Ok(())
}
