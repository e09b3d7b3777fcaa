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

/// A duration written as a whole number and a unit, `s`, `m`, `h` or `d` (`14d`, `1h`, `0s`),
/// in seconds; `None` when it is not one, or too long to count.
pub fn parse_duration_secs(text: &str) -> Option<i64> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let per = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    let digits = &text[..text.len() - 1];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<i64>().ok()?.checked_mul(per)
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_have_a_unit() {
        use super::parse_duration_secs as p;
        assert_eq!((p("14d"), p("1h"), p("0s"), p(" 90m ")), (Some(14 * 86_400), Some(3600), Some(0), Some(5400)));
        for bad in ["", "d", "14", "-1d", "1.5h", "1w", "1 d", "99999999999999999999d"] {
            assert_eq!(p(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_utc_seconds() {
        assert_eq!(super::iso8601(1_700_000_000), "2023-11-14T22:13:20Z");
    }
}
