//! The personal-data registry: every catalog column that holds personal data, with what it
//! is, whose it is, how long it is kept, and what export, expiry and erasure do with it. The
//! export, erasure and retention work walks this list, the privacy page is written from it,
//! and a test fails when the schema has a column that looks personal (by name, or marked
//! `-- pii` in its migration) and is neither here nor in [`NOT_PERSONAL`].
//!
//! Pure data: the adapters act on it.

/// What kind of personal data a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// Who a console user is and how they sign in.
    Account,
    /// Signed-in sessions.
    Session,
    /// Who did what, in the outbox and the job list.
    Event,
    /// Who uploaded which version of an asset.
    Audit,
    /// The person's choices about their data (objection to sharing) and where each came from.
    Consent,
    /// What an uploaded asset says about the people in it (names in file names, context and
    /// metadata values): the customer's content.
    AssetMeta,
    /// Visits to delivered files, counted without cookies or stored addresses.
    Analytics,
    /// Requests from authorities that concern the person (told by notice when the law allows).
    Legal,
    /// Requests the person made about their data through the request desk.
    Request,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Account => "account",
            Self::Session => "session",
            Self::Event => "event",
            Self::Audit => "audit",
            Self::Consent => "consent",
            Self::AssetMeta => "asset_meta",
            Self::Analytics => "analytics",
            Self::Legal => "legal",
            Self::Request => "request",
        }
    }
}

/// How a row is tied to the person it is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectKey {
    /// The `users.id` of a console user (in a `user_id` column, or the row's own `id`).
    UserId,
    /// An actor label naming a user, `user:<id>`.
    ActorLabel,
    /// The person is found by what the customer's content says: by public id, through the
    /// removal requests of people shown in uploads.
    PublicId,
    /// Nobody: a hash made with a salt that is deleted within two days, and never with
    /// anything that names a person.
    Unlinkable,
    /// The e-mail address the person gave (request-desk requests, which need no account).
    Email,
}

/// How long a column is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    /// As long as the account exists.
    WhileAccountExists,
    /// This many days after the row's time column.
    Days(u32),
    /// As long as the customer keeps the asset.
    WhileAssetExists,
    /// Until the row's own expiry time (one-time links).
    UntilExpiry,
    /// As long as the operator's setting says (`[privacy] retention_*`); see
    /// [`Retentions::resolve`].
    Configured(Setting),
    /// This many seconds after the row's time column: a [`Configured`](Self::Configured)
    /// period, resolved.
    Secs(i64),
    /// Counts that name nobody, kept as statistics.
    Aggregate,
}

/// The retention periods an operator sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// Console sessions, after their last use.
    Sessions,
    /// Relayed events of the outbox (who changed what).
    Events,
    /// Finished jobs and their attempts.
    Jobs,
    /// Archives of a person's data.
    Exports,
}

impl Setting {
    pub const ALL: [Self; 4] = [Self::Sessions, Self::Events, Self::Jobs, Self::Exports];

    /// Its name in the settings (`retention_<name>`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sessions => "sessions",
            Self::Events => "events",
            Self::Jobs => "jobs",
            Self::Exports => "exports",
        }
    }
}

/// The configured retention periods, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retentions {
    pub sessions_secs: i64,
    pub events_secs: i64,
    pub jobs_secs: i64,
    pub exports_secs: i64,
}

impl Default for Retentions {
    fn default() -> Self {
        let days = |d: u32| i64::from(d) * 86_400;
        Self {
            sessions_secs: days(SESSION_RETENTION_DAYS),
            events_secs: days(EVENT_RETENTION_DAYS),
            jobs_secs: days(JOB_RETENTION_DAYS),
            exports_secs: days(EXPORT_RETENTION_DAYS),
        }
    }
}

