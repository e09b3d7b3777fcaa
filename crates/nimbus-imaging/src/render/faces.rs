//! Face detection for `g_face` and `g_faces`: the SeetaFace frontal detector (rustface) with
//! its model bundled in the binary (`models/`, BSD licence), run on a grayscale copy at most
//! [`DETECT_SIDE`] pixels on its long side, so faces down to about 3% of that side are found.

use std::sync::OnceLock;

use super::ops;
use super::pixels::Pixels;

/// Long side of the copy the detector sees.
const DETECT_SIDE: u32 = 640;
const MODEL: &[u8] = include_bytes!("../../models/seeta_fd_frontal_v1.0.bin");

fn model() -> Option<&'static rustface::Model> {
    static LOADED: OnceLock<Option<rustface::Model>> = OnceLock::new();
    LOADED.get_or_init(|| rustface::read_model(MODEL).ok()).as_ref()
}

/// A detected face, in fractions (0..1) of the image's width and height.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Face {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

/// The faces in `img`, largest first.
pub fn detect(img: &Pixels) -> Vec<Face> {
    let Some(model) = model() else { return Vec::new() };
    if img.width < 24 || img.height < 24 {
        return Vec::new();
    }
    let scale = (f64::from(DETECT_SIDE) / f64::from(img.width.max(img.height))).min(1.0);
    let size = (
        ((f64::from(img.width) * scale).round() as u32).max(1),
        ((f64::from(img.height) * scale).round() as u32).max(1),
    );
    let small = if scale < 1.0 {
        match ops::crop_resize(img, (0.0, 0.0, f64::from(img.width), f64::from(img.height)), size) {
            Ok(p) => p,
            Err(_) => return Vec::new(),
        }
    } else {
        img.clone()
    };
    let c = small.channels as usize;
    let gray: Vec<u8> = small
        .data
        .chunks_exact(c)
        .map(|p| ((299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2]) + 500) / 1000) as u8)
        .collect();
    let mut detector = rustface::create_detector_with_model(model.clone());
    detector.set_min_face_size(20);
    detector.set_score_thresh(2.0);
    detector.set_pyramid_scale_factor(0.8);
    detector.set_slide_window_step(4, 4);
    let (sw, sh) = (f64::from(small.width), f64::from(small.height));
    let mut faces: Vec<Face> = detector
        .detect(&rustface::ImageData::new(&gray, small.width, small.height))
        .iter()
        .map(|f| {
            let b = f.bbox();
            let x = f64::from(b.x().max(0)) / sw;
            let y = f64::from(b.y().max(0)) / sh;
            Face { x, y, w: (f64::from(b.width()) / sw).min(1.0 - x), h: (f64::from(b.height()) / sh).min(1.0 - y) }
        })
        .collect();
    faces.sort_by(|a, b| (b.w * b.h).total_cmp(&(a.w * a.h)));
    faces
}

/// The focus point for face gravity: the centre of the largest face, or (`all`) of the box
/// around every face; `None` when there is no face.
pub fn focus(img: &Pixels, all: bool) -> Option<(f64, f64)> {
    let faces = detect(img);
    let first = faces.first()?;
    let chosen = if all { &faces[..] } else { std::slice::from_ref(first) };
    let x0 = chosen.iter().map(|f| f.x).fold(f64::MAX, f64::min);
    let y0 = chosen.iter().map(|f| f.y).fold(f64::MAX, f64::min);
    let x1 = chosen.iter().map(|f| f.x + f.w).fold(0.0, f64::max);
    let y1 = chosen.iter().map(|f| f.y + f.h).fold(0.0, f64::max);
    Some(((x0 + x1) / 2.0, (y0 + y1) / 2.0))
}
