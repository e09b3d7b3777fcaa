//! What an upload asks for, typed: [`UploadOptions`], each field `None` when not given. The
//! API reads a request's parameters into it, the console fills it from its form, and an
//! upload preset's settings (stored as the Cloudinary parameters they are) are read into it
//! with the same reader, so that a preset and a request combine field by field.
//!
//! Docs: <https://cloudinary.com/documentation/image_upload_api_reference#upload>.

use nimbus_core::params::{parse_custom_headers, parse_pipe_pairs, parse_tags};
use nimbus_core::{AccessMode, Context, DeliveryType};

use crate::AppError;
use crate::derive::{EagerSpec, parse_eager};
use crate::error::AppResult;
use crate::metadata::values::{MetadataInput, parse_input};
use crate::params::Params;

#[derive(Debug, Clone, Default)]
pub struct UploadOptions {
    // The public id and the folders.
    pub public_id: Option<String>,
    pub public_id_prefix: Option<String>,
    pub folder: Option<String>,
    pub asset_folder: Option<String>,
    pub use_filename: Option<bool>,
    pub unique_filename: Option<bool>,
    pub use_asset_folder_as_public_id_prefix: Option<bool>,
    // Names.
    pub display_name: Option<String>,
    pub use_filename_as_display_name: Option<bool>,
    pub filename_override: Option<String>,
    pub discard_original_filename: Option<bool>,
    // Where and how it is kept.
    pub delivery_type: Option<DeliveryType>,
    pub access_mode: Option<AccessMode>,
    pub overwrite: Option<bool>,
    pub headers: Option<Vec<(String, String)>>,
    pub allowed_formats: Option<Vec<String>>,
    // What it carries.
    pub tags: Option<Vec<String>>,
    pub context: Option<Context>,
    pub metadata: Option<MetadataInput>,
    pub clear_invalid: Option<bool>,
    // What follows it.
    pub eager: Option<Vec<EagerSpec>>,
    pub eager_async: Option<bool>,
    pub notification_url: Option<String>,
    pub eager_notification_url: Option<String>,
    /// `image_metadata` (or `media_metadata`): the answer carries the embedded metadata.
    pub image_metadata: Option<bool>,
}

impl UploadOptions {
    /// Reads Cloudinary's upload parameters (a request's, or a preset's settings). Names that
    /// are not upload options (the signature, the file, the preset's name, ...) are not read
    /// here; refusing what Nimbus does not honour is the caller's ([`crate::honoured`]).
    pub fn from_params(p: &Params) -> AppResult<Self> {
        let text = |name: &str| p.get(name).map(str::to_owned);
        Ok(Self {
            public_id: text("public_id"),
            public_id_prefix: text("public_id_prefix"),
            folder: text("folder"),
            asset_folder: text("asset_folder"),
            use_filename: p.bool("use_filename"),
            unique_filename: p.bool("unique_filename"),
            use_asset_folder_as_public_id_prefix: p.bool("use_asset_folder_as_public_id_prefix"),
            display_name: text("display_name"),
            use_filename_as_display_name: p.bool("use_filename_as_display_name"),
            filename_override: text("filename_override"),
            discard_original_filename: p.bool("discard_original_filename"),
            delivery_type: p.get("type").map(str::parse).transpose()?,
            access_mode: p.get("access_mode").map(str::parse).transpose()?,
            overwrite: p.bool("overwrite"),
            headers: p.get("headers").map(parse_custom_headers).transpose().map_err(AppError::InvalidHeaders)?,
            allowed_formats: p.get("allowed_formats").map(|_| p.list("allowed_formats")),
            tags: p.get("tags").map(parse_tags),
            context: p.get("context").map(parse_pipe_pairs),
            metadata: p.get("metadata").map(parse_input).transpose()?,
            clear_invalid: p.bool("clear_invalid"),
            eager: p.get("eager").map(parse_eager).transpose()?,
            eager_async: p.bool("eager_async"),
            notification_url: text("notification_url"),
            eager_notification_url: text("eager_notification_url"),
            image_metadata: match (p.bool("image_metadata"), p.bool("media_metadata")) {
                (None, None) => None,
                (a, b) => Some(a == Some(true) || b == Some(true)),
            },
        })
    }

