//! The catalogues of the languages other than English: one JSON file each
//! (`widget/locales/<code>.json`, served beside the widget as `locales/<code>.json`), read once
//! by a page that needs it. English is compiled in and is what a page shows until its language
//! is read, or when the file cannot be read. A file's entries are set over English's texts by
//! their dotted keys, so an entry a file lacks would read in English: the tests read every file
//! and fail on a key English has that it lacks, or one English lacks that it has.

use std::cell::RefCell;

use super::{texts::Entry, Lang, Texts};

/// A catalogue as a file makes it: English's texts with each entry of the file set over them.
pub struct Reading {
    pub texts: Texts,
    /// The keys of the file's entries that name no text (stale or misspelled).
    pub unknown: Vec<String>,
}

impl Reading {
    fn new() -> Self {
        let mut texts = Lang::En.texts().clone();
        texts.drop_forms();
        Self {
            texts,
            unknown: Vec::new(),
        }
    }

    fn entry(&mut self, key: &str, text: String) {
        // Kept for the page's lifetime, as compiled-in texts are.
        let text: &'static str = Box::leak(text.into_boxed_str());
        if !self.texts.set(Some(key), text) {
            self.unknown.push(key.to_string());
        }
    }

    /// A parsed file (`JSON.parse`): nested objects of texts.
    #[cfg(target_arch = "wasm32")]
    pub fn from_js(value: &wasm_bindgen::JsValue) -> Self {
        fn walk(r: &mut Reading, prefix: &str, value: &wasm_bindgen::JsValue) {
            use wasm_bindgen::JsCast;
            if let Some(text) = value.as_string() {
                r.entry(prefix, text);
            } else if let Some(object) = value.dyn_ref::<js_sys::Object>() {
                for entry in js_sys::Object::entries(object).iter() {
                    let entry: js_sys::Array = entry.unchecked_into();
                    let key = entry.get(0).as_string().unwrap_or_default();
                    let key = match prefix {
                        "" => key,
                        p => format!("{p}.{key}"),
                    };
                    walk(r, &key, &entry.get(1));
                }
            } else {
                r.unknown.push(prefix.to_string());
            }
        }
        let mut r = Self::new();
        walk(&mut r, "", value);
        r
    }

    /// A parsed file (native builds: the tests).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_json(value: &serde_json::Value) -> Self {
        let mut r = Self::new();
        for (key, text) in leaves(value) {
            r.entry(&key, text);
        }
        r
    }
}

/// `(dotted key, text)` of every text in a JSON catalogue; a value that is neither a text nor a
/// group comes out as a text the widget cannot show (`null`, `3`), so it reads as unknown.
#[cfg(not(target_arch = "wasm32"))]
pub fn leaves(value: &serde_json::Value) -> Vec<(String, String)> {
    fn walk(prefix: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    let key = match prefix {
                        "" => k.clone(),
                        p => format!("{p}.{k}"),
                    };
                    walk(&key, v, out);
                }
            }
            serde_json::Value::String(s) => out.push((prefix.to_string(), s.clone())),
            other => out.push((format!("{prefix} = {other}"), String::new())),
        }
    }
    let mut out = Vec::new();
    walk("", value, &mut out);
    out
}

thread_local! {
    static READ: RefCell<Vec<(Lang, &'static Texts)>> = const { RefCell::new(Vec::new()) };
}

/// The catalogue of `lang` if this page has read it.
pub fn read(lang: Lang) -> Option<&'static Texts> {
    let found = READ.with(|r| r.borrow().iter().find(|(l, _)| *l == lang).map(|(_, t)| *t));
    #[cfg(not(target_arch = "wasm32"))]
    let found = found.or_else(|| {
        // Native builds (the tests) read the files the widget ships.
        let value = serde_json::from_str(file(lang)?).ok()?;
        keep(lang, Reading::from_json(&value).texts);
        read(lang)
    });
    found
}

/// Keeps `lang`'s catalogue for the page.
pub fn keep(lang: Lang, texts: Texts) {
    let texts: &'static Texts = Box::leak(Box::new(texts));
    READ.with(|r| {
        let mut read = r.borrow_mut();
        read.retain(|(l, _)| *l != lang);
        read.push((lang, texts));
    });
}

/// Keeps `lang`'s catalogue from its file's text (the tests in the browser give the files).
#[cfg(target_arch = "wasm32")]
pub fn keep_json(lang: Lang, json: &str) -> Result<(), String> {
    let value = js_sys::JSON::parse(json).map_err(|_| "not JSON".to_string())?;
    keep(lang, Reading::from_js(&value).texts);
    Ok(())
}

/// Reads `lang`'s file from beside the widget, once; English, or a file that cannot be read,
/// leaves the page in English.
#[cfg(target_arch = "wasm32")]
pub async fn load(lang: Lang) {
    if lang == Lang::En || READ.with(|r| r.borrow().iter().any(|(l, _)| *l == lang)) {
        return;
    }
    let url = format!("locales/{}.json", lang.code());
    let Ok(reply) = gloo_net::http::Request::get(&url).send().await else {
        return;
    };
    if !reply.ok() {
        return;
    }
    if let Ok(text) = reply.text().await {
        let _ = keep_json(lang, &text);
    }
}

/// Native builds (the tests) read the files the widget ships as they need them.
#[cfg(not(target_arch = "wasm32"))]
pub async fn load(lang: Lang) {
    let _ = read(lang);
}

/// The files the widget ships, for the native tests.
#[cfg(not(target_arch = "wasm32"))]
pub fn file(lang: Lang) -> Option<&'static str> {
    Some(match lang {
        Lang::En => return None,
        Lang::Es => include_str!("../../locales/es.json"),
        Lang::PtBr => include_str!("../../locales/pt.json"),
        Lang::Fr => include_str!("../../locales/fr.json"),
        Lang::De => include_str!("../../locales/de.json"),
        Lang::Ja => include_str!("../../locales/ja.json"),
        Lang::Ar => include_str!("../../locales/ar.json"),
    })
}
