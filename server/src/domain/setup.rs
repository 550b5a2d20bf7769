//! What a CRM account needs for this app, and the rule that compares it with what the account
//! has: the contact fields (with types that views, workflows, sequences and lists can filter
//! on), the history module and its fields, and the gated stages of the policy.

use idv_types::{DocumentType, IdvStatus, SessionState, SetupGap, SetupIssue, SetupPart, StageId};

/// The type a field is created with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A dropdown with fixed choices.
    Dropdown(&'static [&'static str]),
    Date,
    Number,
    Text,
}

impl FieldKind {
    /// The type's name as the CRM spells it (`dropdown`, `date`, `number`, `text`).
    pub fn type_name(self) -> &'static str {
        match self {
            Self::Dropdown(_) => "dropdown",
            Self::Date => "date",
            Self::Number => "number",
            Self::Text => "text",
        }
    }

    /// The type as an admin reads it: `dropdown: a, b, c`.
    pub fn describe(self) -> String {
        match self {
            Self::Dropdown(choices) => format!("dropdown: {}", choices.join(", ")),
            other => other.type_name().into(),
        }
    }
}

/// One field to provision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// The API name (`cf_…`).
    pub name: &'static str,
    pub label: &'static str,
    pub kind: FieldKind,
}

/// A custom module to provision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModuleSpec {
    pub name: &'static str,
    pub label: &'static str,
    pub fields: &'static [FieldSpec],
}

const STATUS_CHOICES: &[&str] = &[
    IdvStatus::Pending.as_str(),
    IdvStatus::Verified.as_str(),
    IdvStatus::Failed.as_str(),
    IdvStatus::Expired.as_str(),
    IdvStatus::Lapsed.as_str(),
];
const IAL_CHOICES: &[&str] = &["IAL1", "IAL2"];
const ENROLLED_CHOICES: &[&str] = &["true", "false"];
const DOCUMENT_CHOICES: &[&str] = &[
    DocumentType::DriversLicense.as_str(),
    DocumentType::Passport.as_str(),
    DocumentType::NationalId.as_str(),
];
const KIND_CHOICES: &[&str] = &["idv", "stepup"];
const STATE_CHOICES: &[&str] = &[
    SessionState::Pending.as_str(),
    SessionState::Verified.as_str(),
    SessionState::Failed.as_str(),
    SessionState::Expired.as_str(),
    SessionState::Canceled.as_str(),
    SessionState::Lapsed.as_str(),
];

/// The contact fields this app writes, with their types.
pub const CONTACT_FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "cf_idv_status",
        label: "IDV Status",
        kind: FieldKind::Dropdown(STATUS_CHOICES),
    },
    FieldSpec {
        name: "cf_idv_ial_level",
        label: "IDV IAL Level",
        kind: FieldKind::Dropdown(IAL_CHOICES),
    },
    FieldSpec {
        name: "cf_idv_liveid_enrolled",
        label: "IDV LiveID Enrolled",
        kind: FieldKind::Dropdown(ENROLLED_CHOICES),
    },
    FieldSpec {
        name: "cf_idv_credential_did",
        label: "IDV Credential DID",
        kind: FieldKind::Text,
    },
    FieldSpec {
        name: "cf_idv_verified_date",
        label: "IDV Verified Date",
        kind: FieldKind::Date,
    },
    FieldSpec {
        name: "cf_idv_match_confidence",
        label: "IDV Match Confidence",
        kind: FieldKind::Number,
    },
    FieldSpec {
        name: "cf_idv_document_type",
        label: "IDV Document Type",
        kind: FieldKind::Dropdown(DOCUMENT_CHOICES),
    },
    FieldSpec {
        name: "cf_idv_last_stepup_date",
        label: "IDV Last Step-Up Date",
        kind: FieldKind::Date,
    },
];

