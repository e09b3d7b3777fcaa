//! Console accounts: people, their role per product environment, sign-in with lockout, and
//! sessions with idle and absolute timeouts. A session is an opaque random token in a cookie;
//! the catalog keeps only its SHA-256, with the CSRF token of the session's forms.
//!
//! Every console path asks [`App::authorize`] for a [`Caller`] before it acts, so the role is
//! enforced here, not in the pages, and the outbox knows which person acted.

pub mod attempts;
pub mod environments;
pub mod keys;
pub mod links;
pub mod mail;
pub mod password;
pub mod people;
pub mod schema;
pub mod sealed;
pub mod settings;
pub mod totp;
pub mod uploads;
pub mod versions;

use std::net::IpAddr;

use nimbus_core::accounts::{Permission, Role, check_password, normalize_email};
use sha2::{Digest, Sha256};

use crate::error::AppResult;
use crate::events::{Actor, Caller};
use crate::ports::{LinkPurpose, Membership, SessionRow, User};
use crate::{App, AppError};

/// A session ends after this long without a request.
pub const SESSION_IDLE_SECS: i64 = 2 * 3600;
/// A session ends this long after sign-in, however busy.
pub const SESSION_ABSOLUTE_SECS: i64 = 12 * 3600;
/// Failed sign-ins in a row that lock an account.
pub const LOCK_AFTER_FAILURES: i64 = 5;
/// How long a locked account stays locked.
pub const LOCK_SECS: i64 = 15 * 60;
/// A session's last-seen time is written at most this often.
const TOUCH_EVERY_SECS: i64 = 60;
/// Characters of `[a-z0-9]` in a session token (about 222 bits) and a CSRF token.
const TOKEN_CHARS: usize = 43;

/// The stored form of a token: its SHA-256, in hex.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A person with a valid session, and where they have a role.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    pub session: SessionRow,
    pub memberships: Vec<Membership>,
    /// Policy versions announced and not yet in force, for the console's banner.
    pub upcoming_policies: Vec<crate::ports::Policy>,
}

impl SignedIn {
    pub fn role_in(&self, cloud: &str) -> Option<Role> {
        self.memberships.iter().find(|m| m.cloud_name == cloud).map(|m| m.role)
    }
}

/// How far a sign-in got.
#[derive(Debug, Clone)]
pub enum SignIn {
    Done(Box<NewSession>),
    /// The password was right; the second step asks a code, for the person this token names
    /// (it goes into a short-lived cookie).
    CodeNeeded {
        token: String,
    },
}

/// A new session: the token goes into the cookie and nowhere else.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub user: User,
    /// When a remembered session ends (its cookie lasts until then); `None`: a browser
    /// session.
    pub remember_until: Option<i64>,
}

/// Longest "Remember me" an operator may set, in days.
pub const MAX_REMEMBER_DAYS: i64 = 90;
/// Days "Remember me" keeps a session when the operator says nothing.
pub const DEFAULT_REMEMBER_DAYS: i64 = 30;

impl App {
    /// Creates a console user, with a password or (for an invitation) without one yet.
    pub async fn create_user(&self, email: &str, password: Option<String>) -> AppResult<User> {
        let email = normalize_email(email)?;
        let hash = match password {
            Some(p) => Some(self.hash_password(p).await?),
            None => None,
        };
        self.catalog
            .create_user(&email, hash.as_deref(), self.now())
            .await?
            .ok_or_else(|| AppError::AlreadyExists(format!("An account for {email}")))
    }

    pub async fn user_by_email(&self, email: &str) -> AppResult<User> {
        let email = normalize_email(email)?;
        self.catalog.user_by_email(&email).await?.ok_or(AppError::UserNotFound(email))
    }

    /// Every user with their roles.
    pub async fn list_users(&self) -> AppResult<Vec<(User, Vec<Membership>)>> {
        let mut by_user: std::collections::HashMap<i64, Vec<Membership>> = std::collections::HashMap::new();
        for (user_id, m) in self.catalog.all_memberships().await? {
            by_user.entry(user_id).or_default().push(m);
        }
        Ok(self
            .catalog
            .list_users()
            .await?
            .into_iter()
            .map(|u| {
                let m = by_user.remove(&u.id).unwrap_or_default();
                (u, m)
            })
            .collect())
    }

    /// Gives the user a role in the environment, or takes it away.
    pub async fn set_user_role(&self, user_id: i64, cloud: &str, role: Option<Role>) -> AppResult<()> {
        let env = self.catalog.env_by_cloud(cloud).await?.ok_or_else(|| AppError::UnknownCloud(cloud.to_owned()))?;
        self.catalog.set_role(user_id, env.id, role).await?;
        Ok(())
    }

