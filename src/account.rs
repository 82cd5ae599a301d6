//! Who may do what in the admin (SPEC §1).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Marketer,
    Sales,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Marketer, Role::Sales];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Marketer => "marketer",
            Role::Sales => "sales",
        }
    }

    /// Quizzes, segments and the tier playbook.
    pub fn can_edit_funnels(self) -> bool {
        matches!(self, Role::Owner | Role::Marketer)
    }

    /// Users, API keys, settings and erasure.
    pub fn can_administer(self) -> bool {
        self == Role::Owner
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role \"{s}\": use owner, marketer or sales"))
    }
}

/// Users stay signed in this long without a request (default 30 minutes).
pub const DEFAULT_IDLE_TIMEOUT_MS: i64 = 30 * 60 * 1000;
/// And never longer than this after signing in (default 12 hours).
pub const DEFAULT_ABSOLUTE_TIMEOUT_MS: i64 = 12 * 60 * 60 * 1000;
/// An invitation link works for 72 hours.
pub const INVITATION_TTL_MS: i64 = 72 * 60 * 60 * 1000;
/// Failed logins allowed per account or address within [`LOGIN_WINDOW_MS`].
pub const LOGIN_ATTEMPTS_ALLOWED: i64 = 5;
pub const LOGIN_WINDOW_MS: i64 = 60 * 1000;
/// Longer passwords are refused before hashing, so nobody can make the
/// server spend its time hashing megabytes.
pub const MAX_PASSWORD_LEN: usize = 1024;
pub const MIN_PASSWORD_LEN: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub active: bool,
    pub created_at: i64,
}

/// A signed-in session as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub user: User,
    pub created_at: i64,
    pub last_seen_at: i64,
}

impl SessionRecord {
    /// Whether the session has outlived either timeout at `now`.
    pub fn expired(&self, now: i64, idle_ms: i64, absolute_ms: i64) -> bool {
        now - self.last_seen_at > idle_ms || now - self.created_at > absolute_ms
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub email: String,
    pub role: Role,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyInfo {
    pub id: i64,
    pub name: String,
    /// The first characters of the key, enough to recognise it in a list.
    pub prefix: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// One line of the audit log. Never holds a contact's personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: i64,
    /// The acting user's email, or `cli` / `system`.
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

/// Checks a new password before it is hashed.
pub fn check_new_password(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LEN {
        return Err(format!("use at least {MIN_PASSWORD_LEN} characters"));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(format!("use at most {MAX_PASSWORD_LEN} characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!(
            "admin"
                .parse::<Role>()
                .unwrap_err()
                .contains("owner, marketer or sales")
        );
    }

    fn session(created_at: i64, last_seen_at: i64) -> SessionRecord {
        SessionRecord {
            user: User {
                id: 1,
                email: "a@b.co".into(),
                role: Role::Sales,
                active: true,
                created_at: 0,
            },
            created_at,
            last_seen_at,
        }
    }

    #[test]
    fn session_expires_after_idle_time_or_absolute_lifetime() {
        let s = session(0, 1_000);
        assert!(!s.expired(1_000 + 30, 30, 10_000));
        assert!(s.expired(1_000 + 31, 30, 10_000));
        let busy = session(0, 9_999);
        assert!(busy.expired(10_001, 30, 10_000));
    }

    #[test]
    fn new_passwords_need_ten_to_1024_characters() {
        assert!(check_new_password("short").is_err());
        assert!(check_new_password("long enough pw").is_ok());
        assert!(check_new_password(&"x".repeat(1025)).is_err());
    }

    #[test]
    fn only_owners_administer_and_sales_never_edit_funnels() {
        assert!(Role::Owner.can_administer());
        assert!(!Role::Marketer.can_administer());
        assert!(Role::Marketer.can_edit_funnels());
        assert!(!Role::Sales.can_edit_funnels());
    }
}
