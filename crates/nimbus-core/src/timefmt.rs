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

/// The day (since 1970-01-01, UTC) of a Unix time.
pub fn day_of(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(86_400)
}

/// The calendar year (UTC) of a Unix time.
pub fn year_of(unix_secs: i64) -> i32 {
    OffsetDateTime::from_unix_timestamp(unix_secs).map_or(1970, |t| t.year())
}

/// A day written `YYYY-MM-DD`, as the Unix time of its midnight UTC.
pub fn parse_date(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    let date = time::Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp())
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
    fn dates_are_days() {
        assert_eq!(super::parse_date("2023-11-14"), Some(1_699_920_000));
        for bad in ["2023-11-31", "2023-1-14", "14-11-2023", "2023-11", "x"] {
            assert_eq!(super::parse_date(bad), None, "{bad}");
        }
    }

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
