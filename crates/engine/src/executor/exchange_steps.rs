//! One Exchange step, sent as one command through the Exchange client (never in a Graph `$batch`), and its
//! answer read as a [`StepResult`]:
//! - a write Exchange found already as wanted ([`exchange::Outcome::AlreadyDone`]), and a removal of something
//!   that is not there (not found), are done, with a note for the audit log;
//! - `AwaitMailbox` and `ConfirmMailboxShared` are reads: until the mailbox exists (or shows as shared) they
//!   answer [`StepResult::NotYet`], and the scheduler polls them again later without holding a slot;
//! - a plan with Exchange steps applied without an Exchange connection fails those steps, saying so.

use exchange::{ErrorKind, ExchangeClient, MailboxType, NewDistributionGroup, Outcome};
use model::{Action, AutoReplyState, MailGroupKind, MailboxKind, MembershipRestriction, SharedMailboxRight};

use super::outcome::StepResult;

/// Why an Exchange step fails when the run has no Exchange connection.
const NO_CONNECTION: &str = "this step needs an Exchange Online connection and the run has none: name one in \
                             `[connections] exchange` of tenure.toml (see `tenure connection list`)";

/// Exchange's limit on a list's `Alias`.
const MAX_ALIAS_LENGTH: usize = 64;

/// Whether the step is a read that waits for Exchange (answering "not yet" until the mailbox is ready).
pub(super) fn is_wait(action: &Action) -> bool {
    matches!(action, Action::AwaitMailbox { .. } | Action::ConfirmMailboxShared { .. })
}

/// Sends `action` through `client` and reads the answer.
pub(super) async fn run_exchange_step(client: Option<&ExchangeClient>, action: &Action) -> StepResult {
    let Some(client) = client else {
        return StepResult::Failed { error: NO_CONNECTION.to_string(), request_id: None };
    };
    match send(client, action).await {
        Ok(result) => result,
        Err(error) => {
            StepResult::Failed { error: error.to_string(), request_id: error.request_id().map(str::to_string) }
        }
    }
}

fn done(note: Option<&str>) -> StepResult {
    StepResult::Done { object_id: None, request_id: None, note: note.map(str::to_string) }
}

/// A write's outcome as a step result.
fn finished(outcome: Outcome) -> StepResult {
    match outcome {
        Outcome::Done => done(None),
        Outcome::AlreadyDone => done(Some("already so in Exchange")),
    }
}

/// A removal's outcome: a list, mailbox or member that is not found is already gone.
fn removal(result: exchange::Result<Outcome>) -> exchange::Result<StepResult> {
    match result {
        Ok(outcome) => Ok(finished(outcome)),
        Err(error) if matches!(error.kind(), ErrorKind::NotFound | ErrorKind::NotMember) => {
            Ok(done(Some("already gone in Exchange")))
        }
        Err(error) => Err(error),
    }
}

async fn send(client: &ExchangeClient, action: &Action) -> exchange::Result<StepResult> {
    let outcome = match action {
        Action::CreateMailList { name, kind, owner, join_restriction, depart_restriction } => {
            return create_list(client, name, *kind, owner.as_deref(), *join_restriction, *depart_restriction).await;
        }
        Action::AddMailListMember { list, member } => client.add_group_member(list, member).await?,
        Action::RemoveMailListMember { list, member } => {
            return removal(client.remove_group_member(list, member).await);
        }
        Action::AwaitMailbox { mailbox } => {
            return Ok(match client.get_exo_mailbox(mailbox).await? {
                Some(_) => done(None),
                None => StepResult::NotYet { reason: format!("the mailbox of {mailbox} is not provisioned yet") },
            });
        }
        Action::ConfirmMailboxShared { mailbox } => {
            return Ok(match client.get_exo_mailbox(mailbox).await? {
                Some(found) if found.kind == MailboxKind::Shared => done(None),
                Some(found) => StepResult::NotYet {
                    reason: format!(
                        "the mailbox of {mailbox} does not show as shared yet ({})",
                        found.kind.recipient_type_details()
                    ),
                },
                None => StepResult::NotYet { reason: format!("Exchange shows no mailbox for {mailbox} yet") },
            });
        }
        Action::GrantMailboxRight { mailbox, trustee, right, auto_mapping } => match right {
            SharedMailboxRight::FullAccess => client.add_full_access(mailbox, trustee, *auto_mapping).await?,
            SharedMailboxRight::SendAs => client.add_send_as(mailbox, trustee).await?,
            SharedMailboxRight::SendOnBehalf => client.grant_send_on_behalf(mailbox, trustee).await?,
        },
        Action::RevokeMailboxRight { mailbox, trustee, right } => {
            let result = match right {
                SharedMailboxRight::FullAccess => client.remove_full_access(mailbox, trustee).await,
                SharedMailboxRight::SendAs => client.remove_send_as(mailbox, trustee).await,
                SharedMailboxRight::SendOnBehalf => client.revoke_send_on_behalf(mailbox, trustee).await,
            };
            return removal(result);
        }
        Action::SetMailboxHidden { mailbox, hidden } => client.set_hidden_from_address_lists(mailbox, *hidden).await?,
        Action::SetAutoReply { mailbox, reply: Some(reply) } => {
            let external = reply.external.as_deref().unwrap_or_default();
            client.set_auto_reply(mailbox, &reply.internal, external, AutoReplyState::Enabled).await?
        }
        Action::SetAutoReply { mailbox, reply: None } => client.disable_auto_reply(mailbox).await?,
        Action::ConvertMailbox { mailbox, shared } => {
            let kind = if *shared { MailboxType::Shared } else { MailboxType::Regular };
            client.set_mailbox_type(mailbox, kind).await?
        }
        other => {
            return Ok(StepResult::Failed {
                error: format!("internal error: \"{}\" is not an Exchange step", other.kind()),
                request_id: None,
            });
        }
    };
    Ok(finished(outcome))
}

