//! Contract tests of the Freshchat client against its twin: messages into a conversation (as an
//! agent or the system), a user's properties, the token check, the webhook key and its
//! signatures, and each error an operator must be able to act on, with whether a failed post
//! may still have been delivered.

use std::{net::SocketAddr, time::Duration};

use idv_server::{
    adapters::freshchat::{webhook::WebhookKey, FreshchatClient},
    ports::{
        chat::{Chat, ChatError, UserProperty},
        crm::{ContactUpsert, Crm},
        CrmError,
    },
    sim::{
        freshchat::{FcFaults, FreshchatSim},
        Served,
    },
};

const TOKEN: &str = "fc-token";

struct Twin {
    sim: FreshchatSim,
    served: Served,
}

impl Twin {
    async fn start() -> Self {
        let sim = FreshchatSim::new(TOKEN);
        sim.seed_user("u-1", "Jane", "jane@example.com");
        sim.seed_conversation("c-1", "u-1", "channel-1");
        let served = Served::start(SocketAddr::from(([127, 0, 0, 1], 0)), sim.router())
            .await
            .unwrap();
        Self { sim, served }
    }

    fn client(&self, token: &str, agent: Option<&str>) -> FreshchatClient {
        FreshchatClient::new(
            &format!("{}/v2", self.served.url()),
            token.to_string().into(),
            agent.map(str::to_string),
            Duration::from_secs(5),
        )
    }
}

fn props(pairs: &[(&str, &str)]) -> Vec<UserProperty> {
    pairs
        .iter()
        .map(|(n, v)| UserProperty {
            name: n.to_string(),
            value: v.to_string(),
        })
        .collect()
}

#[tokio::test]
async fn messages_go_into_the_conversation_as_the_system_or_an_agent() {
    let t = Twin::start().await;
    let system = t.client(TOKEN, None);
    let id = system
        .post_message("c-1", "Identity verified. (Reference ver_1)")
        .await
        .unwrap();
    assert!(id.is_some(), "the new message's id");
    let agent = t.client(TOKEN, Some("agent-1"));
    agent.post_message("c-1", "hello").await.unwrap();
    assert_eq!(
        t.sim.texts("c-1"),
        vec![
            (
                "system".to_string(),
                "Identity verified. (Reference ver_1)".to_string()
            ),
            ("agent".to_string(), "hello".to_string())
        ]
    );
    assert!(system.has_message("c-1", "ver_1").await.unwrap());
    assert!(!system.has_message("c-1", "ver_2").await.unwrap());
    assert!(system.check().await.is_ok());
    assert!(system.describe().contains("/v2"));

    // An agent that does not exist, a conversation that does not: what to fix.
    let e = t
        .client(TOKEN, Some("agent-9"))
        .post_message("c-1", "x")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ChatError::NotFound(m) if m.contains("AGENT_NOT_FOUND")),
        "{e}"
    );
    let e = system.post_message("c-404", "x").await.unwrap_err();
    assert!(matches!(e, ChatError::NotFound(_)), "{e}");
    assert!(e.is_permanent());
    // Ids that cannot go into a path never leave the client.
    let e = system.post_message("../users", "x").await.unwrap_err();
    assert!(matches!(e, ChatError::Rejected(_)), "{e}");
    assert_eq!(t.sim.calls().len(), 7, "{:?}", t.sim.calls());
}

#[tokio::test]
async fn a_users_properties_are_set_and_the_others_kept() {
    let t = Twin::start().await;
    let c = t.client(TOKEN, None);
    c.set_user_properties("u-1", &props(&[("plan", "gold")]))
        .await
        .unwrap();
    c.set_user_properties(
        "u-1",
        &props(&[
            ("idv_status", "verified"),
            ("idv_verified_at", "2026-12-07T10:00:00Z"),
        ]),
    )
    .await
    .unwrap();
    assert_eq!(t.sim.property("u-1", "plan").as_deref(), Some("gold"));
    assert_eq!(
        t.sim.property("u-1", "idv_status").as_deref(),
        Some("verified")
    );
    assert_eq!(t.sim.user("u-1").unwrap()["email"], "jane@example.com");
    let e = c
        .set_user_properties("u-404", &props(&[("a", "b")]))
        .await
        .unwrap_err();
    assert!(matches!(e, ChatError::NotFound(_)), "{e}");
}

