//! The product's words for clouds and statuses, shared by the connection pages.

use engine::connections::ConnectionView;
use maud::{Markup, html};
use model::NationalCloud;
use store::ConnectionStatus;

/// The national cloud as the product's select names it.
#[must_use]
pub fn cloud_label(cloud: NationalCloud) -> &'static str {
    match cloud {
        NationalCloud::Global => "Global",
        NationalCloud::UsGovHigh => "US Government GCC High",
        NationalCloud::UsGovDod => "US Government DoD",
        NationalCloud::China => "China operated by 21Vianet",
    }
}

/// The status as a coloured badge.
#[must_use]
pub fn status_badge(view: &ConnectionView) -> Markup {
    let class = match view.connection.status {
        ConnectionStatus::Connected => "status connected",
        ConnectionStatus::WaitingAdminApproval => "status waiting",
        ConnectionStatus::NeedsRelink => "status needs-relink",
        ConnectionStatus::NotLinked => "status not-tested",
    };
    html! { span class=(class) { (view.status_label()) } }
}

/// The national-cloud `<select>`, with `selected` chosen.
#[must_use]
pub fn cloud_select(selected: NationalCloud) -> Markup {
    html! {
        label for="cloud" { "National cloud" }
        select id="cloud" name="cloud" {
            @for cloud in NationalCloud::ALL {
                option value=(cloud.config_name()) selected[cloud == selected] { (cloud_label(cloud)) }
            }
        }
    }
}
