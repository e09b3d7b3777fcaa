//! Limits before the work they bound: id lists and datasources longer than a call allows are
//! refused by their length, with a 400 naming the limit, before any item is parsed or looked
//! up; lists within the limits work on both databases, and the catalog takes lists of any
//! length (past SQLite's and PostgreSQL's limits on bound parameters) without failing.

use axum::http::Method;
use nimbus_app::limits::{MAX_BULK_IDS, MAX_DELETE_IDS, MAX_LIST_IDS};
use nimbus_app::ports::{AssetKey, AssetRepo, EnvRepo, ListQuery, MetadataRepo, TagCommand};
use nimbus_core::metadata::doc::MAX_DATASOURCE_VALUES;
use nimbus_core::{Asset, DeliveryType, PublicId, ResourceType};
use nimbus_db::SqlCatalog;
use nimbus_testkit::{CLOUD, Db, TestApp, TestResponse, wctx};
use serde_json::{Value, json};

/// More ids than SQLite (32 766) or PostgreSQL (65 535) binds in one statement.
const PAST_BIND_LIMITS: usize = 70_000;

fn ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

fn asset(i: usize) -> Asset {
    let public_id = PublicId::parse(&format!("p{i}")).unwrap();
    Asset {
        asset_id: format!("{i:032x}"),
        resource_type: ResourceType::Image,
        delivery_type: DeliveryType::Upload,
        access_mode: nimbus_core::AccessMode::Public,
        headers: Vec::new(),
        version: 1,
        version_id: format!("{:032x}", i + 1_000_000),
        format: Some("png".into()),
        width: Some(2),
        height: Some(2),
        bytes: 10,
        etag: "e".repeat(32),
        blob_key: format!("originals/{i}"),
        original_filename: None,
        display_name: public_id.to_string(),
        asset_folder: String::new(),
        tags: Vec::new(),
        context: Vec::new(),
        metadata: serde_json::Map::new(),
        image_metadata: Vec::new(),
        created_at: 1,
        updated_at: 1,
        public_id,
    }
}

/// Assets `p0` .. `p{n-1}` written straight to the catalog (bulk calls only read rows).
async fn seed(catalog: &SqlCatalog, env: i64, n: usize) {
    let assets: Vec<Asset> = (0..n).map(asset).collect();
    assert_eq!(catalog.import_assets(env, &assets).await.unwrap(), n as u64);
}

async fn app(db: Db) -> Option<(TestApp, i64)> {
    let t = TestApp::on(db, |_| {}).await?;
    let env = t.catalog.env_by_cloud(CLOUD).await.unwrap().unwrap().id;
    Some((t, env))
}

fn refused(r: &TestResponse, message: &str) {
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.error(), message);
}

