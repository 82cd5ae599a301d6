//! Branching: "if the answers so far match (all / any of these tests), go
//! to question X / to the result".

use super::editor::{Builder, field_error};
use super::questions::question;
use crate::focus::focus_soon;
use leptos::prelude::*;
use quizfunnel::quiz::{Branch, Condition, QuestionKind, QuizDefinition, Target};

/// The branch's group of tests, made editable (a lone test becomes a group).
fn group_mut(c: &mut Condition) -> &mut Vec<Condition> {
    *c = c.as_group();
    match c {
        Condition::All { conditions } | Condition::Any { conditions } => conditions,
        // as_group always returns a group; this arm only satisfies the match.
        _ => unreachable!("as_group returns All or Any"),
    }
}

fn branch_mut(d: &mut QuizDefinition, i: usize, k: usize) -> Option<&mut Branch> {
    d.questions.get_mut(i).and_then(|q| q.branches.get_mut(k))
}

#[component]
pub fn Branches(i: usize) -> AnyView {
    let b = Builder::get();
    let count = Memo::new(move |_| {
        b.def
            .with(|d| question(d, i).map_or(0, |q| q.branches.len()))
    });
    let add = move |_| {
        b.edit(|d| {
            let key = d
                .questions
                .get(i)
                .map(|q| q.key.clone())
                .unwrap_or_default();
            if let Some(q) = d.questions.get_mut(i) {
                q.branches.push(Branch {
                    when: Condition::All {
                        conditions: vec![Condition::Chose {
                            question: key,
                            options: vec![],
                        }],
                    },
                    goto: Target::Result,
                });
            }
        });
        focus_soon(format!("q{i}-b{}-mode", count.get_untracked() - 1));
    };
    view! {
        <fieldset class="branches" id=format!("q{i}-branches") tabindex="-1">
            <legend>"Branching"</legend>
            <p class="help">"Without a branch that holds, the next question follows."</p>
            <For each=move || 0..count.get() key=|k| *k let:k>
                <BranchEditor i k />
            </For>
            {field_error(format!("q{i}-branches"))}
            <button type="button" class="secondary" on:click=add>"Add branch"</button>
        </fieldset>
    }
    .into_any()
}

#[component]
fn BranchEditor(i: usize, k: usize) -> AnyView {
    let b = Builder::get();
    let when = move |d: &QuizDefinition| {
        question(d, i)
            .and_then(|q| q.branches.get(k))
            .map(|br| br.when.as_group())
    };
    let any = move || {
        b.def
            .with(|d| matches!(when(d), Some(Condition::Any { .. })))
    };
    let clauses = Memo::new(move |_| {
        b.def.with(|d| match when(d) {
            Some(Condition::All { conditions } | Condition::Any { conditions }) => conditions.len(),
            _ => 0,
        })
    });
    // Branches jump forward only: to a later question or to the result.
    let targets = Memo::new(move |_| {
        b.def.with(|d| {
            d.questions
                .iter()
                .skip(i + 1)
                .map(|q| (q.key.clone(), q.prompt.clone()))
                .collect::<Vec<_>>()
        })
    });
    let goto = move || {
        b.def.with(|d| {
            match question(d, i)
                .and_then(|q| q.branches.get(k))
                .map(|br| &br.goto)
            {
                Some(Target::Question(key)) => format!("question:{key}"),
                _ => "result".into(),
            }
        })
    };
    let mode_id = format!("q{i}-b{k}-mode");
    let goto_id = format!("q{i}-b{k}-goto");
    view! {
        <fieldset class="branch">
            <legend>{format!("Branch {}", k + 1)}</legend>
            <div class="field">
                <label for=mode_id.clone()>"If"</label>
                <select id=mode_id
                    on:change=move |ev| { let any = event_target_value(&ev) == "any"; b.edit(|d| if let Some(br) = branch_mut(d, i, k) {
                        let conditions = std::mem::take(group_mut(&mut br.when));
                        br.when = if any { Condition::Any { conditions } } else { Condition::All { conditions } };
                    }) }>
                    <option value="all" selected=move || !any()>"all of these hold (AND)"</option>
                    <option value="any" selected=any>"any of these holds (OR)"</option>
                </select>
            </div>
            <ul class="clauses">
                <For each=move || 0..clauses.get() key=|c| *c let:c>
                    <li><ClauseEditor i k c /></li>
                </For>
            </ul>
            <button type="button" class="secondary" on:click=move |_| b.edit(|d| {
                let key = d.questions.get(i).map(|q| q.key.clone()).unwrap_or_default();
                if let Some(br) = branch_mut(d, i, k) { group_mut(&mut br.when).push(Condition::Chose { question: key, options: vec![] }) }
            })>"Add condition"</button>
            <div class="field">
                <label for=goto_id.clone()>"then go to"</label>
                <select id=goto_id on:change=move |ev| {
                    let v = event_target_value(&ev);
                    b.edit(|d| if let Some(br) = branch_mut(d, i, k) {
                        br.goto = match v.strip_prefix("question:") { Some(key) => Target::Question(key.into()), None => Target::Result };
                    })
                }>
                    <option value="result" selected=move || goto() == "result">"the result"</option>
                    {move || targets.get().into_iter().map(|(key, prompt)| {
                        let value = format!("question:{key}");
                        let chosen = value.clone();
                        view! {
                            <option value=value selected=move || goto() == chosen>{format!("question {key}: {prompt}")}</option>
                        }
                    }).collect_view()}
                </select>
            </div>
            <button type="button" class="secondary danger"
                on:click=move |_| b.edit(|d| if let Some(q) = d.questions.get_mut(i) && k < q.branches.len() { q.branches.remove(k); })>
                "Delete branch"
            </button>
        </fieldset>
    }
    .into_any()
}

