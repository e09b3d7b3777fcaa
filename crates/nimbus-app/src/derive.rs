//! Derived images: a delivery URL with transformations (or another format than the
//! original's) is rendered once, stored in the blob store under a key made of the original's
//! version and the canonical transformation, and served from there afterwards. Concurrent
//! requests for a derivative that does not exist yet wait for one render (single flight).
//!
//! Docs: <https://cloudinary.com/documentation/image_transformations>.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::TryStreamExt as _;
use nimbus_core::delivery::DeliveryPath;
use nimbus_core::transform::{Dpr, Format, LayerSource, Param, Transformation};
use nimbus_core::{Asset, DeliveryType, PublicId, ResourceType};
use nimbus_imaging::render::{RenderError, RenderOptions, render, requested_format};
use sha2::{Digest as _, Sha256};
use tokio::sync::OnceCell;

use crate::error::AppResult;
use crate::events::Caller;
use crate::jobs::NewJob;
use crate::ports::{AssetKey, DerivedAsset};
use crate::{App, AppError};

/// How long a node's claim to render a derivative lasts (renders are bounded well below).
const RENDER_CLAIM_SECS: i64 = 60;
/// How often a node waiting for another node's render looks for the blob.
const RENDER_WAIT_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// Prefix of derived blobs: `derived/{version_id}/{hash}.{ext}`.
pub const DERIVED_PREFIX: &str = "derived/";

/// What the request brings that a derivative may depend on.
#[derive(Debug, Clone, Default)]
pub struct ClientHints {
    pub accept: Option<String>,
    pub dpr: Option<f64>,
}

impl ClientHints {
    /// The key under which a delivery URL's resolution is remembered: the path plus what of
    /// the request can change the answer (formats accepted, DPR hint).
    pub fn cache_key(&self, path: &str) -> String {
        let accept = self.accept.as_deref().unwrap_or("");
        format!(
            "{path}|{}{}|{}",
            u8::from(accept.contains("image/webp")),
            u8::from(accept.contains("image/avif")),
            self.dpr.map_or(0.0, |d| (d * 4.0).round() / 4.0)
        )
    }
}

/// A derived image, just rendered (`bytes`) or stored earlier (read it from `key`).
#[derive(Debug, Clone)]
pub struct Derived {
    pub key: String,
    pub format: Format,
    pub bytes: Option<Bytes>,
    /// Quoted strong validator: the key's hash.
    pub etag: String,
    /// The response depends on `Accept` (f_auto).
    pub vary_accept: bool,
    /// `fl_attachment`.
    pub attachment: bool,
    /// `fl_immutable_cache`: caches may keep it without asking again.
    pub immutable: bool,
}

/// What a delivery URL resolves to.
#[derive(Debug, Clone)]
pub enum Delivery {
    Original(Arc<Asset>),
    Derived(Arc<Asset>, Derived),
}

/// Renders in flight, by derived key.
#[derive(Debug, Default, Clone)]
pub struct InFlight(Arc<Mutex<HashMap<String, Arc<OnceCell<Bytes>>>>>);

impl InFlight {
    fn cell(&self, key: &str) -> Arc<OnceCell<Bytes>> {
        let mut map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(key.to_owned()).or_default().clone()
    }
    fn done(&self, key: &str) {
        let mut map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.remove(key);
    }
}

fn format_of(asset: &Asset) -> Format {
    asset.format.as_deref().and_then(Format::parse).unwrap_or(Format::Jpg)
}

fn render_error(e: RenderError) -> AppError {
    match e {
        RenderError::Unsupported(m) | RenderError::Invalid(m) | RenderError::TooLarge(m) => {
            AppError::InvalidTransformation(m)
        }
        RenderError::Decode(m) => AppError::InvalidTransformation(format!("Image could not be processed - {m}")),
        RenderError::Encode(m) | RenderError::Engine(m) => AppError::Image(m),
    }
}

