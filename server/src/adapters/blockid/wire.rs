//! The BlockID wire format: paths, headers and JSON shapes of the endpoints the adapter and its
//! simulator twin speak (the rules that read them are in [`super::verdict`], re-exported here).
//!
//! What 1Kosmos's helper libraries do not settle is marked UNCONFIRMED and kept in one constant
//! or one function here, so that client and simulator change together.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::cipher::{KeyPair, SharedKey};
pub use super::verdict::*;

// Paths (from the helpers).
/// The assurance level of a document-share session whose document passed and whose photo
/// matched the live selfie (1Kosmos is certified for NIST 800-63-3 IAL2 with document and
/// selfie). UNCONFIRMED: the result carries no IAL field we could read it from.
pub const IAL_OF_DOCUMENT_AND_SELFIE: &str = "IAL2";

pub const COMMUNITY_INFO_PATH: &str = "/api/r1/system/community_info/fetch";
pub const SERVICE_DIRECTORY_PATH: &str = "/caas/sd";
pub const PUBLIC_KEYS_PATH: &str = "/publickeys";
pub const IDV_CREATE_PATH: &str = "/document_share_session/create";
pub const IDV_RESULT_PATH: &str = "/document_share_session/result";
pub const IDV_RESULT_V3_PATH: &str = "/v3/document_share_session/result";
pub const VERIFY_PATH: &str = "/verify";
pub const UWL_CREATE_PATH: &str = "/session/new";
pub const SMS_PATH: &str = "/api/r2/messaging/schedule";
/// The text of the SMS when the tenant configures none (`<tenantname>` and `<link>` are
/// replaced, as in the helper's templates).
pub const DEFAULT_SMS_TEMPLATE: &str =
    "<tenantname> asks you to verify your identity. Open this secure link: <link>";

pub fn uwl_response_path(session_id: &str) -> String {
    format!("/session/{session_id}/response")
}

// Service names in the directory.
pub const SVC_LICENSES: &str = "licenses";
pub const SVC_DOCUVERIFY: &str = "docuverify";
pub const SVC_SESSIONS: &str = "sessions";
pub const SVC_ADMINCONSOLE: &str = "adminconsole";

// Headers.
pub const H_PUBLIC_KEY: &str = "publickey";
pub const H_LICENSE_KEY: &str = "licensekey";
pub const H_REQUEST_ID: &str = "requestid";
pub const H_ADD_SESSION_INFO: &str = "addsessioninfo";

/// How far a `requestid` timestamp may be from the service's clock. UNCONFIRMED: CaaS has an
/// `allowed_time_span` setting, 60 s by default; that the services enforce it is not shown.
pub const ALLOWED_TIME_SPAN_S: i64 = 60;
/// How long a document-share session stays open. UNCONFIRMED: no source gives it.
pub const IDV_SESSION_LIFETIME_S: i64 = 24 * 3600;
/// UWL sessions live 60 s (poll page) to 120 s.
pub const UWL_LIFETIME_S: (u32, u32) = (60, 120);
pub const UWL_AUTH_PAGE: &str = "blockid://authenticate";
/// The helper's default scopes and auth type for a UWL session.
pub const UWL_SCOPES: &str = "";
pub const UWL_AUTH_TYPE: &str = "none";
/// Where `metadata` goes in a UWL create: beside `origin`, as 1Kosmos's Node helper
/// (`BIDSessions.js`, `createNewSession`) has sent it since August 2023 (it was nested in
/// `origin` for a few days before that).
pub const UWL_METADATA_IN_ORIGIN: bool = false;
/// Which field of a document-share result carries the person's DID. UNCONFIRMED: the helpers
/// send `did` in the session request and never read it back.
pub const RESULT_DID_FIELD: &str = "did";
/// Whether a LiveID approval counts only from the DID the step-up was started for.
/// UNCONFIRMED: that the credential DID from proofing is the DID the BlockID app answers with.
pub const LIVEID_REQUIRE_SAME_DID: bool = true;
/// `smsISDCode` is the country calling code without `+` (1Kosmos's own example sends "1").
pub const SMS_ISD_WITH_PLUS: bool = false;