    /// Sets a new password and ends every session of the person.
    pub async fn set_user_password(&self, user_id: i64, password: String) -> AppResult<()> {
        let hash = self.hash_password(password).await?;
        if !self.catalog.set_password_hash(user_id, &hash).await? {
            return Err(AppError::UserNotFound(user_id.to_string()));
        }
        self.catalog.delete_sessions_of(user_id).await?;
        Ok(())
    }

    /// A person's own new password: the current one must be right (failures count towards
    /// the lockout). Every session ends; the answer is a new one for this browser.
    pub async fn change_own_password(&self, who: &SignedIn, current: String, new: String) -> AppResult<NewSession> {
        check_password(&new)?;
        // The session (or second step) the check opened is not needed: the new password ends
        // them all.
        match self.sign_in(&who.user.email, current, None, false).await? {
            SignIn::Done(s) => self.catalog.delete_session(&token_hash(&s.token)).await?,
            SignIn::CodeNeeded { token } => {
                self.catalog.link(&token_hash(&token), LinkPurpose::SignInStep, self.now(), true).await?;
            }
        }
        self.set_user_password(who.user.id, new).await?;
        let user = self.catalog.user_by_id(who.user.id).await?.ok_or(AppError::NotSignedIn)?;
        self.start_session(user, who.session.remember_until.is_some()).await
    }

    /// Disables (or enables again) an account; disabling ends its sessions.
    pub async fn set_user_disabled(&self, user_id: i64, disabled: bool) -> AppResult<()> {
        let at = disabled.then(|| self.now());
        if !self.catalog.set_disabled(user_id, at).await? {
            return Err(AppError::UserNotFound(user_id.to_string()));
        }
        if disabled {
            self.catalog.delete_sessions_of(user_id).await?;
        }
        Ok(())
    }

    /// Asks a signed-in person's password again before a step that cannot be taken back
    /// (disabling or deleting the account). A wrong one counts towards the lockout.
    pub(crate) async fn challenge(&self, user: &User, password: String) -> AppResult<()> {
        let now = self.now();
        if password.len() > nimbus_core::accounts::MAX_PASSWORD_BYTES {
            return Err(AppError::SignInFailed);
        }
        let current = self.catalog.user_by_id(user.id).await?.ok_or(AppError::NotSignedIn)?;
        if current.locked_until > now {
            return Err(AppError::AccountLocked { minutes: (current.locked_until - now + 59) / 60 });
        }
        let stored = current.password_hash.clone();
        if self.cpu.run(move || password::verify(&password, stored.as_deref())).await? {
            return Ok(());
        }
        let locked_until = self.catalog.record_failed_sign_in(user.id, LOCK_AFTER_FAILURES, now + LOCK_SECS).await?;
        if locked_until > now {
            return Err(AppError::AccountLocked { minutes: (locked_until - now + 59) / 60 });
        }
        Err(AppError::SignInFailed)
    }

    /// Counts a sign-in or reset request from `client`; refused past the per-client bound.
    pub(crate) fn count_client_attempt(&self, client: Option<IpAddr>, now: i64) -> AppResult<()> {
        match client {
            Some(ip) => {
                self.client_attempts.hit(&ip.to_string(), now).map_err(|secs| AppError::TooManyClientAttempts { secs })
            }
            None => Ok(()),
        }
    }

    async fn hash_password(&self, password: String) -> AppResult<String> {
        check_password(&password)?;
        // Hashing fails only on parameters fixed in code.
        self.cpu.run(move || password::hash(&password)).await?.map_err(|_| AppError::Cpu("password hashing failed"))
    }

    /// Signs a person in: a new session for a matching, enabled, unlocked account. Every
    /// failure looks the same from outside, except a lock, which says how long it lasts.
    /// `client` is the client's IP address when known (see [`crate::client_ip`]).
    /// `remember`: keep the session on this device (see [`Self::start_session`]); with two-step
    /// sign-in, the code step asks again.
    pub async fn sign_in(
        &self,
        email: &str,
        password: String,
        client: Option<IpAddr>,
        remember: bool,
    ) -> AppResult<SignIn> {
        if password.len() > nimbus_core::accounts::MAX_PASSWORD_BYTES {
            return Err(AppError::SignInFailed);
        }
        let now = self.now();
        self.count_client_attempt(client, now)?;
        let key = normalize_email(email).unwrap_or_else(|_| email.trim().to_lowercase());
        self.sign_in_attempts.hit(&key, now).map_err(|secs| AppError::TooManyAttempts { secs })?;
        let user = match normalize_email(email) {
            Ok(e) => self.catalog.user_by_email(&e).await?,
            Err(_) => None,
        };
        if let Some(u) = &user
            && u.locked_until > now
        {
            return Err(AppError::AccountLocked { minutes: (u.locked_until - now + 59) / 60 });
        }
        let stored = user.as_ref().and_then(|u| u.password_hash.clone());
        let matches = self.cpu.run(move || password::verify(&password, stored.as_deref())).await?;
        let Some(user) = user else { return Err(AppError::SignInFailed) };
        if !matches {
            let locked_until =
                self.catalog.record_failed_sign_in(user.id, LOCK_AFTER_FAILURES, now + LOCK_SECS).await?;
            if locked_until > now {
                tracing::info!(user = %nimbus_core::privacy::log_name(user.id), "console account locked after failed sign-ins");
                return Err(AppError::AccountLocked { minutes: (locked_until - now + 59) / 60 });
            }
            return Err(AppError::SignInFailed);
        }
        if user.deletion_due_at.is_some() {
            return Err(AppError::AccountDeletionPending);
        }
        if user.disabled_at.is_some() {
            return Err(AppError::SignInFailed);
        }
        if user.totp_secret.is_some() {
            let token = self.new_token();
            self.catalog
                .create_link(
                    &token_hash(&token),
                    LinkPurpose::SignInStep,
                    Some(user.id),
                    now,
                    now + totp::STEP_LINK_SECS,
                )
                .await?;
            return Ok(SignIn::CodeNeeded { token });
        }
        Ok(SignIn::Done(Box::new(self.start_session(user, remember).await?)))
    }

