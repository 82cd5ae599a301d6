//! The draft as a respondent takes it, one step at a time, with the same
//! answer parsing, branching and scoring the public quiz uses.

use super::editor::Builder;
use leptos::prelude::*;
use quizfunnel::quiz::{
    Answers, ContactField, FieldError, LeadGate, Question, QuestionKind, Step, choose_outcome,
    first_step, next_step, parse_step, previous, progress, score,
};

#[component]
pub fn Preview() -> AnyView {
    let b = Builder::get();
    let answers = RwSignal::new(Answers::new());
    let step = RwSignal::new(b.def.with_untracked(first_step));
    // The fields of the step on screen, as a form post would carry them.
    let form = RwSignal::new(Vec::<(String, String)>::new());
    let error = RwSignal::new(None::<FieldError>);
    let restart = move || {
        answers.set(Answers::new());
        form.set(vec![]);
        error.set(None);
        step.set(b.def.with_untracked(first_step));
    };
    // A question deleted or renamed under the preview starts it over.
    Effect::new(move |_| {
        let gone = b.def.with(|d| match step.get_untracked() {
            Step::Question(k) => d.question(&k).is_none(),
            Step::Result => false,
        });
        if gone {
            restart();
        }
    });
    let current = move || match step.get() {
        Step::Question(k) => b.def.with(|d| d.question(&k).cloned()),
        Step::Result => None,
    };
    let next = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(q) = current() else { return };
        match parse_step(&q, &form.get_untracked()) {
            Ok(answer) => {
                answers.update(|a| {
                    a.insert(q.key.clone(), answer);
                });
                let s = b
                    .def
                    .with_untracked(|d| answers.with_untracked(|a| next_step(d, a, &q.key)));
                form.set(vec![]);
                error.set(None);
                step.set(s);
            }
            Err(e) => error.set(Some(e)),
        }
    };
    let back = move |_| {
        if let Step::Question(k) = step.get_untracked()
            && let Some(p) = b
                .def
                .with_untracked(|d| answers.with_untracked(|a| previous(d, a, &k)))
        {
            form.set(vec![]);
            error.set(None);
            step.set(Step::Question(p));
        }
    };
    let brand = move || b.def.with(|d| format!("--brand: {}", d.theme.brand_color));
    let logo = move || {
        b.def.with(|d| {
            (!d.theme.logo_url.is_empty())
                .then(|| view! { <img class="quiz-logo" src=d.theme.logo_url.clone() alt="" /> })
        })
    };
    let body = move || match current() {
        Some(q) => {
            let key = q.key.clone();
            let (done, total) = b.def.with(|d| answers.with(|a| progress(d, a, &key)));
            let can_go_back = b
                .def
                .with(|d| answers.with(|a| previous(d, a, &key).is_some()));
            view! {
                <progress max=total value=done aria-label="Progress">{format!("{done} of {total}")}</progress>
                <form class="quiz-step" on:submit=next>
                    <QuestionStep q=q form error />
                    <div class="row">
                        {can_go_back.then(|| view! { <button type="button" class="secondary" on:click=back>"Back"</button> })}
                        <button type="submit">"Next"</button>
                    </div>
                </form>
            }
            .into_any()
        }
        None => {
            let (gate, asks) = b.def.with(|d| (d.lead_gate, d.asks_for_email()));
            let scores = b.def.with(|d| answers.with(|a| score(d, a)));
            let outcome = b.def.with(|d| choose_outcome(d, &scores, None).cloned());
            view! {
                {(gate == LeadGate::BeforeResult && !asks).then(|| view! {
                    <p class="help">"(Respondents give their email before this result.)"</p>
                })}
                {match outcome {
                    Some(o) => view! {
                        <h3>{o.title.clone()}</h3>
                        {o.body_markdown.split("\n\n").filter(|p| !p.trim().is_empty()).map(|p| view! { <p>{p.to_string()}</p> }).collect_view()}
                        {(!o.cta_url.is_empty()).then(|| view! {
                            <p><a class="button" href=o.cta_url.clone() target="_blank" rel="noopener">
                                {if o.cta_label.is_empty() { "Continue".to_string() } else { o.cta_label.clone() }}
                            </a></p>
                        })}
                    }.into_any(),
                    None => view! { <p class="error">"No outcome applies to these answers."</p> }.into_any(),
                }}
                {(gate == LeadGate::AfterResult && !asks).then(|| view! {
                    <p class="help">"(Respondents are then offered to get this result by email.)"</p>
                })}
                <p class="help">{format!("Score {}", scores.total)}</p>
            }
            .into_any()
        }
    };
    view! {
        <section class="panel preview" aria-labelledby="preview-heading">
            <h2 id="preview-heading">"Preview"</h2>
            <div class="quiz-frame" style=brand>
                {logo}
                <h3 class="quiz-title">{move || b.def.with(|d| d.title.clone())}</h3>
                {move || (matches!(step.get(), Step::Question(_)) && answers.with(|a| a.is_empty()))
                    .then(|| b.def.with(|d| view! { <p class="lede">{d.intro.clone()}</p> }))}
                {body}
            </div>
            <button type="button" class="secondary" on:click=move |_| restart()>"Restart preview"</button>
        </section>
    }
    .into_any()
}

