//! What owners and admins manage: people, API keys, the metadata schema, presets and named
//! transformations, environments.

use super::*;

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

async fn post_form(
    b: &mut Browser,
    t: &TestApp,
    uri: &str,
    f: Vec<(&'static str, String)>,
) -> nimbus_testkit::TestResponse {
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post(t, uri, &pairs).await
}

/// Rules are created, edited and activated in the console, each change previewed against the
/// stored assets first; fields are created there too; editors can do none of it.
#[tokio::test]
async fn console_schema_creates_and_previews_rules_and_fields() {
    use axum::http::Method;
    let t = TestApp::new().await;
    rules_schema(&t).await;
    with_user(&t, EMAIL, Role::Admin).await;
    // Two employees without a note: a rule making the note mandatory for employees would
    // leave both missing it.
    for id in ["s/one", "s/two"] {
        let r = t
            .upload_api(
                "image",
                "upload",
                &[("public_id", id), ("metadata", "category=employee")],
                Some(("a.png", &nimbus_testkit::png(4, 4))),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    }
    let mut admin = Browser::new();
    admin.sign_in(&t, EMAIL, PASSWORD).await;
    let form = admin.get(&t, &format!("/console/{CLOUD}/schema/new-rule")).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(body(&form).contains("<label for=\"rule-condition\">"), "every control is labelled");
    let csrf = hidden(&form, "csrf");
    let uri = format!("/console/{CLOUD}/schema/rules");
    let fields = |intent: &'static str, condition: &'static str| {
        let csrf = csrf.clone();
        move || {
            vec![
                ("csrf", csrf.clone()),
                ("external_id", "r-note".to_owned()),
                ("name", "employees explain".to_owned()),
                ("field", "note".to_owned()),
                ("condition", condition.to_owned()),
                ("result", r#"{"mandatory": true}"#.to_owned()),
                ("active", "true".to_owned()),
                ("intent", intent.to_owned()),
            ]
        }
    };
    let good = r#"{"metadata_field_id": "category", "equals": "employee"}"#;
    // Preview: the report, and nothing stored.
    let r = post_form(&mut admin, &t, &uri, fields("preview", good)()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", body(&r));
    let html = body(&r);
    let report = &html[html.find("Preview: what this create would do").expect("a preview")..];
    let row = &report[report.find("Mandatory values missing").unwrap()..];
    assert!(row[..row.find("</tr>").unwrap()].contains("<td>2</td>"), "{row}");
    let rules = t.admin(Method::GET, "metadata_rules", None).await.json();
    assert!(rules["metadata_rules"].as_array().unwrap().iter().all(|r| r["external_id"] != "r-note"));
    // Bad JSON and a condition on an unknown field are refused at the form.
    let r = post_form(&mut admin, &t, &uri, fields("save", "{not json")()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(body(&r).contains("The condition is not valid JSON"), "{}", body(&r));
    let r =
        post_form(&mut admin, &t, &uri, fields("save", r#"{"metadata_field_id": "nope", "populated": true}"#)()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(body(&r).contains("nope"), "{}", body(&r));
    // Save, then edit its name.
    let r = post_form(&mut admin, &t, &uri, fields("save", good)()).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", body(&r));
    let edit = admin.get(&t, &format!("/console/{CLOUD}/schema/rules/r-note")).await;
    assert!(body(&edit).contains("&quot;employee&quot;"), "the condition, escaped: {}", body(&edit));
    let mut again = fields("save", good)();
    again.push(("id", "r-note".to_owned()));
    again.retain(|(k, _)| *k != "name");
    again.push(("name", "employees explain themselves".to_owned()));
    let r = post_form(&mut admin, &t, &uri, again).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", body(&r));
    let rule = t.admin(Method::GET, "metadata_rules/r-note", None).await.json();
    assert_eq!((rule["name"].as_str(), rule["state"].as_str()), (Some("employees explain themselves"), Some("active")));

    // Activation shows the preview first, and activates only when confirmed.
    let state = format!("/console/{CLOUD}/schema/rules/r-team/state");
    admin.post(&t, &state, &[("csrf", &csrf), ("active", "false")]).await;
    let r = admin.post(&t, &state, &[("csrf", &csrf), ("active", "true")]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        body(&r).contains("Preview: what this update would do")
            && body(&r).contains("Team is shown when Category is EMPLOYEE")
    );
    assert_eq!(t.admin(Method::GET, "metadata_rules/r-team", None).await.json()["state"], "inactive");
    let r = admin.post(&t, &state, &[("csrf", &csrf), ("active", "true"), ("confirm", "1")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(t.admin(Method::GET, "metadata_rules/r-team", None).await.json()["state"], "active");

    // A field.
    let fields_uri = format!("/console/{CLOUD}/schema/fields");
    let r = admin
        .post(
            &t,
            &fields_uri,
            &[
                ("csrf", &csrf),
                ("label", "Mood"),
                ("external_id", "mood"),
                ("field_type", "enum"),
                ("values", "happy\nsad\n"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", body(&r));
    let mood = t.admin(Method::GET, "metadata_fields/mood", None).await.json();
    assert_eq!((mood["label"].as_str(), mood["type"].as_str()), (Some("Mood"), Some("enum")));
    assert_eq!(mood["datasource"]["values"].as_array().map(Vec::len), Some(2));
    let r = admin.post(&t, &fields_uri, &[("csrf", &csrf), ("label", "X"), ("field_type", "colour")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", body(&r));

    // An editor can do none of it.
    with_user(&t, "ed@example.org", Role::Editor).await;
    let mut ed = Browser::new();
    ed.sign_in(&t, "ed@example.org", PASSWORD).await;
    let ecsrf = hidden(&ed.get(&t, &format!("/console/{CLOUD}/library")).await, "csrf");
    let r = ed
        .post(
            &t,
            &uri,
            &[("csrf", &ecsrf), ("field", "note"), ("condition", good), ("result", "{}"), ("intent", "preview")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = ed.post(&t, &fields_uri, &[("csrf", &ecsrf), ("label", "Y"), ("field_type", "string")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(ed.get(&t, &format!("/console/{CLOUD}/schema/new-rule")).await.status, StatusCode::FORBIDDEN);
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

    // A preset made here is the Admin API's, and uploads use it.
    let r = new_preset(&t, &mut admin, &csrf, "covers", "unique_filename=false\n").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", body(&r));
    let got = t.admin(Method::GET, "upload_presets/covers", None).await.json();
    assert_eq!(got["unsigned"], true, "{got}");
    assert_eq!(got["settings"]["folder"], "covers", "{got}");
    assert_eq!(got["settings"]["unique_filename"], false, "{got}");
    let up = t
        .post_multipart(
            &format!("/v1_1/{CLOUD}/image/upload"),
            nimbus_testkit::Multipart::new(&[("upload_preset", "covers")]).also_file("c.jpg", &photo_jpeg(8, 8)),
        )
        .await;
    assert_eq!(up.status, StatusCode::OK, "{}", body(&up));
    assert!(up.json()["public_id"].as_str().unwrap().starts_with("covers/"), "{}", up.json());
    // Refusals are shown next to the form, named.
    for (name, other, says) in [
        ("covers", "", "already exists"),
        ("bad/name", "", "name"),
        ("x1", "oops", "line 1: expected name=value"),
        ("x2", "folder=twice", "folder is given twice"),
    ] {
        let r = new_preset(&t, &mut admin, &csrf, name, other).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{name}");
        assert!(body(&r).contains(says), "{name}: {}", body(&r));
    }
    // Editors may not.
    let ecsrf = hidden(&ed.get(&t, &format!("/console/{CLOUD}/library")).await, "csrf");
    assert_eq!(new_preset(&t, &mut ed, &ecsrf, "ed", "").await.status, StatusCode::FORBIDDEN);
}

/// Posts the console's new-preset form: unsigned, folder `covers`, tags and formats, and
/// `other` as the free lines.
async fn new_preset(t: &TestApp, b: &mut Browser, csrf: &str, name: &str, other: &str) -> nimbus_testkit::TestResponse {
    let form = [
        ("csrf", csrf),
        ("name", name),
        ("unsigned", "true"),
        ("folder", "covers"),
        ("tags", "a, b"),
        ("allowed_formats", "jpg"),
        ("other", other),
    ];
    b.post(t, &format!("/console/{CLOUD}/settings/presets"), &form).await
}

/// The named transformation made in the console renders.
async fn up_and_check_named(t: &TestApp) {
    upload(t, "image", &[("public_id", "n")]).await;
    let r = t.get(&format!("/{CLOUD}/image/upload/t_card/n.jpg"), &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(nimbus_testkit::image_info(&r.body).0, 40);
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

#[tokio::test]
async fn console_usage_counts_deliveries_and_renders_per_day_across_nodes() {
    let t = TestApp::new().await;
    with_user(&t, EMAIL, Role::Viewer).await;
    upload(&t, "image", &[("public_id", "u")]).await;
    let other = t.second_node().await;
    for path in ["u.jpg", "c_scale,w_10/u.jpg", "c_scale,w_10/u.jpg"] {
        assert_eq!(t.get(&format!("/{CLOUD}/image/upload/{path}"), &[]).await.status, StatusCode::OK);
    }
    assert_eq!(other.get(&format!("/{CLOUD}/image/upload/u.jpg"), &[]).await.status, StatusCode::OK);
    t.app.flush_usage().await.unwrap();
    other.app.flush_usage().await.unwrap();
    t.clock.advance(86_400);
    assert_eq!(t.get(&format!("/{CLOUD}/image/upload/c_scale,w_12/u.jpg"), &[]).await.status, StatusCode::OK);
    t.app.flush_usage().await.unwrap();
    let days = t.app.usage_history(t.app.environment(CLOUD).await.unwrap().id, 2).await.unwrap();
    let counts: Vec<(i64, i64)> = days.iter().map(|d| (d.requests, d.transformations)).collect();
    assert_eq!(counts, [(4, 1), (1, 1)], "both nodes' deliveries add up; one render per new derivative");
    assert!(days[1].bytes > 0, "bytes stored are recorded");
    let mut b = Browser::new();
    b.sign_in(&t, EMAIL, PASSWORD).await;
    let page = b.get(&t, &format!("/console/{CLOUD}/usage")).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = body(&page);
    assert!(
        html.contains("<svg") && html.contains("role=\"img\"") && html.contains("Total over the period: 5"),
        "{html}"
    );
    assert!(html.contains("<td>4</td><td>1</td>"), "the numbers are in a table too");
}
