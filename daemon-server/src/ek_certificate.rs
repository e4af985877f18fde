//! The EK-certificate rule of `tpm.ek`: with `tpm.ek_ca_roots` configured, a client's EK certificate
//! is accepted in place of the Compute API's shielded identity when
//! 1. it is within its validity period, and its RSA key equals the EK the client presented;
//! 2. it chains to a self-signed root in the configured files: each link is a CA certificate from
//!    those files (roots and intermediates alike, within validity) whose subject is the child's issuer
//!    and whose key verifies the child's signature; at most [`MAX_CHAIN`] links; nothing is fetched
//!    (no AIA), and revocation is not checked;
//! 3. when it carries Google's instance-info extension (OID 1.3.6.1.4.1.11129.2.1.21), the instance
//!    id there equals the caller's. Certificates without it (swtpm's, other vendors') are bound to the
//!    instance only through the session, which the caller's identity token opened.

use std::path::Path;

use chrono::{DateTime, Utc};
use tokendist_core::tpm::TpmtPublic;
use x509_parser::certificate::X509Certificate;
use x509_parser::der_parser::oid::Oid;
use x509_parser::prelude::{ASN1Time, FromDer};
use x509_parser::public_key::PublicKey;

/// Longest chain followed from the EK certificate to a root.
pub const MAX_CHAIN: usize = 5;

/// Google's GCE instance-info extension in vTPM EK/AK certificates.
const GCE_INSTANCE_INFO: &[u64] = &[1, 3, 6, 1, 4, 1, 11129, 2, 1, 21];

/// Why an EK certificate does not vouch for the presented EK. Every variant is a `tpm.ek` reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EkCertificateError {
    #[error("the EK certificate is not DER X.509: {0}")]
    Malformed(String),
    #[error("the EK certificate is outside its validity period")]
    Expired,
    #[error("the EK certificate's key is not the EK the client presented")]
    KeyMismatch,
    #[error("the EK certificate does not chain to a configured EK CA root ({0})")]
    NoChain(String),
    #[error("the EK certificate names instance {found}, not the caller's")]
    OtherInstance { found: String },
    #[error("the EK certificate's instance-info extension is malformed")]
    InstanceInfo,
}

/// Why `tpm.ek_ca_roots` cannot be loaded (a configuration error).
#[derive(Debug, thiserror::Error)]
pub enum EkCaLoadError {
    #[error("cannot read EK CA file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("EK CA file {path} holds no usable PEM CERTIFICATE: {reason}")]
    Invalid { path: String, reason: String },
}

/// Reads every PEM CERTIFICATE of `paths` (DER each), refusing files that hold none or that do not
/// parse, so that a mistyped path fails at start (or reload) and not at the first attestation.
pub fn load_ek_ca(paths: &[impl AsRef<Path>]) -> Result<Vec<Vec<u8>>, EkCaLoadError> {
    let mut certificates = Vec::new();
    for path in paths {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let text = std::fs::read(path).map_err(|source| EkCaLoadError::Read {
            path: shown.clone(),
            source,
        })?;
        let invalid = |reason: String| EkCaLoadError::Invalid {
            path: shown.clone(),
            reason,
        };
        let mut found = 0usize;
        for pem in x509_parser::pem::Pem::iter_from_buffer(&text) {
            let pem = pem.map_err(|e| invalid(e.to_string()))?;
            if pem.label != "CERTIFICATE" {
                continue;
            }
            X509Certificate::from_der(&pem.contents).map_err(|e| invalid(e.to_string()))?;
            certificates.push(pem.contents);
            found += 1;
        }
        if found == 0 {
            return Err(invalid("no certificate found".into()));
        }
    }
    Ok(certificates)
}

/// Checks `certificate_der` against the EK, the configured CA certificates and the caller's instance.
pub fn check(
    certificate_der: &[u8],
    ek: &TpmtPublic,
    ca_certificates: &[Vec<u8>],
    instance_id: &str,
    now: DateTime<Utc>,
) -> Result<(), EkCertificateError> {
    let (_, leaf) = X509Certificate::from_der(certificate_der)
        .map_err(|e| EkCertificateError::Malformed(e.to_string()))?;
    let at = ASN1Time::from_timestamp(now.timestamp())
        .map_err(|e| EkCertificateError::Malformed(e.to_string()))?;
    if !leaf.validity().is_valid_at(at) {
        return Err(EkCertificateError::Expired);
    }
    if !same_rsa_key(&leaf, ek) {
        return Err(EkCertificateError::KeyMismatch);
    }
    let anchors: Vec<X509Certificate<'_>> = ca_certificates
        .iter()
        .filter_map(|der| X509Certificate::from_der(der).ok().map(|(_, cert)| cert))
        .collect();
    chains_to_root(&leaf, &anchors, at)?;
    check_instance(&leaf, instance_id)
}