/// `New-DistributionGroup`; a list of that name that already exists (an earlier, interrupted attempt) is adopted.
async fn create_list(
    client: &ExchangeClient,
    name: &str,
    kind: MailGroupKind,
    owner: Option<&str>,
    join_restriction: MembershipRestriction,
    depart_restriction: MembershipRestriction,
) -> exchange::Result<StepResult> {
    let spec = NewDistributionGroup {
        name: name.to_string(),
        alias: list_alias(name),
        kind,
        managed_by: owner.map(str::to_string).into_iter().collect(),
        member_join_restriction: join_restriction,
        member_depart_restriction: depart_restriction,
    };
    match client.new_distribution_group(&spec).await {
        Ok(created) => Ok(StepResult::Done { object_id: created.object_id, request_id: None, note: None }),
        Err(error) if error.kind() == &ErrorKind::AlreadyExists => match client.get_distribution_group(name).await? {
            Some(existing) => Ok(StepResult::Done {
                object_id: existing.object_id,
                request_id: None,
                note: Some("a list of this name already existed; adopted".into()),
            }),
            None => Err(error),
        },
        Err(error) => Err(error),
    }
}

/// The `Alias` of a list Tenure creates, from its name: transliterated to ASCII, lower case, letters and digits
/// with single `-`, `_` or `.` between them (spaces become `-`), at most 64 characters.
pub(super) fn list_alias(name: &str) -> String {
    let mut alias = String::with_capacity(name.len());
    for character in deunicode::deunicode(name).chars() {
        let character = match character {
            'a'..='z' | '0'..='9' => character,
            'A'..='Z' => character.to_ascii_lowercase(),
            '-' | '_' | '.' => character,
            _ if character.is_whitespace() => '-',
            _ => continue,
        };
        let separator = matches!(character, '-' | '_' | '.');
        if separator && (alias.is_empty() || alias.ends_with(['-', '_', '.'])) {
            continue;
        }
        if alias.len() == MAX_ALIAS_LENGTH {
            break;
        }
        alias.push(character);
    }
    let alias = alias.trim_end_matches(['-', '_', '.']);
    if alias.is_empty() { "list".to_string() } else { alias.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_are_safe_ascii_made_from_the_name() {
        assert_eq!(list_alias("Vertrieb Österreich"), "vertrieb-osterreich");
        assert_eq!(list_alias("  Sales -- EMEA (all)  "), "sales-emea-all");
        assert_eq!(list_alias("R&D.Team_2"), "rd.team_2");
        assert_eq!(list_alias("!!!"), "list");
        let long = list_alias(&"x".repeat(100));
        assert_eq!(long.len(), MAX_ALIAS_LENGTH);
        assert!(!list_alias(&format!("{}-y", "a".repeat(63))).ends_with('-'));
    }

    #[test]
    fn only_mailbox_reads_wait() {
        assert!(is_wait(&Action::AwaitMailbox { mailbox: "a@contoso.com".into() }));
        assert!(is_wait(&Action::ConfirmMailboxShared { mailbox: "a@contoso.com".into() }));
        assert!(!is_wait(&Action::ConvertMailbox { mailbox: "a@contoso.com".into(), shared: true }));
    }
}
