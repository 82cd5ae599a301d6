//! `/admin/quizzes/{id}`: the builder. Loads the draft, edits it in the
//! browser, saves it against the revision it started from (so two marketers
//! never silently overwrite each other), previews and publishes it.

use super::api;
use super::editor::{Builder, QuizSettings};
use super::outcomes::Outcomes;
use super::preview::Preview;
use super::questions::Questions;
use crate::error::AppError;
use crate::focus::{focus, focus_soon};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use quizfunnel::quiz::{FieldError, check_draft, validate_for_publish};
use quizfunnel::store::{QuizDraft, QuizStatus};

#[component]
pub fn QuizBuilderPage() -> AnyView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(0)
    };
    // The builder needs the browser anyway; loading there keeps the server
    // render small and the editor free of hydration mismatches.
    let quiz = LocalResource::new(move || api::quiz(id()));
    let loaded = RwSignal::new(None);
    let reload = move |version: i64| {
        loaded.set(Some(version));
        quiz.refetch();
    };
    view! {
        <Title text="Quiz builder · quizfunnel" />
        <main class="page builder">
            <p><a href="/admin/quizzes">"← All quizzes"</a></p>
            // A transition: the editor stays in place while a discard or a
            // loaded version reads the quiz again, rather than blinking to
            // "Loading".
            <Transition fallback=|| view! { <h1>"Quiz builder"</h1><p>"Loading the quiz…"</p> }>
                {move || Suspend::new(async move {
                    let was_loaded = loaded.get_untracked();
                    loaded.set(None);
                    match quiz.await {
                        Ok(q) => view! { <Editor quiz=q reload loaded=was_loaded /> }.into_any(),
                        Err(AppError::NotFound) => view! {
                            <h1>"Quiz not found"</h1>
                            <p>"There is no quiz with this number. It may have been mistyped."</p>
                        }.into_any(),
                        Err(e) => view! { <h1>"Quiz builder"</h1><p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </main>
    }
    .into_any()
}

/// The id of the notice a new editor after a discard or a loaded version
/// focuses.
const NOTICE: &str = "builder-notice";

/// Where the last save or publish left things, for the status line.
#[derive(Clone, Debug, PartialEq)]
enum Notice {
    None,
    Saved,
    Published(api::Published),
    /// The draft is this published version again (the served one after a
    /// discard).
    Loaded(i64),
    /// Someone else saved first; reloading shows their version.
    /// Someone else changed the quiz first: what was refused, and why.
    Changed {
        refused: &'static str,
        why: String,
    },
    Failed(String),
}

/// `reload` reads the quiz again after a published version was put back
/// as its draft, which starts a new editor on it, `loaded` with that
/// version.
#[component]
fn Editor(
    quiz: QuizDraft,
    reload: impl Fn(i64) + Copy + Send + Sync + 'static,
    loaded: Option<i64>,
) -> AnyView {
    let b = Builder {
        def: RwSignal::new(quiz.draft.clone()),
        slug: RwSignal::new(quiz.slug.clone()),
        error: RwSignal::new(None),
        dirty: RwSignal::new(false),
        unread: RwSignal::new(Default::default()),
    };
    provide_context(b);
    crate::unsaved::guard(move || b.dirty.get_untracked());
    let id = quiz.id;
    let revision = RwSignal::new(quiz.draft_revision);
    let status = RwSignal::new(quiz.status);
    let version = RwSignal::new(quiz.published_version);
    let unpublished = RwSignal::new(quiz.unpublished_changes || quiz.published_version.is_none());
    let public_slug = RwSignal::new(quiz.slug.clone());
    let notice = RwSignal::new(loaded.map_or(Notice::None, Notice::Loaded));
    let show_problems = RwSignal::new(false);
    let problems = Memo::new(move |_| b.def.with(validate_for_publish));

    // Checks in the browser first, with the server's own rules; the server
    // checks again.
    let local_check = move || -> Result<(String, String), FieldError> {
        let def = b.def.get_untracked();
        check_draft(&def)?;
        quizfunnel::quiz::Slug::parse(&b.slug.get_untracked()).map_err(|m| FieldError {
            field: "quiz-slug".into(),
            message: m,
        })?;
        serde_json::to_string(&def)
            .map(|json| (b.slug.get_untracked().trim().to_string(), json))
            .map_err(|e| FieldError {
                field: "quiz".into(),
                message: e.to_string(),
            })
    };
    let refuse = move |e: AppError| match e {
        AppError::Invalid { field, message } if field != "publish" => {
            b.error.set(Some(FieldError {
                field: field.clone(),
                message,
            }));
            notice.set(Notice::Failed(
                "Not saved: fix the field marked below.".into(),
            ));
            focus_soon(field);
        }
        AppError::Conflict(why) => notice.set(Notice::Changed {
            refused: "Not saved",
            why,
        }),
        other => notice.set(Notice::Failed(other.to_string())),
    };

    let save = Action::new(move |&(publish,): &(bool,)| async move {
        if let Some(e) = b.unread_input() {
            return Err(AppError::Invalid {
                field: e.field,
                message: e.message,
            });
        }
        let (slug, json) = match local_check() {
            Ok(ok) => ok,
            Err(e) => {
                return Err(AppError::Invalid {
                    field: e.field,
                    message: e.message,
                });
            }
        };
        let mut rev = revision.get_untracked();
        if b.dirty.get_untracked() {
            let sent = (b.def.get_untracked(), b.slug.get_untracked());
            let saved = api::save_quiz(id, rev, slug.clone(), json).await?;
            rev = saved.revision;
            revision.set(rev);
            // An edit made while the save was on its way is still unsaved.
            let now = (b.def.get_untracked(), b.slug.get_untracked());
            b.dirty.set(now != sent);
            unpublished.set(saved.unpublished_changes);
        }
        if !publish {
            return Ok(None);
        }
        let published = api::publish_quiz(id, rev).await?;
        Ok(Some(published))
    });
    Effect::new(move |_| match save.value().get() {
        None => {}
        Some(Ok(None)) => {
            b.error.set(None);
            notice.set(Notice::Saved);
        }
        Some(Ok(Some(p))) => {
            b.error.set(None);
            status.set(QuizStatus::Published);
            version.set(Some(p.version));
            unpublished.set(false);
            public_slug.set(p.slug.clone());
            notice.set(Notice::Published(p));
        }
        Some(Err(e)) => refuse(e),
    });
    // Going back to the served version: a new editor on it, so no state
    // of the edited draft (open panels, fields being typed) outlives it.
    let discard = Action::new(move |_: &()| api::discard_draft(id, revision.get_untracked()));
    Effect::new(move |_| match discard.value().get() {
        Some(Ok(())) => {
            b.dirty.set(false);
            reload(version.get_untracked().unwrap_or_default());
        }
        Some(Err(AppError::Conflict(why))) => notice.set(Notice::Changed {
            refused: "Nothing discarded",
            why,
        }),
        Some(Err(e)) => notice.set(Notice::Failed(format!("Nothing discarded: {e}"))),
        None => {}
    });
    // The new editor's first words: where the focus was (the button that
    // asked) is gone with the old one.
    if loaded.is_some() {
        focus_soon(NOTICE.into());
    }
    let ask_discard = move |_| {
        let Some(v) = version.get_untracked() else {
            return;
        };
        let ask = format!(
            "Discard every change made since version {v} was published? The draft becomes version {v} again; this cannot be undone."
        );
        #[cfg(feature = "hydrate")]
        if window().confirm_with_message(&ask).unwrap_or(false) {
            discard.dispatch(());
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &ask;
    };
    let load = Action::new(move |&v: &i64| async move {
        api::load_version(id, v, revision.get_untracked())
            .await
            .map(|()| v)
    });
    Effect::new(move |_| match load.value().get() {
        Some(Ok(v)) => {
            b.dirty.set(false);
            reload(v);
        }
        Some(Err(AppError::Conflict(why))) => notice.set(Notice::Changed {
            refused: "Nothing loaded",
            why,
        }),
        Some(Err(e)) => notice.set(Notice::Failed(format!("Nothing loaded: {e}"))),
        None => {}
    });
    let busy = move || save.pending().get() || discard.pending().get() || load.pending().get();
    let publish = move |_| {
        show_problems.set(true);
        if problems.with_untracked(|p| p.is_empty()) {
            save.dispatch((true,));
        } else {
            notice.set(Notice::Failed(
                "Not published: fix the problems listed below.".into(),
            ));
            focus_soon("problems-heading".into());
        }
    };
    // Typing after a notice makes the notice stale.
    Effect::new(move |_| {
        if b.dirty.get()
            && matches!(
                notice.get_untracked(),
                Notice::Saved | Notice::Published(..) | Notice::Loaded(..)
            )
        {
            notice.set(Notice::None);
        }
    });

    let status_line = move || {
        let s = match (status.get(), version.get()) {
            (QuizStatus::Published, Some(v)) => format!("Published (version {v})"),
            (QuizStatus::Archived, _) => "Archived: not served to respondents".into(),
            _ => "Draft: not published yet".into(),
        };
        let changes = if b.dirty.get() {
            " · unsaved changes"
        } else if unpublished.get() && version.get().is_some() {
            " · saved changes not yet published"
        } else {
            ""
        };
        format!("{s}{changes}")
    };
    let notice_view = move || {
        match notice.get() {
        Notice::None => None,
        Notice::Saved => Some(view! { <p class="notice" role="status">"Saved."</p> }.into_any()),
        Notice::Loaded(v) => Some(view! {
            <p class="notice" role="status" id=NOTICE tabindex="-1">
                {match serving(status, version) {
                    Some(live) if live == v => format!("Changes discarded: the draft is version {v} again."),
                    Some(live) => format!("The draft is now version {v} as it was published. Respondents get version {live} until you publish."),
                    None => format!("The draft is now version {v} as it was published."),
                }}
            </p>
        }.into_any()),
        Notice::Published(p) => Some(view! {
            <p class="notice" role="status">
                {format!("Published version {}. Respondents take it at ", p.version)}
                <a href=format!("/q/{}", p.slug)>{format!("/q/{}", p.slug)}</a>"."
                {match p.stale_segments.len() {
                    0 => String::new(),
                    1 => " One segment asks for answers this version does not have: see below.".into(),
                    n => format!(" {n} segments ask for answers this version does not have: see below."),
                }}
            </p>
            {(!p.stale_segments.is_empty()).then(|| view! {
                <div class="warning" role="note">
                    <p>
                        "These segments ask for answers this version does not have: only respondents of earlier versions can match those tests. Change their rules if new respondents should."
                    </p>
                    <ul>
                        {p.stale_segments.into_iter().map(|s| view! {
                            <li>
                                <a href=format!("/admin/segments/{}", s.id)>{s.name}</a>
                                ": "{s.missing.join(", ")}
                            </li>
                        }).collect_view()}
                    </ul>
                </div>
            })}
        }.into_any()),
        Notice::Changed { refused, why } => Some(view! {
            <div class="error" role="alert">
                <p>{format!("{refused}: {why}")}</p>
                <p>"Your edits are still on this page. "<a href=format!("/admin/quizzes/{id}") rel="external">"Reload the latest version"</a></p>
            </div>
        }.into_any()),
        Notice::Failed(m) => Some(view! { <p class="error" role="alert">{m}</p> }.into_any()),
    }
    };
    let problem_list = move || {
        (show_problems.get() && !problems.with(|p| p.is_empty())).then(|| view! {
            <section class="panel problems" aria-labelledby="problems-heading">
                <h2 id="problems-heading" tabindex="-1">"Fix before publishing"</h2>
                <ul>
                    {problems.get().into_iter().map(|p| {
                        let anchor = p.anchor.clone();
                        view! {
                            <li><a href=format!("#{}", p.anchor) on:click=move |ev| { ev.prevent_default(); focus(&anchor); }>{p.message}</a></li>
                        }
                    }).collect_view()}
                </ul>
            </section>
        })
    };

    view! {
        <h1>{move || { let t = b.def.with(|d| d.title.clone()); if t.trim().is_empty() { "Untitled quiz".to_string() } else { t } }}</h1>
        <div class="builder-bar" role="region" aria-label="Save and publish">
            <p class="status">{status_line}</p>
            <div class="row">
                <button type="button" class="secondary" on:click=move |_| { save.dispatch((false,)); }
                    disabled=busy>"Save draft"</button>
                <button type="button" on:click=publish disabled=busy>"Publish"</button>
                {move || (version.get().is_some() && (unpublished.get() || b.dirty.get())).then(|| view! {
                    <button type="button" class="secondary" on:click=ask_discard
                        disabled=busy>"Discard changes"</button>
                })}
                {move || version.get().map(|_| view! {
                    <a class="button secondary" href=move || format!("/q/{}", public_slug.get())>"Open the live quiz"</a>
                })}
                {move || (status.get() == QuizStatus::Published).then(|| view! {
                    <a class="button secondary" href=move || super::funnel_address(&public_slug.get())>"See its funnel"</a>
                })}
            </div>
            {notice_view}
        </div>
        {problem_list}
        <div class="builder-columns">
            <div class="builder-main">
                <QuizSettings published=quiz.published_version.is_some() />
                <Questions />
                <Outcomes />
                <Versions id revision version status busy load />
            </div>
            <Preview />
        </div>
    }
    .into_any()
}

/// The version respondents get, if any (none while archived).
fn serving(status: RwSignal<QuizStatus>, version: RwSignal<Option<i64>>) -> Option<i64> {
    (status.get() == QuizStatus::Published)
        .then(|| version.get())
        .flatten()
}

/// The quiz's published versions, each of which can be put back as the
/// draft (`load`): to start again from an earlier version, then publish it.
#[component]
fn Versions(
    id: i64,
    revision: RwSignal<i64>,
    /// The served version; a publish moves it.
    version: RwSignal<Option<i64>>,
    status: RwSignal<QuizStatus>,
    busy: impl Fn() -> bool + Copy + Send + Sync + 'static,
    load: Action<i64, Result<i64, AppError>>,
) -> impl IntoView {
    // Read again after each save and publish: which version the draft
    // matches, and the newest, change with them.
    let versions = LocalResource::new(move || {
        revision.track();
        version.track();
        api::quiz_versions(id)
    });
    let ask = move |v: i64| {
        let ask = format!(
            "Replace the draft with version {v} as it was published? Changes in the draft that are not published are lost.{}",
            serving(status, version).map_or(String::new(), |live| format!(
                " Respondents keep getting version {live} until you publish."
            ))
        );
        #[cfg(feature = "hydrate")]
        if window().confirm_with_message(&ask).unwrap_or(false) {
            load.dispatch(v);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&ask, load);
    };
    view! {
        <section class="panel" aria-labelledby="versions-heading">
            <h2 id="versions-heading">"Published versions"</h2>
            <Transition fallback=|| view! { <p>"Loading versions…"</p> }>
                {move || Suspend::new(async move {
                    match versions.await {
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <p>"None yet: each publish keeps a version here, and answers stay tied to the version they were given on."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <div class="table-scroll">
                                <table class="list" aria-labelledby="versions-heading">
                                    <thead><tr>
                                        <th scope="col">"Version"</th>
                                        <th scope="col">"Published"</th>
                                        <th scope="col">"Title"</th>
                                        <th scope="col">"Questions"</th>
                                        <th scope="col">"Started"</th>
                                        <th scope="col">"Finished"</th>
                                        <th scope="col">"Draft"</th>
                                    </tr></thead>
                                    <tbody>
                                        {list.into_iter().map(|v| {
                                            let n = v.version;
                                            view! {
                                                <tr>
                                                    <th scope="row">{if v.live { format!("{n} (live)") } else { n.to_string() }}</th>
                                                    <td>{quizfunnel::time::format_utc(v.published_at)}</td>
                                                    <td>{v.title}</td>
                                                    <td>{v.questions}</td>
                                                    <td>{v.responses}</td>
                                                    <td>{v.completions}</td>
                                                    <td>{if v.same_as_draft {
                                                        view! { "The saved draft is this version" }.into_any()
                                                    } else {
                                                        view! {
                                                            <button type="button" class="secondary" disabled=busy
                                                                aria-label=format!("Load into draft: version {n}")
                                                                on:click=move |_| ask(n)>"Load into draft"</button>
                                                        }.into_any()
                                                    }}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
