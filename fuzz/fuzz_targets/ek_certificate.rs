//! Fuzzes the server's EK-certificate rule (`tokendist_server::ek_certificate`: X.509 parsing, the
//! chain walk to a configured root, Google's instance-info extension). tokendist-server is not
//! linked (its store pulls Firestore's and SQLite's builds): `ek_certificate.rs` is compiled here
//! from its source, as the secrets-file target does.
//!
//! Input: PEM text (the first CERTIFICATE is the client's EK certificate, the rest the configured
//! CA certificates — the Google fixtures' PEM files fit as they are), or bytes as
//! `[u16 big-endian length][leaf DER][CA DER]`. The EK the client "presented" is the leaf's own RSA
//! key whenever it has one, so the fuzzer reaches the chain and extension checks. Never panics;
//! `check` succeeds only on a chain that ends in a self-signed CA among the given ones.
#![no_main]

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use tokendist_core::tpm::TpmtPublic;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

#[allow(dead_code)]
#[path = "../../daemon-server/src/ek_certificate.rs"]
mod ek_certificate;

/// The caller's instance id the extension is compared with.
const INSTANCE_ID: &str = "8416153451298232531";

fn split(data: &[u8]) -> Option<(Vec<u8>, Vec<Vec<u8>>)> {
    if data.starts_with(b"-----BEGIN") {
        let mut blocks = x509_parser::pem::Pem::iter_from_buffer(data)
            .filter_map(Result::ok)
            .filter(|pem| pem.label == "CERTIFICATE")
            .map(|pem| pem.contents);
        let leaf = blocks.next()?;
        return Some((leaf, blocks.collect()));
    }
    let (length, rest) = data.split_first_chunk::<2>()?;
    let length = usize::from(u16::from_be_bytes(*length)).min(rest.len());
    let (leaf, ca) = rest.split_at(length);
    Some((leaf.to_vec(), vec![ca.to_vec()]))
}

fn presented_ek(leaf: &[u8]) -> TpmtPublic {
    let modulus = X509Certificate::from_der(leaf)
        .ok()
        .and_then(|(_, certificate)| match certificate.public_key().parsed() {
            Ok(PublicKey::RSA(key)) => Some(key.modulus.to_vec()),
            _ => None,
        })
        .unwrap_or_else(|| vec![0xC5; 256]);
    TpmtPublic::rsa_ek(modulus)
}

fuzz_target!(|data: &[u8]| {
    let Some((leaf, ca)) = split(data) else {
        return;
    };
    let ek = presented_ek(&leaf);
    let now = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
    let verdict = ek_certificate::check(&leaf, &ek, &ca, INSTANCE_ID, now);
    if verdict.is_ok() {
        // Accepted: the leaf parsed, and some given certificate is a self-signed CA.
        assert!(X509Certificate::from_der(&leaf).is_ok());
        assert!(ca.iter().any(|der| X509Certificate::from_der(der)
            .is_ok_and(|(_, c)| c.is_ca() && c.subject() == c.issuer())));
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ek_certificate::pem_certifies(text, &ek);
    }
});
