//! Account and privacy work the CLI does without a signed-in user.

use crate::error::StartupError;
use quizfunnel::account::{Role, User, check_new_password};
use quizfunnel::email::Email;
use quizfunnel_app::auth::ssr::{audit, hash_password, issue_api_key};
use quizfunnel_app::state::AppContext;

pub async fn create_user(
    ctx: &AppContext,
    email: &str,
    role: &str,
    password: String,
) -> Result<User, StartupError> {
    let email = Email::parse(email).map_err(|e| StartupError::Other(e.to_string()))?;
    let role: Role = role.parse().map_err(StartupError::Other)?;
    check_new_password(&password).map_err(|e| StartupError::Other(format!("password: {e}")))?;
    let hash = hash_password(password)
        .await
        .map_err(|e| StartupError::Other(e.to_string()))?;
    let user = ctx
        .store
        .create_user(email.as_str(), role, &hash, ctx.clock.now())
        .await
        .map_err(|e| StartupError::Other(e.to_string()))?;
    audit(ctx, "cli", "user.created", &user.email, role.as_str()).await;
    Ok(user)
}

pub async fn create_key(ctx: &AppContext, name: &str) -> Result<String, StartupError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(StartupError::Other(
            "give the key a name of 1 to 100 characters".into(),
        ));
    }
    let (info, key) = issue_api_key(ctx, name, None)
        .await
        .map_err(|e| StartupError::Other(e.to_string()))?;
    audit(ctx, "cli", "api_key.created", name, &info.prefix).await;
    Ok(key)
}

pub async fn erase_contact(
    ctx: &AppContext,
    email: &str,
) -> Result<quizfunnel::contact::Erasure, StartupError> {
    let email = Email::parse(email).map_err(|e| StartupError::Other(e.to_string()))?;
    let id = ctx
        .store
        .contact_id_by_email(&email)
        .await
        .map_err(|e| StartupError::Other(e.to_string()))?
        .ok_or_else(|| StartupError::Other(format!("no contact has the email {email}")))?;
    quizfunnel_app::contacts::api::ssr::erase_contact(ctx, id, "cli")
        .await
        .map_err(|e| StartupError::Other(e.to_string()))
}
