//! Time as Cloudinary prints it. Times are Unix seconds passed in by the caller.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// `2023-11-14T22:13:20Z`, as in `created_at`.
pub fn iso8601(unix_secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix_secs)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_utc_seconds() {
        assert_eq!(super::iso8601(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
