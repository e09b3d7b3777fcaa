//! The metadata schema as admins see it in the console: fields, and rules in plain words,
//! with rules switched on and off.

use std::sync::Arc;

use nimbus_core::accounts::Permission;

use super::SignedIn;
use crate::App;
use crate::error::AppResult;
use crate::metadata::LoadedSchema;

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
}
