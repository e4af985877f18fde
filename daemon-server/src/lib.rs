//! tokendist-server: the library behind `tokenserver`, Alice's daemon.
//!
//! - [`config`]: typed settings and their layered loading.
//! - [`cli`]: the command line (with the original server's flag names as aliases).

pub mod cli;
pub mod config;
