//! Questions: add, edit, reorder (Move up / Move down), delete; their options
//! and their branches.

use super::editor::{Builder, Kind, field_error, number_field, text_field};
use crate::focus::{focus_soon, move_button};
use leptos::prelude::*;
use quizfunnel::quiz::draft::{format_category_points, parse_category_points, parse_tags};
use quizfunnel::quiz::{
    ContactField, Question, QuestionKind, QuizDefinition, QuizOption, free_key,
};

/// Swaps item `i` with its neighbour (`up` or down); false at either end.
pub fn move_item<T>(items: &mut [T], i: usize, up: bool) -> bool {
    let j = if up { i.checked_sub(1) } else { Some(i + 1) };
    match j {
        Some(j) if j < items.len() && i < items.len() => {
            items.swap(i, j);
            true
        }
        _ => false,
    }
}

fn new_option(q: &Question) -> QuizOption {
    QuizOption {
        key: free_key("o", q.options.iter().map(|o| o.key.as_str())),
        label: String::new(),
        points: 0.0,
        category_points: Default::default(),
        tags: vec![],
    }
}

fn new_question(def: &QuizDefinition) -> Question {
    let mut q = Question {
        key: free_key("q", def.questions.iter().map(|q| q.key.as_str())),
        kind: QuestionKind::Single,
        prompt: String::new(),
        help: String::new(),
        required: true,
        options: vec![],
        branches: vec![],
    };
    for _ in 0..2 {
        let o = new_option(&q);
        q.options.push(o);
    }
    q
}

pub fn question(d: &QuizDefinition, i: usize) -> Option<&Question> {
    d.questions.get(i)
}

#[component]
pub fn Questions() -> AnyView {
    let b = Builder::get();
    let count = Memo::new(move |_| b.def.with(|d| d.questions.len()));
    let add = move |_| {
        b.edit(|d| {
            let q = new_question(d);
            d.questions.push(q);
        });
        focus_soon(format!("q{}-prompt", count.get_untracked() - 1));
    };
    view! {
        <section class="panel" aria-labelledby="questions-heading">
            <h2 id="questions-heading">"Questions"</h2>
            {move || (count.get() == 0).then(|| view! { <p>"No questions yet."</p> })}
            <ol class="questions">
                <For each=move || 0..count.get() key=|i| *i let:i>
                    <li><QuestionEditor i /></li>
                </For>
            </ol>
            <button type="button" on:click=add>"Add question"</button>
        </section>
    }
    .into_any()
}

