//! The media library: the environment's assets, newest first, as a grid of thumbnails made
//! by Nimbus's own transformation URLs, a page at a time; filtered by folder and type, and
//! searched with Cloudinary's expression language (an error is shown with its position).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use nimbus_app::App;
use nimbus_app::AppError;
use nimbus_app::accounts::SignedIn;
use nimbus_app::bulk::BulkAction;
use nimbus_app::search::{SortField, SortKey};
use nimbus_core::accounts::Permission;
use nimbus_core::search::{Attr, Query as Expr, SearchError, TextField, TextMatch};
use nimbus_core::{Asset, ResourceType};
use serde::Deserialize;

use super::{layout, urls};
use crate::error::PageError;
use crate::session::Signed;

/// Assets per page.
const PAGE: u32 = 48;

#[derive(Debug, Default, Deserialize)]
pub struct LibraryQuery {
    #[serde(default)]
    q: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    folder: String,
    #[serde(default)]
    sort: String,
    cursor: Option<String>,
}

/// The orders the library offers: query value, label, and the search's sort.
const SORTS: [(&str, &str, Option<SortKey>); 5] = [
    ("", "Newest first", None),
    ("oldest", "Oldest first", Some(SortKey { field: SortField::CreatedAt, ascending: true })),
    ("name", "Public ID, A to Z", Some(SortKey { field: SortField::PublicId, ascending: true })),
    ("largest", "Largest first", Some(SortKey { field: SortField::Bytes, ascending: false })),
    ("smallest", "Smallest first", Some(SortKey { field: SortField::Bytes, ascending: true })),
];

impl LibraryQuery {
    /// This query's link with another cursor (or folder), everything else kept.
    fn link(&self, cloud: &str, folder: &str, cursor: Option<&str>) -> String {
        let mut parts = Vec::new();
        for (k, v) in
            [("q", self.q.as_str()), ("type", self.kind.as_str()), ("folder", folder), ("sort", self.sort.as_str())]
        {
            if !v.is_empty() {
                parts.push(format!("{k}={}", urls::query_value(v)));
            }
        }
        if let Some(c) = cursor {
            parts.push(format!("cursor={}", urls::query_value(c)));
        }
        let q = if parts.is_empty() { String::new() } else { format!("?{}", parts.join("&")) };
        format!("/console/{cloud}/library{q}")
    }
}

fn exact(attr: Attr, v: &str) -> Expr {
    Expr::Text(TextField::Attr(attr), TextMatch::Exact(v.to_owned()))
}

fn grid(app: &App, cloud: &str, assets: &[Asset], selectable: bool) -> Markup {
    html! {
        @if assets.is_empty() {
            p class="muted" { "No assets here." }
        } @else {
            ul class="grid" aria-label="Assets" {
                @for a in assets {
                    li {
                        @if selectable {
                            label class="select" {
                                input type="checkbox" name="asset" value=(a.asset_id);
                                span class="visually-hidden" { "Select " (a.public_id.as_str()) }
                            }
                        }
                        a href={ "/console/" (cloud) "/assets/" (a.asset_id) } {
                            div class="thumb" {
                                @match urls::derived(app, cloud, a, "c_fill,g_auto,w_240,h_240") {
                                    Some(src) => img src=(src) alt=(a.display_name) loading="lazy" width="240" height="240";,
                                    None => span { (a.format.as_deref().unwrap_or(a.resource_type.as_str())) },
                                }
                            }
                            div class="name" { (a.public_id.as_str()) }
                        }
                    }
                }
            }
        }
    }
}

fn search_form(q: &LibraryQuery, error: Option<&SearchError>) -> Markup {
    html! {
        form method="get" class="search" role="search" {
            div class="field" {
                label for="q" { "Search" }
                input id="q" type="search" name="q" value=(q.q) placeholder="tags=summer AND format:jpg"
                    aria-describedby=[error.map(|_| "q-error")] aria-invalid=[error.map(|_| "true")];
            }
            div class="field" {
                label for="type" { "Type" }
                select id="type" name="type" {
                    @for (v, label) in [("", "All types"), ("image", "Images"), ("video", "Videos"), ("raw", "Raw files")] {
                        option value=(v) selected[q.kind == v] { (label) }
                    }
                }
            }
            div class="field" {
                label for="sort" { "Sort" }
                select id="sort" name="sort" {
                    @for (v, label, _) in SORTS {
                        option value=(v) selected[q.sort == v] { (label) }
                    }
                }
            }
            @if !q.folder.is_empty() { input type="hidden" name="folder" value=(q.folder); }
            button type="submit" { "Search" }
        }
        @if let Some(e) = error {
            div class="error" id="q-error" role="alert" {
                p { "Position " (e.at) ": " (e.message) " (" (e.hint) ")" }
                pre { (q.q) "\n" (" ".repeat(q.q[..e.at.min(q.q.len())].chars().count())) "^" }
            }
        }
    }
}

/// What to do with the selected assets.
fn bulk_controls(who: &SignedIn, back: &str) -> Markup {
    html! {
        fieldset class="bulk" {
            legend { "With the selected assets" }
            input type="hidden" name="csrf" value=(who.session.csrf);
            input type="hidden" name="back" value=(back);
            label for="bulk-action" class="visually-hidden" { "Action" }
            select id="bulk-action" name="action" {
                option value="add_tag" { "Add the tag" }
                option value="remove_tag" { "Remove the tag" }
                option value="move" { "Move to the folder" }
                option value="delete" { "Delete" }
            }
            label for="bulk-value" class="visually-hidden" { "Tag or folder" }
            input id="bulk-value" type="text" name="value" placeholder="tag or folder";
            button type="submit" { "Apply" }
        }
    }
}

