//! A software TPM, for `core`'s `tpm_*` tests and `tpm` bench and for the load tool's `--tpm` VMs:
//! fixed software RSA keys standing in for a TPM's EK and AK, a software ActivateCredential and
//! Import+Unseal (with the EK private key), builders for signed quotes and certify attestations, and
//! [`SoftTpm`], one VM's vTPM made of them (what a client's TPM answers in `Attest` and
//! `ProveAttestation`, verified by the server exactly as a real TPM's answers are).

use rand_chacha::rand_core::SeedableRng;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::{Oaep, Pkcs1v15Sign, Pss, RsaPrivateKey};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use tokendist_core::tpm::alg::*;
use tokendist_core::tpm::import::unseal_import_blob_with_seed;
use tokendist_core::tpm::marshal::Reader;
use tokendist_core::tpm::wrap::{LABEL_DUPLICATE, LABEL_IDENTITY, unwrap_with_seed};
use tokendist_core::tpm::{
    Attested, CertifyInfo, ClockInfo, ImportBlob, PcrSelection, PcrSelectionList, QuoteInfo,
    TpmsAttest, TpmtPublic, TpmtSignature,
};

pub const EK_PRIVATE_PEM: &str = "\
-----BEGIN PRIVATE KEY-----\n\
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDTq/wG77mW2pv9\n\
tz3e2kCSh5rSmPvxhw9yvKv8FpKgGlFLVry9+A6TFwZtoU9lBasIEOIEEOfA/gUC\n\
y/6xIS6xG2vuJuwk73eMCoZHm3RzUZrS/eHBZ4UglVQRQsRDWm9AXhaBpulf4XNG\n\
xux96Y/9V9MlgF6lDOEtl5tB3BXNJi0yt6fYI/RIT+d4JPR4FtFrgH3qJLqFId9j\n\
4v0PKg1YlPlN6RPdtGuPk3CRYks+O5tc7x8lt2TQZl0v3JsQiXLtLkm7E/fx4CrB\n\
ZV32e4UqTYgdM0jeMdsZaVRYKf9L9U9Tgd6CdAEWFV1Oi8A0qBjmK9J+uGw/KO6n\n\
qVIbQThbAgMBAAECggEAHRUxxRA1+yyhJyyAozhwi9F2672aTDam4DhdFv9Q+Q90\n\
oPnTZ/SHqB0PRIvX2UT8mVicfTuHZCRist4tac/p1uqyGyAc7Pw7/DFL/tW0m82Y\n\
DKpWVNjw2Se7S73VMn3f8EOdKwYwZXyX9p8JSkmHf6ML/0iSeHH7FGUSr2taUXvP\n\
oTo65XST6+DnLtHOjS2e436bk0jZlHCoVuU4k3iUgElGwD5Y8F141e9PhLlz8wUC\n\
2+FtVZrTRpxNuLbQ+j+AT53HeSYd/S1QOkYmwyvKnPB40pgsZFdw+hEhRCzXREV7\n\
j7wJibkQZe1CqsPzMsNlgYP1Mnk5EGVR0SW4I6ijdQKBgQD9lQYYWs8Clvb3JUae\n\
iIG03tKqKyZEazZ3wbJpxiyrxkX04rwF8Mm/+enISeqxD2hYX0WVCEnmDArQAzfa\n\
lXQmtdeS40MudFbDSk5MUGnhN6fV0c8vhEN65tjyyxWFHGmqRGyNdNvPUivFofyg\n\
ygUklD2HJ4tUF29Z7pyLDdIUNwKBgQDVsKkZV6082WzAvUh7ziwLs4sRtnsz6/Dt\n\
Mn/3sfppNXY8VyFAK3rc17dZCwogcgkRwLbEhiG3wdp/SSTPdjGc0AGpo6S+pmzO\n\
WgmxBPes8H+UCvfdk4kZJm96UcHcVoCE4knj/MLLLNDFLQgt/sUBki8m3dLw52P/\n\
+hGd45Oy/QKBgBm6GdE0vVXc7Rdr77s7zDUGekcLc6lzWyZRP4GduoB+8DAFJOBR\n\
apaQi1hnr2jhUEvO9qdFHQI67InoGa2ShiM7RbDAX9uBsB/GFSWG7wcLd3qo+6Ut\n\
fQ8mBpKzae6EUHAW2xCK75YcFxbI9XF2rYjlhUyGBYu1iPWN0NIGx+6HAoGBAJHj\n\
nV8O69gaPNRNphnYRVvrxStfoTdugrr9+j3aRbLkbAeAGNRdmvEBWUyya8SA9k4n\n\
euArDwQMlibGghodgHulyyzM62G575jmAa3YTVvFieRBpL2ixzvjcMJa5PaQHAgd\n\
EgNUAo2B2Dp1pxr3z/plmkl3slcEMtKFINfhkmnlAoGBALPSJrbWZ7rPkJ89yzxV\n\
Wzj0WMcmmv5Q1J0vxqo8LQxE1QiZzjLWOkZ7zo8gW2hDo9Juu2gtxZ9zSzosbVIt\n\
yONQ0Grg+5P3JKC03fzFR8OKRo6pVTzSm7JOUhOhwAdb+tJTwtDHrMPrIaHTo4tX\n\
S0lXws9XuS/vLeeVRr/S89mV\n\
-----END PRIVATE KEY-----\n\
";