impl App {
    /// Resolves a delivery URL: the original, or a derivative (rendered now if it is new).
    pub async fn deliver(&self, path: &DeliveryPath, hints: &ClientHints) -> AppResult<Delivery> {
        let (environment, asset) = self.resolve_delivery(path).await?;
        let env = environment.id;
        let ext = path.format.as_deref();
        let same_format = match (ext, &asset.format) {
            (Some(want), Some(have)) => {
                Format::parse(want).is_some_and(|w| Some(w) == Format::parse(have)) || want == have
            }
            _ => true,
        };
        if path.transformations.is_empty() && same_format {
            return Ok(Delivery::Original(asset));
        }
        let t = Transformation::parse(&path.transformations).map_err(|e| AppError::InvalidTransformation(e.message))?;
        let extension = match ext {
            Some(e) => Some(
                Format::parse(e)
                    .ok_or_else(|| AppError::InvalidTransformation(format!("Unsupported output format {e}")))?,
            ),
            None => None,
        };
        // Strict mode: an unsigned URL may only reach derivatives that exist, or
        // transformations allowed for strict mode.
        let strict =
            environment.strict_transformations && path.signature.is_none() && !self.allowed_for_strict(env, &t).await?;
        let derived = self.derive(env, &asset, &t, extension, hints, strict).await?;
        Ok(Delivery::Derived(asset, derived))
    }

    /// The derivative of `asset` through `t` (named transformations expanded): stored, or
    /// rendered now by one caller while concurrent callers wait.
    pub async fn derive(
        &self,
        env: i64,
        asset: &Asset,
        t: &Transformation,
        extension: Option<Format>,
        hints: &ClientHints,
        existing_only: bool,
    ) -> AppResult<Derived> {
        let t = self.expand_named(env, t, &[]).await?;
        if asset.resource_type != ResourceType::Image {
            return Err(AppError::InvalidTransformation(format!(
                "Transformations of {} assets are not supported",
                asset.resource_type
            )));
        }
        let accept = hints.accept.as_deref().unwrap_or("");
        let mut format = requested_format(&t, extension, format_of(asset));
        let vary_accept = format == Format::Auto;
        if format == Format::Auto {
            // Decided before rendering so the key is known: WebP when accepted, else the
            // source's family (PNG for formats that may carry transparency).
            format = if accept.contains("image/webp") {
                Format::Webp
            } else if format_of(asset) == Format::Jpg {
                Format::Jpg
            } else {
                Format::Png
            };
        }
        // Layers are images of the same environment (image/upload); their versions are part of
        // the key, so replacing a logo changes the derivatives that show it.
        let mut layers: Vec<(String, Arc<Asset>)> = Vec::new();
        for c in &t.components {
            if let Some(Param::Layer { source: LayerSource::Image(public_id), .. }) = c.get("l").or(c.get("u")) {
                if layers.iter().any(|(id, _)| id == public_id) {
                    continue;
                }
                let id = PublicId::parse(public_id)?;
                let key = AssetKey {
                    resource_type: ResourceType::Image,
                    delivery_type: DeliveryType::Upload,
                    public_id: &id,
                };
                let layer =
                    self.catalog.asset(env, key).await?.ok_or_else(|| AppError::ResourceNotFound(public_id.clone()))?;
                layers.push((public_id.clone(), Arc::new(layer)));
            }
        }
        let uses_client_dpr = t.components.iter().any(|c| matches!(c.get("dpr"), Some(Param::Dpr(Dpr::Auto))));
        let dpr = if uses_client_dpr { hints.dpr.map(|d| (d * 4.0).round() / 4.0) } else { None };
        let mut id = Sha256::new();
        id.update(t.canonical().as_bytes());
        id.update(b"|");
        id.update(format.as_str().as_bytes());
        if let Some(d) = dpr {
            id.update(format!("|dpr={d}").as_bytes());
        }
        for (lid, layer) in &layers {
            id.update(format!("|layer={lid}@{}", layer.version_id).as_bytes());
        }
        let hash = hex::encode(&id.finalize()[..16]);
        let key = format!("{DERIVED_PREFIX}{}/{hash}.{}", asset.version_id, format.as_str());
        let flag = |name: &str| {
            t.components.iter().any(|c| matches!(c.get("fl"), Some(Param::Flags(f)) if f.iter().any(|x| x == name)))
        };
        let (attachment, immutable) = (flag("attachment"), flag("immutable_cache"));
        let derived = |bytes| Derived {
            key: key.clone(),
            format,
            bytes,
            etag: format!("\"{hash}\""),
            vary_accept,
            attachment,
            immutable,
        };
        if self.blobs.head(&key).await?.is_some() {
            return Ok(derived(None));
        }
        if existing_only {
            return Err(AppError::TransformationNotAllowed(t.canonical()));
        }
        let cell = self.in_flight.cell(&key);
        let rendered = cell
            .get_or_try_init(|| async {
                // Another node rendering the same derivative: wait for its blob.
                if let Some(bytes) = self.wait_for_other_render(&key).await? {
                    return Ok(bytes);
                }
                let rendered = self.render_claimed(&key, asset, &layers, &t, format, accept, dpr, env).await;
                if let Err(e) = self.catalog.release_render(&key, &self.node).await {
                    tracing::warn!(error = %e, "could not release a render claim; it expires");
                }
                rendered
            })
            .await
            .cloned();
        self.in_flight.done(&key);
        Ok(derived(Some(rendered?)))
    }

