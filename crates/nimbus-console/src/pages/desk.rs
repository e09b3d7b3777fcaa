//! `/console/admin/privacy/requests`: the request desk for the people who answer requests
//! (privacy F8): owners see the requests that name no environment, owners and admins the
//! removal requests about their environment's content. The list puts open requests first by
//! due date and marks overdue ones; a request's page shows its history and what the catalog
//! holds about its subject, and extends, answers with an archive, or closes it. JSON variants
//! with `Accept: application/json`.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use nimbus_app::accounts::SignedIn;
use nimbus_app::ports::SubjectRequest;
use nimbus_app::privacy::desk::DeskAnswer;
use nimbus_app::{App, AppError};
use nimbus_core::timefmt::iso8601;
use serde::Deserialize;
use serde_json::json;

use super::{layout, wants_json};
use crate::csrf;
use crate::error::PageError;
use crate::session::Signed;

use nimbus_app::privacy::desk::request_state as state;

fn request_json(r: &SubjectRequest, now: i64) -> serde_json::Value {
    json!({
        "id": r.id, "kind": r.kind, "email": r.email, "cloud": r.cloud, "public_id": r.public_id,
        "details": r.details, "status": r.status, "state": state(r, now), "verified": r.verified_at.is_some(),
        "received_at": iso8601(r.received_at), "due_at": iso8601(r.due_at), "extension_reason": r.extension_reason,
        "closed_at": r.closed_at.map(iso8601),
    })
}

fn only_for_answerers(who: &SignedIn) -> Result<(), PageError> {
    if App::answers_requests(who) {
        Ok(())
    } else {
        let cloud = who.memberships.first().map_or_else(String::new, |m| m.cloud_name.clone());
        Err(AppError::Forbidden { cloud }.into())
    }
}

/// `GET /console/admin/privacy/requests`.
pub async fn list(State(app): State<App>, Signed(who, _): Signed, headers: HeaderMap) -> Result<Response, PageError> {
    only_for_answerers(&who)?;
    let now = app.now();
    let all = app.subject_requests_as(&who).await?;
    if wants_json(&headers) {
        let rows: Vec<_> = all.iter().map(|r| request_json(r, now)).collect();
        return Ok(axum::Json(json!({ "requests": rows })).into_response());
    }
    let overdue = all.iter().filter(|r| state(r, now) == "overdue").count();
    let body = html! {
        h1 { "Requests about people's data" }
        p { "People ask at " a href="/privacy/requests" { "/privacy/requests" } ", with or without an account. Each is due 30 days after receipt (once extendable to 90 with a reason); answer only once the address is verified." }
        @if overdue > 0 { p class="error" role="alert" { (overdue) " request(s) overdue." } }
        @if all.is_empty() { p { "No requests." } } @else {
            table {
                thead { tr {
                    th scope="col" { "Request" } th scope="col" { "State" } th scope="col" { "Asks" }
                    th scope="col" { "From" } th scope="col" { "About" } th scope="col" { "Due" }
                } }
                tbody { @for r in &all { tr {
                    td { a href={ "/console/admin/privacy/requests/" (r.id) } { "#" (r.id) } }
                    td { (state(r, now)) }
                    td { (r.kind) }
                    td { (r.email) }
                    td { @if let (Some(c), Some(p)) = (&r.cloud, &r.public_id) { (p) " in " (c) } }
                    td { (iso8601(r.due_at)) }
                } } }
            }
        }
    };
    Ok(layout::page(&who, None, "Requests", body).into_response())
}

