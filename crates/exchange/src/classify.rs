//! Turns an error answer into an [`Error`] of the right [`ErrorKind`].
//!
//! Exchange's error envelope carries the cmdlet's error in `error.details[0].message` as
//! `<ErrId>|<ExceptionType>|<Message>`; when that is missing the message is taken, as CIPP does, from
//! `error.innererror.internalexception.message`, then `error.message`, and the exception type from the
//! `X-ExceptionType` header (ExoHelper's order; reference §4.2). The plain-text concurrency 429 has no envelope.
//!
//! The kind comes from the status first (429 throttled; 408 and 5xx transient; 401 either RBAC — "User is not
//! allowed to call X" — or a refused token), then from the exception type, then from a role the message names.

use serde_json::Value;

use crate::answer::Answer;
use crate::error::{Error, ErrorKind};
use crate::role_hint;

/// The parts of an error envelope.
#[derive(Debug, Default, PartialEq, Eq)]
struct ErrorBody {
    exception_type: Option<String>,
    message: String,
}

/// A member of a JSON object, by case-insensitive name (the envelope spells `innererror`/`innerError` both ways).
fn member<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    value.as_object()?.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value)
}

fn text_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut current = value;
    for name in path {
        current = member(current, name)?;
    }
    current.as_str().filter(|text| !text.trim().is_empty())
}

fn parse_body(body: &Value) -> ErrorBody {
    let error = member(body, "error").unwrap_or(&Value::Null);
    let detail =
        member(error, "details").and_then(|details| details.get(0)).and_then(|detail| member(detail, "message"));
    if let Some(detail) = detail.and_then(Value::as_str) {
        let parts: Vec<&str> = detail.splitn(3, '|').collect();
        return match parts.as_slice() {
            [_, exception_type, message] => {
                ErrorBody { exception_type: Some((*exception_type).to_string()), message: (*message).to_string() }
            }
            _ => ErrorBody { exception_type: None, message: detail.to_string() },
        };
    }
    let message = text_at(error, &["innererror", "internalexception", "message"])
        .or_else(|| text_at(error, &["message"]))
        .map(str::to_string)
        .or_else(|| body.as_str().map(|text| text.chars().take(300).collect()))
        .unwrap_or_default();
    ErrorBody { exception_type: None, message }
}

/// The parameter a "A parameter cannot be found that matches parameter name 'X'." message names.
fn hidden_parameter(message: &str) -> Option<String> {
    let rest = message.split("matches parameter name '").nth(1)?;
    rest.split('\'').next().filter(|name| !name.is_empty()).map(str::to_string)
}

/// The cmdlet a "User is not allowed to call X" message names.
fn refused_cmdlet(message: &str) -> Option<String> {
    let rest = message.split("is not allowed to call ").nth(1)?;
    rest.split_whitespace().next().map(|name| name.trim_end_matches('.').to_string())
}

fn kind_of(cmdlet: &str, status: u16, exception_type: Option<&str>, message: &str) -> ErrorKind {
    let exception = exception_type.unwrap_or_default();
    let is = |suffix: &str| exception.ends_with(suffix);
    match status {
        429 => return ErrorKind::Throttled,
        408 | 500 | 502 | 503 | 504 => return ErrorKind::Transient,
        401 => {
            return match refused_cmdlet(message) {
                Some(refused) => ErrorKind::RbacDenied { cmdlet: refused },
                None => ErrorKind::Unauthenticated,
            };
        }
        _ => {}
    }
    if is("ManagementObjectNotFoundException") {
        ErrorKind::NotFound
    } else if is("MemberAlreadyExistsException")
        || is("ADObjectAlreadyExistsException")
        || is("ProxyAddressExistsException")
    {
        ErrorKind::AlreadyExists
    } else if is("MemberNotFoundException") {
        ErrorKind::NotMember
    } else if let Some(parameter) = is("ParameterBindingException").then(|| hidden_parameter(message)).flatten() {
        ErrorKind::ParameterHidden { parameter }
    } else if role_hint::role_named_in(message).is_some() && (400..500).contains(&status) {
        ErrorKind::RbacDenied { cmdlet: cmdlet.to_string() }
    } else if status == 404 {
        ErrorKind::NotFound
    } else {
        ErrorKind::Other
    }
}

