//! The rule builder beside the text form: nested groups of conditions
//! picked from lists of what exists. The text stays the one source of
//! truth: the builder draws whatever the text reads as, and each edit
//! writes the whole rule back as text, so the preview follows by itself
//! and the form still saves (and works without JavaScript) as before.

mod tree;

use super::api::{self, BuilderCatalog};
use crate::focus::focus_soon;
use leptos::ev::KeyboardEvent;
use leptos::prelude::*;
use quizfunnel::rule::{AttrTest, Cmp, NumberTest, QuestionKind, Rule};
use tree::{GroupKind, Kind, Shape};

/// Shown in place of the parts when the text does not read as a rule.
const UNREADABLE: &str =
    "The text form below has an error to fix first; the builder follows it again once it reads.";

#[component]
pub fn RuleBuilder(
    text: RwSignal<String>,
    /// The segment being edited, which its own rule cannot name.
    own_slug: Option<String>,
) -> impl IntoView {
    // The builder needs the browser anyway; loading its choices there keeps
    // the server render as it was and hydration simple.
    let catalog = LocalResource::new(api::rule_catalog);
    let own_slug = StoredValue::new(own_slug);
    let mounted = RwSignal::new(false);
    Effect::new(move |_| mounted.set(true));
    let loading = || view! { <p class="help">"Loading the lists… (they need JavaScript; the text form below works without it)"</p> };
    let tree = Memo::new(move |_| text.with(|t| read(t)));
    view! {
        <section class="rule-builder" aria-labelledby="builder-heading">
            <h2 id="builder-heading">"Condition builder"</h2>
            <p class="help">"Pick conditions from the lists; the text form follows, and what you type there shows up here."</p>
            // Without JavaScript this is all there is: the text form still
            // works. The lists come once the page runs in the browser, so
            // the server's render and the browser's first one are the same.
            {move || if mounted.get() {
                view! {
                    <Suspense fallback=loading>
                {move || {
                    let own_slug = own_slug.get_value();
                    Suspend::new(async move {
                        match catalog.await {
                            Ok(catalog) => {
                                let b = Builder {
                                    text,
                                    tree,
                                    catalog: StoredValue::new(catalog),
                                    own_slug: StoredValue::new(own_slug),
                                };
                                view! { <Parts b /> }.into_any()
                            }
                            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                        }
                    })
                }}
            </Suspense>
                }.into_any()
            } else {
                loading().into_any()
            }}
        </section>
    }
}

/// The rule the text holds; an empty text is an empty top group, ready for
/// a first condition.
fn read(text: &str) -> Result<Rule, String> {
    if text.trim().is_empty() {
        return Ok(Rule::All { rules: vec![] });
    }
    Rule::parse(text).map_err(|e| e.to_string())
}

/// What every part of the builder reads and edits.
#[derive(Clone, Copy)]
struct Builder {
    text: RwSignal<String>,
    tree: Memo<Result<Rule, String>>,
    catalog: StoredValue<BuilderCatalog>,
    own_slug: StoredValue<Option<String>>,
}

impl Builder {
    /// Writes the edited rule back as text; nothing left (or an empty top
    /// group) is an empty text, as a new segment starts.
    fn edit(self, change: impl FnOnce(Rule) -> Option<Rule>) {
        let Ok(rule) = self.tree.get_untracked() else {
            return;
        };
        let text = match change(rule) {
            None => String::new(),
            Some(Rule::All { rules }) if rules.is_empty() => String::new(),
            Some(rule) => rule.to_string(),
        };
        self.text.set(text);
    }

    fn edit_node(self, path: &[usize], change: impl FnOnce(&mut Rule)) {
        self.edit(|mut rule| {
            if let Some(node) = tree::node_at_mut(&mut rule, path) {
                change(node);
            }
            Some(rule)
        });
    }

    fn new_condition(self, kind: Kind) -> Rule {
        let own = self.own_slug.get_value();
        self.catalog
            .with_value(|c| tree::new_condition(kind, c, own.as_deref()))
    }

    /// How many parts the group at `path` has now.
    fn parts(self, path: &[usize]) -> usize {
        self.tree.with_untracked(|t| {
            t.as_ref()
                .ok()
                .and_then(|r| tree::node_at(r, path))
                .map_or(0, |n| n.children().len())
        })
    }
}

