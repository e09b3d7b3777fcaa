//! How delivered bytes present themselves to a browser. Every byte Nimbus delivers was
//! written by somebody else, and a browser that renders it on Nimbus's origin would run its
//! script there (stored XSS against the API and the console). So:
//! - every response says `X-Content-Type-Options: nosniff` (a layer on the whole router);
//! - a file is served inline under its own media type only if that type is on the safe
//!   list of its resource type (raster images for `image`, audio and video for `video`, plain
//!   data for `raw`): anything else, HTML and SVG included, is `application/octet-stream`
//!   with `Content-Disposition: attachment`;
//! - every delivery response but a PDF carries a `Content-Security-Policy` that allows no
//!   script and sandboxes the document, should a browser render it anyway. (Browsers refuse
//!   to show PDFs in a sandboxed document; their viewers do not run the file's script on
//!   the origin.)
//!
//! Deployments can also serve delivery from a host name of its own (`--delivery-url`).

use nimbus_core::{Asset, ResourceType};

/// The policy of every delivery response but PDFs: no script, no plugins, a unique origin.
pub const DELIVERY_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

/// What a delivered file is sent as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presentation {
    pub content_type: &'static str,
    /// `Content-Disposition: attachment` with this file name.
    pub attachment: Option<String>,
    /// Whether [`DELIVERY_CSP`] goes with it.
    pub sandboxed: bool,
}

const OCTET_STREAM: &str = "application/octet-stream";

/// Raster image formats a browser shows inline without running anything.
fn image_type(ext: &str) -> Option<&'static str> {
    Some(match ext {
        "jpg" | "jpeg" | "jpe" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "bmp" => "image/bmp",
        "tif" | "tiff" => "image/tiff",
        "ico" => "image/x-icon",
        "heic" | "heif" => "image/heic",
        _ => return None,
    })
}

/// Audio and video containers.
fn media_type(ext: &str) -> Option<&'static str> {
    Some(match ext {
        "mp4" | "m4v" => "video/mp4",
        "webm" => "video/webm",
        "mov" => "video/quicktime",
        "avi" => "video/x-msvideo",
        "ogv" => "video/ogg",
        "flv" => "video/x-flv",
        "mkv" => "video/x-matroska",
        "ts" | "m2ts" => "video/mp2t",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "ogg" | "oga" => "audio/ogg",
        "m4a" => "audio/mp4",
        "aac" => "audio/aac",
        "flac" => "audio/flac",
        _ => return None,
    })
}

/// Raw files shown inline: data a browser displays as text or with a viewer of its own.
fn raw_type(ext: &str) -> Option<&'static str> {
    Some(match ext {
        "txt" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "json" => "application/json",
        "pdf" => "application/pdf",
        _ => return image_type(ext).or_else(|| media_type(ext)),
    })
}

/// How `asset`'s original is delivered.
pub fn of_original(asset: &Asset) -> Presentation {
    let ext = match &asset.format {
        Some(f) => f.to_ascii_lowercase(),
        None => asset.public_id.as_str().rsplit_once('.').map_or(String::new(), |(_, e)| e.to_ascii_lowercase()),
    };
    let safe = match asset.resource_type {
        ResourceType::Image => image_type(&ext),
        ResourceType::Video => media_type(&ext),
        _ => raw_type(&ext),
    };
    match safe {
        Some(content_type) => Presentation { content_type, attachment: None, sandboxed: ext != "pdf" },
        None => Presentation {
            content_type: OCTET_STREAM,
            attachment: Some(file_name(asset.public_id.name(), asset.format.as_deref())),
            sandboxed: true,
        },
    }
}

/// The response headers the asset's owner set on upload (`Link`, `X-Robots-Tag`; checked then).
pub fn add_custom_headers(h: &mut axum::http::HeaderMap, asset: &Asset) {
    for (name, value) in &asset.headers {
        if let (Ok(n), Ok(v)) =
            (axum::http::HeaderName::from_bytes(name.as_bytes()), axum::http::HeaderValue::from_str(value))
        {
            h.append(n, v);
        }
    }
}

/// The file name of an attachment: the public id's last part, and the format.
pub fn file_name(name: &str, format: Option<&str>) -> String {
    match format {
        Some(f) if !f.is_empty() => format!("{name}.{f}"),
        _ => name.to_owned(),
    }
}

/// What RFC 5987 does not allow unencoded in `filename*` (its `attr-char` is alphanumerics
/// and `!#$&+-.^_`|~`).
const NOT_ATTR_CHAR: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `attachment; filename="..."; filename*=UTF-8''...`: a plain ASCII name with quotes and
/// control characters replaced, and the exact name percent-encoded (RFC 6266).
pub fn content_disposition(file_name: &str) -> String {
    let plain: String = file_name
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let exact = percent_encoding::utf8_percent_encode(file_name, NOT_ATTR_CHAR);
    format!("attachment; filename=\"{plain}\"; filename*=UTF-8''{exact}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use nimbus_core::{DeliveryType, PublicId};

    fn asset(rt: ResourceType, id: &str, format: Option<&str>) -> Asset {
        Asset {
            asset_id: String::new(),
            resource_type: rt,
            delivery_type: DeliveryType::Upload,
            access_mode: nimbus_core::AccessMode::Public,
            headers: Vec::new(),
            public_id: PublicId::parse(id).unwrap(),
            version: 1,
            version_id: String::new(),
            format: format.map(str::to_owned),
            width: None,
            height: None,
            bytes: 0,
            etag: String::new(),
            blob_key: String::new(),
            original_filename: None,
            display_name: String::new(),
            asset_folder: String::new(),
            tags: Vec::new(),
            context: Vec::new(),
            metadata: Default::default(),
            image_metadata: Vec::new(),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn script_capable_files_are_attachments() {
        for id in ["page.html", "page.htm", "drawing.svg", "x.xhtml", "app.js", "feed.xml", "s.css", "noext"] {
            let p = of_original(&asset(ResourceType::Raw, id, None));
            assert_eq!(p.content_type, OCTET_STREAM, "{id}");
            assert!(p.attachment.is_some() && p.sandboxed, "{id}");
        }
        // A video asset whose format came from a file name is not trusted either.
        let p = of_original(&asset(ResourceType::Video, "clip", Some("html")));
        assert_eq!((p.content_type, p.attachment.as_deref()), (OCTET_STREAM, Some("clip.html")));
        let p = of_original(&asset(ResourceType::Image, "art", Some("psd")));
        assert_eq!(p.content_type, OCTET_STREAM);
    }

    #[test]
    fn safe_files_are_inline() {
        let p = of_original(&asset(ResourceType::Image, "a", Some("jpg")));
        assert_eq!(p, Presentation { content_type: "image/jpeg", attachment: None, sandboxed: true });
        let p = of_original(&asset(ResourceType::Raw, "notes.TXT", None));
        assert_eq!(p.content_type, "text/plain; charset=utf-8");
        let p = of_original(&asset(ResourceType::Raw, "doc.pdf", None));
        assert_eq!((p.content_type, p.sandboxed), ("application/pdf", false));
        let p = of_original(&asset(ResourceType::Video, "v", Some("mp4")));
        assert_eq!((p.content_type, p.attachment), ("video/mp4", None));
    }

    #[test]
    fn dispositions_cannot_break_the_header() {
        assert_eq!(
            content_disposition("a\"b\r\n.html"),
            "attachment; filename=\"a_b__.html\"; filename*=UTF-8''a%22b%0D%0A.html"
        );
        assert_eq!(content_disposition("é.svg"), "attachment; filename=\"_.svg\"; filename*=UTF-8''%C3%A9.svg");
    }
}
