//! The card's `hubspot.fetch` calls: signed, for the account and app HubSpot signed for.

use serde_json::{json, Value};

use super::*;
use crate::both_worlds;

both_worlds!(
    the_card_reads_a_contact_for_the_account_hubspot_signed_for_and_nothing_else,
    card
);
async fn card(w: World) {
    install_with_lifetime(&w, 1800).await;
    // A contact the backend does not know is looked up in HubSpot first; one HubSpot does not
    // have either is not found.
    let unknown = format!("/hubspot/v1/card/contacts/12?{CARD_QUERY}");
    let res = card_call(&w, "GET", &unknown, None, now_ms(), |u| u).await;
    assert_eq!(res.status(), 404);
    // One the backend knows is read from its own records.
    w.app
        .state
        .services
        .core
        .store()
        .upsert_contact(TENANT_ID, 11, false)
        .await
        .unwrap();
    let path = format!("/hubspot/v1/card/contacts/11?{CARD_QUERY}");
    let res = card_call(&w, "GET", &path, None, now_ms(), |u| u).await;
    let code = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(code, 200, "{text}");
    let status: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(status["contact_id"], 11);
    assert_eq!(status["status"], "not_verified");

    // Another account's id put into a signed URL: the signature no longer matches.
    let res = card_call(&w, "GET", &path, None, now_ms(), |u| {
        u.replace("portalId=7310001", "portalId=7310002")
    })
    .await;
    assert_eq!(res.status(), 401);
    // A recorded call replayed later, or with only the timeless v2 signature: refused.
    let res = card_call(&w, "GET", &path, None, now_ms() - 6 * 60 * 1000, |u| u).await;
    assert_eq!(res.status(), 401);
    let url = w.url(&path);
    let v2 = idv_server::adapters::hubspot::signature::sign_v2(
        idv_server::testkit::HUBSPOT_CLIENT_SECRET,
        "GET",
        &url,
        b"",
    );
    let res = reqwest::Client::new()
        .get(&url)
        .header("x-hubspot-signature", v2)
        .header("x-hubspot-signature-version", "v2")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // Signed by HubSpot, but for an account that has not installed the app, or another app.
    for query in [
        "appId=7001&portalId=5&userId=42",
        "appId=9&portalId=7310001&userId=42",
    ] {
        let path = format!("/hubspot/v1/card/contacts/11?{query}");
        let res = card_call(&w, "GET", &path, None, now_ms(), |u| u).await;
        assert_eq!(res.status(), 403, "{query}");
    }

    // The body never names the account or the user: a body that tries is refused.
    let start = format!("/hubspot/v1/card/contacts/11/verifications?{CARD_QUERY}");
    let res = card_call(
        &w,
        "POST",
        &start,
        Some(&json!({"portalId": 1, "idempotency_key": "k1"})),
        now_ms(),
        |u| u,
    )
    .await;
    assert_eq!(res.status().as_u16() / 100, 4);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("portalId"),
        "{body}"
    );
    // Another account's session (the Freshsales tenant's) cannot be resent from this card.
    let theirs = w.start_idv(11).await;
    let id = theirs.id.as_str();
    let resend = format!("/hubspot/v1/card/verifications/{id}/resend?{CARD_QUERY}");
    let res = card_post(&w, &resend, &json!({"idempotency_key": "r1"})).await;
    assert_eq!(res.status(), 404);
    // A well-formed start gets a precise answer (never a 500).
    let res = card_post(&w, &start, &json!({"idempotency_key": "k1"})).await;
    assert!(
        res.status().is_client_error() || res.status().is_success(),
        "{}",
        res.status()
    );
    let body: Value = res.json().await.unwrap();
    assert!(body.is_object(), "{body}");
}

both_worlds!(
    when_hubspots_headers_say_the_accounts_calls_are_spent_the_backend_waits_instead_of_calling,
    spent
);
async fn spent(w: World) {
    install_with_lifetime(&w, 1800).await;
    let hs = &w.twins.hubspot;
    let contacts: Vec<u64> = hs.with_records(|r| {
        (0..4)
            .map(|i| r.add_contact(&json!({"firstname": format!("Rep {i}")})))
            .collect()
    });
    // The account allows three calls per interval; each new contact is read from HubSpot once.
    hs.with_records(|r| r.set_limit(3, std::time::Duration::from_millis(1500)));
    let read = |id: u64| {
        let path = format!("/hubspot/v1/card/contacts/{id}?{CARD_QUERY}");
        let w = &w;
        async move { card_call(w, "GET", &path, None, now_ms(), |u| u).await }
    };
    for id in &contacts[..3] {
        assert_eq!(read(*id).await.status(), 200);
    }
    // HubSpot said none are left: the fourth read waits for the interval, and the card is told
    // when to try again, without a call HubSpot would refuse.
    let res = read(contacts[3]).await;
    assert_eq!(res.status(), 429);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    let body: Value = res.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("HubSpot API budget"),
        "{body}"
    );
    assert!(
        hs.calls().iter().all(|c| c.status != 429),
        "HubSpot never had to refuse a call"
    );
    tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
    assert_eq!(read(contacts[3]).await.status(), 200, "after the interval");
}

both_worlds!(
    a_card_call_through_hubspots_proxy_is_answered_for_the_rep_and_account_it_signs_for,
    proxied
);
async fn proxied(w: World) {
    install_with_lifetime(&w, 1800).await;
    use idv_server::sim::hubspot::fetch::{CardFetch, CardUser};
    let hs = &w.twins.hubspot;
    let contact = hs.with_records(|r| r.add_contact(&json!({"firstname": "Katherine"})));
    let rep = CardUser {
        id: 42,
        email: "rep@example.com".into(),
    };
    let call = |method: &str, path: &str, body: Option<Value>| CardFetch {
        url: w.url(path),
        method: method.into(),
        body,
        headers: Default::default(),
        timeout: None,
    };
    let read = hs
        .card_fetch(
            &call("GET", &format!("/hubspot/v1/card/contacts/{contact}"), None),
            &rep,
        )
        .await
        .unwrap();
    assert_eq!(read.status, 200, "{}", read.body);
    let status: Value = serde_json::from_str(&read.body).unwrap();
    assert_eq!(status["status"], "not_verified");

    // A POST's JSON body is signed with the rest: the modal's link is given.
    let minted = hs
        .card_fetch(
            &call(
                "POST",
                "/hubspot/v1/card/widget-link",
                Some(json!({"object_type": "contacts", "object_id": contact.to_string()})),
            ),
            &rep,
        )
        .await
        .unwrap();
    assert_eq!(minted.status, 200, "{minted:?}");
    let link: Value = serde_json::from_str(&minted.body).unwrap();
    assert!(link["url"].as_str().unwrap().contains("ticket="), "{link}");

    // HubSpot's proxy lets a card pass no header but Authorization.
    let mut with_header = call("GET", &format!("/hubspot/v1/card/contacts/{contact}"), None);
    with_header
        .headers
        .insert("X-Tenant".into(), "another".into());
    let (status, body) = hs.card_fetch(&with_header, &rep).await.unwrap_err();
    assert_eq!(status, 400);
    assert_eq!(body["category"], "VALIDATION_ERROR");
    // Nor reach a URL the app did not list.
    hs.permit_fetch(vec!["https://idv.example.com/".into()]);
    let refused = hs
        .card_fetch(
            &call("GET", &format!("/hubspot/v1/card/contacts/{contact}"), None),
            &rep,
        )
        .await
        .unwrap_err();
    assert!(refused.1["message"]
        .as_str()
        .unwrap()
        .contains("permittedUrls"));
}
