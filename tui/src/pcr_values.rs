//! The PCR values a secret is sealed to: `--pcr 0=HEX,7=HEX` from the command line, or by default the
//! values of the VM's last verified quote in the store's `attestations` — used only when the token
//! server's receipt key signed that record and its quote verifies again here, so whoever can write
//! the store cannot choose what Alice seals to. Only the SHA-256 bank is used (the bank every
//! tokendist policy and quote uses).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ed25519_dalek::VerifyingKey;
use serde::Serialize;
use tokendist_core::approval::PcrPolicy;
use tokendist_core::tpm::policy_pcr_digest;
use tokendist_store::AttestationRecord;

use crate::error::ConsoleError;

/// TPM_ALG_SHA256: the PCR bank of every policy the console writes.
pub const SHA256_BANK: u16 = 0x000B;
/// Size of one SHA-256 PCR value.
pub const SHA256_LEN: usize = 32;
/// Highest PCR index of a PC-client TPM.
pub const MAX_PCR_INDEX: u32 = 23;

/// Where the PCR values came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PcrSource {
    /// `--pcr` on the command line.
    CommandLine,
    /// The VM's last verified quote, as the token server recorded (and signed) it.
    LastVerifiedQuote { quoted_at: DateTime<Utc> },
}

/// The PCR values (SHA-256 bank) a secret is sealed to, and where they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcrChoice {
    pub source: PcrSource,
    pub values: BTreeMap<u32, Vec<u8>>,
}

impl PcrChoice {
    /// The approval's `pcr_policy`: SHA-256 bank, lower-case hex values.
    pub fn policy(&self) -> PcrPolicy {
        PcrPolicy {
            hash_alg: SHA256_BANK,
            pcrs: self
                .values
                .iter()
                .map(|(index, value)| (*index, hex::encode(value)))
                .collect(),
        }
    }

    /// The PolicyPCR digest a sealed data key requires.
    pub fn policy_digest(&self) -> Result<Vec<u8>, ConsoleError> {
        policy_pcr_digest(SHA256_BANK, &self.values)
            .map_err(|e| ConsoleError::Failed(format!("cannot compute the PCR policy: {e}")))
    }

    /// One line naming the source, then one line per PCR.
    pub fn describe(&self) -> String {
        let source = match &self.source {
            PcrSource::CommandLine => "--pcr on the command line".to_owned(),
            PcrSource::LastVerifiedQuote { quoted_at } => {
                format!("the VM's last verified quote ({})", quoted_at.to_rfc3339())
            }
        };
        let mut out = format!("  PCR policy (SHA-256) from {source}\n");
        for (index, value) in &self.values {
            out.push_str(&format!("    PCR {index:<2} {}\n", hex::encode(value)));
        }
        out
    }
}

/// Parses `--pcr` values (`INDEX=HEX`, each already split on commas). `None` when none was given.
pub fn parse_pcr_args(args: &[String]) -> Result<Option<BTreeMap<u32, Vec<u8>>>, ConsoleError> {
    if args.is_empty() {
        return Ok(None);
    }
    let mut values = BTreeMap::new();
    for arg in args {
        let (index, value) = parse_one(arg.trim())?;
        if values.insert(index, value).is_some() {
            return Err(ConsoleError::Usage(format!(
                "--pcr names PCR {index} twice; give each PCR once"
            )));
        }
    }
    Ok(Some(values))
}

fn parse_one(arg: &str) -> Result<(u32, Vec<u8>), ConsoleError> {
    let usage = |problem: String| {
        ConsoleError::Usage(format!(
            "--pcr {arg:?}: {problem}; use INDEX=HEX with a SHA-256 value, e.g. --pcr 0=24af52a4...,7=..."
        ))
    };
    let Some((index, value)) = arg.split_once('=') else {
        return Err(usage("no '=' between the PCR index and its value".into()));
    };
    let index: u32 = index
        .trim()
        .parse()
        .map_err(|_| usage(format!("{:?} is not a PCR index", index.trim())))?;
    if index > MAX_PCR_INDEX {
        return Err(usage(format!(
            "PCR {index} does not exist (0 to {MAX_PCR_INDEX})"
        )));
    }
    let value = value.trim();
    let value = value
        .strip_prefix("0x")
        .or_else(|| value.strip_prefix("0X"))
        .unwrap_or(value);
    let bytes = hex::decode(value).map_err(|_| usage("the value is not hex".into()))?;
    if bytes.len() != SHA256_LEN {
        return Err(usage(format!(
            "the value is {} bytes, a SHA-256 PCR has {SHA256_LEN}",
            bytes.len()
        )));
    }
    Ok((index, bytes))
}