    /// Waits while another node holds the render claim of `key`; answers its blob once it is
    /// stored, or `None` when this node now holds the claim (free, or expired).
    async fn wait_for_other_render(&self, key: &str) -> AppResult<Option<Bytes>> {
        loop {
            if self.catalog.claim_render(key, &self.node, self.now(), RENDER_CLAIM_SECS).await? {
                return Ok(None);
            }
            tokio::time::sleep(RENDER_WAIT_POLL).await;
            if self.blobs.head(key).await?.is_some() {
                return Ok(Some(Bytes::from(self.read_blob(key).await?)));
            }
        }
    }

    /// Renders a derivative under this node's claim, stores it and lists it.
    #[expect(clippy::too_many_arguments, reason = "one render's inputs, computed by the caller")]
    async fn render_claimed(
        &self,
        key: &str,
        asset: &Asset,
        layers: &[(String, Arc<Asset>)],
        t: &Transformation,
        format: Format,
        accept: &str,
        dpr: Option<f64>,
        env: i64,
    ) -> AppResult<Bytes> {
        let original = self.read_blob(&asset.blob_key).await?;
        let mut layer_bytes = std::collections::BTreeMap::new();
        for (lid, layer) in layers {
            layer_bytes.insert(lid.clone(), self.read_blob(&layer.blob_key).await?);
        }
        let opts = RenderOptions {
            extension: Some(format),
            accepts_webp: accept.contains("image/webp"),
            accepts_avif: accept.contains("image/avif"),
            client_dpr: dpr,
            layers: layer_bytes,
        };
        let canonical = t.canonical();
        let mut t = t.clone();
        // The negotiated format wins over any f_auto left in the chain.
        for c in &mut t.components {
            c.params.retain(|p| !matches!(p, Param::Format(_)));
        }
        let out = self.cpu.run(move || render(&original, &t, &opts)).await?.map_err(render_error)?;
        let bytes = Bytes::from(out.bytes);
        self.blobs.put_bytes(key, bytes.clone()).await?;
        // Listed in the asset's `derived` from now on.
        let record = DerivedAsset {
            asset_id: asset.asset_id.clone(),
            version_id: asset.version_id.clone(),
            transformation: canonical,
            format: format.as_str().to_owned(),
            bytes: bytes.len() as i64,
            blob_key: key.to_owned(),
            created_at: self.now(),
        };
        self.catalog.record_derived_asset(env, &record).await?;
        self.renders.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.count_render(env);
        Ok(bytes)
    }

    /// Renders eager transformations now. One entry each.
    pub async fn eager(&self, env: i64, asset: &Arc<Asset>, items: &[EagerSpec]) -> AppResult<Vec<Eager>> {
        let mut out = Vec::with_capacity(items.len());
        for EagerSpec { transformation: t, format, text } in items.iter().cloned() {
            let d = self.derive(env, asset, &t, format, &ClientHints::default(), false).await?;
            // Listed by the Admin API's `transformations` once rendered.
            self.catalog.record_derived(env, &t.canonical(), self.now()).await?;
            let bytes = match d.bytes {
                Some(b) => b,
                None => Bytes::from(self.read_blob(&d.key).await?),
            };
            // Listed in `derived` even when the blob was already there: an attempt on a node
            // that died between storing the blob and listing it leaves the blob only.
            let record = DerivedAsset {
                asset_id: asset.asset_id.clone(),
                version_id: asset.version_id.clone(),
                transformation: t.canonical(),
                format: d.format.as_str().to_owned(),
                bytes: bytes.len() as i64,
                blob_key: d.key.clone(),
                created_at: self.now(),
            };
            self.catalog.record_derived_asset(env, &record).await?;
            let size = nimbus_imaging::render::header(&bytes).ok().map(|h| (h.width, h.height));
            out.push(Eager { transformation: text, format: d.format, size, bytes: bytes.len() as u64, pending: false });
        }
        Ok(out)
    }

