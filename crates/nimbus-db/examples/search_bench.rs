//! Search at scale: loads a synthetic catalog (tags, context, metadata) through the catalog's
//! own write path (on PostgreSQL, the same rows sent with COPY by its bulk loader), then times
//! a mix of expressions, from selective to broad, and prints the p50 / p99 latency of each.
//! Run by `bench/search.sh`.
//!
//! `search_bench DATABASE_URL ASSETS ROUNDS` — an already loaded database is reused when it
//! holds the environment `searchbench` with at least ASSETS assets.

use std::time::Instant;

use nimbus_app::events::Actor;
use nimbus_app::ports::{AssetRepo, EnvRepo, SearchRepo, Usage};
use nimbus_app::search::{Aggregation, SearchQuery, SortField, SortKey, ValueAgg};
use nimbus_core::metadata::FieldType;
use nimbus_core::search::{self, Schema};
use nimbus_core::{Asset, DeliveryType, PublicId, ResourceType};
use nimbus_db::{Dialect, SqlCatalog};

const NOW: i64 = 1_760_000_000;
const DAY: i64 = 86_400;
const TAGS: usize = 2000;
const FOLDERS: usize = 500;
const WORDS: &[&str] = &[
    "red", "blue", "green", "shoe", "hat", "scarf", "beach", "city", "night", "portrait", "studio", "summer", "winter",
    "team", "office", "product", "detail", "family", "dog", "cat", "street", "forest", "mountain", "sea", "sky",
];
const FORMATS: &[&str] = &["jpg", "jpg", "jpg", "png", "png", "webp", "gif"];

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
    /// Skewed towards small values (a few popular tags, a long tail).
    fn skewed(&mut self, n: usize) -> usize {
        let a = self.below(n);
        let b = self.below(n);
        a * b / n
    }
}

fn asset(r: &mut Rng, i: usize) -> Asset {
    let folder = format!("shop/f{}", r.below(FOLDERS));
    let pid = format!("{folder}/img_{i:07}");
    let mut tags = vec![format!("tag_{:04}", r.skewed(TAGS))];
    if r.below(100) < 30 {
        tags.push("summer".to_owned());
    }
    if r.below(100) < 50 {
        tags.push(format!("tag_{:04}", r.skewed(TAGS)));
    }
    tags.dedup();
    let alt = (0..2 + r.below(3)).map(|_| WORDS[r.below(WORDS.len())]).collect::<Vec<_>>().join(" ");
    let mut metadata = serde_json::Map::new();
    metadata.insert("category".into(), format!("cat_{:02}", r.below(20)).into());
    metadata.insert("rating".into(), (1 + r.below(5) as i64).into());
    if r.below(2) == 0 {
        metadata.insert("shot".into(), format!("2024-{:02}-{:02}", 1 + r.below(12), 1 + r.below(28)).into());
    }
    let w = 200 + r.below(6000) as i64;
    let h = 200 + r.below(4000) as i64;
    Asset {
        asset_id: format!("{:032x}", i + 1),
        resource_type: ResourceType::Image,
        delivery_type: DeliveryType::Upload,
        access_mode: nimbus_core::AccessMode::Public,
        headers: Vec::new(),
        public_id: PublicId::parse(&pid).unwrap_or_else(|e| panic!("{pid}: {e}")),
        version: NOW - r.below(365 * DAY as usize) as i64,
        version_id: format!("{:032x}", i + 7),
        format: Some(FORMATS[r.below(FORMATS.len())].to_owned()),
        width: Some(w),
        height: Some(h),
        bytes: (w * h / 4) + r.below(100_000) as i64,
        etag: "e".repeat(32),
        blob_key: format!("originals/{i}"),
        original_filename: None,
        display_name: format!("img_{i:07}"),
        asset_folder: folder,
        tags,
        context: vec![("alt".into(), alt)],
        metadata,
        image_metadata: Vec::new(),
        created_at: NOW - r.below(3 * 365 * DAY as usize) as i64,
        updated_at: NOW,
    }
}

