//! Differential tests of search: for random assets and random expressions, the results of
//! SQLite and of PostgreSQL equal the in-memory evaluator's. The assets go through every write
//! path that touches the index (insert, overwrite, update, tags, rename, delete, metadata).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use nimbus_app::events::Actor;
use nimbus_app::ports::{
    AssetKey, AssetPatch, AssetRepo, EnvRepo, ListQuery, Patched, Renamed, SearchRepo, TagCommand,
};
use nimbus_app::search::{
    Aggregation, Bucket, Cursor, RangeAgg, SearchQuery, SortField, SortKey, ValueAgg, sort_value,
};
use nimbus_core::metadata::FieldType;
use nimbus_core::search::{self, Schema};
use nimbus_core::{Asset, DeliveryType, PublicId, ResourceType};
use nimbus_db::SqlCatalog;
use nimbus_testkit::{ScratchDir, scratch_postgres, wctx};

const NOW: i64 = 1_750_000_000;
const DAY: i64 = 86_400;

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
    fn chance(&mut self, pct: usize) -> bool {
        self.below(100) < pct
    }
}

const FOLDERS: &[&str] = &["", "shop", "shop/shoes", "shop/hats", "blog", "blog/2024"];
const NAMES: &[&str] = &["Red_Shoe", "blue-shoe", "hat", "summer hat", "scarf", "IMG_0042", "été", "x"];
const TAGS: &[&str] = &["summer", "Winter", "sale", "shirt-sale", "new", "archived", "a b"];
const WORDS: &[&str] = &["red", "shoe", "green", "grass", "hat", "sunny", "Day", "été"];
const COLORS: &[&str] = &["red_id", "blue_id", "green_id"];
const FORMATS: &[&str] = &["jpg", "png", "webp", "gif"];

fn schema() -> Schema {
    let mut metadata = HashMap::new();
    metadata.insert("rating".to_owned(), FieldType::Integer);
    metadata.insert("shot".to_owned(), FieldType::Date);
    metadata.insert("color".to_owned(), FieldType::Enum);
    metadata.insert("labels".to_owned(), FieldType::Set);
    metadata.insert("caption".to_owned(), FieldType::String);
    Schema { metadata }
}

fn words(r: &mut Rng, n: usize) -> String {
    (0..n).map(|_| r.pick(WORDS)).collect::<Vec<_>>().join(" ")
}

