//! Upload of several files into a folder, with an optional upload preset. Without script the
//! form posts every file at once and the result is a page; with `console.js` each file goes
//! in a request of its own with a progress bar, dropped or picked.

use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use nimbus_app::accounts::SignedIn;
use nimbus_app::accounts::uploads::PersonUpload;
use nimbus_app::staging::{StagedFile, StagingWriter};
use nimbus_app::{App, AppError};
use nimbus_core::accounts::Permission;

use super::layout;
use crate::csrf;
use crate::error::PageError;
use crate::session::Signed;

fn form(who: &SignedIn, cloud: &str, folder: &str) -> Markup {
    html! {
        form method="post" enctype="multipart/form-data" action={ "/console/" (cloud) "/upload" } id="upload-form" {
            input type="hidden" name="csrf" value=(who.session.csrf);
            label for="files" { "Files" }
            div class="dropzone" id="dropzone" {
                input id="files" type="file" name="file" multiple required;
                p class="muted" { "Pick files, or drop them here." }
            }
            label for="folder" { "Folder" }
            input id="folder" type="text" name="folder" value=(folder) placeholder="(root)";
            label for="tags" { "Tags (separated by commas)" }
            input id="tags" type="text" name="tags";
            label for="preset" { "Upload preset (optional)" }
            input id="preset" type="text" name="preset";
            button type="submit" { "Upload" }
        }
        ul id="progress" class="progress" aria-live="polite" {}
    }
}

/// `GET /console/{cloud}/upload`.
pub async fn page(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path(cloud): Path<String>,
    axum::extract::Query(q): axum::extract::Query<FolderQuery>,
) -> Result<Response, PageError> {
    app.authorize(&who, &cloud, Permission::WriteAssets)?;
    let body = html! {
        (layout::env_tabs(&who, &cloud, "upload"))
        h1 { "Upload" }
        (form(&who, &cloud, &q.folder))
        script src="/console/static/console.js" defer {}
    };
    Ok(layout::page(&who, Some(&cloud), "Upload", body).into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct FolderQuery {
    #[serde(default)]
    folder: String,
}

/// A file part, staged under the server's file size limit as it streams in.
async fn stage(app: &App, mut field: axum::extract::multipart::Field<'_>) -> Result<StagedFile, AppError> {
    let name = field.file_name().map(str::to_owned);
    let mut w =
        StagingWriter::create(&app.config.staging_dir, app.new_token(), app.config.max_file_bytes, name).await?;
    while let Some(chunk) = field.chunk().await.map_err(|e| AppError::MalformedBody(e.body_text()))? {
        w.push(&chunk).await?;
    }
    w.finish().await
}

/// `POST /console/{cloud}/upload` (multipart): the CSRF token and the options come first,
/// then the files; each file is uploaded as soon as it has arrived.
pub async fn submit(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path(cloud): Path<String>,
    headers: HeaderMap,
    mut mp: Multipart,
) -> Result<Response, PageError> {
    app.authorize(&who, &cloud, Permission::WriteAssets)?;
    let mut csrf_ok = false;
    let mut opts = PersonUpload::default();
    let mut done: Vec<Result<(String, String), String>> = Vec::new();
    while let Some(field) = mp.next_field().await.map_err(|e| AppError::MalformedBody(e.body_text()))? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            if !csrf_ok {
                return Err(PageError::Csrf);
            }
            let shown = field.file_name().unwrap_or("file").to_owned();
            let outcome = match stage(&app, field).await {
                Ok(f) if f.bytes == 0 => Err(AppError::EmptyFile),
                Ok(f) => app
                    .upload_as_person(&who, &cloud, f, &opts)
                    .await
                    .map(|u| (u.asset.asset_id, u.asset.public_id.as_str().to_owned())),
                Err(e) => Err(e),
            };
            match outcome {
                Ok(ok) => done.push(Ok(ok)),
                Err(
                    e @ (AppError::Busy
                    | AppError::Catalog(_)
                    | AppError::Blob(_)
                    | AppError::Io(_)
                    | AppError::Forbidden { .. }),
                ) => return Err(e.into()),
                Err(e) => done.push(Err(format!("{shown}: {e}"))),
            }
            continue;
        }
        let value = field.text().await.map_err(|e| AppError::MalformedBody(e.body_text()))?;
        match name.as_str() {
            "csrf" => {
                csrf::check(&who.session.csrf, &value)?;
                csrf_ok = true;
            }
            "folder" => opts.folder = value.trim().trim_matches('/').to_owned(),
            "tags" => opts.tags = nimbus_core::params::parse_tags(&value),
            "preset" => opts.preset = Some(value.trim().to_owned()),
            _ => {}
        }
    }
    let failed = done.iter().any(Result::is_err);
    let status = if done.is_empty() || failed && done.iter().all(Result::is_err) {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    // The script asks for JSON, one file at a time.
    if super::wants_json(&headers) {
        let items: Vec<serde_json::Value> = done
            .iter()
            .map(|r| match r {
                Ok((id, pid)) => serde_json::json!({ "asset_id": id, "public_id": pid }),
                Err(m) => serde_json::json!({ "error": { "message": m } }),
            })
            .collect();
        return Ok((status, axum::Json(items)).into_response());
    }
    let body = html! {
        (layout::env_tabs(&who, &cloud, "upload"))
        h1 { "Upload" }
        @if done.is_empty() { p class="error" role="alert" { "No file was sent." } }
        ul class="results" {
            @for r in &done {
                @match r {
                    Ok((id, pid)) => li { "Uploaded " a href={ "/console/" (cloud) "/assets/" (id) } { (pid) } },
                    Err(m) => li class="error" { (m) },
                }
            }
        }
        p { a href={ "/console/" (cloud) "/library" } { "Back to the library" } }
    };
    Ok((status, layout::page(&who, Some(&cloud), "Upload", body)).into_response())
}
