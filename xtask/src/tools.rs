//! Idempotent installation of the toolchain. Each `ensure_*` checks first and installs only
//! what is missing, saying what and why.

use std::{
    net::{SocketAddr, TcpStream},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};

use crate::{root, run};

/// trunk 0.22 needs rustc ≥ 1.96.1; 0.21.14 builds on 1.95.
const TRUNK_VERSION: &str = "0.21.14";
/// Debian's binaryen (108) miscompiles `-Oz` for reference-types wasm; npm's 132 is correct.
const BINARYEN_VERSION: &str = "132.0.0";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// A Japanese font (IPA Gothic, 3.5 MB): without one, the Japanese widget's screenshots show
/// boxes where its text is.
const JAPANESE_FONT: &str = "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf";

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

/// How long one install or build step took, for the closing summary of each command.
pub struct Timing {
    pub name: String,
    pub secs: f64,
}

type Job<'a> = (
    &'static str,
    Box<dyn FnOnce() -> Result<Vec<Timing>> + Send + 'a>,
);

/// Where the output of the background installs goes (shown when one fails).
fn log_dir() -> PathBuf {
    root().join("target/setup-logs")
}

/// `cargo install` with a quick profile: the tools' own release profiles (fat LTO, one codegen
/// unit) make a cold install several times longer, for tools that run seconds per build. Config
/// profiles (`CARGO_PROFILE_RELEASE_*`) take precedence over the package's manifest profile.
fn cargo_install(name: &str, args: &[&str], opt_level: &str, why: &str) -> Result<Timing> {
    let started = Instant::now();
    std::fs::create_dir_all(log_dir())?;
    let log_path = log_dir().join(format!("{name}.log"));
    eprintln!(
        "    installing {} ({why}); log: {}",
        args.join(" "),
        log_path.display()
    );
    let log = std::fs::File::create(&log_path)?;
    let status = Command::new("cargo")
        .arg("install")
        .args(args)
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", opt_level)
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_INCREMENTAL", "false")
        .env("CARGO_TERM_PROGRESS_WHEN", "never")
        .stdout(log.try_clone()?)
        .stderr(log)
        .status()
        .context("starting cargo install")?;
    if !status.success() {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        for line in tail.iter().rev() {
            eprintln!("    | {line}");
        }
        bail!("cargo install {} failed ({status})", args.join(" "));
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!("    installed {name} in {secs:.0} s");
    Ok(Timing {
        name: format!("install {name}"),
        secs,
    })
}

/// Runs independent installs side by side (cargo compiles while apt and npm download) and
/// reports how long each took.
fn in_parallel(jobs: Vec<Job<'_>>) -> Result<Vec<Timing>> {
    let results: Vec<(&str, Result<Vec<Timing>>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .into_iter()
            .map(|(name, job)| (name, scope.spawn(job)))
            .collect();
        handles
            .into_iter()
            .map(|(name, h)| {
                let result = h
                    .join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("the install thread panicked")));
                (name, result)
            })
            .collect()
    });
    let mut timings = Vec::new();
    let mut failed = Vec::new();
    for (name, result) in results {
        match result {
            Ok(t) => timings.extend(t),
            Err(e) => {
                eprintln!("!!! {name}: {e:#}");
                failed.push(name);
            }
        }
    }
    if !failed.is_empty() {
        bail!("could not install: {}", failed.join(", "));
    }
    Ok(timings)
}

fn timed(name: &str, f: impl FnOnce() -> Result<()>) -> Result<Vec<Timing>> {
    let started = Instant::now();
    f()?;
    Ok(vec![Timing {
        name: name.to_string(),
        secs: started.elapsed().as_secs_f64(),
    }])
}

fn have_wasm_target() -> bool {
    Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("wasm32-unknown-unknown"))
}

fn have_trunk() -> bool {
    version_of("trunk").is_some_and(|v| v.ends_with(TRUNK_VERSION))
}

fn have_wasm_bindgen(wb: &str) -> bool {
    ["wasm-bindgen", "wasm-bindgen-test-runner"]
        .iter()
        .all(|bin| version_of(bin).is_some_and(|v| v.ends_with(wb)))
}

