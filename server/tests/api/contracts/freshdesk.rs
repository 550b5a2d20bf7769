//! Contract tests of the Freshdesk client against its twin: the requester read, results into
//! the account's own contact fields (names read, never guessed), private ticket notes, the
//! set-up, and each error an agent or operator must be able to act on.

use std::{net::SocketAddr, time::Duration};

use idv_server::{
    adapters::freshdesk::FreshdeskClient,
    domain::setup::CONTACT_FIELDS,
    ports::crm::{Crm, CrmError, Record},
    sim::{
        freshdesk::{FdFaults, FreshdeskSim},
        Served,
    },
};
use serde_json::{json, Map, Value};

const DOMAIN: &str = "acme";
const AGENT: &str = "agent-key";
const ADMIN: &str = "admin-key";

struct Twin {
    sim: FreshdeskSim,
    served: Served,
}

impl Twin {
    async fn start(per_minute: usize) -> Self {
        let sim = FreshdeskSim::new();
        sim.add_account(DOMAIN, AGENT, ADMIN, per_minute);
        sim.seed_contact(
            DOMAIN,
            70,
            "Jane Q Sample",
            "jane@example.com",
            "+44 20 7946 0018",
        );
        sim.seed_ticket(DOMAIN, 500, "Change my bank details", 70);
        let served = Served::start(SocketAddr::from(([127, 0, 0, 1], 0)), sim.router())
            .await
            .unwrap();
        Self { sim, served }
    }

    fn client(&self, key: &str) -> FreshdeskClient {
        FreshdeskClient::new(
            &format!("{}/d/{DOMAIN}/api/v2", self.served.url()),
            key.to_string().into(),
            Duration::from_secs(5),
        )
    }

    /// An admin has created our fields under Freshdesk's own names.
    fn with_fields(&self) {
        for f in CONTACT_FIELDS {
            let (kind, choices): (&str, Vec<&str>) = match f.kind {
                idv_server::domain::setup::FieldKind::Dropdown(c) => {
                    ("custom_dropdown", c.to_vec())
                }
                idv_server::domain::setup::FieldKind::Date => ("custom_date", vec![]),
                idv_server::domain::setup::FieldKind::Number => ("custom_number", vec![]),
                idv_server::domain::setup::FieldKind::Text => ("custom_text", vec![]),
            };
            self.sim.add_custom_field(DOMAIN, f.label, kind, &choices);
        }
    }
}

impl Twin {
    /// The API name the account gave the field labelled `label`.
    fn field_name(&self, label: &str) -> String {
        self.sim
            .with(DOMAIN, |a| {
                a.custom_fields
                    .iter()
                    .find(|f| f["label"] == label)
                    .and_then(|f| f["name"].as_str().map(str::to_string))
            })
            .flatten()
            .unwrap_or_else(|| panic!("no field labelled {label}"))
    }
}

fn result_fields() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("cf_idv_status".into(), json!("verified"));
    m.insert("cf_idv_ial_level".into(), json!("IAL2"));
    m.insert("cf_idv_verified_date".into(), json!("2026-11-24"));
    m
}

#[tokio::test]
async fn the_requester_is_read_with_an_international_phone() {
    let t = Twin::start(100).await;
    let c = t.client(AGENT).contact(70).await.unwrap();
    assert_eq!(c.first_name.as_deref(), Some("Jane Q"));
    assert_eq!(c.last_name.as_deref(), Some("Sample"));
    assert_eq!(c.email.as_deref(), Some("jane@example.com"));
    assert_eq!(c.phone.as_deref(), Some("+442079460018"));
    let e = t.client(AGENT).contact(71).await.unwrap_err();
    assert!(matches!(e, CrmError::NotFound(_)), "{e:?}");
}

