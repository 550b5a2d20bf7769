//! `cargo xtask`: the project's two promises and the steps behind them.
//!
//! - `cargo xtask demo` installs what is missing, builds the widget into `app/` and serves the
//!   offline demo.
//! - `cargo xtask test` installs what the tests need and runs every check and test.
//!
//! Installs are idempotent: each tool is checked first and only installed (with a line saying
//! what and why) when missing or at the wrong version.

mod appcheck;
mod hubspot;
mod moved_clock;
mod node;
mod pack;
mod precompress;
mod tools;

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "xtask", about = "Build, demo and test Freshsales IDV")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Install what is missing, build the widget and serve the offline demo.
    Demo {
        /// Address to serve on.
        #[arg(long, env = "IDV_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// Which 1Kosmos the demo tenant speaks: `kosmos` (the design contract) or `blockid`
        /// (the real BlockID wire format), each against its own simulator.
        #[arg(long, default_value = "kosmos", value_parser = ["kosmos", "blockid"])]
        provider: String,
    },
    /// Install what the tests need, then run formatting, lints and every test.
    ///
    /// The database tests run on SQLite and on PostgreSQL. Without a PostgreSQL server the run
    /// fails when CI is set or `--require-postgres` is given; otherwise the PostgreSQL half is
    /// left out and the test runner counts it as skipped.
    Test {
        /// Fail at once when no PostgreSQL server answers (implied when `CI` is set).
        #[arg(long, env = "IDV_REQUIRE_PG", value_parser = clap::builder::BoolishValueParser::new(), default_value_t = false)]
        require_postgres: bool,
    },
    /// Install the toolchain (wasm32 target, trunk, wasm-bindgen, binaryen, Chromium).
    Setup,
    /// Say which tools are installed, at which version, and which are missing; installs nothing.
    Doctor,
    /// Build the widget in release mode into `app/`.
    BuildWidget,
    /// Check the Freshworks app package (manifest, templates, iparams, pages, serverless).
    AppCheck,
    /// Check the HubSpot project in hubspot/ (npm ci if needed, tsc, ESLint, Vitest, hsmeta).
    HubspotCheck,
    /// Build the widget and write the Freshworks submission zip to target/freshsales-idv.zip,
    /// and the HubSpot project, with the origin of IDV_PUBLIC_URL, to target/hubspot-project.
    Pack,
    /// Run the benchmarks (release builds, wrk, headless Chromium) and write bench/RESULTS.md.
    Bench {
        /// Also on a database of a year's use (millions of rows, loaded in bulk): a few minutes
        /// more.
        #[arg(long)]
        volume: bool,
    },
}

/// The workspace root (xtask lives one level below it).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits inside the workspace")
        .to_path_buf()
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    std::env::set_current_dir(root())?;
    match cli.command {
        Cmd::Demo { bind, provider } => demo(&bind, &provider),
        Cmd::Test { require_postgres } => test(require_postgres || in_ci()),
        Cmd::Setup => {
            let started = Instant::now();
            let timings = tools::ensure_tools(true)?;
            print_timings("setup", started, &timings);
            Ok(())
        }
        Cmd::Doctor => tools::doctor(),
        Cmd::BuildWidget => {
            tools::ensure_tools(false)?;
            build_widget()
        }
        Cmd::AppCheck => {
            eprintln!("==> Freshworks app check");
            appcheck::run(&root())
        }
        Cmd::HubspotCheck => {
            eprintln!("==> HubSpot project checks (tsc, ESLint, Vitest, hsmeta)");
            hubspot::checks(&root())
        }
        Cmd::Bench { volume } => bench(volume),
        Cmd::Pack => {
            tools::ensure_tools(false)?;
            build_widget()?;
            eprintln!("==> Freshworks app check");
            appcheck::run(&root())?;
            eprintln!("==> packing the Freshworks app");
            pack::run(&root())?;
            eprintln!("==> the HubSpot project folder for `hs project upload`");
            hubspot::pack(&root())
        }
    }
}

