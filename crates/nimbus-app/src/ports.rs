//! The ports: what the services need from the outside world. `nimbus-db` implements the
//! catalog, `nimbus-blob` the blob store; tests may plug anything that passes the same
//! conformance suites.

use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use nimbus_core::{Asset, Context, DeliveryType, MetadataValues, PublicId, ResourceType};

use crate::events::{Actor, StoredEvent, WriteCtx};
use crate::jobs::NewJob;

/// Catalog failures are infrastructure failures: "not found" is an `Option`, never an error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CatalogError(pub String);

pub type CatalogResult<T> = Result<T, CatalogError>;

/// A product environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    pub id: i64,
    pub cloud_name: String,
    pub created_at: i64,
    /// Derivatives are made on the fly only for signed URLs, or transformations allowed for
    /// strict mode; others must exist already (eager).
    pub strict_transformations: bool,
}

/// An API key/secret pair of an environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub key: String,
    pub secret: String,
    pub env_id: i64,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// An upload preset: named defaults for upload parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preset {
    pub name: String,
    pub unsigned: bool,
    /// Upload parameters in their wire form (`tags` = `a,b`, `context` = `k=v|...`).
    pub settings: Vec<(String, String)>,
}

/// Which asset: the catalog's natural key within an environment.
#[derive(Debug, Clone, Copy)]
pub struct AssetKey<'a> {
    pub resource_type: ResourceType,
    pub delivery_type: DeliveryType,
    pub public_id: &'a PublicId,
}

/// Filters and paging of an asset listing. Empty lists and `None` filter nothing.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub resource_type: Option<ResourceType>,
    pub delivery_type: Option<DeliveryType>,
    pub prefix: Option<String>,
    pub tag: Option<String>,
    pub public_ids: Vec<String>,
    pub asset_ids: Vec<String>,
    pub asset_folder: Option<String>,
    /// `context` key, and value if given.
    pub context: Option<(String, Option<String>)>,
    /// Continue after this position (a previous page's `next`).
    pub after: Option<i64>,
    pub limit: u32,
    pub ascending: bool,
}

/// A version an asset was uploaded as, and who uploaded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetVersion {
    pub version: i64,
    pub version_id: String,
    pub format: Option<String>,
    pub bytes: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// The uploader's actor label (`user:12`, `key:1234`, `preset:name`, `system`); none
    /// for versions uploaded before Nimbus recorded it.
    pub actor: Option<String>,
    pub created_at: i64,
}

/// One page of assets; `next` is where the following page starts, if there is one.
#[derive(Debug, Clone)]
pub struct Page {
    pub assets: Vec<Asset>,
    pub next: Option<i64>,
}

/// What saving an uploaded asset did.
#[derive(Debug, Clone)]
pub enum Saved {
    Inserted(Asset),
    /// The id existed and was overwritten; the previous version's blob is no longer referenced.
    Replaced {
        asset: Asset,
        old_blob: String,
    },
    /// The id existed and `overwrite` was off: nothing changed.
    Existing(Asset),
    /// The metadata schema, or the asset being replaced, changed since the new metadata was
    /// computed: nothing changed.
    Stale,
}

/// What new asset metadata was computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct MetadataGuard {
    pub schema_version: i64,
    pub based_on: BasedOn,
}

/// The asset state new metadata was computed against.
#[derive(Debug, Clone, PartialEq)]
pub enum BasedOn {
    /// No metadata in play: any asset state will do.
    Anything,
    /// Computed for a new asset: none may exist.
    NewAsset,
    /// Computed from this stored metadata of the asset being replaced.
    Stored(MetadataValues),
}

/// Changes to an asset's descriptive fields; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct AssetPatch {
    pub tags: Option<Vec<String>>,
    pub context: Option<Context>,
    pub display_name: Option<String>,
    pub asset_folder: Option<String>,
    pub access_mode: Option<nimbus_core::AccessMode>,
    /// New metadata, written only if the asset and the schema are as they were read.
    pub metadata: Option<MetadataPatch>,
}

/// Metadata computed from `expected` under schema version `schema_version`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetadataPatch {
    pub expected: MetadataValues,
    pub new: MetadataValues,
    pub schema_version: i64,
}

/// What an update did.
#[derive(Debug, Clone)]
pub enum Patched {
    Done(Box<Asset>),
    NotFound,
    /// The metadata or the metadata schema changed since they were read; nothing was written.
    Stale,
}

