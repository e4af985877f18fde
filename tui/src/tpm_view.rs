//! The TPM section of `show` (DESIGN §8 "TPM" tab): where the EK comes from and its fingerprint
//! (against the EK the approval pinned), the AK, and the last quote's PCR values against the
//! approval's PCR policy, ✔ / ✘ per PCR. Built from the live shielded identity, the stored approval
//! and the store's attestation record; [`TpmView`] is also `show --json`'s `tpm` object.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use ed25519_dalek::VerifyingKey;
use serde::Serialize;
use tokendist_core::approval::Approval;
use tokendist_core::evidence::{Fetched, ShieldedIdentity};
use tokendist_core::tpm::attest::{ClockInfo, TpmsAttest};
use tokendist_core::tpm::{check_ak_template, ek_matches_pem};
use tokendist_store::AttestationRecord;

use crate::tpm_target::{ek_pem_fingerprint, stored_public};

/// Where the EK the console seals to comes from.
pub const EK_SOURCE: &str = "Compute shielded instance identity (encryptionKey.ekPub)";

/// The EK as Google publishes it, and how it compares with the approval's and the last quote's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EkView {
    pub source: &'static str,
    /// SHA-256 of the live EK's modulus, hex; null when there is none (or it could not be read).
    pub fingerprint: Option<String>,
    /// Whether Google publishes an EK certificate.
    pub certificate: bool,
    /// Why there is no fingerprint.
    pub problem: Option<String>,
    /// SHA-256 of the modulus of the EK the approval pinned; null without a TPM approval.
    pub approved_fingerprint: Option<String>,
    /// Whether the live EK is the approved one; null when either is missing.
    pub matches_approval: Option<bool>,
    /// Whether the last quote's TPM has the live EK; null without a quote.
    pub matches_last_quote: Option<bool>,
}

/// The AK: whether Google publishes one, and the one the VM last attested with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AkView {
    pub published_by_google: bool,
    /// Name (`000b` + SHA-256 of its public area) of the last attested AK, hex.
    pub attested_name: Option<String>,
    /// Null when the AK is a restricted signing key as tokendist requires, else why not.
    pub attested_template_problem: Option<String>,
}

/// The last quote the token server recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuoteView {
    pub quoted_at: DateTime<Utc>,
    pub verified: bool,
    pub pcr_hash_alg: u16,
    /// The session nonce the quote covered, hex.
    pub nonce: String,
    /// The TPM's reset and restart counters from the quote's clock info (null when the record
    /// holds no quote bytes or they do not decode).
    pub reset_count: Option<u32>,
    pub restart_count: Option<u32>,
    /// Whether the record is the token server's: `"verified"` (its receipt key signed it and the
    /// quote verifies again), `"refused"` (see `record_problem`) or `"not_checked"` (no
    /// `--server-receipt-key`).
    pub record_signature: &'static str,
    /// Why the record is refused.
    pub record_problem: Option<String>,
}

/// The clock info of a stored quote (`TPMS_ATTEST`, base64), when it decodes.
fn quote_clock(attest_base64: &str) -> Option<ClockInfo> {
    let bytes = STANDARD.decode(attest_base64).ok()?;
    TpmsAttest::unmarshal(&bytes).ok().map(|a| a.clock_info)
}

/// How one PCR of the policy compares with the last quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PcrOutcome {
    /// The quoted value equals the policy's.
    Match,
    /// The quoted value differs.
    Mismatch,
    /// The policy pins it but the quote did not cover it.
    NotQuoted,
    /// Quoted, but not pinned by a policy.
    NotInPolicy,
}

/// One PCR row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PcrRow {
    pub index: u32,
    pub policy: Option<String>,
    pub quoted: Option<String>,
    pub outcome: PcrOutcome,
}

/// `show`'s TPM section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TpmView {
    pub ek: EkView,
    pub ak: AkView,
    /// Null when the VM has not attested yet.
    pub last_quote: Option<QuoteView>,
    /// Whether the rows compare against an approval's PCR policy (false: quote values only).
    pub has_policy: bool,
    pub pcrs: Vec<PcrRow>,
}