fn random_asset(r: &mut Rng, n: usize) -> Asset {
    let folder = r.pick(FOLDERS);
    let name = format!("{}{n}", r.pick(NAMES));
    let pid = if folder.is_empty() { name.clone() } else { format!("{folder}/{name}") };
    let raw = r.chance(10);
    let mut tags: Vec<String> = Vec::new();
    for _ in 0..r.below(4) {
        let t = r.pick(TAGS).to_owned();
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    let mut context = Vec::new();
    if r.chance(60) {
        let n = 1 + r.below(3);
        context.push(("alt".to_owned(), words(r, n)));
    }
    if r.chance(20) {
        context.push(("note".to_owned(), if r.chance(30) { String::new() } else { words(r, 1) }));
    }
    let mut metadata = serde_json::Map::new();
    if r.chance(70) {
        metadata.insert("rating".into(), (r.below(6) as i64).into());
    }
    if r.chance(50) {
        metadata.insert("shot".into(), format!("2024-0{}-1{}", 1 + r.below(9), r.below(10)).into());
    }
    if r.chance(60) {
        metadata.insert("color".into(), r.pick(COLORS).into());
    }
    if r.chance(40) {
        let labels: Vec<&str> =
            (0..r.below(3)).map(|_| r.pick(&["new", "promo", "old"])).collect::<BTreeSet<_>>().into_iter().collect();
        metadata.insert("labels".into(), serde_json::json!(labels));
    }
    if r.chance(40) {
        metadata.insert("caption".into(), words(r, 2).into());
    }
    let (width, height) =
        if raw { (None, None) } else { (Some(10 + r.below(3000) as i64), Some(10 + r.below(2000) as i64)) };
    Asset {
        asset_id: format!("{:032x}", n + 1),
        resource_type: if raw { ResourceType::Raw } else { ResourceType::Image },
        delivery_type: if r.chance(10) { DeliveryType::Private } else { DeliveryType::Upload },
        access_mode: nimbus_core::AccessMode::Public,
        headers: Vec::new(),
        public_id: PublicId::parse(&pid).unwrap(),
        version: NOW - (r.below(40) as i64) * DAY,
        version_id: format!("{:032x}", n + 100_000),
        format: if raw { None } else { Some(r.pick(FORMATS).to_owned()) },
        width,
        height,
        bytes: (r.below(3_000_000) + 1) as i64,
        etag: "e".repeat(32),
        blob_key: format!("originals/{n}"),
        original_filename: None,
        display_name: if r.chance(10) { String::new() } else { name },
        asset_folder: folder.to_owned(),
        tags,
        context,
        metadata,
        image_metadata: Vec::new(),
        created_at: NOW - (40 + r.below(400) as i64) * DAY,
        updated_at: NOW,
    }
}

/// A random expression from the grammar, over the generated vocabulary.
fn random_expr(r: &mut Rng, depth: usize) -> String {
    if depth > 0 && r.chance(35) {
        let a = random_expr(r, depth - 1);
        let b = random_expr(r, depth - 1);
        return match r.below(5) {
            0 => format!("({a} OR {b})"),
            1 => format!("{a} AND {b}"),
            2 => format!("NOT ({a})"),
            3 => format!("-{b}"),
            _ => format!("({a} || {b})"),
        };
    }
    let num = |r: &mut Rng, f: &str, max: usize| {
        let op = r.pick(&[">", ">=", "<", "<=", ":", "="]);
        format!("{f}{op}{}", r.below(max))
    };
    match r.below(24) {
        0 => r.pick(WORDS).to_owned(),
        1 => format!("{}*", &r.pick(WORDS)[..2]),
        2 => format!("tags={}", quote(r.pick(TAGS))),
        3 => format!("tags:{}", r.pick(&["sale", "shirt", "winter", "summer", "a", "b", "sal*", "w*"])),
        4 => format!("folder:{}", r.pick(&["shop/*", "shop", "blog/*", "\"\"", "shop/shoes", "*"])),
        5 => format!("asset_folder={}", quote(r.pick(FOLDERS))),
        6 => format!("public_id:{}", r.pick(&["shop/*", "shop/shoes/Red*", "blog/2024/*", "x*"])),
        7 => format!("format:{}", r.pick(&["jpg", "PNG", "webp", "*"])),
        8 => format!("resource_type:{}", r.pick(&["image", "raw"])),
        9 => format!("type:{}", r.pick(&["upload", "private"])),
        10 => num(r, "bytes", 3_000_000),
        11 => num(r, "width", 3000),
        12 => format!("pixels:[{} TO {}]", r.below(1_000_000), r.pick(&["*", "3000000"])),
        13 => format!("aspect_ratio{}{}", r.pick(&[">", "<", "="]), r.pick(&["1", "1.5", "\"16:9\"", "0.8"])),
        14 => format!("created_at{}{}d", r.pick(&[">", "<"]), 40 + r.below(400)),
        15 => format!("uploaded_at:[{}d TO {}]", 1 + r.below(40), r.pick(&["*", "1d", "2024-06-01"])),
        16 => {
            let n = 1 + r.below(2);
            format!("context.alt:{}", quote(&words(r, n)))
        }
        17 => format!("context.{}:*", r.pick(&["alt", "note", "missing"])),
        18 => num(r, "metadata.rating", 6),
        19 => format!("metadata.shot{}2024-0{}-15", r.pick(&[">", "<", ":", "<="]), 1 + r.below(9)),
        20 => format!("metadata.color{}{}", r.pick(&["=", ":"]), r.pick(COLORS)),
        21 => format!("metadata.labels={}", r.pick(&["new", "promo", "old"])),
        22 => format!("metadata.{}:*", r.pick(&["caption", "labels", "rating", "shot"])),
        _ => format!("{}:{}", r.pick(&["filename", "display_name"]), r.pick(&["shoe", "hat", "img*", "42", "*"])),
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\\\""))
}

async fn all_assets(c: &SqlCatalog, env: i64) -> Vec<Asset> {
    let q = ListQuery { limit: 100_000, ascending: true, ..Default::default() };
    c.list_assets(env, &q).await.unwrap().assets
}