pub const AK_PRIVATE_PEM: &str = "\
-----BEGIN PRIVATE KEY-----\n\
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDgPENkkwG/3tyB\n\
yJ9Y1n4Z0c+VBEmnZ8WHOS8ab8wi9DnPL3yu6mDh/Da54t02ueq2C2FDj/zpjnou\n\
hl2d65pUuRHwmEFehvSyyN5SGt/aQR/xTG3pC/1u6rJr3RSmK9ylYaXoxW860mg3\n\
c7210Aen0h6a4HxpYYX8q19wQMWd24MW9SSBsnTzkBhIuFFncjwayNolgIkquuL5\n\
TY6BESDKzZzl0i7NPFp8xXz5GK4FuFjtj9IvpDw2ScRhDWkwmvL4srYOe/AVb9cP\n\
cquSrYi45XfvmUfligUwKss0leqo8YgB+9Xo++L3aXsNfHhEGLm6IBszM7pnMQwI\n\
EpeZ1vyHAgMBAAECggEAFqYPmot8rEAa3qMAcU0s7He0M1V9CQMiwO9GMjHjmQ44\n\
/pPJ0LMMuRasAmeHN31c1ylcGCJlhcOl1KgusYI4EuGkjbwbMiyIb7x5NCrRvG5C\n\
hzFUkqrq3Lao8dshOE2K2kt8IgA7JWJWM2+l1ETgWROQks0k09INYgF/QMvSCgkP\n\
CdQeBVb9XWteNw9mwAyfYG/ZFsV+UpXOlOBb97k7RpskLq/2LAhlo3qekp14WQYH\n\
UxRySj4qE0IvEyF/pPcPVzGq2xpo06mNgstv1FEA5p3lHD4GSsFZLVDPqmCbaWHh\n\
7xQjZFTQ8PCxsGYMU+INTHcU+KUsu+mtWoBknr5nsQKBgQD5zi1wpQcsBsVHtY5S\n\
4TWJGrTdkHH9WsdCIDMUZVa/v2x+KVvyKQ5P+i3TwwsJGHUS/czRLMePRi8SirER\n\
aadKeQDgsR+qRcOaTXQ2rmjTBs7aolwiS3Xx5veQY1kG8TNtdXTZaldkSARYRaO/\n\
/fYKOH36RLG3mVB/sFX3BWa0cQKBgQDly8L4jEkaneiMr6SFA4Zz4fZD1XH47UfV\n\
avGkyAzK5oHdjvTv5M0AmFsOs3NqUTM/tLdKduJ22xgv9YxTgU/iCQsv2bl6lB6+\n\
QyWDHSAE+M+Z1cpI8FCt9GiekZIOln3CBsqH6gzsJBFw77quVmcDy3w2LI3UlfpV\n\
TaIreIjcdwKBgF041PpJi7ChYjPNjCxfwQPGRKK+idt7agrCS22cF9B81jcKpjZr\n\
ndy4xytUiSS+zMnmju2soVhVX7GysjuGSxjeqTYww1leqY1GxEy3r4S48K7kki92\n\
K7C3ecGXYZzWnFOH1rBgH/bbbUunyWEXnB7aUCD6S7vxafoMyzfg+x/xAoGAWbTh\n\
uAWLxEhAsCshHovxwOtFJ9X7WCHJGRdWne06kTrLF6LnG39GSCUx5ttHAwoP5560\n\
ru0aGywMlSxWS4L/nE3LgDKOpbuNBNlRm42TIl2/LV64SSEHXeE7tis9yVQWY9gi\n\
2EwWH1k1NdFgHw67yE93fe6Gr6acwxA7bpzvUKECgYEAyB0JOBSpq/51sDLfLIxw\n\
MPYPbCTtSCKzIIWstM37Ir42Subd5o13v5RzEGkulaLzmsMQ+3lROwNRcvK37qov\n\
xtccrvZCql+BUVQ4Z6POlbazJCkqEXNnp4lwq1ummSbUioUVvurhoWFQHSTDEuqd\n\
/XhCn2bIXyjBzBtWcLDxIZ4=\n\
-----END PRIVATE KEY-----\n\
";

