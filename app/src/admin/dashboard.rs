//! `/admin`: each tier and segment with its count, kept live over
//! server-sent events from `/admin/live`; each tier's trend drawn on the
//! server; and a quiz's funnel. Every count links to the people behind it.

use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use quizfunnel::store::{Funnel, LiveCounts, Trend};
use quizfunnel::time::format_utc;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DashboardData {
    pub counts: LiveCounts,
    pub trends: Vec<Trend>,
    pub days: u32,
    pub counted_at: i64,
    /// Tiers holding fewer contacts are too small to act on or measure.
    pub small_tier: i64,
}

/// A quiz's funnel with what the page needs to label it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FunnelView {
    /// Published quizzes to choose from: (slug, title).
    pub quizzes: Vec<(String, String)>,
    pub quiz: Option<String>,
    pub funnel: Option<Funnel>,
    /// Each question's prompt, by key.
    pub prompts: Vec<(String, String)>,
}

#[server(endpoint = "dashboard")]
pub async fn dashboard(days: u32) -> Result<DashboardData, AppError> {
    crate::auth::ssr::require(|_| true, "see the dashboard")?;
    let ctx = crate::state::AppContext::get();
    let now = ctx.clock.now();
    let days = if days >= 90 { 90 } else { 30 };
    Ok(DashboardData {
        counts: ctx.store.live_counts().await?,
        trends: ctx.store.tier_trends(days, now).await?,
        days,
        counted_at: now,
        small_tier: ctx.store.small_tier().await?,
    })
}

/// The funnel of quiz `quiz` (the first published quiz when empty), for
/// respondents who started between `from` and `until` (`YYYY-MM-DD`, both
/// optional) and came from `source` (optional).
#[server(endpoint = "dashboard/funnel")]
pub async fn quiz_funnel(
    quiz: String,
    from: String,
    until: String,
    source: String,
) -> Result<FunnelView, AppError> {
    use crate::error::respond;
    use quizfunnel::store::{FunnelFilter, QuizStatus};
    crate::auth::ssr::require(|_| true, "see the dashboard")?;
    let ctx = crate::state::AppContext::get();
    let date = |field: &str, text: &str| -> Result<Option<i64>, AppError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        (text.len() == 10)
            .then(|| quizfunnel::time::parse_iso(text))
            .flatten()
            .map(Some)
            .ok_or_else(|| respond(AppError::invalid(field, "enter a date as YYYY-MM-DD")))
    };
    let filter = FunnelFilter {
        from: date("from", &from)?,
        until: date("until", &until)?.map(|d| d + quizfunnel::rule::DAY_MS - 1),
        utm_source: Some(source.trim().to_string()).filter(|s| !s.is_empty()),
    };
    let quizzes: Vec<(String, String)> = ctx
        .store
        .quiz_summaries()
        .await?
        .into_iter()
        .filter(|q| q.status == QuizStatus::Published)
        .map(|q| (q.slug, q.title))
        .collect();
    let chosen = if quiz.trim().is_empty() {
        quizzes.first().map(|(s, _)| s.clone())
    } else if quizzes.iter().any(|(s, _)| *s == quiz.trim()) {
        Some(quiz.trim().to_string())
    } else {
        return Err(respond(AppError::invalid(
            "quiz",
            "there is no published quiz with that address",
        )));
    };
    let (funnel, prompts) = match &chosen {
        Some(slug) => {
            let published = ctx.store.published_quiz(slug).await?;
            let questions: Vec<(String, String)> = published
                .map(|p| {
                    p.definition
                        .questions
                        .iter()
                        .map(|q| (q.key.clone(), q.prompt.clone()))
                        .collect()
                })
                .unwrap_or_default();
            let order: Vec<String> = questions.iter().map(|(k, _)| k.clone()).collect();
            (
                Some(ctx.store.funnel(slug, &order, &filter).await?),
                questions,
            )
        }
        None => (None, Vec::new()),
    };
    Ok(FunnelView {
        quizzes,
        quiz: chosen,
        funnel,
        prompts,
    })
}

#[component]
pub fn AdminHome() -> impl IntoView {
    let query = use_query_map();
    let days = move || query.with(|q| q.get("days").and_then(|d| d.parse().ok()).unwrap_or(30));
    let data = Resource::new(days, dashboard);
    view! {
        <Title text="Dashboard · quizfunnel" />
        <main class="page dashboard">
            <h1>"Dashboard"</h1>
            <Suspense fallback=|| view! { <p>"Counting…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                        Ok(d) => view! {
                            <LiveCountsView initial=d.counts.clone() counted_at=d.counted_at small_tier=d.small_tier />
                            <TrendSection trends=d.trends days=d.days />
                        }.into_any(),
                    }
                })}
            </Suspense>
            <FunnelSection />
        </main>
    }
}

