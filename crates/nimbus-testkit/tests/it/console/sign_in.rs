//! Signing in and out: sessions, CSRF, lockout and attempt limits, fixation, redirects,
//! one-time links, two-step sign-in and the account page.

use super::*;

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
async fn console_two_step_sign_in_with_codes_and_recovery_codes() {
    use nimbus_core::accounts::totp;
    let t = TestApp::new().await;
    let id = with_user(&t, EMAIL, Role::Viewer).await;
    let mut b = Browser::new();
    b.sign_in(&t, EMAIL, PASSWORD).await;
    let csrf = hidden(&b.get(&t, "/console/account").await, "csrf");
    let setup = b.post(&t, "/console/account/totp/start", &[("csrf", &csrf)]).await;
    assert!(body(&setup).contains("otpauth://totp/Nimbus:ada%40example%2Eorg?secret="), "{}", body(&setup));
    // The catalog keeps the secret sealed; the page shows it (base32) to the person alone.
    let user = nimbus_app::ports::AccountRepo::user_by_id(&t.catalog, id).await.unwrap().unwrap();
    let stored = user.totp_pending.unwrap();
    let shown = body(&setup).split("secret=").nth(1).unwrap().split(['&', '"']).next().unwrap().to_owned();
    let secret = from_base32(&shown);
    assert_eq!(totp::base32(&secret), shown);
    assert!(stored.starts_with("sealed1:") && !stored.contains(&hex::encode(&secret)), "{stored}");
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

/// RFC 4648 base32 without padding, as authenticator apps read it.
fn from_base32(s: &str) -> Vec<u8> {
    let (mut bits, mut n, mut out) = (0u64, 0u32, Vec::new());
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => panic!("not base32: {s}"),
        };
        bits = (bits << 5) | u64::from(v);
        n += 5;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}