fn wasm_opt_version() -> Option<String> {
    let out = Command::new(binaryen_dir().join("node_modules/.bin/wasm-opt"))
        .arg("--version")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn have_binaryen() -> bool {
    wasm_opt_version().is_some_and(|v| v.contains(&BINARYEN_VERSION[..3]))
}

fn have_browser() -> bool {
    [CHROMIUM, CHROMEDRIVER, JAPANESE_FONT]
        .iter()
        .all(|p| Path::new(p).exists())
}

/// What building the widget needs (wasm32 target, trunk, wasm-bindgen-cli, binaryen) and, with
/// `browser`, Chromium and ChromeDriver: every missing piece is installed, side by side.
pub fn ensure_tools(browser: bool) -> Result<Vec<Timing>> {
    let wb = locked_wasm_bindgen()?;
    let mut jobs: Vec<Job<'_>> = Vec::new();
    if !have_wasm_target() {
        jobs.push((
            "wasm32 target",
            Box::new(|| {
                timed("install the wasm32 target", || {
                    eprintln!("    installing the wasm32-unknown-unknown target (the widget is WebAssembly)");
                    run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
                })
            }),
        ));
    }
    // Two compiles at once on two cores: the link and build-script gaps of one fill the other.
    if !have_trunk() {
        jobs.push((
            "trunk",
            Box::new(|| {
                // trunk's own work is spawning cargo and wasm-bindgen: opt-level 0 is enough.
                let args = ["trunk", "--version", TRUNK_VERSION, "--locked"];
                let why = "builds the widget; 0.22 needs a newer rustc";
                cargo_install("trunk", &args, "0", why).map(|t| vec![t])
            }),
        ));
    }
    if !have_wasm_bindgen(&wb) {
        let wb = wb.clone();
        jobs.push((
            "wasm-bindgen-cli",
            Box::new(move || {
                // No --locked: the CLI's own lock file wants a crate version the registry lacks.
                // opt-level 1: it rewrites every wasm the tests build, so it must not crawl.
                let args = ["wasm-bindgen-cli", "--version", &wb, "--force"];
                let why =
                    "trunk and the browser tests need the CLI at exactly Cargo.lock's version";
                cargo_install("wasm-bindgen-cli", &args, "1", why).map(|t| vec![t])
            }),
        ));
    }
    if !have_binaryen() {
        jobs.push((
            "binaryen",
            Box::new(|| {
                timed("install binaryen (npm)", || {
                    ensure_apt(&[("/usr/bin/npm", "npm")], "npm installs binaryen")?;
                    eprintln!("    installing binaryen@{BINARYEN_VERSION} from npm (wasm-opt -Oz; Debian's 108 breaks the wasm)");
                    std::fs::create_dir_all(binaryen_dir())?;
                    run(Command::new("npm")
                        .args(["install", "--prefix"])
                        .arg(binaryen_dir())
                        .args(["--no-audit", "--no-fund", "--silent"])
                        .arg(format!("binaryen@{BINARYEN_VERSION}")))
                })
            }),
        ));
    }
    if browser && !have_browser() {
        jobs.push((
            "chromium",
            Box::new(|| timed("install chromium (apt)", ensure_browser)),
        ));
    }
    in_parallel(jobs)
}

/// `cargo xtask doctor`: which tools are here and at which version; installs nothing.
pub fn doctor() -> Result<()> {
    let wb = locked_wasm_bindgen()?;
    let mut missing = 0;
    let mut line = |name: &str, found: Option<String>, wanted: &str, ok: bool, why: &str| {
        let optional = wanted == "optional" || why.contains("benchmarks only");
        let state = match (&found, ok) {
            (Some(_), true) => "ok     ",
            (Some(_), false) => "WRONG  ",
            (None, _) => "MISSING",
        };
        if !ok && !optional {
            missing += 1;
        }
        let found = found.unwrap_or_else(|| "-".into());
        eprintln!("{state} {name:<26} {found:<34} wanted {wanted:<9} {why}");
    };
    let target = have_wasm_target();
    let t = target.then(|| "installed".to_string());
    line(
        "wasm32-unknown-unknown",
        t,
        "any",
        target,
        "the widget is WebAssembly",
    );
    line(
        "trunk",
        version_of("trunk"),
        TRUNK_VERSION,
        have_trunk(),
        "builds the widget",
    );
    for bin in ["wasm-bindgen", "wasm-bindgen-test-runner"] {
        let v = version_of(bin);
        let ok = v.as_deref().is_some_and(|v| v.ends_with(&wb));
        line(bin, v, &wb, ok, "equal to Cargo.lock's wasm-bindgen");
    }
    let opt = wasm_opt_version();
    line(
        "wasm-opt (npm binaryen)",
        opt,
        BINARYEN_VERSION,
        have_binaryen(),
        "-Oz; never Debian's 108",
    );
    for (name, path, why) in [
        ("chromium", CHROMIUM, "browser and end-to-end tests"),
        ("chromedriver", CHROMEDRIVER, "browser and end-to-end tests"),
        ("wrk", "/usr/bin/wrk", "benchmarks only"),
    ] {
        let v = Path::new(path)
            .exists()
            .then(|| version_of(path).unwrap_or_else(|| path.into()));
        let ok = v.is_some();
        line(name, v, "Debian", ok, why);
    }
    let node = version_of("node");
    let ok = node.is_some();
    line("node", node, ">= 20.19", ok, "the serverless tests");
    let nextest = Command::new("cargo")
        .args(["nextest", "--version"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        });
    let ok = nextest.is_some();
    line("cargo-nextest", nextest, "any", ok, "runs the Rust tests");
    let pg = postgres_reachable();
    let v = pg.then(|| "answers".to_string());
    line(
        "PostgreSQL",
        v,
        "optional",
        pg,
        "else the suite runs on SQLite only",
    );
    eprintln!("{missing} needed tool(s) missing or at the wrong version; `cargo xtask setup` installs them");
    Ok(())
}

/// Chromium and ChromeDriver from Debian, for the browser tests.
pub fn ensure_browser() -> Result<()> {
    ensure_apt(
        &[
            (CHROMIUM, "chromium"),
            (CHROMEDRIVER, "chromium-driver"),
            (JAPANESE_FONT, "fonts-ipafont-gothic"),
        ],
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
            if !postgres_reachable() {
                return None;
            }
            "postgres://postgres@127.0.0.1:5432/postgres".to_string()
        }
    };
    drop_stale_test_databases(&url);
    Some(url)
}

fn postgres_reachable() -> bool {
    std::env::var("DATABASE_URL").is_ok_and(|u| u.starts_with("postgres"))
        || TcpStream::connect_timeout(
            &SocketAddr::from(([127, 0, 0, 1], 5432)),
            Duration::from_millis(500),
        )
        .is_ok()
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
                // Not forced: a database still in use belongs to a run going on beside this one.
                &format!("DROP DATABASE IF EXISTS {name}"),
            ])
            .stderr(Stdio::null())
            .stdout(Stdio::null())
            .status();
    }
}
