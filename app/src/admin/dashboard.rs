//! `/admin`: the tier playbook and every segment with its count now.

use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use quizfunnel::store::{SegmentSummary, TierSummary};
use serde::{Deserialize, Serialize};

/// Tiers holding fewer contacts than this are too small to act on or
/// measure (the playbook's advice).
pub const SMALL_TIER: i64 = 30;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DashboardData {
    pub tiers: Vec<TierSummary>,
    pub segments: Vec<SegmentSummary>,
    pub counted_at: i64,
}

#[server(endpoint = "dashboard")]
pub async fn dashboard() -> Result<DashboardData, AppError> {
    crate::auth::ssr::require(|_| true, "see the dashboard")?;
    let ctx = crate::state::AppContext::get();
    let now = ctx.clock.now();
    Ok(DashboardData {
        tiers: ctx.store.playbook(now).await?,
        segments: ctx.store.segments(now).await?,
        counted_at: now,
    })
}

#[component]
pub fn AdminHome() -> impl IntoView {
    let data = Resource::new(|| (), |_| dashboard());
    view! {
        <Title text="Dashboard · quizfunnel" />
        <main class="page">
            <h1>"Dashboard"</h1>
            <Suspense fallback=|| view! { <p>"Counting…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                        Ok(d) => view! { <Playbook d=d /> }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn Playbook(d: DashboardData) -> impl IntoView {
    let placed: i64 = d.tiers.iter().map(|t| t.placed).sum();
    let tiers = d
        .tiers
        .into_iter()
        .map(|t| {
            let share = if placed > 0 { t.placed * 100 / placed } else { 0 };
            let warning = (t.placed < SMALL_TIER).then(|| {
                view! { <p class="warning">{format!("Fewer than {SMALL_TIER} contacts: too few to act on or measure.")}</p> }
            });
            view! {
                <li class="tier">
                    <h3>{t.segment.name.clone()}</h3>
                    <p class="count"><span class="number">{t.placed}</span>" contacts · "{format!("{share}%")}</p>
                    <p class="muted">{format!("Next step: {}", t.next_step.replace('_', " "))}</p>
                    {warning}
                </li>
            }
        })
        .collect_view();
    let segments = d
        .segments
        .into_iter()
        .map(|s| {
            view! {
                <tr>
                    <td>{s.name.clone()}</td>
                    <td><code>{s.rule.to_string()}</code></td>
                    <td class="number">{s.count}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="tiers-heading">
            <h2 id="tiers-heading">"Tiers"</h2>
            <p class="muted">{format!("{placed} contacts placed; first matching tier wins. Counted {}.", quizfunnel::time::format_utc(d.counted_at))}</p>
            <ol class="tiers">{tiers}</ol>
        </section>
        <section aria-labelledby="segments-heading">
            <h2 id="segments-heading">"Segments"</h2>
            <table class="list">
                <thead><tr><th scope="col">"Segment"</th><th scope="col">"Rule"</th><th scope="col">"Contacts"</th></tr></thead>
                <tbody>{segments}</tbody>
            </table>
        </section>
    }
}