#[component]
fn QuestionEditor(i: usize) -> AnyView {
    let b = Builder::get();
    let n = i + 1;
    let key = Memo::new(move |_| {
        b.def
            .with(|d| question(d, i).map(|q| q.key.clone()))
            .unwrap_or_default()
    });
    let kind = Memo::new(move |_| {
        b.def
            .with(|d| question(d, i).map(|q| q.kind.name()))
            .unwrap_or("single")
    });
    let last = Memo::new(move |_| b.def.with(|d| i + 1 >= d.questions.len()));
    let set_kind = move |ev| {
        let name = event_target_value(&ev);
        b.edit(|d| {
            if let Some(q) = d.questions.get_mut(i) {
                q.kind = match name.as_str() {
                    "multi" => QuestionKind::Multi,
                    "scale" => QuestionKind::Scale { min: 1, max: 5 },
                    "text" => QuestionKind::Text,
                    "contact" => QuestionKind::Contact {
                        fields: vec![
                            ContactField::Email,
                            ContactField::Name,
                            ContactField::Consent,
                        ],
                    },
                    _ => QuestionKind::Single,
                };
                if q.kind.has_options() && q.options.is_empty() {
                    for _ in 0..2 {
                        let o = new_option(q);
                        q.options.push(o);
                    }
                }
            }
        });
    };
    let shift = move |up: bool| {
        let mut done = false;
        b.edit(|d| done = move_item(&mut d.questions, i, up));
        if done {
            let to = if up { i - 1 } else { i + 1 };
            let len = b.def.with_untracked(|d| d.questions.len());
            focus_soon(move_button("q", to, len, up));
        }
    };
    let remove = move |_| {
        b.edit(|d| {
            if i < d.questions.len() {
                d.questions.remove(i);
            }
        });
        focus_soon("questions-heading".into());
    };
    view! {
        <fieldset id=move || format!("question-{}", key.get()) class="question" tabindex="-1">
            <legend>{move || format!("Question {n} · {}", key.get())}</legend>
            <div class="toolbar">
                <button type="button" class="secondary" id=format!("q{i}-move-up")
                    disabled=move || i == 0 on:click=move |_| shift(true)>"Move up"</button>
                <button type="button" class="secondary" id=format!("q{i}-move-down")
                    disabled=move || last.get() on:click=move |_| shift(false)>"Move down"</button>
                <button type="button" class="secondary danger" on:click=remove>"Delete question"</button>
            </div>
            {text_field(format!("q{i}-prompt"), "Question".into(), Kind::Text,
                move |d| question(d, i).map(|q| q.prompt.clone()),
                move |d, v| if let Some(q) = d.questions.get_mut(i) { q.prompt = v })}
            {text_field(format!("q{i}-help"), "Help text".into(), Kind::Text,
                move |d| question(d, i).map(|q| q.help.clone()),
                move |d, v| if let Some(q) = d.questions.get_mut(i) { q.help = v })}
            <div class="row wrap">
                <div class="field">
                    <label for=format!("q{i}-kind")>"Kind"</label>
                    <select id=format!("q{i}-kind") on:change=set_kind>
                        {[("single", "Single choice"), ("multi", "Multiple choice"), ("scale", "Scale"),
                          ("text", "Free text"), ("contact", "Contact details")].into_iter().map(|(value, label)| view! {
                            <option value=value selected=move || kind.get() == value>{label}</option>
                        }).collect_view()}
                    </select>
                </div>
                {text_field(format!("q{i}-key"), "Key".into(), Kind::Committed,
                    move |d| question(d, i).map(|q| q.key.clone()),
                    move |d, v| {
                        let old = d.questions.get(i).map(|q| q.key.clone()).unwrap_or_default();
                        d.rename_question(&old, v.trim());
                    })}
                <div class="choice">
                    <input type="checkbox" id=format!("q{i}-required")
                        prop:checked=move || b.def.with(|d| question(d, i).is_some_and(|q| q.required))
                        on:change=move |ev| { let on = event_target_checked(&ev); b.edit(|d| if let Some(q) = d.questions.get_mut(i) { q.required = on }) } />
                    <label for=format!("q{i}-required")>"Required"</label>
                </div>
            </div>
            {move || match kind.get() {
                "single" | "multi" => view! { <Options i /> }.into_any(),
                "scale" => view! {
                    <div class="row wrap">
                        {number_field(format!("q{i}-scale-min"), "Lowest".into(),
                            move |d| match question(d, i).map(|q| &q.kind) { Some(QuestionKind::Scale { min, .. }) => Some(*min as f64), _ => None },
                            move |d, v| if let Some(QuestionKind::Scale { min, .. }) = d.questions.get_mut(i).map(|q| &mut q.kind) { *min = v.round() as i64 })}
                        {number_field(format!("q{i}-scale-max"), "Highest".into(),
                            move |d| match question(d, i).map(|q| &q.kind) { Some(QuestionKind::Scale { max, .. }) => Some(*max as f64), _ => None },
                            move |d, v| if let Some(QuestionKind::Scale { max, .. }) = d.questions.get_mut(i).map(|q| &mut q.kind) { *max = v.round() as i64 })}
                    </div>
                    <p class="help">"A scale answer scores its own value."</p>
                }.into_any(),
                "contact" => view! { <ContactFields i /> }.into_any(),
                _ => view! { <p class="help">"Free-text answers score nothing."</p> }.into_any(),
            }}
            <super::branches::Branches i />
        </fieldset>
    }
    .into_any()
}

#[component]
fn ContactFields(i: usize) -> AnyView {
    let b = Builder::get();
    let all = [
        (ContactField::Email, "Email"),
        (ContactField::Name, "Name"),
        (ContactField::Company, "Company"),
        (ContactField::Consent, "Consent to be contacted"),
    ];
    let has = move |f: ContactField| {
        b.def.with(|d| {
            matches!(question(d, i).map(|q| &q.kind), Some(QuestionKind::Contact { fields }) if fields.contains(&f))
        })
    };
    view! {
        <fieldset class="choices" id=format!("q{i}-fields") tabindex="-1">
            <legend>"Ask for"</legend>
            {all.into_iter().map(|(f, label)| {
                let id = format!("q{i}-field-{label}").to_lowercase().replace(' ', "-");
                view! {
                    <div class="choice">
                        <input type="checkbox" id=id.clone() prop:checked=move || has(f)
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                b.edit(|d| if let Some(QuestionKind::Contact { fields }) = d.questions.get_mut(i).map(|q| &mut q.kind) {
                                    fields.retain(|x| *x != f);
                                    if on { fields.push(f); fields.sort_by_key(|x| all.iter().position(|(y, _)| y == x)); }
                                })
                            } />
                        <label for=id>{label}</label>
                    </div>
                }
            }).collect_view()}
            {field_error(format!("q{i}-fields"))}
        </fieldset>
    }
    .into_any()
}

#[component]
fn Options(i: usize) -> AnyView {
    let b = Builder::get();
    let count = Memo::new(move |_| {
        b.def
            .with(|d| question(d, i).map_or(0, |q| q.options.len()))
    });
    let add = move |_| {
        b.edit(|d| {
            if let Some(q) = d.questions.get_mut(i) {
                let o = new_option(q);
                q.options.push(o);
            }
        });
        focus_soon(format!("q{i}-opt{}-label", count.get_untracked() - 1));
    };
    view! {
        <fieldset class="options" id=format!("q{i}-options") tabindex="-1">
            <legend>"Options"</legend>
            <For each=move || 0..count.get() key=|j| *j let:j>
                <OptionEditor i j />
            </For>
            {field_error(format!("q{i}-options"))}
            <button type="button" class="secondary" on:click=add>"Add option"</button>
        </fieldset>
    }
    .into_any()
}