/// The tree, redrawn only when its shape changes: editing a value leaves
/// every control (and the focus) where it is.
#[component]
fn Parts(b: Builder) -> impl IntoView {
    let shape = Memo::new(move |_| b.tree.with(|t| t.as_ref().ok().map(tree::shape)));
    let problem = move || b.tree.with(|t| t.as_ref().err().cloned());
    let events = b.catalog.with_value(|c| c.events.clone());
    let attributes = b.catalog.with_value(|c| c.attributes.clone());
    view! {
        <datalist id="builder-events">
            {events.into_iter().map(|e| view! { <option value=e></option> }).collect_view()}
        </datalist>
        <datalist id="builder-attributes">
            {attributes.into_iter().map(|a| view! { <option value=a></option> }).collect_view()}
        </datalist>
        {move || match shape.get() {
            Some(shape) => node_view(b, Vec::new(), shape),
            None => view! {
                <p class="help builder-blocked">{UNREADABLE}" "<span class="field-error">{problem}</span></p>
            }.into_any(),
        }}
    }
}

fn node_view(b: Builder, path: Vec<usize>, shape: Shape) -> AnyView {
    match shape {
        Shape::Group(kind, parts) => group_view(b, path, kind, parts),
        Shape::Condition(kind) => {
            let top = path.is_empty();
            let condition = condition_view(b, path, kind);
            if !top {
                return condition;
            }
            // A single condition at the top grows into a group.
            view! {
                {condition}
                <div class="toolbar">
                    <button type="button" class="secondary" aria-label="Add condition beside condition 1"
                        on:click=move |_| {
                            b.edit(|mut rule| {
                                tree::add(&mut rule, &[], b.new_condition(Kind::Completed));
                                Some(rule)
                            });
                            focus_soon(tree::dom_id(&[1], "kind"));
                        }>"Add condition"</button>
                </div>
            }
            .into_any()
        }
        Shape::Fixed => fixed_view(b, path),
    }
}

fn group_view(b: Builder, path: Vec<usize>, kind: GroupKind, parts: Vec<Shape>) -> AnyView {
    let title = if path.is_empty() {
        "Top group".to_string()
    } else {
        format!("Group {}", tree::position(&path))
    };
    let kind_id = tree::dom_id(&path, "kind");
    let path = StoredValue::new(path);
    let change_kind = move |value: String| {
        let Some(kind) = GroupKind::from_value(&value) else {
            return;
        };
        let path = path.get_value();
        b.edit(|mut rule| {
            if let Some(node) = tree::node_at_mut(&mut rule, &path) {
                let old = std::mem::replace(node, Rule::All { rules: vec![] });
                *node = tree::with_group_kind(old, kind);
            }
            Some(rule)
        });
        focus_soon(tree::dom_id(&path, "kind"));
    };
    let add = move |part: Rule| {
        let path = path.get_value();
        let at = b.parts(&path);
        b.edit(|mut rule| {
            tree::add(&mut rule, &path, part);
            Some(rule)
        });
        let mut new = path.clone();
        new.push(at);
        focus_soon(tree::dom_id(&new, "kind"));
    };
    let empty = parts.is_empty();
    let items = parts
        .into_iter()
        .enumerate()
        .map(|(i, part)| {
            let mut at = path.get_value();
            at.push(i);
            view! { <li>{node_view(b, at, part)}</li> }
        })
        .collect_view();
    let lower = title.to_lowercase();
    let remove = (!path.with_value(Vec::is_empty)).then(|| {
        view! {
            <button type="button" class="secondary" aria-label=format!("Remove {lower}")
                on:click=move |_| remove_at(b, path.get_value())>"Remove group"</button>
        }
    });
    let adders = (kind != GroupKind::Not).then(|| {
        // A group inside `all` most often means "any of these", and the
        // other way round.
        let inner = if kind == GroupKind::All {
            GroupKind::Any
        } else {
            GroupKind::All
        };
        let lower = lower.clone();
        view! {
            <div class="toolbar">
                <button type="button" class="secondary" aria-label=format!("Add condition to {lower}")
                    on:click=move |_| add(b.new_condition(Kind::Completed))>"Add condition"</button>
                <button type="button" class="secondary" aria-label=format!("Add group to {lower}")
                    on:click=move |_| add(tree::group(inner, vec![b.new_condition(Kind::Completed)]))>"Add group"</button>
            </div>
        }
    });
    view! {
        <fieldset class="group">
            <legend>{title.clone()}</legend>
            <div class="row wrap">
                <select id=kind_id aria-label=format!("{title} kind")
                    on:change=move |ev| change_kind(event_target_value(&ev))>
                    {GroupKind::ALL.into_iter().map(|k| view! {
                        <option value=k.value() selected=k == kind>{k.label()}</option>
                    }).collect_view()}
                </select>
                {remove}
            </div>
            {empty.then(|| view! { <p class="help">"No conditions yet."</p> })}
            <ol class="parts">{items}</ol>
            {adders}
        </fieldset>
    }
    .into_any()
}

