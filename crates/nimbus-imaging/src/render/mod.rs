//! The transformation engine: decode (with shrink-on-load), then each component in order —
//! geometry (crop, scale, pad), rotation, effects, rounding, border, opacity — then encode.
//! Blocking CPU work: callers run it on the CPU pool.
//!
//! Within a component the order is fixed (Cloudinary documents that one exists, not what it
//! is): EXIF auto-orientation on decode, resize/crop, `a_`, `e_`, `r_`, `bo_`, `o_`; `b_`
//! fills padding and flattens transparency for JPEG; `f_`, `q_` and `fl_` apply to the encode.

mod attribution;
mod decode;
mod effects;
mod encode;
mod faces;
mod focus;
mod iptc;
mod ops;
mod pixels;
mod text;

use image::ImageFormat;
use nimbus_core::transform::geometry::plan;
use nimbus_core::transform::{Angle, Color, Component, Dpr, Format, LayerSource, Param, Transformation};

pub use decode::{MAX_INPUT_PIXELS, header};
pub use encode::EncodeOptions;
pub use pixels::Pixels;

/// Why a render failed. `Unsupported`, `Invalid` and `TooLarge` are the client's (400);
/// the others mean the stored file could not be processed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("cannot decode the image: {0}")]
    Decode(String),
    #[error("cannot encode the image: {0}")]
    Encode(String),
    #[error("image engine: {0}")]
    Engine(String),
}

/// What the request adds to the transformation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RenderOptions {
    /// The URL's extension, as a format (`None`: keep the source's).
    pub extension: Option<Format>,
    /// `Accept` allows WebP / AVIF (for `f_auto`).
    pub accepts_webp: bool,
    pub accepts_avif: bool,
    /// The `Sec-CH-DPR` / `DPR` client hint (for `dpr_auto`).
    pub client_dpr: Option<f64>,
    /// Bytes of the images `l_` / `u_` layers name, by public id.
    pub layers: std::collections::BTreeMap<String, Vec<u8>>,
}

/// A rendered image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub bytes: Vec<u8>,
    pub format: Format,
    pub width: u32,
    pub height: u32,
}

fn source_format(f: ImageFormat) -> Format {
    match f {
        ImageFormat::Png => Format::Png,
        ImageFormat::WebP => Format::Webp,
        ImageFormat::Gif => Format::Gif,
        ImageFormat::Avif => Format::Avif,
        _ => Format::Jpg,
    }
}

/// The output format before `f_auto` is resolved: the last `f_`, else the extension, else
/// the source's.
pub fn requested_format(t: &Transformation, extension: Option<Format>, source: Format) -> Format {
    t.components
        .iter()
        .rev()
        .find_map(|c| match c.get("f") {
            Some(Param::Format(f)) => Some(*f),
            _ => None,
        })
        .or(extension)
        .unwrap_or(source)
}

fn flags(t: &Transformation) -> Vec<&str> {
    t.components
        .iter()
        .filter_map(|c| match c.get("fl") {
            Some(Param::Flags(f)) => Some(f.iter().map(String::as_str).collect::<Vec<_>>()),
            _ => None,
        })
        .flatten()
        .collect()
}

/// The component's own `dpr`, else the chain's (see [`Transformation::chain_dpr`]), else 1.
fn dpr_of(c: &Component, chain: Option<Dpr>, o: &RenderOptions) -> f64 {
    let own = match c.get("dpr") {
        Some(Param::Dpr(d)) => Some(*d),
        _ => None,
    };
    match own.or(chain) {
        Some(Dpr::Value(n)) => n.0,
        Some(Dpr::Auto) => o.client_dpr.unwrap_or(1.0).clamp(1.0, 4.0),
        None => 1.0,
    }
}

/// The focus point of content-aware and face gravity on `img`. Face gravity without a face
/// falls back to the centre (`face`, `faces`, `face:center`) or to content (`face:auto`);
/// `auto:face` / `auto:faces` prefer faces and fall back to content.
fn focus_of(c: &Component, img: &Pixels) -> Option<(f64, f64)> {
    use nimbus_core::transform::Gravity;
    match c.get("g") {
        Some(Param::Gravity(Gravity::Face(mode))) => Some(
            faces::focus(img, mode.starts_with("faces"))
                .unwrap_or_else(|| if mode.ends_with(":auto") { focus::focus(img) } else { (0.5, 0.5) }),
        ),
        Some(Param::Gravity(Gravity::Auto(Some(pref)))) if pref.starts_with("face") => {
            Some(faces::focus(img, pref.starts_with("faces")).unwrap_or_else(|| focus::focus(img)))
        }
        Some(Param::Gravity(Gravity::Auto(_))) => Some(focus::focus(img)),
        _ => None,
    }
}

fn background(c: &Component) -> Option<Color> {
    match c.get("b") {
        Some(Param::Background(col)) => Some(*col),
        _ => None,
    }
}

