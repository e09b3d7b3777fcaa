//! The structured-metadata form with the conditional rules live.

use super::*;

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
