//! JSON ⇄ shared types without serde_json in the wasm: the browser parses and prints the JSON
//! (`JSON.parse` / `JSON.stringify`), serde-wasm-bindgen maps the JS values onto the types.

use serde::{de::DeserializeOwned, Serialize};

/// Parses a JSON text into `T`; `None` when it is not JSON or not that shape.
pub fn decode<T: DeserializeOwned>(text: &str) -> Option<T> {
    let value = js_sys::JSON::parse(text).ok()?;
    serde_wasm_bindgen::from_value(value).ok()
}

/// Prints `value` as JSON.
pub fn encode<T: Serialize>(value: &T) -> String {
    serde_wasm_bindgen::to_value(value)
        .ok()
        .and_then(|v| js_sys::JSON::stringify(&v).ok())
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| "{}".into())
}