/// What a rename did.
#[derive(Debug, Clone)]
pub enum Renamed {
    Done { asset: Box<Asset>, replaced_blob: Option<String> },
    NotFound,
    TargetExists,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagCommand<'a> {
    Add(&'a str),
    Remove(&'a str),
    Replace(&'a [String]),
    RemoveAll,
}

/// What an environment used on one day (days since 1970-01-01, UTC).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageDay {
    pub day: i64,
    pub requests: i64,
    pub transformations: i64,
    /// Bytes stored when last counted that day.
    pub bytes: i64,
}

/// Totals of an environment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub resources: i64,
    pub bytes: i64,
}

#[async_trait]
pub trait EnvRepo: Send + Sync {
    /// Creates an environment with its first key. Fails if the cloud name is taken.
    async fn create_env(
        &self,
        cloud: &str,
        key: &str,
        secret: &str,
        actor: &Actor,
        now: i64,
    ) -> CatalogResult<Option<Environment>>;
    async fn env_by_cloud(&self, cloud: &str) -> CatalogResult<Option<Environment>>;
    async fn list_envs(&self) -> CatalogResult<Vec<Environment>>;
    /// Deletes an environment and its catalog rows (blobs are left to the sweeper).
    async fn delete_env(&self, cloud: &str, actor: &Actor, now: i64) -> CatalogResult<bool>;
    async fn set_strict_transformations(&self, cloud: &str, on: bool, actor: &Actor, now: i64) -> CatalogResult<bool>;
    async fn api_key(&self, key: &str) -> CatalogResult<Option<ApiKey>>;
    async fn create_key(&self, w: &WriteCtx, key: &str, secret: &str) -> CatalogResult<ApiKey>;
    async fn list_keys(&self, env_id: i64) -> CatalogResult<Vec<ApiKey>>;
    async fn revoke_key(&self, key: &str, actor: &Actor, now: i64) -> CatalogResult<bool>;
    /// Adds a node's counts to the day's, and sets the day's stored bytes.
    async fn add_usage(
        &self,
        env_id: i64,
        day: i64,
        requests: i64,
        transformations: i64,
        bytes: i64,
    ) -> CatalogResult<()>;
    /// Days `from..=to` that have counts, in order.
    async fn usage_days(&self, env_id: i64, from: i64, to: i64) -> CatalogResult<Vec<UsageDay>>;
    /// The delivery analytics salt of `day` (hex): the stored one, or `candidate`, stored, when
    /// there is none yet (nodes agree on the first stored).
    async fn analytics_salt(&self, day: i64, candidate: &str) -> CatalogResult<String>;
    /// Adds a node's delivery views (by asset, and by country) and records the visitors it
    /// saw (each once per day and asset, whichever node saw them).
    async fn add_delivery_views(
        &self,
        views: &[AssetViews],
        visitors: &[AssetVisitor],
        countries: &[CountryViews],
    ) -> CatalogResult<()>;
    /// Makes final the unique-visitor counts of the days before `before_day`, then deletes
    /// their visitors and salts; returns how many rows went.
    async fn settle_delivery_analytics(&self, before_day: i64) -> CatalogResult<u64>;
    /// An environment's delivery counts of a day, by asset: `(asset_id, views, visitors)`.
    async fn delivery_analytics(&self, env_id: i64, day: i64) -> CatalogResult<Vec<(String, i64, i64)>>;
    /// An environment's delivery views of a day by country, most first.
    async fn delivery_countries(&self, env_id: i64, day: i64) -> CatalogResult<Vec<(String, i64)>>;
}

/// Views in one environment on one day from one country, counted by one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryViews {
    pub env_id: i64,
    pub day: i64,
    /// ISO 3166-1 alpha-2, or `unknown`.
    pub country: String,
    pub views: i64,
}

/// Views of one asset on one day, counted by one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetViews {
    pub env_id: i64,
    pub day: i64,
    pub asset_id: String,
    pub views: i64,
}

/// One visitor of one asset on one day (a salted hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetVisitor {
    pub env_id: i64,
    pub day: i64,
    pub asset_id: String,
    pub visitor: i64,
}

