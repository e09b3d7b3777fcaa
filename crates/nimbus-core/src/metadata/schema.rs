//! Metadata fields, their datasources and typed values.

use std::collections::BTreeMap;

use super::issue::{Issue, IssueCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    String,
    Integer,
    Date,
    Enum,
    Set,
}

impl FieldType {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "string" => Self::String,
            "integer" => Self::Integer,
            "date" => Self::Date,
            "enum" => Self::Enum,
            "set" => Self::Set,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Integer => "integer",
            Self::Date => "date",
            Self::Enum => "enum",
            Self::Set => "set",
        }
    }
    /// Whether values come from a datasource.
    pub fn has_datasource(self) -> bool {
        matches!(self, Self::Enum | Self::Set)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasourceEntry {
    pub external_id: String,
    pub value: String,
    pub active: bool,
}

/// Validation of a field's values (Cloudinary's `validation` object).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Validation {
    GreaterThan { value: Value, equals: bool },
    LessThan { value: Value, equals: bool },
    Strlen { min: Option<u64>, max: Option<u64> },
    And(Vec<Validation>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub external_id: String,
    pub label: String,
    pub field_type: FieldType,
    pub mandatory: bool,
    pub default_value: Option<Value>,
    pub default_disabled: bool,
    pub validation: Option<Validation>,
    /// Enum and set fields only, in display order.
    pub datasource: Vec<DatasourceEntry>,
}

/// A typed metadata value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Value {
    Text(String),
    Int(i64),
    /// `YYYY-MM-DD`, validated.
    Date(String),
    /// A datasource entry id (enum fields).
    Id(String),
    /// Datasource entry ids (set fields), no duplicates, in datasource order.
    Ids(Vec<String>),
}

impl Value {
    /// Whether the value counts as populated: non-empty string, any integer/date/enum, a
    /// set with at least one id.
    pub fn is_populated(&self) -> bool {
        match self {
            Self::Text(s) => !s.is_empty(),
            Self::Ids(v) => !v.is_empty(),
            Self::Int(_) | Self::Date(_) | Self::Id(_) => true,
        }
    }