/// The bulk form's fields.
#[derive(Debug)]
struct BulkForm {
    csrf: String,
    back: String,
    action: String,
    value: String,
    asset: Vec<String>,
}

/// `POST /console/{cloud}/library/bulk` (a form whose `asset` repeats): back to the page.
pub async fn bulk(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path(cloud): Path<String>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let f = BulkForm {
        csrf: get("csrf"),
        back: get("back"),
        action: get("action"),
        value: get("value").trim().to_owned(),
        asset: pairs.iter().filter(|(n, _)| n == "asset").map(|(_, v)| v.clone()).collect(),
    };
    crate::csrf::check(&who.session.csrf, &f.csrf)?;
    let caller = app.authorize(&who, &cloud, Permission::WriteAssets)?;
    let needs_value = |v: String| if v.is_empty() { Err(AppError::MissingParam("value")) } else { Ok(v) };
    let action = match f.action.as_str() {
        "add_tag" => BulkAction::AddTag(needs_value(f.value)?),
        "remove_tag" => BulkAction::RemoveTag(needs_value(f.value)?),
        "move" => BulkAction::Move(f.value.trim_matches('/').to_owned()),
        "delete" => BulkAction::Delete,
        other => return Err(AppError::InvalidParam { name: "action", value: other.to_owned() }.into()),
    };
    app.bulk_edit(&caller, &f.asset, &action).await?;
    let back = crate::error::safe_next(&f.back).to_owned();
    Ok((StatusCode::SEE_OTHER, [(axum::http::header::LOCATION, back)]).into_response())
}

/// `GET /console/{cloud}/library`.
pub async fn page(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path(cloud): Path<String>,
    Query(q): Query<LibraryQuery>,
) -> Result<Response, PageError> {
    let caller = app.authorize(&who, &cloud, Permission::ReadAssets)?;
    let mut parts = Vec::new();
    let mut error = None;
    if !q.q.trim().is_empty() {
        match app.compile_expression(caller.env, &q.q).await? {
            Ok(e) => parts.push(e),
            Err(e) => error = Some(e),
        }
    }
    if let Ok(rt) = q.kind.parse::<ResourceType>()
        && rt != ResourceType::Auto
    {
        parts.push(exact(Attr::ResourceType, rt.as_str()));
    }
    if !q.folder.is_empty() {
        parts.push(exact(Attr::AssetFolder, &q.folder));
    }
    let folders =
        app.list_folders(caller.env, (!q.folder.is_empty()).then_some(q.folder.as_str())).await.unwrap_or_default();
    let (assets, total, next) = if error.is_some() {
        (Vec::new(), 0, None)
    } else {
        let query = match parts.len() {
            0 => Expr::All,
            1 => parts.remove(0),
            _ => Expr::And(parts),
        };
        let sort = SORTS.iter().find(|(v, _, _)| *v == q.sort).and_then(|(_, _, s)| *s);
        let (page, next) = app.search_sorted(caller.env, query, sort, q.cursor.as_deref(), PAGE).await?;
        (page.assets, page.total, next)
    };
    let parent = q.folder.rsplit_once('/').map_or("", |(p, _)| p);
    let can_edit = who.role_in(&cloud).is_some_and(|r| r.allows(Permission::WriteAssets));
    // Requests about people's data past their due date, for those who answer them.
    let overdue = if App::answers_requests(&who) {
        let now = app.now();
        app.subject_requests_as(&who).await?.iter().filter(|r| r.status == "open" && r.due_at < now).count()
    } else {
        0
    };
    let body = html! {
        (layout::env_tabs(&who, &cloud, "library"))
        @if overdue > 0 {
            p class="error" role="alert" {
                (overdue) " request(s) about people's data are overdue: "
                a href="/console/admin/privacy/requests" { "answer them" } "."
            }
        }
        h1 { "Media library" }
        (search_form(&q, error.as_ref()))
        div class="library" {
            nav class="folders" aria-label="Folders" {
                h2 { "Folders" }
                ul {
                    @if !q.folder.is_empty() {
                        li { a href=(q.link(&cloud, parent, None)) { "↑ " @if parent.is_empty() { "All folders" } @else { (parent) } } }
                        li { strong aria-current="page" { (q.folder) } }
                    }
                    @for f in &folders {
                        li { a href=(q.link(&cloud, f, None)) { (f.rsplit('/').next().unwrap_or(f)) } }
                    }
                }
            }
            section aria-label="Results" {
                p class="muted" { (total) " asset" @if total != 1 { "s" } }
                @if can_edit && !assets.is_empty() {
                    form method="post" action={ "/console/" (cloud) "/library/bulk" } {
                        (bulk_controls(&who, &q.link(&cloud, &q.folder, q.cursor.as_deref())))
                        (grid(&app, &cloud, &assets, true))
                    }
                } @else {
                    (grid(&app, &cloud, &assets, false))
                }
                @if let Some(n) = next {
                    p class="pager" { a href=(q.link(&cloud, &q.folder, Some(&n))) rel="next" { "Next page" } }
                }
            }
        }
    };
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    Ok((status, layout::page(&who, Some(&cloud), "Media library", body)).into_response())
}
