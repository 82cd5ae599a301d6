//! `/admin/leads`: the sales lead lists, one per tier, filtered from the
//! address (so a view is a link to share), paged, exported as CSV; and on a
//! contact's page, the lead's status, owner and their history.

pub mod api;

use crate::error::{AppError, error_view};
use api::{LeadPage, LeadPanel};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;
use quizfunnel::lead::{Lead, LeadStatus};
use quizfunnel::time::format_utc;

fn get<'a>(view: &'a [(String, String)], key: &str) -> &'a str {
    view.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// The view with one key set to `value` (or removed when empty).
fn with(view: &[(String, String)], key: &str, value: &str) -> String {
    let mut pairs: Vec<(String, String)> = view.iter().filter(|(k, _)| k != key).cloned().collect();
    if !value.is_empty() {
        pairs.push((key.into(), value.into()));
    }
    api::query_string(&pairs)
}

fn score_text(score: f64) -> String {
    if score.fract() == 0.0 {
        format!("{score:.0}")
    } else {
        format!("{score:.1}")
    }
}

#[component]
pub fn LeadsPage() -> impl IntoView {
    let location = use_location();
    let query = move || location.search.get().trim_start_matches('?').to_string();
    let page = Resource::new(query, api::list_leads);
    view! {
        <Title text="Leads · quizfunnel" />
        <main class="page leads">
            <h1>"Leads"</h1>
            <Transition fallback=|| view! { <p>"Loading leads…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => lead_list(page),
                        Err(e) => view! {
                            {error_view(&e)}
                            <p><a href="/admin/leads">"Start again with the first tier"</a></p>
                        }.into_any(),
                    }
                })}
            </Transition>
        </main>
    }
}

fn lead_list(page: LeadPage) -> AnyView {
    let LeadPage {
        tiers,
        segment,
        view,
        leads,
        next,
        users,
    } = page;
    let tier = get(&view, "tier").to_string();
    let export = format!("/admin/leads/export.csv?{}", api::query_string(&view));
    let total: i64 = tiers.iter().map(|t| t.leads).sum();
    let tabs = {
        let view = view.clone();
        let tier = tier.clone();
        move || {
            let mut out: Vec<(String, String, i64)> = tiers
                .iter()
                .map(|t| (t.slug.clone(), t.name.clone(), t.leads))
                .collect();
            out.push(("all".into(), "All tiers".into(), total));
            out.into_iter()
                .map(|(slug, name, count)| {
                    let href = format!("/admin/leads?{}", with(&view, "tier", &slug));
                    let current = (slug == tier).then_some("page");
                    view! {
                        <li><a href=href aria-current=current>{format!("{name} ({count})")}</a></li>
                    }
                })
                .collect_view()
        }
    };
    let status = get(&view, "status").to_string();
    let owner = get(&view, "owner").to_string();
    let sort = get(&view, "sort").to_string();
    let first_page = format!("/admin/leads?{}", api::query_string(&view));
    let heading = match &segment {
        Some((_, name)) => view! {
            <h2>{format!("Members of {name}")}</h2>
            <p class="muted">"Everyone in the segment now; “entered” is when they entered it."</p>
        }
        .into_any(),
        None => view! { <nav aria-label="Tiers" class="tabs"><ul>{tabs()}</ul></nav> }.into_any(),
    };
    let segment_slug = segment.map(|(slug, _)| slug);
    view! {
        {heading}
        <form method="get" action="/admin/leads" class="filters" role="search" aria-label="Filter leads">
            <input type="hidden" name="tier" value=tier.clone() />
            {segment_slug.map(|s| view! { <input type="hidden" name="segment" value=s /> })}
            <label for="lead-search">"Search email, name or company"</label>
            <input id="lead-search" name="q" type="search" value=get(&view, "q").to_string() />
            <label for="lead-status">"Status"</label>
            <select id="lead-status" name="status">
                <option value="" selected=status.is_empty()>"Any status"</option>
                {LeadStatus::ALL.into_iter().map(|s| view! {
                    <option value=s.as_str() selected=status == s.as_str()>{s.label()}</option>
                }).collect_view()}
            </select>
            <label for="lead-owner">"Owner"</label>
            <select id="lead-owner" name="owner">
                <option value="" selected=owner.is_empty()>"Anyone"</option>
                <option value="me" selected=owner == "me">"My leads"</option>
                <option value="none" selected=owner == "none">"Nobody yet"</option>
                {users.into_iter().map(|(id, email)| {
                    let value = id.to_string();
                    let selected = owner == value;
                    view! { <option value=value selected=selected>{email}</option> }
                }).collect_view()}
            </select>
            <label for="lead-from">"Entered the tier from"</label>
            <input id="lead-from" name="from" type="date" value=get(&view, "from").to_string() />
            <label for="lead-until">"Entered the tier until"</label>
            <input id="lead-until" name="until" type="date" value=get(&view, "until").to_string() />
            <label for="lead-min">"Score at least"</label>
            <input id="lead-min" name="min" type="number" step="any" value=get(&view, "min").to_string() />
            <label for="lead-max">"Score at most"</label>
            <input id="lead-max" name="max" type="number" step="any" value=get(&view, "max").to_string() />
            <label for="lead-sort">"Sort by"</label>
            <select id="lead-sort" name="sort">
                <option value="" selected=sort.is_empty()>"Score, highest first"</option>
                <option value="recent" selected=sort == "recent">"Last activity, latest first"</option>
                <option value="entered" selected=sort == "entered">"Entered the tier, latest first"</option>
            </select>
            <p><button type="submit">"Show leads"</button></p>
        </form>
        <p><a class="button secondary" href=export download>"Export these leads (CSV)"</a></p>
        {if leads.is_empty() {
            view! { <p>"No leads match."</p> }.into_any()
        } else {
            view! {
                <div class="table-scroll">
                    <table class="list lead-list">
                        <thead><tr>
                            <th scope="col">"Lead"</th>
                            <th scope="col">"Company"</th>
                            <th scope="col">"Score"</th>
                            <th scope="col">"Tier"</th>
                            <th scope="col">"Entered tier"</th>
                            <th scope="col">"Last activity"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Owner"</th>
                            <th scope="col">"Source"</th>
                        </tr></thead>
                        <tbody>{leads.into_iter().map(lead_row).collect_view()}</tbody>
                    </table>
                </div>
            }.into_any()
        }}
        <nav aria-label="Pages" class="pager">
            <a href=first_page>"First page"</a>
            " "
            {next.map(|q| view! { <a href=format!("/admin/leads?{q}") rel="next">"Next page"</a> })}
        </nav>
    }
    .into_any()
}