fn is_layer(c: &Component) -> bool {
    c.get("l").is_some() || c.get("u").is_some()
}

fn applies_layer(c: &Component) -> bool {
    matches!(c.get("fl"), Some(Param::Flags(f)) if f.iter().any(|x| x == "layer_apply"))
}

/// Where a layer goes: gravity (default centre) and offsets toward the centre.
fn placement(c: &Component) -> ops::Placement {
    let compass = match c.get("g") {
        Some(Param::Gravity(nimbus_core::transform::Gravity::Compass(g))) => *g,
        _ => nimbus_core::transform::Compass::Center,
    };
    let offset = |k: &str| match c.get(k) {
        Some(Param::X(d) | Param::Y(d)) => Some(*d),
        _ => None,
    };
    ops::Placement { compass, x: offset("x"), y: offset("y") }
}

/// The component without what places a layer (those apply to the compositing, the rest to
/// the layer itself).
fn without_placement(c: &Component) -> Component {
    let params = c
        .params
        .iter()
        .filter(|p| !matches!(p.key(), "l" | "u" | "g" | "x" | "y" | "co" | "b"))
        .filter(|p| !matches!(p, Param::Flags(f) if f.iter().all(|x| x == "layer_apply")))
        .cloned()
        .collect();
    Component { params }
}

/// Decodes a whole image (a layer), upright and in sRGB.
fn load(input: &[u8]) -> Result<Pixels, RenderError> {
    let head = decode::header(input)?;
    let shown = decode::presentation(input, head.format);
    let (mut px, _) = decode::decode(input, head, 1.0)?;
    if let Some(icc) = &shown.icc {
        decode::to_srgb(&mut px, icc);
    }
    Ok(ops::orient(px, shown.orientation))
}

/// One component on `img`: geometry, rotation, effects, rounding, border, opacity. With
/// `basis`, the geometry is planned on that (full) size and mapped by its scale factor.
fn apply_component(
    mut img: Pixels,
    comp: &Component,
    chain_dpr: Option<Dpr>,
    basis: Option<((u32, u32), f64)>,
    o: &RenderOptions,
) -> Result<Pixels, RenderError> {
    let (basis, scale) = basis.unwrap_or(((img.width, img.height), 1.0));
    let focus = focus_of(comp, &img);
    let p = plan(basis, comp, dpr_of(comp, chain_dpr, o), focus).map_err(RenderError::Invalid)?;
    if !p.is_identity(basis) {
        let r = p.region;
        let region = (f64::from(r.x) * scale, f64::from(r.y) * scale, f64::from(r.w) * scale, f64::from(r.h) * scale);
        let region = (
            region.0,
            region.1,
            region.2.min(f64::from(img.width) - region.0),
            region.3.min(f64::from(img.height) - region.1),
        );
        img = ops::crop_resize(&img, region, p.size)?;
        if let Some(canvas) = p.canvas {
            let fill = background(comp).unwrap_or(Color::WHITE).0;
            img = ops::pad(img, canvas, fill);
        }
    }
    if let Some(Param::Angle(angles)) = comp.get("a") {
        for a in angles {
            img = match *a {
                Angle::Degrees(d) if d.rem_euclid(90) == 0 => ops::rotate90s(img, (d.rem_euclid(360) / 90) as u32),
                Angle::Degrees(d) => {
                    let turned = ops::rotate_any(img, f64::from(d));
                    // The uncovered corners take the component's background, if it has one.
                    match background(comp) {
                        Some(Color([r, g, b, 255])) => turned.flatten([r, g, b]),
                        _ => turned,
                    }
                }
                Angle::Hflip => ops::flip_horizontal(img),
                Angle::Vflip => ops::flip_vertical(img),
                Angle::AutoRight | Angle::AutoLeft | Angle::Ignore | Angle::Exif => img,
            };
        }
    }
    if let Some(Param::Effect(e)) = comp.get("e") {
        img = effects::apply(img, e)?;
    }
    if let Some(Param::Radius(r)) = comp.get("r") {
        img = ops::round_corners(img, r.as_deref());
    }
    if let Some(Param::Border { width, color }) = comp.get("bo") {
        img = ops::border(img, *width, color.0);
    }
    if let Some(Param::Opacity(op)) = comp.get("o") {
        img = ops::opacity(img, *op);
    }
    if let Some(Param::Named(names)) = comp.get("t") {
        return Err(RenderError::Unsupported(format!("Named transformation {} is not defined", names.join("."))));
    }
    Ok(img)
}

