//! Publish checks on outcomes: each is well formed, somebody can reach it,
//! score ranges neither overlap nor leave gaps over the scores the quiz
//! can give, and every respondent gets a result page.
//!
//! Outcomes are chosen as [`super::choose_outcome`] does: score ranges and
//! top categories in the order they are listed, then the fallback. Tier
//! outcomes depend on segments and are not judged here beyond their slug.

use super::keys::{OutcomeKey, Slug};
use super::model::{OutcomeRule, QuizDefinition};
use super::publish::{Problem, is_link, problem};
use super::scoring::{highest_range_max, score_bounds};
use std::collections::BTreeSet;

pub(super) fn check_outcomes(def: &QuizDefinition, out: &mut Vec<Problem>) {
    if def.outcomes.is_empty() {
        out.push(problem(
            "outcomes",
            "add at least one outcome (result page)",
        ));
        return;
    }
    let (lo, hi) = score_bounds(def);
    let top = highest_range_max(def);
    let categories: BTreeSet<String> = def.categories().into_iter().collect();
    let mut keys = BTreeSet::new();
    // What the outcomes listed so far already catch.
    let mut ranges: Vec<(f64, f64, &str)> = Vec::new();
    let mut claimed: BTreeSet<&str> = BTreeSet::new();
    let mut tiers: BTreeSet<&str> = BTreeSet::new();
    let all_claimed = |claimed: &BTreeSet<&str>| {
        !categories.is_empty() && categories.iter().all(|c| claimed.contains(c.as_str()))
    };
    for o in &def.outcomes {
        let anchor = format!("outcome-{}", o.key);
        let named = |m: String| problem(&anchor, m);
        if let Err(e) = OutcomeKey::parse(&o.key) {
            out.push(named(e.to_string()));
        }
        if !keys.insert(o.key.as_str()) {
            out.push(named(format!("two outcomes use the key \"{}\"", o.key)));
        }
        if o.title.trim().is_empty() {
            out.push(named(format!("outcome \"{}\" has no title", o.key)));
        }
        if !is_link(&o.cta_url) {
            out.push(named(format!(
                "outcome \"{}\": the button link must start with https://, http:// or /",
                o.key
            )));
        }
        if o.cta_label.trim().is_empty() != o.cta_url.is_empty() {
            out.push(named(format!(
                "outcome \"{}\": a button needs both a label and a link",
                o.key
            )));
        }
        let earlier = ranges.iter().map(|r| (r.0, r.1)).collect::<Vec<_>>();
        let everyone_caught = all_claimed(&claimed) || gaps(&earlier, lo, hi, top).is_empty();
        let unreachable =
            |why: String| named(format!("nobody can reach outcome \"{}\": {why}", o.key));
        match &o.rule {
            OutcomeRule::ScoreRange { min, max } => {
                let (min, max) = (*min, *max);
                if min >= max {
                    out.push(named(format!(
                        "outcome \"{}\": the score range {min} to {max} is empty; the lowest score must be below the highest",
                        o.key
                    )));
                    continue;
                }
                let includes_max = top == Some(max);
                let (from, to) = (min.max(lo), max.min(hi));
                if from > to || (to == max && !includes_max && from == to) {
                    out.push(unreachable(format!(
                        "it needs a score from {min} to {max}, but scores run from {lo} to {hi}"
                    )));
                } else if everyone_caught {
                    out.push(unreachable(
                        "every respondent already gets an outcome listed before it".into(),
                    ));
                } else if gaps(&earlier, from, to, top)
                    .iter()
                    .all(|g| g.0 == g.1 && g.0 == max && !includes_max)
                {
                    out.push(unreachable(
                        "score ranges listed before it already cover its scores".into(),
                    ));
                } else {
                    for (a, b, other) in &ranges {
                        let (x, y) = (a.max(from), b.min(to));
                        if x < y {
                            out.push(named(format!(
                                "the score ranges of \"{other}\" and \"{}\" overlap from {x} to {y}; pick where one ends and the other begins",
                                o.key
                            )));
                        }
                    }
                }
                ranges.push((min, max, &o.key));
            }
            OutcomeRule::TopCategory { category } => {
                if !categories.contains(category) {
                    out.push(unreachable(format!(
                        "\"{category}\" is not one of the quiz's categories"
                    )));
                } else if claimed.contains(category.as_str()) {
                    out.push(unreachable(format!(
                        "an outcome listed before it already takes top category \"{category}\""
                    )));
                } else if everyone_caught {
                    out.push(unreachable(
                        "every respondent already gets an outcome listed before it".into(),
                    ));
                }
                if categories.contains(category) {
                    claimed.insert(category);
                }
            }
            OutcomeRule::Tier { segment } => {
                if let Err(e) = Slug::parse(segment) {
                    out.push(named(e.to_string().replace("quiz address", "tier")));
                } else if !tiers.insert(segment) {
                    out.push(unreachable(format!(
                        "an outcome listed before it already belongs to tier \"{segment}\""
                    )));
                }
            }
            OutcomeRule::Fallback => {}
        }
    }
    let all_ranges: Vec<(f64, f64)> = ranges.iter().map(|r| (r.0, r.1)).collect();
    let uncovered = gaps(&all_ranges, lo, hi, top);
    let everyone_caught = all_claimed(&claimed) || uncovered.is_empty();
    let mut fallbacks = def
        .outcomes
        .iter()
        .filter(|o| matches!(o.rule, OutcomeRule::Fallback));
    match fallbacks.next() {
        Some(first) if everyone_caught => out.push(problem(
            &format!("outcome-{}", first.key),
            format!(
                "nobody can reach outcome \"{}\": every respondent already gets another outcome; remove it or narrow the others",
                first.key
            ),
        )),
        Some(_) => {}
        None if everyone_caught => {}
        None if ranges.is_empty() => {
            let missing: Vec<&str> = categories
                .iter()
                .filter(|c| !claimed.contains(c.as_str()))
                .map(String::as_str)
                .collect();
            let who = if claimed.is_empty() {
                "respondents no outcome matches".to_string()
            } else {
                format!("respondents whose top category is {}", missing.join(" or "))
            };
            out.push(problem(
                "outcomes",
                format!("{who} get no result page: add a fallback outcome"),
            ));
        }
        None => {
            for (from, to) in uncovered {
                let next = ranges
                    .iter()
                    .filter(|r| r.0 >= to)
                    .min_by(|a, b| a.0.total_cmp(&b.0))
                    .or_else(|| ranges.iter().max_by(|a, b| a.1.total_cmp(&b.1)));
                let anchor = next.map_or("outcomes".to_string(), |r| format!("outcome-{}", r.2));
                let scores = if from == to {
                    format!("a score of {from}")
                } else {
                    format!("scores from {from} to {to}")
                };
                out.push(problem(
                    &anchor,
                    format!(
                        "{scores} get no result page (scores run from {lo} to {hi}): widen a score range or add a fallback outcome"
                    ),
                ));
            }
        }
    }
    for extra in fallbacks {
        out.push(problem(
            &format!("outcome-{}", extra.key),
            format!(
                "nobody can reach outcome \"{}\": another fallback outcome comes first",
                extra.key
            ),
        ));
    }
}

/// The parts of `lo..=hi` no range covers, as `(from, to)`; `(x, x)` is
/// the single score `x`. Ranges take their min and not their max, except
/// the one whose max is `top`, which takes it too.
pub(super) fn gaps(ranges: &[(f64, f64)], lo: f64, hi: f64, top: Option<f64>) -> Vec<(f64, f64)> {
    let mut sorted: Vec<(f64, f64)> = ranges.iter().copied().filter(|(a, b)| a < b).collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out = Vec::new();
    let mut cursor = lo; // everything from lo up to (not including) cursor is covered
    let mut hi_covered = false;
    for (a, b) in sorted {
        if a <= hi && (hi < b || (hi == b && top == Some(b))) {
            hi_covered = true;
        }
        if a > cursor && cursor < hi {
            out.push((cursor, a.min(hi)));
        }
        cursor = cursor.max(b);
    }
    if cursor < hi {
        out.push((cursor, hi));
    } else if !hi_covered && out.last().is_none_or(|g| g.1 < hi) {
        out.push((hi, hi));
    }
    out
}

#[cfg(test)]
#[path = "outcome_checks_tests.rs"]
mod tests;
