//! The BlockID cipher: an EC key pair per client (secp256k1 by default, P-256 for FedRAMP
//! tenants), a shared key that is the raw ECDH x-coordinate (no KDF), and AES-256-GCM with a
//! 16-byte IV, sent as `base64(iv ‖ ciphertext ‖ tag)`. RustCrypto only.
//!
//! Key encodings as 1Kosmos's helpers write them: a public key is base64 of the 64-byte X‖Y
//! (the uncompressed point without its 0x04 prefix; the 65-byte SEC1 form is accepted too), a
//! private key is base64 of the 32-byte big-endian scalar (Go may write fewer bytes, which are
//! left-padded; Java may write 33 with a leading zero byte, which is stripped).

use std::{fmt, str::FromStr};

use aes_gcm::{
    aead::{consts::U16, generic_array::GenericArray, Aead, KeyInit},
    aes::Aes256,
    AesGcm,
};
use base64::{
    alphabet,
    engine::{general_purpose::STANDARD, DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
    Engine,
};
use k256::elliptic_curve::{sec1::ToEncodedPoint, zeroize::Zeroize};
use rand::{rngs::OsRng, RngCore};
use secrecy::SecretString;

/// AES-256-GCM with the 16-byte nonce BlockID uses.
type Aes256Gcm16 = AesGcm<Aes256, U16>;

const IV_LEN: usize = 16;
const TAG_LEN: usize = 16;

/// Standard base64, with or without padding (what the helpers write is padded).
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The curve of a tenant's keys (`EC_CURVE_NAME` in the helpers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Curve {
    #[default]
    #[serde(rename = "secp256k1")]
    Secp256k1,
    /// NIST P-256, `prime256v1` in OpenSSL's names.
    #[serde(rename = "prime256v1")]
    P256,
}

impl Curve {
    /// The name the helpers use.
    pub fn name(self) -> &'static str {
        match self {
            Self::Secp256k1 => "secp256k1",
            Self::P256 => "prime256v1",
        }
    }
}

