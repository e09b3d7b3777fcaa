//! What an upload may ask for, by who is asking. Signed calls (an API key's signature or
//! Basic credentials) may set any parameter, with a named preset's settings as defaults under
//! the request. An unsigned call, authorised only by an unsigned upload preset, is a
//! stranger's: it may carry only the parameters of Cloudinary's unsigned list, the preset's
//! settings win over them, and it never replaces an existing asset.
//!
//! Docs: <https://cloudinary.com/documentation/image_upload_api_reference#unsigned_upload_parameters>
//! and <https://cloudinary.com/documentation/upload_presets>.

use nimbus_core::Context;
use nimbus_core::params::parse_bool;

use crate::AppError;
use crate::error::AppResult;
use crate::params::Params;
use crate::ports::Preset;
use crate::upload_options::UploadOptions;

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

/// Refuses what an unsigned call may not send: any parameter off [`UNSIGNED_PARAMS`] (named
/// in Cloudinary's message), and those on it Nimbus does not implement. Checked on the call's
/// parameters as they arrived, before they are read.
pub fn check_unsigned_params(request: &Params) -> AppResult<()> {
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
    Ok(())
}

/// A preset's settings as upload options (`disallow_public_id` is the preset's own).
pub fn preset_options(preset: &Preset) -> AppResult<UploadOptions> {
    let mut p = Params::new();
    for (k, v) in &preset.settings {
        p.push(k, v.clone());
    }
    UploadOptions::from_params(&p)
}

/// A signed upload's options: the request's, with a named preset's settings as defaults.
pub fn signed_upload_options(preset: Option<&Preset>, request: UploadOptions) -> AppResult<UploadOptions> {
    match preset {
        Some(preset) => {
            check_public_id_allowed(preset, &request)?;
            Ok(request.over(preset_options(preset)?))
        }
        None => Ok(request),
    }
}

/// An unsigned upload's options: the preset's settings, then what the call may set where the
/// preset does not (the `Honoured` ones of [`UNSIGNED_PARAMS`]; `context` merged with the
/// preset's keys winning), and `overwrite` always off. Only those fields of `request` are
/// read, whatever else it holds ([`check_unsigned_params`] refused the rest by name).
/// Metadata is merged by the caller, the preset's values winning.
pub fn unsigned_upload_options(preset: &Preset, request: &UploadOptions) -> AppResult<UploadOptions> {
    check_public_id_allowed(preset, request)?;
    let mut out = preset_options(preset)?;
    let r = request.clone();
    out.public_id = out.public_id.or(r.public_id);
    out.folder = out.folder.or(r.folder);
    out.asset_folder = out.asset_folder.or(r.asset_folder);
    out.tags = out.tags.or(r.tags);
    out.filename_override = out.filename_override.or(r.filename_override);
    out.public_id_prefix = out.public_id_prefix.or(r.public_id_prefix);
    out.context = merge_context(out.context, r.context);
    out.metadata = None;
    out.overwrite = Some(false);
    Ok(out)
}

/// Pairs of the request under those of the preset: the preset's keys win.
fn merge_context(preset: Option<Context>, request: Option<Context>) -> Option<Context> {
    let Some(request) = request else { return preset };
    let mut pairs = preset.unwrap_or_default();
    for (k, v) in request {
        if !pairs.iter().any(|(pk, _)| *pk == k) {
            pairs.push((k, v));
        }
    }
    Some(pairs)
}

/// `disallow_public_id` on the preset: the call may not name the public id.
fn check_public_id_allowed(preset: &Preset, request: &UploadOptions) -> AppResult<()> {
    let disallowed = preset.settings.iter().any(|(k, v)| k == "disallow_public_id" && parse_bool(v) == Some(true));
    if disallowed && request.public_id.is_some() {
        return Err(AppError::PublicIdDisallowed(preset.name.clone()));
    }
    Ok(())
}

