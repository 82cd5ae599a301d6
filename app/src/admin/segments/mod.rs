//! `/admin/segments`: every segment with its live count; the editor at
//! `/admin/segments/{id}` (or `/new`) writes the rule in its text form and
//! shows, as it is typed, what it would match before it is saved.

pub mod actions;
pub mod api;
mod builder;

use crate::error::{AppError, error_view};
use crate::focus::{focus_soon, move_button};
use api::{RulePreview, SegmentEdit};
use builder::RuleBuilder;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};
use quizfunnel::contact::ContactSummary;
use quizfunnel::store::{SegmentSummary, Tier, TierSummary};

fn contact_label(c: &ContactSummary) -> String {
    c.email
        .clone()
        .or_else(|| c.name.clone())
        .unwrap_or_else(|| format!("Anonymous visitor #{}", c.id))
}

fn contact_links(contacts: Vec<ContactSummary>) -> impl IntoView {
    view! {
        <ul class="members">
            {contacts.into_iter().map(|c| view! {
                <li><a href=format!("/admin/contacts/{}", c.id)>{contact_label(&c)}</a></li>
            }).collect_view()}
        </ul>
    }
}

#[component]
pub fn SegmentsPage() -> impl IntoView {
    let list = Resource::new(|| (), |_| api::segments());
    view! {
        <Title text="Segments · quizfunnel" />
        <main class="page">
            <h1>"Segments"</h1>
            <p><a class="button" href="/admin/segments/new">"New segment"</a></p>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(list) if list.is_empty() => view! { <p>"No segments yet."</p> }.into_any(),
                        Ok(list) => {
                            let list_for_playbook = list.clone();
                            view! {
                            <div class="table-scroll">
                            <table class="list segment-list">
                                <thead><tr>
                                    <th scope="col">"Segment"</th>
                                    <th scope="col">"Rule"</th>
                                    <th scope="col">"Contacts"</th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|s| view! {
                                        <tr>
                                            <td><a href=format!("/admin/segments/{}", s.id)>{s.name.clone()}</a>
                                                <br /><small><code>{s.slug.clone()}</code></small></td>
                                            <td><code>{s.rule.to_string()}</code></td>
                                            <td class="count">{s.count}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            </div>
                            <PlaybookEditor segments=list_for_playbook />
                        }.into_any()
                        }
                        Err(e) => error_view(&e),
                    }
                })}
            </Transition>
        </main>
    }
}

