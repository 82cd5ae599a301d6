//! Rendering a Leptos page in reply to a plain form post.

use super::AppState;
use axum::body::Body;
use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::response::Response;
use leptos::prelude::provide_context;
use quizfunnel_app::shell;

/// Renders the page at this request's path as if it were fetched, with
/// `extra` context (what the post produced), under `status`: so a refused
/// post shows its message without JavaScript and without a redirect.
pub async fn page(
    state: &AppState,
    parts: &Parts,
    status: StatusCode,
    extra: impl Fn() + Clone + Send + Sync + 'static,
) -> Response {
    let ctx = state.ctx.clone();
    let options = state.leptos_options.clone();
    let render = leptos_axum::render_app_async_with_context(
        move || {
            provide_context(ctx.clone());
            extra();
        },
        move || shell(options.clone()),
    );
    let mut req = Request::builder()
        .method(Method::GET)
        .uri(parts.uri.clone())
        .body(Body::empty())
        .expect("a GET request for a known URI");
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_LENGTH && name != header::CONTENT_TYPE {
            req.headers_mut().append(name, value.clone());
        }
    }
    req.extensions_mut().extend(parts.extensions.clone());
    let mut res = render(req).await;
    *res.status_mut() = status;
    res
}
