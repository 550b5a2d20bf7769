use serde_json::json;

use super::*;
use crate::{adapters::blockid::cipher::Curve, domain::reasons::Failure, ports::identity::Outcome};

fn result(v: Value) -> IdvResult {
    let json = serde_json::to_vec(&v).unwrap();
    let mut r: IdvResult = serde_json::from_slice(&json).unwrap();
    r.did = top_level_str(&json, RESULT_DID_FIELD);
    r
}

fn success(extra: Value) -> Value {
    let mut v = json!({
        "responseStatus": "SUCCESS",
        "did": "u-1",
        "dl_object": {"documentType": "DL", "firstName": "Jane", "lastName": "Sample", "dob": "19900101",
                      "face": "RkFDRQ==", "image": "SU1H", "imageBack": "SU1H"},
        "liveid_object": {"id": "l-1", "face": "U0VMRklF", "proofedBy": "blockid"},
    });
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

#[test]
fn in_progress_is_pending_and_finished_states_are_final() {
    assert!(matches!(
        classify_idv(result(json!({"responseStatus": "INPROGRESS"}))),
        IdvVerdict::Pending
    ));
    for v in [
        json!({"responseStatus": "SUCCESS", "sessionResult": "EXPIRED"}),
        json!({"responseStatus": "EXPIRED"}),
    ] {
        assert!(matches!(classify_idv(result(v)), IdvVerdict::Expired));
    }
    for v in [
        json!({"responseStatus": "SUCCESS", "sessionResult": "ABANDONED"}),
        json!({"responseStatus": "ABANDONED"}),
    ] {
        let IdvVerdict::Failed(why, detail) = classify_idv(result(v)) else {
            panic!("abandoned is a failure")
        };
        let r = why.sentence(detail.as_deref());
        assert!(r.contains("new link"), "{r}");
    }
}

#[test]
fn success_needs_an_explicit_status_and_a_document() {
    let IdvVerdict::Done {
        kind,
        faces,
        did,
        ial,
        holder,
    } = classify_idv(result(success(json!({"sessionResult": "SUCCESS"}))))
    else {
        panic!("a complete success is done")
    };
    assert_eq!(kind, DocKind::DriversLicence);
    assert_eq!(did.as_deref(), Some("u-1"));
    assert_eq!(ial, None);
    // The holder is read for the comparison with the CRM record, and never shows in debug
    // output.
    assert_eq!(
        (holder.first_name.as_deref(), holder.last_name.as_deref()),
        (Some("Jane"), Some("Sample"))
    );
    assert_eq!(holder.date_of_birth.as_deref(), Some("19900101"));
    let doc: DocObject =
        serde_json::from_value(json!({"firstName": "Jane", "dob": "19900101"})).unwrap();
    assert!(!format!("{doc:?} {holder:?}").contains("Jane"));
    let faces = faces.unwrap();
    assert_eq!(
        (faces.document.0.as_str(), faces.selfie.0.as_str()),
        ("RkFDRQ==", "U0VMRklF")
    );
    // Images never show in debug output.
    assert!(!format!("{faces:?}").contains("RkFDRQ"));
    // Fail closed on everything else.
    for v in [
        json!({}),
        json!({"responseStatus": "SUCCESS"}),
        json!({"responseStatus": "DONE", "dl_object": {}}),
        json!({"responseStatus": "success-ish", "dl_object": {}}),
        success(json!({"sessionResult": "PENDING_REVIEW"})),
        success(json!({"errorInfo": {"reasonCode": "IDV0012"}})),
    ] {
        assert!(
            matches!(classify_idv(result(v.clone())), IdvVerdict::Failed(..)),
            "{v}"
        );
    }
    // A passport result is a passport.
    let v = json!({"responseStatus": "SUCCESS", "ppt_object": {"documentType": "PPT"}});
    let IdvVerdict::Done { kind, faces, .. } = classify_idv(result(v)) else {
        panic!()
    };
    assert_eq!((kind, faces.is_none()), (DocKind::Passport, true));
}

#[test]
fn every_reason_code_has_a_next_step() {
    for (i, r) in REASONS.iter().enumerate() {
        assert_eq!(r.code, format!("IDV{:04}", i + 1));
        let v = json!({"responseStatus": "SUCCESS", "sessionResult": "FAILED",
                       "errorInfo": {"reasonCode": r.code}});
        let IdvVerdict::Failed(why, detail) = classify_idv(result(v)) else {
            panic!("{} is a failure", r.code)
        };
        assert_ne!(why, Failure::Unknown, "{} has its own entry", r.code);
        let text = why.sentence(detail.as_deref());
        assert!(
            text.contains(r.code) && text.contains("Next step: "),
            "{text}"
        );
    }
    assert!(failure_text("IDV0011").starts_with("The ID has expired (IDV0011)"));
    assert!(failure_text("idv0014").contains("IDV0014"));
    let unknown = failure_text("XYZ<script>");
    assert!(
        unknown.contains("XYZscript") && !unknown.contains('<'),
        "{unknown}"
    );
}

#[test]
fn face_compare_counts_only_an_explicit_true() {
    let ok =
        json!({"certifications": [{"type": "face_compare", "verified": true, "confidence": 97}]});
    assert_eq!(classify_face_compare(&ok), Ok(Some(0.97)));
    let keyed = json!({"certifications": {"face_compare": {"verified": true, "confidence": 0.9}}});
    assert_eq!(classify_face_compare(&keyed), Ok(Some(0.9)));
    let no_score = json!({"certifications": [{"type": "face_compare", "verified": true}]});
    assert_eq!(classify_face_compare(&no_score), Ok(None));
    let mismatch = json!({"certifications": [{"type": "face_compare", "verified": false}]});
    assert!(classify_face_compare(&mismatch)
        .unwrap_err()
        .sentence(None)
        .contains("did not match"));
    for v in [
        json!({}),
        json!({"certifications": []}),
        json!({"certifications": [{"type": "face_compare", "verified": "true"}]}),
        json!({"certifications": [{"type": "liveness", "verified": true}]}),
    ] {
        assert!(classify_face_compare(&v).is_err(), "{v}");
    }
}

#[test]
fn a_liveid_handle_round_trips_and_binds_the_did() {
    let h = LiveIdHandle::new("5f1c-aa_9", 1_800_000_000, "did:x:1");
    let s = h.encode();
    assert!(!s.contains("did:x:1"));
    let back = LiveIdHandle::parse(&s).unwrap();
    assert_eq!(back, h);
    assert!(back.did_matches("did:x:1"));
    assert!(!back.did_matches("did:x:2"));
    // The same DID in another session gives another tag (not linkable).
    assert_ne!(
        LiveIdHandle::new("other", 1, "did:x:1")
            .encode()
            .split('.')
            .nth(2),
        s.split('.').nth(2)
    );
    for bad in [
        "",
        "uwl1",
        "uwl1.x.tag.id",
        "uwl2.1.00000000000000000000000000000000.id",
        "uwl1.1.00000000000000000000000000000000.../etc",
        "ks_123",
    ] {
        assert_eq!(LiveIdHandle::parse(bad), None, "{bad}");
    }
}

#[test]
fn uwl_answers_need_the_did_the_stepup_was_for() {
    let h = LiveIdHandle::new("s1", 0, "did:x:1");
    let user = |did: Option<&str>| UwlUser {
        did: did.map(str::to_string),
        userid: None,
        ial: None,
    };
    match classify_uwl(&user(Some("did:x:1")), Some("IAL2".into()), &h) {
        Outcome::Verified(f) => {
            assert_eq!(f.credential_did.as_deref(), Some("did:x:1"));
            assert_eq!(f.ial.as_deref(), Some("IAL2"));
        }
        other => panic!("{other:?}"),
    }
    for u in [user(None), user(Some("")), user(Some("did:x:2"))] {
        assert!(matches!(classify_uwl(&u, None, &h), Outcome::Failed { .. }));
    }
}

#[test]
fn auth_headers_carry_a_fresh_encrypted_request_id() {
    let client = KeyPair::generate(Curve::P256);
    let service = KeyPair::generate(Curve::P256);
    let key = client.shared_key(service.public_key_b64()).unwrap();
    let licence: SecretString = "lic-1".into();
    let [a, b, c] = auth_headers(&client, &key, &licence, "app", 1_700_000_000);
    assert_eq!(a, (H_PUBLIC_KEY, client.public_key_b64().to_string()));
    let theirs = service.shared_key(&a.1).unwrap();
    assert_eq!(b.0, H_LICENSE_KEY);
    assert_eq!(theirs.decrypt_str(&b.1).unwrap(), "lic-1");
    assert!(!b.1.contains("lic-1"));
    let rid: RequestId = serde_json::from_str(&theirs.decrypt_str(&c.1).unwrap()).unwrap();
    assert_eq!((rid.ts, rid.appid.as_str()), (1_700_000_000, "app"));
    assert_eq!(
        uuid::Uuid::parse_str(&rid.uuid).unwrap().get_version_num(),
        4
    );
    let [_, _, again] = auth_headers(&client, &key, &licence, "app", 1_700_000_000);
    let rid2: RequestId = serde_json::from_str(&theirs.decrypt_str(&again.1).unwrap()).unwrap();
    assert_ne!(rid.uuid, rid2.uuid);
}

#[test]
fn one_top_level_string_is_read_alone() {
    let json = br#"{"a": {"did": "inner"}, "did": "outer", "n": 1, "list": [1, "x"]}"#;
    assert_eq!(top_level_str(json, "did").as_deref(), Some("outer"));
    assert_eq!(top_level_str(json, "missing"), None);
    assert_eq!(top_level_str(br#"{"did": 7}"#, "did"), None);
    assert_eq!(top_level_str(br#"{"did": null}"#, "did"), None);
    assert_eq!(top_level_str(b"[1]", "did"), None);
    assert_eq!(top_level_str(b"not json", "did"), None);
}

#[test]
fn document_kinds_map_both_ways() {
    for k in DocKind::ALL {
        assert_eq!(DocKind::from_product(k.product()), Some(k));
        assert_eq!(DocKind::from_product(k.object()), Some(k));
    }
    assert_eq!(DocKind::from_product("library_card"), None);
    assert_eq!(
        DocKind::DriversLicence.verify_type(),
        ("dl", "dl_verification")
    );
    assert_eq!(
        uwl_qr_payload("https://s.example/sessions/", "abc"),
        "https://s.example/sessions/session/abc"
    );
    assert!(is_session_id("6f1c2a9e-8d2b-4c1e-9a55-3b7c0e4d2f10"));
    assert!(!is_session_id("../x") && !is_session_id("a/b") && !is_session_id(""));
}
