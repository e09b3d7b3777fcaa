//! Where the pixels of one component go: which region of the current image is used, what
//! size it is scaled to, and the canvas it may be padded onto. Pure arithmetic; the imaging
//! engine carries it out.
//!
//! Modes follow Cloudinary's `c_` table: scale, fit, limit, mfit, fill, lfill, pad, lpad, mpad,
//! crop, thumb, auto. Docs: <https://cloudinary.com/documentation/resizing_and_cropping>.

use super::values::{Compass, CropMode, Dim, Gravity};
use super::{Component, Param};

/// A rectangle in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// The geometry of one component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Region of the current image that is kept.
    pub region: Rect,
    /// Size the region is scaled to.
    pub size: (u32, u32),
    /// Canvas the scaled region is placed on, and where (pad modes).
    pub canvas: Option<Rect>,
}

impl Plan {
    /// The size of the component's output.
    pub fn output(&self) -> (u32, u32) {
        self.canvas.map_or(self.size, |c| (c.w, c.h))
    }
    /// Whether the component leaves the image as it is.
    pub fn is_identity(&self, input: (u32, u32)) -> bool {
        self.canvas.is_none() && self.size == input && self.region == Rect { x: 0, y: 0, w: input.0, h: input.1 }
    }
}

/// Most pixels a requested output may have (a 100 MP guard against absurd sizes).
pub const MAX_OUTPUT_PIXELS: u64 = 100_000_000;

fn px(v: f64) -> u32 {
    v.round().clamp(1.0, f64::from(u32::MAX)) as u32
}

/// The anchor weights of a gravity; content-aware gravity uses `focus` (a point in 0..1 of
/// the image, computed by the engine) and falls back to the center.
fn anchor(g: Option<&Gravity>, has_offsets: bool, focus: Option<(f64, f64)>) -> Anchor {
    match g {
        Some(Gravity::Compass(c)) => Anchor::Compass(*c),
        Some(Gravity::XyCenter) => Anchor::XyCenter,
        Some(Gravity::Auto(_) | Gravity::Face(_)) => Anchor::Focus(focus.unwrap_or((0.5, 0.5))),
        None if has_offsets => Anchor::Compass(Compass::NorthWest),
        None => Anchor::Compass(Compass::Center),
    }
}

enum Anchor {
    Compass(Compass),
    XyCenter,
    Focus((f64, f64)),
}

/// Positions a window of `win` inside `total` along one axis.
fn place(total: f64, win: f64, weight: f64, offset: f64) -> f64 {
    let dir = if weight > 0.5 { -1.0 } else { 1.0 };
    ((total - win) * weight + dir * offset).clamp(0.0, (total - win).max(0.0))
}

fn window(input: (u32, u32), win: (f64, f64), anchor: &Anchor, off: (f64, f64)) -> Rect {
    let (w0, h0) = (f64::from(input.0), f64::from(input.1));
    let (ww, wh) = (win.0.min(w0).max(1.0), win.1.min(h0).max(1.0));
    let (x, y) = match anchor {
        Anchor::Compass(c) => {
            let (gx, gy) = c.weights();
            (place(w0, ww, gx, off.0), place(h0, wh, gy, off.1))
        }
        Anchor::XyCenter => ((off.0 - ww / 2.0).clamp(0.0, w0 - ww), (off.1 - wh / 2.0).clamp(0.0, h0 - wh)),
        Anchor::Focus((fx, fy)) => ((fx * w0 - ww / 2.0).clamp(0.0, w0 - ww), (fy * h0 - wh / 2.0).clamp(0.0, h0 - wh)),
    };
    let (rx, ry) = (x.round() as u32, y.round() as u32);
    let (rw, rh) = (px(ww).min(input.0 - rx.min(input.0 - 1)), px(wh).min(input.1 - ry.min(input.1 - 1)));
    Rect { x: rx, y: ry, w: rw, h: rh }
}

