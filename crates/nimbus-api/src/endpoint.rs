//! Every `/v1_1/{cloud}/...` operation as a typed value, parsed from the method and the
//! percent-decoded path segments before any work is done. Unknown paths are refused here.
//!
//! Paths follow the official SDKs (`cloudinary/api.py`, `uploader.py`): public ids and folder
//! paths may span several segments, or arrive as one segment with `%2F`.

use axum::http::Method;

/// Upload API actions served under `/{resource_type}/{action}`.
pub const UPLOAD_ACTIONS: [&str; 7] = ["upload", "destroy", "rename", "explicit", "tags", "context", "metadata"];

/// Admin API actions Cloudinary serves at `POST resources/{resource_type}/{type}/{action}`
/// that Nimbus does not have yet (backups are what `restore` brings back).
const UNSERVED_RESOURCE_ACTIONS: [&str; 1] = ["restore"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    // Upload API (POST, signed or Basic).
    Upload { resource_type: String, action: String },
    // Admin API (Basic).
    Ping,
    Usage,
    Config,
    ResourceTypes,
    ListResources { resource_type: String, delivery_type: Option<String> },
    ResourcesByTag { resource_type: String, tag: String },
    ResourcesByContext { resource_type: String },
    ResourcesByAssetIds,
    ResourcesByAssetFolder,
    Resource { resource_type: String, delivery_type: String, public_id: String },
    ResourceByAssetId { asset_id: String },
    UpdateResource { resource_type: String, delivery_type: String, public_id: String },
    UpdateAccessMode { resource_type: String, delivery_type: String },
    PublishResources { resource_type: String },
    DeleteResources { resource_type: String, delivery_type: String },
    DeleteByTag { resource_type: String, tag: String },
    DeleteByAssetIds,
    Tags { resource_type: String },
    RootFolders,
    SubFolders { path: String },
    CreateFolder { path: String },
    DeleteFolder { path: String },
    ListPresets,
    CreatePreset,
    Preset { name: String },
    UpdatePreset { name: String },
    DeletePreset { name: String },
    // Transformations: the identifier travels in the `transformation` parameter, or (older
    // SDKs) as the path after `transformations/`.
    Transformations { id: Option<String> },
    CreateTransformation,
    UpdateTransformation { id: Option<String> },
    DeleteTransformation { id: Option<String> },
    // Notification triggers.
    ListTriggers,
    CreateTrigger,
    UpdateTrigger { id: String },
    DeleteTrigger { id: String },
    // Nimbus's jobs view.
    ListJobs,
    Job { id: String },
    RetryJob { id: String },
    CancelJob { id: String },
    // Metadata API (JSON bodies).
    ListMetadataFields,
    CreateMetadataField,
    OrderMetadataFields,
    MetadataField { id: String },
    UpdateMetadataField { id: String },
    DeleteMetadataField { id: String },
    UpdateDatasource { id: String },
    DeleteDatasourceEntries { id: String },
    RestoreDatasourceEntries { id: String },
    OrderDatasource { id: String },
    SearchDatasource { id: String },
    // Conditional metadata rules API, and Nimbus's evaluate/preview extensions.
    ListMetadataRules,
    CreateMetadataRule,
    // Search API.
    SearchResources,
    SearchFolders,
    MetadataRule { id: String },
    UpdateMetadataRule { id: String },
    DeleteMetadataRule { id: String },
    EvaluateMetadataRules,
    PreviewMetadataRule,
}

