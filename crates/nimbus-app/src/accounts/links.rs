//! One-time links: the first owner's set-up (printed by the server on a start with no user),
//! invitations and password resets (sent by mail). The catalog keeps only each token's hash;
//! a link works once and expires.

use nimbus_core::accounts::{Permission, Role, check_password, normalize_email};

use super::mail::Mail;
use super::{NewSession, SignedIn, token_hash};
use crate::error::AppResult;
use crate::ports::LinkPurpose;
use crate::{App, AppError};

/// How long each kind of link works.
pub const SETUP_LINK_SECS: i64 = 24 * 3600;
pub const INVITE_LINK_SECS: i64 = 7 * 24 * 3600;
pub const RESET_LINK_SECS: i64 = 3600;

/// What an invitation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invited {
    /// A new account, with a link sent to set its password.
    New { user_id: i64 },
    /// The person had an account: only the role changed.
    Existing { user_id: i64 },
}

impl App {
    pub(crate) fn console_url(&self, path: &str) -> String {
        format!("{}/console/{path}", self.config.public_base_url)
    }

    async fn new_link(&self, purpose: LinkPurpose, user_id: Option<i64>, secs: i64) -> AppResult<String> {
        let token = self.new_token();
        let now = self.now();
        self.catalog.create_link(&token_hash(&token), purpose, user_id, now, now + secs).await?;
        Ok(token)
    }

    /// On a start with no console user yet: a link that creates the first owner.
    pub async fn setup_link_if_needed(&self) -> AppResult<Option<String>> {
        if self.catalog.count_users().await? > 0 {
            return Ok(None);
        }
        let token = self.new_link(LinkPurpose::Setup, None, SETUP_LINK_SECS).await?;
        Ok(Some(self.console_url(&format!("setup/{token}"))))
    }

    /// Whether a link works (for showing its form); it is not used up.
    pub async fn link_is_valid(&self, token: &str, purpose: LinkPurpose) -> AppResult<bool> {
        let live = self.catalog.link(&token_hash(token), purpose, self.now(), false).await?.is_some();
        // The set-up link is only good while nobody has an account.
        Ok(live && (purpose != LinkPurpose::Setup || self.catalog.count_users().await? == 0))
    }

    /// The set-up link's form: the first owner, owner of every environment there is, signed in.
    pub async fn complete_setup(&self, token: &str, email: &str, password: String) -> AppResult<NewSession> {
        let email = normalize_email(email)?;
        check_password(&password)?;
        if !self.link_is_valid(token, LinkPurpose::Setup).await? {
            return Err(AppError::LinkInvalid);
        }
        self.catalog
            .link(&token_hash(token), LinkPurpose::Setup, self.now(), true)
            .await?
            .ok_or(AppError::LinkInvalid)?;
        let user = self.create_user(&email, Some(password)).await?;
        for env in self.catalog.list_envs().await? {
            self.catalog.set_role(user.id, env.id, Some(Role::Owner)).await?;
        }
        tracing::info!(user = %nimbus_core::privacy::log_name(user.id), "first console owner created");
        self.start_session(user, false).await
    }

    /// Gives `email` a role in `cloud`, inviting them by mail when they have no account yet.
    pub async fn invite(&self, by: &SignedIn, cloud: &str, email: &str, role: Role) -> AppResult<Invited> {
        let caller = self.authorize(by, cloud, Permission::ManageUsers)?;
        let email = normalize_email(email)?;
        if let Some(u) = self.catalog.user_by_email(&email).await? {
            self.catalog.set_role(u.id, caller.env, Some(role)).await?;
            return Ok(Invited::Existing { user_id: u.id });
        }
        let user = self.create_user(&email, None).await?;
        self.catalog.set_role(user.id, caller.env, Some(role)).await?;
        let token = self.new_link(LinkPurpose::Invite, Some(user.id), INVITE_LINK_SECS).await?;
        let body = format!(
            "You are invited to the Nimbus console as {role} of {cloud}. Choose your password here \
             (the link works once, for 7 days): {}",
            self.console_url(&format!("invite/{token}"))
        );
        self.mailer
            .send(&Mail {
                user_id: user.id,
                to: email,
                subject: "Your Nimbus invitation".into(),
                body,
                ..Default::default()
            })
            .await?;
        Ok(Invited::New { user_id: user.id })
    }

    /// An invitation's form: the password is set and the person is signed in.
    pub async fn accept_invite(&self, token: &str, password: String) -> AppResult<NewSession> {
        check_password(&password)?;
        let link = self.catalog.link(&token_hash(token), LinkPurpose::Invite, self.now(), true).await?;
        let user_id = link.and_then(|l| l.user_id).ok_or(AppError::LinkInvalid)?;
        self.set_user_password(user_id, password).await?;
        let user = self.catalog.user_by_id(user_id).await?.ok_or(AppError::LinkInvalid)?;
        if user.disabled_at.is_some() {
            return Err(AppError::LinkInvalid);
        }
        self.start_session(user, false).await
    }

    /// Mails a reset link to an enabled account with this address. Says nothing either way:
    /// the answer must not tell whether an address has an account.
    pub async fn request_password_reset(&self, email: &str, client: Option<std::net::IpAddr>) -> AppResult<()> {
        self.count_client_attempt(client, self.now())?;
        let Ok(email) = normalize_email(email) else { return Ok(()) };
        let Some(user) = self.catalog.user_by_email(&email).await? else { return Ok(()) };
        if user.disabled_at.is_some() {
            return Ok(());
        }
        let token = self.new_link(LinkPurpose::Reset, Some(user.id), RESET_LINK_SECS).await?;
        let body = format!(
            "Somebody asked to reset your Nimbus console password. If it was you, choose a new one here \
             (the link works once, for an hour): {}",
            self.console_url(&format!("reset/{token}"))
        );
        self.mailer
            .send(&Mail {
                user_id: user.id,
                to: email,
                subject: "Reset your Nimbus password".into(),
                body,
                ..Default::default()
            })
            .await
    }

    /// A reset link's form: the new password, and every session of the person ends.
    pub async fn reset_password(&self, token: &str, password: String) -> AppResult<()> {
        check_password(&password)?;
        let link = self.catalog.link(&token_hash(token), LinkPurpose::Reset, self.now(), true).await?;
        let user_id = link.and_then(|l| l.user_id).ok_or(AppError::LinkInvalid)?;
        self.set_user_password(user_id, password).await
    }
}
