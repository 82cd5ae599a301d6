//! Outcomes: the result pages, each chosen by a score range, the top
//! category, the segment tier, or as the fallback.

use super::editor::{Builder, Kind, field_error, number_field, text_field};
use super::questions::move_item;
use crate::focus::{focus_soon, move_button};
use leptos::prelude::*;
use quizfunnel::quiz::{Outcome, OutcomeRule, QuizDefinition, free_key};

fn outcome(d: &QuizDefinition, i: usize) -> Option<&Outcome> {
    d.outcomes.get(i)
}

fn outcome_mut(d: &mut QuizDefinition, i: usize) -> Option<&mut Outcome> {
    d.outcomes.get_mut(i)
}

fn rule_name(rule: &OutcomeRule) -> &'static str {
    match rule {
        OutcomeRule::ScoreRange { .. } => "score_range",
        OutcomeRule::TopCategory { .. } => "top_category",
        OutcomeRule::Tier { .. } => "tier",
        OutcomeRule::Fallback => "fallback",
    }
}

#[component]
pub fn Outcomes() -> AnyView {
    let b = Builder::get();
    let count = Memo::new(move |_| b.def.with(|d| d.outcomes.len()));
    let add = move |_| {
        b.edit(|d| {
            let key = free_key("r", d.outcomes.iter().map(|o| o.key.as_str()));
            d.outcomes.push(Outcome {
                key,
                title: String::new(),
                body_markdown: String::new(),
                cta_label: String::new(),
                cta_url: String::new(),
                rule: OutcomeRule::ScoreRange {
                    min: 0.0,
                    max: 10.0,
                },
            });
        });
        focus_soon(format!("out{}-title", count.get_untracked() - 1));
    };
    view! {
        <section class="panel" aria-labelledby="outcomes-heading">
            <h2 id="outcomes-heading">"Outcomes"</h2>
            <p class="help">"The result page each respondent sees. Score ranges include their lowest score and stop before their highest."</p>
            <ol class="outcomes">
                <For each=move || 0..count.get() key=|i| *i let:i>
                    <li><OutcomeEditor i /></li>
                </For>
            </ol>
            <button type="button" on:click=add>"Add outcome"</button>
        </section>
    }
    .into_any()
}

