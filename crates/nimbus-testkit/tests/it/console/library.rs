//! The library, the asset page and uploads, as each role sees them.

use super::*;

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

    // The asset page names who uploaded each version: the editor, then an API key that
    // overwrote it.
    let public_id = beach["public_id"].as_str().unwrap().to_owned();
    t.clock.advance(60);
    let over = t
        .upload_api(
            "image",
            "upload",
            &[("public_id", &public_id), ("overwrite", "true")],
            Some(("b.jpg", &photo_jpeg(50, 30))),
        )
        .await;
    assert_eq!(over.status, StatusCode::OK, "{}", body(&over));
    let page = viewer.get(&t, &format!("/console/{CLOUD}/assets/{}", beach["asset_id"].as_str().unwrap())).await;
    let html = body(&page);
    let versions = &html[html.find("<h2>Versions</h2>").expect("a versions table")..];
    let (newest, oldest) = (versions.find(nimbus_testkit::KEY).unwrap(), versions.find("ed@example.org").unwrap());
    assert!(newest < oldest, "newest first: {versions}");
    assert!(versions.contains("50 × 30") && versions.contains("40 × 30"), "{versions}");
    let by = &html[html.find("Uploaded by").unwrap()..];
    assert!(by[..by.find("</dd>").unwrap()].contains(nimbus_testkit::KEY), "the current version's uploader");
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