impl fmt::Display for Curve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Curve {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "secp256k1" | "k256" => Ok(Self::Secp256k1),
            "prime256v1" | "p256" | "p-256" | "secp256r1" => Ok(Self::P256),
            other => Err(format!(
                "unknown curve {other:?}: use secp256k1 or prime256v1"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    #[error("the {0} is not base64")]
    Base64(&'static str),
    #[error("a private key must be a 32-byte scalar (got {0} bytes)")]
    PrivateKeyLength(usize),
    #[error("the private key is not a valid {0} scalar")]
    PrivateKey(Curve),
    #[error("a public key must be the 64-byte X‖Y of a point (got {0} bytes)")]
    PublicKeyLength(usize),
    #[error("the public key is not a point on {0}")]
    PublicKey(Curve),
    #[error("a shared key must be 32 bytes (got {0})")]
    SharedKeyLength(usize),
    #[error("the ciphertext is too short to hold an IV and a tag")]
    TooShort,
    #[error("the ciphertext does not decrypt with this key (wrong key or altered data)")]
    Decrypt,
    #[error("the plaintext is not UTF-8")]
    Utf8,
}

#[derive(Clone)]
enum Secret {
    K(k256::SecretKey),
    P(p256::SecretKey),
}

/// An EC key pair on one of the two curves.
#[derive(Clone)]
pub struct KeyPair {
    secret: Secret,
    public_b64: String,
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("curve", &self.curve().name())
            .field("public", &self.public_b64)
            .field("secret", &"[redacted]")
            .finish()
    }
}

impl KeyPair {
    /// A fresh random key pair (what the helpers do once per process).
    pub fn generate(curve: Curve) -> Self {
        Self::from_secret(match curve {
            Curve::Secp256k1 => Secret::K(k256::SecretKey::random(&mut OsRng)),
            Curve::P256 => Secret::P(p256::SecretKey::random(&mut OsRng)),
        })
    }

    /// Reads a private key as the helpers write it (base64 of the big-endian scalar).
    pub fn from_private_b64(curve: Curve, b64: &str) -> Result<Self, CipherError> {
        let mut raw = LENIENT
            .decode(b64.trim())
            .map_err(|_| CipherError::Base64("private key"))?;
        let scalar = scalar_bytes(&raw);
        raw.zeroize();
        let mut scalar = scalar?;
        let secret = match curve {
            Curve::Secp256k1 => {
                k256::SecretKey::from_bytes(GenericArray::from_slice(&scalar)).map(Secret::K)
            }
            Curve::P256 => {
                p256::SecretKey::from_bytes(GenericArray::from_slice(&scalar)).map(Secret::P)
            }
        };
        scalar.zeroize();
        Ok(Self::from_secret(
            secret.map_err(|_| CipherError::PrivateKey(curve))?,
        ))
    }

    fn from_secret(secret: Secret) -> Self {
        let point = match &secret {
            Secret::K(s) => s.public_key().to_encoded_point(false).as_bytes().to_vec(),
            Secret::P(s) => s.public_key().to_encoded_point(false).as_bytes().to_vec(),
        };
        // Uncompressed SEC1 is 0x04 ‖ X ‖ Y; the wire form drops the prefix.
        let public_b64 = STANDARD.encode(&point[1..]);
        Self { secret, public_b64 }
    }

    pub fn curve(&self) -> Curve {
        match self.secret {
            Secret::K(_) => Curve::Secp256k1,
            Secret::P(_) => Curve::P256,
        }
    }

    /// The public key as sent in the `publickey` header: base64 of X‖Y.
    pub fn public_key_b64(&self) -> &str {
        &self.public_b64
    }

    /// The private key as the helpers write it (for configuration round trips; never log it).
    pub fn private_key_b64(&self) -> SecretString {
        let mut bytes = match &self.secret {
            Secret::K(s) => s.to_bytes().to_vec(),
            Secret::P(s) => s.to_bytes().to_vec(),
        };
        let out = STANDARD.encode(&bytes);
        bytes.zeroize();
        out.into()
    }

    /// The shared key with the other side's public key (base64 X‖Y): the raw ECDH x-coordinate.
    pub fn shared_key(&self, peer_public_b64: &str) -> Result<SharedKey, CipherError> {
        let raw = LENIENT
            .decode(peer_public_b64.trim())
            .map_err(|_| CipherError::Base64("public key"))?;
        let sec1 = match raw.len() {
            64 => [&[0x04][..], &raw].concat(),
            65 if raw[0] == 0x04 => raw,
            n => return Err(CipherError::PublicKeyLength(n)),
        };
        let mut key = [0u8; 32];
        match &self.secret {
            Secret::K(s) => {
                let peer = k256::PublicKey::from_sec1_bytes(&sec1)
                    .map_err(|_| CipherError::PublicKey(Curve::Secp256k1))?;
                let shared = k256::ecdh::diffie_hellman(s.to_nonzero_scalar(), peer.as_affine());
                key.copy_from_slice(shared.raw_secret_bytes());
            }
            Secret::P(s) => {
                let peer = p256::PublicKey::from_sec1_bytes(&sec1)
                    .map_err(|_| CipherError::PublicKey(Curve::P256))?;
                let shared = p256::ecdh::diffie_hellman(s.to_nonzero_scalar(), peer.as_affine());
                key.copy_from_slice(shared.raw_secret_bytes());
            }
        }
        Ok(SharedKey(key))
    }
}

/// 32 bytes of scalar from what a helper wrote: left-pad short keys, strip one leading zero.
fn scalar_bytes(raw: &[u8]) -> Result<[u8; 32], CipherError> {
    let body = match raw.len() {
        33 if raw[0] == 0 => &raw[1..],
        1..=32 => raw,
        n => return Err(CipherError::PrivateKeyLength(n)),
    };
    let mut out = [0u8; 32];
    out[32 - body.len()..].copy_from_slice(body);
    Ok(out)
}

/// An AES-256 key shared with one 1Kosmos service (zeroed when dropped).
#[derive(Clone, PartialEq, Eq)]
pub struct SharedKey([u8; 32]);

impl fmt::Debug for SharedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedKey([redacted])")
    }
}

impl Drop for SharedKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl SharedKey {
    /// A key as the helpers print it (base64 of 32 bytes).
    pub fn from_b64(b64: &str) -> Result<Self, CipherError> {
        let mut raw = LENIENT
            .decode(b64.trim())
            .map_err(|_| CipherError::Base64("shared key"))?;
        let out = <[u8; 32]>::try_from(raw.as_slice())
            .map(Self)
            .map_err(|_| CipherError::SharedKeyLength(raw.len()));
        raw.zeroize();
        out
    }

    pub fn to_b64(&self) -> SecretString {
        STANDARD.encode(self.0).into()
    }

    fn aead(&self) -> Aes256Gcm16 {
        Aes256Gcm16::new(GenericArray::from_slice(&self.0))
    }

