//! Bounded big-endian reader and writer for TPM structures. Every length is checked against the
//! input before use, nothing panics, and no allocation is larger than the input that justifies it.

use super::alg::is_hash_alg;
use super::errors::MarshalError;

/// Largest value a TPM2B size field can hold.
pub const TPM2B_MAX: usize = u16::MAX as usize;

/// Reads TPM structures from a byte slice, tracking the offset for error messages.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Reader<'a> {
    /// A reader at offset 0 of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, offset: 0 }
    }

    /// The current offset from the start of the input.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// How many bytes are left.
    pub fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.offset)
    }

    /// The next `count` bytes.
    pub fn take(&mut self, count: usize, what: &'static str) -> Result<&'a [u8], MarshalError> {
        let available = self.remaining();
        if count > available {
            return Err(MarshalError::Truncated {
                what,
                offset: self.offset,
                needed: count,
                available,
            });
        }
        let start = self.offset;
        let slice = self
            .bytes
            .get(start..start + count)
            .ok_or(MarshalError::Truncated {
                what,
                offset: start,
                needed: count,
                available,
            })?;
        self.offset += count;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], MarshalError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    /// A u8.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, MarshalError> {
        Ok(self.array::<1>(what)?[0])
    }

    /// A big-endian u16.
    pub fn u16(&mut self, what: &'static str) -> Result<u16, MarshalError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    /// A TPMI_ALG_HASH: a u16 naming a hash algorithm this code knows (SHA-1, SHA-256, ...).
    pub fn hash_alg(&mut self, what: &'static str) -> Result<u16, MarshalError> {
        let offset = self.offset();
        let alg = self.u16(what)?;
        if is_hash_alg(alg) {
            Ok(alg)
        } else {
            Err(MarshalError::UnknownAlgorithm { what, offset, alg })
        }
    }

    /// A big-endian u32.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, MarshalError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    /// A big-endian u64.
    pub fn u64(&mut self, what: &'static str) -> Result<u64, MarshalError> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    /// A TPM2B: a u16 size (at most `max`) followed by that many bytes.
    pub fn tpm2b(&mut self, what: &'static str, max: usize) -> Result<&'a [u8], MarshalError> {
        let offset = self.offset;
        let length = usize::from(self.u16(what)?);
        if length > max {
            return Err(MarshalError::LengthOverflow {
                what,
                offset,
                length,
                max,
            });
        }
        self.take(length, what)
    }

    /// Fails unless the whole input was consumed.
    pub fn finish(&self, what: &'static str) -> Result<(), MarshalError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(MarshalError::TrailingBytes {
                what,
                offset: self.offset,
                count,
            }),
        }
    }
}

/// Appends a big-endian u16.
pub fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_be_bytes());
}

/// Appends a big-endian u32.
pub fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_be_bytes());
}

/// Appends a big-endian u64.
pub fn put_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_be_bytes());
}

/// Appends a TPM2B (u16 size || bytes); fails if `bytes` does not fit a u16 size.
pub fn put_tpm2b(out: &mut Vec<u8>, bytes: &[u8], what: &'static str) -> Result<(), MarshalError> {
    let length = u16::try_from(bytes.len()).map_err(|_| MarshalError::TooLong {
        what,
        length: bytes.len(),
        max: TPM2B_MAX,
    })?;
    put_u16(out, length);
    out.extend_from_slice(bytes);
    Ok(())
}

/// `bytes` as a TPM2B: the u16 size prefix followed by the bytes (e.g. TPM2B_ID_OBJECT from its
/// content, for callers that need the size-prefixed form).
pub fn tpm2b(bytes: &[u8], what: &'static str) -> Result<Vec<u8>, MarshalError> {
    let mut out = Vec::with_capacity(bytes.len() + 2);
    put_tpm2b(&mut out, bytes, what)?;
    Ok(out)
}

/// The content of a TPM2B that must span all of `bytes` (size prefix included).
pub fn tpm2b_content<'a>(bytes: &'a [u8], what: &'static str) -> Result<&'a [u8], MarshalError> {
    let mut reader = Reader::new(bytes);
    let content = reader.tpm2b(what, TPM2B_MAX)?;
    reader.finish(what)?;
    Ok(content)
}
