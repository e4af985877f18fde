//! KDFa (TPM 2.0 Part 1, 11.4.10.2): SP 800-108 counter-mode KDF with HMAC-SHA-256.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::errors::TpmError;

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA-256 over the concatenation of `parts`.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Result<[u8; 32], TpmError> {
    // HMAC takes keys of any length; the error is unreachable but not unwrapped.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).map_err(|_| TpmError::Integrity)?;
    for part in parts {
        mac.update(part);
    }
    Ok(mac.finalize().into_bytes().into())
}

/// KDFa with SHA-256: for i = 1, 2, …: `HMAC(key, u32 i || label || 0x00 || context_u ||
/// context_v || u32 bits)`, concatenated and truncated to `bits / 8` bytes. `bits` is the total
/// output length (e.g. 128 for an AES-128 key), not the per-block length.
pub fn kdfa_sha256(
    key: &[u8],
    label: &[u8],
    context_u: &[u8],
    context_v: &[u8],
    bits: u32,
) -> Result<Zeroizing<Vec<u8>>, TpmError> {
    let wanted = usize::try_from(bits / 8).map_err(|_| TpmError::TooLong {
        what: "KDFa output",
        length: usize::MAX,
        max: 1 << 16,
    })?;
    if wanted > 1 << 16 {
        return Err(TpmError::TooLong {
            what: "KDFa output",
            length: wanted,
            max: 1 << 16,
        });
    }
    let mut out = Zeroizing::new(Vec::with_capacity(wanted + 32));
    let bits_be = bits.to_be_bytes();
    let mut counter: u32 = 1;
    while out.len() < wanted {
        let block = Zeroizing::new(hmac_sha256(
            key,
            &[
                &counter.to_be_bytes(),
                label,
                &[0u8],
                context_u,
                context_v,
                &bits_be,
            ],
        )?);
        out.extend_from_slice(block.as_ref());
        counter = counter.wrapping_add(1);
    }
    out.truncate(wanted);
    Ok(out)
}
