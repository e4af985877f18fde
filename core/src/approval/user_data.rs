//! The approved user-data text kept with an approval ([`Approval::approved_user_data`]): usable only
//! after it hashes to the signed `user_data_sha256`, so a stored text edited after signing is never
//! shown as what Alice approved.

use super::Approval;
use crate::cloudconfig::user_data_sha256_b64;

/// Why an approval's kept user-data text cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ApprovedTextError {
    /// The approval keeps no text (approved before texts were kept, or the VM had no user-data).
    #[error("the approval keeps no user-data text (approved before the text was kept)")]
    Missing,
    /// The kept text does not hash to the signed `user_data_sha256`.
    #[error(
        "the stored approved text does not match the signed user-data hash; it was changed after signing"
    )]
    HashMismatch,
}

impl Approval {
    /// The approved user-data text, once it hashes to the signed `user_data_sha256`.
    pub fn verified_user_data(&self) -> Result<&str, ApprovedTextError> {
        let text = self
            .approved_user_data
            .as_deref()
            .ok_or(ApprovedTextError::Missing)?;
        if user_data_sha256_b64(text) == self.user_data_sha256 {
            Ok(text)
        } else {
            Err(ApprovedTextError::HashMismatch)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn approval_of(text: &str) -> Approval {
        let mut approval = Approval::unpinned("1", "vm", "p", "z", "me", Utc::now());
        approval.user_data_sha256 = user_data_sha256_b64(text);
        approval.approved_user_data = Some(text.to_owned());
        approval
    }

    #[test]
    fn the_kept_text_is_used_only_when_it_hashes_to_the_signed_value() {
        let mut approval = approval_of("#cloud-config\nruncmd: []\n");
        assert_eq!(
            approval.verified_user_data(),
            Ok("#cloud-config\nruncmd: []\n")
        );
        approval.approved_user_data = Some("#cloud-config\nruncmd: [sshd]\n".into());
        assert_eq!(
            approval.verified_user_data(),
            Err(ApprovedTextError::HashMismatch)
        );
        approval.approved_user_data = None;
        assert_eq!(
            approval.verified_user_data(),
            Err(ApprovedTextError::Missing)
        );
    }
}
