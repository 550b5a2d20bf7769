//! The rep's language: which catalogue the widget reads, and dates, numbers and plurals in it.
//!
//! The language comes from the host (the HubSpot card passes the user's locale in the page's
//! `locale` parameter; Freshworks gives the logged-in user's language, see
//! [`crate::bridge::USER_LANGUAGE_FIELDS`]), else the browser's. Messages are typed catalogues
//! ([`Texts`]): English is compiled in (a missing key is a compile error); each other language
//! is a file beside the widget that only a page in that language reads ([`catalogue`]: its
//! entries are set over English's, and the tests fail on a file with a missing or unknown key).
//! A lookup costs nothing at run time. Dates, numbers and plural categories are written by
//! [`format`].

pub mod catalogue;
mod en;
mod format;
pub mod labels;
mod texts;

use std::cell::RefCell;

pub use format::{date, number, percent, prepare};
pub use texts::{Plural, Texts};

use format::category;

/// The languages the widget speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Es,
    PtBr,
    Fr,
    De,
    Ja,
    Ar,
}

impl Lang {
    pub const ALL: [Self; 7] = [
        Self::En,
        Self::Es,
        Self::PtBr,
        Self::Fr,
        Self::De,
        Self::Ja,
        Self::Ar,
    ];

    /// The catalogue: English's, or the language's once the page has read it
    /// ([`catalogue::load`]); English until then.
    pub fn texts(self) -> &'static Texts {
        match self {
            Self::En => &en::TEXTS,
            lang => catalogue::read(lang).unwrap_or(&en::TEXTS),
        }
    }

    /// The language subtag.
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Es => "es",
            Self::PtBr => "pt",
            Self::Fr => "fr",
            Self::De => "de",
            Self::Ja => "ja",
            Self::Ar => "ar",
        }
    }

    /// `rtl` for the languages written right to left.
    pub fn dir(self) -> &'static str {
        match self {
            Self::Ar => "rtl",
            _ => "ltr",
        }
    }
}

/// A catalogue and the tag the browser formats with (`en-GB` writes `22 Nov 2026`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locale {
    pub lang: Lang,
    pub tag: String,
}

impl Locale {
    pub fn english() -> Self {
        Self {
            lang: Lang::En,
            tag: "en".into(),
        }
    }

    /// The catalogue for a BCP 47 tag (`pt-br`, `es_419`, `ja-JP`), or `None` when the widget
    /// has none for its language. Every Portuguese reads the Brazilian catalogue; the region
    /// is kept for formatting only when it is a well-formed region subtag.
    pub fn parse(tag: &str) -> Option<Self> {
        let tag = tag.trim().replace('_', "-");
        let mut parts = tag.split('-');
        let lang = match parts.next()?.to_ascii_lowercase().as_str() {
            "en" => Lang::En,
            "es" => Lang::Es,
            "pt" => Lang::PtBr,
            "fr" => Lang::Fr,
            "de" => Lang::De,
            "ja" => Lang::Ja,
            "ar" => Lang::Ar,
            _ => return None,
        };
        // The region: two letters or three digits, possibly after a four-letter script.
        let region = parts
            .find(|p| p.len() != 4)
            .filter(|p| {
                (p.len() == 2 && p.bytes().all(|b| b.is_ascii_alphabetic()))
                    || (p.len() == 3 && p.bytes().all(|b| b.is_ascii_digit()))
            })
            .map(str::to_ascii_uppercase);
        let mut out = String::from(lang.code());
        match (region, lang) {
            (Some(r), _) => {
                out.push('-');
                out.push_str(&r);
            }
            (None, Lang::PtBr) => out.push_str("-BR"),
            (None, _) => {}
        }
        Some(Self { lang, tag: out })
    }

    /// The first candidate the widget speaks, else English.
    pub fn choose<'a>(candidates: impl IntoIterator<Item = &'a str>) -> Self {
        candidates
            .into_iter()
            .find_map(Self::parse)
            .unwrap_or_else(Self::english)
    }
}

thread_local! {
    static CURRENT: RefCell<Locale> = RefCell::new(Locale::english());
}

/// Chooses the language for this page (before the widget mounts).
pub fn set(locale: Locale) {
    CURRENT.with(|c| *c.borrow_mut() = locale);
}

/// The page's locale.
pub fn locale() -> Locale {
    CURRENT.with(|c| c.borrow().clone())
}