impl Endpoint {
    /// Parses the segments after `/v1_1/{cloud}/`, already percent-decoded.
    pub fn parse(method: &Method, segs: &[String]) -> Option<Self> {
        let s: Vec<&str> = segs.iter().map(String::as_str).collect();
        let join = |from: usize| s[from..].join("/");
        let (get, post, put, delete) = (
            method == Method::GET || method == Method::HEAD,
            method == Method::POST,
            method == Method::PUT,
            method == Method::DELETE,
        );
        use Endpoint as E;
        Some(match s.as_slice() {
            ["ping"] if get => E::Ping,
            ["usage"] | ["usage", _] if get => E::Usage,
            ["config"] if get => E::Config,
            ["resources", "search"] if get || post => E::SearchResources,
            ["resources"] if get => E::ResourceTypes,
            ["resources"] if delete => E::DeleteByAssetIds,
            ["resources", "by_asset_ids"] if get => E::ResourcesByAssetIds,
            ["resources", "by_asset_folder"] if get => E::ResourcesByAssetFolder,
            ["resources", asset_id] if get && is_asset_id(asset_id) => {
                E::ResourceByAssetId { asset_id: (*asset_id).to_owned() }
            }
            ["resources", rt] if get => E::ListResources { resource_type: (*rt).to_owned(), delivery_type: None },
            ["resources", rt, "tags", ..] if s.len() > 3 && get => {
                E::ResourcesByTag { resource_type: (*rt).to_owned(), tag: join(3) }
            }
            ["resources", rt, "tags", ..] if s.len() > 3 && delete => {
                E::DeleteByTag { resource_type: (*rt).to_owned(), tag: join(3) }
            }
            ["resources", rt, "context"] if get => E::ResourcesByContext { resource_type: (*rt).to_owned() },
            ["resources", rt, "publish_resources"] if post => E::PublishResources { resource_type: (*rt).to_owned() },
            ["resources", rt, dt] if get => {
                E::ListResources { resource_type: (*rt).to_owned(), delivery_type: Some((*dt).to_owned()) }
            }
            ["resources", rt, dt] if delete => {
                E::DeleteResources { resource_type: (*rt).to_owned(), delivery_type: (*dt).to_owned() }
            }
            ["resources", rt, dt, ..] if s.len() > 3 && get => {
                E::Resource { resource_type: (*rt).to_owned(), delivery_type: (*dt).to_owned(), public_id: join(3) }
            }
            // Cloudinary actions under a type Nimbus does not serve: unknown, never an update
            // of an asset named like the action.
            ["resources", _, _, action] if post && UNSERVED_RESOURCE_ACTIONS.contains(action) => return None,
            ["resources", rt, dt, "update_access_mode"] if post => {
                E::UpdateAccessMode { resource_type: (*rt).to_owned(), delivery_type: (*dt).to_owned() }
            }
            ["resources", rt, dt, ..] if s.len() > 3 && post => E::UpdateResource {
                resource_type: (*rt).to_owned(),
                delivery_type: (*dt).to_owned(),
                public_id: join(3),
            },
            ["tags", rt] if get => E::Tags { resource_type: (*rt).to_owned() },
            ["folders", "search"] if get || post => E::SearchFolders,
            ["folders"] if get => E::RootFolders,
            ["folders", ..] if get => E::SubFolders { path: join(1) },
            ["folders", ..] if s.len() > 1 && post => E::CreateFolder { path: join(1) },
            ["folders", ..] if s.len() > 1 && delete => E::DeleteFolder { path: join(1) },
            ["upload_presets"] if get => E::ListPresets,
            ["upload_presets"] if post => E::CreatePreset,
            ["upload_presets", name] if get => E::Preset { name: (*name).to_owned() },
            ["upload_presets", name] if put => E::UpdatePreset { name: (*name).to_owned() },
            ["upload_presets", name] if delete => E::DeletePreset { name: (*name).to_owned() },
            ["transformations"] if get => E::Transformations { id: None },
            ["transformations"] if post => E::CreateTransformation,
            ["transformations"] if put => E::UpdateTransformation { id: None },
            ["transformations"] if delete => E::DeleteTransformation { id: None },
            ["transformations", ..] if get => E::Transformations { id: Some(join(1)) },
            ["transformations", ..] if put => E::UpdateTransformation { id: Some(join(1)) },
            ["transformations", ..] if delete => E::DeleteTransformation { id: Some(join(1)) },
            ["triggers"] if get => E::ListTriggers,
            ["triggers"] if post => E::CreateTrigger,
            ["triggers", id] if put => E::UpdateTrigger { id: (*id).to_owned() },
            ["triggers", id] if delete => E::DeleteTrigger { id: (*id).to_owned() },
            ["jobs"] if get => E::ListJobs,
            ["jobs", id] if get => E::Job { id: (*id).to_owned() },
            ["jobs", id, "retry"] if post => E::RetryJob { id: (*id).to_owned() },
            ["jobs", id, "cancel"] if post => E::CancelJob { id: (*id).to_owned() },
            ["metadata_fields"] if get => E::ListMetadataFields,
            ["metadata_fields"] if post => E::CreateMetadataField,
            ["metadata_fields", "order"] if put => E::OrderMetadataFields,
            ["metadata_fields", id] if get => E::MetadataField { id: (*id).to_owned() },
            ["metadata_fields", id] if put => E::UpdateMetadataField { id: (*id).to_owned() },
            ["metadata_fields", id] if delete => E::DeleteMetadataField { id: (*id).to_owned() },
            ["metadata_fields", id, "datasource"] if put => E::UpdateDatasource { id: (*id).to_owned() },
            ["metadata_fields", id, "datasource"] if delete => E::DeleteDatasourceEntries { id: (*id).to_owned() },
            ["metadata_fields", id, "datasource"] if get => E::SearchDatasource { id: (*id).to_owned() },
            ["metadata_fields", id, "datasource", "search"] if get || post => {
                E::SearchDatasource { id: (*id).to_owned() }
            }
            ["metadata_fields", id, "datasource_restore"] if post => {
                E::RestoreDatasourceEntries { id: (*id).to_owned() }
            }
            ["metadata_fields", id, "datasource", "order"] if post || put => {
                E::OrderDatasource { id: (*id).to_owned() }
            }
            ["metadata_rules"] if get => E::ListMetadataRules,
            ["metadata_rules"] if post => E::CreateMetadataRule,
            ["metadata_rules", "evaluate"] if post => E::EvaluateMetadataRules,
            ["metadata_rules", "preview"] if post => E::PreviewMetadataRule,
            ["metadata_rules", id] if get => E::MetadataRule { id: (*id).to_owned() },
            ["metadata_rules", id] if put => E::UpdateMetadataRule { id: (*id).to_owned() },
            ["metadata_rules", id] if delete => E::DeleteMetadataRule { id: (*id).to_owned() },
            [rt, action] if post && UPLOAD_ACTIONS.contains(action) => {
                E::Upload { resource_type: (*rt).to_owned(), action: (*action).to_owned() }
            }
            _ => return None,
        })
    }

