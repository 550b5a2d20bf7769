//! The app installed in Freshdesk: the ticket sidebar verifies the ticket's requester, the
//! result lands in the requester's Freshdesk contact fields and as a private note on the
//! ticket; `onTicketCreate` verifies requesters by policy.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use idv_server::{
    http::auth,
    services::{tenant, Policy},
    sim::{freshdesk::FreshdeskSim, Served},
};
use serde_json::{json, Value};

use crate::both_worlds;
use crate::{
    both,
    helpers::{assert_error, Db},
    world::{generous_start_limits, spawn_world, World, ALIAS},
};

const DOMAIN: &str = "helpacme";
const AGENT_KEY: &str = "fd-agent-key";
const ADMIN_KEY: &str = "fd-admin-key";
const DESK: &str = "desk";
const REQUESTER: u64 = 70;
const TICKET: u64 = 500;

/// A world with a second tenant, installed from a Freshdesk account (its twin on loopback).
struct Desk {
    w: World,
    token: String,
    fd: FreshdeskSim,
    _served: Served,
    account_url: String,
}

impl Desk {
    async fn start(db: Db) -> Option<Self> {
        let w = spawn_world(db).await?;
        let fd = FreshdeskSim::new();
        fd.add_account(DOMAIN, AGENT_KEY, ADMIN_KEY, 10_000);
        fd.seed_contact(
            DOMAIN,
            REQUESTER,
            "Jane Q Sample",
            "jane@example.com",
            "+44 20 7946 0018",
        );
        fd.seed_ticket(DOMAIN, TICKET, "Change my bank details", REQUESTER);
        let served = Served::start(SocketAddr::from(([127, 0, 0, 1], 0)), fd.router())
            .await
            .unwrap();
        let token = auth::generate_token();
        let store = w.app.state.services.core.store();
        store
            .insert_tenant(DESK, "Acme Support", &auth::hash_token(&token))
            .await
            .unwrap();
        tenant::set_connections(
            store,
            w.app.services().core.sealer(),
            DESK,
            &tenant::Connections {
                hourly_limit: Some(1_000_000),
                ..w.twins.connections(false)
            },
        )
        .await
        .unwrap();
        tenant::set_start_limits(store, DESK, &generous_start_limits())
            .await
            .unwrap();
        let account_url = format!("{}/d/{DOMAIN}", served.url());
        Some(Self {
            w,
            token,
            fd,
            _served: served,
            account_url,
        })
    }

    /// The serverless onAppInstall of the Freshdesk installation.
    async fn install(&self, key: &str, policy: &Policy) -> reqwest::Response {
        self.w
            .post_signed_as(
                &self.token,
                "/api/v1/install",
                &[("x-freshdesk-api-key", key)],
                &json!({"account_url": self.account_url, "product": "freshdesk", "policy": policy}),
            )
            .await
    }

    async fn installed(db: Db, policy: Policy) -> Option<Self> {
        let d = Self::start(db).await?;
        let res = d.install(ADMIN_KEY, &policy).await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        Some(d)
    }

    async fn get(&self, path: &str) -> Value {
        let res = self
            .w
            .http
            .get(self.w.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "GET {path}: {}", res.status());
        res.json().await.unwrap()
    }

    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.w
            .http
            .post(self.w.url(path))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// The requester's custom fields as Freshdesk holds them.
    fn fields(&self) -> Value {
        self.fd.contact(DOMAIN, REQUESTER).unwrap()["custom_fields"].clone()
    }

    /// The private notes on the ticket.
    fn ticket_notes(&self) -> Vec<Value> {
        self.fd
            .notes(DOMAIN)
            .into_iter()
            .filter(|n| n["ticket_id"] == TICKET)
            .collect()
    }