/// The custom module holding one record per verification.
pub const HISTORY_MODULE: ModuleSpec = ModuleSpec {
    name: "cm_identity_verifications",
    label: "Identity Verifications",
    fields: &[
        FieldSpec {
            name: "cf_session_id",
            label: "Session ID",
            kind: FieldKind::Text,
        },
        FieldSpec {
            name: "cf_kind",
            label: "Kind",
            kind: FieldKind::Dropdown(KIND_CHOICES),
        },
        FieldSpec {
            name: "cf_state",
            label: "State",
            kind: FieldKind::Dropdown(STATE_CHOICES),
        },
        FieldSpec {
            name: "cf_contact_id",
            label: "Contact ID",
            kind: FieldKind::Number,
        },
        FieldSpec {
            name: "cf_deal_id",
            label: "Deal ID",
            kind: FieldKind::Number,
        },
        FieldSpec {
            name: "cf_ial",
            label: "IAL",
            kind: FieldKind::Text,
        },
        FieldSpec {
            name: "cf_document_type",
            label: "Document Type",
            kind: FieldKind::Text,
        },
        FieldSpec {
            name: "cf_match_confidence",
            label: "Match Confidence",
            kind: FieldKind::Number,
        },
        FieldSpec {
            name: "cf_started_at",
            label: "Started At",
            kind: FieldKind::Text,
        },
        FieldSpec {
            name: "cf_completed_at",
            label: "Completed At",
            kind: FieldKind::Text,
        },
        FieldSpec {
            name: "cf_failure_reason",
            label: "Failure Reason",
            kind: FieldKind::Text,
        },
    ],
};

/// A field as the account has it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HaveField {
    pub name: String,
    /// The CRM's type name, lower case.
    pub kind: String,
    /// Dropdown choices.
    pub choices: Vec<String>,
}

/// Compares `have` with `want`: one gap per missing or mistyped field of `part` (contact or
/// module fields).
pub fn field_gaps(part: SetupPart, want: &[FieldSpec], have: &[HaveField]) -> Vec<SetupGap> {
    want.iter()
        .filter_map(|spec| {
            let gap = |problem: String, issue: SetupIssue| SetupGap {
                field_type: Some(spec.kind.type_name().into()),
                choices: match spec.kind {
                    FieldKind::Dropdown(choices) => choices.iter().map(|c| c.to_string()).collect(),
                    _ => Vec::new(),
                },
                ..SetupGap::new(
                    part,
                    spec.label,
                    spec.name,
                    spec.kind.describe(),
                    problem,
                    issue,
                )
            };
            let Some(field) = have.iter().find(|f| f.name == spec.name) else {
                return Some(gap("missing".into(), SetupIssue::missing()));
            };
            let kind = field.kind.to_ascii_lowercase();
            if !type_matches(spec.kind, &kind) {
                return Some(gap(
                    format!(
                        "has type {kind}; views and workflows need {}",
                        spec.kind.type_name()
                    ),
                    SetupIssue::wrong_type(&kind, spec.kind.type_name()),
                ));
            }
            if let FieldKind::Dropdown(choices) = spec.kind {
                let lacking: Vec<&str> = choices
                    .iter()
                    .copied()
                    .filter(|c| !field.choices.iter().any(|h| h == c))
                    .collect();
                if !lacking.is_empty() {
                    return Some(gap(
                        format!("lacks the choices {}", lacking.join(", ")),
                        SetupIssue::lacks_choices(lacking.iter().map(|c| c.to_string()).collect()),
                    ));
                }
            }
            None
        })
        .collect()
}

/// Whether a CRM type name (as the fields API reports it) is the kind asked for.
/// UNCONFIRMED: the exact type names of the fields API; synonyms are accepted here only.
fn type_matches(want: FieldKind, have: &str) -> bool {
    match want {
        FieldKind::Dropdown(_) => matches!(have, "dropdown" | "select" | "picklist"),
        FieldKind::Date => matches!(have, "date" | "datepicker"),
        FieldKind::Number => matches!(have, "number" | "numeric" | "decimal"),
        FieldKind::Text => matches!(have, "text" | "textfield" | "string" | "textarea"),
    }
}

