//! `e_` effects on pixels. Levels follow Cloudinary's ranges and defaults.

use nimbus_core::transform::Effect;

use super::RenderError;
use super::ops::crop_resize;
use super::pixels::Pixels;

fn clamp(v: f32) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

/// Applies `f` to the colour channels of every pixel (alpha untouched).
fn per_pixel(mut img: Pixels, f: impl Fn([f32; 3]) -> [f32; 3]) -> Pixels {
    let c = img.channels as usize;
    for px in img.data.chunks_exact_mut(c) {
        let out = f([f32::from(px[0]), f32::from(px[1]), f32::from(px[2])]);
        for k in 0..3 {
            px[k] = clamp(out[k]);
        }
    }
    img
}

fn luma(p: [f32; 3]) -> f32 {
    0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2]
}

/// A separable box blur of `radius`, applied three times (close to a gaussian).
fn box_blur(img: &Pixels, radius: usize) -> Pixels {
    if radius == 0 {
        return img.clone();
    }
    let (w, h, c) = (img.width as usize, img.height as usize, img.channels as usize);
    let mut cur = img.data.clone();
    let mut tmp = vec![0u8; cur.len()];
    for _ in 0..3 {
        pass(&cur, &mut tmp, w, h, c, radius, true);
        pass(&tmp, &mut cur, w, h, c, radius, false);
    }
    Pixels { data: cur, ..img.clone() }
}

fn pass(src: &[u8], dst: &mut [u8], w: usize, h: usize, c: usize, r: usize, horizontal: bool) {
    let (lines, len) = if horizontal { (h, w) } else { (w, h) };
    let at = |line: usize, i: usize| if horizontal { (line * w + i) * c } else { (i * w + line) * c };
    let window = (2 * r + 1) as u32;
    for line in 0..lines {
        for k in 0..c {
            let mut sum: u32 = 0;
            for i in 0..=r {
                sum += u32::from(src[at(line, i.min(len - 1)) + k]);
            }
            sum += r as u32 * u32::from(src[at(line, 0) + k]);
            for i in 0..len {
                dst[at(line, i) + k] = ((sum + window / 2) / window) as u8;
                let add = (i + r + 1).min(len - 1);
                let sub = i.saturating_sub(r);
                sum = sum + u32::from(src[at(line, add) + k]) - u32::from(src[at(line, sub) + k]);
            }
        }
    }
}