    /// The datasource ids the value uses.
    pub fn ids(&self) -> Vec<&str> {
        match self {
            Self::Id(i) => vec![i.as_str()],
            Self::Ids(v) => v.iter().map(String::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// The value as text, for messages.
    pub fn display(&self) -> String {
        match self {
            Self::Text(s) | Self::Date(s) | Self::Id(s) => s.clone(),
            Self::Int(i) => i.to_string(),
            Self::Ids(v) => format!("[{}]", v.join(", ")),
        }
    }
}

/// An asset's metadata: field external id to value.
pub type Metadata = BTreeMap<String, Value>;

/// A value as it arrives: text (pipe form, query strings) or JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum RawValue<'a> {
    Text(&'a str),
    Json(&'a serde_json::Value),
}

/// A datasource id in a JSON array: a string, or a number (clients send `[1]` for id "1").
fn id_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn valid_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().ok();
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else { return false };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

impl Field {
    pub fn entry(&self, id: &str) -> Option<&DatasourceEntry> {
        self.datasource.iter().find(|e| e.external_id == id)
    }

    /// Active datasource ids, in datasource order.
    pub fn active_ids(&self) -> Vec<String> {
        self.datasource.iter().filter(|e| e.active).map(|e| e.external_id.clone()).collect()
    }

    /// Parses a raw value for this field. Enum and set ids must exist in the datasource
    /// (active or not: whether they are allowed is decided by the rules).
    pub fn parse_value(&self, raw: &RawValue<'_>) -> Result<Value, Box<Issue>> {
        let invalid = |what: &str| {
            let shown = match raw {
                RawValue::Text(t) => (*t).to_owned(),
                RawValue::Json(j) => j.to_string(),
            };
            let mut i = Issue::new(
                IssueCode::InvalidValue,
                &self.external_id,
                format!(
                    "Value {shown} is not valid for {} field '{}': {what}",
                    self.field_type.as_str(),
                    self.external_id
                ),
            );
            i.value = Some(shown);
            Box::new(i)
        };
        let text: Option<&str> = match raw {
            RawValue::Text(t) => Some(t),
            RawValue::Json(serde_json::Value::String(s)) => Some(s.as_str()),
            _ => None,
        };
        match self.field_type {
            FieldType::String => match (raw, text) {
                (_, Some(t)) => Ok(Value::Text(t.to_owned())),
                (RawValue::Json(j), None) if j.is_number() => Ok(Value::Text(j.to_string())),
                _ => Err(invalid("expected a string, e.g. \"spring sale\"")),
            },
            FieldType::Integer => {
                let n = match (raw, text) {
                    (RawValue::Json(j), None) => j.as_i64(),
                    (_, Some(t)) => t.trim().parse::<i64>().ok(),
                    _ => None,
                };
                n.map(Value::Int).ok_or_else(|| invalid("expected an integer, e.g. 42"))
            }
            FieldType::Date => match text {
                Some(t) if valid_date(t) => Ok(Value::Date(t.to_owned())),
                _ => Err(invalid("expected a date as YYYY-MM-DD, e.g. 2026-11-24")),
            },
            FieldType::Enum => match text.map(str::to_owned).or_else(|| match raw {
                RawValue::Json(serde_json::Value::Number(n)) => Some(n.to_string()),
                _ => None,
            }) {
                Some(t) if self.entry(&t).is_some() => Ok(Value::Id(t)),
                Some(_) => Err(invalid(&format!("expected one of the datasource ids {}", self.ids_hint()))),
                None => Err(invalid("expected a datasource id")),
            },
            FieldType::Set => {
                let ids: Vec<String> = match raw {
                    RawValue::Json(serde_json::Value::Array(a)) => a
                        .iter()
                        .map(id_text)
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| invalid("expected an array of datasource ids"))?,
                    _ => match text {
                        Some(t) if t.trim_start().starts_with('[') => serde_json::from_str::<Vec<serde_json::Value>>(t)
                            .ok()
                            .and_then(|a| a.iter().map(id_text).collect::<Option<Vec<_>>>())
                            .ok_or_else(|| {
                                invalid("expected a JSON array of datasource ids, e.g. [\"red\",\"blue\"]")
                            })?,
                        Some(t) => t.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
                        None => return Err(invalid("expected an array of datasource ids")),
                    },
                };
                if let Some(bad) = ids.iter().find(|i| self.entry(i).is_none()) {
                    return Err(invalid(&format!("'{bad}' is not in the datasource {}", self.ids_hint())));
                }
                Ok(Value::Ids(self.in_datasource_order(ids.iter().map(String::as_str))))
            }
        }
    }

    /// Deduplicated ids in datasource order.
    pub fn in_datasource_order<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let wanted: Vec<&str> = ids.into_iter().collect();
        self.datasource
            .iter()
            .filter(|e| wanted.contains(&e.external_id.as_str()))
            .map(|e| e.external_id.clone())
            .collect()
    }

    fn ids_hint(&self) -> String {
        let ids: Vec<&str> = self.datasource.iter().take(20).map(|e| e.external_id.as_str()).collect();
        format!("[{}]", ids.join(", "))
    }

    /// Checks `validation`; returns the failure message.
    pub fn validate(&self, v: &Value) -> Result<(), String> {
        match &self.validation {
            Some(rule) => check(rule, v),
            None => Ok(()),
        }
    }
}

fn check(rule: &Validation, v: &Value) -> Result<(), String> {
    match rule {
        Validation::And(all) => all.iter().try_for_each(|r| check(r, v)),
        Validation::GreaterThan { value, equals } => {
            let ok = if *equals { v >= value } else { v > value };
            if ok {
                Ok(())
            } else {
                Err(format!("must be greater than {}{}", if *equals { "or equal to " } else { "" }, value.display()))
            }
        }
        Validation::LessThan { value, equals } => {
            let ok = if *equals { v <= value } else { v < value };
            if ok {
                Ok(())
            } else {
                Err(format!("must be less than {}{}", if *equals { "or equal to " } else { "" }, value.display()))
            }
        }
        Validation::Strlen { min, max } => {
            let len = match v {
                Value::Text(s) => s.chars().count() as u64,
                _ => return Ok(()),
            };
            if min.is_some_and(|m| len < m) || max.is_some_and(|m| len > m) {
                Err(format!(
                    "length must be between {} and {}",
                    min.unwrap_or(0),
                    max.map_or("any".to_owned(), |m| m.to_string())
                ))
            } else {
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_field() -> Field {
        Field {
            external_id: "colors".into(),
            label: "Colors".into(),
            field_type: FieldType::Set,
            mandatory: false,
            default_value: None,
            default_disabled: false,
            validation: None,
            datasource: ["red", "green", "blue"]
                .iter()
                .map(|i| DatasourceEntry { external_id: (*i).into(), value: i.to_uppercase(), active: true })
                .collect(),
        }
    }

    #[test]
    fn parses_values_by_type() {
        let f = set_field();
        let j = serde_json::json!(["blue", "red", "blue"]);
        assert_eq!(f.parse_value(&RawValue::Json(&j)).unwrap(), Value::Ids(vec!["red".into(), "blue".into()]));
        assert_eq!(f.parse_value(&RawValue::Text(r#"["green"]"#)).unwrap(), Value::Ids(vec!["green".into()]));
        let err = f.parse_value(&RawValue::Text(r#"["pink"]"#)).unwrap_err();
        assert_eq!(err.code, IssueCode::InvalidValue);
        assert!(err.message.contains("'pink' is not in the datasource"), "{}", err.message);
        let date = Field { field_type: FieldType::Date, datasource: vec![], ..f.clone() };
        assert!(date.parse_value(&RawValue::Text("2024-02-29")).is_ok());
        assert!(date.parse_value(&RawValue::Text("2023-02-29")).is_err());
        let int = Field { field_type: FieldType::Integer, datasource: vec![], ..f };
        assert_eq!(int.parse_value(&RawValue::Text("12")).unwrap(), Value::Int(12));
        assert!(int.parse_value(&RawValue::Text("twelve")).unwrap_err().message.contains("expected an integer"));
    }

    #[test]
    fn validations() {
        let mut f = set_field();
        f.field_type = FieldType::Integer;
        f.validation = Some(Validation::And(vec![
            Validation::GreaterThan { value: Value::Int(0), equals: false },
            Validation::LessThan { value: Value::Int(10), equals: true },
        ]));
        assert!(f.validate(&Value::Int(10)).is_ok());
        assert!(f.validate(&Value::Int(0)).is_err());
        assert!(f.validate(&Value::Int(11)).is_err());
    }
}
