//! Test helpers shared by core's integration tests: Google fixtures read in place, a good VM's evidence
//! built from them, identity tokens signed with our own test RSA keys, and an approver key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeZone as _, Utc};
use ed25519_dalek::SigningKey;
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::Value;
use tokendist_core::approval::{Approval, sign};
use tokendist_core::auditlog::AuditEntry;
use tokendist_core::evidence::{
    DataAccessEvidence, DiskEvidence, Evidence, InstanceEvidence, PeerEvidence, ProjectEvidence,
    ShieldedConfig,
};
use tokendist_core::identity::{self, IdentityClaims};
use tokendist_core::settings::{Settings, encode_verifying_key};

pub const TEST_KID: &str = "test-kid-1";
pub const AUDIENCE: &str = "https://tokenserver";
/// `iat` of the seed tokenclient's token (2021-06-22T12:05:23Z).
pub const SEED_IAT: i64 = 1_624_363_523;
pub const SEED_DIGEST: &str =
    "sha256:eea4812c723e6d39d4261504508c0903c1c0958fc6ec25a9cad906c57ea610a9";

pub fn fixture(name: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/gce/");
    std::fs::read_to_string(format!("{path}{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).unwrap()
}

fn test_data(name: &str) -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/");
    std::fs::read(format!("{path}{name}")).unwrap()
}

pub fn google_key() -> EncodingKey {
    EncodingKey::from_rsa_pem(&test_data("rsa-google-test-key-1.pem")).unwrap()
}

pub fn attacker_key() -> EncodingKey {
    EncodingKey::from_rsa_pem(&test_data("rsa-attacker-test-key.pem")).unwrap()
}

pub fn google_public_pem() -> Vec<u8> {
    test_data("rsa-google-test-key-1.pub.pem")
}

/// A JWK set holding our stand-in Google key under [`TEST_KID`], plus the real captured Google keys.
pub fn jwks() -> JwkSet {
    let mut set: JwkSet =
        serde_json::from_str(&fixture("google-oauth2-v3-certs-jwks.json")).unwrap();
    let mut jwk = Jwk::from_encoding_key(&google_key(), Algorithm::RS256).unwrap();
    jwk.common.key_id = Some(TEST_KID.to_owned());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    jwk.common.key_algorithm = Some(KeyAlgorithm::RS256);
    set.keys.push(jwk);
    set
}

/// The seed tokenclient's claims (fixture), with `iat`/`exp` kept.
pub fn seed_payload() -> Value {
    fixture_json("identity-token-gce-cos-full-seed-tokenclient-assembled.json")["payload"].clone()
}

pub fn seed_now() -> DateTime<Utc> {
    Utc.timestamp_opt(SEED_IAT + 10, 0).unwrap()
}

pub fn sign_token(payload: &Value, key: &EncodingKey, alg: Algorithm, kid: Option<&str>) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, payload, key).unwrap()
}

/// A token signed by the stand-in Google key.
pub fn google_token(payload: &Value) -> String {
    sign_token(payload, &google_key(), Algorithm::RS256, Some(TEST_KID))
}

/// A compact JWS with a hand-made header and the given signature part.
pub fn raw_token(header: &Value, payload: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    )
}

pub fn verified_seed_claims() -> IdentityClaims {
    identity::verify(
        &google_token(&seed_payload()),
        &jwks(),
        &identity::IdentityExpectations::new(AUDIENCE),
        seed_now(),
    )
    .unwrap()
}

fn time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn last_segment(url: &str) -> String {
    url.rsplit('/').next().unwrap().to_owned()
}

