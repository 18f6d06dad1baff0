//! The national-cloud table as the sandbox serves it: which login, Graph and Exchange hosts belong to which
//! cloud, and what a token issued in that cloud looks like.
//!
//! Facts: `shared/reference/microsoft-protocols.md` §2, and
//! <https://learn.microsoft.com/graph/deployments>. The sandbox answers for every host below, either by the
//! `Host` header or by a path prefix (`https://127.0.0.1:PORT/graph.microsoft.us/v1.0/users`), so that clients
//! exercise their cloud table for real.

use serde::{Deserialize, Serialize};

/// A Microsoft national cloud.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Cloud {
    /// Worldwide (includes GCC "moderate").
    #[default]
    Global,
    /// US Government GCC High (L4).
    UsGovHigh,
    /// US Government DoD (L5).
    UsGovDod,
    /// China, operated by 21Vianet.
    China,
}

/// Which Microsoft service a request is addressed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// The identity platform (authorize, token, discovery).
    Login,
    /// Microsoft Graph.
    Graph,
    /// The Exchange Online admin API.
    Exchange,
    /// The sandbox's own admin API and pages (not a Microsoft service).
    SandboxAdmin,
}

/// Static facts about one cloud.
#[derive(Debug)]
pub struct CloudHosts {
    /// The cloud.
    pub cloud: Cloud,
    /// Login host names; the first is the preferred one.
    pub login: &'static [&'static str],
    /// The Graph host (also the Graph resource URI, with `https://`).
    pub graph: &'static str,
    /// Exchange Online hosts; the first is the resource URI host.
    pub exchange: &'static [&'static str],
    /// The host in the v1.0 token issuer (`https://{sts}/{tid}/`).
    pub sts: &'static str,
    /// `cloud_instance_name` in discovery documents.
    pub instance_name: &'static str,
    /// `tenant_region_scope` in discovery documents.
    pub region_scope: &'static str,
}

/// The table itself.
///
/// The US Government issuer host (`sts.windows.net`) and the Exchange hosts of the sovereign clouds are
/// inferred from the PowerShell connection URIs (reference §2), not confirmed by a published source.
pub const CLOUDS: [CloudHosts; 4] = [
    CloudHosts {
        cloud: Cloud::Global,
        login: &["login.microsoftonline.com", "login.microsoft.com", "login.windows.net", "sts.windows.net"],
        graph: "graph.microsoft.com",
        exchange: &["outlook.office365.com", "outlook.office.com"],
        sts: "sts.windows.net",
        instance_name: "microsoftonline.com",
        region_scope: "WW",
    },
    CloudHosts {
        cloud: Cloud::UsGovHigh,
        login: &["login.microsoftonline.us", "login.usgovcloudapi.net"],
        graph: "graph.microsoft.us",
        exchange: &["outlook.office365.us"],
        sts: "sts.windows.net",
        instance_name: "microsoftonline.us",
        region_scope: "USGov",
    },
    CloudHosts {
        cloud: Cloud::UsGovDod,
        login: &["login.microsoftonline.us", "login.usgovcloudapi.net"],
        graph: "dod-graph.microsoft.us",
        exchange: &["webmail.apps.mil"],
        sts: "sts.windows.net",
        instance_name: "microsoftonline.us",
        region_scope: "USGov",
    },
    CloudHosts {
        cloud: Cloud::China,
        login: &["login.partner.microsoftonline.cn", "login.chinacloudapi.cn"],
        graph: "microsoftgraph.chinacloudapi.cn",
        exchange: &["partner.outlook.cn"],
        sts: "sts.chinacloudapi.cn",
        instance_name: "partner.microsoftonline.cn",
        region_scope: "CN",
    },
];

impl Cloud {
    /// This cloud's row of the table.
    pub fn hosts(self) -> &'static CloudHosts {
        CLOUDS.iter().find(|row| row.cloud == self).expect("every cloud has a row")
    }

    /// The Graph resource identifier (`aud` of Graph tokens).
    pub fn graph_resource(self) -> String {
        format!("https://{}", self.hosts().graph)
    }

    /// The Exchange Online resource identifier (`aud` of Exchange tokens).
    pub fn exchange_resource(self) -> String {
        format!("https://{}", self.hosts().exchange[0])
    }

    /// The v1.0 issuer for a tenant of this cloud.
    pub fn issuer_v1(self, tid: &str) -> String {
        format!("https://{}/{tid}/", self.hosts().sts)
    }

    /// Whether `self` and `other` share a login host (GCC High and DoD do).
    pub fn shares_login_with(self, other: Cloud) -> bool {
        self.hosts().login[0] == other.hosts().login[0]
    }
}

/// What a host name means to the sandbox: the service and, for Graph and Exchange, the exact cloud. A login
/// host names a family of clouds (GCC High and DoD share one), so it carries the first cloud of the family.
pub fn classify_host(host: &str) -> Option<(Service, Cloud)> {
    let host = host.to_ascii_lowercase();
    for row in &CLOUDS {
        if row.graph == host {
            return Some((Service::Graph, row.cloud));
        }
        if row.exchange.contains(&host.as_str()) {
            return Some((Service::Exchange, row.cloud));
        }
    }
    CLOUDS.iter().find(|row| row.login.contains(&host.as_str())).map(|row| (Service::Login, row.cloud))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cloud_host_classifies_to_its_cloud() {
        assert_eq!(classify_host("graph.microsoft.us"), Some((Service::Graph, Cloud::UsGovHigh)));
        assert_eq!(classify_host("dod-graph.microsoft.us"), Some((Service::Graph, Cloud::UsGovDod)));
        assert_eq!(classify_host("LOGIN.chinacloudapi.cn"), Some((Service::Login, Cloud::China)));
        assert_eq!(classify_host("outlook.office.com"), Some((Service::Exchange, Cloud::Global)));
        assert_eq!(classify_host("127.0.0.1"), None);
        assert!(Cloud::UsGovDod.shares_login_with(Cloud::UsGovHigh));
        assert!(!Cloud::China.shares_login_with(Cloud::Global));
    }
}