/// Whether the push of counts is connected, as the label says it.
#[derive(Clone, Copy, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Feed {
    /// Server-rendered, before the browser connects (or without JavaScript).
    Snapshot,
    Live,
    Reconnecting,
}

#[component]
fn LiveCountsView(initial: LiveCounts, counted_at: i64, small_tier: i64) -> impl IntoView {
    let counts = RwSignal::new(initial);
    let feed = RwSignal::new(Feed::Snapshot);
    #[cfg(feature = "hydrate")]
    connect_live(counts, feed);
    let label = move || {
        let rebuilding = counts.with(|c| c.segments.iter().filter_map(|s| s.rebuilding).min());
        match (feed.get(), rebuilding) {
            (Feed::Reconnecting, _) => "Reconnecting…".to_string(),
            (_, Some(p)) => format!("Rebuilding {p}%"),
            (Feed::Live, None) => "Live".to_string(),
            (Feed::Snapshot, None) => format!("Counted {}", format_utc(counted_at)),
        }
    };
    let tiers = move || {
        let tiers = counts.with(|c| c.tiers.clone());
        let placed: i64 = tiers.iter().map(|t| t.leads).sum();
        tiers
            .into_iter()
            .map(|t| {
                let share = if placed > 0 { t.leads * 100 / placed } else { 0 };
                let href = format!("/admin/leads?tier={}", t.slug);
                let warning = (t.leads < small_tier).then(|| {
                    view! { <p class="warning">{format!("Fewer than {small_tier} contacts: too few to act on or measure.")}</p> }
                });
                view! {
                    <li class="tier" data-tier=t.slug.clone()>
                        <h3><a href=href.clone()>{t.name.clone()}</a></h3>
                        <p class="count">
                            <a class="number" href=href aria-label=format!("{} leads in {}", t.leads, t.name)>{t.leads}</a>
                            " contacts · "{format!("{share}%")}
                        </p>
                        <p class="muted">{format!("Next step: {}", t.next_step.replace('_', " "))}</p>
                        {warning}
                    </li>
                }
            })
            .collect_view()
    };
    let segments = move || {
        counts
            .with(|c| c.segments.clone())
            .into_iter()
            .map(|s| {
                let members = format!("/admin/leads?tier=all&segment={}", s.slug);
                let status = s.rebuilding.map(|p| format!(" (rebuilding {p}%)"));
                view! {
                    <tr data-segment=s.slug.clone()>
                        <td><a href=members.clone()>{s.name.clone()}</a></td>
                        <td class="number"><a href=members aria-label=format!("{} members of {}", s.members, s.name)>{s.members}</a>{status}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <p class="freshness" role="status" aria-live="polite">{label}</p>
        <section aria-labelledby="tiers-heading">
            <h2 id="tiers-heading">"Tiers"</h2>
            <p class="muted">"Each respondent's latest completion places them in the first tier they match."</p>
            <ol class="tiers">{tiers}</ol>
        </section>
        <section aria-labelledby="segments-heading">
            <h2 id="segments-heading">"Segments"</h2>
            <div class="table-scroll">
                <table class="list">
                    <thead><tr><th scope="col">"Segment"</th><th scope="col">"Contacts"</th></tr></thead>
                    <tbody>{segments}</tbody>
                </table>
            </div>
        </section>
    }
}

/// Listens to `/admin/live` for new counts; the browser reconnects by
/// itself when the server restarts.
#[cfg(feature = "hydrate")]
fn connect_live(counts: RwSignal<LiveCounts>, feed: RwSignal<Feed>) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    let Ok(source) = web_sys::EventSource::new("/admin/live") else {
        return;
    };
    let on_counts =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            if let Some(text) = e.data().as_string()
                && let Ok(c) = serde_json::from_str::<LiveCounts>(&text)
            {
                counts.set(c);
                feed.set(Feed::Live);
            }
        });
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| feed.set(Feed::Reconnecting));
    let _ = source.add_event_listener_with_callback("counts", on_counts.as_ref().unchecked_ref());
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_counts.forget();
    on_error.forget();
    let source = send_wrapper::SendWrapper::new(source);
    on_cleanup(move || source.close());
}

#[component]
fn TrendSection(trends: Vec<Trend>, days: u32) -> impl IntoView {
    let other = if days == 30 { 90 } else { 30 };
    view! {
        <section aria-labelledby="trends-heading">
            <h2 id="trends-heading">{format!("Tiers over the last {days} days")}</h2>
            <p><a href=format!("/admin?days={other}")>{format!("Show the last {other} days")}</a></p>
            {trend_chart(&trends, days)}
        </section>
    }
}

