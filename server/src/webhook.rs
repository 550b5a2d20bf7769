//! Standard Webhooks signatures: `webhook-id`, `webhook-timestamp`, `webhook-signature`
//! (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{raw body}">`, space-separated during key
//! rotation), checked on the raw bytes with a ±5-minute tolerance and a constant-time compare.

use axum::http::HeaderMap;
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const TOLERANCE_SECS: i64 = 5 * 60;

/// Why a delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing {0} header")]
    Missing(&'static str),
    #[error("webhook-timestamp is not a Unix time in seconds")]
    BadTimestamp,
    #[error("webhook-timestamp is outside the 5-minute tolerance")]
    Stale,
    #[error("no webhook-signature entry matches")]
    Mismatch,
    #[error("webhook-id is empty or longer than 256 bytes")]
    BadId,
}

/// The key bytes of a secret: Standard Webhooks secrets `whsec_<base64>` are the base64-decoded
/// bytes after the prefix (as the spec and its libraries read them); any other secret, or a
/// `whsec_` one that is not base64, is used as its raw bytes.
pub fn secret_bytes(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix("whsec_")
        .and_then(|b64| B64.decode(b64).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

/// A new Standard Webhooks secret: `whsec_` and 32 random bytes, base64.
pub fn generate_secret() -> String {
    use rand::RngCore;
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    format!("whsec_{}", B64.encode(key))
}

/// `v1,<base64>` for one message.
pub fn sign(secret: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "v1,{}",
        B64.encode(mac(secret, id, timestamp, body).finalize().into_bytes())
    )
}

fn mac(secret: &[u8], id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    m.update(id.as_bytes());
    m.update(b".");
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// The three headers for a delivery.
pub fn headers(
    secret: &[u8],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> [(&'static str, String); 3] {
    [
        ("webhook-id", id.to_string()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", sign(secret, id, timestamp, body)),
    ]
}

/// A verified delivery's id and timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub id: String,
    pub timestamp: i64,
}

/// Checks a delivery against any of `secrets` (rotation); `now` is Unix seconds.
pub fn verify(
    secrets: &[&[u8]],
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<Verified, SignatureError> {
    let get = |name: &'static str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .ok_or(SignatureError::Missing(name))
    };
    let id = get("webhook-id")?;
    if id.is_empty() || id.len() > 256 {
        return Err(SignatureError::BadId);
    }
    let timestamp: i64 = get("webhook-timestamp")?
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)?;
    if (now - timestamp).abs() > TOLERANCE_SECS {
        return Err(SignatureError::Stale);
    }
    let signatures = get("webhook-signature")?;
    for entry in signatures.split(' ') {
        let Some(b64) = entry.strip_prefix("v1,") else {
            continue;
        };
        let Ok(given) = B64.decode(b64) else { continue };
        for secret in secrets {
            // verify_slice compares in constant time.
            if mac(secret, id, timestamp, body)
                .verify_slice(&given)
                .is_ok()
            {
                return Ok(Verified {
                    id: id.to_string(),
                    timestamp,
                });
            }
        }
    }
    Err(SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(h: [(&'static str, String); 3]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in h {
            m.insert(k, v.parse().unwrap());
        }
        m
    }

    #[test]
    fn known_vector() {
        // Standard Webhooks reference vector.
        let secret = B64.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            sign(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn accepts_good_and_rejects_forged_stale_and_missing() {
        let body = b"{\"a\":1}";
        let h = map(headers(b"key", "msg_1", 1_000, body));
        assert_eq!(verify(&[b"key"], &h, body, 1_100).unwrap().id, "msg_1");
        // rotation: the second secret matches
        assert!(verify(&[b"old", b"key"], &h, body, 1_000).is_ok());
        assert_eq!(
            verify(&[b"other"], &h, body, 1_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(&[b"key"], &h, b"{\"a\":2}", 1_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(&[b"key"], &h, body, 1_000 + 301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(&[b"key"], &h, body, 1_000 - 301),
            Err(SignatureError::Stale)
        );
        let mut no_sig = h.clone();
        no_sig.remove("webhook-signature");
        assert_eq!(
            verify(&[b"key"], &no_sig, body, 1_000),
            Err(SignatureError::Missing("webhook-signature"))
        );
    }

    #[test]
    fn whsec_secrets_are_base64_and_raw_secrets_keep_working() {
        let key = b"0123456789abcdef0123456789abcdef";
        let whsec = format!("whsec_{}", B64.encode(key));
        assert_eq!(secret_bytes(&whsec), key.to_vec());
        assert_eq!(secret_bytes("plain-secret"), b"plain-secret".to_vec());
        assert_eq!(
            secret_bytes("whsec_not base64!"),
            b"whsec_not base64!".to_vec()
        );
        // A delivery signed with the decoded key verifies against the whsec_ secret.
        let body = br#"{"type":"verify.session.updated","session_id":"s1"}"#;
        let mut h = HeaderMap::new();
        for (name, value) in headers(key, "msg_1", 1_000, body) {
            h.insert(name, value.parse().unwrap());
        }
        let decoded = secret_bytes(&whsec);
        assert!(verify(&[&decoded], &h, body, 1_000).is_ok());
        assert_eq!(
            verify(&[whsec.as_bytes()], &h, body, 1_000),
            Err(SignatureError::Mismatch),
            "the secret's text is not its key"
        );
    }
}
