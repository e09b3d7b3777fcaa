//! Encoders: JPEG (libjpeg-turbo), PNG and GIF (the `image` crate), WebP (libwebp). Nothing
//! of the source's metadata (EXIF, XMP, GPS, ICC) is written: derived images are stripped.

use std::io::Cursor;

use image::ImageEncoder as _;
use nimbus_core::transform::Format;
use turbojpeg::{Compressor, Image, PixelFormat, Subsamp};

use super::RenderError;
use super::pixels::Pixels;

/// rav1e speed for AVIF (0 slowest .. 10 fastest): the fastest, for on-the-fly encodes.
const AVIF_SPEED: u8 = 10;

/// Encoder settings from `q_` and `fl_`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeOptions {
    pub quality: u8,
    pub progressive: bool,
    /// JPEG chroma subsampling 4:4:4 instead of 4:2:0.
    pub full_chroma: bool,
    /// PNG: lossy (WebP near-lossless is not used; PNG stays lossless).
    pub lossy: bool,
}

pub fn encode(img: &Pixels, format: Format, o: EncodeOptions) -> Result<Vec<u8>, RenderError> {
    let err = |e: String| RenderError::Encode(e);
    match format {
        Format::Jpg => {
            let mut c = Compressor::new().map_err(|e| err(e.to_string()))?;
            c.set_quality(i32::from(o.quality)).map_err(|e| err(e.to_string()))?;
            c.set_subsamp(if o.full_chroma { Subsamp::None } else { Subsamp::Sub2x2 })
                .map_err(|e| err(e.to_string()))?;
            c.set_progressive(o.progressive).map_err(|e| err(e.to_string()))?;
            let format = if img.channels == 4 { PixelFormat::RGBA } else { PixelFormat::RGB };
            let image = Image {
                pixels: img.data.as_slice(),
                width: img.width as usize,
                pitch: img.stride(),
                height: img.height as usize,
                format,
            };
            c.compress_to_vec(image).map_err(|e| err(e.to_string()))
        }
        Format::Png => {
            let mut out = Vec::new();
            let enc = image::codecs::png::PngEncoder::new_with_quality(
                Cursor::new(&mut out),
                image::codecs::png::CompressionType::Fast,
                image::codecs::png::FilterType::Adaptive,
            );
            enc.write_image(&img.data, img.width, img.height, color(img)).map_err(|e| err(e.to_string()))?;
            Ok(out)
        }
        Format::Gif => {
            let rgba = img.clone().to_rgba();
            let mut out = Vec::new();
            {
                let mut enc = image::codecs::gif::GifEncoder::new_with_speed(&mut out, 10);
                enc.encode(&rgba.data, rgba.width, rgba.height, image::ExtendedColorType::Rgba8)
                    .map_err(|e| err(e.to_string()))?;
            }
            Ok(out)
        }
        Format::Webp => {
            let enc = if img.channels == 4 {
                webp::Encoder::from_rgba(&img.data, img.width, img.height)
            } else {
                webp::Encoder::from_rgb(&img.data, img.width, img.height)
            };
            let mem = enc.encode_simple(false, f32::from(o.quality)).map_err(|e| err(format!("{e:?}")))?;
            Ok(mem.to_vec())
        }
        Format::Avif => {
            use rgb::FromSlice as _;
            // Speed 8 keeps an on-the-fly encode in the tens of milliseconds (effort 4 takes
            // over a second for 1000 px on one core); one thread per image.
            let enc = ravif::Encoder::new()
                .with_quality(f32::from(o.quality))
                .with_speed(AVIF_SPEED)
                .with_num_threads(Some(1));
            let (w, h) = (img.width as usize, img.height as usize);
            let out = if img.channels == 4 {
                enc.encode_rgba(ravif::Img::new(img.data.as_rgba(), w, h))
            } else {
                enc.encode_rgb(ravif::Img::new(img.data.as_rgb(), w, h))
            };
            out.map(|r| r.avif_file).map_err(|e| err(e.to_string()))
        }
        Format::Auto => Err(RenderError::Engine("format was not negotiated".into())),
    }
}

fn color(img: &Pixels) -> image::ExtendedColorType {
    if img.channels == 4 { image::ExtendedColorType::Rgba8 } else { image::ExtendedColorType::Rgb8 }
}
