use super::{LeadOffer, PublicQuiz, ResultView, StepView, api, history};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::{Script, Title};
use leptos_router::hooks::use_params_map;

/// The brand color as a CSS custom property, only when it is a plain
/// `#rrggbb` (it comes from the quiz definition, so never trust it as CSS).
pub fn brand_style(color: &str) -> String {
    let ok = color.len() == 7
        && color.starts_with('#')
        && color[1..].chars().all(|c| c.is_ascii_hexdigit());
    if ok {
        format!("--brand: {color}")
    } else {
        String::new()
    }
}

#[component]
fn NotFoundQuiz() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Quiz not found" />
        <main class="quiz page narrow">
            <h1>"This quiz is not available"</h1>
            <p>"The link may be mistyped, or the quiz is not published any more."</p>
        </main>
    }
}

/// Reads the posted form, with the pressed button's own field, into
/// name/value pairs: what a plain form post would carry.
#[cfg(feature = "hydrate")]
pub fn submitted_fields(ev: &leptos::ev::SubmitEvent) -> Vec<(String, String)> {
    let mut fields = form_fields(ev);
    if let Some(button) = ev
        .submitter()
        .and_then(|b| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlButtonElement>(b).ok())
        && !button.name().is_empty()
    {
        fields.push((button.name(), button.value()));
    }
    fields
}

#[cfg(feature = "hydrate")]
fn form_fields(ev: &leptos::ev::SubmitEvent) -> Vec<(String, String)> {
    use wasm_bindgen::JsCast;
    let Some(form) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
    else {
        return vec![];
    };
    let Ok(data) = web_sys::FormData::new_with_form(&form) else {
        return vec![];
    };
    let Ok(Some(entries)) = js_sys::try_iter(&data) else {
        return vec![];
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pair = js_sys::Array::from(&entry);
            Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
        })
        .collect()
}

/// The question's heading, where the focus goes when a step arrives.
const STEP_HEADING: &str = "step-heading";
/// The outcome's heading, where the focus goes when the result arrives.
const RESULT_HEADING: &str = "result-heading";