/// Runs a command, streaming its output; fails on a non-zero exit.
pub fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}").replace('"', "");
    let status = cmd.status().with_context(|| format!("starting {shown}"))?;
    if !status.success() {
        bail!("{shown} failed ({status})");
    }
    Ok(())
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// `trunk build --release` into target/widget-dist, then copied into the Freshworks `app/`.
fn build_widget() -> Result<()> {
    eprintln!("==> building the widget (trunk, release, wasm-opt -Oz)");
    // trunk runs offline (no downloads), which makes cargo offline too: fetch first.
    run(cargo().args(["fetch", "--locked"]))?;
    run(Command::new("trunk")
        .args([
            "build",
            "--release",
            "--offline",
            "--cargo-profile",
            "wasm-release",
        ])
        .current_dir(root().join("widget"))
        .env("PATH", tools::tool_path())
        .env("TRUNK_SKIP_VERSION_CHECK", "true")
        .env("NO_COLOR", "true"))?;
    let dist = root().join("target/widget-dist");
    let app = root().join("app");
    // Remove the previous build's files (hashed names), keep committed assets such as icons.
    for entry in std::fs::read_dir(&app)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let built = name == "index.html"
            || name == "snippets"
            || name == "locales"
            || precompress::is_copy(&name)
            || [".js", ".wasm", ".css"]
                .iter()
                .any(|ext| name.ends_with(ext));
        if built {
            if path.is_dir() {
                std::fs::remove_dir_all(&path)?;
            } else {
                std::fs::remove_file(&path)?;
            }
        }
    }
    // Brotli and gzip copies of the built files, for the backend to send to the HubSpot modal.
    let compressed = precompress::beside(&dist)?;
    copy_tree(&dist, &app)?;
    eprintln!(
        "    widget built into {} ({} files with brotli and gzip copies)",
        app.display(),
        compressed.len()
    );
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Where a command's time went: each install and each step, then the total.
fn print_timings(what: &str, started: Instant, timings: &[tools::Timing]) {
    eprintln!(
        "\n==> {what}: where the time went ({:.0} s in all)",
        started.elapsed().as_secs_f64()
    );
    for t in timings {
        eprintln!("    {:<84} {:>6.1} s", t.name, t.secs);
    }
}

fn timed_step(
    timings: &mut Vec<tools::Timing>,
    name: &str,
    f: impl FnOnce() -> Result<()>,
) -> Result<()> {
    let t = Instant::now();
    let result = f();
    timings.push(tools::Timing {
        name: name.to_string(),
        secs: t.elapsed().as_secs_f64(),
    });
    result
}

fn demo(bind: &str, provider: &str) -> Result<()> {
    let started = Instant::now();
    let mut timings = tools::ensure_tools(false)?;
    timed_step(&mut timings, "widget release build (trunk)", build_widget)?;
    timed_step(
        &mut timings,
        "the HubSpot cards' stand-in host (esbuild)",
        || hubspot::build_host(&root()),
    )?;
    // The demo runs on the simulator twins (the `twins` feature); a production build is
    // `cargo build --release -p idv-server`, without them. (The benchmarks get the feature
    // through idv-bench's dependency.)
    timed_step(&mut timings, "backend release build", || {
        build_release(&["--features", "twins"])
    })?;
    print_timings("demo", started, &timings);
    let server = root().join("target/release/server");
    let mut cmd = Command::new(server);
    cmd.args([
        "demo",
        "--bind",
        bind,
        "--app-dir",
        "app",
        "--hubspot-host-dir",
        hubspot::HOST_OUTPUT,
        "--provider",
        provider,
    ]);
    // Hand the terminal to the server so Ctrl-C reaches it alone and it shuts down cleanly.
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let err = cmd.exec();
        Err(err).context("starting the demo server")
    }
    #[cfg(not(unix))]
    run(&mut cmd)
}

/// `npm ci` when node_modules is missing or was installed from another package-lock.json, then
/// Vitest with the coverage thresholds of vitest.config.js (the ones `fdk pack` applies).
fn serverless_tests() -> Result<()> {
    let root = root();
    node::install(&root, "the serverless tests")?;
    run(Command::new("npx")
        .args(["--no-install", "vitest", "run", "--coverage"])
        .current_dir(&root))
}

/// The release `server` binary, plus the binaries of any other packages named.
fn build_release(more: &[&str]) -> Result<()> {
    eprintln!("==> building the backend (release)");
    run(cargo()
        .args(["build", "--release", "--locked", "-p", "idv-server"])
        .args(more)
        // Every binary of the packages named (`--bin` would narrow all of them to one).
        .arg("--bins"))
}

