//! Exchange's error shape for `InvokeCommand`: `{"error":{"code","message","details":[{"code","target",
//! "message":"<ErrId>|<ExceptionType>|<Message>"}],"innererror":{…},"@adminapi.warnings":[]}}` with the
//! `X-ExceptionType` header, as the module and public clients read it (reference §4.2).
//!
//! Wordings of Exchange's own messages follow the cmdlets' documented messages where known; those marked
//! *unconfirmed* are the sandbox's best reading and are listed in `docs/sandbox.md`. The RBAC denial is the
//! REST service's observed answer: 401 `Unauthorized`, "User is not allowed to call Get-Mailbox"
//! (<https://github.com/MicrosoftDocs/office-docs-powershell/issues/7970>).

use axum::response::{IntoResponse, Response};
use http::{HeaderName, HeaderValue, StatusCode, header};
use serde_json::{Value, json};

/// The name of the server the sandbox reports as the domain controller in not-found messages.
pub const DOMAIN_CONTROLLER: &str = "SN6PR01A011DC001.NAMPR01A011.PROD.OUTLOOK.COM";

/// Exception types the sandbox raises (their full .NET names, as in `details[].message` and `X-ExceptionType`).
pub mod exception {
    /// An `-Identity` (or other object parameter) that names nothing.
    pub const NOT_FOUND: &str = "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException";
    /// An identity that names several objects.
    pub const AMBIGUOUS: &str = "Microsoft.Exchange.Configuration.Tasks.ManagementObjectAmbiguousException";
    /// `Add-DistributionGroupMember` of a member already there.
    pub const MEMBER_EXISTS: &str = "Microsoft.Exchange.Management.Tasks.MemberAlreadyExistsException";
    /// `Remove-DistributionGroupMember` of a recipient that is not a member.
    pub const MEMBER_NOT_FOUND: &str = "Microsoft.Exchange.Management.Tasks.MemberNotFoundException";
    /// A name already used by another recipient.
    pub const NAME_EXISTS: &str = "Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException";
    /// An address (or alias) already used by another recipient.
    pub const PROXY_EXISTS: &str = "Microsoft.Exchange.Data.Directory.ProxyAddressExistsException";
    /// A change to a group by someone who is not its manager, without `-BypassSecurityGroupManagerCheck`.
    pub const NOT_GROUP_MANAGER: &str = "Microsoft.Exchange.Configuration.Tasks.OperationRequiresGroupManagerException";
    /// A value that breaks a rule of the object (e.g. an `Open` join restriction on a security group).
    pub const VALIDATION: &str = "Microsoft.Exchange.Data.DataValidationException";
    /// A task-level refusal.
    pub const TASK: &str = "Microsoft.Exchange.Configuration.Tasks.TaskException";
    /// A grant that already exists, or a removal of one that does not.
    pub const INVALID_OPERATION: &str = "System.InvalidOperationException";
    /// A parameter the cmdlet does not have (or the caller's roles do not grant), or a missing mandatory one.
    pub const PARAMETER_BINDING: &str = "System.Management.Automation.ParameterBindingException";
    /// A parameter value of the wrong type.
    pub const ARGUMENT_TRANSFORMATION: &str =
        "System.Management.Automation.ParameterBindingArgumentTransformationException";
    /// A value outside the parameter's allowed set.
    pub const VALIDATION_METADATA: &str = "System.Management.Automation.ParameterBindingValidationException";
    /// A cmdlet name the service does not have.
    pub const COMMAND_NOT_FOUND: &str = "System.Management.Automation.CommandNotFoundException";
}

/// The .NET type of an enumeration parameter, recognised by its values (the sandbox's parameters use these
/// enumerations; names from the cmdlets' reference pages).
pub fn enum_type_name(allowed: &[&str]) -> &'static str {
    let has = |name: &str| allowed.iter().any(|value| value.eq_ignore_ascii_case(name));
    if has("Shared") && has("Regular") {
        "Microsoft.Exchange.Management.RecipientTasks.ConvertibleMailboxSubType"
    } else if has("Security") && has("Distribution") {
        "Microsoft.Exchange.Management.RecipientTasks.GroupType"
    } else if has("ApprovalRequired") || (has("Open") && has("Closed")) {
        "Microsoft.Exchange.Data.Directory.Recipient.MemberUpdateType"
    } else if has("Scheduled") {
        "Microsoft.Exchange.Data.Storage.Management.OofState"
    } else if has("Known") {
        "Microsoft.Exchange.Data.Storage.Management.ExternalAudience"
    } else if has("FullAccess") {
        "Microsoft.Exchange.Management.RecipientTasks.MailboxRights"
    } else if has("SendAs") {
        "Microsoft.Exchange.Management.RecipientTasks.RecipientAccessRight"
    } else if has("SelfAndChildren") {
        "System.DirectoryServices.ActiveDirectorySecurityInheritance"
    } else if has("Minimum") && has("All") {
        // Get-EXOMailbox -PropertySets (type name unconfirmed).
        "Microsoft.Exchange.Management.RestApiClient.PropertySet"
    } else if has("UserMailbox") || has("MailUniversalDistributionGroup") {
        "Microsoft.Exchange.Data.Directory.Recipient.RecipientTypeDetails"
    } else {
        "System.String"
    }
}

