//! What must hold before a draft can be published. Every problem carries the
//! anchor of the builder part it is about, so the list can link to it:
//! `question-<key>`, `outcome-<key>`, or one of `quiz` (title), `theme`,
//! `categories`, `questions` and `outcomes` (the lists as a whole).
//!
//! Outcome checks (score ranges, outcomes nobody reaches) are in
//! `outcome_checks.rs`; the branching graph is in `graph.rs`.

use super::graph::{looping_branches, unreachable};
use super::keys::{OptionKey, QuestionKey};
use super::model::{Condition, ContactField, Question, QuestionKind, QuizDefinition, Target};
use super::outcome_checks::check_outcomes;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One thing to fix before publishing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub anchor: String,
    pub message: String,
}

/// The most values a scale may offer (one button each).
pub const MAX_SCALE_STEPS: i64 = 101;

/// Every problem that stops this draft from being published, in the order
/// of the builder: quiz, theme, categories, questions, outcomes. Empty
/// means it can be published.
pub fn validate_for_publish(def: &QuizDefinition) -> Vec<Problem> {
    let mut out = Vec::new();
    check_quiz(def, &mut out);
    let mut keys = BTreeSet::new();
    for (pos, q) in def.questions.iter().enumerate() {
        let anchor = question_anchor(&q.key);
        if let Err(e) = QuestionKey::parse(&q.key) {
            out.push(problem(&anchor, e.to_string()));
        }
        if !keys.insert(q.key.as_str()) {
            out.push(problem(
                &anchor,
                format!("two questions use the key \"{}\"", q.key),
            ));
        }
        check_question(def, pos, q, &anchor, &mut out);
    }
    for pos in unreachable(def) {
        let key = &def.questions[pos].key;
        out.push(problem(
            &question_anchor(key),
            format!("no answers lead to question \"{key}\": respondents never see it"),
        ));
    }
    for (from, to) in looping_branches(def) {
        let (from, to) = (&def.questions[from].key, &def.questions[to].key);
        out.push(problem(
            &question_anchor(from),
            format!(
                "question \"{from}\" branches back to \"{to}\", which leads to \"{from}\" again: respondents could go round in circles"
            ),
        ));
    }
    check_outcomes(def, &mut out);
    out
}

pub(super) fn problem(anchor: &str, message: impl Into<String>) -> Problem {
    Problem {
        anchor: anchor.to_string(),
        message: message.into(),
    }
}

pub(super) fn question_anchor(key: &str) -> String {
    format!("question-{key}")
}

fn check_quiz(def: &QuizDefinition, out: &mut Vec<Problem>) {
    if def.title.trim().is_empty() {
        out.push(problem("quiz", "give the quiz a title"));
    }
    let color = def.theme.brand_color.as_bytes();
    if !(color.len() == 7 && color[0] == b'#' && color[1..].iter().all(u8::is_ascii_hexdigit)) {
        out.push(problem(
            "theme",
            format!(
                "the brand color \"{}\" must look like #1a2b3c",
                def.theme.brand_color
            ),
        ));
    }
    if !is_link(&def.theme.logo_url) {
        out.push(problem(
            "theme",
            "the logo address must start with https://, http:// or /",
        ));
    }
    let mut declared = BTreeSet::new();
    for c in &def.categories {
        if let Err(e) = QuestionKey::parse(c) {
            out.push(problem(
                "categories",
                e.to_string().replace("question key", "category"),
            ));
        }
        if !declared.insert(c.as_str()) {
            out.push(problem(
                "categories",
                format!("the category \"{c}\" is listed twice"),
            ));
        }
    }
    if def.questions.is_empty() {
        out.push(problem("questions", "add at least one question"));
    }
}

/// Empty, or an absolute http(s) address, or a path on this site.
pub(super) fn is_link(url: &str) -> bool {
    url.is_empty()
        || url.starts_with("https://")
        || url.starts_with("http://")
        || (url.starts_with('/') && !url.starts_with("//"))
}

