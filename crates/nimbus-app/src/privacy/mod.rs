//! The privacy promises as features: a person disables or deletes their own account, the
//! deletion waits out a grace period and then erases them for good (a ledger erases them again
//! if a backup brings them back), and a sweep shows what is left of a person anywhere.

pub mod archive;
pub mod center;
pub mod desk;
pub mod disable;
pub mod erasure;
pub mod export;
pub mod inactive;
pub mod ledger;
pub mod legal;
pub mod news;
pub mod objection;
pub mod policies;
pub mod rectify;
pub mod restrict;
pub mod sweep;

/// Where the privacy work keeps its objects in the blob store (never swept as orphans).
pub const BLOB_PREFIX: &str = "privacy/";
