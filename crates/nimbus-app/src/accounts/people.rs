//! The people of an environment, as its owners manage them in the console.

use nimbus_core::accounts::{Permission, Role};

use super::SignedIn;
use crate::error::AppResult;
use crate::ports::User;
use crate::{App, AppError};

impl App {
    /// Everyone with a role in `cloud`, by e-mail address.
    pub async fn people(&self, by: &SignedIn, cloud: &str) -> AppResult<Vec<(User, Role)>> {
        let caller = self.authorize(by, cloud, Permission::ManageUsers)?;
        Ok(self.catalog.env_members(caller.env).await?)
    }

    /// Changes a person's role in `cloud` (`None` takes it away). An environment always keeps
    /// at least one owner.
    pub async fn change_role(&self, by: &SignedIn, cloud: &str, user_id: i64, role: Option<Role>) -> AppResult<()> {
        let people = self.people(by, cloud).await?;
        let Some((user, current)) = people.iter().find(|(u, _)| u.id == user_id) else {
            return Err(AppError::UserNotFound(user_id.to_string()));
        };
        let owners = people.iter().filter(|(_, r)| *r == Role::Owner).count();
        if *current == Role::Owner && role != Some(Role::Owner) && owners == 1 {
            return Err(AppError::Conflict(format!(
                "{} is the only owner of {cloud}; make someone else owner first",
                user.email
            )));
        }
        self.set_user_role(user_id, cloud, role).await
    }
}
