//! Disabling one's own account (restriction): asked with the password, it ends every session
//! and refuses sign-in until the person follows the link mailed to them (or an owner enables
//! the account again). Nothing new is recorded about a disabled person: no session can start.

use crate::accounts::mail::Mail;
use crate::accounts::{SignedIn, token_hash};
use crate::error::AppResult;
use crate::ports::LinkPurpose;
use crate::{App, AppError};

/// How long the link that enables a disabled account again works.
pub const ENABLE_LINK_SECS: i64 = 90 * 86_400;

impl App {
    /// `POST /console/account/disable`.
    pub async fn disable_own_account(&self, who: &SignedIn, password: String) -> AppResult<()> {
        self.challenge(&who.user, password).await?;
        self.set_user_disabled(who.user.id, true).await?;
        let now = self.now();
        let token = self.new_token();
        self.catalog
            .create_link(&token_hash(&token), LinkPurpose::Enable, Some(who.user.id), now, now + ENABLE_LINK_SECS)
            .await?;
        let body = format!(
            "Your Nimbus console account is disabled: nobody can sign in to it. This link enables it again \
             (it works once, for 90 days): {}",
            self.console_url(&format!("account/enable/{token}"))
        );
        let mail = Mail {
            user_id: who.user.id,
            to: who.user.email.clone(),
            subject: "Your Nimbus account is disabled".into(),
            body,
            ..Default::default()
        };
        self.mailer.send(&mail).await?;
        tracing::info!(user = %nimbus_core::privacy::log_name(who.user.id), "account disabled by its owner");
        Ok(())
    }

    /// The link mailed at disabling: the account works again.
    pub async fn enable_own_account(&self, token: &str) -> AppResult<()> {
        let link = self.catalog.link(&token_hash(token), LinkPurpose::Enable, self.now(), true).await?;
        let user_id = link.and_then(|l| l.user_id).ok_or(AppError::LinkInvalid)?;
        self.set_user_disabled(user_id, false).await?;
        tracing::info!(user = %nimbus_core::privacy::log_name(user_id), "account enabled again by its owner");
        Ok(())
    }
}