pub const OTHER_PRIVATE_PEM: &str = "\
-----BEGIN PRIVATE KEY-----\n\
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQC7ulbkmWzw+hh/\n\
URXM7xPExNyAqFJFLzPUXI2qaX4F6in3swI+oP/dMTHhzzHsZXBcPsIiobq7smj4\n\
8xLBCkOqUJUl8zcO+G/Qdw47nE2R2nwDyaIksb0WrGtnUOaEnraLfrPkwW4+TIAH\n\
B0RE5ZJ/TXm7Rg78nYEp/xRp35t+Ub69l1qDjkHD/B7sXQZonqfxInFLyJffVYPR\n\
epulYu8Y+ro49M4sqLse2FmoSZINmoP7osrMbzfFuph9FxU0zBnSdciHkV3kO9jY\n\
hfO2hmbVjk5HoNwVlPDsZQVYaYT4MYS82cY35MK5Av+zC59pnZvsA5+e1Ka4Cs//\n\
SmYMDcaNAgMBAAECggEAN+QqqrTjMnvDf2Rs0S78+8CAxe1XUTHUhI1pwCrYUnp9\n\
NDofmPXmN7zF1S0S+AbbhRtKQXVVWzyq9DOqib68lqCXR006P0LIR5CqtCS9E4ex\n\
FI+brsEcQvvinkf/2cxHHREEDj9oyzOLiownTzvqeexfKdqZ66wZIJ/JPBxO9zRr\n\
7M0lvStvGLV9LpakmQYK6Rsg/wYHa7Oc0NI1DNCXpD5CV37U1vyJzxbS+NJ1o+mZ\n\
eRTpONW1npYQ+IJhM7/zmP6cH1z3ZPOXMmwECd7sNyRLbDHGSNWh/JmKyA2uj4gJ\n\
JTIr6H5CUClxrvMwuZRAsuvdqAwQkdVC8UFvrXUtIQKBgQD1jBq119PFDu7VERUQ\n\
08s50A6d+cDS7ETZOmfLZpLj/98C7kbDwAPaHlj8MJPYyTbKnauEmV1DDrBKEChs\n\
w/xeHexSnSYqKzTQ/0oNWgDC2DQZ3QBEHGeR3KaA+PtvBHS336aRGRnaFCoSIKXY\n\
Y81SJi9aZfkDpNJLvgMYDGQ4JwKBgQDDuCNJvoBIYdzS/Lamwo3k9M9CIY0XHHwj\n\
wxCjH/wsaYk1e/8Dho0ltC66XN+fkrNRoV9CqQ91BqhHTo33ZVsGbNHRDGlvGwWc\n\
mr1xJcxo0Sg1q2zQuRl/Jnl1+OCC8C/vA0HjNzhYqHjCbX4HF2G7+zHIeh8Dj9aG\n\
eoeiMSPoKwKBgH58GDo5niWxJofsz7wmTVZPfWgVAiXkfSak9liJUvtNj7Qzx5II\n\
NDPEVDQ8VbxjEe1XQMYCNk9XnqnYHurAHhzhLx3zQ3iPXxqVlrC//wpfUp9L/1oW\n\
g6dYURC4sNQkKHebJnMxyeZTYsSJusR3zIkXkGbxhk9BNO69R1y47VsbAoGACSEg\n\
vELflwDBnTHejz7KAaENveb0vtw8SirCLunCCIxPsyf6iD6RfO2/tD+6yqW8KZWe\n\
bOyX5PyPguv+IUkgCteundK3ZFBdXaW2Kn353/XJq184ry/DKbQwvDkEt/beNYbw\n\
XtnnjfMl1uPmmgwUKgGYm+JeafsepZ03kHA8XYsCgYAv5OMseJsUtCHNLsZMAx5w\n\
bRAZQ6k3pD+lGhQORs1mjIp887wwIT/hjz1ndDpwX5XLpm026W3KRMWpa6wc4Hra\n\
BBLwApRDfPK9DkMa1t466kOPeVNQi+CZ3VdImIjH6PBgTU4YjxycKks/FLXk5nKw\n\
ZEN8BO790QdGtkkq9JM8TA==\n\
-----END PRIVATE KEY-----\n\
";

