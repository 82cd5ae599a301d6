//! The router: Leptos pages and server functions, plus the plain HTTP routes.

mod assets;
mod auth;
mod csv;
mod embed;
mod first_page;
mod ingest;
mod leads_export;
mod live;
mod render;
pub mod respond;
mod security;
mod segments_api;

use axum::extract::{DefaultBodyLimit, FromRef, State};
use axum::http::StatusCode;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use quizfunnel::net::TrustedProxies;
use quizfunnel_app::state::AppContext;
use quizfunnel_app::{App, shell};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

/// Public forms and server functions never need more than this.
const PUBLIC_BODY_LIMIT: usize = 64 * 1024;

/// The quiz editor sends a whole quiz at once, form-encoded: up to 100
/// questions and 50 outcome pages of 20,000 characters each.
const QUIZ_SAVE_LIMIT: usize = 4 * 1024 * 1024;

/// What every route and layer is handed. Each request clones it once per
/// layer and again per extractor, so it is one shared pointer: copying
/// the fields themselves (the Leptos options' strings, the context's
/// counted handles) was about a third of the server's time on the quiz
/// page.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub leptos_options: LeptosOptions,
    pub ctx: AppContext,
    pub limiter: Arc<respond::PostLimiter>,
    /// Whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Arc<TrustedProxies>,
    /// Told whenever counts may have changed.
    pub changes: tokio::sync::broadcast::Sender<()>,
    /// Turns true when the server begins to stop, so open live streams end
    /// instead of holding the shutdown up.
    pub stopping: tokio::sync::watch::Receiver<bool>,
    pub first_pages: Arc<first_page::FirstPages>,
    pub assets: Arc<assets::Assets>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for AppContext {
    fn from_ref(state: &AppState) -> Self {
        state.ctx.clone()
    }
}

/// The visitor's address, for the per-address limits: the TCP peer, or
/// behind a trusted proxy the address it forwarded.
pub struct ClientIp(pub IpAddr);

impl axum::extract::FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        // A line that is not text stops the walk at the proxy that sent it.
        let forwarded: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .map(|v| v.to_str().unwrap_or(""))
            .collect();
        Ok(ClientIp(state.trusted_proxies.client(peer, &forwarded)))
    }
}

/// The page routes, worked out once per process. Working them out renders the
/// app with a process-wide switch that parks any page data first requested
/// meanwhile, forever: a second server started in the same process (as the
/// tests do) would freeze pages another server is rendering.
pub fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn router(
    ctx: AppContext,
    addr: SocketAddr,
    site_root: &Path,
    quiz_posts_per_minute: u32,
    trusted_proxies: TrustedProxies,
    changes: tokio::sync::broadcast::Sender<()>,
    stopping: tokio::sync::watch::Receiver<bool>,
) -> Router {
    let leptos_options = LeptosOptions::builder()
        .output_name("quizfunnel")
        .site_root(site_root.to_string_lossy().as_ref())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    let state = AppState(Arc::new(Shared {
        leptos_options,
        ctx,
        limiter: Arc::new(respond::PostLimiter::new(quiz_posts_per_minute)),
        trusted_proxies: Arc::new(trusted_proxies),
        changes,
        stopping,
        first_pages: Arc::default(),
        assets: Arc::default(),
    }));
    let routes = route_list();
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/login", post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/setup", post(auth::setup))
        .route("/invite/{token}", post(auth::accept_invitation))
        .route("/q/{slug}", post(respond::post_step))
        .route("/q/{slug}/result", post(respond::post_result))
        .route("/embed/{file}", get(embed::embed_script))
        .route("/embed-frame.js", get(embed::frame_script))
        .route("/pkg/{file}", get(assets::pkg))
        .route("/admin/leads/export.csv", get(leads_export::export))
        .route("/admin/live", get(live::live))
        // Reads its own bodies, up to 1 MB, instead of the global limit.
        .merge(ingest::routes())
        // Every request clones its route, closures and all: they hold the
        // shared state, so only a render copies what they take from it.
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let state = state.clone();
                move || provide_context(state.ctx.clone())
            },
            {
                let state = state.clone();
                move || shell(state.leptos_options.clone())
            },
        )
        // Pages the app's router knows but no route above serves render
        // here, so they need the app's context as much as the routes do.
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(
            {
                let state = state.clone();
                move || provide_context(state.ctx.clone())
            },
            shell,
        ))
        // Layers run bottom-up: headers outermost, then cross-site checks,
        // then the session, then the admin gate; innermost, a new visitor's
        // first page, so every layer above still applies to it.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            first_page::serve,
        ))
        .layer(middleware::from_fn(quiz_save_limit))
        .layer(middleware::from_fn(server_fn_status))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            respond::limit_quiz_calls,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::admin_gate,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::resolve_session,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            follow_renamed_quiz,
        ))
        .layer(middleware::from_fn(security::same_origin_writes))
        .layer(middleware::from_fn(without_trailing_slash))
        .layer(middleware::from_fn(security::headers))
        .layer(DefaultBodyLimit::max(PUBLIC_BODY_LIMIT))
        .with_state(state)
}

/// A quiz's public addresses with `slug` in them: its page, its result
/// and its embed script, as (before, after) the slug.
fn quiz_address(path: &str) -> Option<(&str, &str, &str)> {
    let (prefix, rest) = if let Some(rest) = path.strip_prefix("/q/") {
        ("/q/", rest)
    } else {
        ("/embed/", path.strip_prefix("/embed/")?)
    };
    let (slug, tail) = match prefix {
        "/q/" => match rest.split_once('/') {
            Some((slug, "result")) => (slug, "/result"),
            Some(_) => return None,
            None => (rest, ""),
        },
        _ => (rest.strip_suffix(".js")?, ".js"),
    };
    (!slug.is_empty()).then_some((prefix, slug, tail))
}