#[async_trait]
pub trait AssetRepo: Send + Sync {
    /// Inserts the asset, or replaces the current one with the same key when `overwrite`
    /// (keeping its `asset_id` and `created_at`, with a `version` above the replaced one's),
    /// atomically with its tags.
    ///
    /// With a `guard`, the save happens only if the metadata schema is still at the guard's
    /// version and the replaced asset (if any) still holds the metadata the new values were
    /// computed from; otherwise nothing changes and the answer is [`Saved::Stale`].
    async fn save_asset(
        &self,
        w: &WriteCtx,
        asset: &Asset,
        overwrite: bool,
        guard: Option<&MetadataGuard>,
    ) -> CatalogResult<Saved>;
    async fn asset(&self, env: i64, key: AssetKey<'_>) -> CatalogResult<Option<Asset>>;
    async fn asset_by_id(&self, env: i64, asset_id: &str) -> CatalogResult<Option<Asset>>;
    /// The versions of an asset (by asset id) since it was first uploaded, newest first (the
    /// last 100).
    async fn asset_versions(&self, env: i64, asset_id: &str) -> CatalogResult<Vec<AssetVersion>>;
    async fn list_assets(&self, env: i64, q: &ListQuery) -> CatalogResult<Page>;
    async fn update_asset(&self, w: &WriteCtx, key: AssetKey<'_>, patch: &AssetPatch) -> CatalogResult<Patched>;
    async fn rename_asset(
        &self,
        w: &WriteCtx,
        from: AssetKey<'_>,
        to: AssetKey<'_>,
        overwrite: bool,
    ) -> CatalogResult<Renamed>;
    /// Deletes the assets that exist; returns each deleted id with its blob key.
    async fn delete_assets(
        &self,
        w: &WriteCtx,
        rt: ResourceType,
        dt: DeliveryType,
        ids: &[PublicId],
    ) -> CatalogResult<Vec<(PublicId, String)>>;
    /// Applies a tag command to the given ids; returns the ids that exist.
    async fn tag_assets(
        &self,
        w: &WriteCtx,
        rt: ResourceType,
        dt: DeliveryType,
        ids: &[PublicId],
        cmd: TagCommand<'_>,
    ) -> CatalogResult<Vec<PublicId>>;
    /// Distinct tags of a resource type, sorted, after `after`, at most `limit`.
    async fn list_tags(
        &self,
        env: i64,
        rt: ResourceType,
        prefix: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> CatalogResult<Vec<String>>;
    async fn usage(&self, env: i64) -> CatalogResult<Usage>;
    /// Which of `keys` are referenced by some asset (any environment).
    async fn blob_keys_in_use(&self, keys: &[String]) -> CatalogResult<HashSet<String>>;
}

#[async_trait]
pub trait FolderRepo: Send + Sync {
    /// Records `path` and all its ancestors; returns whether `path` itself is new.
    async fn ensure_folder(&self, w: &WriteCtx, path: &str) -> CatalogResult<bool>;
    async fn folder_exists(&self, env: i64, path: &str) -> CatalogResult<bool>;
    /// Direct children of `parent` (`None`: root folders), sorted.
    async fn list_folders(&self, env: i64, parent: Option<&str>) -> CatalogResult<Vec<String>>;
    /// Every folder of the environment with its creation time, sorted by path.
    async fn all_folders(&self, env: i64) -> CatalogResult<Vec<(String, i64)>>;
    /// Whether any asset or subfolder lives under `path`.
    async fn folder_has_content(&self, env: i64, path: &str) -> CatalogResult<bool>;
    async fn delete_folder(&self, w: &WriteCtx, path: &str) -> CatalogResult<bool>;
}

#[async_trait]
pub trait PresetRepo: Send + Sync {
    /// Inserts (`create`) or updates a preset; returns false if that was impossible
    /// (exists on create, missing on update).
    async fn put_preset(&self, w: &WriteCtx, preset: &Preset, create: bool) -> CatalogResult<bool>;
    async fn preset(&self, env: i64, name: &str) -> CatalogResult<Option<Preset>>;
    async fn list_presets(&self, env: i64) -> CatalogResult<Vec<Preset>>;
    async fn delete_preset(&self, w: &WriteCtx, name: &str) -> CatalogResult<bool>;
}

/// A metadata field definition as stored: its Metadata API JSON document.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRecord {
    pub external_id: String,
    /// Display order among the environment's fields.
    pub position: i64,
    pub doc: serde_json::Value,
    pub created_at: i64,
}

/// A conditional metadata rule as stored; `condition` and `result` in their wire JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleRecord {
    pub external_id: String,
    /// Creation order, assigned by the catalog when the rule is first stored; never changes.
    pub seq: i64,
    pub field: String,
    pub name: String,
    pub condition: serde_json::Value,
    pub result: serde_json::Value,
    pub active: bool,
    pub created_at: i64,
}

/// An environment's metadata schema at one version: fields by position, rules by `seq`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetadataSnapshot {
    pub version: i64,
    pub fields: Vec<FieldRecord>,
    pub rules: Vec<RuleRecord>,
    /// External ids of deleted fields (reserved: they cannot be used again).
    pub deleted_fields: Vec<String>,
}

/// One change to a metadata schema.
#[derive(Debug, Clone, PartialEq)]
pub enum MetadataChange {
    /// Inserts or replaces the field with this external id.
    PutField(FieldRecord),
    /// Deletes the field and reserves its external id.
    DeleteField(String),
    /// Inserts (assigning `seq`) or replaces the rule with this external id (keeping `seq`).
    PutRule(RuleRecord),
    DeleteRule(String),
}

/// New metadata for one asset, written only if the asset still holds `expected`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetadataUpdate {
    pub public_id: PublicId,
    pub expected: MetadataValues,
    pub new: MetadataValues,
}

/// What a metadata write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataWrite {
    Done,
    /// This asset changed (or vanished) since it was read: nothing was written.
    Stale(PublicId),
    /// The schema changed since the values were computed: nothing was written.
    SchemaChanged,
}

#[async_trait]
pub trait MetadataRepo: Send + Sync {
    /// The schema version: it rises with every committed change.
    async fn metadata_version(&self, env: i64) -> CatalogResult<i64>;
    /// Fields, rules and version, read together.
    async fn metadata_snapshot(&self, env: i64) -> CatalogResult<MetadataSnapshot>;
    /// Applies `changes` in one transaction if the version is still `expected`, raising it;
    /// returns false (and changes nothing) if another change came first.
    async fn change_metadata(&self, w: &WriteCtx, expected: i64, changes: &[MetadataChange]) -> CatalogResult<bool>;
    /// The stored metadata of those of `ids` that exist (one resource and delivery type).
    async fn asset_metadata(
        &self,
        env: i64,
        rt: ResourceType,
        dt: DeliveryType,
        ids: &[PublicId],
    ) -> CatalogResult<Vec<(PublicId, MetadataValues)>>;
    /// Writes the metadata of several assets, all or nothing, if the schema is still at
    /// `schema_version` (a concurrent schema change waits for the write, or wins over it).
    async fn set_asset_metadata(
        &self,
        w: &WriteCtx,
        rt: ResourceType,
        dt: DeliveryType,
        updates: &[MetadataUpdate],
        schema_version: i64,
    ) -> CatalogResult<MetadataWrite>;
    /// Stored metadata of the environment's assets, by position, after `after`.
    async fn scan_metadata(
        &self,
        env: i64,
        after: Option<i64>,
        limit: u32,
    ) -> CatalogResult<Vec<(i64, String, MetadataValues)>>;
}