const CHART_W: f64 = 640.0;
const CHART_H: f64 = 220.0;
const PAD_L: f64 = 48.0;
const PAD_B: f64 = 28.0;
const PAD_T: f64 = 12.0;

/// The trend as SVG drawn on the server: one line per tier, labelled axes,
/// and the numbers as a table for those who cannot see the chart.
fn trend_chart(trends: &[Trend], days: u32) -> AnyView {
    let points: Vec<&(i64, i64)> = trends.iter().flat_map(|t| &t.days).collect();
    let (Some(first), Some(last)) = (
        points.iter().map(|(d, _)| *d).min(),
        points.iter().map(|(d, _)| *d).max(),
    ) else {
        return view! { <p>"No history yet: counts are recorded each minute from now on."</p> }
            .into_any();
    };
    let top = points.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let span = (last - first).max(1) as f64;
    let x = move |day: i64| PAD_L + (day - first) as f64 / span * (CHART_W - PAD_L - 8.0);
    let y = move |n: i64| PAD_T + (1.0 - n as f64 / top as f64) * (CHART_H - PAD_T - PAD_B);
    let day_label = |ms: i64| format_utc(ms)[..10].to_string();
    let summary = trends
        .iter()
        .map(|t| {
            let now = t.days.last().map(|(_, n)| *n).unwrap_or(0);
            let then = t.days.first().map(|(_, n)| *n).unwrap_or(0);
            format!("{}: {then} to {now}", t.name)
        })
        .collect::<Vec<_>>()
        .join("; ");
    let lines = trends
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let pts = t
                .days
                .iter()
                .map(|(d, n)| format!("{:.1},{:.1}", x(*d), y(*n)))
                .collect::<Vec<_>>()
                .join(" ");
            view! { <polyline class=format!("series series-{}", i % 6) points=pts fill="none" /> }
        })
        .collect_view();
    let legend = trends
        .iter()
        .enumerate()
        .map(|(i, t)| view! { <li><span class=format!("swatch series-{}", i % 6) aria-hidden="true"></span>{t.name.clone()}</li> })
        .collect_view();
    let table_days: Vec<i64> = {
        let mut d: Vec<i64> = points.iter().map(|(d, _)| *d).collect();
        d.sort_unstable();
        d.dedup();
        d
    };
    view! {
        <figure class="trend">
            <svg viewBox=format!("0 0 {CHART_W} {CHART_H}") role="img" aria-labelledby="trend-title trend-desc"
                preserveAspectRatio="xMidYMid meet">
                <title id="trend-title">{format!("Contacts per tier, last {days} days")}</title>
                <desc id="trend-desc">{summary}</desc>
                <line class="axis" x1=PAD_L y1=PAD_T x2=PAD_L y2=CHART_H - PAD_B />
                <line class="axis" x1=PAD_L y1=CHART_H - PAD_B x2=CHART_W - 8.0 y2=CHART_H - PAD_B />
                <text class="tick" x=PAD_L - 6.0 y=y(top) + 4.0 text-anchor="end">{top}</text>
                <text class="tick" x=PAD_L - 6.0 y=y(top / 2) + 4.0 text-anchor="end">{top / 2}</text>
                <text class="tick" x=PAD_L - 6.0 y=y(0) + 4.0 text-anchor="end">"0"</text>
                <text class="tick" x=PAD_L y=CHART_H - 8.0 text-anchor="start">{day_label(first)}</text>
                <text class="tick" x=CHART_W - 8.0 y=CHART_H - 8.0 text-anchor="end">{day_label(last)}</text>
                {lines}
            </svg>
            <figcaption><ul class="legend">{legend}</ul></figcaption>
        </figure>
        <details class="trend-numbers">
            <summary>"The numbers behind the chart"</summary>
            <div class="table-scroll">
                <table class="list">
                    <thead><tr>
                        <th scope="col">"Day"</th>
                        {trends.iter().map(|t| view! { <th scope="col">{t.name.clone()}</th> }).collect_view()}
                    </tr></thead>
                    <tbody>
                        {table_days.into_iter().rev().map(|d| view! {
                            <tr>
                                <th scope="row">{day_label(d)}</th>
                                {trends.iter().map(|t| {
                                    let n = t.days.iter().find(|(day, _)| *day == d).map(|(_, n)| n.to_string()).unwrap_or_default();
                                    view! { <td class="number">{n}</td> }
                                }).collect_view()}
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </details>
    }
    .into_any()
}

#[component]
fn FunnelSection() -> impl IntoView {
    let query = use_query_map();
    let params = move || {
        query.with(|q| {
            let get = |k: &str| q.get(k).unwrap_or_default();
            (get("quiz"), get("from"), get("until"), get("source"))
        })
    };
    let data = Resource::new(params, |(quiz, from, until, source)| {
        quiz_funnel(quiz, from, until, source)
    });
    view! {
        <section aria-labelledby="funnel-heading" class="funnel">
            <h2 id="funnel-heading">"Quiz funnel"</h2>
            <Suspense fallback=|| view! { <p>"Counting…"</p> }>
                {move || {
                    let (_, from, until, source) = params();
                    Suspend::new(async move {
                        match data.await {
                            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                            Ok(v) => funnel_view(v, from, until, source),
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

fn percent(part: i64, whole: i64) -> String {
    if whole > 0 {
        format!("{}%", part * 100 / whole)
    } else {
        "—".into()
    }
}

fn funnel_view(v: FunnelView, from: String, until: String, source: String) -> AnyView {
    let chosen = v.quiz.clone().unwrap_or_default();
    // Each "stopped" count links to those people, within the same filters.
    let stopped_at = crate::contacts::StopQuery {
        quiz: chosen.clone(),
        question: String::new(),
        started_from: from.clone(),
        started_until: until.clone(),
        source: source.clone(),
    };
    let form = view! {
        <form method="get" action="/admin" class="filters" aria-label="Funnel filters">
            <label for="funnel-quiz">"Quiz"</label>
            <select id="funnel-quiz" name="quiz">
                {v.quizzes.iter().map(|(slug, title)| view! {
                    <option value=slug.clone() selected=*slug == chosen>{title.clone()}</option>
                }).collect_view()}
            </select>
            <label for="funnel-from">"Started from"</label>
            <input id="funnel-from" name="from" type="date" value=from />
            <label for="funnel-until">"Started until"</label>
            <input id="funnel-until" name="until" type="date" value=until />
            <label for="funnel-source">"UTM source"</label>
            <input id="funnel-source" name="source" value=source placeholder="any" />
            <p><button type="submit">"Show funnel"</button></p>
        </form>
    };
    let Some(f) = v.funnel else {
        return view! { {form}<p>"No published quiz yet."</p> }.into_any();
    };
    let prompt = |key: &str| {
        v.prompts
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, p)| p.clone())
            .unwrap_or_else(|| key.to_string())
    };
    let rows = f
        .questions
        .iter()
        .map(|q| {
            view! {
                <tr>
                    <th scope="row">{prompt(&q.key)}</th>
                    <td class="number">{q.reached}</td>
                    <td class="number">{match q.stopped {
                        0 => view! { "0" }.into_any(),
                        n => {
                            let people = crate::contacts::StopQuery {
                                question: q.key.clone(),
                                ..stopped_at.clone()
                            };
                            let name = format!("{n} stopped at {}: see who", prompt(&q.key));
                            view! { <a href=people.href() aria-label=name>{n}</a> }.into_any()
                        }
                    }}</td>
                    <td class="number">{percent(q.stopped, q.reached)}</td>
                </tr>
            }
        })
        .collect_view();
    let tiers = f
        .tiers
        .iter()
        .map(|(slug, n)| {
            view! { <li><a href=format!("/admin/leads?tier={slug}")>{format!("{slug}: {n} ({})", percent(*n, f.completions))}</a></li> }
        })
        .collect_view();
    view! {
        {form}
        <p class="funnel-summary">{format!(
            "{} views · {} started · {} completed ({} of starts) · {} gave their email",
            f.views, f.starts, f.completions, percent(f.completions, f.starts), f.captured
        )}</p>
        <div class="table-scroll">
            <table class="list funnel-steps">
                <thead><tr>
                    <th scope="col">"Step"</th>
                    <th scope="col">"Reached"</th>
                    <th scope="col">"Stopped here"</th>
                    <th scope="col">"Drop-off"</th>
                </tr></thead>
                <tbody>
                    <tr><th scope="row">"Opened the quiz"</th><td class="number">{f.views}</td>
                        <td class="number">{f.views - f.starts}</td><td class="number">{percent(f.views - f.starts, f.views)}</td></tr>
                    {rows}
                    <tr><th scope="row">"Completed"</th><td class="number">{f.completions}</td><td></td><td></td></tr>
                    <tr><th scope="row">"Gave their email"</th><td class="number">{f.captured}</td><td></td><td></td></tr>
                </tbody>
            </table>
        </div>
        <h3>"Where completers were placed"</h3>
        <ul>{tiers}</ul>
    }
    .into_any()
}
