//! Erasure of console users and the sweep for what is left of a person (the privacy work's
//! catalog side). The erasure is one transaction; afterwards the freed bytes are made to
//! leave the database files, not only the visible rows.

use async_trait::async_trait;
use nimbus_app::ports::{
    CatalogResult, DataExport, LegalRequest, Policy, PrivacyRepo, SubjectData, SweepHit, UploadRow,
};
use nimbus_core::erasure::LedgerEntry;
use nimbus_core::privacy::{REGISTRY, SubjectKey};
use sqlx::Row as _;

use crate::{Dialect, SqlCatalog, db_err};

/// Tables whose rows name a person by actor label (`user:<id>`), rewritten to the pseudonym.
const ACTOR_TABLES: [&str; 2] = ["events", "asset_versions"];
/// Rounds of 100 ms an erasure waits for older snapshots to end before PostgreSQL rewrites
/// the account tables.
const SCRUB_WAIT_ROUNDS: usize = 300;
/// The account tables PostgreSQL rewrites after an erasure, so no dead copy of a row stays.
const ACCOUNT_TABLES: &str = "users, user_roles, sessions, account_links, recovery_codes";

const POLICY_COLUMNS: &str = "id, kind, version, text_md, changelog_md, change_class, published_at, effective_at";

fn policy(r: &sqlx::any::AnyRow) -> CatalogResult<Policy> {
    Ok(Policy {
        id: r.try_get("id").map_err(db_err)?,
        kind: r.try_get("kind").map_err(db_err)?,
        version: r.try_get("version").map_err(db_err)?,
        text_md: r.try_get("text_md").map_err(db_err)?,
        changelog_md: r.try_get("changelog_md").map_err(db_err)?,
        change_class: r.try_get("change_class").map_err(db_err)?,
        published_at: r.try_get("published_at").map_err(db_err)?,
        effective_at: r.try_get("effective_at").map_err(db_err)?,
    })
}

const EXPORT_COLUMNS: &str = "id, user_id, requested_at, ready_at, bytes, expires_at";

fn data_export(r: &sqlx::any::AnyRow) -> CatalogResult<DataExport> {
    Ok(DataExport {
        id: r.try_get("id").map_err(db_err)?,
        user_id: r.try_get("user_id").map_err(db_err)?,
        requested_at: r.try_get("requested_at").map_err(db_err)?,
        ready_at: r.try_get("ready_at").map_err(db_err)?,
        bytes: r.try_get("bytes").map_err(db_err)?,
        expires_at: r.try_get("expires_at").map_err(db_err)?,
    })
}

/// A subject's key in a count.
enum Value<'a> {
    Id(i64),
    Label(&'a str),
}

fn insert_entry(entry: &LedgerEntry) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
    sqlx::query(
        "INSERT INTO erasure_ledger (subject_hash, email_hash, erased_at) VALUES ($1, $2, $3) \
         ON CONFLICT (subject_hash) DO NOTHING",
    )
    .bind(&entry.subject_hash)
    .bind(&entry.email_hash)
    .bind(entry.erased_at)
}

/// A person's choice kept as "since when" on their row, each change a consent event.
#[derive(Clone, Copy)]
enum ConsentFlag {
    ShareOptOut,
    ProductNews,
}

impl ConsentFlag {
    fn column(self) -> &'static str {
        match self {
            Self::ShareOptOut => "share_opt_out_at",
            Self::ProductNews => "product_news_at",
        }
    }
}

