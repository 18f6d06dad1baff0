//! `GET /`: the dashboard — the connections at a glance and what needs attention.

use axum::extract::State;
use maud::{Markup, html};
use store::ConnectionStatus;

use crate::auth::session::SignedIn;
use crate::error_page::PageError;
use crate::flash::Flash;
use crate::pages::connections::connection_error_page;
use crate::pages::labels::status_badge;
use crate::pages::layout;
use crate::state::AppState;

/// `GET /`.
pub async fn dashboard(State(state): State<AppState>, admin: SignedIn, flash: Flash) -> Result<Markup, PageError> {
    let views = state.connections().list().await.map_err(|error| connection_error_page(&error))?;
    let attention: Vec<_> = views.iter().filter(|view| view.connection.status != ConnectionStatus::Connected).collect();
    let connected = views.len() - attention.len();
    Ok(layout::page(
        "Dashboard",
        &admin,
        &flash,
        html! {
            h1 { "Dashboard" }
            div.card #summary {
                h2 { "Connections" }
                @if views.is_empty() {
                    p { "No connection yet. Link Tenure to your Microsoft tenant: Entra ID and Exchange Online, in \
                         any national cloud." }
                } @else {
                    p { (connected) " of " (views.len()) " connected." }
                    @if !attention.is_empty() {
                        ul {
                            @for view in &attention {
                                li { a href={ "/connections/" (view.connection.id) } { (view.connection.name) } " "
                                     (status_badge(view)) }
                            }
                        }
                    }
                }
                div.actions { a.button.primary href="/connections" { "Manage connections" } }
            }
        },
    ))
}
