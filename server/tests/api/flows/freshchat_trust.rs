//! What an anonymous chat user can and cannot get from the bot: the email they type is a lookup
//! key, never proof of being that customer. A bot's start never adopts, reports or links a
//! session that was not started for its conversation; the state call answers only for its own
//! conversation's sessions; a found contact's data is not changed from chat input; and the chat
//! has its own start limits and its own share of the account's Freshsales budget.

use std::time::{Duration, Instant};

use idv_server::services::tenant::{self, StartLimits};
use serde_json::{json, Value};

use super::freshchat::{bot, bot_ok, count};
use crate::both_worlds;
use crate::{
    helpers::assert_error,
    world::{generous_start_limits, World, ALIAS, TENANT, WORKFLOW_SECRET},
};

/// The bot's state call, for a conversation (or none).
async fn state_in(w: &World, id: &str, conversation: Option<&str>) -> reqwest::Response {
    let query = conversation
        .map(|c| format!("?conversation_id={c}"))
        .unwrap_or_default();
    w.http
        .get(w.url(&format!(
            "/hooks/freshchat/{TENANT}/verifications/{id}{query}"
        )))
        .header("x-idv-webhook-secret", WORKFLOW_SECRET)
        .send()
        .await
        .unwrap()
}

/// An attacker's own chat: a user and a conversation of the account.
fn attacker(w: &World) {
    w.fc.seed_user("u-evil", "Mallory", "mallory@example.net");
    w.fc.seed_conversation("c-evil", "u-evil", "channel-1");
}

/// Waits (bounded: 10 s) until the write-back queue holds nothing due.
async fn drained(w: &World) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while count(
        w,
        "SELECT COUNT(*) FROM sync_outbox WHERE state = 'pending'",
    )
    .await
        > 0
    {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for write-back"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn set_limits(w: &World, limits: StartLimits) {
    let engine = w.app.services();
    tenant::set_start_limits(engine.core.store(), TENANT, &limits)
        .await
        .unwrap();
    engine.core.tenants().forget(TENANT);
}

/// A precise 429: JSON `rate_limited` with a `Retry-After` in whole seconds.
async fn assert_limited(res: reqwest::Response) -> String {
    let retry: u64 = res
        .headers()
        .get("retry-after")
        .expect("a 429 says when to retry")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1, "Retry-After {retry}");
    assert_error(res, 429, "rate_limited").await
}

