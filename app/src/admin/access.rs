//! Which role may open which admin page. The server enforces this table for
//! every page request; the navigation uses it to hide what a role cannot do.

use quizfunnel::account::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Any signed-in user.
    SignedIn,
    /// Owners and marketers: quizzes, segments, the playbook.
    Funnels,
    /// Owners only: users, API keys, settings.
    Owner,
}

impl Access {
    pub fn allows(self, role: Role) -> bool {
        match self {
            Access::SignedIn => true,
            Access::Funnels => role.can_edit_funnels(),
            Access::Owner => role.can_administer(),
        }
    }
}

/// The admin pages, their access and their place in the navigation.
pub const ADMIN_PAGES: &[(&str, &str, Access)] = &[
    ("/admin", "Dashboard", Access::SignedIn),
    // The dashboard's live counts (not a page of its own).
    ("/admin/live", "", Access::SignedIn),
    ("/admin/quizzes", "Quizzes", Access::Funnels),
    ("/admin/segments", "Segments", Access::Funnels),
    ("/admin/leads", "Leads", Access::SignedIn),
    ("/admin/contacts", "Contacts", Access::SignedIn),
    ("/admin/settings", "Settings", Access::Owner),
];

/// The access an admin path needs: a listed page, or a page inside a listed
/// section (`/admin/quizzes/7`), with the longest match deciding. Unlisted
/// admin paths are owner-only until someone lists them.
pub fn page_access(path: &str) -> Access {
    ADMIN_PAGES
        .iter()
        .filter(|(page, _, _)| {
            let in_section = *page != "/admin"
                && path
                    .strip_prefix(page)
                    .is_some_and(|rest| rest.starts_with('/'));
            path == *page || in_section
        })
        .max_by_key(|(prefix, _, _)| prefix.len())
        .map(|(_, _, access)| *access)
        .unwrap_or(Access::Owner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_pages_inherit_their_section_access() {
        assert_eq!(page_access("/admin/quizzes/12"), Access::Funnels);
        assert_eq!(page_access("/admin/settings"), Access::Owner);
        assert_eq!(page_access("/admin"), Access::SignedIn);
    }

    #[test]
    fn unlisted_admin_pages_are_owner_only() {
        assert_eq!(page_access("/admin/quizzesx"), Access::Owner);
        assert_eq!(page_access("/admin/unknown"), Access::Owner);
    }

    #[test]
    fn sales_cannot_open_quizzes_or_settings() {
        assert!(!page_access("/admin/quizzes").allows(Role::Sales));
        assert!(!page_access("/admin/settings").allows(Role::Marketer));
        assert!(page_access("/admin").allows(Role::Sales));
        assert!(page_access("/admin/contacts/7").allows(Role::Sales));
    }
}
