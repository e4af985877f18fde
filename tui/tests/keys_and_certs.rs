//! `tokendist keygen` and `tokendist certs`, run as the real binary: file modes, key formats,
//! refusal to overwrite, and a certificate chain that verifies for server and client use.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::os::unix::fs::PermissionsExt as _;
use std::sync::Arc;

use rustls::client::danger::ServerCertVerifier as _;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use support::Console;
use tokendist_core::keys;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn keygen_writes_a_0600_pkcs8_key_and_its_public_key_and_prints_the_key_id() {
    let console = Console::without_sim(None);
    let run = console
        .run(&["keygen", "--out", &console.arg("alice")])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(mode(&console.path("alice.key")), 0o600);
    let private = keys::ed25519_private_from_pem(
        &std::fs::read_to_string(console.path("alice.key")).unwrap(),
    )
    .unwrap();
    let public =
        keys::ed25519_public_from_pem(&std::fs::read_to_string(console.path("alice.pub")).unwrap())
            .unwrap();
    assert_eq!(private.verifying_key(), public);
    assert!(
        run.stdout.contains(&keys::key_id(public.as_bytes())),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&support::b64_bytes(public.as_bytes())),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn keygen_refuses_to_overwrite_an_existing_key_unless_forced() {
    let console = Console::without_sim(None);
    let out = console.arg("alice");
    assert_eq!(console.run(&["keygen", "--out", &out]).await.code, 0);
    let before = std::fs::read(console.path("alice.key")).unwrap();
    let again = console.run(&["keygen", "--out", &out]).await;
    assert_eq!(again.code, 1, "{again:?}");
    assert!(
        again.stderr.contains("already exists") && again.stderr.contains("--force"),
        "{}",
        again.stderr
    );
    assert_eq!(
        std::fs::read(console.path("alice.key")).unwrap(),
        before,
        "the key must be untouched"
    );
    let forced = console.run(&["keygen", "--out", &out, "--force"]).await;
    assert_eq!(forced.code, 0, "{forced:?}");
    assert_ne!(std::fs::read(console.path("alice.key")).unwrap(), before);
    assert_eq!(mode(&console.path("alice.key")), 0o600);
}

#[tokio::test]
async fn keygen_server_writes_receipt_and_secrets_key_pairs() {
    let console = Console::without_sim(None);
    let run = console
        .run(&[
            "keygen",
            "--server",
            "--out",
            &console.arg("server"),
            "--json",
        ])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    let reports = run.json();
    assert_eq!(reports[0]["role"], "receipt");
    assert_eq!(reports[1]["role"], "secrets");
    assert_eq!(reports[1]["algorithm"], "x25519");
    for name in ["receipt.key", "secrets.key"] {
        assert_eq!(
            mode(&console.path(&format!("server/{name}"))),
            0o600,
            "{name}"
        );
    }
    let receipt = keys::ed25519_private_from_pem(
        &std::fs::read_to_string(console.path("server/receipt.key")).unwrap(),
    )
    .unwrap();
    let receipt_pub = keys::ed25519_public_from_pem(
        &std::fs::read_to_string(console.path("server/receipt.pub")).unwrap(),
    )
    .unwrap();
    assert_eq!(receipt.verifying_key(), receipt_pub);
    let secrets = keys::x25519_private_from_pem(
        &std::fs::read_to_string(console.path("server/secrets.key")).unwrap(),
    )
    .unwrap();
    let secrets_pub = keys::x25519_public_from_pem(
        &std::fs::read_to_string(console.path("server/secrets.pub")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        tokendist_core::server_seal::public_of(&secrets).unwrap(),
        secrets_pub
    );
    assert_eq!(reports[1]["key_id"], keys::key_id(&secrets_pub));
    // A second run refuses, naming the first file that exists.
    let again = console
        .run(&["keygen", "--server", "--out", &console.arg("server")])
        .await;
    assert_eq!(again.code, 1, "{again:?}");
    assert!(
        again.stderr.contains("receipt.key already exists"),
        "{}",
        again.stderr
    );
}

fn cert(console: &Console, name: &str) -> CertificateDer<'static> {
    CertificateDer::from_pem_file(console.path(name)).unwrap()
}

#[tokio::test]
async fn certs_produce_a_chain_that_verifies_for_the_server_name_ip_and_client() {
    let console = Console::without_sim(None);
    let run = console
        .run(&[
            "certs",
            "--out",
            &console.arg("certs"),
            "--server-name",
            "tokenserver.alice.example",
            "--ip",
            "127.0.0.1",
        ])
        .await;
    assert_eq!(run.code, 0, "{run:?}");
    for key in ["ca.key", "server.key", "client.key"] {
        assert_eq!(mode(&console.path(&format!("certs/{key}"))), 0o600, "{key}");
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert(&console, "certs/ca.pem")).unwrap();
    let roots = Arc::new(roots);
    let server_verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
        roots.clone(),
        provider.clone(),
    )
    .build()
    .unwrap();
    let server = cert(&console, "certs/server.pem");
    for name in ["tokenserver.alice.example", "127.0.0.1"] {
        server_verifier
            .verify_server_cert(
                &server,
                &[],
                &ServerName::try_from(name).unwrap(),
                &[],
                UnixTime::now(),
            )
            .unwrap_or_else(|e| panic!("server cert does not verify for {name}: {e}"));
    }
    assert!(
        server_verifier
            .verify_server_cert(
                &server,
                &[],
                &ServerName::try_from("evil.example").unwrap(),
                &[],
                UnixTime::now()
            )
            .is_err(),
        "the server certificate must not be valid for other names"
    );
    let client_verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(roots, provider)
            .build()
            .unwrap();
    let client = cert(&console, "certs/client.pem");
    client_verifier
        .verify_client_cert(&client, &[], UnixTime::now())
        .unwrap();

    let (_, parsed) = x509_parser::parse_x509_certificate(&client).unwrap();
    let serial =
        tokendist_core::network::normalize_serial(&hex_encode(parsed.tbs_certificate.raw_serial()));
    assert!(
        run.stdout
            .contains(&format!("client certificate serial: {serial}")),
        "{}",
        run.stdout
    );

    let again = console
        .run(&["certs", "--out", &console.arg("certs")])
        .await;
    assert_eq!(again.code, 1, "{again:?}");
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
