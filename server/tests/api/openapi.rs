//! The API document at `/api/v1/openapi.json` is generated from the handlers: every route the
//! backend serves is in it, and its constraints are the ones the server enforces.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::{both_worlds, helpers::assert_error, world::World};

/// Every route the backend serves (the demo's pages aside).
const SERVED: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/api/v1/contacts/{id}/status"),
    ("post", "/api/v1/contacts/{id}/verifications"),
    ("post", "/api/v1/contacts/{id}/step-up"),
    ("get", "/api/v1/contacts/{id}/audit"),
    ("get", "/api/v1/deals/{id}/status"),
    ("post", "/api/v1/deals/{id}/step-up"),
    ("get", "/api/v1/verifications/{id}"),
    ("post", "/api/v1/verifications/{id}/cancel"),
    ("post", "/api/v1/verifications/{id}/resend"),
    ("post", "/api/v1/install"),
    ("post", "/api/v1/uninstall"),
    ("post", "/hooks/kosmos/{tenant}"),
    ("post", "/hooks/freshworks"),
    ("post", "/hooks/freshsales/{tenant}"),
    ("post", "/hooks/freshchat/{tenant}"),
    ("get", "/hooks/freshchat/{tenant}/verifications/{id}"),
    ("post", "/hooks/freshchat/{tenant}/events"),
    ("get", "/hubspot/v1/install"),
    ("get", "/hubspot/v1/oauth/callback"),
    ("post", "/hubspot/v1/webhooks"),
    ("post", "/hubspot/v1/workflow-actions/verify"),
    ("get", "/hubspot/v1/card/contacts/{id}"),
    ("get", "/hubspot/v1/card/deals/{id}"),
    ("post", "/hubspot/v1/card/contacts/{id}/verifications"),
    ("post", "/hubspot/v1/card/contacts/{id}/step-up"),
    ("post", "/hubspot/v1/card/deals/{id}/step-up"),
    ("post", "/hubspot/v1/card/verifications/{id}/resend"),
    ("post", "/hubspot/v1/card/widget-link"),
    ("get", "/hubspot/v1/widget"),
];

async fn document(app: &World) -> Value {
    let res = app
        .http
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            out.insert((method.clone(), path.clone()));
        }
    }
    out
}

both_worlds!(every_route_is_in_the_document, every_route);
async fn every_route(app: World) {
    let doc = document(&app).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let documented = operations(&doc);
    let served: BTreeSet<(String, String)> = SERVED
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(documented, served, "the document and the routes differ");
    // And the server really serves each one: no "no route" 404 and no 405.
    for (method, path) in &documented {
        let url = app.url(&path.replace("{id}", "1").replace("{tenant}", "nobody"));
        let req = if method == "get" {
            app.http.get(&url)
        } else {
            app.http.post(&url)
        };
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let body = res.text().await.unwrap_or_default();
        assert!(
            status != 405 && !body.contains("no route for"),
            "{method} {path} is documented but not served: {status} {body}"
        );
    }
}

