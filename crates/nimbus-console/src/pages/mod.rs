//! The console's pages, one module each.

pub mod account;
pub mod asset;
pub mod builder;
pub mod closing;
pub mod desk;
pub mod environments;
pub mod exports;
pub mod keys;
pub mod layout;
pub mod library;
pub mod links;
pub mod login;
pub mod metadata;
pub mod people;
pub mod privacy;
pub mod requests;
pub mod schema;
pub mod settings;
pub mod unsubscribe;
pub mod upload;
pub mod urls;
pub mod usage;
pub mod your_data;

use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use crate::error::PageError;
use crate::session::Signed;

/// `/console`: the library of the person's first environment, or a page saying they have none.
pub async fn home(who: Result<Signed, PageError>) -> Result<Response, PageError> {
    let Signed(who, _) = who?;
    match who.memberships.first() {
        Some(m) => Ok(Redirect::to(&format!("/console/{}/library", m.cloud_name)).into_response()),
        None => {
            let body = html! {
                div class="card" {
                    h1 { "No environments yet" }
                    p { "Your account has no role in any product environment. Ask an owner to give you one." }
                }
            };
            Ok(([(header::CACHE_CONTROL, "no-store")], layout::page(&who, None, "Console", body)).into_response())
        }
    }
}

/// Whether the request asks for the JSON variant of a page (`Accept: application/json`).
pub fn wants_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}
