//! The quiz as a graph of questions: where each question can lead, which
//! questions can be reached, which branches loop back, and the lowest and
//! highest total score over every way through.
//!
//! The graph treats every branch as one that might hold or not, whatever
//! it tests; only a branch that always holds (an empty `all`) shuts off
//! the branches after it and the default next question.

use super::model::{QuestionKind, QuizDefinition, Target};
use std::collections::BTreeSet;

/// Where a question can lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Exit {
    /// The question at this position.
    Question(usize),
    Result,
}

/// The places the question at `pos` can lead to, branches first.
pub(super) fn exits(def: &QuizDefinition, pos: usize) -> Vec<Exit> {
    let mut out = Vec::new();
    for branch in &def.questions[pos].branches {
        out.push(match &branch.goto {
            // A missing target ends the quiz, as `next_step` does.
            Target::Question(key) => def.position(key).map_or(Exit::Result, Exit::Question),
            Target::Result => Exit::Result,
        });
        if branch.when.is_always() {
            return out;
        }
    }
    out.push(if pos + 1 < def.questions.len() {
        Exit::Question(pos + 1)
    } else {
        Exit::Result
    });
    out
}

/// The positions reachable from `start` (included).
pub(super) fn reachable_from(def: &QuizDefinition, start: usize) -> BTreeSet<usize> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![start];
    while let Some(pos) = todo.pop() {
        if pos >= def.questions.len() || !seen.insert(pos) {
            continue;
        }
        for exit in exits(def, pos) {
            if let Exit::Question(next) = exit {
                todo.push(next);
            }
        }
    }
    seen
}

/// Positions no way through the quiz reaches from its first question.
pub(super) fn unreachable(def: &QuizDefinition) -> Vec<usize> {
    if def.questions.is_empty() {
        return vec![];
    }
    let seen = reachable_from(def, 0);
    (0..def.questions.len())
        .filter(|p| !seen.contains(p))
        .collect()
}

/// Branches that close a loop, as (question position, target position):
/// the branch goes back to a question from which the branching question
/// can be reached again. Every loop has one, since the default order only
/// moves forward.
pub(super) fn looping_branches(def: &QuizDefinition) -> Vec<(usize, usize)> {
    let mut out = BTreeSet::new();
    for pos in 0..def.questions.len() {
        for exit in exits(def, pos) {
            if let Exit::Question(to) = exit
                && to <= pos
                && reachable_from(def, to).contains(&pos)
            {
                out.insert((pos, to));
            }
        }
    }
    out.into_iter().collect()
}

/// The lowest and highest points one question can add.
pub(super) fn question_points(def: &QuizDefinition, pos: usize) -> (f64, f64) {
    let q = &def.questions[pos];
    let points: Vec<f64> = q.options.iter().map(|o| o.points).collect();
    let least = points.iter().copied().fold(f64::INFINITY, f64::min);
    let most = points.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = match &q.kind {
        QuestionKind::Single if !points.is_empty() => (least, most),
        // At least one option is chosen; every one that helps is taken.
        QuestionKind::Multi if !points.is_empty() => {
            let negative: f64 = points.iter().filter(|p| **p < 0.0).sum();
            let positive: f64 = points.iter().filter(|p| **p > 0.0).sum();
            (
                if least < 0.0 { negative } else { least },
                if most > 0.0 { positive } else { most },
            )
        }
        QuestionKind::Scale { min, max } => ((*min).min(*max) as f64, (*max).max(*min) as f64),
        _ => (0.0, 0.0),
    };
    if q.required {
        (lo, hi)
    } else {
        (lo.min(0.0), hi.max(0.0))
    }
}

/// The lowest and highest total over every way through the quiz. Branches
/// back (loops, which publishing refuses) are left out.
pub(super) fn total_bounds(def: &QuizDefinition) -> (f64, f64) {
    let n = def.questions.len();
    if n == 0 {
        return (0.0, 0.0);
    }
    // From the last question back: each one's points plus the best and
    // worst of where it leads; forward targets are already known.
    let mut best = vec![(0.0, 0.0); n];
    for pos in (0..n).rev() {
        let (lo, hi) = question_points(def, pos);
        let (mut after_lo, mut after_hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for exit in exits(def, pos) {
            let (l, h) = match exit {
                Exit::Question(to) if to > pos => best[to],
                Exit::Question(_) => continue,
                Exit::Result => (0.0, 0.0),
            };
            after_lo = after_lo.min(l);
            after_hi = after_hi.max(h);
        }
        if after_lo > after_hi {
            (after_lo, after_hi) = (0.0, 0.0); // only loops lead on
        }
        best[pos] = (lo + after_lo, hi + after_hi);
    }
    best[0]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quiz::demo::demo_growth_quiz;
    use crate::quiz::model::{Branch, Condition};

    fn always_to(target: Target) -> Branch {
        Branch {
            when: Condition::always(),
            goto: target,
        }
    }

    #[test]
    fn a_question_leads_to_its_branch_targets_and_the_next_question() {
        let def = demo_growth_quiz();
        assert_eq!(exits(&def, 0), [Exit::Question(3), Exit::Question(1)]);
        assert_eq!(exits(&def, def.questions.len() - 1), [Exit::Result]);
    }

    #[test]
    fn a_branch_that_always_holds_replaces_the_default_order() {
        let mut def = demo_growth_quiz();
        def.questions[1].branches = vec![always_to(Target::Result)];
        assert_eq!(exits(&def, 1), [Exit::Result]);
        assert_eq!(unreachable(&def), [2]); // only "budget" led to "urgency"
        def.questions[0].branches = vec![always_to(Target::Question("team".into()))];
        assert_eq!(unreachable(&def), [1, 2, 3, 4]);
    }

    #[test]
    fn only_a_branch_back_to_a_question_that_leads_here_again_is_a_loop() {
        let mut def = demo_growth_quiz();
        def.questions[4].branches = vec![Branch {
            when: Condition::AtLeast {
                question: "urgency".into(),
                value: 5,
            },
            goto: Target::Question("urgency".into()),
        }];
        assert_eq!(looping_branches(&def), [(4, 2)]);
        // Back to "budget", but "budget" always ends the quiz: no loop.
        let mut def = demo_growth_quiz();
        def.questions[1].branches = vec![always_to(Target::Result)];
        def.questions[4].branches = vec![always_to(Target::Question("budget".into()))];
        assert_eq!(looping_branches(&def), []);
    }

    #[test]
    fn multi_choice_adds_every_helpful_option_and_at_least_one() {
        let def = demo_growth_quiz();
        let channels = def.position("channels").unwrap();
        assert_eq!(question_points(&def, channels), (0.0, 3.0));
        let mut def = def;
        for o in &mut def.questions[channels].options {
            o.points = 2.0;
        }
        assert_eq!(question_points(&def, channels), (2.0, 8.0));
        def.questions[channels].required = false;
        assert_eq!(question_points(&def, channels), (0.0, 8.0));
    }

    #[test]
    fn score_bounds_follow_the_best_and_worst_way_through() {
        let mut def = demo_growth_quiz();
        // stage 0..3, budget 0..3, urgency 1..5, channels 0..3, team 0..2;
        // "idea" skips budget and urgency, so the lowest total is 0.
        assert_eq!(total_bounds(&def), (0.0, 16.0));
        def.questions[0].branches.clear();
        assert_eq!(total_bounds(&def), (1.0, 16.0));
    }
}
