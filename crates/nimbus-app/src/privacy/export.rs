//! A person's archive of their own data (the right of access and portability): asked for in
//! the console, made by a job, downloadable by them alone for 7 days, then deleted. One may be
//! asked every 7 days.

use serde_json::json;

use super::archive::{self, ArchiveInput};
use crate::accounts::SignedIn;
use crate::accounts::mail::Mail;
use crate::error::AppResult;
use crate::jobs::{EXPORT, Job, JobError, NewJob};
use crate::ports::{BlobRead, DataExport};
use crate::{App, AppError};

/// Where an archive is stored: under the person's own prefix, erased with them.
pub fn archive_key(user_id: i64, export_id: i64) -> String {
    format!("{}exports/{export_id}.zip", super::erasure::user_blob_prefix(user_id))
}

impl App {
    /// `POST /console/account/export`: a new archive, unless one was asked in the last 7 days.
    pub async fn request_export(&self, who: &SignedIn) -> AppResult<DataExport> {
        self.start_export(who.user.id).await
    }

    /// A new archive of a person's data, built by a job and announced to them by mail.
    pub(crate) async fn start_export(&self, user_id: i64) -> AppResult<DataExport> {
        let now = self.now();
        // One archive at a time: the next may be asked once the last has expired.
        let keep = self.config.retention.exports_secs;
        if let Some(last) = self.catalog.exports_of(user_id).await?.first() {
            let next = last.requested_at + keep;
            if next > now {
                return Err(AppError::ExportTooSoon { retry_after: next - now });
            }
        }
        let id = self.catalog.create_export(user_id, now, now + keep).await?;
        let job = NewJob::new(EXPORT, None, json!({ "export_id": id }), now).key(format!("export:{id}")).attempts(10);
        self.catalog.enqueue(&job, now).await?;
        self.wake.notify_one();
        self.catalog.data_export(id).await?.ok_or_else(|| AppError::ResourceNotFound(format!("export {id}")))
    }

    pub async fn exports(&self, who: &SignedIn) -> AppResult<Vec<DataExport>> {
        Ok(self.catalog.exports_of(who.user.id).await?)
    }

    /// The export job: builds the archive, stores it, and tells the person by mail.
    pub(crate) async fn run_export_job(&self, job: &Job) -> Result<(), JobError> {
        let id = job.payload["export_id"].as_i64().ok_or_else(|| JobError::Abort("no export_id".into()))?;
        let Some(export) = self.catalog.data_export(id).await? else { return Ok(()) };
        if export.ready_at.is_some() {
            return Ok(());
        }
        let Some(user) = self.catalog.user_by_id(export.user_id).await? else { return Ok(()) };
        let input = ArchiveInput {
            memberships: self.catalog.memberships(user.id).await?,
            data: self.catalog.subject_data(user.id).await?,
            rows: self.catalog.subject_rows(user.id).await?,
            generated_at: self.now(),
            user,
        };
        let zip = self
            .cpu
            .run(move || archive::build(&input).map(|z| (z, input.user)))
            .await
            .map_err(|e| JobError::Retry(e.to_string()))?
            .map_err(|e| JobError::Abort(format!("archive: {e}")))?;
        let (bytes, user) = zip;
        let len = bytes.len() as i64;
        self.blobs
            .put_bytes(&archive_key(user.id, id), bytes.into())
            .await
            .map_err(|e| JobError::Retry(e.to_string()))?;
        self.catalog.export_ready(id, len, self.now()).await?;
        let body = format!(
            "The archive of your Nimbus data is ready. Download it from your account (it is kept for 7 days): {}",
            self.console_url("account/exports")
        );
        self.mailer
            .send(&Mail {
                user_id: user.id,
                to: user.email.clone(),
                subject: "Your data archive is ready".into(),
                body,
                ..Default::default()
            })
            .await?;
        tracing::info!(user = %nimbus_core::privacy::log_name(user.id), bytes = len, "data archive made");
        Ok(())
    }

    /// A ready archive of the person's own, to download.
    pub async fn export_archive(&self, who: &SignedIn, id: i64) -> AppResult<(DataExport, BlobRead)> {
        let missing = || AppError::ResourceNotFound(format!("archive {id}"));
        let export = self.catalog.data_export(id).await?.ok_or_else(missing)?;
        if export.user_id != who.user.id || export.ready_at.is_none() || export.expires_at <= self.now() {
            return Err(missing());
        }
        let read = self.blobs.get(&archive_key(export.user_id, id), None).await?;
        Ok((export, read))
    }

    /// Deletes archives whose 7 days are over, blob first; returns how many.
    pub async fn prune_exports(&self) -> AppResult<usize> {
        let expired = self.catalog.expired_exports(self.now()).await?;
        for e in &expired {
            self.blobs.delete(&archive_key(e.user_id, e.id)).await?;
            self.catalog.delete_export(e.id).await?;
        }
        Ok(expired.len())
    }
}