#[component]
pub fn SegmentEditorPage() -> impl IntoView {
    let params = use_params_map();
    // `/admin/segments/new` has no id.
    let id = move || params.with(|p| p.get("id").and_then(|v| v.parse::<i64>().ok()));
    let loaded = Resource::new(id, |id| async move {
        match id {
            Some(id) => api::segment(id).await.map(Some),
            None => Ok(None),
        }
    });
    view! {
        <Transition fallback=|| view! { <main class="page"><p>"Loading…"</p></main> }>
            {move || Suspend::new(async move {
                match loaded.await {
                    Ok(edit) => view! { <SegmentEditor edit /> }.into_any(),
                    Err(e) => view! { <main class="page">{error_view(&e)}</main> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn SegmentEditor(edit: Option<SegmentEdit>) -> impl IntoView {
    let id = edit.as_ref().map(|e| e.segment.id);
    let own_slug = edit.as_ref().map(|e| e.segment.slug.clone());
    let own_slug_for_list = own_slug.clone();
    let name = RwSignal::new(
        edit.as_ref()
            .map(|e| e.segment.name.clone())
            .unwrap_or_default(),
    );
    let slug = RwSignal::new(own_slug.clone().unwrap_or_default());
    let builder_slug = own_slug.clone();
    let description = RwSignal::new(
        edit.as_ref()
            .map(|e| e.segment.description.clone())
            .unwrap_or_default(),
    );
    let text = RwSignal::new(edit.as_ref().map(|e| e.text.clone()).unwrap_or_default());
    let title = edit
        .as_ref()
        .map(|e| e.segment.name.clone())
        .unwrap_or_else(|| "New segment".into());
    let delete_name = title.clone();

    // What the rule on screen matches now, asked again once typing pauses:
    // each preview counts over every contact, and a half-typed rule's
    // error is only noise.
    let settled = RwSignal::new(text.get_untracked());
    Effect::new(move |_| {
        let typed = text.get();
        set_timeout(
            move || {
                if text.get_untracked() == typed && settled.get_untracked() != typed {
                    settled.set(typed);
                }
            },
            std::time::Duration::from_millis(400),
        );
    });
    let preview = Resource::new(
        move || settled.get(),
        move |t| {
            let slug = own_slug.clone();
            async move {
                if t.trim().is_empty() {
                    None
                } else {
                    Some(api::preview_rule(t, slug).await)
                }
            }
        },
    );
    let save = Action::new(move |_: &()| {
        api::save_segment(
            id,
            slug.get_untracked(),
            name.get_untracked(),
            description.get_untracked(),
            text.get_untracked(),
        )
    });
    // The saved members, read again after each save.
    let members = Resource::new(
        move || save.version().get(),
        move |_| async move {
            match id {
                Some(id) => api::segment(id)
                    .await
                    .ok()
                    .map(|e| (e.segment.count, e.members, e.history)),
                None => None,
            }
        },
    );
    // The memberships' rebuild after a save, asked again while it runs.
    let tick = RwSignal::new(0u32);
    let rebuild = Resource::new(
        move || (save.version().get(), tick.get()),
        move |_| async move {
            match id {
                Some(id) => api::rebuild_state(id).await.ok().flatten(),
                None => None,
            }
        },
    );
    Effect::new(move |_| {
        if let Some(Some(r)) = rebuild.get()
            && r.finished_at.is_none()
        {
            set_timeout(
                move || tick.update(|t| *t += 1),
                std::time::Duration::from_millis(500),
            );
        }
    });
    // A new segment opens at its own address once saved.
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let (None, Some(Ok(new_id))) = (id, save.value().get()) {
            navigate(&format!("/admin/segments/{new_id}"), Default::default());
        }
    });
    let error_for = move |field: &'static str| {
        move || match save.value().get() {
            Some(Err(AppError::Invalid { field: f, message })) if f == field => Some(message),
            _ => None,
        }
    };
    let other_error = move || match save.value().get() {
        Some(Err(AppError::Invalid { .. })) | Some(Ok(_)) | None => None,
        Some(Err(e)) => Some(e.to_string()),
    };
    let saved = move || matches!(save.value().get(), Some(Ok(_))) && id.is_some();
    // What was saved, to ask before leaving with changes that are not.
    let typed = move || {
        (
            name.get_untracked(),
            slug.get_untracked(),
            description.get_untracked(),
            text.get_untracked(),
        )
    };
    let changes = crate::unsaved::SavedAs::guard(typed);
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(_))) {
            changes.saved();
        }
    });

    view! {
        <Title text=format!("{title} · Segments · quizfunnel") />
        <main class="page segment-editor">
            <p><a href="/admin/segments">"← Segments"</a></p>
            <h1>{title}</h1>
            <form on:submit=move |ev| {
                ev.prevent_default();
                changes.sending(typed());
                save.dispatch(());
            }>
                <label for="segment-name">"Name"</label>
                <input id="segment-name" maxlength="100" required prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))
                    aria-describedby="segment-name-error" />
                <p id="segment-name-error" class="field-error" role="alert">{error_for("segment-name")}</p>
                {id.is_none().then(|| view! {
                    <label for="segment-slug">"Slug"</label>
                    <input id="segment-slug" maxlength="64" required prop:value=move || slug.get()
                        placeholder="e.g. hot-leads"
                        on:input=move |ev| slug.set(event_target_value(&ev))
                        aria-describedby="segment-slug-error" />
                    <p id="segment-slug-error" class="field-error" role="alert">{error_for("segment-slug")}</p>
                })}
                <label for="segment-description">"Description"</label>
                <input id="segment-description" maxlength="1000" prop:value=move || description.get()
                    on:input=move |ev| description.set(event_target_value(&ev)) />
                <RuleBuilder text own_slug=builder_slug />
                <label for="segment-rule">"Rule"</label>
                <p class="help" id="segment-rule-help">
                    "For example "<code>"all(completed(growth), score(growth) >= 7, never(invited_teammate))"</code>
                </p>
                <textarea id="segment-rule" rows="5" spellcheck="false" class="code"
                    aria-describedby="segment-rule-help segment-rule-error"
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))>{text.get_untracked()}</textarea>
                <p id="segment-rule-error" class="field-error" role="alert">{error_for("rule")}</p>
                <section class="rule-preview" aria-labelledby="preview-heading">
                    <h2 id="preview-heading">"Preview"</h2>
                    <Transition fallback=|| view! { <p>"Counting…"</p> }>
                        {move || Suspend::new(async move {
                            match preview.await {
                                None => view! { <p>"Write a rule to see whom it matches."</p> }.into_any(),
                                Some(Ok(RulePreview { count, sample })) => view! {
                                    <p class="preview-count" role="status">{format!("Matches {count} contacts now")}</p>
                                    {contact_links(sample)}
                                }.into_any(),
                                Some(Err(e)) => view! { <p class="field-error" role="status">{e.to_string()}</p> }.into_any(),
                            }
                        })}
                    </Transition>
                </section>
                {move || other_error().map(|m| view! { <p class="error" role="alert">{m}</p> })}
                {move || saved().then(|| view! { <p class="notice" role="status">"Saved."</p> })}
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move { rebuild_view(rebuild.await) })}
                </Transition>
                <p><button type="submit" disabled=move || save.pending().get()>"Save segment"</button></p>
            </form>
            {id.is_some().then(|| view! {
                <Transition fallback=|| view! { <p>"Loading members…"</p> }>
                    {move || Suspend::new(async move {
                        match members.await {
                            Some((count, list, history)) => {
                                let shown = list.len();
                                view! {
                                    <section aria-labelledby="members-heading">
                                        <h2 id="members-heading">{format!("Members ({count})")}</h2>
                                        {(count as usize > shown).then(|| view! {
                                            <p class="help">{format!("The first {shown} by contact number.")}</p>
                                        })}
                                        {contact_links(list)}
                                    </section>
                                    <section aria-labelledby="history-heading">
                                        <h2 id="history-heading">"Latest entries and exits"</h2>
                                        {stays_view(history, false)}
                                    </section>
                                }.into_any()
                            }
                            None => view! { <p class="error" role="alert">"The members could not be read."</p> }.into_any(),
                        }
                    })}
                </Transition>
                {own_slug_for_list.map(|slug| view! {
                    <p><a href=format!("/admin/leads?tier=all&segment={slug}")>"Every member: sort, search, export"</a></p>
                })}
            })}
            {id.map(|segment_id| view! { <actions::SegmentActionsPanel segment_id /> })}
            {id.map(|segment_id| view! { <DeleteSegment segment_id name=delete_name.clone() /> })}
        </main>
    }
}

