//! Browser tests of the widget (headless Chromium via wasm-bindgen-test-runner): the badge, and
//! the whole widget over a fake transport that answers like the backend.
#![cfg(target_arch = "wasm32")]

use std::{cell::RefCell, rc::Rc};

use idv_types::IdvStatus;
use idv_widget::{
    api::Api,
    clock::{self, iso_from_now},
    model::Subject,
    transport::{Call, Endpoint, Reply, Sent, Transport},
    BadgeState, StatusBadge, Widget,
};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

mod common;

use common::{find, tick};

wasm_bindgen_test_configure!(run_in_browser);

const DAY: f64 = 24.0 * 60.0 * 60.0 * 1000.0;

/// The suite's moved-clock pass builds these tests with `IDV_CLOCK_OFFSET_MS` set (a year
/// ahead): every time below is relative to the widget's clock, so both passes must agree.
fn move_clock() {
    if let Some(ms) = option_env!("IDV_CLOCK_OFFSET_MS").and_then(|v| v.parse::<f64>().ok()) {
        clock::set_offset(ms);
    }
}

fn fresh_root() -> web_sys::HtmlElement {
    move_clock();
    let doc = web_sys::window().unwrap().document().unwrap();
    let root: web_sys::HtmlElement = doc.create_element("section").unwrap().unchecked_into();
    doc.body().unwrap().append_child(&root).unwrap();
    root
}

#[wasm_bindgen_test]
async fn badge_shows_every_state_and_announces_changes() {
    let root = fresh_root();
    let state = RwSignal::new(BadgeState::Loading);
    let _handle =
        leptos::mount::mount_to(root.clone(), move || view! { <StatusBadge state=state /> });
    tick().await;
    let badge = root
        .query_selector("[data-testid=idv-badge]")
        .unwrap()
        .unwrap();
    assert_eq!(badge.text_content().unwrap(), "Loading…");
    for (s, text, class) in [
        (IdvStatus::NotVerified, "Not verified", "badge-neutral"),
        (IdvStatus::Pending, "Pending", "badge-pending"),
        (IdvStatus::Verified, "Verified", "badge-verified"),
        (IdvStatus::Failed, "Failed", "badge-failed"),
        (IdvStatus::Expired, "Link expired unused", "badge-expired"),
        (IdvStatus::Lapsed, "Verification lapsed", "badge-expired"),
    ] {
        state.set(BadgeState::Status(s));
        tick().await;
        assert_eq!(badge.text_content().unwrap(), text);
        assert!(
            badge.class_list().contains(class),
            "{s:?} should have {class}"
        );
    }
}

/// Answers like the backend; records the calls.
struct Fake {
    calls: Rc<RefCell<Vec<Call>>>,
    answer: Box<dyn Fn(&Call) -> Reply>,
}

impl Transport for Fake {
    fn send(&self, call: Call) -> Sent {
        let reply = (self.answer)(&call);
        self.calls.borrow_mut().push(call);
        Box::pin(async move { Ok(reply) })
    }
}

fn ok(body: serde_json::Value) -> Reply {
    Reply {
        status: 200,
        body: body.to_string(),
    }
}

fn mount(
    subject: Subject,
    answer: impl Fn(&Call) -> Reply + 'static,
) -> (web_sys::HtmlElement, Rc<RefCell<Vec<Call>>>) {
    let root = fresh_root();
    let calls = Rc::new(RefCell::new(Vec::new()));
    let api = Api::new(Rc::new(Fake {
        calls: calls.clone(),
        answer: Box::new(answer),
    }));
    let r = root.clone();
    std::mem::forget(leptos::mount::mount_to(r, move || {
        view! { <Widget subject=subject api=api.clone() user=Some("rep@acme.example".to_string()) /> }
    }));
    (root, calls)
}