/// The geometry of `comp` applied to an image of `input` pixels, with device pixel ratio
/// `dpr` and, for content-aware gravity, the engine's `focus` point.
pub fn plan(input: (u32, u32), comp: &Component, dpr: f64, focus: Option<(f64, f64)>) -> Result<Plan, String> {
    let (w0, h0) = (f64::from(input.0), f64::from(input.1));
    let full = Rect { x: 0, y: 0, w: input.0, h: input.1 };
    let dim = |key: &str, current: u32| match comp.get(key) {
        Some(Param::Width(d) | Param::Height(d)) => Some(d.resolve(current) * dpr),
        _ => None,
    };
    let offset = |key: &str, current: u32| match comp.get(key) {
        Some(Param::X(d) | Param::Y(d)) => match d {
            Dim::Px(p) => *p as f64 * dpr,
            Dim::Fraction(f) => f.0 * f64::from(current),
        },
        _ => 0.0,
    };
    let ar = match comp.get("ar") {
        Some(Param::AspectRatio(a)) => Some(a.value()),
        _ => None,
    };
    let (mut w, mut h) = (dim("w", input.0), dim("h", input.1));
    // One dimension and an aspect ratio give the other.
    match (w, h, ar) {
        (Some(wv), None, Some(r)) => h = Some(wv / r),
        (None, Some(hv), Some(r)) => w = Some(hv * r),
        (None, None, Some(r)) => {
            // An aspect ratio alone crops the largest such region (as with c_crop / fill).
            if w0 / h0 > r {
                (w, h) = (Some(h0 * r), Some(h0));
            } else {
                (w, h) = (Some(w0), Some(w0 / r));
            }
        }
        _ => {}
    }
    let mode = match comp.get("c") {
        Some(Param::Crop(m)) => *m,
        _ if ar.is_some() && comp.get("w").is_none() && comp.get("h").is_none() => CropMode::Crop,
        _ => CropMode::Scale,
    };
    let gravity = match comp.get("g") {
        Some(Param::Gravity(g)) => Some(g),
        _ => None,
    };
    if let (Some(Gravity::Auto(_)), false) = (gravity, mode.crops()) {
        return Err(format!("Gravity auto is only valid with cropping modes, not c_{}", mode.as_str()));
    }
    let off = (offset("x", input.0), offset("y", input.1));
    let has_offsets = comp.get("x").is_some() || comp.get("y").is_some();
    let anchor = anchor(gravity, has_offsets, focus);
    if w.is_none() && h.is_none() {
        return Ok(Plan { region: full, size: input, canvas: None });
    }
    // Scale factors to fit the box along each given axis.
    let sx = w.map(|w| w / w0);
    let sy = h.map(|h| h / h0);
    let fit = match (sx, sy) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => 1.0,
    };
    let cover = match (sx, sy) {
        (Some(a), Some(b)) => a.max(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => 1.0,
    };
    let uniform = |s: f64| (px(w0 * s), px(h0 * s));
    let plan = match mode {
        CropMode::Scale => {
            let size = match (w, h) {
                (Some(w), Some(h)) => (px(w), px(h)),
                (Some(w), None) => (px(w), px(h0 * w / w0)),
                (None, Some(h)) => (px(w0 * h / h0), px(h)),
                (None, None) => input,
            };
            Plan { region: full, size, canvas: None }
        }
        CropMode::Fit => Plan { region: full, size: uniform(fit), canvas: None },
        CropMode::Limit => Plan { region: full, size: uniform(fit.min(1.0)), canvas: None },
        CropMode::Mfit => Plan { region: full, size: uniform(fit.max(1.0)), canvas: None },
        CropMode::Fill | CropMode::Thumb | CropMode::Auto | CropMode::Lfill => {
            let (bw, bh) = (w.unwrap_or(w0 * cover), h.unwrap_or(h0 * cover));
            let mut s = cover;
            let (mut bw, mut bh) = (bw, bh);
            if mode == CropMode::Lfill && s > 1.0 {
                // Never upscale: keep the requested aspect ratio, at most the input's size.
                s = 1.0;
                let r = bw / bh;
                (bw, bh) = if w0 / h0 > r { (h0 * r, h0) } else { (w0, w0 / r) };
            }
            let region = window(input, (bw / s, bh / s), &anchor, (off.0 / s, off.1 / s));
            Plan { region, size: (px(bw), px(bh)), canvas: None }
        }
        CropMode::Crop => {
            let region = window(input, (w.unwrap_or(w0), h.unwrap_or(h0)), &anchor, off);
            Plan { region, size: (region.w, region.h), canvas: None }
        }
        CropMode::Pad | CropMode::Lpad | CropMode::Mpad => {
            let s = match mode {
                CropMode::Lpad => fit.min(1.0),
                CropMode::Mpad => fit.max(1.0),
                _ => fit,
            };
            let size = uniform(s);
            let (cw, ch) = (w.map_or(size.0, px).max(size.0), h.map_or(size.1, px).max(size.1));
            let (gx, gy) = match &anchor {
                Anchor::Compass(c) => c.weights(),
                _ => (0.5, 0.5),
            };
            let x = ((f64::from(cw) - f64::from(size.0)) * gx).round() as u32;
            let y = ((f64::from(ch) - f64::from(size.1)) * gy).round() as u32;
            Plan { region: full, size, canvas: Some(Rect { x, y, w: cw, h: ch }) }
        }
    };
    let (ow, oh) = plan.output();
    if u64::from(ow) * u64::from(oh) > MAX_OUTPUT_PIXELS {
        return Err(format!("Requested image is too large: {ow}x{oh} pixels (at most {MAX_OUTPUT_PIXELS})"));
    }
    Ok(plan)
}
