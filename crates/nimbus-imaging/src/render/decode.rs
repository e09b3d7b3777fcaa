//! Decoding, with shrink-on-load for JPEG: libjpeg-turbo decodes at the smallest DCT
//! scale (n/8) that still covers the size the first step needs, so a 12 MP photo headed for
//! a 300 px thumbnail decodes about an eighth of its coefficients.

use std::io::Cursor;

use image::ImageFormat;
use turbojpeg::{Decompressor, Image, PixelFormat, ScalingFactor};

use super::RenderError;
use super::pixels::Pixels;

/// Most pixels an input may have (checked from the header, before decoding).
pub const MAX_INPUT_PIXELS: u64 = 100_000_000;

/// EXIF orientation, 1 to 8 (1: as stored).
pub type Orientation = u8;

/// Source format and size, from the header only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
}

pub fn header(input: &[u8]) -> Result<Header, RenderError> {
    let format = image::guess_format(input).map_err(|_| RenderError::Decode("not a supported image".into()))?;
    let size = imagesize::blob_size(input).map_err(|e| RenderError::Decode(e.to_string()))?;
    let (width, height) = (size.width as u32, size.height as u32);
    if u64::from(width) * u64::from(height) > MAX_INPUT_PIXELS {
        return Err(RenderError::TooLarge(format!(
            "Input image is too large: {width}x{height} pixels (at most {MAX_INPUT_PIXELS})"
        )));
    }
    if width == 0 || height == 0 {
        return Err(RenderError::Decode("image has no pixels".into()));
    }
    Ok(Header { format, width, height })
}

/// What the header says about how to show the pixels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Presentation {
    /// EXIF orientation, 1 (as stored) to 8.
    pub orientation: Orientation,
    /// The embedded ICC profile, if any.
    pub icc: Option<Vec<u8>>,
}

/// Orientation and colour profile, read from the header (no pixels decoded).
pub fn presentation(input: &[u8], format: ImageFormat) -> Presentation {
    fn read<D: image::ImageDecoder>(mut d: D) -> Presentation {
        let icc = d.icc_profile().ok().flatten().filter(|p| !p.is_empty());
        let orientation = d.orientation().map(|o| o.to_exif()).unwrap_or(1);
        Presentation { orientation, icc }
    }
    let none = Presentation { orientation: 1, icc: None };
    match format {
        ImageFormat::Jpeg => image::codecs::jpeg::JpegDecoder::new(Cursor::new(input)).map_or(none, read),
        ImageFormat::WebP => image::codecs::webp::WebPDecoder::new(Cursor::new(input)).map_or(none, read),
        ImageFormat::Png => image::codecs::png::PngDecoder::new(Cursor::new(input)).map_or(none, read),
        _ => none,
    }
}

/// Converts pixels described by the ICC profile `icc` to sRGB, in place. A profile that
/// does not parse is ignored (the pixels are taken as sRGB, as browsers do).
pub fn to_srgb(img: &mut Pixels, icc: &[u8]) {
    use moxcms::{ColorProfile, Layout, TransformOptions};
    let Ok(src) = ColorProfile::new_from_slice(icc) else { return };
    let layout = if img.channels == 4 { Layout::Rgba } else { Layout::Rgb };
    let Ok(t) = src.create_transform_8bit(layout, &ColorProfile::new_srgb(), layout, TransformOptions::default())
    else {
        return;
    };
    let mut out = vec![0u8; img.data.len()];
    if t.transform(&img.data, &mut out).is_ok() {
        img.data = out;
    }
}

/// The largest DCT scale n/8 whose decoded size is still at least `min_scale` of the full
/// size (1.0: no shrinking).
fn jpeg_scale(min_scale: f64) -> ScalingFactor {
    let mut best = ScalingFactor::ONE;
    for n in (1..8).rev() {
        if n as f64 / 8.0 >= min_scale {
            best = ScalingFactor::new(n, 8);
        }
    }
    best
}

/// Decodes `input`; JPEGs at the smallest scale of at least `min_scale` (0 < min_scale ≤ 1).
/// Returns the pixels and the factor they were shrunk by.
pub fn decode(input: &[u8], head: Header, min_scale: f64) -> Result<(Pixels, f64), RenderError> {
    match head.format {
        ImageFormat::Jpeg => decode_jpeg(input, min_scale),
        _ => {
            let img = image::load_from_memory_with_format(input, head.format)
                .map_err(|e| RenderError::Decode(e.to_string()))?;
            let (width, height) = (img.width(), img.height());
            let px = if img.color().has_alpha() {
                Pixels { width, height, channels: 4, data: img.into_rgba8().into_raw() }
            } else {
                Pixels { width, height, channels: 3, data: img.into_rgb8().into_raw() }
            };
            Ok((px, 1.0))
        }
    }
}

fn decode_jpeg(input: &[u8], min_scale: f64) -> Result<(Pixels, f64), RenderError> {
    let err = |e: turbojpeg::Error| RenderError::Decode(e.to_string());
    let mut d = Decompressor::new().map_err(err)?;
    let head = d.read_header(input).map_err(err)?;
    let factor = jpeg_scale(min_scale.clamp(0.0, 1.0));
    d.set_scaling_factor(factor).map_err(err)?;
    let scaled = head.scaled(factor);
    let (w, h) = (scaled.width, scaled.height);
    let mut data = vec![0u8; w * h * 3];
    d.decompress(
        input,
        Image { pixels: data.as_mut_slice(), width: w, pitch: w * 3, height: h, format: PixelFormat::RGB },
    )
    .map_err(err)?;
    let shrink = w as f64 / head.width as f64;
    Ok((Pixels { width: w as u32, height: h as u32, channels: 3, data }, shrink))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_choice_keeps_enough_pixels() {
        assert_eq!(jpeg_scale(1.0), ScalingFactor::ONE);
        assert_eq!(jpeg_scale(0.1), ScalingFactor::new(1, 8));
        assert_eq!(jpeg_scale(0.2), ScalingFactor::new(2, 8));
        assert_eq!(jpeg_scale(0.5), ScalingFactor::new(4, 8));
        assert_eq!(jpeg_scale(0.51), ScalingFactor::new(5, 8));
    }
}