async fn render(
    app: &App,
    who: &SignedIn,
    id: i64,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let now = app.now();
    let (r, log, _) = app.subject_request_as(who, id).await?;
    let found = app.find_subject(id).await?;
    let open = r.status == "open";
    let action = format!("/console/admin/privacy/requests/{id}");
    let body = html! {
        h1 { "Request #" (r.id) ": " (r.kind) }
        @if let Some(e) = error { p class="error" role="alert" { (e) } }
        dl {
            dt { "State" } dd { (state(&r, now)) }
            dt { "From" } dd { (r.email) " (" (if r.verified_at.is_some() { "verified" } else { "not verified" }) ")" }
            @if let (Some(c), Some(p)) = (&r.cloud, &r.public_id) { dt { "About" } dd { (p) " in " (c) } }
            dt { "Received" } dd { (iso8601(r.received_at)) }
            dt { "Due" } dd { (iso8601(r.due_at)) @if let Some(why) = &r.extension_reason { " (extended: " (why) ")" } }
            @if !r.details.is_empty() { dt { "Details" } dd { (r.details) } }
        }
        h2 { "What is held" }
        ul {
            @match &found.account {
                Some((user, rows)) => li { "An account (user " (user) "): " @for (t, n) in rows { (t) " " (n) "; " } },
                None => li { "No account with this address." },
            }
            @if !found.requests.is_empty() { li { "Other requests from this address: " @for i in &found.requests { "#" (i) " " } } }
            @for (c, rt, dt) in &found.assets { li { "The content named: " (c) " " (rt) "/" (dt) } }
            @for c in &found.cautions { li class="muted" { (c) } }
        }
        @if open {
            h2 { "Answer" }
            form method="post" action={ (action) "/export" } {
                input type="hidden" name="csrf" value=(who.session.csrf);
                button type="submit" { "Mail the account holder their archive" }
            }
            @if r.extension_reason.is_none() {
                form method="post" action={ (action) "/extend" } {
                    input type="hidden" name="csrf" value=(who.session.csrf);
                    label for="reason" { "Reason to extend to 90 days" }
                    input id="reason" type="text" name="reason" required;
                    button type="submit" { "Extend" }
                }
            }
            form method="post" action={ (action) "/close" } {
                input type="hidden" name="csrf" value=(who.session.csrf);
                label for="note" { "How it was answered" }
                input id="note" type="text" name="note" required;
                label class="check" { input type="checkbox" name="refused" value="true"; " Refused" }
                button type="submit" { "Close" }
            }
        }
        h2 { "History" }
        ol { @for l in &log { li { (iso8601(l.at)) " " (l.actor) ": " (l.note) } } }
        p { a href="/console/admin/privacy/requests" { "All requests" } }
    };
    Ok((status, layout::page(who, None, &format!("Request #{id}"), body)).into_response())
}

/// `GET /console/admin/privacy/requests/{id}`.
pub async fn show(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    only_for_answerers(&who)?;
    if wants_json(&headers) {
        let (r, log, _) = app.subject_request_as(&who, id).await?;
        let history: Vec<_> =
            log.iter().map(|l| json!({ "at": iso8601(l.at), "actor": l.actor, "note": l.note })).collect();
        let mut v = request_json(&r, app.now());
        v["history"] = json!(history);
        return Ok(axum::Json(v).into_response());
    }
    render(&app, &who, id, None, StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
pub struct AnswerForm {
    csrf: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    refused: Option<String>,
}

/// `POST /console/admin/privacy/requests/{id}/{extend|close|export}`.
pub async fn answer(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path((id, action)): Path<(i64, String)>,
    Form(f): Form<AnswerForm>,
) -> Result<Response, PageError> {
    csrf::check(&who.session.csrf, &f.csrf)?;
    only_for_answerers(&who)?;
    let answer = match action.as_str() {
        "extend" => DeskAnswer::Extend { reason: &f.reason },
        "close" => DeskAnswer::Close { refused: f.refused.is_some(), note: &f.note },
        "export" => DeskAnswer::Export,
        _ => return Err(AppError::ResourceNotFound(format!("request action {action}")).into()),
    };
    match app.answer_request_as(&who, id, answer).await {
        Ok(()) => Ok(Redirect::to(&format!("/console/admin/privacy/requests/{id}")).into_response()),
        Err(e @ (AppError::MissingParam(_) | AppError::Conflict(_) | AppError::RequestNotVerified(_))) => {
            let status = if matches!(e, AppError::RequestNotVerified(_)) {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::BAD_REQUEST
            };
            render(&app, &who, id, Some(&e.to_string()), status).await
        }
        Err(e) => Err(e.into()),
    }
}
