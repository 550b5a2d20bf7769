//! The Freshworks bridge: `app.initialized()`, `client.data.get(…)`, `client.interface.trigger`
//! and `client.instance.resize` through JS interop, plus the few browser calls the widget makes
//! (clipboard, randomness).
//!
//! Inside Freshworks the platform's client script defines `window.app`. Outside it (the demo,
//! tests) a stand-in may define the same methods; with neither, the record comes from the
//! page's query string (`?entity=contact&id=42`).

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::model::Subject;

/// Reads `target[key]`, treating `undefined` and `null` as absent.
pub fn get(target: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(target, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

/// Calls `target[method](...args)`; returns its value (not awaited).
pub fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: Function = get(target, method)
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| JsValue::from_str("not available"))?;
    let arr: js_sys::Array = args.iter().collect();
    f.apply(target, &arr)
}

/// Calls a promise-returning method and awaits it; the rejection value comes back as is.
pub async fn call_promise_raw(
    target: &JsValue,
    method: &str,
    args: &[JsValue],
) -> Result<JsValue, JsValue> {
    let promise: Promise = call(target, method, args)?.dyn_into()?;
    JsFuture::from(promise).await
}

async fn call_promise(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, String> {
    call_promise_raw(target, method, args)
        .await
        .map_err(describe)
}

/// A person-readable sentence from a JS error or rejection.
pub fn describe(v: JsValue) -> String {
    get(&v, "message")
        .and_then(|m| m.as_string())
        .or_else(|| v.as_string())
        .unwrap_or_else(|| crate::i18n::t().error_client.into())
}

/// Reads the platform's `{currentEntityId, currentEntityType}` shape.
pub fn subject_from_info(id: Option<f64>, kind: Option<&str>) -> Result<Subject, String> {
    let id = match id {
        Some(n) if n >= 1.0 && n.fract() == 0.0 && n < 9.0e15 => n as u64,
        _ => return Err(crate::i18n::t().error_no_record_id.into()),
    };
    match kind {
        Some("contact") => Ok(Subject::Contact(id)),
        Some("deal") => Ok(Subject::Deal(id)),
        Some(_) => Err(crate::i18n::t().error_wrong_page.into()),
        None => Err(crate::i18n::t().error_no_record.into()),
    }
}

/// A handle on the Freshworks client, if the page has one.
#[derive(Clone, Default)]
pub struct Bridge {
    client: Option<JsValue>,
}

impl Bridge {
    /// Waits for `app.initialized()` when the platform (or a stand-in) is present.
    pub async fn init() -> Self {
        let window: JsValue = web_sys::window()
            .map(Into::into)
            .unwrap_or(JsValue::UNDEFINED);
        let client = match get(&window, "app") {
            Some(app) => call_promise(&app, "initialized", &[]).await.ok(),
            None => None,
        };
        Self { client }
    }

    /// No client: toasts and resizes do nothing (tests, plain pages).
    pub fn detached() -> Self {
        Self::default()
    }

    /// The client object, for the transport.
    pub fn client(&self) -> Option<&JsValue> {
        self.client.as_ref()
    }

    /// `client.data.get(name)[name]`.
    pub async fn data(&self, name: &str) -> Result<JsValue, String> {
        let client = self.client.as_ref().ok_or("no Freshworks client")?;
        let data = get(client, "data").ok_or("client.data is not available")?;
        let value = call_promise(&data, "get", &[JsValue::from_str(name)]).await?;
        Ok(get(&value, name).unwrap_or(value))
    }

    /// The record this widget instance shows, and the help-desk ticket it sits on, if any.
    ///
    /// Freshsales pages name their record in `currentEntityInfo`. On Freshdesk that call fails
    /// by design: a ticket's sidebar reads its requester from `contact` and itself from
    /// `ticket`, a contact's sidebar has `contact` only. Outside Freshworks the query string
    /// says it (`?entity=contact&id=70&ticket=500`).
    pub async fn page(&self) -> Result<(Subject, Option<u64>), String> {
        let whole = |v: Option<f64>| {
            v.filter(|n| *n >= 1.0 && n.fract() == 0.0 && *n < 9.0e15)
                .map(|n| n as u64)
        };
        if self.client.is_some() {
            let info = match self.data("currentEntityInfo").await {
                Ok(info) => info,
                Err(crm) => {
                    let contact = self.data("contact").await.map_err(|_| crm)?;
                    let subject = subject_from_info(
                        get(&contact, "id").and_then(|v| v.as_f64()),
                        Some("contact"),
                    )?;
                    let ticket = match self.data("ticket").await {
                        Ok(t) => whole(get(&t, "id").and_then(|v| v.as_f64())),
                        Err(_) => None,
                    };
                    return Ok((subject, ticket));
                }
            };
            let subject = subject_from_info(
                get(&info, "currentEntityId").and_then(|v| v.as_f64()),
                get(&info, "currentEntityType")
                    .and_then(|v| v.as_string())
                    .as_deref(),
            )?;
            return Ok((subject, None));
        }
        let search = web_sys::window()
            .and_then(|w| w.location().search().ok())
            .unwrap_or_default();
        let mut id = None;
        let mut kind = None;
        let mut ticket = None;
        for pair in search.trim_start_matches('?').split('&') {
            match pair.split_once('=') {
                // Whole numbers only (no float parser in the wasm for a record id).
                Some(("id", v)) => id = v.parse::<u64>().ok().map(|n| n as f64),
                Some(("entity", v)) => kind = Some(v.to_string()),
                Some(("ticket", v)) => ticket = whole(v.parse::<u64>().ok().map(|n| n as f64)),
                _ => {}
            }
        }
        Ok((subject_from_info(id, kind.as_deref())?, ticket))
    }

    /// The logged-in user: their email, for the audit line (`requested_by`), and their
    /// language, if the platform says it ([`USER_LANGUAGE_FIELDS`]).
    pub async fn user(&self) -> User {
        let Ok(user) = self.data("loggedInUser").await else {
            return User::default();
        };
        // Freshdesk keeps an agent's address under `contact`.
        let email = get(&user, "email")
            .or_else(|| get(&user, "contact").and_then(|c| get(&c, "email")))
            .and_then(|e| e.as_string());
        let language = USER_LANGUAGE_FIELDS.iter().find_map(|field| {
            get(&user, field)
                .or_else(|| get(&user, "contact").and_then(|c| get(&c, field)))
                .and_then(|v| v.as_string())
        });
        User { email, language }
    }

    /// The contact this page shows, as the client gives it (`client.data.get("contact")`:
    /// name, email, mobile or work number). `None` where the platform does not give it; the
    /// backend then reads the contact itself.
    pub async fn contact_data(&self) -> Option<idv_types::ContactData> {
        let c = self.data("contact").await.ok()?;
        let text = |k: &str| get(&c, k).and_then(|v| v.as_string());
        let email = text("email").or_else(|| {
            // Freshsales lists several addresses under `emails`: the primary one, else the first.
            let list: js_sys::Array = get(&c, "emails")?.dyn_into().ok()?;
            let primary = list
                .iter()
                .find(|e| get(e, "is_primary").and_then(|p| p.as_bool()) == Some(true))
                .or_else(|| list.iter().next())?;
            get(&primary, "value").and_then(|v| v.as_string())
        });
        // Freshdesk gives one `name`: the last word is the last name.
        let (first, last) = match (text("first_name"), text("last_name"), text("name")) {
            (None, None, Some(name)) => match name.trim().rsplit_once(' ') {
                Some((f, l)) => (Some(f.trim().to_string()), Some(l.to_string())),
                None => (Some(name), None),
            },
            (f, l, _) => (f, l),
        };
        crate::model::page_contact(idv_types::ContactData {
            first_name: first,
            last_name: last,
            email,
            // Freshsales: mobile, else work number; Freshdesk: mobile, else phone.
            phone: text("mobile_number")
                .or_else(|| text("work_number"))
                .or_else(|| text("mobile"))
                .or_else(|| text("phone")),
        })
    }

    /// `client.interface.trigger("showNotify", {type, title, message})`; a no-op outside
    /// Freshworks.
    pub fn notify(&self, kind: &str, title: &str, message: &str) {
        let Some(iface) = self.client.as_ref().and_then(|c| get(c, "interface")) else {
            return;
        };
        let opts = Object::new();
        let _ = Reflect::set(&opts, &"type".into(), &kind.into());
        let _ = Reflect::set(&opts, &"title".into(), &title.into());
        let _ = Reflect::set(&opts, &"message".into(), &message.into());
        if let Ok(p) = call(&iface, "trigger", &["showNotify".into(), opts.into()]) {
            swallow(p);
        }
    }

    /// `client.instance.resize({height})`; a no-op outside Freshworks.
    pub fn resize(&self, height: u32) {
        let Some(instance) = self.client.as_ref().and_then(|c| get(c, "instance")) else {
            return;
        };
        let opts = Object::new();
        let _ = Reflect::set(&opts, &"height".into(), &f64::from(height).into());
        if let Ok(p) = call(&instance, "resize", &[opts.into()]) {
            swallow(p);
        }
    }
}

/// Awaits a promise and ignores its outcome (no unhandled rejections in the console).
fn swallow(p: JsValue) {
    if let Ok(p) = p.dyn_into::<Promise>() {
        wasm_bindgen_futures::spawn_local(async move {
            let _ = JsFuture::from(p).await;
        });
    }
}

/// Where a Freshworks user's language is. UNCONFIRMED: the platform documents cited in
/// `freshworks.md` name no language field of `loggedInUser` (Freshdesk's requester has
/// `language`); the first of these fields that holds a tag is taken, else the browser's.
pub const USER_LANGUAGE_FIELDS: &[&str] = &["language", "locale"];

/// What the page knows of the logged-in user.
#[derive(Debug, Clone, Default)]
pub struct User {
    pub email: Option<String>,
    pub language: Option<String>,
}

/// The page's `locale` parameter: the HubSpot card opens the widget with its user's locale.
pub fn page_locale() -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    search
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix("locale="))
        .and_then(|v| js_sys::decode_uri_component(v).ok())
        .map(String::from)
}

