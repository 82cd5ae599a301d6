use super::{FormFeedback, api, use_form_feedback};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The message next to a field, announced to screen readers.
#[component]
fn FieldError(feedback: Option<FormFeedback>, field: &'static str) -> impl IntoView {
    feedback.filter(|f| f.field == field).map(
        |f| view! { <p class="field-error" id=format!("{field}-error") role="alert">{f.error}</p> },
    )
}

#[component]
fn FormError(feedback: Option<FormFeedback>) -> impl IntoView {
    feedback
        .filter(|f| f.field.is_empty())
        .map(|f| view! { <p class="error" role="alert">{f.error}</p> })
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let feedback = use_form_feedback();
    let query = use_query_map();
    let next = move || query.with(|q| q.get("next").unwrap_or_default());
    view! {
        <Title text="Sign in · quizfunnel" />
        <main class="page narrow">
            <h1>"Sign in"</h1>
            <Suspense>
                {move || Suspend::new(async move {
                    let fb = feedback.await;
                    let email = fb.as_ref().map(|f| f.email.clone()).unwrap_or_default();
                    view! {
                        <FormError feedback=fb.clone() />
                        // The address keeps where to go next, so a failed
                        // attempt's page (rendered at it) still knows.
                        <form method="post" class="stack" action=move || match next() {
                            n if n.is_empty() => "/login".to_string(),
                            n => format!("/login?next={}", crate::encode(&n)),
                        }>
                            <input type="hidden" name="next" value=next />
                            <label for="email">"Email"</label>
                            <input id="email" name="email" type="email" autocomplete="username" required value=email maxlength="254" />
                            <label for="password">"Password"</label>
                            <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024" />
                            <p><button type="submit">"Sign in"</button></p>
                        </form>
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let feedback = use_form_feedback();
    let open = Resource::new(|| (), |_| api::setup_open());
    view! {
        <Title text="Set up quizfunnel" />
        <main class="page narrow">
            <Suspense>
                {move || Suspend::new(async move {
                    let fb = feedback.await;
                    match open.await {
                        Ok(true) => {
                            let email = fb.as_ref().map(|f| f.email.clone()).unwrap_or_default();
                            view! {
                                <h1>"Create the owner account"</h1>
                                <p>"This account can do everything: build quizzes and segments, invite people and manage API keys. This page disappears once it exists."</p>
                                <FormError feedback=fb.clone() />
                                <form method="post" action="/setup">
                                    <label for="email">"Your email"</label>
                                    <input id="email" name="email" type="email" autocomplete="username" required value=email maxlength="254" />
                                    <FieldError feedback=fb.clone() field="email" />
                                    <label for="password">"Password (at least 10 characters)"</label>
                                    <input id="password" name="password" type="password" autocomplete="new-password" required minlength="10" maxlength="1024" />
                                    <FieldError feedback=fb.clone() field="password" />
                                    <p><button type="submit">"Create account"</button></p>
                                </form>
                            }
                            .into_any()
                        }
                        _ => view! {
                            <h1>"Setup is complete"</h1>
                            <p>"An owner account exists already. "<a href="/login">"Sign in"</a></p>
                        }
                        .into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
pub fn InvitePage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.with(|p| p.get("token").unwrap_or_default());
    let feedback = use_form_feedback();
    let invitation = Resource::new(token, api::open_invitation);
    view! {
        <Title text="Accept invitation · quizfunnel" />
        <main class="page narrow">
            <Suspense>
                {move || Suspend::new(async move {
                    let fb = feedback.await;
                    match invitation.await {
                        Ok(Some(inv)) => view! {
                            <h1>"Join quizfunnel"</h1>
                            <p>{format!("You were invited as {} with the role {}. Choose a password to finish.", inv.email, inv.role)}</p>
                            <FormError feedback=fb.clone() />
                            <form method="post" action=format!("/invite/{}", token())>
                                <label for="password">"Password (at least 10 characters)"</label>
                                <input id="password" name="password" type="password" autocomplete="new-password" required minlength="10" maxlength="1024" />
                                <FieldError feedback=fb.clone() field="password" />
                                <p><button type="submit">"Create my account"</button></p>
                            </form>
                        }
                        .into_any(),
                        _ => view! {
                            <h1>"This invitation cannot be used"</h1>
                            <p>"The link is invalid, was used already, or has expired (links last 72 hours). Ask the owner for a new one."</p>
                        }
                        .into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
pub fn LogoutPage() -> impl IntoView {
    view! {
        <Title text="Sign out · quizfunnel" />
        <main class="page narrow">
            <h1>"Sign out"</h1>
            <form method="post" action="/logout">
                <button type="submit">"Sign out"</button>
            </form>
        </main>
    }
}