impl SqlCatalog {
    /// Sets (`on`) or clears a consent flag and records the change as a consent event of kind
    /// `source` (`objects`: whether the person now objects); false when it was already so.
    async fn set_consent(
        &self,
        flag: ConsentFlag,
        user_id: i64,
        on: bool,
        objects: bool,
        source: &str,
        now: i64,
    ) -> CatalogResult<bool> {
        let column = flag.column();
        let mut w = self.quiet_tx().await?;
        let q = if on {
            let sql = format!("UPDATE users SET {column} = $1 WHERE id = $2 AND {column} IS NULL");
            sqlx::query(&sql).bind(now).bind(user_id).execute(&mut *w.tx).await
        } else {
            let sql = format!("UPDATE users SET {column} = NULL WHERE id = $1 AND {column} IS NOT NULL");
            sqlx::query(&sql).bind(user_id).execute(&mut *w.tx).await
        };
        let changed = q.map_err(db_err)?.rows_affected() > 0;
        if changed {
            sqlx::query("INSERT INTO consent_events (user_id, kind, objects, created_at) VALUES ($1, $2, $3, $4)")
                .bind(user_id)
                .bind(source)
                .bind(i64::from(objects))
                .bind(now)
                .execute(&mut *w.tx)
                .await
                .map_err(db_err)?;
        }
        w.commit().await?;
        Ok(changed)
    }
}

