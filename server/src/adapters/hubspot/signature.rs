//! HubSpot's request signatures: v3 on webhooks, `hubspot.fetch` calls and (where present)
//! workflow actions; v2 on workflow actions and `hubspot.fetch`; v1 on CRM webhooks. Facts:
//! `shared/reference/hubspot.md` §2 and `hubspot-app.md` §6 (with HubSpot's own test vectors).

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How far a v3 timestamp may be from now (HubSpot's SDKs: 300 000 ms).
pub const MAX_SKEW_MS: i64 = 300_000;

/// The escapes decoded before hashing when the raw URI does not match, as third-party code
/// quotes HubSpot's request-validation page. UNCONFIRMED: whether the list is complete; none
/// of HubSpot's SDKs decodes anything, so the raw URI is always tried first.
pub const DECODED_ESCAPES: &[(&str, &str)] = &[
    ("%3A", ":"),
    ("%2F", "/"),
    ("%3F", "?"),
    ("%40", "@"),
    ("%21", "!"),
    ("%24", "$"),
    ("%27", "'"),
    ("%28", "("),
    ("%29", ")"),
    ("%2A", "*"),
    ("%2C", ","),
    ("%3B", ";"),
];

/// The signature versions HubSpot uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// hex SHA-256(secret + body): CRM webhooks.
    V1,
    /// hex SHA-256(secret + method + URI + body): workflow actions, `hubspot.fetch`.
    V2,
    /// Base64 HMAC-SHA256(secret, method + URI + body + timestamp), timestamp within 5 min.
    V3,
}

/// The signature headers of a request, as received.
#[derive(Debug, Clone, Copy, Default)]
pub struct Headers<'a> {
    /// `X-HubSpot-Signature-v3`.
    pub v3: Option<&'a str>,
    /// `X-HubSpot-Request-Timestamp` (epoch ms).
    pub timestamp: Option<&'a str>,
    /// `X-HubSpot-Signature` (v1 or v2).
    pub legacy: Option<&'a str>,
    /// `X-HubSpot-Signature-Version` (`v1` or `v2`).
    pub legacy_version: Option<&'a str>,
}

/// A request HubSpot says it signed.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    pub method: &'a str,
    /// The full URI HubSpot called (`https://host/path?query`, the query in its order).
    pub uri: &'a str,
    pub body: &'a [u8],
    pub headers: Headers<'a>,
}

/// Why a request is refused (never which part of a signature was wrong).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the request carries no HubSpot signature this endpoint accepts")]
    Missing,
    #[error("the request's X-HubSpot-Request-Timestamp is missing, unreadable or more than 5 minutes from now")]
    Stale,
    #[error("the HubSpot signature does not match")]
    Mismatch,
}

