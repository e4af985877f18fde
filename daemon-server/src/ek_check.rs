//! Where `Attest` accepts an EK from (the `tpm.ek` source rules):
//! - with `tpm.ek_ca_roots` configured and an EK certificate in the request: the certificate rules of
//!   [`crate::ek_certificate`] (no fallback: a certificate that fails them is a denial), and, when the
//!   Compute API's shielded instance identity reports an EK (or an EK certificate) for the caller's
//!   instance, the two must agree: a certificate that contradicts Google's record of the VM's vTPM is
//!   a denial, whatever CA issued it;
//! - otherwise: the EK must equal the one in the Compute API's shielded instance identity of the
//!   caller's instance (project, zone and name from its verified identity token), fetched live.

use tokendist_core::evidence::{EkSource, FetchErrorKind, ShieldedIdentity};
use tokendist_core::identity::IdentityClaims;
use tokendist_core::tpm::{TpmtPublic, ek_matches_pem};

use crate::ek_certificate;
use crate::state::{LiveSettings, ServerState};

/// Why an EK was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EkRefusal {
    /// A `tpm.ek` failure with its reason.
    Denied(String),
    /// The named Google API could not be asked; the client should retry.
    Unavailable(String),
}

/// Accepts `ek` for the caller, or says why not.
pub async fn accept_ek(
    state: &ServerState,
    live: &LiveSettings,
    claims: &IdentityClaims,
    ek: &TpmtPublic,
    certificate: &[u8],
) -> Result<EkSource, EkRefusal> {
    let gce = &claims.compute_engine;
    if !live.ek_ca.is_empty() && !certificate.is_empty() {
        ek_certificate::check(certificate, ek, &live.ek_ca, &gce.instance_id, state.now())
            .map_err(|error| EkRefusal::Denied(error.to_string()))?;
        let identity = shielded_identity(state, claims).await?;
        return agrees_with_certificate(&identity, ek).map(|()| EkSource::EkCertificate);
    }
    let identity = shielded_identity(state, claims).await?;
    let Some(pem) = identity.ek_pub_pem else {
        return Err(EkRefusal::Denied(
            "the Compute API reports no EK for this instance (is the vTPM enabled?)".into(),
        ));
    };
    if ek_matches_pem(ek, &pem) {
        Ok(EkSource::ShieldedIdentity)
    } else {
        Err(EkRefusal::Denied(
            "the EK differs from the instance's shielded identity EK in the Compute API".into(),
        ))
    }
}

/// The caller's shielded instance identity, fetched live.
async fn shielded_identity(
    state: &ServerState,
    claims: &IdentityClaims,
) -> Result<ShieldedIdentity, EkRefusal> {
    let gce = &claims.compute_engine;
    match state
        .compute
        .shielded_identity(&gce.project_id, &gce.zone, &gce.instance_name)
        .await
    {
        Ok(identity) => Ok(identity),
        // Counted as a dependency error by the Compute client's observer.
        Err(error) if error.kind == FetchErrorKind::Unavailable => {
            Err(EkRefusal::Unavailable(error.api))
        }
        Err(error) => Err(EkRefusal::Denied(format!(
            "cannot read the instance's shielded identity: {error}"
        ))),
    }
}

/// A certified EK must not contradict what the Compute API records for the instance: its EK and its
/// EK certificate, when it reports them, must be the presented key. (Reporting neither leaves the
/// certificate alone to vouch, as before.)
fn agrees_with_certificate(identity: &ShieldedIdentity, ek: &TpmtPublic) -> Result<(), EkRefusal> {
    if let Some(pem) = &identity.ek_pub_pem
        && !ek_matches_pem(ek, pem)
    {
        return Err(EkRefusal::Denied(
            "the EK certificate's key contradicts the instance's shielded identity EK in the Compute API"
                .into(),
        ));
    }
    if let Some(certificate) = &identity.ek_cert_pem
        && !ek_certificate::pem_certifies(certificate, ek)
    {
        return Err(EkRefusal::Denied(
            "the EK certificate's key contradicts the EK certificate the Compute API reports for the instance"
                .into(),
        ));
    }
    Ok(())
}
