//! The PEM files of both daemons' TLS settings, read and checked the same way at start and by
//! `--check-config`: certificates parse, are valid now (the dates are named when not), a chain runs
//! from the leaf to its issuers by signature, and a private key belongs to its certificate.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use x509_parser::prelude::{ASN1Time, FromDer, X509Certificate};

/// A PEM file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PemError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} holds no PEM {expected}")]
    NoPem {
        path: PathBuf,
        expected: &'static str,
    },
    #[error("{path}: certificate #{index} does not parse: {reason}")]
    Unparsable {
        path: PathBuf,
        index: usize,
        reason: String,
    },
    #[error("{path}: certificate #{index} ({subject}) is not valid before {not_before}")]
    NotYetValid {
        path: PathBuf,
        index: usize,
        subject: String,
        not_before: String,
    },
    #[error("{path}: certificate #{index} ({subject}) expired on {not_after}")]
    Expired {
        path: PathBuf,
        index: usize,
        subject: String,
        not_after: String,
    },
    #[error(
        "{path}: certificate #{index} ({subject}) is not signed by the next one in the file: {reason}"
    )]
    BrokenChain {
        path: PathBuf,
        index: usize,
        subject: String,
        reason: String,
    },
    #[error("{key} does not belong to the certificate in {certificate}: {reason}")]
    KeyMismatch {
        key: PathBuf,
        certificate: PathBuf,
        reason: String,
    },
}

fn read(path: &Path) -> Result<Vec<u8>, PemError> {
    std::fs::read(path).map_err(|source| PemError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Every certificate of the PEM file `path`, in file order; a file with none is refused.
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, PemError> {
    let bytes = read(path)?;
    let certificates: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
        .filter_map(Result::ok)
        .collect();
    if certificates.is_empty() {
        return Err(PemError::NoPem {
            path: path.to_path_buf(),
            expected: "CERTIFICATE",
        });
    }
    Ok(certificates)
}

/// The private key of the PEM file `path` (PKCS#8, SEC1 or PKCS#1).
pub fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, PemError> {
    let bytes = read(path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|_| PemError::NoPem {
        path: path.to_path_buf(),
        expected: "PRIVATE KEY",
    })
}

/// What is wrong with the certificates read from `path` at time `now`: each must parse and be
/// valid; with `chain`, each must be signed by the next one in the file (a leaf then its issuers).
pub fn certificate_problems(
    path: &Path,
    certificates: &[CertificateDer<'_>],
    now: SystemTime,
    chain: bool,
) -> Vec<PemError> {
    let seconds = now
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let Ok(at) = ASN1Time::from_timestamp(seconds) else {
        return Vec::new();
    };
    let mut parsed = Vec::new();
    let mut problems = Vec::new();
    for (index, der) in certificates.iter().enumerate() {
        match X509Certificate::from_der(der.as_ref()) {
            Ok((_, certificate)) => parsed.push((index, certificate)),
            Err(error) => problems.push(PemError::Unparsable {
                path: path.to_path_buf(),
                index,
                reason: error.to_string(),
            }),
        }
    }
    for (index, certificate) in &parsed {
        let validity = certificate.validity();
        let subject = certificate.subject().to_string();
        if at < validity.not_before {
            problems.push(PemError::NotYetValid {
                path: path.to_path_buf(),
                index: *index,
                subject,
                not_before: validity.not_before.to_string(),
            });
        } else if at > validity.not_after {
            problems.push(PemError::Expired {
                path: path.to_path_buf(),
                index: *index,
                subject,
                not_after: validity.not_after.to_string(),
            });
        }
    }
    if chain {
        for pair in parsed.windows(2) {
            let [(index, child), (_, issuer)] = pair else {
                continue;
            };
            if let Err(error) = child.verify_signature(Some(issuer.public_key())) {
                problems.push(PemError::BrokenChain {
                    path: path.to_path_buf(),
                    index: *index,
                    subject: child.subject().to_string(),
                    reason: error.to_string(),
                });
            }
        }
    }
    problems
}

/// Checks that `key` (read from `key_path`) is the private key of the first of `chain` (read from
/// `certificate_path`).
pub fn check_key_matches(
    certificate_path: &Path,
    chain: &[CertificateDer<'static>],
    key_path: &Path,
    key: &PrivateKeyDer<'static>,
) -> Result<(), PemError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    rustls::sign::CertifiedKey::from_der(chain.to_vec(), key.clone_key(), &provider)
        .map(|_| ())
        .map_err(|error| PemError::KeyMismatch {
            key: key_path.to_path_buf(),
            certificate: certificate_path.to_path_buf(),
            reason: error.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// A CA and a leaf it issued, as PEM (leaf first), and the leaf's key.
    fn leaf_and_ca() -> (String, String, String) {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["server".to_string()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        (leaf.pem(), ca.pem(), leaf_key.serialize_pem())
    }

    #[test]
    fn a_chain_in_order_with_its_key_passes_and_reversed_it_breaks() {
        let dir = tempfile::tempdir().unwrap();
        let (leaf, ca, key) = leaf_and_ca();
        let good = write(dir.path(), "chain.pem", &format!("{leaf}{ca}"));
        let key_path = write(dir.path(), "key.pem", &key);
        let chain = read_certificates(&good).unwrap();
        assert!(certificate_problems(&good, &chain, SystemTime::now(), true).is_empty());
        let key = read_private_key(&key_path).unwrap();
        check_key_matches(&good, &chain, &key_path, &key).unwrap();

        let reversed = write(dir.path(), "reversed.pem", &format!("{ca}{leaf}"));
        let chain = read_certificates(&reversed).unwrap();
        let problems = certificate_problems(&reversed, &chain, SystemTime::now(), true);
        assert!(
            matches!(
                problems.as_slice(),
                [PemError::BrokenChain { index: 0, .. }]
            ),
            "{problems:?}"
        );
        assert!(check_key_matches(&reversed, &chain, &key_path, &key).is_err());
    }

    #[test]
    fn an_expired_or_not_yet_valid_certificate_is_named_with_its_date() {
        let dir = tempfile::tempdir().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["old".to_string()]).unwrap();
        params.not_before = rcgen::date_time_ymd(1999, 1, 1);
        params.not_after = rcgen::date_time_ymd(2000, 1, 1);
        let old = params
            .self_signed(&rcgen::KeyPair::generate().unwrap())
            .unwrap();
        let path = write(dir.path(), "old.pem", &old.pem());
        let chain = read_certificates(&path).unwrap();
        let problems = certificate_problems(&path, &chain, SystemTime::now(), false);
        assert!(
            matches!(problems.as_slice(), [PemError::Expired { .. }]),
            "{problems:?}"
        );
        let text = problems[0].to_string();
        assert!(
            text.contains("expired on") && text.contains("2000"),
            "{text}"
        );
        let problems = certificate_problems(&path, &chain, UNIX_EPOCH, false);
        assert!(
            matches!(problems.as_slice(), [PemError::NotYetValid { .. }]),
            "{problems:?}"
        );
    }

    #[test]
    fn a_file_without_pem_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "x.pem", "hello");
        let error = read_certificates(&path).unwrap_err();
        assert!(matches!(error, PemError::NoPem { .. }), "{error}");
        assert!(matches!(
            read_private_key(&path),
            Err(PemError::NoPem { .. })
        ));
    }
}
