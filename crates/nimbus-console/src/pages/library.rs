//! The media library: the environment's assets, newest first, as a grid of thumbnails made
//! by Nimbus's own transformation URLs, a page at a time.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use nimbus_app::App;
use nimbus_app::ports::ListQuery;
use nimbus_core::accounts::Permission;
use nimbus_core::{Asset, ResourceType};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::Deserialize;

use super::layout;
use crate::error::PageError;
use crate::session::Signed;

/// Assets per page.
const PAGE: u32 = 48;

/// Characters escaped in a URL path segment.
const SEGMENT: &AsciiSet =
    &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'%').add(b'<').add(b'>').add(b'?').add(b'`').add(b'{').add(b'}');

#[derive(Debug, Deserialize)]
pub struct LibraryQuery {
    cursor: Option<String>,
}

/// A square thumbnail URL on this server (or its delivery host), for public images.
fn thumbnail(app: &App, cloud: &str, a: &Asset) -> Option<String> {
    let format = a.format.as_deref()?;
    if a.resource_type != ResourceType::Image || a.urls_need_signature() {
        return None;
    }
    let base = app.config.delivery_base_url.as_deref().unwrap_or("");
    let id: Vec<String> =
        a.public_id.as_str().split('/').map(|s| utf8_percent_encode(s, SEGMENT).to_string()).collect();
    Some(format!(
        "{base}/{cloud}/image/{}/c_fill,g_auto,w_240,h_240/v{}/{}.{format}",
        a.delivery_type.as_str(),
        a.version,
        id.join("/")
    ))
}

fn grid(app: &App, cloud: &str, assets: &[Asset]) -> Markup {
    html! {
        @if assets.is_empty() {
            p class="muted" { "No assets yet." }
        } @else {
            ul class="grid" aria-label="Assets" {
                @for a in assets {
                    li {
                        div class="thumb" {
                            @match thumbnail(app, cloud, a) {
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

/// `GET /console/{cloud}/library`.
pub async fn page(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path(cloud): Path<String>,
    Query(q): Query<LibraryQuery>,
) -> Result<Response, PageError> {
    let caller = app.authorize(&who, &cloud, Permission::ReadAssets)?;
    let query = ListQuery {
        limit: PAGE,
        after: q.cursor.as_deref().map(nimbus_app::assets::decode_cursor).transpose()?,
        ..Default::default()
    };
    let (assets, next) = app.list_assets(caller.env, &query).await?;
    let body = html! {
        (layout::env_tabs(&who, &cloud, "library"))
        h1 { "Media library" }
        (grid(&app, &cloud, &assets))
        @if let Some(n) = next {
            p class="pager" { a href={ "?cursor=" (n) } rel="next" { "Next page" } }
        }
    };
    Ok(layout::page(&who, Some(&cloud), "Media library", body).into_response())
}
