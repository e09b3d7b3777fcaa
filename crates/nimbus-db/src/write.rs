//! The one step every asset write ends with, inside its transaction: the search index
//! follows the rows the write touched, an upload adds its version to the asset's history, and
//! the outbox gets the write's events (and its jobs).
//! Write functions call this instead of the index or the outbox themselves.

use nimbus_app::events::{Event, WriteCtx};
use nimbus_app::ports::CatalogResult;
use nimbus_core::Asset;
use sqlx::AnyConnection;

/// Which asset rows (by position) a write touched, for the search index.
pub(crate) enum Touched<'a> {
    /// Written with these values.
    Assets(&'a [(i64, &'a Asset)]),
    /// Changed in place: read back.
    Rows(&'a [i64]),
    /// Deleted.
    Deleted(&'a [i64]),
}

pub(crate) async fn after_write(
    conn: &mut AnyConnection,
    w: &WriteCtx,
    touched: &[Touched<'_>],
    events: &[Event],
) -> CatalogResult<()> {
    for t in touched {
        match t {
            Touched::Assets(assets) => crate::search::index(conn, w.env(), assets).await?,
            Touched::Rows(pks) => crate::search::reindex(conn, w.env(), pks).await?,
            Touched::Deleted(pks) => crate::search::unindex(conn, pks).await?,
        }
    }
    for e in events {
        if let Event::Uploaded { asset, .. } = e {
            let pk = touched.iter().find_map(|t| match t {
                Touched::Assets(written) => {
                    written.iter().find(|(_, a)| a.asset_id == asset.asset_id).map(|(pk, _)| *pk)
                }
                _ => None,
            });
            if let Some(pk) = pk {
                crate::versions::record(conn, pk, asset, &w.caller.actor.label(), w.now).await?;
            }
        }
    }
    crate::outbox::record(conn, w, events).await
}
