//! The rules that turn a BlockID answer into an [`Outcome`]: they fail closed (verified only
//! on an explicit success with the fields the product needs), and every failure says what
//! happened and what a sales rep does next.

use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::wire::*;
use crate::ports::identity::{Outcome, ResultFields};

/// What a document-share result says, before the face comparison.
#[derive(Debug)]
pub enum IdvVerdict {
    Pending,
    Expired,
    Failed(String),
    Done {
        kind: DocKind,
        faces: Option<Faces>,
        did: Option<String>,
        ial: Option<String>,
        /// Who the document names (for the engine to compare with the CRM record).
        holder: crate::domain::identity::Holder,
    },
}

/// Fail closed: done only on an explicit SUCCESS with a document object and no reason code.
pub fn classify_idv(mut r: IdvResult) -> IdvVerdict {
    let status = r
        .response_status
        .as_deref()
        .unwrap_or("")
        .to_ascii_uppercase();
    let result = r.session_result.as_deref().map(str::to_ascii_uppercase);
    if let Some(code) = r.error_info.as_ref().and_then(|e| e.reason_code.as_deref()) {
        return IdvVerdict::Failed(failure_text(code));
    }
    match (status.as_str(), result.as_deref()) {
        ("INPROGRESS", _) => return IdvVerdict::Pending,
        ("EXPIRED", _) | (_, Some("EXPIRED")) => return IdvVerdict::Expired,
        ("ABANDONED", _) | (_, Some("ABANDONED")) => {
            return IdvVerdict::Failed(
                "The customer left the verification before finishing. Next step: ask whether \
                 they had trouble, then send a new link."
                    .into(),
            )
        }
        ("SUCCESS", None | Some("SUCCESS")) => {}
        (s, r) => {
            return IdvVerdict::Failed(format!(
                "1Kosmos ended the verification without a result (status {}, result {}). Next \
                 step: send a new link; if it happens again, contact support.",
                printable(if s.is_empty() { "none" } else { s }),
                printable(r.unwrap_or("none"))
            ))
        }
    }
    let found = [
        (DocKind::DriversLicence, r.dl_object.take()),
        (DocKind::Passport, r.ppt_object.take()),
        (DocKind::IdCard, r.idcard_object.take()),
    ]
    .into_iter()
    .find_map(|(k, o)| o.map(|o| (k, o)));
    let Some((kind, doc)) = found else {
        return IdvVerdict::Failed(
            "1Kosmos reported success without a document. Next step: send a new link; if it \
             happens again, contact support."
                .into(),
        );
    };
    let holder = doc.holder();
    let faces = match (r.liveid_object.take(), doc.face) {
        (
            Some(LiveIdObject {
                id,
                face: Some(selfie),
            }),
            Some(document),
        ) => Some(Faces {
            live_id: id.unwrap_or_default(),
            document,
            selfie,
        }),
        _ => None,
    };
    IdvVerdict::Done {
        kind,
        faces,
        did: r.did.filter(|d| !d.is_empty()),
        ial: r.ial.filter(|i| !i.is_empty()),
        holder,
    }
}

/// Reads the face comparison of a `/verify` answer: `Ok(score)` only on an explicit `true`.
pub fn classify_face_compare(answer: &Value) -> Result<Option<f64>, String> {
    let f = &FACE_COMPARE;
    let entry = match answer.get(f.list) {
        Some(Value::Array(items)) => items
            .iter()
            .find(|i| i.get(f.kind_field).and_then(Value::as_str) == Some(f.kind)),
        Some(Value::Object(map)) => map.get(f.kind),
        _ => None,
    };
    let Some(entry) = entry else {
        return Err(
            "1Kosmos gave no face comparison verdict. Next step: send a new link; if it \
                    happens again, contact support."
                .into(),
        );
    };
    match entry.get(f.verdict) {
        Some(Value::Bool(true)) => Ok(entry
            .get(f.score)
            .and_then(Value::as_f64)
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| if s > 1.0 { (s / 100.0).min(1.0) } else { s })),
        Some(Value::Bool(false)) => Err("The selfie did not match the photo on the ID. Next \
                                         step: do not proceed on this verification; ask the \
                                         customer to verify again themselves."
            .into()),
        _ => Err(
            "1Kosmos gave no face comparison verdict. Next step: send a new link; if it \
                  happens again, contact support."
                .into(),
        ),
    }
}

/// What we hand the engine for a UWL session: the provider's id plus what the poll must check
/// (when it stops, and which DID may answer, as a salted hash). Stateless, so any instance of
/// the server can poll it after a restart: `uwl1.{expires_s}.{tag}.{session_id}`.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveIdHandle {
    pub session_id: String,
    pub expires_at_s: i64,
    tag: String,
}

impl LiveIdHandle {
    pub fn new(session_id: &str, expires_at_s: i64, did: &str) -> Self {
        Self {
            session_id: session_id.into(),
            expires_at_s,
            tag: did_tag(session_id, did),
        }
    }

