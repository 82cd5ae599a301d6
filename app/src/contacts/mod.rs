//! `/admin/contacts`: the contact list with search and filters, and one
//! contact's profile, quiz answers and event timeline.
//!
//! Everything a contact or a tracked site sent is shown as text, never as
//! markup: Leptos escapes it, and event properties are printed as JSON.

pub mod api;

use crate::auth::api::me;
use crate::encode;
use crate::error::{AppError, error_view};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use quizfunnel::contact::{ContactProfile, TimelinePage};
use quizfunnel::time::format_utc;

#[derive(Clone, Default, PartialEq)]
struct ListQuery {
    search: String,
    attr_key: String,
    attr_value: String,
    completed: bool,
    from: String,
    until: String,
    /// Where the page starts: a `ListCursor` from the page before.
    after: String,
    /// A funnel's "stopped here", kept through the other filters.
    stop: StopQuery,
}

/// The query of a link from a funnel's "stopped" count.
#[derive(Clone, Default, PartialEq)]
pub struct StopQuery {
    pub quiz: String,
    pub question: String,
    pub started_from: String,
    pub started_until: String,
    pub source: String,
}

impl StopQuery {
    fn fields(&self) -> [(&'static str, &str); 5] {
        [
            ("quiz", &self.quiz),
            ("stopped_at", &self.question),
            ("started_from", &self.started_from),
            ("started_until", &self.started_until),
            ("source", &self.source),
        ]
    }

    /// The contact list of the people who stopped there.
    pub fn href(&self) -> String {
        format!("/admin/contacts?{}", self.query())
    }

    fn query(&self) -> String {
        self.fields()
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

impl ListQuery {
    fn href(&self, after: &str) -> String {
        let mut href = format!(
            "/admin/contacts?q={}&attr={}&value={}&completed={}&from={}&until={}&after={after}",
            encode(&self.search),
            encode(&self.attr_key),
            encode(&self.attr_value),
            if self.completed { "on" } else { "" },
            encode(&self.from),
            encode(&self.until),
        );
        let stop = self.stop.query();
        if !stop.is_empty() {
            href.push('&');
            href.push_str(&stop);
        }
        href
    }
}

#[component]
pub fn ContactsPage() -> impl IntoView {
    let query = use_query_map();
    let current = move || {
        query.with(|q| {
            let get = |k: &str| q.get(k).unwrap_or_default();
            ListQuery {
                search: get("q"),
                attr_key: get("attr"),
                attr_value: get("value"),
                completed: !get("completed").is_empty(),
                from: get("from"),
                until: get("until"),
                after: get("after"),
                stop: StopQuery {
                    quiz: get("quiz"),
                    question: get("stopped_at"),
                    started_from: get("started_from"),
                    started_until: get("started_until"),
                    source: get("source"),
                },
            }
        })
    };
    // Empty stop fields are no stop: the server reads them so.
    let list = Resource::new(current, |q| {
        let stop = q.stop;
        api::list_contacts(
            q.search,
            q.attr_key,
            q.attr_value,
            q.completed,
            q.from,
            q.until,
            q.after,
            Some(stop.quiz),
            Some(stop.question),
            Some(stop.started_from),
            Some(stop.started_until),
            Some(stop.source),
        )
    });
    view! {
        <Title text="Contacts · quizfunnel" />
        <main class="page">
            <h1>"Contacts"</h1>
            {move || {
                let q = current();
                view! {
                    <form method="get" action="/admin/contacts" class="filters" role="search">
                        <label for="contact-search">"Search email or name"</label>
                        <input id="contact-search" name="q" type="search" value=q.search />
                        <label for="contact-attr">"Attribute"</label>
                        <input id="contact-attr" name="attr" value=q.attr_key placeholder="e.g. plan" />
                        <label for="contact-value">"Attribute value"</label>
                        <input id="contact-value" name="value" value=q.attr_value placeholder="any value" />
                        <label for="contact-from">"Last seen from"</label>
                        <input id="contact-from" name="from" type="date" value=q.from />
                        <label for="contact-until">"Last seen until"</label>
                        <input id="contact-until" name="until" type="date" value=q.until />
                        <label class="check">
                            <input type="checkbox" name="completed" checked=q.completed />
                            " Has completed a quiz"
                        </label>
                        {q.stop.fields().into_iter().filter(|(_, v)| !v.is_empty()).map(|(name, value)| view! {
                            <input type="hidden" name=name value=value.to_string() />
                        }).collect_view()}
                        <p><button type="submit">"Filter"</button></p>
                    </form>
                }
            }}
            <Transition fallback=|| view! { <p>"Loading contacts…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Err(e) => error_view(&e),
                        Ok(api::Listed { list, stopped }) => {
                            let q = current();
                            let stop_note = stopped.map(|w| {
                                let mut within = Vec::new();
                                if !q.stop.started_from.is_empty() {
                                    within.push(format!("started from {}", q.stop.started_from));
                                }
                                if !q.stop.started_until.is_empty() {
                                    within.push(format!("started until {}", q.stop.started_until));
                                }
                                if !q.stop.source.is_empty() {
                                    within.push(format!("UTM source {}", q.stop.source));
                                }
                                let within = if within.is_empty() { String::new() } else { format!(" ({})", within.join(", ")) };
                                view! {
                                    <p class="notice" id="contacts-stop">
                                        {format!("Only people who stopped at “{}” in {}{within}, without finishing. ", w.prompt, w.quiz_title)}
                                        {(w.counted.sessions != w.counted.people).then(|| format!(
                                            "The funnel counts {} unfinished sessions here, from {} {}; each person is listed once. ",
                                            w.counted.sessions,
                                            w.counted.people,
                                            if w.counted.people == 1 { "person" } else { "people" },
                                        ))}
                                        <a href="/admin/contacts">"Show all contacts"</a>
                                    </p>
                                }
                            });
                            if list.contacts.is_empty() {
                                return view! { {stop_note}<p>"No contacts match."</p> }.into_any();
                            }
                            let first = (!q.after.is_empty()).then(|| q.href(""));
                            let next = list.next.map(|c| q.href(&c.to_string()));
                            view! {
                                {stop_note}
                                <p>{match list.total {
                                    1 => "1 contact, latest activity first".to_string(),
                                    n => format!("{n} contacts, latest activity first"),
                                }}</p>
                                <div class="table-scroll">
                                    <table class="list">
                                        <thead><tr><th scope="col">"Contact"</th><th scope="col">"Name"</th><th scope="col">"Last seen"</th><th scope="col">"First seen"</th></tr></thead>
                                        <tbody>
                                            {list.contacts.into_iter().map(|c| {
                                                let label = c.email.clone().unwrap_or_else(|| format!("Anonymous visitor #{}", c.id));
                                                view! {
                                                    <tr>
                                                        <td><a href=format!("/admin/contacts/{}", c.id)>{label}</a></td>
                                                        <td>{c.name.unwrap_or_default()}</td>
                                                        <td>{format_utc(c.last_seen)}</td>
                                                        <td>{format_utc(c.first_seen)}</td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                                <nav aria-label="Pages" class="pager">
                                    {first.map(|h| view! { <a href=h>"First page"</a> })}
                                    " "
                                    {next.map(|h| view! { <a href=h rel="next">"Next page"</a> })}
                                </nav>
                            }.into_any()
                        }
                    }
                })}
            </Transition>
        </main>
    }
}

#[component]
pub fn ContactPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.with(|p| p.get("id").and_then(|s| s.parse::<i64>().ok()).unwrap_or(0));
    let before = move || query.with(|q| q.get("before").unwrap_or_default());
    let profile = Resource::new(id, api::contact_details);
    let timeline = Resource::new(
        move || (id(), before()),
        |(id, b)| api::contact_timeline(id, b),
    );
    view! {
        <Title text="Contact · quizfunnel" />
        <main class="page">
            <p><a href="/admin/contacts">"← All contacts"</a></p>
            <Transition fallback=|| view! { <p>"Loading contact…"</p> }>
                {move || Suspend::new(async move {
                    match profile.await {
                        Err(AppError::NotFound) => view! {
                            <h1>"No such contact"</h1>
                            <p>"This contact does not exist. It may have been erased or merged into another."</p>
                        }.into_any(),
                        Err(e) => error_view(&e),
                        Ok(p) => view! { <Profile profile=p /> }.into_any(),
                    }
                })}
            </Transition>
            <crate::leads::LeadSection contact_id=Signal::derive(id) />
            <crate::admin::SegmentVerdicts contact_id=Signal::derive(id) />
            <section aria-labelledby="timeline-heading">
                <h2 id="timeline-heading">"Timeline"</h2>
                <Transition fallback=|| view! { <p>"Loading events…"</p> }>
                    {move || Suspend::new(async move {
                        match timeline.await {
                            Err(e) => error_view(&e),
                            Ok(page) => view! { <Timeline id=id() page /> }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </main>
    }
}

#[component]
fn Profile(profile: ContactProfile) -> impl IntoView {
    let p = profile;
    let id = p.summary.id;
    let title = p
        .summary
        .email
        .clone()
        .unwrap_or_else(|| format!("Anonymous visitor #{id}"));
    view! {
        <h1>{title}</h1>
        <dl class="facts">
            <dt>"Name"</dt><dd>{p.summary.name.clone().unwrap_or_else(|| "—".into())}</dd>
            <dt>"Consent"</dt><dd>{if p.consent { "given" } else { "not given" }}</dd>
            <dt>"First seen"</dt><dd>{format_utc(p.summary.first_seen)}</dd>
            <dt>"Last seen"</dt><dd>{format_utc(p.summary.last_seen)}</dd>
            <dt>"Events"</dt><dd class="event-count">{p.event_count}</dd>
            <dt>"Visitor ids"</dt><dd>{p.visitor_ids.join(", ")}</dd>
            <dt>"Segments"</dt><dd>{if p.segments.is_empty() { "none".to_string() } else { p.segments.join(", ") }}</dd>
            <dt>"First visit"</dt><dd><code>{p.hidden_fields.clone()}</code></dd>
        </dl>
        <section aria-labelledby="attributes-heading">
            <h2 id="attributes-heading">"Attributes"</h2>
            {if p.attributes.is_empty() {
                view! { <p>"No attributes."</p> }.into_any()
            } else {
                view! {
                    <div class="table-scroll">
                        <table class="list">
                            <thead><tr><th scope="col">"Name"</th><th scope="col">"Type"</th><th scope="col">"Value"</th></tr></thead>
                            <tbody>
                                {p.attributes.into_iter().map(|a| view! {
                                    <tr><td>{a.key}</td><td>{a.kind.as_str()}</td><td>{a.text}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
        <section aria-labelledby="sessions-heading">
            <h2 id="sessions-heading">"Quiz sessions"</h2>
            {if p.sessions.is_empty() {
                view! { <p>"No quiz taken yet."</p> }.into_any()
            } else {
                p.sessions.into_iter().map(|s| {
                    let status = match s.completed_at {
                        Some(at) => format!("completed {}", format_utc(at)),
                        None => "not finished".into(),
                    };
                    let score = s.score.map(|x| format!("score {x}")).unwrap_or_else(|| "no score".into());
                    let categories = s.category_scores.iter().map(|(c, x)| format!("{c} {x}")).collect::<Vec<_>>().join(", ");
                    view! {
                        <article class="session">
                            <h3>{format!("{} (version {})", s.quiz_title, s.version)}</h3>
                            <p>{format!("Started {} · {status} · {score}", format_utc(s.started_at))}
                                {(!categories.is_empty()).then(|| format!(" · {categories}"))}</p>
                            <div class="table-scroll">
                                <table class="list">
                                    <thead><tr><th scope="col">"Question"</th><th scope="col">"Answer"</th><th scope="col">"When"</th></tr></thead>
                                    <tbody>
                                        {s.answers.into_iter().map(|a| view! {
                                            <tr>
                                                <td>{a.question_key}</td>
                                                <td>{a.value_text.unwrap_or(a.option_key)}</td>
                                                <td>{format_utc(a.answered_at)}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        </article>
                    }
                }).collect_view().into_any()
            }}
        </section>
        <OwnerActions id />
    }
}

#[component]
fn Timeline(id: i64, page: TimelinePage) -> impl IntoView {
    if page.events.is_empty() {
        return view! { <p>"No events."</p> }.into_any();
    }
    let older = page
        .next
        .map(|c| format!("/admin/contacts/{id}?before={c}"));
    view! {
        <ol class="timeline">
            {page.events.into_iter().map(|e| view! {
                <li>
                    <time>{format_utc(e.occurred_at)}</time>" "
                    <strong class="event-name">{e.name}</strong>" "
                    <code class="event-properties">{e.properties}</code>
                </li>
            }).collect_view()}
        </ol>
        <nav aria-label="Timeline pages" class="pager">
            <a href=format!("/admin/contacts/{id}")>"Newest"</a>" "
            {older.map(|h| view! { <a href=h rel="next">"Older events"</a> })}
        </nav>
    }
    .into_any()
}

/// Export and erasure, shown to owners.
#[component]
fn OwnerActions(id: i64) -> impl IntoView {
    let user = Resource::new(|| (), |_| me());
    let export = ServerAction::<api::ExportContact>::new();
    let erase = ServerAction::<api::EraseContact>::new();
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let owner = user.await.ok().flatten().is_some_and(|u| u.role.can_administer());
                owner.then(|| view! {
                    <section aria-labelledby="privacy-heading">
                        <h2 id="privacy-heading">"Privacy"</h2>
                        <ActionForm action=export attr:class="inline">
                            <input type="hidden" name="id" value=id />
                            <button type="submit" class="secondary">"Export as JSON"</button>
                        </ActionForm>
                        {move || match export.value().get() {
                            Some(Ok(json)) => Some(view! {
                                <p><a download=format!("contact-{id}.json")
                                    href=format!("data:application/json;charset=utf-8,{}", encode(&json))>
                                    "Download the export"</a></p>
                            }.into_any()),
                            Some(Err(e)) => Some(error_view(&e)),
                            None => None,
                        }}
                        <ActionForm action=erase>
                            <input type="hidden" name="id" value=id />
                            <label class="check">
                                <input type="checkbox" required name="confirm" />
                                " I understand this deletes the contact, their events, answers and segment history for good"
                            </label>
                            <p><button type="submit" class="danger">"Erase this contact"</button></p>
                        </ActionForm>
                        {move || match erase.value().get() {
                            Some(Ok(_)) => Some(view! {
                                <p class="notice" role="status">"The contact and all their data were erased. "
                                    <a href="/admin/contacts">"Back to contacts"</a></p>
                            }.into_any()),
                            Some(Err(e)) => Some(error_view(&e)),
                            None => None,
                        }}
                    </section>
                })
            })}
        </Suspense>
    }
}