/// The [`Error`] for an answer that is not 2xx.
pub(crate) fn error_from_answer(cmdlet: &str, answer: &Answer) -> Error {
    let parsed = parse_body(&answer.body);
    let exception_type = parsed.exception_type.or_else(|| answer.exception_type.clone());
    let kind = kind_of(cmdlet, answer.status, exception_type.as_deref(), &parsed.message);
    let named_role = matches!(kind, ErrorKind::RbacDenied { .. }).then(|| role_hint::role_named_in(&parsed.message));
    let mut error = Error::new(kind, cmdlet, parsed.message);
    if let Some(Some(role)) = named_role {
        error.inner.role = Some(role);
    }
    error.inner.status = Some(answer.status);
    error.inner.exception_type = exception_type;
    error.inner.request_id = answer.request_id.clone();
    error.inner.retry_after = answer.retry_after;
    error
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderMap;
    use serde_json::json;

    use super::*;

    fn classify(status: u16, body: Value) -> Error {
        let bytes = match &body {
            Value::String(text) => text.clone().into_bytes(),
            other => other.to_string().into_bytes(),
        };
        error_from_answer("Add-DistributionGroupMember", &Answer::read(status, &HeaderMap::new(), &bytes))
    }

    fn cmdlet_error(status: u16, exception_type: &str, message: &str) -> Error {
        let detail = format!("Ex123456|{exception_type}|{message}");
        classify(
            status,
            json!({"error": {"code": "BadRequest", "message": "Error executing cmdlet",
            "details": [{"code": "Client", "target": "", "message": detail}]}}),
        )
    }

    #[test]
    fn cmdlet_errors_map_by_exception_type() {
        let not_found = cmdlet_error(
            404,
            "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException",
            "The operation couldn't be performed because object 'x' couldn't be found on 'DC'.",
        );
        assert_eq!(not_found.kind(), &ErrorKind::NotFound);
        assert!(not_found.message().starts_with("The operation couldn't"), "the id and type are split off");
        assert_eq!(
            cmdlet_error(400, "Microsoft.Exchange.Management.Tasks.MemberAlreadyExistsException", "already").kind(),
            &ErrorKind::AlreadyExists
        );
        assert_eq!(
            cmdlet_error(400, "Microsoft.Exchange.Management.Tasks.MemberNotFoundException", "isn't").kind(),
            &ErrorKind::NotMember
        );
        let hidden = cmdlet_error(
            400,
            "System.Management.Automation.ParameterBindingException",
            "A parameter cannot be found that matches parameter name 'BypassSecurityGroupManagerCheck'.",
        );
        assert_eq!(hidden.kind(), &ErrorKind::ParameterHidden { parameter: "BypassSecurityGroupManagerCheck".into() });
        let missing = cmdlet_error(
            400,
            "System.Management.Automation.ParameterBindingException",
            "Cannot process command because of one or more missing mandatory parameters: Identity.",
        );
        assert_eq!(missing.kind(), &ErrorKind::Other);
        let task = cmdlet_error(
            400,
            "Microsoft.Exchange.Configuration.Tasks.TaskException",
            "You don't have sufficient permissions. This operation requires the \"Distribution Groups\" role.",
        );
        assert_eq!(task.kind(), &ErrorKind::RbacDenied { cmdlet: "Add-DistributionGroupMember".into() });
        assert_eq!(task.required_role(), Some("Distribution Groups"));
    }

    #[test]
    fn statuses_decide_before_exception_types() {
        let denied = classify(
            401,
            json!({"error": {"code": "Unauthorized", "message": "User is not allowed to call Set-Mailbox"}}),
        );
        assert_eq!(denied.kind(), &ErrorKind::RbacDenied { cmdlet: "Set-Mailbox".into() });
        assert_eq!(denied.required_role(), Some("Mail Recipients"));
        let expired =
            classify(401, json!({"error": {"code": "Unauthorized", "message": "The access token has expired."}}));
        assert_eq!(expired.kind(), &ErrorKind::Unauthenticated);
        let busy = classify(429, Value::String(crate::answer::CONCURRENCY_REFUSAL.into()));
        assert_eq!(busy.kind(), &ErrorKind::Throttled);
        assert!(busy.message().starts_with("You have reached"));
        for status in [408, 500, 502, 503, 504] {
            assert_eq!(classify(status, Value::Null).kind(), &ErrorKind::Transient, "{status}");
        }
        assert_eq!(classify(400, json!({"error": {"message": "bad"}})).kind(), &ErrorKind::Other);
    }

    #[test]
    fn messages_fall_back_as_cipp_reads_them() {
        let inner = classify(
            400,
            json!({"error": {"message": "Error executing cmdlet", "innerError": {"internalException": {"message": "inner text"}}}}),
        );
        assert_eq!(inner.message(), "inner text");
        let outer = classify(400, json!({"error": {"message": "outer text"}}));
        assert_eq!(outer.message(), "outer text");
        let odd = classify(400, json!({"error": {"details": [{"message": "no pipes here"}]}}));
        assert_eq!(odd.message(), "no pipes here");
        assert_eq!(odd.exception_type(), None);
    }
}
