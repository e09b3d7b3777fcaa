//! Versions of the privacy policy and the terms: how far ahead a change must be announced.
//! A minor change takes effect 7 days after it is published at the earliest, a substantial one
//! 30 days after, a change the law requires at once; no version may take effect before the
//! one in force. Pure rules; times are Unix seconds.

/// How much a new version changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeClass {
    Minor,
    Substantial,
    /// Required by law: in force when published, unless a later date is given.
    Legal,
}

impl ChangeClass {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Minor => "minor",
            Self::Substantial => "substantial",
            Self::Legal => "legal",
        }
    }

    /// Days of notice the change needs.
    pub fn notice_days(self) -> i64 {
        match self {
            Self::Minor => 7,
            Self::Substantial => 30,
            Self::Legal => 0,
        }
    }
}

impl std::str::FromStr for ChangeClass {
    type Err = PolicyError;
    fn from_str(s: &str) -> Result<Self, PolicyError> {
        match s {
            "minor" => Ok(Self::Minor),
            "substantial" => Ok(Self::Substantial),
            "legal" => Ok(Self::Legal),
            other => Err(PolicyError(format!("change class must be minor, substantial or legal, not {other:?}"))),
        }
    }
}

/// The kinds of documents.
pub const KINDS: [&str; 2] = ["privacy", "terms"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyError(pub String);

/// When a version published at `published_at` takes effect: `wanted`, or the earliest
/// allowed date when none is given. Refused when `wanted` is too early for the class, or
/// not after the latest version already published (`latest_effective_at`).
pub fn effective_at(
    class: ChangeClass,
    published_at: i64,
    wanted: Option<i64>,
    latest_effective_at: Option<i64>,
) -> Result<i64, PolicyError> {
    let earliest = published_at + class.notice_days() * 86_400;
    let at = wanted.unwrap_or(earliest);
    if at < earliest {
        return Err(PolicyError(format!(
            "a {} change takes effect {} days after it is published at the earliest",
            class.as_str(),
            class.notice_days()
        )));
    }
    if let Some(latest) = latest_effective_at
        && at <= latest
    {
        return Err(PolicyError("a new version must take effect after the latest one published".into()));
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_000_000;
    const DAY: i64 = 86_400;

    #[test]
    fn notice_follows_the_class() {
        assert!(effective_at(ChangeClass::Substantial, T, Some(T + 10 * DAY), None).is_err());
        assert_eq!(effective_at(ChangeClass::Substantial, T, Some(T + 30 * DAY), None), Ok(T + 30 * DAY));
        assert_eq!(effective_at(ChangeClass::Minor, T, None, None), Ok(T + 7 * DAY));
        assert!(effective_at(ChangeClass::Minor, T, Some(T + 6 * DAY), None).is_err());
        assert_eq!(effective_at(ChangeClass::Legal, T, None, None), Ok(T));
        assert!(effective_at(ChangeClass::Legal, T, Some(T - 1), None).is_err(), "never in the past");
    }

    #[test]
    fn versions_take_effect_in_order() {
        let live = T + 40 * DAY;
        assert!(effective_at(ChangeClass::Legal, T, None, Some(live)).is_err());
        assert!(effective_at(ChangeClass::Legal, T, Some(live), Some(live)).is_err(), "a unique date");
        assert_eq!(effective_at(ChangeClass::Legal, T, Some(live + 1), Some(live)), Ok(live + 1));
        assert!("major".parse::<ChangeClass>().is_err());
    }
}
