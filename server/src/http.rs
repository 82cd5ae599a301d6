//! The router: Leptos pages and server functions, plus the plain HTTP routes.

use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use quizfunnel::store::Store;
use quizfunnel_app::state::AppContext;
use quizfunnel_app::{App, shell};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: Arc<dyn Store>,
}

pub fn router(store: Arc<dyn Store>, addr: SocketAddr, site_root: &Path) -> Router {
    let leptos_options = LeptosOptions::builder()
        .output_name("quizfunnel")
        .site_root(site_root.to_string_lossy().as_ref())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    let state = AppState {
        leptos_options,
        store: store.clone(),
    };
    let context = AppContext { store };
    let routes = generate_route_list(App);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(context.clone()),
            {
                let options = state.leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state)
}

/// The process is up; says nothing about the database.
async fn healthz() -> &'static str {
    "ok"
}

/// Ready to serve: the database answers and every migration is applied.
async fn readyz(State(store): State<Arc<dyn Store>>) -> impl IntoResponse {
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