/// An error answer of the Exchange admin API.
#[derive(Clone, Debug)]
pub struct ExchangeError {
    /// HTTP status.
    pub status: StatusCode,
    /// `error.code` (`NotFound`, `BadRequest`, `Unauthorized`, …).
    pub code: &'static str,
    /// `error.message`.
    pub message: String,
    /// The cmdlet-level error (`details[0]`), absent for errors outside any cmdlet (authentication, RBAC, body).
    pub detail: Option<Box<ErrorDetail>>,
    /// Extra headers (`Retry-After`, rate-limit headers).
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// The cmdlet error inside `details`.
#[derive(Clone, Debug)]
pub struct ErrorDetail {
    /// Exchange's error id, e.g. `Ex6F9304`.
    pub error_id: String,
    /// The .NET exception type (one of [`exception`]).
    pub exception_type: &'static str,
    /// The message.
    pub message: String,
    /// `details[].target` (the parameter at fault, when any).
    pub target: String,
}

/// Result of cmdlets and of the request handling.
pub type ExchangeResult<T> = Result<T, ExchangeError>;

/// Exchange's error ids are per raising site; the sandbox derives a stable one from the exception type.
fn error_id(exception_type: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, exception_type.as_bytes());
    let bytes = digest.as_ref();
    format!("Ex{:02X}{:02X}{:02X}", bytes[0], bytes[1], bytes[2])
}

impl ExchangeError {
    /// A cmdlet error ("Error executing cmdlet") with its exception type and message.
    pub fn cmdlet(status: StatusCode, exception_type: &'static str, message: impl Into<String>) -> ExchangeError {
        let code = match status {
            StatusCode::NOT_FOUND => "NotFound",
            StatusCode::UNAUTHORIZED => "Unauthorized",
            StatusCode::FORBIDDEN => "Forbidden",
            StatusCode::CONFLICT => "Conflict",
            _ => "BadRequest",
        };
        ExchangeError {
            status,
            code,
            message: "Error executing cmdlet".into(),
            detail: Some(Box::new(ErrorDetail {
                error_id: error_id(exception_type),
                exception_type,
                message: message.into(),
                target: String::new(),
            })),
            headers: Vec::new(),
        }
    }

    /// An error outside any cmdlet: status, code and message only.
    pub fn plain(status: StatusCode, code: &'static str, message: impl Into<String>) -> ExchangeError {
        ExchangeError { status, code, message: message.into(), detail: None, headers: Vec::new() }
    }

    /// Names the parameter at fault (`details[].target`).
    pub fn with_target(mut self, target: &str) -> ExchangeError {
        if let Some(detail) = &mut self.detail {
            detail.target = target.to_string();
        }
        self
    }

    /// 404: `-Identity` names nothing.
    pub fn not_found(identity: &str) -> ExchangeError {
        ExchangeError::cmdlet(
            StatusCode::NOT_FOUND,
            exception::NOT_FOUND,
            format!(
                "The operation couldn't be performed because object '{identity}' couldn't be found on '{DOMAIN_CONTROLLER}'."
            ),
        )
    }

    /// 404: an object named by another parameter (`-Member`, `-User`, `-Trustee`, `-ManagedBy`) names nothing.
    pub fn object_not_found(identity: &str) -> ExchangeError {
        ExchangeError::cmdlet(
            StatusCode::NOT_FOUND,
            exception::NOT_FOUND,
            format!(
                "Couldn't find object \"{identity}\". Please make sure that it was spelled correctly or specify a different object."
            ),
        )
    }

