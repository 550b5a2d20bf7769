//! The pages "the customer" uses in the BlockID simulator: the hosted capture page (pick an
//! outcome: success, a face mismatch, or any reason code) and the LiveID approval page that the
//! QR code of a UWL session leads to.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{Html, IntoResponse, Response},
    Form,
};
use serde::Deserialize;

use super::{BlockIdSim, IdvOutcome, IdvState, UwlReply};
use crate::adapters::blockid::wire::{REASONS, UWL_LIFETIME_S};

fn esc(s: &str) -> String {
    html_escape::encode_double_quoted_attribute(s).into_owned()
}

fn page(title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content="width=device-width,initial-scale=1"><title>{title}</title>
<style>body{{font:15px/1.5 system-ui,sans-serif;max-width:520px;margin:40px auto;padding:0 16px;color:#1b2733}}
h1{{font-size:20px}} .brand{{color:#5b2ee0;font-weight:700}} fieldset{{border:1px solid #dde3ea;border-radius:8px;padding:14px;margin:0 0 12px}}
label{{display:block;margin:8px 0}} button{{margin:6px 8px 0 0;padding:8px 12px;border-radius:6px;border:0;background:#5b2ee0;color:#fff;font-weight:600;cursor:pointer}}
button.secondary{{background:#eef0f4;color:#1b2733}}</style></head>
<body><p class=brand>1Kosmos BlockID · simulated</p><h1>{title}</h1>{body}</body></html>"#
    )
}

fn not_found() -> Response {
    let body = page("Link not valid", "<p>This link is not valid.</p>");
    (StatusCode::NOT_FOUND, Html(body)).into_response()
}

fn conflict(e: &str) -> Response {
    let body = page(
        "Not possible",
        &format!("<p>{}</p>", html_escape::encode_text(e)),
    );
    (StatusCode::CONFLICT, Html(body)).into_response()
}

#[derive(Debug, Deserialize)]
pub struct Pick {
    pub outcome: String,
    /// The name on the document the customer presents (unchanged: their own).
    #[serde(default)]
    pub holder_first_name: Option<String>,
    #[serde(default)]
    pub holder_last_name: Option<String>,
}

pub async fn capture(State(sim): State<BlockIdSim>, Path(id): Path<String>) -> Response {
    let Some(s) = sim.idv_session(&id) else {
        return not_found();
    };
    let body = match &s.state {
        IdvState::Done(o) => format!(
            "<p class=done data-testid=session-state>This session is finished ({}). You can \
             close this page.</p>",
            esc(&format!("{o:?}"))
        ),
        IdvState::InProgress => {
            let reasons: String = REASONS
                .iter()
                .map(|r| {
                    format!(
                        "<button name=outcome value={code} class=secondary \
                         data-testid={code}>{code}: {what}</button>",
                        code = r.code,
                        what = esc(r.why.what())
                    )
                })
                .collect();
            format!(
                r#"<p>Verify your identity with a photo ID ({kind}) and a selfie.</p>
<form method=post><fieldset><legend>Simulated result</legend>
<label>Name on the document <input name=holder_first_name value="{first}" size=12 data-testid=holder-first> <input name=holder_last_name value="{last}" size=14 data-testid=holder-last></label>
<button name=outcome value=success data-testid=approve>Submit ID and selfie (pass)</button>
<button name=outcome value=face_mismatch class=secondary data-testid=face-mismatch>Selfie of someone else</button>
<button name=outcome value=abandoned class=secondary data-testid=abandon>Abandon</button>
<button name=outcome value=expired class=secondary data-testid=expire>Let it expire</button></fieldset>
<fieldset><legend>Fail with a reason code</legend>{reasons}</fieldset></form>"#,
                kind = s.kind.product(),
                first = esc(&s.holder.0),
                last = esc(&s.holder.1),
            )
        }
    };
    Html(page("1Kosmos identity verification", &body)).into_response()
}

pub async fn capture_submit(
    State(sim): State<BlockIdSim>,
    Path(id): Path<String>,
    Form(p): Form<Pick>,
) -> Response {
    let presented = match (
        p.holder_first_name.as_deref(),
        p.holder_last_name.as_deref(),
    ) {
        (None, None) => Ok(()),
        (first, last) => sim.present_document(&id, first.unwrap_or(""), last.unwrap_or("")),
    };
    let done = presented.and_then(|()| {
        p.outcome
            .parse::<IdvOutcome>()
            .and_then(|o| sim.complete_idv(&id, o))
    });
    match done {
        Ok(()) => capture(State(sim), Path(id)).await,
        Err(e) => conflict(&e),
    }
}

#[derive(Debug, Deserialize)]
pub struct Answer {
    pub answer: String,
    #[serde(default)]
    pub did: String,
}

pub async fn liveid(State(sim): State<BlockIdSim>, Path(id): Path<String>) -> Response {
    let Some(s) = sim.uwl_session(&id) else {
        return not_found();
    };
    let left = (s.created_ms + i64::from(UWL_LIFETIME_S.1) * 1000 - sim.now_ms()).max(0) / 1000;
    let body = if let Some(r) = &s.reply {
        let what = match r {
            UwlReply::Approve { .. } => "approved",
            UwlReply::Deny => "declined",
            UwlReply::Posted { .. } => "answered",
        };
        format!("<p class=done data-testid=session-state>You {what} this request.</p>")
    } else if left == 0 {
        "<p class=done data-testid=session-state>This request has expired.</p>".into()
    } else {
        let options: String = sim
            .enrolled()
            .iter()
            .rev()
            .map(|d| format!("<option value=\"{0}\">{0}</option>", esc(d)))
            .collect();
        format!(
            r#"<p>A sign-in request is waiting in your BlockID app. It expires in {left} s.</p>
<form method=post><label>Answer as <select name=did data-testid=did>{options}<option value="did:sim:someone-else">someone else</option></select></label>
<button name=answer value=approve data-testid=approve>Approve with LiveID</button>
<button name=answer value=deny class=secondary data-testid=deny>Deny</button></form>"#
        )
    };
    Html(page("1Kosmos BlockID sign-in", &body)).into_response()
}

pub async fn liveid_submit(
    State(sim): State<BlockIdSim>,
    Path(id): Path<String>,
    Form(a): Form<Answer>,
) -> Response {
    let reply = match (a.answer.as_str(), a.did.trim()) {
        ("approve", did) if !did.is_empty() => UwlReply::Approve { did: did.into() },
        ("approve", _) => return conflict("no BlockID user to approve as"),
        _ => UwlReply::Deny,
    };
    match sim.answer_uwl(&id, reply) {
        Ok(()) => liveid(State(sim), Path(id)).await,
        Err(e) => conflict(&e),
    }
}