#[component]
pub fn QuizPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.with(|p| p.get("slug").unwrap_or_default());
    let loaded = Resource::new(slug, api::quiz_step);
    // After the first answer the page holds the latest step itself.
    let shown = RwSignal::new(None::<PublicQuiz>);
    let showing = move || {
        shown
            .get_untracked()
            .or_else(|| loaded.get_untracked().and_then(Result::ok))
    };
    let answer = Action::new(move |(slug, fields): &(String, Vec<(String, String)>)| {
        let (slug, fields) = (slug.clone(), fields.clone());
        async move { api::answer_step(slug, fields).await }
    });
    // A step the server refused (too many answers from one address, the
    // connection gone): said where the button is, the answers kept.
    let failed = RwSignal::new(None::<String>);
    // Whether the step being sent is the quiz's own Back, and how many
    // moves through the history came before it was sent: a step that
    // arrives after the respondent went elsewhere in the history is not
    // shown over where they went.
    let going_back = StoredValue::new(false);
    let moves = StoredValue::new(0u32);
    let sent_after = StoredValue::new(0u32);
    Effect::new(move |_| {
        if let Some(Ok(PublicQuiz::Step(step))) = loaded.get()
            && shown.get_untracked().is_none()
        {
            history::replace(&step);
        }
    });
    Effect::new(move |_| {
        if let Some(result) = answer.value().get() {
            failed.set(None);
            match result {
                Ok(PublicQuiz::Finished { slug }) => {
                    let navigate = leptos_router::hooks::use_navigate();
                    navigate(&format!("/q/{slug}/result"), Default::default());
                }
                Ok(_) if moves.get_value() != sent_after.get_value() => {}
                Ok(next) => {
                    // The form just sent is gone (and its button was
                    // disabled while sending): the new step takes the
                    // focus, or the contact field a message is about.
                    let target = match &next {
                        PublicQuiz::Step(s) => match &s.error {
                            Some((field, _)) if field != "answer" => format!("field-{field}"),
                            _ => STEP_HEADING.to_string(),
                        },
                        _ => STEP_HEADING.to_string(),
                    };
                    if let PublicQuiz::Step(s) = &next {
                        let before = match showing() {
                            Some(PublicQuiz::Step(b)) => Some(b.question.key),
                            _ => None,
                        };
                        if before.as_ref() != Some(&s.question.key) {
                            if going_back.get_value() {
                                history::replace(s);
                            } else {
                                history::push(s);
                            }
                        }
                    }
                    shown.set(Some(next));
                    crate::focus::focus_soon_from_top(target);
                }
                Err(e) => failed.set(Some(e.to_string())),
            }
        }
    });
    #[cfg(feature = "hydrate")]
    {
        let returned = window_event_listener(leptos::ev::popstate, move |ev| {
            let Some(entry) = history::entry(&ev.state()) else {
                return;
            };
            match showing() {
                Some(PublicQuiz::Step(s)) if s.slug == entry.step.slug => {
                    moves.update_value(|n| *n += 1);
                    failed.set(None);
                    shown.set(Some(PublicQuiz::Step(Box::new(entry.step))));
                    crate::focus::focus_soon_from_top(STEP_HEADING.to_string());
                }
                Some(PublicQuiz::Finished { slug }) if slug == entry.step.slug => {
                    history::leave(entry.pos)
                }
                _ => {}
            }
        });
        on_cleanup(move || returned.remove());
    }
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        {
            ev.prevent_default();
            let fields = submitted_fields(&ev);
            let back = fields.iter().any(|(k, v)| k == "action" && v == "back");
            // The step before is in the history already, answer and all.
            if back && history::back() {
                return;
            }
            if let (false, Some(PublicQuiz::Step(mut step))) = (back, showing()) {
                step.values = fields.clone();
                history::replace(&step);
            }
            going_back.set_value(back);
            sent_after.set_value(moves.get_value());
            answer.dispatch((slug(), fields));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };

    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let first = loaded.await;
                move || match shown.get().map(Ok).unwrap_or_else(|| first.clone()) {
                    Ok(PublicQuiz::Step(step)) => {
                        view! {
                            <StepForm step=*step on_submit=on_submit pending=answer.pending().into()
                                failed=failed.into() />
                        }.into_any()
                    }
                    Ok(PublicQuiz::Finished { slug }) => view! {
                        <main class="quiz page narrow">
                            <h1>"You have finished this quiz"</h1>
                            <p><a class="button" href=format!("/q/{slug}/result")>"See your result"</a></p>
                        </main>
                    }.into_any(),
                    Ok(PublicQuiz::NotFound) => view! { <NotFoundQuiz /> }.into_any(),
                    Err(e) => view! {
                        <main class="quiz page narrow"><p class="error" role="alert">{e.to_string()}</p></main>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn StepForm(
    step: StepView,
    on_submit: impl Fn(leptos::ev::SubmitEvent) + Clone + Send + Sync + 'static,
    pending: Signal<bool>,
    failed: Signal<Option<String>>,
) -> impl IntoView {
    let style = brand_style(&step.brand_color);
    view! {
        <Title text=step.title.clone() />
        <Script src="/embed-frame.js" defer="defer" />
        <main class="quiz page narrow" style=style>
            <StepCard step on_submit pending />
            <SendFailed failed />
        </main>
    }
}

/// Why the last send did not go through, announced as it appears.
#[component]
fn SendFailed(failed: Signal<Option<String>>) -> impl IntoView {
    move || {
        failed
            .get()
            .map(|m| view! { <p class="error" role="alert">{m}</p> })
    }
}

/// One step of a quiz, as respondents see it: on the public page and in the
/// builder's preview.
#[component]
pub fn StepCard(
    step: StepView,
    on_submit: impl Fn(leptos::ev::SubmitEvent) + Clone + Send + Sync + 'static,
    pending: Signal<bool>,
) -> impl IntoView {
    let percent = (step.done * 100).checked_div(step.total).unwrap_or(0);
    let action = format!("/q/{}", step.slug);
    let q = step.question.clone();
    let error_id = "step-error";
    let described = step.error.is_some().then_some(error_id);
    let inputs = match q.kind.as_str() {
        "single" | "multi" => {
            let input_type = if q.kind == "single" { "radio" } else { "checkbox" };
            q.options
                .iter()
                .enumerate()
                .map(|(i, (key, label))| {
                    let id = format!("answer-{i}");
                    let checked = step.has_value("answer", key);
                    // The page patches inputs in place from step to step, so
                    // the live property is set too, not only the attribute.
                    view! {
                        <div class="choice">
                            <input type=input_type id=id.clone() name="answer" value=key.clone()
                                checked=checked prop:checked=checked
                                aria-describedby=described />
                            <label for=id>{label.clone()}</label>
                        </div>
                    }
                })
                .collect_view()
                .into_any()
        }
        "scale" => {
            let (min, max) = q.scale.unwrap_or((1, 5));
            (min..=max)
                .map(|v| {
                    let id = format!("answer-{v}");
                    let value = v.to_string();
                    let checked = step.has_value("answer", &value);
                    view! {
                        <div class="choice scale">
                            <input type="radio" id=id.clone() name="answer" value=value.clone()
                                checked=checked prop:checked=checked aria-describedby=described />
                            <label for=id>{value.clone()}</label>
                        </div>
                    }
                })
                .collect_view()
                .into_any()
        }
        "text" => {
            let text = step.value("answer").unwrap_or_default().to_string();
            view! {
                <label for="answer-text" class="visually-hidden">{q.prompt.clone()}</label>
                <textarea id="answer-text" name="answer" rows="4" maxlength=quizfunnel::quiz::MAX_TEXT_LEN.to_string() aria-describedby=described
                    prop:value=text.clone()>
                    {text.clone()}
                </textarea>
            }
            .into_any()
        }
        _ => q
            .fields
            .iter()
            .map(|f| {
                let (label, kind, autocomplete) = match f.as_str() {
                    "email" => ("Email", "email", "email"),
                    "name" => ("Name", "text", "name"),
                    "company" => ("Company", "text", "organization"),
                    _ => ("", "checkbox", "off"),
                };
                let id = format!("field-{f}");
                let error_id = format!("{id}-error");
                let invalid = step.error_for(f).is_some();
                let err = step.error_for(f).map(|m| view! { <p class="field-error" id=error_id.clone() role="alert">{m.to_string()}</p> });
                let longest = if f == "email" {
                    quizfunnel::email::MAX_EMAIL_LEN
                } else {
                    quizfunnel::quiz::MAX_CONTACT_TEXT_LEN
                };
                let consent = step.has_value("consent", "on");
                let value = step.value(f).unwrap_or_default().to_string();
                if kind == "checkbox" {
                    view! {
                        <div class="choice">
                            <input type="checkbox" id=id.clone() name="consent" checked=consent prop:checked=consent />
                            <label for=id>"You may contact me about my result"</label>
                        </div>
                    }
                    .into_any()
                } else {
                    view! {
                        <label for=id.clone()>{label}</label>
                        <input type=kind id=id.clone() name=f.clone() autocomplete=autocomplete
                            maxlength=longest.to_string() value=value.clone() prop:value=value
                            required=f == "email" && q.required
                            aria-invalid=invalid.then_some("true")
                            aria-describedby=invalid.then_some(error_id) />
                        {err}
                    }
                    .into_any()
                }
            })
            .collect_view()
            .into_any(),
    };
    let step_error = step
        .error
        .as_ref()
        .filter(|(field, _)| field == "answer")
        .map(|(_, m)| view! { <p class="field-error" id=error_id role="alert">{m.clone()}</p> });
    let hidden = step
        .hidden_fields
        .iter()
        .map(|(k, v)| view! { <input type="hidden" name=format!("hidden.{k}") value=v.clone() /> })
        .collect_view();
    let started = step
        .started
        .clone()
        .map(|t| view! { <input type="hidden" name="started" value=t /> });
    let submit_label = if step.last { "See my result" } else { "Next" };
    let logo = (!step.logo_url.is_empty())
        .then(|| view! { <img class="logo" src=step.logo_url.clone() alt="" /> });
    let back = step.can_go_back.then(|| {
        let on_submit = on_submit.clone();
        view! {
            <form method="post" action=action.clone() class="back" autocomplete="off" on:submit=on_submit>
                <input type="hidden" name="question" value=q.key.clone() />
                <button type="submit" class="secondary" name="action" value="back">"Back"</button>
            </form>
        }
    });
    view! {
            <header class="quiz-header">
                {logo}
                <p class="quiz-title">{step.title.clone()}</p>
                {(step.done == 0 && !step.intro.is_empty()).then(|| view! { <p class="lede">{step.intro.clone()}</p> })}
                <div class="progress" role="progressbar" aria-label="Progress" aria-valuemin="0"
                    aria-valuemax=step.total aria-valuenow=step.done
                    aria-valuetext=format!("Question {} of about {}", step.done + 1, step.total)>
                    <span style=format!("width: {percent}%")></span>
                </div>
            </header>
            // Every step has the quiz's one address, so the browser's Back
            // may show the current step where an earlier one was: it must
            // not carry that page's choices over onto this one's inputs.
            <form method="post" action=action.clone() autocomplete="off" on:submit=on_submit>
                <input type="hidden" name="question" value=q.key.clone() />
                {hidden}
                {started}
                <fieldset>
                    <legend><h1 id=STEP_HEADING tabindex="-1">{q.prompt.clone()}</h1></legend>
                    {(!q.help.is_empty()).then(|| view! { <p class="help">{q.help.clone()}</p> })}
                    {step_error}
                    {inputs}
                </fieldset>
                // People never see this field; bots fill it in.
                <div class="hp" aria-hidden="true">
                    <label for="website">"Website"</label>
                    <input id="website" name="website" tabindex="-1" autocomplete="off" />
                </div>
                <p><button type="submit" disabled=move || pending.get()>{submit_label}</button></p>
            </form>
            {back}
    }
}

#[component]
pub fn ResultPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.with(|p| p.get("slug").unwrap_or_default());
    let result = Resource::new(slug, api::quiz_result);
    // After the email form is sent the page holds the answer itself.
    let shown = RwSignal::new(None::<ResultView>);
    let send = Action::new(move |(slug, fields): &(String, Vec<(String, String)>)| {
        let (slug, fields) = (slug.clone(), fields.clone());
        async move { api::send_result(slug, fields).await }
    });
    let failed = RwSignal::new(None::<String>);
    // Arriving from the quiz's last step, the focus was on a button that is
    // gone: the outcome takes it, unless the respondent already moved it.
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) {
            return true;
        }
        let arrived = matches!(result.get(), Some(Ok(Some(_))));
        if arrived {
            crate::focus::focus_soon_if_lost(RESULT_HEADING.to_string());
        }
        arrived
    });
    Effect::new(move |_| match send.value().get() {
        Some(Ok(Some(view))) => {
            failed.set(None);
            shown.set(Some(view));
        }
        Some(Err(e)) => failed.set(Some(e.to_string())),
        _ => {}
    });
    let on_send = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        {
            ev.prevent_default();
            send.dispatch((slug(), submitted_fields(&ev)));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let first = result.await;
                move || match shown.get().map(|v| Ok(Some(v))).unwrap_or_else(|| first.clone()) {
                    Ok(Some(r)) => {
                        let style = brand_style(&r.brand_color);
                        view! {
                            <Title text=format!("{} · {}", r.title, r.quiz_title) />
                            <Script src="/embed-frame.js" defer="defer" />
                            <main class="quiz page narrow result" style=style>
                                <OutcomeCard result=r on_send=on_send pending=send.pending().into() preview=false />
                                <SendFailed failed=failed.into() />
                            </main>
                        }.into_any()
                    }
                    Err(AppError::NotFound) => view! { <NotFoundQuiz /> }.into_any(),
                    Ok(None) => view! {
                        <main class="quiz page narrow">
                            <h1>"No result yet"</h1>
                            <p>"Finish the quiz to see your result."</p>
                            <p><a class="button" href=format!("/q/{}", slug())>"Go to the quiz"</a></p>
                        </main>
                    }.into_any(),
                    Err(e) => view! { <main class="quiz page narrow"><p class="error" role="alert">{e.to_string()}</p></main> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The outcome a respondent earned, as they see it: on the result page and
/// at the end of the builder's preview (which has no "take it again").
#[component]
pub fn OutcomeCard(
    result: ResultView,
    on_send: impl Fn(leptos::ev::SubmitEvent) + Clone + Send + Sync + 'static,
    pending: Signal<bool>,
    preview: bool,
) -> impl IntoView {
    let action = format!("/q/{}", result.slug);
    let cta = (!result.cta_url.is_empty()).then(|| {
        let label = if result.cta_label.is_empty() {
            "Continue".to_string()
        } else {
            result.cta_label.clone()
        };
        view! { <p><a class="button" href=result.cta_url.clone()>{label}</a></p> }
    });
    let body = markdown_view(&result.body);
    let lead = result.lead.clone().map(
        |offer| view! { <LeadForm offer action=format!("{action}/result") on_send pending /> },
    );
    let restart = (!preview).then(|| {
        view! {
            <form method="post" action=action.clone()>
                <input type="hidden" name="action" value="restart" />
                <button type="submit" class="secondary">"Take the quiz again"</button>
            </form>
        }
    });
    view! {
        <p class="quiz-title">{result.quiz_title.clone()}</p>
        <h1 id=RESULT_HEADING tabindex="-1">{result.title.clone()}</h1>
        {body}
        <p class="score">{format!("Your score: {}", result.score)}</p>
        {cta}
        {lead}
        {restart}
    }
}

/// A result body's Markdown as elements: its text only ever shows as text.
fn markdown_view(source: &str) -> impl IntoView + use<> {
    use quizfunnel::quiz::markdown::{Block, Inline, parse};
    let inlines = |items: Vec<Inline>| {
        items
            .into_iter()
            .map(|i| match i {
                Inline::Text(t) => t.into_any(),
                Inline::Strong(t) => view! { <strong>{t}</strong> }.into_any(),
                Inline::Emphasis(t) => view! { <em>{t}</em> }.into_any(),
                Inline::Link { text, url } => view! { <a href=url>{text}</a> }.into_any(),
            })
            .collect_view()
    };
    parse(source)
        .into_iter()
        .map(|b| match b {
            Block::Paragraph(items) => view! { <p>{inlines(items)}</p> }.into_any(),
            Block::List(list) => view! {
                <ul>{list.into_iter().map(|items| view! { <li>{inlines(items)}</li> }).collect_view()}</ul>
            }
            .into_any(),
        })
        .collect_view()
}

/// "Get this result by email": the lead gate after the result.
#[component]
fn LeadForm(
    offer: LeadOffer,
    action: String,
    on_send: impl Fn(leptos::ev::SubmitEvent) + Clone + Send + Sync + 'static,
    pending: Signal<bool>,
) -> impl IntoView {
    if let Some(email) = offer.sent_to {
        return view! {
            <p class="notice" role="status">{format!("Your result is on its way to {email}.")}</p>
        }
        .into_any();
    }
    let value = |name: &str| {
        offer
            .values
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let consent = offer
        .values
        .iter()
        .any(|(k, v)| k == "consent" && v == "on");
    let error = |field: &str| {
        offer
            .error
            .as_ref()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| view! { <p class="field-error" id=format!("lead-{field}-error") role="alert">{m.clone()}</p> })
    };
    let invalid = |field: &str| offer.error.as_ref().is_some_and(|(f, _)| f == field);
    let described = |field: &str| invalid(field).then(|| format!("lead-{field}-error"));
    let (email, name) = (value("email"), value("name"));
    let longest_name = quizfunnel::quiz::MAX_CONTACT_TEXT_LEN.to_string();
    view! {
        <form method="post" action=action class="lead-offer" on:submit=on_send>
            <fieldset>
                <legend><h2>"Get this result by email"</h2></legend>
                <label for="lead-email">"Email"</label>
                <input type="email" id="lead-email" name="email" autocomplete="email"
                    maxlength=quizfunnel::email::MAX_EMAIL_LEN.to_string() required
                    value=email.clone() prop:value=email aria-invalid=invalid("email").then_some("true")
                    aria-describedby=described("email") />
                {error("email")}
                <label for="lead-name">"Name (optional)"</label>
                <input type="text" id="lead-name" name="name" autocomplete="name" maxlength=longest_name
                    value=name.clone() prop:value=name aria-invalid=invalid("name").then_some("true")
                    aria-describedby=described("name") />
                {error("name")}
                <div class="choice">
                    <input type="checkbox" id="lead-consent" name="consent" checked=consent prop:checked=consent />
                    <label for="lead-consent">"You may contact me about my result"</label>
                </div>
            </fieldset>
            // People never see this field; bots fill it in.
            <div class="hp" aria-hidden="true">
                <label for="lead-website">"Website"</label>
                <input id="lead-website" name="website" tabindex="-1" autocomplete="off" />
            </div>
            <p><button type="submit" disabled=move || pending.get()>"Send me my result"</button></p>
        </form>
    }
    .into_any()
}