    /// 400: an identity that matches several objects.
    pub fn ambiguous(identity: &str) -> ExchangeError {
        ExchangeError::cmdlet(
            StatusCode::BAD_REQUEST,
            exception::AMBIGUOUS,
            format!("The operation couldn't be performed because '{identity}' matches multiple entries."),
        )
    }

    /// 400: the member is already in the group.
    pub fn already_member(member: &str, group: &str) -> ExchangeError {
        ExchangeError::cmdlet(
            StatusCode::BAD_REQUEST,
            exception::MEMBER_EXISTS,
            format!("The recipient \"{member}\" is already a member of the group \"{group}\"."),
        )
    }

    /// 400: the recipient is not a member of the group.
    pub fn not_member(member: &str, group: &str) -> ExchangeError {
        ExchangeError::cmdlet(
            StatusCode::BAD_REQUEST,
            exception::MEMBER_NOT_FOUND,
            format!("The recipient \"{member}\" isn't a member of the group \"{group}\"."),
        )
    }

    /// 400: the name is taken by another recipient.
    pub fn name_taken(name: &str) -> ExchangeError {
        ExchangeError::cmdlet(
            StatusCode::BAD_REQUEST,
            exception::NAME_EXISTS,
            format!("The name \"{name}\" is already being used. Please try another name."),
        )
    }

    /// 400: the address (from an alias or `-PrimarySmtpAddress`) is taken by another recipient.
    pub fn address_taken(address: &str, holder: &str) -> ExchangeError {
        ExchangeError::cmdlet(
            StatusCode::BAD_REQUEST,
            exception::PROXY_EXISTS,
            format!(
                "The proxy address \"SMTP:{address}\" is already being used by the proxy addresses or LegacyExchangeDN of \"{holder}\". Please choose another proxy address."
            ),
        )
    }

    /// 400: the caller manages a group's membership without owning it and without
    /// `-BypassSecurityGroupManagerCheck`.
    pub fn not_group_manager() -> ExchangeError {
        ExchangeError::cmdlet(
            StatusCode::BAD_REQUEST,
            exception::NOT_GROUP_MANAGER,
            "You don't have sufficient permissions. This operation can only be performed by a manager of the group.",
        )
    }

    /// 400: a value that breaks a rule of the object.
    pub fn validation(message: impl Into<String>) -> ExchangeError {
        ExchangeError::cmdlet(StatusCode::BAD_REQUEST, exception::VALIDATION, message)
    }

    /// 400: a task-level refusal.
    pub fn task(message: impl Into<String>) -> ExchangeError {
        ExchangeError::cmdlet(StatusCode::BAD_REQUEST, exception::TASK, message)
    }

    /// 401: the caller's roles do not include the cmdlet (observed REST answer).
    pub fn not_allowed(cmdlet: &str) -> ExchangeError {
        ExchangeError::plain(StatusCode::UNAUTHORIZED, "Unauthorized", format!("User is not allowed to call {cmdlet}"))
    }

    /// 400: a parameter the cmdlet does not have (or the caller's roles do not grant).
    pub fn unknown_parameter(name: &str) -> ExchangeError {
        ExchangeError::cmdlet(
            StatusCode::BAD_REQUEST,
            exception::PARAMETER_BINDING,
            format!("A parameter cannot be found that matches parameter name '{name}'."),
        )
        .with_target(name)
    }

    /// 400: mandatory parameters left out.
    pub fn missing_parameters(names: &[&str]) -> ExchangeError {
        ExchangeError::cmdlet(
            StatusCode::BAD_REQUEST,
            exception::PARAMETER_BINDING,
            format!("Cannot process command because of one or more missing mandatory parameters: {}.", names.join(" ")),
        )
    }

    /// 400: a parameter value of the wrong type.
    pub fn cannot_convert(parameter: &str, value: &str, type_name: &str) -> ExchangeError {
        ExchangeError::cmdlet(
            StatusCode::BAD_REQUEST,
            exception::ARGUMENT_TRANSFORMATION,
            format!(
                "Cannot process argument transformation on parameter '{parameter}'. Cannot convert value \"{value}\" to type \"{type_name}\"."
            ),
        )
        .with_target(parameter)
    }

    /// 400: a non-boolean value for a Boolean or switch parameter, in PowerShell's words (the value is shown by
    /// its .NET type, e.g. `System.String`).
    pub fn not_a_boolean(parameter: &str, value_type: &str, type_name: &str) -> ExchangeError {
        ExchangeError::cmdlet(
            StatusCode::BAD_REQUEST,
            exception::ARGUMENT_TRANSFORMATION,
            format!(
                "Cannot process argument transformation on parameter '{parameter}'. Cannot convert value \"{value_type}\" to type \"{type_name}\". Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0."
            ),
        )
        .with_target(parameter)
    }

