//! How many ids one call may name. Each bound is checked before any id in the list is parsed
//! or looked up, and answers 400 naming the limit; the numbers are the ones Cloudinary
//! documents for the same calls, so a client written against Cloudinary fits in them.
//!
//! The catalog takes lists of any length (it splits long `IN` lists itself): these bounds
//! keep one request's work in proportion, they are not what keeps SQL working.

use crate::AppError;
use crate::error::AppResult;

/// Admin API `delete_resources` by `public_ids` and `delete_resources_by_asset_ids`: "array
/// of up to 100" (<https://cloudinary.com/documentation/admin_api#delete_resources>).
pub const MAX_DELETE_IDS: usize = 100;

/// Admin API `resources` by `public_ids` and `resources_by_asset_ids`: up to 100
/// (<https://cloudinary.com/documentation/admin_api#get_resources>).
pub const MAX_LIST_IDS: usize = 100;

/// Upload API `tags`, `context` and `metadata` (update_metadata): up to 1000 public ids
/// (<https://cloudinary.com/documentation/image_upload_api_reference#tags_method>).
pub const MAX_BULK_IDS: usize = 1000;

/// Refuses a list parameter `param` of `given` items when more than `max` are allowed.
pub fn check_ids(param: &'static str, given: usize, max: usize) -> AppResult<()> {
    if given > max {
        return Err(AppError::TooManyIds { param, given, max });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_only_beyond_the_limit_and_names_it() {
        assert!(check_ids("public_ids", 0, MAX_DELETE_IDS).is_ok());
        assert!(check_ids("public_ids", MAX_DELETE_IDS, MAX_DELETE_IDS).is_ok());
        let e = check_ids("public_ids", 40_000, MAX_DELETE_IDS).unwrap_err();
        assert_eq!(e.to_string(), "Too many public_ids: 40000 given, at most 100");
    }
}
