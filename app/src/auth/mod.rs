//! Signing in and out, first-run setup and accepting an invitation.
//!
//! These forms post plainly to the server (`/login`, `/setup`, `/logout`,
//! `/invite/{token}`), so they work with JavaScript off. After a refused
//! post the server renders the same page again with [`FormFeedback`].

pub mod api;
mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use pages::{InvitePage, LoginPage, LogoutPage, SetupPage};

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the server says about a refused form post: the message, the field
/// it belongs to, and the values to put back (never passwords).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FormFeedback {
    pub error: String,
    pub field: String,
    pub email: String,
}

/// The feedback for this render, if the server re-rendered after a post.
/// A resource, so the browser hydrates with exactly what the server showed.
pub fn use_form_feedback() -> Resource<Option<FormFeedback>> {
    Resource::new(
        || (),
        |_| async {
            #[cfg(feature = "ssr")]
            {
                use_context::<FormFeedback>()
            }
            #[cfg(not(feature = "ssr"))]
            {
                None
            }
        },
    )
}
