//! The landing page a newcomer sees first.

mod api;

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn HomePage() -> impl IntoView {
    let check = ServerAction::<api::ServerStatus>::new();
    let status = check.value();

    view! {
        <Title text="quizfunnel" />
        <main class="page narrow">
            <h1>"quizfunnel"</h1>
            <p class="lede">
                "Quiz funnels with live behavioral segments: every answer, page view and product event lands on one contact, who is placed in a tier the moment they finish."
            </p>
            <p>
                <a class="button" href="/admin">"Open the admin"</a>
            </p>
            <section aria-labelledby="status-heading">
                <h2 id="status-heading">"Server"</h2>
                <button type="button" on:click=move |_| { check.dispatch(api::ServerStatus {}); }>
                    "Check the server"
                </button>
                <p role="status" aria-live="polite">
                    {move || match status.get() {
                        None if check.pending().get() => "Checking…".to_string(),
                        None => String::new(),
                        Some(Ok(s)) => format!("Up, storing data in {}.", s.backend),
                        Some(Err(e)) => format!("The server did not answer: {e}"),
                    }}
                </p>
            </section>
        </main>
    }
}
