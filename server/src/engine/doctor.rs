//! `server check`: tries a tenant's Freshsales and 1Kosmos credentials with read-only calls and
//! says, per check, OK or the exact remedy.

use super::{Engine, TenantRow};
use crate::{freshsales::FsError, sim::freshsales::IDV_FIELDS};

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

fn fs_remedy(e: &FsError) -> String {
    match e {
        FsError::NotFound(_) => {
            "Freshsales has no API at this address: the account URL (bundle alias) is wrong; \
            use the address you sign in at, e.g. https://acme.myfreshworks.com"
                .into()
        }
        FsError::Unreachable(_) | FsError::Timeout => {
            format!("{e}: check the account URL and that this machine can reach it over HTTPS")
        }
        other => other.to_string(),
    }
}

impl Engine {
    /// Runs every check for one tenant.
    pub async fn doctor(&self, t: &TenantRow) -> Vec<Check> {
        let mut out = Vec::new();
        match self.freshsales(t) {
            None => out.push(Check {
                name: "freshsales",
                ok: false,
                detail: "no Freshsales connection: install the app (it registers the account URL and API key)".into(),
            }),
            Some(fs) => match fs.contact_fields().await {
                Ok(fields) => {
                    out.push(Check {
                        name: "freshsales",
                        ok: true,
                        detail: format!("API key accepted at {}", fs.base()),
                    });
                    let missing: Vec<&str> = IDV_FIELDS
                        .iter()
                        .filter(|f| !fields.iter().any(|x| x.name == **f))
                        .copied()
                        .collect();
                    out.push(Check {
                        name: "freshsales fields",
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
                    name: "freshsales",
                    ok: false,
                    detail: fs_remedy(&e),
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
