use super::StoreResult;
use crate::account::{ApiKeyInfo, AuditEntry, Invitation, Role, SessionRecord, User};
use async_trait::async_trait;

/// Admin users, their sessions, invitations, API keys and the audit log.
#[async_trait]
pub trait AccountStore: Send + Sync {
    // Users
    async fn count_users(&self) -> StoreResult<i64>;
    /// Creates the owner only while no user exists (first-run setup);
    /// `Conflict` once anyone has an account.
    async fn create_first_owner(
        &self,
        email: &str,
        password_hash: &str,
        now: i64,
    ) -> StoreResult<User>;
    async fn create_user(
        &self,
        email: &str,
        role: Role,
        password_hash: &str,
        now: i64,
    ) -> StoreResult<User>;
    /// The user and their password hash, for signing in.
    async fn user_credentials(&self, email: &str) -> StoreResult<Option<(User, String)>>;
    async fn user(&self, id: i64) -> StoreResult<User>;
    async fn users(&self) -> StoreResult<Vec<User>>;
    async fn set_user_role(&self, id: i64, role: Role) -> StoreResult<User>;
    /// Deactivating also ends every session the user has.
    async fn set_user_active(&self, id: i64, active: bool) -> StoreResult<User>;

    // Sessions (the token itself is never stored, only its hash)
    async fn create_session(&self, token_hash: &str, user_id: i64, now: i64) -> StoreResult<()>;
    async fn session(&self, token_hash: &str) -> StoreResult<Option<SessionRecord>>;
    async fn touch_session(&self, token_hash: &str, now: i64) -> StoreResult<()>;
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;

    // Login throttling, shared by every server instance
    async fn record_login_failure(&self, keys: &[String], now: i64) -> StoreResult<()>;
    /// Failures for `key` since `since`, and the time of the oldest of them.
    async fn login_failures(&self, key: &str, since: i64) -> StoreResult<(i64, Option<i64>)>;
    async fn clear_login_failures(&self, key: &str) -> StoreResult<()>;

    // Invitations
    async fn create_invitation(
        &self,
        token_hash: &str,
        invitation: &Invitation,
        invited_by: i64,
    ) -> StoreResult<()>;
    async fn invitation(&self, token_hash: &str) -> StoreResult<Option<Invitation>>;
    /// Uses the invitation and creates the account in one transaction;
    /// `Conflict` when it was used already or the email has an account.
    async fn accept_invitation(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: i64,
    ) -> StoreResult<User>;

    // API keys
    async fn create_api_key(
        &self,
        name: &str,
        prefix: &str,
        key_hash: &str,
        created_by: Option<i64>,
        now: i64,
    ) -> StoreResult<ApiKeyInfo>;
    async fn api_keys(&self) -> StoreResult<Vec<ApiKeyInfo>>;
    async fn revoke_api_key(&self, id: i64, now: i64) -> StoreResult<ApiKeyInfo>;
    /// An unrevoked key by the hash of its secret; marks it used.
    async fn use_api_key(&self, key_hash: &str, now: i64) -> StoreResult<Option<ApiKeyInfo>>;

    // Audit log
    async fn audit(&self, entry: &AuditEntry) -> StoreResult<()>;
    async fn audit_log(&self, limit: i64) -> StoreResult<Vec<AuditEntry>>;
}