/// Loads assets through every write path that touches the index.
async fn load(c: &SqlCatalog, env: i64, seed: u64, n: usize) {
    // Asset ids are unique across environments: number them apart.
    let base = env as usize * 1_000_000;
    let mut r = Rng(seed);
    let mut ids = Vec::new();
    for i in 0..n {
        let a = random_asset(&mut r, base + i);
        c.save_asset(&wctx(env, 0), &a, false, None).await.unwrap();
        ids.push(a.public_id.clone());
    }
    for (i, id) in ids.iter().enumerate() {
        match i % 9 {
            0 => {
                // Overwrite with new content.
                let mut a = random_asset(&mut r, base + i + 500_000);
                a.public_id = id.clone();
                a.resource_type = ResourceType::Image;
                a.delivery_type = DeliveryType::Upload;
                c.save_asset(&wctx(env, 0), &a, true, None).await.unwrap();
            }
            1 => {
                let patch = AssetPatch {
                    tags: Some(vec!["patched".into(), "sale".into()]),
                    context: Some(vec![("alt".into(), "patched green grass".into())]),
                    display_name: Some("Renamed Display".into()),
                    ..Default::default()
                };
                let _: Patched = c.update_asset(&wctx(env, NOW), key(id), &patch).await.unwrap();
            }
            2 => {
                let ids = [id.clone()];
                c.tag_assets(
                    &wctx(env, NOW),
                    ResourceType::Image,
                    DeliveryType::Upload,
                    &ids,
                    TagCommand::Add("added"),
                )
                .await
                .unwrap();
            }
            3 => {
                let to = PublicId::parse(&format!("moved/{}", id.as_str().replace('/', "_"))).unwrap();
                let _: Renamed = c.rename_asset(&wctx(env, NOW), key(id), key(&to), false).await.unwrap();
            }
            4 if i % 2 == 0 => {
                c.delete_assets(&wctx(env, 0), ResourceType::Image, DeliveryType::Upload, std::slice::from_ref(id))
                    .await
                    .unwrap();
            }
            _ => {}
        }
    }
}

fn key(id: &PublicId) -> AssetKey<'_> {
    AssetKey { resource_type: ResourceType::Image, delivery_type: DeliveryType::Upload, public_id: id }
}

fn agg_of(page: &nimbus_app::search::SearchPage, name: &str) -> BTreeMap<String, i64> {
    page.aggregations.iter().find(|(n, _)| n == name).map(|(_, v)| v.iter().cloned().collect()).unwrap_or_default()
}

fn oracle(q: &search::Query, assets: &[Asset]) -> BTreeSet<String> {
    assets.iter().filter(|a| search::matches(q, a)).map(|a| a.asset_id.clone()).collect()
}

async fn run(
    c: &SqlCatalog,
    env: i64,
    q: &search::Query,
    sort: Vec<SortKey>,
    limit: u32,
    after: Option<Cursor>,
) -> nimbus_app::search::SearchPage {
    let aggregate = vec![Aggregation::Values(ValueAgg::Format), Aggregation::Values(ValueAgg::Tags)];
    run_with(c, env, q, sort, limit, after, aggregate).await
}

async fn run_with(
    c: &SqlCatalog,
    env: i64,
    q: &search::Query,
    sort: Vec<SortKey>,
    limit: u32,
    after: Option<Cursor>,
    aggregate: Vec<Aggregation>,
) -> nimbus_app::search::SearchPage {
    let sq = SearchQuery { query: q.clone(), sort, limit, after, aggregate };
    c.search_assets(env, &sq).await.unwrap()
}

/// Byte buckets: below 1 MB, from 1 to 2 MB, from 2 MB.
fn byte_buckets() -> Aggregation {
    let bucket = |key: &str, from: Option<f64>, to: Option<f64>| Bucket { key: key.into(), from, to };
    Aggregation::Ranges {
        field: RangeAgg::Bytes,
        buckets: vec![
            bucket("small", None, Some(1e6)),
            bucket("mid", Some(1e6), Some(2e6)),
            bucket("big", Some(2e6), None),
        ],
    }
}

