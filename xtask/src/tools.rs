//! Idempotent installation of the toolchain. Each `ensure_*` checks first and installs only
//! what is missing, saying what and why.

use std::{
    net::{SocketAddr, TcpStream},
    path::PathBuf,
    process::{Command, Stdio},
    time::Duration,
};

use anyhow::{bail, Context, Result};

use crate::{root, run};

/// trunk 0.22 needs rustc ≥ 1.96.1; 0.21.14 builds on 1.95.
const TRUNK_VERSION: &str = "0.21.14";
/// Debian's binaryen (108) miscompiles `-Oz` for reference-types wasm; npm's 132 is correct.
const BINARYEN_VERSION: &str = "132.0.0";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

fn cargo_bin() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from("/root/.cargo"))
        .join("bin")
}

/// Kept outside the checkout so fresh clones on the same machine reuse it.
fn binaryen_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/root"))
        .join(".cache/freshsales-idv/binaryen")
}

/// PATH with npm's binaryen and cargo's bin folder first.
pub fn tool_path() -> String {
    let mut parts = vec![
        binaryen_dir()
            .join("node_modules/.bin")
            .display()
            .to_string(),
        cargo_bin().display().to_string(),
    ];
    if let Ok(p) = std::env::var("PATH") {
        parts.push(p);
    }
    parts.join(":")
}

/// `program --version`'s output, if the program runs.
fn version_of(program: &str) -> Option<String> {
    let out = Command::new(program)
        .arg("--version")
        .env("PATH", tool_path())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The wasm-bindgen version locked in Cargo.lock (the CLI must match it exactly).
pub fn locked_wasm_bindgen() -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).context("reading Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\"" {
            if let Some(v) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = "))
            {
                return Ok(v.trim_matches('"').to_string());
            }
        }
    }
    bail!("wasm-bindgen is not in Cargo.lock")
}

fn cargo_install(args: &[&str], why: &str) -> Result<()> {
    eprintln!("    installing {} ({why})", args.join(" "));
    run(Command::new("cargo").arg("install").args(args))
}

/// wasm32 target, trunk, wasm-bindgen-cli, binaryen: what building the widget needs.
pub fn ensure_build_tools() -> Result<()> {
    let targets = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("running rustup")?;
    if !String::from_utf8_lossy(&targets.stdout).contains("wasm32-unknown-unknown") {
        eprintln!("    installing the wasm32-unknown-unknown target (the widget is WebAssembly)");
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }

    if !version_of("trunk").is_some_and(|v| v.ends_with(TRUNK_VERSION)) {
        cargo_install(
            &["trunk", "--version", TRUNK_VERSION, "--locked"],
            "builds the widget; 0.22 needs a newer rustc",
        )?;
    }

    let wb = locked_wasm_bindgen()?;
    let have_cli = version_of("wasm-bindgen").is_some_and(|v| v.ends_with(&wb));
    let have_runner = version_of("wasm-bindgen-test-runner").is_some_and(|v| v.ends_with(&wb));
    if !(have_cli && have_runner) {
        // No --locked: the CLI's own lock file wants a crate version the registry lacks.
        cargo_install(
            &["wasm-bindgen-cli", "--version", &wb, "--force"],
            "trunk and the browser tests need the CLI at exactly Cargo.lock's version",
        )?;
    }

    let wasm_opt = binaryen_dir().join("node_modules/.bin/wasm-opt");
    let have_opt = Command::new(&wasm_opt)
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(&BINARYEN_VERSION[..3]));
    if !have_opt {
        ensure_apt(&[("/usr/bin/npm", "npm")], "npm installs binaryen")?;
        eprintln!("    installing binaryen@{BINARYEN_VERSION} from npm (wasm-opt -Oz; Debian's 108 breaks the wasm)");
        std::fs::create_dir_all(binaryen_dir())?;
        run(Command::new("npm")
            .args(["install", "--prefix"])
            .arg(binaryen_dir())
            .args(["--no-audit", "--no-fund", "--silent"])
            .arg(format!("binaryen@{BINARYEN_VERSION}")))?;
    }
    Ok(())
}

/// Chromium and ChromeDriver from Debian, for the browser tests.
pub fn ensure_browser() -> Result<()> {
    ensure_apt(
        &[(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")],
        "the widget and end-to-end tests run in headless Chromium",
    )
}

/// wrk from Debian, the load generator of the benchmarks.
pub fn ensure_wrk() -> Result<()> {
    ensure_apt(
        &[("/usr/bin/wrk", "wrk")],
        "the benchmarks load the server with wrk",
    )
}

/// Installs Debian packages whose marker file is missing.
fn ensure_apt(wanted: &[(&str, &str)], why: &str) -> Result<()> {
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|(path, _)| !std::path::Path::new(path).exists())
        .map(|(_, pkg)| *pkg)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("    installing {} with apt-get ({why})", missing.join(" "));
    let sudo = !is_root();
    let apt = |args: &[&str]| {
        let mut c = if sudo {
            Command::new("sudo")
        } else {
            Command::new("apt-get")
        };
        if sudo {
            c.arg("apt-get");
        }
        c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    run(&mut apt(&["update", "-qq"]))?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend(missing);
    run(&mut apt(&args))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The PostgreSQL server the tests may use: `DATABASE_URL` if it is one, else 127.0.0.1:5432
/// if something answers there. Also drops test databases left by earlier runs.
pub fn postgres() -> Option<String> {
    let url = match std::env::var("DATABASE_URL") {
        Ok(u) if u.starts_with("postgres") => u,
        _ => {
            let up = TcpStream::connect_timeout(
                &SocketAddr::from(([127, 0, 0, 1], 5432)),
                Duration::from_millis(500),
            )
            .is_ok();
            if !up {
                return None;
            }
            "postgres://postgres@127.0.0.1:5432/postgres".to_string()
        }
    };
    drop_stale_test_databases(&url);
    Some(url)
}

fn drop_stale_test_databases(url: &str) {
    let Ok(out) = Command::new("psql")
        .args([
            url,
            "-Atc",
            "SELECT datname FROM pg_database WHERE datname LIKE 'idvtest\\_%'",
        ])
        .stderr(Stdio::null())
        .output()
    else {
        return;
    };
    for name in String::from_utf8_lossy(&out.stdout).lines() {
        let _ = Command::new("psql")
            .args([
                url,
                "-qc",
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            ])
            .stderr(Stdio::null())
            .stdout(Stdio::null())
            .status();
    }
}
