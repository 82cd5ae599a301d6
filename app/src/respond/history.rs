//! A hydrated quiz moves from step to step without page loads, so it
//! writes each step into the browser's history itself: Back and Forward
//! then move between its questions as they do between the pages of the
//! quiz without JavaScript. An entry holds the step as it was shown, with
//! the answer given, so going back to it needs no request; answering it
//! again is an answer to an earlier question of the path, which the server
//! takes and goes on from. In a frame (an embedded quiz) the host page's
//! Back button is left to the host page.

use super::StepView;
use serde::{Deserialize, Serialize};

/// One step in the history, `pos` entries after the first of the quiz.
/// Only the browser reads and writes them; the server renders steps.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub step: StepView,
    pub pos: usize,
}

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
impl Entry {
    /// The entry as stored: without the message of a refused post, which
    /// belonged to that moment, not to the step.
    fn new(step: &StepView, pos: usize) -> Self {
        let mut step = step.clone();
        step.error = None;
        Entry { step, pos }
    }

    fn encode(&self) -> Option<String> {
        serde_json::to_string(self).ok()
    }

    /// Reads a history state; `None` for one this quiz did not write.
    pub fn decode(state: &str) -> Option<Entry> {
        serde_json::from_str(state).ok()
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::Entry;
    use super::StepView;
    use leptos::prelude::window;
    use leptos::wasm_bindgen::JsValue;

    /// The history to write to; none in a frame.
    fn history() -> Option<web_sys::History> {
        let window = window();
        let framed = window.top().ok().flatten().is_some_and(|top| top != window);
        if framed {
            return None;
        }
        window.history().ok()
    }

    pub fn entry(state: &JsValue) -> Option<Entry> {
        Entry::decode(&state.as_string()?)
    }

    fn current(history: &web_sys::History) -> Option<Entry> {
        entry(&history.state().ok()?)
    }

    fn write(history: &web_sys::History, entry: Entry, push: bool) {
        let Some(state) = entry.encode() else { return };
        let state = JsValue::from_str(&state);
        let _ = if push {
            history.push_state(&state, "")
        } else {
            history.replace_state(&state, "")
        };
    }

    pub fn replace(step: &StepView) {
        if let Some(history) = history() {
            let pos = current(&history).map_or(0, |e| e.pos);
            write(&history, Entry::new(step, pos), false);
        }
    }

    pub fn push(step: &StepView) {
        if let Some(history) = history() {
            let pos = current(&history).map_or(0, |e| e.pos + 1);
            write(&history, Entry::new(step, pos), true);
        }
    }

    /// Goes back one entry when the one behind is this quiz's; false when
    /// there is none (the quiz was opened at a later step), so the caller
    /// asks the server for the previous step instead.
    pub fn back() -> bool {
        let Some(history) = history() else {
            return false;
        };
        let behind = current(&history).is_some_and(|e| e.pos > 0);
        behind && history.back().is_ok()
    }

    /// Leaves the quiz's entries for the page before them, from the entry
    /// at `pos`: a finished quiz's questions cannot be answered again.
    pub fn leave(pos: usize) {
        if let Some(history) = history() {
            let _ = history.go_with_delta(-(pos as i32) - 1);
        }
    }
}

#[cfg(feature = "hydrate")]
pub use browser::{back, entry, leave};

/// Records `step` as the current entry's (the first step shown, an answer
/// given before it is sent, a step reached by the quiz's own Back).
pub fn replace(step: &StepView) {
    #[cfg(feature = "hydrate")]
    browser::replace(step);
    #[cfg(not(feature = "hydrate"))]
    let _ = step;
}

/// Adds `step` as a new entry after the current one.
pub fn push(step: &StepView) {
    #[cfg(feature = "hydrate")]
    browser::push(step);
    #[cfg(not(feature = "hydrate"))]
    let _ = step;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::respond::QuestionView;

    fn step(error: Option<(String, String)>) -> StepView {
        StepView {
            slug: "growth".into(),
            title: "Growth".into(),
            intro: String::new(),
            brand_color: String::new(),
            logo_url: String::new(),
            question: QuestionView {
                key: "stage".into(),
                kind: "single".into(),
                prompt: "Where is your business today?".into(),
                help: String::new(),
                required: true,
                options: vec![("growing".into(), "Growing".into())],
                scale: None,
                fields: vec![],
            },
            done: 0,
            total: 7,
            can_go_back: false,
            last: false,
            error,
            values: vec![("answer".into(), "growing".into())],
            hidden_fields: vec![],
            started: Some("1.signature".into()),
        }
    }

    #[test]
    fn an_entry_keeps_the_answer_given_but_not_a_refusal() {
        let refused = step(Some((
            "answer".into(),
            "please answer this question".into(),
        )));
        let stored = Entry::new(&refused, 3).encode().unwrap();
        let back = Entry::decode(&stored).unwrap();
        assert_eq!(back.pos, 3);
        assert_eq!(back.step, step(None));
    }

    #[test]
    fn states_the_quiz_did_not_write_are_not_entries() {
        assert_eq!(Entry::decode("null"), None);
        assert_eq!(Entry::decode(r#"{"scroll":0}"#), None);
        assert_eq!(Entry::decode("not json"), None);
    }
}
