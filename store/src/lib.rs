//! tokendist-store