/// Deleting the segment, after the marketer confirms: its stays, actions
/// and counts go with it. A tier, or a segment another rule uses, is
/// refused with what to change first.
#[component]
fn DeleteSegment(segment_id: i64, name: String) -> impl IntoView {
    let delete = Action::new(move |_: &()| api::delete_segment(segment_id));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            navigate("/admin/segments", Default::default());
        }
    });
    let refused = move || match delete.value().get() {
        Some(Err(e)) => Some(view! { <p class="error" role="alert">{e.to_string()}</p> }),
        _ => None,
    };
    let ask = format!(
        "Delete the segment \"{name}\"? Who entered and left it, its actions and its counts are deleted too."
    );
    view! {
        <section class="panel danger-zone" aria-labelledby="delete-heading">
            <h2 id="delete-heading">"Delete this segment"</h2>
            <button type="button" class="secondary danger" disabled=move || delete.pending().get()
                on:click=move |_| {
                    #[cfg(feature = "hydrate")]
                    if window().confirm_with_message(&ask).unwrap_or(false) {
                        delete.dispatch(());
                    }
                    #[cfg(not(feature = "hydrate"))]
                    let _ = &ask;
                }>"Delete segment"</button>
            {refused}
        </section>
    }
}

/// Where the stored memberships stand after the latest save.
fn rebuild_view(state: Option<quizfunnel::store::Rebuild>) -> AnyView {
    let Some(r) = state else {
        return ().into_any();
    };
    let text = match (&r.finished_at, &r.error) {
        (None, _) => format!("Updating memberships: {}%…", r.percent()),
        (Some(_), Some(e)) => {
            format!("Updating memberships stopped ({e}); they catch up within a minute.")
        }
        (Some(_), None) => "Memberships up to date.".to_string(),
    };
    view! {
        <p class="rebuild" role="status">
            <progress max="100" value=r.percent() aria-hidden="true"></progress>
            " "{text}
        </p>
    }
    .into_any()
}

