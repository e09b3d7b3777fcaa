//! Versions of the privacy policy and the terms, with their notice periods enforced: the
//! operator publishes a version with its changelog and class of change; the date it takes
//! effect is checked (see [`nimbus_core::policy`]); people active in the last year get a
//! notice by mail at once, everyone sees a banner in the console until it takes effect, and
//! signing in after that records that the person uses Nimbus under it.

use nimbus_core::policy::{ChangeClass, KINDS, PolicyError, effective_at};

use crate::accounts::mail::{Mail, MailCategory};
use crate::error::AppResult;
use crate::ports::Policy;
use crate::{App, AppError};

/// People who signed in within this many days get a publication's notice by mail.
pub const NOTICE_ACTIVE_DAYS: i64 = 365;

/// A version to publish.
#[derive(Debug, Clone)]
pub struct NewPolicy {
    pub kind: String,
    pub class: ChangeClass,
    pub text_md: String,
    pub changelog_md: String,
    /// `None`: as early as the class allows.
    pub effective_at: Option<i64>,
}

/// What a publication did.
#[derive(Debug, Clone)]
pub struct Published {
    pub policy: Policy,
    /// Notices mailed.
    pub notified: usize,
}

/// The version in force and the one announced after it, if any.
#[derive(Debug, Clone, Default)]
pub struct PolicyView {
    pub live: Option<Policy>,
    pub upcoming: Option<Policy>,
}

impl App {
    pub async fn publish_policy(&self, new: NewPolicy) -> AppResult<Published> {
        let refuse = |m: &str| AppError::PolicyRefused(m.to_owned());
        if !KINDS.contains(&new.kind.as_str()) {
            return Err(refuse("the kind must be privacy or terms"));
        }
        if new.text_md.trim().is_empty() || new.changelog_md.trim().is_empty() {
            return Err(refuse("both the text and the changelog are required"));
        }
        let now = self.now();
        let versions = self.catalog.policies(&new.kind).await?;
        let latest = versions.first();
        let at = effective_at(new.class, now, new.effective_at, latest.map(|p| p.effective_at))
            .map_err(|PolicyError(m)| AppError::PolicyRefused(m))?;
        let draft = Policy {
            id: 0,
            kind: new.kind.clone(),
            version: 0,
            text_md: new.text_md,
            changelog_md: new.changelog_md,
            change_class: new.class.as_str().to_owned(),
            published_at: now,
            effective_at: at,
        };
        let policy = self
            .catalog
            .insert_policy(&draft, latest.map_or(0, |p| p.version))
            .await?
            .ok_or_else(|| refuse("another version was published meanwhile; try again"))?;
        let mut notified = 0;
        let since = now - NOTICE_ACTIVE_DAYS * 86_400;
        for (user, _) in self.list_users().await? {
            let active = user.last_sign_in_at.is_some_and(|t| t >= since);
            if !active || user.disabled_at.is_some() || user.deletion_due_at.is_some() {
                continue;
            }
            let body = format!(
                "The Nimbus {} changes on {} (UTC). What changes:\n\n{}\n\nThe new text: {}/{}. If you do not \
                 agree, you can delete your account from your account page before then.",
                if policy.kind == "privacy" { "privacy policy" } else { "terms" },
                nimbus_core::timefmt::iso8601(policy.effective_at),
                policy.changelog_md.trim(),
                self.config.public_base_url,
                if policy.kind == "privacy" { "privacy" } else { "privacy/versions?kind=terms" },
            );
            let subject = format!("Changes to the Nimbus {}", policy.kind);
            self.mailer
                .send(&Mail {
                    user_id: user.id,
                    to: user.email.clone(),
                    subject,
                    body,
                    category: MailCategory::PolicyNotice,
                    ..Default::default()
                })
                .await?;
            notified += 1;
        }
        tracing::info!(kind = %policy.kind, version = policy.version, notified, "policy version published");
        Ok(Published { policy, notified })
    }

    /// The version of `kind` in force now, and the next one announced.
    pub async fn policy_view(&self, kind: &str) -> AppResult<PolicyView> {
        let now = self.now();
        let versions = self.catalog.policies(kind).await?;
        Ok(PolicyView {
            live: versions.iter().find(|p| p.effective_at <= now).cloned(),
            upcoming: versions.iter().rev().find(|p| p.effective_at > now).cloned(),
        })
    }

    /// The next version of each kind announced and not yet in force.
    pub async fn upcoming_policies(&self) -> AppResult<Vec<Policy>> {
        let mut out = Vec::new();
        for kind in KINDS {
            out.extend(self.policy_view(kind).await?.upcoming);
        }
        Ok(out)
    }

    /// Every version of `kind`, newest first.
    pub async fn policy_versions(&self, kind: &str) -> AppResult<Vec<Policy>> {
        Ok(self.catalog.policies(kind).await?)
    }
}
