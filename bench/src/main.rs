//! `idv-bench`: the figures of `bench/RESULTS.md`, each beside a floor measured in the same run.
//!
//! Run through `cargo xtask bench` (which builds the release server and widget and installs
//! `wrk`). Every load is bounded in time and sent to loopback only.

use std::{
    fmt::Write as _,
    io::Write as _,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use axum::{routing::get, Json, Router};
use clap::Parser;
use idv_server::{
    crypto::Sealer,
    http::auth,
    services::{tenant, Settings},
    sim::{
        freshsales::FreshsalesSim,
        kosmos::{KosmosFaults, KosmosSim, Outcome},
        Served,
    },
    testkit::Backend,
    webhook, Config, Running, Store,
};
use serde_json::json;

#[derive(Parser)]
struct Args {
    /// The release `server` binary.
    #[arg(long)]
    server: PathBuf,
    /// The built Freshworks `app/` folder.
    #[arg(long)]
    app: PathBuf,
    /// Where to write the results.
    #[arg(long)]
    out: PathBuf,
    /// PostgreSQL admin URL (a database is created for the run); none: SQLite only.
    #[arg(long)]
    postgres: Option<String>,
    /// Seconds of load per wrk run.
    #[arg(long, default_value_t = 8)]
    seconds: u32,
    /// Concurrent connections per wrk run.
    #[arg(long, default_value_t = 32)]
    connections: u32,
}

const TENANT: &str = "bench";
const KS_SECRET: &str = "bench-kosmos-secret";
const FS_KEY: &str = "bench-fs-key";
const KS_KEY: &str = "bench-ks-key";

/// One line of the results table.
struct Row {
    what: String,
    value: String,
    floor: String,
    target: String,
    verdict: String,
}

fn verdict(ok: bool) -> String {
    if ok { "met" } else { "MISSED" }.to_string()
}

/// "met", or which of several targets were missed.
fn verdicts(parts: &[(&str, bool)]) -> String {
    let missed: Vec<&str> = parts
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(name, _)| *name)
        .collect();
    if missed.is_empty() {
        "met".into()
    } else {
        format!("MISSED {}", missed.join(", "))
    }
}

/// What wrk reported.
#[derive(Debug, Default, Clone)]
struct Load {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    non_2xx: u64,
}

fn parse_ms(s: &str) -> Option<f64> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| c.is_ascii_alphabetic())?);
    let n: f64 = num.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => return None,
    })
}

fn parse_wrk(out: &str) -> Result<Load> {
    let mut l = Load::default();
    for line in out.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("Requests/sec:") {
            l.rps = v.trim().parse()?;
        } else if let Some(v) = line.strip_prefix("50%") {
            l.p50_ms = parse_ms(v).context("p50")?;
        } else if let Some(v) = line.strip_prefix("99%") {
            l.p99_ms = parse_ms(v).context("p99")?;
        } else if let Some(v) = line.strip_prefix("Non-2xx or 3xx responses:") {
            l.non_2xx = v.trim().parse()?;
        }
    }
    if l.rps == 0.0 {
        bail!("wrk printed no throughput:\n{out}");
    }
    Ok(l)
}

fn wrk(args: &Args, url: &str, extra: &[&str], env: &[(&str, String)]) -> Result<(Load, String)> {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t2",
        &format!("-c{}", args.connections),
        &format!("-d{}s", args.seconds),
        "--latency",
    ])
    .args(extra)
    .arg(url);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let shown = format!(
        "wrk -t2 -c{} -d{}s --latency {} {url}",
        args.connections,
        args.seconds,
        extra.join(" ")
    );
    let out = cmd.output().context("running wrk (apt-get install wrk)")?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    Ok((parse_wrk(&text)?, shown))
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Samples a process's peak RSS until stopped.
struct RssPeak {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    handle: std::thread::JoinHandle<()>,
}

