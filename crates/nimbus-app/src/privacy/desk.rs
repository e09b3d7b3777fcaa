//! The request desk (privacy F8, and F19's removal requests): people who may have no account
//! ask the operator for access to, correction or erasure of their data, a restriction, an
//! objection, or the removal of content that shows them. Each request is proved by a link
//! mailed to the address given; it is due 30 days after receipt, once extendable to 90 with a
//! reason, and every step is logged. The operator finds what the catalog holds about the
//! person (by address, or by the public id of a removal request), sends an account holder
//! their archive, and closes the request; closed requests are kept three years as evidence.

use nimbus_core::accounts::normalize_email;

use crate::accounts::mail::{Mail, MailCategory};
use crate::accounts::token_hash;
use crate::error::AppResult;
use crate::ports::{RequestLogLine, SubjectRequest};
use crate::{App, AppError};

/// What a request may ask.
pub const KINDS: [&str; 6] = ["access", "rectify", "erase", "restrict", "object", "removal"];
/// When a request is due: 30 days after receipt (the stricter of GDPR's month and CCPA's 45
/// days), or 90 once extended with a reason.
pub const DUE_SECS: i64 = 30 * 86_400;
pub const EXTENDED_DUE_SECS: i64 = 90 * 86_400;
/// Most requests one address may make in a day (each sends a mail).
pub const MAX_PER_ADDRESS_PER_DAY: usize = 3;
/// Longest description accepted.
pub const MAX_DETAILS: usize = 5000;

/// A request as the public form gives it.
#[derive(Debug, Clone, Default)]
pub struct NewSubjectRequest {
    pub kind: String,
    pub email: String,
    pub details: String,
    /// The delivery URL of the content a removal request is about.
    pub asset_url: Option<String>,
}

/// What the catalog holds about a request's subject.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    /// The console account with the request's address: its id, and rows per table.
    pub account: Option<(i64, Vec<(String, i64)>)>,
    /// Other requests from the same address.
    pub requests: Vec<i64>,
    /// Assets with the public id of a removal request: `(cloud, resource type, type)`.
    pub assets: Vec<(String, String, String)>,
    /// Said to the operator with every search: what cannot be searched, and why.
    pub cautions: Vec<&'static str>,
}

/// How a request stands at `now`: `overdue`, `unverified` (open, address not proved),
/// `open`, `done` or `refused`.
pub fn request_state(r: &SubjectRequest, now: i64) -> &str {
    match r.status.as_str() {
        "open" if r.due_at < now => "overdue",
        "open" if r.verified_at.is_none() => "unverified",
        other => other,
    }
}

/// The product environment and public id a delivery URL names (absolute or a path).
fn asset_of(url: &str) -> AppResult<(String, String)> {
    let path = match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => url,
    };
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let p = nimbus_core::delivery::DeliveryPath::parse(path)
        .map_err(|_| AppError::InvalidParam { name: "asset_url", value: url.chars().take(200).collect() })?;
    Ok((p.cloud, p.public_id.as_str().to_owned()))
}