#[tokio::test]
async fn results_go_into_the_accounts_own_field_names() {
    let t = Twin::start(100).await;
    let client = t.client(AGENT);
    // Without the fields, the write waits for the set-up (it is not a bad write).
    let e = client
        .write_verification_fields(70, &result_fields())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, CrmError::NotSetUp(m) if m.contains("no contact field \"IDV")),
        "{e:?}"
    );
    t.with_fields();
    let client = t.client(AGENT);
    client
        .write_verification_fields(70, &result_fields())
        .await
        .unwrap();
    let cf = t.sim.contact(DOMAIN, 70).unwrap()["custom_fields"].clone();
    // The twin names fields after their labels and the account (`cf_idv_status_81234`), as
    // Freshdesk does: never our keys, so the client must have read them.
    let name = |label: &str| t.field_name(label);
    assert_ne!(name("IDV Status"), "cf_idv_status");
    assert_eq!(cf[name("IDV Status")], "verified", "{cf}");
    assert_eq!(cf[name("IDV IAL Level")], "IAL2", "{cf}");
    assert_eq!(cf[name("IDV Verified Date")], "2026-11-24", "{cf}");
    assert!(cf.get("cf_idv_status").is_none(), "{cf}");
}

#[tokio::test]
async fn the_result_is_a_private_note_on_the_ticket() {
    let t = Twin::start(100).await;
    let client = t.client(AGENT);
    let id = client
        .add_note(
            Record::Ticket(500),
            "Identity verified (IAL2) <by> Jane\nSession ver_1",
        )
        .await
        .unwrap();
    let notes = t.sim.notes(DOMAIN);
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["id"], id);
    assert_eq!(notes[0]["private"], true);
    assert_eq!(
        notes[0]["body"],
        "Identity verified (IAL2) &lt;by&gt; Jane<br>Session ver_1"
    );
    let e = client.add_note(Record::Ticket(501), "x").await.unwrap_err();
    assert!(matches!(e, CrmError::NotFound(_)), "{e:?}");
    let e = client.add_note(Record::Contact(70), "x").await.unwrap_err();
    assert!(matches!(e, CrmError::Unprocessable(_)), "{e:?}");
}

#[tokio::test]
async fn the_setup_is_read_and_fields_are_created_with_an_admin_key() {
    let t = Twin::start(100).await;
    let facts = t.client(AGENT).setup_facts().await.unwrap();
    assert!(facts.contact_fields.is_empty());
    assert!(!t.client(AGENT).has_custom_modules());
    // An agent's key may not create fields: the reason says so.
    let e = t
        .client(AGENT)
        .create_contact_field(&CONTACT_FIELDS[0])
        .await
        .unwrap_err();
    assert!(
        matches!(&e, CrmError::Unauthorized(m) if m.contains("admin")),
        "{e:?}"
    );
    let admin = t.client(ADMIN);
    for f in CONTACT_FIELDS {
        admin.create_contact_field(f).await.unwrap();
    }
    let facts = admin.setup_facts().await.unwrap();
    assert_eq!(facts.contact_fields.len(), CONTACT_FIELDS.len());
    let status = &facts.contact_fields[0];
    assert_eq!(status.kind, "dropdown");
    assert!(status.choices.contains(&"verified".to_string()));
    assert!(idv_server::domain::setup::field_gaps(
        idv_types::SetupPart::ContactField,
        CONTACT_FIELDS,
        &facts.contact_fields
    )
    .is_empty());
}

#[tokio::test]
async fn errors_name_what_to_fix() {
    let t = Twin::start(2).await;
    let e = t.client("wrong").contact(70).await.unwrap_err();
    assert!(
        matches!(&e, CrmError::Unauthorized(m) if m.contains("API key")),
        "{e:?}"
    );
    // Over the per-minute limit: 429 with the wait.
    let c = t.client(AGENT);
    c.contact(70).await.unwrap();
    c.contact(70).await.unwrap();
    let e = c.contact(70).await.unwrap_err();
    assert!(
        matches!(e, CrmError::RateLimited { retry_after_secs, .. } if (1..=60).contains(&retry_after_secs)),
        "{e:?}"
    );
    // 5xx is transient.
    let t = Twin::start(100).await;
    t.sim.set_faults(FdFaults {
        error_rate: 1.0,
        ..Default::default()
    });
    let e = t.client(AGENT).contact(70).await.unwrap_err();
    assert!(matches!(e, CrmError::Unavailable(_)), "{e:?}");
    // A wrong domain: every call is a bodiless 404.
    let wrong = FreshdeskClient::new(
        &format!("{}/d/nope/api/v2", t.served.url()),
        AGENT.to_string().into(),
        Duration::from_secs(5),
    );
    let e = wrong.contact_field_names().await.unwrap_err();
    assert!(
        matches!(&e, CrmError::NotFound(m) if m.contains("domain")),
        "{e:?}"
    );
}
