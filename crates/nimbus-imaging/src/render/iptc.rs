//! `fl_keep_iptc`: a JPEG derivative keeps the original's IPTC block (the APP13 "Photoshop
//! 3.0" segments, where captions, credits and copyright live), which re-encoding otherwise
//! drops with every other embedded metadata. Nothing else of the original's metadata (EXIF,
//! GPS, XMP) is carried over.

/// Start of an APP13 segment's payload that holds IPTC data.
pub(super) const SIGNATURE: &[u8] = b"Photoshop 3.0\0";

/// The IPTC segments of a JPEG, whole (marker and length included), in order; none when the
/// input is not a JPEG or is malformed before them.
pub fn segments(jpeg: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    if !jpeg.starts_with(&[0xFF, 0xD8]) {
        return out;
    }
    let mut i = 2;
    while i + 4 <= jpeg.len() && jpeg[i] == 0xFF {
        let marker = jpeg[i + 1];
        // Fill bytes before a marker.
        if marker == 0xFF {
            i += 1;
            continue;
        }
        // Start of scan or end of image: no more header segments.
        if marker == 0xDA || marker == 0xD9 {
            break;
        }
        let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        if len < 2 || i + 2 + len > jpeg.len() {
            break;
        }
        if marker == 0xED && jpeg[i + 4..i + 2 + len].starts_with(SIGNATURE) {
            out.push(&jpeg[i..i + 2 + len]);
        }
        i += 2 + len;
    }
    out
}

/// `jpeg` with `segments` inserted after its SOI and its JFIF (APP0) segment, if any.
pub fn with_segments(jpeg: Vec<u8>, segments: &[&[u8]]) -> Vec<u8> {
    if segments.is_empty() || !jpeg.starts_with(&[0xFF, 0xD8]) {
        return jpeg;
    }
    let mut at = 2;
    if jpeg.len() >= 6 && jpeg[2] == 0xFF && jpeg[3] == 0xE0 {
        let end = 4 + usize::from(u16::from_be_bytes([jpeg[4], jpeg[5]]));
        if end <= jpeg.len() {
            at = end;
        }
    }
    let mut out = Vec::with_capacity(jpeg.len() + segments.iter().map(|s| s.len()).sum::<usize>());
    out.extend_from_slice(&jpeg[..at]);
    for s in segments {
        out.extend_from_slice(s);
    }
    out.extend_from_slice(&jpeg[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut s = vec![0xFF, marker];
        s.extend(u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
        s.extend(payload);
        s
    }

    #[test]
    fn iptc_segments_are_found_and_inserted_after_jfif() {
        let iptc = segment(0xED, b"Photoshop 3.0\0" as &[u8]);
        let other_app13 = segment(0xED, b"Adobe_CM\0");
        let jfif = segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        let mut original = vec![0xFF, 0xD8];
        original.extend(&jfif);
        original.extend(&other_app13);
        original.extend(&iptc);
        original.extend([0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xD9]);
        assert_eq!(segments(&original), [iptc.as_slice()]);
        let mut derived = vec![0xFF, 0xD8];
        derived.extend(&jfif);
        derived.extend([0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xD9]);
        let kept = with_segments(derived.clone(), &segments(&original));
        let mut expected = vec![0xFF, 0xD8];
        expected.extend(&jfif);
        expected.extend(&iptc);
        expected.extend([0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xD9]);
        assert_eq!(kept, expected);
        assert_eq!(with_segments(derived.clone(), &[]), derived);
        assert!(segments(b"\x89PNG").is_empty());
        // A length running past the end stops the walk, never a panic.
        assert!(segments(&[0xFF, 0xD8, 0xFF, 0xED, 0xFF, 0xFF, 0x00]).is_empty());
    }
}
