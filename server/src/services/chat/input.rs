//! A chat bot's body, read: each value checked, each refusal naming its field.

use idv_types::Delivery;
use serde_json::Value;

use super::BotStart;
use crate::services::identity::well_formed_email;

/// An optional input: absent, `null` and the empty string (an empty bot variable) are none.
fn given<'a>(body: &'a Value, key: &str) -> Option<&'a Value> {
    match body.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        v => v,
    }
}

fn text(body: &Value, key: &str, max: usize) -> std::result::Result<Option<String>, String> {
    let Some(v) = given(body, key) else {
        return Ok(None);
    };
    let s = match v {
        Value::String(s) => s.trim(),
        _ => return Err(format!("{key} must be a string")),
    };
    if s.chars().count() > max {
        return Err(format!("{key} is longer than {max} characters"));
    }
    if s.chars().any(char::is_control) {
        return Err(format!("{key} holds control characters"));
    }
    Ok(Some(s.to_string()))
}

/// Whether a text is a chat product's id: letters, digits, `-` and `_`, at most 128.
pub fn is_chat_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A chat product's id: letters, digits, `-` and `_`, at most 128.
fn chat_id(body: &Value, key: &str) -> std::result::Result<Option<String>, String> {
    let Some(v) = given(body, key) else {
        return Ok(None);
    };
    let s = match v {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return Err(format!("{key} must be a string")),
    };
    if !is_chat_id(&s) {
        return Err(format!(
            "{key} must be the chat's id: letters, digits, - and _, at most 128"
        ));
    }
    Ok(Some(s))
}

/// Reads a bot's body: `email` (required), `first_name`, `last_name`, `phone`,
/// `marketing_consent` (true/false, or "yes"/"no" as a bot's button gives it), `user_id`,
/// `conversation_id`, `delivery`. Each refusal names its field.
pub fn from_bot(body: &Value) -> std::result::Result<BotStart, String> {
    if !body.is_object() {
        return Err("the body must be a JSON object with the customer's \"email\"".into());
    }
    let email = text(body, "email", 254)?
        .ok_or("email is required: the customer's email address, as the bot asked for it")?;
    if !well_formed_email(&email) {
        return Err("email is not an email address".into());
    }
    let marketing_consent = match given(body, "marketing_consent") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Some(true),
            "false" | "no" | "0" => Some(false),
            _ => return Err("marketing_consent must be true or false".into()),
        },
        Some(_) => return Err("marketing_consent must be true or false".into()),
    };
    let delivery = match given(body, "delivery") {
        None => None,
        Some(v) => Some(
            v.as_str()
                .and_then(|s| Delivery::parse(s.trim()))
                .ok_or("delivery must be \"show\", \"email\" or \"sms\"")?,
        ),
    };
    Ok(BotStart {
        email: email.to_ascii_lowercase(),
        first_name: text(body, "first_name", 255)?,
        last_name: text(body, "last_name", 255)?,
        phone: text(body, "phone", 64)?,
        marketing_consent,
        user_id: chat_id(body, "user_id")?,
        conversation_id: chat_id(body, "conversation_id")?,
        delivery,
    })
}

pub(super) fn missing_names(b: &BotStart) -> Option<&'static str> {
    match (&b.first_name, &b.last_name) {
        (None, None) => Some("first_name and last_name are missing"),
        (None, Some(_)) => Some("first_name is missing"),
        (Some(_), None) => Some("last_name is missing"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_a_bots_body_and_names_each_bad_field() {
        let b = from_bot(&json!({"email": " Jane@Example.com ", "first_name": "Jane",
            "last_name": "", "phone": "+44 20 7946 0018", "marketing_consent": "yes",
            "user_id": "u-1", "conversation_id": "c-1", "delivery": "show"}))
        .unwrap();
        assert_eq!(b.email, "jane@example.com");
        assert_eq!(b.last_name, None, "an empty bot variable is no value");
        assert_eq!(b.marketing_consent, Some(true));
        assert_eq!(b.delivery, Some(Delivery::Show));
        assert_eq!(missing_names(&b), Some("last_name is missing"));
        let bad = |v: Value| from_bot(&v).unwrap_err();
        assert!(bad(json!({})).contains("email is required"));
        assert!(bad(json!({"email": "nope"})).contains("email"));
        assert!(
            bad(json!({"email": "a@b.co", "marketing_consent": "maybe"}))
                .contains("marketing_consent")
        );
        assert!(
            bad(json!({"email": "a@b.co", "conversation_id": "../x"})).contains("conversation_id")
        );
        assert!(bad(json!({"email": "a@b.co", "delivery": "pigeon"})).contains("delivery"));
        assert!(bad(json!({"email": "a@b.co", "first_name": 7})).contains("first_name"));
        assert!(bad(json!([1])).contains("JSON object"));
    }
}