impl Retentions {
    pub fn secs(&self, s: Setting) -> i64 {
        match s {
            Setting::Sessions => self.sessions_secs,
            Setting::Events => self.events_secs,
            Setting::Jobs => self.jobs_secs,
            Setting::Exports => self.exports_secs,
        }
    }

    pub fn set(&mut self, s: Setting, secs: i64) {
        match s {
            Setting::Sessions => self.sessions_secs = secs,
            Setting::Events => self.events_secs = secs,
            Setting::Jobs => self.jobs_secs = secs,
            Setting::Exports => self.exports_secs = secs,
        }
    }

    /// A registered retention as this installation applies it: configured periods become
    /// [`Retention::Secs`].
    pub fn resolve(&self, r: Retention) -> Retention {
        match r {
            Retention::Configured(s) => Retention::Secs(self.secs(s)),
            other => other,
        }
    }
}

/// A period in words: whole days, else whole hours, else minutes or seconds.
pub fn period_words(secs: i64) -> String {
    let unit = |n: i64, one: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {one}s") };
    if secs >= 86_400 && secs % 86_400 == 0 {
        unit(secs / 86_400, "day")
    } else if secs >= 3600 && secs % 3600 == 0 {
        unit(secs / 3600, "hour")
    } else if secs >= 60 && secs % 60 == 0 {
        unit(secs / 60, "minute")
    } else {
        unit(secs, "second")
    }
}

/// What the retention engine does when a row's time is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnExpiry {
    Delete,
    NullOut,
    /// Nothing expires on its own (kept while the account or asset exists).
    Keep,
}

/// What the erasure of a person does to a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnErasure {
    /// The row goes.
    Delete,
    /// The reference becomes an opaque pseudonym (`u_<id>` with no way back to the person).
    Pseudonymise,
    /// The customer's content: erased through a removal request for the asset, not with an
    /// account.
    WithAsset,
    /// Kept for its retention period as evidence (a request about one's data and its answer).
    Keep,
}

/// Whether a person's export includes the column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    Include,
    /// Left out, for this reason (secrets are never exported, even to their owner).
    Exclude(&'static str),
}

/// One registered column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonalColumn {
    pub table: &'static str,
    pub column: &'static str,
    pub category: Category,
    pub subject: SubjectKey,
    pub retention: Retention,
    pub on_expiry: OnExpiry,
    pub on_erasure: OnErasure,
    pub export: Export,
    /// Whether other people's data may show in it, to be redacted from an export.
    pub redact_others: bool,
    /// What it is, in plain words (the privacy page shows this).
    pub purpose: &'static str,
}

const fn account(table: &'static str, column: &'static str, export: Export, purpose: &'static str) -> PersonalColumn {
    PersonalColumn {
        table,
        column,
        category: Category::Account,
        subject: SubjectKey::UserId,
        retention: Retention::WhileAccountExists,
        on_expiry: OnExpiry::Keep,
        on_erasure: OnErasure::Delete,
        export,
        redact_others: false,
        purpose,
    }
}

const fn asset_meta(table: &'static str, column: &'static str, purpose: &'static str) -> PersonalColumn {
    PersonalColumn {
        table,
        column,
        category: Category::AssetMeta,
        subject: SubjectKey::PublicId,
        retention: Retention::WhileAssetExists,
        on_expiry: OnExpiry::Keep,
        on_erasure: OnErasure::WithAsset,
        export: Export::Include,
        redact_others: true,
        purpose,
    }
}

const SECRET: Export = Export::Exclude("a secret that signs the person in; never shown again");

/// Days a session row is kept after it was last used (it stops working long before): the
/// default of `[privacy] retention_sessions`.
pub const SESSION_RETENTION_DAYS: u32 = 30;
/// Days the outbox keeps a relayed event, and the job list a finished job: the defaults of
/// `retention_events` and `retention_jobs`.
pub const EVENT_RETENTION_DAYS: u32 = 30;
pub const JOB_RETENTION_DAYS: u32 = 14;
/// Days an archive of a person's data is kept, and the least time between two of them: the
/// default of `retention_exports`.
pub const EXPORT_RETENTION_DAYS: u32 = 7;
/// Days an account whose deletion was asked waits, blocked, before it is erased (the
/// default of `[privacy] deletion_grace`).
pub const DELETION_GRACE_DAYS: u32 = 14;

