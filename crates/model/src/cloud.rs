//! The national clouds: one table of login, Graph and Exchange hosts used by every Microsoft client in Tenure.
//!
//! (The sandbox keeps its own copy, written from Microsoft's documentation, so that a mistake here cannot hide on
//! both sides.) Source: <https://learn.microsoft.com/en-us/graph/deployments>.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A Microsoft cloud instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NationalCloud {
    /// Microsoft's global service.
    #[serde(rename = "global")]
    Global,
    /// US Government L4 (GCC High).
    #[serde(rename = "us-gov-high")]
    UsGovHigh,
    /// US Government L5 (DoD).
    #[serde(rename = "us-gov-dod")]
    UsGovDod,
    /// Microsoft Azure operated by 21Vianet (China).
    #[serde(rename = "china")]
    China,
}

impl NationalCloud {
    /// Every cloud.
    pub const ALL: [Self; 4] = [Self::Global, Self::UsGovHigh, Self::UsGovDod, Self::China];

    /// The identity platform's host.
    #[must_use]
    pub fn login_host(self) -> &'static str {
        match self {
            Self::Global => "login.microsoftonline.com",
            Self::UsGovHigh | Self::UsGovDod => "login.microsoftonline.us",
            Self::China => "login.partner.microsoftonline.cn",
        }
    }

    /// Microsoft Graph's host.
    #[must_use]
    pub fn graph_host(self) -> &'static str {
        match self {
            Self::Global => "graph.microsoft.com",
            Self::UsGovHigh => "graph.microsoft.us",
            Self::UsGovDod => "dod-graph.microsoft.us",
            Self::China => "microsoftgraph.chinacloudapi.cn",
        }
    }

    /// Exchange Online's host.
    #[must_use]
    pub fn exchange_host(self) -> &'static str {
        match self {
            Self::Global => "outlook.office365.com",
            Self::UsGovHigh => "outlook.office365.us",
            Self::UsGovDod => "webmail.apps.mil",
            Self::China => "partner.outlook.cn",
        }
    }

    /// The name configuration files use (`global`, `us-gov-high`, `us-gov-dod`, `china`).
    #[must_use]
    pub fn config_name(self) -> &'static str {
        match self {
            Self::Global => "global",
            Self::UsGovHigh => "us-gov-high",
            Self::UsGovDod => "us-gov-dod",
            Self::China => "china",
        }
    }
}

impl fmt::Display for NationalCloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.config_name())
    }
}

/// A cloud name that is not one of [`NationalCloud::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown national cloud \"{0}\" (use global, us-gov-high, us-gov-dod or china)")]
pub struct UnknownCloud(pub String);

impl FromStr for NationalCloud {
    type Err = UnknownCloud;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|cloud| cloud.config_name() == text).ok_or_else(|| UnknownCloud(text.to_string()))
    }
}