fn check_question(
    def: &QuizDefinition,
    pos: usize,
    q: &Question,
    anchor: &str,
    out: &mut Vec<Problem>,
) {
    let key = &q.key;
    if q.prompt.trim().is_empty() {
        out.push(problem(anchor, format!("question \"{key}\" has no prompt")));
    }
    match &q.kind {
        QuestionKind::Single | QuestionKind::Multi if q.options.len() < 2 => out.push(problem(
            anchor,
            format!(
                "question \"{key}\" is a {} choice: give it at least two options",
                q.kind.name()
            ),
        )),
        QuestionKind::Scale { min, max } if min >= max => out.push(problem(
            anchor,
            format!("question \"{key}\": the scale's lowest value must be below its highest"),
        )),
        QuestionKind::Scale { min, max } if max.abs_diff(*min) >= MAX_SCALE_STEPS as u64 => out
            .push(problem(
                anchor,
                format!("question \"{key}\": a scale can offer at most {MAX_SCALE_STEPS} values"),
            )),
        QuestionKind::Contact { fields } if fields.is_empty() => out.push(problem(
            anchor,
            format!("question \"{key}\" asks for no contact details: pick at least one field"),
        )),
        QuestionKind::Contact { fields }
            if fields.contains(&ContactField::Consent)
                && !fields.contains(&ContactField::Email) =>
        {
            out.push(problem(
                anchor,
                format!("question \"{key}\" asks for consent without an email to consent for"),
            ))
        }
        _ => {}
    }
    if q.kind.has_options() {
        check_options(def, q, anchor, out);
    }
    let mut always_before = false;
    for (i, b) in q.branches.iter().enumerate() {
        let nth = i + 1;
        if always_before {
            out.push(problem(
                anchor,
                format!("branch {nth} of \"{key}\" comes after one that always applies, so it never does"),
            ));
        }
        always_before |= b.when.is_always();
        if let Target::Question(to) = &b.goto
            && def.question(to).is_none()
        {
            out.push(problem(
                anchor,
                format!("branch {nth} of \"{key}\" goes to \"{to}\", which does not exist"),
            ));
        }
        check_condition(def, pos, &b.when, anchor, out);
    }
}

fn check_options(def: &QuizDefinition, q: &Question, anchor: &str, out: &mut Vec<Problem>) {
    let mut keys = BTreeSet::new();
    for o in &q.options {
        if let Err(e) = OptionKey::parse(&o.key) {
            out.push(problem(anchor, format!("question \"{}\": {e}", q.key)));
        }
        if !keys.insert(o.key.as_str()) {
            out.push(problem(
                anchor,
                format!(
                    "question \"{}\" has two options with the key \"{}\"",
                    q.key, o.key
                ),
            ));
        }
        if o.label.trim().is_empty() {
            out.push(problem(
                anchor,
                format!(
                    "option \"{}\" of question \"{}\" has no label",
                    o.key, q.key
                ),
            ));
        }
        for category in o.category_points.keys() {
            if !def.categories.is_empty() && !def.categories.contains(category) {
                out.push(problem(
                    anchor,
                    format!(
                        "option \"{}\" of question \"{}\" gives points in \"{category}\", which is not one of the quiz's categories",
                        o.key, q.key
                    ),
                ));
            } else if def.categories.is_empty()
                && let Err(e) = QuestionKey::parse(category)
            {
                out.push(problem(
                    anchor,
                    e.to_string().replace("question key", "category"),
                ));
            }
        }
    }
}

/// A branch condition must name questions asked before the branch is
/// taken, options they have, and scales where it compares numbers.
fn check_condition(
    def: &QuizDefinition,
    pos: usize,
    c: &Condition,
    anchor: &str,
    out: &mut Vec<Problem>,
) {
    let here = &def.questions[pos].key;
    let asked = |question: &str, out: &mut Vec<Problem>| -> Option<&Question> {
        match def.position(question) {
            None => {
                out.push(problem(
                    anchor,
                    format!("a branch of \"{here}\" tests \"{question}\", which does not exist"),
                ));
                None
            }
            Some(p) if p > pos => {
                out.push(problem(
                    anchor,
                    format!("a branch of \"{here}\" tests \"{question}\", which is asked later, so it never applies"),
                ));
                None
            }
            Some(p) => Some(&def.questions[p]),
        }
    };
    match c {
        Condition::All { conditions } | Condition::Any { conditions } => {
            if conditions.is_empty() && matches!(c, Condition::Any { .. }) {
                out.push(problem(
                    anchor,
                    format!("a branch of \"{here}\" has an empty \"any\", so it never applies"),
                ));
            }
            for c in conditions {
                check_condition(def, pos, c, anchor, out);
            }
        }
        Condition::Chose { question, options } => {
            let Some(q) = asked(question, out) else {
                return;
            };
            if !q.kind.has_options() {
                out.push(problem(
                    anchor,
                    format!("a branch of \"{here}\" tests which option \"{question}\" got, but it has no options"),
                ));
            } else if options.is_empty() {
                out.push(problem(
                    anchor,
                    format!("a branch of \"{here}\" tests \"{question}\" but names no option"),
                ));
            }
            for o in options
                .iter()
                .filter(|o| !q.options.iter().any(|x| &x.key == *o))
            {
                out.push(problem(
                    anchor,
                    format!("a branch of \"{here}\" tests option \"{o}\", which question \"{question}\" does not have"),
                ));
            }
        }
        Condition::AtLeast { question, .. } | Condition::AtMost { question, .. } => {
            let Some(q) = asked(question, out) else {
                return;
            };
            if !matches!(q.kind, QuestionKind::Scale { .. }) {
                out.push(problem(
                    anchor,
                    format!("a branch of \"{here}\" compares \"{question}\" with a number, but it is not a scale"),
                ));
            }
        }
    }
}

#[cfg(test)]
#[path = "publish_tests.rs"]
mod tests;