/// Days a closed request of the request desk is kept, as evidence of how it was answered.
pub const REQUEST_RETENTION_DAYS: u32 = 3 * 365;

/// Days a delivery visitor's hash (and its day's salt) is kept: until the day's count of
/// unique visitors is final.
pub const VISITOR_RETENTION_DAYS: u32 = 2;

/// Every column of the catalog that holds personal data.
pub const REGISTRY: &[PersonalColumn] = &[
    PersonalColumn {
        table: "legal_request_subjects",
        column: "user_id",
        category: Category::Legal,
        subject: SubjectKey::UserId,
        retention: Retention::WhileAccountExists,
        on_expiry: OnExpiry::Keep,
        on_erasure: OnErasure::Delete,
        export: Export::Exclude("the person is told by notice once the law allows, never before"),
        redact_others: false,
        purpose: "That a request from an authority concerned you, and when you were told of it.",
    },
    PersonalColumn {
        table: "delivery_visitors",
        column: "visitor",
        category: Category::Analytics,
        subject: SubjectKey::Unlinkable,
        retention: Retention::Days(VISITOR_RETENTION_DAYS),
        on_expiry: OnExpiry::Delete,
        on_erasure: OnErasure::Delete,
        export: Export::Exclude("it cannot be tied to anyone"),
        redact_others: false,
        purpose: "A visitor of a delivered file on one day, to count unique visitors: a hash of a random salt of the day, the client's address and browser. The address is not stored; the salt and the hashes go after two days, the daily counts stay.",
    },
    PersonalColumn {
        table: "delivery_countries",
        column: "country",
        category: Category::Analytics,
        subject: SubjectKey::Unlinkable,
        retention: Retention::Aggregate,
        on_expiry: OnExpiry::Keep,
        on_erasure: OnErasure::Delete,
        export: Export::Exclude("it cannot be tied to anyone"),
        redact_others: false,
        purpose: "Views of delivered files per country and day, when the operator provides a geo database: the country is looked up from the client's address, which is then forgotten; nothing finer than the country is kept.",
    },
    PersonalColumn {
        table: "subject_requests",
        column: "email",
        category: Category::Request,
        subject: SubjectKey::Email,
        retention: Retention::Days(REQUEST_RETENTION_DAYS),
        on_expiry: OnExpiry::Delete,
        on_erasure: OnErasure::Keep,
        export: Export::Include,
        redact_others: false,
        purpose: "The address a request about your data came from, to verify it and answer; the request is kept three years after it is closed, as evidence of the answer.",
    },
    PersonalColumn {
        table: "subject_requests",
        column: "details",
        category: Category::Request,
        subject: SubjectKey::Email,
        retention: Retention::Days(REQUEST_RETENTION_DAYS),
        on_expiry: OnExpiry::Delete,
        on_erasure: OnErasure::Keep,
        export: Export::Include,
        redact_others: true,
        purpose: "What the request asks, in the requester's words.",
    },
    account("users", "email", Export::Include, "The address a console user signs in with and gets mail at."),
    account("users", "password_hash", SECRET, "The password, hashed with argon2id."),
    account("users", "created_at", Export::Include, "When the account was made."),
    account("users", "last_sign_in_at", Export::Include, "When the person last signed in."),
    account("users", "disabled_at", Export::Include, "When the account was disabled, if it is."),
    account(
        "users",
        "share_opt_out_at",
        Export::Include,
        "Since when you object to the sharing of your data, if you do.",
    ),
    account(
        "users",
        "product_news_at",
        Export::Include,
        "Since when you get product news by mail, if you asked for it (it is off unless you do).",
    ),
    PersonalColumn {
        category: Category::Consent,
        ..account(
            "consent_events",
            "kind",
            Export::Include,
            "Each change of your objection to sharing or of your choice of product news, and how it was made (you, your browser's privacy signal, or an unsubscribe link).",
        )
    },
    PersonalColumn {
        category: Category::Consent,
        ..account(
            "policy_acceptances",
            "accepted_at",
            Export::Include,
            "When you first used Nimbus after each version of the privacy policy or terms took effect.",
        )
    },
    account(
        "users",
        "inactivity_notice_days",
        Export::Include,
        "Which reminder was last sent before an inactive account is deleted (when the operator turned that on).",
    ),
    account("users", "deletion_due_at", Export::Include, "When an account whose deletion was asked is erased."),
    account("users", "failed_sign_ins", Export::Include, "Failed sign-ins in a row, for the lockout."),
    account("users", "locked_until", Export::Include, "Until when sign-in is locked after failures."),
    account("users", "totp_secret", SECRET, "The two-step sign-in secret."),
    account("users", "totp_pending", SECRET, "A two-step sign-in secret being set up."),
    account("users", "totp_last_step", Export::Exclude("bookkeeping of used codes"), "The last two-step code used."),
    account("recovery_codes", "code_hash", SECRET, "Two-step recovery codes, hashed."),
    account("user_roles", "role", Export::Include, "The person's role in each product environment."),
    PersonalColumn {
        retention: Retention::UntilExpiry,
        on_expiry: OnExpiry::Delete,
        ..account(
            "account_links",
            "user_id",
            Export::Exclude("one-time links are secrets"),
            "Invitation and reset links.",
        )
    },
    PersonalColumn {
        retention: Retention::Configured(Setting::Exports),
        on_expiry: OnExpiry::Delete,
        ..account(
            "data_exports",
            "requested_at",
            Export::Include,
            "Archives of your data that you asked for: when, and how big (the archive itself is deleted after 7 days).",
        )
    },
    PersonalColumn {
        retention: Retention::UntilExpiry,
        on_expiry: OnExpiry::Delete,
        ..account(
            "email_changes",
            "new_email",
            Export::Include,
            "A new address you asked for, until you confirm it from the mail sent to it (24 hours at most).",
        )
    },
    PersonalColumn {
        table: "sessions",
        column: "last_seen_at",
        category: Category::Session,
        subject: SubjectKey::UserId,
        retention: Retention::Configured(Setting::Sessions),
        on_expiry: OnExpiry::Delete,
        on_erasure: OnErasure::Delete,
        export: Export::Include,
        redact_others: false,
        purpose: "Signed-in sessions: when each started and was last used (no address, no browser).",
    },
    PersonalColumn {
        table: "events",
        column: "actor",
        category: Category::Event,
        subject: SubjectKey::ActorLabel,
        retention: Retention::Configured(Setting::Events),
        on_expiry: OnExpiry::Delete,
        on_erasure: OnErasure::Pseudonymise,
        export: Export::Include,
        redact_others: false,
        purpose: "Who made each change, until the change has been announced and for 30 days after.",
    },
    PersonalColumn {
        table: "asset_versions",
        column: "actor",
        category: Category::Audit,
        subject: SubjectKey::ActorLabel,
        retention: Retention::WhileAssetExists,
        on_expiry: OnExpiry::Keep,
        on_erasure: OnErasure::Pseudonymise,
        export: Export::Include,
        redact_others: false,
        purpose: "Who uploaded each version of an asset.",
    },
    asset_meta("assets", "original_filename", "The uploaded file's name, which may name a person."),
    asset_meta("assets", "display_name", "The asset's display name, which may name a person."),
    asset_meta("assets", "context", "Context values set by the customer, which may be about a person."),
    asset_meta("assets", "metadata", "Structured metadata values, which may be about a person."),
    asset_meta("asset_tags", "tag", "Tags, which may name a person."),
    asset_meta("search_terms", "term", "The search index: words of the names, tags, context and metadata above."),
    PersonalColumn {
        table: "events",
        column: "payload",
        category: Category::Event,
        subject: SubjectKey::PublicId,
        retention: Retention::Configured(Setting::Events),
        on_expiry: OnExpiry::Delete,
        on_erasure: OnErasure::WithAsset,
        export: Export::Exclude("a copy of the asset's own data, exported with the asset"),
        redact_others: true,
        purpose: "What each change was, with a copy of the asset's descriptive data.",
    },
    PersonalColumn {
        table: "jobs",
        column: "payload",
        category: Category::Event,
        subject: SubjectKey::PublicId,
        retention: Retention::Configured(Setting::Jobs),
        on_expiry: OnExpiry::Delete,
        on_erasure: OnErasure::WithAsset,
        export: Export::Exclude("a copy of the asset's own data, exported with the asset"),
        redact_others: true,
        purpose: "Work still to do or recently done (webhook deliveries carry the asset's data).",
    },
];

