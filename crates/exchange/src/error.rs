//! The crate's one error type, what kind of failure each is, and the single place that decides what is worth
//! retrying ([`Error::is_transient`]).
//!
//! An [`Error`] keeps the cmdlet, the HTTP status, Exchange's exception type and message, the `request-id` and any
//! `Retry-After`; its [`ErrorKind`] is what callers branch on. `Display` is one sentence an admin can act on:
//! a refusal by RBAC names the management role that grants the cmdlet or parameter. Nothing here ever holds an
//! access token: messages come from Exchange's answer or from the transport, never from the request.

use std::fmt;
use std::time::Duration;

use crate::role_hint;

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an [`Error`] is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The object does not exist (or is not yet visible): `ManagementObjectNotFoundException`, or a 404.
    NotFound,
    /// What the cmdlet would create or add is already there: `MemberAlreadyExistsException`, a name or address
    /// already in use.
    AlreadyExists,
    /// The recipient to remove is not a member of the group (`MemberNotFoundException`).
    NotMember,
    /// The caller's Exchange roles do not grant the cmdlet ("User is not allowed to call …", or a refusal naming
    /// the role it requires).
    RbacDenied {
        /// The cmdlet refused.
        cmdlet: String,
    },
    /// A parameter the caller's roles do not grant: RBAC hides it, so binding says it "cannot be found".
    ParameterHidden {
        /// The hidden parameter.
        parameter: String,
    },
    /// Throttled (429) after every attempt: the request quota is spent or too many requests ran at once.
    Throttled,
    /// A failure that may pass (408, 5xx, timeouts, dropped or refused connections) after every attempt.
    Transient,
    /// Exchange refused the access token (401 other than RBAC).
    Unauthenticated,
    /// No access token could be had from the provider.
    Token,
    /// Exchange answered success with a body the client cannot use.
    InvalidResponse,
    /// The client was configured or called wrongly.
    Usage,
    /// Any other refusal (a validation error, a parameter of the wrong type, …).
    Other,
}

/// A failed call to the Exchange admin API. Never contains an access token.
///
/// Boxed, so that a `Result` stays small on the happy path.
#[derive(Debug)]
pub struct Error {
    pub(crate) inner: Box<Details>,
}

/// What an [`Error`] knows.
#[derive(Debug)]
pub(crate) struct Details {
    pub(crate) kind: ErrorKind,
    pub(crate) cmdlet: String,
    pub(crate) status: Option<u16>,
    pub(crate) exception_type: Option<String>,
    pub(crate) message: String,
    pub(crate) request_id: Option<String>,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) role: Option<&'static str>,
    pub(crate) token_error: Option<model::TokenError>,
}

impl Error {
    /// An error of `kind` for `cmdlet` with `message`; the other fields are filled in by the builders below.
    pub(crate) fn new(kind: ErrorKind, cmdlet: &str, message: impl Into<String>) -> Error {
        let role = match &kind {
            ErrorKind::RbacDenied { cmdlet } => role_hint::role_for_cmdlet(cmdlet),
            ErrorKind::ParameterHidden { parameter } => role_hint::role_for_parameter(cmdlet, parameter),
            _ => None,
        };
        Error {
            inner: Box::new(Details {
                kind,
                cmdlet: cmdlet.to_string(),
                status: None,
                exception_type: None,
                message: message.into(),
                request_id: None,
                retry_after: None,
                role,
                token_error: None,
            }),
        }
    }

