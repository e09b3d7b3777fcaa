//! `/console/account/exports`: archives of the signed-in person's own data. Asking makes one
//! (a job; a mail says when it is ready); each can be downloaded for 7 days; one may be asked
//! every 7 days. JSON variants with `Accept: application/json`.

use axum::Form;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;
use nimbus_app::accounts::SignedIn;
use nimbus_app::ports::DataExport;
use nimbus_app::{App, AppError};
use nimbus_core::timefmt::iso8601;
use serde_json::json;

use super::layout;
use crate::csrf::{self, CsrfForm};
use crate::error::PageError;
use crate::session::Signed;

fn export_json(e: &DataExport) -> serde_json::Value {
    json!({
        "id": e.id,
        "status": if e.ready_at.is_some() { "ready" } else { "pending" },
        "requested_at": iso8601(e.requested_at),
        "ready_at": e.ready_at.map(iso8601),
        "bytes": e.bytes,
        "expires_at": iso8601(e.expires_at),
        "url": e.ready_at.map(|_| format!("/console/account/exports/{}", e.id)),
    })
}

async fn render(app: &App, who: &SignedIn, error: Option<&str>, status: StatusCode) -> Result<Response, PageError> {
    let exports = app.exports(who).await?;
    let body = html! {
        h1 { "Your data archives" }
        p { "An archive holds what Nimbus keeps about you, as JSON and CSV files in a ZIP: your account, sessions, the changes you made and the files you uploaded (their names and sizes; the files themselves belong to their environment). It is ready in a moment, kept for 7 days, and one can be asked every 7 days." }
        @if let Some(e) = error { p class="error" role="alert" { (e) } }
        form method="post" action="/console/account/export" {
            input type="hidden" name="csrf" value=(who.session.csrf);
            button type="submit" { "Ask for an archive" }
        }
        @if !exports.is_empty() {
            table {
                thead { tr { th scope="col" { "Asked" } th scope="col" { "Archive" } th scope="col" { "Deleted at" } } }
                tbody {
                    @for e in &exports {
                        tr {
                            td { (iso8601(e.requested_at)) }
                            td {
                                @if e.ready_at.is_some() {
                                    a href={ "/console/account/exports/" (e.id) } { "Download (" (e.bytes.unwrap_or(0)) " bytes)" }
                                } @else { "Being made" }
                            }
                            td { (iso8601(e.expires_at)) }
                        }
                    }
                }
            }
        }
    };
    Ok((status, layout::page(who, None, "Your data archives", body)).into_response())
}

/// `GET /console/account/exports`.
pub async fn list(State(app): State<App>, Signed(who, _): Signed, headers: HeaderMap) -> Result<Response, PageError> {
    if super::wants_json(&headers) {
        let exports = app.exports(&who).await?;
        return Ok(
            axum::Json(json!({ "exports": exports.iter().map(export_json).collect::<Vec<_>>() })).into_response()
        );
    }
    render(&app, &who, None, StatusCode::OK).await
}

/// `POST /console/account/export`.
pub async fn request(
    State(app): State<App>,
    Signed(who, _): Signed,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PageError> {
    csrf::check(&who.session.csrf, &f.csrf)?;
    match app.request_export(&who).await {
        Ok(e) if super::wants_json(&headers) => Ok((StatusCode::ACCEPTED, axum::Json(export_json(&e))).into_response()),
        Ok(_) => Ok((StatusCode::SEE_OTHER, [(header::LOCATION, "/console/account/exports")]).into_response()),
        Err(e @ AppError::ExportTooSoon { retry_after }) => {
            let retry = [(header::RETRY_AFTER, retry_after.to_string())];
            if super::wants_json(&headers) {
                let body = json!({ "error": { "message": e.to_string(), "retry_after": retry_after } });
                return Ok((StatusCode::TOO_MANY_REQUESTS, retry, axum::Json(body)).into_response());
            }
            let page = render(&app, &who, Some(&e.to_string()), StatusCode::TOO_MANY_REQUESTS).await?;
            Ok((retry, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /console/account/exports/{id}`: the ZIP, to the person whose it is.
pub async fn download(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let (export, read) = app.export_archive(&who, id).await?;
    let name = format!("nimbus-data-{}.zip", iso8601(export.requested_at).replace(':', "-"));
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_LENGTH, read.size.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        Body::from_stream(read.stream),
    )
        .into_response())
}
