use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QuizSummary {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub status: String,
}

#[server(endpoint = "quizzes")]
pub async fn quizzes() -> Result<Vec<QuizSummary>, AppError> {
    crate::auth::ssr::require(|r| r.can_edit_funnels(), "work on quizzes")?;
    let ctx = crate::state::AppContext::get();
    Ok(ctx
        .store
        .quiz_summaries()
        .await?
        .into_iter()
        .map(|(id, slug, title, status)| QuizSummary {
            id,
            slug,
            title,
            status,
        })
        .collect())
}

#[component]
pub fn QuizzesPage() -> impl IntoView {
    let list = Resource::new(|| (), |_| quizzes());
    view! {
        <Title text="Quizzes · quizfunnel" />
        <main class="page">
            <h1>"Quizzes"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(qs) if qs.is_empty() => view! { <p>"No quizzes yet."</p> }.into_any(),
                        Ok(qs) => view! {
                            <table>
                                <thead><tr><th scope="col">"Title"</th><th scope="col">"Slug"</th><th scope="col">"Status"</th></tr></thead>
                                <tbody>
                                    {qs.into_iter().map(|q| view! {
                                        <tr><td>{q.title}</td><td>{q.slug}</td><td>{q.status}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}