    /// Whether the call belongs to the Upload API (signed parameters, multipart).
    pub fn is_upload(&self) -> bool {
        matches!(self, Self::Upload { .. })
    }
}

/// Asset ids are 32 lower-case hex chars; resource types never are.
fn is_asset_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(m: Method, path: &str) -> Option<Endpoint> {
        let segs: Vec<String> =
            path.split('/').map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()).collect();
        Endpoint::parse(&m, &segs)
    }

    // Paths as the official SDKs send them (captured against a logging server).
    #[test]
    fn sdk_paths() {
        use Endpoint as E;
        let s = |x: &str| x.to_owned();
        let table = [
            (Method::POST, "image/upload", Some(E::Upload { resource_type: s("image"), action: s("upload") })),
            (Method::POST, "foo/upload", Some(E::Upload { resource_type: s("foo"), action: s("upload") })),
            (Method::POST, "raw/destroy", Some(E::Upload { resource_type: s("raw"), action: s("destroy") })),
            (Method::GET, "ping", Some(E::Ping)),
            (Method::GET, "usage/24-11-2026", Some(E::Usage)),
            (Method::GET, "resources/image", Some(E::ListResources { resource_type: s("image"), delivery_type: None })),
            (
                Method::GET,
                "resources/image/upload",
                Some(E::ListResources { resource_type: s("image"), delivery_type: Some(s("upload")) }),
            ),
            (
                Method::GET,
                "resources/image/upload/f1/my%20pic",
                Some(E::Resource { resource_type: s("image"), delivery_type: s("upload"), public_id: s("f1/my pic") }),
            ),
            (
                Method::POST,
                "resources/image/upload/a%2Fb",
                Some(E::UpdateResource { resource_type: s("image"), delivery_type: s("upload"), public_id: s("a/b") }),
            ),
            (Method::POST, "resources/image/upload/restore", None),
            // The older SDKs' path form of a transformation's identifier.
            (
                Method::PUT,
                "transformations/c_scale,w_100/e_sepia",
                Some(E::UpdateTransformation { id: Some(s("c_scale,w_100/e_sepia")) }),
            ),
            // publish_by_ids / _by_prefix / _by_tag.
            (
                Method::POST,
                "resources/video/publish_resources",
                Some(E::PublishResources { resource_type: s("video") }),
            ),
            // Node's update_resources_access_mode_by_ids / _by_tag / _by_prefix.
            (
                Method::POST,
                "resources/image/upload/update_access_mode",
                Some(E::UpdateAccessMode { resource_type: s("image"), delivery_type: s("upload") }),
            ),
            (
                Method::GET,
                "resources/image/tags/t1",
                Some(E::ResourcesByTag { resource_type: s("image"), tag: s("t1") }),
            ),
            (
                Method::DELETE,
                "resources/image/tags/t1",
                Some(E::DeleteByTag { resource_type: s("image"), tag: s("t1") }),
            ),
            (
                Method::DELETE,
                "resources/image/upload",
                Some(E::DeleteResources { resource_type: s("image"), delivery_type: s("upload") }),
            ),
            (Method::DELETE, "resources", Some(E::DeleteByAssetIds)),
            (Method::GET, "resources/by_asset_ids", Some(E::ResourcesByAssetIds)),
            (
                Method::GET,
                "resources/0123456789abcdef0123456789abcdef",
                Some(E::ResourceByAssetId { asset_id: s("0123456789abcdef0123456789abcdef") }),
            ),
            (Method::GET, "tags/image", Some(E::Tags { resource_type: s("image") })),
            (Method::GET, "folders", Some(E::RootFolders)),
            (Method::GET, "folders/f1/sub", Some(E::SubFolders { path: s("f1/sub") })),
            (Method::POST, "folders/f1%2Fsub", Some(E::CreateFolder { path: s("f1/sub") })),
            (Method::DELETE, "folders/f1", Some(E::DeleteFolder { path: s("f1") })),
            (Method::POST, "upload_presets", Some(E::CreatePreset)),
            (Method::PUT, "upload_presets/p1", Some(E::UpdatePreset { name: s("p1") })),
            (Method::PUT, "metadata_fields/order", Some(E::OrderMetadataFields)),
            (Method::PUT, "metadata_fields/color", Some(E::UpdateMetadataField { id: s("color") })),
            (Method::DELETE, "metadata_fields/color/datasource", Some(E::DeleteDatasourceEntries { id: s("color") })),
            (
                Method::POST,
                "metadata_fields/color/datasource_restore",
                Some(E::RestoreDatasourceEntries { id: s("color") }),
            ),
            (Method::POST, "metadata_fields/color/datasource/order", Some(E::OrderDatasource { id: s("color") })),
            (Method::GET, "metadata_rules", Some(E::ListMetadataRules)),
            (Method::PUT, "metadata_rules/rule1", Some(E::UpdateMetadataRule { id: s("rule1") })),
            (Method::POST, "metadata_rules/evaluate", Some(E::EvaluateMetadataRules)),
            (Method::POST, "image/metadata", Some(E::Upload { resource_type: s("image"), action: s("metadata") })),
            (Method::GET, "nope", None),
            (Method::PATCH, "ping", None),
        ];
        for (m, path, want) in table {
            assert_eq!(parse(m.clone(), path), want, "{m} {path}");
        }
    }
}
