//! Fuzzes binary Tink keysets (`core::tink::TinkAead::from_binary_keyset`: the `Keyset` protobuf,
//! each key's `KeyData` and `AesGcmKey`, output prefixes, the primary) and `decrypt` of the input
//! itself as a ciphertext. Never panics; a keyset that loads passes its own encrypt/decrypt
//! self-test, and decrypts what it encrypted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokendist_core::tink::TinkAead;

fuzz_target!(|data: &[u8]| {
    let Ok(aead) = TinkAead::from_binary_keyset(data) else {
        return;
    };
    aead.self_test([7; 12]).unwrap();
    let sealed = aead.encrypt([9; 12], data, b"aad").unwrap();
    assert_eq!(aead.decrypt(&sealed, b"aad").unwrap().as_slice(), data);
    assert!(aead.decrypt(&sealed, b"other").is_err());
    let _ = aead.decrypt(data, b"");
});