/// What to do when the attestation record cannot be used.
const WHAT_TO_DO: &str = "the VM must attest to the token server at least once (start its \
    tokenclient: the server records the quote while the VM is pending), then run this again; or give \
    the values yourself with --pcr 0=HEX,7=HEX";

/// The PCR values to seal to: `given` (from `--pcr`) when present, else the VM's last verified quote
/// in `record`, once `receipt_key` (the token server's) verifies the record's signature and the quote
/// verifies again. Refuses (exit 3) when there is no usable quote, naming the record and what failed;
/// a missing `receipt_key` is a configuration error (exit 78).
pub fn choose(
    given: Option<&BTreeMap<u32, Vec<u8>>>,
    record: Option<&AttestationRecord>,
    instance_id: &str,
    vm: &str,
    receipt_key: Option<&VerifyingKey>,
) -> Result<PcrChoice, ConsoleError> {
    if let Some(values) = given {
        return Ok(PcrChoice {
            source: PcrSource::CommandLine,
            values: values.clone(),
        });
    }
    let Some(record) = record else {
        return Err(ConsoleError::Refused(format!(
            "{vm} has no TPM quote on record, so there are no PCR values to seal its secrets to; {WHAT_TO_DO}"
        )));
    };
    let Some(key) = receipt_key else {
        return Err(ConsoleError::Config(format!(
            "{vm}'s PCR values would come from the store's attestation record, which the console \
             trusts only when the token server's receipt key signed it: pass --server-receipt-key \
             receipt.pub (from `tokendist keygen --server`; or set TOKENDIST_SERVER_RECEIPT_KEY), or \
             give the values with --pcr 0=HEX,7=HEX"
        )));
    };
    let refused = |what: String| {
        ConsoleError::Refused(format!(
            "the attestation record attestations/{} of {vm} is refused: {what}; its PCR values are \
             not used. {WHAT_TO_DO}",
            record.instance_id
        ))
    };
    let fields = record.signed_fields();
    fields
        .verify_signature(record.server_signature.as_ref(), key)
        .map_err(|e| refused(e.to_string()))?;
    if record.instance_id != instance_id {
        return Err(refused(format!(
            "it was written for instance {}, not {instance_id}",
            record.instance_id
        )));
    }
    if !record.verified {
        return Err(ConsoleError::Refused(format!(
            "{vm}'s last TPM quote ({}) did not verify, so its PCR values cannot be trusted; {WHAT_TO_DO}",
            record.quoted_at.to_rfc3339()
        )));
    }
    if record.pcr_hash_alg != SHA256_BANK {
        return Err(ConsoleError::Refused(format!(
            "{vm}'s last quote is over PCR bank 0x{:04x}, not SHA-256 (0x000b); {WHAT_TO_DO}",
            record.pcr_hash_alg
        )));
    }
    if record.pcr_values.is_empty() {
        return Err(ConsoleError::Refused(format!(
            "{vm}'s last quote covers no PCRs; {WHAT_TO_DO}"
        )));
    }
    let values = fields.verify_quote().map_err(|e| refused(e.to_string()))?;
    if let Some((index, _)) = values
        .iter()
        .find(|(index, value)| value.len() != SHA256_LEN || **index > MAX_PCR_INDEX)
    {
        return Err(refused(format!(
            "it holds a malformed value for PCR {index}"
        )));
    }
    Ok(PcrChoice {
        source: PcrSource::LastVerifiedQuote {
            quoted_at: record.quoted_at,
        },
        values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(verified: bool) -> AttestationRecord {
        AttestationRecord {
            instance_id: "1".into(),
            ek_public: String::new(),
            ak_public: String::new(),
            pcr_hash_alg: SHA256_BANK,
            pcr_values: BTreeMap::from([(0, "aa".repeat(32)), (7, "0b".repeat(32))]),
            nonce: "00".into(),
            quoted_at: Utc::now(),
            verified,
            quote_attest: String::new(),
            quote_signature: String::new(),
            server_signature: None,
        }
    }

    fn server_key() -> ed25519_dalek::SigningKey {
        ed25519_dalek::SigningKey::from_bytes(&[9; 32])
    }

    fn signed(verified: bool) -> AttestationRecord {
        let mut record = record(verified);
        record.sign(&server_key());
        record
    }

    #[test]
    fn comma_split_values_parse_into_indices_and_bytes() {
        let args = vec![
            format!("0={}", "ab".repeat(32)),
            format!(" 7=0x{}", "CD".repeat(32)),
        ];
        let values = parse_pcr_args(&args).unwrap().unwrap();
        assert_eq!(values[&0], vec![0xab; 32]);
        assert_eq!(values[&7], vec![0xcd; 32]);
        assert_eq!(parse_pcr_args(&[]).unwrap(), None);
    }

    #[test]
    fn malformed_pcr_arguments_are_usage_errors_naming_the_problem() {
        let cases = [
            (format!("0:{}", "ab".repeat(32)), "no '='"),
            (format!("x={}", "ab".repeat(32)), "not a PCR index"),
            (format!("24={}", "ab".repeat(32)), "does not exist"),
            ("0=zz".to_owned(), "not hex"),
            ("0=abcd".to_owned(), "2 bytes"),
        ];
        for (arg, expected) in cases {
            match parse_pcr_args(std::slice::from_ref(&arg)) {
                Err(ConsoleError::Usage(message)) => {
                    assert!(message.contains(expected), "{arg}: {message}")
                }
                other => panic!("{arg}: expected a usage error, got {other:?}"),
            }
        }
        let twice = vec![format!("0={}", "ab".repeat(32)); 2];
        assert!(
            matches!(parse_pcr_args(&twice), Err(ConsoleError::Usage(m)) if m.contains("twice"))
        );
    }

    #[test]
    fn command_line_values_win_over_the_attestation_record() {
        let given = BTreeMap::from([(16, vec![1; 32])]);
        let choice = choose(Some(&given), Some(&record(true)), "1", "vm", None).unwrap();
        assert_eq!(choice.source, PcrSource::CommandLine);
        assert_eq!(choice.values, given);
    }

    #[test]
    fn no_record_or_an_unverified_quote_is_refused_saying_what_to_do() {
        let key = server_key().verifying_key();
        for record in [None, Some(signed(false))] {
            match choose(None, record.as_ref(), "1", "vm-a", Some(&key)) {
                Err(ConsoleError::Refused(message)) => {
                    assert!(message.contains("--pcr"), "{message}");
                    assert!(message.contains("attest"), "{message}");
                }
                other => panic!("expected a refusal, got {other:?}"),
            }
        }
    }

    #[test]
    fn a_record_is_used_only_with_the_servers_receipt_key() {
        let error = choose(None, Some(&signed(true)), "1", "vm-a", None).unwrap_err();
        assert!(
            matches!(&error, ConsoleError::Config(m) if m.contains("--server-receipt-key")),
            "{error:?}"
        );
    }

    #[test]
    fn unsigned_edited_foreign_or_quoteless_records_are_refused_by_name() {
        let key = server_key().verifying_key();
        let mut edited = signed(true);
        edited.pcr_values.insert(7, "cc".repeat(32));
        let mut other_vm = record(true);
        other_vm.instance_id = "2".into();
        other_vm.sign(&server_key());
        let cases = [
            (record(true), "no server signature"),
            (edited, "changed after the token server wrote it"),
            (other_vm, "written for instance 2"),
            (signed(true), "no TPM quote"),
        ];
        for (record, expected) in cases {
            match choose(None, Some(&record), "1", "vm-a", Some(&key)) {
                Err(ConsoleError::Refused(message)) => {
                    assert!(message.contains("attestations/"), "{message}");
                    assert!(message.contains(expected), "{expected}: {message}");
                }
                other => panic!("{expected}: expected a refusal, got {other:?}"),
            }
        }
    }
}
