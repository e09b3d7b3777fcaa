//! Pixel operations: crop-and-resize (SIMD convolution), padding, rotation and flips,
//! borders, opacity, rounded corners.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use nimbus_core::transform::geometry::Rect;
use nimbus_core::transform::{Compass, Dim};

use super::RenderError;
use super::pixels::Pixels;

fn pixel_type(channels: u8) -> PixelType {
    if channels == 4 { PixelType::U8x4 } else { PixelType::U8x3 }
}

/// Takes `region` of `src` (in `src` pixels, fractional after shrink-on-load) and scales it to
/// `size` with a Lanczos3 filter; alpha is premultiplied while filtering.
pub fn crop_resize(src: &Pixels, region: (f64, f64, f64, f64), size: (u32, u32)) -> Result<Pixels, RenderError> {
    let (x, y, w, h) = region;
    let full = x == 0.0 && y == 0.0 && w == f64::from(src.width) && h == f64::from(src.height);
    if full && size == (src.width, src.height) {
        return Ok(src.clone());
    }
    let pt = pixel_type(src.channels);
    let view = ImageRef::new(src.width, src.height, &src.data, pt).map_err(|e| RenderError::Engine(e.to_string()))?;
    let mut dst = Image::new(size.0, size.1, pt);
    // A pure crop (same size, whole-pixel origin) copies pixels; anything else is filtered.
    let exact = (w - f64::from(size.0)).abs() < 1e-9
        && (h - f64::from(size.1)).abs() < 1e-9
        && x.fract() == 0.0
        && y.fract() == 0.0;
    let alg = if exact { ResizeAlg::Nearest } else { ResizeAlg::Convolution(FilterType::Lanczos3) };
    let opts = ResizeOptions::new().resize_alg(alg).crop(x, y, w, h);
    Resizer::new().resize(&view, &mut dst, &opts).map_err(|e| RenderError::Engine(e.to_string()))?;
    Ok(Pixels { width: size.0, height: size.1, channels: src.channels, data: dst.into_vec() })
}

/// Places `img` at `at` on a canvas of `at.w`×`at.h` filled with `color` (RGBA).
pub fn pad(img: Pixels, at: Rect, color: [u8; 4]) -> Pixels {
    let channels = if color[3] == 255 { img.channels } else { 4 };
    let img = if channels == 4 { img.to_rgba() } else { img };
    let mut canvas = Pixels::new(at.w, at.h, channels, &color);
    blit(&mut canvas, &img, at.x, at.y);
    canvas
}

/// Copies `src` into `dst` with its top-left corner at (x, y), clipped.
fn blit(dst: &mut Pixels, src: &Pixels, x: u32, y: u32) {
    let c = dst.channels as usize;
    debug_assert_eq!(c, src.channels as usize);
    let rows = src.height.min(dst.height.saturating_sub(y)) as usize;
    let cols = src.width.min(dst.width.saturating_sub(x)) as usize;
    let (ds, ss) = (dst.stride(), src.stride());
    for r in 0..rows {
        let d0 = (y as usize + r) * ds + x as usize * c;
        let s0 = r * ss;
        dst.data[d0..d0 + cols * c].copy_from_slice(&src.data[s0..s0 + cols * c]);
    }
}

/// Rotates by a multiple of 90° clockwise.
pub fn rotate90s(img: Pixels, quarter_turns: u32) -> Pixels {
    let c = img.channels as usize;
    let (w, h) = (img.width as usize, img.height as usize);
    match quarter_turns % 4 {
        0 => img,
        2 => {
            let mut data = Vec::with_capacity(img.data.len());
            for px in img.data.chunks_exact(c).rev() {
                data.extend_from_slice(px);
            }
            Pixels { data, ..img }
        }
        turns => {
            let mut data = vec![0u8; img.data.len()];
            for y in 0..h {
                for x in 0..w {
                    // Clockwise: (x, y) → (h-1-y, x); counter-clockwise: (y, w-1-x).
                    let (nx, ny) = if turns == 1 { (h - 1 - y, x) } else { (y, w - 1 - x) };
                    let s = (y * w + x) * c;
                    let d = (ny * h + nx) * c;
                    data[d..d + c].copy_from_slice(&img.data[s..s + c]);
                }
            }
            Pixels { width: img.height, height: img.width, channels: img.channels, data }
        }
    }
}

