//! An image's embedded EXIF data (camera, exposure, dates, GPS) as Cloudinary's
//! `image_metadata` lists it: field names and printable values, e.g. `"Make": "Canon"`,
//! `"ExposureTime": "1/60"`, `"GPSLatitude": "48 deg 51 min 29.6 sec"`. JPEG, PNG, WebP, TIFF
//! and HEIF containers are read; the primary image's fields only.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use exif::{In, Tag, Value};

/// Fields kept per image: enough for any camera, bounded against crafted files.
const MAX_FIELDS: usize = 200;
/// Characters kept of one value.
const MAX_VALUE: usize = 512;
/// Pointers, thumbnails and vendor blobs: structure, not information.
const SKIPPED: [Tag; 7] = [
    Tag::ExifIFDPointer,
    Tag::GPSInfoIFDPointer,
    Tag::InteropIFDPointer,
    Tag::JPEGInterchangeFormat,
    Tag::JPEGInterchangeFormatLength,
    Tag::MakerNote,
    Tag::StripOffsets,
];

/// The EXIF fields of the image at `path`, in file order; none when it has no EXIF data or
/// the data does not parse.
pub fn image_metadata(path: &Path) -> Vec<(String, String)> {
    let Ok(file) = File::open(path) else { return Vec::new() };
    let Ok(data) = exif::Reader::new().read_from_container(&mut BufReader::new(file)) else { return Vec::new() };
    let mut out: Vec<(String, String)> = Vec::new();
    for f in data.fields().filter(|f| f.ifd_num == In::PRIMARY && !SKIPPED.contains(&f.tag)) {
        let name = f.tag.to_string();
        if name.contains('(') || out.iter().any(|(n, _)| *n == name) {
            continue; // unknown to the EXIF tables, or repeated
        }
        let value = match &f.value {
            // Text without the quotes the generic display adds.
            Value::Ascii(parts) => {
                parts.iter().map(|p| String::from_utf8_lossy(p).trim().to_owned()).collect::<Vec<_>>().join(", ")
            }
            Value::Undefined(bytes, _) if bytes.len() > 64 => continue,
            _ => f.display_value().to_string(),
        };
        let value: String = value.chars().filter(|c| !c.is_control()).take(MAX_VALUE).collect();
        if value.is_empty() {
            continue;
        }
        out.push((name, value));
        if out.len() == MAX_FIELDS {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small JPEG carrying an EXIF block with `Make` (text) and `Orientation` (a number).
    fn jpeg_with_exif() -> Vec<u8> {
        let mut jpg = Vec::new();
        let img = image::RgbImage::from_pixel(8, 8, image::Rgb([10, 20, 30]));
        img.write_to(&mut std::io::Cursor::new(&mut jpg), image::ImageFormat::Jpeg).unwrap();
        let tiff: Vec<u8> = [
            &b"MM\x00\x2a\x00\x00\x00\x08"[..],
            &[0, 2],                                      // two entries
            &[0x01, 0x0F, 0, 2, 0, 0, 0, 7, 0, 0, 0, 38], // Make: 7 ASCII bytes at 38
            &[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0],  // Orientation: 6
            &[0, 0, 0, 0],                                // no next IFD
            b"Nimbus\x00",
        ]
        .concat();
        let mut app1 = b"Exif\x00\x00".to_vec();
        app1.extend_from_slice(&tiff);
        let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
        out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(&app1);
        out.extend_from_slice(&jpg[2..]);
        out
    }

    #[test]
    fn exif_fields_are_named_and_printable() {
        let dir = std::env::temp_dir().join(format!("nimbus-exif-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let with = dir.join("with.jpg");
        std::fs::write(&with, jpeg_with_exif()).unwrap();
        let fields = image_metadata(&with);
        assert_eq!(fields.iter().find(|(k, _)| k == "Make").map(|(_, v)| v.as_str()), Some("Nimbus"), "{fields:?}");
        assert!(fields.iter().any(|(k, v)| k == "Orientation" && v.contains("row 0")), "{fields:?}");
        // No EXIF, not an image, no file: nothing, and no error.
        let plain = dir.join("plain.jpg");
        let mut jpg = Vec::new();
        image::RgbImage::new(4, 4).write_to(&mut std::io::Cursor::new(&mut jpg), image::ImageFormat::Jpeg).unwrap();
        std::fs::write(&plain, jpg).unwrap();
        assert!(image_metadata(&plain).is_empty());
        let junk = dir.join("junk.bin");
        std::fs::write(&junk, b"\xFF\xD8\xFF\xE1\x00\x10Exif\x00\x00MM\x00\x2a\xff\xff").unwrap();
        assert!(image_metadata(&junk).is_empty());
        assert!(image_metadata(&dir.join("missing")).is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
