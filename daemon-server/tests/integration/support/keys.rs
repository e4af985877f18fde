//! Key files of a test server: re-exported from `tokendist_testkit::keys` (shared with the load tool).
pub use tokendist_testkit::keys::*;