pub fn flip_horizontal(mut img: Pixels) -> Pixels {
    let c = img.channels as usize;
    let stride = img.stride();
    for row in img.data.chunks_exact_mut(stride) {
        let w = row.len() / c;
        for x in 0..w / 2 {
            for k in 0..c {
                row.swap(x * c + k, (w - 1 - x) * c + k);
            }
        }
    }
    img
}

pub fn flip_vertical(img: Pixels) -> Pixels {
    let stride = img.stride();
    let mut data = Vec::with_capacity(img.data.len());
    for row in img.data.chunks_exact(stride).rev() {
        data.extend_from_slice(row);
    }
    Pixels { data, ..img }
}

/// Applies an EXIF orientation (1–8) so the image is upright.
pub fn orient(img: Pixels, orientation: u8) -> Pixels {
    match orientation {
        2 => flip_horizontal(img),
        3 => rotate90s(img, 2),
        4 => flip_vertical(img),
        5 => flip_horizontal(rotate90s(img, 1)),
        6 => rotate90s(img, 1),
        7 => flip_horizontal(rotate90s(img, 3)),
        8 => rotate90s(img, 3),
        _ => img,
    }
}

/// A solid border of `width` pixels around the image.
pub fn border(img: Pixels, width: u32, color: [u8; 4]) -> Pixels {
    let at = Rect { x: width, y: width, w: img.width + 2 * width, h: img.height + 2 * width };
    pad(img, at, color)
}

/// Multiplies alpha by `opacity` percent.
pub fn opacity(img: Pixels, opacity: u8) -> Pixels {
    let mut img = img.to_rgba();
    for px in img.data.chunks_exact_mut(4) {
        px[3] = ((u32::from(px[3]) * u32::from(opacity) + 50) / 100) as u8;
    }
    img
}

/// Makes the corners outside rounded arcs transparent. `radii` in CSS order (top-left,
/// top-right, bottom-right, bottom-left); `None` = an ellipse.
pub fn round_corners(img: Pixels, radii: Option<&[u32]>) -> Pixels {
    let mut img = img.to_rgba();
    let (w, h) = (img.width as f64, img.height as f64);
    let r = |i: usize| -> f64 {
        match radii {
            None => 0.0,
            Some(v) => {
                let idx = match v.len() {
                    1 => 0,
                    2 => i % 2,
                    3 => [0, 1, 2, 1][i],
                    _ => i,
                };
                f64::from(v[idx]).min(w / 2.0).min(h / 2.0)
            }
        }
    };
    let stride = img.stride();
    for y in 0..img.height as usize {
        for x in 0..img.width as usize {
            let (px, py) = (x as f64 + 0.5, y as f64 + 0.5);
            let inside = match radii {
                None => {
                    let (dx, dy) = ((px - w / 2.0) / (w / 2.0), (py - h / 2.0) / (h / 2.0));
                    dx * dx + dy * dy <= 1.0
                }
                Some(_) => {
                    let corners = [
                        (r(0), r(0), r(0)),
                        (w - r(1), r(1), r(1)),
                        (w - r(2), h - r(2), r(2)),
                        (r(3), h - r(3), r(3)),
                    ];
                    corners.iter().enumerate().all(|(i, (cx, cy, rr))| {
                        let in_corner = match i {
                            0 => px < *cx && py < *cy,
                            1 => px > *cx && py < *cy,
                            2 => px > *cx && py > *cy,
                            _ => px < *cx && py > *cy,
                        };
                        !in_corner || (px - cx).powi(2) + (py - cy).powi(2) <= rr * rr
                    })
                }
            };
            if !inside {
                img.data[y * stride + x * 4 + 3] = 0;
            }
        }
    }
    img
}

