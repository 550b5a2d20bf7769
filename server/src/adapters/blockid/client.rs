//! The BlockID HTTP client: discovery and keys (cached), the encrypted headers on every call,
//! and the [`IdentityProvider`] methods. Verdicts fail closed; result images are passed to the
//! face comparison and dropped, never stored or logged.

mod discovery;
mod transport;

use std::{collections::HashMap, sync::Arc, time::Duration};

use base64::{engine::general_purpose::STANDARD, Engine};
use idv_types::Delivery;
use parking_lot::Mutex;
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::{json, Value};

use self::{
    discovery::{Cached, Directory},
    transport::{json_error, message_of, open, plaintext},
};
use super::{
    cipher::{KeyPair, SharedKey},
    wire::*,
    BlockIdConfig,
};
use crate::{
    clock,
    domain::reasons::Failure,
    ports::identity::{
        CreateIdv, CreateLiveId, IdentityProvider, Outcome, ProviderError, ProviderSession,
        Redelivery, ResendIdv, ResultFields, SessionReport,
    },
};

pub struct BlockIdClient {
    cfg: BlockIdConfig,
    base: String,
    dns: String,
    keys: KeyPair,
    http: reqwest::Client,
    community: Mutex<Option<Cached<Arc<CommunityInfo>>>>,
    directory: Mutex<Option<Cached<Arc<Directory>>>>,
    service_keys: Mutex<HashMap<String, Cached<Arc<str>>>>,
}

impl std::fmt::Debug for BlockIdClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockIdClient")
            .field("tenant", &self.dns)
            .field("config", &self.cfg)
            .finish_non_exhaustive()
    }
}

