//! The public privacy pages: `/privacy`, written from the personal-data registry and this
//! installation's settings so that it says what the code does; `/cookies`, the cookie
//! inventory; and `/.well-known/gpc.json`, which tells browsers that Global Privacy Control
//! is honoured.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use nimbus_app::App;
use nimbus_app::ports::Policy;
use nimbus_core::privacy::{Category, OnErasure, REGISTRY, Retention, Retentions, period_words};
use nimbus_core::timefmt::iso8601;
use serde_json::json;

use super::layout;
use crate::session::COOKIES;

/// When the privacy practices these pages describe last changed (the GPC file says it).
pub const LAST_UPDATE: &str = "2026-12-02";

fn retention(r: Retention) -> String {
    match r {
        Retention::WhileAccountExists => "as long as the account exists".to_owned(),
        Retention::Days(d) => period_words(i64::from(d) * 86_400),
        Retention::Secs(secs) => period_words(secs),
        // Resolved by the caller; shown as the default if one is not.
        Retention::Configured(s) => period_words(Retentions::default().secs(s)),
        Retention::WhileAssetExists => "as long as the asset is kept".to_owned(),
        Retention::Aggregate => "kept as counts that name nobody".to_owned(),
        Retention::UntilExpiry => "until the link expires (7 days at most)".to_owned(),
    }
}

fn erasure(e: OnErasure) -> &'static str {
    match e {
        OnErasure::Delete => "deleted",
        OnErasure::Pseudonymise => "kept, naming a pseudonym instead of the person",
        OnErasure::WithAsset => "deleted with the asset",
        OnErasure::Keep => "kept until its time is over, as evidence of the answer",
    }
}

fn heading(c: Category) -> &'static str {
    match c {
        Category::Account => "Your account",
        Category::Session => "Your sessions",
        Category::Event => "Changes you make",
        Category::Audit => "Who uploaded what",
        Category::Consent => "Your choices",
        Category::AssetMeta => "Content uploaded by the customers of this installation",
        Category::Analytics => "Visits to delivered files",
        Category::Request => "Requests about your data",
        Category::Legal => "Requests from authorities",
    }
}

fn grace(app: &App) -> String {
    period_words(app.config.deletion_grace_secs)
}

fn table_of(category: Category, kept: &Retentions) -> Markup {
    html! {
        table {
            thead { tr { th scope="col" { "What" } th scope="col" { "Kept" } th scope="col" { "When you are erased" } } }
            tbody {
                @for c in REGISTRY.iter().filter(|c| c.category == category) {
                    tr { td { (c.purpose) } td { (retention(kept.resolve(c.retention))) } td { (erasure(c.on_erasure)) } }
                }
            }
        }
    }
}

fn policy_json(p: &Policy) -> serde_json::Value {
    json!({
        "kind": p.kind,
        "version": p.version,
        "change_class": p.change_class,
        "published_at": iso8601(p.published_at),
        "effective_at": iso8601(p.effective_at),
        "text": p.text_md,
        "changelog": p.changelog_md,
    })
}

/// A policy's text: paragraphs at blank lines, every character as text.
fn paragraphs(text: &str) -> Markup {
    html! { @for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) { p { (para) } } }
}