/// The gated stages of a policy (names or ids) that name no stage of the account's pipelines.
pub fn stage_gaps(
    gated: &[String],
    stage_names: &[String],
    stage_ids: &[StageId],
) -> Vec<SetupGap> {
    gated
        .iter()
        .filter(|g| {
            let g = g.trim();
            !stage_ids.iter().any(|id| id.as_str() == g)
                && !stage_names.iter().any(|s| s.eq_ignore_ascii_case(g))
        })
        .map(|g| {
            let close = stage_names
                .iter()
                .find(|s| edit_distance(&s.to_lowercase(), &g.to_lowercase()) <= 2);
            SetupGap::new(
                SetupPart::DealStage,
                g.clone(),
                g.clone(),
                "a stage of a deal pipeline",
                match close {
                    Some(s) => {
                        format!("no stage of this name; did you mean {s:?}? It gates nothing")
                    }
                    None => "no stage of this name in any pipeline; it gates nothing".into(),
                },
                SetupIssue::no_stage(close.cloned()),
            )
        })
        .collect()
}

/// Levenshtein distance, for "did you mean" (short names only).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn have(name: &str, kind: &str, choices: &[&str]) -> HaveField {
        HaveField {
            name: name.into(),
            kind: kind.into(),
            choices: choices.iter().map(|c| c.to_string()).collect(),
        }
    }

    #[test]
    fn missing_mistyped_and_short_dropdowns_are_named_with_their_labels() {
        let mut fields: Vec<HaveField> = CONTACT_FIELDS
            .iter()
            .map(|f| {
                let choices = match f.kind {
                    FieldKind::Dropdown(c) => c.to_vec(),
                    _ => vec![],
                };
                have(f.name, f.kind.type_name(), &choices)
            })
            .collect();
        assert!(field_gaps(SetupPart::ContactField, CONTACT_FIELDS, &fields).is_empty());
        fields.retain(|f| f.name != "cf_idv_verified_date");
        fields[0] = have("cf_idv_status", "text", &[]);
        fields[1] = have("cf_idv_ial_level", "dropdown", &["IAL1"]);
        let gaps = field_gaps(SetupPart::ContactField, CONTACT_FIELDS, &fields);
        let problems: Vec<(&str, &str)> = gaps
            .iter()
            .map(|g| (g.label.as_str(), g.problem.as_str()))
            .collect();
        assert_eq!(
            problems,
            [
                (
                    "IDV Status",
                    "has type text; views and workflows need dropdown"
                ),
                ("IDV IAL Level", "lacks the choices IAL2"),
                ("IDV Verified Date", "missing"),
            ]
        );
        assert_eq!(
            gaps[0].expected,
            "dropdown: pending, verified, failed, expired, lapsed"
        );
        // The same, as codes the widget and the card word in the rep's language.
        let codes: Vec<(SetupPart, Option<&str>, &SetupIssue)> = gaps
            .iter()
            .map(|g| (g.part, g.field_type.as_deref(), &g.issue))
            .collect();
        assert_eq!(
            codes,
            [
                (
                    SetupPart::ContactField,
                    Some("dropdown"),
                    &SetupIssue::wrong_type("text", "dropdown")
                ),
                (
                    SetupPart::ContactField,
                    Some("dropdown"),
                    &SetupIssue::lacks_choices(vec!["IAL2".into()])
                ),
                (
                    SetupPart::ContactField,
                    Some("date"),
                    &SetupIssue::missing()
                ),
            ]
        );
        assert_eq!(gaps[1].choices, ["IAL1", "IAL2"]);
        assert!(gaps[2].choices.is_empty());
    }

    #[test]
    fn a_misspelled_gated_stage_is_reported_with_a_suggestion() {
        let stages = vec!["Prospecting".to_string(), "Negotiation".to_string()];
        let gaps = stage_gaps(
            &[
                "negotiation".into(),
                "Negotation".into(),
                "Closed".into(),
                "202".into(),
                "999".into(),
            ],
            &stages,
            &[201.into(), 202.into()],
        );
        let named: Vec<&str> = gaps.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(named, ["Negotation", "Closed", "999"]);
        assert!(gaps[0].problem.contains("did you mean \"Negotiation\""));
        assert!(gaps[1].problem.contains("gates nothing"));
        assert_eq!(
            gaps[0].issue,
            SetupIssue::no_stage(Some("Negotiation".into()))
        );
        assert_eq!(gaps[1].issue, SetupIssue::no_stage(None));
        assert!(gaps.iter().all(|g| g.part == SetupPart::DealStage));
    }
}
