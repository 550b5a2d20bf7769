//! The widget in the rep's language (headless Chromium): English, German (left to right, its
//! own date and number forms) and Arabic (right to left, its six plural forms), with the texts,
//! dates and direction a rep sees.
#![cfg(target_arch = "wasm32")]

use std::rc::Rc;

use idv_widget::{
    api::Api,
    i18n::{self, Locale},
    model::Subject,
    transport::{Call, Reply, Sent, Transport},
    Widget,
};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

mod common;

use common::find;

wasm_bindgen_test_configure!(run_in_browser);

/// Answers every status read with a verified contact (fixed dates: only their form matters).
struct Verified;

impl Transport for Verified {
    fn send(&self, _call: Call) -> Sent {
        let body = serde_json::json!({
            "contact_id": 42, "status": "verified", "liveid_enrolled": true,
            "ial": {"level": "IAL2", "revision": "800-63-3"}, "document_type": "passport",
            "match_confidence": 0.97, "verified_at": "2026-11-22T10:00:00Z",
            "expires_at": "2027-11-22T10:00:00Z",
            "history": [{"id": "ver_2", "kind": "idv", "state": "verified", "contact_id": 42,
                "created_at": "2026-11-22T09:58:00Z"},
                {"id": "ver_1", "kind": "idv", "state": "failed", "contact_id": 42,
                "created_at": "2026-11-20T09:00:00Z", "failure_code": "document_expired",
                "failure_reason": "The ID has expired (IDV0011). Next step: ask the customer to use an ID that is still valid."}],
            "setup": {"complete": false, "checked_at": "2026-11-22T10:00:00Z", "gaps": [
                {"what": "contact field", "label": "IDV Status", "name": "cf_idv_status",
                 "expected": "dropdown: pending, verified", "problem": "has type text; views and workflows need dropdown",
                 "part": "contact_field", "field_type": "dropdown", "choices": ["pending", "verified"],
                 "issue": {"code": "wrong_type", "has": "text", "needs": "dropdown"}}]}
        });
        Box::pin(async move {
            Ok(Reply {
                status: 200,
                body: body.to_string(),
            })
        })
    }
}

/// The page in `tag`'s language, its catalogue read from the file the widget ships (as
/// `catalogue::load` reads it beside the widget).
fn speak(tag: &str) {
    let locale = Locale::parse(tag).expect("a language the widget speaks");
    let file = match locale.lang.code() {
        "de" => Some(include_str!("../locales/de.json")),
        "fr" => Some(include_str!("../locales/fr.json")),
        "ar" => Some(include_str!("../locales/ar.json")),
        _ => None,
    };
    if let Some(json) = file {
        i18n::catalogue::keep_json(locale.lang, json).expect("a catalogue");
    }
    i18n::set(locale);
}

/// What a rep sees of a verified contact in `tag`'s language.
struct Seen {
    lang: String,
    dir: String,
    badge: String,
    facts: String,
    action: String,
    history: String,
    setup: String,
}

async fn open_in(tag: &str) -> Seen {
    speak(tag);
    let doc = web_sys::window().unwrap().document().unwrap();
    let root: web_sys::HtmlElement = doc.create_element("section").unwrap().unchecked_into();
    doc.body().unwrap().append_child(&root).unwrap();
    let api = Api::new(Rc::new(Verified));
    let r = root.clone();
    std::mem::forget(leptos::mount::mount_to(r, move || {
        view! { <Widget subject=Subject::Contact(42) api=api.clone() user=None /> }
    }));
    let badge = find(&root, "[data-testid=idv-badge].badge-verified").await;
    let main = find(&root, "main.idv").await;
    let text = |e: web_sys::Element| e.text_content().unwrap_or_default();
    let seen = Seen {
        lang: main.get_attribute("lang").unwrap_or_default(),
        dir: main.get_attribute("dir").unwrap_or_default(),
        badge: text(badge),
        facts: text(find(&root, "[data-testid=idv-facts]").await),
        action: text(find(&root, ".actions .btn-primary").await),
        history: text(find(&root, "[data-testid=idv-history]").await),
        setup: text(find(&root, "[data-testid=setup-banner] li").await),
    };
    i18n::set(Locale::english());
    seen
}

