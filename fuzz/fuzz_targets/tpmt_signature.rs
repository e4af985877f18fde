//! Fuzzes the TPMT_SIGNATURE reader: never panic; whatever parses re-marshals to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokendist_core::tpm::TpmtSignature;

fuzz_target!(|data: &[u8]| {
    if let Ok(signature) = TpmtSignature::unmarshal(data) {
        assert_eq!(signature.marshal().ok().as_deref(), Some(data));
    }
});