fn lead_row(l: Lead) -> impl IntoView {
    let who = l
        .email
        .clone()
        .or(l.name.clone())
        .unwrap_or_else(|| format!("Contact #{}", l.contact_id));
    let categories = l
        .categories
        .iter()
        .map(|(c, v)| format!("{c} {}", score_text(*v)))
        .collect::<Vec<_>>()
        .join(", ");
    let source = l.hidden("utm_source").unwrap_or_default();
    view! {
        <tr>
            <td>
                <a href=format!("/admin/contacts/{}", l.contact_id)>{who}</a>
                {l.name.clone().filter(|_| l.email.is_some()).map(|n| view! { <br /><small>{n}</small> })}
            </td>
            <td>{l.company.clone().unwrap_or_default()}</td>
            <td class="count">{score_text(l.score)}
                {(!categories.is_empty()).then(|| view! { <br /><small>{categories}</small> })}
            </td>
            <td>{l.tier_name.clone()}</td>
            <td>{format_utc(l.placed_at)}</td>
            <td>{format_utc(l.last_seen)}</td>
            <td><span class=format!("status {}", l.status.as_str())>{l.status.label()}</span></td>
            <td>{l.owner_email.clone().unwrap_or_else(|| "—".into())}</td>
            <td>{source}</td>
        </tr>
    }
}