pub fn apply(img: Pixels, effect: &Effect) -> Result<Pixels, RenderError> {
    let short = img.width.min(img.height) as f32;
    Ok(match *effect {
        Effect::BlurFaces(level) => on_faces(img, |face| {
            // Strength 500 (the default) blurs over an eighth of the face: unrecognisable.
            let radius = (face.width.min(face.height) as f32 * level as f32 / 4000.0).max(2.0) as usize;
            Ok(box_blur(&face, radius))
        })?,
        Effect::PixelateFaces(size) => on_faces(img, |face| apply(face, &Effect::Pixelate(size)))?,
        Effect::Grayscale => per_pixel(img, |p| [luma(p); 3]),
        Effect::Negate => per_pixel(img, |p| [255.0 - p[0], 255.0 - p[1], 255.0 - p[2]]),
        Effect::Sepia(level) => {
            let t = level as f32 / 100.0;
            per_pixel(img, move |p| {
                let s = [
                    0.393 * p[0] + 0.769 * p[1] + 0.189 * p[2],
                    0.349 * p[0] + 0.686 * p[1] + 0.168 * p[2],
                    0.272 * p[0] + 0.534 * p[1] + 0.131 * p[2],
                ];
                [p[0] + (s[0] - p[0]) * t, p[1] + (s[1] - p[1]) * t, p[2] + (s[2] - p[2]) * t]
            })
        }
        Effect::Brightness(level) => {
            let add = level as f32 * 255.0 / 200.0;
            per_pixel(img, move |p| [p[0] + add, p[1] + add, p[2] + add])
        }
        Effect::Contrast(level) => {
            let f = 1.0 + level as f32 / 100.0;
            per_pixel(img, move |p| p.map(|v| (v - 128.0) * f + 128.0))
        }
        Effect::Saturation(level) => {
            let f = 1.0 + level as f32 / 100.0;
            per_pixel(img, move |p| {
                let l = luma(p);
                p.map(|v| l + (v - l) * f)
            })
        }
        Effect::Blur(level) => {
            // Strength 1–2000 maps to a radius of up to ~5 % of the short side.
            let radius = ((level as f32 / 2000.0) * short * 0.05).max(1.0) as usize;
            box_blur(&img, radius)
        }
        Effect::Sharpen(level) => {
            let amount = level as f32 / 100.0;
            let blurred = box_blur(&img, 1);
            let mut out = img;
            let c = out.channels as usize;
            for (px, b) in out.data.chunks_exact_mut(c).zip(blurred.data.chunks_exact(c)) {
                for k in 0..3 {
                    let v = f32::from(px[k]);
                    px[k] = clamp(v + (v - f32::from(b[k])) * amount);
                }
            }
            out
        }
        Effect::Pixelate(size) => {
            let size = size.max(1) as u32;
            let small = ((img.width / size).max(1), (img.height / size).max(1));
            let down = crop_resize(&img, (0.0, 0.0, f64::from(img.width), f64::from(img.height)), small)?;
            // Nearest-neighbour back up: blocks of one colour.
            let (w, h, c) = (img.width as usize, img.height as usize, img.channels as usize);
            let mut data = Vec::with_capacity(img.data.len());
            for y in 0..h {
                let sy = (y * small.1 as usize / h).min(small.1 as usize - 1);
                for x in 0..w {
                    let sx = (x * small.0 as usize / w).min(small.0 as usize - 1);
                    let s = (sy * small.0 as usize + sx) * c;
                    data.extend_from_slice(&down.data[s..s + c]);
                }
            }
            Pixels { data, ..img }
        }
        Effect::Vignette(level) => {
            let strength = level as f32 / 100.0;
            let (w, h, c) = (img.width as f32, img.height as f32, img.channels as usize);
            let mut out = img;
            let width = out.width as usize;
            for (i, px) in out.data.chunks_exact_mut(c).enumerate() {
                let (x, y) = ((i % width) as f32 + 0.5, (i / width) as f32 + 0.5);
                let (dx, dy) = ((x - w / 2.0) / (w / 2.0), (y - h / 2.0) / (h / 2.0));
                let d = ((dx * dx + dy * dy) / 2.0).sqrt();
                let f = 1.0 - strength * d * d;
                for v in px.iter_mut().take(3) {
                    *v = clamp(f32::from(*v) * f);
                }
            }
            out
        }
    })
}

/// Applies `f` to each detected face (its box grown by a tenth on every side) and pastes the
/// result back.
fn on_faces(mut img: Pixels, f: impl Fn(Pixels) -> Result<Pixels, RenderError>) -> Result<Pixels, RenderError> {
    let (w, h) = (f64::from(img.width), f64::from(img.height));
    for face in super::faces::detect(&img) {
        let (mx, my) = (face.w * 0.1, face.h * 0.1);
        let x0 = ((face.x - mx) * w).floor().max(0.0) as u32;
        let y0 = ((face.y - my) * h).floor().max(0.0) as u32;
        let x1 = (((face.x + face.w + mx) * w).ceil() as u32).min(img.width);
        let y1 = (((face.y + face.h + my) * h).ceil() as u32).min(img.height);
        if x1 <= x0 || y1 <= y0 {
            continue;
        }
        let region = img.region(x0, y0, x1 - x0, y1 - y0);
        let done = f(region)?;
        img.paste(&done, x0, y0);
    }
    Ok(img)
}