#[async_trait]
impl PrivacyRepo for SqlCatalog {
    async fn set_deletion_due(&self, user_id: i64, due_at: Option<i64>) -> CatalogResult<bool> {
        let mut w = self.quiet_tx().await?;
        let changed = sqlx::query("UPDATE users SET deletion_due_at = $1 WHERE id = $2")
            .bind(due_at)
            .bind(user_id)
            .execute(&mut *w.tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if due_at.is_some() {
            for table in ["sessions", "account_links"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE user_id = $1"))
                    .bind(user_id)
                    .execute(&mut *w.tx)
                    .await
                    .map_err(db_err)?;
            }
        }
        w.commit().await?;
        Ok(changed > 0)
    }

    async fn due_deletions(&self, now: i64) -> CatalogResult<Vec<i64>> {
        sqlx::query_scalar("SELECT id FROM users WHERE deletion_due_at <= $1 ORDER BY id")
            .bind(now)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn erase_user(&self, user_id: i64, pseudonym: &str, entry: &LedgerEntry) -> CatalogResult<()> {
        let label = format!("user:{user_id}");
        let mut w = self.write_tx().await?;
        if self.dialect == Dialect::Sqlite {
            // Freed pages are overwritten too, not only freed space inside live pages (every
            // connection has the latter on).
            sqlx::query("PRAGMA secure_delete = ON").execute(&mut *w.tx).await.map_err(db_err)?;
        }
        for table in ACTOR_TABLES {
            sqlx::query(&format!("UPDATE {table} SET actor = $1 WHERE actor = $2"))
                .bind(pseudonym)
                .bind(&label)
                .execute(&mut *w.tx)
                .await
                .map_err(db_err)?;
        }
        sqlx::query("DELETE FROM users WHERE id = $1").bind(user_id).execute(&mut *w.tx).await.map_err(db_err)?;
        insert_entry(entry).execute(&mut *w.tx).await.map_err(db_err)?;
        if self.dialect == Dialect::Sqlite {
            sqlx::query("PRAGMA secure_delete = FAST").execute(&mut *w.tx).await.map_err(db_err)?;
        }
        w.commit().await?;
        self.scrub_files().await
    }

    async fn add_to_ledger(&self, entry: &LedgerEntry) -> CatalogResult<()> {
        let _w = self.sqlite_writer().await;
        insert_entry(entry).execute(&self.pool).await.map_err(db_err)?;
        Ok(())
    }

    async fn subject_rows(&self, user_id: i64) -> CatalogResult<Vec<(String, i64)>> {
        let label = format!("user:{user_id}");
        let mut out: Vec<(String, i64)> = Vec::new();
        for c in REGISTRY {
            if out.iter().any(|(t, _)| t == c.table) {
                continue;
            }
            let rows = match c.subject {
                SubjectKey::UserId if c.table == "users" => self.count_rows(c.table, "id", Value::Id(user_id)).await?,
                SubjectKey::UserId => self.count_rows(c.table, "user_id", Value::Id(user_id)).await?,
                SubjectKey::ActorLabel => self.count_rows(c.table, "actor", Value::Label(&label)).await?,
                // Requests of the desk are found by address, not by account.
                SubjectKey::PublicId | SubjectKey::Unlinkable | SubjectKey::Email => continue,
            };
            if rows > 0 {
                out.push((c.table.to_owned(), rows));
            }
        }
        Ok(out)
    }

    async fn subject_data(&self, user_id: i64) -> CatalogResult<SubjectData> {
        let label = format!("user:{user_id}");
        let sessions = sqlx::query(
            "SELECT token_hash, created_at, last_seen_at FROM sessions WHERE user_id = $1 ORDER BY created_at",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| {
            let hash: String = r.try_get("token_hash").map_err(db_err)?;
            Ok((
                hash.chars().take(5).collect(),
                r.try_get("created_at").map_err(db_err)?,
                r.try_get("last_seen_at").map_err(db_err)?,
            ))
        })
        .collect::<CatalogResult<Vec<_>>>()?;
        let events = sqlx::query(
            "SELECT e.id, e.kind, v.cloud_name, e.created_at FROM events e JOIN environments v ON v.id = e.env_id \
             WHERE e.actor = $1 ORDER BY e.id",
        )
        .bind(&label)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("id").map_err(db_err)?,
                r.try_get("kind").map_err(db_err)?,
                r.try_get("cloud_name").map_err(db_err)?,
                r.try_get("created_at").map_err(db_err)?,
            ))
        })
        .collect::<CatalogResult<Vec<_>>>()?;
        let uploads = sqlx::query(
            "SELECT v.cloud_name, a.resource_type, a.public_id, x.version, x.format, x.bytes, x.created_at \
             FROM asset_versions x JOIN assets a ON a.id = x.asset_pk JOIN environments v ON v.id = a.env_id \
             WHERE x.actor = $1 ORDER BY x.created_at, a.public_id",
        )
        .bind(&label)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| {
            Ok(UploadRow {
                cloud: r.try_get("cloud_name").map_err(db_err)?,
                resource_type: r.try_get("resource_type").map_err(db_err)?,
                public_id: r.try_get("public_id").map_err(db_err)?,
                version: r.try_get("version").map_err(db_err)?,
                format: r.try_get("format").map_err(db_err)?,
                bytes: r.try_get("bytes").map_err(db_err)?,
                created_at: r.try_get("created_at").map_err(db_err)?,
            })
        })
        .collect::<CatalogResult<Vec<_>>>()?;
        let consents =
            sqlx::query("SELECT kind, objects, created_at FROM consent_events WHERE user_id = $1 ORDER BY id")
                .bind(user_id)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?
                .iter()
                .map(|r| {
                    let objects: i64 = r.try_get("objects").map_err(db_err)?;
                    Ok((r.try_get("kind").map_err(db_err)?, objects != 0, r.try_get("created_at").map_err(db_err)?))
                })
                .collect::<CatalogResult<Vec<_>>>()?;
        Ok(SubjectData { sessions, events, uploads, exports: self.exports_of(user_id).await?, consents })
    }

    async fn policies(&self, kind: &str) -> CatalogResult<Vec<Policy>> {
        sqlx::query(&format!("SELECT {POLICY_COLUMNS} FROM policies WHERE kind = $1 ORDER BY version DESC"))
            .bind(kind)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(policy)
            .collect()
    }

    async fn insert_policy(&self, p: &Policy, latest_version: i64) -> CatalogResult<Option<Policy>> {
        let mut w = self.quiet_tx().await?;
        let latest: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM policies WHERE kind = $1")
            .bind(&p.kind)
            .fetch_one(&mut *w.tx)
            .await
            .map_err(db_err)?;
        if latest.unwrap_or(0) != latest_version {
            w.rollback().await?;
            return Ok(None);
        }
        let row = sqlx::query(&format!(
            "INSERT INTO policies (kind, version, text_md, changelog_md, change_class, published_at, effective_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {POLICY_COLUMNS}"
        ))
        .bind(&p.kind)
        .bind(latest_version + 1)
        .bind(&p.text_md)
        .bind(&p.changelog_md)
        .bind(&p.change_class)
        .bind(p.published_at)
        .bind(p.effective_at)
        .fetch_one(&mut *w.tx)
        .await
        .map_err(db_err)?;
        let stored = policy(&row)?;
        w.commit().await?;
        Ok(Some(stored))
    }

    async fn accept_policies(&self, user_id: i64, now: i64) -> CatalogResult<u64> {
        let _w = self.sqlite_writer().await;
        Ok(sqlx::query(
            "INSERT INTO policy_acceptances (user_id, policy_id, accepted_at) \
             SELECT CAST($1 AS BIGINT), p.id, CAST($2 AS BIGINT) FROM policies p WHERE p.effective_at = \
               (SELECT MAX(q.effective_at) FROM policies q WHERE q.kind = p.kind AND q.effective_at <= $2) \
             ON CONFLICT (user_id, policy_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db_err)?
        .rows_affected())
    }

    async fn create_email_change(
        &self,
        token_hash: &str,
        user_id: i64,
        new_email: &str,
        now: i64,
        expires_at: i64,
    ) -> CatalogResult<()> {
        let mut w = self.quiet_tx().await?;
        sqlx::query("DELETE FROM email_changes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *w.tx)
            .await
            .map_err(db_err)?;
        sqlx::query(
            "INSERT INTO email_changes (token_hash, user_id, new_email, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(new_email)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *w.tx)
        .await
        .map_err(db_err)?;
        w.commit().await
    }

    async fn take_email_change(&self, token_hash: &str, now: i64) -> CatalogResult<Option<(i64, String)>> {
        let _w = self.sqlite_writer().await;
        let row = sqlx::query(
            "DELETE FROM email_changes WHERE token_hash = $1 AND expires_at > $2 RETURNING user_id, new_email",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.map(|r| Ok((r.try_get("user_id").map_err(db_err)?, r.try_get("new_email").map_err(db_err)?))).transpose()
    }

    async fn set_email(&self, user_id: i64, email: &str) -> CatalogResult<bool> {
        let _w = self.sqlite_writer().await;
        let taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = $1 AND id <> $2")
            .bind(email)
            .bind(user_id)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        if taken > 0 {
            return Ok(false);
        }
        sqlx::query("UPDATE users SET email = $1 WHERE id = $2")
            .bind(email)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(true)
    }

    async fn set_inactivity_notice(&self, user_id: i64, days: i64) -> CatalogResult<()> {
        let _w = self.sqlite_writer().await;
        sqlx::query("UPDATE users SET inactivity_notice_days = $1 WHERE id = $2")
            .bind(days)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn set_share_opt_out(&self, user_id: i64, objects: bool, source: &str, now: i64) -> CatalogResult<bool> {
        self.set_consent(ConsentFlag::ShareOptOut, user_id, objects, objects, source, now).await
    }

    async fn create_legal_request(&self, r: &LegalRequest, subjects: &[i64]) -> CatalogResult<i64> {
        let mut w = self.quiet_tx().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO legal_requests (authority, authority_kind, legal_basis, categories, received_at, disclosed_at, \
             attachment_sha256, notify_after, never_reason, review_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(r.authority.as_str())
        .bind(r.authority_kind.as_str())
        .bind(r.legal_basis.as_str())
        .bind(r.categories.join(","))
        .bind(r.received_at)
        .bind(r.disclosed_at)
        .bind(r.attachment_sha256.as_deref())
        .bind(r.notify_after)
        .bind(r.never_reason.as_deref())
        .bind(r.review_at)
        .bind(r.created_at)
        .fetch_one(&mut *w.tx)
        .await
        .map_err(db_err)?;
        for user_id in subjects {
            sqlx::query(
                "INSERT INTO legal_request_subjects (request_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(*user_id)
            .execute(&mut *w.tx)
            .await
            .map_err(db_err)?;
        }
        w.commit().await?;
        Ok(id)
    }

    async fn legal_requests(&self) -> CatalogResult<Vec<(LegalRequest, Vec<(i64, Option<i64>)>)>> {
        let rows = sqlx::query(
            "SELECT id, authority, authority_kind, legal_basis, categories, received_at, disclosed_at, \
             attachment_sha256, notify_after, never_reason, review_at, created_at FROM legal_requests ORDER BY id DESC",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let subjects: Vec<(i64, i64, Option<i64>)> =
            sqlx::query_as("SELECT request_id, user_id, notified_at FROM legal_request_subjects ORDER BY user_id")
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let categories: String = r.try_get("categories").map_err(db_err)?;
                let req = LegalRequest {
                    id: r.try_get("id").map_err(db_err)?,
                    authority: r.try_get("authority").map_err(db_err)?,
                    authority_kind: r.try_get("authority_kind").map_err(db_err)?,
                    legal_basis: r.try_get("legal_basis").map_err(db_err)?,
                    categories: categories.split(',').filter(|c| !c.is_empty()).map(str::to_owned).collect(),
                    received_at: r.try_get("received_at").map_err(db_err)?,
                    disclosed_at: r.try_get("disclosed_at").map_err(db_err)?,
                    attachment_sha256: r.try_get("attachment_sha256").map_err(db_err)?,
                    notify_after: r.try_get("notify_after").map_err(db_err)?,
                    never_reason: r.try_get("never_reason").map_err(db_err)?,
                    review_at: r.try_get("review_at").map_err(db_err)?,
                    created_at: r.try_get("created_at").map_err(db_err)?,
                };
                let people = subjects.iter().filter(|(id, _, _)| *id == req.id).map(|(_, u, n)| (*u, *n)).collect();
                Ok((req, people))
            })
            .collect()
    }

    async fn set_legal_disclosed(&self, id: i64, at: i64) -> CatalogResult<bool> {
        let _w = self.sqlite_writer().await;
        let q = sqlx::query("UPDATE legal_requests SET disclosed_at = $1 WHERE id = $2").bind(at).bind(id);
        Ok(q.execute(&self.pool).await.map_err(db_err)?.rows_affected() > 0)
    }

    async fn set_legal_review(&self, id: i64, at: i64) -> CatalogResult<bool> {
        let _w = self.sqlite_writer().await;
        let q = sqlx::query("UPDATE legal_requests SET review_at = $1 WHERE id = $2 AND notify_after IS NULL")
            .bind(at)
            .bind(id);
        Ok(q.execute(&self.pool).await.map_err(db_err)?.rows_affected() > 0)
    }

    async fn mark_legal_notified(&self, id: i64, user_id: i64, now: i64) -> CatalogResult<bool> {
        let _w = self.sqlite_writer().await;
        let q = sqlx::query(
            "UPDATE legal_request_subjects SET notified_at = $1 \
             WHERE request_id = $2 AND user_id = $3 AND notified_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .bind(user_id);
        Ok(q.execute(&self.pool).await.map_err(db_err)?.rows_affected() > 0)
    }

    async fn set_product_news(&self, user_id: i64, on: bool, source: &str, now: i64) -> CatalogResult<bool> {
        self.set_consent(ConsentFlag::ProductNews, user_id, on, !on, source, now).await
    }

    async fn create_export(&self, user_id: i64, now: i64, expires_at: i64) -> CatalogResult<i64> {
        let _w = self.sqlite_writer().await;
        sqlx::query_scalar(
            "INSERT INTO data_exports (user_id, requested_at, expires_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)
    }

    async fn export_ready(&self, id: i64, bytes: i64, now: i64) -> CatalogResult<()> {
        let _w = self.sqlite_writer().await;
        sqlx::query("UPDATE data_exports SET ready_at = $1, bytes = $2 WHERE id = $3")
            .bind(now)
            .bind(bytes)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn data_export(&self, id: i64) -> CatalogResult<Option<DataExport>> {
        let row = sqlx::query(&format!("SELECT {EXPORT_COLUMNS} FROM data_exports WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(data_export).transpose()
    }

    async fn exports_of(&self, user_id: i64) -> CatalogResult<Vec<DataExport>> {
        sqlx::query(&format!(
            "SELECT {EXPORT_COLUMNS} FROM data_exports WHERE user_id = $1 ORDER BY requested_at DESC, id DESC"
        ))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(data_export)
        .collect()
    }

    async fn expired_exports(&self, now: i64) -> CatalogResult<Vec<DataExport>> {
        sqlx::query(&format!("SELECT {EXPORT_COLUMNS} FROM data_exports WHERE expires_at <= $1 ORDER BY id"))
            .bind(now)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(data_export)
            .collect()
    }

    async fn delete_export(&self, id: i64) -> CatalogResult<()> {
        let _w = self.sqlite_writer().await;
        sqlx::query("DELETE FROM data_exports WHERE id = $1").bind(id).execute(&self.pool).await.map_err(db_err)?;
        Ok(())
    }

    async fn ledger(&self) -> CatalogResult<Vec<LedgerEntry>> {
        let rows = sqlx::query("SELECT subject_hash, email_hash, erased_at FROM erasure_ledger ORDER BY erased_at")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(LedgerEntry {
                    subject_hash: r.try_get("subject_hash").map_err(db_err)?,
                    email_hash: r.try_get("email_hash").map_err(db_err)?,
                    erased_at: r.try_get("erased_at").map_err(db_err)?,
                })
            })
            .collect()
    }

    async fn sweep(&self, needle: &str) -> CatalogResult<Vec<SweepHit>> {
        let needle = needle.to_lowercase();
        let mut hits = Vec::new();
        for (table, column, binary) in self.text_columns().await? {
            let probe = match (self.dialect, binary) {
                (Dialect::Sqlite, _) => format!(
                    "instr(lower(CAST(\"{column}\" AS TEXT)), $1) > 0 OR instr(CAST(\"{column}\" AS BLOB), CAST($1 AS BLOB)) > 0"
                ),
                (Dialect::Postgres, true) => format!("position(convert_to($1, 'UTF8') in \"{column}\") > 0"),
                (Dialect::Postgres, false) => format!("strpos(lower(CAST(\"{column}\" AS TEXT)), $1) > 0"),
            };
            let rows: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM \"{table}\" WHERE {probe}"))
                .bind(&needle)
                .fetch_one(&self.pool)
                .await
                .map_err(db_err)?;
            if rows > 0 {
                hits.push(SweepHit { table, column, rows });
            }
        }
        if self.dialect == Dialect::Postgres {
            // The planner's statistics keep sample values of columns (most common values,
            // histogram bounds).
            let rows: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM pg_stats WHERE schemaname = current_schema() AND \
                 strpos(lower(concat(CAST(most_common_vals AS TEXT), CAST(histogram_bounds AS TEXT))), $1) > 0",
            )
            .bind(&needle)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
            if rows > 0 {
                hits.push(SweepHit {
                    table: "pg_stats".into(),
                    column: "most_common_vals, histogram_bounds".into(),
                    rows,
                });
            }
        }
        Ok(hits)
    }
}

impl SqlCatalog {
    async fn count_rows(&self, table: &str, column: &str, value: Value<'_>) -> CatalogResult<i64> {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1");
        let q = sqlx::query_scalar(&sql);
        let q = match value {
            Value::Id(id) => q.bind(id),
            Value::Label(l) => q.bind(l),
        };
        q.fetch_one(&self.pool).await.map_err(db_err)
    }

    /// Every column that can hold text or bytes: table, column, and whether it is binary.
    async fn text_columns(&self) -> CatalogResult<Vec<(String, String, bool)>> {
        let mut out = Vec::new();
        match self.dialect {
            Dialect::Sqlite => {
                // The statistics tables (sample keys of indexes) are swept too.
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'sqlite_sequence' ORDER BY name",
                )
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                for t in tables {
                    let rows = sqlx::query("SELECT name, type FROM pragma_table_info($1)")
                        .bind(&t)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(db_err)?;
                    for r in rows {
                        let name: String = r.try_get("name").map_err(db_err)?;
                        let ty: String = r.try_get("type").map_err(db_err)?;
                        let ty = ty.to_uppercase();
                        if !(ty.contains("INT") || ty.contains("REAL") || ty.contains("BOOL")) {
                            out.push((t.clone(), name, ty.contains("BLOB")));
                        }
                    }
                }
            }
            Dialect::Postgres => {
                let rows = sqlx::query(
                    "SELECT CAST(table_name AS TEXT) AS table_name, CAST(column_name AS TEXT) AS column_name, \
                     CAST(data_type AS TEXT) AS data_type FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND data_type IN \
                     ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea', 'ARRAY', 'tsvector') \
                     ORDER BY table_name, column_name",
                )
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
                for r in rows {
                    let ty: String = r.try_get("data_type").map_err(db_err)?;
                    out.push((
                        r.try_get("table_name").map_err(db_err)?,
                        r.try_get("column_name").map_err(db_err)?,
                        ty == "bytea",
                    ));
                }
            }
        }
        Ok(out)
    }

    /// After an erasure: no copy of the erased rows stays in the database's files. SQLite
    /// moves the write-ahead log into the database and truncates it (the log holds earlier
    /// images of the pages) and refreshes the statistics of the account tables; PostgreSQL
    /// rewrites the account tables (dead row versions would stay until reused) and their
    /// statistics.
    async fn scrub_files(&self) -> CatalogResult<()> {
        match self.dialect {
            Dialect::Sqlite => {
                let _w = self.sqlite_writer().await;
                sqlx::query("ANALYZE users").execute(&self.pool).await.map_err(db_err)?;
                // Readers of an older snapshot make the truncation wait; a busy answer is
                // tried again for a while.
                for _ in 0..50 {
                    let row =
                        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(&self.pool).await.map_err(db_err)?;
                    let busy: i64 = row.try_get(0).map_err(db_err)?;
                    if busy == 0 {
                        return Ok(());
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(nimbus_app::ports::CatalogError(
                    "the write-ahead log could not be truncated after an erasure".into(),
                ))
            }
            Dialect::Postgres => {
                // A rewrite copies the row versions some snapshot taken before the erasure can
                // still see (they are not dead to it yet): wait, a while, until no session of
                // the server holds such a snapshot or transaction, then rewrite. A snapshot that outlasts the wait fails the scrub, which the purge
                // job tries again.
                let mut conn = self.pool.acquire().await.map_err(db_err)?;
                let after: i64 = sqlx::query_scalar("SELECT (pg_current_xact_id()::TEXT)::BIGINT")
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db_err)?;
                let mut clear = false;
                for _ in 0..SCRUB_WAIT_ROUNDS {
                    let older: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() \
                         AND (age(backend_xmin) > age((($1 % 4294967296)::TEXT)::xid) \
                              OR age(backend_xid) > age((($1 % 4294967296)::TEXT)::xid))",
                    )
                    .bind(after)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(db_err)?;
                    if older == 0 {
                        clear = true;
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                sqlx::query(&format!("VACUUM (FULL, ANALYZE) {ACCOUNT_TABLES}"))
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
                if clear {
                    Ok(())
                } else {
                    Err(nimbus_app::ports::CatalogError(
                        "a transaction older than an erasure stayed open; the erased rows' files are rewritten again later"
                            .into(),
                    ))
                }
            }
        }
    }
}