/// On a contact's page: the lead's tier, status and owner, the forms to
/// change them, and every change with who made it.
#[component]
pub fn LeadSection(#[prop(into)] contact_id: Signal<i64>) -> impl IntoView {
    let set_status = Action::new(move |(status, note): &(String, String)| {
        api::set_status(contact_id.get_untracked(), status.clone(), note.clone())
    });
    let set_owner = Action::new(move |(owner, note): &(String, String)| {
        api::set_owner(contact_id.get_untracked(), owner.clone(), note.clone())
    });
    // Which form was sent last: its outcome is the one shown. Kept here,
    // as the forms are drawn anew after each change.
    let owner_last = RwSignal::new(false);
    let panel = Resource::new(
        move || {
            (
                contact_id.get(),
                set_status.version().get(),
                set_owner.version().get(),
            )
        },
        |(id, _, _)| api::lead_details(id),
    );
    view! {
        <Transition fallback=|| view! { <p>"Loading the lead…"</p> }>
            {move || Suspend::new(async move {
                match panel.await {
                    Ok(LeadPanel { lead: None, .. }) => ().into_any(),
                    Ok(panel) => {
                        view! { <LeadForms panel set_status set_owner owner_last /> }.into_any()
                    }
                    Err(e) => error_view(&e),
                }
            })}
        </Transition>
    }
}

#[component]
fn LeadForms(
    panel: LeadPanel,
    set_status: Action<(String, String), Result<(), AppError>>,
    set_owner: Action<(String, String), Result<(), AppError>>,
    owner_last: RwSignal<bool>,
) -> impl IntoView {
    let LeadPanel {
        lead,
        history,
        users,
    } = panel;
    let Some(lead) = lead else {
        return ().into_any();
    };
    let status = RwSignal::new(lead.status.as_str().to_string());
    let owner = RwSignal::new(lead.owner_id.map(|o| o.to_string()).unwrap_or_default());
    let note = RwSignal::new(String::new());
    let outcome = move || {
        let result = if owner_last.get() {
            set_owner.value().get()
        } else {
            set_status.value().get()
        };
        match result {
            Some(Ok(())) => {
                Some(view! { <p class="notice" role="status">"Lead updated."</p> }.into_any())
            }
            Some(Err(e)) => Some(error_view(&e)),
            None => None,
        }
    };
    view! {
        <section aria-labelledby="lead-heading" class="lead-panel">
            <h2 id="lead-heading">"Lead"</h2>
            <p>{format!(
                "Tier: {} · next step {} · entered {} · score {}",
                lead.tier_name, lead.next_step, format_utc(lead.placed_at), score_text(lead.score)
            )}</p>
            <p class="lead-status">{format!("Status: {}", lead.status.label())}</p>
            <form on:submit=move |ev| {
                ev.prevent_default();
                owner_last.set(false);
                set_status.dispatch((status.get_untracked(), note.get_untracked()));
            }>
                <label for="lead-status-choice">"Move to"</label>
                <select id="lead-status-choice" prop:value=move || status.get()
                    on:change=move |ev| status.set(event_target_value(&ev))>
                    {LeadStatus::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str()>{s.label()}</option>
                    }).collect_view()}
                </select>
                <label for="lead-note">"Note (optional)"</label>
                <input id="lead-note" maxlength="1000" prop:value=move || note.get()
                    on:input=move |ev| note.set(event_target_value(&ev)) />
                <p><button type="submit" disabled=move || set_status.pending().get()>"Save status"</button></p>
            </form>
            <form on:submit=move |ev| {
                ev.prevent_default();
                owner_last.set(true);
                set_owner.dispatch((owner.get_untracked(), note.get_untracked()));
            }>
                <label for="lead-owner-choice">"Owner"</label>
                <select id="lead-owner-choice" prop:value=move || owner.get()
                    on:change=move |ev| owner.set(event_target_value(&ev))>
                    <option value="">"Nobody"</option>
                    {users.into_iter().map(|(id, email)| view! {
                        <option value=id.to_string()>{email}</option>
                    }).collect_view()}
                </select>
                <p><button type="submit" disabled=move || set_owner.pending().get()>"Assign"</button></p>
            </form>
            {outcome}
            <h3>"Status and owner history"</h3>
            {if history.is_empty() {
                view! { <p>"No changes yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="lead-history">
                        {history.into_iter().map(|h| {
                            let what = match (h.status, &h.owner_email) {
                                (Some(s), _) => format!("Status set to {}", s.label()),
                                (None, Some(o)) => format!("Given to {o}"),
                                (None, None) => "Owner removed".to_string(),
                            };
                            let who = h.actor_email.clone().unwrap_or_else(|| "the playbook".into());
                            let note = (!h.note.is_empty()).then(|| format!(" — “{}”", h.note));
                            view! { <li>{format!("{what} by {who}, {}", format_utc(h.at))}{note}</li> }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
    .into_any()
}
