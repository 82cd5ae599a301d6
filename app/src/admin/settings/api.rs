//! Owner-only server functions: users, invitations, API keys, audit log.

use crate::error::AppError;
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use quizfunnel::account::Role;
use quizfunnel::account::{ApiKeyInfo, AuditEntry, User};
use quizfunnel::contact::TrackingSettings;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InviteLink {
    pub email: String,
    /// Path of the one-time link; the page prefixes the site's origin.
    pub path: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewApiKey {
    pub info: ApiKeyInfo,
    /// Shown once; only its hash is kept.
    pub key: String,
}

#[cfg(feature = "ssr")]
mod owner {
    pub use crate::auth::ssr::audit;
    use crate::error::AppError;
    use crate::state::AppContext;
    use quizfunnel::account::User;

    pub fn owner(what: &str) -> Result<(AppContext, User), AppError> {
        let user = crate::auth::ssr::require(|r| r.can_administer(), what)?;
        Ok((AppContext::get(), user))
    }
}

#[server(endpoint = "settings/users")]
pub async fn users() -> Result<Vec<User>, AppError> {
    let (ctx, _) = owner::owner("manage users")?;
    Ok(ctx.store.users().await?)
}

#[server(endpoint = "settings/invite")]
pub async fn invite_user(email: String, role: String) -> Result<InviteLink, AppError> {
    use crate::auth::ssr::{new_token, token_hash};
    use crate::error::respond;
    use quizfunnel::account::{INVITATION_TTL_MS, Invitation};
    use quizfunnel::email::Email;

    let (ctx, me) = owner::owner("invite users")?;
    let email =
        Email::parse(&email).map_err(|e| respond(AppError::invalid("email", e.to_string())))?;
    let role: Role = role
        .parse()
        .map_err(|e: String| respond(AppError::invalid("role", e)))?;
    if ctx.store.user_credentials(email.as_str()).await?.is_some() {
        return Err(respond(AppError::invalid(
            "email",
            "this person has an account already",
        )));
    }
    let now = ctx.clock.now();
    let token = new_token();
    let invitation = Invitation {
        email: email.to_string(),
        role,
        created_at: now,
        expires_at: now + INVITATION_TTL_MS,
        used_at: None,
    };
    ctx.store
        .create_invitation(&token_hash(&token), &invitation, me.id)
        .await?;
    owner::audit(
        &ctx,
        &me.email,
        "user.invited",
        email.as_str(),
        role.as_str(),
    )
    .await;
    Ok(InviteLink {
        email: email.to_string(),
        path: format!("/invite/{token}"),
    })
}

#[server(endpoint = "settings/role")]
pub async fn change_role(user_id: i64, role: String) -> Result<User, AppError> {
    use crate::error::respond;
    let (ctx, me) = owner::owner("change roles")?;
    let role: Role = role
        .parse()
        .map_err(|e: String| respond(AppError::invalid("role", e)))?;
    let target = ctx
        .store
        .user(user_id)
        .await
        .map_err(|e| respond(e.into()))?;
    if target.role == Role::Owner && role != Role::Owner && last_active_owner(&ctx, &target).await?
    {
        return Err(respond(AppError::Conflict(
            "this is the only owner; make someone else owner first".into(),
        )));
    }
    let user = ctx.store.set_user_role(user_id, role).await?;
    owner::audit(
        &ctx,
        &me.email,
        "user.role_changed",
        &user.email,
        &format!("{} → {}", target.role, role),
    )
    .await;
    Ok(user)
}

#[server(endpoint = "settings/active")]
pub async fn set_user_active(user_id: i64, active: bool) -> Result<User, AppError> {
    use crate::error::respond;
    let (ctx, me) = owner::owner("deactivate users")?;
    if user_id == me.id && !active {
        return Err(respond(AppError::Conflict(
            "you cannot deactivate yourself".into(),
        )));
    }
    let target = ctx
        .store
        .user(user_id)
        .await
        .map_err(|e| respond(e.into()))?;
    if !active && target.role == Role::Owner && last_active_owner(&ctx, &target).await? {
        return Err(respond(AppError::Conflict(
            "this is the only active owner".into(),
        )));
    }
    let user = ctx.store.set_user_active(user_id, active).await?;
    let action = if active {
        "user.reactivated"
    } else {
        "user.deactivated"
    };
    owner::audit(&ctx, &me.email, action, &user.email, "").await;
    Ok(user)
}

#[cfg(feature = "ssr")]
async fn last_active_owner(
    ctx: &crate::state::AppContext,
    target: &User,
) -> Result<bool, AppError> {
    let owners = ctx
        .store
        .users()
        .await?
        .into_iter()
        .filter(|u| u.role == Role::Owner && u.active && u.id != target.id)
        .count();
    Ok(owners == 0)
}

#[server(endpoint = "settings/keys")]
pub async fn api_keys() -> Result<Vec<ApiKeyInfo>, AppError> {
    let (ctx, _) = owner::owner("manage API keys")?;
    Ok(ctx.store.api_keys().await?)
}

#[server(endpoint = "settings/keys/create")]
pub async fn create_api_key(name: String) -> Result<NewApiKey, AppError> {
    use crate::error::respond;
    let (ctx, me) = owner::owner("create API keys")?;
    let name = name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(respond(AppError::invalid(
            "name",
            "give the key a name of 1 to 100 characters",
        )));
    }
    let (info, key) = crate::auth::ssr::issue_api_key(&ctx, &name, Some(me.id)).await?;
    owner::audit(&ctx, &me.email, "api_key.created", &name, &info.prefix).await;
    Ok(NewApiKey { info, key })
}

