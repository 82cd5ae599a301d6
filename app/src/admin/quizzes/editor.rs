//! The builder's shared state and its labelled form fields, plus the quiz's
//! own settings (title, slug, intro, theme, lead gate).
//!
//! The whole draft lives in one signal. Lists render one row per position,
//! and every field reads its value by position, so typing never rebuilds
//! the page and focus stays where it is.

use leptos::prelude::*;
use quizfunnel::quiz::{FieldError, LeadGate, QuizDefinition};

/// What every part of the builder reads and edits.
#[derive(Clone, Copy)]
pub struct Builder {
    pub def: RwSignal<QuizDefinition>,
    pub slug: RwSignal<String>,
    /// The field a save or a check refused, with why.
    pub error: RwSignal<Option<FieldError>>,
    /// Edited since the last save.
    pub dirty: RwSignal<bool>,
    /// Fields whose typed text could not be read, so the draft does not
    /// hold it: saving now would drop those edits without a word.
    pub unread: RwSignal<std::collections::BTreeSet<String>>,
}

impl Builder {
    pub fn get() -> Self {
        expect_context::<Self>()
    }

    pub fn edit(&self, f: impl FnOnce(&mut QuizDefinition)) {
        self.def.update(f);
        self.dirty.set(true);
    }

    /// Refuses what was typed in `field`, next to it, until it reads.
    pub fn refuse_input(&self, field: &str, message: String) {
        self.error.set(Some(FieldError {
            field: field.into(),
            message,
        }));
        self.unread.update(|u| {
            u.insert(field.into());
        });
        self.dirty.set(true);
    }

    /// What was typed in `field` reads: its refusal goes.
    pub fn accept_input(&self, field: &str) {
        if self.error_for(field).is_some() {
            self.error.set(None);
        }
        if self.unread.with_untracked(|u| u.contains(field)) {
            self.unread.update(|u| {
                u.remove(field);
            });
        }
    }

    /// A field still holding text the draft lacks, with why, unless every
    /// such field has gone from the page since (its question was removed).
    pub fn unread_input(&self) -> Option<FieldError> {
        let field = self
            .unread
            .with_untracked(|u| u.iter().find(|f| crate::focus::exists(f)).cloned())?;
        let message = self
            .error_for(&field)
            .unwrap_or_else(|| "this field holds text that could not be read".into());
        Some(FieldError { field, message })
    }

