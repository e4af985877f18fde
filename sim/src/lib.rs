//! tokendist-sim