/// Secrets stored in plain hex before sealing existed are sealed at start-up and keep working.
#[tokio::test]
async fn console_plain_two_step_secrets_are_sealed_at_start_up() {
    use nimbus_app::ports::AccountRepo;
    use nimbus_core::accounts::totp;
    let t = TestApp::new().await;
    let id = with_user(&t, EMAIL, Role::Viewer).await;
    let secret = [9u8; 20];
    t.catalog.set_totp(id, Some((&hex::encode(secret), &[]))).await.unwrap();
    assert_eq!(t.app.seal_legacy_totp_secrets().await.unwrap(), 1);
    assert_eq!(t.app.seal_legacy_totp_secrets().await.unwrap(), 0, "once");
    let stored = t.catalog.user_by_id(id).await.unwrap().unwrap().totp_secret.unwrap();
    assert!(stored.starts_with("sealed1:"), "{stored}");
    // Copied to another person's row, it does not open.
    let other = with_user(&t, "other@example.org", Role::Viewer).await;
    t.catalog.set_totp(other, Some((&stored, &[]))).await.unwrap();
    let mut b = Browser::new();
    b.sign_in(&t, EMAIL, PASSWORD).await;
    let step = "/console/login/code?next=%2Fconsole";
    let code = format!("{:06}", totp::code(&secret, totp::step(t.app.now())));
    let r = b.post(&t, step, &[("code", &code)]).await;
    assert_eq!((r.status, r.header("location")), (StatusCode::SEE_OTHER, Some("/console")), "{}", body(&r));
    let mut o = Browser::new();
    o.sign_in(&t, "other@example.org", PASSWORD).await;
    assert_eq!(o.post(&t, step, &[("code", &code)]).await.status, StatusCode::UNAUTHORIZED);
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

/// "Remember me" (privacy F14): the cookie gets a Max-Age of the configured days and the
/// session outlives the idle and absolute timeouts until then; without it the cookie is a
/// browser-session cookie. Signing out ends a remembered session as any other.
#[tokio::test]
async fn console_remember_me_keeps_a_session_for_the_configured_days() {
    let Some(t) = TestApp::on(Db::Sqlite, |c| c.remember_days = 7).await else { return };
    with_user(&t, EMAIL, Role::Viewer).await;
    let session_cookie = |r: &nimbus_testkit::TestResponse| {
        r.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("nimbus_session="))
            .map(str::to_owned)
            .expect("a session cookie")
    };
    let mut plain = Browser::new();
    let cookie = session_cookie(&plain.sign_in(&t, EMAIL, PASSWORD).await);
    assert!(!cookie.contains("Max-Age") && !cookie.contains("Expires"), "{cookie}");

    let mut kept = Browser::new();
    let form = kept.get(&t, "/console/login").await;
    let csrf = hidden(&form, "csrf");
    let r = kept
        .post(&t, "/console/login", &[("email", EMAIL), ("password", PASSWORD), ("csrf", &csrf), ("remember", "1")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", body(&r));
    let cookie = session_cookie(&r);
    assert!(cookie.contains(&format!("Max-Age={}", 7 * 86_400)), "{cookie}");
    let token = cookie.split(';').next().unwrap().trim_start_matches("nimbus_session=").to_owned();
    assert!(!token.contains("ada") && !token.contains(&EMAIL[..3]), "random bytes only: {token}");

    // A day later (past both timeouts, with no use in between), only the remembered one is on.
    t.clock.advance(86_400);
    assert_eq!(plain.get(&t, "/console/account").await.status, StatusCode::SEE_OTHER);
    assert_eq!(kept.get(&t, "/console/account").await.status, StatusCode::OK);
    assert_eq!(t.app.prune_history().await.unwrap().sessions, 0, "kept until its time is over");
    t.clock.advance(6 * 86_400);
    assert_eq!(kept.get(&t, "/console/account").await.status, StatusCode::SEE_OTHER, "seven days, no more");

    // Signing out ends it: the old cookie no longer works.
    let mut again = Browser::new();
    let csrf = hidden(&again.get(&t, "/console/login").await, "csrf");
    again
        .post(&t, "/console/login", &[("email", EMAIL), ("password", PASSWORD), ("csrf", &csrf), ("remember", "1")])
        .await;
    let old = again.cookies.clone();
    let csrf = hidden(&again.get(&t, "/console/account").await, "csrf");
    again.post(&t, "/console/logout", &[("csrf", &csrf)]).await;
    let replay = Browser { cookies: old, ..Browser::new() };
    let mut replay = replay;
    assert_eq!(replay.get(&t, "/console/account").await.status, StatusCode::SEE_OTHER);
}

/// One client may try at most 30 sign-ins (any addresses) and reset requests in five
/// minutes; the client is the connection's peer, or, behind a trusted proxy, the address the
/// proxy names. A header from anybody else names nobody.
#[tokio::test]
async fn console_sign_in_attempts_are_limited_per_client() {
    let Some(t) = TestApp::on(Db::Sqlite, |c| {
        c.trusted_proxies = nimbus_app::client_ip::parse_trusted("10.0.0.1").unwrap();
    })
    .await
    else {
        return;
    };
    with_user(&t, EMAIL, Role::Viewer).await;
    let from = |peer: &str, forwarded: Option<&str>| {
        let mut b = Browser::new();
        b.peer = Some(format!("{peer}:40000").parse().unwrap());
        if let Some(f) = forwarded {
            b.header("x-forwarded-for", f);
        }
        b
    };
    for i in 0..30 {
        let r = from("203.0.113.5", None).sign_in(&t, &format!("nobody{i}@example.org"), "wrong password").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // The 31st, even with the right password and a forged header, is refused.
    let r = from("203.0.113.5", Some("198.51.100.77")).sign_in(&t, EMAIL, PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(body(&r).contains("Too many sign-in attempts from your network; try again in 300 seconds"), "{}", body(&r));
    // So is a reset request.
    let mut b = from("203.0.113.5", None);
    let csrf = hidden(&b.get(&t, "/console/reset").await, "csrf");
    let r = b.post(&t, "/console/reset", &[("email", EMAIL), ("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // Another client is not affected, nor one the trusted proxy names, whatever the client
    // claimed to the proxy (the left-most entry).
    assert_eq!(from("203.0.113.6", None).sign_in(&t, EMAIL, PASSWORD).await.status, StatusCode::SEE_OTHER);
    let behind = |ip: &str| from("10.0.0.1", Some(&format!("203.0.113.5, {ip}")));
    assert_eq!(behind("198.51.100.8").sign_in(&t, EMAIL, PASSWORD).await.status, StatusCode::SEE_OTHER);
    // The proxy naming the limited client is refused for it.
    let r = from("10.0.0.1", Some("203.0.113.5")).sign_in(&t, EMAIL, PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    t.clock.advance(300);
    assert_eq!(from("203.0.113.5", None).sign_in(&t, EMAIL, PASSWORD).await.status, StatusCode::SEE_OTHER);
}

/// Session rows are kept for the configured retention after their last use, then deleted
/// by the maintenance round; expired one-time links go too.
#[tokio::test]
async fn console_session_rows_are_pruned_after_their_retention() {
    // The default (30 days), then an operator's 45 days.
    for days in [i64::from(nimbus_core::privacy::SESSION_RETENTION_DAYS), 45] {
        let t = TestApp::on(nimbus_testkit::Db::Sqlite, |c| c.retention.sessions_secs = days * 86_400).await.unwrap();
        with_user(&t, EMAIL, Role::Viewer).await;
        let mut b = Browser::new();
        b.sign_in(&t, EMAIL, PASSWORD).await;
        t.clock.advance(days * 86_400 - 60);
        assert_eq!(t.app.prune_history().await.unwrap().sessions, 0, "kept within the retention ({days} days)");
        t.clock.advance(120);
        assert_eq!(t.app.prune_history().await.unwrap().sessions, 1, "the one session row, then gone ({days} days)");
        assert_eq!(t.app.prune_history().await.unwrap().sessions, 0, "idempotent");
    }
}
