//! The upload flow: resolve the file (staged multipart part, data URI or remote URL), probe
//! it, decide the public id and folder, put the blob, then write the catalog row in one
//! transaction. A crash at any point leaves either the old asset or the new one; a blob
//! put without its row is an orphan the sweeper removes.
//!
//! Docs: <https://cloudinary.com/documentation/image_upload_api_reference#upload>.

use nimbus_core::metadata::Issue;
use nimbus_core::{Asset, PublicId, ResourceType};
use nimbus_imaging::MediaKind;

use crate::auth::UploadCaller;
use crate::derive::Eager;
use crate::error::AppResult;
use crate::events::WriteCtx;
use crate::metadata::values::{MetadataInput, MetadataOutcome, compute, merge_under};
use crate::ports::{AssetKey, BasedOn, MetadataGuard, Saved};
use crate::staging::{StagedFile, StagingWriter, decode_data_uri};
use crate::upload_options::UploadOptions;
use crate::upload_policy::{check_format_allowed, preset_options, signed_upload_options, unsigned_upload_options};
use crate::{App, AppError};

/// Where the uploaded bytes come from.
pub enum FileSource {
    /// A multipart file part, already staged.
    Staged(StagedFile),
    /// A `file` text field: a data URI or a remote URL.
    Text(String),
}

/// An upload's options once bounded by its caller (and its preset), and its metadata input.
#[derive(Debug, Clone)]
pub struct UploadRequest {
    pub options: UploadOptions,
    pub metadata: MetadataInput,
}

/// The result of an upload, for the response.
#[derive(Debug, Clone)]
pub struct Uploaded {
    pub asset: Asset,
    /// The id existed and `overwrite` was off: this is the existing asset.
    pub existing: bool,
    pub overwritten: bool,
    /// Metadata warnings (grandfathered values, rule values not applied).
    pub metadata_warnings: Vec<Issue>,
    /// Eager derivatives.
    pub eager: Vec<Eager>,
}

/// How often a save is retried when the metadata it carries went stale.
const SAVE_ATTEMPTS: usize = 3;

/// Length of generated public ids, as Cloudinary's.
const GENERATED_ID_LEN: usize = 20;

impl App {
    /// A writer for a new staged file, named uniquely.
    pub async fn staging_writer(&self, filename: Option<String>) -> AppResult<StagingWriter> {
        StagingWriter::create(&self.config.staging_dir, self.ids.hex32(), self.config.max_file_bytes, filename).await
    }

    async fn resolve_file(&self, source: FileSource) -> AppResult<StagedFile> {
        match source {
            FileSource::Staged(f) => Ok(f),
            FileSource::Text(text) if text.starts_with("data:") => {
                let bytes = self.cpu.run(move || decode_data_uri(&text)).await??;
                let mut w = self.staging_writer(None).await?;
                w.push(&bytes).await?;
                w.finish().await
            }
            FileSource::Text(url) if url.starts_with("http://") || url.starts_with("https://") => {
                let name = url
                    .split(['?', '#'])
                    .next()
                    .and_then(|u| u.rsplit('/').next())
                    .filter(|n| !n.is_empty())
                    .map(percent_decode);
                let w = self.staging_writer(name).await?;
                self.remote.fetch(&url, w).await
            }
            FileSource::Text(other) => Err(AppError::InvalidParam { name: "file", value: truncate(&other, 64) }),
        }
    }

    /// The options an upload will act on, bounded by who is calling (see
    /// [`upload_policy`](crate::upload_policy)): the request's, and a preset's (the caller's
    /// unsigned preset, or the one `preset` names), with the metadata of both merged. Checked
    /// before the file is stored, so a refused call keeps nothing.
    pub async fn upload_request(
        &self,
        caller: &UploadCaller,
        mut request: UploadOptions,
        preset: Option<&str>,
    ) -> AppResult<UploadRequest> {
        let request_metadata = request.metadata.take().unwrap_or_default();
        let named = match (&caller.unsigned_preset, preset) {
            (Some(_), _) | (None, None) => None,
            (None, Some(name)) => Some(
                self.catalog
                    .preset(caller.env.id, name)
                    .await?
                    .ok_or_else(|| AppError::UploadPresetMissing(name.to_owned()))?,
            ),
        };
        let preset = caller.unsigned_preset.as_ref().or(named.as_ref());
        let preset_metadata = match preset {
            Some(p) => preset_options(p)?.metadata.unwrap_or_default(),
            None => MetadataInput::new(),
        };
        let (options, metadata) = match &caller.unsigned_preset {
            // A stranger's values go under the preset's.
            Some(p) => (unsigned_upload_options(p, &request)?, merge_under(preset_metadata, request_metadata)),
            None => (signed_upload_options(preset, request)?, merge_under(request_metadata, preset_metadata)),
        };
        let mut options = options;
        options.metadata = None;
        Ok(UploadRequest { options, metadata })
    }

