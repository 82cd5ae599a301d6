//! What must hold before a draft can be published. Every problem carries an
//! anchor of the builder field it is about, so the list can link to it.

use super::flow::{Step, first_step};
use super::model::{Condition, OutcomeRule, QuestionKind, QuizDefinition, Target};
use super::scoring::score_bounds;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// `question-<key>`, `outcome-<key>` or `quiz`.
    pub anchor: String,
    pub message: String,
}

fn problem(anchor: String, message: String) -> Problem {
    Problem { anchor, message }
}

pub fn validate_for_publish(def: &QuizDefinition) -> Vec<Problem> {
    let mut out = Vec::new();
    if def.title.trim().is_empty() {
        out.push(problem("quiz".into(), "give the quiz a title".into()));
    }
    if def.questions.is_empty() {
        out.push(problem("quiz".into(), "add at least one question".into()));
    }
    let mut keys = BTreeSet::new();
    for q in &def.questions {
        let anchor = format!("question-{}", q.key);
        if !keys.insert(q.key.as_str()) {
            out.push(problem(
                anchor.clone(),
                format!("the key \"{}\" is used by two questions", q.key),
            ));
        }
        if q.prompt.trim().is_empty() {
            out.push(problem(
                anchor.clone(),
                format!("question \"{}\" has no prompt", q.key),
            ));
        }
        if q.kind.has_options() && q.options.len() < 2 {
            out.push(problem(
                anchor.clone(),
                format!("question \"{}\" needs at least two options", q.key),
            ));
        }
        if let QuestionKind::Scale { min, max } = q.kind
            && min >= max
        {
            out.push(problem(
                anchor.clone(),
                format!(
                    "question \"{}\": the scale's lowest value must be below its highest",
                    q.key
                ),
            ));
        }
        let mut option_keys = BTreeSet::new();
        for o in &q.options {
            if !option_keys.insert(o.key.as_str()) {
                out.push(problem(
                    anchor.clone(),
                    format!(
                        "question \"{}\" has two options with the key \"{}\"",
                        q.key, o.key
                    ),
                ));
            }
        }
        for b in &q.branches {
            if let Target::Question(to) = &b.goto {
                match def.position(to) {
                    None => out.push(problem(
                        anchor.clone(),
                        format!(
                            "question \"{}\" branches to \"{to}\", which does not exist",
                            q.key
                        ),
                    )),
                    Some(p) if Some(p) <= def.position(&q.key) => out.push(problem(
                        anchor.clone(),
                        format!(
                            "question \"{}\" branches back to \"{to}\", which makes a loop",
                            q.key
                        ),
                    )),
                    _ => {}
                }
            }
            check_condition(def, &b.when, &anchor, &mut out);
        }
    }
    for key in unreachable_questions(def) {
        out.push(problem(
            format!("question-{key}"),
            format!("no answers lead to question \"{key}\""),
        ));
    }
    check_outcomes(def, &mut out);
    out
}

fn check_condition(def: &QuizDefinition, c: &Condition, anchor: &str, out: &mut Vec<Problem>) {
    match c {
        Condition::All { conditions } | Condition::Any { conditions } => {
            for c in conditions {
                check_condition(def, c, anchor, out);
            }
        }
        Condition::Chose { question, options } => match def.question(question) {
            None => out.push(problem(
                anchor.into(),
                format!("a branch tests \"{question}\", which does not exist"),
            )),
            Some(q) => {
                for o in options
                    .iter()
                    .filter(|o| !q.options.iter().any(|x| &x.key == *o))
                {
                    out.push(problem(anchor.into(), format!("a branch tests option \"{o}\", which question \"{question}\" does not have")));
                }
            }
        },
        Condition::AtLeast { question, .. } => {
            if !matches!(
                def.question(question).map(|q| &q.kind),
                Some(QuestionKind::Scale { .. })
            ) {
                out.push(problem(
                    anchor.into(),
                    format!("a branch compares \"{question}\" as a scale, but it is not one"),
                ));
            }
        }
    }
}