/// Where a layer goes on the image: a compass anchor and offsets toward the centre
/// (fractions are of the image's size).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub compass: Compass,
    pub x: Option<Dim>,
    pub y: Option<Dim>,
}

/// Puts `layer` over (or, with `under`, beneath) `base` at `at`; the result has the base's
/// size. Straight-alpha "over" compositing.
pub fn composite(base: Pixels, layer: &Pixels, at: Placement, under: bool) -> Pixels {
    let (gx, gy) = at.compass.weights();
    let off = |d: Option<Dim>, total: u32| d.map_or(0.0, |d| d.resolve(total));
    let pos = |total: u32, size: u32, weight: f64, offset: f64| -> i64 {
        let dir = if weight > 0.5 { -1.0 } else { 1.0 };
        ((f64::from(total) - f64::from(size)) * weight + dir * offset).round() as i64
    };
    let x0 = pos(base.width, layer.width, gx, off(at.x, base.width));
    let y0 = pos(base.height, layer.height, gy, off(at.y, base.height));
    let translucent = layer.has_alpha() || base.has_alpha();
    let mut out = if translucent && base.channels == 3 && under { base.to_rgba() } else { base };
    let (bc, lc) = (out.channels as usize, layer.channels as usize);
    let (bw, bh) = (i64::from(out.width), i64::from(out.height));
    for ly in 0..i64::from(layer.height) {
        let y = y0 + ly;
        if y < 0 || y >= bh {
            continue;
        }
        for lx in 0..i64::from(layer.width) {
            let x = x0 + lx;
            if x < 0 || x >= bw {
                continue;
            }
            let li = (ly as usize * layer.width as usize + lx as usize) * lc;
            let bi = (y as usize * out.width as usize + x as usize) * bc;
            let lpx = &layer.data[li..li + lc];
            let la = if lc == 4 { f32::from(lpx[3]) / 255.0 } else { 1.0 };
            let ba = if bc == 4 { f32::from(out.data[bi + 3]) / 255.0 } else { 1.0 };
            // Over: top over bottom; for an underlay the base is on top.
            let (top, ta, bottom, bta): ([f32; 3], f32, [f32; 3], f32) = {
                let l = [f32::from(lpx[0]), f32::from(lpx[1]), f32::from(lpx[2])];
                let b = [f32::from(out.data[bi]), f32::from(out.data[bi + 1]), f32::from(out.data[bi + 2])];
                if under { (b, ba, l, la) } else { (l, la, b, ba) }
            };
            let a = ta + bta * (1.0 - ta);
            for k in 0..3 {
                let v = if a > 0.0 { (top[k] * ta + bottom[k] * bta * (1.0 - ta)) / a } else { 0.0 };
                out.data[bi + k] = v.round().clamp(0.0, 255.0) as u8;
            }
            if bc == 4 {
                out.data[bi + 3] = (a * 255.0).round() as u8;
            }
        }
    }
    out
}

