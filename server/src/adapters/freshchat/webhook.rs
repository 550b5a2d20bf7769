//! Freshchat's webhooks: `X-Freshchat-Signature` is the Base64 of an RSA signature (SHA256withRSA,
//! PKCS#1 v1.5) over the raw body, verified with the PEM public key the webhook settings show
//! (not an HMAC). Bodies are `{actor, action, action_time, data: {message: {…}}}`; a message's
//! parts are `message_parts` (`{text: {content}}`, `{image: {url}}`…), or in the older payload
//! version `msg_parts` with a `part_type`. Both are read.

use base64::{engine::general_purpose::STANDARD as B64, Engine as _};
use rsa::{
    pkcs1::DecodeRsaPublicKey,
    pkcs1v15::{Signature, VerifyingKey},
    pkcs8::{DecodePublicKey, EncodePublicKey},
    sha2::{Digest, Sha256},
    signature::Verifier,
    traits::PublicKeyParts,
    RsaPublicKey,
};
use serde_json::Value;

use super::is_plain_id;
use crate::ports::chat::{ChatEvent, ChatWebhooks};

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "x-freshchat-signature";
/// The payload version header (informational: both versions are read).
pub const VERSION_HEADER: &str = "x-freshchat-payload-version";

/// The body's field carrying when the event happened (RFC 3339), per Freshchat's payload
/// structure article; read here only, so a different name is one edit.
pub const TIME_FIELD: &str = "action_time";

/// The smallest RSA key accepted.
const MIN_BITS: usize = 1024;

/// A Freshchat account's webhook key.
#[derive(Clone)]
pub struct WebhookKey {
    key: VerifyingKey<Sha256>,
    bits: usize,
    fingerprint: String,
}

impl std::fmt::Debug for WebhookKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookKey")
            .field("bits", &self.bits)
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

impl WebhookKey {
    /// Reads the public key as the webhook settings show it: a PEM `PUBLIC KEY` (SPKI) or `RSA
    /// PUBLIC KEY` (PKCS#1), with or without its line breaks (a key pasted on one line), or the
    /// bare Base64 between the markers.
    pub fn from_pem(text: &str) -> Result<Self, String> {
        let bad = |why: &str| {
            format!(
                "the Freshchat webhook key cannot be read ({why}): paste the whole public key \
                 of Admin settings → Webhooks, -----BEGIN … KEY----- lines included"
            )
        };
        if text.len() > 16 * 1024 {
            return Err(bad("it is far too long"));
        }
        let body = pem_body(text);
        let der = B64
            .decode(body.as_bytes())
            .map_err(|_| bad("its body is not Base64"))?;
        let key = RsaPublicKey::from_public_key_der(&der)
            .or_else(|_| RsaPublicKey::from_pkcs1_der(&der))
            .map_err(|_| bad("it is not an RSA public key"))?;
        let bits = key.size() * 8;
        if bits < MIN_BITS {
            return Err(bad(&format!("an RSA key of {bits} bits is too weak")));
        }
        let spki = key
            .to_public_key_der()
            .map_err(|_| bad("it cannot be encoded"))?;
        let fingerprint = hex::encode(&Sha256::digest(spki.as_bytes())[..8]);
        Ok(Self {
            key: VerifyingKey::new(key),
            bits,
            fingerprint,
        })
    }

    pub fn bits(&self) -> usize {
        self.bits
    }

    /// The first 8 bytes of the SHA-256 of the key's SPKI, hex: to tell keys apart.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Checks `X-Freshchat-Signature` over the raw body.
    pub fn check(&self, signature: Option<&str>, body: &[u8]) -> Result<(), String> {
        let given = signature
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or("missing X-Freshchat-Signature header")?;
        if given.len() > 4096 {
            return Err("X-Freshchat-Signature is too long".into());
        }
        let bytes = B64
            .decode(given.as_bytes())
            .map_err(|_| "X-Freshchat-Signature is not Base64")?;
        let signature = Signature::try_from(bytes.as_slice())
            .map_err(|_| "X-Freshchat-Signature is not an RSA signature")?;
        self.key.verify(body, &signature).map_err(|_| {
            "X-Freshchat-Signature does not match the body and the account's key".into()
        })
    }
}

impl ChatWebhooks for WebhookKey {
    fn verify(&self, signature: Option<&str>, body: &[u8]) -> Result<(), String> {
        self.check(signature, body)
    }

    fn read(&self, body: &[u8]) -> Result<ChatEvent, String> {
        read_event(body)
    }
}