    /// A new session for a person who has just proved who they are.
    /// `remember`: the person asked to be remembered on this device, for the configured
    /// number of days.
    pub(crate) async fn start_session(&self, user: User, remember: bool) -> AppResult<NewSession> {
        let now = self.now();
        let remember_until = remember.then(|| now + self.config.remember_days.clamp(1, MAX_REMEMBER_DAYS) * 86_400);
        self.catalog.record_sign_in(user.id, now).await?;
        let token = self.ids.token(TOKEN_CHARS);
        let row = SessionRow {
            token_hash: token_hash(&token),
            user_id: user.id,
            csrf: self.ids.token(TOKEN_CHARS),
            created_at: now,
            last_seen_at: now,
            remember_until,
        };
        self.catalog.create_session(&row).await?;
        // Using Nimbus after a policy version took effect is accepting it.
        self.catalog.accept_policies(user.id, now).await?;
        tracing::info!(user = %nimbus_core::privacy::log_name(user.id), "console sign-in");
        Ok(NewSession { token, user, remember_until })
    }

    /// A fresh random token (sessions, one-time links, form tokens).
    pub fn new_token(&self) -> String {
        self.ids.token(TOKEN_CHARS)
    }

    /// The person behind a session token, if the session is valid; an expired one is ended.
    pub async fn session(&self, token: &str) -> AppResult<Option<SignedIn>> {
        let hash = token_hash(token);
        let Some(session) = self.catalog.session(&hash).await? else { return Ok(None) };
        let now = self.now();
        let over = match session.remember_until {
            Some(until) => now >= until,
            None => now - session.last_seen_at > SESSION_IDLE_SECS || now - session.created_at > SESSION_ABSOLUTE_SECS,
        };
        if over {
            self.catalog.delete_session(&hash).await?;
            return Ok(None);
        }
        let Some(user) = self.catalog.user_by_id(session.user_id).await? else { return Ok(None) };
        if user.disabled_at.is_some() || user.deletion_due_at.is_some() {
            return Ok(None);
        }
        if now - session.last_seen_at >= TOUCH_EVERY_SECS {
            self.catalog.touch_session(&hash, now).await?;
        }
        let memberships = self.catalog.memberships(user.id).await?;
        let upcoming_policies = self.upcoming_policies().await?;
        Ok(Some(SignedIn { user, session, memberships, upcoming_policies }))
    }

    /// The same session with the person's memberships read again (after a change to them).
    pub async fn session_of(&self, who: &SignedIn) -> AppResult<SignedIn> {
        let memberships = self.catalog.memberships(who.user.id).await?;
        Ok(SignedIn { memberships, ..who.clone() })
    }

    pub async fn sign_out(&self, token: &str) -> AppResult<()> {
        self.catalog.delete_session(&token_hash(token)).await?;
        Ok(())
    }

    /// Ends every session of the person, this one included.
    pub async fn sign_out_everywhere(&self, user_id: i64) -> AppResult<u64> {
        Ok(self.catalog.delete_sessions_of(user_id).await?)
    }

    /// The caller a signed-in person acts as in `cloud`, if their role there allows `p`.
    /// Without any role there, the environment is as good as absent.
    pub fn authorize(&self, who: &SignedIn, cloud: &str, p: Permission) -> AppResult<Caller> {
        let Some(m) = who.memberships.iter().find(|m| m.cloud_name == cloud) else {
            return Err(AppError::UnknownCloud(cloud.to_owned()));
        };
        if !m.role.allows(p) {
            return Err(AppError::Forbidden { cloud: cloud.to_owned() });
        }
        Ok(Caller { env: m.env_id, actor: Actor::User(who.user.id) })
    }
}