/// Links and embeds made before a quiz was renamed: where the old
/// address finds no quiz, they go on to the quiz's address now. Asked
/// only of pages not found, so found pages pay nothing for it.
async fn follow_renamed_quiz(
    State(state): State<AppState>,
    req: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    let read = matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    );
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let res = next.run(req).await;
    if !read || res.status() != StatusCode::NOT_FOUND {
        return res;
    }
    let Some((prefix, slug, tail)) = quiz_address(&path) else {
        return res;
    };
    let Ok(Some(now)) = state.ctx.store.renamed_quiz(slug).await else {
        return res;
    };
    let location = match query {
        Some(q) => format!("{prefix}{now}{tail}?{q}"),
        None => format!("{prefix}{now}{tail}"),
    };
    // Temporary: the quiz may be renamed back, or another quiz take the
    // old address, and a browser would keep a permanent redirect.
    redirect(StatusCode::TEMPORARY_REDIRECT, &location).unwrap_or(res)
}

/// A redirect to `location` (a path on this server), keeping the method.
fn redirect(status: StatusCode, location: &str) -> Option<axum::response::Response> {
    let to = axum::http::HeaderValue::from_str(location).ok()?;
    Some((status, [(axum::http::header::LOCATION, to)]).into_response())
}

/// Links to a page with a slash after it (`/q/growth/`, as site builders
/// and mail tools write them) go to the page; a 308 keeps a post a post.
/// A path that would start with `//` is left alone, so it can never
/// become a link to another site.
async fn without_trailing_slash(
    req: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    let path = req.uri().path();
    let trimmed = path.trim_end_matches('/');
    // Browsers read `/\` as `//` too.
    let elsewhere = trimmed.starts_with("//") || trimmed.starts_with("/\\");
    if trimmed.len() == path.len() || trimmed.is_empty() || elsewhere {
        return next.run(req).await;
    }
    let location = match req.uri().query() {
        Some(q) => format!("{trimmed}?{q}"),
        None => trimmed.to_string(),
    };
    match redirect(StatusCode::PERMANENT_REDIRECT, &location) {
        Some(res) => res,
        None => next.run(req).await,
    }
}

/// Server functions refuse arguments they cannot read before any of our
/// code runs, and the framework answers that with 500; the error in the
/// body says it was the caller's mistake, so the status says so too.
async fn server_fn_status(
    req: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    let path = req.uri().path();
    let server_fn = path.starts_with("/api/") && !path.starts_with("/api/v1/");
    let res = next.run(req).await;
    if !server_fn || res.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, PUBLIC_BODY_LIMIT).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Ok(e) = serde_json::from_slice::<quizfunnel_app::error::AppError>(&bytes)
        && let Ok(code) = StatusCode::from_u16(e.status())
    {
        parts.status = code;
    }
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Lets a marketer's saved quiz past [`PUBLIC_BODY_LIMIT`]: runs inside
/// that layer, so its limit is the one the server function reads its body
/// with. Anyone else keeps the public limit: the server function reads
/// the body before it can refuse them.
async fn quiz_save_limit(
    req: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    use quizfunnel::account::Role;
    use quizfunnel_app::auth::ssr::CurrentUser;
    use tower::{Layer, ServiceExt};
    let marketer = req
        .extensions()
        .get::<CurrentUser>()
        .is_some_and(|c| matches!(c.user.role, Role::Marketer | Role::Owner));
    if !marketer || req.uri().path() != "/api/quizzes/save" {
        return next.run(req).await;
    }
    let mut next = Some(next);
    let limited = DefaultBodyLimit::max(QUIZ_SAVE_LIMIT).layer(tower::service_fn(
        move |req: axum::extract::Request| {
            let next = next.take();
            async move {
                Ok::<_, std::convert::Infallible>(match next {
                    Some(next) => next.run(req).await,
                    // A oneshot service is called once.
                    None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                })
            }
        },
    ));
    match limited.oneshot(req).await {
        Ok(res) => res,
        Err(never) => match never {},
    }
}

/// The process is up; says nothing about the database.
async fn healthz() -> &'static str {
    "ok"
}

/// Ready to serve: the database answers and every migration is applied.
async fn readyz(State(ctx): State<AppContext>) -> impl IntoResponse {
    let store = &ctx.store;
    match store.readiness().await {
        Ok(()) => (
            StatusCode::OK,
            Json(serde_json::json!({"status": "ready", "database": store.backend()})),
        ),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"status": "unavailable", "error": reason})),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::quiz_address;

    #[test]
    fn a_quiz_address_names_its_slug() {
        assert_eq!(quiz_address("/q/growth"), Some(("/q/", "growth", "")));
        assert_eq!(
            quiz_address("/q/growth/result"),
            Some(("/q/", "growth", "/result"))
        );
        assert_eq!(
            quiz_address("/embed/growth.js"),
            Some(("/embed/", "growth", ".js"))
        );
        for other in [
            "/q/",
            "/q/growth/other",
            "/embed/growth.css",
            "/embed/.js",
            "/admin/q/x",
        ] {
            assert_eq!(quiz_address(other), None, "{other}");
        }
    }
}