/// A rendered derivative of one version of an asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedAsset {
    pub asset_id: String,
    pub version_id: String,
    /// Canonical transformation text.
    pub transformation: String,
    pub format: String,
    pub bytes: i64,
    pub blob_key: String,
    pub created_at: i64,
}

/// A named transformation: `t_{name}` stands for `transformation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedTransformation {
    pub name: String,
    /// Canonical transformation text (components separated by `/`).
    pub transformation: String,
    pub allowed_for_strict: bool,
}

#[async_trait]
pub trait TransformationRepo: Send + Sync {
    /// Inserts (`create`) or updates; false if that was impossible (exists on create,
    /// missing on update).
    async fn put_named(&self, w: &WriteCtx, t: &NamedTransformation, create: bool) -> CatalogResult<bool>;
    async fn named(&self, env: i64, name: &str) -> CatalogResult<Option<NamedTransformation>>;
    /// By name, after `after`, at most `limit`.
    async fn list_named(&self, env: i64, after: Option<&str>, limit: u32) -> CatalogResult<Vec<NamedTransformation>>;
    async fn delete_named(&self, w: &WriteCtx, name: &str) -> CatalogResult<bool>;
    /// Notes that eager derivation used `transformation` (canonical text); idempotent.
    async fn record_derived(&self, env: i64, transformation: &str, now: i64) -> CatalogResult<()>;
    /// A recorded transformation, as a [`NamedTransformation`] whose name is its text.
    async fn derived(&self, env: i64, transformation: &str) -> CatalogResult<Option<NamedTransformation>>;
    /// By text, after `after`, at most `limit`.
    async fn list_derived(&self, env: i64, after: Option<&str>, limit: u32) -> CatalogResult<Vec<NamedTransformation>>;
    /// False if `transformation` was never recorded.
    async fn set_derived_allowed_for_strict(
        &self,
        env: i64,
        transformation: &str,
        allowed: bool,
    ) -> CatalogResult<bool>;
    /// Notes a rendered derivative; idempotent by blob key.
    async fn record_derived_asset(&self, env: i64, d: &DerivedAsset) -> CatalogResult<()>;
    /// The derivatives of one version of an asset, oldest first.
    async fn derived_assets(&self, env: i64, asset_id: &str, version_id: &str) -> CatalogResult<Vec<DerivedAsset>>;
    /// Claims the render of `blob_key` for `owner` until `now + secs`: true if no other
    /// owner holds an unexpired claim.
    async fn claim_render(&self, blob_key: &str, owner: &str, now: i64, secs: i64) -> CatalogResult<bool>;
    /// Gives a claim up (the blob is stored, or the render failed).
    async fn release_render(&self, blob_key: &str, owner: &str) -> CatalogResult<()>;
}

#[async_trait]
pub trait SearchRepo: Send + Sync {
    /// Runs a checked search: the matching assets' total, one page (with tags) and the
    /// requested aggregations.
    async fn search_assets(&self, env: i64, q: &crate::search::SearchQuery)
    -> CatalogResult<crate::search::SearchPage>;
}

/// The outbox: recorded events waiting for the relay.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Events not relayed yet, oldest first, at most `limit`.
    async fn pending_events(&self, limit: u32) -> CatalogResult<Vec<StoredEvent>>;
    /// Marks `ids` relayed and enqueues `jobs`, in one transaction. Relaying an event twice
    /// (two nodes at once) is harmless when its jobs carry idempotency keys.
    async fn relay_events(&self, ids: &[i64], jobs: &[NewJob], now: i64) -> CatalogResult<()>;
    /// An environment's events, newest first, before `before`, at most `limit`.
    async fn events(&self, env: i64, before: Option<i64>, limit: u32) -> CatalogResult<Vec<StoredEvent>>;
    /// Deletes up to `limit` events relayed before `before`, oldest first; returns how many.
    async fn prune_events(&self, before: i64, limit: u32) -> CatalogResult<u64>;
}

/// A notification trigger: events of `event_type` (or every type, for `all`) are sent to
/// `uri`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    pub id: String,
    pub env_id: i64,
    pub uri: String,
    pub event_type: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[async_trait]
pub trait TriggerRepo: Send + Sync {
    /// False if the environment has this uri for this event type already.
    async fn create_trigger(&self, t: &Trigger) -> CatalogResult<bool>;
    /// By creation, optionally of one event type.
    async fn list_triggers(&self, env: i64, event_type: Option<&str>) -> CatalogResult<Vec<Trigger>>;
    async fn update_trigger(&self, env: i64, id: &str, uri: &str, now: i64) -> CatalogResult<bool>;
    async fn delete_trigger(&self, env: i64, id: &str) -> CatalogResult<bool>;
}

