//! tokendist-core: the pure domain of tokendist. No I/O, no async, no clocks of its own (time is an
//! argument), so every decision can be unit-tested and the console can show exactly what the server
//! will check.
//!
//! - [`identity`]: Google instance identity tokens and their verification.
//! - [`evidence`]: what is known about a VM at decision time.
//! - [`approval`]: Alice's approval record.
//! - [`auditlog`]: Cloud Audit Log entries and the deny-list.

pub mod approval;
pub mod auditlog;
pub mod checks;
pub mod cloudconfig;
pub mod evidence;
pub mod identity;
pub mod policy;
pub mod settings;
pub mod verdict;