/// Columns whose names look personal but are not, and why.
pub const NOT_PERSONAL: &[(&str, &str, &str)] = &[
    ("environments", "cloud_name", "the name of a product environment"),
    ("subject_request_log", "actor", "a role, never a person: requester, operator or system"),
    ("upload_presets", "name", "the name of an upload preset"),
    ("named_transformations", "name", "the name of a transformation"),
    ("folders", "name", "the last segment of a folder path"),
    ("metadata_rules", "name", "the name of a rule"),
    (
        "erasure_ledger",
        "email_hash",
        "a hash of an erased person's address keyed with this installation's secret, kept so that a \
         restored backup erases them again; it cannot be turned back into the address",
    ),
];

/// How logs name a console user: `u_<id>`, never by address or name.
pub fn log_name(user_id: i64) -> String {
    format!("u_{user_id}")
}

/// Whether a column's name suggests personal data: one of its `_`-separated words is a
/// personal word (`email`, `ip`, `name`, ...), or it is about a browser (`user_agent`).
pub fn looks_personal(column: &str) -> bool {
    const WORDS: [&str; 9] = ["email", "ip", "name", "phone", "address", "geo", "country", "bio", "actor"];
    let lower = column.to_ascii_lowercase();
    lower.contains("user_agent") || lower.split('_').any(|w| WORDS.contains(&w))
}

