//! Who does what in a soak run, decided before it starts (deterministic, so a failing run can be
//! replayed): by VM index, one in 20 is never approved, one in 10 starts unapproved and is approved
//! during the run, one in 10 is approved and revoked during the run, the rest are approved
//! throughout. The late approvals and the revocations are spread evenly over the middle of the run
//! (from 20 % to 80 % of its duration), interleaved. Each VM re-attests once per interval, VM `i`
//! first at `i / N` of it, so the servers see a steady `N / interval` releases per second.

use std::time::Duration;

use crate::soak::timeline::{ChangeKind, Role};

/// The role of VM `i`.
pub fn role(i: usize) -> Role {
    if i.is_multiple_of(20) {
        Role::Unapproved
    } else if i % 10 == 3 {
        Role::LateApproved
    } else if i % 10 == 7 {
        Role::Revoked
    } else {
        Role::Approved
    }
}

/// One planned approval or revocation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Planned {
    pub vm: usize,
    pub kind: ChangeKind,
    /// When to write it, from the run's start.
    pub at: Duration,
}

/// The changes of a run of `vms` VMs lasting `duration`, in time order.
pub fn changes(vms: usize, duration: Duration) -> Vec<Planned> {
    let picked: Vec<(usize, ChangeKind)> = (0..vms)
        .filter_map(|i| match role(i) {
            Role::LateApproved => Some((i, ChangeKind::Approve)),
            Role::Revoked => Some((i, ChangeKind::Revoke)),
            Role::Approved | Role::Unapproved => None,
        })
        .collect();
    let window = duration.as_secs_f64() * 0.6;
    let start = duration.as_secs_f64() * 0.2;
    let n = picked.len().max(1) as f64;
    picked
        .into_iter()
        .enumerate()
        .map(|(k, (vm, kind))| Planned {
            vm,
            kind,
            at: Duration::from_secs_f64(start + window * (k as f64 + 0.5) / n),
        })
        .collect()
}

/// When VM `i`'s `round`-th request is scheduled, of `vms` VMs each asking once per `interval`.
pub fn send_time(i: usize, round: u64, vms: usize, interval: Duration) -> Duration {
    let offset = interval.as_secs_f64() * i as f64 / vms.max(1) as f64;
    Duration::from_secs_f64(offset + interval.as_secs_f64() * round as f64)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn a_hundred_vms_have_every_role_and_changes_in_the_middle_of_the_run() {
        let roles: Vec<Role> = (0..100).map(role).collect();
        let count = |r: Role| roles.iter().filter(|x| **x == r).count();
        assert_eq!(count(Role::Unapproved), 5);
        assert_eq!(count(Role::LateApproved), 10);
        assert_eq!(count(Role::Revoked), 10);
        assert_eq!(count(Role::Approved), 75);
        let duration = Duration::from_secs(30);
        let planned = changes(100, duration);
        assert_eq!(planned.len(), 20);
        assert!(planned.windows(2).all(|w| w[0].at < w[1].at));
        assert!(planned.first().unwrap().at > Duration::from_secs(6));
        assert!(planned.last().unwrap().at < Duration::from_secs(24));
    }

    #[test]
    fn each_vm_asks_once_per_interval_spread_over_it() {
        let interval = Duration::from_secs(10);
        assert_eq!(send_time(0, 0, 100, interval), Duration::ZERO);
        assert_eq!(send_time(50, 0, 100, interval), Duration::from_secs(5));
        assert_eq!(send_time(50, 2, 100, interval), Duration::from_secs(25));
    }
}
