//! `server check`: tries a tenant's CRM and identity-provider credentials with read-only calls
//! and says, per check, OK or the exact remedy.

use super::{Engine, TenantRow};
use crate::domain::fields::missing_fields;

/// One line of the doctor's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    /// What was found, or what to do.
    pub detail: String,
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mark = if self.ok { "OK  " } else { "FAIL" };
        write!(f, "{mark} {:<22} {}", self.name, self.detail)
    }
}

impl Engine {
    /// Runs every check for one tenant.
    pub async fn doctor(&self, t: &TenantRow) -> Vec<Check> {
        let mut out = Vec::new();
        match self.crm(t) {
            None => out.push(Check {
                name: "crm",
                ok: false,
                detail:
                    "no CRM connection: install the app (it registers the account URL and API key)"
                        .into(),
            }),
            Some(crm) => match crm.contact_field_names().await {
                Ok(fields) => {
                    out.push(Check {
                        name: crm.name(),
                        ok: true,
                        detail: format!("API key accepted: {}", crm.describe()),
                    });
                    let missing = missing_fields(fields.iter().map(String::as_str));
                    out.push(Check {
                        name: "crm fields",
                        ok: missing.is_empty(),
                        detail: if missing.is_empty() {
                            "every contact field the app writes exists".into()
                        } else {
                            format!(
                                "create these contact custom fields (Admin Settings → Contact fields): {}",
                                missing.join(", ")
                            )
                        },
                    });
                }
                Err(e) => out.push(Check {
                    name: crm.name(),
                    ok: false,
                    detail: e.to_string(),
                }),
            },
        }
        match self.provider(t) {
            Err(_) => out.push(Check {
                name: "1kosmos",
                ok: false,
                detail: "no 1Kosmos connection: set it with `server tenant add --kosmos-url … --kosmos-key …`".into(),
            }),
            Ok(p) => out.push(match p.check().await {
                Ok(who) => Check {
                    name: "1kosmos",
                    ok: true,
                    detail: format!("API key accepted ({who})"),
                },
                Err(e) => Check {
                    name: "1kosmos",
                    ok: false,
                    detail: e.to_string(),
                },
            }),
        }
        out.push(Check {
            name: "1kosmos callbacks",
            ok: t.kosmos_webhook_secret.is_some(),
            detail: if t.kosmos_webhook_secret.is_some() {
                format!(
                    "signed callbacks expected at {}/hooks/kosmos/{}",
                    self.settings.public_base_url, t.id
                )
            } else {
                "no webhook secret: callbacks will be refused and results arrive by polling only"
                    .into()
            },
        });
        out
    }
}