async fn differential(c: &SqlCatalog) {
    let env = c.create_env("searchdiff", "sk", "ss", &Actor::System, 1).await.unwrap().unwrap();
    let other = c.create_env("searchother", "sk2", "ss2", &Actor::System, 1).await.unwrap().unwrap();
    load(c, env.id, 0x5eed, 260).await;
    load(c, other.id, 0xfeed, 40).await;
    let assets = all_assets(c, env.id).await;
    assert!(assets.len() > 200, "{}", assets.len());
    let schema = schema();
    let sort = vec![SortKey { field: SortField::CreatedAt, ascending: false }];
    let mut r = Rng(0xe4c9_2a11);
    let mut nonempty = 0;
    for _ in 0..400 {
        let expr = random_expr(&mut r, 3);
        let q = search::compile(&expr, &schema, NOW).unwrap_or_else(|e| panic!("{expr}: {e}"));
        let want = oracle(&q, &assets);
        let page = run(c, env.id, &q, sort.clone(), 500, None).await;
        let got: BTreeSet<String> = page.assets.iter().map(|a| a.asset_id.clone()).collect();
        assert_eq!(got, want, "expression {expr:?} ({q:?})");
        assert_eq!(page.total as usize, want.len(), "total of {expr:?}");
        // Without aggregations a single leaf may be counted from the index alone; with
        // aggregations over asset columns everything is counted in one grouped pass.
        let bare = run_with(c, env.id, &q, sort.clone(), 1, None, vec![]).await;
        assert_eq!(bare.total as usize, want.len(), "total without aggregations of {expr:?}");
        let grouped = vec![
            Aggregation::Values(ValueAgg::ResourceType),
            byte_buckets(),
            Aggregation::Values(ValueAgg::Type),
            Aggregation::Values(ValueAgg::Format),
        ];
        let grouped = run_with(c, env.id, &q, sort.clone(), 1, None, grouped).await;
        assert_eq!(grouped.total as usize, want.len(), "total with grouped aggregations of {expr:?}");
        let names: Vec<&str> = grouped.aggregations.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["resource_type", "bytes", "type", "format"], "aggregations in the order asked");
        let matched = || assets.iter().filter(|a| want.contains(&a.asset_id));
        let sizes = [
            matched().filter(|a| a.bytes < 1_000_000).count() as i64,
            matched().filter(|a| (1_000_000..2_000_000).contains(&a.bytes)).count() as i64,
            matched().filter(|a| a.bytes >= 2_000_000).count() as i64,
        ];
        let got_sizes: Vec<i64> =
            ["small", "mid", "big"].iter().map(|k| agg_of(&grouped, "bytes").get(*k).copied().unwrap_or(0)).collect();
        assert_eq!(got_sizes, sizes, "bytes buckets of {expr:?}");
        let mut kinds: BTreeMap<String, i64> = BTreeMap::new();
        for a in matched() {
            *kinds.entry(a.resource_type.as_str().to_owned()).or_default() += 1;
        }
        assert_eq!(agg_of(&grouped, "resource_type"), kinds, "resource_type aggregation of {expr:?}");
        // Value aggregations alone: a leaf or an OR of leaves is counted from the index rows'
        // facets on PostgreSQL; the same counts either way.
        let values = vec![
            Aggregation::Values(ValueAgg::Type),
            Aggregation::Values(ValueAgg::ResourceType),
            Aggregation::Values(ValueAgg::Format),
        ];
        let faceted = run_with(c, env.id, &q, sort.clone(), 1, None, values).await;
        assert_eq!(faceted.total as usize, want.len(), "total with value aggregations of {expr:?}");
        assert_eq!(agg_of(&faceted, "resource_type"), kinds, "resource_type from facets of {expr:?}");
        assert_eq!(agg_of(&faceted, "type"), agg_of(&grouped, "type"), "type from facets of {expr:?}");
        assert_eq!(agg_of(&faceted, "format"), agg_of(&page, "format"), "format from facets of {expr:?}");
        // Aggregations count the same matches.
        let mut formats: BTreeMap<String, i64> = BTreeMap::new();
        let mut tags: BTreeMap<String, i64> = BTreeMap::new();
        for a in assets.iter().filter(|a| want.contains(&a.asset_id)) {
            if let Some(f) = &a.format {
                *formats.entry(f.clone()).or_default() += 1;
            }
            for t in &a.tags {
                *tags.entry(t.clone()).or_default() += 1;
            }
        }
        let agg = |name: &str| agg_of(&page, name);
        assert_eq!(agg("format"), formats, "format aggregation of {expr:?}");
        assert_eq!(agg("tags"), tags, "tags aggregation of {expr:?}");
        if !want.is_empty() {
            nonempty += 1;
        }
    }
    assert!(nonempty > 150, "the generator should find things: {nonempty}/400");
}

