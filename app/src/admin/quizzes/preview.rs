//! The draft as a respondent takes it: the public quiz's own step and result
//! views, moved along by the same step rules, answer parsing and scoring,
//! with the answers kept in the page instead of the database.

use super::editor::Builder;
use crate::respond::steps::{
    ViewInput, first_question, lead_question, next_after, previous, question_for, result_view,
    step_view,
};
use crate::respond::{OutcomeCard, PublicQuiz, StepCard, brand_style};
use leptos::prelude::*;
use quizfunnel::quiz::{Answer, Answers, choose_outcome, parse_step, score};

/// Where the preview is: a step (with a refused post's message and values)
/// or the result.
#[derive(Debug, Clone, PartialEq, Default)]
struct Place {
    /// `None`: the result.
    current: Option<String>,
    error: Option<(String, String)>,
    values: Option<Vec<(String, String)>>,
}

/// The result page's email form in the preview: checked, never stored.
#[derive(Debug, Clone, PartialEq, Default)]
struct Lead {
    sent_to: Option<String>,
    error: Option<(String, String)>,
    values: Vec<(String, String)>,
}

#[component]
pub fn Preview() -> AnyView {
    let b = Builder::get();
    let answers = RwSignal::new(Answers::new());
    let start = move || Place {
        current: b.def.with_untracked(first_question),
        ..Default::default()
    };
    let place = RwSignal::new(start());
    let lead = RwSignal::new(Lead::default());
    let restart = move || {
        answers.set(Answers::new());
        lead.set(Lead::default());
        place.set(start());
    };
    // A question deleted or renamed under the preview starts it over.
    Effect::new(move |_| {
        let gone = b.def.with(|d| {
            let current = place.with_untracked(|p| p.current.clone());
            current.is_some_and(|k| answers.with_untracked(|a| question_for(d, a, &k).is_none()))
        });
        if gone {
            restart();
        }
    });

    // What a plain form post does on the server, done here.
    let take = move |fields: Vec<(String, String)>| {
        let Some(current) = place.with_untracked(|p| p.current.clone()) else {
            return;
        };
        let def = b.def.get_untracked();
        let back = fields.iter().any(|(k, v)| k == "action" && v == "back");
        let next = if back {
            match answers.with_untracked(|a| previous(&def, a, &current)) {
                Some(prev) => Place {
                    current: Some(prev),
                    ..Default::default()
                },
                None => return,
            }
        } else {
            let Some(q) = answers.with_untracked(|a| question_for(&def, a, &current)) else {
                return;
            };
            match parse_step(&q, &fields) {
                Ok(answer) => {
                    answers.update(|a| {
                        a.insert(current.clone(), answer);
                    });
                    Place {
                        current: answers.with_untracked(|a| next_after(&def, a, &current)),
                        ..Default::default()
                    }
                }
                Err(e) => Place {
                    current: Some(current),
                    error: Some((e.field, e.message)),
                    values: Some(fields),
                },
            }
        };
        place.set(next);
    };
    let send = move |fields: Vec<(String, String)>| {
        lead.set(match parse_step(&lead_question(), &fields) {
            Ok(Answer::Contact { email, .. }) => Lead {
                sent_to: email.map(|e| e.to_string()),
                ..Default::default()
            },
            Ok(_) => Lead::default(),
            Err(e) => Lead {
                sent_to: None,
                error: Some((e.field, e.message)),
                values: fields,
            },
        });
    };
    let on_step = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        {
            ev.prevent_default();
            take(crate::respond::submitted_fields(&ev));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, take);
    };
    let on_send = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        {
            ev.prevent_default();
            send(crate::respond::submitted_fields(&ev));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, send);
    };

    let body = move || {
        let slug = b.slug.get();
        let p = place.get();
        b.def.with(|def| {
            answers.with(|answers| match &p.current {
                Some(current) => match step_view(ViewInput {
                    slug: &slug,
                    def,
                    answers,
                    current,
                    error: p.error.clone(),
                    values: p.values.clone(),
                    hidden: vec![],
                }) {
                    PublicQuiz::Step(step) => view! {
                        <StepCard step=*step on_submit=on_step pending=Signal::from(false) />
                    }
                    .into_any(),
                    _ => {
                        view! { <p class="error">"This draft has no questions yet."</p> }.into_any()
                    }
                },
                None => {
                    let scores = score(def, answers);
                    let outcome = choose_outcome(def, &scores, None);
                    let mut result = result_view(&slug, def, answers, &scores, outcome, None);
                    if let Some(offer) = result.lead.as_mut() {
                        lead.with(|l| {
                            offer.sent_to = l.sent_to.clone();
                            offer.error = l.error.clone();
                            offer.values = l.values.clone();
                        });
                    }
                    let missing = outcome.is_none().then(|| {
                        view! { <p class="error">"No outcome applies to these answers."</p> }
                    });
                    view! {
                        {missing}
                        <OutcomeCard result on_send pending=Signal::from(false) preview=true />
                    }
                    .into_any()
                }
            })
        })
    };
    view! {
        <section class="panel preview" aria-labelledby="preview-heading">
            <h2 id="preview-heading">"Preview"</h2>
            <div class="quiz-frame quiz" style=move || b.def.with(|d| brand_style(&d.theme.brand_color))>
                {body}
            </div>
            <button type="button" class="secondary" on:click=move |_| restart()>"Restart preview"</button>
        </section>
    }
    .into_any()
}
