//! Signing in, sessions and role checks: server only.

use crate::error::{AppError, respond};
use crate::state::AppContext;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use quizfunnel::account::{
    AuditEntry, LOGIN_ATTEMPTS_ALLOWED, LOGIN_WINDOW_MS, MAX_PASSWORD_LEN, Role, User,
};
use quizfunnel::email::Email;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

pub const SESSION_COOKIE: &str = "qf_session";

/// The signed-in user of this request, put in the request's extensions by
/// the server's session middleware.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    pub token_hash: String,
}

/// OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("OWASP argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashing takes tens of milliseconds of CPU; keep it off the async workers.
pub async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(|_| AppError::Internal)?
    .map_err(|_| AppError::Internal)
}

/// Verifies against `hash`, or against a fixed dummy hash when there is no
/// such user, so both cases cost the same time and look the same.
pub async fn verify_password(password: String, hash: Option<String>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let known = hash.is_some();
    let hash = hash.unwrap_or_else(|| {
        DUMMY
            .get_or_init(|| {
                let salt = SaltString::generate(&mut OsRng);
                argon2()
                    .hash_password(b"no such user", &salt)
                    .map(|h| h.to_string())
                    .unwrap_or_default()
            })
            .clone()
    });
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
        && known
}

/// A fresh unguessable token (256 bits) for sessions, invitations and keys.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new visitor's id: the time in milliseconds as twelve hex digits, then
/// 192 random bits. Ids made later sort later, so storing a new visitor
/// adds to the end of the visitor-id indexes rather than to a random page
/// of them, which at a million contacts is a page read and a page written
/// per first view.
pub fn new_visitor_id() -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let mut bytes = [0u8; 24];
    OsRng.fill_bytes(&mut bytes);
    format!("{millis:012x}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Tokens are stored hashed; they are random, so a plain hash suffices.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    quizfunnel::hex::encode(&digest)
}

#[derive(Debug, Clone, PartialEq)]
pub enum LoginError {
    Invalid,
    /// Too many failures: try again after this many seconds.
    Throttled(i64),
    Internal,
}

/// Checks the credentials and, when they hold, opens a session. Returns the
/// user and the new session token for the cookie.
pub async fn sign_in(
    ctx: &AppContext,
    email: &str,
    password: &str,
    client_ip: &str,
) -> Result<(User, String), LoginError> {
    let now = ctx.clock.now();
    let email_key = format!("email:{}", email.trim().to_lowercase());
    let ip_key = format!("ip:{client_ip}");
    let since = now - LOGIN_WINDOW_MS;
    for key in [&email_key, &ip_key] {
        let (failures, oldest) = ctx
            .store
            .login_failures(key, since)
            .await
            .map_err(|_| LoginError::Internal)?;
        if failures >= LOGIN_ATTEMPTS_ALLOWED {
            let oldest = oldest.unwrap_or(now);
            let wait_ms = (oldest + LOGIN_WINDOW_MS - now).max(1_000);
            return Err(LoginError::Throttled((wait_ms + 999) / 1_000));
        }
    }
    let credentials = match Email::parse(email) {
        Ok(e) if password.len() <= MAX_PASSWORD_LEN => ctx
            .store
            .user_credentials(e.as_str())
            .await
            .map_err(|_| LoginError::Internal)?,
        _ => None,
    };
    let (user, hash) = match credentials {
        Some((user, hash)) if user.active => (Some(user), Some(hash)),
        _ => (None, None),
    };
    let ok = verify_password(password.chars().take(MAX_PASSWORD_LEN).collect(), hash).await;
    let Some(user) = user.filter(|_| ok) else {
        ctx.store
            .record_login_failure(&[email_key, ip_key], now)
            .await
            .map_err(|_| LoginError::Internal)?;
        return Err(LoginError::Invalid);
    };
    let _ = ctx.store.clear_login_failures(&email_key).await;
    let token = new_token();
    ctx.store
        .create_session(&token_hash(&token), user.id, now)
        .await
        .map_err(|_| LoginError::Internal)?;
    Ok((user, token))
}

/// The signed-in user of the current server-function call, if any.
pub fn current_user() -> Option<CurrentUser> {
    leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<CurrentUser>().cloned())
}

/// The signed-in user, who must be allowed `allowed`; otherwise 401 or 403.
pub fn require(allowed: impl Fn(Role) -> bool, what: &str) -> Result<User, AppError> {
    let user = current_user()
        .ok_or_else(|| respond(AppError::Unauthorized))?
        .user;
    if allowed(user.role) {
        Ok(user)
    } else {
        Err(respond(AppError::Forbidden(format!(
            "your role ({}) cannot {what}",
            user.role
        ))))
    }
}

/// Records who did what; failures to write the log are logged, not shown.
pub async fn audit(ctx: &AppContext, actor: &str, action: &str, target: &str, detail: &str) {
    let entry = AuditEntry {
        at: ctx.clock.now(),
        actor: actor.to_string(),
        action: action.to_string(),
        target: target.to_string(),
        detail: detail.to_string(),
    };
    if let Err(e) = ctx.store.audit(&entry).await {
        tracing::error!(error = %e, action, "cannot write the audit log");
    }
}

/// Creates an API key; returns its listing and the secret, shown once.
pub async fn issue_api_key(
    ctx: &AppContext,
    name: &str,
    created_by: Option<i64>,
) -> Result<(quizfunnel::account::ApiKeyInfo, String), AppError> {
    let key = format!("qf_{}", new_token());
    let prefix: String = key.chars().take(10).collect();
    let info = ctx
        .store
        .create_api_key(
            name,
            &prefix,
            &token_hash(&key),
            created_by,
            ctx.clock.now(),
        )
        .await?;
    Ok((info, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_hash_to_hex() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        let h = token_hash(&a);
        assert_eq!(h.len(), 64);
        assert_eq!(h, token_hash(&a));
        assert_ne!(h, token_hash(&b));
    }

    #[test]
    fn visitor_ids_are_valid_unique_and_sort_by_when_they_were_made() {
        let first = new_visitor_id();
        // The next millisecond is at most one away.
        let second = std::iter::repeat_with(new_visitor_id)
            .find(|id| id[..12] != first[..12])
            .unwrap();
        assert!(first < second, "{first} then {second}");
        assert_ne!(first[12..], second[12..]);
        for id in [&first, &second] {
            assert_eq!(
                quizfunnel::contact::VisitorId::parse(id).unwrap().as_str(),
                id
            );
        }
    }

    #[tokio::test]
    async fn password_verifies_only_against_its_own_hash() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse battery".into(), Some(hash.clone())).await);
        assert!(!verify_password("wrong horse battery".into(), Some(hash)).await);
        assert!(!verify_password("no such user".into(), None).await);
    }
}
