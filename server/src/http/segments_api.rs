//! Segments for other systems (SPEC §4, API key): the list with live counts
//! and each segment's members, as paginated JSON or as one CSV download.

use super::csv::{self, cell};
use super::ingest::{ApiError, ServerKey};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use quizfunnel::contact::ContactSummary;
use quizfunnel::rule::Rule;
use quizfunnel_app::state::AppContext;
use serde_json::json;
use std::sync::Arc;

/// Members per JSON page unless the caller asks for fewer (or more, up to
/// the store's cap of 1,000).
const PAGE: u32 = 100;
/// The CSV is read from the store this many rows at a time.
const CSV_BATCH: u32 = 1000;

pub fn routes() -> Router<super::AppState> {
    Router::new()
        .route("/api/v1/segments", get(list))
        .route("/api/v1/segments/{slug}/members", get(members))
        .route("/api/v1/segments/{slug}/members.csv", get(members_csv))
}

async fn list(State(ctx): State<AppContext>, _: ServerKey) -> Response {
    match ctx.store.segments().await {
        Ok(segments) => Json(
            segments
                .into_iter()
                .map(|s| {
                    json!({
                        "slug": s.slug,
                        "name": s.name,
                        "description": s.description,
                        "count": s.count,
                        "updated_at": s.updated_at,
                    })
                })
                .collect::<Vec<_>>(),
        )
        .into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The rule of the segment with this slug, or the refusal.
async fn rule_for(ctx: &AppContext, slug: &str) -> Result<Rule, ApiError> {
    ctx.store.segment_rule(slug).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("there is no segment with the slug \"{slug}\""),
        )
    })
}

/// `after` (a contact id) and `limit` from the query string.
fn page_params(query: Option<&str>) -> Result<(i64, u32), ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "the query string is malformed"))?;
    let mut after = 0;
    let mut limit = PAGE;
    for (k, v) in pairs {
        match k.as_str() {
            "after" => {
                after = v.parse().map_err(|_| {
                    ApiError::field(
                        StatusCode::BAD_REQUEST,
                        "after",
                        "must be the id of the last contact of the previous page",
                    )
                })?
            }
            "limit" => {
                limit = v
                    .parse()
                    .ok()
                    .filter(|l| (1..=1000).contains(l))
                    .ok_or_else(|| {
                        ApiError::field(
                            StatusCode::BAD_REQUEST,
                            "limit",
                            "must be a number from 1 to 1000",
                        )
                    })?
            }
            _ => {}
        }
    }
    Ok((after, limit))
}

fn member_json(c: &ContactSummary) -> serde_json::Value {
    json!({
        "id": c.id,
        "email": c.email,
        "name": c.name,
        "first_seen": c.first_seen,
        "last_seen": c.last_seen,
    })
}

async fn members(
    State(ctx): State<AppContext>,
    Path(slug): Path<String>,
    _: ServerKey,
    RawQuery(query): RawQuery,
) -> Response {
    let page = async {
        let rule = rule_for(&ctx, &slug).await?;
        let (after, limit) = page_params(query.as_deref())?;
        let members = ctx
            .store
            .members_matching(&rule, ctx.clock.now(), after, limit)
            .await?;
        // A full page may have more behind it; a short one is the last.
        let next_after = (members.len() == limit as usize)
            .then(|| members.last().map(|c| c.id))
            .flatten();
        Ok::<_, ApiError>(Json(json!({
            "members": members.iter().map(member_json).collect::<Vec<_>>(),
            "next_after": next_after,
        })))
    };
    match page.await {
        Ok(body) => body.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn members_csv(
    State(ctx): State<AppContext>,
    Path(slug): Path<String>,
    _: ServerKey,
) -> Response {
    let rule = match rule_for(&ctx, &slug).await {
        Ok(rule) => Arc::new(rule),
        Err(e) => return e.into_response(),
    };
    let now = ctx.clock.now();
    let next = move |after: i64| {
        let (ctx, rule) = (ctx.clone(), rule.clone());
        async move {
            let batch = ctx
                .store
                .members_matching(&rule, now, after, CSV_BATCH)
                .await
                .map_err(|e| e.to_string())?;
            let rows = batch
                .iter()
                .map(|c| {
                    format!(
                        "{},{},{},{},{}\r\n",
                        c.id,
                        cell(c.email.as_deref().unwrap_or("")),
                        cell(c.name.as_deref().unwrap_or("")),
                        c.first_seen,
                        c.last_seen
                    )
                })
                .collect();
            let more = batch
                .last()
                .filter(|_| batch.len() == CSV_BATCH as usize)
                .map(|last| last.id);
            Ok((rows, more))
        }
    };
    csv::download(
        &format!("{slug}-members.csv"),
        "id,email,name,first_seen,last_seen\r\n",
        0,
        next,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_parameters_are_checked() {
        assert_eq!(page_params(None).ok(), Some((0, PAGE)));
        assert_eq!(page_params(Some("after=7&limit=5")).ok(), Some((7, 5)));
        assert!(page_params(Some("limit=0")).is_err());
        assert!(page_params(Some("limit=5000")).is_err());
        assert!(page_params(Some("after=x")).is_err());
    }
}
