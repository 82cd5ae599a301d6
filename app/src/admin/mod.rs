//! The admin area marketers and sales work in.

pub mod access;
mod dashboard;
mod quizzes;
mod segments;
pub mod settings;

pub use dashboard::AdminHome;
pub use quizzes::{QuizBuilderPage, QuizzesPage};
pub use segments::{SegmentEditorPage, SegmentVerdicts, SegmentsPage};
pub use settings::SettingsPage;

use crate::auth::api::me;
use access::ADMIN_PAGES;
use leptos::prelude::*;
use leptos_router::components::Outlet;

/// The frame around every admin page: navigation for the user's role.
#[component]
pub fn AdminLayout() -> impl IntoView {
    let user = Resource::new(|| (), |_| me());
    view! {
        <header class="admin-bar">
            <a class="brand" href="/admin">"quizfunnel"</a>
            <Suspense>
                {move || Suspend::new(async move {
                    let user = user.await.ok().flatten();
                    user.map(|u| {
                        let links = ADMIN_PAGES
                            .iter()
                            .filter(|(_, label, access)| !label.is_empty() && access.allows(u.role))
                            .map(|(href, label, _)| view! { <li><a href=*href>{*label}</a></li> })
                            .collect_view();
                        view! {
                            <nav aria-label="Admin">
                                <ul>{links}</ul>
                            </nav>
                            <span class="who">{format!("{} · {}", u.email, u.role)}</span>
                            <form method="post" action="/logout" class="inline">
                                <button type="submit" class="secondary">"Sign out"</button>
                            </form>
                        }
                    })
                })}
            </Suspense>
        </header>
        <Outlet />
    }
}