/// The registry entry of a column, if it has one.
pub fn registered(table: &str, column: &str) -> Option<&'static PersonalColumn> {
    REGISTRY.iter().find(|c| c.table == table && c.column == column)
}

/// Whether a column is accounted for: registered, or known not to be personal.
pub fn accounted_for(table: &str, column: &str) -> bool {
    registered(table, column).is_some() || NOT_PERSONAL.iter().any(|(t, c, _)| *t == table && *c == column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_names_are_recognised_by_word() {
        for c in ["email", "ip", "client_ip", "user_agent", "display_name", "name", "country", "actor"] {
            assert!(looks_personal(c), "{c}");
        }
        for c in ["tip", "zip_code", "filename", "original_filename", "description", "created_at", "geometry"] {
            assert!(!looks_personal(c), "{c}");
        }
    }

    #[test]
    fn each_column_is_registered_once() {
        for (i, a) in REGISTRY.iter().enumerate() {
            assert!(
                REGISTRY[i + 1..].iter().all(|b| (a.table, a.column) != (b.table, b.column)),
                "{}.{} twice",
                a.table,
                a.column
            );
        }
    }

    #[test]
    fn secrets_are_never_exported() {
        for c in REGISTRY {
            if c.column.contains("hash") || c.column.contains("secret") || c.column.contains("pending") {
                assert!(matches!(c.export, Export::Exclude(_)), "{}.{}", c.table, c.column);
            }
        }
    }
}