/// Rotates by any angle clockwise, with bilinear sampling. The canvas grows to the rotated
/// image's bounding box; the corners it uncovers are transparent.
pub fn rotate_any(img: Pixels, degrees: f64) -> Pixels {
    let turns = degrees / 90.0;
    if turns == turns.round() {
        return rotate90s(img, turns.rem_euclid(4.0) as u32);
    }
    let src = img.to_rgba();
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (sw, sh) = (f64::from(src.width), f64::from(src.height));
    let dw = (sw * cos.abs() + sh * sin.abs()).round().max(1.0);
    let dh = (sw * sin.abs() + sh * cos.abs()).round().max(1.0);
    let (w, h) = (dw as usize, dh as usize);
    let mut data = vec![0u8; w * h * 4];
    let (scx, scy) = (sw / 2.0, sh / 2.0);
    let (dcx, dcy) = (dw / 2.0, dh / 2.0);
    let stride = src.stride();
    // One source texel, premultiplied; outside the image it is transparent.
    let texel = |x: i64, y: i64| -> [f32; 4] {
        if x < 0 || y < 0 || x >= i64::from(src.width) || y >= i64::from(src.height) {
            return [0.0; 4];
        }
        let i = y as usize * stride + x as usize * 4;
        let p = &src.data[i..i + 4];
        let a = f32::from(p[3]) / 255.0;
        [f32::from(p[0]) * a, f32::from(p[1]) * a, f32::from(p[2]) * a, f32::from(p[3])]
    };
    for (row, out) in data.chunks_exact_mut(w * 4).enumerate() {
        let ry = row as f64 + 0.5 - dcy;
        for (col, px) in out.chunks_exact_mut(4).enumerate() {
            let rx = col as f64 + 0.5 - dcx;
            // The inverse of the clockwise rotation (y grows downwards), back to texel space.
            let sx = rx * cos + ry * sin + scx - 0.5;
            let sy = -rx * sin + ry * cos + scy - 0.5;
            if sx <= -1.0 || sy <= -1.0 || sx >= sw || sy >= sh {
                continue;
            }
            let (x0, y0) = (sx.floor(), sy.floor());
            let (fx, fy) = ((sx - x0) as f32, (sy - y0) as f32);
            let (x0, y0) = (x0 as i64, y0 as i64);
            let (a, b, c, d) = (texel(x0, y0), texel(x0 + 1, y0), texel(x0, y0 + 1), texel(x0 + 1, y0 + 1));
            let mut v = [0f32; 4];
            for k in 0..4 {
                let top = a[k] + (b[k] - a[k]) * fx;
                let bottom = c[k] + (d[k] - c[k]) * fx;
                v[k] = top + (bottom - top) * fy;
            }
            if v[3] <= 0.0 {
                continue;
            }
            let unpremultiply = 255.0 / v[3];
            for k in 0..3 {
                px[k] = (v[k] * unpremultiply).round().clamp(0.0, 255.0) as u8;
            }
            px[3] = v[3].round().clamp(0.0, 255.0) as u8;
        }
    }
    Pixels { width: w as u32, height: h as u32, channels: 4, data }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32) -> Pixels {
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                data.extend_from_slice(&[(x * 10) as u8, (y * 10) as u8, 7]);
            }
        }
        Pixels { width: w, height: h, channels: 3, data }
    }

    #[test]
    fn rotations_and_flips_move_pixels_where_they_should() {
        let img = gradient(3, 2);
        let r = rotate90s(img.clone(), 1);
        assert_eq!((r.width, r.height), (2, 3));
        // The bottom-left pixel (0, 1) ends up top-left after a clockwise turn.
        assert_eq!(&r.data[0..3], &[0, 10, 7]);
        assert_eq!(rotate90s(rotate90s(img.clone(), 1), 3), img);
        assert_eq!(rotate90s(rotate90s(img.clone(), 2), 2), img);
        assert_eq!(flip_horizontal(flip_horizontal(img.clone())), img);
        assert_eq!(&flip_vertical(img.clone()).data[0..3], &[0, 10, 7]);
        assert_eq!(orient(orient(img.clone(), 6), 8), img);
    }

    #[test]
    fn pad_border_and_resize() {
        let img = gradient(4, 4);
        let p = pad(img.clone(), Rect { x: 1, y: 2, w: 8, h: 8 }, [255, 0, 0, 255]);
        assert_eq!((p.width, p.height, p.channels), (8, 8, 3));
        assert_eq!(&p.data[0..3], &[255, 0, 0]);
        assert_eq!(&p.data[(2 * 8 + 1) * 3..(2 * 8 + 1) * 3 + 3], &img.data[0..3]);
        let b = border(img.clone(), 2, [0, 0, 0, 0]);
        assert_eq!((b.width, b.channels), (8, 4), "a transparent border needs alpha");
        let r = crop_resize(&gradient(100, 50), (0.0, 0.0, 100.0, 50.0), (10, 5)).unwrap();
        assert_eq!((r.width, r.height, r.data.len()), (10, 5, 150));
        let round = round_corners(gradient(20, 20), None);
        assert_eq!(round.data[3], 0, "outside the ellipse is transparent");
        assert_eq!(round.data[(10 * 20 + 10) * 4 + 3], 255);
    }
}