    pub fn error_for(&self, id: &str) -> Option<String> {
        self.error.with(|e| {
            e.as_ref()
                .filter(|e| e.field == id)
                .map(|e| e.message.clone())
        })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    LongText,
    Url,
    /// Committed when the field is left, so half-typed values are kept.
    Committed,
}

/// The message line under a field; empty until a save or check refuses it.
pub fn field_error(id: String) -> AnyView {
    let b = Builder::get();
    let msg_id = format!("{id}-error");
    view! { <p class="field-error" id=msg_id role="alert">{move || b.error_for(&id)}</p> }
        .into_any()
}

/// A labelled text field bound to part of the draft. `get` returns `None`
/// while the row it reads is being removed.
pub fn text_field(
    id: String,
    label: String,
    kind: Kind,
    get: impl Fn(&QuizDefinition) -> Option<String> + Send + Sync + 'static,
    set: impl Fn(&mut QuizDefinition, String) + Send + Sync + 'static + Clone,
) -> AnyView {
    let b = Builder::get();
    let value = move || b.def.with(|d| get(d)).unwrap_or_default();
    let invalid = {
        let id = id.clone();
        move || b.error_for(&id).is_some().then_some("true")
    };
    let describedby = format!("{id}-error");
    let input = {
        let set = set.clone();
        move |ev| {
            let v = event_target_value(&ev);
            let set = set.clone();
            b.edit(move |d| set(d, v));
        }
    };
    let field = match kind {
        Kind::LongText => view! {
            <textarea id=id.clone() rows="4" prop:value=value on:input=input
                aria-invalid=invalid aria-describedby=describedby></textarea>
        }
        .into_any(),
        Kind::Committed => view! {
            <input id=id.clone() type="text" prop:value=value on:change=input
                aria-invalid=invalid aria-describedby=describedby />
        }
        .into_any(),
        Kind::Text | Kind::Url => view! {
            <input id=id.clone() type=if kind == Kind::Url { "url" } else { "text" }
                prop:value=value on:input=input
                aria-invalid=invalid aria-describedby=describedby />
        }
        .into_any(),
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            {field}
            {field_error(id)}
        </div>
    }
    .into_any()
}

/// A labelled number field; what does not read as a number is refused next
/// to the field and leaves the draft as it was.
pub fn number_field(
    id: String,
    label: String,
    get: impl Fn(&QuizDefinition) -> Option<f64> + Send + Sync + 'static,
    set: impl Fn(&mut QuizDefinition, f64) + Send + Sync + 'static + Clone,
) -> AnyView {
    let b = Builder::get();
    let value = move || {
        b.def
            .with(|d| get(d))
            .map(|v| v.to_string())
            .unwrap_or_default()
    };
    let invalid = {
        let id = id.clone();
        move || b.error_for(&id).is_some().then_some("true")
    };
    let describedby = format!("{id}-error");
    let change = {
        let id = id.clone();
        move |ev| {
            let raw = event_target_value(&ev);
            match raw.trim().parse::<f64>() {
                Ok(v) if v.is_finite() => {
                    let set = set.clone();
                    b.edit(move |d| set(d, v));
                    b.accept_input(&id);
                }
                _ => b.refuse_input(&id, "enter a number, e.g. 3 or -1.5".into()),
            }
        }
    };
    view! {
        <div class="field number">
            <label for=id.clone()>{label}</label>
            <input id=id.clone() type="text" inputmode="decimal" prop:value=value on:change=change
                aria-invalid=invalid aria-describedby=describedby />
            {field_error(id)}
        </div>
    }
    .into_any()
}

/// Title, slug, intro, theme and lead gate.
#[component]
pub fn QuizSettings(published: bool) -> AnyView {
    let b = Builder::get();
    let slug_invalid = move || b.error_for("quiz-slug").is_some().then_some("true");
    let gate = move || b.def.with(|d| d.lead_gate);
    let gate_choice = move |value: LeadGate, label: &'static str, id: &'static str| {
        view! {
            <div class="choice">
                <input type="radio" id=id name="lead-gate" prop:checked=move || gate() == value
                    on:change=move |_| b.edit(|d| d.lead_gate = value) />
                <label for=id>{label}</label>
            </div>
        }
    };
    view! {
        <fieldset id="quiz" class="panel" tabindex="-1">
            <legend>"Quiz"</legend>
            {text_field("quiz-title".into(), "Title".into(), Kind::Text,
                |d| Some(d.title.clone()), |d, v| d.title = v)}
            <div class="field">
                <label for="quiz-slug">"Slug"</label>
                <div class="row">
                    <span class="prefix" aria-hidden="true">"/q/"</span>
                    <input id="quiz-slug" type="text" prop:value=move || b.slug.get()
                        on:input=move |ev| { b.slug.set(event_target_value(&ev)); b.dirty.set(true); }
                        aria-invalid=slug_invalid aria-describedby="quiz-slug-error quiz-slug-help" />
                </div>
                <p id="quiz-slug-help" class="help">
                    {if published {
                        "The quiz's public address. Changing it moves the published quiz too."
                    } else {
                        "The quiz's public address once published."
                    }}
                </p>
                {field_error("quiz-slug".into())}
            </div>
            {text_field("quiz-intro".into(), "Intro".into(), Kind::LongText,
                |d| Some(d.intro.clone()), |d, v| d.intro = v)}
            <div class="row wrap">
                <div class="field">
                    <label for="quiz-brand-color">"Brand color"</label>
                    <div class="row">
                        <input type="color" aria-label="Pick the brand color" class="swatch"
                            prop:value=move || b.def.with(|d| d.theme.brand_color.clone())
                            on:input=move |ev| { let v = event_target_value(&ev); b.edit(|d| d.theme.brand_color = v); } />
                        <input id="quiz-brand-color" type="text" maxlength="7"
                            prop:value=move || b.def.with(|d| d.theme.brand_color.clone())
                            on:input=move |ev| { let v = event_target_value(&ev); b.edit(|d| d.theme.brand_color = v); }
                            aria-describedby="quiz-brand-color-error" />
                    </div>
                    {field_error("quiz-brand-color".into())}
                </div>
                {text_field("quiz-logo-url".into(), "Logo URL".into(), Kind::Url,
                    |d| Some(d.theme.logo_url.clone()), |d, v| d.theme.logo_url = v)}
            </div>
            <fieldset class="choices">
                <legend>"Ask for contact details"</legend>
                {gate_choice(LeadGate::BeforeResult, "Before showing the result", "lead-gate-before")}
                {gate_choice(LeadGate::AfterResult, "After the result (offer to send it)", "lead-gate-after")}
                {gate_choice(LeadGate::Never, "Never", "lead-gate-never")}
            </fieldset>
        </fieldset>
    }
    .into_any()
}
