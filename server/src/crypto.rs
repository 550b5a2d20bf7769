//! Secrets and personal fields at rest: sealed with ChaCha20-Poly1305 under a master key from
//! the environment (`IDV_MASTER_KEY`, 32 bytes base64).
//!
//! Sealed text is `v2:<key id>:<base64(nonce‖ct)>`. The key id names the master key (a digest
//! of it, never the key), and the value's place — its table, column and row — is bound in as
//! associated data: a value copied to another row, column or table does not open. Values
//! sealed before key ids existed (`v1:<base64>`, no associated data) still open; `server keys
//! rotate` re-seals every value as `v2` under a new key.

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use chacha20poly1305::{
    aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
    ChaCha20Poly1305, Key, Nonce,
};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// Where a sealed value lives: bound into its ciphertext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place<'a> {
    pub table: &'static str,
    pub column: &'static str,
    /// The row's identity (its id, or `tenant/key` for rows keyed within a tenant).
    pub row: &'a str,
}

/// The at-rest form of a bearer secret (an API token, a widget pass): its SHA-256, hex.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The place of a value: `at("tenants", "freshsales_key_sealed", id)`.
pub fn at<'a>(table: &'static str, column: &'static str, row: &'a str) -> Place<'a> {
    Place { table, column, row }
}

impl Place<'_> {
    fn associated_data(&self, key_id: &str) -> Vec<u8> {
        ["idv-seal-v2", key_id, self.table, self.column, self.row]
            .join("\u{0}")
            .into_bytes()
    }
}

#[derive(Clone)]
pub struct Sealer {
    cipher: ChaCha20Poly1305,
    key_id: String,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([redacted])")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("IDV_MASTER_KEY must be 32 bytes, base64-encoded (generate one with `server keygen`)")]
    BadKey,
    #[error("a sealed value could not be opened: wrong master key, wrong place or damaged data")]
    Open,
    #[error("a sealed value is under another master key (key id {0})")]
    OtherKey(String),
}