/// Pages in several sort orders list each match once, in order, even while assets are added.
async fn pagination(c: &SqlCatalog) {
    let env = c.create_env("searchpages", "pk", "ps", &Actor::System, 1).await.unwrap().unwrap();
    load(c, env.id, 0xbeef, 120).await;
    let schema = schema();
    let orders = [
        vec![SortKey { field: SortField::CreatedAt, ascending: false }],
        vec![SortKey { field: SortField::PublicId, ascending: true }],
        vec![
            SortKey { field: SortField::Format, ascending: true },
            SortKey { field: SortField::Width, ascending: false },
        ],
        vec![
            SortKey { field: SortField::Bytes, ascending: false },
            SortKey { field: SortField::DisplayName, ascending: true },
        ],
    ];
    let mut extra = env.id as usize * 1_000_000 + 900_000;
    for (i, sort) in orders.iter().enumerate() {
        let q = search::compile(if i % 2 == 0 { "" } else { "-tags:archived" }, &schema, NOW).unwrap();
        let before: Vec<Asset> = all_assets(c, env.id).await.into_iter().filter(|a| search::matches(&q, a)).collect();
        let mut seen: Vec<Asset> = Vec::new();
        let mut after = None;
        let mut r = Rng(77 + i as u64);
        loop {
            let page = run(c, env.id, &q, sort.clone(), 7, after).await;
            seen.extend(page.assets.iter().cloned());
            // Concurrent inserts between pages.
            extra += 1;
            c.save_asset(&wctx(env.id, 0), &random_asset(&mut r, extra), false, None).await.unwrap();
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        let ids: Vec<&str> = seen.iter().map(|a| a.asset_id.as_str()).collect();
        let unique: BTreeSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "no repeats in order {i}");
        for a in &before {
            assert!(unique.contains(a.asset_id.as_str()), "order {i} skipped {}", a.public_id);
        }
        // Sorted by the keys.
        for w in seen.windows(2) {
            for k in sort {
                let (x, y) = (sort_value(&w[0], k.field), sort_value(&w[1], k.field));
                let ord = match (x, y) {
                    (nimbus_app::search::SortValue::Int(a), nimbus_app::search::SortValue::Int(b)) => a.cmp(&b),
                    (nimbus_app::search::SortValue::Text(a), nimbus_app::search::SortValue::Text(b)) => {
                        a.as_bytes().cmp(b.as_bytes())
                    }
                    _ => unreachable!(),
                };
                let ord = if k.ascending { ord } else { ord.reverse() };
                assert!(ord.is_le(), "order {i}: {} before {}", w[0].public_id, w[1].public_id);
                if ord.is_lt() {
                    break;
                }
            }
        }
    }
}

#[tokio::test]
async fn search_matches_the_evaluator_on_sqlite() {
    let dir = ScratchDir::new("search");
    let c = SqlCatalog::connect(&format!("sqlite://{}", dir.path().join("c.db").display())).await.unwrap();
    differential(&c).await;
    pagination(&c).await;
    // Pages read by probing rows in sort order give the same results.
    let probing = c.with_probe_above(-1);
    probing.delete_env("searchdiff", &Actor::System, 0).await.unwrap();
    probing.delete_env("searchpages", &Actor::System, 0).await.unwrap();
    probing.delete_env("searchother", &Actor::System, 0).await.unwrap();
    differential(&probing).await;
    pagination(&probing).await;
}

#[tokio::test]
async fn search_matches_the_evaluator_on_postgres() {
    let Some(url) = scratch_postgres().await else {
        return;
    };
    let c = SqlCatalog::connect(&url).await.unwrap();
    differential(&c).await;
    pagination(&c).await;
    let probing = c.with_probe_above(-1);
    probing.delete_env("searchdiff", &Actor::System, 0).await.unwrap();
    probing.delete_env("searchpages", &Actor::System, 0).await.unwrap();
    probing.delete_env("searchother", &Actor::System, 0).await.unwrap();
    differential(&probing).await;
    pagination(&probing).await;
}

