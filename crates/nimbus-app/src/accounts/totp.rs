//! Two-step sign-in with an authenticator app (TOTP, RFC 6238) and recovery codes. Setting
//! it up needs a code from the app before it is on; turning it off needs a code too. At sign-in
//! a right password leads to a short-lived second step, where a code (each good once) or an
//! unused recovery code finishes it; wrong codes count towards the lockout as wrong passwords do.

use nimbus_core::accounts::totp;
use sha2::{Digest, Sha256};

use super::{LOCK_AFTER_FAILURES, LOCK_SECS, NewSession, SignedIn, token_hash};
use crate::error::AppResult;
use crate::ports::LinkPurpose;
use crate::{App, AppError};

/// How long the second step of a sign-in waits for its code.
pub const STEP_LINK_SECS: i64 = 5 * 60;
/// Recovery codes given when two-step sign-in is turned on.
pub const RECOVERY_CODES: usize = 10;

/// A secret being set up: what the person types or scans into their app.
#[derive(Debug, Clone)]
pub struct TotpSetup {
    pub secret_base32: String,
    pub otpauth_uri: String,
}

/// A recovery code as typed: lower case, without spaces or dashes.
fn normalize_recovery(code: &str) -> String {
    code.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase()
}

fn recovery_hash(code: &str) -> String {
    hex::encode(Sha256::digest(normalize_recovery(code).as_bytes()))
}

impl App {
    /// Starts setting up two-step sign-in: a new secret, kept pending until confirmed.
    pub async fn start_totp(&self, who: &SignedIn) -> AppResult<TotpSetup> {
        let secret: [u8; 20] = rand::random();
        let sealed = self.seal_secret(who.user.id, &secret).await?;
        self.catalog.set_totp_pending(who.user.id, Some(&sealed)).await?;
        Ok(TotpSetup {
            secret_base32: totp::base32(&secret),
            otpauth_uri: totp::otpauth_uri("Nimbus", &who.user.email, &secret),
        })
    }

    /// The secret being set up, to show again.
    pub async fn pending_totp(&self, who: &SignedIn) -> AppResult<Option<TotpSetup>> {
        let user = self.catalog.user_by_id(who.user.id).await?.ok_or(AppError::NotSignedIn)?;
        let Some(pending) = user.totp_pending else { return Ok(None) };
        let secret = self.open_secret(user.id, &pending).await?;
        Ok(Some(TotpSetup {
            secret_base32: totp::base32(&secret),
            otpauth_uri: totp::otpauth_uri("Nimbus", &user.email, &secret),
        }))
    }

    /// Confirms the pending secret with a code from the app; returns the recovery codes, shown
    /// once.
    pub async fn confirm_totp(&self, who: &SignedIn, code: &str) -> AppResult<Vec<String>> {
        let user = self.catalog.user_by_id(who.user.id).await?.ok_or(AppError::NotSignedIn)?;
        let pending = user.totp_pending.ok_or(AppError::CodeFailed)?;
        let Some(step) = totp::verify(&self.open_secret(user.id, &pending).await?, code, self.now(), 0) else {
            return Err(AppError::CodeFailed);
        };
        let codes: Vec<String> = (0..RECOVERY_CODES)
            .map(|_| {
                let t = self.ids.token(10);
                format!("{}-{}", &t[..5], &t[5..])
            })
            .collect();
        let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(c)).collect();
        self.catalog.set_totp(who.user.id, Some((&pending, &hashes))).await?;
        // The code that confirmed is used: it does not also sign anyone in.
        self.catalog.use_totp_step(who.user.id, step).await?;
        tracing::info!(user = %nimbus_core::privacy::log_name(who.user.id), "two-step sign-in turned on");
        Ok(codes)
    }

    /// Turns two-step sign-in off; a current code (or a recovery code) is needed.
    pub async fn disable_totp(&self, who: &SignedIn, code: &str) -> AppResult<()> {
        let user = self.catalog.user_by_id(who.user.id).await?.ok_or(AppError::NotSignedIn)?;
        if !self.check_second_factor(&user, code).await? {
            return Err(AppError::CodeFailed);
        }
        self.catalog.set_totp(user.id, None).await?;
        tracing::info!(user = %nimbus_core::privacy::log_name(user.id), "two-step sign-in turned off");
        Ok(())
    }

    /// Recovery codes the person has left.
    pub async fn recovery_codes_left(&self, who: &SignedIn) -> AppResult<i64> {
        Ok(self.catalog.count_recovery_codes(who.user.id).await?)
    }

    /// A code from the app (each step's code works once) or an unused recovery code.
    async fn check_second_factor(&self, user: &crate::ports::User, code: &str) -> AppResult<bool> {
        let Some(secret) = &user.totp_secret else { return Ok(false) };
        let secret = match self.open_secret(user.id, secret).await {
            Ok(s) => Some(s),
            // Another installation's seal, or a value copied from another row: no code can
            // match; the operator hears of it, the person sees a wrong code.
            Err(AppError::Catalog(e)) => {
                tracing::error!(user = %nimbus_core::privacy::log_name(user.id), "{e}");
                None
            }
            Err(e) => return Err(e),
        };
        if let Some(step) = secret.and_then(|s| totp::verify(&s, code, self.now(), user.totp_last_step)) {
            return Ok(self.catalog.use_totp_step(user.id, step).await?);
        }
        let typed = normalize_recovery(code);
        if typed.len() == 10 {
            return Ok(self.catalog.use_recovery_code(user.id, &recovery_hash(&typed)).await?);
        }
        Ok(false)
    }

    /// The second step of a sign-in: the token of its cookie and a code.
    pub async fn finish_sign_in(&self, token: &str, code: &str, remember: bool) -> AppResult<NewSession> {
        let now = self.now();
        let hash = token_hash(token);
        let link = self.catalog.link(&hash, LinkPurpose::SignInStep, now, false).await?;
        let user_id = link.and_then(|l| l.user_id).ok_or(AppError::LinkInvalid)?;
        let user = self.catalog.user_by_id(user_id).await?.ok_or(AppError::LinkInvalid)?;
        if user.locked_until > now {
            return Err(AppError::AccountLocked { minutes: (user.locked_until - now + 59) / 60 });
        }
        if user.disabled_at.is_some() {
            return Err(AppError::LinkInvalid);
        }
        if !self.check_second_factor(&user, code).await? {
            let locked_until =
                self.catalog.record_failed_sign_in(user.id, LOCK_AFTER_FAILURES, now + LOCK_SECS).await?;
            if locked_until > now {
                self.catalog.link(&hash, LinkPurpose::SignInStep, now, true).await?;
                return Err(AppError::AccountLocked { minutes: (locked_until - now + 59) / 60 });
            }
            return Err(AppError::CodeFailed);
        }
        self.catalog.link(&hash, LinkPurpose::SignInStep, now, true).await?.ok_or(AppError::LinkInvalid)?;
        self.start_session(user, remember).await
    }
}