/// Whether the step's form carries `name` = `value`. Inputs read their state
/// from here, so a new step never inherits the last step's ticks.
fn has(form: RwSignal<Vec<(String, String)>>, name: &str, value: &str) -> bool {
    form.with(|f| f.iter().any(|(k, v)| k == name && v == value))
}

fn value_of(form: RwSignal<Vec<(String, String)>>, name: &str) -> String {
    form.with(|f| {
        f.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    })
}

fn set_one(form: RwSignal<Vec<(String, String)>>, name: &str, value: String) {
    form.update(|f| {
        f.retain(|(k, _)| k != name);
        f.push((name.to_string(), value));
    });
}

#[component]
fn QuestionStep(
    q: Question,
    form: RwSignal<Vec<(String, String)>>,
    error: RwSignal<Option<FieldError>>,
) -> AnyView {
    let message = move |field: &'static str| {
        move || {
            error.with(|e| {
                e.as_ref()
                    .filter(|e| e.field == field)
                    .map(|e| e.message.clone())
            })
        }
    };
    let input = match &q.kind {
        QuestionKind::Single | QuestionKind::Multi => {
            let multi = matches!(q.kind, QuestionKind::Multi);
            q.options
                .iter()
                .map(|o| {
                    let id = format!("preview-{}-{}", q.key, o.key);
                    let key = o.key.clone();
                    let ticked = o.key.clone();
                    view! {
                        <div class="choice">
                            <input type=if multi { "checkbox" } else { "radio" } id=id.clone() name="preview-answer"
                                prop:checked=move || has(form, "answer", &ticked)
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    let key = key.clone();
                                    form.update(|f| {
                                        if !multi { f.clear(); }
                                        f.retain(|(_, v)| *v != key);
                                        if on { f.push(("answer".into(), key)); }
                                    });
                                } />
                            <label for=id>{o.label.clone()}</label>
                        </div>
                    }
                })
                .collect_view()
                .into_any()
        }
        QuestionKind::Scale { min, max } => (*min..=*max)
            .take(101)
            .map(|v| {
                let id = format!("preview-{}-{v}", q.key);
                view! {
                    <div class="choice scale-choice">
                        <input type="radio" id=id.clone() name="preview-answer"
                            prop:checked=move || has(form, "answer", &v.to_string())
                            on:change=move |_| set_one(form, "answer", v.to_string()) />
                        <label for=id>{v}</label>
                    </div>
                }
            })
            .collect_view()
            .into_any(),
        QuestionKind::Text => view! {
            <textarea id="preview-answer" aria-label="Your answer" rows="3"
                prop:value=move || value_of(form, "answer")
                on:input=move |ev| set_one(form, "answer", event_target_value(&ev))></textarea>
        }
        .into_any(),
        QuestionKind::Contact { fields } => fields
            .iter()
            .map(|f| {
                let (name, label) = match f {
                    ContactField::Email => ("email", "Email"),
                    ContactField::Name => ("name", "Name"),
                    ContactField::Company => ("company", "Company"),
                    ContactField::Consent => ("consent", "Yes, you may contact me"),
                };
                let id = format!("preview-{name}");
                if *f == ContactField::Consent {
                    view! {
                        <div class="choice">
                            <input type="checkbox" id=id.clone()
                                prop:checked=move || has(form, name, "on")
                                on:change=move |ev| set_one(form, name, if event_target_checked(&ev) { "on".into() } else { String::new() }) />
                            <label for=id>{label}</label>
                        </div>
                    }
                    .into_any()
                } else {
                    view! {
                        <label for=id.clone()>{label}</label>
                        <input id=id type=if name == "email" { "email" } else { "text" }
                            prop:value=move || value_of(form, name)
                            on:input=move |ev| set_one(form, name, event_target_value(&ev)) />
                        <p class="field-error" role="alert">{message(name)}</p>
                    }
                    .into_any()
                }
            })
            .collect_view()
            .into_any(),
    };
    view! {
        <fieldset class="quiz-question">
            <legend>{q.prompt.clone()}</legend>
            {(!q.help.is_empty()).then(|| view! { <p class="help">{q.help.clone()}</p> })}
            {input}
            <p class="field-error" role="alert">{message("answer")}</p>
        </fieldset>
    }
    .into_any()
}