/// The `allowed_formats` check, once the file's format is known.
pub fn check_format_allowed(allowed: Option<&[String]>, format: Option<&str>) -> AppResult<()> {
    let Some(allowed) = allowed.filter(|a| !a.is_empty()) else { return Ok(()) };
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

    fn options(pairs: &[(&str, &str)]) -> UploadOptions {
        UploadOptions::from_params(&params(pairs)).unwrap()
    }

    #[test]
    fn the_table_covers_cloudinarys_list() {
        for name in UNSIGNED_PARAM_NAMES {
            assert!(UNSIGNED_PARAMS.iter().any(|(n, _)| *n == name), "{name}");
        }
    }

    #[test]
    fn only_listed_parameters_pass() {
        for name in ["overwrite", "type", "access_mode", "eager", "transformation", "allowed_formats", "invalidate"] {
            let err = check_unsigned_params(&params(&[(name, "1")])).unwrap_err();
            assert!(matches!(&err, AppError::UnsignedParamNotAllowed { name: n, .. } if n == name), "{name}: {err}");
        }
        let err = check_unsigned_params(&params(&[("overwrite", "1")])).unwrap_err().to_string();
        assert!(err.starts_with("Overwrite parameter is not allowed when using unsigned upload. Only upload_preset,"));
        assert!(
            matches!(check_unsigned_params(&params(&[("regions", "{}")])), Err(AppError::Unsupported(n)) if n == "regions")
        );
        assert!(check_unsigned_params(&params(&[("timestamp", "1"), ("source", "uw"), ("public_id", "a")])).is_ok());
        // Whatever a typed request holds, only the listed fields are taken.
        let out = unsigned_upload_options(
            &preset(&[]),
            &options(&[("public_id", "a"), ("type", "private"), ("overwrite", "true")]),
        )
        .unwrap();
        assert_eq!((out.public_id.as_deref(), out.delivery_type, out.overwrite), (Some("a"), None, Some(false)));
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
        let out = unsigned_upload_options(
            &p,
            &options(&[("folder", "site"), ("tags", "mine"), ("context", "alt=mine|caption=hi"), ("public_id", "x")]),
        )
        .unwrap();
        assert_eq!(out.folder.as_deref(), Some("site/uploads"));
        assert_eq!(out.tags, Some(vec!["from-preset".to_owned()]));
        assert_eq!(out.delivery_type, Some(nimbus_core::DeliveryType::Private));
        assert_eq!(out.overwrite, Some(false));
        assert_eq!(out.public_id.as_deref(), Some("x"));
        let context: Vec<(&str, &str)> = out.context.iter().flatten().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(context, [("alt", "preset"), ("owner", "site"), ("caption", "hi")]);
        // Without a preset value, the request's is taken.
        let out = unsigned_upload_options(&preset(&[]), &options(&[("folder", "f"), ("tags", "t")])).unwrap();
        assert_eq!(
            (out.folder.as_deref(), out.tags.as_ref().map(Vec::len), out.overwrite),
            (Some("f"), Some(1), Some(false))
        );
    }

    #[test]
    fn disallow_public_id() {
        let p = preset(&[("disallow_public_id", "true")]);
        assert!(matches!(
            unsigned_upload_options(&p, &options(&[("public_id", "logo")])),
            Err(AppError::PublicIdDisallowed(_))
        ));
        assert!(unsigned_upload_options(&p, &options(&[("tags", "a")])).is_ok());
        // Signed calls naming the preset are bound by it too.
        assert!(signed_upload_options(Some(&p), options(&[("public_id", "logo")])).is_err());
        let out = signed_upload_options(Some(&preset(&[("tags", "p")])), options(&[("public_id", "logo")])).unwrap();
        assert_eq!((out.public_id.as_deref(), out.tags), (Some("logo"), Some(vec!["p".to_owned()])));
    }

    #[test]
    fn formats() {
        let allowed = ["jpg".to_owned(), "png".to_owned()];
        assert!(check_format_allowed(Some(&allowed), Some("jpeg")).is_ok());
        assert!(check_format_allowed(Some(&allowed), Some("PNG")).is_ok());
        assert!(matches!(check_format_allowed(Some(&allowed), Some("svg")), Err(AppError::FormatNotAllowed { .. })));
        assert!(matches!(check_format_allowed(Some(&allowed), None), Err(AppError::FormatNotAllowed { .. })));
        assert!(check_format_allowed(None, Some("svg")).is_ok());
    }
}
