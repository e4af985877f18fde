//! A `Proven` session as policy evidence: what `GetToken` hands `core::policy::evaluate` as
//! `Evidence.tpm` (the EK as PEM, where it was checked, the AK, the activation, the verified quote).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tokendist_core::evidence::{TpmEvidence, VerifiedQuoteEvidence};
use tokendist_core::tpm::{TpmtPublic, ek_public_to_pem};
use tokendist_store::records::{SessionRecord, SessionStep};

/// The session's verified attestation, or `None` when it has not been proven (or, logged, when the
/// stored record is unreadable): the `tpm.*` checks then fail closed.
pub fn evidence_of(session: &SessionRecord) -> Option<TpmEvidence> {
    if session.step != SessionStep::Proven {
        return None;
    }
    let attestation = session.attestation.as_ref()?;
    let quote = session.quote.as_ref()?;
    let ek_public_pem = match STANDARD
        .decode(&attestation.ek_public)
        .map_err(|e| e.to_string())
        .and_then(|bytes| TpmtPublic::from_tpm2b(&bytes).map_err(|e| e.to_string()))
        .and_then(|ek| ek_public_to_pem(&ek).map_err(|e| e.to_string()))
    {
        Ok(pem) => pem,
        Err(error) => {
            tracing::error!(session = %session.session_id, %error, "stored session EK is unreadable");
            return None;
        }
    };
    Some(TpmEvidence {
        session_id: session.session_id.clone(),
        session_nonce: session.nonce.clone(),
        ek_public_pem,
        ek_source: attestation.ek_source,
        ak_public: attestation.ak_public.clone(),
        // `Proven` is only reached after the activated credential matched the session's digest.
        credential_activated: true,
        quote: Some(VerifiedQuoteEvidence {
            nonce: session.nonce.clone(),
            pcr_hash_alg: quote.pcr_hash_alg,
            pcr_values: quote.pcr_values.clone(),
        }),
        verified_at: quote.verified_at,
    })
}
