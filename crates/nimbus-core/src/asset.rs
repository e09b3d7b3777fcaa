//! The asset as the catalog keeps it.

use crate::ids::{AccessMode, DeliveryType, PublicId, ResourceType};

/// Custom context: ordered key/value pairs (`context.custom` on the wire).
pub type Context = Vec<(String, String)>;

/// Structured metadata values in their wire form: field external id to value.
pub type MetadataValues = serde_json::Map<String, serde_json::Value>;

/// One stored asset (its current version). Serialised in the catalog's event outbox.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Asset {
    /// 32 hex chars, immutable for the asset's life.
    pub asset_id: String,
    pub resource_type: ResourceType,
    pub delivery_type: DeliveryType,
    pub public_id: PublicId,
    /// Whether delivery needs a signed URL although the type is `upload`.
    pub access_mode: AccessMode,
    /// Response headers added when the asset is delivered (`headers` on upload).
    pub headers: Context,
    /// Unix seconds of the current version's upload.
    pub version: i64,
    /// 32 hex chars, new for every version.
    pub version_id: String,
    /// File extension without the dot; `None` for raw assets.
    pub format: Option<String>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub bytes: i64,
    /// MD5 of the stored bytes, hex.
    pub etag: String,
    /// Key of the original in the blob store.
    pub blob_key: String,
    pub original_filename: Option<String>,
    pub display_name: String,
    pub asset_folder: String,
    pub tags: Vec<String>,
    pub context: Context,
    pub metadata: MetadataValues,
    /// Embedded EXIF fields (name, printable value) read at upload, for `image_metadata`.
    pub image_metadata: Context,
    /// Unix seconds of the first upload.
    pub created_at: i64,
    /// Unix seconds of the last change.
    pub updated_at: i64,
}

impl Asset {
    /// Whether every delivery of this asset (original and derivatives) needs a signed URL.
    pub fn needs_signed_delivery(&self) -> bool {
        self.access_mode == AccessMode::Authenticated || self.delivery_type == DeliveryType::Authenticated
    }

    /// Whether the URLs built for this asset carry a signature: its original needs one
    /// (`private`, `authenticated`) or every delivery does (the `authenticated` access mode).
    pub fn urls_need_signature(&self) -> bool {
        self.delivery_type.original_needs_signature() || self.needs_signed_delivery()
    }

    /// Whether shared caches may keep what is delivered.
    pub fn publicly_cacheable(&self) -> bool {
        self.delivery_type == DeliveryType::Upload && self.access_mode == AccessMode::Public
    }

    /// The file name a delivery URL ends with: public id plus the format's extension.
    pub fn file_name(&self) -> String {
        match &self.format {
            Some(f) => format!("{}.{f}", self.public_id),
            None => self.public_id.to_string(),
        }
    }
}