/// A catalog whose assets predate the search index (no index rows, no record of the fill) is
/// indexed when it is opened, once.
#[tokio::test]
async fn assets_written_before_the_index_are_indexed_at_start_up() {
    use sqlx::Connection as _;
    let dir = ScratchDir::new("search-fill");
    let url = format!("sqlite://{}", dir.path().join("c.db").display());
    let c = SqlCatalog::connect(&url).await.unwrap();
    let env = c.create_env("searchfill", "fk", "fs", &Actor::System, 1).await.unwrap().unwrap();
    load(&c, env.id, 0xf111, 30).await;
    let q = search::compile("", &schema(), NOW).unwrap();
    let all = run(&c, env.id, &q, vec![SortKey { field: SortField::PublicId, ascending: true }], 500, None).await;
    assert!(all.total > 20, "{}", all.total);
    let some_tag = all.assets.iter().find_map(|a| a.tags.first().cloned()).expect("a tagged asset");
    let tagged = search::compile(&format!("tags:{some_tag}"), &schema(), NOW).unwrap();
    let want = run(&c, env.id, &tagged, vec![SortKey { field: SortField::PublicId, ascending: true }], 500, None).await;
    assert!(want.total > 0);
    c.close().await;

    // As a catalog from before the index: its rows gone, the fill not recorded.
    let mut raw = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::raw_sql(
        "DELETE FROM search_terms; DELETE FROM search_numbers; DELETE FROM nimbus_migrations WHERE version = 1004;",
    )
    .execute(&mut raw)
    .await
    .unwrap();
    raw.close().await.unwrap();
    let c = SqlCatalog::connect(&url).await.unwrap();
    let again =
        run(&c, env.id, &tagged, vec![SortKey { field: SortField::PublicId, ascending: true }], 500, None).await;
    assert_eq!(again.total, want.total, "tags:{some_tag} after the fill");
    let words = search::compile(&some_tag, &schema(), NOW).unwrap();
    assert_eq!(run(&c, env.id, &words, vec![], 500, None).await.total, want.total, "bare term after the fill");
}

/// Index rows written before the rows carried facets and whole tags (migration 12) gain them
/// when the catalog is opened: the rebuilt index answers as before, long tags included.
async fn index_rows_gain_facets_and_whole_tags(url: &str) {
    use sqlx::Connection as _;
    let c = SqlCatalog::connect(url).await.unwrap();
    let env = c.create_env("searchfacets", "xk", "xs", &Actor::System, 1).await.unwrap().unwrap();
    load(&c, env.id, 0xfac7, 40).await;
    let long_tag = "long-".repeat(60);
    let mut long = random_asset(&mut Rng(0x10c6), 9_999_001);
    long.public_id = PublicId::parse("facets/long").unwrap();
    long.tags = vec![long_tag.clone(), "short".into()];
    c.save_asset(&wctx(env.id, 0), &long, false, None).await.unwrap();
    let all = search::compile("", &schema(), NOW).unwrap();
    let some_tag = run(&c, env.id, &all, vec![], 500, None)
        .await
        .assets
        .iter()
        .find_map(|a| a.tags.iter().find(|t| t.len() < 20).cloned())
        .expect("a tagged asset");
    let exprs = [format!("tags={some_tag}"), format!("tags={some_tag} OR tags=short"), format!("tags=\"{long_tag}\"")];
    let values = || vec![Aggregation::Values(ValueAgg::Format), Aggregation::Values(ValueAgg::ResourceType)];
    let mut before = Vec::new();
    for e in &exprs {
        let q = search::compile(e, &schema(), NOW).unwrap();
        let page = run_with(&c, env.id, &q, vec![], 500, None, values()).await;
        assert!(page.total > 0, "{e}");
        before.push((page.total, agg_of(&page, "format"), agg_of(&page, "resource_type")));
    }
    c.close().await;

    // As a catalog from before migration 12: no whole-tag rows, facets not yet copied.
    let mut raw = sqlx::AnyConnection::connect(url).await.unwrap();
    sqlx::raw_sql(
        "DELETE FROM search_terms WHERE field = 'e:tags'; \
         UPDATE search_terms SET format = 'stale', resource_type = 'stale', delivery_type = 'stale'; \
         UPDATE search_numbers SET format = 'stale', resource_type = 'stale', delivery_type = 'stale'; \
         DELETE FROM nimbus_migrations WHERE version IN (12, 1012);",
    )
    .execute(&mut raw)
    .await
    .unwrap();
    raw.close().await.unwrap();
    let c = SqlCatalog::connect(url).await.unwrap();
    for (e, want) in exprs.iter().zip(&before) {
        let q = search::compile(e, &schema(), NOW).unwrap();
        let page = run_with(&c, env.id, &q, vec![], 500, None, values()).await;
        let got = (page.total, agg_of(&page, "format"), agg_of(&page, "resource_type"));
        assert_eq!(&got, want, "{e} after migration 12");
    }
    c.close().await;
}