impl App {
    /// Takes a request from the public form: checks it, records it as received now, and mails
    /// the verification link to the address given. A removal request also tells the owners
    /// and admins of the product environment the content belongs to. Returns the request.
    pub async fn submit_subject_request(&self, r: NewSubjectRequest) -> AppResult<SubjectRequest> {
        if !KINDS.contains(&r.kind.as_str()) {
            return Err(AppError::InvalidParam { name: "kind", value: r.kind });
        }
        let email = normalize_email(&r.email)?;
        let details = r.details.trim().to_owned();
        if details.chars().count() > MAX_DETAILS {
            return Err(AppError::InvalidParam { name: "details", value: format!("{} characters", details.len()) });
        }
        let (cloud, public_id) = match (r.kind.as_str(), r.asset_url.as_deref().map(str::trim)) {
            ("removal", None | Some("")) => return Err(AppError::MissingParam("asset_url")),
            (_, Some(url)) if !url.is_empty() => {
                let (c, p) = asset_of(url)?;
                (Some(c), Some(p))
            }
            _ => (None, None),
        };
        let now = self.now();
        let today = self.catalog.subject_requests().await?;
        if today.iter().filter(|q| q.email == email && q.received_at > now - 86_400).count() >= MAX_PER_ADDRESS_PER_DAY
        {
            return Err(AppError::TooManyRequests { retry_after: 86_400 });
        }
        let token = self.ids.token(32);
        let mut req = SubjectRequest {
            id: 0,
            kind: r.kind,
            email,
            cloud,
            public_id,
            details,
            verified_at: None,
            received_at: now,
            due_at: now + DUE_SECS,
            extension_reason: None,
            status: "open".into(),
            closed_at: None,
        };
        req.id = self.catalog.create_subject_request(&req, &token_hash(&token), "received").await?;
        let link = format!("{}/privacy/requests/verify/{token}", self.config.public_base_url);
        let body = format!(
            "We received a request about your data ({kind}), number {id}. To confirm that this address is yours, open: \
             {link}\n\nWe answer within 30 days of receipt, by {due} (UTC). If you did not make this request, ignore \
             this message; nothing happens without the confirmation.",
            kind = req.kind,
            id = req.id,
            due = nimbus_core::timefmt::iso8601(req.due_at),
        );
        let mail = Mail {
            user_id: 0,
            to: req.email.clone(),
            subject: "Confirm your request about your data".into(),
            body,
            category: MailCategory::Transactional,
            unsubscribe: None,
        };
        if let Err(e) = self.mailer.send(&mail).await {
            tracing::warn!(request = req.id, error = %e, "could not mail a request's verification link");
        }
        if let Some(cloud) = req.cloud.clone() {
            self.tell_environment_admins(&req, &cloud).await?;
        }
        Ok(req)
    }

    /// Mails the owners and admins of `cloud` that a request about its content arrived.
    async fn tell_environment_admins(&self, req: &SubjectRequest, cloud: &str) -> AppResult<()> {
        use nimbus_core::accounts::Role;
        for (user, memberships) in self.list_users().await? {
            let admin =
                memberships.iter().any(|m| m.cloud_name == cloud && matches!(m.role, Role::Owner | Role::Admin));
            if !admin || user.disabled_at.is_some() {
                continue;
            }
            let mail = Mail {
                user_id: user.id,
                to: user.email.clone(),
                subject: format!("A {} request about content in {cloud}", req.kind),
                body: format!(
                    "Request {id} asks for the {kind} of {public_id} in {cloud}, because: {details}\n\nIt is due by {due} \
                     (UTC). The operator answers it with `nimbus admin privacy requests show {id}`.",
                    id = req.id,
                    kind = req.kind,
                    public_id = req.public_id.as_deref().unwrap_or(""),
                    details = req.details,
                    due = nimbus_core::timefmt::iso8601(req.due_at),
                ),
                category: MailCategory::Transactional,
                unsubscribe: None,
            };
            if let Err(e) = self.mailer.send(&mail).await {
                tracing::warn!(request = req.id, error = %e, "could not tell an environment's admins of a request");
            }
        }
        Ok(())
    }

    /// Confirms the address of the request a mailed link names (once).
    pub async fn verify_subject_request(&self, token: &str) -> AppResult<i64> {
        self.catalog.verify_subject_request(&token_hash(token), self.now()).await?.ok_or(AppError::LinkInvalid)
    }

    pub async fn subject_requests(&self) -> AppResult<Vec<SubjectRequest>> {
        Ok(self.catalog.subject_requests().await?)
    }

    /// A request and its history.
    pub async fn subject_request(&self, id: i64) -> AppResult<(SubjectRequest, Vec<RequestLogLine>)> {
        let r = self.catalog.subject_request(id).await?.ok_or_else(|| not_found(id))?;
        Ok((r, self.catalog.subject_request_log(id).await?))
    }

