//! quizfunnel's pages: rendered on the server, then hydrated in the browser.
// The nested view types of the admin pages go deeper than the default
// limit when the release build for the browser is optimised.
#![recursion_limit = "256"]

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    SsrMode, StaticSegment,
    components::{ParentRoute, Route, Router, Routes},
    path,
};

pub mod admin;
pub mod auth;
pub mod contacts;
pub mod error;
pub mod focus;
pub mod home;
pub mod leads;
pub mod respond;
#[cfg(feature = "ssr")]
pub mod state;
pub mod unsaved;

/// A query-string value, percent-encoded.
pub(crate) fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The HTML document around every page. Only the server renders it.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The policy that still lets hydration run: the inline loader carries this
/// response's nonce, the module and WebAssembly come from our own origin.
/// The server relaxes `frame-ancestors` on the public quiz routes only.
#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    let Some(nonce) = leptos::nonce::use_nonce() else {
        return;
    };
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; connect-src 'self'; \
         base-uri 'self'; form-action 'self'; object-src 'none'; frame-ancestors 'none'"
    );
    if let Ok(value) = axum::http::HeaderValue::from_str(&policy) {
        response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Pages and tests can tell server-rendered markup from a live page:
    // effects only run in the browser, after hydration.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    view! {
        <Stylesheet id="leptos" href="/pkg/quizfunnel.css" />
        <Title text="quizfunnel" />
        <Router>
            <div class="app" data-hydrated=move || hydrated.get().then_some("true")>
                <Routes fallback=NotFound>
                    <Route path=StaticSegment("") view=home::HomePage />
                    // Plain-form pages render whole before sending, so they
                    // read right with JavaScript off.
                    <Route path=path!("/login") view=auth::LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/logout") view=auth::LogoutPage />
                    <Route path=path!("/setup") view=auth::SetupPage ssr=SsrMode::Async />
                    <Route path=path!("/invite/:token") view=auth::InvitePage ssr=SsrMode::Async />
                    <Route path=path!("/q/:slug") view=respond::QuizPage ssr=SsrMode::Async />
                    <Route path=path!("/q/:slug/result") view=respond::ResultPage ssr=SsrMode::Async />
                    <ParentRoute path=path!("/admin") view=admin::AdminLayout>
                        <Route path=path!("") view=admin::AdminHome />
                        <Route path=path!("quizzes") view=admin::QuizzesPage />
                        <Route path=path!("contacts") view=contacts::ContactsPage />
                        <Route path=path!("leads") view=leads::LeadsPage ssr=SsrMode::Async />
                        // Rendered whole, so an unknown contact answers 404.
                        <Route path=path!("contacts/:id") view=contacts::ContactPage ssr=SsrMode::Async />
                        <Route path=path!("quizzes/:id") view=admin::QuizBuilderPage />
                        <Route path=path!("segments") view=admin::SegmentsPage />
                        <Route path=path!("segments/:id") view=admin::SegmentEditorPage />
                        <Route path=path!("settings") view=admin::SettingsPage />
                    </ParentRoute>
                </Routes>
            </div>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found · quizfunnel" />
        <main class="page narrow">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. It may have moved, or the link may be mistyped."</p>
            <p><a href="/">"Go to the start page"</a></p>
        </main>
    }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