/// How the `/verify` answer names the face comparison. UNCONFIRMED: the Java helper's model only
/// shows `certifications` (untyped); the verdict and score names are ours.
pub struct FaceCompareFields {
    pub list: &'static str,
    pub kind_field: &'static str,
    pub kind: &'static str,
    pub verdict: &'static str,
    pub score: &'static str,
}

pub const FACE_COMPARE: FaceCompareFields = FaceCompareFields {
    list: "certifications",
    kind_field: "type",
    kind: "face_compare",
    verdict: "verified",
    score: "confidence",
};

/// What the QR code of a UWL session encodes. UNCONFIRMED: the helper returns the `sessions`
/// base URL with the session id; the app's exact format is not public.
pub fn uwl_qr_payload(sessions_base: &str, session_id: &str) -> String {
    format!(
        "{}/session/{session_id}",
        sessions_base.trim_end_matches('/')
    )
}

/// The document kinds a document-share session offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    DriversLicence,
    Passport,
    IdCard,
}

impl DocKind {
    pub const ALL: [DocKind; 3] = [Self::DriversLicence, Self::Passport, Self::IdCard];

    /// The `documentType` of the request and the object name of the result.
    pub fn object(self) -> &'static str {
        match self {
            Self::DriversLicence => "dl_object",
            Self::Passport => "ppt_object",
            Self::IdCard => "idcard_object",
        }
    }

    /// The product's name for it (as stored and shown in Freshsales).
    pub fn product(self) -> &'static str {
        match self {
            Self::DriversLicence => "drivers_license",
            Self::Passport => "passport",
            Self::IdCard => "national_id",
        }
    }

    pub fn from_product(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.product() == s || k.object() == s)
    }

    /// `document.type` and `purpose` of a `/verify` call. UNCONFIRMED beyond `dl`: the helper
    /// only ever sends `"dl"` and `"dl_verification"`.
    pub fn verify_type(self) -> (&'static str, &'static str) {
        match self {
            Self::DriversLicence => ("dl", "dl_verification"),
            Self::Passport => ("ppt", "ppt_verification"),
            Self::IdCard => ("idcard", "idcard_verification"),
        }
    }
}

/// `{"ts", "uuid", "appid"}`, encrypted into the `requestid` header.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RequestId {
    pub ts: i64,
    pub uuid: String,
    pub appid: String,
}

/// The three headers every authenticated call carries: a fresh uuid and ts each time.
pub fn auth_headers(
    client: &KeyPair,
    key: &SharedKey,
    licence: &SecretString,
    app_id: &str,
    now_secs: i64,
) -> [(&'static str, String); 3] {
    let rid = RequestId {
        ts: now_secs,
        uuid: uuid::Uuid::new_v4().to_string(),
        appid: app_id.to_string(),
    };
    let rid = serde_json::to_string(&rid).unwrap_or_default();
    [
        (H_PUBLIC_KEY, client.public_key_b64().to_string()),
        (H_LICENSE_KEY, key.encrypt_str(licence.expose_secret())),
        (H_REQUEST_ID, key.encrypt_str(&rid)),
    ]
}

/// `{"data": "<encrypted JSON>"}`: request bodies that carry data, and encrypted answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Encrypted {
    pub data: String,
}

