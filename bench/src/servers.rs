//! The release server under test: a tenant on the simulators, a free port, signed callbacks.

use super::*;

pub(crate) fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

pub(crate) async fn wait_ready(url: &str) -> Result<()> {
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

pub(crate) struct ServerUnderTest {
    pub(crate) child: Child,
    pub(crate) url: String,
    pub(crate) token: String,
}

impl Drop for ServerUnderTest {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The bench tenant's connections to the simulators, with a plan of `hourly` calls per `window` s.
pub(crate) fn connections(
    fs_api: &str,
    kosmos: &str,
    hourly: i64,
    window: i64,
) -> tenant::Connections {
    tenant::Connections {
        crm_base_url: Some(fs_api.into()),
        crm_key: Some(FS_KEY.into()),
        provider_base_url: Some(kosmos.into()),
        provider_key: Some(KS_KEY.into()),
        provider_webhook_secret: Some(KS_SECRET.into()),
        hourly_limit: Some(hourly),
        rate_window_secs: Some(window),
        ..Default::default()
    }
}

/// Prepares a tenant in `db_url` and starts the release server on it.
pub(crate) async fn start_server(
    args: &Args,
    db_url: &str,
    key: &str,
    kosmos: &str,
    fs: &str,
    at_volume: bool,
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
    // A contact with a history: eight failed attempts over a year, then a pass.
    store.upsert_contact(TENANT, 1002, true).await?;
    let now = idv_server::clock::now_ms();
    for i in 0..9_i64 {
        let at = now - (9 - i) * 30 * 24 * 3600 * 1000;
        let verified = i == 8;
        sqlx::query(
            "INSERT INTO verifications (id, tenant_id, contact_id, kind, state, created_at, updated_at, \
             completed_at, ial_level, document_type, match_confidence_bp, failure_reason, valid_until) \
             VALUES ($1, $2, 1002, 'idv', $3, $4, $4, $4, 'IAL2', 'passport', $5, $6, $7)",
        )
        .bind(format!("ver_bench_history_{i}"))
        .bind(TENANT)
        .bind(if verified { "verified" } else { "failed" })
        .bind(at)
        .bind(if verified { Some(9400_i64) } else { None })
        .bind(if verified { None } else { Some("document expired") })
        .bind(verified.then_some(at + 365 * 24 * 3600 * 1000))
        .execute(store.pool())
        .await?;
    }
    if at_volume {
        crate::volume::load(&store, TENANT, db_url.starts_with("sqlite")).await?;
    }
    store.close().await;
    let port = free_port()?;
    let child = Command::new(&args.server)
        .arg("serve")
        .env("DATABASE_URL", db_url)
        .env("IDV_MASTER_KEY", key)
        .env("IDV_BIND", format!("127.0.0.1:{port}"))
        .env("IDV_OPS_BIND", "127.0.0.1:0")
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
pub(crate) fn signed_requests(dir: &Path, n: usize) -> Result<PathBuf> {
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

/// The bench account's credentials at the twins, with a plan of `hourly` calls.
pub(crate) fn twin_keys(hourly: usize) -> TwinKeys {
    TwinKeys {
        alias: "bench".into(),
        freshsales_key: FS_KEY.into(),
        hourly_limit: hourly,
        kosmos_key: KS_KEY.into(),
        kosmos_webhook_secret: KS_SECRET.into(),
    }
}