    /// Extends an open request to 90 days after receipt, once, for a reason.
    pub async fn extend_subject_request(&self, id: i64, reason: &str, actor: &str) -> AppResult<SubjectRequest> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(AppError::MissingParam("reason"));
        }
        let (mut r, _) = self.subject_request(id).await?;
        if r.status != "open" {
            return Err(AppError::Conflict(format!("Request {id} is {}", r.status)));
        }
        if r.extension_reason.is_some() {
            return Err(AppError::Conflict(format!("Request {id} was extended already")));
        }
        r.due_at = r.received_at + EXTENDED_DUE_SECS;
        r.extension_reason = Some(reason.to_owned());
        let note = format!("extended to {}: {reason}", nimbus_core::timefmt::iso8601(r.due_at));
        self.catalog.update_subject_request(&r, &RequestLogLine { at: self.now(), actor: actor.into(), note }).await?;
        Ok(r)
    }

    /// Closes an open request as answered, or as refused, with a note for the record.
    pub async fn close_subject_request(
        &self,
        id: i64,
        refused: bool,
        note: &str,
        actor: &str,
    ) -> AppResult<SubjectRequest> {
        let note = note.trim();
        if note.is_empty() {
            return Err(AppError::MissingParam("note"));
        }
        let (mut r, _) = self.subject_request(id).await?;
        if r.status != "open" {
            return Err(AppError::Conflict(format!("Request {id} is {}", r.status)));
        }
        let now = self.now();
        r.status = if refused { "refused" } else { "done" }.into();
        r.closed_at = Some(now);
        let line = RequestLogLine { at: now, actor: actor.into(), note: format!("{}: {note}", r.status) };
        self.catalog.update_subject_request(&r, &line).await?;
        Ok(r)
    }

    /// What the catalog holds about a request's subject: the account with its address, its
    /// other requests, and the assets a removal request names. Client addresses are not
    /// searched: Nimbus stores none.
    pub async fn find_subject(&self, id: i64) -> AppResult<Findings> {
        let (r, _) = self.subject_request(id).await?;
        let mut f = Findings {
            cautions: vec![
                "An address proves little about who a person is: answer only requests whose address is verified.",
                "Client IP addresses cannot be searched: Nimbus stores none (delivery counts keep salted daily hashes, deleted after two days).",
            ],
            ..Findings::default()
        };
        if let Some(user) = self.catalog.user_by_email(&r.email).await? {
            f.account = Some((user.id, self.catalog.subject_rows(user.id).await?));
        }
        f.requests = self
            .catalog
            .subject_requests()
            .await?
            .into_iter()
            .filter(|q| q.email == r.email && q.id != id)
            .map(|q| q.id)
            .collect();
        if let (Some(cloud), Some(public_id)) = (&r.cloud, &r.public_id) {
            if let Some(env) = self.catalog.env_by_cloud(cloud).await? {
                let q =
                    crate::ports::ListQuery { public_ids: vec![public_id.clone()], limit: 100, ..Default::default() };
                for a in self.catalog.list_assets(env.id, &q).await?.assets {
                    f.assets.push((cloud.clone(), a.resource_type.to_string(), a.delivery_type.to_string()));
                }
            }
        }
        Ok(f)
    }

    /// Answers an access request: the account holder with the request's (verified) address
    /// gets the archive of their data by mail, as from their own privacy centre. Refused
    /// before the address is verified. Returns the archive's id, or `None` when the address
    /// has no account (the findings are then the answer).
    pub async fn export_for_request(&self, id: i64, actor: &str) -> AppResult<Option<i64>> {
        let (r, _) = self.subject_request(id).await?;
        if r.verified_at.is_none() {
            return Err(AppError::RequestNotVerified(id));
        }
        let Some(user) = self.catalog.user_by_email(&r.email).await? else { return Ok(None) };
        let export = self.start_export(user.id).await?;
        let line = RequestLogLine {
            at: self.now(),
            actor: actor.into(),
            note: format!("archive {} of the account's data mailed to the verified address", export.id),
        };
        self.catalog.update_subject_request(&r, &line).await?;
        Ok(Some(export.id))
    }

    /// Deletes the requests closed more than three years ago.
    pub async fn prune_subject_requests(&self) -> AppResult<u64> {
        let keep = i64::from(nimbus_core::privacy::REQUEST_RETENTION_DAYS) * 86_400;
        Ok(self.catalog.prune_subject_requests(self.now() - keep).await?)
    }
}