#[tokio::test]
async fn a_wrong_or_regenerated_token_says_how_to_fix_it() {
    let t = Twin::start().await;
    let e = t.client("nope", None).check().await.unwrap_err();
    assert!(
        matches!(&e, ChatError::Unauthorized(m) if m.contains("server tenant freshchat")),
        "{e}"
    );
    // Freshchat has one token at a time: regenerating it ends the old one.
    t.sim.regenerate_token("fc-token-2");
    let e = t
        .client(TOKEN, None)
        .post_message("c-1", "x")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ChatError::Unauthorized(m) if m.contains("regenerated")),
        "{e}"
    );
    assert!(!e.may_have_happened());
    assert!(t.client("fc-token-2", None).check().await.is_ok());
}

#[tokio::test]
async fn failures_say_whether_a_post_may_have_been_delivered() {
    let t = Twin::start().await;
    let c = t.client(TOKEN, None);
    t.sim.set_faults(FcFaults {
        rate_429: 1.0,
        ..Default::default()
    });
    let e = c.post_message("c-1", "x").await.unwrap_err();
    assert_eq!(e.retry_after(), Some(1));
    assert!(!e.may_have_happened());
    t.sim.set_faults(FcFaults {
        error_rate: 1.0,
        ..Default::default()
    });
    let e = c.post_message("c-1", "x").await.unwrap_err();
    assert!(matches!(e, ChatError::Uncertain(_)), "{e}");
    assert!(e.may_have_happened() && !e.is_permanent());
    // Stored, then answered 500: the sender cannot tell, the conversation can.
    t.sim.set_faults(FcFaults {
        lost_answer_rate: 1.0,
        ..Default::default()
    });
    let e = c
        .post_message("c-1", "Result (Reference ver_7)")
        .await
        .unwrap_err();
    assert!(e.may_have_happened(), "{e}");
    t.sim.set_faults(FcFaults::default());
    assert!(c.has_message("c-1", "ver_7").await.unwrap());
    // A refused message may have been delivered too (seen with real accounts): not retried.
    let e = ChatError::Rejected("x".into());
    assert!(e.may_have_happened() && e.is_permanent());
    // Nothing listens: nothing was sent.
    let closed = FreshchatClient::new(
        "http://127.0.0.1:9/v2",
        TOKEN.to_string().into(),
        None,
        Duration::from_secs(2),
    );
    let e = closed.post_message("c-1", "x").await.unwrap_err();
    assert!(matches!(e, ChatError::Unreachable(_)), "{e}");
    assert!(!e.may_have_happened());
}

#[tokio::test]
async fn the_twins_webhooks_verify_with_the_key_an_admin_copies() {
    let t = Twin::start().await;
    let key = WebhookKey::from_pem(&t.sim.public_key_pem()).unwrap();
    let event = t.sim.user_writes("c-1", "hello", false);
    let body = serde_json::to_vec(&event).unwrap();
    let signature = t.sim.sign(&body);
    assert!(key.check(Some(&signature), &body).is_ok());
    let mut altered = body.clone();
    altered.push(b' ');
    assert!(key.check(Some(&signature), &altered).is_err());
    let read = idv_server::adapters::freshchat::webhook::read_event(&body).unwrap();
    assert_eq!(read.conversation_id.as_deref(), Some("c-1"));
    assert_eq!(read.user_id.as_deref(), Some("u-1"));
}

#[tokio::test]
async fn freshdesk_has_no_upsert_by_email() {
    let fd = idv_server::adapters::freshdesk::FreshdeskClient::new(
        "http://127.0.0.1:9/api/v2",
        "k".to_string().into(),
        Duration::from_secs(1),
    );
    let e = fd
        .upsert_contact("jane@example.com", &ContactUpsert::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, CrmError::Unprocessable(m) if m.contains("no upsert")),
        "{e}"
    );
}
