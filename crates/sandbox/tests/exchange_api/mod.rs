//! Calling the sandbox's Exchange admin API the way the ExchangeOnlineManagement module does: `POST
//! {base}/adminapi/beta/{tenant}/InvokeCommand` with `{"CmdletInput":{"CmdletName","Parameters"}}` and the
//! module's headers, following `@odata.nextLink` when asked to.
#![allow(dead_code, unreachable_pub)]

use serde_json::{Value, json};

use crate::common::{self, CONTOSO, Reply};

/// A sandbox and a client for its Exchange admin API.
pub struct ExchangeApi {
    /// The running sandbox.
    pub sandbox: sandbox::RunningSandbox,
    /// A client trusting the sandbox CA.
    pub client: reqwest::Client,
}

impl ExchangeApi {
    /// Starts a sandbox with the sample seed.
    pub async fn start() -> ExchangeApi {
        ExchangeApi::start_with(sandbox::Sandbox::builder()).await
    }

    /// Starts a configured sandbox.
    pub async fn start_with(builder: sandbox::SandboxBuilder) -> ExchangeApi {
        let sandbox = common::start_with(builder).await;
        let client = common::client(&sandbox);
        ExchangeApi { sandbox, client }
    }

    /// The app-only token of Contoso's app (a member of the "Tenure Provisioning" role group).
    pub fn app(&self) -> String {
        common::exchange_app_token(&self.sandbox)
    }

    /// A delegated token for the service account (a member of the "Tenure Provisioning" role group).
    pub fn service_account(&self) -> String {
        common::exchange_user_token(&self.sandbox, common::EXCHANGE_SVC)
    }

    /// A delegated token for Contoso's Global Administrator (Organization Management).
    pub fn global_admin(&self) -> String {
        common::exchange_user_token(&self.sandbox, common::CONTOSO_ADMIN)
    }

    /// The `InvokeCommand` URL for `tenant`.
    pub fn url(&self, tenant: &str) -> String {
        format!("{}/adminapi/beta/{tenant}/InvokeCommand", self.sandbox.https_base())
    }

    /// Runs one cmdlet in Contoso with the module's headers.
    pub async fn invoke(&self, token: &str, cmdlet: &str, parameters: Value) -> Reply {
        let body = json!({"CmdletInput": {"CmdletName": cmdlet, "Parameters": parameters}});
        self.post(&self.url(CONTOSO), token, cmdlet, body.to_string().into_bytes(), None).await
    }

    /// Posts a raw body to `url` with the module's headers (`page_size` sets `Prefer: odata.maxpagesize`).
    pub async fn post(&self, url: &str, token: &str, cmdlet: &str, body: Vec<u8>, page_size: Option<u32>) -> Reply {
        let mut request = self
            .client
            .post(url)
            .bearer_auth(token)
            .header("Accept", "application/json")
            .header("Accept-Charset", "UTF-8")
            .header("Content-Type", "application/json")
            .header("X-CmdletName", cmdlet)
            .header("X-ResponseFormat", "json")
            .header("X-SerializationLevel", "Partial")
            .header("X-ClientApplication", "ExoManagementModule")
            .header("X-AnchorMailbox", format!("APP:SystemMailbox{{bb558c35-97f1-4cb9-8ff7-d53741dc928c}}@{CONTOSO}"))
            .header("client-request-id", uuid::Uuid::new_v4().to_string())
            .header("connection-id", uuid::Uuid::new_v4().to_string())
            .body(body);
        if let Some(size) = page_size {
            request = request.header("Prefer", format!("odata.maxpagesize={size}"));
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, headers, body }
    }

    /// Runs a cmdlet and follows `@odata.nextLink` to the end, returning every object.
    pub async fn invoke_all(&self, token: &str, cmdlet: &str, parameters: Value, page_size: u32) -> Vec<Value> {
        let body = json!({"CmdletInput": {"CmdletName": cmdlet, "Parameters": parameters}}).to_string().into_bytes();
        let mut url = self.url(CONTOSO);
        let mut objects = Vec::new();
        loop {
            let reply = self.post(&url, token, cmdlet, body.clone(), Some(page_size)).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
            objects.extend(reply.body["value"].as_array().cloned().unwrap_or_default());
            match reply.body["@odata.nextLink"].as_str() {
                Some(next) => url = next.to_string(),
                None => return objects,
            }
        }
    }
}

/// The three parts of a cmdlet error's `details[0].message`: error id, exception type, message.
pub fn error_parts(reply: &Reply) -> (String, String, String) {
    let message = reply.body["error"]["details"][0]["message"].as_str().unwrap_or("");
    let mut parts = message.splitn(3, '|').map(str::to_string);
    (parts.next().unwrap_or_default(), parts.next().unwrap_or_default(), parts.next().unwrap_or_default())
}

/// Asserts a cmdlet error: status, exception type and (a part of) its message.
#[track_caller]
pub fn assert_cmdlet_error(reply: &Reply, status: u16, exception_type: &str, message_part: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    let (id, kind, message) = error_parts(reply);
    assert!(id.starts_with("Ex"), "{}", reply.body);
    assert_eq!(kind, exception_type, "{}", reply.body);
    assert!(message.contains(message_part), "{message:?} should contain {message_part:?}");
}
