//! What this check knows of Freshworks platform 3.0 (shared/reference/freshworks.md). Facts the
//! reference marks UNCONFIRMED are here and only here: when the platform says otherwise, edit
//! this module.

pub(super) const VERSION: &str = "3.0";
/// `engines` majors: the official 3.0 sample pins node 24.11.0 and fdk 10.1.2.
pub(super) const NODE_MAJOR: u64 = 24;
pub(super) const FDK_MAJOR: u64 = 10;
pub(super) const TOP_LEVEL_KEYS: &[&str] =
    &["platform-version", "modules", "engines", "dependencies"];
/// Keys a module may have; templates and functions belong to `common` only.
pub(super) const COMMON_KEYS: &[&str] = &["location", "requests", "functions", "events"];
pub(super) const PRODUCT_MODULE_KEYS: &[&str] = &["location", "events"];
/// Freshsales and Freshdesk 3.0 modules and their placeholders. `contact_quick_actions` and
/// `deal_quick_actions` are UNCONFIRMED (knowledge base only); the placeholders of the modules
/// listed with none are unknown to this check. Freshdesk's (`support_*`, and `cti_global_sidebar`
/// in common): shared/reference/freshdesk-freshchat.md §1.
pub(super) const MODULES: &[(&str, &[&str])] = &[
    (
        "common",
        &[
            "full_page_app",
            "left_nav_cti",
            "left_nav_chat",
            "cti_global_sidebar",
        ],
    ),
    ("contact", &["contact_entity_menu", "contact_quick_actions"]),
    ("deal", &["deal_entity_menu", "deal_quick_actions"]),
    (
        "sales_account",
        &["sales_account_entity_menu", "sales_account_quick_actions"],
    ),
    ("lead", &["lead_entity_menu", "lead_quick_actions"]),
    ("appointment", &[]),
    ("cpq_document", &[]),
    ("phone", &[]),
    ("product", &[]),
    ("task", &[]),
    ("chat_conversation", &[]),
    ("custom_module", &[]),
    (
        "support_ticket",
        &[
            "ticket_sidebar",
            "ticket_requester_info",
            "ticket_top_navigation",
            "ticket_background",
            "ticket_attachment",
            "ticket_conversation_editor",
            "new_ticket_requester_info",
            "new_ticket_background",
            "time_entry_background",
        ],
    ),
    (
        "support_contact",
        &[
            "contact_sidebar",
            "contact_background",
            "contact_list_background",
        ],
    ),
    ("support_company", &[]),
    ("support_agent", &[]),
    ("support_email", &[]),
    ("support_portal", &[]),
];
/// Events each module offers. Set-up, external and scheduled events sit in `common`. The
/// `…Delete` product events come from older sample payloads (UNCONFIRMED for 3.0).
pub(super) const EVENTS: &[(&str, &[&str])] = &[
    (
        "common",
        &[
            "onAppInstall",
            "afterAppUpdate",
            "onAppUninstall",
            "onExternalEvent",
            "onScheduledEvent",
        ],
    ),
    (
        "contact",
        &["onContactCreate", "onContactUpdate", "onContactDelete"],
    ),
    ("deal", &["onDealCreate", "onDealUpdate", "onDealDelete"]),
    (
        "sales_account",
        &[
            "onSalesAccountCreate",
            "onSalesAccountUpdate",
            "onSalesAccountDelete",
        ],
    ),
    ("lead", &["onLeadCreate", "onLeadUpdate", "onLeadDelete"]),
    ("task", &["onTaskCreate", "onTaskUpdate", "onTaskDelete"]),
    (
        "custom_module",
        &["onCustomModuleCreate", "onCustomModuleUpdate"],
    ),
    (
        "support_ticket",
        &[
            "onTicketCreate",
            "onTicketUpdate",
            "onTicketDelete",
            "onConversationCreate",
            "onConversationUpdate",
            "onConversationDelete",
        ],
    ),
    (
        "support_contact",
        &["onContactCreate", "onContactUpdate", "onContactDelete"],
    ),
];
pub(super) const IPARAM_TYPES: &[&str] = &[
    "text",
    "paragraph",
    "dropdown",
    "multiselect",
    "email",
    "number",
    "phone_number",
    "date",
    "url",
    "radio",
    "checkbox",
    "domain",
    "api_key",
];
pub(super) const TEMPLATE_METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];
/// `context.*` is substituted in a template's host and headers only on the installation page
/// and in serverless code; from an app page only in path and query (UNCONFIRMED in detail).
pub(super) const CONTEXT_IN_HEADERS_FROM_PAGES: bool = false;
pub(super) const APPCLIENT: &str = "{{{appclient}}}";
pub(super) const OLD_CLIENT_SCRIPT: &str = "fresh_client.js";
pub(super) const UNPKG: &str = "unpkg.com";
/// The pre-pack check wants this npm script (in package.json, as the official sample has it).
pub(super) const UNIT_TEST_SCRIPT: &str = "fdk-unit-test";
/// Node modules server.js must not use to reach the network (only request templates may).
pub(super) const NETWORK_MODULES: &[&str] = &[
    "http",
    "https",
    "http2",
    "net",
    "tls",
    "dgram",
    "node-fetch",
    "axios",
    "undici",
    "request",
    "got",
];