/// Entries and exits, newest first; `by_segment` names the segment (on a
/// contact's page), else the contact (on a segment's page).
fn stays_view(stays: Vec<quizfunnel::store::Stay>, by_segment: bool) -> AnyView {
    use quizfunnel::time::format_utc;
    if stays.is_empty() {
        return view! { <p>"No entries yet."</p> }.into_any();
    }
    view! {
        <ul class="stays">
            {stays.into_iter().map(|s| {
                let who = if by_segment {
                    s.segment_name.clone()
                } else {
                    format!("Contact #{}", s.contact_id)
                };
                let when = match s.exited_at {
                    Some(out) => format!("from {} to {}", format_utc(s.entered_at), format_utc(out)),
                    None => format!("since {}", format_utc(s.entered_at)),
                };
                let link = (!by_segment).then(|| format!("/admin/contacts/{}", s.contact_id));
                view! {
                    <li>
                        {match link {
                            Some(href) => view! { <a href=href>{who}</a> }.into_any(),
                            None => view! { <strong>{who}</strong> }.into_any(),
                        }}
                        {format!(" {when}")}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// One node of a judged rule and, nested under it, its parts.
fn explanation_view(e: quizfunnel::rule::Explanation) -> AnyView {
    let mark = if e.holds { "✓ true" } else { "✗ false" };
    let children = (!e.children.is_empty()).then(|| {
        view! { <ul>{e.children.into_iter().map(|c| view! { <li>{explanation_view(c)}</li> }).collect_view()}</ul> }
    });
    view! {
        <span class=if e.holds { "mark holds" } else { "mark fails" }>{mark}</span>
        " "<code>{e.rule}</code>
        <span class="evidence">{format!(" — {}", e.evidence)}</span>
        {children}
    }
    .into_any()
}

/// "Why is this contact in this segment, or not?" for every segment.
#[component]
pub fn SegmentVerdicts(#[prop(into)] contact_id: Signal<i64>) -> impl IntoView {
    let verdicts = Resource::new(move || contact_id.get(), api::why);
    view! {
        <section aria-labelledby="why-heading" class="verdicts">
            <h2 id="why-heading">"Segments: why in, why not"</h2>
            <Transition fallback=|| view! { <p>"Checking segments…"</p> }>
                {move || Suspend::new(async move {
                    match verdicts.await {
                        Ok(report) if report.verdicts.is_empty() => view! { <p>"No segments yet."</p> }.into_any(),
                        Ok(report) => view! {
                            <p class="lead-owner">{match report.owner {
                                Some(owner) => format!("Owner: {owner}"),
                                None => "Owner: nobody yet".to_string(),
                            }}</p>
                            {(!report.tags.is_empty()).then(|| view! {
                                <p class="tags">"Tags: "{report.tags.into_iter().map(|t| view! { <span class="tag">{t}</span>" " }).collect_view()}</p>
                            })}
                            {report.verdicts.into_iter().map(|v| {
                                let status = if v.explanation.holds { "In" } else { "Not in" };
                                view! {
                                    <details class="verdict">
                                        <summary>{format!("{status} {}", v.name)}</summary>
                                        <div class="explain">{explanation_view(v.explanation)}</div>
                                    </details>
                                }
                            }).collect_view()}
                            <h3>"History"</h3>
                            {stays_view(report.stays, true)}
                        }.into_any(),
                        Err(e) => error_view(&e),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The tier playbook: segments in order, first match wins, each with its
/// next step; how many each places, and warnings when a tier is too small
/// or there are too many to act on.
#[component]
fn PlaybookEditor(segments: Vec<SegmentSummary>) -> impl IntoView {
    let save = Action::new(|tiers: &Vec<Tier>| api::save_playbook(tiers.clone()));
    let save_small = ServerAction::<api::SaveSmallTier>::new();
    let loaded = Resource::new(
        move || (save.version().get(), save_small.version().get()),
        |_| api::playbook(),
    );
    let status = move || match save.value().get() {
        Some(Ok(())) => {
            Some(view! { <p class="notice" role="status">"Playbook saved."</p> }.into_any())
        }
        Some(Err(e)) => Some(error_view(&e)),
        None => None,
    };
    view! {
        <section aria-labelledby="playbook-heading" class="playbook">
            <h2 id="playbook-heading">"Tier playbook"</h2>
            <p class="help">"When a respondent finishes a quiz they are placed in the first tier whose segment they match, so tiers never overlap."</p>
            <Transition fallback=|| view! { <p>"Loading the playbook…"</p> }>
                {move || {
                    let segments = segments.clone();
                    Suspend::new(async move {
                        match loaded.await {
                            Ok(api::PlaybookView { tiers, small_tier, outcomes }) => view! {
                                <PlaybookTiers tiers segments outcomes save small=small_tier />
                                <SmallTierForm small=small_tier save=save_small />
                            }.into_any(),
                            Err(e) => error_view(&e),
                        }
                    })
                }}
            </Transition>
            {status}
        </section>
    }
}

/// How few contacts make a tier too small: the warnings here and on the
/// dashboard follow it.
#[component]
fn SmallTierForm(small: i64, save: ServerAction<api::SaveSmallTier>) -> impl IntoView {
    let error = move || {
        save.value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    };
    let invalid = move || error().is_some();
    view! {
        <ActionForm action=save attr:class="small-tier">
            <label for="small-tier">"Warn when a tier has fewer contacts than"</label>
            <div class="row">
                <input id="small-tier" name="below" type="number" inputmode="numeric" min="1"
                    max=api::MAX_SMALL_TIER.to_string() required value=small.to_string()
                    aria-invalid=move || invalid().to_string()
                    aria-describedby="small-tier-error" />
                <button type="submit" class="secondary">"Save"</button>
            </div>
            <p id="small-tier-error" class="field-error" role="alert">{error}</p>
        </ActionForm>
    }
}

#[component]
fn PlaybookTiers(
    tiers: Vec<TierSummary>,
    segments: Vec<SegmentSummary>,
    outcomes: Vec<(String, String)>,
    save: Action<Vec<Tier>, Result<(), AppError>>,
    small: i64,
) -> impl IntoView {
    let placed: std::collections::HashMap<i64, i64> =
        tiers.iter().map(|t| (t.segment.id, t.placed)).collect();
    let total: i64 = placed.values().sum();
    let rows = RwSignal::new(
        tiers
            .into_iter()
            .map(|t| Tier {
                segment_id: t.segment.id,
                next_step: t.next_step,
                outcome_key: t.outcome_key,
            })
            .collect::<Vec<_>>(),
    );
    let name_of = {
        let segments = segments.clone();
        move |id: i64| {
            segments
                .iter()
                .find(|s| s.id == id)
                .map(|s| s.name.clone())
                .unwrap_or_else(|| format!("Segment #{id}"))
        }
    };
    let adding = RwSignal::new(String::new());
    // What was saved, to ask before leaving with changes that are not.
    let changes = crate::unsaved::SavedAs::guard(move || rows.get_untracked());
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(()))) {
            changes.saved();
        }
    });
    // Focus follows the moved tier; after a removal it goes to the next
    // tier's Remove, or to "Add a tier" when none is left below.
    let shift = move |i: usize, up: bool| {
        let to = if up { i - 1 } else { i + 1 };
        rows.update(|r| r.swap(i, to));
        focus_soon(move_button("tier", to, rows.with_untracked(Vec::len), up));
    };
    let remove = move |i: usize| {
        rows.update(|r| {
            r.remove(i);
        });
        let left = rows.with_untracked(Vec::len);
        focus_soon(if i < left {
            format!("tier{i}-remove")
        } else {
            "add-tier".into()
        });
    };
    let list = {
        let name_of = name_of.clone();
        move || {
            let count = rows.with(Vec::len);
            rows.get()
                .into_iter()
                .enumerate()
                .map(|(i, t)| {
                    let name = name_of(t.segment_id);
                    let counted = placed.get(&t.segment_id).copied();
                    let size = match counted {
                        Some(n) => {
                            let share = if total > 0 { n * 100 / total } else { 0 };
                            format!("{n} contacts ({share}%)")
                        }
                        None => "counted once saved".to_string(),
                    };
                    let warning = counted.filter(|n| *n < small).map(|n| view! {
                        <p class="warning">{format!(
                            "Only {n} contacts: fewer than {small} are too few to act on or measure."
                        )}</p>
                    });
                    let step_id = format!("tier-step-{i}");
                    let outcome_id = format!("tier-outcome-{i}");
                    let chosen = t.outcome_key.clone().unwrap_or_default();
                    // A key no published quiz has any more is still shown,
                    // so saving the playbook does not drop it unseen.
                    let gone = (!chosen.is_empty() && !outcomes.iter().any(|(k, _)| *k == chosen))
                        .then(|| view! {
                            <option value=chosen.clone() selected>{format!("{chosen} (in no published quiz)")}</option>
                        });
                    let outcome_choices = outcomes
                        .iter()
                        .map(|(key, shown)| view! {
                            <option value=key.clone() selected=*key == chosen>{format!("{key}: {shown}")}</option>
                        })
                        .collect_view();
                    view! {
                        <li class="tier">
                            <strong>{format!("{}. {name}", i + 1)}</strong>
                            " "<span class="tier-size">{size}</span>
                            <div class="row">
                                <label for=step_id.clone()>"Next step"</label>
                                <input id=step_id list="next-steps" maxlength="40" prop:value=t.next_step.clone()
                                    on:change=move |ev| rows.update(|r| r[i].next_step = event_target_value(&ev)) />
                                <button type="button" class="secondary" disabled=i == 0 id=format!("tier{i}-move-up")
                                    aria-label=format!("Move {name} up") on:click=move |_| shift(i, true)>"↑"</button>
                                <button type="button" class="secondary" disabled=i + 1 == count id=format!("tier{i}-move-down")
                                    aria-label=format!("Move {name} down") on:click=move |_| shift(i, false)>"↓"</button>
                                <button type="button" class="secondary" aria-label=format!("Remove {name}")
                                    id=format!("tier{i}-remove") on:click=move |_| remove(i)>"Remove"</button>
                            </div>
                            <div class="row">
                                <label for=outcome_id.clone()>"Result shown"</label>
                                <select id=outcome_id.clone()
                                    on:change={
                                        let outcome_id = outcome_id.clone();
                                        move |ev| {
                                            let key = event_target_value(&ev);
                                            rows.update(|r| r[i].outcome_key = (!key.is_empty()).then_some(key));
                                            // The list is drawn again: the choice keeps the keyboard.
                                            focus_soon(outcome_id.clone());
                                        }
                                    }>
                                    <option value="" selected=chosen.is_empty()>"The quiz's own choice"</option>
                                    {outcome_choices}
                                    {gone}
                                </select>
                            </div>
                            {warning}
                        </li>
                    }
                })
                .collect_view()
        }
    };
    let choices = move || {
        let used: Vec<i64> = rows.with(|r| r.iter().map(|t| t.segment_id).collect());
        segments
            .iter()
            .filter(|s| !used.contains(&s.id))
            .map(|s| view! { <option value=s.id.to_string()>{s.name.clone()}</option> })
            .collect_view()
    };
    let add = move |_| {
        if let Ok(id) = adding.get_untracked().parse::<i64>() {
            rows.update(|r| {
                r.push(Tier {
                    segment_id: id,
                    next_step: "nurture".into(),
                    outcome_key: None,
                })
            });
            adding.set(String::new());
        }
    };
    view! {
        <ol class="tiers">{list}</ol>
        {move || (rows.with(Vec::len) > api::MANY_TIERS).then(|| view! {
            <p class="warning">{format!(
                "More than {} tiers: people find them hard to act on differently.",
                api::MANY_TIERS
            )}</p>
        })}
        <datalist id="next-steps">
            <option value="fast_track"></option>
            <option value="nurture"></option>
            <option value="disqualify"></option>
        </datalist>
        <div class="row">
            <label for="add-tier">"Add a tier"</label>
            <select id="add-tier" prop:value=move || adding.get()
                on:change=move |ev| adding.set(event_target_value(&ev))>
                <option value="">"Choose a segment…"</option>
                {choices}
            </select>
            <button type="button" class="secondary" on:click=add>"Add tier"</button>
        </div>
        <p><button type="button" disabled=move || save.pending().get()
            on:click=move |_| {
                changes.sending(rows.get_untracked());
                save.dispatch(rows.get_untracked());
            }>"Save playbook"</button></p>
    }
}
