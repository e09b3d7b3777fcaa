//! An upload call's parameters, read into the app's [`UploadOptions`]: what a stranger's
//! unsigned call may send is checked by name first (Cloudinary's list), then what Nimbus does
//! not honour is refused by name, then the rest is read.
//! Docs: <https://cloudinary.com/documentation/image_upload_api_reference#upload>.

use nimbus_app::AppError;
use nimbus_app::auth::{UploadCaller, UploadCredentials};
use nimbus_app::honoured::refuse_unhonoured;
use nimbus_app::params::Params;
use nimbus_app::upload_options::UploadOptions;
use nimbus_app::upload_policy::check_unsigned_params;
use nimbus_core::signature::UNSIGNED_PARAMS;

/// Parameters left out of the signature on the `tags`, `context` and `metadata` actions.
const NON_SIGNABLE_ON_BULK: [&str; 2] = ["notification_url", "batch_id"];

/// What an Upload API call offers as proof of who it is: Basic credentials, else a signature
/// over the parameters Cloudinary signs, else a key alone, else an upload preset.
pub fn credentials(action: &str, basic: Option<(String, String)>, p: &Params) -> UploadCredentials {
    if let Some((key, secret)) = basic {
        return UploadCredentials::Basic { key, secret };
    }
    if let Some(signature) = p.get("signature") {
        let bulk = matches!(action, "tags" | "context" | "metadata");
        let signed = p
            .iter()
            .filter(|(k, _)| !(UNSIGNED_PARAMS.contains(k) || (bulk && NON_SIGNABLE_ON_BULK.contains(k))))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        return UploadCredentials::Signed {
            api_key: p.get("api_key").map(str::to_owned),
            timestamp: p.get("timestamp").map(str::to_owned),
            signature: signature.to_owned(),
            signed,
        };
    }
    if let Some(api_key) = p.get("api_key") {
        return UploadCredentials::KeyOnly { api_key: api_key.to_owned() };
    }
    match p.get("upload_preset") {
        Some(name) => UploadCredentials::Preset(name.to_owned()),
        None => UploadCredentials::None,
    }
}

/// The options of an upload call, and the upload preset it names.
pub fn upload_request(caller: &UploadCaller, params: &Params) -> Result<(UploadOptions, Option<String>), AppError> {
    if caller.unsigned_preset.is_some() {
        check_unsigned_params(params)?;
    }
    refuse_unhonoured(params)?;
    Ok((UploadOptions::from_params(params)?, params.get("upload_preset").map(str::to_owned)))
}