/// The Base64 between a PEM's markers (any label), whitespace removed; the whole text when it
/// has no markers.
fn pem_body(text: &str) -> String {
    let mut rest = text.trim();
    if let Some(begin) = rest.find("-----BEGIN") {
        rest = &rest[begin + "-----BEGIN".len()..];
        // The label ends at the next run of dashes.
        if let Some(end) = rest.find("-----") {
            rest = rest[end..].trim_start_matches('-');
        }
        if let Some(end) = rest.find("-----END") {
            rest = &rest[..end];
        }
    }
    rest.chars().filter(|c| !c.is_whitespace()).collect()
}

/// An id of the payload, when it is one we can use (anything else is left out).
fn id_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| is_plain_id(s))
}

/// The kind of a message part: `part_type` (older payloads), else the part's one key.
fn part_kind(part: &Value) -> Option<String> {
    if let Some(t) = part.get("part_type").and_then(Value::as_str) {
        return Some(t.chars().take(32).collect());
    }
    part.as_object()?
        .keys()
        .next()
        .map(|k| k.chars().take(32).collect())
}

/// The text contents of a message (`message_parts` or the older `msg_parts`).
pub fn text_parts(message: &Value) -> Vec<String> {
    let parts = message
        .get("message_parts")
        .or_else(|| message.get("msg_parts"))
        .and_then(Value::as_array);
    parts
        .into_iter()
        .flatten()
        .filter_map(|p| {
            p.pointer("/text/content")
                .or_else(|| {
                    (p.get("part_type").and_then(Value::as_str) == Some("text"))
                        .then(|| p.get("content"))
                        .flatten()
                })
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect()
}

/// An RFC 3339 time (`2026-12-07T10:00:00.000Z`) in Unix milliseconds.
fn rfc3339_ms(text: &str) -> Option<i64> {
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Reads a webhook body into ids and kinds. Its `action` is required; everything else is read
/// where present.
pub fn read_event(body: &[u8]) -> Result<ChatEvent, String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let action = v
        .get("action")
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty() && a.len() <= 64)
        .ok_or("the body has no \"action\"")?
        .to_string();
    let data = v.get("data").cloned().unwrap_or(Value::Null);
    let message = data.get("message").cloned().unwrap_or(Value::Null);
    let conversation = data
        .get("conversation")
        .or_else(|| data.get("assignment"))
        .or_else(|| data.get("resolve"))
        .or_else(|| data.get("reopen"))
        .cloned()
        .unwrap_or(Value::Null);
    let actor = v.get("actor").cloned().unwrap_or(Value::Null);
    let actor_type = actor
        .get("actor_type")
        .or_else(|| message.get("actor_type"))
        .and_then(Value::as_str)
        .map(|s| s.chars().take(16).collect::<String>());
    let conversation_id = id_at(&message, "conversation_id")
        .or_else(|| id_at(&conversation, "conversation_id"))
        .or_else(|| id_at(&conversation, "id"))
        .map(str::to_string);
    // The chat user: the message's, else the actor when it is the user.
    let user_id = id_at(&message, "user_id")
        .or_else(|| id_at(&conversation, "user_id"))
        .or_else(|| {
            (actor_type.as_deref() == Some("user"))
                .then(|| id_at(&actor, "actor_id"))
                .flatten()
        })
        .map(str::to_string);
    let parts: Vec<String> = message
        .get("message_parts")
        .or_else(|| message.get("msg_parts"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(part_kind)
        .take(20)
        .collect();
    let key = match id_at(&message, "id") {
        Some(id) => format!("{action}:{id}"),
        None => format!("{action}:body:{}", hex::encode(Sha256::digest(body))),
    };
    Ok(ChatEvent {
        action,
        key,
        conversation_id,
        user_id,
        channel_id: id_at(&message, "channel_id").map(str::to_string),
        actor_type,
        parts,
        private: message.get("message_type").and_then(Value::as_str) == Some("private"),
        at_ms: v
            .get(TIME_FIELD)
            .and_then(Value::as_str)
            .and_then(rfc3339_ms),
    })
}

#[cfg(test)]
mod tests {
    use rsa::{pkcs1v15::SigningKey, pkcs8::DecodePrivateKey, signature::SignatureEncoding};
    use serde_json::json;

    use super::*;

    const PRIVATE: &str = include_str!("../../sim/freshchat/twin_key.pem");

    fn signer() -> (SigningKey<Sha256>, String) {
        let private = rsa::RsaPrivateKey::from_pkcs8_pem(PRIVATE).unwrap();
        let public = private
            .to_public_key()
            .to_public_key_pem(Default::default())
            .unwrap();
        (SigningKey::new(private), public)
    }

    fn sign(key: &SigningKey<Sha256>, body: &[u8]) -> String {
        use rsa::signature::Signer;
        B64.encode(key.sign(body).to_bytes())
    }

    #[test]
    fn a_signature_over_the_raw_body_verifies_and_nothing_else_does() {
        let (signer, pem) = signer();
        let key = WebhookKey::from_pem(&pem).unwrap();
        assert_eq!(key.bits(), 2048);
        let body = br#"{"action":"message_create","data":{}}"#;
        let good = sign(&signer, body);
        assert!(key.check(Some(&good), body).is_ok());
        // The same event re-serialised (a space) is another body.
        let reformatted = br#"{"action": "message_create","data":{}}"#;
        assert!(key.check(Some(&good), reformatted).is_err());
        assert!(key.check(None, body).unwrap_err().contains("missing"));
        assert!(key.check(Some("%%%"), body).is_err());
        assert!(key.check(Some(&B64.encode([0u8; 256])), body).is_err());
        assert!(key.check(Some(&B64.encode([1u8; 12])), body).is_err());
    }

    #[test]
    fn the_key_reads_in_the_forms_admins_paste_it() {
        let (_, pem) = signer();
        let one_line = pem.replace('\n', " ");
        let bare = pem_body(&pem);
        let a = WebhookKey::from_pem(&pem).unwrap();
        for form in [one_line.as_str(), bare.as_str()] {
            assert_eq!(
                WebhookKey::from_pem(form).unwrap().fingerprint(),
                a.fingerprint()
            );
        }
        // PKCS#1 (`RSA PUBLIC KEY`) too.
        let private = rsa::RsaPrivateKey::from_pkcs8_pem(PRIVATE).unwrap();
        let pkcs1 = rsa::pkcs1::EncodeRsaPublicKey::to_pkcs1_pem(
            &private.to_public_key(),
            Default::default(),
        )
        .unwrap();
        assert!(pkcs1.contains("RSA PUBLIC KEY"));
        assert_eq!(
            WebhookKey::from_pem(&pkcs1).unwrap().fingerprint(),
            a.fingerprint()
        );
        assert!(WebhookKey::from_pem("not a key").is_err());
        assert!(
            WebhookKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
                .is_err()
        );
    }

    #[test]
    fn reads_both_payload_versions() {
        let current = json!({
            "actor": {"actor_type": "user", "actor_id": "u-1"},
            "action": "message_create",
            "action_time": "2026-12-07T10:00:00.000Z",
            "data": {"message": {
                "message_parts": [{"text": {"content": "hello"}}, {"image": {"url": "https://x"}}],
                "conversation_id": "c-1", "channel_id": "ch-1", "user_id": "u-1",
                "actor_type": "user", "message_type": "normal", "id": "m-1"}}
        });
        let e = read_event(current.to_string().as_bytes()).unwrap();
        assert_eq!(e.action, "message_create");
        assert_eq!(e.at_ms, Some(1_796_637_600_000));
        assert_eq!(e.key, "message_create:m-1");
        assert_eq!(e.conversation_id.as_deref(), Some("c-1"));
        assert_eq!(e.user_id.as_deref(), Some("u-1"));
        assert_eq!(e.channel_id.as_deref(), Some("ch-1"));
        assert_eq!(e.parts, vec!["text", "image"]);
        assert!(!e.private);
        assert_eq!(text_parts(&current["data"]["message"]), vec!["hello"]);

        let older = json!({
            "actor": {"actor_type": "user", "actor_id": "u-2"},
            "action": "message_create",
            "data": {"message": {
                "msg_parts": [{"part_type": "text", "text": {"content": "hi"}}],
                "conversation_id": "c-2", "message_type": "private"}}
        });
        let e = read_event(older.to_string().as_bytes()).unwrap();
        assert_eq!(e.user_id.as_deref(), Some("u-2"), "the acting user");
        assert_eq!(e.parts, vec!["text"]);
        assert!(e.private);
        assert_eq!(e.at_ms, None, "no action_time");
        assert!(e.key.starts_with("message_create:body:"));
        assert_eq!(text_parts(&older["data"]["message"]), vec!["hi"]);

        // Ids that could not go into a path are left out; no action is refused.
        let odd =
            json!({"action": "message_create", "data": {"message": {"conversation_id": "../x"}}});
        assert_eq!(
            read_event(odd.to_string().as_bytes())
                .unwrap()
                .conversation_id,
            None
        );
        assert!(read_event(br#"{"data":{}}"#).is_err());
        assert!(read_event(b"nope").is_err());
    }
}
