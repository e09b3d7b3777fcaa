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
        tracing::info!(user = %nimbus_core::privacy::log_name(mail.user_id), subject = %mail.subject, "no mail server configured; the message is: {}", mail.body);
        Ok(())
    }
}

/// Sends through an SMTP server: `smtp://[USER:PASSWORD@]HOST[:PORT]` (STARTTLS when the
/// server offers it; `?tls=required` insists), or `smtps://...` (TLS from the start), as
/// lettre reads the URL.
pub struct SmtpMailer {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    from: lettre::message::Mailbox,
}

impl std::fmt::Debug for SmtpMailer {
    /// Without the URL, which may hold a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl SmtpMailer {
    pub fn new(url: &str, from: &str) -> Result<Self, String> {
        let transport = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url)
            .map_err(|e| format!("smtp_url: {e}"))?
            .timeout(Some(std::time::Duration::from_secs(30)))
            .build();
        let from = from.parse().map_err(|e| format!("mail_from {from:?}: {e}"))?;
        Ok(Self { transport, from })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &Mail) -> AppResult<()> {
        use lettre::AsyncTransport as _;
        let to = mail.to.parse().map_err(|_| crate::AppError::Mail("the recipient's address is not valid".into()))?;
        let message = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| crate::AppError::Mail(e.to_string()))?;
        self.transport.send(message).await.map_err(|e| crate::AppError::Mail(e.to_string()))?;
        tracing::info!(user = %nimbus_core::privacy::log_name(mail.user_id), subject = %mail.subject, "mail sent");
        Ok(())
    }
}