#[server(endpoint = "settings/keys/revoke")]
pub async fn revoke_api_key(id: i64) -> Result<ApiKeyInfo, AppError> {
    use crate::error::respond;
    let (ctx, me) = owner::owner("revoke API keys")?;
    let info = ctx
        .store
        .revoke_api_key(id, ctx.clock.now())
        .await
        .map_err(|e| respond(e.into()))?;
    owner::audit(&ctx, &me.email, "api_key.revoked", &info.name, &info.prefix).await;
    Ok(info)
}

#[server(endpoint = "settings/audit")]
pub async fn audit_log() -> Result<Vec<AuditEntry>, AppError> {
    let (ctx, _) = owner::owner("read the audit log")?;
    Ok(ctx.store.audit_log(200).await?)
}

#[server(endpoint = "settings/tracking")]
pub async fn tracking() -> Result<TrackingSettings, AppError> {
    let (ctx, _) = owner::owner("change tracking settings")?;
    Ok(ctx.store.tracking_settings().await?)
}

/// `origins`: one per line. `retention_days`: 1 to 3650.
#[server(endpoint = "settings/tracking/save")]
pub async fn save_tracking(
    origins: String,
    retention_days: i64,
) -> Result<TrackingSettings, AppError> {
    use crate::error::respond;
    let (ctx, me) = owner::owner("change tracking settings")?;
    let origins = origins
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(quizfunnel::contact::parse_origin)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| respond(AppError::invalid("origins", e)))?;
    if !(1..=3650).contains(&retention_days) {
        return Err(respond(AppError::invalid(
            "retention_days",
            "keep anonymous visitors for 1 to 3650 days",
        )));
    }
    let saved = ctx
        .store
        .save_tracking_settings(&origins, retention_days)
        .await?;
    owner::audit(
        &ctx,
        &me.email,
        "tracking.saved",
        "tracking settings",
        &format!("{} origins, {retention_days} days", origins.len()),
    )
    .await;
    Ok(saved)
}

#[server(endpoint = "settings/webhooks")]
pub async fn webhooks() -> Result<bool, AppError> {
    let (ctx, _) = owner::owner("change webhook settings")?;
    Ok(ctx.store.allow_private_webhooks().await?)
}

/// `settings`: always `webhooks` (a hidden field of the form).
/// `allow_private`: `on` (a ticked box) to let webhooks call this machine
/// and private networks, for receivers on the same network; absent when
/// the box is unticked.
#[server(endpoint = "settings/webhooks/save")]
pub async fn save_webhooks(
    settings: Option<String>,
    allow_private: Option<String>,
) -> Result<bool, AppError> {
    use crate::error::respond;
    let (ctx, me) = owner::owner("change webhook settings")?;
    // An unticked box sends nothing, so an empty or unreadable body would
    // otherwise look like one and quietly turn the setting off.
    let allow = match (settings.as_deref(), allow_private.as_deref()) {
        (Some("webhooks"), None) => false,
        (Some("webhooks"), Some("on")) => true,
        _ => {
            return Err(respond(AppError::invalid(
                "settings",
                "the webhook settings could not be read from this request; \
                 reload the settings page and save again",
            )));
        }
    };
    ctx.store.set_allow_private_webhooks(allow).await?;
    owner::audit(
        &ctx,
        &me.email,
        "webhooks.saved",
        "webhook settings",
        if allow {
            "private addresses allowed"
        } else {
            "private addresses refused"
        },
    )
    .await;
    Ok(allow)
}
