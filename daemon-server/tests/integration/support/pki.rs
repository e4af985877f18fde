//! Test certificates: re-exported from `tokendist_testkit::pki` (shared with the load tool).
pub use tokendist_testkit::pki::*;