/// A console user. The password hash is argon2id's PHC string; `None` until the person sets one
/// (an invitation not yet accepted).
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub password_hash: Option<String>,
    pub disabled_at: Option<i64>,
    /// The person asked for the account's deletion: it is blocked, and erased at this time.
    pub deletion_due_at: Option<i64>,
    /// Since when the person objects to the sharing of their data.
    pub share_opt_out_at: Option<i64>,
    /// Since when the person gets product news by mail (opt-in; privacy F6).
    pub product_news_at: Option<i64>,
    /// The inactivity reminder last sent (days before deletion), cleared by signing in.
    pub inactivity_notice_days: Option<i64>,
    /// Failed sign-ins since the last success or lockout.
    pub failed_sign_ins: i64,
    /// Sign-in is refused until then.
    pub locked_until: i64,
    pub created_at: i64,
    pub last_sign_in_at: Option<i64>,
    /// Two-step sign-in: the TOTP secret (hex) once confirmed, one being set up, and the
    /// last step whose code was used.
    pub totp_secret: Option<String>,
    pub totp_pending: Option<String>,
    pub totp_last_step: i64,
}

impl std::fmt::Debug for User {
    /// Without the password hash.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User").field("id", &self.id).field("disabled_at", &self.disabled_at).finish_non_exhaustive()
    }
}

/// A person's role in one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub env_id: i64,
    pub cloud_name: String,
    pub role: nimbus_core::accounts::Role,
}

/// A signed-in browser: stored by the SHA-256 of its cookie's token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub token_hash: String,
    pub user_id: i64,
    /// The token every form of this session carries.
    pub csrf: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    /// A remembered session ("Remember me") lasts until then, whatever the timeouts.
    pub remember_until: Option<i64>,
}

/// What a one-time link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Creates the first owner; valid while no user exists.
    Setup,
    /// The second step of a sign-in: the password was right, a code is asked.
    SignInStep,
    /// Sets the password of an invited person.
    Invite,
    /// Sets a new password.
    Reset,
    /// Cancels an account's deletion during its grace period.
    CancelDeletion,
    /// Enables again an account its owner disabled.
    Enable,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::Setup => "setup",
            LinkPurpose::Invite => "invite",
            LinkPurpose::Reset => "reset",
            LinkPurpose::SignInStep => "sign-in-step",
            LinkPurpose::CancelDeletion => "cancel-deletion",
            LinkPurpose::Enable => "enable",
        }
    }
}

/// A one-time link that was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The person it is for (none for the first owner's set-up).
    pub user_id: Option<i64>,
    pub expires_at: i64,
}

#[async_trait]
pub trait AccountRepo: Send + Sync {
    /// `None` when the e-mail address has an account already.
    async fn create_user(&self, email: &str, password_hash: Option<&str>, now: i64) -> CatalogResult<Option<User>>;
    async fn user_by_email(&self, email: &str) -> CatalogResult<Option<User>>;
    async fn user_by_id(&self, id: i64) -> CatalogResult<Option<User>>;
    async fn list_users(&self) -> CatalogResult<Vec<User>>;
    /// The people with a role in an environment, by e-mail address (one query).
    async fn env_members(&self, env_id: i64) -> CatalogResult<Vec<(User, nimbus_core::accounts::Role)>>;
    async fn count_users(&self) -> CatalogResult<i64>;
    /// Gives the role, or takes the person's role in the environment away (`None`).
    async fn set_role(&self, user_id: i64, env_id: i64, role: Option<nimbus_core::accounts::Role>)
    -> CatalogResult<()>;
    /// By cloud name.
    async fn memberships(&self, user_id: i64) -> CatalogResult<Vec<Membership>>;
    /// Every person's memberships, `(user, membership)` by cloud name (one query).
    async fn all_memberships(&self) -> CatalogResult<Vec<(i64, Membership)>>;
    async fn set_password_hash(&self, user_id: i64, hash: &str) -> CatalogResult<bool>;
    async fn set_disabled(&self, user_id: i64, at: Option<i64>) -> CatalogResult<bool>;
    /// Counts a failed sign-in; at `lock_after` failures the account is locked until
    /// `lock_until` and the count starts again. Returns the lock's end (0 when not locked).
    async fn record_failed_sign_in(&self, user_id: i64, lock_after: i64, lock_until: i64) -> CatalogResult<i64>;
    /// A successful sign-in: clears the failures.
    async fn record_sign_in(&self, user_id: i64, now: i64) -> CatalogResult<()>;
    async fn create_session(&self, s: &SessionRow) -> CatalogResult<()>;
    async fn session(&self, token_hash: &str) -> CatalogResult<Option<SessionRow>>;
    async fn touch_session(&self, token_hash: &str, now: i64) -> CatalogResult<()>;
    async fn delete_session(&self, token_hash: &str) -> CatalogResult<()>;
    /// Signs the person out everywhere; returns how many sessions ended.
    async fn delete_sessions_of(&self, user_id: i64) -> CatalogResult<u64>;
    /// Deletes sessions last used before `idle_before` (a remembered one once its time is
    /// over too) and links that expired before `now`; returns how many rows went.
    async fn prune_sessions_and_links(&self, idle_before: i64, now: i64) -> CatalogResult<u64>;
    async fn create_link(
        &self,
        token_hash: &str,
        purpose: LinkPurpose,
        user_id: Option<i64>,
        now: i64,
        expires_at: i64,
    ) -> CatalogResult<()>;
    /// A TOTP secret being set up (sealed, see `accounts::sealed`), or none.
    async fn set_totp_pending(&self, user_id: i64, secret: Option<&str>) -> CatalogResult<()>;
    /// Every person's stored TOTP values: `(user, secret, pending)`, where either is set.
    async fn totp_values(&self) -> CatalogResult<Vec<(i64, Option<String>, Option<String>)>>;
    /// Replaces a stored TOTP value if it is still `old`; false when it changed meanwhile.
    async fn replace_totp_value(&self, user_id: i64, column: TotpColumn, old: &str, new: &str) -> CatalogResult<bool>;
    /// Turns two-step sign-in on with this secret and these recovery code hashes (replacing
    /// any earlier ones), or off (`None`).
    async fn set_totp(&self, user_id: i64, enabled: Option<(&str, &[String])>) -> CatalogResult<()>;
    /// Marks `step`'s code used; false when it (or a later one) was used already.
    async fn use_totp_step(&self, user_id: i64, step: i64) -> CatalogResult<bool>;
    /// Uses a recovery code up; false when the person has no such code.
    async fn use_recovery_code(&self, user_id: i64, code_hash: &str) -> CatalogResult<bool>;
    async fn count_recovery_codes(&self, user_id: i64) -> CatalogResult<i64>;
    /// The link if it exists for this purpose and has not expired; `take` deletes it as it is
    /// read, so that it works once.
    async fn link(&self, token_hash: &str, purpose: LinkPurpose, now: i64, take: bool) -> CatalogResult<Option<Link>>;
}

