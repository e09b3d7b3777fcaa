//! Header probes: format, width and height from the first bytes of a file.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use imagesize::{Compression, ImageType};

/// What a file looks like from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Image,
    Video,
    Other,
}

/// A probed image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probed {
    /// Cloudinary's format name (`jpg`, `png`, `webp`, `avif`, ...).
    pub format: &'static str,
    pub width: u64,
    pub height: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The bytes are not an image we can read the header of.
    #[error("Invalid image file")]
    NotAnImage,
    #[error("reading the file: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads the image header of `path` (seeking only as far as the header needs).
pub fn probe_file(path: &Path) -> Result<Probed, ProbeError> {
    let mut head = [0u8; 64];
    let n = File::open(path)?.read(&mut head)?;
    if sniff(&head[..n]) != MediaKind::Image {
        return Err(ProbeError::NotAnImage);
    }
    let kind = imagesize::image_type(&head[..n]).map_err(|_| ProbeError::NotAnImage)?;
    let format = format_name(kind).ok_or(ProbeError::NotAnImage)?;
    let size = imagesize::reader_size(BufReader::with_capacity(16 * 1024, File::open(path)?))
        .map_err(|_| ProbeError::NotAnImage)?;
    if size.width == 0 || size.height == 0 {
        return Err(ProbeError::NotAnImage);
    }
    Ok(Probed { format, width: size.width as u64, height: size.height as u64 })
}

fn format_name(kind: ImageType) -> Option<&'static str> {
    Some(match kind {
        ImageType::Jpeg => "jpg",
        ImageType::Png => "png",
        ImageType::Gif => "gif",
        ImageType::Webp => "webp",
        ImageType::Bmp => "bmp",
        ImageType::Tiff => "tiff",
        ImageType::Ico => "ico",
        ImageType::Psd => "psd",
        ImageType::Heif(Compression::Av1) => "avif",
        ImageType::Heif(Compression::Hevc) => "heic",
        ImageType::Heif(_) => "heif",
        #[allow(unreachable_patterns, reason = "other formats are compiled out")]
        _ => return None,
    })
}

/// Classifies the first bytes of a file, for `resource_type=auto`. Video is recognised by
/// its container signature (ISO BMFF, Matroska/WebM, AVI, MPEG-TS, Ogg, FLV).
pub fn sniff(head: &[u8]) -> MediaKind {
    if let Some(brand) = iso_brand(head) {
        return if HEIF_BRANDS.contains(&brand) { MediaKind::Image } else { MediaKind::Video };
    }
    if imagesize::image_type(head).is_ok_and(|k| format_name(k).is_some()) {
        return MediaKind::Image;
    }
    let is_video = head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3])
        || (head.starts_with(b"RIFF") && head.get(8..12) == Some(b"AVI "))
        || head.starts_with(b"OggS")
        || head.starts_with(b"FLV")
        || (head.first() == Some(&0x47) && head.get(188) == Some(&0x47));
    if is_video { MediaKind::Video } else { MediaKind::Other }
}

/// Major brands of ISO BMFF files that are still images (HEIF family, AVIF).
const HEIF_BRANDS: [&[u8]; 9] = [b"avif", b"avis", b"heic", b"heix", b"heim", b"heis", b"hevc", b"mif1", b"msf1"];

/// The major brand of an ISO BMFF (`ftyp`) file.
fn iso_brand(head: &[u8]) -> Option<&[u8]> {
    (head.len() >= 12 && &head[4..8] == b"ftyp").then(|| &head[8..12])
}

/// Video container format from its signature, as a Cloudinary format name.
pub fn video_format(head: &[u8]) -> Option<&'static str> {
    if let Some(brand) = iso_brand(head) {
        return Some(if brand.starts_with(b"qt") { "mov" } else { "mp4" });
    }
    if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Some("webm");
    }
    if head.starts_with(b"RIFF") && head.get(8..12) == Some(b"AVI ") {
        return Some("avi");
    }
    if head.starts_with(b"OggS") {
        return Some("ogv");
    }
    if head.starts_with(b"FLV") {
        return Some("flv");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_kinds() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x02\0\0\0\x03\x08\x02\0\0\0";
        assert_eq!(sniff(png), MediaKind::Image);
        assert_eq!(sniff(b"\0\0\0\x18ftypmp42\0\0\0\0"), MediaKind::Video);
        assert_eq!(video_format(b"\0\0\0\x18ftypmp42\0\0\0\0"), Some("mp4"));
        assert_eq!(sniff(b"hello world"), MediaKind::Other);
    }
}