/// Questions no path from the first question reaches, following the
/// default order and every branch.
fn unreachable_questions(def: &QuizDefinition) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut todo = match first_step(def) {
        Step::Question(k) => vec![k],
        Step::Result => vec![],
    };
    while let Some(key) = todo.pop() {
        if !seen.insert(key.clone()) {
            continue;
        }
        let Some(pos) = def.position(&key) else {
            continue;
        };
        let q = &def.questions[pos];
        // An unconditional branch (an empty "all") replaces the default order.
        let always = q
            .branches
            .iter()
            .any(|b| matches!(&b.when, Condition::All { conditions } if conditions.is_empty()));
        if !always && let Some(next) = def.questions.get(pos + 1) {
            todo.push(next.key.clone());
        }
        for b in &q.branches {
            if let Target::Question(to) = &b.goto {
                todo.push(to.clone());
            }
        }
    }
    def.questions
        .iter()
        .filter(|q| !seen.contains(&q.key))
        .map(|q| q.key.clone())
        .collect()
}

fn check_outcomes(def: &QuizDefinition, out: &mut Vec<Problem>) {
    if def.outcomes.is_empty() {
        out.push(problem(
            "quiz".into(),
            "add at least one outcome (result page)".into(),
        ));
        return;
    }
    let (lo, hi) = score_bounds(def);
    let mut ranges: Vec<(f64, f64, &str)> = Vec::new();
    let categories: BTreeSet<String> = def.categories().into_iter().collect();
    let mut keys = BTreeMap::new();
    for o in &def.outcomes {
        let anchor = format!("outcome-{}", o.key);
        if keys.insert(o.key.as_str(), ()).is_some() {
            out.push(problem(
                anchor.clone(),
                format!("two outcomes use the key \"{}\"", o.key),
            ));
        }
        if o.title.trim().is_empty() {
            out.push(problem(
                anchor.clone(),
                format!("outcome \"{}\" has no title", o.key),
            ));
        }
        let link_ok = o.cta_url.is_empty()
            || o.cta_url.starts_with("https://")
            || o.cta_url.starts_with("http://")
            || o.cta_url.starts_with('/');
        if !link_ok {
            out.push(problem(
                anchor.clone(),
                format!(
                    "outcome \"{}\": the button link must start with https://, http:// or /",
                    o.key
                ),
            ));
        }
        match &o.rule {
            OutcomeRule::ScoreRange { min, max } => {
                if min >= max {
                    out.push(problem(
                        anchor.clone(),
                        format!("outcome \"{}\": the range {min}..{max} is empty", o.key),
                    ));
                } else if *max <= lo || *min > hi {
                    out.push(problem(anchor.clone(), format!("outcome \"{}\" needs a score from {min} to {max}, but scores run from {lo} to {hi}: nobody can reach it", o.key)));
                }
                ranges.push((*min, *max, &o.key));
            }
            OutcomeRule::TopCategory { category } if !categories.contains(category) => {
                out.push(problem(
                    anchor.clone(),
                    format!(
                        "outcome \"{}\" needs top category \"{category}\", but no option awards it",
                        o.key
                    ),
                ));
            }
            _ => {}
        }
    }
    if ranges.is_empty() {
        return;
    }
    ranges.sort_by(|a, b| a.0.total_cmp(&b.0));
    for pair in ranges.windows(2) {
        let ((_, a_max, a), (b_min, _, b)) = (
            (pair[0].0, pair[0].1, pair[0].2),
            (pair[1].0, pair[1].1, pair[1].2),
        );
        if b_min < a_max {
            out.push(problem(
                format!("outcome-{b}"),
                format!("the score ranges of \"{a}\" and \"{b}\" overlap"),
            ));
        } else if b_min > a_max {
            out.push(problem(
                format!("outcome-{b}"),
                format!(
                    "no outcome covers scores from {a_max} to {b_min} (between \"{a}\" and \"{b}\")"
                ),
            ));
        }
    }
    let has_fallback = def
        .outcomes
        .iter()
        .any(|o| matches!(o.rule, OutcomeRule::Fallback));
    let (first_min, last_max) = (
        ranges[0].0,
        ranges.iter().map(|r| r.1).fold(f64::MIN, f64::max),
    );
    if !has_fallback && (first_min > lo || last_max <= hi) {
        out.push(problem("quiz".into(), format!("scores run from {lo} to {hi}, but the outcome ranges cover {first_min} up to {last_max}; widen them or add a fallback outcome")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quiz::demo::growth_quiz;
    use crate::quiz::model::Branch;

    fn messages(def: &QuizDefinition) -> Vec<String> {
        validate_for_publish(def)
            .into_iter()
            .map(|p| p.message)
            .collect()
    }

    #[test]
    fn the_demo_quiz_publishes_cleanly() {
        assert_eq!(validate_for_publish(&growth_quiz()), vec![]);
    }

    #[test]
    fn a_branch_back_is_a_loop() {
        let mut def = growth_quiz();
        def.questions[2].branches.push(Branch {
            when: Condition::All { conditions: vec![] },
            goto: Target::Question("stage".into()),
        });
        let found = validate_for_publish(&def);
        assert!(
            found.iter().any(|p| p.message.contains("makes a loop")
                && p.anchor == format!("question-{}", def.questions[2].key)),
            "{found:?}"
        );
    }

    #[test]
    fn a_question_every_path_skips_is_unreachable() {
        let mut def = growth_quiz();
        // Always jump from the first question straight to the result.
        def.questions[0].branches = vec![Branch {
            when: Condition::All { conditions: vec![] },
            goto: Target::Result,
        }];
        let m = messages(&def);
        assert!(
            m.iter()
                .any(|m| m == "no answers lead to question \"budget\""),
            "{m:?}"
        );
    }

    #[test]
    fn gaps_and_overlaps_in_score_ranges_are_named() {
        let mut def = growth_quiz();
        if let OutcomeRule::ScoreRange { min, .. } = &mut def.outcomes[1].rule {
            *min += 2.0;
        }
        assert!(
            messages(&def)
                .iter()
                .any(|m| m.starts_with("no outcome covers scores")),
            "{:?}",
            messages(&def)
        );
        let mut def = growth_quiz();
        if let OutcomeRule::ScoreRange { min, .. } = &mut def.outcomes[1].rule {
            *min -= 2.0;
        }
        assert!(messages(&def).iter().any(|m| m.contains("overlap")));
    }

    #[test]
    fn outcome_outside_the_possible_scores_is_unreachable() {
        let mut def = growth_quiz();
        def.outcomes.push(crate::quiz::model::Outcome {
            key: "legend".into(),
            title: "Legend".into(),
            body_markdown: String::new(),
            cta_label: String::new(),
            cta_url: String::new(),
            rule: OutcomeRule::ScoreRange {
                min: 1000.0,
                max: 2000.0,
            },
        });
        assert!(
            messages(&def)
                .iter()
                .any(|m| m.contains("nobody can reach it"))
        );
    }

    #[test]
    fn duplicate_keys_missing_targets_and_empty_prompts_are_listed() {
        let mut def = growth_quiz();
        def.questions[1].key = def.questions[0].key.clone();
        def.questions[3].prompt = " ".into();
        def.questions[3].branches.push(Branch {
            when: Condition::Chose {
                question: "nope".into(),
                options: vec!["x".into()],
            },
            goto: Target::Question("missing".into()),
        });
        let m = messages(&def);
        assert!(m.iter().any(|m| m.contains("used by two questions")));
        assert!(m.iter().any(|m| m.contains("has no prompt")));
        assert!(
            m.iter()
                .any(|m| m.contains("\"missing\", which does not exist"))
        );
        assert!(m.iter().any(|m| m.contains("tests \"nope\"")));
    }
}
