use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Status {
    pub backend: String,
}

#[server(endpoint = "server_status")]
pub async fn server_status() -> Result<Status, ServerFnError> {
    let ctx = crate::state::AppContext::get();
    ctx.store.readiness().await.map_err(ServerFnError::new)?;
    Ok(Status {
        backend: ctx.store.backend().to_string(),
    })
}