pub fn private_key(pem: &str) -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs8_pem(pem).unwrap()
}

fn modulus(key: &RsaPrivateKey) -> Vec<u8> {
    let mut n = key.n().to_bytes_be();
    while n.len() < 256 {
        n.insert(0, 0);
    }
    n
}

/// The EK as a TPM would report it (default template around the test key).
pub fn ek_public() -> TpmtPublic {
    TpmtPublic::rsa_ek(modulus(&private_key(EK_PRIVATE_PEM)))
}

/// The AK as tss-esapi `create_ak` would report it.
pub fn ak_public() -> TpmtPublic {
    TpmtPublic::rsa_ak(modulus(&private_key(AK_PRIVATE_PEM)))
}

/// A different AK (another TPM's, or a software key).
pub fn other_ak_public() -> TpmtPublic {
    TpmtPublic::rsa_ak(modulus(&private_key(OTHER_PRIVATE_PEM)))
}

/// Software ActivateCredential: decrypts the seed with the EK private key, checks the blob against
/// `ak_name`, returns the credential.
pub fn software_activate(
    ek_private: &RsaPrivateKey,
    ak_name: &[u8],
    id_object: &[u8],
    encrypted_secret: &[u8],
) -> Result<Vec<u8>, String> {
    let seed = ek_private
        .decrypt(
            Oaep::new_with_label::<Sha256, _>(LABEL_IDENTITY),
            encrypted_secret,
        )
        .map_err(|e| format!("oaep: {e}"))?;
    let plaintext = unwrap_with_seed(&seed, 128, ak_name, id_object).map_err(|e| e.to_string())?;
    let mut reader = Reader::new(&plaintext);
    let secret = reader
        .tpm2b("credential", 32)
        .map_err(|e| e.to_string())?
        .to_vec();
    reader.finish("credential").map_err(|e| e.to_string())?;
    Ok(secret)
}

