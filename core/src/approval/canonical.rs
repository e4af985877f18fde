//! The canonical byte encoding of an [`Approval`] that Ed25519 signatures cover: every field except
//! `signature`, in a fixed order, each self-delimiting, so two different approvals never encode alike.
//!
//! Format (version 1), all integers big-endian:
//! - the domain tag `tokendist.approval.v1` as a string value;
//! - then, for each field in declaration order: the field name as a string value, then its value.
//!
//! Values: string `s` + u32 length + UTF-8 bytes; unsigned `u` + u64; boolean `b` + one byte (0/1);
//! time `t` + i64 microseconds since the Unix epoch (sub-microsecond digits are not signed, because
//! stores keep microseconds; [`super::sign`] truncates them); absent `n`; present option `o` + value;
//! list `l` + u32 count + values; map `m` + u32 count + (key, value) pairs in key order.
//! A [`PcrPolicy`] is `hash_alg` (u) then `pcrs` (map of u to s); a [`StoredSecret`] is its five
//! fields in declaration order, each preceded by its name.
//!
//! Version 2 (domain tag `tokendist.approval.v2`) is version 1 followed by `forced_reason` (a string).
//! It is used exactly when `forced_reason` is present, so every approval signed before the field
//! existed still encodes, and verifies, as version 1; removing the reason from a v2 record changes
//! its encoding (and domain tag), so the signature no longer verifies.
//!
//! Adding a field to `Approval` fails to compile here until the encoding covers it. Other fields
//! added after version 1 (`require_data_access`) are encoded only when they differ from their
//! default, so older approvals keep their signatures.

use chrono::{DateTime, Utc};

use super::{Approval, PcrPolicy, StoredSecret};

/// The domain tag that starts every encoding; bump it when the format changes.
pub const DOMAIN_TAG: &str = "tokendist.approval.v1";
/// The domain tag of the encoding of a forced approval (version 1 plus `forced_reason`).
pub const DOMAIN_TAG_V2: &str = "tokendist.approval.v2";

/// The bytes an approval's signature covers.
pub fn encode(approval: &Approval) -> Vec<u8> {
    let Approval {
        instance_id,
        instance_name,
        project,
        zone,
        service_account,
        user_data_sha256,
        fingerprint,
        boot_images,
        allowed_metadata_keys,
        peer_address,
        client_cert_serial,
        require_confidential,
        require_tpm,
        require_data_access,
        pcr_policy,
        ek_public_pem,
        secrets,
        approver,
        approved_at,
        expires_at,
        revision,
        revoked_at,
        revoke_reason,
        forced_reason,
        // Covered by `user_data_sha256`, which is signed; the text itself is not.
        approved_user_data: _,
        signature: _,
    } = approval;

    let mut out = Encoder::default();
    out.string(if forced_reason.is_some() {
        DOMAIN_TAG_V2
    } else {
        DOMAIN_TAG
    });
    out.field("instance_id").string(instance_id);
    out.field("instance_name").string(instance_name);
    out.field("project").string(project);
    out.field("zone").string(zone);
    out.field("service_account").string(service_account);
    out.field("user_data_sha256").string(user_data_sha256);
    out.field("fingerprint").string(fingerprint);
    out.field("boot_images").strings(boot_images.iter());
    out.field("allowed_metadata_keys")
        .strings(allowed_metadata_keys.iter());
    out.field("peer_address")
        .optional(peer_address.as_ref(), |e, v| e.string(v));
    out.field("client_cert_serial")
        .optional(client_cert_serial.as_ref(), |e, v| e.string(v));
    out.field("require_confidential")
        .boolean(*require_confidential);
    out.field("require_tpm").boolean(*require_tpm);
    // Encoded only when set: an approval from before the field encodes (and verifies) as it did.
    if *require_data_access {
        out.field("require_data_access").boolean(true);
    }
    out.field("pcr_policy")
        .optional(pcr_policy.as_ref(), Encoder::pcr_policy);
    out.field("ek_public_pem")
        .optional(ek_public_pem.as_ref(), |e, v| e.string(v));
    out.field("secrets").list(secrets.len());
    for secret in secrets {
        out.secret(secret);
    }
    out.field("approver").string(approver);
    out.field("approved_at").time(approved_at);
    out.field("expires_at")
        .optional(expires_at.as_ref(), Encoder::time);
    out.field("revision").unsigned(*revision);
    out.field("revoked_at")
        .optional(revoked_at.as_ref(), Encoder::time);
    out.field("revoke_reason")
        .optional(revoke_reason.as_ref(), |e, v| e.string(v));
    if let Some(reason) = forced_reason {
        out.field("forced_reason").string(reason);
    }
    out.bytes
}

#[derive(Default)]
struct Encoder {
    bytes: Vec<u8>,
}

impl Encoder {
    fn field(&mut self, name: &str) -> &mut Self {
        self.string(name);
        self
    }

    fn length(&mut self, len: usize) {
        // Lengths beyond u32 cannot occur in a stored approval; saturate rather than wrap.
        let len = u32::try_from(len).unwrap_or(u32::MAX);
        self.bytes.extend_from_slice(&len.to_be_bytes());
    }

    fn string(&mut self, value: &str) {
        self.bytes.push(b's');
        self.length(value.len());
        self.bytes.extend_from_slice(value.as_bytes());
    }

    fn unsigned(&mut self, value: u64) {
        self.bytes.push(b'u');
        self.bytes.extend_from_slice(&value.to_be_bytes());
    }

    fn boolean(&mut self, value: bool) {
        self.bytes.push(b'b');
        self.bytes.push(u8::from(value));
    }

    fn time(&mut self, value: &DateTime<Utc>) {
        self.bytes.push(b't');
        self.bytes
            .extend_from_slice(&value.timestamp_micros().to_be_bytes());
    }

    fn optional<T>(&mut self, value: Option<&T>, encode: impl FnOnce(&mut Self, &T)) {
        match value {
            None => self.bytes.push(b'n'),
            Some(v) => {
                self.bytes.push(b'o');
                encode(self, v);
            }
        }
    }

    fn list(&mut self, count: usize) {
        self.bytes.push(b'l');
        self.length(count);
    }

    fn strings<'a>(&mut self, values: impl ExactSizeIterator<Item = &'a String>) {
        self.list(values.len());
        for value in values {
            self.string(value);
        }
    }

    fn pcr_policy(&mut self, policy: &PcrPolicy) {
        let PcrPolicy { hash_alg, pcrs } = policy;
        self.field("hash_alg").unsigned(u64::from(*hash_alg));
        self.field("pcrs");
        self.bytes.push(b'm');
        self.length(pcrs.len());
        for (index, digest) in pcrs {
            self.unsigned(u64::from(*index));
            self.string(digest);
        }
    }

    fn secret(&mut self, secret: &StoredSecret) {
        let StoredSecret {
            name,
            secret_type,
            protection,
            data,
            plaintext_len,
        } = secret;
        self.field("name").string(name);
        self.field("secret_type").string(secret_type);
        self.field("protection").string(protection);
        self.field("data").string(data);
        self.field("plaintext_len").unsigned(*plaintext_len);
    }
}