    /// These options, with `defaults` where a field is not given (a preset under a signed
    /// request: the request wins).
    pub fn over(self, defaults: Self) -> Self {
        Self {
            public_id: self.public_id.or(defaults.public_id),
            public_id_prefix: self.public_id_prefix.or(defaults.public_id_prefix),
            folder: self.folder.or(defaults.folder),
            asset_folder: self.asset_folder.or(defaults.asset_folder),
            use_filename: self.use_filename.or(defaults.use_filename),
            unique_filename: self.unique_filename.or(defaults.unique_filename),
            use_asset_folder_as_public_id_prefix: self
                .use_asset_folder_as_public_id_prefix
                .or(defaults.use_asset_folder_as_public_id_prefix),
            display_name: self.display_name.or(defaults.display_name),
            use_filename_as_display_name: self.use_filename_as_display_name.or(defaults.use_filename_as_display_name),
            filename_override: self.filename_override.or(defaults.filename_override),
            discard_original_filename: self.discard_original_filename.or(defaults.discard_original_filename),
            delivery_type: self.delivery_type.or(defaults.delivery_type),
            access_mode: self.access_mode.or(defaults.access_mode),
            overwrite: self.overwrite.or(defaults.overwrite),
            headers: self.headers.or(defaults.headers),
            allowed_formats: self.allowed_formats.or(defaults.allowed_formats),
            tags: self.tags.or(defaults.tags),
            context: self.context.or(defaults.context),
            metadata: self.metadata.or(defaults.metadata),
            clear_invalid: self.clear_invalid.or(defaults.clear_invalid),
            eager: self.eager.or(defaults.eager),
            eager_async: self.eager_async.or(defaults.eager_async),
            notification_url: self.notification_url.or(defaults.notification_url),
            eager_notification_url: self.eager_notification_url.or(defaults.eager_notification_url),
            image_metadata: self.image_metadata.or(defaults.image_metadata),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_read_and_combined_field_by_field() {
        let p = Params::from_pairs(&[
            ("public_id", "a/b"),
            ("tags", "x, y"),
            ("context", "alt=hi|who=me"),
            ("type", "private"),
            ("overwrite", "false"),
            ("allowed_formats", "jpg,png"),
            ("eager", "w_10|c_fill,w_5/png"),
            ("signature", "ignored"),
        ]);
        let o = UploadOptions::from_params(&p).unwrap();
        assert_eq!(o.public_id.as_deref(), Some("a/b"));
        assert_eq!(o.tags, Some(vec!["x".to_owned(), "y".to_owned()]));
        assert_eq!(o.context.as_ref().map(Vec::len), Some(2));
        assert_eq!((o.delivery_type, o.overwrite), (Some(DeliveryType::Private), Some(false)));
        assert_eq!(o.allowed_formats, Some(vec!["jpg".to_owned(), "png".to_owned()]));
        assert_eq!(o.eager.as_ref().map(Vec::len), Some(2));
        assert!(o.folder.is_none() && o.metadata.is_none());
        let preset = UploadOptions::from_params(&Params::from_pairs(&[("folder", "f"), ("tags", "p")])).unwrap();
        let both = o.over(preset);
        assert_eq!(
            (both.folder.as_deref(), both.tags.as_ref().map(Vec::len)),
            (Some("f"), Some(2)),
            "the request wins"
        );
        assert!(UploadOptions::from_params(&Params::from_pairs(&[("type", "nope")])).is_err());
        assert!(UploadOptions::from_params(&Params::from_pairs(&[("eager", "w_abc")])).is_err());
    }
}