#[component]
fn OptionEditor(i: usize, j: usize) -> AnyView {
    let b = Builder::get();
    let opt = move |d: &QuizDefinition| question(d, i).and_then(|q| q.options.get(j)).cloned();
    fn opt_mut(d: &mut QuizDefinition, i: usize, j: usize) -> Option<&mut QuizOption> {
        d.questions.get_mut(i).and_then(|q| q.options.get_mut(j))
    }
    let last = Memo::new(move |_| {
        b.def
            .with(|d| question(d, i).is_none_or(|q| j + 1 >= q.options.len()))
    });
    let shift = move |up: bool| {
        let mut done = false;
        let mut len = 0;
        b.edit(|d| {
            if let Some(q) = d.questions.get_mut(i) {
                done = move_item(&mut q.options, j, up);
                len = q.options.len();
            }
        });
        if done {
            let to = if up { j - 1 } else { j + 1 };
            focus_soon(move_button(&format!("q{i}-opt"), to, len, up));
        }
    };
    let categories_id = format!("q{i}-opt{j}-categories");
    let tags_id = format!("q{i}-opt{j}-tags");
    view! {
        <fieldset class="option">
            <legend>{format!("Option {}", j + 1)}</legend>
            <div class="row wrap">
                {text_field(format!("q{i}-opt{j}-label"), "Label".into(), Kind::Text,
                    move |d| opt(d).map(|o| o.label),
                    move |d, v| if let Some(o) = opt_mut(d, i, j) { o.label = v })}
                {text_field(format!("q{i}-opt{j}-key"), "Key".into(), Kind::Committed,
                    move |d| opt(d).map(|o| o.key),
                    move |d, v| if let Some(o) = opt_mut(d, i, j) { o.key = v.trim().to_string() })}
                {number_field(format!("q{i}-opt{j}-points"), "Points".into(),
                    move |d| opt(d).map(|o| o.points),
                    move |d, v| if let Some(o) = opt_mut(d, i, j) { o.points = v })}
            </div>
            <div class="row wrap">
                <div class="field">
                    <label for=categories_id.clone()>"Category points"</label>
                    <input id=categories_id.clone() type="text" placeholder="budget: 3, urgency: 1"
                        prop:value=move || b.def.with(|d| opt(d).map(|o| format_category_points(&o.category_points))).unwrap_or_default()
                        on:change={ let id = categories_id.clone(); move |ev| match parse_category_points(&event_target_value(&ev)) {
                            Ok(points) => { b.accept_input(&id); b.edit(|d| if let Some(o) = opt_mut(d, i, j) { o.category_points = points }) }
                            Err(m) => b.refuse_input(&id, m),
                        }}
                        aria-describedby=format!("{categories_id}-error") />
                    {field_error(categories_id.clone())}
                </div>
                <div class="field">
                    <label for=tags_id.clone()>"Tags"</label>
                    <input id=tags_id.clone() type="text" placeholder="hot, enterprise"
                        prop:value=move || b.def.with(|d| opt(d).map(|o| o.tags.join(", "))).unwrap_or_default()
                        on:change={ let id = tags_id.clone(); move |ev| match parse_tags(&event_target_value(&ev)) {
                            Ok(tags) => { b.accept_input(&id); b.edit(|d| if let Some(o) = opt_mut(d, i, j) { o.tags = tags }) }
                            Err(m) => b.refuse_input(&id, m),
                        }}
                        aria-describedby=format!("{tags_id}-error") />
                    {field_error(tags_id.clone())}
                </div>
            </div>
            <div class="toolbar">
                <button type="button" class="secondary" id=format!("q{i}-opt{j}-move-up")
                    disabled=move || j == 0 on:click=move |_| shift(true)>"Move up"</button>
                <button type="button" class="secondary" id=format!("q{i}-opt{j}-move-down")
                    disabled=move || last.get() on:click=move |_| shift(false)>"Move down"</button>
                <button type="button" class="secondary danger"
                    on:click=move |_| b.edit(|d| if let Some(q) = d.questions.get_mut(i) && j < q.options.len() { q.options.remove(j); })>
                    "Delete option"
                </button>
            </div>
        </fieldset>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_stops_at_either_end() {
        let mut v = vec![1, 2, 3];
        assert!(move_item(&mut v, 1, true));
        assert_eq!(v, [2, 1, 3]);
        assert!(!move_item(&mut v, 0, true));
        assert!(!move_item(&mut v, 2, false));
        assert!(move_item(&mut v, 0, false));
        assert_eq!(v, [1, 2, 3]);
    }
}