fn not_found(id: i64) -> AppError {
    AppError::ResourceNotFound(format!("request {id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_asset_urls() {
        assert_eq!(normalize_email(" Ana@Example.ORG ").unwrap(), "ana@example.org");
        for bad in ["", "ana", "@example.org", "ana@example", "a na@example.org", "ana@.org"] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
        assert_eq!(
            asset_of("https://media.example.com/demo/image/upload/c_fill,w_80/v12/team/ana.jpg?x=1").unwrap(),
            ("demo".to_owned(), "team/ana".to_owned())
        );
        assert_eq!(asset_of("/demo/image/upload/ana.jpg").unwrap(), ("demo".to_owned(), "ana".to_owned()));
        assert!(asset_of("https://example.com/").is_err());
    }
}

/// Who in the console answers which requests: owners of any product environment answer the
/// requests that name none (they run the installation); owners and admins of an environment
/// answer the removal requests about its content. The role acts, in a request's history.
fn desk_role(who: &crate::accounts::SignedIn, r: &SubjectRequest) -> Option<&'static str> {
    use nimbus_core::accounts::Role;
    match &r.cloud {
        None => who.memberships.iter().any(|m| m.role == Role::Owner).then_some("owner"),
        Some(cloud) => who.memberships.iter().find(|m| &m.cloud_name == cloud).and_then(|m| match m.role {
            Role::Owner => Some("owner"),
            Role::Admin => Some("admin"),
            _ => None,
        }),
    }
}

impl App {
    /// Whether the person answers requests at all (the console shows the desk to them).
    pub fn answers_requests(who: &crate::accounts::SignedIn) -> bool {
        use nimbus_core::accounts::Role;
        who.memberships.iter().any(|m| matches!(m.role, Role::Owner | Role::Admin))
    }

    /// The requests the person answers (see [`desk_role`]).
    pub async fn subject_requests_as(&self, who: &crate::accounts::SignedIn) -> AppResult<Vec<SubjectRequest>> {
        Ok(self.subject_requests().await?.into_iter().filter(|r| desk_role(who, r).is_some()).collect())
    }

    /// A request the person answers, with its history and the role they act in; any other is
    /// as good as absent.
    pub async fn subject_request_as(
        &self,
        who: &crate::accounts::SignedIn,
        id: i64,
    ) -> AppResult<(SubjectRequest, Vec<RequestLogLine>, &'static str)> {
        let (r, log) = self.subject_request(id).await?;
        let role = desk_role(who, &r).ok_or_else(|| not_found(id))?;
        Ok((r, log, role))
    }

    /// Extends, closes or answers with an archive, as the person's role.
    pub async fn answer_request_as(
        &self,
        who: &crate::accounts::SignedIn,
        id: i64,
        answer: DeskAnswer<'_>,
    ) -> AppResult<()> {
        let (_, _, role) = self.subject_request_as(who, id).await?;
        match answer {
            DeskAnswer::Extend { reason } => self.extend_subject_request(id, reason, role).await.map(drop),
            DeskAnswer::Close { refused, note } => self.close_subject_request(id, refused, note, role).await.map(drop),
            DeskAnswer::Export => self.export_for_request(id, role).await.map(drop),
        }
    }
}

/// What the console's desk does to a request.
#[derive(Debug, Clone, Copy)]
pub enum DeskAnswer<'a> {
    Extend { reason: &'a str },
    Close { refused: bool, note: &'a str },
    Export,
}
