//! The rules that turn a BlockID answer into an [`Outcome`]: they fail closed (verified only
//! on an explicit success with the fields the product needs), and every failure says what
//! happened and what a sales rep does next.

use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::wire::*;
use crate::{
    domain::reasons::{printable, Failure},
    ports::identity::{Outcome, ResultFields},
};

/// What a document-share result says, before the face comparison.
#[derive(Debug)]
pub enum IdvVerdict {
    Pending,
    Expired,
    /// Why, and the provider's own detail (its reason code, the status it ended in).
    Failed(Failure, Option<String>),
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
        let (why, detail) = failure_of(code);
        return IdvVerdict::Failed(why, Some(detail));
    }
    match (status.as_str(), result.as_deref()) {
        ("INPROGRESS", _) => return IdvVerdict::Pending,
        ("EXPIRED", _) | (_, Some("EXPIRED")) => return IdvVerdict::Expired,
        ("ABANDONED", _) | (_, Some("ABANDONED")) => {
            return IdvVerdict::Failed(Failure::Abandoned, None)
        }
        ("SUCCESS", None | Some("SUCCESS")) => {}
        (s, r) => {
            return IdvVerdict::Failed(
                Failure::NoResult,
                Some(format!(
                    "status {}, result {}",
                    printable(if s.is_empty() { "none" } else { s }),
                    printable(r.unwrap_or("none"))
                )),
            )
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
        return IdvVerdict::Failed(Failure::NoDocument, None);
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
pub fn classify_face_compare(answer: &Value) -> Result<Option<f64>, Failure> {
    let f = &FACE_COMPARE;
    let entry = match answer.get(f.list) {
        Some(Value::Array(items)) => items
            .iter()
            .find(|i| i.get(f.kind_field).and_then(Value::as_str) == Some(f.kind)),
        Some(Value::Object(map)) => map.get(f.kind),
        _ => None,
    };
    let Some(entry) = entry else {
        return Err(Failure::NoFaceVerdict);
    };
    match entry.get(f.verdict) {
        Some(Value::Bool(true)) => Ok(entry
            .get(f.score)
            .and_then(Value::as_f64)
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| if s > 1.0 { (s / 100.0).min(1.0) } else { s })),
        Some(Value::Bool(false)) => Err(Failure::FaceMismatch),
        _ => Err(Failure::NoFaceVerdict),
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
        return Outcome::failed(Failure::NotApproved, None);
    };
    if LIVEID_REQUIRE_SAME_DID && !handle.did_matches(&did) {
        return Outcome::failed(Failure::OtherUser, None);
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

/// One BlockID reason code and what it means ([`Failure`] words it).
pub struct Reason {
    pub code: &'static str,
    pub why: Failure,
}

/// IDV0001–IDV0015 as 1Kosmos's demo apps name them (IDV0013 is in none of their lists).
pub const REASONS: [Reason; 15] = [
    Reason {
        code: "IDV0001",
        why: Failure::ScanUnclear,
    },
    Reason {
        code: "IDV0002",
        why: Failure::CheckIncomplete,
    },
    Reason {
        code: "IDV0003",
        why: Failure::FrontOnly,
    },
    Reason {
        code: "IDV0004",
        why: Failure::Unreadable,
    },
    Reason {
        code: "IDV0005",
        why: Failure::WrongDocument,
    },
    Reason {
        code: "IDV0006",
        why: Failure::UnsupportedDocument,
    },
    Reason {
        code: "IDV0007",
        why: Failure::Inconsistent,
    },
    Reason {
        code: "IDV0008",
        why: Failure::NotPhysical,
    },
    Reason {
        code: "IDV0009",
        why: Failure::NotValidated,
    },
    Reason {
        code: "IDV0010",
        why: Failure::ProviderError,
    },
    Reason {
        code: "IDV0011",
        why: Failure::DocumentExpired,
    },
    Reason {
        code: "IDV0012",
        why: Failure::Fraud,
    },
    Reason {
        code: "IDV0013",
        why: Failure::UndocumentedCode,
    },
    Reason {
        code: "IDV0014",
        why: Failure::AttemptsUsed,
    },
    Reason {
        code: "IDV0015",
        why: Failure::NotAccepted,
    },
];

pub fn reason(code: &str) -> Option<&'static Reason> {
    REASONS
        .iter()
        .find(|r| r.code.eq_ignore_ascii_case(code.trim()))
}

/// What a reason code means: the table's entry with the code, or an unknown reason with the
/// code (made printable) for support.
pub fn failure_of(code: &str) -> (Failure, String) {
    match reason(code) {
        Some(r) => (r.why, r.code.into()),
        None => (
            Failure::Unknown,
            format!("1Kosmos reason {}", printable(code)),
        ),
    }
}

/// The failure text stored and shown for a reason code.
pub fn failure_text(code: &str) -> String {
    let (why, detail) = failure_of(code);
    why.sentence(Some(&detail))
}