/// `GET /privacy`: the privacy policy in force (and the next one announced), then what this
/// installation keeps, from the registry and the settings. JSON with `Accept: application/json`.
pub async fn page(State(app): State<App>, headers: HeaderMap) -> Result<Response, crate::error::PageError> {
    let view = app.policy_view("privacy").await?;
    if super::wants_json(&headers) {
        let body = json!({
            "live": view.live.as_ref().map(policy_json),
            "upcoming": view.upcoming.as_ref().map(policy_json),
        });
        return Ok(axum::Json(body).into_response());
    }
    let categories = [
        Category::Account,
        Category::Consent,
        Category::Session,
        Category::Event,
        Category::Audit,
        Category::AssetMeta,
        Category::Analytics,
        Category::Request,
        Category::Legal,
    ];
    let content = html! {
        @if let Some(up) = &view.upcoming {
            div class="notice" role="status" {
                p { strong { "This policy changes on " (iso8601(up.effective_at)) " (UTC)." } " What changes:" }
                (paragraphs(&up.changelog_md))
                p { a href="/privacy/versions" { "Every version" } }
            }
        }
        @if let Some(live) = &view.live {
            p class="muted" { "Version " (live.version) ", in force since " (iso8601(live.effective_at)) "." }
            (paragraphs(&live.text_md))
            h2 { "What this installation keeps" }
        }
        p { "What follows is written by Nimbus from the list of every place it keeps personal data, and from this installation's settings, so it says what the software does." }
        @for c in categories {
            h2 { (heading(c)) }
            (table_of(c, &app.config.retention))
        }
        h2 { "What Nimbus does not collect" }
        ul {
            li { "No IP address and no browser details are stored for the people who use the console; the logs name people by number only." }
            li { "Delivered files are counted per asset and day; nothing identifies who fetched them, and no cookie is set on them." }
            li { "No analytics and no requests to other sites: the console's pages load only from this server." }
            li { "Cookies: only the strictly necessary ones, holding random tokens; see " a href="/cookies" { "the cookie list" } "." }
            li { "Do Not Track: Nimbus tracks nobody, so there is nothing to switch off. Global Privacy Control: a signed-in person whose browser sends it objects to the sharing of their data from then on, as if they had set it on their Your data page." }
        }
        h2 { "What you can do" }
        ul {
            li { "Change your password, turn on two-step sign-in and sign out everywhere, on your account page." }
            li { "Disable your account: nobody can sign in to it until you follow the link mailed to you." }
            li { "Without an account, or for content that shows you: " a href="/privacy/requests" { "ask the operator" } " for access to, correction or erasure of your data, or the removal of an image; you confirm your address by a link we mail, and get an answer within 30 days." }
            li { "Delete your account: it is blocked at once and erased after " (grace(&app)) "; the link mailed to you cancels until then. Erasure removes your rows from the database and its files; the record of what you uploaded names a pseudonym. If the database is ever restored from a backup taken before, you are erased again when the server starts." }
        }
        h2 { "Where the data is kept" }
        table {
            tbody {
                @for (what, where_) in &app.config.data_locations {
                    tr { th scope="row" { (what) } td { (where_) } }
                }
            }
        }
        h2 { "Who else receives personal data" }
        @if app.config.processors.is_empty() {
            p { "Nobody outside this installation." }
        } @else {
            table {
                thead { tr { th scope="col" { "Who" } th scope="col" { "What for" } th scope="col" { "What" } } }
                tbody {
                    @for p in &app.config.processors {
                        tr { td { (p.name) } td { (p.purpose.as_str()) } td { (p.data.join(", ")) } }
                    }
                }
            }
        }
        p { "Nobody receives personal data from this installation for their own marketing unless listed above as direct_marketing." }
        p class="muted" { "Last changed " (LAST_UPDATE) "." }
    };
    Ok(layout::bare_with("Privacy", content).into_response())
}

#[derive(serde::Deserialize)]
pub struct KindQuery {
    kind: Option<String>,
}

/// `GET /privacy/versions[?kind=terms]`: every version, newest first, with its changelog.
pub async fn versions(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<KindQuery>,
) -> Result<Response, crate::error::PageError> {
    let kind = q.kind.filter(|k| nimbus_core::policy::KINDS.contains(&k.as_str())).unwrap_or_else(|| "privacy".into());
    let all = app.policy_versions(&kind).await?;
    if super::wants_json(&headers) {
        return Ok(axum::Json(json!({ "kind": kind, "versions": all.iter().map(policy_json).collect::<Vec<_>>() }))
            .into_response());
    }
    let content = html! {
        @if all.is_empty() { p { "No version has been published." } }
        @for p in &all {
            h2 { "Version " (p.version) }
            p class="muted" { "Published " (iso8601(p.published_at)) ", in force from " (iso8601(p.effective_at)) " (" (p.change_class) " change)." }
            h3 { "What changed" }
            (paragraphs(&p.changelog_md))
            details { summary { "The text" } (paragraphs(&p.text_md)) }
        }
    };
    Ok(layout::bare_with(if kind == "terms" { "Terms: versions" } else { "Privacy policy: versions" }, content)
        .into_response())
}

/// `GET /cookies`.
pub async fn cookies() -> Response {
    let content = html! {
        p { "Nimbus sets only these cookies, all from this server, all needed for the console to work. None holds your address, your name or your user number: each is a random token." }
        table {
            thead { tr { th scope="col" { "Name" } th scope="col" { "What for" } th scope="col" { "How long" } } }
            tbody {
                @for c in COOKIES {
                    tr { td { code { (c.name) } } td { (c.purpose) } td { (c.lifetime) } }
                }
            }
        }
        p { "Delivered images, videos and files set no cookie at all." }
    };
    layout::bare_with("Cookies", content).into_response()
}

/// `GET /.well-known/gpc.json`, as the Global Privacy Control specification asks.
pub async fn gpc() -> Response {
    let body = serde_json::json!({ "gpc": true, "lastUpdate": LAST_UPDATE });
    ([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "public, max-age=86400")], body.to_string())
        .into_response()
}
