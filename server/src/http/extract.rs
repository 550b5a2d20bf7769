//! Typed extractors: every handler reads its input through these, so bad input is answered the
//! same precise way everywhere (a 4xx JSON that says what was wrong, never a 500).

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Path, Request},
    http::{header, request::Parts, HeaderMap},
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{
    error::{AppError, Result},
    AppState,
};

/// The longest `Idempotency-Key` accepted.
pub const MAX_IDEMPOTENCY_KEY: usize = 128;

/// Parses a JSON body with a precise 4xx: 415 for another media type, 400 for bad JSON, 422
/// for JSON of the wrong shape. An empty body reads as `{}` when `empty_ok`.
pub fn parse_json<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: &Bytes,
    empty_ok: bool,
) -> Result<T> {
    if body.is_empty() && empty_ok {
        return serde_json::from_str("{}").map_err(|e| AppError::Unprocessable(e.to_string()));
    }
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
        if !(ct.starts_with("application/json") || ct.contains("+json")) {
            return Err(AppError::Unsupported(
                "send the body as application/json".into(),
            ));
        }
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| AppError::BadRequest("the body is not valid UTF-8".into()))?;
    let value: Value = serde_json::from_str(text)
        .map_err(|e| AppError::BadRequest(format!("the body is not valid JSON: {e}")))?;
    // The field at fault is named (`document_types[1]: unknown variant ...`).
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let e = e.into_inner();
        AppError::Unprocessable(if path == "." {
            format!("the body does not have the expected fields: {e}")
        } else {
            format!("the body does not have the expected fields: {path}: {e}")
        })
    })
}

async fn body_of(req: Request) -> Result<(HeaderMap, Bytes)> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|_| AppError::PayloadTooLarge("the request body is too large".into()))?;
    Ok((parts.headers, bytes))
}

/// A JSON body (see [`parse_json`]).
pub struct AppJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for AppJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, _: &S) -> Result<Self> {
        let (headers, body) = body_of(req).await?;
        parse_json(&headers, &body, false).map(Self)
    }
}

/// A JSON body that may be empty (read as `{}`).
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, _: &S) -> Result<Self> {
        let (headers, body) = body_of(req).await?;
        parse_json(&headers, &body, true).map(Self)
    }
}

async fn path_segment(parts: &mut Parts, state: &AppState, what: &str) -> Result<String> {
    let Path(raw) = Path::<String>::from_request_parts(parts, state)
        .await
        .map_err(|e| AppError::BadRequest(format!("{what} id: {e}")))?;
    Ok(raw)
}

/// A CRM contact id from the path (see [`parse_record_id`]).
pub struct ContactId(pub i64);

impl FromRequestParts<AppState> for ContactId {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let raw = path_segment(parts, state, "contact").await?;
        parse_record_id("contact", &raw).map(Self)
    }
}

/// A CRM deal id from the path (see [`parse_record_id`]).
pub struct DealId(pub i64);

impl FromRequestParts<AppState> for DealId {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let raw = path_segment(parts, state, "deal").await?;
        parse_record_id("deal", &raw).map(Self)
    }
}

/// A verification id from the path: up to 64 letters, digits or underscores.
pub struct VerificationId(pub String);

impl FromRequestParts<AppState> for VerificationId {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let id = path_segment(parts, state, "verification").await?;
        check_verification_id(&id)?;
        Ok(Self(id))
    }
}

/// A verification id: up to 64 letters, digits or underscores (400 otherwise).
pub fn check_verification_id(id: &str) -> Result<()> {
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(AppError::BadRequest(
            "verification id must be up to 64 letters, digits or underscores".into(),
        ));
    }
    Ok(())
}

/// A tenant id from a path: anything malformed is simply not a tenant (404).
pub fn check_tenant_id(t: &str) -> Result<()> {
    if t.is_empty()
        || t.len() > 64
        || !t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(AppError::NotFound("no such tenant".into()));
    }
    Ok(())
}

/// A tenant's verification, from a path `…/{tenant}/…/{id}`.
pub struct TenantVerification {
    pub tenant: TenantId,
    pub id: String,
}

impl FromRequestParts<AppState> for TenantVerification {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let Path((tenant, id)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(|e| AppError::BadRequest(format!("path: {e}")))?;
        check_tenant_id(&tenant)?;
        check_verification_id(&id)?;
        Ok(Self {
            tenant: TenantId(tenant),
            id,
        })
    }
}

/// A tenant id from a hook's path (checked; anything malformed is simply not a tenant: 404).
pub struct TenantId(pub String);

/// The optional `Idempotency-Key` header: 1 to [`MAX_IDEMPOTENCY_KEY`] ASCII characters.
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self> {
        let Some(v) = parts.headers.get("idempotency-key") else {
            return Ok(Self(None));
        };
        let k = v
            .to_str()
            .map_err(|_| AppError::BadRequest("Idempotency-Key must be ASCII".into()))?
            .trim();
        if k.is_empty() || k.len() > MAX_IDEMPOTENCY_KEY {
            return Err(AppError::BadRequest(format!(
                "Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters"
            )));
        }
        Ok(Self(Some(k.to_string())))
    }
}

/// Parses a CRM record id: 1–18 ASCII digits, no leading zero (the document's pattern
/// `^[1-9][0-9]{0,17}$`).
pub fn parse_record_id(what: &str, raw: &str) -> Result<i64> {
    if raw.is_empty()
        || raw.len() > 18
        || raw.starts_with('0')
        || !raw.bytes().all(|b| b.is_ascii_digit())
    {
        let shown: String = raw.chars().take(24).collect();
        let ellipsis = if raw.chars().count() > 24 { "…" } else { "" };
        return Err(AppError::BadRequest(format!(
            "{what} id must be a positive integer of at most 18 digits, got {shown:?}{ellipsis}"
        )));
    }
    match raw.parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(AppError::BadRequest(format!(
            "{what} id must be a positive integer"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_ids_are_positive_bounded_integers() {
        assert_eq!(parse_record_id("contact", "42").unwrap(), 42);
        for bad in [
            "",
            "0",
            "007",
            "-1",
            "12a",
            "1e5",
            " 1",
            "1234567890123456789",
            "１",
        ] {
            assert!(
                matches!(
                    parse_record_id("contact", bad),
                    Err(AppError::BadRequest(_))
                ),
                "{bad:?} should be rejected"
            );
        }
        let long = "9".repeat(10_000);
        let AppError::BadRequest(msg) = parse_record_id("contact", &long).unwrap_err() else {
            panic!("expected a bad request");
        };
        assert!(
            msg.len() < 200,
            "the message must not echo a huge id: {msg}"
        );
    }
}
