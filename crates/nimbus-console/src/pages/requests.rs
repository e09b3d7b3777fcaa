//! The public request desk (privacy F8, F19): `/privacy/requests`, where anyone, with or
//! without an account, asks the operator about their data or for the removal of content that
//! shows them (`POST /privacy/removal-request` takes the latter alone); and the mailed link
//! `/privacy/requests/verify/{token}` that proves the address (a GET shows a button and
//! changes nothing: mail scanners fetch links). Each answers JSON when asked for it.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::html;
use nimbus_app::privacy::desk::{KINDS, MAX_DETAILS, NewSubjectRequest};
use nimbus_app::{App, AppError};
use serde::Deserialize;
use serde_json::json;

use super::layout;
use crate::error::PageError;

use super::wants_json;

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "access" => "A copy of my data",
        "rectify" => "Correct my data",
        "erase" => "Erase my data",
        "restrict" => "Stop using my data for now",
        "object" => "Object to the use of my data",
        _ => "Remove content that shows me",
    }
}

/// `GET /privacy/requests`: the form.
pub async fn form() -> Response {
    layout::bare_with(
        "Ask about your data",
        html! {
            p { "Ask the operator of this installation about the data it holds on you, with or without an account. We mail a link to the address you give; the request goes ahead once you open it. We answer within 30 days." }
            form method="post" action="/privacy/requests" {
                label for="kind" { "What you ask" }
                select id="kind" name="kind" {
                    @for k in KINDS { option value=(k) { (kind_label(k)) } }
                }
                label for="email" { "Your e-mail address" }
                input id="email" type="email" name="email" required autocomplete="email";
                label for="asset_url" { "Address of the image or file (for a removal)" }
                input id="asset_url" type="url" name="asset_url";
                label for="details" { "Details" }
                textarea id="details" name="details" maxlength=(MAX_DETAILS) rows="5" {}
                button type="submit" { "Send the request" }
            }
        },
    )
    .into_response()
}

#[derive(Debug, Deserialize)]
pub struct RequestForm {
    kind: String,
    email: String,
    #[serde(default)]
    details: String,
    #[serde(default)]
    asset_url: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct RemovalForm {
    asset_url: String,
    email: String,
    #[serde(default)]
    description: String,
}

async fn take(app: &App, headers: &HeaderMap, r: NewSubjectRequest) -> Result<Response, PageError> {
    let req = app.submit_subject_request(r).await?;
    let due = nimbus_core::timefmt::iso8601(req.due_at);
    if wants_json(headers) {
        let body = json!({ "id": req.id, "kind": req.kind, "status": "awaiting_verification", "due_at": due });
        return Ok((StatusCode::ACCEPTED, axum::Json(body)).into_response());
    }
    let text = format!(
        "Request {} is received. Open the link we mailed to your address to confirm it; we answer by {due} (UTC).",
        req.id
    );
    Ok((StatusCode::ACCEPTED, layout::bare("Check your mail", &text)).into_response())
}

/// `POST /privacy/requests`.
pub async fn submit(
    State(app): State<App>,
    headers: HeaderMap,
    Form(f): Form<RequestForm>,
) -> Result<Response, PageError> {
    let r = NewSubjectRequest { kind: f.kind, email: f.email, details: f.details, asset_url: f.asset_url };
    take(&app, &headers, r).await
}

/// `POST /privacy/removal-request`: the removal of content that shows the requester.
pub async fn removal(
    State(app): State<App>,
    headers: HeaderMap,
    Form(f): Form<RemovalForm>,
) -> Result<Response, PageError> {
    let r = NewSubjectRequest {
        kind: "removal".into(),
        email: f.email,
        details: f.description,
        asset_url: Some(f.asset_url),
    };
    take(&app, &headers, r).await
}

/// `GET /privacy/requests/verify/{token}`: a button, nothing changed.
pub async fn verify_form(Path(token): Path<String>) -> Response {
    layout::bare_with(
        "Confirm your request",
        html! {
            p { "Confirm that this address is yours, and the request goes to the operator." }
            form method="post" action={ "/privacy/requests/verify/" (token) } {
                button type="submit" { "Confirm" }
            }
        },
    )
    .into_response()
}

/// `POST /privacy/requests/verify/{token}`.
pub async fn verify(
    State(app): State<App>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    match app.verify_subject_request(&token).await {
        Ok(id) if wants_json(&headers) => Ok(axum::Json(json!({ "id": id, "status": "verified" })).into_response()),
        Ok(id) => {
            Ok(layout::bare("Confirmed", &format!("Request {id} is confirmed; the operator answers it."))
                .into_response())
        }
        Err(AppError::LinkInvalid) => {
            Ok((StatusCode::BAD_REQUEST, layout::bare("Link not valid", &AppError::LinkInvalid.to_string()))
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}
