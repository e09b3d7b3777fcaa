//! Deleting one's own account (the right to erasure): asked with the password, the account is
//! blocked at once (sessions ended, sign-in refused, its address still reserved), a mail
//! carries a link that cancels, and when the grace period is over the purge job erases it:
//! the person's rows go, their actions on record name a stable pseudonym instead, the erasure
//! joins the ledger, and the database's files are scrubbed.

use nimbus_core::erasure::{LedgerEntry, email_hash, pseudonym, subject_hash};
use serde_json::json;

use crate::accounts::mail::Mail;
use crate::accounts::{SignedIn, token_hash};
use crate::error::AppResult;
use crate::jobs::{Job, JobError, NewJob, PURGE};
use crate::ports::{LinkPurpose, User};
use crate::{App, AppError};

/// A deletion that was asked: when it happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeletionScheduled {
    pub due_at: i64,
}

impl App {
    /// `DELETE /console/account`: the person's own password first.
    pub async fn request_account_deletion(&self, who: &SignedIn, password: String) -> AppResult<DeletionScheduled> {
        self.challenge(&who.user, password).await?;
        self.schedule_deletion(&who.user, "You asked for your Nimbus console account to be deleted.").await
    }

    /// The operator deletes an account (an erasure asked for by mail, say): as the person's
    /// own request, with the grace period and the cancel link mailed to them.
    pub async fn delete_account_for(&self, email: &str) -> AppResult<DeletionScheduled> {
        let user = self.user_by_email(email).await?;
        if user.deletion_due_at.is_some() {
            return Err(AppError::AccountDeletionPending);
        }
        self.schedule_deletion(&user, "The operator of this Nimbus installation is deleting your console account.")
            .await
    }

    /// Blocks the account now and erases it when the grace period is over, unless the link
    /// mailed to the person (whose mail starts with `why`) cancels it first.
    pub(crate) async fn schedule_deletion(&self, user: &User, why: &str) -> AppResult<DeletionScheduled> {
        let now = self.now();
        let due_at = now.saturating_add(self.config.deletion_grace_secs.max(0));
        if !self.catalog.set_deletion_due(user.id, Some(due_at)).await? {
            return Err(AppError::NotSignedIn);
        }
        let job = NewJob::new(PURGE, None, json!({ "user_id": user.id }), due_at)
            .key(format!("purge:{}:{due_at}", user.id))
            .attempts(20);
        self.catalog.enqueue(&job, now).await?;
        let token = self.new_token();
        self.catalog
            .create_link(&token_hash(&token), LinkPurpose::CancelDeletion, Some(user.id), now, due_at.max(now + 1))
            .await?;
        let body = format!(
            "{why} It is blocked now, and it will be erased for good at {} (UTC). Changed your mind? This \
             link cancels the deletion until then: {}",
            nimbus_core::timefmt::iso8601(due_at),
            self.console_url(&format!("account/cancel-deletion/{token}"))
        );
        let mail = Mail {
            user_id: user.id,
            to: user.email.clone(),
            subject: "Your Nimbus account will be deleted".into(),
            body,
            ..Default::default()
        };
        self.mailer.send(&mail).await?;
        tracing::info!(user = %nimbus_core::privacy::log_name(user.id), due_at, "account deletion scheduled");
        self.wake.notify_one();
        Ok(DeletionScheduled { due_at })
    }

    /// The cancel link's form: the account works again, as it was.
    pub async fn cancel_account_deletion(&self, token: &str) -> AppResult<()> {
        let link = self.catalog.link(&token_hash(token), LinkPurpose::CancelDeletion, self.now(), true).await?;
        let user_id = link.and_then(|l| l.user_id).ok_or(AppError::LinkInvalid)?;
        if !self.catalog.set_deletion_due(user_id, None).await? {
            return Err(AppError::LinkInvalid);
        }
        tracing::info!(user = %nimbus_core::privacy::log_name(user_id), "account deletion cancelled");
        Ok(())
    }

    /// The purge job: erases the account if its deletion is (still) asked and due.
    pub(crate) async fn run_purge_job(&self, job: &Job) -> Result<(), JobError> {
        let user_id = job.payload["user_id"].as_i64().ok_or_else(|| JobError::Abort("no user_id".into()))?;
        self.purge_account(user_id).await?;
        Ok(())
    }

    /// Erases the account if its deletion is due; false when there is nothing to do (it was
    /// cancelled, is not due yet, or is gone already).
    pub async fn purge_account(&self, user_id: i64) -> AppResult<bool> {
        let Some(user) = self.catalog.user_by_id(user_id).await? else { return Ok(false) };
        match user.deletion_due_at {
            Some(due) if due <= self.now() => {}
            _ => return Ok(false),
        }
        let pepper = self.pepper().await?;
        let entry = LedgerEntry {
            subject_hash: subject_hash(&pepper, user.id, user.created_at),
            email_hash: email_hash(&pepper, &user.email),
            erased_at: self.now(),
        };
        self.erase_account(&user, entry).await?;
        Ok(true)
    }

    /// Every account whose deletion is due, erased now (`nimbus admin privacy run-due`, and
    /// the maintenance round); returns how many.
    pub async fn purge_due_accounts(&self) -> AppResult<usize> {
        let mut n = 0;
        for id in self.catalog.due_deletions(self.now()).await? {
            if self.purge_account(id).await? {
                n += 1;
            }
        }
        Ok(n)
    }

    /// The erasure itself, also run by the ledger's replay. Each step can run again: the
    /// ledger entry first (a crash after it is finished by the replay at the next start),
    /// then the catalog in one transaction, then the person's own objects in the blob store.
    pub(crate) async fn erase_account(&self, user: &User, entry: LedgerEntry) -> AppResult<()> {
        let pepper = self.pepper().await?;
        self.record_erasure(&entry).await?;
        self.catalog.erase_user(user.id, &pseudonym(&pepper, user.id), &entry).await?;
        for b in self.blobs.list(&user_blob_prefix(user.id)).await? {
            self.blobs.delete(&b.key).await?;
        }
        self.changed();
        tracing::info!(user = %nimbus_core::privacy::log_name(user.id), "account erased");
        Ok(())
    }
}

/// Where a person's own objects live in the blob store (export archives): erased with them.
pub fn user_blob_prefix(user_id: i64) -> String {
    format!("{}users/{user_id}/", super::BLOB_PREFIX)
}
