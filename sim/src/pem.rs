//! PEM checks shared by scenario loading and the admin API: what a certificate looks like.

use crate::error::SimError;

/// How a PEM certificate starts.
pub(crate) const CERTIFICATE_PEM_BEGIN: &str = "-----BEGIN CERTIFICATE-----";

/// A certificate given through the admin API must be a whole PEM certificate.
pub(crate) fn check_certificate_pem(pem: &str) -> Result<(), SimError> {
    if pem.contains(CERTIFICATE_PEM_BEGIN) && pem.contains("-----END CERTIFICATE-----") {
        Ok(())
    } else {
        Err(SimError::InvalidRequest(
            "the EK certificate must be a PEM certificate (-----BEGIN CERTIFICATE-----)"
                .to_string(),
        ))
    }
}