/// The two stored TOTP values of a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpColumn {
    /// The secret in use.
    Secret,
    /// A secret being set up.
    Pending,
}

/// A place where a sweep found what it looked for: a table's column and how many rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepHit {
    pub table: String,
    pub column: String,
    pub rows: i64,
}

/// An archive of a person's data, asked for and (once `ready_at` is set) made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataExport {
    pub id: i64,
    pub user_id: i64,
    pub requested_at: i64,
    pub ready_at: Option<i64>,
    pub bytes: Option<i64>,
    pub expires_at: i64,
}

/// What a person's archive holds from the catalog, beyond their account row and roles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectData {
    /// Sessions: the first characters of the token's hash, started, last used.
    pub sessions: Vec<(String, i64, i64)>,
    /// Changes they made: event id, kind, environment, when.
    pub events: Vec<(i64, String, String, i64)>,
    /// Versions they uploaded: environment, resource type, public id, version, format, bytes, when.
    pub uploads: Vec<UploadRow>,
    /// Archives they asked for before.
    pub exports: Vec<DataExport>,
    /// Changes of their objection to sharing: source (`objection`, `gpc`), objects, when.
    pub consents: Vec<(String, bool, i64)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRow {
    pub cloud: String,
    pub resource_type: String,
    pub public_id: String,
    pub version: i64,
    pub format: Option<String>,
    pub bytes: i64,
    pub created_at: i64,
}

/// A request from an authority for people's data (privacy F16).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegalRequest {
    pub id: i64,
    pub authority: String,
    /// `police`, `court`, `regulator` or `other`.
    pub authority_kind: String,
    pub legal_basis: String,
    /// Registry categories the request covers.
    pub categories: Vec<String>,
    pub received_at: i64,
    pub disclosed_at: Option<i64>,
    pub attachment_sha256: Option<String>,
    /// When the people concerned may be told; `None`: never (see `never_reason`).
    pub notify_after: Option<i64>,
    pub never_reason: Option<String>,
    /// When a never-notify decision is next reviewed.
    pub review_at: Option<i64>,
    pub created_at: i64,
}

/// A version of the privacy policy or the terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub id: i64,
    /// `privacy` or `terms`.
    pub kind: String,
    pub version: i64,
    pub text_md: String,
    pub changelog_md: String,
    pub change_class: String,
    pub published_at: i64,
    pub effective_at: i64,
}

