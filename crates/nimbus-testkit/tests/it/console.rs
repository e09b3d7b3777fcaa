//! The web console: sign-in, sessions, roles and the attacks a browser-facing surface gets.

use axum::http::StatusCode;
use nimbus_core::accounts::Role;
use nimbus_testkit::browser::{Browser, hidden};
use nimbus_testkit::{CLOUD, Db, TestApp, photo_jpeg};

const EMAIL: &str = "ada@example.org";
const PASSWORD: &str = "correct horse battery";

async fn with_user(t: &TestApp, email: &str, role: Role) -> i64 {
    let u = t.app.create_user(email, Some(PASSWORD.to_owned())).await.unwrap();
    t.app.set_user_role(u.id, CLOUD, Some(role)).await.unwrap();
    u.id
}

fn body(r: &nimbus_testkit::TestResponse) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

async fn sign_in_and_browse(db: Db) {
    let Some(t) = TestApp::on(db, |_| {}).await else { return };
    with_user(&t, EMAIL, Role::Owner).await;
    let mut b = Browser::new();
    let r = b.get(&t, "/console").await;
    assert_eq!((r.status, r.header("location")), (StatusCode::SEE_OTHER, Some("/console/login?next=%2Fconsole")));

    let r = b.sign_in(&t, "Ada@Example.org ", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", body(&r));
    assert_eq!(r.header("location"), Some("/console"));
    let cookie = r
        .headers
        .get_all("set-cookie")
        .iter()
        .find_map(|v| v.to_str().ok().filter(|v| v.starts_with("nimbus_session=")));
    let cookie = cookie.expect("a session cookie");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(cookie.contains(attr), "{cookie} lacks {attr}");
    }
    assert!(!cookie.contains("Secure"), "http public URL: no Secure attribute");
    assert!(!cookie.to_lowercase().contains("ada"), "no personal data in the cookie: {cookie}");

    // An asset whose public id is markup shows as text.
    let evil = "x/<img src=x onerror=alert(1)>";
    let up = t.upload_api("image", "upload", &[("public_id", evil)], Some(("a.jpg", &photo_jpeg(32, 24)))).await;
    assert_eq!(up.status, StatusCode::OK, "{}", body(&up));
    let r = b.get(&t, "/console").await;
    assert_eq!(r.header("location"), Some(format!("/console/{CLOUD}/library").as_str()));
    let lib = b.get(&t, &format!("/console/{CLOUD}/library")).await;
    assert_eq!(lib.status, StatusCode::OK);
    let html = body(&lib);
    assert!(html.contains("x/&lt;img src=x onerror=alert(1)&gt;"), "escaped public id");
    assert!(!html.contains("<img src=x"), "markup from a public id must never reach the page");
    assert!(html.contains(EMAIL));
    let csp = lib.header("content-security-policy").unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(lib.header("cache-control"), Some("no-store"));
    // The thumbnail is a transformation URL of this server, and renders.
    let src = html.split("img src=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    assert!(src.contains("/c_fill,g_auto,w_240,h_240/"), "{src}");
    assert_eq!(t.get(&src, &[]).await.status, StatusCode::OK, "{src}");

    // Signing out ends the session on the server, not only in the browser.
    let token = b.cookies["nimbus_session"].clone();
    let csrf = hidden(&lib, "csrf");
    let r = b.post(&t, "/console/logout", &[("csrf", &csrf)]).await;
    assert_eq!((r.status, r.header("location")), (StatusCode::SEE_OTHER, Some("/console/login")));
    assert!(!b.cookies.contains_key("nimbus_session"));
    b.cookies.insert("nimbus_session".into(), token);
    assert_eq!(b.get(&t, &format!("/console/{CLOUD}/library")).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn console_sign_in_and_library_on_sqlite() {
    sign_in_and_browse(Db::Sqlite).await;
}

#[tokio::test]
async fn console_sign_in_and_library_on_postgres() {
    sign_in_and_browse(Db::Postgres).await;
}

#[tokio::test]
async fn console_forms_need_their_csrf_token() {
    let t = TestApp::new().await;
    with_user(&t, EMAIL, Role::Owner).await;
    // A sign-in posted from elsewhere has no form cookie: refused before the password is tried.
    let mut stranger = Browser::new();
    let r = stranger
        .post(&t, "/console/login", &[("email", EMAIL), ("password", PASSWORD), ("csrf", "guess"), ("next", "")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!stranger.cookies.contains_key("nimbus_session"));

    let mut b = Browser::new();
    b.sign_in(&t, EMAIL, PASSWORD).await;
    let r = b.post(&t, "/console/logout", &[("csrf", "not-the-token")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(b.get(&t, &format!("/console/{CLOUD}/library")).await.status, StatusCode::OK, "still signed in");
    let r = b.post(&t, "/console/logout", &[]).await;
    assert!(r.status.is_client_error(), "no token at all: {}", r.status);
}

#[tokio::test]
async fn console_locks_an_account_after_five_failures() {
    let t = TestApp::new().await;
    with_user(&t, EMAIL, Role::Viewer).await;
    let mut b = Browser::new();
    for i in 1..=4 {
        let r = b.sign_in(&t, EMAIL, "wrong password").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
        assert!(body(&r).contains("Incorrect e-mail address or password"));
    }
    let r = b.sign_in(&t, EMAIL, "wrong password").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(body(&r).contains("locked for 15 more minute"), "{}", body(&r));
    // Locked: even the right password is refused, with the same clear message.
    let r = b.sign_in(&t, EMAIL, PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    t.clock.advance(15 * 60 + 1);
    assert_eq!(b.sign_in(&t, EMAIL, PASSWORD).await.status, StatusCode::SEE_OTHER);
    // An unknown address gets the same answer as a wrong password, and locks nothing.
    let r = Browser::new().sign_in(&t, "nobody@example.org", "wrong password").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(body(&r).contains("Incorrect e-mail address or password"));
}

#[tokio::test]
async fn console_sign_in_never_keeps_a_planted_session() {
    let t = TestApp::new().await;
    with_user(&t, EMAIL, Role::Viewer).await;
    let mut b = Browser::new();
    b.cookies.insert("nimbus_session".into(), "chosenbytheattacker".into());
    b.sign_in(&t, EMAIL, PASSWORD).await;
    assert_ne!(b.cookies["nimbus_session"], "chosenbytheattacker");
    let mut attacker = Browser::new();
    attacker.cookies.insert("nimbus_session".into(), "chosenbytheattacker".into());
    assert_eq!(attacker.get(&t, &format!("/console/{CLOUD}/library")).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn console_goes_back_only_to_console_paths() {
    let t = TestApp::new().await;
    with_user(&t, EMAIL, Role::Viewer).await;
    for (next, to) in [
        ("/console/demo/library?cursor=abc", "/console/demo/library?cursor=abc"),
        ("https://evil.example/", "/console"),
        ("//evil.example/console", "/console"),
        ("/\\evil.example", "/console"),
    ] {
        let mut b = Browser::new();
        let form = b.get(&t, &format!("/console/login?next={}", urlencode(next))).await;
        assert_eq!(hidden(&form, "next"), to.replace('&', "&amp;"), "form keeps only a console path");
        let csrf = hidden(&form, "csrf");
        let r = b
            .post(&t, "/console/login", &[("email", EMAIL), ("password", PASSWORD), ("csrf", &csrf), ("next", next)])
            .await;
        assert_eq!(r.header("location"), Some(to), "{next}");
    }
}

#[tokio::test]
async fn console_roles_and_sessions_end_where_they_should() {
    let t = TestApp::new().await;
    t.app.create_environment("other", None).await.unwrap();
    let id = with_user(&t, EMAIL, Role::Viewer).await;
    let mut b = Browser::new();
    b.sign_in(&t, EMAIL, PASSWORD).await;
    assert_eq!(b.get(&t, &format!("/console/{CLOUD}/library")).await.status, StatusCode::OK);
    // Another environment, where the person has no role, is as good as absent.
    let r = b.get(&t, "/console/other/library").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!body(&r).contains("other/"), "nothing of it is shown");
    // Idle for longer than the idle timeout: signed out.
    t.clock.advance(2 * 3600 + 1);
    assert_eq!(b.get(&t, &format!("/console/{CLOUD}/library")).await.status, StatusCode::SEE_OTHER);
    // Disabling an account ends its sessions; it cannot sign in again.
    b.sign_in(&t, EMAIL, PASSWORD).await;
    t.app.set_user_disabled(id, true).await.unwrap();
    assert_eq!(b.get(&t, &format!("/console/{CLOUD}/library")).await.status, StatusCode::SEE_OTHER);
    assert_eq!(b.sign_in(&t, EMAIL, PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    // A new password ends every session too.
    t.app.set_user_disabled(id, false).await.unwrap();
    b.sign_in(&t, EMAIL, PASSWORD).await;
    t.app.set_user_password(id, "another long password".into()).await.unwrap();
    assert_eq!(b.get(&t, &format!("/console/{CLOUD}/library")).await.status, StatusCode::SEE_OTHER);
    // Short passwords are refused when set.
    assert!(t.app.set_user_password(id, "short".into()).await.is_err());
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

#[tokio::test]
async fn console_first_owner_comes_from_the_setup_link_once() {
    let t = TestApp::new().await;
    let link = t.app.setup_link_if_needed().await.unwrap().expect("no user yet: a link");
    let path = link.strip_prefix("http://nimbus.test").unwrap().to_owned();
    let mut b = Browser::new();
    assert_eq!(b.get(&t, &path).await.status, StatusCode::OK);
    let r = b.post(&t, &path, &[("email", "not an address"), ("password", PASSWORD)]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(body(&r).contains("Invalid e-mail address"));
    let r = b.post(&t, &path, &[("email", EMAIL), ("password", PASSWORD)]).await;
    assert_eq!((r.status, r.header("location")), (StatusCode::SEE_OTHER, Some("/console")), "{}", body(&r));
    assert_eq!(b.get(&t, &format!("/console/{CLOUD}/people")).await.status, StatusCode::OK, "owner of {CLOUD}");
    // Used up, and no new one while a user exists.
    assert_eq!(Browser::new().get(&t, &path).await.status, StatusCode::GONE);
    let r = Browser::new().post(&t, &path, &[("email", "mallory@example.org"), ("password", PASSWORD)]).await;
    assert_eq!(r.status, StatusCode::GONE);
    assert_eq!(t.app.setup_link_if_needed().await.unwrap(), None);
}

#[tokio::test]
async fn console_owners_invite_and_roles_limit_what_people_see() {
    let t = TestApp::new().await;
    with_user(&t, EMAIL, Role::Owner).await;
    let mut owner = Browser::new();
    owner.sign_in(&t, EMAIL, PASSWORD).await;
    let people = owner.get(&t, &format!("/console/{CLOUD}/people")).await;
    assert_eq!(people.status, StatusCode::OK);
    let csrf = hidden(&people, "csrf");
    let r = owner
        .post(
            &t,
            &format!("/console/{CLOUD}/people/invite"),
            &[("csrf", &csrf), ("email", "ed@example.org"), ("role", "editor")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    assert!(body(&r).contains("Invitation sent"));
    // The link is mailed, never logged with the address; the invited person sets a password.
    let link = t.mail.last_link_to("ed@example.org").expect("an invitation mail");
    let mut ed = Browser::new();
    assert_eq!(ed.get(&t, &link).await.status, StatusCode::OK);
    let r = ed.post(&t, &link, &[("password", "short")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "a short password is refused on the form");
    let r = ed.post(&t, &link, &[("password", "editors long password")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(Browser::new().get(&t, &link).await.status, StatusCode::GONE, "the link works once");
    // An editor sees the library but not the people page, and cannot post to it.
    assert_eq!(ed.get(&t, &format!("/console/{CLOUD}/library")).await.status, StatusCode::OK);
    let lib = ed.get(&t, &format!("/console/{CLOUD}/library")).await;
    assert!(!body(&lib).contains("/people\""), "no People tab for an editor");
    assert_eq!(ed.get(&t, &format!("/console/{CLOUD}/people")).await.status, StatusCode::FORBIDDEN);
    let ed_csrf = hidden(&lib, "csrf");
    let r = ed
        .post(
            &t,
            &format!("/console/{CLOUD}/people/invite"),
            &[("csrf", &ed_csrf), ("email", "x@example.org"), ("role", "owner")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(t.mail.last_link_to("x@example.org").is_none());
    // The only owner cannot be demoted; a second owner makes it possible.
    let me = t.app.user_by_email(EMAIL).await.unwrap().id;
    let r = owner.post(&t, &format!("/console/{CLOUD}/people/{me}/role"), &[("csrf", &csrf), ("role", "viewer")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(body(&r).contains("only owner"));
    let ed_id = t.app.user_by_email("ed@example.org").await.unwrap().id;
    let r = owner.post(&t, &format!("/console/{CLOUD}/people/{ed_id}/remove"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(ed.get(&t, &format!("/console/{CLOUD}/library")).await.status, StatusCode::NOT_FOUND, "no role left");
}

#[tokio::test]
async fn console_password_reset_by_mailed_link() {
    let t = TestApp::new().await;
    let id = with_user(&t, EMAIL, Role::Viewer).await;
    let mut signed = Browser::new();
    signed.sign_in(&t, EMAIL, PASSWORD).await;
    let mut b = Browser::new();
    let form = b.get(&t, "/console/reset").await;
    let csrf = hidden(&form, "csrf");
    let known = b.post(&t, "/console/reset", &[("csrf", &csrf), ("email", EMAIL)]).await;
    let csrf = hidden(&known, "csrf");
    let unknown = b.post(&t, "/console/reset", &[("csrf", &csrf), ("email", "nobody@example.org")]).await;
    assert_eq!(known.status, unknown.status);
    assert_eq!(
        body(&known).replace(&hidden(&known, "csrf"), ""),
        body(&unknown).replace(&hidden(&unknown, "csrf"), ""),
        "same answer either way"
    );
    assert!(
        b.post(&t, "/console/reset", &[("csrf", "forged"), ("email", EMAIL)]).await.status == StatusCode::FORBIDDEN
    );
    let link = t.mail.last_link_to(EMAIL).expect("a reset mail");
    assert_eq!(t.mail.sent.lock().unwrap().iter().filter(|m| m.user_id == id).count(), 1);
    let r = b.post(&t, &link, &[("password", "a brand new password")]).await;
    assert_eq!((r.status, r.header("location")), (StatusCode::SEE_OTHER, Some("/console/login")));
    assert_eq!(
        signed.get(&t, &format!("/console/{CLOUD}/library")).await.status,
        StatusCode::SEE_OTHER,
        "old sessions end"
    );
    assert_eq!(Browser::new().sign_in(&t, EMAIL, PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(Browser::new().sign_in(&t, EMAIL, "a brand new password").await.status, StatusCode::SEE_OTHER);
    // An hour later, a link is dead.
    let form = b.get(&t, "/console/reset").await;
    b.post(&t, "/console/reset", &[("csrf", &hidden(&form, "csrf")), ("email", EMAIL)]).await;
    let link = t.mail.last_link_to(EMAIL).unwrap();
    t.clock.advance(3601);
    assert_eq!(b.get(&t, &link).await.status, StatusCode::GONE);
}

async fn upload(t: &TestApp, rt: &str, fields: &[(&str, &str)]) -> serde_json::Value {
    let (name, bytes) = if rt == "raw" { ("notes.txt", b"some notes".to_vec()) } else { ("a.jpg", photo_jpeg(32, 24)) };
    let r = t.upload_api(rt, "upload", fields, Some((name, &bytes))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    r.json()
}

#[tokio::test]
async fn console_library_searches_filters_and_shows_errors_with_position() {
    let t = TestApp::new().await;
    with_user(&t, EMAIL, Role::Viewer).await;
    upload(&t, "image", &[("public_id", "beach"), ("tags", "summer"), ("asset_folder", "trips")]).await;
    upload(&t, "image", &[("public_id", "snow"), ("tags", "winter"), ("asset_folder", "trips/2024")]).await;
    upload(&t, "raw", &[("public_id", "notes.txt")]).await;
    let mut b = Browser::new();
    b.sign_in(&t, EMAIL, PASSWORD).await;
    let lib = |q: &str| format!("/console/{CLOUD}/library{q}");
    let all = body(&b.get(&t, &lib("")).await);
    assert!(all.contains("3 assets") && all.contains(">beach<") && all.contains(">notes.txt<"), "{all}");
    assert!(all.contains("folder=trips\""), "the root folder is listed");
    let summer = body(&b.get(&t, &lib("?q=tags%3Dsummer")).await);
    assert!(summer.contains("1 asset<") && summer.contains(">beach<") && !summer.contains(">snow<"));
    let raw = body(&b.get(&t, &lib("?type=raw")).await);
    assert!(raw.contains("1 asset<") && raw.contains(">notes.txt<"));
    let trips = body(&b.get(&t, &lib("?folder=trips")).await);
    assert!(trips.contains(">beach<") && !trips.contains(">snow<"), "only the folder itself");
    assert!(trips.contains("folder=trips%2F2024"), "its subfolder is listed");
    let bad = b.get(&t, &lib("?q=tags%3D")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let html = body(&bad);
    assert!(html.contains("Position 5") && html.contains("aria-invalid=\"true\""), "{html}");
}

#[tokio::test]
async fn console_asset_page_edits_for_editors_only() {
    let t = TestApp::new().await;
    with_user(&t, EMAIL, Role::Viewer).await;
    with_user(&t, "ed@example.org", Role::Editor).await;
    let up = upload(&t, "image", &[("public_id", "pic"), ("tags", "one")]).await;
    let id = up["asset_id"].as_str().unwrap().to_owned();
    let page = format!("/console/{CLOUD}/assets/{id}");

    let mut viewer = Browser::new();
    viewer.sign_in(&t, EMAIL, PASSWORD).await;
    let r = viewer.get(&t, &page).await;
    assert_eq!(r.status, StatusCode::OK);
    let html = body(&r);
    assert!(html.contains("24 px") && html.contains("/pic.jpg"), "details and delivery URL: {html}");
    assert!(!html.contains("name=\"tags\"") && !html.contains("/delete\""), "a viewer gets no edit controls");
    let csrf = hidden(&r, "csrf");
    let r = viewer.post(&t, &page, &[("csrf", &csrf), ("tags", "hacked"), ("context", "")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = viewer.post(&t, &format!("{page}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let mut ed = Browser::new();
    ed.sign_in(&t, "ed@example.org", PASSWORD).await;
    let r = ed.get(&t, &page).await;
    let csrf = hidden(&r, "csrf");
    let r =
        ed.post(&t, &page, &[("csrf", &csrf), ("tags", "two, three"), ("context", "alt=<b>A</b>\ncaption = hi")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", body(&r));
    let got = t.admin(axum::http::Method::GET, "resources/image/upload/pic", None).await.json();
    assert_eq!(got["tags"], serde_json::json!(["three", "two"]));
    assert_eq!(got["context"]["custom"]["alt"], "<b>A</b>");
    let html = body(&ed.get(&t, &page).await);
    assert!(html.contains("alt=&lt;b&gt;A&lt;/b&gt;") && !html.contains("<b>A</b>"), "context is escaped");
    let r = ed.post(&t, &page, &[("csrf", &csrf), ("tags", ""), ("context", "no equals sign")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(body(&r).contains("without &#39;=&#39;") || body(&r).contains("without '='"), "{}", body(&r));
    let r = ed.post(&t, &format!("{page}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!((r.status, r.header("location")), (StatusCode::SEE_OTHER, Some("/console/demo/library")));
    assert_eq!(
        t.admin(axum::http::Method::GET, "resources/image/upload/pic", None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(ed.get(&t, &page).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn console_never_shows_another_environments_asset() {
    let t = TestApp::new().await;
    with_user(&t, EMAIL, Role::Owner).await;
    t.app.create_environment("other", None).await.unwrap();
    // An asset of "demo", asked for under an environment the person has no role in, and an
    // id that is not an asset of the environment named.
    let up = upload(&t, "image", &[("public_id", "mine")]).await;
    let id = up["asset_id"].as_str().unwrap();
    let mut b = Browser::new();
    b.sign_in(&t, EMAIL, PASSWORD).await;
    assert_eq!(b.get(&t, &format!("/console/other/assets/{id}")).await.status, StatusCode::NOT_FOUND);
    let r = b.get(&t, &format!("/console/{CLOUD}/assets/0123456789abcdef0123456789abcdef")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn console_uploads_several_files_for_editors_not_viewers() {
    use nimbus_testkit::Multipart;
    let t = TestApp::on(Db::Sqlite, |c| c.max_file_bytes = 200_000).await.unwrap();
    with_user(&t, EMAIL, Role::Viewer).await;
    with_user(&t, "ed@example.org", Role::Editor).await;
    let mut ed = Browser::new();
    ed.sign_in(&t, "ed@example.org", PASSWORD).await;
    let form = ed.get(&t, &format!("/console/{CLOUD}/upload")).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(body(&form).contains("type=\"file\"") && body(&form).contains("multiple"));
    let csrf = hidden(&form, "csrf");
    let uri = format!("/console/{CLOUD}/upload");
    // Without script: every file in one form, then a page of results.
    let mp = Multipart::new(&[("csrf", &csrf), ("folder", "/holidays/"), ("tags", "sea, sun"), ("preset", "")])
        .also_file("Beach Day.jpg", &photo_jpeg(40, 30))
        .also_file("notes.txt", b"plain words")
        .also_file("empty.png", b"");
    let r = ed.post_multipart(&t, &uri, mp, false).await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    let html = body(&r);
    assert!(html.contains("Uploaded") && html.contains("empty.png: Empty file"), "{html}");
    let found = t.admin(axum::http::Method::GET, "resources/image?prefix=Beach&tags=true", None).await.json();
    let beach = &found["resources"][0];
    assert_eq!(beach["asset_folder"], "holidays");
    assert_eq!(beach["tags"], serde_json::json!(["sea", "sun"]));
    assert_eq!(beach["display_name"], "Beach Day");
    let raw = t.admin(axum::http::Method::GET, "resources/raw", None).await.json();
    assert_eq!(raw["resources"].as_array().unwrap().len(), 1, "the text file is a raw asset");
    // With script: one file per request, JSON back; a file over the limit is refused by name.
    let mp = Multipart::new(&[("csrf", &csrf), ("folder", ""), ("tags", ""), ("preset", "")])
        .also_file("big.jpg", &vec![0u8; 250_000]);
    let r = ed.post_multipart(&t, &uri, mp, true).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.json()[0]["error"]["message"].as_str().unwrap().contains("File size too large"), "{}", body(&r));
    // A missing token refuses the files; an unknown preset is named.
    let mp = Multipart::new(&[("folder", "")]).also_file("x.jpg", &photo_jpeg(8, 8));
    assert_eq!(ed.post_multipart(&t, &uri, mp, true).await.status, StatusCode::FORBIDDEN);
    let mp = Multipart::new(&[("csrf", &csrf), ("preset", "nope")]).also_file("x.jpg", &photo_jpeg(8, 8));
    let r = ed.post_multipart(&t, &uri, mp, true).await;
    assert!(body(&r).contains("Upload preset not found - nope"), "{}", body(&r));

    // A viewer has no upload page and gets 403 when posting anyway.
    let mut viewer = Browser::new();
    viewer.sign_in(&t, EMAIL, PASSWORD).await;
    let lib = viewer.get(&t, &format!("/console/{CLOUD}/library")).await;
    assert!(!body(&lib).contains("/upload\""), "no upload control for a viewer");
    assert_eq!(viewer.get(&t, &uri).await.status, StatusCode::FORBIDDEN);
    let vcsrf = hidden(&lib, "csrf");
    let mp = Multipart::new(&[("csrf", &vcsrf)]).also_file("x.jpg", &photo_jpeg(8, 8));
    assert_eq!(viewer.post_multipart(&t, &uri, mp, false).await.status, StatusCode::FORBIDDEN);
    let all = t.admin(axum::http::Method::GET, "resources/image", None).await.json();
    assert_eq!(all["resources"].as_array().unwrap().len(), 1, "only the editor's image was stored");
}

/// Category → team (enabled when category is employee) → names (allowed by team).
async fn rules_schema(t: &TestApp) {
    use axum::http::Method;
    use serde_json::json;
    let vals = |ids: &[&str]| -> serde_json::Value {
        ids.iter().map(|i| json!({"external_id": i, "value": i.to_uppercase()})).collect()
    };
    for f in [
        json!({"external_id": "category", "label": "Category", "type": "enum", "datasource": {"values": vals(&["employee", "culture"])}}),
        json!({"external_id": "team", "label": "Team", "type": "enum", "default_disabled": true, "datasource": {"values": vals(&["rnd", "sales"])}}),
        json!({"external_id": "names", "label": "Names", "type": "set", "datasource": {"values": vals(&["john", "jane", "paul"])}}),
        json!({"external_id": "note", "label": "Note <i>", "type": "string"}),
    ] {
        let r = t.admin(Method::POST, "metadata_fields", Some(f)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    }
    for r in [
        json!({"external_id": "r-team", "metadata_field_id": "team", "name": "employees have a team",
               "condition": {"metadata_field_id": "category", "equals": "employee"}, "result": {"enable": true}}),
        json!({"external_id": "r-rnd", "metadata_field_id": "names", "name": "rnd names",
               "condition": {"metadata_field_id": "team", "equals": "rnd"},
               "result": {"activate_values": {"external_ids": ["john", "jane"]}}}),
    ] {
        let r = t.admin(Method::POST, "metadata_rules", Some(r)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    }
}

/// The HTML of the field `id`'s box in a page.
fn field_box(html: &str, id: &str) -> String {
    let start = html.find(&format!("data-field=\"{id}\"")).unwrap_or_else(|| panic!("no field {id}"));
    let rest = &html[start..];
    let end = rest[1..].find("data-field=\"").map_or(rest.len(), |e| e + 1);
    rest[..end].to_owned()
}

#[tokio::test]
async fn console_metadata_form_follows_the_rules() {
    let t = TestApp::new().await;
    rules_schema(&t).await;
    with_user(&t, "ed@example.org", Role::Editor).await;
    let up = upload(&t, "image", &[("public_id", "person")]).await;
    let page = format!("/console/{CLOUD}/assets/{}", up["asset_id"].as_str().unwrap());
    let mut ed = Browser::new();
    ed.sign_in(&t, "ed@example.org", PASSWORD).await;
    let r = ed.get(&t, &page).await;
    let html = body(&r);
    // Labels are the fields' labels (escaped); the dependent field starts hidden and disabled.
    assert!(html.contains("<label for=\"md-category\">Category"), "{html}");
    assert!(html.contains("Note &lt;i&gt;"));
    let team = field_box(&html, "team");
    assert!(team.starts_with("data-field=\"team\" hidden") && team.contains("disabled"), "{team}");
    assert!(field_box(&html, "names").contains(" PAUL<"), "all names offered while no rule narrows them");

    // What the script asks on each change: employee shows the team; rnd narrows the names.
    let csrf = hidden(&r, "csrf");
    let eval = format!("/console/{CLOUD}/metadata/evaluate");
    let v = ed.post(&t, &eval, &[("csrf", &csrf), ("md.category", "employee")]).await;
    assert_eq!(v.status, StatusCode::OK, "{}", body(&v));
    let v = v.json();
    assert_eq!(v["fields"]["team"]["enabled"], true);
    assert_eq!(v["fields"]["names"]["allowed_values"], serde_json::json!(["john", "jane", "paul"]));
    let v = ed.post(&t, &eval, &[("csrf", &csrf), ("md.category", "employee"), ("md.team", "rnd")]).await.json();
    assert_eq!(v["fields"]["names"]["allowed_values"], serde_json::json!(["john", "jane"]));
    let v = ed.post(&t, &eval, &[("csrf", &csrf), ("md.category", "culture"), ("md.team", "rnd")]).await.json();
    assert_eq!(v["fields"]["team"]["enabled"], false, "team hides again");
    assert_eq!(ed.post(&t, &eval, &[("md.category", "employee")]).await.status, StatusCode::FORBIDDEN, "CSRF");

    // A value the rules forbid is refused next to its field, naming the rule.
    let save = format!("{page}/metadata");
    let r = ed
        .post(
            &t,
            &save,
            &[
                ("csrf", &csrf),
                ("md.category", "employee"),
                ("md.team", "rnd"),
                ("md.names", ""),
                ("md.names", "paul"),
                ("md.note", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", body(&r));
    let html = body(&r);
    let names = field_box(&html, "names");
    assert!(names.contains("field-error") && names.contains("paul"), "{names}");
    assert!(names.contains("not allowed"), "{names}");
    // The form keeps what was entered, with the rule's state for it.
    assert!(field_box(&html, "team").starts_with("data-field=\"team\">"), "team shown for an employee");
    // Allowed values save, and show again.
    let r = ed
        .post(
            &t,
            &save,
            &[
                ("csrf", &csrf),
                ("md.category", "employee"),
                ("md.team", "rnd"),
                ("md.names", ""),
                ("md.names", "jane"),
                ("md.note", "<b>hi</b>"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", body(&r));
    let got = t.admin(axum::http::Method::GET, "resources/image/upload/person", None).await.json();
    assert_eq!(
        got["metadata"],
        serde_json::json!({"category": "employee", "team": "rnd", "names": ["jane"], "note": "<b>hi</b>"})
    );
    let html = body(&ed.get(&t, &page).await);
    assert!(html.contains("value=\"&lt;b&gt;hi&lt;/b&gt;\""), "stored values are escaped");
    // Emptying a field clears it; fields not sent are left alone.
    let r = ed.post(&t, &save, &[("csrf", &csrf), ("md.note", "")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", body(&r));
    let got = t.admin(axum::http::Method::GET, "resources/image/upload/person", None).await.json();
    assert_eq!(got["metadata"], serde_json::json!({"category": "employee", "team": "rnd", "names": ["jane"]}));
}

#[tokio::test]
async fn console_api_keys_for_admins_secret_shown_once() {
    use nimbus_testkit::{KEY, SECRET};
    let t = TestApp::new().await;
    with_user(&t, EMAIL, Role::Admin).await;
    with_user(&t, "ed@example.org", Role::Editor).await;
    let mut ed = Browser::new();
    ed.sign_in(&t, "ed@example.org", PASSWORD).await;
    let lib = body(&ed.get(&t, &format!("/console/{CLOUD}/library")).await);
    assert!(!lib.contains("/keys\""), "no API keys tab for an editor");
    assert_eq!(ed.get(&t, &format!("/console/{CLOUD}/keys")).await.status, StatusCode::FORBIDDEN);

    let mut admin = Browser::new();
    admin.sign_in(&t, EMAIL, PASSWORD).await;
    let page = admin.get(&t, &format!("/console/{CLOUD}/keys")).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = body(&page);
    assert!(html.contains(KEY) && !html.contains(SECRET), "keys listed, secrets never");
    let csrf = hidden(&page, "csrf");
    let r = admin.post(&t, &format!("/console/{CLOUD}/keys"), &[("csrf", &csrf)]).await;
    let html = body(&r);
    let url =
        html.split("value=\"cloudinary://").nth(1).expect("the new key's URL").split('"').next().unwrap().to_owned();
    let (creds, _) = url.split_once('@').unwrap();
    let (new_key, new_secret) = creds.split_once(':').unwrap();
    assert!(!body(&admin.get(&t, &format!("/console/{CLOUD}/keys")).await).contains(new_secret), "shown once");
    let ping = |k: String, s: String| {
        let t = &t;
        async move { t.admin_as(&k, &s, axum::http::Method::GET, &format!("/v1_1/{CLOUD}/ping"), None).await.status }
    };
    assert_eq!(ping(new_key.to_owned(), new_secret.to_owned()).await, StatusCode::OK);
    let r = admin.post(&t, &format!("/console/{CLOUD}/keys/{new_key}/revoke"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(ping(new_key.to_owned(), new_secret.to_owned()).await, StatusCode::UNAUTHORIZED);
    // A key of another environment cannot be revoked from this one.
    let (_, other) = t.app.create_environment("other", None).await.unwrap();
    let r = admin.post(&t, &format!("/console/{CLOUD}/keys/{}/revoke", other.api_key), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        t.admin_as(&other.api_key, &other.api_secret, axum::http::Method::GET, "/v1_1/other/ping", None).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn console_library_bulk_edits_and_sorts() {
    let t = TestApp::new().await;
    with_user(&t, EMAIL, Role::Viewer).await;
    with_user(&t, "ed@example.org", Role::Editor).await;
    let a = upload(&t, "image", &[("public_id", "a"), ("tags", "keep")]).await;
    let b = upload(&t, "image", &[("public_id", "b")]).await;
    t.clock.advance(10);
    let c = upload(&t, "image", &[("public_id", "c")]).await;
    let id = |v: &serde_json::Value| v["asset_id"].as_str().unwrap().to_owned();
    let mut ed = Browser::new();
    ed.sign_in(&t, "ed@example.org", PASSWORD).await;
    let lib = ed.get(&t, &format!("/console/{CLOUD}/library?sort=name")).await;
    let html = body(&lib);
    let order: Vec<&str> = html.split("<div class=\"name\">").skip(1).map(|s| s.split('<').next().unwrap()).collect();
    assert_eq!(order, ["a", "b", "c"], "sorted by public id");
    assert!(html.contains("name=\"asset\""), "editors can select");
    let csrf = hidden(&lib, "csrf");
    let bulk = format!("/console/{CLOUD}/library/bulk");
    let back = format!("/console/{CLOUD}/library?sort=name");
    let (ia, ib, ic) = (id(&a), id(&b), id(&c));
    let r = ed
        .post(
            &t,
            &bulk,
            &[
                ("csrf", &csrf),
                ("back", &back),
                ("action", "add_tag"),
                ("value", "picked"),
                ("asset", &ia),
                ("asset", &ib),
            ],
        )
        .await;
    assert_eq!((r.status, r.header("location")), (StatusCode::SEE_OTHER, Some(back.as_str())));
    let tags = |pid: &str| {
        let t = &t;
        let pid = pid.to_owned();
        async move {
            t.admin(axum::http::Method::GET, &format!("resources/image/upload/{pid}"), None).await.json()["tags"]
                .clone()
        }
    };
    assert_eq!(tags("a").await, serde_json::json!(["keep", "picked"]));
    assert_eq!(tags("b").await, serde_json::json!(["picked"]));
    assert_eq!(tags("c").await, serde_json::Value::Null, "not selected");
    ed.post(
        &t,
        &bulk,
        &[("csrf", &csrf), ("back", &back), ("action", "move"), ("value", "/shelf/"), ("asset", &ib), ("asset", &ic)],
    )
    .await;
    let shelf = body(&ed.get(&t, &format!("/console/{CLOUD}/library?folder=shelf")).await);
    assert!(shelf.contains("2 assets"), "{shelf}");
    ed.post(&t, &bulk, &[("csrf", &csrf), ("back", "https://evil.example/"), ("action", "delete"), ("asset", &ic)])
        .await;
    assert_eq!(t.admin(axum::http::Method::GET, "resources/image/upload/c", None).await.status, StatusCode::NOT_FOUND);
    let r = ed
        .post(&t, &bulk, &[("csrf", &csrf), ("back", &back), ("action", "add_tag"), ("value", ""), ("asset", &ia)])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "a tag is needed");
    // A viewer: no selection, and refused when posting anyway.
    let mut viewer = Browser::new();
    viewer.sign_in(&t, EMAIL, PASSWORD).await;
    let lib = viewer.get(&t, &format!("/console/{CLOUD}/library")).await;
    assert!(!body(&lib).contains("name=\"asset\""));
    let vcsrf = hidden(&lib, "csrf");
    let r = viewer.post(&t, &bulk, &[("csrf", &vcsrf), ("back", &back), ("action", "delete"), ("asset", &ia)]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(t.admin(axum::http::Method::GET, "resources/image/upload/a", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn console_account_password_and_sign_out_everywhere() {
    let t = TestApp::new().await;
    with_user(&t, EMAIL, Role::Viewer).await;
    let mut laptop = Browser::new();
    laptop.sign_in(&t, EMAIL, PASSWORD).await;
    let mut phone = Browser::new();
    phone.sign_in(&t, EMAIL, PASSWORD).await;
    let page = laptop.get(&t, "/console/account").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = hidden(&page, "csrf");
    let r = laptop
        .post(
            &t,
            "/console/account/password",
            &[("csrf", &csrf), ("current", "wrong one!"), ("new", "a new long password")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(body(&r).contains("current password is not right"));
    let r = laptop
        .post(
            &t,
            "/console/account/password",
            &[("csrf", &csrf), ("current", PASSWORD), ("new", "a new long password")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", body(&r));
    assert_eq!(laptop.get(&t, "/console/account").await.status, StatusCode::OK, "this browser stays signed in");
    assert_eq!(phone.get(&t, "/console/account").await.status, StatusCode::SEE_OTHER, "the others are signed out");
    phone.sign_in(&t, EMAIL, "a new long password").await;
    let csrf = hidden(&laptop.get(&t, "/console/account").await, "csrf");
    let r = laptop.post(&t, "/console/account/sign-out-everywhere", &[("csrf", &csrf)]).await;
    assert_eq!(r.header("location"), Some("/console/login"));
    assert_eq!(laptop.get(&t, "/console/account").await.status, StatusCode::SEE_OTHER);
    assert_eq!(phone.get(&t, "/console/account").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn console_schema_reads_rules_in_words_and_switches_them() {
    let t = TestApp::new().await;
    rules_schema(&t).await;
    with_user(&t, EMAIL, Role::Admin).await;
    with_user(&t, "ed@example.org", Role::Editor).await;
    let mut ed = Browser::new();
    ed.sign_in(&t, "ed@example.org", PASSWORD).await;
    assert_eq!(ed.get(&t, &format!("/console/{CLOUD}/schema")).await.status, StatusCode::FORBIDDEN);
    let mut admin = Browser::new();
    admin.sign_in(&t, EMAIL, PASSWORD).await;
    let page = admin.get(&t, &format!("/console/{CLOUD}/schema")).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = body(&page);
    assert!(html.contains("Team is shown when Category is EMPLOYEE"), "{html}");
    assert!(html.contains("Names offers only JOHN, JANE when Team is RND"), "{html}");
    assert!(html.contains("Note &lt;i&gt;"), "labels escaped");
    let csrf = hidden(&page, "csrf");
    let r = admin
        .post(&t, &format!("/console/{CLOUD}/schema/rules/r-team/state"), &[("csrf", &csrf), ("active", "false")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", body(&r));
    let rules = t.admin(axum::http::Method::GET, "metadata_rules", None).await.json();
    let team =
        rules["metadata_rules"].as_array().unwrap().iter().find(|r| r["external_id"] == "r-team").unwrap().clone();
    assert_eq!(team["state"], "inactive");
    assert!(body(&admin.get(&t, &format!("/console/{CLOUD}/schema")).await).contains(">Activate "));
}

#[tokio::test]
async fn console_transformation_builder_shows_the_url_and_its_result() {
    let t = TestApp::new().await;
    with_user(&t, EMAIL, Role::Viewer).await;
    let up = upload(&t, "image", &[("public_id", "shot")]).await;
    let page = format!("/console/{CLOUD}/assets/{}", up["asset_id"].as_str().unwrap());
    let mut b = Browser::new();
    b.sign_in(&t, EMAIL, PASSWORD).await;
    let html = body(&b.get(&t, &format!("{page}?w=20&h=10&c=fill&g=auto&f=webp&q=auto&e=grayscale")).await);
    let url = html
        .split("id=\"built-url\" type=\"text\" readonly value=\"")
        .nth(1)
        .expect("a URL")
        .split('"')
        .next()
        .unwrap();
    assert!(
        url.starts_with("http://nimbus.test/demo/image/upload/c_fill,g_auto,w_20,h_10/e_grayscale/q_auto/v"),
        "{url}"
    );
    assert!(url.ends_with("/shot.webp"), "{url}");
    let result =
        html.split("alt=\"Original\"").nth(1).unwrap().split("img src=\"").nth(1).unwrap().split('"').next().unwrap();
    let r = t.get(result, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{result}");
    assert_eq!(nimbus_testkit::image_info(&r.body), (20, 10, "webp"));
    let html = body(&b.get(&t, &format!("{page}?w=-3")).await);
    assert!(html.contains("Not a valid transformation"), "{html}");
}

#[tokio::test]
async fn console_two_step_sign_in_with_codes_and_recovery_codes() {
    use nimbus_core::accounts::totp;
    let t = TestApp::new().await;
    let id = with_user(&t, EMAIL, Role::Viewer).await;
    let mut b = Browser::new();
    b.sign_in(&t, EMAIL, PASSWORD).await;
    let csrf = hidden(&b.get(&t, "/console/account").await, "csrf");
    let setup = b.post(&t, "/console/account/totp/start", &[("csrf", &csrf)]).await;
    assert!(body(&setup).contains("otpauth://totp/Nimbus:ada%40example%2Eorg?secret="), "{}", body(&setup));
    let user = nimbus_app::ports::AccountRepo::user_by_id(&t.catalog, id).await.unwrap().unwrap();
    let secret = hex::decode(user.totp_pending.unwrap()).unwrap();
    let code_at = |secs: i64| format!("{:06}", totp::code(&secret, totp::step(secs)));
    let r = b.post(&t, "/console/account/totp/confirm", &[("csrf", &csrf), ("code", "000000")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = b.post(&t, "/console/account/totp/confirm", &[("csrf", &csrf), ("code", &code_at(t.app.now()))]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    let codes: Vec<String> =
        body(&r).split("<li><code>").skip(1).map(|s| s.split('<').next().unwrap().to_owned()).collect();
    assert_eq!(codes.len(), 10);

    // Signing in now asks a code after the password, in a step of its own.
    let mut c = Browser::new();
    let r = c.sign_in(&t, EMAIL, PASSWORD).await;
    assert_eq!(r.header("location"), Some("/console/login/code?next=%2Fconsole"));
    assert!(!c.cookies.contains_key("nimbus_session"), "no session before the code");
    let step = "/console/login/code?next=%2Fconsole";
    let r = c.post(&t, step, &[("code", &code_at(t.app.now()))]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "the code that confirmed the set-up is used");
    t.clock.advance(30);
    let now_code = code_at(t.app.now());
    let r = c.post(&t, step, &[("code", &now_code)]).await;
    assert_eq!((r.status, r.header("location")), (StatusCode::SEE_OTHER, Some("/console")), "{}", body(&r));
    assert!(c.cookies.contains_key("nimbus_session") && !c.cookies.contains_key("nimbus_step"));
    // The same code again: refused; a recovery code works once.
    let mut d = Browser::new();
    d.sign_in(&t, EMAIL, PASSWORD).await;
    assert_eq!(d.post(&t, step, &[("code", &now_code)]).await.status, StatusCode::UNAUTHORIZED);
    let r = d.post(&t, step, &[("code", &codes[0].to_uppercase())]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let mut e = Browser::new();
    e.sign_in(&t, EMAIL, PASSWORD).await;
    assert_eq!(e.post(&t, step, &[("code", &codes[0])]).await.status, StatusCode::UNAUTHORIZED, "used up");
    // Without the step's cookie a code is worth nothing; wrong codes lock as passwords do.
    let r = Browser::new().post(&t, step, &[("code", &codes[1])]).await;
    assert_eq!(r.header("location"), Some("/console/login"));
    for _ in 0..3 {
        e.post(&t, step, &[("code", "111111")]).await;
    }
    let r = e.post(&t, step, &[("code", "111111")]).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", body(&r));
    // Turning it off needs a code.
    let csrf = hidden(&c.get(&t, "/console/account").await, "csrf");
    assert_eq!(
        c.post(&t, "/console/account/totp/disable", &[("csrf", &csrf), ("code", "123456")]).await.status,
        StatusCode::BAD_REQUEST
    );
    let r = c.post(&t, "/console/account/totp/disable", &[("csrf", &csrf), ("code", &codes[2])]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    t.clock.advance(15 * 60 + 1);
    assert_eq!(Browser::new().sign_in(&t, EMAIL, PASSWORD).await.header("location"), Some("/console"));
}

#[tokio::test]
async fn console_presets_and_named_transformations_for_admins() {
    use axum::http::Method;
    let t = TestApp::new().await;
    with_user(&t, EMAIL, Role::Admin).await;
    with_user(&t, "ed@example.org", Role::Editor).await;
    let r = t
        .admin(
            Method::POST,
            "upload_presets",
            Some(serde_json::json!({"name": "avatars", "unsigned": true, "folder": "av", "tags": "<x>"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    let mut ed = Browser::new();
    ed.sign_in(&t, "ed@example.org", PASSWORD).await;
    assert_eq!(ed.get(&t, &format!("/console/{CLOUD}/settings")).await.status, StatusCode::FORBIDDEN);
    let mut admin = Browser::new();
    admin.sign_in(&t, EMAIL, PASSWORD).await;
    let page = admin.get(&t, &format!("/console/{CLOUD}/settings")).await;
    let html = body(&page);
    assert!(html.contains(">avatars<") && html.contains("tags=&lt;x&gt;"), "{html}");
    let csrf = hidden(&page, "csrf");
    let create = format!("/console/{CLOUD}/settings/transformations");
    let r = admin.post(&t, &create, &[("csrf", &csrf), ("name", "card"), ("definition", "c_fill,w_40,h_30")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", body(&r));
    let r = admin.post(&t, &create, &[("csrf", &csrf), ("name", "bad"), ("definition", "w_abc")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    up_and_check_named(&t).await;
    let r = admin.post(&t, &format!("/console/{CLOUD}/settings/transformations/card/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(t.admin(Method::GET, "transformations/card", None).await.status, StatusCode::NOT_FOUND);
    let r = admin.post(&t, &format!("/console/{CLOUD}/settings/presets/avatars/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(t.admin(Method::GET, "upload_presets/avatars", None).await.status, StatusCode::NOT_FOUND);
}

/// The named transformation made in the console renders.
async fn up_and_check_named(t: &TestApp) {
    upload(t, "image", &[("public_id", "n")]).await;
    let r = t.get(&format!("/{CLOUD}/image/upload/t_card/n.jpg"), &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(nimbus_testkit::image_info(&r.body).0, 40);
}

#[tokio::test]
async fn console_sign_in_attempts_are_limited_per_address() {
    let t = TestApp::new().await;
    with_user(&t, EMAIL, Role::Viewer).await;
    // Right passwords count too: ten attempts per five minutes per address.
    for i in 0..10 {
        let r = Browser::new().sign_in(&t, EMAIL, PASSWORD).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "attempt {i}");
    }
    let r = Browser::new().sign_in(&t, "ADA@example.org", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(body(&r).contains("Too many sign-in attempts for this account; try again in 300 seconds"), "{}", body(&r));
    assert_eq!(
        Browser::new().sign_in(&t, "other@example.org", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED,
        "per address"
    );
    t.clock.advance(300);
    assert_eq!(Browser::new().sign_in(&t, EMAIL, PASSWORD).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn console_owners_create_environments_they_own() {
    let t = TestApp::new().await;
    with_user(&t, EMAIL, Role::Owner).await;
    with_user(&t, "ed@example.org", Role::Editor).await;
    let mut owner = Browser::new();
    owner.sign_in(&t, EMAIL, PASSWORD).await;
    let page = owner.get(&t, "/console/environments").await;
    let csrf = hidden(&page, "csrf");
    let r = owner.post(&t, "/console/environments", &[("csrf", &csrf), ("cloud", "second")]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    let html = body(&r);
    let url =
        html.split("value=\"cloudinary://").nth(1).expect("credentials shown").split('"').next().unwrap().to_owned();
    assert!(url.ends_with("@second"), "{url}");
    assert!(html.contains("/console/second/library"), "the new one is listed");
    assert_eq!(owner.get(&t, "/console/second/people").await.status, StatusCode::OK, "owned");
    for (cloud, why) in [("second", "taken"), ("Bad Name", "invalid"), ("console", "reserved")] {
        let r = owner.post(&t, "/console/environments", &[("csrf", &csrf), ("cloud", cloud)]).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{why}");
    }
    let mut ed = Browser::new();
    ed.sign_in(&t, "ed@example.org", PASSWORD).await;
    let page = ed.get(&t, "/console/environments").await;
    assert!(!body(&page).contains("name=\"cloud\""), "no form for an editor");
    let r = ed.post(&t, "/console/environments", &[("csrf", &hidden(&page, "csrf")), ("cloud", "third")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}