    /// `base64(iv ‖ ciphertext ‖ tag)` with a fresh random 16-byte IV.
    pub fn encrypt(&self, plaintext: &[u8]) -> String {
        let mut iv = [0u8; IV_LEN];
        OsRng.fill_bytes(&mut iv);
        let sealed = self
            .aead()
            .encrypt(GenericArray::from_slice(&iv), plaintext)
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(IV_LEN + sealed.len());
        out.extend_from_slice(&iv);
        out.extend_from_slice(&sealed);
        STANDARD.encode(out)
    }

    pub fn encrypt_str(&self, plaintext: &str) -> String {
        self.encrypt(plaintext.as_bytes())
    }

    /// Opens `base64(iv ‖ ciphertext ‖ tag)`; any wrong key or altered byte is an error.
    pub fn decrypt(&self, b64: &str) -> Result<Vec<u8>, CipherError> {
        let raw = LENIENT
            .decode(b64.trim())
            .map_err(|_| CipherError::Base64("ciphertext"))?;
        if raw.len() < IV_LEN + TAG_LEN {
            return Err(CipherError::TooShort);
        }
        let (iv, sealed) = raw.split_at(IV_LEN);
        self.aead()
            .decrypt(GenericArray::from_slice(iv), sealed)
            .map_err(|_| CipherError::Decrypt)
    }

    pub fn decrypt_str(&self, b64: &str) -> Result<String, CipherError> {
        String::from_utf8(self.decrypt(b64)?).map_err(|_| CipherError::Utf8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use serde_json::Value;

    const VECTORS: &str = include_str!("testdata/vectors.json");

    fn vectors() -> Vec<Value> {
        let v: Value = serde_json::from_str(VECTORS).unwrap();
        v["vectors"].as_array().unwrap().clone()
    }

    fn s<'a>(v: &'a Value, path: &[&str]) -> &'a str {
        path.iter().fold(v, |v, k| &v[k]).as_str().unwrap()
    }

    #[test]
    fn the_helpers_vectors_derive_and_decrypt_on_both_curves() {
        let all = vectors();
        let curves: Vec<Curve> = all
            .iter()
            .map(|v| s(v, &["curve"]).parse().unwrap())
            .collect();
        assert_eq!(curves, [Curve::Secp256k1, Curve::P256]);
        for (v, curve) in all.iter().zip(curves) {
            let client =
                KeyPair::from_private_b64(curve, s(v, &["client", "private_key_b64"])).unwrap();
            let service =
                KeyPair::from_private_b64(curve, s(v, &["service", "private_key_b64"])).unwrap();
            // The public keys we compute are the helper's, byte for byte.
            assert_eq!(client.public_key_b64(), s(v, &["client", "public_key_b64"]));
            assert_eq!(
                service.public_key_b64(),
                s(v, &["service", "public_key_b64"])
            );
            let want = SharedKey::from_b64(s(v, &["shared_key_b64"])).unwrap();
            let from_client = client
                .shared_key(s(v, &["service", "public_key_b64"]))
                .unwrap();
            let from_service = service
                .shared_key(s(v, &["client", "public_key_b64"]))
                .unwrap();
            assert_eq!(from_client, want, "{curve}");
            assert_eq!(from_service, want, "{curve}");
            let samples = v["samples"].as_array().unwrap();
            assert_eq!(samples.len(), 3);
            for sample in samples {
                let plain = s(sample, &["plaintext"]);
                let ct = s(sample, &["ciphertext_b64"]);
                assert_eq!(from_client.decrypt_str(ct).unwrap(), plain, "{curve}");
                assert_eq!(from_service.decrypt_str(ct).unwrap(), plain, "{curve}");
            }
        }
    }

    #[test]
    fn round_trips_on_both_curves() {
        for curve in [Curve::Secp256k1, Curve::P256] {
            let a = KeyPair::generate(curve);
            let b = KeyPair::generate(curve);
            let ab = a.shared_key(b.public_key_b64()).unwrap();
            let ba = b.shared_key(a.public_key_b64()).unwrap();
            assert_eq!(ab, ba);
            for plain in ["", "x", "{\"ts\":1,\"uuid\":\"u\"}", &"long ".repeat(1000)] {
                let ct = ab.encrypt_str(plain);
                assert_eq!(ba.decrypt_str(&ct).unwrap(), plain);
                // A fresh IV each time.
                assert_ne!(ab.encrypt_str(plain), ct);
            }
            // The key pair survives its own encoding.
            let again =
                KeyPair::from_private_b64(curve, a.private_key_b64().expose_secret()).unwrap();
            assert_eq!(again.public_key_b64(), a.public_key_b64());
            assert_eq!(again.curve(), curve);
            assert_eq!(STANDARD.decode(a.public_key_b64()).unwrap().len(), 64);
        }
    }

