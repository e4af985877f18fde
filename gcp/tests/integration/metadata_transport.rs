//! The metadata client against servers that misbehave (a raw TCP listener answering by hand):
//! an endless body is cut at its bound, a proxy's answer without the Google flavor is refused, a
//! server that never answers is unreachable within the timeout, and the query is percent-encoded on
//! the wire.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use tokendist_gcp::{GcpConfig, MetadataClient, MetadataError};

/// A one-connection server: reads the request head, sends `answer`, returns the request it read.
async fn serve_once(answer: Vec<u8>) -> (String, tokio::task::JoinHandle<String>) {
    let (address, request) = tokendist_testkit::raw_http::serve_one_request(answer).await;
    (address.to_string(), request)
}

fn client(address: &str, timeout_ms: u64) -> MetadataClient {
    MetadataClient::new(&GcpConfig {
        metadata_host: address.to_owned(),
        request_timeout_ms: timeout_ms,
        ..GcpConfig::default()
    })
    .unwrap()
}

#[tokio::test]
async fn the_request_carries_the_flavor_header_and_an_encoded_query() {
    let token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
    let answer = format!(
        "HTTP/1.1 200 OK\r\nMetadata-Flavor: Google\r\nContent-Length: {}\r\n\r\n{token}",
        token.len()
    );
    let (address, request) = serve_once(answer.into_bytes()).await;
    let got = client(&address, 5_000)
        .identity_token("https://tokens.example/session/ab&c=d", true)
        .await
        .unwrap();
    assert_eq!(got.as_str(), token);
    let request = request.await.unwrap();
    let first_line = request.lines().next().unwrap();
    assert_eq!(
        first_line,
        "GET /computeMetadata/v1/instance/service-accounts/default/identity?audience=https%3A%2F%2Ftokens.example%2Fsession%2Fab%26c%3Dd&format=full&licenses=TRUE HTTP/1.1"
    );
    assert!(
        request
            .to_ascii_lowercase()
            .contains("metadata-flavor: google"),
        "{request}"
    );
}

/// The reason of the `Garbage` error an instance-id request gets when the server sends `answer`.
async fn garbage_reason(answer: Vec<u8>) -> String {
    let (address, _) = serve_once(answer).await;
    match client(&address, 5_000).instance_id().await {
        Err(MetadataError::Garbage { reason, .. }) => reason,
        other => panic!("expected Garbage, got {other:?}"),
    }
}

#[tokio::test]
async fn an_answer_without_the_google_flavor_is_refused() {
    let answer =
        b"HTTP/1.1 200 OK\r\nMetadata-Flavor: Proxy\r\nContent-Length: 4\r\n\r\n1234".to_vec();
    let reason = garbage_reason(answer).await;
    assert!(reason.contains("Metadata-Flavor"), "{reason}");
}

#[tokio::test]
async fn an_oversized_body_is_cut_at_its_bound() {
    let mut answer =
        b"HTTP/1.1 200 OK\r\nMetadata-Flavor: Google\r\nContent-Length: 1000000\r\n\r\n".to_vec();
    answer.extend(std::iter::repeat_n(b'7', 1_000_000));
    let reason = garbage_reason(answer).await;
    assert!(reason.contains("reading the body"), "{reason}");
}

#[tokio::test]
async fn a_server_that_never_answers_is_unreachable_within_the_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    // Accepts and holds the connection without a byte of answer.
    let _held = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(stream);
    });
    let started = Instant::now();
    let error = client(&address, 300).instance_id().await.unwrap_err();
    assert!(
        matches!(&error, MetadataError::Unreachable { reason, .. } if reason.contains("300 ms")),
        "{error:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn a_garbled_status_line_is_unreachable_not_a_panic() {
    let (address, _) = serve_once(b"SSH-2.0-OpenSSH_9.2\r\n\r\n".to_vec()).await;
    let error = client(&address, 5_000).project_id().await.unwrap_err();
    assert!(
        matches!(error, MetadataError::Unreachable { .. }),
        "{error:?}"
    );
}
