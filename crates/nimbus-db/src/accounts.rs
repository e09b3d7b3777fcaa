//! Console users, their roles, sessions and one-time links. Every write here is a single
//! statement (on SQLite under the writer lock); tokens are stored by their SHA-256 only.

use async_trait::async_trait;
use nimbus_app::ports::{
    AccountRepo, CatalogError, CatalogResult, Link, LinkPurpose, Membership, SessionRow, TotpColumn, User,
};
use nimbus_core::accounts::Role;
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{SqlCatalog, db_err};

const USER_COLUMNS: &str = "id, email, password_hash, disabled_at, deletion_due_at, share_opt_out_at, product_news_at, \
     inactivity_notice_days, failed_sign_ins, locked_until, created_at, \
     last_sign_in_at, totp_secret, totp_pending, totp_last_step";

/// A `user_roles` row joined to its environment: `(user, membership)`.
fn membership(r: &AnyRow) -> CatalogResult<(i64, Membership)> {
    let role: String = r.try_get("role").map_err(db_err)?;
    Ok((
        r.try_get("user_id").map_err(db_err)?,
        Membership {
            env_id: r.try_get("env_id").map_err(db_err)?,
            cloud_name: r.try_get("cloud_name").map_err(db_err)?,
            // Only `set_role` writes roles, from the enum.
            role: role.parse().map_err(|e: nimbus_core::accounts::AccountError| CatalogError(e.to_string()))?,
        },
    ))
}

fn user(r: &AnyRow) -> CatalogResult<User> {
    Ok(User {
        id: r.try_get("id").map_err(db_err)?,
        email: r.try_get("email").map_err(db_err)?,
        password_hash: r.try_get("password_hash").map_err(db_err)?,
        disabled_at: r.try_get("disabled_at").map_err(db_err)?,
        deletion_due_at: r.try_get("deletion_due_at").map_err(db_err)?,
        share_opt_out_at: r.try_get("share_opt_out_at").map_err(db_err)?,
        product_news_at: r.try_get("product_news_at").map_err(db_err)?,
        inactivity_notice_days: r.try_get("inactivity_notice_days").map_err(db_err)?,
        failed_sign_ins: r.try_get("failed_sign_ins").map_err(db_err)?,
        locked_until: r.try_get("locked_until").map_err(db_err)?,
        created_at: r.try_get("created_at").map_err(db_err)?,
        last_sign_in_at: r.try_get("last_sign_in_at").map_err(db_err)?,
        totp_secret: r.try_get("totp_secret").map_err(db_err)?,
        totp_pending: r.try_get("totp_pending").map_err(db_err)?,
        totp_last_step: r.try_get("totp_last_step").map_err(db_err)?,
    })
}

fn session(r: &AnyRow) -> CatalogResult<SessionRow> {
    Ok(SessionRow {
        token_hash: r.try_get("token_hash").map_err(db_err)?,
        user_id: r.try_get("user_id").map_err(db_err)?,
        csrf: r.try_get("csrf").map_err(db_err)?,
        created_at: r.try_get("created_at").map_err(db_err)?,
        last_seen_at: r.try_get("last_seen_at").map_err(db_err)?,
        remember_until: r.try_get("remember_until").map_err(db_err)?,
    })
}

impl SqlCatalog {
    /// Runs one write statement; returns the rows it changed.
    async fn write_one<'q>(
        &self,
        q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> CatalogResult<u64> {
        let _w = self.sqlite_writer().await;
        Ok(q.execute(&self.pool).await.map_err(db_err)?.rows_affected())
    }
}

#[async_trait]
impl AccountRepo for SqlCatalog {
    async fn create_user(&self, email: &str, password_hash: Option<&str>, now: i64) -> CatalogResult<Option<User>> {
        let _w = self.sqlite_writer().await;
        let row = sqlx::query(&format!(
            "INSERT INTO users (email, password_hash, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (email) DO NOTHING RETURNING {USER_COLUMNS}"
        ))
        .bind(email)
        .bind(password_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(user).transpose()
    }

    async fn user_by_email(&self, email: &str) -> CatalogResult<Option<User>> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1"))
            .bind(email)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(user).transpose()
    }

