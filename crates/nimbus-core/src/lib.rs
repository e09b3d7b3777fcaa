//! Nimbus's pure domain: identifiers, the asset model, Cloudinary's request and delivery-URL
//! signatures, the wire encodings of upload parameters (tags, context, arrays) and the
//! delivery-URL grammar.
//!
//! This crate owns rules, not effects. It must never depend on tokio, sqlx, axum,
//! object_store or image crates, and it never reads the clock or a random source: the time
//! and any generated ids are passed in by the caller (`.ci/run` checks the dependency tree).

pub mod accounts;
pub mod asset;
pub mod cloudinary_url;
pub mod delivery;
pub mod erasure;
pub mod ids;
pub mod metadata;
pub mod params;
pub mod policy;
pub mod privacy;
pub mod processors;
pub mod search;
pub mod signature;
pub mod timefmt;
pub mod transform;

pub use asset::{Asset, Context, MetadataValues};
pub use ids::{AccessMode, CloudName, DeliveryType, IdError, PublicId, ResourceType};
