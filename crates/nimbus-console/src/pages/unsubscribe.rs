//! `/u/{token}`: the unsubscribe link of product news (RFC 8058). A GET shows a button and
//! changes nothing (mail scanners fetch links); a POST, the button's or a mail client's
//! one-click `List-Unsubscribe=One-Click`, stops the news at once. No session is needed: the
//! signed token is the authority, for its one person and category.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;
use nimbus_app::{App, AppError};

use super::layout;
use crate::error::PageError;

fn refused() -> Response {
    (StatusCode::BAD_REQUEST, layout::bare("Link not valid", &AppError::UnsubscribeInvalid.to_string())).into_response()
}

/// `GET /u/{token}`.
pub async fn confirm(State(app): State<App>, Path(token): Path<String>) -> Result<Response, PageError> {
    match app.check_unsubscribe(&token).await {
        Ok(()) => Ok(layout::bare_with(
            "Stop product news",
            html! {
                p { "Nimbus will send no more product news to this address. Mail your account needs is not affected." }
                form method="post" action={ "/u/" (token) } {
                    input type="hidden" name="List-Unsubscribe" value="One-Click";
                    button type="submit" { "Unsubscribe" }
                }
            },
        )
        .into_response()),
        Err(AppError::UnsubscribeInvalid) => Ok(refused()),
        Err(e) => Err(e.into()),
    }
}

/// `POST /u/{token}`: whatever the body (the one-click form or the button's).
pub async fn submit(State(app): State<App>, Path(token): Path<String>) -> Result<Response, PageError> {
    match app.unsubscribe(&token).await {
        Ok(()) => Ok(layout::bare("Unsubscribed", "You will get no more product news from Nimbus.").into_response()),
        Err(AppError::UnsubscribeInvalid) => Ok(refused()),
        Err(e) => Err(e.into()),
    }
}
