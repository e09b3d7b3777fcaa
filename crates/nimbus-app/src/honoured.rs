//! What Nimbus does with each parameter Cloudinary documents for the Upload API's `upload`
//! and `explicit` and the Admin API's `update`: one table, so that a parameter with an effect
//! Nimbus does not have yet is refused by name (400) instead of answered with a silent 200.
//! Parameters Cloudinary does not document are ignored, as Cloudinary ignores them.
//!
//! Docs: <https://cloudinary.com/documentation/image_upload_api_reference#upload> and
//! <https://cloudinary.com/documentation/admin_api#update_details_of_an_existing_resource>.

use nimbus_core::params::parse_bool;

use crate::AppError;
use crate::error::AppResult;
use crate::params::Params;

/// How Nimbus treats a documented parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Treatment {
    /// Nimbus does what Cloudinary documents.
    Honoured,
    /// Sent by the clients for the transport (signature, dating, chunking) or without effect
    /// on the stored asset in Nimbus: accepted.
    Transport,
    /// Documented with an effect Nimbus does not have yet: refused unless switched off
    /// (`false` / `0`).
    Unsupported,
}

use Treatment::{Honoured, Transport, Unsupported};

/// Every documented parameter of `upload`, `explicit` and Admin `update`.
pub const PARAMS: [(&str, Treatment); 79] = [
    // Identity and naming.
    ("public_id", Honoured),
    ("public_id_prefix", Honoured),
    ("folder", Honoured),
    ("asset_folder", Honoured),
    ("display_name", Honoured),
    ("use_filename", Honoured),
    ("use_filename_as_display_name", Honoured),
    ("use_asset_folder_as_public_id_prefix", Honoured),
    ("unique_filename", Honoured),
    ("unique_display_name", Unsupported),
    ("filename_override", Honoured),
    ("discard_original_filename", Honoured),
    ("type", Honoured),
    ("resource_type", Transport),
    ("overwrite", Honoured),
    // Access.
    ("access_mode", Honoured),
    ("access_control", Unsupported),
    // Data on the asset.
    ("tags", Honoured),
    ("context", Honoured),
    ("metadata", Honoured),
    ("clear_invalid", Honoured),
    ("image_metadata", Honoured),
    ("media_metadata", Honoured),
    ("exif", Honoured),
    ("colors", Unsupported),
    ("faces", Unsupported),
    ("quality_analysis", Unsupported),
    ("accessibility_analysis", Unsupported),
    ("cinemagraph_analysis", Unsupported),
    ("phash", Unsupported),
    ("face_coordinates", Unsupported),
    ("custom_coordinates", Unsupported),
    ("regions", Unsupported),
    // Presets and formats.
    ("upload_preset", Honoured),
    ("allowed_formats", Honoured),
    ("format", Unsupported),
    // Transformations.
    ("eager", Honoured),
    ("eager_async", Honoured),
    ("eager_notification_url", Honoured),
    ("transformation", Unsupported),
    ("responsive_breakpoints", Unsupported),
    ("quality_override", Unsupported),
    // Nimbus keeps no CDN: every write already clears its own caches.
    ("invalidate", Honoured),
    // Add-ons and analysis.
    ("auto_tagging", Unsupported),
    ("categorization", Unsupported),
    ("detection", Unsupported),
    ("ocr", Unsupported),
    ("visual_search", Unsupported),
    ("background_removal", Unsupported),
    ("raw_convert", Unsupported),
    ("moderation", Unsupported),
    ("moderation_status", Unsupported),
    ("auto_chaptering", Unsupported),
    ("auto_transcription", Unsupported),
    // Notifications and flow.
    ("notification_url", Honoured),
    ("async", Unsupported),
    ("callback", Unsupported),
    ("eval", Unsupported),
    ("on_success", Unsupported),
    ("backup", Unsupported),
    ("return_delete_token", Unsupported),
    ("proxy", Unsupported),
    ("headers", Honoured),
    ("manifest_transformation", Unsupported),
    ("manifest_json", Unsupported),
    ("template", Unsupported),
    ("template_vars", Unsupported),
    // Transport.
    ("file", Transport),
    ("timestamp", Transport),
    ("signature", Transport),
    ("api_key", Transport),
    ("signature_algorithm", Transport),
    ("cloud_name", Transport),
    ("chunk_size", Transport),
    ("source", Transport),
    ("filename", Transport),
    ("x_unique_upload_id", Transport),
    // Names the notifications of one call (Cloudinary echoes it; Nimbus keeps its own).
    ("batch_id", Transport),
    ("unsigned", Transport),
];

/// Add-on parameters whose every value is one Nimbus has no add-on for: refused in the
/// words Cloudinary uses for an invalid value (clients match on them), with the reason.
fn invalid_addon_value(name: &str, value: &str) -> Option<String> {
    let why = format!("Illegal value '{value}' for {name}: Nimbus has no add-on for it yet");
    Some(match name {
        "raw_convert" => format!("Raw convert is invalid. {why}"),
        "categorization" => format!("Categorization '{value}' is not valid. {why}"),
        "detection" => format!("Detection invalid model '{value}'. {why}"),
        "background_removal" => format!("Background removal '{value}' is invalid. {why}"),
        _ => return None,
    })
}

/// Refuses the first documented parameter Nimbus does not honour, unless it is switched
/// off. `access_control` is named like the others.
pub fn refuse_unhonoured(params: &Params) -> AppResult<()> {
    for (name, value) in params.iter() {
        let name = name.trim_end_matches("[]");
        let unsupported = PARAMS.iter().any(|(n, t)| *n == name && *t == Unsupported);
        if unsupported && !value.is_empty() && parse_bool(value) != Some(false) {
            return Err(match invalid_addon_value(name, value) {
                Some(message) => AppError::UnsupportedValue(message),
                None => AppError::Unsupported(name.to_owned()),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::from_pairs(pairs)
    }

    #[test]
    fn each_name_once() {
        for (i, (n, _)) in PARAMS.iter().enumerate() {
            assert!(!PARAMS[i + 1..].iter().any(|(m, _)| m == n), "{n} listed twice");
        }
    }

    #[test]
    fn unsupported_parameters_are_refused_by_name() {
        for name in ["quality_override", "backup", "transformation", "moderation", "access_control", "ocr"] {
            let err = refuse_unhonoured(&params(&[("public_id", "a"), (name, "x")])).unwrap_err();
            assert!(matches!(&err, AppError::Unsupported(n) if n == name), "{name}: {err}");
        }
        // Add-ons are refused in Cloudinary's words for an invalid value.
        let err = refuse_unhonoured(&params(&[("detection", "illegal")])).unwrap_err().to_string();
        assert!(err.starts_with("Detection invalid model 'illegal'") && err.contains("Illegal value"), "{err}");
        let err = refuse_unhonoured(&params(&[("raw_convert", "aspose")])).unwrap_err().to_string();
        assert!(err.starts_with("Raw convert is invalid"), "{err}");
        // Switched off, or not documented: accepted.
        assert!(refuse_unhonoured(&params(&[("backup", "false"), ("colors", "0"), ("phash", "")])).is_ok());
        assert!(refuse_unhonoured(&params(&[("my_own_flag", "1"), ("timestamp", "1"), ("invalidate", "1")])).is_ok());
    }
}