both_worlds!(
    the_documented_constraints_are_the_enforced_ones,
    constraints
);
async fn constraints(app: World) {
    let doc = document(&app).await;
    let params = &doc["paths"]["/api/v1/contacts/{id}/status"]["get"]["parameters"];
    let pattern = params
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "id")
        .and_then(|p| p["schema"]["pattern"].as_str())
        .expect("the contact id states its pattern");
    let pattern = regex::Regex::new(pattern).unwrap();
    for id in [
        "1",
        "42",
        "999999999999999999",
        "0",
        "007",
        "1234567890123456789",
        "12a",
        "-1",
        "%C3%9Dg",
        "%EF%BC%91",
    ] {
        let decoded = percent(id);
        let res = app
            .http
            .get(app.url(&format!("/api/v1/contacts/{id}/status")))
            .bearer_auth(&app.token)
            .send()
            .await
            .unwrap();
        let refused = res.status() == 400;
        assert_eq!(
            refused,
            !pattern.is_match(&decoded),
            "{decoded:?}: the document and the server disagree ({})",
            res.status()
        );
    }
    let key = &doc["paths"]["/api/v1/contacts/{id}/verifications"]["post"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Idempotency-Key")
        .expect("the Idempotency-Key is documented")["schema"];
    // The server takes the longest key the document allows and refuses one longer or empty.
    let max = key["maxLength"].as_u64().expect("a documented maxLength") as usize;
    let min = key["minLength"].as_u64().expect("a documented minLength") as usize;
    assert_eq!(min, 1);
    let start = |key: String| {
        app.http
            .post(app.url("/api/v1/contacts/11/verifications"))
            .bearer_auth(&app.token)
            .header("idempotency-key", key)
            .json(&serde_json::json!({}))
            .send()
    };
    let res = start("k".repeat(max)).await.unwrap();
    let status = res.status();
    let body = res.text().await.unwrap();
    assert!(
        !body.contains("Idempotency-Key"),
        "a key of the documented maxLength {max} is refused: {status} {body}"
    );
    for refused in ["k".repeat(max + 1), String::new()] {
        let res = start(refused.clone()).await.unwrap();
        let message = assert_error(res, 400, "bad_request").await;
        assert!(
            message.contains("Idempotency-Key"),
            "{} characters: {message}",
            refused.len()
        );
    }
    let ial = &doc["components"]["schemas"]["IalLevel"]["enum"];
    assert_eq!(ial, &serde_json::json!(["IAL1", "IAL2"]));
    let docs = &doc["components"]["schemas"]["DocumentType"]["enum"];
    assert_eq!(
        docs,
        &serde_json::json!(["drivers_license", "passport", "national_id"])
    );
    // Every schema the document points at is in it (a client generator stops at the first
    // dangling `$ref`), and a set-up gap's codes are listed for the clients that word them.
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r);
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    refs(&doc, &mut found);
    for r in &found {
        let name = r.trim_start_matches("#/components/schemas/");
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "{r} names no schema"
        );
    }
    assert!(
        found.contains(&"#/components/schemas/SetupIssue"),
        "{found:?}"
    );
    let issue = serde_json::to_string(&doc["components"]["schemas"]["SetupIssueCode"]).unwrap();
    for code in [
        "missing",
        "wrong_type",
        "lacks_choices",
        "no_stage",
        "write_refused",
    ] {
        assert!(issue.contains(&format!("\"{code}\"")), "{code}: {issue}");
    }
}

/// Decodes the two percent-encoded samples above (UTF-8).
fn percent(s: &str) -> String {
    let mut bytes = Vec::new();
    let mut it = s.bytes();
    while let Some(b) = it.next() {
        if b == b'%' {
            let hi = it.next().unwrap();
            let lo = it.next().unwrap();
            let hex = |c: u8| (c as char).to_digit(16).unwrap() as u8;
            bytes.push(hex(hi) * 16 + hex(lo));
        } else {
            bytes.push(b);
        }
    }
    String::from_utf8(bytes).unwrap()
}

/// The schema of `path`'s POST body, its `$ref` followed.
fn body_schema<'a>(doc: &'a Value, path: &str) -> &'a Value {
    let schema =
        &doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"];
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap();
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

both_worlds!(
    the_bodies_the_hooks_require_are_the_documented_ones,
    hook_bodies
);
async fn hook_bodies(w: World) {
    let doc: Value = w.json("/api/v1/openapi.json").await;
    let send = |path: String, body: serde_json::Value| {
        w.http
            .post(w.url(&path))
            .header("x-idv-webhook-secret", crate::world::WORKFLOW_SECRET)
            .json(&body)
            .send()
    };
    // The bot's email: required by the document, and refused when absent or empty.
    let bot = body_schema(&doc, "/hooks/freshchat/{tenant}");
    assert!(
        bot["required"]
            .as_array()
            .unwrap()
            .contains(&json!("email")),
        "{bot}"
    );
    assert_eq!(bot["properties"]["email"]["minLength"], 1, "{bot}");
    let path = format!("/hooks/freshchat/{}", crate::world::TENANT);
    for body in [
        json!({"conversation_id": "c-1", "first_name": "Jane", "last_name": "Sample"}),
        json!({"email": "", "conversation_id": "c-1"}),
    ] {
        let res = send(path.clone(), body).await.unwrap();
        assert_error(res, 422, "unprocessable").await;
    }
    // The workflow hook's body: an object with `event`, one of the two the server knows.
    let wf = body_schema(&doc, "/hooks/freshsales/{tenant}");
    assert_eq!(wf["type"], "object", "{wf}");
    assert!(
        wf["required"].as_array().unwrap().contains(&json!("event")),
        "{wf}"
    );
    let event = &wf["properties"]["event"];
    let event = match event["$ref"].as_str() {
        Some(r) => &doc["components"]["schemas"][r.rsplit('/').next().unwrap()],
        None => event,
    };
    assert_eq!(
        event["enum"],
        json!(["contact_created", "deal_stage_changed"]),
        "{event}"
    );
    let path = format!("/hooks/freshsales/{}", crate::world::TENANT);
    for body in [
        json!([]),
        json!({}),
        json!({"event": "deal_won", "deal_id": 501}),
    ] {
        let res = send(path.clone(), body).await.unwrap();
        assert_error(res, 422, "unprocessable").await;
    }
}