    async fn user_by_id(&self, id: i64) -> CatalogResult<Option<User>> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(user).transpose()
    }

    async fn list_users(&self) -> CatalogResult<Vec<User>> {
        let rows = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY email"))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(user).collect()
    }

    async fn env_members(&self, env_id: i64) -> CatalogResult<Vec<(User, Role)>> {
        let cols: String = USER_COLUMNS.split(',').map(|c| format!("u.{}", c.trim())).collect::<Vec<_>>().join(", ");
        let rows = sqlx::query(&format!(
            "SELECT {cols}, r.role FROM users u JOIN user_roles r ON r.user_id = u.id WHERE r.env_id = $1 ORDER BY u.email"
        ))
        .bind(env_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let role: String = r.try_get("role").map_err(db_err)?;
                // Only `set_role` writes roles, from the enum.
                let role =
                    role.parse().map_err(|e: nimbus_core::accounts::AccountError| CatalogError(e.to_string()))?;
                Ok((user(r)?, role))
            })
            .collect()
    }

    async fn count_users(&self) -> CatalogResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await.map_err(db_err)
    }

    async fn set_role(&self, user_id: i64, env_id: i64, role: Option<Role>) -> CatalogResult<()> {
        let q = match role {
            Some(r) => sqlx::query(
                "INSERT INTO user_roles (user_id, env_id, role) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id, env_id) DO UPDATE SET role = excluded.role",
            )
            .bind(user_id)
            .bind(env_id)
            .bind(r.as_str()),
            None => sqlx::query("DELETE FROM user_roles WHERE user_id = $1 AND env_id = $2").bind(user_id).bind(env_id),
        };
        self.write_one(q).await.map(|_| ())
    }

    async fn memberships(&self, user_id: i64) -> CatalogResult<Vec<Membership>> {
        let rows = sqlx::query(
            "SELECT r.user_id, r.env_id, e.cloud_name, r.role FROM user_roles r JOIN environments e ON e.id = r.env_id \
             WHERE r.user_id = $1 ORDER BY e.cloud_name",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(|r| membership(r).map(|(_, m)| m)).collect()
    }

    async fn all_memberships(&self) -> CatalogResult<Vec<(i64, Membership)>> {
        let rows = sqlx::query(
            "SELECT r.user_id, r.env_id, e.cloud_name, r.role FROM user_roles r JOIN environments e ON e.id = r.env_id \
             ORDER BY e.cloud_name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(membership).collect()
    }

    async fn set_password_hash(&self, user_id: i64, hash: &str) -> CatalogResult<bool> {
        let q = sqlx::query("UPDATE users SET password_hash = $1, failed_sign_ins = 0, locked_until = 0 WHERE id = $2")
            .bind(hash)
            .bind(user_id);
        Ok(self.write_one(q).await? > 0)
    }

    async fn set_disabled(&self, user_id: i64, at: Option<i64>) -> CatalogResult<bool> {
        let q = sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2").bind(at).bind(user_id);
        Ok(self.write_one(q).await? > 0)
    }

    async fn record_failed_sign_in(&self, user_id: i64, lock_after: i64, lock_until: i64) -> CatalogResult<i64> {
        let _w = self.sqlite_writer().await;
        let locked: Option<i64> = sqlx::query_scalar(
            "UPDATE users SET \
               locked_until = CASE WHEN failed_sign_ins + 1 >= $1 THEN $2 ELSE locked_until END, \
               failed_sign_ins = CASE WHEN failed_sign_ins + 1 >= $1 THEN 0 ELSE failed_sign_ins + 1 END \
             WHERE id = $3 RETURNING locked_until",
        )
        .bind(lock_after)
        .bind(lock_until)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(locked.unwrap_or(0))
    }

    async fn record_sign_in(&self, user_id: i64, now: i64) -> CatalogResult<()> {
        let q = sqlx::query(
            "UPDATE users SET failed_sign_ins = 0, last_sign_in_at = $1, inactivity_notice_days = NULL WHERE id = $2",
        )
        .bind(now)
        .bind(user_id);
        self.write_one(q).await.map(|_| ())
    }

    async fn create_session(&self, s: &SessionRow) -> CatalogResult<()> {
        let q = sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_at, last_seen_at, remember_until) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(s.token_hash.as_str())
        .bind(s.user_id)
        .bind(s.csrf.as_str())
        .bind(s.created_at)
        .bind(s.last_seen_at)
        .bind(s.remember_until);
        self.write_one(q).await.map(|_| ())
    }

    async fn session(&self, token_hash: &str) -> CatalogResult<Option<SessionRow>> {
        let row = sqlx::query(
            "SELECT token_hash, user_id, csrf, created_at, last_seen_at, remember_until FROM sessions \
             WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(session).transpose()
    }

    async fn touch_session(&self, token_hash: &str, now: i64) -> CatalogResult<()> {
        let q = sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2").bind(now).bind(token_hash);
        self.write_one(q).await.map(|_| ())
    }

    async fn delete_session(&self, token_hash: &str) -> CatalogResult<()> {
        let q = sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash);
        self.write_one(q).await.map(|_| ())
    }

    async fn prune_sessions_and_links(&self, idle_before: i64, now: i64) -> CatalogResult<u64> {
        let sessions = self
            .write_one(
                sqlx::query(
                    "DELETE FROM sessions WHERE last_seen_at < $1 AND (remember_until IS NULL OR remember_until < $2)",
                )
                .bind(idle_before)
                .bind(now),
            )
            .await?;
        let links = self.write_one(sqlx::query("DELETE FROM account_links WHERE expires_at < $1").bind(now)).await?;
        let changes = self.write_one(sqlx::query("DELETE FROM email_changes WHERE expires_at < $1").bind(now)).await?;
        Ok(sessions + links + changes)
    }

    async fn delete_sessions_of(&self, user_id: i64) -> CatalogResult<u64> {
        self.write_one(sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id)).await
    }

    async fn set_totp_pending(&self, user_id: i64, secret: Option<&str>) -> CatalogResult<()> {
        let q = sqlx::query("UPDATE users SET totp_pending = $1 WHERE id = $2").bind(secret).bind(user_id);
        self.write_one(q).await.map(|_| ())
    }

    async fn totp_values(&self) -> CatalogResult<Vec<(i64, Option<String>, Option<String>)>> {
        sqlx::query_as(
            "SELECT id, totp_secret, totp_pending FROM users WHERE totp_secret IS NOT NULL OR totp_pending IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)
    }

    async fn replace_totp_value(&self, user_id: i64, column: TotpColumn, old: &str, new: &str) -> CatalogResult<bool> {
        let column = match column {
            TotpColumn::Secret => "totp_secret",
            TotpColumn::Pending => "totp_pending",
        };
        let sql = format!("UPDATE users SET {column} = $1 WHERE id = $2 AND {column} = $3");
        Ok(self.write_one(sqlx::query(&sql).bind(new).bind(user_id).bind(old)).await? == 1)
    }

    async fn set_totp(&self, user_id: i64, enabled: Option<(&str, &[String])>) -> CatalogResult<()> {
        let mut tx = self.quiet_tx().await?;
        let result: CatalogResult<()> = async {
            sqlx::query("UPDATE users SET totp_secret = $1, totp_pending = NULL, totp_last_step = 0 WHERE id = $2")
                .bind(enabled.map(|(s, _)| s))
                .bind(user_id)
                .execute(&mut *tx.tx)
                .await
                .map_err(db_err)?;
            sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx.tx)
                .await
                .map_err(db_err)?;
            for h in enabled.map_or(&[][..], |(_, codes)| codes) {
                sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                    .bind(user_id)
                    .bind(h.as_str())
                    .execute(&mut *tx.tx)
                    .await
                    .map_err(db_err)?;
            }
            Ok(())
        }
        .await;
        match result {
            Ok(()) => tx.commit().await,
            Err(e) => {
                tx.rollback().await?;
                Err(e)
            }
        }
    }

    async fn use_totp_step(&self, user_id: i64, step: i64) -> CatalogResult<bool> {
        let q = sqlx::query("UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1")
            .bind(step)
            .bind(user_id);
        Ok(self.write_one(q).await? > 0)
    }

    async fn use_recovery_code(&self, user_id: i64, code_hash: &str) -> CatalogResult<bool> {
        let q = sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1 AND code_hash = $2")
            .bind(user_id)
            .bind(code_hash);
        Ok(self.write_one(q).await? > 0)
    }

    async fn count_recovery_codes(&self, user_id: i64) -> CatalogResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn create_link(
        &self,
        token_hash: &str,
        purpose: LinkPurpose,
        user_id: Option<i64>,
        now: i64,
        expires_at: i64,
    ) -> CatalogResult<()> {
        let q = sqlx::query(
            "INSERT INTO account_links (token_hash, purpose, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(purpose.as_str())
        .bind(user_id)
        .bind(now)
        .bind(expires_at);
        self.write_one(q).await.map(|_| ())
    }

    async fn link(&self, token_hash: &str, purpose: LinkPurpose, now: i64, take: bool) -> CatalogResult<Option<Link>> {
        let sql = if take {
            "DELETE FROM account_links WHERE token_hash = $1 AND purpose = $2 AND expires_at > $3 \
             RETURNING user_id, expires_at"
        } else {
            "SELECT user_id, expires_at FROM account_links WHERE token_hash = $1 AND purpose = $2 AND expires_at > $3"
        };
        let _w = if take { self.sqlite_writer().await } else { None };
        let row = sqlx::query(sql)
            .bind(token_hash)
            .bind(purpose.as_str())
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.map(|r| {
            Ok(Link {
                user_id: r.try_get("user_id").map_err(db_err)?,
                expires_at: r.try_get("expires_at").map_err(db_err)?,
            })
        })
        .transpose()
    }
}
