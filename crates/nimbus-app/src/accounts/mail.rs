//! Mail to console users (invitations, password resets). Without a mail server the message
//! goes to the log at info level, naming the recipient by user id, never by address, so that
//! a single-machine install still works and the log holds no e-mail addresses.

use async_trait::async_trait;

use crate::error::AppResult;

/// What a message is for (privacy F6): the person may stop product news, never the others.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MailCategory {
    /// Sign-in links, resets, security notices, replies to the person's own requests.
    #[default]
    Transactional,
    /// Notices the law asks for (a policy change).
    PolicyNotice,
    /// News of the product: only to people who asked for it, with a one-click unsubscribe.
    ProductNews,
}

impl MailCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Transactional => "transactional",
            Self::PolicyNotice => "policy_notice",
            Self::ProductNews => "product_news",
        }
    }
}

/// One message to one person.
#[derive(Clone, Default)]
pub struct Mail {
    pub user_id: i64,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub category: MailCategory,
    /// The one-click unsubscribe link (RFC 8058), sent as `List-Unsubscribe` with
    /// `List-Unsubscribe-Post: List-Unsubscribe=One-Click`.
    pub unsubscribe: Option<String>,
}

impl std::fmt::Debug for Mail {
    /// Without the address or the body (which holds a one-time link).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail")
            .field("user_id", &self.user_id)
            .field("subject", &self.subject)
            .field("category", &self.category)
            .finish_non_exhaustive()
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

/// The message as it goes out: plain text, and for news the one-click unsubscribe headers.
fn message(from: &lettre::message::Mailbox, mail: &Mail) -> AppResult<lettre::Message> {
    use lettre::message::header::{ContentType, HeaderName, HeaderValue};
    let to = mail.to.parse().map_err(|_| crate::AppError::Mail("the recipient's address is not valid".into()))?;
    let mut builder = lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .header(ContentType::TEXT_PLAIN);
    if let Some(link) = &mail.unsubscribe {
        let header = |name: &'static str, value: String| HeaderValue::new(HeaderName::new_from_ascii_str(name), value);
        builder = builder
            .raw_header(header("List-Unsubscribe", format!("<{link}>")))
            .raw_header(header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".to_owned()));
    }
    builder.body(mail.body.clone()).map_err(|e| crate::AppError::Mail(e.to_string()))
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &Mail) -> AppResult<()> {
        use lettre::AsyncTransport as _;
        let message = message(&self.from, mail)?;
        self.transport.send(message).await.map_err(|e| crate::AppError::Mail(e.to_string()))?;
        tracing::info!(user = %nimbus_core::privacy::log_name(mail.user_id), subject = %mail.subject, "mail sent");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn news_carries_the_one_click_unsubscribe_headers_and_nothing_else_does() {
        let from = "Nimbus <nimbus@localhost>".parse().unwrap();
        let mut mail = Mail {
            user_id: 1,
            to: "nina@example.org".into(),
            subject: "News".into(),
            body: "Hello".into(),
            category: MailCategory::ProductNews,
            unsubscribe: Some("https://nimbus.example/u/1.product_news.abc".into()),
        };
        let text = String::from_utf8(message(&from, &mail).unwrap().formatted()).unwrap();
        assert!(text.contains("List-Unsubscribe: <https://nimbus.example/u/1.product_news.abc>\r\n"), "{text}");
        assert!(text.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"), "{text}");
        mail.unsubscribe = None;
        mail.category = MailCategory::Transactional;
        let text = String::from_utf8(message(&from, &mail).unwrap().formatted()).unwrap();
        assert!(!text.contains("List-Unsubscribe"), "{text}");
    }
}