#[wasm_bindgen_test]
async fn a_verified_contact_shows_its_facts_and_names_render_as_text() {
    let (root, _) = mount(Subject::Contact(42), |_| {
        ok(serde_json::json!({
            "contact_id": 42, "status": "verified", "liveid_enrolled": true,
            "ial": {"level": "IAL2", "revision": "800-63-3"}, "document_type": "passport",
            "match_confidence": 0.97, "verified_at": iso_from_now(-54.0 * DAY), "expires_at": iso_from_now(311.0 * DAY),
            "identity_match": "partial",
            "history": [{"id": "ver_2", "kind": "idv", "state": "verified", "contact_id": 42,
                "created_at": iso_from_now(-54.0 * DAY), "identity_match": "partial"},
                {"id": "ver_1", "kind": "idv", "state": "failed", "contact_id": 42,
                "created_at": iso_from_now(-84.0 * DAY), "failure_reason": "<img src=x onerror=alert(1)>"}]
        }))
    });
    let badge = find(&root, "[data-testid=idv-badge].badge-verified").await;
    assert_eq!(badge.text_content().unwrap(), "Verified");
    let facts = find(&root, "[data-testid=idv-facts]")
        .await
        .text_content()
        .unwrap();
    assert!(
        facts.contains("IAL2") && facts.contains("Passport") && facts.contains("97"),
        "{facts}"
    );
    // The name on the ID matched the contact's only in part: the rep reads it.
    assert!(facts.contains("Name on IDMatches in part"), "{facts}");
    let history = find(&root, "[data-testid=idv-history]").await;
    assert!(
        history
            .text_content()
            .unwrap()
            .contains("Name on ID: Matches in part"),
        "the partial match is on its history row"
    );
    assert!(history
        .text_content()
        .unwrap()
        .contains("<img src=x onerror=alert(1)>"));
    assert!(
        history.query_selector("img").unwrap().is_none(),
        "markup must not become elements"
    );
}

#[wasm_bindgen_test]
async fn verify_identity_shows_the_link_and_its_qr_code() {
    let (root, calls) = mount(Subject::Contact(7), |call| {
        match &call.endpoint {
        Endpoint::ContactStatus { .. } => ok(serde_json::json!({
            "contact_id": 7, "status": "not_verified", "liveid_enrolled": false, "history": []})),
        Endpoint::StartVerification { .. } => Reply {
            status: 201,
            body: serde_json::json!({"id": "ver_9", "kind": "idv", "state": "pending", "contact_id": 7,
                "created_at": iso_from_now(0.0), "hosted_url": "https://verify.example/s/abc",
                "session_expires_at": iso_from_now(DAY)}).to_string(),
        },
        _ => ok(serde_json::json!({"id": "ver_9", "kind": "idv", "state": "pending", "contact_id": 7,
            "created_at": iso_from_now(-1000.0), "hosted_url": "https://verify.example/s/abc"})),
    }
    });
    find(&root, "[data-testid=idv-badge].badge-neutral").await;
    let open: web_sys::HtmlElement = find(&root, ".actions .btn-primary").await.unchecked_into();
    assert_eq!(open.text_content().unwrap(), "Verify Identity");
    open.click();
    let form: web_sys::HtmlFormElement =
        find(&root, "[data-testid=idv-form]").await.unchecked_into();
    let submit: web_sys::HtmlElement = form
        .query_selector("button[type=submit]")
        .unwrap()
        .unwrap()
        .unchecked_into();
    submit.click();
    let panel = find(&root, "[data-testid=idv-link-panel]").await;
    let input: web_sys::HtmlInputElement = panel
        .query_selector("input.link")
        .unwrap()
        .unwrap()
        .unchecked_into();
    assert_eq!(input.value(), "https://verify.example/s/abc");
    find(&root, "[data-testid=idv-qr] svg").await;
    let started = calls
        .borrow()
        .iter()
        .find(|c| matches!(c.endpoint, Endpoint::StartVerification { .. }))
        .cloned()
        .expect("a start call");
    let body = started.body.unwrap();
    assert!(body.contains("rep@acme.example"), "{body}");
    assert!(body.contains("IAL2"), "{body}");
}