/// The page's catalogue.
pub fn t() -> &'static Texts {
    CURRENT.with(|c| c.borrow().lang).texts()
}

/// `template` with each `{name}` replaced by its value.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match values.iter().find(|(k, _)| *k == name) {
                    Some((_, v)) => out.push_str(v),
                    None => out.push_str(&rest[open..open + close + 2]),
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The form of `plural` for `n`, with `{n}` written for the locale.
pub fn count(plural: &Plural, n: u32) -> String {
    fill(plural.form(&category(n)), &[("n", &number(n))])
}

/// A countdown in words, for screen readers: `1 minute 5 seconds left`.
pub fn countdown_words(secs: u32) -> String {
    let t = t();
    if secs == 0 {
        return t.countdown_expired.into();
    }
    let (m, s) = (secs / 60, secs % 60);
    let mut words = Vec::new();
    if m > 0 {
        words.push(count(&t.minutes, m));
    }
    if s > 0 {
        words.push(count(&t.seconds, s));
    }
    fill(t.time_left, &[("time", &words.join(" "))])
}

// Native: the tests read the language files with serde_json.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn a_host_tag_picks_the_catalogue_of_its_language_and_keeps_a_region_for_formatting() {
        let pick = |t: &str| Locale::parse(t).map(|l| (l.lang, l.tag));
        assert_eq!(pick("pt-br"), Some((Lang::PtBr, "pt-BR".into())));
        assert_eq!(pick("pt"), Some((Lang::PtBr, "pt-BR".into())));
        assert_eq!(pick("pt_PT"), Some((Lang::PtBr, "pt-PT".into())));
        assert_eq!(pick("es-419"), Some((Lang::Es, "es-419".into())));
        assert_eq!(pick("en-gb"), Some((Lang::En, "en-GB".into())));
        assert_eq!(pick("zh-Hant-TW"), None);
        assert_eq!(pick("sr-Latn-RS"), None);
        assert_eq!(pick("ar"), Some((Lang::Ar, "ar".into())));
        assert_eq!(pick("ja-JP"), Some((Lang::Ja, "ja-JP".into())));
        // Nothing that is not a region reaches `Intl` (it would throw).
        assert_eq!(pick("de-<script>"), Some((Lang::De, "de".into())));
        assert_eq!(pick(""), None);
        let chosen = Locale::choose(["", "zh-CN", "fr-CA", "de"]);
        assert_eq!((chosen.lang, chosen.tag.as_str()), (Lang::Fr, "fr-CA"));
        assert_eq!(Locale::choose(["xx"]).lang, Lang::En);
    }

    #[test]
    fn a_share_is_a_whole_percentage_within_bounds() {
        assert_eq!(percent(0.973), "97%");
        assert_eq!(percent(1.7), "100%");
        assert_eq!(percent(-1.0), "0%");
    }

    #[test]
    fn a_countdown_reads_in_words_with_english_plurals() {
        assert_eq!(countdown_words(65), "1 minute 5 seconds left");
        assert_eq!(countdown_words(120), "2 minutes left");
        assert_eq!(countdown_words(1), "1 second left");
        assert_eq!(countdown_words(0), "expired");
    }

    #[test]
    fn arabic_is_written_right_to_left_and_the_others_left_to_right() {
        for lang in Lang::ALL {
            assert_eq!(lang.dir() == "rtl", lang == Lang::Ar, "{lang:?}");
        }
    }

    #[test]
    fn templates_are_filled_by_name_and_unknown_names_stay_visible() {
        assert_eq!(
            fill("{a} and {b}, {c}", &[("a", "1"), ("b", "2")]),
            "1 and 2, {c}"
        );
        assert_eq!(fill("no braces", &[]), "no braces");
        assert_eq!(fill("open { brace", &[]), "open { brace");
    }

    /// `(dotted key, text)` of a catalogue; a plural's forms are `field.form`.
    fn entries(texts: &Texts) -> Vec<(String, String)> {
        catalogue::leaves(&serde_json::to_value(texts).unwrap())
    }

    /// Every template of every language names the values its English names: a translation
    /// that drops `{message}` would hide why something failed. (A plural's `one` may spell
    /// its count out, as English's `1 minute` does.)
    #[test]
    fn every_translation_keeps_the_values_of_its_english_template() {
        let names = |s: &str| {
            let mut v: Vec<String> = s
                .split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_string()))
                .collect();
            v.sort();
            v.dedup();
            v
        };
        let english = entries(&en::TEXTS);
        assert!(english.len() > 150, "{}", english.len());
        for lang in Lang::ALL {
            let theirs = entries(lang.texts());
            for (key, text) in &english {
                if key.ends_with(".one") {
                    continue;
                }
                let found = theirs.iter().find(|(k, _)| k == key);
                let (_, translated) = found.unwrap_or_else(|| panic!("{lang:?} lacks {key}"));
                assert_eq!(
                    names(text),
                    names(translated),
                    "{lang:?} {key}: {translated}"
                );
            }
            // Forms English lacks (Arabic's dual, say) still count.
            let counted = |k: &str| [".few", ".many", ".other"].iter().any(|f| k.ends_with(f));
            for (key, text) in theirs.iter().filter(|(k, _)| k.contains('.')) {
                assert!(
                    text.contains("{n}") || !counted(key),
                    "{lang:?} {key} does not show its count: {text}"
                );
            }
        }
    }

    /// What a language file lacks of English's keys, and what it has that English lacks. A
    /// plural's forms other than `other` are the language's own (Japanese has none, Arabic all).
    fn gaps(file: &serde_json::Value) -> (Vec<String>, Vec<String>) {
        let keys = |v: &serde_json::Value| -> Vec<String> {
            catalogue::leaves(v).into_iter().map(|(k, _)| k).collect()
        };
        let own_form = |k: &str| {
            [".zero", ".one", ".two", ".few", ".many"]
                .iter()
                .any(|f| k.ends_with(f))
        };
        let english = keys(&serde_json::to_value(&en::TEXTS).unwrap());
        let theirs = keys(file);
        let lacking = english
            .into_iter()
            .filter(|k| !own_form(k) && !theirs.contains(k))
            .collect();
        (lacking, catalogue::Reading::from_json(file).unknown)
    }

    fn file(lang: Lang) -> serde_json::Value {
        serde_json::from_str(catalogue::file(lang).unwrap()).unwrap()
    }

    /// The check that keeps a translation whole: every shipped file has every key English has
    /// and none it lacks; a file with a gap or a stray key is caught.
    #[test]
    fn every_language_file_has_the_keys_english_has_and_no_other() {
        for lang in Lang::ALL.into_iter().filter(|l| *l != Lang::En) {
            let (lacking, unknown) = gaps(&file(lang));
            assert!(
                lacking.is_empty(),
                "locales/{}.json lacks {lacking:?}",
                lang.code()
            );
            assert!(
                unknown.is_empty(),
                "locales/{}.json has {unknown:?}",
                lang.code()
            );
        }
        let mut gap = file(Lang::De);
        gap.as_object_mut().unwrap().remove("status_verified");
        assert_eq!(gaps(&gap).0, ["status_verified"]);
        let mut stray = file(Lang::De);
        stray["failures"]["not_a_reason"] = "Text".into();
        stray["minutes"]["dual"] = "Text".into();
        assert_eq!(gaps(&stray).1, ["failures.not_a_reason", "minutes.dual"]);
        // A key below a text names nothing, and leaves the text as it was.
        let mut deeper = file(Lang::De);
        deeper["status_verified"] = serde_json::json!({"x": "Text"});
        let reading = catalogue::Reading::from_json(&deeper);
        assert_eq!(reading.unknown, ["status_verified.x"]);
        assert_eq!(reading.texts.status_verified, en::TEXTS.status_verified);
    }

    /// A file's texts replace English's, and a language's plural forms are its own: Japanese
    /// counts with one form, so English's `1 minute` does not stand in for it.
    #[test]
    fn a_language_file_reads_as_that_language_with_its_own_plural_forms() {
        let de = catalogue::Reading::from_json(&file(Lang::De)).texts;
        assert_eq!(de.status_verified, "Verifiziert");
        let ja = catalogue::Reading::from_json(&file(Lang::Ja)).texts;
        assert_eq!(ja.minutes.one, None);
        assert_eq!(ja.minutes.form("one"), ja.minutes.other);
        let ar = catalogue::Reading::from_json(&file(Lang::Ar)).texts;
        assert!(ar.minutes.two.is_some() && ar.minutes.few.is_some());
    }

    #[test]
    fn no_catalogue_leaves_a_text_empty() {
        for lang in Lang::ALL {
            for (key, text) in entries(lang.texts()) {
                assert!(!text.trim().is_empty(), "{lang:?} {key} is empty");
            }
        }
    }
}
