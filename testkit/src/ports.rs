//! A loopback port that refuses connections and stays reserved while the test holds it: a TCP
//! socket bound to the port but never listening. Binding and dropping a listener instead frees the
//! port, and a parallel test (a swtpm, an emulator) may take it before the connection is tried.

use std::net::{Ipv4Addr, SocketAddr};

use tokio::net::TcpSocket;

/// A reserved, refusing loopback port; the reservation ends on drop.
#[derive(Debug)]
pub struct ClosedPort {
    _socket: TcpSocket,
    addr: SocketAddr,
}

impl ClosedPort {
    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// A loopback port where connections are refused, kept from other binders until dropped (no
/// `SO_REUSEADDR`, so nobody else can bind it meanwhile).
pub fn closed_port() -> ClosedPort {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .unwrap();
    let addr = socket.local_addr().unwrap();
    ClosedPort {
        _socket: socket,
        addr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connecting_to_a_closed_port_is_refused() {
        let closed = closed_port();
        let error = std::net::TcpStream::connect(closed.addr()).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused);
    }

    #[test]
    fn nobody_else_can_bind_a_closed_port_while_it_is_held() {
        let closed = closed_port();
        assert!(std::net::TcpListener::bind(closed.addr()).is_err());
        let addr = closed.addr();
        drop(closed);
        std::net::TcpListener::bind(addr).unwrap();
    }
}