/// PostgreSQL: the same assets as `import_assets` would write, sent with COPY in batches on
/// `NIMBUS_BENCH_STREAMS` connections (default 2), the loaded tables' indexes dropped during
/// the load and rebuilt after it. `NIMBUS_BENCH_LOADER=import` loads through `import_assets`.
async fn load_pg(c: &SqlCatalog, env: i64, r: &mut Rng, from: usize, n: usize) {
    const BATCH: usize = 10_000;
    let streams: usize = std::env::var("NIMBUS_BENCH_STREAMS").ok().and_then(|s| s.parse().ok()).unwrap_or(2);
    let mut first = c.pg_bulk_loader().await.expect("loader");
    let drop_indexes = std::env::var("NIMBUS_BENCH_DROP_INDEXES").as_deref() != Ok("0");
    let dropped = if drop_indexes { Some(first.drop_indexes().await.expect("drop indexes")) } else { None };
    let mut loaders = vec![first];
    for _ in 1..streams {
        loaders.push(c.pg_bulk_loader().await.expect("loader"));
    }
    let started = Instant::now();
    let mut senders = Vec::new();
    let mut workers = Vec::new();
    for mut loader in loaders {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Asset>>(1);
        senders.push(tx);
        workers.push(tokio::spawn(async move {
            while let Some(batch) = rx.recv().await {
                loader.import(env, &batch).await.expect("bulk import");
            }
            loader
        }));
    }
    let mut i = from;
    while i < n {
        let batch: Vec<Asset> = (i..(i + BATCH).min(n)).map(|k| asset(r, k)).collect();
        senders[(i / BATCH) % senders.len()].send(batch).await.expect("loader alive");
        i = (i + BATCH).min(n);
        if i % 1_000_000 < BATCH {
            eprintln!("[search_bench] {i} assets ({:.0} s)", started.elapsed().as_secs_f64());
        }
    }
    drop(senders);
    let mut loaders = Vec::new();
    for w in workers {
        loaders.push(w.await.expect("loader"));
    }
    let copied = started.elapsed().as_secs_f64();
    if let Some(dropped) = dropped {
        loaders[0].restore_indexes(dropped).await.expect("restore indexes");
    }
    eprintln!(
        "[search_bench] COPY {copied:.1} s, indexes rebuilt in {:.1} s",
        started.elapsed().as_secs_f64() - copied
    );
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // NIMBUS_LOG=sqlx=debug shows every statement with its time.
    if let Ok(filter) = std::env::var("NIMBUS_LOG") {
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    }
    let args: Vec<String> = std::env::args().collect();
    let (url, n, rounds) = match args.as_slice() {
        [_, url, n, rounds] => {
            (url.clone(), n.parse::<usize>().expect("ASSETS"), rounds.parse::<usize>().expect("ROUNDS"))
        }
        _ => {
            eprintln!("usage: search_bench DATABASE_URL ASSETS ROUNDS");
            std::process::exit(2);
        }
    };
    let c = SqlCatalog::connect(&url).await.expect("connect");
    let env = match c.env_by_cloud("searchbench").await.expect("env") {
        Some(e) => e,
        None => c.create_env("searchbench", "sbk", "sbs", &Actor::System, 1).await.expect("create").expect("new env"),
    };
    let Usage { resources, .. } = c.usage(env.id).await.expect("usage");
    let have = usize::try_from(resources).unwrap_or(0);
    if have < n {
        let started = Instant::now();
        let mut r = Rng(0x5eed_0000 + have as u64);
        if c.dialect() == Dialect::Postgres && std::env::var("NIMBUS_BENCH_LOADER").as_deref() != Ok("import") {
            load_pg(&c, env.id, &mut r, have, n).await;
        } else {
            let mut i = have;
            while i < n {
                let batch: Vec<Asset> = (i..(i + 2000).min(n)).map(|k| asset(&mut r, k)).collect();
                c.import_assets(env.id, &batch).await.expect("import");
                i += batch.len();
                if i % 100_000 < 2000 {
                    eprintln!("[search_bench] {i} assets");
                }
            }
        }
        let vacuum = Instant::now();
        c.optimize().await.expect("optimize");
        eprintln!("[search_bench] statistics in {:.1} s", vacuum.elapsed().as_secs_f64());
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "[search_bench] loaded {} assets in {secs:.1} s ({:.0} assets/s)",
            n - have,
            (n - have) as f64 / secs
        );
    }

    let mut schema = Schema::default();
    schema.metadata.insert("category".into(), FieldType::Enum);
    schema.metadata.insert("rating".into(), FieldType::Integer);
    schema.metadata.insert("shot".into(), FieldType::Date);
    let created_desc = vec![SortKey { field: SortField::CreatedAt, ascending: false }];
    let mix: Vec<(&str, &str, Vec<SortKey>, Vec<Aggregation>)> = vec![
        ("selective", "public_id=shop/f17/img_0000042", created_desc.clone(), vec![]),
        ("selective", "tags=tag_1999", created_desc.clone(), vec![]),
        ("selective", "tags=tag_1500 AND format:png", created_desc.clone(), vec![]),
        (
            "selective",
            "folder=shop/f123 AND metadata.rating>=4",
            vec![SortKey { field: SortField::PublicId, ascending: true }],
            vec![],
        ),
        ("selective", "context.alt:\"dog beach\" AND tags=tag_1200", created_desc.clone(), vec![]),
        (
            "selective",
            "metadata.category=cat_07 AND metadata.shot:[2024-03-01 TO 2024-03-02]",
            created_desc.clone(),
            vec![],
        ),
        ("broad", "tags=summer", created_desc.clone(), vec![Aggregation::Values(ValueAgg::Format)]),
        (
            "broad",
            "uploaded_at>4w AND format:jpg",
            vec![SortKey { field: SortField::Bytes, ascending: false }],
            vec![Aggregation::Values(ValueAgg::Format)],
        ),
        ("broad", "dog OR beach", created_desc.clone(), vec![Aggregation::Values(ValueAgg::Format)]),
        (
            "broad",
            "",
            created_desc.clone(),
            vec![Aggregation::Values(ValueAgg::Format), Aggregation::Values(ValueAgg::ResourceType)],
        ),
    ];
    println!("search latency, {n} assets, {rounds} rounds, {:?}", c.dialect());
    println!("{:<10} {:>9} {:>9} {:>9}  expression", "kind", "total", "p50 ms", "p99 ms");
    for (kind, expr, sort, aggregate) in mix {
        let query = search::compile(expr, &schema, NOW).expect("expression");
        let q = SearchQuery { query, sort, limit: 50, after: None, aggregate };
        let mut times = Vec::with_capacity(rounds);
        // One untimed run first: steady state, not the first touch of each page.
        let mut total = c.search_assets(env.id, &q).await.expect("search").total;
        for _ in 0..rounds {
            let t = Instant::now();
            total = c.search_assets(env.id, &q).await.expect("search").total;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        println!("{kind:<10} {total:>9} {:>9.1} {:>9.1}  {expr}", pct(&times, 0.5), pct(&times, 0.99));
    }
}
