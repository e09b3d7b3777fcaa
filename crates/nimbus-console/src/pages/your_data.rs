//! `GET /console/account/privacy`: the privacy centre, as a page or (with
//! `Accept: application/json`) as JSON.

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use maud::html;
use nimbus_app::App;
use nimbus_app::privacy::center::PrivacyCenter;
use nimbus_core::privacy::{Retention, Retentions, period_words};
use serde_json::json;

use super::layout;
use crate::error::PageError;
use crate::session::Signed;

fn retention(r: Retention) -> String {
    match r {
        Retention::WhileAccountExists => "while the account exists".to_owned(),
        Retention::Days(d) => period_words(i64::from(d) * 86_400),
        Retention::Secs(secs) => period_words(secs),
        // Resolved by the caller; shown as the default if one is not.
        Retention::Configured(s) => period_words(Retentions::default().secs(s)),
        Retention::WhileAssetExists => "while the asset is kept".to_owned(),
        Retention::Aggregate => "kept as counts that name nobody".to_owned(),
        Retention::UntilExpiry => "until it expires".to_owned(),
    }
}

fn as_json(c: &PrivacyCenter) -> serde_json::Value {
    json!({
        "categories": c.held.iter().map(|h| json!({
            "category": h.category.as_str(),
            "rows": h.rows,
            "purposes": h.purposes,
            "retention": retention(h.retention),
        })).collect::<Vec<_>>(),
        "locations": c.locations.iter().map(|(what, where_)| json!({"what": what, "where": where_})).collect::<Vec<_>>(),
        "who_can_see": c.viewers.iter().map(|v| json!({"email": v.email, "role": v.role.as_str(), "cloud": v.cloud})).collect::<Vec<_>>(),
        "processors": c.processors.iter().map(|p| json!({
            "name": p.name, "purpose": p.purpose.as_str(), "data": p.data, "location": p.location,
        })).collect::<Vec<_>>(),
        "deletion_grace_seconds": c.deletion_grace_secs,
        "share_opt_out": c.share_opt_out_at.is_some(),
        "share_opt_out_at": c.share_opt_out_at.map(nimbus_core::timefmt::iso8601),
        "product_news": c.product_news_at.is_some(),
        "product_news_at": c.product_news_at.map(nimbus_core::timefmt::iso8601),
    })
}

#[derive(serde::Deserialize)]
pub struct ObjectionForm {
    #[serde(default)]
    csrf: String,
    objects: String,
}

/// `POST /console/account/objection`.
pub async fn objection(
    State(app): State<App>,
    Signed(who, _): Signed,
    axum::Form(f): axum::Form<ObjectionForm>,
) -> Result<Response, PageError> {
    crate::csrf::check(&who.session.csrf, &f.csrf)?;
    app.set_objection(&who, f.objects == "1").await?;
    Ok((axum::http::StatusCode::SEE_OTHER, [(header::LOCATION, "/console/account/privacy")]).into_response())
}

#[derive(serde::Deserialize)]
pub struct NewsForm {
    #[serde(default)]
    csrf: String,
    on: String,
}

/// `POST /console/account/news`.
pub async fn news(
    State(app): State<App>,
    Signed(who, _): Signed,
    axum::Form(f): axum::Form<NewsForm>,
) -> Result<Response, PageError> {
    crate::csrf::check(&who.session.csrf, &f.csrf)?;
    app.set_product_news_as(&who, f.on == "1").await?;
    Ok((axum::http::StatusCode::SEE_OTHER, [(header::LOCATION, "/console/account/privacy")]).into_response())
}

pub async fn page(State(app): State<App>, Signed(who, _): Signed, headers: HeaderMap) -> Result<Response, PageError> {
    let c = app.privacy_center(&who).await?;
    if super::wants_json(&headers) {
        return Ok(axum::Json(as_json(&c)).into_response());
    }
    let body = html! {
        h1 { "Your data" }
        p { "What Nimbus holds about you, counted now. " a href="/privacy" { "The privacy page" } " explains each kind in full. " a href="/console/account/exports" { "Download a copy" } "." }
        table {
            thead { tr { th scope="col" { "Kind" } th scope="col" { "Records" } th scope="col" { "Kept" } th scope="col" { "What it is" } } }
            tbody {
                @for h in &c.held {
                    tr {
                        td { (h.category.as_str()) }
                        td { (h.rows) }
                        td { (retention(h.retention)) }
                        td { ul { @for p in &h.purposes { li { (p) } } } }
                    }
                }
            }
        }
        h2 { "Where it is kept" }
        table { tbody { @for (what, where_) in &c.locations { tr { th scope="row" { (what) } td { (where_) } } } } }
        h2 { "Who else can see it" }
        @if c.viewers.is_empty() {
            p { "Nobody else manages the environments you belong to." }
        } @else {
            ul { @for v in &c.viewers { li { (v.email) ", " (v.role.as_str()) " of " (v.cloud) } } }
        }
        h2 { "Sharing" }
        @match c.share_opt_out_at {
            Some(at) => p { "You object to the sharing of your data, since " (nimbus_core::timefmt::iso8601(at)) ". If your browser sends Global Privacy Control, it keeps this objection on." },
            None => p { "You do not object to the sharing of your data. Nimbus shares it with nobody either way; objecting also rules out any optional service added later." },
        }
        form method="post" action="/console/account/objection" {
            input type="hidden" name="csrf" value=(who.session.csrf);
            input type="hidden" name="objects" value=(if c.share_opt_out_at.is_some() { "0" } else { "1" });
            button type="submit" { (if c.share_opt_out_at.is_some() { "Withdraw my objection" } else { "Object to sharing" }) }
        }
        h2 { "Mail" }
        p { "Nimbus mails you what your account needs (sign-in links, security notices, replies to your requests) and the notices the law asks for (a change of this policy). Product news only if you ask for it; each one has a link that stops it." }
        @match c.product_news_at {
            Some(at) => p { "You get product news, since " (nimbus_core::timefmt::iso8601(at)) "." },
            None => p { "You get no product news." },
        }
        form method="post" action="/console/account/news" {
            input type="hidden" name="csrf" value=(who.session.csrf);
            input type="hidden" name="on" value=(if c.product_news_at.is_some() { "0" } else { "1" });
            button type="submit" { (if c.product_news_at.is_some() { "Stop product news" } else { "Send me product news" }) }
        }
        h2 { "Who it goes to" }
        @if c.processors.is_empty() {
            p { "Nobody outside this installation." }
        } @else {
            ul { @for p in &c.processors { li { (p.name) " (" (p.purpose.as_str()) "): " (p.data.join(", ")) } } }
        }
    };
    Ok(layout::page(&who, None, "Your data", body).into_response())
}