both_worlds!(
    a_chat_user_who_types_a_verified_customers_email_gets_neither_verified_nor_their_verification,
    typed_email_of_a_verified_customer
);
async fn typed_email_of_a_verified_customer(w: World) {
    attacker(&w);
    // Ada verified with a rep earlier.
    let desk = w.start_idv(11).await;
    let desk_id = desk.id.clone();
    w.customer(&desk_id, "verified");
    w.until("/api/v1/contacts/11/status", |s| s["status"] == "verified")
        .await;

    // Someone else types her email into the bot.
    let answer = bot_ok(
        &w,
        &json!({"email": "ada@example.com", "conversation_id": "c-evil", "user_id": "u-evil"}),
    )
    .await;
    assert_ne!(answer["verification_id"], desk_id.as_str(), "{answer}");
    assert_eq!(answer["state"], "pending", "{answer}");
    assert!(
        !answer.to_string().contains(&desk_id),
        "nothing of her verification is handed out: {answer}"
    );
    // Her verification is not this conversation's: the state call does not know it.
    let res = state_in(&w, &desk_id, Some("c-evil")).await;
    assert_error(res, 404, "not_found").await;
    // In this chat, nobody is verified yet.
    let own = answer["verification_id"].as_str().unwrap();
    let s: Value = state_in(&w, own, Some("c-evil"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (s["state"].as_str(), s["verified"].as_bool()),
        (Some("pending"), Some(false))
    );
    // Her status stands.
    let status = w.json("/api/v1/contacts/11/status").await;
    assert_eq!(status["status"], "verified", "{status}");
}

both_worlds!(
    a_chat_user_who_types_the_email_of_a_customer_with_a_reps_show_link_gets_neither_the_link_nor_the_result,
    typed_email_of_a_pending_customer
);
async fn typed_email_of_a_pending_customer(w: World) {
    attacker(&w);
    // A rep starts a verification for Ada at the desk and shows her the link.
    let rep = w.start_idv(11).await;
    let rep_id = rep.id.clone();
    let rep_link = rep.hosted_url.clone().unwrap();

    let answer = bot_ok(
        &w,
        &json!({"email": "ada@example.com", "conversation_id": "c-evil", "user_id": "u-evil"}),
    )
    .await;
    assert_ne!(answer["verification_id"], rep_id.as_str(), "{answer}");
    assert_ne!(answer["link"], rep_link.as_str(), "{answer}");
    assert!(!answer.to_string().contains(&rep_id), "{answer}");
    // The rep's session is neither canceled nor replaced.
    let v = w.json(&format!("/api/v1/verifications/{rep_id}")).await;
    assert_eq!(v["state"], "pending", "{v}");
    assert_eq!(v["hosted_url"], rep_link.as_str());

    // Ada completes the rep's session: her result goes to her record, nothing into the chat.
    w.customer(&rep_id, "verified");
    w.until_crm("the contact verified", |fs| {
        fs.contact(ALIAS, 11).unwrap()["custom_field"]["cf_idv_status"] == "verified"
    })
    .await;
    drained(&w).await;
    assert!(
        w.fc.texts("c-evil").is_empty(),
        "{:?}",
        w.fc.texts("c-evil")
    );
    assert_eq!(w.fc.property("u-evil", "idv_status"), None);
    assert_eq!(w.fc.property("u-evil", "idv_verified_at"), None);
    let chat_writes = count(
        &w,
        "SELECT COUNT(*) FROM sync_outbox WHERE kind IN ('chat_message', 'chat_properties')",
    )
    .await;
    assert_eq!(chat_writes, 0, "nothing was queued for any chat");
}

both_worlds!(
    a_chat_session_is_not_handed_to_another_conversation_and_its_result_goes_only_to_its_own,
    chat_sessions_stay_in_their_conversation
);
async fn chat_sessions_stay_in_their_conversation(w: World) {
    attacker(&w);
    w.fc.seed_user("u-ada", "Ada", "ada@example.com");
    w.fc.seed_conversation("c-ada", "u-ada", "channel-1");
    // Ada asks the bot in her conversation.
    let hers = bot_ok(
        &w,
        &json!({"email": "ada@example.com", "conversation_id": "c-ada", "user_id": "u-ada"}),
    )
    .await;
    let her_id = hers["verification_id"].as_str().unwrap().to_string();
    // Someone else types her email in theirs: a session of their own, not hers.
    let theirs = bot_ok(
        &w,
        &json!({"email": "ada@example.com", "conversation_id": "c-evil", "user_id": "u-evil"}),
    )
    .await;
    assert_ne!(theirs["verification_id"], her_id.as_str(), "{theirs}");
    assert_ne!(theirs["link"], hers["link"], "{theirs}");
    // Her bot retries: her own session again.
    let again = bot_ok(
        &w,
        &json!({"email": "ada@example.com", "conversation_id": "c-ada"}),
    )
    .await;
    assert_eq!(again["verification_id"], her_id.as_str());

    w.customer(&her_id, "verified");
    super::freshchat::until("her result in her conversation", || {
        w.fc.property("u-ada", "idv_status").as_deref() == Some("verified")
            && w.fc
                .texts("c-ada")
                .iter()
                .any(|(_, t)| t.starts_with("Identity verified"))
    })
    .await;
    drained(&w).await;
    assert!(
        w.fc.texts("c-evil").is_empty(),
        "{:?}",
        w.fc.texts("c-evil")
    );
    assert_eq!(w.fc.property("u-evil", "idv_status"), None);
    // The bot in the other conversation still sees its own session pending, and not hers.
    let res = state_in(&w, &her_id, Some("c-evil")).await;
    assert_error(res, 404, "not_found").await;
    let own = theirs["verification_id"].as_str().unwrap();
    let s: Value = state_in(&w, own, Some("c-evil"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(s["verified"], false, "{s}");
}

both_worlds!(
    the_state_call_answers_only_for_sessions_of_its_conversation,
    state_call_is_per_conversation
);
async fn state_call_is_per_conversation(w: World) {
    let answer = bot_ok(
        &w,
        &json!({"email": "grace@example.com", "conversation_id": "c-grace"}),
    )
    .await;
    let id = answer["verification_id"].as_str().unwrap().to_string();
    assert_eq!(state_in(&w, &id, Some("c-grace")).await.status(), 200);
    // Another conversation's session: as unknown as a session that does not exist.
    let res = state_in(&w, &id, Some("c-other")).await;
    let m = assert_error(res, 404, "not_found").await;
    assert!(!m.contains("c-grace"), "{m}");
    // Without the conversation the call cannot be answered.
    let res = state_in(&w, &id, None).await;
    let m = assert_error(res, 400, "bad_request").await;
    assert!(m.contains("conversation_id"), "{m}");
    let res = state_in(&w, &id, Some("a/b")).await;
    let m = assert_error(res, 400, "bad_request").await;
    assert!(m.contains("conversation_id"), "{m}");
    // A session a rep started is no chat's.
    let desk = w.start_idv(11).await;
    let desk_id = desk.id.as_str();
    let res = state_in(&w, desk_id, Some("c-grace")).await;
    assert_error(res, 404, "not_found").await;
}

both_worlds!(
    a_bot_start_without_a_conversation_is_refused_with_a_precise_422,
    start_needs_a_conversation
);
async fn start_needs_a_conversation(w: World) {
    for body in [
        json!({"email": "ada@example.com"}),
        // A user whose conversation the webhooks never reported.
        json!({"email": "ada@example.com", "user_id": "u-unseen"}),
    ] {
        let res = bot(&w, &body, Some(WORKFLOW_SECRET)).await;
        let m = assert_error(res, 422, "unprocessable").await;
        assert!(m.contains("conversation_id"), "{body}: {m}");
    }
    assert!(w.ks.sessions().is_empty(), "nothing started");
    assert_eq!(
        w.crm_calls("POST", "/contacts/upsert"),
        0,
        "nothing asked of the CRM"
    );
}

both_worlds!(
    a_found_contacts_marketing_consent_is_not_changed_by_the_bot,
    consent_of_a_found_contact
);
async fn consent_of_a_found_contact(w: World) {
    let set = |status: &str| {
        w.fs.with(ALIAS, |a| {
            a.contacts.get_mut(&11).unwrap()["subscription_status"] = json!(status);
        })
        .unwrap()
    };
    let consent = || w.fs.contact(ALIAS, 11).unwrap()["subscription_status"].clone();
    set("unsubscribed");
    bot_ok(
        &w,
        &json!({"email": "ada@example.com", "marketing_consent": "yes", "conversation_id": "c-1"}),
    )
    .await;
    assert_eq!(consent(), "unsubscribed");
    set("subscribed");
    bot_ok(
        &w,
        &json!({"email": "ada@example.com", "marketing_consent": false, "conversation_id": "c-2"}),
    )
    .await;
    assert_eq!(consent(), "subscribed");
}

both_worlds!(
    chat_starts_beyond_the_per_conversation_limit_get_429_while_a_reps_start_still_works,
    per_conversation_limit
);
async fn per_conversation_limit(w: World) {
    set_limits(
        &w,
        StartLimits {
            chat_conversation_per_hour: 2,
            ..generous_start_limits()
        },
    )
    .await;
    let ada = json!({"email": "ada@example.com", "conversation_id": "c-1"});
    bot_ok(&w, &ada).await;
    bot_ok(&w, &ada).await;
    let upserts = w.crm_calls("POST", "/contacts/upsert");
    let m = assert_limited(bot(&w, &ada, Some(WORKFLOW_SECRET)).await).await;
    assert!(m.contains("conversation"), "{m}");
    assert_eq!(
        w.crm_calls("POST", "/contacts/upsert"),
        upserts,
        "a refused call asks nothing of the CRM"
    );
    // Another conversation has its own allowance; a rep's start for Ada still works.
    bot_ok(
        &w,
        &json!({"email": "ada@example.com", "conversation_id": "c-2"}),
    )
    .await;
    assert_eq!(rep_starts(&w, 11).await, 201);
}

/// A rep's start at the desk, answered at once (no waiting on a 429).
async fn rep_starts(w: &World, contact: u64) -> u16 {
    w.post(
        &format!("/api/v1/contacts/{contact}/verifications"),
        json!({}),
    )
    .await
    .status()
    .as_u16()
}

both_worlds!(
    bot_starts_beyond_the_chats_limit_per_minute_get_429_while_a_reps_start_still_works,
    per_tenant_chat_limit
);
async fn per_tenant_chat_limit(w: World) {
    // Reps may start 2 a minute; the chat has its own 3.
    set_limits(
        &w,
        StartLimits {
            tenant_per_minute: 2,
            chat_per_minute: 3,
            ..generous_start_limits()
        },
    )
    .await;
    for c in ["c-1", "c-2", "c-3"] {
        bot_ok(
            &w,
            &json!({"email": "ada@example.com", "conversation_id": c}),
        )
        .await;
    }
    let res = bot(
        &w,
        &json!({"email": "ada@example.com", "conversation_id": "c-4"}),
        Some(WORKFLOW_SECRET),
    )
    .await;
    let m = assert_limited(res).await;
    assert!(m.contains("chat"), "{m}");
    // The chat spent none of what reps need.
    assert_eq!(rep_starts(&w, 11).await, 201);
    assert_eq!(rep_starts(&w, 12).await, 201);
}

both_worlds!(
    the_chat_spends_only_its_share_of_the_freshsales_budget,
    chat_crm_share
);
async fn chat_crm_share(w: World) {
    // A plan of 100 calls an hour: a burst of 10; the chat's fifth of it, a burst of 2.
    let engine = w.app.services();
    tenant::set_connections(
        engine.core.store(),
        engine.core.sealer(),
        TENANT,
        &tenant::Connections {
            hourly_limit: Some(100),
            rate_window_secs: Some(3600),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    set_limits(
        &w,
        StartLimits {
            chat_crm_percent: 20,
            ..generous_start_limits()
        },
    )
    .await;
    let mut refused = None;
    for c in 0..6 {
        let res = bot(
            &w,
            &json!({"email": "ada@example.com", "conversation_id": format!("c-{c}")}),
            Some(WORKFLOW_SECRET),
        )
        .await;
        if res.status() == 429 {
            refused = Some((c, res));
            break;
        }
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    }
    let (c, res) = refused.expect("the chat stops at its share of the budget");
    assert!(
        c <= 3,
        "the chat got its burst of 2 (and what refilled meanwhile): {c}"
    );
    let m = assert_limited(res).await;
    assert!(m.contains("chat"), "{m}");
    // What reps need is still there: a contact never seen before is looked up.
    let res = w.get("/api/v1/contacts/12/status").await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

both_worlds!(
    a_chats_session_is_neither_shown_nor_resent_nor_replaced_at_the_desk,
    chat_session_at_the_desk
);
async fn chat_session_at_the_desk(w: World) {
    attacker(&w);
    let chat = bot_ok(
        &w,
        &json!({"email": "grace@example.com", "conversation_id": "c-evil"}),
    )
    .await;
    let chat_id = chat["verification_id"].as_str().unwrap().to_string();
    // The rep's widget is not offered the chat's link to show or watch.
    let status = w.json("/api/v1/contacts/12/status").await;
    assert!(status["current"].is_null(), "{status}");
    // Its link expires unused: a rep cannot send it (or a new one in its place) from the desk.
    w.customer(&chat_id, "abandoned");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s: Value = state_in(&w, &chat_id, Some("c-evil"))
            .await
            .json()
            .await
            .unwrap();
        if s["state"] == "expired" {
            break;
        }
        assert!(Instant::now() < deadline, "the chat's session expired: {s}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let res = w
        .post(
            &format!("/api/v1/verifications/{chat_id}/resend"),
            json!({}),
        )
        .await;
    let m = assert_error(res, 409, "conflict").await;
    assert!(m.contains("chat"), "{m}");

    // A chat's pending session stands beside the rep's, which a forced restart replaces alone.
    let pending = bot_ok(
        &w,
        &json!({"email": "grace@example.com", "conversation_id": "c-2"}),
    )
    .await;
    let rep = w.start_idv(12).await;
    assert_ne!(rep.id, pending["verification_id"]);
    let res = w
        .post("/api/v1/contacts/12/verifications", json!({"force": true}))
        .await;
    assert_eq!(res.status(), 201);
    let own = pending["verification_id"].as_str().unwrap();
    let s: Value = state_in(&w, own, Some("c-2")).await.json().await.unwrap();
    assert_eq!(s["state"], "pending", "{s}");
}
