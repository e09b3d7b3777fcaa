//! Requests from authorities for people's data (privacy F16): the operator registers each
//! one (who asked, on what basis, for which kinds of data, about whom), and the people it
//! concerns are told by mail once the law allows: at once, after a date (the end of a gag
//! order), or never, with a reason that is reviewed every 90 days. Until then nothing about
//! it shows in their privacy centre or archive. The yearly transparency report counts
//! requests per kind of authority and names nobody.

use std::collections::BTreeMap;

use nimbus_core::privacy::Category;

use crate::accounts::mail::Mail;
use crate::error::AppResult;
use crate::ports::LegalRequest;
use crate::{App, AppError};

/// How often a decision never to tell is reviewed.
pub const REVIEW_EVERY_SECS: i64 = 90 * 86_400;

/// Kinds of authority the register and the report know.
pub const AUTHORITY_KINDS: [&str; 4] = ["police", "court", "regulator", "other"];

/// When the people concerned are told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notify {
    Now,
    /// Not before this time (the end of a gag order).
    After(i64),
    /// Never, for this reason (reviewed every 90 days).
    Never(String),
}

/// A request as the operator registers it.
#[derive(Debug, Clone)]
pub struct NewLegalRequest {
    pub authority: String,
    pub authority_kind: String,
    pub legal_basis: String,
    pub categories: Vec<String>,
    pub received_at: i64,
    pub disclosed_at: Option<i64>,
    pub attachment_sha256: Option<String>,
    /// The people it concerns, by e-mail address.
    pub emails: Vec<String>,
    pub notify: Notify,
}

/// One line of the transparency report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransparencyLine {
    pub authority_kind: String,
    pub requests: u64,
    pub disclosed: u64,
    pub people: u64,
}