/// Software Import + Load + Unseal of an import blob with the EK private key.
pub fn software_unseal(ek_private: &RsaPrivateKey, blob: &ImportBlob) -> Result<Vec<u8>, String> {
    let seed = ek_private
        .decrypt(
            Oaep::new_with_label::<Sha256, _>(LABEL_DUPLICATE),
            &blob.encrypted_seed,
        )
        .map_err(|e| format!("oaep: {e}"))?;
    unseal_import_blob_with_seed(&seed, 128, blob)
        .map(|data| data.to_vec())
        .map_err(|e| e.to_string())
}

/// PCR values for tests: PCR n holds 32 bytes of value n.
pub fn pcrs(indices: &[u32]) -> BTreeMap<u32, Vec<u8>> {
    indices
        .iter()
        .map(|&i| (i, vec![u8::try_from(i).unwrap(); 32]))
        .collect()
}

fn clock() -> ClockInfo {
    ClockInfo {
        clock: 123_456,
        reset_count: 3,
        restart_count: 1,
        safe: true,
    }
}

/// A TPMS_ATTEST quoting `pcrs` in the SHA-256 bank with `nonce`.
pub fn quote_attest(nonce: &[u8], pcrs: &BTreeMap<u32, Vec<u8>>) -> TpmsAttest {
    quote_attest_by(&ak_public(), nonce, pcrs)
}

/// [`quote_attest`] by the AK `ak`.
pub fn quote_attest_by(ak: &TpmtPublic, nonce: &[u8], pcrs: &BTreeMap<u32, Vec<u8>>) -> TpmsAttest {
    let mut hasher = Sha256::new();
    for value in pcrs.values() {
        hasher.update(value);
    }
    TpmsAttest {
        qualified_signer: ak.name().unwrap(),
        extra_data: nonce.to_vec(),
        clock_info: clock(),
        firmware_version: 0x2019_1023_0016_3636,
        attested: Attested::Quote(QuoteInfo {
            pcr_select: PcrSelectionList(vec![
                PcrSelection::new(ALG_SHA256, pcrs.keys().copied()).unwrap(),
            ]),
            pcr_digest: hasher.finalize().to_vec(),
        }),
    }
}

/// A TPMS_ATTEST certifying `name` with `nonce`.
pub fn certify_attest(nonce: &[u8], name: &[u8]) -> TpmsAttest {
    TpmsAttest {
        qualified_signer: ak_public().name().unwrap(),
        extra_data: nonce.to_vec(),
        clock_info: clock(),
        firmware_version: 7,
        attested: Attested::Certify(CertifyInfo {
            name: name.to_vec(),
            qualified_name: name.to_vec(),
        }),
    }
}

/// A TPMT_SIGNATURE over `bytes` with `key`: RSASSA or RSAPSS, SHA-256.
pub fn sign(key_pem: &str, bytes: &[u8], pss: bool) -> Vec<u8> {
    sign_with(&private_key(key_pem), bytes, pss)
}

/// [`sign`] with a parsed key.
pub fn sign_with(key: &RsaPrivateKey, bytes: &[u8], pss: bool) -> Vec<u8> {
    let digest = Sha256::digest(bytes);
    let (sig_alg, signature) = if pss {
        let mut rng = rand_chacha::ChaCha20Rng::from_seed([9; 32]);
        (
            ALG_RSAPSS,
            key.sign_with_rng(&mut rng, Pss::new::<Sha256>(), &digest)
                .unwrap(),
        )
    } else {
        (
            ALG_RSASSA,
            key.sign(Pkcs1v15Sign::new::<Sha256>(), &digest).unwrap(),
        )
    };
    TpmtSignature {
        sig_alg,
        hash_alg: ALG_SHA256,
        signature,
    }
    .marshal()
    .unwrap()
}

