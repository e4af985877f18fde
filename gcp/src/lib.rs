//! tokendist-gcp
