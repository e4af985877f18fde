//! `tokendist certs`: a private CA, a server certificate (SAN = the server name and IPs) and a client
//! certificate, as PEM files with 0600 keys, for demos and tests. Reports the client certificate's
//! serial in the canonical form `network.client_cert` compares (`core::network::normalize_serial`).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use chrono::Datelike as _;
use rand::RngCore as _;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType, SerialNumber, date_time_ymd,
};
use serde::Serialize;
use tokendist_core::network::normalize_serial;

use crate::error::ConsoleError;
use crate::files::{OutputFile, PRIVATE_MODE, PUBLIC_MODE, create_dir, write_all};

/// What `certs` wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertsReport {
    pub ca_cert: PathBuf,
    pub ca_key: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    pub server_name: String,
    pub server_ips: Vec<IpAddr>,
    /// Client certificate serial: lower-case hex, no leading zero bytes.
    pub client_cert_serial: String,
}

fn rcgen_error(what: &str) -> impl Fn(rcgen::Error) -> ConsoleError + '_ {
    move |e| ConsoleError::Failed(format!("could not create the {what}: {e}"))
}

/// A random positive 16-byte serial (top bit clear, never all zero).
fn random_serial() -> Vec<u8> {
    let mut bytes = vec![0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes[0] = (bytes[0] & 0x7f) | 0x01;
    bytes
}

fn base_params(common_name: &str, sans: Vec<SanType>) -> CertificateParams {
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "tokendist demo");
    params.subject_alt_names = sans;
    params.serial_number = Some(SerialNumber::from_slice(&random_serial()));
    let year = chrono::Utc::now().year();
    params.not_before = date_time_ymd(year - 1, 1, 1);
    params.not_after = date_time_ymd(year + 10, 1, 1);
    params
}

/// Creates the CA, server and client certificates in `dir`.
pub fn create(
    dir: &Path,
    server_name: &str,
    ips: &[IpAddr],
    force: bool,
) -> Result<CertsReport, ConsoleError> {
    let dns = server_name
        .to_owned()
        .try_into()
        .map_err(|e| ConsoleError::Usage(format!("--server-name {server_name:?}: {e}")))?;
    let mut server_sans = vec![SanType::DnsName(dns)];
    server_sans.extend(ips.iter().copied().map(SanType::IpAddress));

    let ca_key = KeyPair::generate().map_err(rcgen_error("CA key"))?;
    let mut ca_params = base_params("tokendist demo CA", Vec::new());
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params
        .self_signed(&ca_key)
        .map_err(rcgen_error("CA certificate"))?;
    let issuer = Issuer::from_params(&ca_params, &ca_key);

    let server_key = KeyPair::generate().map_err(rcgen_error("server key"))?;
    let mut server_params = base_params(server_name, server_sans);
    server_params.is_ca = IsCa::ExplicitNoCa;
    server_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_cert = server_params
        .signed_by(&server_key, &issuer)
        .map_err(rcgen_error("server certificate"))?;

    let client_key = KeyPair::generate().map_err(rcgen_error("client key"))?;
    let client_serial = random_serial();
    let mut client_params = base_params("tokenclient", Vec::new());
    client_params.serial_number = Some(SerialNumber::from_slice(&client_serial));
    client_params.is_ca = IsCa::ExplicitNoCa;
    client_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_cert = client_params
        .signed_by(&client_key, &issuer)
        .map_err(rcgen_error("client certificate"))?;

    create_dir(dir)?;
    let report = CertsReport {
        ca_cert: dir.join("ca.pem"),
        ca_key: dir.join("ca.key"),
        server_cert: dir.join("server.pem"),
        server_key: dir.join("server.key"),
        client_cert: dir.join("client.pem"),
        client_key: dir.join("client.key"),
        server_name: server_name.to_owned(),
        server_ips: ips.to_vec(),
        client_cert_serial: normalize_serial(&hex::encode(&client_serial)),
    };
    let (ca_pem, server_pem, client_pem) = (ca_cert.pem(), server_cert.pem(), client_cert.pem());
    let ca_key_pem = zeroize::Zeroizing::new(ca_key.serialize_pem());
    let server_key_pem = zeroize::Zeroizing::new(server_key.serialize_pem());
    let client_key_pem = zeroize::Zeroizing::new(client_key.serialize_pem());
    fn file<'a>(path: &Path, contents: &'a str, mode: u32) -> OutputFile<'a> {
        OutputFile {
            path: path.to_path_buf(),
            contents: contents.as_bytes(),
            mode,
        }
    }
    write_all(
        &[
            file(&report.ca_cert, &ca_pem, PUBLIC_MODE),
            file(&report.ca_key, &ca_key_pem, PRIVATE_MODE),
            file(&report.server_cert, &server_pem, PUBLIC_MODE),
            file(&report.server_key, &server_key_pem, PRIVATE_MODE),
            file(&report.client_cert, &client_pem, PUBLIC_MODE),
            file(&report.client_key, &client_key_pem, PRIVATE_MODE),
        ],
        force,
    )?;
    Ok(report)
}

/// Human-readable summary.
pub fn render(report: &CertsReport) -> String {
    let ips: Vec<String> = report.server_ips.iter().map(ToString::to_string).collect();
    format!(
        "CA:     {} (key {})\nserver: {} (key {}), names: {} {}\nclient: {} (key {})\nclient certificate serial: {}\n",
        report.ca_cert.display(),
        report.ca_key.display(),
        report.server_cert.display(),
        report.server_key.display(),
        report.server_name,
        ips.join(" "),
        report.client_cert.display(),
        report.client_key.display(),
        report.client_cert_serial
    )
}
