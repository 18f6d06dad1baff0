//! The HTML the login host shows: sign-in, account picker, consent, admin consent, "Need admin approval",
//! "Request sent", errors, and the auto-submitting `form_post` page. Plain and small: one form per page,
//! labelled fields, every value escaped, no script except the `form_post` auto-submit, never a secret.

use axum::response::{IntoResponse, Response};
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
use http::{HeaderValue, StatusCode};

use super::error::{AadError, RequestMeta};

const STYLE: &str = "body{font-family:Segoe UI,Helvetica,Arial,sans-serif;max-width:32rem;margin:3rem auto;\
padding:0 1rem;color:#1b1b1b}h1{font-size:1.5rem;font-weight:600}label{display:block;margin-top:1rem}\
input[type=text],input[type=email],input[type=password],textarea{width:100%;padding:.4rem;box-sizing:border-box}\
button{margin-top:1.2rem;margin-right:.5rem;padding:.4rem 1.2rem}.alert{color:#a4262c;margin-top:1rem}\
.fine{font-size:.85rem;color:#505050}ul{padding-left:1.2rem}";

/// Wraps a page body in the common document.
fn document(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{STYLE}</style></head>\
         <body><main>{body}</main></body></html>\n",
        text(title)
    )
}

/// An HTML response that no cache keeps.
pub fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-store, no-cache"));
    headers.insert(http::header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(http::header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

fn hidden(name: &str, value: &str) -> String {
    format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", attr(name), attr(value))
}

/// A problem shown on the sign-in page: what the user reads, and the AADSTS line below it.
#[derive(Clone, Debug)]
pub struct SignInProblem {
    /// The sentence for the user.
    pub message: String,
    /// `AADSTS…: …` for the developer.
    pub code_line: String,
}

/// The sign-in page.
pub fn sign_in(action: &str, flow: &str, app_name: &str, username: &str, problem: Option<&SignInProblem>) -> Response {
    let alert = problem.map_or(String::new(), |problem| {
        format!(
            "<div class=\"alert\" role=\"alert\" id=\"signin-error\"><p>{}</p><p class=\"fine\">{}</p></div>",
            text(&problem.message),
            text(&problem.code_line)
        )
    });
    let described = if problem.is_some() { " aria-describedby=\"signin-error\"" } else { "" };
    let body = format!(
        "<h1>Sign in</h1><p>to continue to {app}</p>{alert}\
         <form method=\"post\" action=\"{action}\">{flow}{step}\
         <label for=\"login\">Email, phone, or Skype</label>\
         <input type=\"email\" id=\"login\" name=\"login\" autocomplete=\"username\" required value=\"{username}\"{described}>\
         <label for=\"passwd\">Password</label>\
         <input type=\"password\" id=\"passwd\" name=\"passwd\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">Sign in</button></form>",
        app = text(app_name),
        action = attr(action),
        flow = hidden("ctx", flow),
        step = hidden("action", "signin"),
        username = attr(username),
    );
    html(StatusCode::OK, document("Sign in to your account", &body))
}

/// The account picker (`prompt=select_account` with a session).
pub fn account_picker(action: &str, flow: &str, upn: &str) -> Response {
    let body = format!(
        "<h1>Pick an account</h1><form method=\"post\" action=\"{action}\">{flow}\
         <p>Signed in as <strong>{upn}</strong>.</p>\
         <button type=\"submit\" name=\"action\" value=\"use_session\">Continue as {upn}</button>\
         <button type=\"submit\" name=\"action\" value=\"other_account\">Use another account</button></form>",
        action = attr(action),
        flow = hidden("ctx", flow),
        upn = text(upn),
    );
    html(StatusCode::OK, document("Pick an account", &body))
}

/// One permission line on a consent page.
#[derive(Clone, Debug)]
pub struct PermissionLine {
    /// The API's display name.
    pub api: String,
    /// The permission value.
    pub name: String,
    /// What it allows.
    pub description: String,
}

fn permission_list(permissions: &[PermissionLine]) -> String {
    let items: String = permissions
        .iter()
        .map(|line| {
            format!(
                "<li>{} <span class=\"fine\">({}: {})</span></li>",
                text(&line.description),
                text(&line.api),
                text(&line.name)
            )
        })
        .collect();
    format!("<ul>{items}</ul>")
}

/// What a permissions page says around the list: the line introducing it, extra form fields, and what
/// accepting means.
struct Wording {
    ask: &'static str,
    fields: &'static str,
    fine_print: &'static str,
}

/// A "Permissions requested" page: the app, the signed-in user, the permissions, Cancel and Accept.
fn permissions_page(
    action: &str,
    flow: &str,
    app_name: &str,
    upn: &str,
    permissions: &[PermissionLine],
    wording: &Wording,
) -> Response {
    let body = format!(
        "<h1>Permissions requested</h1><p><strong>{app}</strong> <span class=\"fine\">unverified</span></p>\
         <p class=\"fine\">{upn}</p><p>{ask}</p>{list}\
         <form method=\"post\" action=\"{action}\">{flow}{fields}<p class=\"fine\">{fine_print}</p>\
         <button type=\"submit\" name=\"action\" value=\"cancel\">Cancel</button>\
         <button type=\"submit\" name=\"action\" value=\"accept\">Accept</button></form>",
        app = text(app_name),
        upn = text(upn),
        ask = wording.ask,
        list = permission_list(permissions),
        action = attr(action),
        flow = hidden("ctx", flow),
        fields = wording.fields,
        fine_print = wording.fine_print,
    );
    html(StatusCode::OK, document("Permissions requested", &body))
}

/// The consent page; administrators also see "Consent on behalf of your organization".
pub fn consent(
    action: &str,
    flow: &str,
    app_name: &str,
    upn: &str,
    permissions: &[PermissionLine],
    offer_organization: bool,
) -> Response {
    let organization = if offer_organization {
        "<p><input type=\"checkbox\" id=\"org_consent\" name=\"org_consent\" value=\"on\">\
         <label for=\"org_consent\" style=\"display:inline\">Consent on behalf of your organization</label></p>"
    } else {
        ""
    };
    let wording = Wording {
        ask: "This app would like to:",
        fields: organization,
        fine_print: "Accepting these permissions means that you allow this app to use your data as specified in \
                     their terms of service and privacy statement. You can change these permissions at \
                     https://myapps.microsoft.com.",
    };
    permissions_page(action, flow, app_name, upn, permissions, &wording)
}

/// The admin-consent page of `/adminconsent`: the grant is for the whole organisation.
pub fn admin_consent(action: &str, flow: &str, app_name: &str, upn: &str, permissions: &[PermissionLine]) -> Response {
    let wording = Wording {
        ask: "Accept for your organization. This app would like to:",
        fields: "",
        fine_print: "If you accept, this app will get access to the specified resources for all users in your \
                     organization. No one else will be prompted to review these permissions.",
    };
    permissions_page(action, flow, app_name, upn, permissions, &wording)
}

/// "Need admin approval", with a justification for the admin consent request.
pub fn need_admin_approval(action: &str, flow: &str, app_name: &str, permissions: &[PermissionLine]) -> Response {
    let body = format!(
        "<h1>Need admin approval</h1><p><strong>{app}</strong></p>\
         <p>{app} needs permission to access resources in your organization that only an admin can grant. Please \
         ask an admin to grant permission to this app before you can use it.</p>{list}\
         <form method=\"post\" action=\"{action}\">{flow}\
         <label for=\"justification\">Enter justification for requesting this app</label>\
         <textarea id=\"justification\" name=\"justification\" rows=\"4\" maxlength=\"1000\"></textarea>\
         <button type=\"submit\" name=\"action\" value=\"request_approval\">Request approval</button>\
         <button type=\"submit\" name=\"action\" value=\"other_account\">Have an admin account? Sign in with that \
         account</button>\
         <button type=\"submit\" name=\"action\" value=\"cancel\">Return to the application without granting \
         consent</button></form>",
        app = text(app_name),
        list = permission_list(permissions),
        action = attr(action),
        flow = hidden("ctx", flow),
    );
    html(StatusCode::OK, document("Need admin approval", &body))
}

/// "Request sent".
pub fn request_sent(app_name: &str) -> Response {
    let body = format!(
        "<h1>Request sent</h1><p>Your request to use <strong>{}</strong> has been sent to your admin. You'll be \
         notified when it's approved or denied. Once it is approved, sign in to the application again.</p>",
        text(app_name)
    );
    html(StatusCode::OK, document("Request sent", &body))
}

/// The error page ("Sorry, but we're having trouble signing you in.") with the AADSTS line and the ids.
pub fn error_page(meta: &RequestMeta, error: &AadError) -> Response {
    let body = format!(
        "<h1>Sorry, but we\u{2019}re having trouble signing you in.</h1>\
         <p role=\"alert\" id=\"aadsts\" data-error=\"{error}\" data-code=\"{code}\">AADSTS{code}: {message}</p>\
         <dl class=\"fine\"><dt>Request Id</dt><dd>{trace}</dd><dt>Correlation Id</dt><dd>{correlation}</dd>\
         <dt>Timestamp</dt><dd>{timestamp}</dd></dl>",
        error = attr(error.error),
        code = error.code,
        message = text(&error.text),
        trace = meta.trace_id,
        correlation = meta.correlation_id,
        timestamp = text(&meta.timestamp()),
    );
    html(StatusCode::OK, document("Sign in to your account", &body))
}

/// The `response_mode=form_post` page: posts `params` to the redirect URI as soon as it loads.
pub fn form_post(redirect_uri: &str, params: &[(String, String)]) -> Response {
    let inputs: String = params.iter().map(|(name, value)| hidden(name, value)).collect();
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Working...</title></head><body>\
         <form method=\"POST\" name=\"hiddenform\" action=\"{}\">{inputs}<noscript><p>Script is disabled. Click \
         Submit to continue.</p><input type=\"submit\" value=\"Submit\"></noscript></form>\
         <script>document.forms[0].submit();</script></body></html>\n",
        attr(redirect_uri)
    );
    html(StatusCode::OK, body)
}
