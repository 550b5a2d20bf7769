//! Standard Webhooks signatures: `webhook-id`, `webhook-timestamp`, `webhook-signature`
//! (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{raw body}">`, space-separated during key
//! rotation), checked on the raw bytes with a ±5-minute tolerance and a constant-time compare.

use axum::http::HeaderMap;
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::AppError;

pub const TOLERANCE_SECS: i64 = 5 * 60;
/// Entries a `webhook-signature` may carry: enough for any rotation (a sender signs once per
/// active secret), few enough that refusing a forgery costs nothing.
pub const MAX_SIGNATURES: usize = 8;
/// Bytes a `webhook-signature` may have: eight `v1,` entries of a SHA-512-sized MAC fit.
pub const MAX_SIGNATURE_HEADER: usize = 1024;

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
    #[error("webhook-signature is longer than {MAX_SIGNATURE_HEADER} bytes")]
    TooLong,
    #[error("webhook-signature has more than {MAX_SIGNATURES} entries")]
    TooMany,
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
    #[cfg(test)]
    tests::MACS.with(|n| n.set(n.get() + 1));
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
    // Bounded before any MAC: the cost of refusing a forgery does not grow with its header.
    if signatures.len() > MAX_SIGNATURE_HEADER {
        return Err(SignatureError::TooLong);
    }
    let entries: Vec<&str> = signatures.split(' ').filter(|e| !e.is_empty()).collect();
    if entries.len() > MAX_SIGNATURES {
        return Err(SignatureError::TooMany);
    }
    let given: Vec<Vec<u8>> = entries
        .iter()
        .filter_map(|e| e.strip_prefix("v1,"))
        .filter_map(|b64| B64.decode(b64).ok())
        .collect();
    if given.is_empty() {
        return Err(SignatureError::Mismatch);
    }
    // One MAC per secret, compared in constant time with every entry.
    let mut matched = subtle::Choice::from(0);
    for secret in secrets {
        let expected = mac(secret, id, timestamp, body).finalize().into_bytes();
        for g in &given {
            matched |= expected.as_slice().ct_eq(g.as_slice());
        }
    }
    if bool::from(matched) {
        Ok(Verified {
            id: id.to_string(),
            timestamp,
        })
    } else {
        Err(SignatureError::Mismatch)
    }
}

impl SignatureError {
    /// The answer to a refused delivery: a header too big to check is a malformed request
    /// (400); any other refusal is `refused(reason)` (the caller's 401 or 403).
    pub fn answer(self, refused: impl FnOnce(String) -> AppError) -> AppError {
        match self {
            Self::TooLong | Self::TooMany => AppError::BadRequest(self.to_string()),
            other => refused(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    thread_local! {
        /// MACs computed on this thread (each test runs on its own).
        pub(super) static MACS: Cell<usize> = const { Cell::new(0) };
    }

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

    fn delivery(signature: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("webhook-id", "msg_1".parse().unwrap());
        h.insert("webhook-timestamp", "1000".parse().unwrap());
        h.insert("webhook-signature", signature.parse().unwrap());
        h
    }

    #[test]
    fn many_signature_entries_cost_one_mac_per_secret() {
        let body = vec![b'x'; 64 * 1024];
        let good = sign(b"key", "msg_1", 1_000, &body);
        // Seven forged entries before the good one, checked against two secrets.
        let forged = (0..7u8).map(|i| format!("v1,{}", B64.encode([i; 32])));
        let entries: Vec<String> = forged.chain([good]).collect();
        MACS.with(|n| n.set(0));
        let h = delivery(&entries.join(" "));
        assert!(verify(&[b"old", b"key"], &h, &body, 1_000).is_ok());
        assert_eq!(MACS.with(Cell::get), 2, "one MAC per secret");
        // A forgery costs the same two MACs, however many entries it carries up to the cap.
        MACS.with(|n| n.set(0));
        let h = delivery(&entries[..7].join(" "));
        assert_eq!(
            verify(&[b"old", b"key"], &h, &body, 1_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(MACS.with(Cell::get), 2, "one MAC per secret");
    }

    #[test]
    fn a_signature_header_with_50000_entries_is_refused_before_any_mac() {
        let body = vec![b'x'; 64 * 1024];
        MACS.with(|n| n.set(0));
        let h = delivery(&vec!["v1,AA=="; 50_000].join(" "));
        assert_eq!(
            verify(&[b"old", b"key"], &h, &body, 1_000),
            Err(SignatureError::TooLong)
        );
        // Many short entries within the length cap are refused by their number.
        let h = delivery(&["v1,AA=="; MAX_SIGNATURES + 1].join(" "));
        assert_eq!(
            verify(&[b"key"], &h, &body, 1_000),
            Err(SignatureError::TooMany)
        );
        assert_eq!(MACS.with(Cell::get), 0, "refused before any MAC");
    }
}