/// Erasure of console users, and the sweep that looks for what is left of a person.
#[async_trait]
pub trait PrivacyRepo: Send + Sync {
    /// Marks the account pending deletion (blocked, erased at `due_at`) and ends its sessions,
    /// or lifts the mark (`None`); false when there is no such account.
    async fn set_deletion_due(&self, user_id: i64, due_at: Option<i64>) -> CatalogResult<bool>;
    /// Accounts whose deletion is due at `now`.
    async fn due_deletions(&self, now: i64) -> CatalogResult<Vec<i64>>;
    /// Erases an account in one transaction: wherever an action of theirs stays on record
    /// (who uploaded a version, who made a change) their actor label becomes `pseudonym`;
    /// the account's row goes, and its roles, sessions, links and codes with it; `entry`
    /// joins the ledger. Then the freed bytes leave the files where the database allows it:
    /// SQLite overwrites them (`secure_delete`) and truncates its write-ahead log, PostgreSQL
    /// rewrites the account tables. Idempotent: erasing an erased account records the entry.
    async fn erase_user(
        &self,
        user_id: i64,
        pseudonym: &str,
        entry: &nimbus_core::erasure::LedgerEntry,
    ) -> CatalogResult<()>;
    async fn ledger(&self) -> CatalogResult<Vec<nimbus_core::erasure::LedgerEntry>>;
    /// Records an erasure done before (a restored catalog lacks it); known entries are kept.
    async fn add_to_ledger(&self, entry: &nimbus_core::erasure::LedgerEntry) -> CatalogResult<()>;
    /// Where `needle` appears, ignoring case, in any text column of any table.
    async fn sweep(&self, needle: &str) -> CatalogResult<Vec<SweepHit>>;
    /// How many rows of each registered table are about console user `user_id` (by their id,
    /// or their actor label): table and rows, for the tables that have any.
    async fn subject_rows(&self, user_id: i64) -> CatalogResult<Vec<(String, i64)>>;
    /// Every version of a kind of policy, newest first.
    async fn policies(&self, kind: &str) -> CatalogResult<Vec<Policy>>;
    /// Stores a new version (its number the next of its kind), unless `latest_version` is no
    /// longer the latest (another publication came first: `None`).
    async fn insert_policy(&self, p: &Policy, latest_version: i64) -> CatalogResult<Option<Policy>>;
    /// Records that the person uses Nimbus under the versions in force at `now`.
    async fn accept_policies(&self, user_id: i64, now: i64) -> CatalogResult<u64>;
    /// A new address asked for, waiting for its link (any earlier one of the person goes).
    async fn create_email_change(
        &self,
        token_hash: &str,
        user_id: i64,
        new_email: &str,
        now: i64,
        expires_at: i64,
    ) -> CatalogResult<()>;
    /// The change a live link names, used up: the person and the new address.
    async fn take_email_change(&self, token_hash: &str, now: i64) -> CatalogResult<Option<(i64, String)>>;
    /// Sets the address; false when another account has it.
    async fn set_email(&self, user_id: i64, email: &str) -> CatalogResult<bool>;
    /// Records the inactivity reminder sent (days before deletion).
    async fn set_inactivity_notice(&self, user_id: i64, days: i64) -> CatalogResult<()>;
    /// Sets (or lifts) a person's objection to sharing and records the change with its
    /// source; false when it was already so (nothing is recorded then).
    async fn set_share_opt_out(&self, user_id: i64, objects: bool, source: &str, now: i64) -> CatalogResult<bool>;
    /// Turns product news on or off for a person and records the change (a consent event of
    /// kind `source`); false when it was already so.
    async fn set_product_news(&self, user_id: i64, on: bool, source: &str, now: i64) -> CatalogResult<bool>;
    /// Registers a request from an authority about these people; returns its id.
    async fn create_legal_request(&self, r: &LegalRequest, subjects: &[i64]) -> CatalogResult<i64>;
    /// Every registered request, newest first, with its people `(user, notified_at)`.
    async fn legal_requests(&self) -> CatalogResult<Vec<(LegalRequest, Vec<(i64, Option<i64>)>)>>;
    /// Records when a request's data was disclosed; false when there is no such request.
    async fn set_legal_disclosed(&self, id: i64, at: i64) -> CatalogResult<bool>;
    /// Sets when a never-notify decision is next reviewed; false when there is no such request.
    async fn set_legal_review(&self, id: i64, at: i64) -> CatalogResult<bool>;
    /// Marks a person told of a request; false when they were already.
    async fn mark_legal_notified(&self, id: i64, user_id: i64, now: i64) -> CatalogResult<bool>;
    /// The rows of a person's archive.
    async fn subject_data(&self, user_id: i64) -> CatalogResult<SubjectData>;
    /// Records an archive asked for; its id.
    async fn create_export(&self, user_id: i64, now: i64, expires_at: i64) -> CatalogResult<i64>;
    async fn export_ready(&self, id: i64, bytes: i64, now: i64) -> CatalogResult<()>;
    async fn data_export(&self, id: i64) -> CatalogResult<Option<DataExport>>;
    /// Newest first.
    async fn exports_of(&self, user_id: i64) -> CatalogResult<Vec<DataExport>>;
    /// Archives whose time is up at `now`.
    async fn expired_exports(&self, now: i64) -> CatalogResult<Vec<DataExport>>;
    async fn delete_export(&self, id: i64) -> CatalogResult<()>;
}

/// A request about their data from a person who may have no account (privacy F8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectRequest {
    pub id: i64,
    /// access, rectify, erase, restrict, object or removal.
    pub kind: String,
    pub email: String,
    pub cloud: Option<String>,
    pub public_id: Option<String>,
    pub details: String,
    pub verified_at: Option<i64>,
    pub received_at: i64,
    pub due_at: i64,
    pub extension_reason: Option<String>,
    /// open, done or refused.
    pub status: String,
    pub closed_at: Option<i64>,
}

/// One line of a request's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLogLine {
    pub at: i64,
    pub actor: String,
    pub note: String,
}