/// Renders `input` through `t`.
pub fn render(input: &[u8], t: &Transformation, o: &RenderOptions) -> Result<Rendered, RenderError> {
    let head = decode::header(input)?;
    let ignore_exif =
        t.components.iter().any(|c| matches!(c.get("a"), Some(Param::Angle(a)) if a.contains(&Angle::Ignore)));
    let shown = decode::presentation(input, head.format);
    let orientation = if ignore_exif { 1 } else { shown.orientation };
    let upright = if orientation >= 5 { (head.height, head.width) } else { (head.width, head.height) };

    let chain_dpr = t.chain_dpr();
    // Shrink-on-load: decode only as many pixels as the first component keeps.
    let mut min_scale = 1.0;
    if let Some(first) = t.components.first().filter(|c| !is_layer(c)) {
        let p = plan(upright, first, dpr_of(first, chain_dpr, o), None).map_err(RenderError::Invalid)?;
        if p.canvas.is_none() || p.size.0 < p.region.w {
            let sx = f64::from(p.size.0) / f64::from(p.region.w);
            let sy = f64::from(p.size.1) / f64::from(p.region.h);
            min_scale = sx.max(sy).min(1.0);
        }
    }
    let (mut decoded, shrink) = decode::decode(input, head, min_scale)?;
    // Output is sRGB (and carries no profile): convert from the embedded one, if any.
    if let Some(icc) = &shown.icc {
        decode::to_srgb(&mut decoded, icc);
    }
    let mut img = ops::orient(decoded, orientation);

    let first_is_layer = t.components.first().is_some_and(is_layer);
    // Open layer blocks: the image under construction waits here while its layer is built.
    let mut stack: Vec<(Pixels, bool)> = Vec::new();
    for (i, comp) in t.components.iter().enumerate() {
        // The first component's geometry is planned on the full-size image and mapped onto
        // the shrunk one, so shrinking never changes the result's size.
        let basis = if i == 0 && !first_is_layer { Some((upright, shrink)) } else { None };
        if let Some(Param::Layer { under, source }) = comp.get("l").or(comp.get("u")) {
            let pixels = match source {
                LayerSource::Image(id) => {
                    let bytes =
                        o.layers.get(id).ok_or_else(|| RenderError::Invalid(format!("Layer {id} not found")))?;
                    load(bytes)?
                }
                LayerSource::Text(tl) => {
                    let color = match comp.get("co") {
                        Some(Param::Color(c)) => c.0,
                        _ => [0, 0, 0, 255],
                    };
                    text::render_text(tl, color, background(comp).map(|c| c.0))?
                }
            };
            let layer = apply_component(pixels, &without_placement(comp), chain_dpr, None, o)?;
            let later_apply = t.components[i + 1..].iter().any(applies_layer);
            if applies_layer(comp) || !later_apply {
                img = ops::composite(img, &layer, placement(comp), *under);
            } else {
                stack.push((img, *under));
                img = layer;
            }
            continue;
        }
        if applies_layer(comp) {
            if let Some((base, under)) = stack.pop() {
                let layer = apply_component(img, &without_placement(comp), chain_dpr, None, o)?;
                img = ops::composite(base, &layer, placement(comp), under);
                continue;
            }
        }
        img = apply_component(img, comp, chain_dpr, basis, o)?;
    }
    if !stack.is_empty() {
        return Err(RenderError::Invalid("A layer is opened but never applied (fl_layer_apply)".into()));
    }

    let source = source_format(head.format);
    let format = match requested_format(t, o.extension, source) {
        Format::Auto if o.accepts_webp => Format::Webp,
        Format::Auto if img.is_translucent() => Format::Png,
        Format::Auto => Format::Jpg,
        f => f,
    };
    if format == Format::Jpg && img.has_alpha() {
        let bg = t.components.iter().rev().find_map(background).unwrap_or(Color::WHITE).0;
        img = img.flatten([bg[0], bg[1], bg[2]]);
    }
    let fl = flags(t);
    let quality = t.components.iter().rev().find_map(|c| match c.get("q") {
        Some(Param::Quality(q)) => Some(q.clone()),
        _ => None,
    });
    let opts = EncodeOptions {
        quality: quality.as_ref().map_or(80, |q| q.level()),
        progressive: fl.contains(&"progressive"),
        full_chroma: matches!(quality, Some(nimbus_core::transform::Quality::Value { chroma: Some(444), .. })),
        lossy: fl.contains(&"lossy"),
    };
    let mut bytes = encode::encode(&img, format, opts)?;
    if format == Format::Jpg {
        // fl_keep_iptc keeps the whole IPTC block; fl_keep_attribution the EXIF and IPTC
        // fields that name the maker and the rights holder.
        let mut kept: Vec<Vec<u8>> = Vec::new();
        if fl.contains(&"keep_attribution") {
            kept = attribution::segments(input);
            if fl.contains(&"keep_iptc") {
                kept.retain(|s| s.get(1) != Some(&0xED));
            }
        }
        if fl.contains(&"keep_iptc") {
            kept.extend(iptc::segments(input).into_iter().map(<[u8]>::to_vec));
        }
        let kept: Vec<&[u8]> = kept.iter().map(Vec::as_slice).collect();
        bytes = iptc::with_segments(bytes, &kept);
    }
    Ok(Rendered { bytes, format, width: img.width, height: img.height })
}

#[cfg(test)]
mod tests;