    /// The [`ErrorKind::Usage`] error for a call or configuration that cannot work.
    pub(crate) fn usage(cmdlet: &str, message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Usage, cmdlet, message)
    }

    /// The [`ErrorKind::Token`] error for a provider failure.
    pub(crate) fn token(cmdlet: &str, source: model::TokenError) -> Error {
        let mut error = Error::new(ErrorKind::Token, cmdlet, source.message.clone());
        error.inner.token_error = Some(source);
        error
    }

    /// The [`ErrorKind::Transient`] error for a request that got no (complete) answer.
    pub(crate) fn transport(cmdlet: &str, error: &reqwest::Error) -> Error {
        let what = if error.is_timeout() {
            "timed out"
        } else if error.is_connect() {
            "could not connect"
        } else {
            "the connection failed"
        };
        Error::new(ErrorKind::Transient, cmdlet, format!("{what}: {}", transport_detail(error)))
    }

    /// What kind of failure this is.
    #[must_use]
    pub fn kind(&self) -> &ErrorKind {
        &self.inner.kind
    }

    /// The cmdlet that failed (or the operation, for errors outside a cmdlet).
    #[must_use]
    pub fn cmdlet(&self) -> &str {
        &self.inner.cmdlet
    }

    /// The HTTP status, when Exchange answered.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        self.inner.status
    }

    /// Exchange's exception type (`Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException`).
    #[must_use]
    pub fn exception_type(&self) -> Option<&str> {
        self.inner.exception_type.as_deref()
    }

    /// Exchange's message (or the transport's).
    #[must_use]
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// Exchange's `request-id`, for support cases.
    #[must_use]
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }

    /// The `Retry-After` Exchange asked for, if any.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }

    /// The Exchange management role that would allow what was refused, where known.
    #[must_use]
    pub fn required_role(&self) -> Option<&'static str> {
        self.inner.role
    }

    /// Whether trying again later may help: throttling, 408/5xx, transport failures, and token failures the
    /// provider marks transient. Everything else (404, 400, RBAC, a refused token) is not.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        match self.inner.kind {
            ErrorKind::Throttled | ErrorKind::Transient => true,
            ErrorKind::Token => self.inner.token_error.as_ref().is_some_and(|source| source.transient),
            _ => false,
        }
    }

    /// What went wrong, in words, without Exchange's own message.
    fn explanation(&self) -> String {
        let role = |fallback: &str| match self.inner.role {
            Some(role) => format!("add the \"{role}\" role to it"),
            None => fallback.to_string(),
        };
        match &self.inner.kind {
            ErrorKind::NotFound => "Exchange has no such object (or does not show it yet)".into(),
            ErrorKind::AlreadyExists => "it already exists in Exchange".into(),
            ErrorKind::NotMember => "the recipient is not a member of the group".into(),
            ErrorKind::RbacDenied { cmdlet } => format!(
                "the connection's Exchange role group does not allow {cmdlet}; {}",
                role("add a role that grants it")
            ),
            ErrorKind::ParameterHidden { parameter } => format!(
                "Exchange hides the parameter -{parameter} from this connection because its role group lacks the role that grants it; {}",
                role("add that role")
            ),
            ErrorKind::Throttled => match self.inner.retry_after {
                Some(after) => format!("Exchange throttled the request (retry after {} s)", after.as_secs()),
                None => "Exchange throttled the request".into(),
            },
            ErrorKind::Transient => "Exchange or the network failed for now".into(),
            ErrorKind::Unauthenticated => "Exchange refused the access token".into(),
            ErrorKind::Token => "no access token for Exchange could be had".into(),
            ErrorKind::InvalidResponse => "Exchange's answer could not be read".into(),
            ErrorKind::Usage => "the Exchange client cannot make this call".into(),
            ErrorKind::Other => "Exchange refused it".into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {}", self.inner.cmdlet, self.explanation())?;
        let message = self.inner.message.trim().trim_end_matches('.');
        if !message.is_empty() {
            write!(f, ": {message}")?;
        }
        match (self.inner.status, &self.inner.request_id) {
            (Some(status), Some(id)) => write!(f, " (HTTP {status}, request-id {id})")?,
            (Some(status), None) => write!(f, " (HTTP {status})")?,
            (None, Some(id)) => write!(f, " (request-id {id})")?,
            (None, None) => {}
        }
        f.write_str(".")
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.token_error.as_ref().map(|source| source as &(dyn std::error::Error + 'static))
    }
}

/// A transport error's text without its URL (next links carry skip tokens that do not belong in logs), with
/// its sources.
fn transport_detail(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(&format!(" for url ({url})"), "").replace(url.as_str(), "[url]");
    }
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(kind: ErrorKind, cmdlet: &str, status: u16, message: &str) -> Error {
        let mut error = Error::new(kind, cmdlet, message);
        error.inner.status = Some(status);
        error.inner.request_id = Some("rid-1".into());
        error
    }

    #[test]
    fn rbac_refusals_name_the_role_to_add() {
        let denied = answered(
            ErrorKind::RbacDenied { cmdlet: "Set-Mailbox".into() },
            "Set-Mailbox",
            401,
            "User is not allowed to call Set-Mailbox",
        );
        assert_eq!(
            denied.to_string(),
            "Set-Mailbox failed: the connection's Exchange role group does not allow Set-Mailbox; add the \"Mail Recipients\" role to it: User is not allowed to call Set-Mailbox (HTTP 401, request-id rid-1)."
        );
        let hidden = answered(
            ErrorKind::ParameterHidden { parameter: "BypassSecurityGroupManagerCheck".into() },
            "Add-DistributionGroupMember",
            400,
            "A parameter cannot be found that matches parameter name 'BypassSecurityGroupManagerCheck'.",
        );
        assert_eq!(hidden.required_role(), Some("Security Group Creation and Membership"));
        assert!(hidden.to_string().contains("-BypassSecurityGroupManagerCheck"));
        assert!(hidden.to_string().contains("add the \"Security Group Creation and Membership\" role"));
        let creation = Error::new(ErrorKind::RbacDenied { cmdlet: "New-Mailbox".into() }, "New-Mailbox", "");
        assert_eq!(creation.required_role(), Some("Mail Recipient Creation"));
    }

    #[test]
    fn only_throttling_and_passing_failures_are_transient() {
        assert!(Error::new(ErrorKind::Throttled, "Get-Mailbox", "").is_transient());
        assert!(Error::new(ErrorKind::Transient, "Get-Mailbox", "").is_transient());
        for kind in [ErrorKind::NotFound, ErrorKind::Unauthenticated, ErrorKind::Other, ErrorKind::AlreadyExists] {
            assert!(!Error::new(kind, "Get-Mailbox", "").is_transient());
        }
        let token = |transient| {
            Error::token("Get-Mailbox", model::TokenError { message: "no".into(), transient, needs_relink: false })
        };
        assert!(token(true).is_transient());
        assert!(!token(false).is_transient());
        assert!(std::error::Error::source(&token(false)).is_some());
    }

    #[test]
    fn every_message_is_one_sentence() {
        let throttled = {
            let mut error = Error::new(ErrorKind::Throttled, "Get-Mailbox", "Too many.");
            error.inner.retry_after = Some(Duration::from_secs(3));
            error
        };
        assert_eq!(
            throttled.to_string(),
            "Get-Mailbox failed: Exchange throttled the request (retry after 3 s): Too many."
        );
        let plain = Error::new(ErrorKind::NotMember, "Remove-DistributionGroupMember", "");
        assert_eq!(
            plain.to_string(),
            "Remove-DistributionGroupMember failed: the recipient is not a member of the group."
        );
    }
}