    pub async fn upload(
        &self,
        caller: &UploadCaller,
        rt: ResourceType,
        request: UploadRequest,
        file: Option<FileSource>,
    ) -> AppResult<Uploaded> {
        let signed = caller.api_key.is_some() || caller.person.is_some();
        let UploadRequest { options: o, metadata: metadata_input } = request;
        let notify = self.checked_target("notification_url", o.notification_url.as_deref())?;
        let eager_notify = match self.checked_target("eager_notification_url", o.eager_notification_url.as_deref())? {
            Some(u) => Some(u),
            None => notify.clone(),
        };
        let eager = o.eager.clone().unwrap_or_default();
        let eager_async = o.eager_async == Some(true);
        let file = self.resolve_file(file.ok_or(AppError::MissingParam("file"))?).await?;
        let dt = o.delivery_type.unwrap_or(nimbus_core::DeliveryType::Upload);
        let access_mode = o.access_mode.unwrap_or_default();
        let custom_headers = o.headers.clone().unwrap_or_default();

        let Identified { rt, format, width, height, image_metadata } = self.identify(rt, &file).await?;
        let raw_ext = file.filename.as_deref().and_then(extension);
        check_format_allowed(o.allowed_formats.as_deref(), format.as_deref().or(raw_ext))?;
        let public_id = self.choose_public_id(&o, rt, file.filename.as_deref(), format.as_deref())?;
        let overwrite = o.overwrite.unwrap_or(signed);
        let key = AssetKey { resource_type: rt, delivery_type: dt, public_id: &public_id };
        // With overwrite on, the save itself keeps the old asset id, creation time and a rising
        // version; only overwrite off needs to look first (to skip storing a blob for nothing).
        if !overwrite {
            if let Some(existing) = self.catalog.asset(caller.env.id, key).await? {
                return Ok(Uploaded {
                    asset: existing,
                    existing: true,
                    overwritten: false,
                    metadata_warnings: Vec::new(),
                    eager: Vec::new(),
                });
            }
        }

        // Metadata is decided before anything is stored: a refused write leaves no blob.
        let clear_invalid = o.clear_invalid == Some(true);
        let (mut metadata, mut guard) =
            self.upload_metadata(caller.env.id, key, overwrite, &metadata_input, clear_invalid).await?;

        let now = self.now();
        let version_id = self.ids.hex32();
        let blob_key = format!("originals/{}/{}", &version_id[..2], version_id);
        let asset_folder = o
            .asset_folder
            .as_deref()
            .or(o.folder.as_deref())
            .map(|f| f.trim_matches('/').to_owned())
            .unwrap_or_else(|| public_id.folder().to_owned());
        // `use_filename_as_display_name` (sent by `cld sync` and `upload_dir`): the file's name
        // without its extension, as the original filename is reported.
        let from_filename = match o.use_filename_as_display_name {
            Some(true) => o
                .filename_override
                .clone()
                .or_else(|| file.filename.as_deref().map(|f| strip_extension(basename(f)).to_owned())),
            _ => None,
        };
        let display_name = o.display_name.clone().or(from_filename).unwrap_or_else(|| public_id.name().to_owned());
        let original_filename = if o.discard_original_filename == Some(true) {
            None
        } else {
            o.filename_override
                .clone()
                .or_else(|| file.filename.as_deref().map(|f| strip_extension(basename(f)).to_owned()))
        };
        let asset = Asset {
            asset_id: self.ids.hex32(),
            resource_type: rt,
            delivery_type: dt,
            access_mode,
            headers: custom_headers,
            public_id: public_id.clone(),
            version: now,
            version_id,
            format,
            width,
            height,
            bytes: file.bytes as i64,
            etag: file.md5.clone(),
            blob_key: blob_key.clone(),
            original_filename,
            display_name,
            asset_folder,
            tags: o.tags.clone().unwrap_or_default(),
            context: o.context.clone().unwrap_or_default(),
            metadata: std::mem::take(&mut metadata.values),
            image_metadata,
            created_at: now,
            updated_at: now,
        };

        // What the save causes, enqueued in its transaction: eager derivatives for later.
        let mut w = WriteCtx::new(&caller.caller(), now).notify(notify);
        let mut pending_eager = Vec::new();
        if eager_async && !eager.is_empty() {
            let (job, pending) = self.eager_later(&w.caller, &asset, &eager, eager_notify).await?;
            w.jobs.push(job);
            pending_eager = pending;
        }

        self.blobs.put_file(&blob_key, &file.path).await?;
        drop(file);
        let mut asset = asset;
        let mut attempts = 1;
        let saved = loop {
            match self.catalog.save_asset(&w, &asset, overwrite, Some(&guard)).await {
                Ok(Saved::Stale) if attempts < SAVE_ATTEMPTS => {
                    // The schema or the replaced asset changed: decide the metadata again.
                    attempts += 1;
                    let again =
                        self.upload_metadata(caller.env.id, key, overwrite, &metadata_input, clear_invalid).await;
                    match again {
                        Ok((m, g)) => {
                            asset.metadata = m.values;
                            metadata.warnings = m.warnings;
                            guard = g;
                        }
                        Err(e) => {
                            self.delete_blob_quietly(&blob_key).await;
                            return Err(e);
                        }
                    }
                }
                Ok(Saved::Stale) => {
                    self.delete_blob_quietly(&blob_key).await;
                    return Err(AppError::MetadataBusy);
                }
                Ok(s) => break s,
                Err(e) => {
                    self.delete_blob_quietly(&blob_key).await;
                    return Err(e.into());
                }
            }
        };
        self.changed();
        if !asset.asset_folder.is_empty() {
            self.catalog.ensure_folder(&WriteCtx::new(&w.caller, now), &asset.asset_folder).await?;
        }
        let metadata_warnings = metadata.warnings;
        let mut up = match saved {
            Saved::Inserted(a) => {
                Uploaded { asset: a, existing: false, overwritten: false, metadata_warnings, eager: Vec::new() }
            }
            // The replaced version's blobs go by a job, relayed from the upload's event.
            Saved::Replaced { asset, .. } => {
                Uploaded { asset, existing: false, overwritten: true, metadata_warnings, eager: Vec::new() }
            }
            Saved::Existing(a) => {
                self.delete_blob_quietly(&blob_key).await;
                return Ok(Uploaded {
                    asset: a,
                    existing: true,
                    overwritten: false,
                    metadata_warnings: Vec::new(),
                    eager: Vec::new(),
                });
            }
            Saved::Stale => return Err(AppError::MetadataBusy),
        };
        if eager_async {
            up.eager = pending_eager;
        } else if !eager.is_empty() {
            up.eager = self.eager(caller.env.id, &std::sync::Arc::new(up.asset.clone()), &eager).await?;
        }
        Ok(up)
    }

