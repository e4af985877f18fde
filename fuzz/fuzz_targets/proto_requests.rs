//! Fuzzes the requests the token server accepts (`tokendist.v1` `BeginSessionRequest`,
//! `AttestRequest`, `ProveRequest`, `TokenRequest`): the first byte picks the message, the rest is
//! decoded with prost, then each field goes through the checks the server's handlers apply to it
//! (tokendist-server itself is not linked: see Cargo.toml): the session id's form
//! (`sessions::requested_id`), the EK and AK TPM2B_PUBLIC (`attest::parse_public` =
//! `TpmtPublic::from_tpm2b`, `check_ak_template`, the AK's Name, `make_credential` to the EK), the
//! quote (`marshal::tpm2b_content`, `prove::reported_values`' 32-byte rule, `verify_quote` against
//! the seed AK and a fixed nonce). Never panics; every decoded message re-encodes to bytes that
//! decode to the same message.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use prost::Message;
use tokendist_core::tpm::{TpmtPublic, check_ak_template, make_credential, marshal, verify_quote};
use tokendist_proto::v1 as pb;

/// The AK the seeds' quotes are signed with (`seeds/tpm2b_public/ak`).
const AK: &[u8] = include_bytes!("../seeds/tpm2b_public/ak");

fn round_trip<M: Message + Default + PartialEq + std::fmt::Debug>(message: &M) {
    let again = M::decode(message.encode_to_vec().as_slice()).unwrap();
    assert_eq!(&again, message);
}

/// `sessions::requested_id`: 32 hex digits after trimming, or refused.
fn requested_id(session_id: &str) -> Option<&str> {
    let id = session_id.trim();
    (id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit())).then_some(id)
}

/// `attest::parse_public`.
fn parse_public(bytes: &[u8]) -> Option<TpmtPublic> {
    if bytes.is_empty() {
        return None;
    }
    TpmtPublic::from_tpm2b(bytes).ok()
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    match selector % 4 {
        0 => {
            if let Ok(request) = pb::BeginSessionRequest::decode(bytes) {
                round_trip(&request);
                let _ = tokendist_core::terminal_text::printable_line(&request.client_version);
            }
        }
        1 => {
            let Ok(request) = pb::AttestRequest::decode(bytes) else {
                return;
            };
            round_trip(&request);
            let _ = requested_id(&request.session_id);
            let ek = parse_public(&request.ek_public);
            let ak = parse_public(&request.ak_public);
            if let Some(ek) = &ek {
                let _ = tokendist_core::tpm::ek_public_to_pem(ek);
            }
            if let Some(ak) = &ak
                && check_ak_template(ak).is_ok()
                && let Ok(name) = ak.name()
                && let Some(ek) = &ek
            {
                let _ = make_credential(ek, &name, &[1; 32], [2; 32]);
            }
        }
        2 => {
            let Ok(request) = pb::ProveRequest::decode(bytes) else {
                return;
            };
            round_trip(&request);
            let _ = requested_id(&request.session_id);
            let Ok(attest) = marshal::tpm2b_content(&request.quote_attest, "TPM2B_ATTEST") else {
                return;
            };
            if request.pcr_values.values().any(|v| v.len() != 32) {
                return;
            }
            let reported: BTreeMap<u32, Vec<u8>> = request
                .pcr_values
                .iter()
                .map(|(index, value)| (*index, value.clone()))
                .collect();
            let ak = TpmtPublic::from_tpm2b(AK).unwrap();
            let _ = verify_quote(
                &ak,
                attest,
                &request.quote_signature,
                &[0xab; 32],
                &reported,
            );
        }
        _ => {
            if let Ok(request) = pb::TokenRequest::decode(bytes) {
                round_trip(&request);
                let _ = requested_id(&request.session_id);
            }
        }
    }
});