/// One test: "question X is one of these options" or "scale X is at least N".
#[component]
fn ClauseEditor(i: usize, k: usize, c: usize) -> AnyView {
    let b = Builder::get();
    let clause = move |d: &QuizDefinition| match question(d, i)
        .and_then(|q| q.branches.get(k))
        .map(|br| br.when.as_group())
    {
        Some(Condition::All { conditions } | Condition::Any { conditions }) => {
            conditions.get(c).cloned()
        }
        _ => None,
    };
    fn clause_mut(d: &mut QuizDefinition, i: usize, k: usize, c: usize) -> Option<&mut Condition> {
        branch_mut(d, i, k).and_then(|br| group_mut(&mut br.when).get_mut(c))
    }
    let tested = Memo::new(move |_| {
        b.def.with(|d| match clause(d) {
            Some(Condition::Chose { question, .. } | Condition::AtLeast { question, .. }) => {
                question
            }
            _ => String::new(),
        })
    });
    // Tests look at this question or earlier ones: the answers so far.
    let earlier = Memo::new(move |_| {
        b.def.with(|d| {
            d.questions
                .iter()
                .take(i + 1)
                .filter(|q| q.kind.has_options() || matches!(q.kind, QuestionKind::Scale { .. }))
                .map(|q| q.key.clone())
                .collect::<Vec<_>>()
        })
    });
    let tested_question = Memo::new(move |_| {
        let key = tested.get();
        b.def.with(|d| d.question(&key).cloned())
    });
    let question_id = format!("q{i}-b{k}-c{c}-question");
    let pick_question = move |ev| {
        let key = event_target_value(&ev);
        b.edit(|d| {
            let scale = d.question(&key).and_then(|q| match q.kind {
                QuestionKind::Scale { min, .. } => Some(min),
                _ => None,
            });
            if let Some(cl) = clause_mut(d, i, k, c) {
                *cl = match scale {
                    Some(min) => Condition::AtLeast {
                        question: key,
                        value: min,
                    },
                    None => Condition::Chose {
                        question: key,
                        options: vec![],
                    },
                };
            }
        })
    };
    let body = move || {
        let Some(q) = tested_question.get() else {
            return view! { <p class="help">"Pick a question to test."</p> }.into_any();
        };
        if let QuestionKind::Scale { min, max } = q.kind {
            let id = format!("q{i}-b{k}-c{c}-value");
            return view! {
                <div class="field number">
                    <label for=id.clone()>{format!("is at least ({min} to {max})")}</label>
                    <input id=id type="number" min=min max=max
                        prop:value=move || b.def.with(|d| match clause(d) { Some(Condition::AtLeast { value, .. }) => value.to_string(), _ => String::new() })
                        on:change=move |ev| {
                            if let Ok(v) = event_target_value(&ev).trim().parse::<i64>() {
                                b.edit(|d| if let Some(Condition::AtLeast { value, .. }) = clause_mut(d, i, k, c) { *value = v })
                            }
                        } />
                </div>
            }
            .into_any();
        }
        view! {
            <fieldset class="choices inline-choices">
                <legend>"is one of"</legend>
                {q.options.iter().map(|o| {
                    let id = format!("q{i}-b{k}-c{c}-o-{}", o.key);
                    let key = o.key.clone();
                    let key2 = o.key.clone();
                    let label = if o.label.is_empty() { o.key.clone() } else { o.label.clone() };
                    view! {
                        <div class="choice">
                            <input type="checkbox" id=id.clone()
                                prop:checked=move || b.def.with(|d| matches!(clause(d), Some(Condition::Chose { options, .. }) if options.contains(&key)))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    let key = key2.clone();
                                    b.edit(|d| if let Some(Condition::Chose { options, .. }) = clause_mut(d, i, k, c) {
                                        options.retain(|o| *o != key);
                                        if on { options.push(key) }
                                    })
                                } />
                            <label for=id>{label}</label>
                        </div>
                    }
                }).collect_view()}
            </fieldset>
        }
        .into_any()
    };
    view! {
        <div class="clause">
            <div class="field">
                <label for=question_id.clone()>{format!("Test {}: the answer to", c + 1)}</label>
                <select id=question_id on:change=pick_question>
                    <option value="" selected=move || tested.get().is_empty()>"choose a question"</option>
                    {move || earlier.get().into_iter().map(|key| {
                        let chosen = key.clone();
                        let value = key.clone();
                        view! { <option value=value selected=move || tested.get() == chosen>{key}</option> }
                    }).collect_view()}
                </select>
            </div>
            {body}
            <button type="button" class="secondary danger"
                on:click=move |_| b.edit(|d| if let Some(br) = branch_mut(d, i, k) {
                    let g = group_mut(&mut br.when);
                    if c < g.len() { g.remove(c); }
                })>
                "Remove test"
            </button>
        </div>
    }
    .into_any()
}
