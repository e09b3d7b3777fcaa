//! The metadata schema as admins see it in the console: fields, and rules in plain words;
//! rules created, edited and switched on and off, each change previewed against the stored
//! assets first; fields created.

use std::sync::Arc;

use nimbus_core::accounts::Permission;
use nimbus_core::metadata::doc::FieldDoc;
use nimbus_core::metadata::{DatasourceEntry, Field, FieldType};

use super::SignedIn;
use crate::error::AppResult;
use crate::metadata::LoadedSchema;
use crate::metadata::rules::{RuleDraft, RulePreview, RuleProposal, RuleSaved};
use crate::{App, AppError};

impl App {
    /// The environment's schema, for those who manage it.
    pub async fn schema_as(&self, who: &SignedIn, cloud: &str) -> AppResult<Arc<LoadedSchema>> {
        let caller = self.authorize(who, cloud, Permission::ManageSchema)?;
        self.metadata_schema(caller.env).await
    }

    /// Activates or deactivates a rule, through the rules API's own update.
    pub async fn set_rule_active_as(&self, who: &SignedIn, cloud: &str, rule: &str, active: bool) -> AppResult<()> {
        let caller = self.authorize(who, cloud, Permission::ManageSchema)?;
        let draft = crate::metadata::rules::RuleDraft { active: Some(active), ..Default::default() };
        self.update_metadata_rule(&caller, rule, &draft).await?;
        Ok(())
    }

    /// Creates a rule (`id` none) or updates one.
    pub async fn save_rule_as(
        &self,
        who: &SignedIn,
        cloud: &str,
        id: Option<&str>,
        draft: &RuleDraft,
    ) -> AppResult<RuleSaved> {
        let caller = self.authorize(who, cloud, Permission::ManageSchema)?;
        match id {
            Some(id) => self.update_metadata_rule(&caller, id, draft).await,
            None => self.create_metadata_rule(&caller, draft).await,
        }
    }

    /// What a rule change would do to the stored assets, before it is made.
    pub async fn preview_rule_as(
        &self,
        who: &SignedIn,
        cloud: &str,
        proposal: &RuleProposal,
    ) -> AppResult<RulePreview> {
        let caller = self.authorize(who, cloud, Permission::ManageSchema)?;
        self.preview_metadata_rule(caller.env, proposal).await
    }

    /// Creates a field: a label, a type, its values (for the list types), mandatory or not.
    pub async fn create_field_as(&self, who: &SignedIn, cloud: &str, field: &NewField) -> AppResult<()> {
        let caller = self.authorize(who, cloud, Permission::ManageSchema)?;
        let field_type = FieldType::parse(&field.field_type).ok_or_else(|| {
            AppError::MetadataSchema(format!(
                "Invalid metadata field type '{}'; expected string, integer, date, enum or set",
                field.field_type
            ))
        })?;
        let external_id = match field.external_id.as_deref().filter(|i| !i.is_empty()) {
            Some(id) => id.to_owned(),
            None => self.new_external_id(),
        };
        let datasource = field
            .values
            .iter()
            .map(|v| DatasourceEntry { external_id: self.new_external_id(), value: v.clone(), active: true })
            .collect();
        let doc = FieldDoc {
            field: Field {
                external_id,
                label: field.label.clone(),
                field_type,
                mandatory: field.mandatory,
                default_value: None,
                default_disabled: false,
                validation: None,
                datasource,
            },
            validation: serde_json::Value::Null,
            restrictions: serde_json::json!({}),
            allow_dynamic_list_values: false,
            clear_when_disabled: false,
        };
        self.create_metadata_field(&caller, &doc).await?;
        Ok(())
    }
}

/// A field as the console's form gives it.
#[derive(Debug, Clone, Default)]
pub struct NewField {
    pub external_id: Option<String>,
    pub label: String,
    /// `string`, `integer`, `date`, `enum` or `set`.
    pub field_type: String,
    pub mandatory: bool,
    /// The allowed values of `enum` and `set` fields.
    pub values: Vec<String>,
}
