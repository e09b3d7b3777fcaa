//! Product news by mail (privacy F6): off unless the person asks for it on their account
//! page; every such message carries a one-click unsubscribe link (RFC 8058) that works
//! without signing in and takes effect at once. Transactional mail and policy notices are not
//! affected. The link's token names the person and the category and is signed (HMAC-SHA256
//! with a key derived from the installation's pepper), so it changes nobody else's choice.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::accounts::SignedIn;
use crate::accounts::mail::{Mail, MailCategory};
use crate::error::AppResult;
use crate::{App, AppError};

/// Hex digits of the signature in a token (128 bits).
const SIGNATURE_HEX: usize = 32;

fn signature(pepper: &[u8], user_id: i64, category: MailCategory) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(pepper).expect("any key length");
    mac.update(format!("unsubscribe v1|{user_id}|{}", category.as_str()).as_bytes());
    hex::encode(mac.finalize().into_bytes())[..SIGNATURE_HEX].to_owned()
}

/// A token's parts, `USER.CATEGORY.SIGNATURE`, unchecked.
fn parts(token: &str) -> Option<(i64, MailCategory, &str)> {
    let mut it = token.splitn(3, '.');
    let user_id = it.next()?.parse().ok()?;
    let category = match it.next()? {
        "product_news" => MailCategory::ProductNews,
        _ => return None,
    };
    Some((user_id, category, it.next()?))
}

impl App {
    /// The token of `user_id`'s unsubscribe link for `category`.
    pub(crate) async fn unsubscribe_token(&self, user_id: i64, category: MailCategory) -> AppResult<String> {
        let pepper = self.pepper().await?;
        Ok(format!("{user_id}.{}.{}", category.as_str(), signature(&pepper, user_id, category)))
    }

    /// The person a token was made for, when its signature holds.
    async fn unsubscriber(&self, token: &str) -> AppResult<(i64, MailCategory)> {
        let (user_id, category, given) = parts(token).ok_or(AppError::UnsubscribeInvalid)?;
        let expected = signature(&self.pepper().await?, user_id, category);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), given.as_bytes())) {
            return Err(AppError::UnsubscribeInvalid);
        }
        Ok((user_id, category))
    }

    /// Checks an unsubscribe link without using it (the confirmation page).
    pub async fn check_unsubscribe(&self, token: &str) -> AppResult<()> {
        self.unsubscriber(token).await.map(|_| ())
    }

    /// Follows an unsubscribe link: the person gets no more of that category, at once. An
    /// account that is gone has nothing to stop.
    pub async fn unsubscribe(&self, token: &str) -> AppResult<()> {
        let (user_id, category) = self.unsubscriber(token).await?;
        debug_assert_eq!(category, MailCategory::ProductNews);
        if self.catalog.set_product_news(user_id, false, "unsubscribe", self.now()).await? {
            tracing::info!(user = %nimbus_core::privacy::log_name(user_id), "product news stopped by unsubscribe link");
        }
        Ok(())
    }

    /// The person's own choice on their account page.
    pub async fn set_product_news_as(&self, who: &SignedIn, on: bool) -> AppResult<bool> {
        let changed = self.catalog.set_product_news(who.user.id, on, "product_news", self.now()).await?;
        if changed {
            tracing::info!(user = %nimbus_core::privacy::log_name(who.user.id), on, "product news choice changed");
        }
        Ok(changed)
    }

    /// Sends product news to everyone who asked for it (and is not disabled or being
    /// deleted), each message with its unsubscribe link; returns how many went out.
    pub async fn send_product_news(&self, subject: &str, body: &str) -> AppResult<u64> {
        let mut sent = 0;
        for (user, _) in self.list_users().await? {
            if user.product_news_at.is_none() || user.disabled_at.is_some() || user.deletion_due_at.is_some() {
                continue;
            }
            let link = format!(
                "{}/u/{}",
                self.config.public_base_url,
                self.unsubscribe_token(user.id, MailCategory::ProductNews).await?
            );
            let mail = Mail {
                user_id: user.id,
                to: user.email.clone(),
                subject: subject.to_owned(),
                body: format!("{body}\n\nYou get this because you asked for Nimbus product news. Stop it: {link}"),
                category: MailCategory::ProductNews,
                unsubscribe: Some(link),
            };
            self.mailer.send(&mail).await?;
            sent += 1;
        }
        Ok(sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_name_one_person_and_category() {
        let s = signature(b"pepper", 7, MailCategory::ProductNews);
        assert_eq!(s.len(), SIGNATURE_HEX);
        assert_ne!(s, signature(b"pepper", 8, MailCategory::ProductNews));
        assert_ne!(s, signature(b"other", 7, MailCategory::ProductNews));
        assert_eq!(parts(&format!("7.product_news.{s}")), Some((7, MailCategory::ProductNews, s.as_str())));
        assert_eq!(parts("7.transactional.abc"), None, "no link stops transactional mail");
        assert_eq!(parts("x.product_news.abc"), None);
    }
}
