//! The metadata server's transport: one plain HTTP/1.1 GET per request over hyper (already linked
//! for gRPC), with a timeout and a bounded body. The metadata server speaks plain HTTP on a
//! link-local address, so no TLS, redirects, proxies, cookies, compression or charset handling is
//! needed — which is why tokenclient does not link reqwest and what it brings.

use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

/// The largest answer read (an identity token with licence codes is about 1.5 KiB).
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Where the metadata server listens: `host[:port]` (port 80 by default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MetadataEndpoint {
    host: String,
    port: u16,
}

impl MetadataEndpoint {
    /// Parses `host`, `host:port`, `http://host[:port]` (a trailing `/` is ignored). `https://` is
    /// refused: the metadata server is plain HTTP.
    pub(crate) fn parse(configured: &str) -> Result<Self, String> {
        let trimmed = configured.trim().trim_end_matches('/');
        if trimmed.starts_with("https://") {
            return Err(format!(
                "{configured:?}: the metadata server is plain HTTP; give host[:port] (GCE_METADATA_HOST)"
            ));
        }
        let authority = trimmed.strip_prefix("http://").unwrap_or(trimmed);
        if authority.is_empty() || authority.contains(['/', '?', '#', '@', ' ']) {
            return Err(format!(
                "{configured:?} is not host[:port] (GCE_METADATA_HOST)"
            ));
        }
        let (host, port) = match authority.rsplit_once(':') {
            // A bracketed IPv6 literal without a port has its last colon inside the brackets.
            Some((host, port)) if !port.contains(']') => {
                let port = port
                    .parse::<u16>()
                    .map_err(|_| format!("{configured:?}: {port:?} is not a port number"))?;
                (host, port)
            }
            _ => (authority, 80),
        };
        if host.is_empty() {
            return Err(format!("{configured:?} names no host (GCE_METADATA_HOST)"));
        }
        Ok(Self {
            host: host.to_owned(),
            port,
        })
    }

    /// `http://host:port`, for messages.
    pub(crate) fn url(&self, path_and_query: &str) -> String {
        format!("http://{}:{}{path_and_query}", self.host, self.port)
    }
}

/// A metadata server's answer: status, its `Metadata-Flavor` header (if any), body.
#[derive(Debug)]
pub(crate) struct MetadataAnswer {
    pub status: u16,
    pub flavor: Option<Vec<u8>>,
    pub body: Bytes,
}

/// Why the exchange failed (before an answer, or while reading its body).
#[derive(Debug)]
pub(crate) enum ExchangeError {
    /// No answer: connect, send or the status line failed, or the timeout passed.
    Unreachable(String),
    /// The answer's body could not be read or was too large.
    Body(String),
}

/// GETs `path_and_query` (already percent-encoded) with `Metadata-Flavor: Google`, all within
/// `timeout`.
pub(crate) async fn get(
    endpoint: &MetadataEndpoint,
    path_and_query: &str,
    timeout: Duration,
) -> Result<MetadataAnswer, ExchangeError> {
    match tokio::time::timeout(timeout, exchange(endpoint, path_and_query)).await {
        Ok(result) => result,
        Err(_) => Err(ExchangeError::Unreachable(format!(
            "no answer within {} ms",
            timeout.as_millis()
        ))),
    }
}

async fn exchange(
    endpoint: &MetadataEndpoint,
    path_and_query: &str,
) -> Result<MetadataAnswer, ExchangeError> {
    let unreachable =
        |what: &str, e: &dyn std::fmt::Display| ExchangeError::Unreachable(format!("{what}: {e}"));
    let host = endpoint.host.trim_start_matches('[').trim_end_matches(']');
    let stream = tokio::net::TcpStream::connect((host, endpoint.port))
        .await
        .map_err(|e| unreachable("connect", &e))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| unreachable("HTTP handshake", &e))?;
    // The connection is driven until the answer is read; it ends with this exchange.
    let driver = tokio::spawn(connection);
    let authority = if endpoint.port == 80 {
        endpoint.host.clone()
    } else {
        format!("{}:{}", endpoint.host, endpoint.port)
    };
    let request = hyper::Request::get(path_and_query)
        .header(hyper::header::HOST, authority)
        .header("Metadata-Flavor", "Google")
        .body(Empty::<Bytes>::new())
        .map_err(|e| unreachable("building the request", &e))?;
    let result = async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| unreachable("request", &e))?;
        let status = response.status().as_u16();
        let flavor = response
            .headers()
            .get("metadata-flavor")
            .map(|v| v.as_bytes().to_vec());
        let body = Limited::new(response.into_body(), MAX_BODY_BYTES)
            .collect()
            .await
            .map_err(|e| ExchangeError::Body(e.to_string()))?
            .to_bytes();
        Ok(MetadataAnswer {
            status,
            flavor,
            body,
        })
    }
    .await;
    driver.abort();
    result
}

/// Percent-encodes a query component: everything but RFC 3986's unreserved characters.
pub(crate) fn encode_query_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_with_and_without_scheme_and_port() {
        let parsed = |s: &str| MetadataEndpoint::parse(s).map(|e| (e.host, e.port));
        assert_eq!(
            parsed("metadata.google.internal"),
            Ok(("metadata.google.internal".into(), 80))
        );
        assert_eq!(parsed("127.0.0.1:8089"), Ok(("127.0.0.1".into(), 8089)));
        assert_eq!(
            parsed("http://127.0.0.1:8089/"),
            Ok(("127.0.0.1".into(), 8089))
        );
        assert_eq!(parsed("[::1]:8089"), Ok(("[::1]".into(), 8089)));
        assert_eq!(parsed("[::1]"), Ok(("[::1]".into(), 80)));
        for bad in [
            "",
            "https://metadata",
            "host:port",
            "a/b",
            "user@host",
            "http://",
        ] {
            assert!(parsed(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn query_components_keep_only_unreserved_characters() {
        assert_eq!(
            encode_query_component("https://tokens.example/session/ab?x=1&y"),
            "https%3A%2F%2Ftokens.example%2Fsession%2Fab%3Fx%3D1%26y"
        );
        assert_eq!(encode_query_component("a-b.c_d~e"), "a-b.c_d~e");
        assert_eq!(encode_query_component("é"), "%C3%A9");
    }
}