    async fn until(&self, what: &str, check: impl Fn(&Self) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !check(self) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// The value of the field labelled `label` among `fields` (names as Freshdesk gave them).
fn field(d: &Desk, fields: &Value, label: &str) -> Value {
    let name =
        d.fd.with(DOMAIN, |a| {
            a.custom_fields
                .iter()
                .find(|f| f["label"] == label)
                .and_then(|f| f["name"].as_str().map(str::to_string))
        })
        .flatten()
        .unwrap_or_else(|| panic!("no field labelled {label}"));
    fields[name.as_str()].clone()
}

both!(
    a_ticket_requester_verified_from_the_ticket_sidebar_lands_in_freshdesk,
    ticket_sidebar
);
async fn ticket_sidebar(db: Db) {
    let Some(d) = Desk::start(db).await else {
        return;
    };
    // Installed with an admin's key: the app creates its contact fields in Freshdesk.
    let res = d.install(ADMIN_KEY, &Policy::default()).await;
    assert_eq!(res.status(), 200);
    let installed: Value = res.json().await.unwrap();
    assert_eq!(installed["setup"]["complete"], true, "{installed}");

    // The sidebar reads the requester's status: unknown yet, and the freshness window.
    let status = d.get(&format!("/api/v1/contacts/{REQUESTER}/status")).await;
    assert_eq!(status["status"], "not_verified");
    assert_eq!(status["fresh_minutes"], 30);
    assert!(status.get("setup").is_none(), "{status}");

    // The agent clicks Verify Identity on the ticket.
    let res = d
        .post(
            &format!("/api/v1/contacts/{REQUESTER}/verifications"),
            json!({"ticket_id": TICKET, "delivery": "email"}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["ticket_id"], TICKET);
    let id = v["id"].as_str().unwrap().to_string();
    // The provider was asked with the requester's Freshdesk record.
    let session =
        d.w.ks
            .sessions()
            .into_iter()
            .find(|s| s.reference == id)
            .unwrap();
    assert_eq!(session.request["user"]["email"], "jane@example.com");
    assert_eq!(session.request["user"]["phone"], "+442079460018");

    d.w.customer(&id, "verified");
    d.until("the requester's fields", |d| {
        field(d, &d.fields(), "IDV Status") == "verified"
    })
    .await;
    let fields = d.fields();
    assert_eq!(field(&d, &fields, "IDV Document Type"), "drivers_license");
    d.until("the private note on the ticket", |d| {
        d.ticket_notes()
            .iter()
            .any(|n| n["body"].as_str().unwrap_or("").contains("verified"))
    })
    .await;
    let notes = d.ticket_notes();
    assert_eq!(notes.len(), 1, "one note per verification: {notes:?}");
    assert_eq!(notes[0]["private"], true);
    assert!(notes[0]["body"].as_str().unwrap().contains(&id));

    let status = d.get(&format!("/api/v1/contacts/{REQUESTER}/status")).await;
    assert_eq!(status["status"], "verified");
    assert!(status["verified_at"].is_string());

    // The Freshsales tenant of the same backend, which has a contact with the same id, saw
    // none of it: neither the requester's status nor the session.
    d.w.fs.seed_contact(
        ALIAS,
        REQUESTER,
        "Other",
        "Person",
        "other@example.com",
        "+1 415 555 0100",
    );
    let other =
        d.w.json(&format!("/api/v1/contacts/{REQUESTER}/status"))
            .await;
    assert_eq!(other["status"], "not_verified", "{other}");
    assert!(other["current"].is_null(), "{other}");
    assert_eq!(other["history"], json!([]), "{other}");
    let res = d.w.get(&format!("/api/v1/verifications/{id}")).await;
    assert_error(res, 404, "not_found").await;
}

both!(
    on_ticket_create_verifies_the_requester_of_the_tickets_the_policy_names,
    ticket_policy
);
async fn ticket_policy(db: Db) {
    let policy = Policy {
        verify_new_tickets: true,
        ticket_types: vec!["Account change".into()],
        ..Policy::default()
    };
    let Some(d) = Desk::installed(db, policy).await else {
        return;
    };
    let event = |ticket: u64, kind: &str| {
        json!({"event": "onTicketCreate", "account_url": d.account_url,
               "data": {"ticket": {"id": ticket, "requester_id": REQUESTER, "type": kind, "group_id": 4}}})
    };
    // A question: not a ticket the policy names.
    let res =
        d.w.post_signed_as(&d.token, "/hooks/freshworks", &[], &event(501, "Question"))
            .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["result"]["outcome"], "policy_off", "{body}");
    assert_eq!(d.w.ks.creates_received(), 0);

    // An account change: the requester gets a link by email, the agents a private note.
    d.fd.seed_ticket(DOMAIN, TICKET, "Change my bank details", REQUESTER);
    let res =
        d.w.post_signed_as(
            &d.token,
            "/hooks/freshworks",
            &[],
            &event(TICKET, "account change"),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["result"]["outcome"], "started", "{body}");
    let id = body["result"]["verification_id"]
        .as_str()
        .unwrap()
        .to_string();
    let session =
        d.w.ks
            .sessions()
            .into_iter()
            .find(|s| s.reference == id)
            .unwrap();
    assert_eq!(session.request["send_email"], true, "{:?}", session.request);
    d.until("the start's note on the ticket", |d| {
        d.ticket_notes().iter().any(|n| {
            let b = n["body"].as_str().unwrap_or("");
            b.contains("requested") && b.contains("emailed")
        })
    })
    .await;

    // The result follows on the same ticket.
    d.w.customer(&id, "verified");
    d.until("the result's note on the ticket", |d| {
        d.ticket_notes().len() == 2
    })
    .await;
    // A Freshdesk account has no tasks: nothing was dead-lettered.
    let dead =
        d.w.app
            .state
            .services
            .core
            .store()
            .dead_outbox_rows()
            .await
            .unwrap();
    assert!(dead.is_empty(), "{dead:?}");
}

both_worlds!(
    a_ticket_is_refused_where_the_account_has_no_tickets,
    tickets_only_on_freshdesk
);
async fn tickets_only_on_freshdesk(w: World) {
    let res = w
        .post(
            "/api/v1/contacts/11/verifications",
            json!({"ticket_id": TICKET}),
        )
        .await;
    let msg = assert_error(res, 422, "unprocessable").await;
    assert!(msg.contains("Freshdesk"), "{msg}");
    assert_eq!(w.ks.creates_received(), 0);
}

both!(
    a_freshdesk_install_needs_a_freshdesk_address_and_key,
    desk_install_input
);
async fn desk_install_input(db: Db) {
    let Some(d) = Desk::start(db).await else {
        return;
    };
    // Without the Freshdesk key header.
    let res =
        d.w.post_signed_as(
            &d.token,
            "/api/v1/install",
            &[("x-freshsales-api-key", ADMIN_KEY)],
            &json!({"account_url": d.account_url, "product": "freshdesk"}),
        )
        .await;
    let msg = assert_error(res, 422, "unprocessable").await;
    assert!(msg.contains("Freshdesk API key"), "{msg}");
    // A product the app does not know.
    let res =
        d.w.post_signed_as(
            &d.token,
            "/api/v1/install",
            &[("x-freshdesk-api-key", ADMIN_KEY)],
            &json!({"account_url": d.account_url, "product": "freshservice"}),
        )
        .await;
    assert_error(res, 422, "unprocessable").await;
    // A wrong key: Freshdesk's 401, said so.
    let res = d.install("not-a-key", &Policy::default()).await;
    let msg = assert_error(res, 422, "unprocessable").await;
    assert!(msg.contains("key"), "{msg}");
    // A Freshsales address is not a Freshdesk account.
    let res =
        d.w.post_signed_as(
            &d.token,
            "/api/v1/install",
            &[("x-freshdesk-api-key", ADMIN_KEY)],
            &json!({"account_url": "https://acme.myfreshworks.com", "product": "freshdesk"}),
        )
        .await;
    let msg = assert_error(res, 422, "unprocessable").await;
    assert!(msg.contains("Freshdesk address"), "{msg}");
}

both!(
    a_result_is_noted_only_on_a_ticket_the_contact_raised,
    ticket_of_another_contact
);
async fn ticket_of_another_contact(db: Db) {
    let Some(d) = Desk::installed(db, Policy::default()).await else {
        return;
    };
    // Another customer of the desk; the ticket is Jane's.
    d.fd.seed_contact(
        DOMAIN,
        4242,
        "Mallory Other",
        "mallory@example.com",
        "+44 20 7946 0999",
    );
    let res = d
        .post(
            "/api/v1/contacts/4242/verifications",
            json!({"ticket_id": TICKET, "delivery": "email"}),
        )
        .await;
    let msg = assert_error(res, 422, "unprocessable").await;
    assert!(msg.contains("another contact"), "{msg}");
    let res = d
        .post(
            &format!("/api/v1/contacts/{REQUESTER}/verifications"),
            json!({"ticket_id": 999_999, "delivery": "email"}),
        )
        .await;
    assert_error(res, 404, "not_found").await;
    assert!(d.w.ks.sessions().is_empty(), "no session started");
    // The requester's own ticket is fine.
    let res = d
        .post(
            &format!("/api/v1/contacts/{REQUESTER}/verifications"),
            json!({"ticket_id": TICKET, "delivery": "email"}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
}
