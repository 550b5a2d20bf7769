//! Freshchat: a Freddy bot starts a verification for the customer it names by email (the contact
//! found, or created with an E.164 phone and their consent), shows the link, branches on the
//! state; the result is posted into the conversation and onto the chat user's properties, once.
//! Freshchat's webhooks are verified with the account's RSA key: a forged one changes nothing.

use std::time::{Duration, Instant};

use idv_server::sim::freshchat::FcFaults;
use serde_json::{json, Value};

use crate::both_worlds;
use crate::{
    helpers::assert_error,
    world::{World, ALIAS, TENANT, WORKFLOW_SECRET},
};

/// The bot's API-library call: `POST /hooks/freshchat/{tenant}` with the secret header.
pub(super) async fn bot(w: &World, body: &Value, secret: Option<&str>) -> reqwest::Response {
    let mut req = w.http.post(w.url(&format!("/hooks/freshchat/{TENANT}")));
    if let Some(s) = secret {
        req = req.header("x-idv-webhook-secret", s);
    }
    req.json(body).send().await.unwrap()
}

pub(super) async fn bot_ok(w: &World, body: &Value) -> Value {
    let res = bot(w, body, Some(WORKFLOW_SECRET)).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

/// The bot's state call, from the conversation the verification was started for.
async fn state(w: &World, id: &str, conversation: &str) -> Value {
    let res = w
        .http
        .get(w.url(&format!(
            "/hooks/freshchat/{TENANT}/verifications/{id}?conversation_id={conversation}"
        )))
        .header("x-idv-webhook-secret", WORKFLOW_SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

pub(super) fn events_url(w: &World) -> String {
    w.url(&format!("/hooks/freshchat/{TENANT}/events"))
}

/// Waits (bounded: 10 s) until `check` holds.
pub(super) async fn until(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

pub(super) async fn count(w: &World, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(w.app.state.services.core.store().pool())
        .await
        .unwrap()
}

both_worlds!(
    a_bot_starts_a_verification_and_the_conversation_gets_the_result,
    bot_to_result
);
async fn bot_to_result(w: World) {
    w.fc.seed_user("u-ada", "Ada", "ada@example.com");
    w.fc.seed_conversation("c-ada", "u-ada", "channel-1");
    // The customer writes; Freshchat's signed webhook tells whose conversation it is.
    let event =
        w.fc.user_writes("c-ada", "I need to change my bank details", false);
    let res = w.fc.deliver(&events_url(&w), &event).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["outcome"], "linked");

    // The bot names a known customer (other names and a consent: they change nothing).
    let answer = bot_ok(
        &w,
        &json!({"email": "ADA@example.com", "first_name": "Mallory", "last_name": "Else",
            "phone": "", "marketing_consent": true, "conversation_id": "c-ada"}),
    )
    .await;
    assert_eq!(answer["contact_id"], 11, "{answer}");
    assert_eq!(answer["contact_created"], false);
    assert_eq!(answer["state"], "pending");
    assert_eq!(answer["delivery"], "show");
    assert!(answer["expires_at"].is_string(), "{answer}");
    let link = answer["link"].as_str().unwrap();
    assert!(link.contains("/hosted/verify/"), "{link}");
    let id = answer["verification_id"].as_str().unwrap().to_string();
    let contact = w.fs.contact(ALIAS, 11).unwrap();
    assert_eq!(contact["first_name"], "Ada");
    assert!(contact.get("subscription_status").is_none(), "{contact}");
    // The provider is asked with the CRM's names, not the chat's.
    let sent =
        w.ks.sessions()
            .into_iter()
            .find(|s| s.reference == id)
            .unwrap()
            .request;
    assert_eq!(sent["user"]["first_name"], "Ada", "{sent}");
    assert_eq!(sent["user"]["last_name"], "Lovelace", "{sent}");

    // Asked again (the bot retried): the same pending verification.
    let again = bot_ok(
        &w,
        &json!({"email": "ada@example.com", "conversation_id": "c-ada"}),
    )
    .await;
    assert_eq!(again["verification_id"], id.as_str());
    let s = state(&w, &id, "c-ada").await;
    assert_eq!(
        (s["state"].as_str(), s["verified"].as_bool()),
        (Some("pending"), Some(false))
    );

    // The customer opens the link and passes; the bot's state call can branch.
    w.customer(&id, "verified");
    let deadline = Instant::now() + Duration::from_secs(10);
    let s = loop {
        let s = state(&w, &id, "c-ada").await;
        if s["verified"] == true || Instant::now() > deadline {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert_eq!(s["state"], "verified", "{s}");
    assert_eq!(s["ial"], "IAL2");
    assert!(s["expires_at"].is_string() && s["link"].is_null(), "{s}");

    // The conversation gets the result once, and the user's properties are written.
    until("the result message and the user's properties", || {
        w.fc.property("u-ada", "idv_status").as_deref() == Some("verified")
            && w.fc
                .texts("c-ada")
                .iter()
                .any(|(_, t)| t.starts_with("Identity verified"))
    })
    .await;
    let texts = w.fc.texts("c-ada");
    let results: Vec<_> = texts.iter().filter(|(a, _)| a == "system").collect();
    assert_eq!(results.len(), 1, "{texts:?}");
    assert!(
        results[0].1.contains(&id),
        "the message carries the reference"
    );
    assert!(!results[0].1.contains("Ada") && !results[0].1.contains("ada@"));
    assert!(w.fc.property("u-ada", "idv_verified_at").is_some());
    // The CRM record gets its result too.
    w.until_crm("contact fields", |fs| {
        fs.contact(ALIAS, 11).unwrap()["custom_field"]["cf_idv_status"] == "verified"
    })
    .await;
}

both_worlds!(
    a_new_customer_is_created_by_email_with_an_e164_phone_and_their_consent,
    bot_creates_contact
);
async fn bot_creates_contact(w: World) {
    let answer = bot_ok(
        &w,
        &json!({"email": "jane@example.com", "first_name": "Jane", "last_name": "Sample",
            "phone": "+1 (415) 555-2671", "marketing_consent": false, "user_id": "u-jane",
            "conversation_id": "c-jane"}),
    )
    .await;
    assert_eq!(answer["contact_created"], true, "{answer}");
    assert_eq!(answer["phone_left_out"], false);
    let id = answer["contact_id"].as_u64().unwrap();
    let c = w.fs.contact(ALIAS, id).unwrap();
    assert_eq!(c["email"], "jane@example.com");
    assert_eq!(c["first_name"], "Jane");
    assert_eq!(c["mobile_number"], "+14155552671");
    assert_eq!(c["subscription_status"], "unsubscribed");
    assert_eq!(answer["state"], "pending");

    // A phone that does not read as an international number is left out, with a note.
    let answer = bot_ok(
        &w,
        &json!({"email": "joe@example.com", "first_name": "Joe", "last_name": "Bloggs",
            "phone": "call me maybe", "conversation_id": "c-joe"}),
    )
    .await;
    assert_eq!(answer["phone_left_out"], true, "{answer}");
    let joe = answer["contact_id"].as_u64().unwrap();
    assert!(w
        .fs
        .contact(ALIAS, joe)
        .unwrap()
        .get("mobile_number")
        .is_none());
    w.until_crm("the note about the phone", |fs| {
        fs.with(ALIAS, |a| {
            a.notes.iter().any(|n| {
                n["targetable_id"] == joe
                    && n["description"].as_str().unwrap().contains("left out")
                    && !n["description"].as_str().unwrap().contains("call me")
            })
        })
        .unwrap()
    })
    .await;
}

both_worlds!(
    bad_bot_input_gets_a_precise_4xx_and_a_wrong_secret_a_401,
    bot_refusals
);
async fn bot_refusals(w: World) {
    let body = json!({"email": "ada@example.com"});
    assert_error(bot(&w, &body, None).await, 401, "unauthorized").await;
    assert_error(bot(&w, &body, Some("wrong")).await, 401, "unauthorized").await;
    let res = w
        .http
        .get(w.url(&format!("/hooks/freshchat/{TENANT}/verifications/ver_x")))
        .header("x-idv-webhook-secret", "wrong")
        .send()
        .await
        .unwrap();
    assert_error(res, 401, "unauthorized").await;

    // A new customer without both names: a 422 that says which is missing; nothing created.
    let before = w.fs.with(ALIAS, |a| a.contacts.len()).unwrap();
    let m = assert_error(
        bot(
            &w,
            &json!({"email": "new@example.com", "first_name": "New", "conversation_id": "c-1"}),
            Some(WORKFLOW_SECRET),
        )
        .await,
        422,
        "unprocessable",
    )
    .await;
    assert!(m.contains("last_name is missing"), "{m}");
    assert_eq!(w.fs.with(ALIAS, |a| a.contacts.len()).unwrap(), before);
    assert!(w.ks.sessions().is_empty());

    for (body, field) in [
        (json!({}), "email"),
        (json!({"email": "not-an-email"}), "email"),
        (
            json!({"email": "a@b.co", "marketing_consent": "maybe"}),
            "marketing_consent",
        ),
        (
            json!({"email": "a@b.co", "conversation_id": "a/b"}),
            "conversation_id",
        ),
        (json!({"email": "a@b.co", "delivery": "fax"}), "delivery"),
    ] {
        let m = assert_error(
            bot(&w, &body, Some(WORKFLOW_SECRET)).await,
            422,
            "unprocessable",
        )
        .await;
        assert!(m.contains(field), "{body}: {m}");
    }
    let res = w
        .http
        .post(w.url(&format!("/hooks/freshchat/{TENANT}")))
        .header("x-idv-webhook-secret", WORKFLOW_SECRET)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_error(res, 400, "bad_request").await;
    let res = w
        .http
        .get(w.url(&format!(
            "/hooks/freshchat/{TENANT}/verifications/ver_nope?conversation_id=c-1"
        )))
        .header("x-idv-webhook-secret", WORKFLOW_SECRET)
        .send()
        .await
        .unwrap();
    assert_error(res, 404, "not_found").await;
    let res = w
        .http
        .get(w.url(&format!("/hooks/freshchat/{TENANT}/verifications/bad-id!")))
        .header("x-idv-webhook-secret", WORKFLOW_SECRET)
        .send()
        .await
        .unwrap();
    assert_error(res, 400, "bad_request").await;
}

both_worlds!(
    a_forged_freshchat_webhook_changes_nothing_and_a_signed_one_is_accepted_once,
    webhook_signatures
);
async fn webhook_signatures(w: World) {
    w.fc.seed_user("u-1", "Ada", "ada@example.com");
    w.fc.seed_conversation("c-1", "u-1", "channel-1");
    let event = w.fc.user_writes("c-1", "hello", false);
    let body = serde_json::to_vec(&event).unwrap();
    let post = |signature: Option<String>, body: Vec<u8>| {
        let mut req = w
            .http
            .post(events_url(&w))
            .header("content-type", "application/json");
        if let Some(s) = signature {
            req = req.header("x-freshchat-signature", s);
        }
        req.body(body).send()
    };
    // Unsigned, garbage, and a real signature over another body (the event altered).
    let mut forged = event.clone();
    forged["data"]["message"]["user_id"] = json!("u-attacker");
    let forged = serde_json::to_vec(&forged).unwrap();
    for (sig, b) in [
        (None, body.clone()),
        (Some("bm90IGEgc2lnbmF0dXJl".to_string()), body.clone()),
        (Some(w.fc.sign(&body)), forged),
    ] {
        let res = post(sig, b).await.unwrap();
        assert_error(res, 401, "unauthorized").await;
    }
    let rows = "SELECT COUNT(*) FROM inbound_events WHERE source = 'freshchat'";
    assert_eq!(count(&w, rows).await, 0);
    assert_eq!(
        count(&w, "SELECT COUNT(*) FROM chat_conversations").await,
        0
    );

    // Signed by the account's key: accepted once, and the conversation's user recorded.
    let res = post(Some(w.fc.sign(&body)), body.clone()).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["outcome"], "linked");
    let again = post(Some(w.fc.sign(&body)), body).await.unwrap();
    assert_eq!(again.json::<Value>().await.unwrap()["duplicate"], true);
    assert_eq!(count(&w, rows).await, 1);
    let user: String =
        sqlx::query_scalar("SELECT user_id FROM chat_conversations WHERE conversation_id = 'c-1'")
            .fetch_one(w.app.state.services.core.store().pool())
            .await
            .unwrap();
    assert_eq!(user, "u-1");
    // The older payload version (msg_parts, part_type) is read too.
    let older = w.fc.user_writes("c-1", "still there?", true);
    let res = w.fc.deliver(&events_url(&w), &older).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["outcome"], "linked");
    // Not JSON, though signed: a 400 that changes nothing.
    let res = post(Some(w.fc.sign(b"nope")), b"nope".to_vec())
        .await
        .unwrap();
    assert_error(res, 400, "bad_request").await;
}

both_worlds!(
    a_result_message_whose_answer_was_lost_is_not_posted_twice,
    maybe_sent
);
async fn maybe_sent(w: World) {
    w.fc.seed_user("u-g", "Grace", "grace@example.com");
    w.fc.seed_conversation("c-g", "u-g", "channel-1");
    // The bot names the user only: the conversation is the one the webhooks saw them write in.
    let event = w.fc.user_writes("c-g", "hi", false);
    assert_eq!(w.fc.deliver(&events_url(&w), &event).await.status(), 200);
    let answer = bot_ok(&w, &json!({"email": "grace@example.com", "user_id": "u-g"})).await;
    let id = answer["verification_id"].as_str().unwrap().to_string();
    // Every post is stored by Freshchat and then answered 500.
    w.fc.set_faults(FcFaults {
        lost_answer_rate: 1.0,
        ..Default::default()
    });
    w.customer(&id, "failed");
    until("the result message and a second attempt", || {
        let calls = w.fc.calls();
        calls
            .iter()
            .any(|(m, p, _)| m == "GET" && p == "/v2/conversations/c-g/messages")
    })
    .await;
    w.fc.set_faults(FcFaults::default());
    // The later attempt looked into the conversation, found the message, and did not post it.
    until("the row done", || {
        w.fc.property("u-g", "idv_status").as_deref() == Some("failed")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let texts = w.fc.texts("c-g");
    let results: Vec<_> = texts
        .iter()
        .filter(|(_, t)| t.contains("could not be verified"))
        .collect();
    assert_eq!(results.len(), 1, "{texts:?}");
    let posts =
        w.fc.calls()
            .iter()
            .filter(|(m, p, _)| m == "POST" && p == "/v2/conversations/c-g/messages")
            .count();
    assert_eq!(posts, 1, "posted once");
    let done = count(
        &w,
        "SELECT COUNT(*) FROM sync_outbox WHERE kind = 'chat_message' AND state = 'done'",
    )
    .await;
    assert_eq!(done, 1);
}

both_worlds!(
    a_signed_freshchat_webhook_replayed_after_its_dedupe_record_is_gone_changes_nothing,
    webhook_replay
);
async fn webhook_replay(w: World) {
    w.fc.seed_user("u-1", "Ada", "ada@example.com");
    w.fc.seed_conversation("c-1", "u-1", "channel-1");
    w.fc.seed_user("u-2", "Bob", "bob@example.com");
    // A validly signed delivery captured eight days ago (past the 7-day dedupe retention):
    // its own time says so, and no dedupe record of it is left.
    let mut captured = w.fc.user_writes("c-1", "hello", false);
    let eight_days_ago = idv_server::clock::now_ms() - 8 * idv_server::clock::DAY_MS;
    captured["action_time"] = json!(idv_server::clock::rfc3339(eight_days_ago));
    captured["data"]["message"]["user_id"] = json!("u-2");
    captured["actor"]["actor_id"] = json!("u-2");
    let res = w.fc.deliver(&events_url(&w), &captured).await;
    let message = assert_error(res, 401, "unauthorized").await;
    assert!(message.contains("action_time"), "{message}");
    // Minutes old is refused too; and a delivery without its time cannot be bounded.
    captured["action_time"] = json!(idv_server::clock::rfc3339(
        idv_server::clock::now_ms() - 6 * 60 * 1000
    ));
    let res = w.fc.deliver(&events_url(&w), &captured).await;
    assert_error(res, 401, "unauthorized").await;
    captured
        .as_object_mut()
        .unwrap()
        .remove("action_time")
        .unwrap();
    let res = w.fc.deliver(&events_url(&w), &captured).await;
    assert_error(res, 400, "bad_request").await;
    let rows = "SELECT COUNT(*) FROM inbound_events WHERE source = 'freshchat'";
    assert_eq!(count(&w, rows).await, 0);
    assert_eq!(
        count(&w, "SELECT COUNT(*) FROM chat_conversations").await,
        0,
        "no conversation linked to the replayed user"
    );
    // A fresh delivery is still accepted.
    let fresh = w.fc.user_writes("c-1", "hello", false);
    let res = w.fc.deliver(&events_url(&w), &fresh).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["outcome"], "linked");
}
