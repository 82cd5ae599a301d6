//! Users, sessions, invitations, API keys, login throttling and the audit log.

use super::SqlStore;
use super::sql::{BeginWrite, conflict_as, db_err, with_pool};
use async_trait::async_trait;
use quizfunnel::account::{ApiKeyInfo, AuditEntry, Invitation, Role, SessionRecord, User};
use quizfunnel::store::{AccountStore, StoreError, StoreResult};

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    role: String,
    active: bool,
    created_at: i64,
}

impl UserRow {
    fn into_user(self) -> StoreResult<User> {
        Ok(User {
            id: self.id,
            email: self.email,
            role: self.role.parse().map_err(StoreError::Internal)?,
            active: self.active,
            created_at: self.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    #[sqlx(flatten)]
    user: UserRow,
    session_created_at: i64,
    last_seen_at: i64,
}

#[derive(sqlx::FromRow)]
struct InvitationRow {
    email: String,
    role: String,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct ApiKeyRow {
    id: i64,
    name: String,
    prefix: String,
    created_at: i64,
    revoked_at: Option<i64>,
    last_used_at: Option<i64>,
}

impl From<ApiKeyRow> for ApiKeyInfo {
    fn from(r: ApiKeyRow) -> Self {
        ApiKeyInfo {
            id: r.id,
            name: r.name,
            prefix: r.prefix,
            created_at: r.created_at,
            revoked_at: r.revoked_at,
            last_used_at: r.last_used_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    at: i64,
    actor: String,
    action: String,
    target: String,
    detail: String,
}

const USER_COLUMNS: &str = "id, email, role, active, created_at";
/// How far "last used" of an API key may lag behind.
const KEY_USE_STEP_MS: i64 = 60_000;
const API_KEY_COLUMNS: &str = "id, name, prefix, created_at, revoked_at, last_used_at";

#[async_trait]
impl AccountStore for SqlStore {
    async fn count_users(&self) -> StoreResult<i64> {
        with_pool!(self.db(), read, |pool| {
            sqlx::query_scalar("SELECT count(*) FROM users")
                .fetch_one(pool)
                .await
                .map_err(db_err)
        })
    }

    async fn create_first_owner(
        &self,
        email: &str,
        password_hash: &str,
        now: i64,
    ) -> StoreResult<User> {
        // One statement, so two people racing through setup cannot both win.
        let sql = format!(
            "INSERT INTO users (email, password_hash, role, active, created_at) \
             SELECT $1, $2, 'owner', TRUE, $3 WHERE NOT EXISTS (SELECT 1 FROM users) \
             RETURNING {USER_COLUMNS}"
        );
        let row: Option<UserRow> = with_pool!(self.db(), write, |pool| {
            sqlx::query_as(&sql)
                .bind(email)
                .bind(password_hash)
                .bind(now)
                .fetch_optional(pool)
                .await
                .map_err(db_err)
        })?;
        row.ok_or_else(|| StoreError::Conflict("an owner account exists already".into()))?
            .into_user()
    }

    async fn create_user(
        &self,
        email: &str,
        role: Role,
        password_hash: &str,
        now: i64,
    ) -> StoreResult<User> {
        let sql = format!(
            "INSERT INTO users (email, password_hash, role, active, created_at) \
             VALUES ($1, $2, $3, TRUE, $4) RETURNING {USER_COLUMNS}"
        );
        let row: UserRow = with_pool!(self.db(), write, |pool| {
            sqlx::query_as(&sql)
                .bind(email)
                .bind(password_hash)
                .bind(role.as_str())
                .bind(now)
                .fetch_one(pool)
                .await
                .map_err(conflict_as("a user with that email exists already"))
        })?;
        row.into_user()
    }

    async fn user_credentials(&self, email: &str) -> StoreResult<Option<(User, String)>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            user: UserRow,
            password_hash: Option<String>,
        }
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1");
        let row: Option<Row> = with_pool!(self.db(), read, |pool| {
            sqlx::query_as(&sql)
                .bind(email)
                .fetch_optional(pool)
                .await
                .map_err(db_err)
        })?;
        match row {
            Some(Row {
                user,
                password_hash: Some(hash),
            }) => Ok(Some((user.into_user()?, hash))),
            _ => Ok(None),
        }
    }

    async fn user(&self, id: i64) -> StoreResult<User> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row: UserRow = with_pool!(self.db(), read, |pool| {
            sqlx::query_as(&sql)
                .bind(id)
                .fetch_one(pool)
                .await
                .map_err(db_err)
        })?;
        row.into_user()
    }

    async fn users(&self) -> StoreResult<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY email");
        let rows: Vec<UserRow> = with_pool!(self.db(), read, |pool| sqlx::query_as(&sql)
            .fetch_all(pool)
            .await
            .map_err(db_err))?;
        rows.into_iter().map(UserRow::into_user).collect()
    }

    async fn set_user_role(&self, id: i64, role: Role) -> StoreResult<User> {
        let sql = format!("UPDATE users SET role = $1 WHERE id = $2 RETURNING {USER_COLUMNS}");
        let row: UserRow = with_pool!(self.db(), write, |pool| {
            sqlx::query_as(&sql)
                .bind(role.as_str())
                .bind(id)
                .fetch_one(pool)
                .await
                .map_err(db_err)
        })?;
        row.into_user()
    }

    async fn set_user_active(&self, id: i64, active: bool) -> StoreResult<User> {
        let sql = format!("UPDATE users SET active = $1 WHERE id = $2 RETURNING {USER_COLUMNS}");
        let row: UserRow = with_pool!(self.db(), write, |pool| {
            let mut tx = pool.begin_write().await.map_err(db_err)?;
            let row: UserRow = sqlx::query_as(&sql)
                .bind(active)
                .bind(id)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
            if !active {
                sqlx::query("DELETE FROM auth_sessions WHERE user_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            tx.commit().await.map_err(db_err)?;
            Ok::<_, StoreError>(row)
        })?;
        row.into_user()
    }

    async fn create_session(&self, token_hash: &str, user_id: i64, now: i64) -> StoreResult<()> {
        with_pool!(self.db(), write, |pool| {
            sqlx::query(
                "INSERT INTO auth_sessions (token_hash, user_id, created_at, last_seen_at) VALUES ($1, $2, $3, $3)",
            )
            .bind(token_hash)
            .bind(user_id)
            .bind(now)
            .execute(pool)
            .await
            .map_err(db_err)
            .map(|_| ())
        })?;
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> StoreResult<Option<SessionRecord>> {
        let sql = "SELECT u.id, u.email, u.role, u.active, u.created_at, \
                   s.created_at AS session_created_at, s.last_seen_at \
                   FROM auth_sessions s JOIN users u ON u.id = s.user_id \
                   WHERE s.token_hash = $1 AND u.active";
        let row: Option<SessionRow> = with_pool!(self.db(), read, |pool| {
            sqlx::query_as(sql)
                .bind(token_hash)
                .fetch_optional(pool)
                .await
                .map_err(db_err)
        })?;
        row.map(|r| {
            Ok(SessionRecord {
                user: r.user.into_user()?,
                created_at: r.session_created_at,
                last_seen_at: r.last_seen_at,
            })
        })
        .transpose()
    }

    async fn touch_session(&self, token_hash: &str, now: i64) -> StoreResult<()> {
        with_pool!(self.db(), write, |pool| {
            sqlx::query("UPDATE auth_sessions SET last_seen_at = $1 WHERE token_hash = $2")
                .bind(now)
                .bind(token_hash)
                .execute(pool)
                .await
                .map_err(db_err)
                .map(|_| ())
        })?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        with_pool!(self.db(), write, |pool| {
            sqlx::query("DELETE FROM auth_sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(pool)
                .await
                .map_err(db_err)
                .map(|_| ())
        })?;
        Ok(())
    }

    async fn record_login_failure(&self, keys: &[String], now: i64) -> StoreResult<()> {
        with_pool!(self.db(), write, |pool| {
            let mut tx = pool.begin_write().await.map_err(db_err)?;
            for key in keys {
                sqlx::query("INSERT INTO login_failures (key, at) VALUES ($1, $2)")
                    .bind(key)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            // Old failures say nothing about the current window.
            sqlx::query("DELETE FROM login_failures WHERE at < $1")
                .bind(now - 24 * 60 * 60 * 1000)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            tx.commit().await.map_err(db_err)
        })
    }

    async fn login_failures(&self, key: &str, since: i64) -> StoreResult<(i64, Option<i64>)> {
        with_pool!(self.db(), read, |pool| {
            sqlx::query_as(
                "SELECT count(*), min(at) FROM login_failures WHERE key = $1 AND at >= $2",
            )
            .bind(key)
            .bind(since)
            .fetch_one(pool)
            .await
            .map_err(db_err)
        })
    }

    async fn clear_login_failures(&self, key: &str) -> StoreResult<()> {
        with_pool!(self.db(), write, |pool| {
            sqlx::query("DELETE FROM login_failures WHERE key = $1")
                .bind(key)
                .execute(pool)
                .await
                .map_err(db_err)
                .map(|_| ())
        })?;
        Ok(())
    }

    async fn create_invitation(
        &self,
        token_hash: &str,
        inv: &Invitation,
        invited_by: i64,
    ) -> StoreResult<()> {
        with_pool!(self.db(), write, |pool| {
            sqlx::query(
                "INSERT INTO invitations (token_hash, email, role, invited_by, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(token_hash)
            .bind(&inv.email)
            .bind(inv.role.as_str())
            .bind(invited_by)
            .bind(inv.created_at)
            .bind(inv.expires_at)
            .execute(pool)
            .await
            .map_err(db_err)
            .map(|_| ())
        })?;
        Ok(())
    }

    async fn invitation(&self, token_hash: &str) -> StoreResult<Option<Invitation>> {
        let row: Option<InvitationRow> = with_pool!(self.db(), read, |pool| {
            sqlx::query_as(
                "SELECT email, role, created_at, expires_at, used_at FROM invitations WHERE token_hash = $1",
            )
            .bind(token_hash)
            .fetch_optional(pool)
            .await
            .map_err(db_err)
        })?;
        row.map(|r| {
            Ok(Invitation {
                email: r.email,
                role: r.role.parse().map_err(StoreError::Internal)?,
                created_at: r.created_at,
                expires_at: r.expires_at,
                used_at: r.used_at,
            })
        })
        .transpose()
    }

    async fn accept_invitation(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: i64,
    ) -> StoreResult<User> {
        let insert = format!(
            "INSERT INTO users (email, password_hash, role, active, created_at) \
             VALUES ($1, $2, $3, TRUE, $4) RETURNING {USER_COLUMNS}"
        );
        let row: UserRow = with_pool!(self.db(), write, |pool| {
            let mut tx = pool.begin_write().await.map_err(db_err)?;
            let claimed: Option<(String, String)> = sqlx::query_as(
                "UPDATE invitations SET used_at = $1 \
                 WHERE token_hash = $2 AND used_at IS NULL AND expires_at >= $1 \
                 RETURNING email, role",
            )
            .bind(now)
            .bind(token_hash)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            let (email, role) = claimed.ok_or_else(|| {
                StoreError::Conflict("this invitation was used already or has expired".into())
            })?;
            let row: UserRow = sqlx::query_as(&insert)
                .bind(&email)
                .bind(password_hash)
                .bind(&role)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(conflict_as("an account with this email exists already"))?;
            tx.commit().await.map_err(db_err)?;
            Ok::<_, StoreError>(row)
        })?;
        row.into_user()
    }

    async fn create_api_key(
        &self,
        name: &str,
        prefix: &str,
        key_hash: &str,
        created_by: Option<i64>,
        now: i64,
    ) -> StoreResult<ApiKeyInfo> {
        let sql = format!(
            "INSERT INTO api_keys (name, prefix, key_hash, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING {API_KEY_COLUMNS}"
        );
        let row: ApiKeyRow = with_pool!(self.db(), write, |pool| {
            sqlx::query_as(&sql)
                .bind(name)
                .bind(prefix)
                .bind(key_hash)
                .bind(created_by)
                .bind(now)
                .fetch_one(pool)
                .await
                .map_err(db_err)
        })?;
        Ok(row.into())
    }

    async fn api_keys(&self) -> StoreResult<Vec<ApiKeyInfo>> {
        let sql =
            format!("SELECT {API_KEY_COLUMNS} FROM api_keys ORDER BY created_at DESC, id DESC");
        let rows: Vec<ApiKeyRow> = with_pool!(self.db(), read, |pool| sqlx::query_as(&sql)
            .fetch_all(pool)
            .await
            .map_err(db_err))?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn revoke_api_key(&self, id: i64, now: i64) -> StoreResult<ApiKeyInfo> {
        let sql = format!(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 RETURNING {API_KEY_COLUMNS}"
        );
        let row: ApiKeyRow = with_pool!(self.db(), write, |pool| {
            sqlx::query_as(&sql)
                .bind(now)
                .bind(id)
                .fetch_one(pool)
                .await
                .map_err(db_err)
        })?;
        Ok(row.into())
    }

    async fn use_api_key(&self, key_hash: &str, now: i64) -> StoreResult<Option<ApiKeyInfo>> {
        // A key sends batch after batch: a read answers, and "last used"
        // moves on at most once a minute, so batches do not queue at the
        // writer for it.
        let sql = format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL"
        );
        let row: Option<ApiKeyRow> = with_pool!(self.db(), read, |pool| {
            sqlx::query_as(&sql)
                .bind(key_hash)
                .fetch_optional(pool)
                .await
                .map_err(db_err)
        })?;
        let Some(mut row) = row else {
            return Ok(None);
        };
        if row
            .last_used_at
            .is_none_or(|at| now - at >= KEY_USE_STEP_MS)
        {
            with_pool!(self.db(), write, |pool| {
                sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(row.id)
                    .execute(pool)
                    .await
                    .map(|_| ())
                    .map_err(db_err)
            })?;
            row.last_used_at = Some(now);
        }
        Ok(Some(row.into()))
    }

    async fn audit(&self, e: &AuditEntry) -> StoreResult<()> {
        with_pool!(self.db(), write, |pool| {
            sqlx::query("INSERT INTO audit_log (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)")
                .bind(e.at)
                .bind(&e.actor)
                .bind(&e.action)
                .bind(&e.target)
                .bind(&e.detail)
                .execute(pool)
                .await
                .map_err(db_err)
            .map(|_| ())
        })?;
        Ok(())
    }

    async fn audit_log(&self, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        let rows: Vec<AuditRow> = with_pool!(self.db(), read, |pool| {
            sqlx::query_as(
                "SELECT at, actor, action, target, detail FROM audit_log ORDER BY at DESC, id DESC LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(db_err)
        })?;
        Ok(rows
            .into_iter()
            .map(|r| AuditEntry {
                at: r.at,
                actor: r.actor,
                action: r.action,
                target: r.target,
                detail: r.detail,
            })
            .collect())
    }
}
