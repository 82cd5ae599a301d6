use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Status {
    pub backend: String,
}

#[server(endpoint = "server_status")]
pub async fn server_status() -> Result<Status, crate::error::AppError> {
    let ctx = crate::state::AppContext::get();
    ctx.store.readiness().await.map_err(|reason| {
        tracing::warn!(%reason, "server status: not ready");
        crate::error::respond(crate::error::AppError::Internal)
    })?;
    Ok(Status {
        backend: ctx.store.backend().to_string(),
    })
}
