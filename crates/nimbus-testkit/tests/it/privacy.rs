//! The personal-data registry against the real schemas: every column that looks personal
//! (by name, or marked `-- pii` in its migration) is registered or known not to be, and
//! every registered column exists, on SQLite and on PostgreSQL.

use std::collections::BTreeSet;

use nimbus_core::privacy::{REGISTRY, accounted_for, looks_personal};
use nimbus_db::SqlCatalog;
use nimbus_testkit::{ScratchDir, scratch_postgres};
use sqlx::Row as _;

/// Columns marked `-- pii` in a migration: the first word of each marked line.
fn marked_in_migrations() -> BTreeSet<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../nimbus-db/migrations");
    let mut out = BTreeSet::new();
    for dialect in ["sqlite", "postgres"] {
        for entry in std::fs::read_dir(dir.join(dialect)).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for line in text.lines().filter(|l| l.contains("-- pii")) {
                if let Some(col) = line.split_whitespace().next() {
                    out.insert(col.trim_matches(|c: char| !c.is_alphanumeric() && c != '_').to_owned());
                }
            }
        }
    }
    out
}

fn check(columns: &BTreeSet<(String, String)>) {
    let marked = marked_in_migrations();
    let unregistered: Vec<String> = columns
        .iter()
        .filter(|(t, c)| (looks_personal(c) || marked.contains(c)) && !accounted_for(t, c))
        .map(|(t, c)| format!("{t}.{c}"))
        .collect();
    assert!(
        unregistered.is_empty(),
        "columns that look personal are missing from nimbus_core::privacy::REGISTRY (or NOT_PERSONAL): {unregistered:?}"
    );
    let stale: Vec<String> = REGISTRY
        .iter()
        .filter(|p| !columns.contains(&(p.table.to_owned(), p.column.to_owned())))
        .map(|p| format!("{}.{}", p.table, p.column))
        .collect();
    assert!(stale.is_empty(), "registered columns that no longer exist: {stale:?}");
}

#[tokio::test]
async fn every_personal_column_is_registered_on_sqlite() {
    let dir = ScratchDir::new("registry");
    let url = format!("sqlite://{}", dir.path().join("c.db").display());
    SqlCatalog::connect(&url).await.unwrap().close().await;
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url).await.unwrap();
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let mut columns = BTreeSet::new();
    for t in tables {
        for row in sqlx::query(&format!("PRAGMA table_info({t})")).fetch_all(&mut conn).await.unwrap() {
            columns.insert((t.clone(), row.get::<String, _>("name")));
        }
    }
    check(&columns);
}

#[tokio::test]
async fn every_personal_column_is_registered_on_postgres() {
    let Some(url) = scratch_postgres().await else { return };
    SqlCatalog::connect(&url).await.unwrap().close().await;
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url).await.unwrap();
    let rows = sqlx::query(
        "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns WHERE table_schema = 'public'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let columns = rows.iter().map(|r| (r.get::<String, _>("t"), r.get::<String, _>("c"))).collect();
    check(&columns);
}