impl RssPeak {
    fn start(pid: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let (s, p) = (stop.clone(), peak.clone());
        let handle = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(rss_kb(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Self { stop, peak, handle }
    }

    fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.handle.join();
        self.peak.load(Ordering::Relaxed)
    }
}

/// The floor: a bare axum handler answering the same shapes from memory.
async fn floor() -> Result<Served> {
    let body =
        json!({"contact_id": 1001, "status": "verified", "liveid_enrolled": true, "history": []});
    let router = Router::new().route(
        "/floor",
        get(move || {
            let b = body.clone();
            async move { Json(b) }
        })
        .post(|| async {
            (
                axum::http::StatusCode::ACCEPTED,
                Json(json!({"accepted": true})),
            )
        }),
    );
    Served::start(([127, 0, 0, 1], 0).into(), router).await
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn wait_ready(url: &str) -> Result<()> {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !http
        .get(format!("{url}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
    {
        if Instant::now() > deadline {
            bail!("the server at {url} did not become ready");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

struct ServerUnderTest {
    child: Child,
    url: String,
    token: String,
}

impl Drop for ServerUnderTest {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The bench tenant's connections to the simulators, with a plan of `hourly` calls per `window` s.
fn connections(fs: &str, kosmos: &str, hourly: i64, window: i64) -> tenant::Connections {
    tenant::Connections {
        freshsales_base_url: Some(format!("{fs}/a/bench/crm/sales/api")),
        freshsales_key: Some(FS_KEY.into()),
        kosmos_base_url: Some(kosmos.into()),
        kosmos_key: Some(KS_KEY.into()),
        kosmos_webhook_secret: Some(KS_SECRET.into()),
        hourly_limit: Some(hourly),
        rate_window_secs: Some(window),
        ..Default::default()
    }
}

/// Prepares a tenant in `db_url` and starts the release server on it.
async fn start_server(
    args: &Args,
    db_url: &str,
    key: &str,
    kosmos: &str,
    fs: &str,
) -> Result<ServerUnderTest> {
    let store = Store::connect(db_url).await?;
    let sealer = Sealer::from_base64(&key.to_string().into())?;
    let token = auth::generate_token();
    store
        .insert_tenant(TENANT, "Bench", &auth::hash_token(&token))
        .await?;
    tenant::set_connections(
        &store,
        &sealer,
        TENANT,
        &connections(fs, kosmos, 5000, 3600),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    store.upsert_contact(TENANT, 1001, true).await?;
    store.close().await;
    let port = free_port()?;
    let child = Command::new(&args.server)
        .arg("serve")
        .env("DATABASE_URL", db_url)
        .env("IDV_MASTER_KEY", key)
        .env("IDV_BIND", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting the server")?;
    let url = format!("http://127.0.0.1:{port}");
    wait_ready(&url).await?;
    Ok(ServerUnderTest { child, url, token })
}

/// Writes `n` signed callbacks (unique ids, for sessions the server does not hold: the full
/// verify + dedupe + commit path, no provider read) for wrk to replay.
fn signed_requests(dir: &Path, n: usize) -> Result<PathBuf> {
    let path = dir.join("callbacks.tsv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
    let ts = idv_server::clock::now_secs();
    for i in 0..n {
        let id = format!("bench-{i}");
        let body = format!(
            r#"{{"type":"verify.session.updated","session_id":"ks_bench_{}","status":"completed"}}"#,
            i % 997
        );
        let sig = webhook::sign(KS_SECRET.as_bytes(), &id, ts, body.as_bytes());
        writeln!(f, "{id}\t{ts}\t{sig}\t{body}")?;
    }
    f.flush()?;
    Ok(path)
}

fn kb(bytes: usize) -> String {
    format!("{:.1} KB", bytes as f64 / 1024.0)
}

/// gzip -9 and brotli -q 11 sizes of the widget's files.
fn transfer_size(app: &Path) -> Result<(usize, usize, usize, Vec<String>)> {
    let (mut raw, mut gz, mut br) = (0, 0, 0);
    let mut files = Vec::new();
    for entry in std::fs::read_dir(app)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        if !(name.ends_with(".wasm")
            || name.ends_with(".js")
            || name.ends_with(".css")
            || name == "index.html")
        {
            continue;
        }
        let data = std::fs::read(&path)?;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(&data)?;
        let g = e.finish()?.len();
        let mut b = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut b, 4096, 11, 22);
            w.write_all(&data)?;
        }
        files.push(format!(
            "{name}: {} raw, {} gzip, {} brotli",
            kb(data.len()),
            kb(g),
            kb(b.len())
        ));
        raw += data.len();
        gz += g;
        br += b.len();
    }
    files.sort();
    Ok((raw, gz, br, files))
}

/// Median ms from navigation start until `selector` shows `text`, over `runs` loads.
async fn paint_ms(
    browser: &idv_e2e::Browser,
    url: &str,
    selector: &str,
    text: &str,
    runs: usize,
) -> Result<f64> {
    let script = r#"
        const [sel, want, done] = arguments;
        (function poll() {
            const e = document.querySelector(sel);
            if (e && e.textContent.trim() === want) { done(performance.now()); }
            else { requestAnimationFrame(poll); }
        })();"#;
    let mut times = Vec::new();
    for _ in 0..runs {
        browser.client.goto("about:blank").await?;
        browser.client.goto(url).await?;
        let v = browser
            .client
            .execute_async(script, vec![json!(selector), json!(text)])
            .await?;
        times.push(v.as_f64().context("a time")?);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let tmp = std::env::temp_dir().join(format!("idv-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp)?;
    let mut rows: Vec<Row> = Vec::new();
    let mut commands: Vec<String> = Vec::new();
    let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));

    // Simulators (generous limits: the ingest and read loads never reach Freshsales).
    let fs = FreshsalesSim::new();
    fs.add_account("bench", FS_KEY, 1_000_000);
    let fs_served = Served::start(loopback, fs.router()).await?;
    let ks = KosmosSim::new(KS_KEY, KS_SECRET.as_bytes());
    let ks_served = Served::start(loopback, ks.router()).await?;
    ks.set_public_base(&ks_served.url());

    // Floors.
    let floor = floor().await?;
    let floor_url = format!("{}/floor", floor.url());
    eprintln!("floor: bare axum handler");
    let (floor_get, cmd) = wrk(&args, &floor_url, &[], &[])?;
    commands.push(cmd);
    let post_lua = tmp.join("post.lua");
    std::fs::write(&post_lua, "wrk.method = \"POST\"\nwrk.body = \"{}\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n")?;
    let (floor_post, cmd) = wrk(
        &args,
        &floor_url,
        &["-s", &post_lua.display().to_string()],
        &[],
    )?;
    commands.push(cmd);

    let requests = signed_requests(&tmp, 250_000)?;
    let lua = Path::new(env!("CARGO_MANIFEST_DIR")).join("ingest.lua");
    let key = Sealer::generate_key();
    let mut dbs = vec![(
        "SQLite",
        format!("sqlite://{}?mode=rwc", tmp.join("bench.db").display()),
    )];
    if let Some(admin) = &args.postgres {
        let name = format!("idvbench_{}", std::process::id());
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(admin).await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await?;
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        dbs.push(("PostgreSQL", format!("{base}/{name}")));
    }
    for (engine_name, db_url) in &dbs {
        eprintln!("{engine_name}: callback ingest and status reads");
        let server = start_server(&args, db_url, &key, &ks_served.url(), &fs_served.url()).await?;
        let pid = server.child.id();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let idle = rss_kb(pid);
        let peak = RssPeak::start(pid);
        let (ingest, cmd) = wrk(
            &args,
            &format!("{}/hooks/kosmos/{TENANT}", server.url),
            &["-s", &lua.display().to_string()],
            &[
                ("IDV_BENCH_REQUESTS", requests.display().to_string()),
                ("IDV_BENCH_THREADS", "2".into()),
            ],
        )?;
        let peak_kb = peak.finish();
        commands.push(cmd);
        let ratio = ingest.rps / floor_post.rps;
        let sqlite = *engine_name == "SQLite";
        let mut parts = vec![("all 2xx", ingest.non_2xx == 0), ("≥ 0.3×", ratio >= 0.3)];
        if sqlite {
            parts.push(("≥ 5,000/s", ingest.rps >= 5000.0));
            parts.push(("p99 ≤ 20 ms", ingest.p99_ms <= 20.0));
        }
        rows.push(Row {
            what: format!("signed callback ingest, {engine_name} (verify + dedupe + commit + 2xx)"),
            value: format!(
                "{:.0} req/s, p50 {:.2} ms, p99 {:.2} ms ({:.2}× floor){}",
                ingest.rps,
                ingest.p50_ms,
                ingest.p99_ms,
                ratio,
                if ingest.non_2xx > 0 {
                    format!(", {} non-2xx", ingest.non_2xx)
                } else {
                    String::new()
                }
            ),
            floor: format!(
                "{:.0} req/s, p99 {:.2} ms",
                floor_post.rps, floor_post.p99_ms
            ),
            target: if sqlite {
                "≥ 5,000/s, p99 ≤ 20 ms, ≥ 0.3× floor".into()
            } else {
                "≥ 0.3× floor".into()
            },
            verdict: verdicts(&parts),
        });
        if sqlite {
            rows.push(Row {
                what: "server resident memory, idle / under ingest (SQLite)".into(),
                value: format!(
                    "{:.1} MB / {:.1} MB",
                    idle as f64 / 1024.0,
                    peak_kb as f64 / 1024.0
                ),
                floor: "—".into(),
                target: "≤ 20 MB / ≤ 64 MB".into(),
                verdict: verdict(idle <= 20 * 1024 && peak_kb <= 64 * 1024),
            });
        }
        let auth = format!("Authorization: Bearer {}", server.token);
        let (read, cmd) = wrk(
            &args,
            &format!("{}/api/v1/contacts/1001/status", server.url),
            &["-H", &auth],
            &[],
        )?;
        commands.push(cmd.replace(&server.token, "<token>"));
        let ratio = read.rps / floor_get.rps;
        rows.push(Row {
            what: format!("widget status read, {engine_name}"),
            value: format!(
                "{:.0} req/s, p99 {:.2} ms ({:.2}× floor)",
                read.rps, read.p99_ms, ratio
            ),
            floor: format!("{:.0} req/s, p99 {:.2} ms", floor_get.rps, floor_get.p99_ms),
            target: "≥ 0.5× floor, p99 ≤ 5 ms".into(),
            verdict: verdicts(&[
                ("all 2xx", read.non_2xx == 0),
                ("≥ 0.5×", ratio >= 0.5),
                ("p99 ≤ 5 ms", read.p99_ms <= 5.0),
            ]),
        });
    }

    // Widget transfer size.
    let (raw, gz, br, files) = transfer_size(&args.app)?;
    rows.push(Row {
        what: "widget transfer size (html + js + wasm + css)".into(),
        value: format!("{} gzip, {} brotli ({} raw)", kb(gz), kb(br), kb(raw)),
        floor: "—".into(),
        target: "≤ 80 KB gzip".into(),
        verdict: verdict(gz <= 80 * 1024),
    });

    // First status paint: the widget in the demo against a static page with the same badge.
    eprintln!("first status paint in headless Chromium");
    let static_page = Router::new().route(
        "/",
        get(|| async {
            axum::response::Html(
                r#"<!doctype html><html><head><meta charset="utf-8"><title>static</title></head><body><main><header><h1>Identity</h1><span data-testid="idv-badge" class="badge badge-verified">Verified</span></header></main></body></html>"#,
            )
        }),
    );
    let static_served = Served::start(loopback, static_page).await?;
    let demo_port = free_port()?;
    let mut demo = Command::new(&args.server)
        .args([
            "demo",
            "--bind",
            &format!("127.0.0.1:{demo_port}"),
            "--app-dir",
        ])
        .arg(&args.app)
        .env(
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", tmp.join("demo.db").display()),
        )
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let demo_url = format!("http://127.0.0.1:{demo_port}");
    wait_ready(&demo_url).await?;
    let browser = idv_e2e::Browser::start(360, 640).await?;
    let sel = "[data-testid=idv-badge]";
    let static_ms = paint_ms(&browser, &static_served.url(), sel, "Verified", 7).await?;
    let widget_ms = paint_ms(
        &browser,
        &format!("{demo_url}/app/index.html?entity=contact&id=1001"),
        sel,
        "Verified",
        7,
    )
    .await?;
    browser.close().await?;
    let _ = demo.kill();
    let _ = demo.wait();
    rows.push(Row {
        what: "first status paint, headless Chromium (median of 7)".into(),
        value: format!("{widget_ms:.0} ms ({:.1}× floor)", widget_ms / static_ms),
        floor: format!("static page: {static_ms:.0} ms"),
        target: "≤ 2× floor".into(),
        verdict: verdict(widget_ms <= 2.0 * static_ms),
    });

    // Freshsales calls per completed verification, and a burst of 10× the hourly budget.
    eprintln!("Freshsales calls per verification; burst against the rate limit");
    let (per_verification, breakdown) =
        calls_per_verification(&fs, &ks, &fs_served, &ks_served).await?;
    rows.push(Row {
        what: "Freshsales calls per completed verification (20 verifications)".into(),
        value: format!("{per_verification:.2} ({breakdown})"),
        floor: "—".into(),
        target: "≤ 2".into(),
        verdict: verdict(per_verification <= 2.0),
    });
    let (r429, secs, writes, budget) = burst(&fs_served).await?;
    rows.push(Row {
        what: format!(
            "burst of {writes} contact writes = 10× a {budget}-call budget (window scaled to 3 s)"
        ),
        value: format!("{r429} × 429 received; every record right after {secs:.1} s"),
        floor: format!(
            "ideal pace: {:.1} s",
            (writes as f64 - budget as f64 * 0.1) / budget as f64 * 3.0 / 0.9
        ),
        target: "0 × 429".into(),
        verdict: verdict(r429 == 0),
    });

    // Report.
    let mut md = String::new();
    let now = time::OffsetDateTime::now_utc();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or("?".into(), |k| {
            format!("{:.0} GiB", k as f64 / 1024.0 / 1024.0)
        });
    writeln!(md, "# Benchmark results\n")?;
    writeln!(
        md,
        "Run {} on {cores} cores, {mem} memory. Command: `cargo xtask bench` ({:.0} s). Loads are wrk on loopback, {} s each, 2 threads, {} connections; the server under test is the release binary in its own process; floors are measured in the same run.\n",
        now.format(&time::format_description::well_known::Rfc3339)?,
        started.elapsed().as_secs_f64(),
        args.seconds,
        args.connections
    )?;
    writeln!(
        md,
        "| figure | measured | floor | target | |\n|---|---|---|---|---|"
    )?;
    for r in &rows {
        writeln!(
            md,
            "| {} | {} | {} | {} | {} |",
            r.what, r.value, r.floor, r.target, r.verdict
        )?;
    }
    writeln!(md, "\nWidget files:\n")?;
    for f in files {
        writeln!(md, "- {f}")?;
    }
    writeln!(md, "\nLoad commands:\n")?;
    for c in commands {
        writeln!(md, "- `{c}`")?;
    }
    std::fs::write(&args.out, &md)?;
    let _ = std::io::stderr().write_all(md.as_bytes());
    let _ = std::fs::remove_dir_all(&tmp);
    static_served.stop().await;
    fs_served.stop().await;
    ks_served.stop().await;
    floor.stop().await;
    Ok(())
}

/// An in-process backend on both simulators with a fresh SQLite database.
async fn world(fs_url: &str, ks_url: &str, hourly: i64, window: i64) -> Result<Running> {
    let dir = std::env::temp_dir().join(format!(
        "idv-bench-world-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir)?;
    let db = format!("sqlite://{}?mode=rwc", dir.join("w.db").display());
    let store = Store::connect(&db).await?;
    store
        .insert_tenant(TENANT, "Bench", &auth::hash_token(&auth::generate_token()))
        .await?;
    Backend {
        config: Config::for_database(db),
        settings: Settings {
            coalesce: Duration::from_millis(500),
            idv_poll: vec![Duration::from_secs(600)],
            tick: Duration::from_millis(20),
            ..Settings::default()
        },
        sealer: Sealer::from_base64(&Sealer::generate_key().into())?,
        tenant: TENANT.into(),
        connections: connections(fs_url, ks_url, hourly, window),
        policy: None,
        extra: Default::default(),
    }
    .serve(store)
    .await
}

async fn calls_per_verification(
    fs: &FreshsalesSim,
    ks: &KosmosSim,
    fs_served: &Served,
    ks_served: &Served,
) -> Result<(f64, String)> {
    let w = world(&fs_served.url(), &ks_served.url(), 1_000_000, 3600).await?;
    ks.set_faults(KosmosFaults::default());
    let before = fs.calls("bench").len();
    let t = w.engine().tenant(TENANT).await?.context("tenant")?;
    let n = 20u64;
    for i in 0..n {
        let id = 7000 + i;
        fs.seed_contact(
            "bench",
            id,
            "Bench",
            &format!("Person{i}"),
            &format!("b{i}@example.com"),
            "+1 415 555 0100",
        );
        let req = idv_types::StartVerification::default();
        let (v, _) = w
            .engine()
            .start_idv(&t, id as i64, &req, None)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let session = ks
            .sessions()
            .into_iter()
            .find(|s| s.reference == v.id)
            .context("provider session")?;
        ks.complete(
            &session.id,
            &Outcome {
                outcome: "verified".into(),
                document_type: None,
                confidence: None,
                reason: None,
            },
        )
        .map_err(|e| anyhow::anyhow!(e))?;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let counts = w
            .engine()
            .sync_counts()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let done = w.engine().metrics.results.get() == n
            && counts.iter().all(|(s, c)| s != "pending" || *c == 0);
        if done {
            break;
        }
        if Instant::now() > deadline {
            bail!("verifications did not complete");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let calls: Vec<_> = fs.calls("bench").into_iter().skip(before).collect();
    let mut kinds: std::collections::BTreeMap<String, usize> = Default::default();
    for c in &calls {
        let p = c.path.trim_start_matches("/a/bench/crm/sales/api/");
        let what = format!("{} {}", c.method, p.split('/').next().unwrap_or(""));
        *kinds.entry(what).or_default() += 1;
    }
    let breakdown = kinds
        .iter()
        .map(|(k, v)| format!("{k}: {:.1}", *v as f64 / n as f64))
        .collect::<Vec<_>>()
        .join(", ");
    w.stop().await?;
    Ok((calls.len() as f64 / n as f64, breakdown))
}

async fn burst(fs_served: &Served) -> Result<(usize, f64, usize, usize)> {
    // A separate account with a small budget in a 3-second "hour" (its "minute" is 50 ms).
    let fs = FreshsalesSim::new();
    let budget = 100usize;
    fs.add_account("bench", FS_KEY, budget);
    fs.with("bench", |a| a.hour = Duration::from_secs(3));
    let served = Served::start(([127, 0, 0, 1], 0).into(), fs.router()).await?;
    let _ = fs_served;
    let w = world(&served.url(), "http://127.0.0.1:9", budget as i64, 3).await?;
    let t = w.engine().tenant(TENANT).await?.context("tenant")?;
    let writes = 10 * budget;
    for i in 0..writes as u64 {
        let id = 9000 + i;
        fs.seed_contact(
            "bench",
            id,
            "Burst",
            &format!("P{i}"),
            &format!("burst{i}@example.com"),
            "+1 415 555 0100",
        );
        w.engine()
            .store
            .upsert_contact(TENANT, id as i64, false)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let started = Instant::now();
    {
        let mut conn = w.engine().store.pool().acquire().await?;
        for i in 0..writes as i64 {
            w.engine()
                .queue_contact_writes(&mut conn, &t, 9000 + i)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    w.engine().wake_sync.notify_one();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let counts = w
            .engine()
            .sync_counts()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if counts.iter().all(|(s, c)| s == "done" || *c == 0) {
            break;
        }
        if Instant::now() > deadline {
            bail!("the burst did not drain: {counts:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    let r429 = fs.calls("bench").iter().filter(|c| c.status == 429).count();
    w.stop().await?;
    served.stop().await;
    Ok((r429, secs, writes, budget))
}