/// The SHA-256 of a request's document, as the register keeps it (not the document).
pub fn digest(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

fn category_known(name: &str) -> bool {
    nimbus_core::privacy::REGISTRY.iter().any(|c| c.category.as_str() == name && c.category != Category::Legal)
}

impl App {
    /// Registers a request; every address must be a console user's.
    pub async fn register_legal_request(&self, r: NewLegalRequest) -> AppResult<i64> {
        if !AUTHORITY_KINDS.contains(&r.authority_kind.as_str()) {
            return Err(AppError::InvalidParam { name: "authority_kind", value: r.authority_kind });
        }
        for (name, v) in [("authority", &r.authority), ("legal_basis", &r.legal_basis)] {
            if v.trim().is_empty() {
                return Err(AppError::MissingParam(name));
            }
        }
        if r.categories.is_empty() {
            return Err(AppError::MissingParam("categories"));
        }
        if let Some(c) = r.categories.iter().find(|c| !category_known(c)) {
            return Err(AppError::InvalidParam { name: "categories", value: c.clone() });
        }
        if let Notify::Never(reason) = &r.notify
            && reason.trim().is_empty()
        {
            return Err(AppError::MissingParam("never_reason"));
        }
        let mut subjects = Vec::with_capacity(r.emails.len());
        for e in &r.emails {
            subjects.push(self.user_by_email(e).await?.id);
        }
        let now = self.now();
        let (notify_after, never_reason, review_at) = match r.notify {
            Notify::Now => (Some(now), None, None),
            Notify::After(t) => (Some(t), None, None),
            Notify::Never(reason) => (None, Some(reason), Some(now + REVIEW_EVERY_SECS)),
        };
        let req = LegalRequest {
            id: 0,
            authority: r.authority.trim().to_owned(),
            authority_kind: r.authority_kind,
            legal_basis: r.legal_basis.trim().to_owned(),
            categories: r.categories,
            received_at: r.received_at,
            disclosed_at: r.disclosed_at,
            attachment_sha256: r.attachment_sha256,
            notify_after,
            never_reason,
            review_at,
            created_at: now,
        };
        let id = self.catalog.create_legal_request(&req, &subjects).await?;
        tracing::info!(request = id, people = subjects.len(), "legal request registered");
        Ok(id)
    }

    /// Every registered request, newest first, with its people `(user, notified_at)`.
    pub async fn legal_requests(&self) -> AppResult<Vec<(LegalRequest, Vec<(i64, Option<i64>)>)>> {
        Ok(self.catalog.legal_requests().await?)
    }

    pub async fn legal_disclosed(&self, id: i64, at: i64) -> AppResult<()> {
        if self.catalog.set_legal_disclosed(id, at).await? {
            Ok(())
        } else {
            Err(AppError::ResourceNotFound(format!("legal request {id}")))
        }
    }

    /// Confirms a never-notify decision after its review; the next review is 90 days on.
    pub async fn legal_reviewed(&self, id: i64) -> AppResult<()> {
        if self.catalog.set_legal_review(id, self.now() + REVIEW_EVERY_SECS).await? {
            Ok(())
        } else {
            Err(AppError::ResourceNotFound(format!("legal request {id} with a decision never to notify")))
        }
    }

    /// Tells every person whose request may now be told of; run with the other due privacy
    /// work. Returns how many were told.
    pub async fn send_legal_notices(&self) -> AppResult<u64> {
        let now = self.now();
        let mut told = 0;
        for (r, people) in self.catalog.legal_requests().await? {
            if r.notify_after.is_none_or(|t| t > now) {
                continue;
            }
            for (user_id, notified) in people {
                if notified.is_some() {
                    continue;
                }
                let Some(user) = self.catalog.user_by_id(user_id).await? else { continue };
                let date = |t: i64| nimbus_core::timefmt::iso8601(t)[..10].to_owned();
                let disclosed = match r.disclosed_at {
                    Some(t) => format!("Nimbus's operator disclosed it on {}.", date(t)),
                    None => "Nothing has been disclosed so far.".to_owned(),
                };
                let body = format!(
                    "On {} an authority ({}: {}) asked the operator of this Nimbus installation for data about you, \
                     under {}: {}. {disclosed} Ask the operator if you want to know more.",
                    date(r.received_at),
                    r.authority_kind,
                    r.authority,
                    r.legal_basis,
                    r.categories.join(", "),
                );
                let mail = Mail {
                    user_id,
                    to: user.email.clone(),
                    subject: "A request from an authority concerned your data".into(),
                    body,
                    ..Default::default()
                };
                self.mailer.send(&mail).await?;
                if self.catalog.mark_legal_notified(r.id, user_id, now).await? {
                    told += 1;
                    tracing::info!(user = %nimbus_core::privacy::log_name(user_id), request = r.id, "told of a legal request");
                }
            }
        }
        Ok(told)
    }

    /// Requests with a decision never to tell whose review is due.
    pub async fn legal_reviews_due(&self) -> AppResult<Vec<LegalRequest>> {
        let now = self.now();
        Ok(self
            .catalog
            .legal_requests()
            .await?
            .into_iter()
            .map(|(r, _)| r)
            .filter(|r| r.notify_after.is_none() && r.review_at.is_some_and(|t| t <= now))
            .collect())
    }

    /// The transparency report of a calendar year (by the day a request was received): counts
    /// per kind of authority, and nothing that names anyone.
    pub async fn transparency_report(&self, year: i32) -> AppResult<Vec<TransparencyLine>> {
        let mut lines: BTreeMap<String, TransparencyLine> = AUTHORITY_KINDS
            .iter()
            .map(|k| {
                let l = TransparencyLine { authority_kind: (*k).to_owned(), requests: 0, disclosed: 0, people: 0 };
                ((*k).to_owned(), l)
            })
            .collect();
        for (r, people) in self.catalog.legal_requests().await? {
            if nimbus_core::timefmt::year_of(r.received_at) != year {
                continue;
            }
            let l = lines.entry(r.authority_kind.clone()).or_insert_with(|| TransparencyLine {
                authority_kind: r.authority_kind.clone(),
                requests: 0,
                disclosed: 0,
                people: 0,
            });
            l.requests += 1;
            l.disclosed += u64::from(r.disclosed_at.is_some());
            l.people += people.len() as u64;
        }
        Ok(lines.into_values().collect())
    }
}
