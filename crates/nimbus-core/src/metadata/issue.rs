//! Errors and warnings about metadata, each naming the field, the rule and the values
//! involved (the `details` items of a 400 response, and `metadata_warnings`).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IssueCode {
    UnknownField,
    InvalidValue,
    FieldDisabled,
    ValueNotAllowed,
    ValueInvalidated,
    MandatoryMissing,
    ValidationFailed,
    // Warnings.
    RuleValueNotAllowed,
    GrandfatheredValue,
    GrandfatheredMissing,
}

impl IssueCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnknownField => "unknown_field",
            Self::InvalidValue => "invalid_value",
            Self::FieldDisabled => "field_disabled",
            Self::ValueNotAllowed => "value_not_allowed",
            Self::ValueInvalidated => "value_invalidated",
            Self::MandatoryMissing => "mandatory_missing",
            Self::ValidationFailed => "validation_failed",
            Self::RuleValueNotAllowed => "rule_value_not_allowed",
            Self::GrandfatheredValue => "grandfathered_value",
            Self::GrandfatheredMissing => "grandfathered_missing",
        }
    }
}

/// One problem with one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub code: IssueCode,
    /// The asset, in bulk writes.
    pub public_id: Option<String>,
    pub field: String,
    pub rule: Option<String>,
    pub value: Option<String>,
    pub allowed: Vec<String>,
    pub controlled_by: Vec<String>,
    pub message: String,
}

impl Issue {
    pub fn new(code: IssueCode, field: &str, message: String) -> Self {
        Self {
            code,
            public_id: None,
            field: field.to_owned(),
            rule: None,
            value: None,
            allowed: Vec::new(),
            controlled_by: Vec::new(),
            message,
        }
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
