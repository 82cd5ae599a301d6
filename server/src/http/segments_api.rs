//! Segments for other systems (SPEC §4, API key): the list with live counts
//! and each segment's members, as paginated JSON or as one CSV download.

use super::ingest::{ApiError, ServerKey};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use quizfunnel::contact::ContactSummary;
use quizfunnel::rule::Rule;
use quizfunnel_app::state::AppContext;
use serde_json::json;

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

/// One CSV field: quoted when it needs to be, and with formulas
/// neutralised so opening the file never runs what a respondent typed.
pub(super) fn cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

async fn members_csv(
    State(ctx): State<AppContext>,
    Path(slug): Path<String>,
    _: ServerKey,
) -> Response {
    let csv = async {
        let rule = rule_for(&ctx, &slug).await?;
        let now = ctx.clock.now();
        let mut out = String::from("id,email,name,first_seen,last_seen\r\n");
        let mut after = 0;
        loop {
            let batch = ctx
                .store
                .members_matching(&rule, now, after, CSV_BATCH)
                .await?;
            for c in &batch {
                out.push_str(&format!(
                    "{},{},{},{},{}\r\n",
                    c.id,
                    cell(c.email.as_deref().unwrap_or("")),
                    cell(c.name.as_deref().unwrap_or("")),
                    c.first_seen,
                    c.last_seen
                ));
            }
            match batch.last() {
                Some(last) if batch.len() == CSV_BATCH as usize => after = last.id,
                _ => break,
            }
        }
        Ok::<_, ApiError>(out)
    };
    match csv.await {
        Ok(bytes) => {
            let mut res = bytes.into_response();
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            if let Ok(v) =
                HeaderValue::from_str(&format!("attachment; filename=\"{slug}-members.csv\""))
            {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            res
        }
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_in_cells_are_neutralised() {
        assert_eq!(cell("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(cell("@sum"), "'@sum");
        assert_eq!(cell("Ada"), "Ada");
        assert_eq!(cell("Lovelace, Ada \"A\""), "\"Lovelace, Ada \"\"A\"\"\"");
    }

    #[test]
    fn page_parameters_are_checked() {
        assert_eq!(page_params(None).ok(), Some((0, PAGE)));
        assert_eq!(page_params(Some("after=7&limit=5")).ok(), Some((7, 5)));
        assert!(page_params(Some("limit=0")).is_err());
        assert!(page_params(Some("limit=5000")).is_err());
        assert!(page_params(Some("after=x")).is_err());
    }
}