/// The v3 signature of a request (Base64).
pub fn sign_v3(secret: &str, method: &str, uri: &str, body: &[u8], timestamp: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    for part in [
        method.as_bytes(),
        uri.as_bytes(),
        body,
        timestamp.as_bytes(),
    ] {
        mac.update(part);
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The v2 signature of a request (hex).
pub fn sign_v2(secret: &str, method: &str, uri: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    for part in [secret.as_bytes(), method.as_bytes(), uri.as_bytes(), body] {
        h.update(part);
    }
    hex::encode(h.finalize())
}

/// The v1 signature of a request (hex).
pub fn sign_v1(secret: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(secret.as_bytes());
    h.update(body);
    hex::encode(h.finalize())
}

/// The URI with [`DECODED_ESCAPES`] decoded (either case of the hex digits).
pub fn decoded_uri(uri: &str) -> String {
    let mut out = String::with_capacity(uri.len());
    let mut rest = uri;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let escape = rest.get(i..i + 3).unwrap_or(&rest[i..]);
        match DECODED_ESCAPES
            .iter()
            .find(|(e, _)| e.eq_ignore_ascii_case(escape))
        {
            Some((_, plain)) => {
                out.push_str(plain);
                rest = &rest[i + 3..];
            }
            None => {
                out.push('%');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Checks a request's signature with the app's client secret: v3 when present (and then only
/// v3), else a v1 or v2 signature if `accept` lets it stand alone. Returns the version that
/// matched.
pub fn verify(
    secret: &str,
    req: &Signed<'_>,
    now_ms: i64,
    accept: &[Version],
) -> Result<Version, SignatureError> {
    if let Some(given) = req.headers.v3 {
        if !accept.contains(&Version::V3) {
            return Err(SignatureError::Missing);
        }
        let ts = req.headers.timestamp.ok_or(SignatureError::Stale)?;
        let at: i64 = ts.trim().parse().map_err(|_| SignatureError::Stale)?;
        if (now_ms - at).abs() > MAX_SKEW_MS {
            return Err(SignatureError::Stale);
        }
        let given = base64::engine::general_purpose::STANDARD
            .decode(given.trim())
            .map_err(|_| SignatureError::Mismatch)?;
        let matches = |uri: &str| {
            let want = base64::engine::general_purpose::STANDARD
                .decode(sign_v3(secret, req.method, uri, req.body, ts))
                .expect("our own Base64");
            bool::from(want.ct_eq(&given))
        };
        let decoded = decoded_uri(req.uri);
        if matches(req.uri) || (decoded != req.uri && matches(&decoded)) {
            return Ok(Version::V3);
        }
        return Err(SignatureError::Mismatch);
    }
    let given = req.headers.legacy.ok_or(SignatureError::Missing)?;
    let version = match req.headers.legacy_version.map(str::trim) {
        Some(v) if v.eq_ignore_ascii_case("v2") => Version::V2,
        Some(v) if v.eq_ignore_ascii_case("v1") => Version::V1,
        _ => return Err(SignatureError::Missing),
    };
    if !accept.contains(&version) {
        return Err(SignatureError::Missing);
    }
    let want = match version {
        Version::V2 => sign_v2(secret, req.method, req.uri, req.body),
        _ => sign_v1(secret, req.body),
    };
    if bool::from(
        want.as_bytes()
            .ct_eq(given.trim().to_ascii_lowercase().as_bytes()),
    ) {
        Ok(version)
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // HubSpot's own vectors (hubspot-app.md §6, hubspot.md §2).
    const DEV_SECRET: &str = "f6e94c08-85d0-4608-bcc6-e1850176e7b8";
    const FETCH_SECRET: &str = "12345678-aaaa-bbbb-cccc-ddddeeeeffff";
    const SDK_SECRET: &str = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
    const FETCH_URI: &str = "https://hubspot.com/?appId=1&portalId=2&userId=3";

    /// Secret, method, URI, body, timestamp, signature.
    type Vector = (
        &'static str,
        &'static str,
        &'static str,
        &'static [u8],
        &'static str,
        &'static str,
    );

    #[test]
    fn v3_matches_hubspots_vectors() {
        let hook = "https://www.hubspot.com/webhook";
        let cases: [Vector; 5] = [
            (
                DEV_SECRET,
                "POST",
                hook,
                b"REQUEST_BODY",
                "1632188626483",
                "jf872r5vscVcxCiDRHA4rGrqe/8BPLNVkdJSHdMnGTU=",
            ),
            (
                DEV_SECRET,
                "POST",
                hook,
                b"",
                "1632188626483",
                "csXgk7UbrE9F8ZmMvbpuKBxqIvTSqU1EX9pI/SJtxSE=",
            ),
            (
                FETCH_SECRET,
                "GET",
                FETCH_URI,
                b"",
                "1111111111",
                "zTfXjo07jfzGouo4wvyAj3qEMUTVJ0PPYPACrluQtQI=",
            ),
            (
                FETCH_SECRET,
                "GET",
                FETCH_URI,
                br#"{"a":1,"b":2}"#,
                "1111111111",
                "aaknaCGCYJ4yqzuf1UKGqAWUfdcilJtm5nc/ZCudR9k=",
            ),
            (
                SDK_SECRET,
                "POST",
                "https://www.example.com/webhook_uri",
                b"{'example_field':'example_value'}",
                "1693657560000",
                "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y=",
            ),
        ];
        for (secret, method, uri, body, ts, want) in cases {
            assert_eq!(sign_v3(secret, method, uri, body, ts), want, "{uri} {ts}");
            let req = Signed {
                method,
                uri,
                body,
                headers: Headers {
                    v3: Some(want),
                    timestamp: Some(ts),
                    ..Default::default()
                },
            };
            let now = ts.parse::<i64>().unwrap() + 1_000;
            assert_eq!(verify(secret, &req, now, &[Version::V3]), Ok(Version::V3));
        }
    }

    #[test]
    fn v2_and_v1_match_hubspots_vectors() {
        let hook = "https://www.hubspot.com/webhook";
        assert_eq!(
            sign_v2(DEV_SECRET, "POST", hook, b"REQUEST_BODY"),
            "57bb01a6e6ac92919b5e715d68f40265328701bbf1cf3fd73772887069945766"
        );
        assert_eq!(
            sign_v2(DEV_SECRET, "POST", hook, b""),
            "befaef2b7354f11bf651f6468e8b5cf6bd449048deaf057f712980afb2a682f5"
        );
        assert_eq!(
            sign_v2(FETCH_SECRET, "GET", FETCH_URI, b""),
            "99080134002180aee8d0884d21ad51288c43b57e9953e4db1e3757999b35c392"
        );
        let uri = "https://www.example.com/webhook_uri";
        assert_eq!(
            sign_v2(SDK_SECRET, "GET", uri, b""),
            "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"
        );
        assert_eq!(
            sign_v2(
                SDK_SECRET,
                "POST",
                uri,
                br#"{"example_field":"example_value"}"#
            ),
            "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900"
        );
        let batch = br#"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#;
        assert_eq!(
            sign_v1(SDK_SECRET, batch),
            "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
        );
        let req = Signed {
            method: "POST",
            uri,
            body: batch,
            headers: Headers {
                legacy: Some("232DB2615F3D666FE21A8EC971AC7B5402D33B9A925784DF3CA654D05F4817DE"),
                legacy_version: Some("v1"),
                ..Default::default()
            },
        };
        assert_eq!(verify(SDK_SECRET, &req, 0, &[Version::V1]), Ok(Version::V1));
        assert_eq!(
            verify(SDK_SECRET, &req, 0, &[Version::V3]),
            Err(SignatureError::Missing),
            "an endpoint that takes v3 only refuses a v1 signature"
        );
    }

    fn fetch(ts: &'static str, sig: &'static str) -> Signed<'static> {
        Signed {
            method: "GET",
            uri: FETCH_URI,
            body: b"",
            headers: Headers {
                v3: Some(sig),
                timestamp: Some(ts),
                ..Default::default()
            },
        }
    }

    #[test]
    fn a_replayed_or_altered_request_is_refused() {
        let good = "zTfXjo07jfzGouo4wvyAj3qEMUTVJ0PPYPACrluQtQI=";
        let at = 1_111_111_111;
        // Six minutes later (or earlier) the same request is stale.
        for now in [at + 360_000, at - 360_000] {
            assert_eq!(
                verify(
                    FETCH_SECRET,
                    &fetch("1111111111", good),
                    now,
                    &[Version::V3]
                ),
                Err(SignatureError::Stale)
            );
        }
        assert_eq!(
            verify(FETCH_SECRET, &fetch("soon", good), at, &[Version::V3]),
            Err(SignatureError::Stale)
        );
        // Another portal in the query, another secret, or a moved timestamp: no match.
        let mut other = fetch("1111111111", good);
        other.uri = "https://hubspot.com/?appId=1&portalId=9&userId=3";
        assert_eq!(
            verify(FETCH_SECRET, &other, at, &[Version::V3]),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(DEV_SECRET, &fetch("1111111111", good), at, &[Version::V3]),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(FETCH_SECRET, &fetch("1111111112", good), at, &[Version::V3]),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(
                FETCH_SECRET,
                &fetch("1111111111", "not base64!"),
                at,
                &[Version::V3]
            ),
            Err(SignatureError::Mismatch)
        );
        // A v3 header is judged alone: a valid v2 beside a wrong v3 does not let it through.
        let mut both = fetch("1111111111", "AAAA");
        both.headers.legacy =
            Some("99080134002180aee8d0884d21ad51288c43b57e9953e4db1e3757999b35c392");
        both.headers.legacy_version = Some("v2");
        assert_eq!(
            verify(FETCH_SECRET, &both, at, &[Version::V2, Version::V3]),
            Err(SignatureError::Mismatch)
        );
        let unsigned = Signed {
            headers: Headers::default(),
            ..fetch("1", "x")
        };
        assert_eq!(
            verify(FETCH_SECRET, &unsigned, at, &[Version::V3]),
            Err(SignatureError::Missing)
        );
    }

    #[test]
    fn a_uri_signed_with_some_escapes_decoded_still_verifies() {
        let received = "https://idv.example.com/hubspot/v1/card/contacts/1?email=a%40b.com&appId=1";
        let signed_as = "https://idv.example.com/hubspot/v1/card/contacts/1?email=a@b.com&appId=1";
        assert_eq!(decoded_uri(received), signed_as);
        assert_eq!(
            decoded_uri("a%2fb%zz%"),
            "a/b%zz%",
            "lower-case hex, stray percent"
        );
        let ts = "1700000000000";
        let sig = sign_v3(FETCH_SECRET, "GET", signed_as, b"", ts);
        let req = Signed {
            method: "GET",
            uri: received,
            body: b"",
            headers: Headers {
                v3: Some(&sig),
                timestamp: Some(ts),
                ..Default::default()
            },
        };
        assert_eq!(
            verify(FETCH_SECRET, &req, 1_700_000_000_000, &[Version::V3]),
            Ok(Version::V3)
        );
    }
}
