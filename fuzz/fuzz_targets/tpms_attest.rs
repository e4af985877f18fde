//! Fuzzes the TPMS_ATTEST reader: never panic; whatever parses re-marshals to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokendist_core::tpm::TpmsAttest;

fuzz_target!(|data: &[u8]| {
    if let Ok(attest) = TpmsAttest::unmarshal(data) {
        assert_eq!(attest.marshal().ok().as_deref(), Some(data));
        if let tokendist_core::tpm::Attested::Quote(quote) = &attest.attested {
            for bank in &quote.pcr_select.0 {
                let _ = bank.indices();
            }
        }
    }
});
