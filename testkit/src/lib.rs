//! tokendist-testkit: test support shared by every crate's tests (never linked into a binary).
//!
//! - [`swtpm`]: private swtpm instances, one per test, from a cached provisioned template
//!   ([`Swtpm::start`]); a missing swtpm fails the test naming what to install.

pub mod swtpm;

pub use swtpm::{EkCa, Swtpm, SwtpmError};
