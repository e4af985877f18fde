//! What `tokenclient` checks before it runs, shared by the start and `--check-config[=basic|full]`:
//! the TLS files (the server CA, and with mTLS the client certificate and its key: parse, dates, key
//! against certificate), the endpoint and metadata settings, and that the secrets directory and the
//! socket's directory accept files. `full` also connects to the TPM (when enabled) and to the token
//! server (TCP and the TLS handshake against the pinned CA). Every failure names its setting.

use std::path::Path;
use std::time::SystemTime;

use tokendist_daemon_kit::config::{CheckDepth, Origins, Problems};
use tokendist_daemon_kit::pem_files;
use tokendist_daemon_kit::writable::check_dir_writable;

use crate::config::{ClientConfig, ConfigSources};
use crate::identity::TokenSource;
use crate::transport::{ConnectError, ServerEndpoint};

/// Checks every file and local setting the start uses, as of `now`.
pub fn check_files(config: &ClientConfig, origins: &Origins, now: SystemTime) -> Problems {
    let mut problems = Problems::default();
    if let Some(cas) = problems.note(
        "tls.ca",
        origins,
        pem_files::read_certificates(&config.tls.ca),
    ) {
        for problem in pem_files::certificate_problems(&config.tls.ca, &cas, now, false) {
            problems.add("tls.ca", origins, problem);
        }
    }
    if let (true, Some(cert), Some(key)) = (
        config.tls.mtls,
        &config.tls.client_cert,
        &config.tls.client_key,
    ) {
        check_identity(cert, key, origins, now, &mut problems);
    }
    if problems.is_empty() {
        problems.note("address", origins, ServerEndpoint::new(config));
    }
    problems.note(
        "metadata_host",
        origins,
        TokenSource::new(&config.metadata_host, &config.audience),
    );
    problems.note(
        "delivery.dir",
        origins,
        check_dir_writable(&config.delivery.dir),
    );
    let socket_dir = config
        .delivery
        .socket
        .parent()
        .filter(|_| !config.delivery.socket.as_os_str().is_empty());
    if let Some(dir) = socket_dir {
        problems.note("delivery.socket", origins, check_dir_writable(dir));
    }
    problems
}

fn check_identity(
    cert_path: &Path,
    key_path: &Path,
    origins: &Origins,
    now: SystemTime,
    problems: &mut Problems,
) {
    let chain = problems.note(
        "tls.client_cert",
        origins,
        pem_files::read_certificates(cert_path),
    );
    if let Some(chain) = &chain {
        for problem in pem_files::certificate_problems(cert_path, chain, now, true) {
            problems.add("tls.client_cert", origins, problem);
        }
    }
    let key = problems.note(
        "tls.client_key",
        origins,
        pem_files::read_private_key(key_path),
    );
    if let (Some(chain), Some(key)) = (chain, key) {
        let matches = pem_files::check_key_matches(cert_path, &chain, key_path, &key);
        problems.note("tls.client_key", origins, matches);
    }
}

/// `--check-config`: the start's checks, and with `full` the TPM and the token server reached.
/// `Ok` carries the summary lines to print.
pub async fn run(
    config: &ClientConfig,
    sources: &ConfigSources,
    depth: CheckDepth,
) -> Result<Vec<String>, Problems> {
    let origins = ClientConfig::origins(sources);
    let mut problems = check_files(config, &origins, SystemTime::now());
    let tpm = match config.tpm.enabled {
        true => config.tpm.tcti.as_str(),
        false => "off",
    };
    let mut summary = vec![
        format!(
            "configuration OK: server {} (name {}), audience {}, TPM {}, secrets in {}",
            config.address,
            config.effective_server_name(),
            config.audience,
            tpm,
            config.delivery.dir.display()
        ),
        format!(
            "checked: server CA{}, metadata server setting, secrets directory{}",
            if config.tls.mtls {
                ", client certificate and key"
            } else {
                ""
            },
            if config.delivery.socket.as_os_str().is_empty() {
                ""
            } else {
                " and socket directory"
            }
        ),
    ];
    if depth == CheckDepth::Full && problems.is_empty() {
        if config.tpm.enabled {
            let tpm = tokendist_tpm::TpmHandle::connect(tokendist_tpm::TpmConfig::new(
                config.tpm.tcti.as_str(),
            ))
            .await;
            if problems.note("tpm.tcti", &origins, tpm).is_some() {
                summary.push(format!("checked: TPM {} answers", config.tpm.tcti));
            }
        }
        check_server(config, &origins, &mut problems, &mut summary).await;
    }
    problems.or_value(Some(summary))
}

async fn check_server(
    config: &ClientConfig,
    origins: &Origins,
    problems: &mut Problems,
    summary: &mut Vec<String>,
) {
    let Some(endpoint) = problems.note("address", origins, ServerEndpoint::new(config)) else {
        return;
    };
    match endpoint.connect().await {
        Ok(_) => summary.push(format!(
            "checked: token server {} reached; its certificate verifies",
            config.address
        )),
        Err(error @ ConnectError::Untrusted { .. }) => problems.add("tls.ca", origins, error),
        Err(error @ ConnectError::Unreachable { .. }) => problems.add("address", origins, error),
    }
}
