//! Literal values of expressions: numbers with size units, absolute and relative dates.

use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, format_description::well_known::Rfc3339};

/// A date value: a point in time (Unix seconds) and, for a bare `YYYY-MM-DD`, the day's end
/// (equality on a day matches the whole day).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DateValue {
    pub at: i64,
    pub day_end: Option<i64>,
}

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

/// `123`, `1.5`, `-2`, and sizes `10kb` / `2mb` / `1gb` (powers of 1024).
pub fn number(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    let units = [("kb", 1024.0), ("mb", 1024.0 * 1024.0), ("gb", 1024.0 * 1024.0 * 1024.0)];
    let (digits, unit) = units
        .iter()
        .find_map(|(suffix, unit)| lower.strip_suffix(suffix).map(|d| (d, *unit)))
        .unwrap_or((lower.as_str(), 1.0));
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'+') {
        return None;
    }
    let v: f64 = digits.parse().ok()?;
    let v = v * unit;
    v.is_finite().then_some(v)
}

/// `16:9` (a ratio) or a number.
pub fn ratio(s: &str) -> Option<f64> {
    match s.split_once(':') {
        Some((a, b)) => {
            let (a, b) = (number(a)?, number(b)?);
            (b > 0.0).then(|| a / b)
        }
        None => number(s),
    }
}

/// Absolute dates (`2024-01-31`, RFC 3339 such as `2024-01-31T10:00:00Z`, Unix seconds)
/// and relative ones counted back from `now`: `3h`, `2d`, `1w`, `6m` (30 days), `1y` (365 days).
pub fn date(s: &str, now: i64) -> Option<DateValue> {
    if let Some(rel) = relative(s) {
        return Some(DateValue { at: now.saturating_sub(rel), day_end: None });
    }
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok().map(|at| DateValue { at, day_end: None });
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(DateValue { at: t.unix_timestamp(), day_end: None });
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = Date::parse(s, &fmt) {
        let at = PrimitiveDateTime::new(d, Time::MIDNIGHT).assume_utc().unix_timestamp();
        return Some(DateValue { at, day_end: Some(at + DAY) });
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    PrimitiveDateTime::parse(s, &fmt).ok().map(|t| DateValue { at: t.assume_utc().unix_timestamp(), day_end: None })
}

fn relative(s: &str) -> Option<i64> {
    let unit = match s.as_bytes().last()? {
        b'h' => HOUR,
        b'd' => DAY,
        b'w' => 7 * DAY,
        b'm' => 30 * DAY,
        b'y' => 365 * DAY,
        _ => return None,
    };
    let n = &s[..s.len() - 1];
    if n.is_empty() || n.len() > 6 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse::<i64>().ok().map(|n| n * unit)
}

/// A stored `YYYY-MM-DD` metadata date as Unix seconds (midnight UTC).
pub fn stored_date(s: &str) -> Option<i64> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, &fmt).ok().map(|d| PrimitiveDateTime::new(d, Time::MIDNIGHT).assume_utc().unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_sizes() {
        assert_eq!(number("1500"), Some(1500.0));
        assert_eq!(number("1.5"), Some(1.5));
        assert_eq!(number("2kb"), Some(2048.0));
        assert_eq!(number("1MB"), Some(1_048_576.0));
        assert_eq!(number("abc"), None);
        assert_eq!(number("kb"), None);
        // Found by the fuzzer: a multi-byte character before the unit.
        assert_eq!(number("2\u{294}"), None);
        assert_eq!(number("\u{294}b"), None);
        assert_eq!(ratio("16:9"), Some(16.0 / 9.0));
        assert_eq!(ratio("1:0"), None);
    }

    #[test]
    fn dates() {
        let now = 1_700_000_000;
        assert_eq!(date("1d", now).unwrap().at, now - 86_400);
        assert_eq!(date("2w", now).unwrap().at, now - 14 * 86_400);
        let d = date("2024-01-31", now).unwrap();
        assert_eq!(d.at, 1_706_659_200);
        assert_eq!(d.day_end, Some(1_706_659_200 + 86_400));
        assert_eq!(date("2024-01-31T10:00:00Z", now).unwrap().at, 1_706_695_200);
        assert_eq!(date("2024-01-31T10:00:00", now).unwrap().at, 1_706_695_200);
        assert_eq!(date("1515911870", now).unwrap().at, 1_515_911_870);
        assert!(date("yesterday", now).is_none());
        assert!(date("2024-13-01", now).is_none());
        assert_eq!(stored_date("2024-01-31"), Some(1_706_659_200));
    }
}
