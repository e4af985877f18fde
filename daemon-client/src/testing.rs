//! Test support (feature `test-support`): private swtpm instances. The implementation lives in
//! `tests/support/swtpm.rs`, next to the tests that use it most; other crates reach it here.

#[path = "../tests/support/swtpm.rs"]
mod swtpm;

pub use swtpm::{EkCa, Swtpm, SwtpmError};