#[wasm_bindgen_test]
async fn an_incomplete_setup_shows_a_banner_and_the_link_can_go_by_sms() {
    let (root, calls) = mount(Subject::Contact(7), |call| {
        match &call.endpoint {
        Endpoint::ContactStatus { .. } => ok(serde_json::json!({
            "contact_id": 7, "status": "not_verified", "liveid_enrolled": false, "history": [],
            "deliveries": ["show", "sms"],
            "setup": {"complete": false, "checked_at": iso_from_now(0.0), "gaps": [
                {"what": "contact field", "label": "IDV Status", "name": "cf_idv_status",
                 "expected": "dropdown: pending, verified, failed, expired", "problem": "missing"}]}})),
        Endpoint::StartVerification { .. } => Reply {
            status: 201,
            body: serde_json::json!({"id": "ver_9", "kind": "idv", "state": "pending", "contact_id": 7,
                "created_at": iso_from_now(0.0), "hosted_url": "https://verify.example/s/abc",
                "delivery": "sms", "session_expires_at": iso_from_now(DAY)}).to_string(),
        },
        _ => ok(serde_json::json!({"id": "ver_9", "kind": "idv", "state": "pending", "contact_id": 7,
            "created_at": iso_from_now(-1000.0), "hosted_url": "https://verify.example/s/abc",
            "delivery": "sms"})),
    }
    });
    let banner = find(&root, "[data-testid=setup-banner]").await;
    let text = banner.text_content().unwrap();
    assert!(
        text.contains("Ask your admin") && text.contains("IDV Status") && text.contains("dropdown"),
        "{text}"
    );
    let open: web_sys::HtmlElement = find(&root, ".actions .btn-primary").await.unchecked_into();
    open.click();
    // Email is not offered by this account's provider; SMS is.
    let choices = find(&root, "[data-testid=idv-delivery]").await;
    assert!(choices
        .query_selector("input[value=email]")
        .unwrap()
        .is_none());
    let sms: web_sys::HtmlInputElement = choices
        .query_selector("input[value=sms]")
        .unwrap()
        .expect("an SMS choice")
        .unchecked_into();
    sms.click();
    let submit: web_sys::HtmlElement = find(&root, "[data-testid=idv-form] button[type=submit]")
        .await
        .unchecked_into();
    submit.click();
    let note = find(&root, "[data-testid=idv-delivered]").await;
    assert!(note.text_content().unwrap().contains("Texted"));
    let started = calls
        .borrow()
        .iter()
        .find(|c| matches!(c.endpoint, Endpoint::StartVerification { .. }))
        .cloned()
        .expect("a start call");
    let body = started.body.unwrap();
    assert!(body.contains(r#""delivery":"sms""#), "{body}");
}

#[wasm_bindgen_test]
async fn step_up_for_an_unenrolled_contact_says_what_to_do() {
    let (root, _) = mount(Subject::Deal(5), |call| {
        match &call.endpoint {
        Endpoint::DealStatus { .. } => ok(serde_json::json!({
            "deal_id": 5, "gated": true, "gate_satisfied": false,
            "stage": {"id": 204, "name": "Negotiation"}, "gated_stages": [{"id": 204, "name": "Negotiation"}],
            "primary_contact": {"contact_id": 7, "status": "not_verified", "liveid_enrolled": false, "history": []}})),
        _ => Reply {
            status: 409,
            body: serde_json::json!({"error": "not_enrolled", "message": "contact 7 is not enrolled in 1Kosmos LiveID yet"}).to_string(),
        },
    }
    });
    let gate = find(&root, "[data-testid=idv-gate]")
        .await
        .text_content()
        .unwrap();
    assert!(
        gate.contains("Negotiation") && gate.contains("needs a verified contact"),
        "{gate}"
    );
    let buttons = root.query_selector_all(".actions .btn").unwrap();
    let step_up = (0..buttons.length())
        .filter_map(|i| buttons.get(i))
        .map(|n| n.unchecked_into::<web_sys::HtmlElement>())
        .find(|b| b.text_content().unwrap().contains("Step-Up"))
        .expect("a Step-Up Auth button");
    step_up.click();
    let notice = find(&root, "[data-testid=idv-not-enrolled]")
        .await
        .text_content()
        .unwrap();
    assert!(
        notice.contains("Verify the contact's identity first"),
        "{notice}"
    );
}

#[wasm_bindgen_test]
async fn an_error_offers_retry_and_retry_recovers() {
    let failures = Rc::new(RefCell::new(1));
    let (root, _) = mount(Subject::Contact(3), move |_| {
        if *failures.borrow() > 0 {
            *failures.borrow_mut() -= 1;
            return Reply {
                status: 503,
                body: serde_json::json!({"error": "unavailable", "message": "the service is temporarily unavailable; retry shortly"}).to_string(),
            };
        }
        ok(
            serde_json::json!({"contact_id": 3, "status": "verified", "liveid_enrolled": false, "history": []}),
        )
    });
    let error = find(&root, "[data-testid=idv-error]").await;
    assert!(
        error
            .text_content()
            .unwrap()
            .contains("temporarily unavailable"),
        "{}",
        root.inner_html()
    );
    let retry: web_sys::HtmlElement = find(&root, "[data-testid=idv-retry]")
        .await
        .unchecked_into();
    retry.click();
    find(&root, "[data-testid=idv-badge].badge-verified").await;
    assert!(root
        .query_selector("[data-testid=idv-error]")
        .unwrap()
        .is_none());
}

#[wasm_bindgen_test]
async fn a_step_up_shows_its_qr_code_and_counts_down() {
    let (root, _) = mount(Subject::Deal(8), |call| {
        match &call.endpoint {
        Endpoint::DealStatus { .. } => ok(serde_json::json!({
            "deal_id": 8, "gated": false, "gate_satisfied": true, "gated_stages": [],
            "primary_contact": {"contact_id": 4, "status": "verified", "liveid_enrolled": true, "history": []}})),
        _ => Reply {
            status: 201,
            body: serde_json::json!({"id": "ver_s", "kind": "stepup", "state": "pending", "contact_id": 4, "deal_id": 8,
                "created_at": iso_from_now(0.0), "qr_payload": "https://liveid.example/q/1",
                "session_expires_at": iso_from_now(90_000.0)}).to_string(),
        },
    }
    });
    find(&root, "[data-testid=idv-gate]").await;
    let buttons = root.query_selector_all(".actions .btn").unwrap();
    let step_up = (0..buttons.length())
        .filter_map(|i| buttons.get(i))
        .map(|n| n.unchecked_into::<web_sys::HtmlElement>())
        .find(|b| b.text_content().unwrap() == "Step-Up Auth")
        .expect("a Step-Up Auth button");
    step_up.click();
    find(&root, "[data-testid=idv-stepup] [data-testid=idv-qr] svg").await;
    let first = find(&root, "[data-testid=idv-countdown]")
        .await
        .text_content()
        .unwrap();
    assert!(
        first.starts_with("1:2") || first.starts_with("1:3"),
        "about a minute and a half left: {first}"
    );
    // The clock ticks every second: within three the countdown has moved.
    let mut later = first.clone();
    for _ in 0..300 {
        tick().await;
        later = root
            .query_selector("[data-testid=idv-countdown]")
            .unwrap()
            .unwrap()
            .text_content()
            .unwrap();
        if later != first {
            break;
        }
    }
    assert_ne!(first, later, "the countdown ticks");
}

#[wasm_bindgen_test]
async fn step_up_on_an_enrolled_contact_page_shows_its_qr_code_and_counts_down() {
    let (root, calls) = mount(Subject::Contact(4), |call| {
        match &call.endpoint {
        Endpoint::ContactStatus { .. } => ok(serde_json::json!({
            "contact_id": 4, "status": "verified", "liveid_enrolled": true, "history": []})),
        _ => Reply {
            status: 201,
            body: serde_json::json!({"id": "ver_c", "kind": "stepup", "state": "pending", "contact_id": 4,
                "created_at": iso_from_now(0.0), "qr_payload": "https://liveid.example/q/2",
                "session_expires_at": iso_from_now(90_000.0)})
            .to_string(),
        },
    }
    });
    find(&root, "[data-testid=idv-badge].badge-verified").await;
    find(&root, ".actions .btn").await;
    let buttons = root.query_selector_all(".actions .btn").unwrap();
    let labels: Vec<String> = (0..buttons.length())
        .filter_map(|i| buttons.get(i))
        .filter_map(|n| n.text_content())
        .collect();
    assert_eq!(labels, ["Verify again", "Step-Up Auth"], "both buttons");
    let step_up = (0..buttons.length())
        .filter_map(|i| buttons.get(i))
        .map(|n| n.unchecked_into::<web_sys::HtmlElement>())
        .find(|b| b.text_content().unwrap() == "Step-Up Auth")
        .expect("a Step-Up Auth button");
    step_up.click();
    find(&root, "[data-testid=idv-stepup] [data-testid=idv-qr] svg").await;
    assert!(
        calls
            .borrow()
            .iter()
            .any(|c| c.endpoint == Endpoint::StartContactStepUp { contact_id: 4 }),
        "the contact's own step-up route was called"
    );
    let first = find(&root, "[data-testid=idv-countdown]")
        .await
        .text_content()
        .unwrap();
    assert!(
        first.starts_with("1:2") || first.starts_with("1:3"),
        "about a minute and a half left: {first}"
    );
    let mut later = first.clone();
    for _ in 0..300 {
        tick().await;
        later = root
            .query_selector("[data-testid=idv-countdown]")
            .unwrap()
            .unwrap()
            .text_content()
            .unwrap();
        if later != first {
            break;
        }
    }
    assert_ne!(first, later, "the countdown ticks");
}

#[wasm_bindgen_test]
async fn a_contact_without_liveid_gets_no_step_up_button() {
    let (root, _) = mount(Subject::Contact(5), |_| {
        ok(serde_json::json!({
            "contact_id": 5, "status": "not_verified", "liveid_enrolled": false, "history": []}))
    });
    find(&root, "[data-testid=idv-badge]").await;
    find(&root, ".actions .btn").await;
    let buttons = root.query_selector_all(".actions .btn").unwrap();
    let labels: Vec<String> = (0..buttons.length())
        .filter_map(|i| buttons.get(i))
        .filter_map(|n| n.text_content())
        .collect();
    assert_eq!(labels, ["Verify Identity"]);
}

#[wasm_bindgen_test]
async fn the_history_panel_shows_the_contact_s_activity_on_demand() {
    let (root, calls) = mount(Subject::Contact(6), |call| match &call.endpoint {
        Endpoint::ContactAudit { .. } => ok(serde_json::json!({"entries": [
            {"at": iso_from_now(-60_000.0), "action": "crm_write", "session_id": "ver_a", "record": "note"},
            {"at": iso_from_now(-120_000.0), "action": "result", "session_id": "ver_a", "detail": "verified"},
            {"at": iso_from_now(-300_000.0), "action": "start_idv", "session_id": "ver_a",
             "detail": "contact 6 IAL2 by rep@example.com (as the widget reports), link by email"}
        ]})),
        _ => ok(serde_json::json!({"contact_id": 6, "status": "verified", "history": []})),
    });
    find(&root, "[data-testid=idv-badge].badge-verified").await;
    assert!(
        !calls
            .borrow()
            .iter()
            .any(|c| matches!(c.endpoint, Endpoint::ContactAudit { .. })),
        "loaded only when asked"
    );
    let show: web_sys::HtmlElement = find(&root, "[data-testid=idv-activity] button")
        .await
        .unchecked_into();
    assert_eq!(show.text_content().unwrap(), "Show activity");
    show.click();
    find(&root, "[data-testid=idv-activity] li").await;
    let items = root
        .query_selector_all("[data-testid=idv-activity] li")
        .unwrap();
    let texts: Vec<String> = (0..items.length())
        .filter_map(|i| items.get(i))
        .filter_map(|n| n.text_content())
        .collect();
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert!(
        texts[0].starts_with("Written to the CRM (note)"),
        "{texts:?}"
    );
    assert!(
        texts[1].contains("Result") && texts[1].contains("verified"),
        "{texts:?}"
    );
    assert!(
        texts[2].starts_with("Verification started") && texts[2].contains("link by email"),
        "{texts:?}"
    );
    assert_eq!(show.text_content().unwrap(), "Hide activity");
}

/// The action-bar button labelled `label` (bounded wait).
async fn button(root: &web_sys::HtmlElement, label: &str) -> web_sys::HtmlElement {
    for _ in 0..200 {
        let buttons = root.query_selector_all(".actions button").unwrap();
        for i in 0..buttons.length() {
            let b = buttons.item(i).unwrap();
            if b.text_content().as_deref() == Some(label) {
                return b.unchecked_into();
            }
        }
        tick().await;
    }
    panic!("no {label:?} button; page: {}", root.inner_html());
}

#[wasm_bindgen_test]
async fn resend_after_expiry_sends_the_link_again_by_email_and_shows_it() {
    let resent = Rc::new(std::cell::Cell::new(false));
    let flag = resent.clone();
    let (root, calls) = mount(Subject::Contact(7), move |call| {
        let expired = serde_json::json!({"id": "ver_old", "kind": "idv", "state": "expired",
            "contact_id": 7, "created_at": iso_from_now(-2.0 * DAY), "delivery": "email"});
        let fresh = serde_json::json!({"id": "ver_new", "kind": "idv", "state": "pending",
            "contact_id": 7, "created_at": iso_from_now(0.0), "delivery": "email",
            "hosted_url": "https://verify.example/s/new", "session_expires_at": iso_from_now(DAY)});
        match &call.endpoint {
            Endpoint::ContactStatus { .. } if flag.get() => ok(serde_json::json!({
                "contact_id": 7, "status": "pending", "current": fresh,
                "history": [fresh, expired], "deliveries": ["show", "email"]})),
            Endpoint::ContactStatus { .. } => ok(serde_json::json!({
                "contact_id": 7, "status": "expired", "history": [expired],
                "deliveries": ["show", "email"]})),
            Endpoint::ResendVerification { .. } => {
                flag.set(true);
                Reply {
                    status: 201,
                    body: serde_json::json!({"verification": fresh, "new_session": true,
                        "message": "The link had expired, so a new verification was started and its link emailed to the contact."})
                    .to_string(),
                }
            }
            _ => ok(fresh),
        }
    });
    find(&root, "[data-testid=idv-badge].badge-expired").await;
    button(&root, "Resend link").await.click();
    let panel = find(&root, "[data-testid=idv-link-panel]").await;
    let input: web_sys::HtmlInputElement = panel
        .query_selector("input.link")
        .unwrap()
        .unwrap()
        .unchecked_into();
    assert_eq!(input.value(), "https://verify.example/s/new");
    let note = find(&root, "[data-testid=idv-delivered]").await;
    assert!(note.text_content().unwrap().contains("Emailed"));
    find(&root, "[data-testid=idv-badge].badge-pending").await;
    let resends: Vec<_> = calls
        .borrow()
        .iter()
        .filter(|c| matches!(&c.endpoint, Endpoint::ResendVerification { verification_id } if verification_id == "ver_old"))
        .cloned()
        .collect();
    assert_eq!(resends.len(), 1, "one click, one request");
    let body = resends[0].body.clone().unwrap();
    assert!(body.contains("rep@acme.example"), "{body}");
    // The new link is out: no second resend offered.
    let bar = root
        .query_selector(".actions")
        .unwrap()
        .map(|a| a.text_content().unwrap_or_default())
        .unwrap_or_default();
    assert!(!bar.contains("Resend link"), "{bar}");
}