/// Whether the PEM certificate (as the Compute API serves `encryptionKey.ekCert`) certifies `ek`'s
/// RSA key. Unparseable text certifies nothing.
pub fn pem_certifies(certificate_pem: &str, ek: &TpmtPublic) -> bool {
    x509_parser::pem::Pem::iter_from_buffer(certificate_pem.as_bytes())
        .filter_map(Result::ok)
        .find(|pem| pem.label == "CERTIFICATE")
        .is_some_and(|pem| {
            X509Certificate::from_der(&pem.contents)
                .is_ok_and(|(_, certificate)| same_rsa_key(&certificate, ek))
        })
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

fn same_rsa_key(certificate: &X509Certificate<'_>, ek: &TpmtPublic) -> bool {
    match certificate.public_key().parsed() {
        Ok(PublicKey::RSA(key)) => strip_zeros(key.modulus) == strip_zeros(&ek.unique),
        _ => false,
    }
}

fn chains_to_root(
    leaf: &X509Certificate<'_>,
    anchors: &[X509Certificate<'_>],
    at: ASN1Time,
) -> Result<(), EkCertificateError> {
    if anchors.is_empty() {
        return Err(EkCertificateError::NoChain(
            "no EK CA certificates are configured".into(),
        ));
    }
    let mut current = leaf;
    for _ in 0..MAX_CHAIN {
        let issuer = anchors.iter().find(|candidate| {
            candidate.subject() == current.issuer()
                && candidate.is_ca()
                && candidate.validity().is_valid_at(at)
                && current
                    .verify_signature(Some(candidate.public_key()))
                    .is_ok()
        });
        let Some(issuer) = issuer else {
            return Err(EkCertificateError::NoChain(format!(
                "no configured CA certificate {} signed a certificate in the chain",
                current.issuer()
            )));
        };
        if issuer.subject() == issuer.issuer() {
            return Ok(());
        }
        current = issuer;
    }
    Err(EkCertificateError::NoChain(format!(
        "longer than {MAX_CHAIN} certificates"
    )))
}

fn check_instance(
    certificate: &X509Certificate<'_>,
    instance_id: &str,
) -> Result<(), EkCertificateError> {
    let oid = Oid::from(GCE_INSTANCE_INFO).map_err(|_| EkCertificateError::InstanceInfo)?;
    let Some(extension) = certificate.extensions().iter().find(|e| e.oid == oid) else {
        return Ok(());
    };
    let (_, info) = x509_parser::der_parser::parse_der(extension.value)
        .map_err(|_| EkCertificateError::InstanceInfo)?;
    let found = info
        .as_sequence()
        .ok()
        .and_then(|fields| fields.get(3))
        .and_then(|field| field.as_u64().ok())
        .ok_or(EkCertificateError::InstanceInfo)?
        .to_string();
    if found == instance_id {
        Ok(())
    } else {
        Err(EkCertificateError::OtherInstance { found })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/gce/");
        std::fs::read(format!("{path}{name}")).unwrap()
    }

    fn der_of(pem_name: &str) -> Vec<u8> {
        let text = fixture(pem_name);
        let pem = x509_parser::pem::Pem::iter_from_buffer(&text)
            .next()
            .unwrap()
            .unwrap();
        pem.contents
    }

    fn ek_of(certificate_der: &[u8]) -> TpmtPublic {
        let (_, cert) = X509Certificate::from_der(certificate_der).unwrap();
        let PublicKey::RSA(key) = cert.public_key().parsed().unwrap() else {
            panic!("fixture EK is RSA");
        };
        let mut modulus = strip_zeros(key.modulus).to_vec();
        while modulus.len() < 256 {
            modulus.insert(0, 0);
        }
        TpmtPublic::rsa_ek(modulus)
    }

    fn issued_at(certificate_der: &[u8]) -> DateTime<Utc> {
        let (_, cert) = X509Certificate::from_der(certificate_der).unwrap();
        DateTime::from_timestamp(cert.validity().not_before.timestamp() + 86_400, 0).unwrap()
    }

    const CORE_ESO_INSTANCE: &str = "6524697943022743941";

    fn google_ca() -> Vec<Vec<u8>> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/gce/");
        load_ek_ca(&[
            format!("{dir}tpm-gce-ekak-ca-root.pem"),
            format!("{dir}tpm-gce-ekak-ca-intermediate-ek.pem"),
        ])
        .unwrap()
    }

    #[test]
    fn googles_ek_certificate_chains_to_the_ekak_root_and_names_its_instance() {
        let leaf = der_of("tpm-gce-ekcert-core-eso-instance-1.pem");
        let ek = ek_of(&leaf);
        let now = issued_at(&leaf);
        assert_eq!(
            check(&leaf, &ek, &google_ca(), CORE_ESO_INSTANCE, now),
            Ok(())
        );
        assert_eq!(
            check(&leaf, &ek, &google_ca(), "1", now),
            Err(EkCertificateError::OtherInstance {
                found: CORE_ESO_INSTANCE.into()
            })
        );
    }

    #[test]
    fn a_certificate_without_its_root_configured_does_not_chain() {
        let leaf = der_of("tpm-gce-ekcert-core-eso-instance-1.pem");
        let ek = ek_of(&leaf);
        let only_legacy = vec![der_of("tpm-gce-ek-legacy-root-1.pem")];
        let result = check(
            &leaf,
            &ek,
            &only_legacy,
            CORE_ESO_INSTANCE,
            issued_at(&leaf),
        );
        assert!(
            matches!(result, Err(EkCertificateError::NoChain(_))),
            "{result:?}"
        );
    }

    #[test]
    fn a_certificate_for_another_key_is_a_key_mismatch() {
        let leaf = der_of("tpm-gce-ekcert-core-eso-instance-1.pem");
        let mut ek = ek_of(&leaf);
        if let Some(last) = ek.unique.last_mut() {
            *last ^= 1;
        }
        assert_eq!(
            check(
                &leaf,
                &ek,
                &google_ca(),
                CORE_ESO_INSTANCE,
                issued_at(&leaf)
            ),
            Err(EkCertificateError::KeyMismatch)
        );
    }

    #[test]
    fn garbage_is_malformed_and_an_empty_ca_file_is_refused() {
        let ek = TpmtPublic::rsa_ek(vec![1; 256]);
        assert!(matches!(
            check(b"junk", &ek, &google_ca(), "1", Utc::now()),
            Err(EkCertificateError::Malformed(_))
        ));
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no certificates here\n").unwrap();
        assert!(matches!(
            load_ek_ca(&[empty]),
            Err(EkCaLoadError::Invalid { .. })
        ));
    }
}
