//! Measuring: wrk runs and their parsing, resident memory, the bare-handler floor, the disk's
//! durable commits, result rows.

use super::*;

/// One line of the results table.
pub(crate) struct Row {
    pub(crate) what: String,
    pub(crate) value: String,
    pub(crate) floor: String,
    pub(crate) target: String,
    pub(crate) verdict: String,
}

pub(crate) fn verdict(ok: bool) -> String {
    if ok { "met" } else { "MISSED" }.to_string()
}

/// "met", or which of several targets were missed.
pub(crate) fn verdicts(parts: &[(&str, bool)]) -> String {
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
pub(crate) struct Load {
    pub(crate) rps: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) non_2xx: u64,
}

pub(crate) fn parse_ms(s: &str) -> Option<f64> {
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

pub(crate) fn parse_wrk(out: &str) -> Result<Load> {
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

pub(crate) fn wrk(
    args: &Args,
    url: &str,
    extra: &[&str],
    env: &[(&str, String)],
) -> Result<(Load, String)> {
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

pub(crate) fn rss_kb(pid: u32) -> u64 {
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
pub(crate) struct RssPeak {
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) peak: Arc<AtomicU64>,
    pub(crate) handle: std::thread::JoinHandle<()>,
}

impl RssPeak {
    pub(crate) fn start(pid: u32) -> Self {
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

    pub(crate) fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.handle.join();
        self.peak.load(Ordering::Relaxed)
    }
}

/// The floor: a bare axum handler answering the same shapes from memory.
pub(crate) async fn floor() -> Result<Served> {
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

/// Durable commits per second on one connection, one row each, with the server's own settings
/// (SQLite in WAL with `synchronous = FULL`; PostgreSQL's defaults). An acknowledged callback
/// waits for its batch's commit, and wrk sends a connection's next callback only after the
/// answer, so `connections` × this rate bounds the ingest however the code does.
pub(crate) async fn commits_per_second(db_url: &str) -> Result<f64> {
    let store = Store::connect(db_url).await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS bench_commits (n BIGINT)")
        .execute(store.pool())
        .await?;
    let started = Instant::now();
    let mut n = 0_i64;
    while started.elapsed() < Duration::from_secs(2) {
        sqlx::query("INSERT INTO bench_commits (n) VALUES ($1)")
            .bind(n)
            .execute(store.pool())
            .await?;
        n += 1;
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    sqlx::query("DROP TABLE bench_commits")
        .execute(store.pool())
        .await?;
    store.close().await;
    Ok(rate)
}