fn remove_at(b: Builder, path: Vec<usize>) {
    b.edit(|rule| tree::remove(rule, &path));
    let mut parent = path;
    parent.pop();
    focus_soon(tree::dom_id(&parent, "kind"));
}

/// One condition's place in the tree, and its current value there.
#[derive(Clone, Copy)]
struct At {
    b: Builder,
    path: StoredValue<Vec<usize>>,
    node: Memo<Option<Rule>>,
    /// "Condition 2.1", naming every control of this condition.
    name: StoredValue<String>,
}

impl At {
    fn new(b: Builder, path: Vec<usize>) -> At {
        let name = format!("Condition {}", tree::position(&path));
        let path = StoredValue::new(path);
        let node = Memo::new(move |_| {
            b.tree.with(|t| {
                let rule = t.as_ref().ok()?;
                path.with_value(|p| tree::node_at(rule, p).cloned())
            })
        });
        At {
            b,
            path,
            node,
            name: StoredValue::new(name),
        }
    }

    fn label(self, control: &str) -> String {
        self.name.with_value(|n| format!("{n} {control}"))
    }

    fn id(self, control: &str) -> String {
        self.path.with_value(|p| tree::dom_id(p, control))
    }

    /// Reads part of this condition; `None` while the tree is changing
    /// under it (the node may briefly be of another kind).
    fn read<T>(self, part: impl FnOnce(&Rule) -> Option<T>) -> Option<T> {
        self.node.with(|n| n.as_ref().and_then(part))
    }

    fn edit(self, change: impl FnOnce(&mut Rule)) {
        let path = self.path.get_value();
        self.b.edit_node(&path, change);
    }
}

fn condition_view(b: Builder, path: Vec<usize>, kind: Kind) -> AnyView {
    let at = At::new(b, path);
    let fields = match kind {
        Kind::Completed => view! { {quiz_select(at)}{window_input(at)} }.into_any(),
        Kind::Score => score_fields(at),
        Kind::Answered => answered_fields(at),
        Kind::Event => event_fields(at),
        Kind::Never => view! { {event_input(at)}{window_input(at)} }.into_any(),
        Kind::Attr => attr_fields(at),
        Kind::InSegment => segment_select(at),
    };
    let change_kind = move |value: String| {
        if let Some(kind) = Kind::from_value(&value) {
            let new = b.new_condition(kind);
            let path = at.path.get_value();
            b.edit(|mut rule| {
                tree::replace(&mut rule, &path, new);
                Some(rule)
            });
            focus_soon(at.id("kind"));
        }
    };
    view! {
        <div class="condition" role="group" aria-label=at.name.get_value()>
            <div class="row wrap">
                <select id=at.id("kind") aria-label=at.label("kind")
                    on:change=move |ev| change_kind(event_target_value(&ev))>
                    {Kind::ALL.into_iter().map(|k| view! {
                        <option value=k.value() selected=k == kind>{k.label()}</option>
                    }).collect_view()}
                </select>
                {fields}
                <button type="button" class="secondary" aria-label=format!("Remove {}", at.name.get_value().to_lowercase())
                    on:click=move |_| remove_at(b, at.path.get_value())>"Remove"</button>
            </div>
        </div>
    }
    .into_any()
}

/// A condition the lists cannot show whole: its text, and a way to drop it.
fn fixed_view(b: Builder, path: Vec<usize>) -> AnyView {
    let at = At::new(b, path);
    view! {
        <div class="condition fixed" role="group" aria-label=at.name.get_value()>
            <code>{move || at.read(|r| Some(r.to_string()))}</code>
            <p class="help">"Change this one in the text form."</p>
            <button type="button" class="secondary" aria-label=format!("Remove {}", at.name.get_value().to_lowercase())
                on:click=move |_| remove_at(b, at.path.get_value())>"Remove"</button>
        </div>
    }
    .into_any()
}