    /// Eager transformations for later (`eager_async`): the job that renders them (and then
    /// announces them to `notify`), and the answer's entries, marked as processing.
    pub async fn eager_later(
        &self,
        caller: &Caller,
        asset: &Asset,
        items: &[EagerSpec],
        notify: Option<String>,
    ) -> AppResult<(NewJob, Vec<Eager>)> {
        let mut out = Vec::with_capacity(items.len());
        let mut spec = Vec::with_capacity(items.len());
        for EagerSpec { transformation: t, format, text } in items {
            // Listed by the Admin API's `transformations` once asked for.
            self.catalog.record_derived(caller.env, &t.canonical(), self.now()).await?;
            let resolved = requested_format(t, *format, format_of(asset));
            spec.push(match format {
                Some(f) => format!("{text}/{}", f.as_str()),
                None => text.clone(),
            });
            out.push(Eager { transformation: text.clone(), format: resolved, size: None, bytes: 0, pending: true });
        }
        let payload = serde_json::json!({
            "resource_type": asset.resource_type,
            "type": asset.delivery_type,
            "public_id": asset.public_id,
            "version_id": asset.version_id,
            "eager": spec.join("|"),
            "notification_url": notify,
            "batch_id": self.ids.hex32(),
            "key": caller.actor.api_key(),
        });
        let job = NewJob::new(crate::jobs::EAGER, Some(caller.env), payload, self.now()).key(format!(
            "eager:{}:{}",
            asset.version_id,
            self.ids.hex32()
        ));
        Ok((job, out))
    }
}

impl App {
    /// The derivatives rendered for `asset`'s current version.
    pub async fn derived_of(&self, env: i64, asset: &Asset) -> AppResult<Vec<DerivedAsset>> {
        Ok(self.catalog.derived_assets(env, &asset.asset_id, &asset.version_id).await?)
    }

    /// A whole blob in memory (originals and layers on their way to the engine).
    pub(crate) async fn read_blob(&self, key: &str) -> AppResult<Vec<u8>> {
        self.blobs.get(key, None).await?.stream.map_ok(|b| b.to_vec()).try_concat().await.map_err(AppError::Io)
    }

    /// Whether `t` is made only of named transformations allowed for strict mode, or is an
    /// eager transformation given `allowed_for_strict`.
    async fn allowed_for_strict(&self, env: i64, t: &Transformation) -> AppResult<bool> {
        if self.catalog.derived(env, &t.canonical()).await?.is_some_and(|d| d.allowed_for_strict) {
            return Ok(true);
        }
        for c in &t.components {
            let [Param::Named(names)] = c.params.as_slice() else { return Ok(false) };
            for n in names {
                if !self.catalog.named(env, n).await?.is_some_and(|x| x.allowed_for_strict) {
                    return Ok(false);
                }
            }
        }
        Ok(!t.components.is_empty())
    }
}

/// One eager transformation: the steps, the output format (`/png` suffix) if given, and the
/// steps as the caller wrote them (`w_2.0` stays `w_2.0` in the answer, as Cloudinary's).
#[derive(Debug, Clone)]
pub struct EagerSpec {
    pub transformation: Transformation,
    pub format: Option<Format>,
    pub text: String,
}

/// Parses `eager=c_fill,w_100|w_50/png`.
pub fn parse_eager(spec: &str) -> AppResult<Vec<EagerSpec>> {
    let mut items = Vec::new();
    for text in spec.split('|').map(str::trim).filter(|s| !s.is_empty()) {
        let (body, ext) = match text.rsplit_once('/') {
            Some((b, e)) if !e.contains('_') && !e.is_empty() => (b, Some(e)),
            _ => (text, None),
        };
        let t = crate::transformations::parse_text(body)?;
        let format = match ext {
            Some(e) => {
                Some(Format::parse(e).ok_or_else(|| AppError::InvalidParam { name: "eager", value: text.to_owned() })?)
            }
            None => None,
        };
        items.push(EagerSpec { transformation: t, format, text: body.to_owned() });
    }
    Ok(items)
}

/// One eager derivative, for the upload response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eager {
    pub transformation: String,
    pub format: Format,
    pub size: Option<(u32, u32)>,
    pub bytes: u64,
    /// Rendering in the background (`eager_async`).
    pub pending: bool,
}