impl Encrypted {
    pub fn seal<T: Serialize>(key: &SharedKey, body: &T) -> Self {
        Self {
            data: key.encrypt(&serde_json::to_vec(body).unwrap_or_default()),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct CommunityInfoRequest {
    pub dns: String,
    #[serde(rename = "communityName")]
    pub community_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tenant {
    pub tenanttag: String,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Community {
    pub id: String,
    pub name: String,
    pub tenantid: String,
    #[serde(rename = "publicKey")]
    pub public_key: String,
}

/// A community-info answer; anything without both parts is a failure.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommunityInfo {
    pub tenant: Tenant,
    pub community: Community,
}

#[derive(Debug, Deserialize)]
pub struct PublicKeyAnswer {
    #[serde(rename = "publicKey")]
    pub public_key: String,
}

/// The answer of a failed call: `{"code", "message"}` (code may be a number or a string).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ErrorAnswer {
    #[serde(default)]
    pub code: Option<Value>,
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SessionRequest {
    #[serde(rename = "tenantDNS")]
    pub tenant_dns: String,
    #[serde(rename = "communityName")]
    pub community_name: String,
    #[serde(rename = "documentType")]
    pub document_type: String,
    #[serde(rename = "userUID")]
    pub user_uid: String,
    pub did: String,
    /// The person the session is for, as the CRM names them (optional in the helpers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firstname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lastname: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct IdvCreate {
    #[serde(rename = "dvcID")]
    pub dvc_id: String,
    #[serde(rename = "sessionRequest")]
    pub session_request: SessionRequest,
}

/// The hosted capture link is a bearer link: never log `url`.
#[derive(Serialize, Deserialize)]
pub struct IdvCreated {
    #[serde(rename = "sessionId")]
    pub session_id: String,
    pub url: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct IdvResultRequest {
    #[serde(rename = "dvcID")]
    pub dvc_id: String,
    #[serde(rename = "sessionId")]
    pub session_id: String,
}

/// A base64 image of a result: only ever passed on to `/verify`, never logged or stored.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Image(pub String);

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Image([dropped])")
    }
}

/// The parts of a document object we read: the holder's names and date of birth (compared
/// with the CRM record in memory, then dropped) and the face; everything else (numbers, other
/// dates, images) is skipped by the parser without being kept. Its `Debug` shows no personal
/// data.
#[derive(Default, Deserialize)]
pub struct DocObject {
    #[serde(default, rename = "documentType")]
    pub document_type: Option<String>,
    #[serde(default)]
    pub face: Option<Image>,
    #[serde(default, rename = "firstName")]
    pub first_name: Option<String>,
    #[serde(default, rename = "lastName")]
    pub last_name: Option<String>,
    /// `YYYYMMDD` in the helpers' samples.
    #[serde(default)]
    pub dob: Option<String>,
}

impl std::fmt::Debug for DocObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocObject")
            .field("document_type", &self.document_type)
            .field("face", &self.face)
            .finish_non_exhaustive()
    }
}

impl DocObject {
    /// The holder the document names.
    pub fn holder(&self) -> crate::domain::identity::Holder {
        crate::domain::identity::Holder {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            date_of_birth: self.dob.clone(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct LiveIdObject {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub face: Option<Image>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ErrorInfo {
    #[serde(default, rename = "reasonCode")]
    pub reason_code: Option<String>,
}

/// A decrypted document-share result, reduced to what the verdict needs.
#[derive(Debug, Default, Deserialize)]
pub struct IdvResult {
    #[serde(default, rename = "responseStatus")]
    pub response_status: Option<String>,
    #[serde(default, rename = "sessionResult")]
    pub session_result: Option<String>,
    #[serde(default, rename = "errorInfo")]
    pub error_info: Option<ErrorInfo>,
    #[serde(default)]
    pub dl_object: Option<DocObject>,
    #[serde(default)]
    pub ppt_object: Option<DocObject>,
    #[serde(default)]
    pub idcard_object: Option<DocObject>,
    #[serde(default)]
    pub liveid_object: Option<LiveIdObject>,
    /// Read separately, from [`RESULT_DID_FIELD`] (see [`top_level_str`]).
    #[serde(skip)]
    pub did: Option<String>,
    #[serde(default)]
    pub ial: Option<String>,
}

/// One top-level string of a JSON object, read without keeping any other value.
pub fn top_level_str(json: &[u8], field: &str) -> Option<String> {
    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

    struct Field<'a>(&'a str);
    impl<'de> DeserializeSeed<'de> for Field<'_> {
        type Value = Option<String>;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_map(self)
        }
    }
    impl<'de> Visitor<'de> for Field<'_> {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut found = None;
            while let Some(key) = map.next_key::<String>()? {
                if key == self.0 && found.is_none() {
                    found = map.next_value::<Option<String>>()?;
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(found)
        }
    }
    let mut de = serde_json::Deserializer::from_slice(json);
    Field(field).deserialize(&mut de).ok().flatten()
}

/// The two faces `/verify` compares (dropped once the call is sent).
#[derive(Debug)]
pub struct Faces {
    pub live_id: String,
    pub document: Image,
    pub selfie: Image,
}

#[derive(Serialize, Deserialize)]
pub struct VerifyDocument {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub image1: Image,
    pub image2: Image,
    pub purpose: String,
}

#[derive(Serialize, Deserialize)]
pub struct VerifyRequest {
    #[serde(rename = "dvcID")]
    pub dvc_id: String,
    pub verifications: Vec<String>,
    pub document: VerifyDocument,
}

impl VerifyRequest {
    /// Takes the faces: they live only as long as this request.
    pub fn face_compare(dvc_id: &str, kind: DocKind, faces: Faces) -> Self {
        let (t, purpose) = kind.verify_type();
        Self {
            dvc_id: dvc_id.into(),
            verifications: vec![FACE_COMPARE.kind.into()],
            document: VerifyDocument {
                id: faces.live_id,
                kind: t.into(),
                image1: faces.document,
                image2: faces.selfie,
                purpose: purpose.into(),
            },
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct UwlOrigin {
    pub tag: String,
    pub url: String,
    #[serde(rename = "communityName")]
    pub community_name: String,
    #[serde(rename = "communityId")]
    pub community_id: String,
    #[serde(rename = "authPage")]
    pub auth_page: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct UwlCreate {
    pub origin: UwlOrigin,
    pub scopes: String,
    pub authtype: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub struct UwlCreated {
    #[serde(rename = "sessionId")]
    pub session_id: String,
}

/// A UWL poll answer (200): `data` is encrypted with the answering app's `publicKey`.
#[derive(Debug, Deserialize)]
pub struct UwlAnswer {
    #[serde(default)]
    pub data: Option<String>,
    #[serde(default, rename = "publicKey")]
    pub public_key: Option<String>,
    #[serde(default)]
    pub ial: Option<String>,
}

/// The decrypted user data of a UWL answer (the profile is skipped, not kept).
#[derive(Debug, Default, Deserialize)]
pub struct UwlUser {
    #[serde(default)]
    pub did: Option<String>,
    /// The account the app answered as (the helper falls back to the directory's first).
    #[serde(default)]
    pub userid: Option<String>,
    #[serde(default)]
    pub ial: Option<String>,
}

/// The tenant's user directory for one DID (`GET {adminconsole}` + [`user_by_did_path`],
/// encrypted under the community's key): the accounts that hold the credential.
#[derive(Debug, Serialize, Deserialize)]
pub struct DirectoryUser {
    #[serde(rename = "userIdList", default)]
    pub user_id_list: Vec<String>,
}

/// Where the tenant's directory answers for a DID, as 1Kosmos's Node helper reads it
/// (`BIDUsers.js`, `fetchUserByDID`, which puts both in the path as they are), with the
/// `X-TenantTag` header. `None` for a name or DID that would not stay one path segment.
pub fn user_by_did_path(community: &str, did: &str) -> Option<String> {
    let segment = |s: &str| !s.is_empty() && !s.contains(['/', '?', '#', '%', ' ']);
    (segment(community) && segment(did))
        .then(|| format!("/api/r1/community/{community}/userdid/{did}/userinfo"))
}

/// The tenant-tag header of directory reads.
pub const H_TENANT_TAG: &str = "x-tenanttag";

#[derive(Debug, Serialize, Deserialize)]
pub struct SmsRequest {
    #[serde(rename = "tenantId")]
    pub tenant_id: String,
    #[serde(rename = "communityId")]
    pub community_id: String,
    #[serde(rename = "smsTo")]
    pub sms_to: String,
    #[serde(rename = "smsISDCode")]
    pub sms_isd_code: String,
    #[serde(rename = "smsTemplateB64")]
    pub sms_template_b64: String,
}

/// Session ids go into URL paths: only these characters.
pub fn is_session_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
