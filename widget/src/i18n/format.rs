//! Dates, numbers, percentages and plural categories written for the page's locale.
//!
//! In the browser they come from ECMA-402 `Intl` (through `js-sys`), so no locale data is
//! shipped in the wasm. A page's first `Intl` formatter costs the browser 11–34 ms (it loads
//! the locale's data), so the formatters are built once per locale and kept, and [`prepare`]
//! builds them while the page waits for the status read instead of after it arrives. The
//! native build (the unit tests) writes English by hand.

#[cfg(target_arch = "wasm32")]
pub use browser::{category, date, number, percent, prepare};

#[cfg(target_arch = "wasm32")]
mod browser {
    use std::cell::RefCell;

    use js_sys::{Array, Function, Intl, Object, Reflect};
    use wasm_bindgen::JsValue;

    use crate::i18n::locale;

    /// One locale's formatters.
    struct Formats {
        tag: String,
        plural: Intl::PluralRules,
        number: Function,
        percent: Function,
        date: Function,
    }

    thread_local! {
        static KEPT: RefCell<Option<Formats>> = const { RefCell::new(None) };
    }

    fn options(pairs: &[(&str, &str)]) -> Object {
        let options = Object::new();
        for (k, v) in pairs {
            let _ = Reflect::set(&options, &(*k).into(), &(*v).into());
        }
        options
    }

    impl Formats {
        fn new(tag: String) -> Self {
            let locales = Array::of1(&tag.as_str().into());
            let plural = Intl::PluralRules::new(&locales, &Object::new());
            let number = Intl::NumberFormat::new(&locales, &Object::new()).format();
            let percent =
                Intl::NumberFormat::new(&locales, &options(&[("style", "percent")])).format();
            let date = Intl::DateTimeFormat::new(
                &locales,
                &options(&[
                    ("year", "numeric"),
                    ("month", "short"),
                    ("day", "numeric"),
                    ("timeZone", "UTC"),
                ]),
            )
            .format();
            Self {
                tag,
                plural,
                number,
                percent,
                date,
            }
        }
    }

    /// Builds the locale's formatters now (the page calls it while a request is on the way).
    pub fn prepare() {
        with(|_| ());
    }

    /// Runs `f` with the current locale's formatters, built if the locale changed.
    fn with<R>(f: impl FnOnce(&Formats) -> R) -> R {
        let tag = locale().tag;
        KEPT.with(|kept| {
            let mut kept = kept.borrow_mut();
            match &*kept {
                Some(k) if k.tag == tag => f(k),
                _ => f(kept.insert(Formats::new(tag))),
            }
        })
    }

    fn call(format: &Function, value: JsValue) -> String {
        format
            .call1(&JsValue::NULL, &value)
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    }

    /// The CLDR plural category of `n` in the page's language.
    pub fn category(n: u32) -> String {
        with(|f| f.plural.select(f64::from(n)).into())
    }

    /// A whole number written for the locale (Arabic digits in Arabic, say).
    pub fn number(n: u32) -> String {
        with(|f| call(&f.number, f64::from(n).into()))
    }

    /// A share in 0..=1 as a whole percentage, written for the locale (`87%`, `87 %`, `٨٧٪`).
    pub fn percent(share: f64) -> String {
        with(|f| call(&f.percent, share.clamp(0.0, 1.0).into()))
    }

    /// The date of an RFC 3339 time, in UTC, written for the locale (`Nov 22, 2026`,
    /// `22. Nov. 2026`, `2026年11月22日`); unparseable input is shown as it came.
    pub fn date(ts: &str) -> String {
        match crate::time::parse_rfc3339(ts) {
            Some(ms) => with(|f| call(&f.date, js_sys::Date::new(&ms.into()).into())),
            None => ts.to_string(),
        }
    }
}

/// Nothing to build for English written by hand.
#[cfg(not(target_arch = "wasm32"))]
pub fn prepare() {}

/// The plural category of `n` in English.
#[cfg(not(target_arch = "wasm32"))]
pub fn category(n: u32) -> String {
    if n == 1 { "one" } else { "other" }.into()
}

/// A whole number, as English writes it.
#[cfg(not(target_arch = "wasm32"))]
pub fn number(n: u32) -> String {
    n.to_string()
}

/// A share in 0..=1 as a whole percentage (`87%`).
#[cfg(not(target_arch = "wasm32"))]
pub fn percent(share: f64) -> String {
    let mut out = ((share.clamp(0.0, 1.0) * 100.0).round() as u32).to_string();
    out.push('%');
    out
}

/// The date of an RFC 3339 time, as English writes it (`Nov 22, 2026`).
#[cfg(not(target_arch = "wasm32"))]
pub fn date(ts: &str) -> String {
    crate::time::short_date(ts)
}