/// A select of `choices` (value, words) showing `current`, which is kept
/// as a choice even when it names nothing that exists, so it is not lost.
fn select(
    at: At,
    control: &'static str,
    choices: impl Fn() -> Vec<(String, String)> + Send + Sync + 'static,
    current: impl Fn() -> String + Send + Sync + 'static,
    commit: impl Fn(String) + Send + Sync + 'static,
) -> AnyView {
    let options = move || {
        let current = current();
        let mut choices = choices();
        if !choices.iter().any(|(value, _)| *value == current) {
            let words = if current.is_empty() {
                "Choose…".to_string()
            } else {
                format!("{current} (not found)")
            };
            choices.insert(0, (current.clone(), words));
        }
        choices
            .into_iter()
            .map(|(value, words)| {
                let selected = value == current;
                view! { <option value=value prop:selected=selected>{words}</option> }
            })
            .collect_view()
    };
    view! {
        <select id=at.id(control) aria-label=at.label(control)
            on:change=move |ev| commit(event_target_value(&ev))>
            {options}
        </select>
    }
    .into_any()
}

/// A typed field, committed when left or on Enter (which would otherwise
/// send the whole form), so half-typed numbers are not rewritten. `kind`
/// is an input type, or `whole` for a count of things or days.
fn input(
    at: At,
    control: &'static str,
    kind: &'static str,
    list: Option<&'static str>,
    placeholder: &'static str,
    current: impl Fn() -> String + Send + Sync + 'static,
    commit: impl Fn(String) + Copy + Send + Sync + 'static,
) -> AnyView {
    let (input_type, step, min) = match kind {
        "whole" => ("number", Some("1"), Some("0")),
        "number" => ("number", Some("any"), None),
        other => (other, None, None),
    };
    view! {
        <input id=at.id(control) aria-label=at.label(control)
            type=input_type list=list placeholder=placeholder step=step min=min
            prop:value=current
            on:change=move |ev| commit(event_target_value(&ev))
            on:keydown=move |ev: KeyboardEvent| {
                if ev.key() == "Enter" {
                    ev.prevent_default();
                    commit(event_target_value(&ev));
                }
            } />
    }
    .into_any()
}

fn quiz_of(rule: &Rule) -> Option<String> {
    match rule {
        Rule::Answered { quiz, .. } | Rule::Score { quiz, .. } | Rule::Completed { quiz, .. } => {
            Some(quiz.clone())
        }
        _ => None,
    }
}

fn quiz_select(at: At) -> AnyView {
    let choices = move || {
        at.b.catalog.with_value(|c| {
            c.quizzes
                .iter()
                .map(|q| (q.slug.clone(), q.title.clone()))
                .collect()
        })
    };
    let current = move || at.read(quiz_of).unwrap_or_default();
    let commit = move |slug: String| {
        // Questions and categories belong to one quiz: pick the new one's.
        let first_question = at.b.catalog.with_value(|c| {
            c.quizzes
                .iter()
                .find(|q| q.slug == slug)
                .and_then(|q| q.questions.iter().find(|qu| !qu.options.is_empty()))
                .map(|qu| (qu.key.clone(), qu.options.first().map(|o| o.key.clone())))
        });
        at.edit(|node| match node {
            Rule::Answered {
                quiz,
                question,
                options,
            } => {
                *quiz = slug;
                let (key, option) = first_question.unwrap_or_default();
                *question = key;
                *options = option.into_iter().collect();
            }
            Rule::Score { quiz, category, .. } => {
                *quiz = slug;
                *category = None;
            }
            Rule::Completed { quiz, .. } => *quiz = slug,
            _ => {}
        });
    };
    select(at, "quiz", choices, current, commit)
}

fn window_of(rule: &Rule) -> Option<Option<u32>> {
    match rule {
        Rule::Completed { within_days, .. }
        | Rule::Event { within_days, .. }
        | Rule::Never { within_days, .. } => Some(*within_days),
        _ => None,
    }
}

