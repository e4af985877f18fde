//! Criterion benchmarks of the server-side TPM work in `core::tpm`: MakeCredential, quote
//! verification, import-blob creation, and sealing a 1 MiB envelope. Run with
//! `cargo bench -p tokendist-core --bench tpm`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tokendist_core::tpm::alg::ALG_SHA256;
use tokendist_core::tpm::{
    create_import_blob, make_credential, policy_pcr_digest, seal_envelope, verify_quote,
};
use tokendist_testkit::soft_tpm::*;

fn bench_make_credential(c: &mut Criterion) {
    let ek = ek_public();
    let ak_name = ak_public().name().unwrap();
    c.bench_function("make_credential", |b| {
        b.iter(|| make_credential(black_box(&ek), black_box(&ak_name), &[7; 32], [1; 32]).unwrap())
    });
}

fn bench_verify_quote(c: &mut Criterion) {
    let ak = ak_public();
    let nonce = [0xAB; 32];
    let expected = pcrs(&[0, 4, 7, 8, 9, 14]);
    let attest = quote_attest(&nonce, &expected).marshal().unwrap();
    let signature = sign(AK_PRIVATE_PEM, &attest, false);
    c.bench_function("verify_quote", |b| {
        b.iter(|| {
            verify_quote(
                black_box(&ak),
                black_box(&attest),
                black_box(&signature),
                &nonce,
                &expected,
            )
            .unwrap()
        })
    });
}

fn bench_create_import_blob(c: &mut Criterion) {
    let ek = ek_public();
    let policy = policy_pcr_digest(ALG_SHA256, &pcrs(&[0, 7])).unwrap();
    c.bench_function("create_import_blob", |b| {
        b.iter(|| create_import_blob(black_box(&ek), &[0x42; 32], Some(&policy), [2; 32]).unwrap())
    });
}

fn bench_seal_envelope(c: &mut Criterion) {
    let ek = ek_public();
    let policy = policy_pcr_digest(ALG_SHA256, &pcrs(&[0, 7])).unwrap();
    let plaintext = vec![0x5A; 1 << 20];
    let mut group = c.benchmark_group("seal_envelope");
    group.throughput(Throughput::Bytes(plaintext.len() as u64));
    group.bench_function("1MiB", |b| {
        b.iter(|| {
            seal_envelope(
                black_box(&ek),
                black_box(&plaintext),
                Some(&policy),
                b"aad",
                [3; 32],
            )
            .unwrap()
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    bench_make_credential,
    bench_verify_quote,
    bench_create_import_blob,
    bench_seal_envelope
);
criterion_main!(benches);
