//! Structured metadata over HTTP: the Metadata API, the rules API (payloads as the official
//! SDKs send them), metadata on every write path, and the errors of each.

use axum::http::Method;
use nimbus_testkit::{TestApp, TestResponse, png};
use serde_json::{Value, json};

async fn post(t: &TestApp, path: &str, body: Value) -> TestResponse {
    t.admin(Method::POST, path, Some(body)).await
}

async fn ok(r: TestResponse) -> Value {
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

fn values(ids: &[&str]) -> Value {
    Value::Array(ids.iter().map(|i| json!({"external_id": i, "value": i.to_uppercase()})).collect())
}

/// The seed's cascade: category → team → role → name.
async fn seed_schema(t: &TestApp) {
    for (id, t_, vals) in [
        ("category", "enum", vec!["employee", "culture"]),
        ("team", "enum", vec!["rnd", "sales"]),
        ("role", "enum", vec!["qa", "devops"]),
        ("name", "set", vec!["john", "jane", "paul", "mary"]),
    ] {
        let mut f = json!({"external_id": id, "label": id, "type": t_, "datasource": {"values": values(&vals)}});
        if id != "category" {
            f["default_disabled"] = json!(true);
        }
        ok(post(t, "metadata_fields", f).await).await;
    }
    let rules = [
        json!({"external_id": "r-team", "metadata_field_id": "team", "name": "employee shows team",
               "condition": {"metadata_field_id": "category", "equals": "employee"},
               "result": {"enable": true, "activate_values": "all"}}),
        json!({"external_id": "r-role", "metadata_field_id": "role", "name": "rnd shows role",
               "condition": {"metadata_field_id": "team", "equals": "rnd"}, "result": {"enable": true}}),
        json!({"external_id": "r-qa", "metadata_field_id": "name", "name": "qa names",
               "condition": {"metadata_field_id": "role", "equals": "qa"},
               "result": {"enable": true, "activate_values": {"external_ids": ["john", "jane"]}}}),
        json!({"external_id": "r-devops", "metadata_field_id": "name", "name": "devops names",
               "condition": {"metadata_field_id": "role", "equals": "devops"},
               "result": {"enable": true, "activate_values": {"external_ids": ["paul", "mary"]}}}),
    ];
    for r in rules {
        ok(post(t, "metadata_rules", r).await).await;
    }
}

async fn upload(t: &TestApp, id: &str, metadata: &str) -> TestResponse {
    t.upload_api("image", "upload", &[("public_id", id), ("metadata", metadata)], Some(("a.png", &png(4, 4)))).await
}

#[tokio::test]
async fn fields_and_datasources() {
    let t = TestApp::new().await;
    // Label defaults to the external id; generated datasource ids; typed defaults shown back.
    let f = ok(post(
        &t,
        "metadata_fields",
        json!({"external_id": "colors", "type": "set", "datasource": {"values": [{"value": "v2", "external_id": "a"}, {"value": "v3"}, {"value": "v4"}]}}),
    )
    .await)
    .await;
    assert_eq!((f["label"].as_str(), f["mandatory"].as_bool()), (Some("colors"), Some(false)));
    assert!(f["validation"].is_null() && f["default_value"].is_null());
    assert_eq!(f["datasource"]["values"].as_array().unwrap().len(), 3);
    let v = ok(post(
        &t,
        "metadata_fields",
        json!({"external_id": "n", "label": "N", "type": "integer", "default_value": 5,
        "validation": {"type": "less_than", "equals": true, "value": 5}}),
    )
    .await)
    .await;
    assert_eq!((v["default_value"].clone(), v["validation"]["value"].clone()), (json!(5), json!(5)));

    // Errors: duplicate id 409, default failing its validation 400, mandatory without default 400.
    let dup = post(&t, "metadata_fields", json!({"external_id": "n", "type": "string"})).await;
    assert_eq!(dup.status, 409, "{}", dup.error());
    let r = post(
        &t,
        "metadata_fields",
        json!({"external_id": "m", "type": "integer", "default_value": 6,
        "validation": {"type": "less_than", "equals": true, "value": 5}}),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("less than or equal to 5"), "{}", r.error());
    let r = post(&t, "metadata_fields", json!({"type": "string", "mandatory": true})).await;
    assert!(r.error().contains("needs a default_value"), "{}", r.error());
    let r = post(&t, "metadata_fields", json!({"type": "colour"})).await;
    assert!(r.error().contains("Invalid metadata field type 'colour'"), "{}", r.error());
    assert_eq!(t.admin(Method::GET, "metadata_fields/nope", None).await.status, 404);

    // Update: external_id and type are ignored, the rest replaced.
    let u = ok(t
        .admin(
            Method::PUT,
            "metadata_fields/n",
            Some(json!({"external_id": "x", "type": "string", "label": "Number", "default_value": 3})),
        )
        .await)
    .await;
    assert_eq!(
        (u["external_id"].as_str(), u["type"].as_str(), u["label"].as_str()),
        (Some("n"), Some("integer"), Some("Number"))
    );

    // Datasource: upsert (no state shown), soft delete, restore, order, search.
    let ds = ok(t
        .admin(
            Method::PUT,
            "metadata_fields/colors/datasource",
            Some(json!({"values": [{"external_id": "a", "value": "v1"}]})),
        )
        .await)
    .await;
    assert_eq!(ds["values"][0], json!({"external_id": "a", "value": "v1"}));
    assert_eq!(ds["values"].as_array().unwrap().len(), 3);
    let ds =
        ok(t.admin(Method::DELETE, "metadata_fields/colors/datasource", Some(json!({"external_ids": ["a"]}))).await)
            .await;
    assert_eq!(ds["values"].as_array().unwrap().len(), 2, "inactive values are not listed");
    let field = ok(t.admin(Method::GET, "metadata_fields/colors", None).await).await;
    assert_eq!(field["datasource"]["values"][0]["state"], "inactive", "the field shows every value with its state");
    let ds = ok(post(&t, "metadata_fields/colors/datasource_restore", json!({"external_ids": ["a"]})).await).await;
    assert_eq!(ds["values"].as_array().unwrap().len(), 3);
    let ds =
        ok(post(&t, "metadata_fields/colors/datasource/order", json!({"order_by": "value", "direction": "desc"}))
            .await)
        .await;
    assert_eq!(ds["values"][0]["value"], "v4");
    let found = ok(t.admin(Method::GET, "metadata_fields/colors/datasource/search?term=V3", None).await).await;
    assert_eq!(found["values"].as_array().unwrap().len(), 1);
    let r = t.admin(Method::DELETE, "metadata_fields/colors/datasource", Some(json!({"external_ids": ["zz"]}))).await;
    assert_eq!(r.status, 400);

    // Field order.
    let l = ok(t
        .admin(Method::PUT, "metadata_fields/order", Some(json!({"order_by": "label", "direction": "desc"})))
        .await)
    .await;
    let labels: Vec<&str> =
        l["metadata_fields"].as_array().unwrap().iter().map(|f| f["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["colors", "Number"]);
    let l = ok(t.admin(Method::GET, "metadata_fields", None).await).await;
    assert_eq!(l["metadata_fields"][0]["external_id"], "colors", "the order is kept");
    let d = ok(t.admin(Method::DELETE, "metadata_fields/n", None).await).await;
    assert_eq!(d["message"], "ok");
    assert_eq!(t.admin(Method::DELETE, "metadata_fields/n", None).await.status, 404);
    // A deleted field's external id stays reserved (as Cloudinary's do).
    let r = post(&t, "metadata_fields", json!({"external_id": "n", "type": "string"})).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("external id n already exists"), "{}", r.error());
    let r = post(&t, "metadata_fields", json!({"external_id": "colors", "type": "string"})).await;
    assert_eq!(r.status, 409);
    assert!(r.error().contains("external id colors already exists"), "{}", r.error());
    let r = post(&t, "metadata_fields", json!({"type": "integer", "default_value": "x"})).await;
    assert!(r.error().starts_with("default_value is invalid"), "{}", r.error());

    // Numeric datasource ids may be sent as numbers (`[1]`).
    ok(post(
        &t,
        "metadata_fields",
        json!({"external_id": "channel", "type": "set",
        "datasource": {"values": [{"external_id": "1", "value": "Email"}]}}),
    )
    .await)
    .await;
    ok(t.upload_api("image", "upload", &[("public_id", "sample")], Some(("a.png", &png(4, 4)))).await).await;
    let v =
        ok(t.upload_api("image", "metadata", &[("public_ids[]", "sample"), ("metadata", "channel=[1]")], None).await)
            .await;
    assert_eq!(v["public_ids"], json!(["sample"]));
    let got = ok(t.admin(Method::GET, "resources/image/upload/sample", None).await).await;
    assert_eq!(got["metadata"]["channel"], json!(["1"]));
}

#[tokio::test]
async fn rules_api_with_sdk_payloads() {
    let t = TestApp::new().await;
    seed_schema(&t).await;
    // Node sends no state or external_id; Java sends aliases and `includes` as a map.
    ok(post(
        &t,
        "metadata_fields",
        json!({"external_id": "tags2", "type": "set", "datasource": {"values": values(&["x", "y"])}}),
    )
    .await)
    .await;
    let node = ok(post(
        &t,
        "metadata_rules",
        json!({"metadata_field_id": "team", "name": "node rule",
        "condition": {"metadata_field_id": "tags2", "includes": ["x"]}, "result": {"set_mandatory": true}}),
    )
    .await)
    .await;
    assert_eq!(node["state"], "active");
    assert_eq!(node["external_id"].as_str().unwrap().len(), 64);
    let java = ok(post(
        &t,
        "metadata_rules",
        json!({"external_id": "java", "metadata_field_id": "team", "name": "java rule",
        "condition": {"metadata_field_id": "tags2", "includes": {"x": "x"}},
        "result": {"apply_values": {"value": "sales", "mode": "default"}, "mandatory": "true"}}),
    )
    .await)
    .await;
    assert_eq!(java["warnings"].as_array().unwrap().len(), 2, "{java}");

    // Listing: by target field id, then creation order.
    let l = ok(t.admin(Method::GET, "metadata_rules", None).await).await;
    let order: Vec<(&str, &str)> = l["metadata_rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["metadata_field_id"].as_str().unwrap(), r["name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        order,
        [
            ("name", "qa names"),
            ("name", "devops names"),
            ("role", "rnd shows role"),
            ("team", "employee shows team"),
            ("team", "node rule"),
            ("team", "java rule")
        ]
    );

    // Python's update: empty condition and result leave them alone.
    let u = ok(t
        .admin(
            Method::PUT,
            "metadata_rules/java",
            Some(json!({"metadata_field_id": "team", "name": "j2",
        "condition": {}, "result": {}, "state": "inactive"})),
        )
        .await)
    .await;
    assert_eq!((u["name"].as_str(), u["state"].as_str()), (Some("j2"), Some("inactive")));
    assert_eq!(u["condition"]["metadata_field_id"], "tags2");

    // Errors.
    let bad = |body: Value| post(&t, "metadata_rules", body);
    let r = bad(json!({"metadata_field_id": "team", "name": "x", "condition": {"metadata_field_id": "team", "populated": true}, "result": {"enable": true}})).await;
    assert!(r.error().contains("refers to its own target field"), "{}", r.error());
    let r = bad(json!({"metadata_field_id": "category", "name": "loop", "condition": {"metadata_field_id": "role", "populated": true}, "result": {"enable": true}})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error(), "Rule would create a cycle: category → team → role → category");
    let r = bad(json!({"metadata_field_id": "team", "name": "x", "condition": {"metadata_field_id": "ghost", "populated": true}, "result": {"enable": true}})).await;
    assert_eq!(r.error(), "Condition references unknown metadata field 'ghost'");
    let r = bad(json!({"metadata_field_id": "team", "name": "x", "condition": {"metadata_field_id": "category", "populated": true, "equals": "culture"}, "result": {"enable": true}})).await;
    assert_eq!(r.error(), "Leaf must have exactly one of populated, equals, includes");
    let r = bad(json!({"metadata_field_id": "team", "name": "x", "condition": {"metadata_field_id": "category", "includes": ["culture"]}, "result": {"enable": true}})).await;
    assert!(r.error().starts_with("'includes' is only valid for set fields"), "{}", r.error());
    let r = bad(json!({"metadata_field_id": "team", "name": "x", "condition": {"metadata_field_id": "category", "populated": true}, "result": {"explode": true}})).await;
    assert_eq!(r.error(), "Unknown result key 'explode'");
    let r = bad(json!({"external_id": "java", "metadata_field_id": "team", "name": "x", "condition": {"metadata_field_id": "category", "populated": true}, "result": {"enable": true}})).await;
    assert_eq!(r.status, 409);
    assert_eq!(t.admin(Method::PUT, "metadata_rules/ghost", Some(json!({"name": "x"}))).await.status, 404);
    assert_eq!(t.admin(Method::DELETE, "metadata_rules/ghost", None).await.status, 404);

    // Activating an inactive rule that closes a cycle is refused; with its partner gone it works.
    ok(bad(json!({"external_id": "back", "metadata_field_id": "category", "name": "back", "state": "inactive",
        "condition": {"metadata_field_id": "team", "populated": true}, "result": {"enable": true}}))
    .await)
    .await;
    let r = t.admin(Method::PUT, "metadata_rules/back", Some(json!({"state": "active"}))).await;
    assert!(r.error().starts_with("Rule would create a cycle"), "{}", r.error());
    ok(t.admin(Method::PUT, "metadata_rules/r-team", Some(json!({"state": "inactive"}))).await).await;
    let node_id = node["external_id"].as_str().unwrap();
    ok(t.admin(Method::DELETE, &format!("metadata_rules/{node_id}"), None).await).await;
    ok(t.admin(Method::PUT, "metadata_rules/back", Some(json!({"state": "active"}))).await).await;

    // A field used by active rules is not deleted without force.
    let r = t.admin(Method::DELETE, "metadata_fields/role", None).await;
    assert_eq!(r.status, 409);
    assert!(r.error().contains("r-qa") && r.error().contains("r-role"), "{}", r.error());
    ok(t.admin(Method::DELETE, "metadata_fields/role?force=true", None).await).await;
    let l = ok(t.admin(Method::GET, "metadata_rules", None).await).await;
    assert!(
        l["metadata_rules"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| !["r-qa", "r-devops", "r-role"].contains(&r["external_id"].as_str().unwrap()))
    );
}

#[tokio::test]
async fn uploads_pass_and_fail_the_rules() {
    let t = TestApp::new().await;
    seed_schema(&t).await;
    // T10: an unknown field is named as such.
    let r = upload(&t, "x", "brand_name=x").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error(), "Metadata field 'brand_name' does not exist");
    assert_eq!(r.json()["error"]["details"][0]["code"], "unknown_field");

    // The cascade in both wire forms.
    let v = ok(upload(&t, "qa", r#"category=employee|team=rnd|role=qa|name=["john"]"#).await).await;
    assert_eq!(v["metadata"], json!({"category": "employee", "team": "rnd", "role": "qa", "name": ["john"]}));
    let v =
        ok(upload(&t, "qa2", r#"{"category": "employee", "team": "rnd", "role": "qa", "name": ["jane"]}"#).await).await;
    assert_eq!(v["metadata"]["name"], json!(["jane"]));

    // Name not allowed for the role: the error lists what is.
    let r = upload(&t, "bad", r#"category=employee|team=rnd|role=qa|name=["paul"]"#).await;
    assert_eq!(r.status, 400);
    let d = &r.json()["error"]["details"][0];
    assert_eq!((d["code"].as_str(), d["field"].as_str()), (Some("value_not_allowed"), Some("name")));
    assert_eq!(d["allowed"], json!(["john", "jane"]));
    assert_eq!(r.error(), "Value 'paul' is not allowed for metadata field 'name'; allowed: john, jane");
    // A disabled field names the rule that would enable it.
    let r = upload(&t, "bad2", "category=culture|team=rnd").await;
    assert_eq!(r.json()["error"]["details"][0]["code"], "field_disabled");
    assert!(
        r.error().contains("enabled by rule 'employee shows team' when 'category' equals 'employee'"),
        "{}",
        r.error()
    );
    // `clear_invalid` drops what the rules refuse and keeps the rest.
    let v = ok(t
        .upload_api(
            "image",
            "upload",
            &[("public_id", "ci"), ("metadata", "category=culture|team=rnd|nope=1"), ("clear_invalid", "true")],
            Some(("a.png", &png(4, 4))),
        )
        .await)
    .await;
    assert_eq!(v["metadata"], json!({"category": "culture"}));
    // Nothing was stored for the refused uploads.
    assert_eq!(t.admin(Method::GET, "resources/image/upload/bad", None).await.status, 404);

    // Changing the controller invalidates the dependent value; clearing it fixes the request.
    let r = t.admin(Method::POST, "resources/image/upload/qa", Some(json!({"metadata": "role=devops"}))).await;
    assert_eq!(r.json()["error"]["details"][0]["code"], "value_invalidated", "{}", r.error());
    assert_eq!(
        r.error(),
        "Value '[john]' of 'name' is no longer allowed because 'role' changed to 'devops'; send a new value or clear it"
    );
    let v =
        ok(t.admin(Method::POST, "resources/image/upload/qa", Some(json!({"metadata": "role=devops|name="}))).await)
            .await;
    assert_eq!(v["metadata"], json!({"category": "employee", "team": "rnd", "role": "devops"}));
    // Stored values of a disabled field are kept (and shown).
    let v =
        ok(t.admin(Method::POST, "resources/image/upload/qa2", Some(json!({"metadata": "category=culture"}))).await)
            .await;
    assert_eq!(v["metadata"]["team"], "rnd");
    let got = ok(t.admin(Method::GET, "resources/image/upload/qa2", None).await).await;
    assert_eq!(got["metadata"]["category"], "culture");
    // Unless the field says otherwise (a Nimbus extension).
    let f = ok(t.admin(Method::PUT, "metadata_fields/team", Some(json!({"clear_when_disabled": true}))).await).await;
    assert_eq!(f["clear_when_disabled"], true);
    ok(upload(&t, "qa3", "category=employee|team=sales").await).await;
    let v =
        ok(t.admin(Method::POST, "resources/image/upload/qa3", Some(json!({"metadata": "category=culture"}))).await)
            .await;
    assert_eq!(v["metadata"], json!({"category": "culture"}));
    let listed = ok(t.admin(Method::GET, "resources/image/upload?metadata=true", None).await).await;
    assert!(listed["resources"].as_array().unwrap().iter().all(|r| r.get("metadata").is_some()));
    let listed = ok(t.admin(Method::GET, "resources/image/upload", None).await).await;
    assert!(listed["resources"][0].get("metadata").is_none());
}

#[tokio::test]
async fn defaults_mandatory_presets_and_bulk_updates() {
    let t = TestApp::new().await;
    seed_schema(&t).await;
    ok(post(
        &t,
        "metadata_fields",
        json!({"external_id": "license", "type": "enum", "datasource": {"values": values(&["licensed", "free"])}}),
    )
    .await)
    .await;
    ok(post(&t, "metadata_fields", json!({"external_id": "owner", "type": "string"})).await).await;
    ok(post(
        &t,
        "metadata_rules",
        json!({"metadata_field_id": "owner", "name": "licensed needs owner",
        "condition": {"metadata_field_id": "license", "equals": "licensed"}, "result": {"set_mandatory": true}}),
    )
    .await)
    .await;
    ok(post(&t, "metadata_rules", json!({"metadata_field_id": "team", "name": "team default",
        "condition": {"metadata_field_id": "category", "equals": "employee"}, "result": {"apply_value": {"value": "sales", "mode": "default"}}})).await)
    .await;

    // Rule defaults fill on upload; a rule-made mandatory field is enforced and named.
    let v = ok(upload(&t, "a1", "category=employee").await).await;
    assert_eq!(v["metadata"]["team"], "sales");
    let r = upload(&t, "a2", "license=licensed").await;
    assert_eq!(
        r.error(),
        "Metadata field 'owner' is mandatory (rule 'licensed needs owner': when 'license' equals 'licensed')"
    );
    ok(upload(&t, "a2", "license=licensed|owner=Ana").await).await;

    // Presets: a signed call's metadata over the preset's; an unsigned call's under it.
    ok(post(&t, "upload_presets", json!({"name": "p", "unsigned": true, "metadata": "license=free|owner=Preset"}))
        .await)
    .await;
    let mp = nimbus_testkit::Multipart::new(&[("upload_preset", "p"), ("metadata", "owner=Mine"), ("public_id", "p1")])
        .file(Some(("a.png", &png(4, 4))));
    let v = ok(t.post_multipart("/v1_1/demo/image/upload", mp).await).await;
    assert_eq!(v["metadata"], json!({"license": "free", "owner": "Preset"}));
    let r = t
        .upload_api(
            "image",
            "upload",
            &[("upload_preset", "p"), ("metadata", "owner=Mine"), ("public_id", "p2")],
            Some(("a.png", &png(4, 4))),
        )
        .await;
    assert_eq!(ok(r).await["metadata"], json!({"license": "free", "owner": "Mine"}));

    // Explicit goes through the same path.
    let r = t
        .upload_api("image", "explicit", &[("public_id", "a1"), ("type", "upload"), ("metadata", "team=nope")], None)
        .await;
    assert_eq!(r.json()["error"]["details"][0]["code"], "invalid_value");

    // Bulk update_metadata: all or nothing, failures named.
    let r = t
        .upload_api(
            "image",
            "metadata",
            &[("public_ids[]", "a1"), ("public_ids[]", "a2"), ("metadata", "owner=")],
            None,
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("1 asset(s): a2"), "{}", r.error());
    assert_eq!(r.json()["error"]["details"][0]["public_id"], "a2");
    let got = ok(t.admin(Method::GET, "resources/image/upload/a2", None).await).await;
    assert_eq!(got["metadata"]["owner"], "Ana", "nothing changed");
    let v = ok(t
        .upload_api(
            "image",
            "metadata",
            &[("public_ids[]", "a1"), ("public_ids[]", "a2"), ("metadata", "owner=Bo")],
            None,
        )
        .await)
    .await;
    assert_eq!(v["public_ids"], json!(["a1", "a2"]));
    let got = ok(t.admin(Method::GET, "resources/image/upload/a1", None).await).await;
    assert_eq!(got["metadata"]["owner"], "Bo");
}

#[tokio::test]
async fn evaluate_and_preview() {
    let t = TestApp::new().await;
    seed_schema(&t).await;
    let e = ok(post(
        &t,
        "metadata_rules/evaluate",
        json!({"metadata": {"category": "employee", "team": "rnd", "role": "qa"}}),
    )
    .await)
    .await;
    let f = &e["fields"];
    assert_eq!((f["team"]["enabled"].as_bool(), f["name"]["enabled"].as_bool()), (Some(true), Some(true)));
    assert_eq!(f["name"]["allowed_values"], json!(["john", "jane"]));
    assert_eq!(f["name"]["fired"], json!(["r-qa"]));
    let e = ok(post(&t, "metadata_rules/evaluate", json!({"metadata": "category=culture"})).await).await;
    assert_eq!(e["fields"]["team"]["enabled"], false);
    assert_eq!(post(&t, "metadata_rules/evaluate", json!({"metadata": {"ghost": 1}})).await.status, 400);

    ok(upload(&t, "q", r#"category=employee|team=rnd|role=qa|name=["john"]"#).await).await;
    ok(upload(&t, "c", "category=culture").await).await;
    // Narrowing qa to jane would grandfather john on one asset; deleting r-team would disable three values.
    let p = ok(post(
        &t,
        "metadata_rules/preview",
        json!({"external_id": "r-qa", "result": {"enable": true, "activate_values": {"external_ids": ["jane"]}}}),
    )
    .await)
    .await;
    assert_eq!((p["action"].as_str(), p["assets_scanned"].as_u64()), (Some("update"), Some(2)));
    assert_eq!(p["grandfathered_values"]["count"], 1);
    assert_eq!(p["grandfathered_values"]["examples"], json!(["q"]));
    let p = ok(post(&t, "metadata_rules/preview", json!({"external_id": "r-team", "delete": true})).await).await;
    assert_eq!(p["now_disabled_values"]["count"], 3, "{p}");
    // Previews change nothing.
    assert_eq!(
        ok(t.admin(Method::GET, "metadata_rules", None).await).await["metadata_rules"].as_array().unwrap().len(),
        4
    );
}

#[tokio::test]
async fn schema_files_apply_idempotently() {
    let t = TestApp::new().await;
    let env = t.app.environment("demo").await.unwrap().id;
    let file = json!({
        "metadata_fields": [
            {"external_id": "category", "label": "Category", "type": "enum", "datasource": {"values": values(&["employee", "culture"])}},
            {"external_id": "team", "label": "Team", "type": "enum", "default_disabled": true, "datasource": {"values": values(&["rnd", "sales"])}}
        ],
        "metadata_rules": [
            {"external_id": "r-team", "metadata_field_id": "team", "name": "employee shows team",
             "condition": {"metadata_field_id": "category", "equals": "employee"}, "result": {"enable": true}}
        ]
    });
    let apply = |doc: Value, dry_run: bool| {
        let t = &t;
        async move {
            let file = nimbus_api::wire::metadata::schema_file(&doc)?;
            t.app.apply_metadata_schema(&nimbus_app::events::Caller::system(env), &file, dry_run).await
        }
    };
    let dry = apply(file.clone(), true).await.unwrap();
    assert_eq!(dry.created, ["field category", "field team", "rule r-team"]);
    assert_eq!(ok(t.admin(Method::GET, "metadata_fields", None).await).await["metadata_fields"], json!([]), "dry run");
    let first = apply(file.clone(), false).await.unwrap();
    assert_eq!(first.created.len(), 3);
    let again = apply(file.clone(), false).await.unwrap();
    assert_eq!((again.created.len(), again.updated.len(), again.unchanged.len()), (0, 0, 3));
    // Dropping a datasource value deactivates it; renaming the rule updates it.
    let mut changed = file.clone();
    changed["metadata_fields"][1]["datasource"]["values"] = values(&["rnd"]);
    changed["metadata_rules"][0]["name"] = json!("employees see team");
    let third = apply(changed.clone(), false).await.unwrap();
    assert_eq!(third.updated, ["field team", "rule r-team"]);
    let team = ok(t.admin(Method::GET, "metadata_fields/team", None).await).await;
    assert_eq!(team["datasource"]["values"][1], json!({"external_id": "sales", "value": "SALES", "state": "inactive"}));
    // A file with a cycle changes nothing.
    let mut cyclic = changed.clone();
    cyclic["metadata_rules"]
        .as_array_mut()
        .unwrap()
        .push(json!({"external_id": "back", "metadata_field_id": "category",
        "name": "back", "condition": {"metadata_field_id": "team", "populated": true}, "result": {"enable": true}}));
    cyclic["metadata_fields"][0]["label"] = json!("Renamed");
    let err = apply(cyclic, false).await.unwrap_err().to_string();
    assert!(err.contains("cycle"), "{err}");
    assert_eq!(ok(t.admin(Method::GET, "metadata_fields/category", None).await).await["label"], "Category");
}

#[tokio::test]
async fn limits_and_error_paths() {
    let t = TestApp::new().await;
    ok(post(
        &t,
        "metadata_fields",
        json!({"external_id": "c", "type": "enum", "datasource": {"values": values(&["x", "y"])}}),
    )
    .await)
    .await;
    ok(post(&t, "metadata_fields", json!({"external_id": "s", "type": "string"})).await).await;
    // Datasource size.
    let big: Vec<Value> =
        (0..3001).map(|i| json!({"external_id": format!("v{i}"), "value": format!("V{i}")})).collect();
    let r =
        post(&t, "metadata_fields", json!({"external_id": "big", "type": "set", "datasource": {"values": big}})).await;
    assert!(r.error().contains("at most 3000 values"), "{}", r.error());
    // Condition size: depth and leaves.
    let mut deep = json!({"metadata_field_id": "c", "populated": true});
    for _ in 0..8 {
        deep = json!({"and": [deep]});
    }
    let r = post(
        &t,
        "metadata_rules",
        json!({"metadata_field_id": "s", "name": "deep", "condition": deep, "result": {"set_mandatory": true}}),
    )
    .await;
    assert_eq!(r.error(), "Condition is nested deeper than 8 levels");
    let leaves: Vec<Value> = (0..65).map(|_| json!({"metadata_field_id": "c", "populated": true})).collect();
    let r = post(&t, "metadata_rules", json!({"metadata_field_id": "s", "name": "wide", "condition": {"or": leaves}, "result": {"set_mandatory": true}})).await;
    assert_eq!(r.error(), "Condition has 65 leaves; at most 64 are allowed");
    // Type checks of results and payload shape.
    let cond = json!({"metadata_field_id": "c", "equals": "x"});
    let r = post(
        &t,
        "metadata_rules",
        json!({"metadata_field_id": "s", "name": "a", "condition": cond, "result": {"activate_values": "all"}}),
    )
    .await;
    assert!(r.error().starts_with("'activate_values' is only valid for enum and set fields"), "{}", r.error());
    ok(post(
        &t,
        "metadata_fields",
        json!({"external_id": "e", "type": "enum", "datasource": {"values": values(&["p", "q"])}}),
    )
    .await)
    .await;
    let r = post(&t, "metadata_rules", json!({"metadata_field_id": "e", "name": "a", "condition": cond, "result": {"apply_value": {"value": "p", "mode": "append"}}})).await;
    assert!(r.error().starts_with("apply_value mode 'append' is only valid for set fields"), "{}", r.error());
    let r = post(
        &t,
        "metadata_rules",
        json!({"metadata_field_id": "e", "name": "a", "condition": cond, "result": {"apply_value": {"value": "zz"}}}),
    )
    .await;
    assert!(r.error().contains("expected one of the datasource ids [p, q]"), "{}", r.error());
    let r = post(&t, "metadata_rules", json!({"metadata_field_id": "e", "name": "a", "condition": cond, "result": {"enable": true}, "state": "paused"})).await;
    assert_eq!(r.error(), "Invalid rule state 'paused'; expected active or inactive");
    let r =
        post(&t, "metadata_rules", json!({"metadata_field_id": "e", "name": "a", "result": {"enable": true}})).await;
    assert_eq!(r.error(), "Missing required parameter - condition");
    let r = post(
        &t,
        "metadata_rules",
        json!({"metadata_field_id": "ghost", "name": "a", "condition": cond, "result": {"enable": true}}),
    )
    .await;
    assert_eq!(r.error(), "Metadata field 'ghost' does not exist");
    // Bulk update without ids, and with an unknown field.
    let r = t.upload_api("image", "metadata", &[("metadata", "s=1")], None).await;
    assert_eq!(r.error(), "Missing required parameter - public_ids");
    let r = t.upload_api("image", "metadata", &[("metadata", "nope=1"), ("public_ids[]", "a")], None).await;
    assert_eq!(r.error(), "Metadata field 'nope' does not exist");
    // 100 active rules per target field.
    for i in 0..100 {
        ok(post(&t, "metadata_rules", json!({"metadata_field_id": "s", "name": format!("r{i}"), "condition": cond, "result": {"set_mandatory": true}})).await).await;
    }
    let r = post(
        &t,
        "metadata_rules",
        json!({"metadata_field_id": "s", "name": "r100", "condition": cond, "result": {"set_mandatory": true}}),
    )
    .await;
    assert_eq!(r.error(), "Metadata field 's' has 100 active rules already");
    ok(post(&t, "metadata_rules", json!({"metadata_field_id": "s", "name": "r100", "state": "inactive", "condition": cond, "result": {"set_mandatory": true}})).await).await;
    // 100 fields per environment.
    for i in 3..100 {
        ok(post(&t, "metadata_fields", json!({"external_id": format!("f{i}"), "type": "string"})).await).await;
    }
    let r = post(&t, "metadata_fields", json!({"external_id": "one_too_many", "type": "string"})).await;
    assert_eq!(r.error(), "An environment has at most 100 metadata fields");
}
