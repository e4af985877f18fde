//! Criterion benchmarks of core::tpm (placeholder until written).
fn main() {}
