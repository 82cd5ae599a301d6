//! Sessions on every request, the admin gate, and the plain form posts for
//! signing in and out, first-run setup and invitations.

use super::{AppState, ClientIp};
use axum::body::Body;
use axum::extract::{FromRequest, Path, RawForm, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use leptos::prelude::provide_context;
use quizfunnel::account::{MAX_PASSWORD_LEN, check_new_password};
use quizfunnel::email::{Email, MAX_EMAIL_LEN};
use quizfunnel_app::admin::access::page_access;
use quizfunnel_app::auth::FormFeedback;
use quizfunnel_app::auth::ssr::{
    CurrentUser, LoginError, SESSION_COOKIE, audit, hash_password, new_token, sign_in, token_hash,
};
use quizfunnel_app::state::AppContext;
use std::collections::HashMap;

/// Seen this recently, a session's last-seen time is not rewritten: saves a
/// write per request at no cost to the 30-minute idle timeout.
const TOUCH_EVERY_MS: i64 = 60_000;

fn session_token(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
}

fn session_cookie(ctx: &AppContext, token: &str) -> HeaderValue {
    let secure = if ctx.sessions.secure_cookie {
        "; Secure"
    } else {
        ""
    };
    let max_age = ctx.sessions.absolute_timeout_ms / 1000;
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .expect("cookie built from url-safe characters")
}

fn cleared_cookie() -> HeaderValue {
    HeaderValue::from_static("qf_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// Puts the signed-in user (if any) into the request for pages, server
/// functions and handlers; ends sessions past their timeouts.
pub async fn resolve_session(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let mut expired = false;
    if let Some(token) = session_token(&parts) {
        let ctx = &state.ctx;
        let hash = token_hash(&token);
        let now = ctx.clock.now();
        match ctx.store.session(&hash).await {
            Ok(Some(record))
                if !record.expired(
                    now,
                    ctx.sessions.idle_timeout_ms,
                    ctx.sessions.absolute_timeout_ms,
                ) =>
            {
                if now - record.last_seen_at > TOUCH_EVERY_MS {
                    let _ = ctx.store.touch_session(&hash, now).await;
                }
                parts.extensions.insert(CurrentUser {
                    user: record.user,
                    token_hash: hash,
                });
            }
            Ok(Some(_)) => {
                let _ = ctx.store.delete_session(&hash).await;
                expired = true;
            }
            Ok(None) => expired = true,
            Err(e) => tracing::error!(error = %e, "cannot read the session"),
        }
    }
    let mut res = next.run(Request::from_parts(parts, body)).await;
    if expired && !res.headers().contains_key(header::SET_COOKIE) {
        res.headers_mut()
            .insert(header::SET_COOKIE, cleared_cookie());
    }
    res
}

/// Admin pages need a signed-in user whose role may open them; before the
/// first account exists, everyone is sent to setup.
pub async fn admin_gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path != "/admin" && !path.starts_with("/admin/") {
        return next.run(req).await;
    }
    let Some(current) = req.extensions().get::<CurrentUser>() else {
        if state.ctx.store.count_users().await.unwrap_or(1) == 0 {
            return Redirect::to("/setup").into_response();
        }
        let next_path = urlencode(path);
        return Redirect::to(&format!("/login?next={next_path}")).into_response();
    };
    if !page_access(path).allows(current.user.role) {
        return forbidden_page(current.user.role.as_str());
    }
    next.run(req).await
}

fn forbidden_page(role: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>No access · quizfunnel</title><link rel=\"stylesheet\" href=\"/pkg/quizfunnel.css\"></head>\
         <body><main class=\"page narrow\"><h1>You do not have access to this page</h1>\
         <p>Your role ({role}) cannot open it. Ask an owner if you need it.</p>\
         <p><a href=\"/admin\">Back to the dashboard</a></p></main></body></html>"
    );
    (StatusCode::FORBIDDEN, Html(body)).into_response()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The posted form's fields by name (a field sent twice keeps its first
/// value), or the page again with why the body could not be read.
async fn read_form(
    state: &AppState,
    parts: &Parts,
    body: Body,
) -> Result<HashMap<String, String>, Response> {
    match RawForm::from_request(Request::from_parts(parts.clone(), body), state).await {
        Ok(form) => {
            let pairs =
                serde_urlencoded::from_bytes::<Vec<(String, String)>>(&form.0).unwrap_or_default();
            let mut map = HashMap::new();
            for (k, v) in pairs {
                map.entry(k).or_insert(v);
            }
            Ok(map)
        }
        Err(rejection) => {
            let status = rejection.status();
            let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
                "The form was larger than this page accepts."
            } else {
                "The form could not be read; please send it again."
            };
            Err(page_with_feedback(state, parts, feedback(message, "", ""), status).await)
        }
    }
}

/// Only paths on this site, so a crafted `next` cannot send people away.
fn safe_next(next: Option<&String>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.clone(),
        _ => "/admin".to_string(),
    }
}

/// The page at this request's path again, with the feedback.
async fn page_with_feedback(
    state: &AppState,
    parts: &Parts,
    feedback: FormFeedback,
    status: StatusCode,
) -> Response {
    super::render::page(state, parts, status, move || {
        provide_context(feedback.clone())
    })
    .await
}