impl Sealer {
    pub fn from_base64(key: &SecretString) -> Result<Self, SealError> {
        let bytes = B64
            .decode(key.expose_secret().trim())
            .map_err(|_| SealError::BadKey)?;
        if bytes.len() != 32 {
            return Err(SealError::BadKey);
        }
        let digest = Sha256::new()
            .chain_update(b"idv master key id\0")
            .chain_update(&bytes)
            .finalize();
        Ok(Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&bytes)),
            key_id: hex::encode(&digest[..8]),
        })
    }

    /// A fresh random master key, base64.
    pub fn generate_key() -> String {
        B64.encode(ChaCha20Poly1305::generate_key(&mut OsRng))
    }

    /// The id of this master key, as sealed values name it (a digest, not the key).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Seals `plaintext` for `place`.
    pub fn seal(&self, place: Place<'_>, plaintext: &str) -> String {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = place.associated_data(&self.key_id);
        let ct = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: &aad,
                },
            )
            .expect("encryption does not fail");
        let mut out = nonce.to_vec();
        out.extend(ct);
        format!("v2:{}:{}", self.key_id, B64.encode(out))
    }

    /// Opens a value sealed for `place` (or a `v1` value sealed before places were bound).
    pub fn open(&self, place: Place<'_>, sealed: &str) -> Result<SecretString, SealError> {
        let (raw, aad) = if let Some(rest) = sealed.strip_prefix("v2:") {
            let (kid, raw) = rest.split_once(':').ok_or(SealError::Open)?;
            if kid != self.key_id {
                return Err(SealError::OtherKey(kid.chars().take(32).collect()));
            }
            (raw, place.associated_data(kid))
        } else if let Some(raw) = sealed.strip_prefix("v1:") {
            (raw, Vec::new())
        } else {
            return Err(SealError::Open);
        };
        let bytes = B64.decode(raw).map_err(|_| SealError::Open)?;
        if bytes.len() < 12 {
            return Err(SealError::Open);
        }
        let (nonce, ct) = bytes.split_at(12);
        let pt = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad: &aad })
            .map_err(|_| SealError::Open)?;
        String::from_utf8(pt)
            .map(SecretString::from)
            .map_err(|_| SealError::Open)
    }

    /// Opens an optional sealed column, treating damage as absence (and logging it).
    pub fn open_opt(&self, place: Place<'_>, sealed: Option<&str>) -> Option<String> {
        let s = sealed?;
        match self.open(place, s) {
            Ok(v) => Some(v.expose_secret().to_string()),
            Err(e) => {
                tracing::warn!(error = %e, table = place.table, column = place.column, "sealed column could not be opened");
                None
            }
        }
    }

    /// Whether `sealed` is already a `v2` value under this key (a rotation run again skips it).
    pub fn is_current(&self, sealed: &str) -> bool {
        sealed
            .strip_prefix("v2:")
            .and_then(|rest| rest.split_once(':'))
            .is_some_and(|(kid, _)| kid == self.key_id)
    }

    /// Seals a value in the format used before places and key ids (for migration tests).
    #[doc(hidden)]
    pub fn seal_v1(&self, plaintext: &str) -> String {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ct = self
            .cipher
            .encrypt(&nonce, plaintext.as_bytes())
            .expect("encryption does not fail");
        let mut out = nonce.to_vec();
        out.extend(ct);
        format!("v1:{}", B64.encode(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> Sealer {
        Sealer::from_base64(&Sealer::generate_key().into()).unwrap()
    }

    #[test]
    fn seals_and_opens_and_refuses_the_wrong_key() {
        let (a, b) = (sealer(), sealer());
        let p = at("tenants", "freshsales_key_sealed", "t1");
        let sealed = a.seal(p, "fs-api-key-123");
        assert!(!sealed.contains("fs-api-key-123"));
        assert!(sealed.starts_with(&format!("v2:{}:", a.key_id())));
        assert_ne!(sealed, a.seal(p, "fs-api-key-123"), "nonces differ");
        assert_eq!(
            a.open(p, &sealed).unwrap().expose_secret(),
            "fs-api-key-123"
        );
        assert!(matches!(b.open(p, &sealed), Err(SealError::OtherKey(_))));
        assert_eq!(
            Sealer::from_base64(&"c2hvcnQ=".to_string().into()).unwrap_err(),
            SealError::BadKey
        );
        assert_eq!(format!("{a:?}"), "Sealer([redacted])");
    }

    #[test]
    fn a_value_sealed_for_one_row_does_not_open_for_another_row_column_or_table() {
        let s = sealer();
        let sealed = s.seal(at("tenants", "freshsales_key_sealed", "t1"), "key-of-t1");
        for other in [
            at("tenants", "freshsales_key_sealed", "t2"),
            at("tenants", "kosmos_key_sealed", "t1"),
            at("verifications", "freshsales_key_sealed", "t1"),
        ] {
            assert_eq!(
                s.open(other, &sealed).unwrap_err(),
                SealError::Open,
                "{other:?}"
            );
        }
        // A forged key id does not help either.
        let forged = sealed.replacen(s.key_id(), "0000000000000000", 1);
        assert!(s
            .open(at("tenants", "freshsales_key_sealed", "t1"), &forged)
            .is_err());
    }

    #[test]
    fn values_sealed_before_key_ids_still_open() {
        let s = sealer();
        let old = s.seal_v1("legacy-secret");
        let p = at("contacts", "credential_did_sealed", "t1/7");
        assert_eq!(s.open(p, &old).unwrap().expose_secret(), "legacy-secret");
        assert!(!s.is_current(&old));
        assert!(sealer().open(p, &old).is_err());
    }

    #[test]
    fn key_ids_name_the_key_and_not_its_bytes() {
        let key = Sealer::generate_key();
        let a = Sealer::from_base64(&key.clone().into()).unwrap();
        let b = Sealer::from_base64(&key.clone().into()).unwrap();
        assert_eq!(a.key_id(), b.key_id());
        assert_ne!(a.key_id(), sealer().key_id());
        assert!(!key.contains(a.key_id()));
        assert_eq!(a.key_id().len(), 16);
    }
}