fn window_input(at: At) -> AnyView {
    let current = move || {
        at.read(window_of)
            .flatten()
            .map(|d| d.to_string())
            .unwrap_or_default()
    };
    let commit = move |typed: String| {
        let Some(days) = tree::window_from_input(&typed) else {
            return;
        };
        at.edit(|node| match node {
            Rule::Completed { within_days, .. }
            | Rule::Event { within_days, .. }
            | Rule::Never { within_days, .. } => *within_days = days,
            _ => {}
        });
    };
    view! {
        <span class="prefix">"within days"</span>
        {input(at, "within days", "whole", None, "any time", current, commit)}
    }
    .into_any()
}

fn score_fields(at: At) -> AnyView {
    let categories = move || {
        let quiz = at.read(quiz_of).unwrap_or_default();
        let mut choices = vec![(String::new(), "overall".to_string())];
        at.b.catalog.with_value(|c| {
            if let Some(q) = c.quizzes.iter().find(|q| q.slug == quiz) {
                choices.extend(q.categories.iter().map(|k| (k.clone(), k.clone())));
            }
        });
        choices
    };
    let category = move || {
        at.read(|r| match r {
            Rule::Score { category, .. } => Some(category.clone().unwrap_or_default()),
            _ => None,
        })
        .unwrap_or_default()
    };
    let set_category = move |value: String| {
        at.edit(|node| {
            if let Rule::Score { category, .. } = node {
                *category = (!value.is_empty()).then_some(value);
            }
        })
    };
    let test = Memo::new(move |_| {
        at.read(|r| match r {
            Rule::Score { test, .. } => Some(test.clone()),
            _ => None,
        })
    });
    let op = move || test.with(|t| t.as_ref().map(tree::number_test_op).unwrap_or(">="));
    let set_op = move |value: String| {
        at.edit(|node| {
            if let Rule::Score { test, .. } = node
                && let Some(new) = tree::number_test_as(test, &value)
            {
                *test = new;
            }
        })
    };
    let comparisons = move || {
        tree::NUMBER_TESTS
            .into_iter()
            .map(|op| {
                let words = tree::cmp_from_symbol(op).map_or(op, Cmp::pretty);
                (op.to_string(), words.to_string())
            })
            .collect()
    };
    let between = Memo::new(move |_| test.with(|t| matches!(t, Some(NumberTest::Between { .. }))));
    // Which number an input edits: the compared value, or an end of a range.
    let number = move |end: usize| {
        move || {
            test.with(|t| match t {
                Some(NumberTest::Compare { value, .. }) => value.to_string(),
                Some(NumberTest::Between { lo, hi }) => {
                    (if end == 0 { lo } else { hi }).to_string()
                }
                None => String::new(),
            })
        }
    };
    let set_number = move |end: usize| {
        move |typed: String| {
            let Some(n) = tree::number_from_input(&typed) else {
                return;
            };
            at.edit(|node| match node {
                Rule::Score {
                    test: NumberTest::Compare { value, .. },
                    ..
                } => *value = n,
                Rule::Score {
                    test: NumberTest::Between { lo, hi },
                    ..
                } => *(if end == 0 { lo } else { hi }) = n,
                _ => {}
            })
        }
    };
    view! {
        {quiz_select(at)}
        {select(at, "category", categories, category, set_category)}
        {select(at, "comparison", comparisons, move || op().to_string(), set_op)}
        {move || if between.get() {
            view! {
                {input(at, "from", "number", None, "", number(0), set_number(0))}
                <span class="prefix">"and"</span>
                {input(at, "to", "number", None, "", number(1), set_number(1))}
            }.into_any()
        } else {
            input(at, "value", "number", None, "", number(0), set_number(0))
        }}
    }
    .into_any()
}

