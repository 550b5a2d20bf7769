//! Secrets and personal fields at rest: sealed with ChaCha20-Poly1305 under a master key from
//! the environment (`IDV_MASTER_KEY`, 32 bytes base64). Sealed text is `v1:<base64(nonce‖ct)>`.

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use chacha20poly1305::{
    aead::{Aead, AeadCore, KeyInit, OsRng},
    ChaCha20Poly1305, Key, Nonce,
};
use secrecy::{ExposeSecret, SecretString};

#[derive(Clone)]
pub struct Sealer {
    cipher: ChaCha20Poly1305,
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
    #[error("a sealed value could not be opened: wrong master key or damaged data")]
    Open,
}

impl Sealer {
    pub fn from_base64(key: &SecretString) -> Result<Self, SealError> {
        let bytes = B64
            .decode(key.expose_secret().trim())
            .map_err(|_| SealError::BadKey)?;
        if bytes.len() != 32 {
            return Err(SealError::BadKey);
        }
        Ok(Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&bytes)),
        })
    }

    /// A fresh random master key, base64.
    pub fn generate_key() -> String {
        B64.encode(ChaCha20Poly1305::generate_key(&mut OsRng))
    }

    pub fn seal(&self, plaintext: &str) -> String {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ct = self
            .cipher
            .encrypt(&nonce, plaintext.as_bytes())
            .expect("encryption does not fail");
        let mut out = nonce.to_vec();
        out.extend(ct);
        format!("v1:{}", B64.encode(out))
    }

    pub fn open(&self, sealed: &str) -> Result<SecretString, SealError> {
        let raw = sealed.strip_prefix("v1:").ok_or(SealError::Open)?;
        let bytes = B64.decode(raw).map_err(|_| SealError::Open)?;
        if bytes.len() < 12 {
            return Err(SealError::Open);
        }
        let (nonce, ct) = bytes.split_at(12);
        let pt = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| SealError::Open)?;
        String::from_utf8(pt)
            .map(SecretString::from)
            .map_err(|_| SealError::Open)
    }

    /// Opens an optional sealed column, treating damage as absence (and logging it).
    pub fn open_opt(&self, sealed: Option<&str>) -> Option<String> {
        let s = sealed?;
        match self.open(s) {
            Ok(v) => Some(v.expose_secret().to_string()),
            Err(e) => {
                tracing::warn!(error = %e, "sealed column could not be opened");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_and_refuses_the_wrong_key() {
        let a = Sealer::from_base64(&Sealer::generate_key().into()).unwrap();
        let b = Sealer::from_base64(&Sealer::generate_key().into()).unwrap();
        let sealed = a.seal("fs-api-key-123");
        assert!(!sealed.contains("fs-api-key-123"));
        assert_ne!(sealed, a.seal("fs-api-key-123"), "nonces differ");
        assert_eq!(a.open(&sealed).unwrap().expose_secret(), "fs-api-key-123");
        assert_eq!(b.open(&sealed).unwrap_err(), SealError::Open);
        assert_eq!(
            Sealer::from_base64(&"c2hvcnQ=".to_string().into()).unwrap_err(),
            SealError::BadKey
        );
        assert_eq!(format!("{a:?}"), "Sealer([redacted])");
    }
}
