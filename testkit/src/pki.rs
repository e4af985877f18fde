//! Test certificates made with rcgen: one CA, a server certificate for 127.0.0.1/localhost, and client
//! certificates with chosen serial numbers (what `network.client_cert` pins).

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType, SerialNumber,
};

/// The CA and the server's certificate, written as PEM files in a directory.
pub struct Pki {
    issuer: Issuer<'static, KeyPair>,
    pub ca_pem: String,
    pub ca_path: PathBuf,
    pub server_cert_path: PathBuf,
    pub server_key_path: PathBuf,
}

impl std::fmt::Debug for Pki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pki")
            .field("ca_path", &self.ca_path)
            .field("server_cert_path", &self.server_cert_path)
            .finish_non_exhaustive()
    }
}

/// A client certificate and its key (PEM) and its serial as the server reports it (lower-case hex).
#[derive(Clone)]
pub struct ClientIdentity {
    pub cert_pem: String,
    pub key_pem: String,
    pub serial_hex: String,
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("serial_hex", &self.serial_hex)
            .finish_non_exhaustive()
    }
}

impl Pki {
    /// Creates the CA and the server certificate under `dir`.
    pub fn create(dir: &Path) -> Pki {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "tokendist test CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate().unwrap();
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);

        let mut server_params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        server_params
            .subject_alt_names
            .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
        server_params
            .distinguished_name
            .push(DnType::CommonName, "tokenserver");
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_key = KeyPair::generate().unwrap();
        let server_cert = server_params.signed_by(&server_key, &issuer).unwrap();

        let ca_path = dir.join("ca.pem");
        let server_cert_path = dir.join("server.pem");
        let server_key_path = dir.join("server.key");
        std::fs::write(&ca_path, ca_cert.pem()).unwrap();
        std::fs::write(&server_cert_path, server_cert.pem()).unwrap();
        std::fs::write(&server_key_path, server_key.serialize_pem()).unwrap();
        Pki {
            issuer,
            ca_pem: ca_cert.pem(),
            ca_path,
            server_cert_path,
            server_key_path,
        }
    }

    /// A client certificate issued by the CA with serial number `serial` (big-endian bytes).
    pub fn client(&self, serial: &[u8]) -> ClientIdentity {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "tokenclient");
        params.serial_number = Some(SerialNumber::from_slice(serial));
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        ClientIdentity {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            serial_hex: tokendist_core::network::normalize_serial(&hex::encode(serial)),
        }
    }
}