impl BlockIdClient {
    /// A client with a fresh key pair on the tenant's curve.
    pub fn new(cfg: BlockIdConfig) -> anyhow::Result<Self> {
        let with_scheme = if cfg.tenant.contains("://") {
            cfg.tenant.clone()
        } else {
            format!("https://{}", cfg.tenant)
        };
        let url = url::Url::parse(&with_scheme).map_err(|e| {
            anyhow::anyhow!(
                "the 1Kosmos tenant {:?} is not a host name: {e}",
                cfg.tenant
            )
        })?;
        let dns = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| anyhow::anyhow!("the 1Kosmos tenant {:?} has no host", cfg.tenant))?
            .to_string();
        anyhow::ensure!(
            matches!(url.scheme(), "https" | "http"),
            "the 1Kosmos tenant must be called over https"
        );
        anyhow::ensure!(
            !cfg.community.is_empty(),
            "the 1Kosmos community name is empty"
        );
        if let Some(t) = &cfg.sms_template {
            anyhow::ensure!(t.contains("<link>"), "the SMS template must contain <link>");
        }
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout.min(Duration::from_secs(5)))
            .https_only(url.scheme() == "https")
            .build()?;
        Ok(Self {
            base: with_scheme.trim_end_matches('/').to_string(),
            dns,
            keys: KeyPair::generate(cfg.curve),
            http,
            community: Mutex::new(None),
            directory: Mutex::new(None),
            service_keys: Mutex::new(HashMap::new()),
            cfg,
        })
    }

    /// This client's public key (what the `publickey` header carries).
    pub fn public_key(&self) -> &str {
        self.keys.public_key_b64()
    }

    /// Sends a text by SMS through 1Kosmos messaging (headers under the community's key).
    pub async fn send_sms(&self, phone_e164: &str, text: &str) -> Result<(), ProviderError> {
        let number = phonenumber::parse(None, phone_e164)
            .ok()
            .filter(phonenumber::is_valid)
            .ok_or_else(|| {
                ProviderError::Rejected(
                    "the phone number is not a valid international (E.164) number".into(),
                )
            })?;
        let info = self.community().await?;
        let admin = self.service(SVC_ADMINCONSOLE).await?;
        let key = self
            .keys
            .shared_key(&info.community.public_key)
            .map_err(|e| {
                ProviderError::Protocol(format!("the community's public key cannot be used ({e})"))
            })?;
        let isd = number.code().value().to_string();
        let body = SmsRequest {
            tenant_id: info.community.tenantid.clone(),
            community_id: info.community.id.clone(),
            sms_to: number.national().to_string(),
            sms_isd_code: if SMS_ISD_WITH_PLUS {
                format!("+{isd}")
            } else {
                isd
            },
            sms_template_b64: STANDARD.encode(text),
        };
        // No tenant-tag header: 1Kosmos's Node helper (`BIDMessaging.js`) sends none on SMS.
        let url = format!("{admin}{SMS_PATH}");
        self.send_to(Method::POST, "messaging", &url, &key, &[], Some(&body))
            .await
            .map(|_| ())
    }

    /// Texts a verification link to `phone` with the tenant's SMS template (or the default).
    async fn text_link(&self, phone: Option<&str>, link: &str) -> Result<(), ProviderError> {
        let Some(phone) = phone else {
            return Err(ProviderError::Rejected(
                "the contact has no phone number in international (E.164) form".into(),
            ));
        };
        let info = self.community().await?;
        let tenant = info.tenant.name.as_deref().unwrap_or(&info.community.name);
        let template = self
            .cfg
            .sms_template
            .as_deref()
            .unwrap_or(DEFAULT_SMS_TEMPLATE);
        let text = template
            .replace("<tenantname>", tenant)
            .replace("<link>", link);
        self.send_sms(phone, &text).await
    }

    /// Compares the document's face with the selfie; `Ok(score)` only on an explicit match.
    async fn face_compare(
        &self,
        docu: &str,
        key: &SharedKey,
        kind: DocKind,
        faces: Faces,
    ) -> Result<Result<Option<f64>, Failure>, ProviderError> {
        let request = VerifyRequest::face_compare(self.cfg.dvc_id.expose_secret(), kind, faces);
        let sealed = Encrypted::seal(key, &request);
        drop(request);
        let url = format!("{docu}{VERIFY_PATH}");
        let a = self
            .send_to(Method::POST, SVC_DOCUVERIFY, &url, key, &[], Some(&sealed))
            .await?;
        let answer: Value = open(key, &a.body)?;
        Ok(classify_face_compare(&answer))
    }

    /// The `sessions` service's answer for a UWL session (non-200: not answered yet or gone).
    async fn poll_uwl(&self, h: &LiveIdHandle) -> Result<Outcome, ProviderError> {
        let (sessions, key) = self.shared_with(SVC_SESSIONS).await?;
        let url = format!("{sessions}{}", uwl_response_path(&h.session_id));
        let extra = [(H_ADD_SESSION_INFO, "1")];
        let a = self
            .call(Method::GET, &url, Some(&key), &extra, None)
            .await?;
        let over = clock::now_secs() > h.expires_at_s;
        match a.status {
            StatusCode::OK => {}
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS => {
                return Err(self.refusal(&a, SVC_SESSIONS, Some(&h.session_id)))
            }
            s if s.is_server_error() => {
                return Err(self.refusal(&a, SVC_SESSIONS, Some(&h.session_id)))
            }
            _ => {
                return Ok(if over {
                    Outcome::Expired
                } else {
                    Outcome::Pending
                })
            }
        }
        let answer: UwlAnswer = serde_json::from_slice(&a.body).map_err(json_error)?;
        let (Some(data), Some(app_key)) = (answer.data, answer.public_key) else {
            return Ok(if over {
                Outcome::Expired
            } else {
                Outcome::Pending
            });
        };
        let app = self.keys.shared_key(&app_key).map_err(|e| {
            ProviderError::Protocol(format!(
                "the answering app's public key cannot be used ({e})"
            ))
        })?;
        let user: UwlUser = open(
            &app,
            &serde_json::to_vec(&Encrypted { data }).unwrap_or_default(),
        )?;
        let outcome = classify_uwl(&user, answer.ial, h);
        // The answer names a DID and is sealed with a key it carries itself, so anyone can
        // write one: as 1Kosmos's helper does, it counts only if the tenant's own directory
        // holds that DID for the account the app answered as.
        if let (Outcome::Verified(_), Some(did)) = (&outcome, user.did.as_deref()) {
            if !self.answered_by_holder(did, user.userid.as_deref()).await? {
                return Ok(Outcome::failed(Failure::ForeignAnswer, None));
            }
        }
        Ok(outcome)
    }

    /// Whether the tenant's user directory holds `did` for the account `userid` (or, with no
    /// `userid`, for any account, as the helper takes the directory's first).
    async fn answered_by_holder(
        &self,
        did: &str,
        userid: Option<&str>,
    ) -> Result<bool, ProviderError> {
        let info = self.community().await?;
        let admin = self.service(SVC_ADMINCONSOLE).await?;
        let key = self
            .keys
            .shared_key(&info.community.public_key)
            .map_err(|e| {
                ProviderError::Protocol(format!("the community's public key cannot be used ({e})"))
            })?;
        let Some(path) = user_by_did_path(&info.community.name, did) else {
            return Ok(false);
        };
        let url = format!("{admin}{path}");
        let tag = [(H_TENANT_TAG, info.tenant.tenanttag.as_str())];
        let a = self.call(Method::GET, &url, Some(&key), &tag, None).await?;
        if a.status == StatusCode::NOT_FOUND {
            return Ok(false);
        }
        if !a.status.is_success() {
            return Err(self.refusal(&a, "user directory", None));
        }
        let found: DirectoryUser = open(&key, &a.body)?;
        Ok(match userid {
            Some(u) => found.user_id_list.iter().any(|x| x == u),
            None => !found.user_id_list.is_empty(),
        })
    }
}

