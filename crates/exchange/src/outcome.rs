//! [`Outcome`]: what a write did — changed something, or found it already as wanted — and the warnings by which
//! Exchange says the latter.
//!
//! Exchange does not fail a write that changes nothing; it succeeds with a warning in `@adminapi.warnings`:
//! "The appropriate access control entry is already present …" for a grant that exists, "… because the ACE
//! doesn't exist on the object" / "… because the ACE isn't present" for a removal of one that does not (CIPP
//! matches these texts), and "The command completed successfully but no settings of '…' have been modified."
//! for a `Set-*` cmdlet. Membership is the exception: adding a member twice, or removing a non-member, is an
//! error (`MemberAlreadyExistsException`, `MemberNotFoundException`), which the group operations map here too.

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exchange changed something.
    Done,
    /// It was already as wanted; nothing changed.
    AlreadyDone,
}

fn any_warning(warnings: &[String], needles: &[&str]) -> bool {
    warnings.iter().any(|warning| {
        let lower = warning.to_ascii_lowercase();
        needles.iter().any(|needle| lower.contains(needle))
    })
}

/// The outcome of a grant: already done when Exchange warned the entry is already present.
pub(crate) fn of_grant(warnings: &[String]) -> Outcome {
    if any_warning(warnings, &["already present"]) { Outcome::AlreadyDone } else { Outcome::Done }
}

/// The outcome of a removal of a grant: already done when Exchange warned there was no such entry.
pub(crate) fn of_revoke(warnings: &[String]) -> Outcome {
    if any_warning(warnings, &["doesn't exist", "isn't present", "does not exist", "is not present"]) {
        Outcome::AlreadyDone
    } else {
        Outcome::Done
    }
}

/// The outcome of a `Set-*` cmdlet: already done when Exchange warned no setting was modified.
pub(crate) fn of_set(warnings: &[String]) -> Outcome {
    if any_warning(warnings, &["no settings of"]) { Outcome::AlreadyDone } else { Outcome::Done }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_tell_what_was_already_so() {
        let present = vec![
            "The appropriate access control entry is already present on the object \"CN=AlexW\" for account \"X\\AdeleV\"."
                .to_string(),
        ];
        assert_eq!(of_grant(&present), Outcome::AlreadyDone);
        assert_eq!(of_grant(&[]), Outcome::Done);
        let absent = vec!["Can't remove the access control entry on the object \"x\" for account \"y\" because the ACE doesn't exist on the object.".to_string()];
        assert_eq!(of_revoke(&absent), Outcome::AlreadyDone);
        let absent_send_as = vec!["… because the ACE isn't present.".to_string()];
        assert_eq!(of_revoke(&absent_send_as), Outcome::AlreadyDone);
        let unchanged =
            vec!["The command completed successfully but no settings of 'AlexW' have been modified.".to_string()];
        assert_eq!(of_set(&unchanged), Outcome::AlreadyDone);
        assert_eq!(of_set(&["What if: Set-Mailbox would run".to_string()]), Outcome::Done);
    }
}
