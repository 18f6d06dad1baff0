//! [`ExchangeConfig`]: where the Exchange admin API is, for which tenant, as whom ([`Anchor`]), and how hard to
//! try. Checked once by [`crate::ExchangeClient::new`], so a bad base URL or anchor fails at start, not at the
//! first request.

use std::time::Duration;

/// The system mailbox app-only callers are routed by (`APP:SystemMailbox{…}@{tenant}`, as CIPP and ExoHelper
/// send it; reference §4.1).
pub(crate) const APP_ONLY_SYSTEM_MAILBOX: &str = "SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}";

/// How the service routes the caller's requests (`X-AnchorMailbox`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchor {
    /// A delegated connection: the signed-in user's UPN (`UPN:{upn}`).
    Delegated {
        /// The signed-in user's user principal name.
        upn: String,
    },
    /// An app-only connection: the tenant's system mailbox
    /// (`APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@{tenant}`).
    AppOnly,
}

impl Anchor {
    /// The `X-AnchorMailbox` header value for `tenant`.
    pub(crate) fn header_value(&self, tenant: &str) -> String {
        match self {
            Anchor::Delegated { upn } => format!("UPN:{upn}"),
            Anchor::AppOnly => format!("APP:{APP_ONLY_SYSTEM_MAILBOX}@{tenant}"),
        }
    }
}

/// How to reach the Exchange admin API and how hard to try.
#[derive(Debug, Clone)]
pub struct ExchangeConfig {
    /// The Exchange host root without `/adminapi`: `https://outlook.office365.com`, a national cloud's host
    /// (`https://outlook.office365.us`), or the sandbox (`https://127.0.0.1:PORT`, or
    /// `https://127.0.0.1:PORT/outlook.office365.us` for another cloud).
    pub base_url: String,
    /// The tenant: its GUID or one of its domains (`contoso.onmicrosoft.com`).
    pub tenant: String,
    /// An extra CA certificate (PEM) to trust besides the system's, e.g. the sandbox's.
    pub extra_root_certificate_pem: Option<Vec<u8>>,
    /// Timeout of one HTTP request (connect to last byte). REST-backed cmdlets may run for up to 15 minutes on
    /// the service's side; Tenure's cmdlets are short, so a minute is plenty.
    pub timeout: Duration,
    /// How many times one request is tried in all, at least 1.
    pub max_attempts: u32,
    /// The most requests in flight at once across all clones; the adaptive limit starts here. Exchange allows
    /// about ten concurrent requests per tenant.
    pub max_concurrency: usize,
    /// Objects per page (`Prefer: odata.maxpagesize`), 1..=1000; the module's default is 1000.
    pub page_size: u32,
    /// How the service routes the requests.
    pub anchor: Anchor,
}

impl ExchangeConfig {
    /// A configuration with the module's defaults (1000 per page, 60 s timeout, 5 attempts, 8 in flight).
    #[must_use]
    pub fn new(base_url: impl Into<String>, tenant: impl Into<String>, anchor: Anchor) -> ExchangeConfig {
        ExchangeConfig {
            base_url: base_url.into(),
            tenant: tenant.into(),
            extra_root_certificate_pem: None,
            timeout: Duration::from_secs(60),
            max_attempts: 5,
            max_concurrency: 8,
            page_size: 1000,
            anchor,
        }
    }

    /// The problem with this configuration, if any.
    pub(crate) fn problem(&self) -> Option<String> {
        let base = self.base_url.trim_end_matches('/');
        if !base.starts_with("https://") {
            return Some(format!("the Exchange base URL `{base}` must start with https://"));
        }
        if reqwest::Url::parse(base).is_err() {
            return Some(format!("the Exchange base URL `{base}` is not a URL"));
        }
        let tenant_ok = !self.tenant.is_empty()
            && self.tenant.chars().all(|character| character.is_ascii_alphanumeric() || "-._".contains(character));
        if !tenant_ok {
            return Some(format!("the tenant `{}` is neither a GUID nor a domain name", self.tenant));
        }
        if !(1..=1000).contains(&self.page_size) {
            return Some(format!("the page size {} is outside 1..=1000", self.page_size));
        }
        if let Anchor::Delegated { upn } = &self.anchor {
            let visible_ascii = |text: &str| text.chars().all(|character| character.is_ascii_graphic());
            if upn.is_empty() || !upn.contains('@') || !visible_ascii(upn) {
                return Some(format!("the anchor UPN `{upn}` is not an ASCII user principal name"));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_follow_the_module() {
        let tenant = "contoso.onmicrosoft.com";
        assert_eq!(
            Anchor::AppOnly.header_value(tenant),
            "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@contoso.onmicrosoft.com"
        );
        let delegated = Anchor::Delegated { upn: "svc@contoso.com".into() };
        assert_eq!(delegated.header_value(tenant), "UPN:svc@contoso.com");
    }

    #[test]
    fn bad_settings_are_named() {
        let good = ExchangeConfig::new("https://outlook.office365.com", "contoso.com", Anchor::AppOnly);
        assert_eq!(good.problem(), None);
        let plain = ExchangeConfig { base_url: "http://outlook.office365.com".into(), ..good.clone() };
        assert!(plain.problem().unwrap().contains("https://"));
        let tenant = ExchangeConfig { tenant: "contoso/../x".into(), ..good.clone() };
        assert!(tenant.problem().unwrap().contains("tenant"));
        let page = ExchangeConfig { page_size: 0, ..good.clone() };
        assert!(page.problem().unwrap().contains("page size"));
        let anchor = ExchangeConfig { anchor: Anchor::Delegated { upn: "José@x".into() }, ..good };
        assert!(anchor.problem().unwrap().contains("anchor"));
    }
}