#[async_trait::async_trait]
impl IdentityProvider for BlockIdClient {
    async fn create_idv(&self, req: &CreateIdv) -> Result<ProviderSession, ProviderError> {
        let kind = match req.document_types.as_slice() {
            [] => DocKind::DriversLicence,
            kinds => kinds
                .iter()
                .find_map(|k| DocKind::from_product(k))
                .ok_or_else(|| {
                    ProviderError::Rejected(
                        "1Kosmos BlockID offers passport, drivers_license or national_id".into(),
                    )
                })?,
        };
        let info = self.community().await?;
        let (docu, key) = self.shared_with(SVC_DOCUVERIFY).await?;
        let uid = uuid::Uuid::new_v4().to_string();
        let create = IdvCreate {
            dvc_id: self.cfg.dvc_id.expose_secret().to_string(),
            session_request: SessionRequest {
                tenant_dns: self.dns.clone(),
                community_name: info.community.name.clone(),
                document_type: kind.object().into(),
                user_uid: uid.clone(),
                did: uid,
                firstname: req.first_name.clone(),
                lastname: req.last_name.clone(),
            },
        };
        let url = format!("{docu}{IDV_CREATE_PATH}");
        // Not retried: a retried create makes a second session.
        let a = self
            .send_to(
                Method::POST,
                SVC_DOCUVERIFY,
                &url,
                &key,
                &[],
                Some(&Encrypted::seal(&key, &create)),
            )
            .await?;
        let created: IdvCreated = open(&key, &a.body)?;
        if !is_session_id(&created.session_id) || !created.url.starts_with("http") {
            return Err(ProviderError::Protocol(
                "the new session has no usable id or link".into(),
            ));
        }
        let mut delivery_error = None;
        if req.delivery == Delivery::Sms {
            if let Err(e) = self.text_link(req.phone.as_deref(), &created.url).await {
                tracing::warn!(error = %e, "the 1Kosmos SMS with the verification link was not sent");
                delivery_error = Some(format!("the SMS was not sent: {e}"));
            }
        }
        Ok(ProviderSession {
            session_id: created.session_id,
            url: Some(created.url),
            qr_payload: None,
            expires_at: clock::rfc3339((clock::now_secs() + IDV_SESSION_LIFETIME_S) * 1000),
            delivery_error,
        })
    }

    async fn get_idv(&self, session_id: &str) -> Result<SessionReport, ProviderError> {
        if !is_session_id(session_id) {
            return Err(ProviderError::NotFound(session_id.into()));
        }
        let (docu, key) = self.shared_with(SVC_DOCUVERIFY).await?;
        let request = IdvResultRequest {
            dvc_id: self.cfg.dvc_id.expose_secret().to_string(),
            session_id: session_id.into(),
        };
        let url = format!("{docu}{}", self.cfg.result_path.path());
        let a = self
            .send_to(
                Method::POST,
                SVC_DOCUVERIFY,
                &url,
                &key,
                &[],
                Some(&Encrypted::seal(&key, &request)),
            )
            .await
            .map_err(|e| match e {
                ProviderError::NotFound(_) => ProviderError::NotFound(session_id.into()),
                other => other,
            })?;
        let plain = plaintext(&key, &a.body)?;
        drop(a);
        let mut result: IdvResult = serde_json::from_slice(&plain).map_err(json_error)?;
        result.did = top_level_str(&plain, RESULT_DID_FIELD);
        // The answer held the document's images: gone now, only the verdict's fields remain.
        drop(plain);
        let outcome = match classify_idv(result) {
            IdvVerdict::Pending => Outcome::Pending,
            IdvVerdict::Expired => Outcome::Expired,
            IdvVerdict::Failed(why, detail) => Outcome::failed(why, detail.as_deref()),
            IdvVerdict::Done {
                kind,
                faces,
                did,
                ial,
                holder,
            } => {
                let confidence = match (self.cfg.face_compare, faces) {
                    (false, _) => Ok(None),
                    (true, None) => Err(Failure::NoFacesToCompare),
                    (true, Some(faces)) => self.face_compare(&docu, &key, kind, faces).await?,
                };
                match confidence {
                    Ok(match_confidence) => Outcome::Verified(ResultFields {
                        // A document checked and its photo matched to a live selfie is the
                        // evidence of IAL2; without the face comparison, only what 1Kosmos says.
                        ial: ial.or_else(|| {
                            self.cfg
                                .face_compare
                                .then(|| super::wire::IAL_OF_DOCUMENT_AND_SELFIE.to_string())
                        }),
                        document_type: Some(kind.product().into()),
                        match_confidence,
                        credential_did: did,
                        // BlockID returns the document's data, not a comparison: the engine
                        // compares the holder with the CRM record and drops it.
                        identity_match: None,
                        holder: Some(holder),
                    }),
                    Err(why) => Outcome::failed(why, None),
                }
            }
        };
        Ok(SessionReport {
            session_id: session_id.into(),
            outcome,
        })
    }

