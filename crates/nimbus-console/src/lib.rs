//! Nimbus's web console: server-rendered pages (maud) for people, under `/console`. It calls
//! the same `nimbus-app` services as the HTTP API, as the signed-in person: every path asks
//! [`nimbus_app::App::authorize`] for its caller first, so roles are enforced in the app layer.
//!
//! Nothing here loads from another host: the one stylesheet is embedded in the binary, fonts
//! are the system's, and the pages need no script for their core paths.

mod csrf;
mod error;
mod pages;
mod session;

pub use session::{COOKIES, CookieDoc};

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use nimbus_app::App;

/// Most files of the largest size one upload form may carry (each is also bounded alone).
const UPLOAD_FILES_PER_FORM: usize = 20;

/// The console's routes, to be merged into the server's router.
pub fn router(app: App) -> Router {
    let csp = content_security_policy(&app);
    Router::new()
        .route("/privacy", get(pages::privacy::page))
        .route("/privacy/versions", get(pages::privacy::versions))
        .route("/privacy/requests", get(pages::requests::form).post(pages::requests::submit))
        .route("/privacy/requests/verify/{token}", get(pages::requests::verify_form).post(pages::requests::verify))
        .route("/privacy/removal-request", post(pages::requests::removal))
        .route("/cookies", get(pages::privacy::cookies))
        .route("/.well-known/gpc.json", get(pages::privacy::gpc))
        .route("/console", get(pages::home))
        .route("/console/", get(pages::home))
        .route("/console/login", get(pages::login::form).post(pages::login::submit))
        .route("/console/login/code", get(pages::login::code_form).post(pages::login::code_submit))
        .route("/console/logout", post(pages::login::logout))
        .route("/console/environments", get(pages::environments::page).post(pages::environments::create))
        .route("/console/account", get(pages::account::page).delete(pages::closing::delete))
        .route("/console/account/delete", post(pages::closing::delete))
        .route("/console/account/privacy", get(pages::your_data::page))
        .route("/console/admin/privacy/requests", get(pages::desk::list))
        .route("/console/admin/privacy/requests/{id}", get(pages::desk::show))
        .route("/console/admin/privacy/requests/{id}/{action}", post(pages::desk::answer))
        .route("/console/account/objection", post(pages::your_data::objection))
        .route("/console/account/news", post(pages::your_data::news))
        .route("/u/{token}", get(pages::unsubscribe::confirm).post(pages::unsubscribe::submit))
        .route("/console/account/export", post(pages::exports::request))
        .route("/console/account/exports", get(pages::exports::list))
        .route("/console/account/exports/{id}", get(pages::exports::download))
        .route("/console/account/disable", post(pages::closing::disable))
        .route("/console/account/email", post(pages::closing::change_email))
        .route("/console/account/email/{token}", get(pages::closing::email_form).post(pages::closing::confirm_email))
        .route(
            "/console/account/cancel-deletion/{token}",
            get(pages::closing::cancel_form).post(pages::closing::cancel),
        )
        .route("/console/account/enable/{token}", get(pages::closing::enable_form).post(pages::closing::enable))
        .route("/console/account/password", post(pages::account::change_password))
        .route("/console/account/sign-out-everywhere", post(pages::account::sign_out_everywhere))
        .route("/console/account/totp/start", post(pages::account::totp_start))
        .route("/console/account/totp/confirm", post(pages::account::totp_confirm))
        .route("/console/account/totp/disable", post(pages::account::totp_disable))
        .route("/console/setup/{token}", get(pages::links::setup_form).post(pages::links::setup_submit))
        .route("/console/invite/{token}", get(pages::links::invite_form).post(pages::links::invite_submit))
        .route("/console/reset", get(pages::links::reset_request_form).post(pages::links::reset_request_submit))
        .route("/console/reset/{token}", get(pages::links::reset_form).post(pages::links::reset_submit))
        .route("/console/static/console.css", get(stylesheet))
        .route("/console/static/console.js", get(script))
        .route("/console/{cloud}/library", get(pages::library::page))
        .route("/console/{cloud}/library/bulk", post(pages::library::bulk))
        .route("/console/{cloud}/assets/{asset_id}", get(pages::asset::page).post(pages::asset::save))
        .route("/console/{cloud}/assets/{asset_id}/delete", post(pages::asset::delete))
        .route("/console/{cloud}/assets/{asset_id}/metadata", post(pages::asset::save_metadata))
        .route("/console/{cloud}/metadata/evaluate", post(pages::metadata::evaluate))
        .route(
            "/console/{cloud}/upload",
            get(pages::upload::page).post(pages::upload::submit).layer(axum::extract::DefaultBodyLimit::max(
                usize::try_from(app.config.max_file_bytes).unwrap_or(usize::MAX).saturating_mul(UPLOAD_FILES_PER_FORM),
            )),
        )
        .route("/console/{cloud}/keys", get(pages::keys::page).post(pages::keys::create))
        .route("/console/{cloud}/keys/{key}/revoke", post(pages::keys::revoke))
        .route("/console/{cloud}/schema", get(pages::schema::page))
        .route("/console/{cloud}/schema/rules/{id}/state", post(pages::schema::set_state))
        .route("/console/{cloud}/schema/fields", post(pages::schema::create_field))
        .route("/console/{cloud}/schema/new-rule", get(pages::schema::new_rule))
        .route("/console/{cloud}/schema/rules", post(pages::schema::post_rule))
        .route("/console/{cloud}/schema/rules/{id}", get(pages::schema::edit_rule))
        .route("/console/{cloud}/settings", get(pages::settings::page))
        .route("/console/{cloud}/settings/presets", post(pages::settings::create_preset))
        .route("/console/{cloud}/settings/presets/{name}/delete", post(pages::settings::delete_preset))
        .route("/console/{cloud}/settings/transformations", post(pages::settings::create_transformation))
        .route("/console/{cloud}/settings/transformations/{name}/delete", post(pages::settings::delete_transformation))
        .route("/console/{cloud}/usage", get(pages::usage::page))
        .route("/console/{cloud}/people", get(pages::people::page))
        .route("/console/{cloud}/people/invite", post(pages::people::invite))
        .route("/console/{cloud}/people/{id}/role", post(pages::people::set_role))
        .route("/console/{cloud}/people/{id}/remove", post(pages::people::remove))
        .layer(axum::middleware::map_response(move |resp| security_headers(resp, csp.clone())))
        .with_state(app)
}

const CSS: &str = include_str!("../static/console.css");
const JS: &str = include_str!("../static/console.js");

async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], CSS)
        .into_response()
}

/// Our own files only (images also from the delivery host, when it has one of its own), no
/// inline script or style, no framing.
fn content_security_policy(app: &App) -> HeaderValue {
    let delivery = app.config.delivery_base_url.as_deref().map(|d| format!(" {d}")).unwrap_or_default();
    let policy = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:{delivery}; \
         connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    );
    HeaderValue::from_str(&policy).unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"))
}

async fn script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], JS)
        .into_response()
}

/// Every console response: the policy above, no framing, no referrer leaking paths, and
/// nothing personal kept in shared caches.
async fn security_headers(mut resp: Response, csp: HeaderValue) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, csp);
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}
