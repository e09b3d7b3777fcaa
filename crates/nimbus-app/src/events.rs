//! Who acted and what changed. Every catalog write of an asset takes a [`WriteCtx`]: the
//! [`Caller`] (environment and actor), the time, the request's `notification_url` and the
//! jobs the change causes. The catalog records the typed [`Event`]s of the write in its
//! outbox, and enqueues the jobs, in the write's own transaction: a committed change always
//! has its events and jobs, and a rolled-back one has none.

use nimbus_core::{Asset, Context, DeliveryType, MetadataValues, PublicId, ResourceType};
use serde::{Deserialize, Serialize};

use crate::jobs::NewJob;

/// Who asked for a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// A call signed or authenticated with this API key.
    ApiKey(String),
    /// An unsigned upload through this preset.
    UnsignedPreset(String),
    /// A person signed in to the console, by user id.
    User(i64),
    /// Nimbus itself (jobs, the command line).
    System,
}

impl Actor {
    /// How the outbox and the job list name the actor: `key:123…`, `preset:name`, `system`.
    pub fn label(&self) -> String {
        match self {
            Self::ApiKey(k) => format!("key:{k}"),
            Self::UnsignedPreset(p) => format!("preset:{p}"),
            Self::User(id) => format!("user:{id}"),
            Self::System => "system".into(),
        }
    }

    /// The API key whose secret signs this actor's notifications, if it has one.
    pub fn api_key(&self) -> Option<&str> {
        match self {
            Self::ApiKey(k) => Some(k),
            _ => None,
        }
    }
}

/// The environment a call acts in, and who makes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub env: i64,
    pub actor: Actor,
}

impl Caller {
    pub fn system(env: i64) -> Self {
        Self { env, actor: Actor::System }
    }

    pub fn key(env: i64, key: &str) -> Self {
        Self { env, actor: Actor::ApiKey(key.to_owned()) }
    }
}

/// Everything a catalog write needs besides its data.
#[derive(Debug, Clone)]
pub struct WriteCtx {
    pub caller: Caller,
    pub now: i64,
    /// Where the events of this write are also announced (the request's `notification_url`).
    pub notification_url: Option<String>,
    /// Jobs to enqueue if, and only if, the write changes something.
    pub jobs: Vec<NewJob>,
}

impl WriteCtx {
    pub fn new(caller: &Caller, now: i64) -> Self {
        Self { caller: caller.clone(), now, notification_url: None, jobs: Vec::new() }
    }

    pub fn env(&self) -> i64 {
        self.caller.env
    }

    pub fn notify(mut self, url: Option<String>) -> Self {
        self.notification_url = url;
        self
    }
}

/// An asset named in an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetRef {
    pub asset_id: String,
    pub public_id: PublicId,
    pub resource_type: ResourceType,
    pub delivery_type: DeliveryType,
    pub version: i64,
}

impl From<&Asset> for AssetRef {
    fn from(a: &Asset) -> Self {
        Self {
            asset_id: a.asset_id.clone(),
            public_id: a.public_id.clone(),
            resource_type: a.resource_type,
            delivery_type: a.delivery_type,
            version: a.version,
        }
    }
}

/// Stored bytes a write left unreferenced: an original and its version's derivatives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unreferenced {
    pub blob_key: String,
    pub version_id: String,
}

impl From<&Asset> for Unreferenced {
    fn from(a: &Asset) -> Self {
        Self { blob_key: a.blob_key.clone(), version_id: a.version_id.clone() }
    }
}

/// A value that changed on one asset: before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change<T> {
    pub asset: AssetRef,
    pub before: T,
    pub after: T,
}