/// One VM's vTPM in software: the EK and AK above (every `SoftTpm` has the same keys), PCR n holding
/// 32 bytes of value n (see [`pcrs`]). The keys are parsed once.
#[derive(Clone)]
pub struct SoftTpm {
    ek: RsaPrivateKey,
    ak: RsaPrivateKey,
    ak_public: TpmtPublic,
}

impl std::fmt::Debug for SoftTpm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftTpm").finish_non_exhaustive()
    }
}

impl Default for SoftTpm {
    fn default() -> Self {
        Self::new()
    }
}

impl SoftTpm {
    pub fn new() -> SoftTpm {
        SoftTpm {
            ek: private_key(EK_PRIVATE_PEM),
            ak: private_key(AK_PRIVATE_PEM),
            ak_public: ak_public(),
        }
    }

    /// The EK's TPM2B_PUBLIC, as a client sends it in `Attest`.
    pub fn ek_public_tpm2b(&self) -> Vec<u8> {
        TpmtPublic::rsa_ek(modulus(&self.ek)).to_tpm2b().unwrap()
    }

    /// The EK as an SPKI PEM: what Compute's shielded instance identity reports for the VM.
    pub fn ek_public_pem(&self) -> String {
        tokendist_core::tpm::ek_public_to_pem(&TpmtPublic::rsa_ek(modulus(&self.ek))).unwrap()
    }

    /// The AK's TPM2B_PUBLIC, as a client sends it in `Attest`.
    pub fn ak_public_tpm2b(&self) -> Vec<u8> {
        self.ak_public.to_tpm2b().unwrap()
    }

    /// The AK as an SPKI PEM (Compute's `signingKey`).
    pub fn ak_public_pem(&self) -> String {
        tokendist_core::tpm::ek_public_to_pem(&self.ak_public).unwrap()
    }

    /// ActivateCredential of the server's challenge (`Attest`'s TPM2B_ID_OBJECT and
    /// TPM2B_ENCRYPTED_SECRET) for this AK: the credential, or why the TPM would refuse it.
    pub fn activate(
        &self,
        credential_blob: &[u8],
        encrypted_secret: &[u8],
    ) -> Result<Vec<u8>, String> {
        let id_object = tpm2b_content(credential_blob, "TPM2B_ID_OBJECT")?;
        let encrypted_secret = tpm2b_content(encrypted_secret, "TPM2B_ENCRYPTED_SECRET")?;
        let ak_name = self.ak_public.name().map_err(|e| e.to_string())?;
        software_activate(&self.ek, &ak_name, id_object, encrypted_secret)
    }

    /// A quote by the AK of `indices` (SHA-256 bank) over `nonce`: (TPM2B_ATTEST, TPMT_SIGNATURE,
    /// the PCR values read with it), as a client sends them in `ProveAttestation`.
    pub fn quote(&self, nonce: &[u8], indices: &[u32]) -> Result<SoftQuote, String> {
        let values = pcrs(indices);
        let attest = quote_attest_by(&self.ak_public, nonce, &values)
            .marshal()
            .map_err(|e| e.to_string())?;
        let signature = sign_with(&self.ak, &attest, false);
        let attest = tokendist_core::tpm::marshal::tpm2b(&attest, "TPM2B_ATTEST")
            .map_err(|e| e.to_string())?;
        Ok(SoftQuote {
            attest,
            signature,
            values,
        })
    }
}

/// A quote of [`SoftTpm::quote`].
#[derive(Debug, Clone)]
pub struct SoftQuote {
    /// TPM2B_ATTEST.
    pub attest: Vec<u8>,
    /// TPMT_SIGNATURE over the TPMS_ATTEST.
    pub signature: Vec<u8>,
    /// The quoted PCR values.
    pub values: BTreeMap<u32, Vec<u8>>,
}

fn tpm2b_content<'a>(bytes: &'a [u8], what: &'static str) -> Result<&'a [u8], String> {
    tokendist_core::tpm::marshal::tpm2b_content(bytes, what).map_err(|e| e.to_string())
}
