//! Contract tests: the BlockID client against its simulator twin, over HTTP on loopback.

use std::time::Duration;

use idv_server::{
    adapters::blockid::{
        cipher::{Curve, KeyPair},
        wire::{self, LiveIdHandle, REASONS},
        BlockIdClient, BlockIdConfig, ResultPath,
    },
    clock,
    ports::identity::{
        CreateIdv, CreateLiveId, IdentityProvider, Outcome, ProviderError, ProviderSession,
    },
    sim::{
        blockid::{BlockIdFaults, BlockIdSim, IdvOutcome, UwlReply},
        Served,
    },
};
use idv_types::Delivery;
use secrecy::SecretString;

const LICENCE: &str = "lic-3f9a-sim";
const DVC: &str = "dvc-77-sim";

struct Twin {
    sim: BlockIdSim,
    served: Served,
    client: BlockIdClient,
}

fn config(url: &str, curve: Curve) -> BlockIdConfig {
    let mut cfg = BlockIdConfig::new(url, "default", LICENCE.into(), DVC.into());
    cfg.curve = curve;
    cfg.timeout = Duration::from_secs(2);
    cfg.sms_template = Some("<tenantname> asks you to verify your identity: <link>".into());
    cfg
}

async fn twin_with(curve: Curve, edit: impl FnOnce(&mut BlockIdConfig)) -> Twin {
    let sim = BlockIdSim::new(LICENCE, DVC, "default", curve);
    let served = sim.start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let mut cfg = config(&served.url(), curve);
    edit(&mut cfg);
    let client = BlockIdClient::new(cfg).unwrap();
    Twin {
        sim,
        served,
        client,
    }
}

async fn twin() -> Twin {
    twin_with(Curve::Secp256k1, |_| {}).await
}

fn idv(phone: Option<&str>) -> CreateIdv {
    idv_by(phone, Delivery::Show)
}

fn idv_by(phone: Option<&str>, delivery: Delivery) -> CreateIdv {
    CreateIdv {
        reference: "ver_1".into(),
        first_name: Some("Jane".into()),
        last_name: Some("Sample".into()),
        date_of_birth: None,
        email: None,
        phone: phone.map(str::to_string),
        ial: "IAL2".into(),
        document_types: vec!["passport".into(), "drivers_license".into()],
        callback_url: None,
        delivery,
    }
}

fn liveid(did: &str) -> CreateLiveId {
    CreateLiveId {
        reference: "ver_2".into(),
        did: did.into(),
        callback_url: None,
        ttl_seconds: 90,
    }
}

async fn outcome_of(t: &Twin, s: &ProviderSession) -> Outcome {
    t.client.get_idv(&s.session_id).await.unwrap().outcome
}