#[wasm_bindgen_test]
async fn a_rep_reads_the_widget_in_english_german_and_arabic() {
    let en = open_in("en-US").await;
    assert_eq!((en.lang.as_str(), en.dir.as_str()), ("en-US", "ltr"));
    assert_eq!(en.badge, "Verified");
    assert_eq!(en.action, "Verify again");
    assert!(en.facts.contains("Valid untilNov 22, 2027"), "{}", en.facts);
    assert!(en.facts.contains("Match97%"), "{}", en.facts);
    assert!(en.history.contains("ID check"), "{}", en.history);
    // Why the earlier check failed, and what to do: in English with the provider's code.
    assert!(
        en.history
            .contains("The ID has expired (IDV0011). Next step:"),
        "{}",
        en.history
    );

    assert_eq!(
        en.setup,
        "IDV Status (contact field, dropdown: pending, verified): has type text; views and \
         workflows need dropdown"
    );

    let de = open_in("de-DE").await;
    // What the admin must fix, in German; the CRM's names (label, its type, the values) kept.
    assert_eq!(
        de.setup,
        "IDV Status (Kontaktfeld, Dropdown: pending, verified): hat den Typ text; Ansichten und \
         Workflows brauchen Dropdown"
    );
    assert_eq!((de.lang.as_str(), de.dir.as_str()), ("de-DE", "ltr"));
    assert_eq!(de.badge, "Verifiziert");
    assert_eq!(de.action, "Erneut prüfen");
    assert!(de.facts.contains("Gültig bis22. Nov. 2027"), "{}", de.facts);
    // German puts a no-break space before the percent sign.
    assert!(
        de.facts.contains("97\u{a0}%") || de.facts.contains("97\u{202f}%"),
        "{:?}",
        de.facts
    );
    assert!(de.history.contains("Ausweisprüfung"), "{}", de.history);
    assert!(
        de.history
            .contains("Der Ausweis ist abgelaufen. Nächster Schritt:"),
        "{}",
        de.history
    );

    let ar = open_in("ar").await;
    assert_eq!((ar.lang.as_str(), ar.dir.as_str()), ("ar", "rtl"));
    assert_eq!(ar.badge, "تم التحقق");
    assert_eq!(ar.action, "التحقق مرة أخرى");
    assert!(
        ar.setup.contains("حقل جهة الاتصال") && ar.setup.contains("نوعه text"),
        "{}",
        ar.setup
    );
    assert!(ar.facts.contains("صالح حتى"), "{}", ar.facts);
    assert!(
        ar.facts.contains("نوفمبر"),
        "the month in Arabic: {}",
        ar.facts
    );
    assert!(!ar.facts.contains("Nov"), "{}", ar.facts);
    assert!(ar.history.contains("السجل"), "{}", ar.history);
    assert!(ar.history.contains("انتهت صلاحية المستند"), "{}", ar.history);
}

#[wasm_bindgen_test]
fn counts_take_each_language_s_plural_forms_from_the_browser() {
    speak("ar");
    let words: Vec<String> = [1, 2, 3, 11, 100]
        .into_iter()
        .map(i18n::countdown_words)
        .collect();
    i18n::set(Locale::english());
    assert!(words[0].contains("ثانية واحدة"), "one: {}", words[0]);
    assert!(words[1].contains("ثانيتان"), "two: {}", words[1]);
    assert!(words[2].contains("ثوانٍ"), "few: {}", words[2]);
    assert!(
        words[3].contains("ثانية") && !words[3].contains("ثوانٍ"),
        "many: {}",
        words[3]
    );
    assert!(words[4].contains("دقيقة"), "other: {}", words[4]);

    speak("fr");
    // French counts 0 and 1 as singular.
    let fr = i18n::countdown_words(61);
    i18n::set(Locale::english());
    assert_eq!(fr, "Encore 1 minute 1 seconde");
    assert_eq!(i18n::countdown_words(62), "1 minute 2 seconds left");
}