fn answered_fields(at: At) -> AnyView {
    let picked = Memo::new(move |_| {
        at.read(|r| match r {
            Rule::Answered {
                quiz,
                question,
                options,
            } => Some((quiz.clone(), question.clone(), options.clone())),
            _ => None,
        })
        .unwrap_or_default()
    });
    let questions = move || {
        let quiz = picked.with(|p| p.0.clone());
        at.b.catalog.with_value(|c| {
            c.quizzes
                .iter()
                .find(|q| q.slug == quiz)
                .map(|q| {
                    q.questions
                        .iter()
                        .filter(|qu| matches!(qu.kind, QuestionKind::Single | QuestionKind::Multi))
                        .map(|qu| (qu.key.clone(), qu.prompt.clone()))
                        .collect()
                })
                .unwrap_or_default()
        })
    };
    let set_question = move |key: String| {
        let first = at.b.catalog.with_value(|c| {
            let quiz = picked.with_untracked(|p| p.0.clone());
            c.quizzes
                .iter()
                .find(|q| q.slug == quiz)
                .and_then(|q| q.questions.iter().find(|qu| qu.key == key))
                .and_then(|qu| qu.options.first())
                .map(|o| o.key.clone())
        });
        at.edit(|node| {
            if let Rule::Answered {
                question, options, ..
            } = node
            {
                *question = key;
                *options = first.into_iter().collect();
            }
        })
    };
    // The options of the chosen question, then any the rule names that the
    // question does not have (so they can be seen and unticked).
    let options = move || {
        let (quiz, question, chosen) = picked.get();
        let mut all: Vec<(String, String)> = at.b.catalog.with_value(|c| {
            c.quizzes
                .iter()
                .find(|q| q.slug == quiz)
                .and_then(|q| q.questions.iter().find(|qu| qu.key == question))
                .map(|qu| {
                    qu.options
                        .iter()
                        .map(|o| (o.key.clone(), o.label.clone()))
                        .collect()
                })
                .unwrap_or_default()
        });
        for key in &chosen {
            if !all.iter().any(|(k, _)| k == key) {
                all.push((key.clone(), format!("{key} (not found)")));
            }
        }
        all.into_iter()
            .enumerate()
            .map(|(i, (key, words))| {
                let id = at.id(&format!("option-{i}"));
                let checked = chosen.contains(&key);
                let toggle = move |ev: leptos::ev::Event| {
                    let on = event_target_checked(&ev);
                    let key = key.clone();
                    at.edit(|node| {
                        if let Rule::Answered { options, .. } = node {
                            options.retain(|o| *o != key);
                            if on {
                                options.push(key);
                            }
                        }
                    })
                };
                view! {
                    <span class="choice">
                        <input type="checkbox" id=id.clone() prop:checked=checked on:change=toggle />
                        <label for=id>{words}</label>
                    </span>
                }
            })
            .collect_view()
    };
    view! {
        {quiz_select(at)}
        {select(at, "question", questions, move || picked.with(|p| p.1.clone()), set_question)}
        <fieldset class="options">
            <legend>{at.label("options")}</legend>
            <div class="inline-choices">{options}</div>
        </fieldset>
    }
    .into_any()
}

fn event_of(rule: &Rule) -> Option<String> {
    match rule {
        Rule::Event { name, .. } | Rule::Never { name, .. } => Some(name.clone()),
        _ => None,
    }
}

/// The event's name: one seen so far, or one not seen yet.
fn event_input(at: At) -> AnyView {
    let current = move || at.read(event_of).unwrap_or_default();
    let commit = move |typed: String| {
        let typed = typed.trim().to_string();
        at.edit(|node| match node {
            Rule::Event { name, .. } | Rule::Never { name, .. } => *name = typed,
            _ => {}
        })
    };
    input(
        at,
        "event",
        "text",
        Some("builder-events"),
        "e.g. page_viewed",
        current,
        commit,
    )
}

fn event_fields(at: At) -> AnyView {
    let count = Memo::new(move |_| {
        at.read(|r| match r {
            Rule::Event { count, .. } => Some(*count),
            _ => None,
        })
    });
    let comparisons = || {
        Cmp::ALL
            .into_iter()
            .map(|c| (c.symbol().to_string(), c.pretty().to_string()))
            .collect()
    };
    let set_cmp = move |value: String| {
        if let Some(cmp) = tree::cmp_from_symbol(&value) {
            at.edit(|node| {
                if let Rule::Event { count, .. } = node {
                    count.cmp = cmp;
                }
            })
        }
    };
    let set_count = move |typed: String| {
        if let Ok(n) = typed.trim().parse::<u32>() {
            at.edit(|node| {
                if let Rule::Event { count, .. } = node {
                    count.value = n;
                }
            })
        }
    };
    view! {
        {event_input(at)}
        <span class="prefix">"count"</span>
        {select(at, "count comparison", comparisons,
            move || count.get().map(|c| c.cmp.symbol()).unwrap_or(">=").to_string(), set_cmp)}
        {input(at, "count", "whole", None, "",
            move || count.get().map(|c| c.value.to_string()).unwrap_or_default(), set_count)}
        {window_input(at)}
    }
    .into_any()
}

