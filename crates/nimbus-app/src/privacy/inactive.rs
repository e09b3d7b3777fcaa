//! Inactive-account cleanup (off unless the operator sets it): an account nobody signed in to
//! for the configured time is scheduled for deletion, with the grace period and cancel link of
//! a deletion its owner asks; reminders go out on the configured days before. Accounts that
//! never signed in are spared, and so are people with an excluded role (owners and admins by
//! default). Signing in starts the count again.

use nimbus_core::accounts::Role;

use crate::App;
use crate::accounts::mail::Mail;
use crate::error::AppResult;

/// The operator's policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InactivePolicy {
    /// Time without a sign-in after which the account is deleted, in seconds.
    pub delete_after_secs: i64,
    /// Days before the deletion on which a reminder is mailed.
    pub reminder_days: Vec<i64>,
    /// People with one of these roles anywhere are never cleaned up.
    pub exclude_roles: Vec<Role>,
}

impl InactivePolicy {
    pub fn new(delete_after_secs: i64) -> Self {
        Self { delete_after_secs, reminder_days: vec![14, 7], exclude_roles: vec![Role::Owner, Role::Admin] }
    }
}

/// What a round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InactiveRound {
    pub reminded: usize,
    pub scheduled: usize,
}

impl App {
    /// One round (the maintenance loop runs it, and `nimbus admin privacy run-due`).
    pub async fn inactive_accounts_round(&self) -> AppResult<InactiveRound> {
        let mut round = InactiveRound::default();
        let Some(policy) = self.config.inactive_accounts.clone() else { return Ok(round) };
        let now = self.now();
        for (user, memberships) in self.list_users().await? {
            let Some(last) = user.last_sign_in_at else { continue };
            if user.deletion_due_at.is_some()
                || user.disabled_at.is_some()
                || memberships.iter().any(|m| policy.exclude_roles.contains(&m.role))
            {
                continue;
            }
            let deadline = last + policy.delete_after_secs;
            if now >= deadline {
                let why = format!(
                    "Nobody has signed in to your Nimbus console account since {}, so it is being deleted.",
                    nimbus_core::timefmt::iso8601(last)
                );
                self.schedule_deletion(&user, &why).await?;
                round.scheduled += 1;
                continue;
            }
            let days_left = (deadline - now + 86_399) / 86_400;
            let due = policy.reminder_days.iter().copied().filter(|r| days_left <= *r).min();
            let Some(r) = due else { continue };
            if user.inactivity_notice_days.is_some_and(|sent| sent <= r) {
                continue;
            }
            let body = format!(
                "Nobody has signed in to your Nimbus console account since {}. Unless you sign in, it will be \
                 deleted in {r} day(s), on {} (UTC). Sign in here: {}",
                nimbus_core::timefmt::iso8601(last),
                nimbus_core::timefmt::iso8601(deadline),
                self.console_url("login")
            );
            let mail = Mail {
                user_id: user.id,
                to: user.email.clone(),
                subject: "Your Nimbus account will be deleted unless you sign in".into(),
                body,
                ..Default::default()
            };
            self.mailer.send(&mail).await?;
            self.catalog.set_inactivity_notice(user.id, r).await?;
            round.reminded += 1;
        }
        if round != InactiveRound::default() {
            tracing::info!(reminded = round.reminded, scheduled = round.scheduled, "inactive-account round");
        }
        Ok(round)
    }
}
