//! A one-connection HTTP server written by hand, for transport tests that need a server to answer
//! exactly what the test says (a wrong header, an endless body, a banner that is not HTTP) and to
//! show the request the client really sent.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Listens on a loopback port, accepts one connection, reads the request head (up to the blank
/// line, or until the client closes), writes `answer` byte for byte and closes. The task returns the
/// request head as text. A client that hangs up early does not fail the server: tests of bounded
/// reads close before `answer` is written in full.
pub async fn serve_one_request(answer: Vec<u8>) -> (SocketAddr, JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buffer = [0u8; 4096];
        while !head.windows(4).any(|window| window == b"\r\n\r\n") {
            let read = stream.read(&mut buffer).await.unwrap();
            if read == 0 {
                break;
            }
            head.extend_from_slice(&buffer[..read]);
        }
        let _ = stream.write_all(&answer).await;
        let _ = stream.shutdown().await;
        String::from_utf8_lossy(&head).into_owned()
    });
    (address, task)
}