fn ok(r: TestResponse) -> Value {
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

// --- Admin API: delete_resources and listing by ids, at most 100 ---

async fn admin_id_lists(db: Db) {
    let Some((t, env)) = app(db).await else { return };
    seed(&t.catalog, env, MAX_DELETE_IDS + 1).await;
    let path = "resources/image/upload";

    let r = t.admin(Method::DELETE, path, Some(json!({ "public_ids": ids("p", 40_000) }))).await;
    refused(&r, "Too many public_ids: 40000 given, at most 100");
    let r = t.admin(Method::DELETE, "resources", Some(json!({ "asset_ids": ids("a", 101) }))).await;
    refused(&r, "Too many asset_ids: 101 given, at most 100");
    let r = t.admin(Method::GET, &format!("{path}?public_ids[]={}", ids("p", 101).join("&public_ids[]=")), None).await;
    refused(&r, "Too many public_ids: 101 given, at most 100");
    let q = format!("resources/by_asset_ids?asset_ids[]={}", ids("a", 101).join("&asset_ids[]="));
    refused(&t.admin(Method::GET, &q, None).await, "Too many asset_ids: 101 given, at most 100");
    assert_eq!(
        t.catalog.list_assets(env, &ListQuery { limit: 500, ..Default::default() }).await.unwrap().assets.len(),
        101
    );

    // Exactly the limits: all found, listed, then deleted.
    let hundred = ids("p", MAX_LIST_IDS);
    let v = ok(t.admin(Method::GET, &format!("{path}?public_ids[]={}", hundred.join("&public_ids[]=")), None).await);
    assert_eq!(v["resources"].as_array().unwrap().len(), 100);
    let asset_ids: Vec<String> = (0..MAX_LIST_IDS).map(|i| format!("{i:032x}")).collect();
    let q = format!("resources/by_asset_ids?asset_ids[]={}", asset_ids.join("&asset_ids[]="));
    assert_eq!(ok(t.admin(Method::GET, &q, None).await)["resources"].as_array().unwrap().len(), 100);
    let v = ok(t.admin(Method::DELETE, path, Some(json!({ "public_ids": hundred }))).await);
    let deleted = v["deleted"].as_object().unwrap();
    assert!(deleted.len() == 100 && deleted.values().all(|s| s == "deleted"), "{v}");
    let v = ok(t.admin(Method::DELETE, "resources", Some(json!({ "asset_ids": [format!("{:032x}", 100)] }))).await);
    assert_eq!(v["deleted"][format!("{:032x}", 100)], "deleted");
    assert!(t.catalog.list_assets(env, &ListQuery::default()).await.unwrap().assets.is_empty());
}

#[tokio::test]
async fn admin_id_lists_on_sqlite() {
    admin_id_lists(Db::Sqlite).await;
}

#[tokio::test]
async fn admin_id_lists_on_postgres() {
    admin_id_lists(Db::Postgres).await;
}

// --- Upload API: tags, context and metadata, at most 1000 ---

async fn upload_bulk_lists(db: Db) {
    let Some((t, env)) = app(db).await else { return };
    seed(&t.catalog, env, MAX_BULK_IDS).await;
    let over = ids("p", MAX_BULK_IDS + 1).join(",");
    for command in ["add", "remove", "replace", "remove_all", "set_exclusive"] {
        let r = t.upload_api("image", "tags", &[("command", command), ("tag", "x"), ("public_ids", &over)], None).await;
        refused(&r, "Too many public_ids: 1001 given, at most 1000");
    }
    let fields = [("command", "add"), ("context", "k=v"), ("public_ids", over.as_str())];
    refused(&t.upload_api("image", "context", &fields, None).await, "Too many public_ids: 1001 given, at most 1000");
    let r = t.upload_api("image", "metadata", &[("metadata", "{}"), ("public_ids", &over)], None).await;
    refused(&r, "Too many public_ids: 1001 given, at most 1000");

    // Exactly the limit, in one call.
    let all = ids("p", MAX_BULK_IDS).join(",");
    let v = ok(t.upload_api("image", "tags", &[("command", "add"), ("tag", "bulk"), ("public_ids", &all)], None).await);
    assert_eq!(v["public_ids"].as_array().unwrap().len(), 1000);
    let q = ListQuery { tag: Some("bulk".into()), limit: 2000, ..Default::default() };
    assert_eq!(t.catalog.list_assets(env, &q).await.unwrap().assets.len(), 1000);
    let v = ok(t.upload_api("image", "tags", &[("command", "remove_all"), ("public_ids", &all)], None).await);
    assert_eq!(v["public_ids"].as_array().unwrap().len(), 1000);
    assert!(t.catalog.list_assets(env, &q).await.unwrap().assets.is_empty());
    let v = ok(t.upload_api("image", "metadata", &[("metadata", "{}"), ("public_ids", &all)], None).await);
    assert_eq!(v["public_ids"].as_array().unwrap().len(), 1000);
}

#[tokio::test]
async fn upload_bulk_lists_on_sqlite() {
    upload_bulk_lists(Db::Sqlite).await;
}

#[tokio::test]
async fn upload_bulk_lists_on_postgres() {
    upload_bulk_lists(Db::Postgres).await;
}

// --- The catalog: id lists of any length ---

/// 70 000 ids, of which every 100th names one of `seeded` assets (some twice, in different
/// chunks), through every catalog call that takes a list.
async fn catalog_lists(db: Db) {
    let Some((t, env)) = app(db).await else { return };
    let c = &t.catalog;
    let seeded = 700;
    seed(c, env, seeded).await;
    let names: Vec<String> = (0..PAST_BIND_LIMITS)
        .map(|i| if i % 100 == 0 { format!("p{}", i / 100) } else { format!("none{i}") })
        .collect();
    let mut names = names;
    names.extend(ids("p", 10));
    let pids: Vec<PublicId> = names.iter().map(|n| PublicId::parse(n).unwrap()).collect();
    let (rt, dt) = (ResourceType::Image, DeliveryType::Upload);

    // Listing, in pages larger than a chunk, each asset once, in order.
    let mut q = ListQuery { public_ids: names.clone(), limit: 600, ascending: true, ..Default::default() };
    let first = c.list_assets(env, &q).await.unwrap();
    assert_eq!(first.assets.len(), 600);
    assert!(first.assets.windows(2).all(|w| w[0].asset_id < w[1].asset_id), "ascending, no duplicates");
    q.after = first.next;
    let rest = c.list_assets(env, &q).await.unwrap();
    assert_eq!((rest.assets.len(), rest.next), (100, None));
    let by_asset_id = ListQuery {
        asset_ids: (0..PAST_BIND_LIMITS).map(|i| format!("{i:032x}")).collect(),
        limit: 1000,
        ..Default::default()
    };
    let page = c.list_assets(env, &by_asset_id).await.unwrap();
    assert_eq!(page.assets.len(), 700);
    assert!(page.assets.windows(2).all(|w| w[0].asset_id > w[1].asset_id), "descending by default");

    let keys: Vec<String> = (0..PAST_BIND_LIMITS).map(|i| format!("originals/{i}")).collect();
    assert_eq!(c.blob_keys_in_use(&keys).await.unwrap().len(), 700);
    assert_eq!(c.asset_metadata(env, rt, dt, &pids).await.unwrap().len(), 700);

    let tagged = c.tag_assets(&wctx(env, 5), rt, dt, &pids, TagCommand::Add("t")).await.unwrap();
    assert_eq!(tagged.len(), 700);
    let one = PublicId::parse("p699").unwrap();
    let key = AssetKey { resource_type: rt, delivery_type: dt, public_id: &one };
    assert_eq!(c.asset(env, key).await.unwrap().unwrap().tags, vec!["t"]);

    let gone = c.delete_assets(&wctx(env, 0), rt, dt, &pids).await.unwrap();
    assert_eq!(gone.len(), 700, "each deleted asset reported once");
    assert!(c.list_assets(env, &ListQuery::default()).await.unwrap().assets.is_empty());
}

#[tokio::test]
async fn catalog_lists_on_sqlite() {
    catalog_lists(Db::Sqlite).await;
}

#[tokio::test]
async fn catalog_lists_on_postgres() {
    catalog_lists(Db::Postgres).await;
}

// --- Metadata datasources: at most 3000 values, the size checked first ---

fn values(n: usize) -> Vec<Value> {
    (0..n).map(|i| json!({ "value": format!("v{i}") })).collect()
}

/// 100 000 values whose second repeats the first's external id and whose last is not a
/// value at all: only the size can be what refuses them, so it was checked first.
fn huge() -> Value {
    let mut v = values(100_000);
    v[0] = json!({ "external_id": "dup", "value": "a" });
    v[1] = json!({ "external_id": "dup", "value": "b" });
    v[99_999] = json!(7);
    Value::Array(v)
}

#[tokio::test]
async fn datasource_size_is_checked_first() {
    let t = TestApp::new().await;
    let too_many = "A datasource holds at most 3000 values; got 100000";
    let field = |values: Value| json!({ "external_id": "f", "type": "set", "datasource": { "values": values } });
    refused(&t.admin(Method::POST, "metadata_fields", Some(field(huge()))).await, too_many);
    let bare = json!({ "external_id": "f", "type": "set", "datasource": huge() });
    refused(&t.admin(Method::POST, "metadata_fields", Some(bare)).await, too_many);

    // Exactly the limit is accepted.
    let v =
        ok(t.admin(Method::POST, "metadata_fields", Some(field(Value::Array(values(MAX_DATASOURCE_VALUES))))).await);
    assert_eq!(v["datasource"]["values"].as_array().unwrap().len(), 3000);
    let ids: Vec<String> = v["datasource"]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["external_id"].as_str().unwrap().to_owned())
        .collect();

    // Updates: the field, its datasource, and the states of its values.
    let r = t.admin(Method::PUT, "metadata_fields/f", Some(json!({ "datasource": { "values": huge() } }))).await;
    refused(&r, too_many);
    refused(&t.admin(Method::PUT, "metadata_fields/f/datasource", Some(json!({ "values": huge() }))).await, too_many);
    let r = t
        .admin(Method::PUT, "metadata_fields/f/datasource", Some(json!({ "values": [{ "value": "one more" }] })))
        .await;
    refused(&r, "A datasource holds at most 3000 values; got 3001");
    let mut names = ids.clone();
    names.push(ids[0].clone());
    let r = t.admin(Method::DELETE, "metadata_fields/f/datasource", Some(json!({ "external_ids": names }))).await;
    refused(&r, "Too many external_ids: 3001 given, at most 3000");
    let r = t.admin(Method::POST, "metadata_fields/f/datasource_restore", Some(json!({ "external_ids": names }))).await;
    refused(&r, "Too many external_ids: 3001 given, at most 3000");
    // Every value at once, within the limit.
    let v =
        ok(t.admin(Method::DELETE, "metadata_fields/f/datasource", Some(json!({ "external_ids": ids[1..] }))).await);
    assert_eq!(v["values"].as_array().unwrap().len(), 1);
    // An upsert of every value: known ids are updated in place, not appended.
    let renamed: Vec<Value> =
        ids.iter().map(|i| json!({ "external_id": i, "value": format!("{i}!"), "state": "active" })).collect();
    let v = ok(t.admin(Method::PUT, "metadata_fields/f/datasource", Some(json!({ "values": renamed }))).await);
    let shown = v["values"].as_array().unwrap();
    assert_eq!(shown.len(), 3000);
    assert_eq!(shown[2999], json!({ "external_id": ids[2999], "value": format!("{}!", ids[2999]) }));

    // Duplicates are still refused, wherever they come.
    let twice = json!([{ "external_id": "a", "value": "A" }, { "external_id": "a", "value": "B" }]);
    let r = t
        .admin(
            Method::POST,
            "metadata_fields",
            Some(json!({ "external_id": "g", "type": "enum", "datasource": { "values": twice } })),
        )
        .await;
    refused(&r, "Datasource value external_id 'a' appears twice");
    let r = t.admin(Method::PUT, "metadata_fields/f/datasource", Some(json!({ "values": twice }))).await;
    refused(&r, "Datasource value external_id 'a' appears twice");
    let r = t.admin(Method::PUT, "metadata_fields/f", Some(json!({ "datasource": { "values": twice } }))).await;
    refused(&r, "Datasource value external_id 'a' appears twice");
}
