//! Fuzzes the TPM2B_PUBLIC / TPMT_PUBLIC readers: never panic; whatever parses re-marshals to the
//! same bytes and has a computable Name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokendist_core::tpm::TpmtPublic;

fuzz_target!(|data: &[u8]| {
    if let Ok(public) = TpmtPublic::from_tpm2b(data) {
        assert_eq!(public.to_tpm2b().ok().as_deref(), Some(data));
        let _ = public.name();
        let _ = public.rsa_public_key();
        let _ = tokendist_core::tpm::check_ak_template(&public);
    }
    if let Ok(public) = TpmtPublic::unmarshal(data) {
        assert_eq!(public.marshal().ok().as_deref(), Some(data));
        let _ = tokendist_core::tpm::ek_public_to_pem(&public);
    }
});
