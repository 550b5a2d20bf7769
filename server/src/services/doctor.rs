//! `server check`: tries a tenant's CRM and identity-provider credentials with read-only calls
//! and says, per check, OK or the exact remedy.

use std::sync::Arc;

use idv_types::SetupReport;

use super::{core::Core, setup::Setup, tenant::TenantRow};

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

/// Tries a tenant's connections for the operator.
#[derive(Clone, Debug)]
pub struct Doctor {
    core: Arc<Core>,
    setup: Setup,
}

impl Doctor {
    pub fn new(core: Arc<Core>, setup: Setup) -> Self {
        Self { core, setup }
    }

    /// `server check`'s lines for a tenant with a Freshchat connection (none without one).
    pub async fn chat_checks(&self, t: &TenantRow) -> Vec<Check> {
        if t.chat.is_none() && t.chat_webhook_key.is_none() {
            return Vec::new();
        }
        let api = match self.core.tenants.chat(t) {
            None => Check {
                name: "freshchat",
                ok: false,
                detail: "no API address or token: set them with `server tenant freshchat ID \
                         --api-url … --token-env …`"
                    .into(),
            },
            Some(chat) => match chat.check().await {
                Ok(()) => Check {
                    name: "freshchat",
                    ok: true,
                    detail: format!("API token accepted: {}", chat.describe()),
                },
                Err(e) => Check {
                    name: "freshchat",
                    ok: false,
                    detail: e.to_string(),
                },
            },
        };
        let hooks = match self.core.tenants.chat_webhooks(t) {
            Ok(_) => Check {
                name: "freshchat webhooks",
                ok: true,
                detail: format!(
                    "signed webhooks expected at {}/hooks/freshchat/{}/events",
                    self.core.settings.public_base_url, t.id
                ),
            },
            Err(e) => Check {
                name: "freshchat webhooks",
                ok: false,
                detail: e,
            },
        };
        vec![api, hooks]
    }

    /// Runs every check for one tenant.
    pub async fn doctor(&self, t: &TenantRow) -> Vec<Check> {
        let mut out = Vec::new();
        match self.core.tenants.crm(t) {
            None => out.push(Check {
                name: "crm",
                ok: false,
                detail:
                    "no CRM connection: install the app (it registers the account URL and API key)"
                        .into(),
            }),
            Some(crm) => match crm.contact_field_names().await {
                Ok(_) => {
                    out.push(Check {
                        name: crm.name(),
                        ok: true,
                        detail: format!("API key accepted: {}", crm.describe()),
                    });
                    out.push(match self.setup.check_setup(t).await {
                        Ok(r) => Check {
                            name: "crm set-up",
                            ok: r.complete,
                            detail: setup_detail(&r),
                        },
                        Err(e) => Check {
                            name: "crm set-up",
                            ok: false,
                            detail: format!("could not be read: {e}"),
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
        match self.core.tenants.provider(t) {
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
            ok: t.provider_webhook_secret.is_some(),
            detail: if t.provider_webhook_secret.is_some() {
                format!(
                    "signed callbacks expected at {}/hooks/kosmos/{}",
                    self.core.settings.public_base_url, t.id
                )
            } else {
                "no webhook secret: callbacks will be refused and results arrive by polling only"
                    .into()
            },
        });
        out.extend(self.chat_checks(t).await);
        out
    }
}

/// A set-up report as `server check` prints it: each gap by label, type and problem.
fn setup_detail(r: &SetupReport) -> String {
    let created = if r.created.is_empty() {
        String::new()
    } else {
        format!(" (created now: {})", r.created.join(", "))
    };
    if r.complete {
        return format!("every field, module and gated stage the app needs exists{created}");
    }
    let gaps: Vec<String> = r
        .gaps
        .iter()
        .map(|g| {
            format!(
                "{} {:?} [{}]: {}, expected {}",
                g.what, g.label, g.name, g.problem, g.expected
            )
        })
        .collect();
    format!(
        "an admin must still create or fix (Admin Settings → Module customization){created}:\n      {}",
        gaps.join("\n      ")
    )
}