impl TpmView {
    pub fn new(
        shielded: &Fetched<ShieldedIdentity>,
        approval: Option<&Approval>,
        record: Option<&AttestationRecord>,
        receipt_key: Option<&VerifyingKey>,
    ) -> TpmView {
        let live_pem = shielded.as_ref().ok().and_then(|s| s.ek_pub_pem.as_deref());
        let (fingerprint, problem) = match (shielded, live_pem) {
            (Err(e), _) => (
                None,
                Some(format!("the shielded identity could not be read: {e}")),
            ),
            (Ok(_), None) => (None, Some("Google publishes no EK for this VM".to_owned())),
            (Ok(_), Some(pem)) => match ek_pem_fingerprint(pem) {
                Ok(f) => (Some(f), None),
                Err(e) => (None, Some(e)),
            },
        };
        let approved_fingerprint = approval
            .and_then(|a| a.ek_public_pem.as_deref())
            .and_then(|pem| ek_pem_fingerprint(pem).ok());
        let matches_approval = match (&fingerprint, &approved_fingerprint) {
            (Some(live), Some(approved)) => Some(live == approved),
            _ => None,
        };
        let matches_last_quote = match (record, live_pem) {
            (Some(r), Some(pem)) => {
                Some(stored_public(&r.ek_public).is_some_and(|ek| ek_matches_pem(&ek, pem)))
            }
            _ => None,
        };
        let attested_ak = record.map(|r| stored_public(&r.ak_public));
        let ak = AkView {
            published_by_google: shielded.as_ref().is_ok_and(|s| s.ak_pub_pem.is_some()),
            attested_name: attested_ak
                .as_ref()
                .and_then(|ak| ak.as_ref()?.name().ok())
                .map(hex::encode),
            attested_template_problem: match &attested_ak {
                None => None,
                Some(None) => Some("the recorded AK public area is malformed".to_owned()),
                Some(Some(ak)) => check_ak_template(ak).err().map(|e| e.to_string()),
            },
        };
        let policy = approval.and_then(|a| a.pcr_policy.as_ref());
        let quoted = record.map(|r| &r.pcr_values);
        let indices: BTreeSet<u32> = policy
            .iter()
            .flat_map(|p| p.pcrs.keys())
            .chain(quoted.iter().flat_map(|q| q.keys()))
            .copied()
            .collect();
        let pcrs = indices
            .into_iter()
            .map(|index| {
                let pinned = policy.and_then(|p| p.pcrs.get(&index)).cloned();
                let seen = quoted.and_then(|q| q.get(&index)).cloned();
                let outcome = match (&pinned, &seen) {
                    (Some(p), Some(q)) if p.eq_ignore_ascii_case(q) => PcrOutcome::Match,
                    (Some(_), Some(_)) => PcrOutcome::Mismatch,
                    (Some(_), None) => PcrOutcome::NotQuoted,
                    (None, _) => PcrOutcome::NotInPolicy,
                };
                PcrRow {
                    index,
                    policy: pinned,
                    quoted: seen,
                    outcome,
                }
            })
            .collect();
        TpmView {
            ek: EkView {
                source: EK_SOURCE,
                fingerprint,
                certificate: shielded.as_ref().is_ok_and(|s| s.ek_cert_pem.is_some()),
                problem,
                approved_fingerprint,
                matches_approval,
                matches_last_quote,
            },
            ak,
            last_quote: record.map(|r| {
                let (record_signature, record_problem) = match receipt_key.map(|k| r.verify(k)) {
                    None => ("not_checked", None),
                    Some(Ok(_)) => ("verified", None),
                    Some(Err(e)) => ("refused", Some(e.to_string())),
                };
                let clock = quote_clock(&r.quote_attest);
                QuoteView {
                    quoted_at: r.quoted_at,
                    verified: r.verified,
                    pcr_hash_alg: r.pcr_hash_alg,
                    nonce: r.nonce.clone(),
                    reset_count: clock.map(|c| c.reset_count),
                    restart_count: clock.map(|c| c.restart_count),
                    record_signature,
                    record_problem,
                }
            }),
            has_policy: policy.is_some(),
            pcrs,
        }
    }