    async fn create_liveid(&self, req: &CreateLiveId) -> Result<ProviderSession, ProviderError> {
        let info = self.community().await?;
        let admin = self.service(SVC_ADMINCONSOLE).await?;
        let (sessions, key) = self.shared_with(SVC_SESSIONS).await?;
        let metadata = json!({"purpose": "authentication"});
        let body = UwlCreate {
            origin: UwlOrigin {
                tag: info.tenant.tenanttag.clone(),
                url: admin,
                community_name: info.community.name.clone(),
                community_id: info.community.id.clone(),
                auth_page: UWL_AUTH_PAGE.into(),
                metadata: UWL_METADATA_IN_ORIGIN.then(|| metadata.clone()),
            },
            scopes: UWL_SCOPES.into(),
            authtype: UWL_AUTH_TYPE.into(),
            metadata: (!UWL_METADATA_IN_ORIGIN).then_some(metadata),
        };
        let url = format!("{sessions}{UWL_CREATE_PATH}");
        let a = self
            .send_to(Method::PUT, SVC_SESSIONS, &url, &key, &[], Some(&body))
            .await?;
        if a.status != StatusCode::CREATED {
            return Err(ProviderError::Protocol(format!(
                "a new UWL session answered {} instead of 201",
                a.status.as_u16()
            )));
        }
        let created: UwlCreated = serde_json::from_slice(&a.body).map_err(json_error)?;
        if !is_session_id(&created.session_id) {
            return Err(ProviderError::Protocol(
                "the new UWL session has no usable id".into(),
            ));
        }
        let (min, max) = UWL_LIFETIME_S;
        let expires = clock::now_secs() + i64::from(req.ttl_seconds.clamp(min, max));
        Ok(ProviderSession {
            session_id: LiveIdHandle::new(&created.session_id, expires, &req.did).encode(),
            url: None,
            qr_payload: Some(uwl_qr_payload(&sessions, &created.session_id)),
            expires_at: clock::rfc3339(expires * 1000),
            delivery_error: None,
        })
    }

    async fn get_liveid(&self, session_id: &str) -> Result<SessionReport, ProviderError> {
        let handle = LiveIdHandle::parse(session_id)
            .ok_or_else(|| ProviderError::NotFound(session_id.into()))?;
        Ok(SessionReport {
            session_id: session_id.into(),
            outcome: self.poll_uwl(&handle).await?,
        })
    }

    /// Read-only: community, directory, both service keys, and a result read of a session that
    /// does not exist (which proves the licence key, the dvcID and the clock).
    async fn check(&self) -> Result<String, ProviderError> {
        let info = self.community().await?;
        self.shared_with(SVC_SESSIONS).await?;
        let (docu, key) = self.shared_with(SVC_DOCUVERIFY).await?;
        let probe = IdvResultRequest {
            dvc_id: self.cfg.dvc_id.expose_secret().to_string(),
            session_id: uuid::Uuid::new_v4().to_string(),
        };
        let url = format!("{docu}{}", self.cfg.result_path.path());
        let body = serde_json::to_vec(&Encrypted::seal(&key, &probe)).unwrap_or_default();
        let a = self
            .call(Method::POST, &url, Some(&key), &[], Some(body))
            .await?;
        // An unknown session (404, or a plain 400) means the headers and the dvcID passed.
        let unknown_session = matches!(
            a.status,
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY
        ) && !message_of(&a).to_ascii_lowercase().contains("dvc");
        if !(a.status.is_success() || a.status == StatusCode::NOT_FOUND || unknown_session) {
            return Err(self.refusal(&a, SVC_DOCUVERIFY, None));
        }
        Ok(format!(
            "tenant {} ({}), community {}, {} keys",
            info.tenant
                .name
                .as_deref()
                .unwrap_or(&info.tenant.tenanttag),
            self.dns,
            info.community.name,
            self.cfg.curve
        ))
    }

    /// BlockID sends links by SMS through its messaging service; it has no email of its own.
    fn deliveries(&self) -> Vec<Delivery> {
        vec![Delivery::Show, Delivery::Sms]
    }

    /// The messaging service texts any link: the session's own link goes out again, on the same
    /// document-share session (no new one is billed).
    async fn resend_idv(&self, req: &ResendIdv) -> Result<Redelivery, ProviderError> {
        if req.delivery != Delivery::Sms || !is_session_id(&req.session_id) {
            return Ok(Redelivery::CannotReuse(
                "1Kosmos BlockID sends a session's link again only by SMS".into(),
            ));
        }
        self.text_link(req.phone.as_deref(), &req.url).await?;
        Ok(Redelivery::Sent)
    }
}
