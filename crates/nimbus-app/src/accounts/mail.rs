//! Mail to console users (invitations, password resets). Without a mail server the message
//! goes to the log at info level, naming the recipient by user id, never by address, so that
//! a single-machine install still works and the log holds no e-mail addresses.

use async_trait::async_trait;

use crate::error::AppResult;

/// One message to one person.
#[derive(Clone)]
pub struct Mail {
    pub user_id: i64,
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl std::fmt::Debug for Mail {
    /// Without the address or the body (which holds a one-time link).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail").field("user_id", &self.user_id).field("subject", &self.subject).finish_non_exhaustive()
    }
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &Mail) -> AppResult<()>;
}

/// Writes each message to the log.
#[derive(Debug, Default)]
pub struct LogMailer;

#[async_trait]
impl Mailer for LogMailer {
    async fn send(&self, mail: &Mail) -> AppResult<()> {
        tracing::info!(user = mail.user_id, subject = %mail.subject, "no mail server configured; the message is: {}", mail.body);
        Ok(())
    }
}