fn rejected(e: ProviderError) -> String {
    match e {
        ProviderError::Rejected(m) => m,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Named so that `cargo test -p idv-server blockid` selects these tests.
mod blockid_contract {
    use super::*;

    #[tokio::test]
    async fn document_verification_end_to_end_on_both_curves_and_result_paths() {
        for curve in [Curve::Secp256k1, Curve::P256] {
            for path in [ResultPath::Legacy, ResultPath::V3] {
                let t = twin_with(curve, |c| c.result_path = path).await;
                assert!(t
                    .client
                    .check()
                    .await
                    .unwrap()
                    .contains("community default"));
                let s = t
                    .client
                    .create_idv(&idv_by(Some("+14155550123"), Delivery::Sms))
                    .await
                    .unwrap();
                let url = s.url.clone().unwrap();
                assert!(url.starts_with(&t.served.url()) && s.qr_payload.is_none());
                assert!(s.expires_at > clock::rfc3339(clock::now_ms()));
                assert_eq!(s.delivery_error, None);
                // The link went out by SMS through messaging, with the tenant's name.
                let sms = t.sim.sms_outbox();
                assert_eq!(sms.len(), 1);
                assert_eq!(sms[0].to, "+14155550123");
                assert_eq!(
                    sms[0].text,
                    format!("Simulated Tenant asks you to verify your identity: {url}")
                );
                assert_eq!(outcome_of(&t, &s).await, Outcome::Pending);
                let sim_session = t.sim.idv_session(&s.session_id).unwrap();
                assert_eq!(sim_session.kind, wire::DocKind::Passport);
                t.sim
                    .complete_idv(&s.session_id, IdvOutcome::Success)
                    .unwrap();
                let Outcome::Verified(f) = outcome_of(&t, &s).await else {
                    panic!("{curve} {path:?}: a passed capture is verified")
                };
                assert_eq!(f.document_type.as_deref(), Some("passport"));
                assert_eq!(f.match_confidence, Some(0.97));
                assert_eq!(f.credential_did, Some(sim_session.did));
                // The session request named the person; the result names the document's
                // holder, for the engine to compare (BlockID returns no comparison).
                assert_eq!(sim_session.holder, ("Jane".into(), "Sample".into()));
                let holder = f.holder.expect("the document's holder");
                assert_eq!(
                    (holder.first_name.as_deref(), holder.last_name.as_deref()),
                    (Some("Jane"), Some("Sample"))
                );
                assert_eq!(f.identity_match, None);
                assert_eq!(
                    f.ial.as_deref(),
                    Some(wire::IAL_OF_DOCUMENT_AND_SELFIE),
                    "a passed document matched to a live selfie is IAL2 evidence"
                );
            }
        }
    }

    #[tokio::test]
    async fn the_capture_page_plays_the_customer() {
        let t = twin().await;
        let shown = t
            .client
            .create_idv(&idv(Some("+14155550123")))
            .await
            .unwrap();
        assert!(shown.delivery_error.is_none());
        assert!(
            t.sim.sms_outbox().is_empty(),
            "a link to show is not texted"
        );
        let s = t
            .client
            .create_idv(&idv_by(None, Delivery::Sms))
            .await
            .unwrap();
        assert!(t.sim.sms_outbox().is_empty(), "no phone, no SMS");
        assert!(
            s.delivery_error
                .as_deref()
                .is_some_and(|e| e.contains("no phone number")),
            "the rep learns why: {:?}",
            s.delivery_error
        );
        let http = reqwest::Client::new();
        let url = s.url.clone().unwrap();
        let page = http.get(&url).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("IDV0011") && page.contains("face_mismatch"));
        let res = http
            .post(&url)
            .form(&[("outcome", "IDV0011")])
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
        let Outcome::Failed { reason, .. } = outcome_of(&t, &s).await else {
            panic!("a reason code is a failure")
        };
        assert_eq!(reason, wire::failure_text("IDV0011"));
        let again = http
            .post(&url)
            .form(&[("outcome", "success")])
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 409, "a finished session cannot change");
    }

    #[tokio::test]
    async fn every_reason_code_fails_with_a_next_step() {
        let t = twin_with(Curve::P256, |c| c.result_path = ResultPath::V3).await;
        for r in &REASONS {
            let s = t.client.create_idv(&idv(None)).await.unwrap();
            let o = IdvOutcome::Reason(r.code.into());
            t.sim.complete_idv(&s.session_id, o).unwrap();
            let Outcome::Failed { reason, .. } = outcome_of(&t, &s).await else {
                panic!("{} is a failure", r.code)
            };
            assert!(
                reason.contains(r.code) && reason.contains("Next step: "),
                "{reason}"
            );
        }
    }

    #[tokio::test]
    async fn mismatch_abandon_and_expiry_are_not_verified() {
        for path in [ResultPath::Legacy, ResultPath::V3] {
            let t = twin_with(Curve::Secp256k1, |c| c.result_path = path).await;
            let mut seen = Vec::new();
            for o in [
                IdvOutcome::FaceMismatch,
                IdvOutcome::Abandoned,
                IdvOutcome::Expired,
            ] {
                let s = t.client.create_idv(&idv(None)).await.unwrap();
                t.sim.complete_idv(&s.session_id, o).unwrap();
                seen.push(outcome_of(&t, &s).await);
            }
            assert!(
                matches!(&seen[0], Outcome::Failed { reason, .. } if reason.contains("did not match"))
            );
            assert!(matches!(&seen[1], Outcome::Failed { reason, .. } if reason.contains("left")));
            assert_eq!(seen[2], Outcome::Expired);
        }
    }

    #[tokio::test]
    async fn liveid_step_up_approved_denied_or_by_someone_else() {
        let t = twin_with(Curve::P256, |_| {}).await;
        let enrolled = t.sim.enrol();
        let did = enrolled.as_str();
        let mut answers = Vec::new();
        for reply in [
            Some(UwlReply::Approve { did: did.into() }),
            Some(UwlReply::Deny),
            Some(UwlReply::Approve { did: t.sim.enrol() }),
            None,
        ] {
            let s = t.client.create_liveid(&liveid(did)).await.unwrap();
            let id = LiveIdHandle::parse(&s.session_id).unwrap().session_id;
            assert_eq!(
                s.qr_payload.as_deref(),
                Some(format!("{}/sessions/session/{id}", t.served.url()).as_str())
            );
            assert!(
                !s.session_id.contains(did),
                "the handle does not carry the DID"
            );
            assert_eq!(
                t.client.get_liveid(&s.session_id).await.unwrap().outcome,
                Outcome::Pending
            );
            if let Some(r) = reply {
                t.sim.answer_uwl(&id, r).unwrap();
            }
            answers.push(t.client.get_liveid(&s.session_id).await.unwrap().outcome);
        }
        let Outcome::Verified(f) = &answers[0] else {
            panic!("{:?}", answers[0])
        };
        assert_eq!(
            (f.credential_did.as_deref(), f.ial.as_deref()),
            (Some(did), Some("IAL2"))
        );
        assert!(
            matches!(&answers[1], Outcome::Failed { reason, .. } if reason.contains("did not approve"))
        );
        assert!(
            matches!(&answers[2], Outcome::Failed { reason, .. } if reason.contains("different"))
        );
        assert_eq!(answers[3], Outcome::Pending);
    }

    #[tokio::test]
    async fn a_liveid_session_carries_its_purpose_beside_origin_and_reads_as_the_helper_reads_it() {
        let t = twin_with(Curve::P256, |_| {}).await;
        let enrolled = t.sim.enrol();
        let did = enrolled.as_str();
        let s = t.client.create_liveid(&liveid(did)).await.unwrap();
        let id = LiveIdHandle::parse(&s.session_id).unwrap().session_id;
        // The purpose arrived (a twin that takes it only beside origin kept it).
        let uwl = t.sim.uwl_session(&id).unwrap();
        assert_eq!(
            uwl.metadata,
            Some(serde_json::json!({"purpose": "authentication"}))
        );
        // The session as JSON, as the helper's fetchSessionInfo reads it.
        let info: serde_json::Value = reqwest::Client::new()
            .get(s.qr_payload.clone().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(info["sessionId"], id.as_str());
        assert_eq!(info["metadata"]["purpose"], "authentication");
        // The app answers through /authenticate, encrypting to the creator with its own key.
        let app = KeyPair::generate(Curve::P256);
        let key = app.shared_key(uwl.creator_public_key()).unwrap();
        let data = key.encrypt(
            &serde_json::to_vec(
                &serde_json::json!({"did": did, "userid": idv_server::sim::blockid::SIM_USER_ID}),
            )
            .unwrap(),
        );
        let answer = |data: String| {
            reqwest::Client::new()
                .post(format!("{}/authenticate", s.qr_payload.clone().unwrap()))
                .json(
                    &serde_json::json!({"data": data, "publicKey": app.public_key_b64(),
                    "did": did, "appid": "com.1kosmos.blockid"}),
                )
                .send()
        };
        assert_eq!(answer(data.clone()).await.unwrap().status(), 200);
        assert_eq!(answer(data).await.unwrap().status(), 409, "answered once");
        let Outcome::Verified(f) = t.client.get_liveid(&s.session_id).await.unwrap().outcome else {
            panic!("the app's approval reads as verified")
        };
        assert_eq!(f.credential_did.as_deref(), Some(did));
    }

    #[tokio::test]
    async fn an_answer_naming_the_customers_did_from_an_account_that_does_not_hold_it_is_refused() {
        let t = twin_with(Curve::P256, |_| {}).await;
        let did = t.sim.enrol();
        let s = t.client.create_liveid(&liveid(&did)).await.unwrap();
        let id = LiveIdHandle::parse(&s.session_id).unwrap().session_id;
        let uwl = t.sim.uwl_session(&id).unwrap();
        // Whoever scanned the code answers with a key pair of their own, naming the customer's
        // DID (once shown on the contact) as their own account.
        let forger = KeyPair::generate(Curve::P256);
        let key = forger.shared_key(uwl.creator_public_key()).unwrap();
        let data = key.encrypt(
            &serde_json::to_vec(&serde_json::json!({"did": did, "userid": "mallory@example.com"}))
                .unwrap(),
        );
        let res = reqwest::Client::new()
            .post(format!("{}/authenticate", s.qr_payload.clone().unwrap()))
            .json(
                &serde_json::json!({"data": data, "publicKey": forger.public_key_b64(),
                "did": did, "appid": "com.1kosmos.blockid"}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "the session service takes the answer");
        match t.client.get_liveid(&s.session_id).await.unwrap().outcome {
            Outcome::Failed { reason, .. } => {
                assert!(reason.contains("did not come from an account"), "{reason}")
            }
            other => panic!("a forged answer passed: {other:?}"),
        }
    }

    #[tokio::test]
    async fn the_liveid_page_approves_and_an_unanswered_session_expires() {
        let t = twin().await;
        let first = t.client.create_idv(&idv(None)).await.unwrap();
        t.sim
            .complete_idv(&first.session_id, IdvOutcome::Success)
            .unwrap();
        let Outcome::Verified(f) = outcome_of(&t, &first).await else {
            panic!()
        };
        let did = f.credential_did.unwrap();
        let s = t.client.create_liveid(&liveid(&did)).await.unwrap();
        let qr = s.qr_payload.clone().unwrap();
        let http = reqwest::Client::new();
        // A browser (the demo's customer) gets the page; a client, the session's JSON.
        let page = http
            .get(&qr)
            .header("accept", "text/html")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains(&did), "the page offers the enrolled DID");
        let form = [("answer", "approve"), ("did", did.as_str())];
        assert!(http
            .post(&qr)
            .form(&form)
            .send()
            .await
            .unwrap()
            .status()
            .is_success());
        let o = t.client.get_liveid(&s.session_id).await.unwrap().outcome;
        assert!(matches!(o, Outcome::Verified(_)), "{o:?}");
        // A handle past its expiry whose session was never answered is expired.
        let s = t.client.create_liveid(&liveid(&did)).await.unwrap();
        let h = LiveIdHandle::parse(&s.session_id).unwrap();
        let stale = LiveIdHandle::new(&h.session_id, clock::now_secs() - 1, &did).encode();
        assert_eq!(
            t.client.get_liveid(&stale).await.unwrap().outcome,
            Outcome::Expired
        );
    }

    #[tokio::test]
    async fn sms_goes_through_messaging_and_bad_numbers_are_refused() {
        let t = twin().await;
        t.client
            .send_sms("+442079460018", "your link: https://x.example/1")
            .await
            .unwrap();
        let sms = t.sim.sms_outbox();
        assert_eq!(sms.len(), 1);
        assert_eq!(sms[0].to, "+442079460018");
        assert_eq!(sms[0].text, "your link: https://x.example/1");
        let e = t.client.send_sms("0123", "x").await.unwrap_err();
        assert!(rejected(e).contains("E.164"));
    }

    #[tokio::test]
    async fn a_wrong_licence_key_is_named() {
        let t = twin().await;
        let mut cfg = config(&t.served.url(), Curve::Secp256k1);
        cfg.licence_key = SecretString::from("not-the-licence");
        let c = BlockIdClient::new(cfg).unwrap();
        assert!(!format!("{c:?}").contains("not-the-licence"));
        assert!(rejected(c.check().await.unwrap_err()).contains("licence key"));
        assert!(rejected(c.create_idv(&idv(None)).await.unwrap_err()).contains("licence key"));
        assert!(
            rejected(c.create_liveid(&liveid("did:x")).await.unwrap_err()).contains("licence key")
        );
    }

    #[tokio::test]
    async fn a_wrong_dvc_id_community_or_curve_is_named() {
        let t = twin().await;
        let mut cfg = config(&t.served.url(), Curve::Secp256k1);
        cfg.dvc_id = SecretString::from("dvc-wrong");
        let c = BlockIdClient::new(cfg).unwrap();
        assert!(rejected(c.check().await.unwrap_err()).contains("dvcID"));
        assert!(rejected(c.create_idv(&idv(None)).await.unwrap_err()).contains("dvcID"));

        let mut cfg = config(&t.served.url(), Curve::Secp256k1);
        cfg.community = "sales".into();
        let c = BlockIdClient::new(cfg).unwrap();
        assert!(rejected(c.check().await.unwrap_err()).contains("no community \"sales\""));

        let c = BlockIdClient::new(config(&t.served.url(), Curve::P256)).unwrap();
        match c.check().await.unwrap_err() {
            ProviderError::Protocol(m) => assert!(m.contains("curve"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn an_unreachable_tenant_is_named() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let c = BlockIdClient::new(config(
            &format!("http://127.0.0.1:{port}"),
            Curve::Secp256k1,
        ))
        .unwrap();
        match c.check().await.unwrap_err() {
            ProviderError::Unreachable(m) => assert!(m.contains("tenant 127.0.0.1"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_directory_that_sends_calls_outside_the_tenants_domain_is_refused() {
        let t = twin().await;
        // Every service named on another host: the licence key must not go there.
        t.sim.set_faults(BlockIdFaults {
            foreign_services: Some("http://collector.example".into()),
            ..Default::default()
        });
        match t.client.create_idv(&idv(None)).await.unwrap_err() {
            ProviderError::Protocol(m) => {
                assert!(m.contains("outside the 1Kosmos domain"), "{m}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_skewed_clock_is_refused_and_named() {
        let t = twin().await;
        let s = t.client.create_idv(&idv(None)).await.unwrap();
        t.sim.set_faults(BlockIdFaults {
            clock_skew_ms: 5 * 60 * 1000,
            ..Default::default()
        });
        let m = rejected(t.client.get_idv(&s.session_id).await.unwrap_err());
        assert!(
            m.contains("clock is 300 s off") || m.contains("clock is 299 s off"),
            "{m}"
        );
        // Within the allowed span, the same call passes.
        t.sim.set_faults(BlockIdFaults {
            clock_skew_ms: 20_000,
            ..Default::default()
        });
        assert_eq!(outcome_of(&t, &s).await, Outcome::Pending);
    }

    #[tokio::test]
    async fn the_twin_refuses_stale_replayed_or_foreign_request_ids() {
        let t = twin().await;
        let url = t.served.url();
        let http = reqwest::Client::new();
        let sd: serde_json::Value = http
            .get(format!("{url}/caas/sd"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let docu = sd["docuverify"].as_str().unwrap().to_string();
        let pk: serde_json::Value = http
            .get(format!("{docu}/publickeys"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let me = KeyPair::generate(Curve::Secp256k1);
        let key = me.shared_key(pk["publicKey"].as_str().unwrap()).unwrap();
        let body = wire::Encrypted::seal(
            &key,
            &serde_json::json!({"dvcID": DVC, "sessionId": uuid::Uuid::new_v4().to_string()}),
        );
        let send = |headers: [(&'static str, String); 3]| {
            let mut req = http
                .post(format!("{docu}/document_share_session/result"))
                .json(&body);
            for (k, v) in headers {
                req = req.header(k, v);
            }
            async move {
                let res = req.send().await.unwrap();
                let status = res.status().as_u16();
                (
                    status,
                    res.json::<wire::ErrorAnswer>()
                        .await
                        .unwrap()
                        .message
                        .unwrap_or_default(),
                )
            }
        };
        let licence: SecretString = LICENCE.into();
        let now = clock::now_secs();
        let fresh = wire::auth_headers(&me, &key, &licence, "t", now);
        assert_eq!(send(fresh.clone()).await, (404, "session not found".into()));
        assert_eq!(send(fresh).await, (401, "duplicate requestid".into()));
        let (status, m) = send(wire::auth_headers(&me, &key, &licence, "t", now - 61)).await;
        assert_eq!((status, m.contains("expired")), (401, true));
        assert_eq!(
            send(wire::auth_headers(&me, &key, &licence, "t", now - 55))
                .await
                .0,
            404
        );
        let other = KeyPair::generate(Curve::Secp256k1)
            .shared_key(pk["publicKey"].as_str().unwrap())
            .unwrap();
        let (status, m) = send(wire::auth_headers(&me, &other, &licence, "t", now)).await;
        assert_eq!((status, m.as_str()), (401, "invalid license key"));
    }

    #[tokio::test]
    async fn unknown_sessions_are_not_found() {
        let t = twin().await;
        for id in [
            uuid::Uuid::new_v4().to_string(),
            "../../caas/sd".into(),
            String::new(),
        ] {
            let e = t.client.get_idv(&id).await.unwrap_err();
            assert!(
                matches!(&e, ProviderError::NotFound(s) if *s == id),
                "{e:?}"
            );
        }
        for id in ["garbage", "ls_123", "uwl1.1.x.y"] {
            assert!(matches!(
                t.client.get_liveid(id).await,
                Err(ProviderError::NotFound(_))
            ));
        }
    }

    #[tokio::test]
    async fn server_errors_and_timeouts_are_transient() {
        let t = twin_with(Curve::Secp256k1, |c| c.timeout = Duration::from_millis(700)).await;
        let s = t.client.create_idv(&idv(None)).await.unwrap();
        let l = t.client.create_liveid(&liveid("did:x")).await.unwrap();
        t.sim.set_faults(BlockIdFaults {
            error_rate: 1.0,
            ..Default::default()
        });
        for e in [
            t.client.get_idv(&s.session_id).await.unwrap_err(),
            t.client.get_liveid(&l.session_id).await.unwrap_err(),
            t.client.create_idv(&idv(None)).await.unwrap_err(),
        ] {
            assert!(matches!(e, ProviderError::Unavailable(503)), "{e:?}");
            assert!(e.is_transient());
        }
        t.sim.set_faults(BlockIdFaults {
            timeout_rate: 1.0,
            ..Default::default()
        });
        let e = t.client.get_idv(&s.session_id).await.unwrap_err();
        assert!(
            matches!(e, ProviderError::Timeout) && e.is_transient(),
            "{e:?}"
        );
        t.sim.set_faults(BlockIdFaults::default());
        assert_eq!(outcome_of(&t, &s).await, Outcome::Pending);
    }

    #[tokio::test]
    async fn redirects_are_not_followed() {
        let t = twin().await;
        let target = t.served.url();
        let redirect = axum::Router::new().fallback(move || {
            let to = target.clone();
            async move { axum::response::Redirect::temporary(&to) }
        });
        let other = Served::start("127.0.0.1:0".parse().unwrap(), redirect)
            .await
            .unwrap();
        let c = BlockIdClient::new(config(&other.url(), Curve::Secp256k1)).unwrap();
        assert!(rejected(c.check().await.unwrap_err()).contains("redirect"));
    }

    #[tokio::test]
    async fn discovery_and_keys_are_cached_for_their_ttl() {
        let t = twin().await;
        let s = t.client.create_idv(&idv(None)).await.unwrap();
        for _ in 0..3 {
            t.client.get_idv(&s.session_id).await.unwrap();
        }
        t.client.create_liveid(&liveid("did:x")).await.unwrap();
        // Community info, the directory, and each of the two service keys: once.
        assert_eq!(t.sim.discovery_calls(), 4);

        let t = twin_with(Curve::Secp256k1, |c| {
            c.discovery_ttl = Duration::ZERO;
            c.key_ttl = Duration::ZERO;
        })
        .await;
        let s = t.client.create_idv(&idv(None)).await.unwrap();
        let after_create = t.sim.discovery_calls();
        t.client.get_idv(&s.session_id).await.unwrap();
        assert!(
            t.sim.discovery_calls() > after_create,
            "expired entries are fetched again"
        );
    }
}