    /// 400: a value outside an enumeration, naming the enumeration's .NET type as PowerShell does.
    pub fn not_in_set(parameter: &str, value: &str, allowed: &[&str]) -> ExchangeError {
        ExchangeError::cmdlet(
            StatusCode::BAD_REQUEST,
            exception::PARAMETER_BINDING,
            format!(
                "Cannot bind parameter '{parameter}'. Cannot convert value \"{value}\" to type \"{}\". Error: \"Unable to match the identifier name {value} to a valid enumerator name. Specify one of the following enumerator names and try again:\n{}\"",
                enum_type_name(allowed),
                allowed.join(", ")
            ),
        )
        .with_target(parameter)
    }

    /// 400: a cmdlet the service does not have.
    pub fn unknown_cmdlet(name: &str) -> ExchangeError {
        ExchangeError::cmdlet(
            StatusCode::BAD_REQUEST,
            exception::COMMAND_NOT_FOUND,
            format!(
                "The term '{name}' is not recognized as a name of a cmdlet, function, script file, or executable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again."
            ),
        )
    }

    /// 400: the request body is not a `CmdletInput`.
    pub fn bad_body(message: impl Into<String>) -> ExchangeError {
        ExchangeError::plain(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// 401: no token, or a token Exchange does not accept.
    pub fn unauthenticated(message: impl Into<String>) -> ExchangeError {
        let mut error = ExchangeError::plain(StatusCode::UNAUTHORIZED, "Unauthorized", message);
        error.headers.push((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", trusted_issuers=\"00000001-0000-0000-c000-000000000000@*\", token_types=\"app_asserted_user_v1 service_asserted_app_v1\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\"")));
        error
    }

    /// 404 for a path the admin API does not have.
    pub fn no_route() -> ExchangeError {
        ExchangeError::plain(StatusCode::NOT_FOUND, "NotFound", "The requested resource was not found.")
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut error = json!({
            "code": self.code,
            "message": self.message,
            "adminapi.warnings@odata.type": "#Collection(String)",
            "@adminapi.warnings": [],
        });
        let internal_type = "Microsoft.Exchange.Management.PSDirectInvoke.DirectInvokeCmdletExecutionException";
        match &self.detail {
            Some(detail) => {
                error["details"] = json!([{
                    "code": "Client",
                    "target": detail.target,
                    "message": format!("{}|{}|{}", detail.error_id, detail.exception_type, detail.message),
                }]);
                error["innererror"] = json!({
                    "message": self.message,
                    "type": "Microsoft.Exchange.Admin.OData.Core.ODataServiceException",
                    "stacktrace": "",
                    "internalexception": {
                        "message": format!("Exception of type '{internal_type}' was thrown."),
                        "type": internal_type,
                        "stacktrace": "",
                    },
                });
            }
            None => {
                error["innererror"] = json!({
                    "message": self.message,
                    "type": "Microsoft.Exchange.Admin.OData.Core.ODataServiceException",
                });
            }
        }
        json!({"error": error})
    }
}

impl IntoResponse for ExchangeError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        let headers = response.headers_mut();
        if let Some(detail) = &self.detail
            && let Ok(value) = HeaderValue::from_str(detail.exception_type)
        {
            headers.insert(HeaderName::from_static("x-exceptiontype"), value);
        }
        for (name, value) in self.headers {
            headers.insert(name, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cmdlet_error_has_the_three_part_detail_message() {
        let body = ExchangeError::not_found("x@contoso.com").body();
        assert_eq!(body["error"]["code"], "NotFound");
        let message = body["error"]["details"][0]["message"].as_str().unwrap();
        let parts: Vec<&str> = message.splitn(3, '|').collect();
        assert_eq!(parts.len(), 3);
        assert!(parts[0].starts_with("Ex") && parts[0].len() == 8);
        assert_eq!(parts[1], exception::NOT_FOUND);
        assert!(parts[2].contains("'x@contoso.com'"));
    }

    #[test]
    fn an_rbac_denial_has_no_details() {
        let body = ExchangeError::not_allowed("Set-Mailbox").body();
        assert_eq!(body["error"]["message"], "User is not allowed to call Set-Mailbox");
        assert!(body["error"].get("details").is_none());
    }
}
