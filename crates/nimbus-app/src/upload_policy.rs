//! What an upload may ask for, by who is asking. Signed calls (an API key's signature or
//! Basic credentials) may set any parameter, with a named preset's settings as defaults under
//! the request. An unsigned call, authorised only by an unsigned upload preset, is a
//! stranger's: it may carry only the parameters of Cloudinary's unsigned list, the preset's
//! settings win over them, and it never replaces an existing asset.
//!
//! Docs: <https://cloudinary.com/documentation/image_upload_api_reference#unsigned_upload_parameters>
//! and <https://cloudinary.com/documentation/upload_presets>.

use nimbus_core::params::{encode_pipe_pairs, parse_bool, parse_pipe_pairs};

use crate::AppError;
use crate::error::AppResult;
use crate::params::Params;
use crate::ports::Preset;

/// How Nimbus treats a parameter an unsigned upload may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsignedUse {
    /// Taken from the request where the preset does not set it.
    Honoured,
    /// Merged with the preset's value (the preset's keys win).
    Merged,
    /// Sent by clients for their own bookkeeping and without effect on the asset: dropped.
    Dropped,
    /// On Cloudinary's list, not implemented by Nimbus: refused by name.
    Unsupported,
}

/// Every parameter an unsigned upload may carry: Cloudinary's list, then the two that the
/// official clients add on their own. Anything else is refused with
/// [`AppError::UnsignedParamNotAllowed`]; move it into the preset instead.
pub const UNSIGNED_PARAMS: [(&str, UnsignedUse); 20] = [
    ("upload_preset", UnsignedUse::Dropped),
    ("callback", UnsignedUse::Unsupported),
    ("public_id", UnsignedUse::Honoured),
    ("folder", UnsignedUse::Honoured),
    ("asset_folder", UnsignedUse::Honoured),
    ("tags", UnsignedUse::Honoured),
    ("context", UnsignedUse::Merged),
    ("metadata", UnsignedUse::Merged),
    ("face_coordinates", UnsignedUse::Unsupported),
    ("custom_coordinates", UnsignedUse::Unsupported),
    // The upload widget marks its uploads with `source=uw`.
    ("source", UnsignedUse::Dropped),
    ("filename_override", UnsignedUse::Honoured),
    ("manifest_transformation", UnsignedUse::Unsupported),
    ("manifest_json", UnsignedUse::Unsupported),
    ("template", UnsignedUse::Unsupported),
    ("template_vars", UnsignedUse::Unsupported),
    ("regions", UnsignedUse::Unsupported),
    ("public_id_prefix", UnsignedUse::Honoured),
    // The Python and Node SDKs date every upload call, signed or not; unsigned, it proves nothing.
    ("timestamp", UnsignedUse::Dropped),
    // Chunked uploads (`upload_large`) may name the chunk size.
    ("chunk_size", UnsignedUse::Dropped),
];

/// The names Cloudinary's refusal lists (its list, without what the clients add).
pub const UNSIGNED_PARAM_NAMES: [&str; 18] = [
    "upload_preset",
    "callback",
    "public_id",
    "folder",
    "asset_folder",
    "tags",
    "context",
    "metadata",
    "face_coordinates",
    "custom_coordinates",
    "source",
    "filename_override",
    "manifest_transformation",
    "manifest_json",
    "template",
    "template_vars",
    "regions",
    "public_id_prefix",
];

/// Preset settings that describe the preset rather than the upload.
const PRESET_ONLY: [&str; 1] = ["disallow_public_id"];

/// A signed upload's parameters: the request's, with a named preset's settings as defaults.
pub fn signed_upload_params(preset: Option<&Preset>, mut request: Params) -> AppResult<Params> {
    if let Some(preset) = preset {
        check_public_id_allowed(preset, &request)?;
        request.with_defaults(&preset.settings);
    }
    Ok(request)
}

/// An unsigned upload's parameters: only those of [`UNSIGNED_PARAMS`], under the preset's
/// settings (the preset wins; `context` is merged with the preset's keys winning), and
/// `overwrite` always off. Metadata is merged by the caller, the preset's values winning.
pub fn unsigned_upload_params(preset: &Preset, request: &Params) -> AppResult<Params> {
    for (name, _) in request.iter().filter(|(_, v)| !v.is_empty()) {
        match UNSIGNED_PARAMS.iter().find(|(n, _)| *n == name).map(|(_, u)| *u) {
            None => {
                return Err(AppError::UnsignedParamNotAllowed {
                    name: name.to_owned(),
                    allowed: UNSIGNED_PARAM_NAMES.join(","),
                });
            }
            Some(UnsignedUse::Unsupported) => return Err(AppError::Unsupported(name.to_owned())),
            Some(_) => {}
        }
    }
    check_public_id_allowed(preset, request)?;
    let mut out = Params::new();
    for (k, v) in &preset.settings {
        if !PRESET_ONLY.contains(&k.as_str()) && k != "overwrite" {
            out.push(k, v.clone());
        }
    }
    for (name, use_) in UNSIGNED_PARAMS {
        let Some(value) = request.get(name) else { continue };
        match use_ {
            UnsignedUse::Honoured if out.get(name).is_none() => out.push(name, value),
            UnsignedUse::Merged if name == "context" => {
                let merged = merge_context(out.get("context"), value);
                out.push("context", merged);
            }
            // Metadata: the caller merges the request's under the preset's.
            UnsignedUse::Merged => out.push(name, value),
            _ => {}
        }
    }
    out.push("overwrite", "false");
    Ok(out)
}