    #[test]
    fn a_wrong_key_or_altered_data_fails_cleanly() {
        let v = &vectors()[0];
        let ct = s(&v["samples"][0], &["ciphertext_b64"]);
        let other = KeyPair::generate(Curve::Secp256k1)
            .shared_key(s(v, &["service", "public_key_b64"]))
            .unwrap();
        assert_eq!(other.decrypt(ct), Err(CipherError::Decrypt));
        let right = SharedKey::from_b64(s(v, &["shared_key_b64"])).unwrap();
        let mut raw = STANDARD.decode(ct).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        assert_eq!(
            right.decrypt(&STANDARD.encode(&raw)),
            Err(CipherError::Decrypt)
        );
        assert_eq!(right.decrypt("AAAA"), Err(CipherError::TooShort));
        assert_eq!(
            right.decrypt("not base64!"),
            Err(CipherError::Base64("ciphertext"))
        );
        assert_eq!(right.decrypt(""), Err(CipherError::TooShort));
    }

    #[test]
    fn keys_from_the_other_curve_or_malformed_are_refused() {
        let all = vectors();
        let k1_public = s(&all[0], &["service", "public_key_b64"]);
        let p256_public = s(&all[1], &["service", "public_key_b64"]);
        // A secp256k1 point is (almost surely) not on P-256 and vice versa.
        let p = KeyPair::generate(Curve::P256);
        assert_eq!(
            p.shared_key(k1_public).unwrap_err(),
            CipherError::PublicKey(Curve::P256)
        );
        let k = KeyPair::generate(Curve::Secp256k1);
        assert_eq!(
            k.shared_key(p256_public).unwrap_err(),
            CipherError::PublicKey(Curve::Secp256k1)
        );
        assert_eq!(
            k.shared_key(&STANDARD.encode([4u8; 33])).unwrap_err(),
            CipherError::PublicKeyLength(33)
        );
        assert_eq!(
            k.shared_key(&STANDARD.encode([0u8; 64])).unwrap_err(),
            CipherError::PublicKey(Curve::Secp256k1)
        );
        assert!(k.shared_key("%%%").is_err());
        // The 65-byte SEC1 form of the same key is the same key.
        let sec1 = [&[4u8][..], &STANDARD.decode(k1_public).unwrap()].concat();
        assert_eq!(
            k.shared_key(&STANDARD.encode(sec1)).unwrap(),
            k.shared_key(k1_public).unwrap()
        );
        for bad in [&[0u8; 32][..], &[0xffu8; 32][..], &[1u8; 34][..], &[][..]] {
            assert!(KeyPair::from_private_b64(Curve::Secp256k1, &STANDARD.encode(bad)).is_err());
            assert!(KeyPair::from_private_b64(Curve::P256, &STANDARD.encode(bad)).is_err());
        }
        assert_eq!(
            "P-256".parse::<Curve>().unwrap(),
            Curve::P256,
            "operators may write the NIST name"
        );
        assert!("ed25519".parse::<Curve>().is_err());
    }

    #[test]
    fn short_and_33_byte_private_keys_are_the_same_scalar() {
        // A scalar with a leading zero byte, as Go writes it (31 bytes) and Java (33 bytes).
        let mut scalar = [7u8; 32];
        scalar[0] = 0;
        for curve in [Curve::Secp256k1, Curve::P256] {
            let full = KeyPair::from_private_b64(curve, &STANDARD.encode(scalar)).unwrap();
            let go = KeyPair::from_private_b64(curve, &STANDARD.encode(&scalar[1..])).unwrap();
            let java = [&[0u8][..], &scalar[..]].concat();
            let java = KeyPair::from_private_b64(curve, &STANDARD.encode(java)).unwrap();
            assert_eq!(go.public_key_b64(), full.public_key_b64());
            assert_eq!(java.public_key_b64(), full.public_key_b64());
            // Java's 33rd byte is a sign byte: only a zero is stripped.
            let signed = [&[1u8][..], &scalar[..]].concat();
            assert_eq!(
                KeyPair::from_private_b64(curve, &STANDARD.encode(signed)).unwrap_err(),
                CipherError::PrivateKeyLength(33)
            );
        }
        let debug = format!("{:?}", KeyPair::generate(Curve::P256));
        assert!(debug.contains("redacted") && debug.contains("prime256v1"));
        let key = SharedKey::from_b64(&STANDARD.encode([9u8; 32])).unwrap();
        assert_eq!(format!("{key:?}"), "SharedKey([redacted])");
    }
}
