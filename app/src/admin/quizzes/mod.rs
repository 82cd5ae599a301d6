//! `/admin/quizzes`: every quiz with its status, responses and completion
//! rate; create, duplicate, archive and restore. The builder lives at
//! `/admin/quizzes/{id}`.

pub mod api;
mod branches;
mod builder;
pub(super) mod editor;
mod outcomes;
mod preview;
mod questions;

pub use builder::QuizBuilderPage;

use crate::error::error_view;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;
use quizfunnel::store::{QuizStatus, QuizSummary};

/// "75%" or "–" before anyone answered.
fn rate(q: &QuizSummary) -> String {
    q.completion_rate()
        .map(|r| format!("{:.0}%", r * 100.0))
        .unwrap_or_else(|| "–".into())
}

fn status_label(q: &QuizSummary) -> String {
    match (q.status, q.unpublished_changes) {
        (QuizStatus::Published, true) => "published, with unpublished changes".into(),
        (s, _) => s.as_str().into(),
    }
}

#[component]
pub fn QuizzesPage() -> impl IntoView {
    let create = ServerAction::<api::CreateQuiz>::new();
    let duplicate = ServerAction::<api::DuplicateQuiz>::new();
    let archive = ServerAction::<api::ArchiveQuiz>::new();
    let restore = ServerAction::<api::RestoreQuiz>::new();
    let list = Resource::new(
        move || {
            (
                duplicate.version().get(),
                archive.version().get(),
                restore.version().get(),
            )
        },
        |_| api::quizzes(),
    );
    // A new quiz opens in the builder.
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = create.value().get() {
            navigate(&format!("/admin/quizzes/{id}"), Default::default());
        }
    });
    let create_error = move || {
        create
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    };

    view! {
        <Title text="Quizzes · quizfunnel" />
        <main class="page">
            <h1>"Quizzes"</h1>
            <ActionForm action=create attr:class="new-quiz">
                <label for="new-quiz-title">"New quiz title"</label>
                <div class="row">
                    <input id="new-quiz-title" name="title" required maxlength="200"
                        placeholder="e.g. What is holding your growth back?"
                        aria-describedby="new-quiz-title-error" />
                    <button type="submit">"Create quiz"</button>
                </div>
                <p id="new-quiz-title-error" class="field-error" role="alert">{create_error}</p>
            </ActionForm>
            {move || {
                [duplicate.value().get(), archive.value().get().map(|r| r.map(|_| 0)), restore.value().get().map(|r| r.map(|_| 0))]
                    .into_iter()
                    .flatten()
                    .find_map(|r| r.err())
                    .map(|e| error_view(&e))
            }}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(qs) if qs.is_empty() => view! { <p>"No quizzes yet. Give your first one a title above."</p> }.into_any(),
                        Ok(qs) => view! {
                            <div class="table-scroll">
                            <table class="list quiz-list">
                                <thead><tr>
                                    <th scope="col">"Quiz"</th>
                                    <th scope="col">"Status"</th>
                                    <th scope="col">"Responses"</th>
                                    <th scope="col">"Completion rate"</th>
                                    <th scope="col">"Actions"</th>
                                </tr></thead>
                                <tbody>
                                    {qs.into_iter().map(|q| {
                                        let status = status_label(&q);
                                        let rate = rate(&q);
                                        let archived = q.status == QuizStatus::Archived;
                                        let duplicate_label = format!("Duplicate {}", q.title);
                                        let archive_label = format!("Archive {}", q.title);
                                        let restore_label = format!("Restore {}", q.title);
                                        let funnel_label = format!("Funnel of {}", q.title);
                                        // Archiving a live quiz takes its page down at once.
                                        let live = q.status == QuizStatus::Published;
                                        let archive_question = format!(
                                            "Archive \"{}\"? Respondents at /q/{} will be told it is not available until it is restored.",
                                            q.title, q.slug
                                        );
                                        let confirm_archive = move |ev: leptos::ev::MouseEvent| {
                                            #[cfg(feature = "hydrate")]
                                            if live && !window().confirm_with_message(&archive_question).unwrap_or(false) {
                                                ev.prevent_default();
                                            }
                                            #[cfg(not(feature = "hydrate"))]
                                            let _ = (ev, live, &archive_question);
                                        };
                                        view! {
                                            <tr>
                                                <td>
                                                    <a href=format!("/admin/quizzes/{}", q.id)>{q.title.clone()}</a>
                                                    <br /><small><code>{format!("/q/{}", q.slug)}</code></small>
                                                </td>
                                                <td><span class=format!("status status-{}", q.status.as_str())>{status}</span></td>
                                                <td>{q.responses}</td>
                                                <td>{rate}</td>
                                                <td class="actions">
                                                    {live.then(|| view! {
                                                        <a class="button secondary" href=funnel_address(&q.slug) aria-label=funnel_label>"Funnel"</a>
                                                    })}
                                                    <ActionForm action=duplicate attr:class="inline">
                                                        <input type="hidden" name="id" value=q.id />
                                                        <button type="submit" class="secondary" aria-label=duplicate_label>"Duplicate"</button>
                                                    </ActionForm>
                                                    {if archived {
                                                        view! {
                                                            <ActionForm action=restore attr:class="inline">
                                                                <input type="hidden" name="id" value=q.id />
                                                                <button type="submit" class="secondary" aria-label=restore_label>"Restore"</button>
                                                            </ActionForm>
                                                        }.into_any()
                                                    } else {
                                                        view! {
                                                            <ActionForm action=archive attr:class="inline">
                                                                <input type="hidden" name="id" value=q.id />
                                                                <button type="submit" class="secondary" aria-label=archive_label on:click=confirm_archive>"Archive"</button>
                                                            </ActionForm>
                                                        }.into_any()
                                                    }}
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            </div>
                        }.into_any(),
                        Err(e) => error_view(&e),
                    }
                })}
            </Transition>
        </main>
    }
}

/// The dashboard's funnel of the quiz at `slug`, scrolled to.
pub fn funnel_address(slug: &str) -> String {
    format!("/admin?quiz={slug}#funnel-heading")
}
