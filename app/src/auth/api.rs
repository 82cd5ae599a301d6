use crate::error::AppError;
use leptos::prelude::*;
use quizfunnel::account::{Invitation, User};

/// The signed-in user, or `None` for a visitor.
#[server(endpoint = "me")]
pub async fn me() -> Result<Option<User>, AppError> {
    Ok(super::ssr::current_user().map(|c| c.user))
}

/// True while nobody has an account, i.e. first-run setup is open.
#[server(endpoint = "setup_open")]
pub async fn setup_open() -> Result<bool, AppError> {
    let ctx = crate::state::AppContext::get();
    Ok(ctx.store.count_users().await? == 0)
}

/// The invitation behind a link, if it can still be used.
#[server(endpoint = "invitation")]
pub async fn open_invitation(token: String) -> Result<Option<Invitation>, AppError> {
    let ctx = crate::state::AppContext::get();
    let now = ctx.clock.now();
    let inv = ctx
        .store
        .invitation(&super::ssr::token_hash(&token))
        .await?;
    Ok(inv.filter(|i| i.used_at.is_none() && i.expires_at >= now))
}
