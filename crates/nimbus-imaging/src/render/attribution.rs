//! `fl_keep_attribution`: a JPEG derivative keeps who made the image and who holds its
//! rights, and nothing else of the original's embedded metadata (no GPS, camera, dates or
//! captions): the EXIF `Artist` and `Copyright` fields, written into a fresh EXIF block, and
//! the IPTC By-line, By-line Title, Credit, Source and Copyright Notice, written into a fresh
//! IPTC block. XMP is not carried over.

use std::io::Cursor;

use super::iptc;

/// EXIF tags kept: Artist and Copyright (both ASCII, in the primary image's IFD).
const EXIF_TAGS: [exif::Tag; 2] = [exif::Tag::Artist, exif::Tag::Copyright];
/// IPTC datasets kept: record 1's coded character set (how the rest is encoded) and record
/// 2's By-line (80), By-line Title (85), Credit (110), Source (115) and Copyright Notice (116).
const IPTC_KEPT: [(u8, u8); 6] = [(1, 90), (2, 80), (2, 85), (2, 110), (2, 115), (2, 116)];
/// The Photoshop image resource that holds IPTC data.
const IPTC_RESOURCE: u16 = 0x0404;
/// Largest payload of a JPEG segment.
const MAX_SEGMENT: usize = 65_533;

/// The attribution segments of a JPEG original (an EXIF APP1 and an IPTC APP13, each only
/// when it has something to keep), whole, ready for [`iptc::with_segments`].
pub fn segments(jpeg: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if let Some(s) = exif_segment(jpeg) {
        out.push(s);
    }
    if let Some(s) = iptc_segment(jpeg) {
        out.push(s);
    }
    out
}

fn segment(marker: u8, payload: &[u8]) -> Option<Vec<u8>> {
    if payload.len() > MAX_SEGMENT {
        return None;
    }
    let mut s = vec![0xFF, marker];
    s.extend(u16::try_from(payload.len() + 2).ok()?.to_be_bytes());
    s.extend(payload);
    Some(s)
}

/// The original's Artist and Copyright as a new EXIF block (big-endian TIFF, one IFD).
fn exif_segment(jpeg: &[u8]) -> Option<Vec<u8>> {
    let data = exif::Reader::new().read_from_container(&mut Cursor::new(jpeg)).ok()?;
    let mut fields: Vec<(u16, Vec<u8>)> = Vec::new();
    for tag in EXIF_TAGS {
        let Some(f) = data.get_field(tag, exif::In::PRIMARY) else { continue };
        let exif::Value::Ascii(parts) = &f.value else { continue };
        // Copyright holds the photographer's and the editor's notices as two strings.
        let mut bytes = Vec::new();
        for p in parts {
            bytes.extend(p.iter().take_while(|b| **b != 0));
            bytes.push(0);
        }
        if bytes.iter().any(|b| *b != 0) {
            fields.push((tag.number(), bytes));
        }
    }
    if fields.is_empty() {
        return None;
    }
    let mut tiff: Vec<u8> = b"MM\0\x2a".to_vec();
    tiff.extend(8u32.to_be_bytes());
    tiff.extend(u16::try_from(fields.len()).ok()?.to_be_bytes());
    // Values longer than four bytes follow the IFD (entries, then the next-IFD offset).
    let mut data_at = 8 + 2 + 12 * fields.len() + 4;
    let mut values = Vec::new();
    for (tag, bytes) in &fields {
        tiff.extend(tag.to_be_bytes());
        tiff.extend(2u16.to_be_bytes());
        tiff.extend(u32::try_from(bytes.len()).ok()?.to_be_bytes());
        if bytes.len() <= 4 {
            let mut inline = bytes.clone();
            inline.resize(4, 0);
            tiff.extend(inline);
        } else {
            tiff.extend(u32::try_from(data_at).ok()?.to_be_bytes());
            values.extend(bytes);
            if bytes.len() % 2 == 1 {
                values.push(0);
            }
            data_at = 8 + 2 + 12 * fields.len() + 4 + values.len();
        }
    }
    tiff.extend(0u32.to_be_bytes());
    tiff.extend(values);
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend(tiff);
    segment(0xE1, &payload)
}

