//! TPM 2.0 algorithm identifiers (TPM_ALG_ID), structure tags and constants used by this module.

/// TPM_ALG_RSA: an RSA object.
pub const ALG_RSA: u16 = 0x0001;
/// TPM_ALG_SHA1.
pub const ALG_SHA1: u16 = 0x0004;
/// TPM_ALG_HMAC (keyed-hash scheme).
pub const ALG_HMAC: u16 = 0x0005;
/// TPM_ALG_AES.
pub const ALG_AES: u16 = 0x0006;
/// TPM_ALG_KEYEDHASH: a keyed-hash object (HMAC key or sealed data).
pub const ALG_KEYEDHASH: u16 = 0x0008;
/// TPM_ALG_XOR (keyed-hash scheme).
pub const ALG_XOR: u16 = 0x000A;
/// TPM_ALG_SHA256: the only name/PCR/signature hash this module computes with.
pub const ALG_SHA256: u16 = 0x000B;
/// TPM_ALG_SHA384.
pub const ALG_SHA384: u16 = 0x000C;
/// TPM_ALG_SHA512.
pub const ALG_SHA512: u16 = 0x000D;
/// TPM_ALG_NULL.
pub const ALG_NULL: u16 = 0x0010;
/// TPM_ALG_SM3_256.
pub const ALG_SM3_256: u16 = 0x0012;
/// TPM_ALG_SM4.
pub const ALG_SM4: u16 = 0x0013;
/// TPM_ALG_RSASSA (PKCS#1 v1.5 signatures).
pub const ALG_RSASSA: u16 = 0x0014;
/// TPM_ALG_RSAES (PKCS#1 v1.5 encryption).
pub const ALG_RSAES: u16 = 0x0015;
/// TPM_ALG_RSAPSS.
pub const ALG_RSAPSS: u16 = 0x0016;
/// TPM_ALG_OAEP.
pub const ALG_OAEP: u16 = 0x0017;
/// TPM_ALG_ECC: an ECC object (not supported by this module's readers).
pub const ALG_ECC: u16 = 0x0023;
/// TPM_ALG_KDF1_SP800_108 (the only KDF used with XOR).
pub const ALG_KDF1_SP800_108: u16 = 0x0022;
/// TPM_ALG_CAMELLIA.
pub const ALG_CAMELLIA: u16 = 0x0026;
/// TPM_ALG_CFB.
pub const ALG_CFB: u16 = 0x0043;

/// TPM_GENERATED_VALUE: the magic at the start of every TPMS_ATTEST.
pub const TPM_GENERATED_VALUE: u32 = 0xFF54_4347;
/// TPM_ST_ATTEST_CERTIFY.
pub const ST_ATTEST_CERTIFY: u16 = 0x8017;
/// TPM_ST_ATTEST_QUOTE.
pub const ST_ATTEST_QUOTE: u16 = 0x8018;
/// TPM_CC_PolicyPCR.
pub const CC_POLICY_PCR: u32 = 0x0000_017F;

/// SHA-256 digest size in bytes.
pub const SHA256_SIZE: usize = 32;

/// The authPolicy of the default TCG EK template: PolicySecret(TPM_RH_ENDORSEMENT).
pub const DEFAULT_EK_AUTH_POLICY: [u8; 32] = [
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
    0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
];

/// Whether `alg` is a hash algorithm a TPM may name (SHA-1/256/384/512, SM3).
pub fn is_hash_alg(alg: u16) -> bool {
    matches!(
        alg,
        ALG_SHA1 | ALG_SHA256 | ALG_SHA384 | ALG_SHA512 | ALG_SM3_256
    )
}

/// Digest size in bytes of a hash algorithm, if it is one.
pub fn digest_size(alg: u16) -> Option<usize> {
    match alg {
        ALG_SHA1 => Some(20),
        ALG_SHA256 | ALG_SM3_256 => Some(32),
        ALG_SHA384 => Some(48),
        ALG_SHA512 => Some(64),
        _ => None,
    }
}