fn feedback(error: impl Into<String>, field: &str, email: &str) -> FormFeedback {
    FormFeedback {
        error: error.into(),
        field: field.to_string(),
        email: email.chars().take(MAX_EMAIL_LEN).collect(),
    }
}

/// Signs the user in with a fresh session and sends them on. Any session
/// the browser had before is ended, so the id always changes at sign-in.
async fn start_session(ctx: &AppContext, parts: &Parts, token: &str, to: &str) -> Response {
    if let Some(old) = session_token(parts) {
        let _ = ctx.store.delete_session(&token_hash(&old)).await;
    }
    let mut res = Redirect::to(to).into_response();
    res.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(ctx, token));
    res
}

pub async fn login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let f = match read_form(&state, &parts, body).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let email = f.get("email").map(String::as_str).unwrap_or("");
    let password = f.get("password").map(String::as_str).unwrap_or("");
    if email.len() > MAX_EMAIL_LEN || password.len() > MAX_PASSWORD_LEN {
        let fb = feedback(
            "email or password is longer than any account allows",
            "",
            "",
        );
        return page_with_feedback(&state, &parts, fb, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    match sign_in(&state.ctx, email, password, &client.to_string()).await {
        Ok((user, token)) => {
            tracing::info!(user = user.id, "signed in");
            start_session(&state.ctx, &parts, &token, &safe_next(f.get("next"))).await
        }
        Err(LoginError::Invalid) => {
            let fb = feedback(
                "That email and password do not match an account.",
                "",
                email,
            );
            page_with_feedback(&state, &parts, fb, StatusCode::UNAUTHORIZED).await
        }
        Err(LoginError::Throttled(secs)) => {
            let fb = feedback(
                format!("Too many failed attempts. Try again in {secs} seconds."),
                "",
                email,
            );
            let mut res =
                page_with_feedback(&state, &parts, fb, StatusCode::TOO_MANY_REQUESTS).await;
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            res
        }
        Err(LoginError::Internal) => {
            let fb = feedback(
                "Signing in failed on our side; please try again.",
                "",
                email,
            );
            page_with_feedback(&state, &parts, fb, StatusCode::SERVICE_UNAVAILABLE).await
        }
    }
}

pub async fn logout(State(state): State<AppState>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    if let Some(token) = session_token(&parts) {
        let _ = state.ctx.store.delete_session(&token_hash(&token)).await;
    }
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut()
        .insert(header::SET_COOKIE, cleared_cookie());
    res
}

pub async fn setup(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let f = match read_form(&state, &parts, body).await {
        Ok(f) => f,
        Err(res) => return res,
    };
    let raw_email = f.get("email").map(String::as_str).unwrap_or("");
    let password = f.get("password").cloned().unwrap_or_default();
    let ctx = &state.ctx;
    let email = match Email::parse(raw_email) {
        Ok(e) => e,
        Err(e) => {
            let fb = feedback(e.to_string(), "email", raw_email);
            return page_with_feedback(&state, &parts, fb, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    if let Err(msg) = check_new_password(&password) {
        let fb = feedback(format!("Password: {msg}"), "password", raw_email);
        return page_with_feedback(&state, &parts, fb, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let Ok(hash) = hash_password(password).await else {
        return (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response();
    };
    match ctx
        .store
        .create_first_owner(email.as_str(), &hash, ctx.clock.now())
        .await
    {
        Ok(user) => {
            audit(
                ctx,
                &user.email,
                "user.created",
                &user.email,
                "first owner, at setup",
            )
            .await;
            let token = new_token();
            if ctx
                .store
                .create_session(&token_hash(&token), user.id, ctx.clock.now())
                .await
                .is_err()
            {
                return Redirect::to("/login").into_response();
            }
            start_session(ctx, &parts, &token, "/admin").await
        }
        // Setup is gone once an owner exists.
        Err(_) => {
            page_with_feedback(
                &state,
                &parts,
                FormFeedback::default(),
                StatusCode::NOT_FOUND,
            )
            .await
        }
    }
}

pub async fn accept_invitation(
    State(state): State<AppState>,
    Path(token): Path<String>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let password = match read_form(&state, &parts, body).await {
        Ok(f) => f.get("password").cloned().unwrap_or_default(),
        Err(res) => return res,
    };
    let ctx = &state.ctx;
    if let Err(msg) = check_new_password(&password) {
        let fb = feedback(format!("Password: {msg}"), "password", "");
        return page_with_feedback(&state, &parts, fb, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let Ok(hash) = hash_password(password).await else {
        return (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response();
    };
    match ctx
        .store
        .accept_invitation(&token_hash(&token), &hash, ctx.clock.now())
        .await
    {
        Ok(user) => {
            audit(
                ctx,
                &user.email,
                "user.joined",
                &user.email,
                user.role.as_str(),
            )
            .await;
            let session = new_token();
            if ctx
                .store
                .create_session(&token_hash(&session), user.id, ctx.clock.now())
                .await
                .is_err()
            {
                return Redirect::to("/login").into_response();
            }
            start_session(ctx, &parts, &session, "/admin").await
        }
        Err(_) => {
            page_with_feedback(&state, &parts, FormFeedback::default(), StatusCode::GONE).await
        }
    }
}