/// The original's attribution datasets as a new IPTC block.
fn iptc_segment(jpeg: &[u8]) -> Option<Vec<u8>> {
    let mut kept = Vec::new();
    for s in iptc::segments(jpeg) {
        // Marker, length and the "Photoshop 3.0\0" signature come first.
        let Some(resources) = s.get(4 + iptc::SIGNATURE.len()..) else { continue };
        for data in iptc_resources(resources) {
            keep_datasets(data, &mut kept);
        }
    }
    if kept.is_empty() {
        return None;
    }
    let mut payload = iptc::SIGNATURE.to_vec();
    payload.extend(b"8BIM");
    payload.extend(IPTC_RESOURCE.to_be_bytes());
    payload.extend([0, 0]);
    payload.extend(u32::try_from(kept.len()).ok()?.to_be_bytes());
    payload.extend(&kept);
    if kept.len() % 2 == 1 {
        payload.push(0);
    }
    segment(0xED, &payload)
}

/// The IPTC resources (id 0x0404) among Photoshop image resource blocks: `8BIM`, the id, a
/// Pascal name padded to even length, a 32-bit size and the data padded to even length.
fn iptc_resources(mut b: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while b.len() >= 12 && &b[..4] == b"8BIM" {
        let id = u16::from_be_bytes([b[4], b[5]]);
        let name = 1 + usize::from(b[6]);
        let name = name + name % 2;
        let Some(size_at) = 6usize.checked_add(name) else { break };
        let Some(size) = b.get(size_at..size_at + 4) else { break };
        let size = u32::from_be_bytes([size[0], size[1], size[2], size[3]]) as usize;
        let start = size_at + 4;
        let Some(data) = b.get(start..start.saturating_add(size)) else { break };
        if id == IPTC_RESOURCE {
            out.push(data);
        }
        let next = start + size + size % 2;
        b = b.get(next..).unwrap_or_default();
    }
    out
}

/// Appends the kept datasets of IPTC `data` (tag 0x1C, record, dataset, 16-bit length,
/// value; an extended length ends the walk) to `out`.
fn keep_datasets(mut data: &[u8], out: &mut Vec<u8>) {
    while data.len() >= 5 && data[0] == 0x1C {
        let (record, dataset) = (data[1], data[2]);
        let len = u16::from_be_bytes([data[3], data[4]]);
        if len & 0x8000 != 0 {
            break;
        }
        let Some(whole) = data.get(..5 + usize::from(len)) else { break };
        if IPTC_KEPT.contains(&(record, dataset)) {
            out.extend(whole);
        }
        data = &data[whole.len()..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset(record: u8, dataset: u8, value: &[u8]) -> Vec<u8> {
        let mut d = vec![0x1C, record, dataset];
        d.extend(u16::try_from(value.len()).unwrap().to_be_bytes());
        d.extend(value);
        d
    }

    #[test]
    fn only_attribution_datasets_are_kept() {
        let mut iptc_data = dataset(1, 90, b"\x1b%G");
        iptc_data.extend(dataset(2, 120, b"Caption of a private party"));
        iptc_data.extend(dataset(2, 80, b"Ada Photographer"));
        iptc_data.extend(dataset(2, 116, b"(c) 2026 Ada"));
        iptc_data.extend(dataset(2, 90, b"Home town"));
        let mut app13 = iptc::SIGNATURE.to_vec();
        // Another resource first, with a name, then the IPTC one.
        app13.extend(b"8BIM\x04\x0c\x03abc\0\0\0\x02\xAA\xBB");
        app13.extend(b"8BIM\x04\x04\0\0");
        app13.extend(u32::try_from(iptc_data.len()).unwrap().to_be_bytes());
        app13.extend(&iptc_data);
        let mut jpeg = vec![0xFF, 0xD8];
        jpeg.extend(segment(0xED, &app13).unwrap());
        jpeg.extend([0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xD9]);
        let seg = iptc_segment(&jpeg).unwrap();
        let has = |needle: &[u8]| seg.windows(needle.len()).any(|w| w == needle);
        assert!(has(b"Ada Photographer") && has(b"(c) 2026 Ada") && has(b"\x1b%G"));
        assert!(!has(b"Caption") && !has(b"Home town") && !has(b"\xAA\xBB"));
        // The new block is itself read back as IPTC with the same datasets.
        let mut again = vec![0xFF, 0xD8];
        again.extend(&seg);
        let mut kept = Vec::new();
        for s in iptc::segments(&again) {
            for d in iptc_resources(&s[4 + iptc::SIGNATURE.len()..]) {
                keep_datasets(d, &mut kept);
            }
        }
        assert_eq!(kept.len(), 5 + 3 + 5 + 16 + 5 + 12);
        // Nothing to keep, or not a JPEG: no segment; malformed sizes never panic.
        assert!(iptc_segment(&[0xFF, 0xD8, 0xFF, 0xD9]).is_none());
        assert!(iptc_resources(b"8BIM\x04\x04\xff\0\0\0\0\0").is_empty());
        assert!(segments(b"\x89PNG").is_empty());
    }
}
