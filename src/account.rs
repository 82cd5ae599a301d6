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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("admin".parse::<Role>().unwrap_err().contains("owner, marketer or sales"));
    }

    #[test]
    fn only_owners_administer_and_sales_never_edit_funnels() {
        assert!(Role::Owner.can_administer());
        assert!(!Role::Marketer.can_administer());
        assert!(Role::Marketer.can_edit_funnels());
        assert!(!Role::Sales.can_edit_funnels());
    }
}
