//! `/admin/leads/export.csv`: every lead of a list view (not just a page)
//! as CSV, read a batch at a time and streamed, so the largest list never
//! sits in memory.

use super::csv::{self, cell};
use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use quizfunnel::lead::{Lead, LeadFilter};
use quizfunnel::time::format_iso;
use quizfunnel_app::auth::ssr::CurrentUser;
use quizfunnel_app::state::AppContext;

const BATCH: u32 = 1000;

/// Opens with a byte-order mark: without it, spreadsheets read the file
/// in the machine's own encoding and garble accented names.
const HEADER: &str = "\u{FEFF}contact_id,email,name,company,tier,next_step,score,category_scores,\
entered_tier_at,last_activity,status,owner,utm_source,utm_medium,utm_campaign,hidden_fields\r\n";

fn row(l: &Lead) -> String {
    let categories = l
        .categories
        .iter()
        .map(|(c, v)| format!("{c}={v}"))
        .collect::<Vec<_>>()
        .join(";");
    let fields = [
        l.contact_id.to_string(),
        l.email.clone().unwrap_or_default(),
        l.name.clone().unwrap_or_default(),
        l.company.clone().unwrap_or_default(),
        l.tier_slug.clone(),
        l.next_step.clone(),
        l.score.to_string(),
        categories,
        format_iso(l.placed_at),
        format_iso(l.last_seen),
        l.status.as_str().to_string(),
        l.owner_email.clone().unwrap_or_default(),
        l.hidden("utm_source").unwrap_or_default(),
        l.hidden("utm_medium").unwrap_or_default(),
        l.hidden("utm_campaign").unwrap_or_default(),
        l.hidden_fields.clone(),
    ];
    let mut line = fields.iter().map(|f| cell(f)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

pub async fn export(
    State(ctx): State<AppContext>,
    user: Option<Extension<CurrentUser>>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(Extension(user)) = user else {
        return (StatusCode::UNAUTHORIZED, "Sign in to export leads.").into_response();
    };
    let pairs: Vec<(String, String)> =
        match serde_urlencoded::from_str(query.as_deref().unwrap_or("")) {
            Ok(p) => p,
            Err(_) => {
                return (
                    StatusCode::BAD_REQUEST,
                    "The export's filters cannot be read.",
                )
                    .into_response();
            }
        };
    let mut filter =
        match LeadFilter::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
            Ok(f) => f,
            Err(e) => {
                return (
                    StatusCode::BAD_REQUEST,
                    format!("{}: {}", e.field, e.message),
                )
                    .into_response();
            }
        };
    // The whole view, from its first row.
    filter.after = None;
    let me = user.user.id;
    csv::download("leads.csv", HEADER, filter, move |mut filter| {
        let ctx = ctx.clone();
        async move {
            let batch = ctx
                .store
                .leads(&filter, me, BATCH)
                .await
                .map_err(|e| e.to_string())?;
            let last = batch.len() < BATCH as usize;
            filter.after = batch.last().map(|l| l.cursor(filter.sort));
            let rows = batch.iter().map(row).collect();
            Ok((rows, (!last).then_some(filter)))
        }
    })
}
