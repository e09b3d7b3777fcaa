//! A mailer that keeps what it is given, for tests to read the links in it.

use std::sync::Mutex;

use async_trait::async_trait;
use nimbus_app::accounts::mail::{Mail, Mailer};
use nimbus_app::error::AppResult;

#[derive(Debug, Default)]
pub struct CapturingMailer {
    pub sent: Mutex<Vec<Mail>>,
}

#[async_trait]
impl Mailer for CapturingMailer {
    async fn send(&self, mail: &Mail) -> AppResult<()> {
        self.sent.lock().unwrap().push(mail.clone());
        Ok(())
    }
}

impl CapturingMailer {
    /// The path (from `/console/`) of the link in the last message to `to`.
    pub fn last_link_to(&self, to: &str) -> Option<String> {
        let sent = self.sent.lock().unwrap();
        let m = sent.iter().rev().find(|m| m.to == to)?;
        let at = m.body.find("/console/")?;
        Some(m.body[at..].split_whitespace().next()?.to_owned())
    }
}
