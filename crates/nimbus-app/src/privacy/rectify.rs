//! Correcting one's own data (rectification): a new e-mail address takes effect only once
//! the link mailed to it is followed (within 24 hours), and the old address is told. The old
//! value is not kept anywhere: the log records which field changed, not what it was.

use nimbus_core::accounts::normalize_email;

use crate::accounts::mail::Mail;
use crate::accounts::{SignedIn, token_hash};
use crate::error::AppResult;
use crate::{App, AppError};

/// How long the confirmation link of a new address works.
pub const EMAIL_CHANGE_SECS: i64 = 24 * 3600;

impl App {
    /// `POST /console/account/email`: the password first; then a link to the new address and
    /// a notice to the current one. Nothing changes until the link is followed.
    pub async fn request_email_change(&self, who: &SignedIn, new_email: &str, password: String) -> AppResult<()> {
        self.challenge(&who.user, password).await?;
        let new_email = normalize_email(new_email)?;
        if new_email == who.user.email {
            return Ok(());
        }
        let now = self.now();
        let token = self.new_token();
        self.catalog
            .create_email_change(&token_hash(&token), who.user.id, &new_email, now, now + EMAIL_CHANGE_SECS)
            .await?;
        let confirm = Mail {
            user_id: who.user.id,
            to: new_email,
            subject: "Confirm your new Nimbus address".into(),
            body: format!(
                "Follow this link to make this your Nimbus console address (it works once, for 24 hours): {}",
                self.console_url(&format!("account/email/{token}"))
            ),
            ..Default::default()
        };
        self.mailer.send(&confirm).await?;
        let notice = Mail {
            user_id: who.user.id,
            to: who.user.email.clone(),
            subject: "A new address was asked for your Nimbus account".into(),
            body: "Somebody signed in to your Nimbus console account asked to change its e-mail address. It changes \
                   only when the link sent to the new address is followed. If this was not you, change your password \
                   and sign out everywhere from your account page."
                .into(),
            ..Default::default()
        };
        self.mailer.send(&notice).await?;
        tracing::info!(user = %nimbus_core::privacy::log_name(who.user.id), "address change asked");
        Ok(())
    }

    /// The link mailed to the new address: it becomes the account's address.
    pub async fn confirm_email_change(&self, token: &str) -> AppResult<()> {
        let (user_id, email) =
            self.catalog.take_email_change(&token_hash(token), self.now()).await?.ok_or(AppError::LinkInvalid)?;
        if !self.catalog.set_email(user_id, &email).await? {
            return Err(AppError::AlreadyExists(format!("An account for {email}")));
        }
        tracing::info!(user = %nimbus_core::privacy::log_name(user_id), fields = "email", "account corrected");
        Ok(())
    }
}
