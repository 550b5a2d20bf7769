//! In-process worlds: CRM calls per verification and a burst against the plan's budget.

use super::*;

/// An in-process backend on both simulators with a fresh SQLite database.
pub(crate) async fn world(fs_url: &str, ks_url: &str, hourly: i64, window: i64) -> Result<Running> {
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
    // The bench measures the backend, not the account's start limits.
    idv_server::services::tenant::set_start_limits(
        &store,
        TENANT,
        &idv_server::services::tenant::StartLimits {
            tenant_per_minute: 100_000,
            contact_per_hour: 100_000,
            forced_per_hour: 100_000,
            ..Default::default()
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
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

/// Freshsales calls per completed verification, over 20 of them, and which: with customers who
/// finish inside the coalescing window of the start's writes, or (`slow`) after those writes
/// went out.
pub(crate) async fn calls_per_verification(twins: &Twins, slow: bool) -> Result<(f64, String)> {
    let (fs, ks) = (&twins.freshsales, &twins.kosmos);
    let w = world(
        &twins.freshsales_api(),
        &twins.kosmos_url(),
        1_000_000,
        3600,
    )
    .await?;
    ks.set_faults(KosmosFaults::default());
    let before = fs.calls("bench").len();
    let t = tenant(&w).await?;
    let n = 20u64;
    let mut started = Vec::new();
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
        // As the widget on a contact page starts it: with the record data the page has.
        let req = idv_types::StartVerification {
            contact: Some(idv_types::ContactData {
                first_name: Some("Bench".into()),
                last_name: Some(format!("Person{i}")),
                email: Some(format!("b{i}@example.com")),
                phone: Some("+1 415 555 0100".into()),
            }),
            ..Default::default()
        };
        let (v, _) = w
            .services()
            .sessions
            .start_idv(
                &t,
                id as i64,
                &req,
                None,
                idv_server::services::Origin::Widget,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        started.push(v.id);
    }
    if slow {
        // The customers take longer than the window: the start's writes go out first.
        until_outbox(&w, 30, "the start's writes did not go out", none_pending).await?;
    }
    for id in &started {
        let session = ks
            .sessions()
            .into_iter()
            .find(|s| &s.reference == id)
            .context("provider session")?;
        ks.complete(
            &session.id,
            &Outcome {
                outcome: "verified".into(),
                document_type: None,
                confidence: None,
                reason: None,
                ..Default::default()
            },
        )
        .map_err(|e| anyhow::anyhow!(e))?;
    }
    until_outbox(&w, 60, "verifications did not complete", |counts| {
        w.services().core.metrics().results.get() == n && none_pending(counts)
    })
    .await?;
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

/// Waits up to `secs` until the outbox's counts by state say `done` (else fails with `what`).
async fn until_outbox(
    w: &Running,
    secs: u64,
    what: &str,
    done: impl Fn(&[(String, i64)]) -> bool,
) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let counts = w
            .services()
            .outbox
            .sync_counts()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if done(&counts) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{what}: {counts:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// No CRM write is waiting to be sent.
fn none_pending(counts: &[(String, i64)]) -> bool {
    counts.iter().all(|(s, c)| s != "pending" || *c == 0)
}

pub(crate) async fn burst() -> Result<(usize, f64, usize, usize)> {
    // A separate account with a small budget in a 3-second "hour" (its "minute" is 50 ms).
    let budget = 100usize;
    let twins = Twins::start(twin_keys(budget), |fs| {
        fs.with("bench", |a| a.hour = Duration::from_secs(3));
    })
    .await?;
    let fs = twins.freshsales.clone();
    let w = world(
        &twins.freshsales_api(),
        &twins.kosmos_url(),
        budget as i64,
        3,
    )
    .await?;
    let t = tenant(&w).await?;
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
        w.services()
            .core
            .store()
            .upsert_contact(TENANT, id as i64, false)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let started = Instant::now();
    {
        let mut conn = w.services().core.store().pool().acquire().await?;
        for i in 0..writes as i64 {
            w.services()
                .queue
                .queue_contact_writes(&mut conn, &t, 9000 + i)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    w.services().core.wake_sync();
    until_outbox(&w, 120, "the burst did not drain", |counts| {
        counts.iter().all(|(s, c)| s == "done" || *c == 0)
    })
    .await?;
    let secs = started.elapsed().as_secs_f64();
    let r429 = fs.calls("bench").iter().filter(|c| c.status == 429).count();
    w.stop().await?;
    twins.stop().await;
    Ok((r429, secs, writes, budget))
}

/// The bench tenant's row, as the services read it.
async fn tenant(w: &Running) -> Result<idv_server::services::TenantRow> {
    w.services()
        .core
        .tenants()
        .get(TENANT)
        .await?
        .context("tenant")
}
