//! The shape of the Upload API's calls that change many assets at once (`tags`, `context`,
//! `metadata`): the assets, by public id, and one change for all of them.

use nimbus_core::DeliveryType;

/// Upload API `tags`, `context` and `metadata`: one change for many assets.
#[derive(Debug, Clone)]
pub struct BulkChange<C> {
    pub delivery_type: DeliveryType,
    pub public_ids: Vec<String>,
    pub change: C,
    pub notification_url: Option<String>,
}