fn attr_fields(at: At) -> AnyView {
    let key = move || {
        at.read(|r| match r {
            Rule::Attr { key, .. } => Some(key.clone()),
            _ => None,
        })
        .unwrap_or_default()
    };
    let set_key = move |typed: String| {
        let typed = typed.trim().to_string();
        at.edit(|node| {
            if let Rule::Attr { key, .. } = node {
                *key = typed;
            }
        })
    };
    let test = Memo::new(move |_| {
        at.read(|r| match r {
            Rule::Attr { test, .. } => Some(test.clone()),
            _ => None,
        })
    });
    let op = move || {
        test.with(|t| t.as_ref().map(tree::attr_test_op).unwrap_or("="))
            .to_string()
    };
    let set_op = move |value: String| {
        at.edit(|node| {
            if let Rule::Attr { test, .. } = node
                && let Some(new) = tree::attr_test_as(test, &value)
            {
                *test = new;
            }
        })
    };
    let tests = || {
        tree::ATTR_TESTS
            .into_iter()
            .map(|(value, words)| (value.to_string(), words.to_string()))
            .collect()
    };
    /// Which inputs a test needs.
    #[derive(Clone, Copy, PartialEq)]
    enum Values {
        One,
        List,
        Range,
    }
    let values = Memo::new(move |_| {
        test.with(|t| match t {
            Some(AttrTest::In(_) | AttrTest::NotIn(_)) => Values::List,
            Some(AttrTest::Between { .. }) => Values::Range,
            _ => Values::One,
        })
    });
    let shown = move |end: usize| {
        move || {
            test.with(|t| match t {
                Some(AttrTest::Compare { value, .. }) => tree::literal_to_input(value),
                Some(AttrTest::Contains(needle)) => needle.clone(),
                Some(AttrTest::In(list) | AttrTest::NotIn(list)) => tree::literals_to_input(list),
                Some(AttrTest::Between { lo, hi }) => {
                    tree::literal_to_input(if end == 0 { lo } else { hi })
                }
                None => String::new(),
            })
        }
    };
    let typed = move |end: usize| {
        move |typed: String| {
            at.edit(|node| {
                let Rule::Attr { test, .. } = node else {
                    return;
                };
                match test {
                    AttrTest::Compare { value, .. } => *value = tree::literal_from_input(&typed),
                    AttrTest::Contains(needle) => *needle = typed.trim().to_string(),
                    AttrTest::In(list) | AttrTest::NotIn(list) => {
                        *list = tree::literals_from_input(&typed)
                    }
                    AttrTest::Between { lo, hi } => {
                        *(if end == 0 { lo } else { hi }) = tree::literal_from_input(&typed)
                    }
                }
            })
        }
    };
    view! {
        {input(at, "attribute", "text", Some("builder-attributes"), "e.g. plan", key, set_key)}
        {select(at, "comparison", tests, op, set_op)}
        {move || match values.get() {
            Values::One => input(at, "value", "text", None, "", shown(0), typed(0)),
            Values::List => input(at, "values", "text", None, "a, b, c", shown(0), typed(0)),
            Values::Range => view! {
                {input(at, "from", "text", None, "", shown(0), typed(0))}
                <span class="prefix">"and"</span>
                {input(at, "to", "text", None, "", shown(1), typed(1))}
            }.into_any(),
        }}
    }
    .into_any()
}

fn segment_select(at: At) -> AnyView {
    let choices = move || {
        let own = at.b.own_slug.get_value();
        at.b.catalog.with_value(|c| {
            c.segments
                .iter()
                .filter(|s| Some(&s.slug) != own.as_ref())
                .map(|s| (s.slug.clone(), s.name.clone()))
                .collect()
        })
    };
    let current = move || {
        at.read(|r| match r {
            Rule::InSegment { slug } => Some(slug.clone()),
            _ => None,
        })
        .unwrap_or_default()
    };
    let commit = move |value: String| {
        at.edit(|node| {
            if let Rule::InSegment { slug } = node {
                *slug = value;
            }
        })
    };
    select(at, "segment", choices, current, commit)
}
