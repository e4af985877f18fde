//! TLS for the gRPC listener. Reads PEM material and builds a rustls `ServerConfig` (TLS or mTLS;
//! [`crate::material`] decides which files), keeps it
//! behind a swappable handle so SIGHUP can reload certificates without dropping connections, and
//! accepts connections whose peer address and client-certificate serial reach the request handlers
//! (as [`PeerInfo`] in the request extensions).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::server::TlsStream;
use tokio_stream::wrappers::ReceiverStream;

use crate::config::TlsMode;
pub use tokendist_core::network::normalize_serial;

/// How long a client may take to complete the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the handlers know about the caller's connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    pub address: SocketAddr,
    /// Serial of the verified client certificate (lower-case hex, no leading zero bytes), under mTLS.
    pub client_cert_serial: Option<String>,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Builds the rustls server configuration: `chain` with its `key`, and for mTLS the client CA
/// certificates `client_roots`. Fails on a key that does not belong to the certificate.
pub fn build(
    mode: TlsMode,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    client_roots: Option<Vec<CertificateDer<'static>>>,
) -> Result<Arc<rustls::ServerConfig>, TlsBuildError> {
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsBuildError::Key(e.to_string()))?;
    let builder = match (mode, client_roots) {
        (TlsMode::Mtls, Some(cas)) => {
            let mut roots = rustls::RootCertStore::empty();
            for ca in cas {
                roots
                    .add(ca)
                    .map_err(|e| TlsBuildError::ClientCa(e.to_string()))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .map_err(|e| TlsBuildError::ClientCa(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
        (TlsMode::Mtls, None) => {
            return Err(TlsBuildError::ClientCa("mTLS needs tls.client_ca".into()));
        }
        (TlsMode::Tls, _) => builder.with_no_client_auth(),
    };
    let mut server = builder
        .with_single_cert(chain, key)
        .map_err(|e| TlsBuildError::Key(e.to_string()))?;
    server.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(server))
}

/// Which part of the TLS material rustls refused.
#[derive(Debug, thiserror::Error)]
pub enum TlsBuildError {
    /// The key (or the certificate with it): e.g. a key that does not belong to the certificate.
    #[error("rustls refuses the certificate with this key: {0}")]
    Key(String),
    /// The client CA certificates.
    #[error("rustls refuses the client CA: {0}")]
    ClientCa(String),
}

/// The current TLS configuration; [`TlsReloader::reload`] swaps it for new handshakes.
#[derive(Debug, Clone)]
pub struct TlsReloader {
    current: Arc<RwLock<Arc<rustls::ServerConfig>>>,
}

impl TlsReloader {
    pub fn new(config: Arc<rustls::ServerConfig>) -> Self {
        Self {
            current: Arc::new(RwLock::new(config)),
        }
    }

    /// Puts `fresh` in force for new handshakes.
    pub fn replace(&self, fresh: Arc<rustls::ServerConfig>) {
        match self.current.write() {
            Ok(mut guard) => *guard = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
    }

    fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        let config = match self.current.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        };
        tokio_rustls::TlsAcceptor::from(config)
    }
}

/// Serial number of a DER certificate, lower-case hex without leading zero bytes.
pub fn certificate_serial(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(normalize_serial(&hex::encode(
        cert.tbs_certificate.raw_serial(),
    )))
}

/// One accepted TLS connection with its peer information.
#[derive(Debug)]
pub struct TlsConnection {
    stream: TlsStream<TcpStream>,
    peer: PeerInfo,
}

impl tonic::transport::server::Connected for TlsConnection {
    type ConnectInfo = PeerInfo;

    fn connect_info(&self) -> PeerInfo {
        self.peer.clone()
    }
}

impl AsyncRead for TlsConnection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsConnection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Accepts TCP connections and completes TLS handshakes concurrently (a slow client cannot stall the
/// accept loop). Failed handshakes are logged and dropped; the stream ends when the listener fails.
pub fn incoming(
    listener: TcpListener,
    tls: TlsReloader,
) -> ReceiverStream<io::Result<TlsConnection>> {
    let (sender, receiver) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        loop {
            let (tcp, address) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    if sender.is_closed() {
                        return;
                    }
                    continue;
                }
            };
            // Without it every small response waits for the peer's delayed ACK (Nagle): ~40 ms.
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::warn!(peer = %address, %error, "could not set TCP_NODELAY");
            }
            let acceptor = tls.acceptor();
            let sender = sender.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => {
                        let client_cert_serial = stream
                            .get_ref()
                            .1
                            .peer_certificates()
                            .and_then(|chain| chain.first())
                            .and_then(|leaf| certificate_serial(leaf.as_ref()));
                        let peer = PeerInfo {
                            address,
                            client_cert_serial,
                        };
                        let _closed = sender.send(Ok(TlsConnection { stream, peer })).await;
                    }
                    Ok(Err(error)) => {
                        tracing::info!(peer = %address, %error, "TLS handshake failed")
                    }
                    Err(_) => tracing::info!(peer = %address, "TLS handshake timed out"),
                }
            });
        }
    });
    ReceiverStream::new(receiver)
}
