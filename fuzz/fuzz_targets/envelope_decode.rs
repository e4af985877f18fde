//! Fuzzes the envelope decoder: never panic; whatever decodes re-encodes to the same bytes, and
//! opening with an arbitrary key fails cleanly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokendist_core::tpm::{Envelope, open_envelope_with_data_key};

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = Envelope::decode(data) {
        assert_eq!(envelope.encode().ok().as_deref(), Some(data));
        let _ = open_envelope_with_data_key(&envelope, &[0u8; 32], b"fuzz");
    }
});
