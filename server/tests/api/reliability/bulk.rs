//! Ten thousand noisy callbacks over 500 sessions end in the provider's state; no secret in any log line.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use futures_util::{stream, StreamExt};
use idv_server::{
    clock,
    services::{Policy, Settings},
    sim::kosmos::{KosmosFaults, Outcome},
};
use rand::{seq::SliceRandom, Rng};
use serde_json::json;

use crate::{
    both,
    helpers::Db,
    world::{spawn_world_with, test_settings, ALIAS, KS_SECRET, TENANT},
};

use super::*;

both!(
    ten_thousand_noisy_callbacks_end_in_the_providers_state,
    bulk_callbacks
);
async fn bulk_callbacks(db: Db) {
    let logs = capture_logs();
    // 500 starts, 16 at a time, each reading the contact: on a loaded 2-core machine a read
    // can take longer than the usual test timeout, which is not what this test is about.
    let settings = Settings {
        http_timeout: Duration::from_secs(15),
        ..test_settings()
    };
    let Some(w) = spawn_world_with(db, settings, Policy::default()).await else {
        return;
    };
    w.ks.set_faults(KosmosFaults {
        drop_callbacks: true,
        ..Default::default()
    });
    let contacts = seed_contacts(&w, 500);
    let sessions = start_all(&w, &contacts, 16).await;

    // The customers finish: the provider holds the truth.
    let mut truth = HashMap::new();
    let mut rng = rand::thread_rng();
    for (_, v) in &sessions {
        let provider = w.provider_session(v);
        let (outcome, want) = match rng.gen_range(0..3) {
            0 => ("failed", "failed"),
            1 => ("abandoned", "expired"),
            _ => ("verified", "verified"),
        };
        w.ks.complete(
            &provider,
            &Outcome {
                outcome: outcome.into(),
                document_type: None,
                confidence: None,
                reason: None,
                ..Default::default()
            },
        )
        .unwrap();
        truth.insert(v.clone(), (provider, want));
    }

    // 10,000 deliveries: 30 % repeat an earlier id, 5 % forged, 5 % stale, all shuffled. Each
    // body says something of its own about the session (a stale "pending", the truth, or a
    // status the provider never reached, with or without the reference): only the provider's
    // answer may decide, whatever order they arrive in.
    let now = clock::now_secs();
    let providers: Vec<(String, String)> = truth
        .iter()
        .map(|(v, (p, _))| (p.clone(), v.clone()))
        .collect();
    let mut deliveries: Vec<Delivery> = Vec::with_capacity(10_000);
    for i in 0..10_000usize {
        let (session, reference) = &providers[i % providers.len()];
        let status =
            ["pending", "completed", "abandoned", "expired", "failed"][rng.gen_range(0..5)];
        let body = if rng.gen_bool(0.5) {
            json!({"type": "verify.session.updated", "session_id": session, "status": status, "reference": reference})
        } else {
            json!({"type": "verify.session.updated", "session_id": session, "status": status})
        };
        let body = serde_json::to_vec(&body).unwrap();
        let roll: f64 = rng.gen();
        let d = if roll < 0.05 {
            Delivery {
                id: format!("forged-{i}"),
                ts: now,
                key: b"forged-key",
                body,
                bad: true,
            }
        } else if roll < 0.10 {
            Delivery {
                id: format!("stale-{i}"),
                ts: now - 3600,
                key: KS_SECRET.as_bytes(),
                body,
                bad: true,
            }
        } else if roll < 0.40 && deliveries.iter().any(|d| !d.bad) {
            loop {
                let earlier = &deliveries[rng.gen_range(0..deliveries.len())];
                if !earlier.bad {
                    break earlier.clone();
                }
            }
        } else {
            Delivery {
                id: format!("msg-{i}"),
                ts: now,
                key: KS_SECRET.as_bytes(),
                body,
                bad: false,
            }
        };
        deliveries.push(d);
    }
    deliveries.shuffle(&mut rng);
    let url = w.url(&format!("/hooks/kosmos/{TENANT}"));
    let answers: Vec<(&Delivery, (u16, Option<bool>))> = stream::iter(deliveries.iter())
        .map(|d| {
            let (http, url) = (w.http.clone(), url.clone());
            async move { (d, deliver_answer(&http, &url, d).await) }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    // Per good delivery id: accepted once (202), every repeat a 200 that says duplicate.
    let mut by_id: HashMap<&str, (usize, usize)> = HashMap::new();
    for (d, (code, duplicate)) in &answers {
        if d.bad {
            assert_eq!(*code, 401, "forged and stale callbacks are refused");
            continue;
        }
        let seen = by_id.entry(d.id.as_str()).or_default();
        match (code, duplicate) {
            (202, Some(false)) => seen.0 += 1,
            (200, Some(true)) => seen.1 += 1,
            other => panic!("good callback {} answered {other:?}", d.id),
        }
    }
    let copies: HashMap<&str, usize> =
        deliveries
            .iter()
            .filter(|d| !d.bad)
            .fold(HashMap::new(), |mut m, d| {
                *m.entry(d.id.as_str()).or_default() += 1;
                m
            });
    let mut repeats = 0;
    for (id, n) in &copies {
        assert_eq!(
            by_id[id],
            (1, n - 1),
            "{id}: sent {n} times, must be accepted once and a duplicate {} times",
            n - 1
        );
        repeats += n - 1;
    }
    assert!(repeats > 1000, "the run repeated deliveries ({repeats})");
    assert_eq!(
        w.app.services().core.metrics().callbacks_duplicate.get(),
        repeats as u64,
        "each repeat counted as a duplicate"
    );

    // Every session ends in the provider's state, each result applied once.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let s = states(&w).await;
        if truth
            .iter()
            .all(|(v, (_, want))| s.get(v).map(String::as_str) == Some(*want))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "sessions did not all reach the provider's state"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // (The counter moves just after the commit the states above show.)
    eventually("500 results counted", 10, || {
        w.app.services().core.metrics().results.get() >= 500
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        w.app.services().core.metrics().results.get(),
        500,
        "each result applied once"
    );
    // The CRM got exactly one result note and one history record per session.
    eventually("every CRM write", 120, || {
        w.fs.with(ALIAS, |a| {
            a.notes.len() == 500 && a.modules.values().map(|m| m.len()).sum::<usize>() == 500
        })
        .unwrap()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (notes, records) =
        w.fs.with(ALIAS, |a| {
            (
                a.notes.len(),
                a.modules.values().map(|m| m.len()).sum::<usize>(),
            )
        })
        .unwrap();
    assert_eq!(
        (notes, records),
        (500, 500),
        "one note (start and result) per session, one history record"
    );
    // Each contact's last write carries the final status.
    for (v, (_, want)) in &truth {
        let contact = sessions.iter().find(|(_, id)| id == v).unwrap().0;
        let status = w.fs.contact(ALIAS, contact).unwrap()["custom_field"]["cf_idv_status"].clone();
        eventually_eq(&w, contact, want, status).await;
    }
    // Nothing secret or personal in the logs (which did capture this run).
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).to_string();
    assert!(
        text.contains("/hooks/kosmos/"),
        "the capture holds this run's log lines ({} bytes)",
        text.len()
    );
    for s in [
        crate::world::FS_KEY,
        crate::world::KS_KEY,
        KS_SECRET,
        crate::world::WORKFLOW_SECRET,
        w.token.as_str(),
        "p1@example.com",
        "Person1",
    ] {
        assert!(!text.contains(s), "{s:?} appears in a log line");
    }
}