fn bench(volume: bool) -> Result<()> {
    tools::ensure_tools(true)?;
    tools::ensure_wrk()?;
    build_widget()?;
    // The bench itself (and the demo whose first paint it times, with the simulators), then
    // the server as it ships (`[profile.dist]`, without them).
    build_release(&["-p", "idv-bench"])?;
    eprintln!(
        "==> building the server as it ships (profile dist: about nine minutes the first time)"
    );
    run(cargo().args([
        "build",
        "--profile",
        "dist",
        "--locked",
        "-p",
        "idv-server",
        "--bin",
        "server",
    ]))?;
    let mut cmd = Command::new(root().join("target/release/idv-bench"));
    cmd.arg("--server")
        .arg(root().join("target/dist/server"))
        .arg("--demo-server")
        .arg(root().join("target/release/server"))
        .arg("--app")
        .arg(root().join("app"))
        .arg("--out")
        .arg(root().join("bench/RESULTS.md"))
        .env("CHROMEDRIVER", tools::CHROMEDRIVER);
    if volume {
        cmd.arg("--volume");
    }
    match tools::postgres() {
        Some(url) => {
            cmd.arg("--postgres").arg(url);
        }
        None => {
            eprintln!("    PostgreSQL: SKIPPED (no DATABASE_URL and nothing on 127.0.0.1:5432)")
        }
    }
    eprintln!(
        "==> benchmarks (about {})",
        if volume {
            "eleven minutes"
        } else {
            "four minutes"
        }
    );
    run(&mut cmd)
}

/// The widget's wasm-bindgen tests in headless Chromium; with `moved`, built with the clock moved.
fn widget_browser_tests(moved: Option<i64>) -> Result<()> {
    let mut cmd = cargo();
    cmd.args([
        "test",
        "-p",
        "idv-widget",
        "--target",
        "wasm32-unknown-unknown",
        "--locked",
    ])
    .env("PATH", tools::tool_path())
    .env("CHROMEDRIVER", tools::CHROMEDRIVER);
    match moved {
        Some(ms) => cmd
            .env("IDV_CLOCK_OFFSET_MS", ms.to_string())
            .env("TZ", moved_clock::TZ),
        None => cmd.env_remove("IDV_CLOCK_OFFSET_MS"),
    };
    run(&mut cmd)
}

struct Step {
    name: String,
    ok: bool,
    secs: f64,
}

/// Whether this runs in CI (`CI` set to anything but `false` or `0`, as CI services set it).
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// The tests that need PostgreSQL: every `::postgres` variant of the `both!` matrix, every test
/// named after PostgreSQL, and the replicas suite (replicas share one PostgreSQL database). When
/// no server answers and none is required, nextest leaves these out and counts them as skipped.
const POSTGRES_TESTS: &str = "test(/postgres/) | test(/^reliability::replicas::/)";

/// The suites the moved-clock pass leaves out: load, faults, replicas and crashes, which measure
/// volumes and retries (durations, not dates) and take two thirds of the pass. Every test that
/// reads a date, a validity or a schedule's moment runs in both passes.
const CLOCK_FREE_TESTS: &str = "test(/^reliability::(faults|bulk|replicas|processes)::/)";