    pub fn encode(&self) -> String {
        format!(
            "uwl1.{}.{}.{}",
            self.expires_at_s, self.tag, self.session_id
        )
    }

    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.splitn(4, '.');
        let (v, exp, tag, id) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        (v == "uwl1" && tag.len() == 32 && is_session_id(id)).then_some(())?;
        Some(Self {
            session_id: id.into(),
            expires_at_s: exp.parse().ok()?,
            tag: tag.into(),
        })
    }

    pub fn did_matches(&self, did: &str) -> bool {
        did_tag(&self.session_id, did)
            .as_bytes()
            .ct_eq(self.tag.as_bytes())
            .into()
    }
}

fn did_tag(session_id: &str, did: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"blockid-liveid\0");
    h.update(session_id.as_bytes());
    h.update(b"\0");
    h.update(did.as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// The verdict of a UWL answer: approved only with a DID, and (see [`LIVEID_REQUIRE_SAME_DID`])
/// only from the DID the step-up was started for.
pub fn classify_uwl(user: &UwlUser, top_ial: Option<String>, handle: &LiveIdHandle) -> Outcome {
    let Some(did) = user.did.clone().filter(|d| !d.is_empty()) else {
        return Outcome::Failed {
            reason: "The customer did not approve the request in the BlockID app. Next step: \
                     confirm you are speaking with the customer, then ask again."
                .into(),
        };
    };
    if LIVEID_REQUIRE_SAME_DID && !handle.did_matches(&did) {
        return Outcome::Failed {
            reason: "A different BlockID user answered this request. Next step: do not proceed; \
                     ask the customer to approve from their own app."
                .into(),
        };
    }
    Outcome::Verified(ResultFields {
        ial: user.ial.clone().or(top_ial).filter(|i| !i.is_empty()),
        document_type: None,
        match_confidence: None,
        credential_did: Some(did),
        identity_match: None,
        holder: None,
    })
}

/// A provider-given word, made safe to show (no markup, bounded).
pub fn printable(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || " _-.:,()/".contains(*c))
        .take(120)
        .collect()
}

/// One reason code: what happened and the next step, in a sales rep's words.
pub struct Reason {
    pub code: &'static str,
    pub what: &'static str,
    pub next: &'static str,
}

/// IDV0001–IDV0015 as 1Kosmos's demo apps name them (IDV0013 is in none of their lists).
pub const REASONS: [Reason; 15] = [
    Reason {
        code: "IDV0001",
        what: "The ID scan was not clear enough",
        next: "ask the customer to rescan in good light without glare, then send a new link",
    },
    Reason {
        code: "IDV0002",
        what: "The document check could not be completed",
        next: "send a new link and ask the customer to try again",
    },
    Reason {
        code: "IDV0003",
        what: "Only the front of the ID could be checked",
        next: "send a new link and ask the customer to scan both sides",
    },
    Reason {
        code: "IDV0004",
        what: "The details on the ID could not be read",
        next: "send a new link and ask for a flat, well-lit scan",
    },
    Reason {
        code: "IDV0005",
        what: "The customer scanned a different kind of document",
        next: "tell the customer which document to use, then send a new link",
    },
    Reason {
        code: "IDV0006",
        what: "This kind of ID is not supported",
        next: "ask the customer to use a passport, driver's licence or national ID card",
    },
    Reason {
        code: "IDV0007",
        what: "The data on the ID did not pass the consistency checks",
        next: "send one new link; if it fails again, verify the customer another way",
    },
    Reason {
        code: "IDV0008",
        what: "The ID did not look like a physical document (a copy or a screen)",
        next: "ask the customer to scan the physical ID itself",
    },
    Reason {
        code: "IDV0009",
        what: "The ID could not be validated",
        next: "send one new link; if it fails again, verify the customer another way",
    },
    Reason {
        code: "IDV0010",
        what: "1Kosmos could not complete the check",
        next: "send a new link later; if it keeps failing, contact support",
    },
    Reason {
        code: "IDV0011",
        what: "The ID has expired",
        next: "ask the customer to use an ID that is still valid",
    },
    Reason {
        code: "IDV0012",
        what: "The ID did not pass the fraud checks",
        next: "do not proceed; follow your team's process for suspected fraud",
    },
    Reason {
        code: "IDV0013",
        what: "The check failed (a code 1Kosmos does not document)",
        next: "send a new link; if it fails again, contact support",
    },
    Reason {
        code: "IDV0014",
        what: "The customer used up all scan attempts",
        next: "send a new link when the customer is ready to try again",
    },
    Reason {
        code: "IDV0015",
        what: "This kind of ID is not accepted for this account",
        next: "ask the customer to use another accepted ID",
    },
];

pub fn reason(code: &str) -> Option<&'static Reason> {
    REASONS
        .iter()
        .find(|r| r.code.eq_ignore_ascii_case(code.trim()))
}

/// The failure text stored and shown for a reason code.
pub fn failure_text(code: &str) -> String {
    match reason(code) {
        Some(r) => format!("{} ({}). Next step: {}.", r.what, r.code, r.next),
        None => format!(
            "1Kosmos declined the verification (reason {}). Next step: send a new link; if it \
             fails again, contact support.",
            printable(code)
        ),
    }
}
