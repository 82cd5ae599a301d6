//! The admin area marketers and sales work in.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AdminHome() -> impl IntoView {
    view! {
        <Title text="Admin · quizfunnel" />
        <main class="page">
            <h1>"Admin"</h1>
            <p>"Quizzes, segments and lead lists live here."</p>
            <p><a href="/">"Back to the start page"</a></p>
        </main>
    }
}