    /// The metadata of an upload: against the stored asset when it will be replaced, else
    /// as a new asset; with the guard the save checks.
    async fn upload_metadata(
        &self,
        env: i64,
        key: AssetKey<'_>,
        overwrite: bool,
        input: &MetadataInput,
        clear_invalid: bool,
    ) -> AppResult<(MetadataOutcome, MetadataGuard)> {
        let schema = self.metadata_schema(env).await?;
        let in_play = !input.is_empty() || !schema.docs.is_empty();
        let existing = match overwrite && in_play {
            true => self.catalog.asset(env, key).await?.map(|a| a.metadata),
            false => None,
        };
        let stored = existing.clone().unwrap_or_default();
        let out = compute(&schema, &stored, input, existing.is_none(), clear_invalid).map_err(AppError::metadata)?;
        let based_on = match (in_play && overwrite, existing) {
            (false, _) => BasedOn::Anything,
            (true, None) => BasedOn::NewAsset,
            (true, Some(m)) => BasedOn::Stored(m),
        };
        let guard = MetadataGuard { schema_version: out.schema_version, based_on };
        Ok((out, guard))
    }

    /// Removes a blob nobody references; on failure the sweeper will.
    pub(crate) async fn delete_blob_quietly(&self, key: &str) {
        if let Err(e) = self.blobs.delete(key).await {
            tracing::warn!(blob = key, error = %e, "could not delete an unreferenced blob; the sweeper will");
        }
    }