/// The browser's languages, most preferred first.
pub fn browser_languages() -> Vec<String> {
    web_sys::window()
        .and_then(|w| get(&w.into(), "navigator"))
        .and_then(|n| get(&n, "languages"))
        .and_then(|l| l.dyn_into::<js_sys::Array>().ok())
        .map(|a| a.iter().filter_map(|v| v.as_string()).collect())
        .unwrap_or_default()
}

/// Writes the language and direction on the document, for assistive technology and for
/// the text the host puts around the widget.
pub fn mark_document(lang: &str, dir: &str) {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("lang", lang);
        let _ = root.set_attribute("dir", dir);
    }
}

/// Where the backend is outside Freshworks: `window.IDV_BACKEND = {base, token}`.
pub fn direct_backend() -> Option<(String, String)> {
    let window: JsValue = web_sys::window()?.into();
    let cfg = get(&window, "IDV_BACKEND")?;
    let base = get(&cfg, "base")?.as_string()?;
    let token = get(&cfg, "token")?.as_string()?;
    Some((base.trim_end_matches('/').to_string(), token))
}

/// A fresh random idempotency key: `crypto.getRandomValues` when present, else `Math.random`.
pub fn random_key() -> String {
    let bytes = js_sys::Uint8Array::new_with_length(16);
    let crypto = web_sys::window().and_then(|w| get(&w.into(), "crypto"));
    let filled =
        crypto.is_some_and(|c| call(&c, "getRandomValues", &[bytes.clone().into()]).is_ok());
    let mut out = [0u8; 16];
    if filled {
        bytes.copy_to(&mut out);
    } else {
        for b in &mut out {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    crate::time::hex(&out)
}

/// Copies text: the async clipboard API, else selecting `fallback` (an input holding the text)
/// and `document.execCommand("copy")` (sandboxed iframes may lack clipboard permission).
pub async fn copy_text(text: &str, fallback: Option<&JsValue>) -> bool {
    let window: JsValue = match web_sys::window() {
        Some(w) => w.into(),
        None => return false,
    };
    if let Some(clipboard) = get(&window, "navigator").and_then(|n| get(&n, "clipboard")) {
        if call_promise_raw(&clipboard, "writeText", &[text.into()])
            .await
            .is_ok()
        {
            return true;
        }
    }
    let Some(input) = fallback else {
        return false;
    };
    let _ = call(input, "select", &[]);
    get(&window, "document")
        .and_then(|d| call(&d, "execCommand", &["copy".into()]).ok())
        .and_then(|r| r.as_bool())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_info_is_validated() {
        assert_eq!(
            subject_from_info(Some(12.0), Some("contact")),
            Ok(Subject::Contact(12))
        );
        assert_eq!(
            subject_from_info(Some(7.0), Some("deal")),
            Ok(Subject::Deal(7))
        );
        assert!(subject_from_info(Some(1.5), Some("contact")).is_err());
        assert!(subject_from_info(Some(0.0), Some("contact")).is_err());
        assert!(subject_from_info(Some(3.0), Some("lead")).is_err());
        assert!(subject_from_info(None, Some("contact")).is_err());
        assert!(subject_from_info(Some(3.0), None).is_err());
    }
}