    /// The section as text.
    pub fn render(&self) -> String {
        let mut out = String::from("\nTPM\n");
        let ek = &self.ek;
        let live = match (&ek.fingerprint, &ek.problem) {
            (Some(f), _) => format!(
                "from the {}; SHA-256 of modulus {f}; certificate {}",
                ek.source,
                if ek.certificate {
                    "published"
                } else {
                    "not published"
                }
            ),
            (None, Some(problem)) => format!("unknown: {problem}"),
            (None, None) => "unknown".to_owned(),
        };
        let _ = writeln!(out, "  EK                 {live}");
        let approved = match (ek.matches_approval, &ek.approved_fingerprint) {
            (Some(true), _) => "✔ the live EK is the approved one".to_owned(),
            (Some(false), Some(f)) => format!("✘ the live EK differs from the approved one ({f})"),
            (_, Some(f)) => format!("– approved {f}; the live EK is unknown"),
            (_, None) => "– none pinned (no approval sealed to the vTPM)".to_owned(),
        };
        let _ = writeln!(out, "  approved EK        {approved}");
        let ak = match (&self.ak.attested_name, &self.ak.attested_template_problem) {
            (Some(name), None) => format!("last attested: name {name}, restricted signing key ✔"),
            (Some(name), Some(problem)) => format!("last attested: name {name} ✘ {problem}"),
            (None, Some(problem)) => format!("✘ {problem}"),
            (None, None) => "not attested yet".to_owned(),
        };
        let _ = writeln!(
            out,
            "  AK                 {ak}; Google publishes an AK: {}",
            if self.ak.published_by_google {
                "yes"
            } else {
                "no"
            }
        );
        match &self.last_quote {
            Some(q) => {
                let by_ek = match ek.matches_last_quote {
                    Some(true) => "; quoted by the TPM of the live EK ✔",
                    Some(false) => "; ✘ quoted by a TPM with a different EK",
                    None => "",
                };
                let _ = writeln!(
                    out,
                    "  last quote         {} ({}), bank 0x{:04x}{by_ek}",
                    q.quoted_at.to_rfc3339(),
                    if q.verified {
                        "verified"
                    } else {
                        "NOT verified"
                    },
                    q.pcr_hash_alg
                );
                let record = match (q.record_signature, &q.record_problem) {
                    ("verified", _) => {
                        "✔ signed by the token server's receipt key; the quote verifies".to_owned()
                    }
                    (_, Some(problem)) => format!("✘ refused: {problem}"),
                    _ => "– not checked (pass --server-receipt-key to verify it)".to_owned(),
                };
                let counter = |c: Option<u32>| c.map_or_else(|| "-".to_owned(), |c| c.to_string());
                let _ = writeln!(
                    out,
                    "  quote nonce        {}; reset/restart counters {} / {}",
                    q.nonce,
                    counter(q.reset_count),
                    counter(q.restart_count)
                );
                let _ = writeln!(out, "  quote record       {record}");
            }
            None => {
                let _ = writeln!(
                    out,
                    "  last quote         none: the VM has not attested to the token server yet"
                );
            }
        }
        if self.pcrs.is_empty() {
            return out;
        }
        let _ = writeln!(
            out,
            "  {}",
            if self.has_policy {
                "PCRs (the approval's policy against the last quote)"
            } else {
                "PCRs of the last quote (no approval policy yet: approve would seal to these)"
            }
        );
        for row in &self.pcrs {
            let none = "-".to_owned();
            let line = match row.outcome {
                PcrOutcome::Match => format!(
                    "✔ PCR {:<2} {}",
                    row.index,
                    row.quoted.as_ref().unwrap_or(&none)
                ),
                PcrOutcome::Mismatch => format!(
                    "✘ PCR {:<2} policy {}, quoted {}",
                    row.index,
                    row.policy.as_ref().unwrap_or(&none),
                    row.quoted.as_ref().unwrap_or(&none)
                ),
                PcrOutcome::NotQuoted => format!(
                    "✘ PCR {:<2} policy {}, not in the last quote",
                    row.index,
                    row.policy.as_ref().unwrap_or(&none)
                ),
                PcrOutcome::NotInPolicy => format!(
                    "– PCR {:<2} {}{}",
                    row.index,
                    row.quoted.as_ref().unwrap_or(&none),
                    if self.has_policy {
                        " (not in the policy)"
                    } else {
                        ""
                    }
                ),
            };
            let _ = writeln!(out, "    {line}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use tokendist_core::approval::PcrPolicy;

    use super::*;

    fn record(values: &[(u32, &str)]) -> AttestationRecord {
        AttestationRecord {
            instance_id: "1".into(),
            ek_public: String::new(),
            ak_public: String::new(),
            pcr_hash_alg: 0x000B,
            pcr_values: values.iter().map(|(i, v)| (*i, (*v).to_owned())).collect(),
            nonce: String::new(),
            quoted_at: Utc::now(),
            verified: true,
            quote_attest: String::new(),
            quote_signature: String::new(),
            server_signature: None,
        }
    }

    fn no_identity() -> Fetched<ShieldedIdentity> {
        Ok(ShieldedIdentity {
            ek_pub_pem: None,
            ek_cert_pem: None,
            ak_pub_pem: None,
            ak_cert_pem: None,
        })
    }

    fn approval() -> Approval {
        Approval {
            revision: 1,
            ..Approval::unpinned("1", "a", "p", "z", "me", Utc::now())
        }
    }

    #[test]
    fn each_policy_pcr_is_compared_with_the_last_quote() {
        let mut approval = approval();
        approval.pcr_policy = Some(PcrPolicy {
            hash_alg: 0x000B,
            pcrs: BTreeMap::from([(0, "aa".into()), (7, "bb".into()), (9, "cc".into())]),
        });
        let view = TpmView::new(
            &no_identity(),
            Some(&approval),
            Some(&record(&[(0, "AA"), (7, "b0"), (14, "dd")])),
            None,
        );
        let outcomes: Vec<(u32, PcrOutcome)> =
            view.pcrs.iter().map(|r| (r.index, r.outcome)).collect();
        assert_eq!(
            outcomes,
            [
                (0, PcrOutcome::Match),
                (7, PcrOutcome::Mismatch),
                (9, PcrOutcome::NotQuoted),
                (14, PcrOutcome::NotInPolicy)
            ]
        );
        let text = view.render();
        assert!(text.contains("✔ PCR 0"), "{text}");
        assert!(text.contains("✘ PCR 7  policy bb, quoted b0"), "{text}");
        assert!(
            text.contains("✘ PCR 9  policy cc, not in the last quote"),
            "{text}"
        );
        assert!(text.contains("Google publishes no EK"), "{text}");
        assert!(text.contains("quote record       – not checked"), "{text}");
        // With the server's key, an unsigned record is refused by name.
        let key = ed25519_dalek::SigningKey::from_bytes(&[3; 32]).verifying_key();
        let view = TpmView::new(
            &no_identity(),
            Some(&approval),
            Some(&record(&[(0, "aa")])),
            Some(&key),
        );
        assert!(
            view.render()
                .contains("✘ refused: it carries no server signature"),
            "{}",
            view.render()
        );
    }

    #[test]
    fn without_attestation_the_section_says_so() {
        let view = TpmView::new(&no_identity(), None, None, None);
        assert!(view.pcrs.is_empty() && view.last_quote.is_none());
        assert!(view.render().contains("has not attested"));
    }
}
