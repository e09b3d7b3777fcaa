//! The media library: the environment's assets, newest first, as a grid of thumbnails made
//! by Nimbus's own transformation URLs, a page at a time; filtered by folder and type, and
//! searched with Cloudinary's expression language (an error is shown with its position).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use nimbus_app::App;
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
    cursor: Option<String>,
}

impl LibraryQuery {
    /// This query's link with another cursor (or folder), everything else kept.
    fn link(&self, cloud: &str, folder: &str, cursor: Option<&str>) -> String {
        let mut parts = Vec::new();
        for (k, v) in [("q", self.q.as_str()), ("type", self.kind.as_str()), ("folder", folder)] {
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

fn grid(app: &App, cloud: &str, assets: &[Asset]) -> Markup {
    html! {
        @if assets.is_empty() {
            p class="muted" { "No assets here." }
        } @else {
            ul class="grid" aria-label="Assets" {
                @for a in assets {
                    li {
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
        let (page, next) = app.search_newest(caller.env, query, q.cursor.as_deref(), PAGE).await?;
        (page.assets, page.total, next)
    };
    let parent = q.folder.rsplit_once('/').map_or("", |(p, _)| p);
    let body = html! {
        (layout::env_tabs(&who, &cloud, "library"))
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
                (grid(&app, &cloud, &assets))
                @if let Some(n) = next {
                    p class="pager" { a href=(q.link(&cloud, &q.folder, Some(&n))) rel="next" { "Next page" } }
                }
            }
        }
    };
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    Ok((status, layout::page(&who, Some(&cloud), "Media library", body)).into_response())
}