/// The request desk's records (privacy F8).
#[async_trait]
pub trait RequestDesk: Send + Sync {
    /// Records a new request (its `id` is ignored) with its verification token's hash and
    /// the first line of its history; returns its id.
    async fn create_subject_request(&self, r: &SubjectRequest, token_hash: &str, note: &str) -> CatalogResult<i64>;
    async fn subject_request(&self, id: i64) -> CatalogResult<Option<SubjectRequest>>;
    /// Every request, the open ones first by due date, then the closed ones newest first.
    async fn subject_requests(&self) -> CatalogResult<Vec<SubjectRequest>>;
    /// Marks the request a live token names verified (the token is used up); its id, or
    /// `None` when no request has that token.
    async fn verify_subject_request(&self, token_hash: &str, now: i64) -> CatalogResult<Option<i64>>;
    /// Stores the request's due date, extension reason, status and closing time, and adds a
    /// line to its history.
    async fn update_subject_request(&self, r: &SubjectRequest, line: &RequestLogLine) -> CatalogResult<()>;
    async fn subject_request_log(&self, id: i64) -> CatalogResult<Vec<RequestLogLine>>;
    /// Deletes the requests closed before `before` (their history goes with them).
    async fn prune_subject_requests(&self, before: i64) -> CatalogResult<u64>;
    /// Restricts an asset (by id), for a reason; false when it was already.
    async fn restrict_asset(&self, env: i64, asset_id: &str, at: i64, reason: &str) -> CatalogResult<bool>;
    /// Lifts an asset's restriction; false when it had none.
    async fn lift_restriction(&self, env: i64, asset_id: &str) -> CatalogResult<bool>;
    /// The ids of an environment's restricted assets.
    async fn restricted_assets(&self, env: i64) -> CatalogResult<Vec<String>>;
}

/// The whole catalog: one adapter implements all repositories over one database.
#[async_trait]
pub trait Catalog:
    EnvRepo
    + AssetRepo
    + FolderRepo
    + PresetRepo
    + MetadataRepo
    + TransformationRepo
    + SearchRepo
    + crate::jobs::JobQueue
    + Outbox
    + TriggerRepo
    + AccountRepo
    + PrivacyRepo
    + RequestDesk
{
    /// Cheap round trip, for readiness checks.
    async fn ping(&self) -> CatalogResult<()>;

    /// Follows the writes other nodes commit to this catalog, so that node caches forget at
    /// once; `None` when the catalog has no such feed (one node by design), where the caches'
    /// short lifetime is the only bound.
    async fn remote_changes(&self) -> CatalogResult<Option<Box<dyn RemoteChanges>>> {
        Ok(None)
    }
}

/// Writes committed by other nodes, as they commit.
#[async_trait]
pub trait RemoteChanges: Send {
    /// Waits for the next write of another node (several close together may come as one).
    /// Also returns when the feed may have missed writes (a reconnection): either way, what a
    /// node cached before may be stale.
    async fn next(&mut self) -> CatalogResult<()>;
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob not found: {0}")]
    NotFound(String),
    #[error("blob store: {0}")]
    Other(String),
}

/// A blob being read: its total size and the requested bytes as a stream.
pub struct BlobRead {
    pub size: u64,
    pub last_modified: i64,
    pub stream: BoxStream<'static, Result<Bytes, std::io::Error>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobMeta {
    pub key: String,
    pub size: u64,
    pub last_modified: i64,
}

#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Stores the file at `path` under `key` atomically (readers see all of it or nothing),
    /// streaming it rather than loading it whole.
    async fn put_file(&self, key: &str, path: &Path) -> Result<(), BlobError>;
    /// Stores bytes already in memory under `key`, atomically.
    async fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<(), BlobError>;
    /// Reads `range` (all when `None`) of the blob.
    async fn get(&self, key: &str, range: Option<Range<u64>>) -> Result<BlobRead, BlobError>;
    /// The blob's size and age; `None` when it does not exist (an outage is an error, never
    /// "absent": a derivative is not rendered again because the store did not answer).
    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError>;
    /// Deletes a blob; deleting a missing blob is not an error.
    async fn delete(&self, key: &str) -> Result<(), BlobError>;
    async fn list(&self, prefix: &str) -> Result<Vec<BlobMeta>, BlobError>;
    async fn ping(&self) -> Result<(), BlobError>;
}

/// The time, in Unix seconds.
pub trait Clock: Send + Sync {
    fn now(&self) -> i64;
}

/// Fresh identifiers.
pub trait IdGen: Send + Sync {
    /// 32 lower-case hex chars (asset ids, version ids).
    fn hex32(&self) -> String;
    /// `len` chars of `[a-z0-9]` (generated public ids, suffixes, keys).
    fn token(&self, len: usize) -> String;
    /// `len` decimal digits (API keys look like Cloudinary's 15-digit keys).
    fn digits(&self, len: usize) -> String;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
    }
}

/// Ids from the thread-local CSPRNG.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomIds;

impl IdGen for RandomIds {
    fn hex32(&self) -> String {
        hex::encode(rand::random::<[u8; 16]>())
    }
    fn token(&self, len: usize) -> String {
        use rand::Rng as _;
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let mut rng = rand::rng();
        (0..len).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
    }
    fn digits(&self, len: usize) -> String {
        use rand::Rng as _;
        let mut rng = rand::rng();
        (0..len).map(|i| char::from(b'0' + rng.random_range(u8::from(i == 0)..10))).collect()
    }
}