#[component]
fn OutcomeEditor(i: usize) -> AnyView {
    let b = Builder::get();
    let key = Memo::new(move |_| {
        b.def
            .with(|d| outcome(d, i).map(|o| o.key.clone()))
            .unwrap_or_default()
    });
    let rule = Memo::new(move |_| {
        b.def
            .with(|d| outcome(d, i).map(|o| rule_name(&o.rule)))
            .unwrap_or("fallback")
    });
    let last = Memo::new(move |_| b.def.with(|d| i + 1 >= d.outcomes.len()));
    let shift = move |up: bool| {
        let mut done = false;
        b.edit(|d| done = move_item(&mut d.outcomes, i, up));
        if done {
            let to = if up { i - 1 } else { i + 1 };
            let len = b.def.with_untracked(|d| d.outcomes.len());
            focus_soon(move_button("out", to, len, up));
        }
    };
    let set_rule = move |ev| {
        let name = event_target_value(&ev);
        b.edit(|d| {
            let first_category = d.categories().into_iter().next().unwrap_or_default();
            if let Some(o) = outcome_mut(d, i) {
                o.rule = match name.as_str() {
                    "score_range" => OutcomeRule::ScoreRange {
                        min: 0.0,
                        max: 10.0,
                    },
                    "top_category" => OutcomeRule::TopCategory {
                        category: first_category,
                    },
                    "tier" => OutcomeRule::Tier {
                        segment: String::new(),
                    },
                    _ => OutcomeRule::Fallback,
                };
            }
        });
    };
    let rule_id = format!("out{i}-rule");
    let rule_fields = move || {
        match rule.get() {
        "score_range" => view! {
            <div class="row wrap">
                {number_field(format!("out{i}-min"), "From score".into(),
                    move |d| match outcome(d, i).map(|o| &o.rule) { Some(OutcomeRule::ScoreRange { min, .. }) => Some(*min), _ => None },
                    move |d, v| if let Some(OutcomeRule::ScoreRange { min, .. }) = outcome_mut(d, i).map(|o| &mut o.rule) { *min = v })}
                {number_field(format!("out{i}-max"), "Up to (not including)".into(),
                    move |d| match outcome(d, i).map(|o| &o.rule) { Some(OutcomeRule::ScoreRange { max, .. }) => Some(*max), _ => None },
                    move |d, v| if let Some(OutcomeRule::ScoreRange { max, .. }) = outcome_mut(d, i).map(|o| &mut o.rule) { *max = v })}
            </div>
        }.into_any(),
        "top_category" => view! {
            {text_field(format!("out{i}-category"), "Category".into(), Kind::Committed,
                move |d| match outcome(d, i).map(|o| &o.rule) { Some(OutcomeRule::TopCategory { category }) => Some(category.clone()), _ => None },
                move |d, v| if let Some(OutcomeRule::TopCategory { category }) = outcome_mut(d, i).map(|o| &mut o.rule) { *category = v.trim().to_string() })}
            <p class="help">{move || {
                let known = b.def.with(|d| d.categories());
                if known.is_empty() { "No option awards category points yet.".to_string() } else { format!("Categories in this quiz: {}", known.join(", ")) }
            }}</p>
        }.into_any(),
        "tier" => view! {
            {text_field(format!("out{i}-segment"), "Segment (slug) of the tier".into(), Kind::Committed,
                move |d| match outcome(d, i).map(|o| &o.rule) { Some(OutcomeRule::Tier { segment }) => Some(segment.clone()), _ => None },
                move |d, v| if let Some(OutcomeRule::Tier { segment }) = outcome_mut(d, i).map(|o| &mut o.rule) { *segment = v.trim().to_string() })}
            <p class="help">"Respondents placed in this tier see this outcome, whatever their score."</p>
        }.into_any(),
        _ => view! { <p class="help">"Shown when no other outcome applies."</p> }.into_any(),
    }
    };
    view! {
        <fieldset id=move || format!("outcome-{}", key.get()) class="outcome" tabindex="-1">
            <legend>{move || format!("Outcome {} · {}", i + 1, key.get())}</legend>
            <div class="toolbar">
                <button type="button" class="secondary" id=format!("out{i}-move-up")
                    disabled=move || i == 0 on:click=move |_| shift(true)>"Move up"</button>
                <button type="button" class="secondary" id=format!("out{i}-move-down")
                    disabled=move || last.get() on:click=move |_| shift(false)>"Move down"</button>
                <button type="button" class="secondary danger"
                    on:click=move |_| { b.edit(|d| if i < d.outcomes.len() { d.outcomes.remove(i); }); focus_soon("outcomes-heading".into()); }>
                    "Delete outcome"
                </button>
            </div>
            <div class="row wrap">
                {text_field(format!("out{i}-title"), "Result title".into(), Kind::Text,
                    move |d| outcome(d, i).map(|o| o.title.clone()),
                    move |d, v| if let Some(o) = outcome_mut(d, i) { o.title = v })}
                {text_field(format!("out{i}-key"), "Key".into(), Kind::Committed,
                    move |d| outcome(d, i).map(|o| o.key.clone()),
                    move |d, v| if let Some(o) = outcome_mut(d, i) { o.key = v.trim().to_string() })}
            </div>
            {text_field(format!("out{i}-body"), "Text (Markdown)".into(), Kind::LongText,
                move |d| outcome(d, i).map(|o| o.body_markdown.clone()),
                move |d, v| if let Some(o) = outcome_mut(d, i) { o.body_markdown = v })}
            <div class="row wrap">
                {text_field(format!("out{i}-cta-label"), "Button label".into(), Kind::Text,
                    move |d| outcome(d, i).map(|o| o.cta_label.clone()),
                    move |d, v| if let Some(o) = outcome_mut(d, i) { o.cta_label = v })}
                {text_field(format!("out{i}-cta-url"), "Button link".into(), Kind::Text,
                    move |d| outcome(d, i).map(|o| o.cta_url.clone()),
                    move |d, v| if let Some(o) = outcome_mut(d, i) { o.cta_url = v.trim().to_string() })}
            </div>
            <div class="field">
                <label for=rule_id.clone()>"Chosen by"</label>
                <select id=rule_id.clone() on:change=set_rule>
                    {[("score_range", "Score range"), ("top_category", "Top category"),
                      ("tier", "Segment tier"), ("fallback", "Fallback (when nothing else applies)")]
                        .into_iter().map(|(value, label)| view! {
                            <option value=value selected=move || rule.get() == value>{label}</option>
                        }).collect_view()}
                </select>
                {field_error(rule_id)}
            </div>
            {rule_fields}
        </fieldset>
    }
    .into_any()
}