/// The seed tokenclient VM (compute fixture), hardened with `block-project-ssh-keys=TRUE`.
pub fn good_instance() -> InstanceEvidence {
    let v = fixture_json("compute-instance-cos-shielded-seed-tokenclient-assembled.json");
    let mut metadata: BTreeMap<String, String> = v["metadata"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["key"].as_str().unwrap().to_owned(),
                i["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    metadata.insert("block-project-ssh-keys".to_owned(), "TRUE".to_owned());
    let nic = &v["networkInterfaces"][0];
    InstanceEvidence {
        instance_id: v["id"].as_str().unwrap().to_owned(),
        name: v["name"].as_str().unwrap().to_owned(),
        project: "tc-4f4f5a70".to_owned(),
        zone: last_segment(v["zone"].as_str().unwrap()),
        status: v["status"].as_str().unwrap().to_owned(),
        creation_timestamp: time(v["creationTimestamp"].as_str().unwrap()),
        fingerprint: v["fingerprint"].as_str().unwrap().to_owned(),
        metadata_fingerprint: v["metadata"]["fingerprint"].as_str().unwrap().to_owned(),
        metadata,
        service_accounts: vec![
            v["serviceAccounts"][0]["email"]
                .as_str()
                .unwrap()
                .to_owned(),
        ],
        internal_ips: vec![nic["networkIP"].as_str().unwrap().to_owned()],
        nat_ips: vec![
            nic["accessConfigs"][0]["natIP"]
                .as_str()
                .unwrap()
                .to_owned(),
        ],
        boot_disk_source: v["disks"][0]["source"].as_str().map(str::to_owned),
        machine_type: last_segment(v["machineType"].as_str().unwrap()),
        cpu_platform: v["cpuPlatform"].as_str().map(str::to_owned),
        shielded: ShieldedConfig {
            secure_boot: v["shieldedInstanceConfig"]["enableSecureBoot"]
                .as_bool()
                .unwrap(),
            vtpm: v["shieldedInstanceConfig"]["enableVtpm"].as_bool().unwrap(),
            integrity_monitoring: v["shieldedInstanceConfig"]["enableIntegrityMonitoring"]
                .as_bool()
                .unwrap(),
        },
        confidential_compute: v["confidentialInstanceConfig"]["enableConfidentialCompute"]
            .as_bool()
            .unwrap(),
    }
}

pub fn good_disk() -> DiskEvidence {
    let v = fixture_json("compute-disk-cos-seed-tokenclient-assembled.json");
    DiskEvidence {
        name: v["name"].as_str().unwrap().to_owned(),
        source_image: v["sourceImage"].as_str().map(str::to_owned),
        source_image_id: v["sourceImageId"].as_str().map(str::to_owned),
        licenses: v["licenses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap().to_owned())
            .collect(),
        disk_id: v["id"].as_str().map(str::to_owned),
        creation_timestamp: v["creationTimestamp"].as_str().map(time),
        users: v["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u.as_str().unwrap().to_owned())
            .collect(),
        last_attach_timestamp: v["lastAttachTimestamp"].as_str().map(time),
        last_detach_timestamp: v["lastDetachTimestamp"].as_str().map(time),
    }
}

/// An `AuditEntry` decoded from a Cloud Logging fixture (what `tokendist-gcp` produces).
pub fn audit_entry(name: &str) -> AuditEntry {
    audit_entry_from(&fixture_json(name))
}

pub fn audit_entry_from(v: &Value) -> AuditEntry {
    let p = &v["protoPayload"];
    AuditEntry {
        insert_id: v["insertId"].as_str().unwrap().to_owned(),
        timestamp: time(v["timestamp"].as_str().unwrap()),
        log_name: v["logName"].as_str().unwrap().to_owned(),
        resource_type: v["resource"]["type"].as_str().unwrap().to_owned(),
        instance_id: v["resource"]["labels"]["instance_id"]
            .as_str()
            .map(str::to_owned),
        disk_id: v["resource"]["labels"]["disk_id"]
            .as_str()
            .map(str::to_owned),
        source_disk: p["request"]["sourceDisk"].as_str().map(str::to_owned),
        source_instance: p["request"]["sourceInstance"].as_str().map(str::to_owned),
        method_name: p["methodName"].as_str().unwrap().to_owned(),
        service_name: p["serviceName"].as_str().unwrap().to_owned(),
        resource_name: p["resourceName"].as_str().unwrap().to_owned(),
        principal_email: p["authenticationInfo"]["principalEmail"]
            .as_str()
            .map(str::to_owned),
        severity: v["severity"].as_str().unwrap().to_owned(),
        operation_first: v["operation"]["first"].as_bool().unwrap_or(false),
        operation_last: v["operation"]["last"].as_bool().unwrap_or(false),
        request_summary: String::new(),
    }
}

/// The seed VM's own insert entry, re-labelled with the good instance's id.
pub fn good_audit_log() -> Vec<AuditEntry> {
    let mut insert =
        audit_entry("logging-entry-beta-compute-instances-insert-seed-tokenclient-assembled.json");
    insert.instance_id = Some(good_instance().instance_id);
    vec![insert]
}

/// The good VM's project: OS Login explicitly off, default zone and logging set (harmless keys).
pub fn good_project() -> ProjectEvidence {
    ProjectEvidence {
        project: "tc-4f4f5a70".to_owned(),
        project_number: Some("493201784516".to_owned()),
        metadata_fingerprint: "ZWRDpYrCzbY=".to_owned(),
        metadata: [
            ("enable-oslogin", "FALSE"),
            ("google-compute-default-zone", "us-central1-a"),
            ("google-logging-enabled", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
    }
}

pub fn good_evidence() -> Evidence {
    Evidence {
        identity: Ok(verified_seed_claims()),
        instance: Ok(good_instance()),
        boot_disk: Ok(good_disk()),
        project: Ok(good_project()),
        audit_log: Ok(good_audit_log()),
        data_access: Ok(DataAccessEvidence::default()),
        peer: PeerEvidence {
            address: Some("34.121.225.36".to_owned()),
            client_cert_serial: Some("27".to_owned()),
        },
        tpm: None,
        gathered_at: seed_now(),
    }
}

pub fn approver_key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

pub fn settings() -> Settings {
    let mut settings = Settings {
        audience: AUDIENCE.to_owned(),
        trusted_approver_keys: vec![encode_verifying_key(&approver_key().verifying_key())],
        ..Settings::default()
    };
    settings
        .trusted_container_digests
        .insert(SEED_DIGEST.to_owned());
    settings
}

/// Alice's signed approval of the good VM, not requiring a TPM (TPM checks then skip).
pub fn good_approval() -> Approval {
    let mut approval = unsigned_good_approval();
    sign(&mut approval, &approver_key());
    approval
}

pub fn unsigned_good_approval() -> Approval {
    let mut approval = Approval::proposed_from(
        &good_instance(),
        &settings().always_allowed_metadata_keys,
        "alice@example.com",
        seed_now() - chrono::Duration::minutes(5),
    );
    approval.require_tpm = false;
    approval
}

pub mod tpm;
