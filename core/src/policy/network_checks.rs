//! `network.peer_ip` and `network.client_cert`: the caller's transport, when the approval pins it.

use std::net::IpAddr;

use crate::approval::Approval;
use crate::checks::{NETWORK_CLIENT_CERT, NETWORK_PEER_IP};
use crate::evidence::PeerEvidence;
use crate::network::{names_a_serial, normalize_serial};
use crate::verdict::CheckResult;

pub(super) fn peer_ip(approval: &Approval, peer: &PeerEvidence) -> CheckResult {
    let Some(expected) = &approval.peer_address else {
        return CheckResult::skipped(NETWORK_PEER_IP, "the approval pins no peer address");
    };
    let Some(actual) = &peer.address else {
        return CheckResult::fail(NETWORK_PEER_IP, "the caller's address is unknown");
    };
    if same_ip(expected, actual) {
        CheckResult::pass(NETWORK_PEER_IP)
    } else {
        CheckResult::fail(
            NETWORK_PEER_IP,
            format!("peer address {actual}, approved {expected}"),
        )
    }
}

/// Compares IP addresses as addresses (IPv4-mapped IPv6 equals its IPv4 form), else as text.
fn same_ip(a: &str, b: &str) -> bool {
    match (a.trim().parse::<IpAddr>(), b.trim().parse::<IpAddr>()) {
        (Ok(a), Ok(b)) => a.to_canonical() == b.to_canonical(),
        _ => a.trim() == b.trim(),
    }
}

pub(super) fn client_cert(approval: &Approval, peer: &PeerEvidence) -> CheckResult {
    let Some(expected) = &approval.client_cert_serial else {
        return CheckResult::skipped(
            NETWORK_CLIENT_CERT,
            "the approval pins no client certificate",
        );
    };
    let Some(actual) = &peer.client_cert_serial else {
        return CheckResult::fail(
            NETWORK_CLIENT_CERT,
            "no mTLS client certificate was presented",
        );
    };
    if names_a_serial(actual) && normalize_serial(expected) == normalize_serial(actual) {
        CheckResult::pass(NETWORK_CLIENT_CERT)
    } else {
        CheckResult::fail(
            NETWORK_CLIENT_CERT,
            format!("client certificate serial {actual}, approved {expected}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_mapped_ipv6_equals_ipv4() {
        assert!(same_ip("34.121.225.36", "::ffff:34.121.225.36"));
        assert!(!same_ip("34.121.225.36", "34.121.225.37"));
    }

    #[test]
    fn serials_compare_without_separators_case_or_leading_zeros() {
        assert_eq!(normalize_serial("00:AB:01"), normalize_serial("ab01"));
        assert_ne!(normalize_serial("27"), normalize_serial("39"));
    }
}