#[tokio::test]
async fn index_rows_gain_facets_and_whole_tags_on_sqlite() {
    let dir = ScratchDir::new("search-facets");
    index_rows_gain_facets_and_whole_tags(&format!("sqlite://{}", dir.path().join("c.db").display())).await;
}

#[tokio::test]
async fn index_rows_gain_facets_and_whole_tags_on_postgres() {
    let Some(url) = scratch_postgres().await else {
        return;
    };
    index_rows_gain_facets_and_whole_tags(&url).await;
}

/// The rows of `table` as JSON texts, sorted.
async fn table_rows(url: &str, table: &str) -> Vec<String> {
    use sqlx::Connection as _;
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let sql = format!("SELECT CAST(row_to_json(t) AS TEXT) FROM {table} t ORDER BY 1");
    sqlx::query_scalar(&sql).fetch_all(&mut conn).await.unwrap()
}

/// PostgreSQL's bulk loader (COPY; indexes and constraints dropped during the load and rebuilt
/// after it) writes the rows `import_assets` writes, and leaves the schema as it was.
#[tokio::test]
async fn bulk_load_writes_what_import_writes_on_postgres() {
    let (Some(imported_url), Some(copied_url)) = (scratch_postgres().await, scratch_postgres().await) else {
        return;
    };
    let imported = SqlCatalog::connect(&imported_url).await.unwrap();
    let copied = SqlCatalog::connect(&copied_url).await.unwrap();
    let schema_sql = "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' UNION ALL \
                      SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) \
                      FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1";
    let schema_before = table_rows(&copied_url, &format!("({schema_sql})")).await;
    let mut r = Rng(0xb01c);
    let mut assets: Vec<Asset> = (0..2000).map(|i| random_asset(&mut r, i)).collect();
    // What COPY's text format escapes, NULL's marker as text, a repeated tag (its first
    // position is kept), a tag longer than an exact term (hashed).
    assets[0].context.push(("note".into(), "tab\there\nnew line \\N back\\slash\r".into()));
    assets[0].original_filename = Some("\\N".into());
    assets[1].tags = vec!["dup".into(), "x".into(), "dup".into(), "long-".repeat(60)];
    assets[2].display_name = "a\tb\\c".into();
    let env_i = imported.create_env("bulk", "bk", "bs", &Actor::System, 1).await.unwrap().unwrap().id;
    let env_c = copied.create_env("bulk", "bk", "bs", &Actor::System, 1).await.unwrap().unwrap().id;
    for chunk in assets.chunks(500) {
        assert_eq!(imported.import_assets(env_i, chunk).await.unwrap(), chunk.len() as u64);
    }
    let mut loader = copied.pg_bulk_loader().await.unwrap();
    // Half with the indexes in place, half without.
    let (first, second) = assets.split_at(1000);
    assert_eq!(loader.import(env_c, first).await.unwrap(), 1000);
    let dropped = loader.drop_indexes().await.unwrap();
    for chunk in second.chunks(300) {
        assert_eq!(loader.import(env_c, chunk).await.unwrap(), chunk.len() as u64);
    }
    loader.restore_indexes(dropped).await.unwrap();
    for table in ["environments", "assets", "asset_tags", "search_terms", "search_numbers", "folders", "events", "jobs"]
    {
        let (want, got) = (table_rows(&imported_url, table).await, table_rows(&copied_url, table).await);
        assert!(table == "folders" || table == "events" || table == "jobs" || !want.is_empty(), "{table} empty");
        assert_eq!(want.len(), got.len(), "{table}");
        for (w, g) in want.iter().zip(&got) {
            assert_eq!(w, g, "{table}");
        }
    }
    assert_eq!(table_rows(&copied_url, &format!("({schema_sql})")).await, schema_before);
    assert_eq!(table_rows(&imported_url, &format!("({schema_sql})")).await, schema_before);
}
