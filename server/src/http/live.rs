//! `/admin/live`: the dashboard's counts as server-sent events, sent on
//! connecting and again whenever they may have changed (on Postgres, in
//! any instance). Browsers reconnect by themselves after a restart.

use super::AppState;
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use quizfunnel_app::auth::ssr::CurrentUser;
use quizfunnel_app::state::AppContext;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::{Receiver, error::RecvError, error::TryRecvError};

/// Changes arriving this close together are sent as one update.
const SETTLE: Duration = Duration::from_millis(100);

async fn counts_event(ctx: &AppContext) -> Event {
    match ctx.store.live_counts().await {
        Ok(counts) => Event::default()
            .event("counts")
            .retry(Duration::from_secs(1))
            .json_data(&counts)
            .unwrap_or_else(|_| Event::default().comment("counts could not be written")),
        Err(e) => {
            tracing::warn!(error = %e, "live counts not read");
            Event::default()
                .event("stale")
                .data("counts could not be read")
        }
    }
}

/// Waits for the next change, then lets a burst settle. `false`: the
/// server is stopping.
async fn next_change(changes: &mut Receiver<()>) -> bool {
    match changes.recv().await {
        Ok(()) | Err(RecvError::Lagged(_)) => {}
        Err(RecvError::Closed) => return false,
    }
    tokio::time::sleep(SETTLE).await;
    loop {
        match changes.try_recv() {
            Ok(()) | Err(TryRecvError::Lagged(_)) => continue,
            Err(TryRecvError::Empty) => return true,
            Err(TryRecvError::Closed) => return false,
        }
    }
}

pub async fn live(State(state): State<AppState>, user: Option<Extension<CurrentUser>>) -> Response {
    if user.is_none() {
        return (StatusCode::UNAUTHORIZED, "Sign in to see live counts.").into_response();
    }
    let changes = state.changes.subscribe();
    let stream = futures_util::stream::unfold(
        (state.ctx.clone(), changes, state.stopping.clone(), true),
        |(ctx, mut changes, mut stopping, first)| async move {
            if !first {
                tokio::select! {
                    more = next_change(&mut changes) => if !more { return None },
                    // The browser reconnects, to this server's successor.
                    _ = stopping.wait_for(|s| *s) => return None,
                }
            }
            let event = counts_event(&ctx).await;
            Some((Ok::<_, Infallible>(event), (ctx, changes, stopping, false)))
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}