/// `k=v|...` pairs of the request under those of the preset: the preset's keys win.
fn merge_context(preset: Option<&str>, request: &str) -> String {
    let preset = preset.map(parse_pipe_pairs).unwrap_or_default();
    let mut pairs = preset.clone();
    for (k, v) in parse_pipe_pairs(request) {
        if !preset.iter().any(|(pk, _)| *pk == k) {
            pairs.push((k, v));
        }
    }
    encode_pipe_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// `disallow_public_id` on the preset: the call may not name the public id.
fn check_public_id_allowed(preset: &Preset, request: &Params) -> AppResult<()> {
    let disallowed = preset.settings.iter().any(|(k, v)| k == "disallow_public_id" && parse_bool(v) == Some(true));
    if disallowed && request.get("public_id").is_some() {
        return Err(AppError::PublicIdDisallowed(preset.name.clone()));
    }
    Ok(())
}

/// The `allowed_formats` check, once the file's format is known.
pub fn check_format_allowed(params: &Params, format: Option<&str>) -> AppResult<()> {
    let allowed = params.list("allowed_formats");
    if allowed.is_empty() {
        return Ok(());
    }
    let format = format.unwrap_or("").to_ascii_lowercase();
    let same = |a: &str| a.eq_ignore_ascii_case(&format) || (is_jpeg(a) && is_jpeg(&format));
    if allowed.iter().any(|a| same(a)) {
        Ok(())
    } else {
        Err(AppError::FormatNotAllowed {
            format: if format.is_empty() { "unknown".to_owned() } else { format },
            allowed: allowed.join(","),
        })
    }
}

fn is_jpeg(f: &str) -> bool {
    matches!(f.to_ascii_lowercase().as_str(), "jpg" | "jpeg" | "jpe")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preset(settings: &[(&str, &str)]) -> Preset {
        Preset {
            name: "open".into(),
            unsigned: true,
            settings: settings.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        }
    }

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::from_pairs(pairs)
    }

    #[test]
    fn the_table_covers_cloudinarys_list() {
        for name in UNSIGNED_PARAM_NAMES {
            assert!(UNSIGNED_PARAMS.iter().any(|(n, _)| *n == name), "{name}");
        }
    }

    #[test]
    fn only_listed_parameters_pass() {
        let p = preset(&[]);
        for name in ["overwrite", "type", "access_mode", "eager", "transformation", "allowed_formats", "invalidate"] {
            let err = unsigned_upload_params(&p, &params(&[(name, "1")])).unwrap_err();
            assert!(matches!(&err, AppError::UnsignedParamNotAllowed { name: n, .. } if n == name), "{name}: {err}");
        }
        let err = unsigned_upload_params(&p, &params(&[("overwrite", "1")])).unwrap_err().to_string();
        assert!(err.starts_with("Overwrite parameter is not allowed when using unsigned upload. Only upload_preset,"));
        assert!(matches!(
            unsigned_upload_params(&p, &params(&[("regions", "{}")])),
            Err(AppError::Unsupported(n)) if n == "regions"
        ));
        let ok = unsigned_upload_params(&p, &params(&[("timestamp", "1"), ("source", "uw"), ("public_id", "a")]));
        let ok = ok.unwrap();
        assert_eq!((ok.get("public_id"), ok.get("timestamp"), ok.get("source")), (Some("a"), None, None));
    }

    #[test]
    fn the_preset_wins_and_overwrite_is_off() {
        let p = preset(&[
            ("folder", "site/uploads"),
            ("tags", "from-preset"),
            ("type", "private"),
            ("overwrite", "true"),
            ("context", "alt=preset|owner=site"),
        ]);
        let out = unsigned_upload_params(
            &p,
            &params(&[("folder", "site"), ("tags", "mine"), ("context", "alt=mine|caption=hi"), ("public_id", "x")]),
        )
        .unwrap();
        assert_eq!(out.get("folder"), Some("site/uploads"));
        assert_eq!(out.get("tags"), Some("from-preset"));
        assert_eq!(out.get("type"), Some("private"));
        assert_eq!(out.get("overwrite"), Some("false"));
        assert_eq!(out.get("public_id"), Some("x"));
        assert_eq!(out.get("context"), Some("alt=preset|owner=site|caption=hi"));
        // Without a preset value, the request's is taken.
        let out = unsigned_upload_params(&preset(&[]), &params(&[("folder", "f"), ("tags", "t")])).unwrap();
        assert_eq!((out.get("folder"), out.get("tags"), out.get("overwrite")), (Some("f"), Some("t"), Some("false")));
    }

    #[test]
    fn disallow_public_id() {
        let p = preset(&[("disallow_public_id", "true")]);
        assert!(matches!(
            unsigned_upload_params(&p, &params(&[("public_id", "logo")])),
            Err(AppError::PublicIdDisallowed(_))
        ));
        let out = unsigned_upload_params(&p, &params(&[("tags", "a")])).unwrap();
        assert_eq!(out.get("disallow_public_id"), None);
        // Signed calls naming the preset are bound by it too.
        assert!(signed_upload_params(Some(&p), params(&[("public_id", "logo")])).is_err());
        let out = signed_upload_params(Some(&preset(&[("tags", "p")])), params(&[("public_id", "logo")])).unwrap();
        assert_eq!((out.get("public_id"), out.get("tags")), (Some("logo"), Some("p")));
    }

    #[test]
    fn formats() {
        let p = params(&[("allowed_formats", "jpg,png")]);
        assert!(check_format_allowed(&p, Some("jpeg")).is_ok());
        assert!(check_format_allowed(&p, Some("PNG")).is_ok());
        assert!(matches!(check_format_allowed(&p, Some("svg")), Err(AppError::FormatNotAllowed { .. })));
        assert!(matches!(check_format_allowed(&p, None), Err(AppError::FormatNotAllowed { .. })));
        assert!(check_format_allowed(&Params::new(), Some("svg")).is_ok());
    }
}