    /// Resource type, format and dimensions, from the file's header.
    /// What an uploaded file is.
    async fn identify(&self, rt: ResourceType, file: &StagedFile) -> AppResult<Identified> {
        let kind = nimbus_imaging::sniff(&file.head);
        let rt = match rt {
            ResourceType::Auto => match kind {
                MediaKind::Image => ResourceType::Image,
                MediaKind::Video => ResourceType::Video,
                MediaKind::Other => ResourceType::Raw,
            },
            other => other,
        };
        match rt {
            ResourceType::Image => {
                let path = file.path.clone();
                let (probed, exif) = self
                    .cpu
                    .run(move || nimbus_imaging::probe_file(&path).map(|p| (p, nimbus_imaging::image_metadata(&path))))
                    .await?
                    .map_err(|e| match e {
                        nimbus_imaging::ProbeError::NotAnImage => AppError::InvalidImage,
                        nimbus_imaging::ProbeError::Io(io) => AppError::Io(io),
                    })?;
                Ok(Identified {
                    rt,
                    format: Some(probed.format.to_owned()),
                    width: Some(probed.width as i64),
                    height: Some(probed.height as i64),
                    image_metadata: exif,
                })
            }
            ResourceType::Video => {
                let format = nimbus_imaging::video_format(&file.head)
                    .map(str::to_owned)
                    .or_else(|| file.filename.as_deref().and_then(extension).map(str::to_ascii_lowercase));
                Ok(Identified { rt, format, ..Identified::raw() })
            }
            _ => Ok(Identified::raw()),
        }
    }

    fn choose_public_id(
        &self,
        o: &UploadOptions,
        rt: ResourceType,
        filename: Option<&str>,
        format: Option<&str>,
    ) -> AppResult<PublicId> {
        let raw_ext = match rt {
            ResourceType::Raw => filename.and_then(extension),
            _ => None,
        };
        let name = match o.public_id.as_deref() {
            Some(id) => {
                let id = match (rt, format) {
                    // An image id given with its own extension keeps only the name.
                    (ResourceType::Image | ResourceType::Video, Some(f)) => {
                        id.strip_suffix(&format!(".{f}")).unwrap_or(id)
                    }
                    _ => id,
                };
                id.to_owned()
            }
            None => {
                let stem = if o.use_filename == Some(true) {
                    filename.map(|f| sanitize(strip_extension(basename(f)))).filter(|s| !s.is_empty())
                } else {
                    None
                };
                let mut id = match stem {
                    Some(stem) if o.unique_filename != Some(false) => {
                        format!("{stem}_{}", self.ids.token(6))
                    }
                    Some(stem) => stem,
                    None => self.ids.token(GENERATED_ID_LEN),
                };
                if let Some(ext) = raw_ext {
                    id.push('.');
                    id.push_str(ext);
                }
                id
            }
        };
        let mut full = String::new();
        if let Some(folder) = o.folder.as_deref().map(|f| f.trim_matches('/')).filter(|f| !f.is_empty()) {
            full.push_str(folder);
            full.push('/');
        }
        if o.use_asset_folder_as_public_id_prefix == Some(true) {
            if let Some(folder) = o.asset_folder.as_deref().map(|f| f.trim_matches('/')).filter(|f| !f.is_empty()) {
                full.push_str(folder);
                full.push('/');
            }
        }
        if let Some(prefix) = o.public_id_prefix.as_deref().filter(|p| !p.is_empty()) {
            full.push_str(prefix);
        }
        full.push_str(&name);
        Ok(PublicId::parse(&full)?)
    }
}

fn basename(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

fn strip_extension(name: &str) -> &str {
    match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => name,
    }
}

fn extension(name: &str) -> Option<&str> {
    basename(name).rsplit_once('.').map(|(_, e)| e).filter(|e| !e.is_empty() && e.len() <= 10)
}

/// Keeps letters, digits, `-`, `_` and `.`; everything else becomes `_`.
fn sanitize(s: &str) -> String {
    s.chars().map(|c| if c.is_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect()
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// What [`App::identify`] learns of an uploaded file.
struct Identified {
    rt: ResourceType,
    format: Option<String>,
    width: Option<i64>,
    height: Option<i64>,
    image_metadata: nimbus_core::Context,
}

impl Identified {
    fn raw() -> Self {
        Self { rt: ResourceType::Raw, format: None, width: None, height: None, image_metadata: Vec::new() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert_eq!(basename("/tmp/cap/small.txt"), "small.txt");
        assert_eq!(strip_extension("small.txt"), "small");
        assert_eq!(strip_extension(".hidden"), ".hidden");
        assert_eq!(extension("a/b.PDF"), Some("PDF"));
        assert_eq!(sanitize("my pic?"), "my_pic_");
        assert_eq!(percent_decode("a%20b%zz"), "a b%zz");
    }
}
