//! What server functions reach through Leptos context.

use quizfunnel::store::Store;
use std::sync::Arc;

/// Handed to every page render and server function by the server.
#[derive(Clone)]
pub struct AppContext {
    pub store: Arc<dyn Store>,
}

impl AppContext {
    pub fn get() -> Self {
        leptos::prelude::expect_context::<Self>()
    }
}