/// What a catalog write did, as recorded in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A new asset, or a new version of an existing one (`overwritten`, leaving the replaced
    /// version's bytes unreferenced).
    Uploaded {
        asset: Box<Asset>,
        overwritten: bool,
        replaced: Option<Unreferenced>,
    },
    Renamed {
        asset: Box<Asset>,
        from: PublicId,
        from_type: DeliveryType,
    },
    /// Assets deleted, with the bytes they leave unreferenced.
    Destroyed {
        assets: Vec<(AssetRef, Unreferenced)>,
    },
    TagsChanged {
        changes: Vec<Change<Vec<String>>>,
    },
    ContextChanged {
        changes: Vec<Change<Context>>,
    },
    MetadataChanged {
        changes: Vec<Change<MetadataValues>>,
    },
    /// Other descriptive fields (display name, asset folder, access mode).
    Updated {
        asset: Box<Asset>,
    },
    /// The metadata schema moved to `version`: fields and rules put or deleted.
    SchemaChanged {
        version: i64,
        changed: Vec<SchemaItem>,
    },
    /// An environment's settings: presets, named transformations, folders, keys, the
    /// environment itself.
    Configured {
        change: ConfigChange,
    },
}

/// One change of an environment's settings, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", content = "name", rename_all = "snake_case")]
pub enum ConfigChange {
    PresetCreated(String),
    PresetUpdated(String),
    PresetDeleted(String),
    TransformationCreated(String),
    TransformationUpdated(String),
    TransformationDeleted(String),
    FolderCreated(String),
    FolderDeleted(String),
    /// By API key (never its secret).
    KeyCreated(String),
    KeyRevoked(String),
    /// By cloud name.
    EnvironmentCreated(String),
    EnvironmentDeleted(String),
    /// Strict transformations turned on (`true`) or off.
    StrictTransformations(bool),
}

impl ConfigChange {
    /// The event's name in the outbox.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::PresetCreated(_) => "preset_created",
            Self::PresetUpdated(_) => "preset_updated",
            Self::PresetDeleted(_) => "preset_deleted",
            Self::TransformationCreated(_) => "transformation_created",
            Self::TransformationUpdated(_) => "transformation_updated",
            Self::TransformationDeleted(_) => "transformation_deleted",
            Self::FolderCreated(_) => "folder_created",
            Self::FolderDeleted(_) => "folder_deleted",
            Self::KeyCreated(_) => "key_created",
            Self::KeyRevoked(_) => "key_revoked",
            Self::EnvironmentCreated(_) => "environment_created",
            Self::EnvironmentDeleted(_) => "environment_deleted",
            Self::StrictTransformations(_) => "strict_transformations_set",
        }
    }
}

impl From<ConfigChange> for Event {
    fn from(change: ConfigChange) -> Self {
        Self::Configured { change }
    }
}

/// One item of a schema change, by external id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", content = "external_id", rename_all = "snake_case")]
pub enum SchemaItem {
    PutField(String),
    DeleteField(String),
    PutRule(String),
    DeleteRule(String),
}

impl Event {
    /// The stored bytes this event leaves unreferenced (deleted by a job after the relay).
    pub fn unreferenced(&self) -> Vec<&Unreferenced> {
        match self {
            Self::Uploaded { replaced: Some(r), .. } => vec![r],
            Self::Destroyed { assets } => assets.iter().map(|(_, u)| u).collect(),
            _ => Vec::new(),
        }
    }

    /// The event's name in the outbox.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Uploaded { .. } => "uploaded",
            Self::Renamed { .. } => "renamed",
            Self::Destroyed { .. } => "destroyed",
            Self::TagsChanged { .. } => "tags_changed",
            Self::ContextChanged { .. } => "context_changed",
            Self::MetadataChanged { .. } => "metadata_changed",
            Self::Updated { .. } => "updated",
            Self::SchemaChanged { .. } => "schema_changed",
            Self::Configured { change } => change.kind(),
        }
    }
}

/// An event as the outbox holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub id: i64,
    pub env_id: i64,
    pub actor: String,
    pub notification_url: Option<String>,
    pub event: Event,
    pub created_at: i64,
}

/// The same change for every asset of a bulk write: the [`Change`]s that change something.
pub fn changes<T: PartialEq>(items: Vec<Change<T>>) -> Vec<Change<T>> {
    items.into_iter().filter(|c| c.before != c.after).collect()
}