fn test(require_postgres: bool) -> Result<()> {
    let started = Instant::now();
    // Said first, before any install or build: a run that must cover PostgreSQL and cannot.
    let pg = tools::postgres();
    if pg.is_none() && require_postgres {
        bail!(
            "no PostgreSQL server: DATABASE_URL is not a postgres:// URL and nothing answers on \
             127.0.0.1:5432, but the run must cover PostgreSQL ({}). Start a server (Debian: \
             `apt-get install postgresql && service postgresql start`, trust auth for local \
             connections) or point DATABASE_URL at one.",
            if in_ci() {
                "CI is set"
            } else {
                "--require-postgres / IDV_REQUIRE_PG"
            }
        );
    }
    let installs = tools::ensure_tools(true)?;
    let mut steps: Vec<Step> = installs
        .into_iter()
        .map(|t| Step {
            name: t.name,
            ok: true,
            secs: t.secs,
        })
        .collect();
    let mut step = |name: &'static str, f: &mut dyn FnMut() -> Result<()>| {
        eprintln!("\n==> {name}");
        let t = Instant::now();
        let result = f();
        if let Err(e) = &result {
            eprintln!("!!! {name}: {e:#}");
        }
        steps.push(Step {
            name: name.to_string(),
            ok: result.is_ok(),
            secs: t.elapsed().as_secs_f64(),
        });
    };

    step("format (cargo fmt --check)", &mut || {
        run(cargo().args(["fmt", "--all", "--check"]))
    });
    step("lints (cargo clippy, host)", &mut || {
        run(cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ]))
    });
    step("lints (cargo clippy, widget on wasm32)", &mut || {
        run(cargo().args([
            "clippy",
            "-p",
            "idv-widget",
            "--target",
            "wasm32-unknown-unknown",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ]))
    });
    step("widget release build", &mut build_widget);
    step(
        "widget tests in headless Chromium (wasm-bindgen-test)",
        &mut || widget_browser_tests(None),
    );

    step(
        "Freshworks app check (manifest, templates, iparams, pages, serverless)",
        &mut || appcheck::run(&root()),
    );
    step(
        "serverless unit tests (Vitest, coverage >= 80 %)",
        &mut serverless_tests,
    );
    step(
        "HubSpot project checks (tsc, ESLint, Vitest, hsmeta; the demo's card host)",
        &mut || hubspot::checks(&root()),
    );

    let nextest = |moved: Option<i64>| -> Result<()> {
        let mut cmd = cargo();
        cmd.args([
            "nextest",
            "run",
            "--workspace",
            "--locked",
            "--no-fail-fast",
        ])
        .env("IDV_E2E", "1")
        .env("CHROMEDRIVER", tools::CHROMEDRIVER)
        .env("PATH", tools::tool_path());
        match moved {
            Some(ms) => cmd
                .env("IDV_CLOCK_OFFSET_MS", ms.to_string())
                .env("TZ", moved_clock::TZ),
            None => cmd.env_remove("IDV_CLOCK_OFFSET_MS"),
        };
        let mut left_out = Vec::new();
        match &pg {
            Some(url) => {
                cmd.env("IDV_REQUIRE_PG", "1").env("DATABASE_URL", url);
            }
            None => {
                cmd.env_remove("DATABASE_URL");
                left_out.push(POSTGRES_TESTS);
            }
        }
        if moved.is_some() {
            left_out.push(CLOCK_FREE_TESTS);
        }
        if !left_out.is_empty() {
            let filter = left_out
                .iter()
                .map(|e| format!("not ({e})"))
                .collect::<Vec<_>>()
                .join(" and ");
            cmd.args(["-E", &filter]);
        }
        run(&mut cmd)
    };
    step(
        "Rust tests: unit, integration (SQLite + PostgreSQL), end-to-end (cargo nextest)",
        &mut || nextest(None),
    );

    // The same tests with the clock about a year ahead, at a DST change (see moved_clock.rs).
    let offset = moved_clock::offset_ms(time::OffsetDateTime::now_utc());
    eprintln!(
        "\n    the moved clock: {} ({} ms ahead), TZ={}",
        moved_clock::target(time::OffsetDateTime::now_utc()),
        offset,
        moved_clock::TZ
    );
    step(
        "widget tests in headless Chromium, clock moved a year ahead",
        &mut || widget_browser_tests(Some(offset)),
    );
    step(
        "Rust tests, clock moved a year ahead, all but the load and fault suites (cargo nextest)",
        &mut || nextest(Some(offset)),
    );

    eprintln!(
        "\n==> summary ({:.0} s in all)",
        started.elapsed().as_secs_f64()
    );
    for s in &steps {
        eprintln!(
            "    {} {:<80} {:>6.1} s",
            if s.ok { "ok  " } else { "FAIL" },
            s.name,
            s.secs
        );
    }
    match &pg {
        Some(_) => eprintln!("    PostgreSQL: the suite ran on SQLite and on PostgreSQL"),
        None => eprintln!(
            "    PostgreSQL: SKIPPED (no DATABASE_URL and nothing on 127.0.0.1:5432): the \
             PostgreSQL tests are counted as skipped in nextest's summary; CI and \
             --require-postgres fail instead"
        ),
    }
    let failed: Vec<_> = steps
        .iter()
        .filter(|s| !s.ok)
        .map(|s| s.name.as_str())
        .collect();
    if failed.is_empty() {
        eprintln!("    every step succeeded");
        Ok(())
    } else {
        bail!("{} step(s) failed: {}", failed.len(), failed.join("; "))
    }
}
