//! Scores, category scores and the outcome they earn.
//!
//! A respondent's total is the sum, over the questions on their path, of
//! the points of each chosen option and the number picked on each scale.
//! Category scores add up the chosen options' per-category points; every
//! category of the quiz is present, at 0 when nothing was earned in it.

use super::answer::{Answer, Answers};
use super::flow::answers_on_path;
use super::graph::total_bounds;
use super::model::{Outcome, OutcomeRule, QuestionKind, QuizDefinition};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub total: f64,
    pub categories: BTreeMap<String, f64>,
    /// The tags of the chosen options, which the contact gets on finishing.
    #[serde(default)]
    pub tags: BTreeSet<String>,
}

impl Scores {
    /// The category with the most points; ties go to the first by name.
    /// `None` only when the quiz has no categories.
    pub fn top_category(&self) -> Option<&str> {
        self.categories
            .iter()
            .fold(None::<(&String, f64)>, |best, (k, v)| match best {
                Some((_, b)) if b >= *v => best,
                _ => Some((k, *v)),
            })
            .map(|(k, _)| k.as_str())
    }
}

/// Scores the answers against the version they were given on. Answers to
/// questions the version does not have, to questions the respondent's path
/// skips, and of options the question does not have count for nothing.
pub fn score(def: &QuizDefinition, answers: &Answers) -> Scores {
    let counted = answers_on_path(def, answers);
    let mut scores = Scores::default();
    for category in def.categories() {
        scores.categories.insert(category, 0.0);
    }
    for question in &def.questions {
        match (counted.get(&question.key), &question.kind) {
            (Some(Answer::Choice { options }), _) => {
                for option in question.options.iter().filter(|o| options.contains(&o.key)) {
                    scores.total += option.points;
                    scores.tags.extend(option.tags.iter().cloned());
                    for (category, points) in &option.category_points {
                        *scores.categories.entry(category.clone()).or_default() += points;
                    }
                }
            }
            (Some(Answer::Scale { value }), QuestionKind::Scale { .. }) => {
                scores.total += *value as f64;
            }
            _ => {}
        }
    }
    scores.total = tidy(scores.total);
    for points in scores.categories.values_mut() {
        *points = tidy(*points);
    }
    scores
}

/// Rounded to 6 decimal places, so that `0.1 + 0.2` scores `0.3` and
/// lands in the range a marketer expects.
pub(super) fn tidy(x: f64) -> f64 {
    if x.abs() < 1e12 {
        (x * 1e6).round() / 1e6
    } else {
        x
    }
}

/// The top category of these scores (see [`Scores::top_category`]).
pub fn top_category(scores: &Scores) -> Option<&str> {
    scores.top_category()
}

/// The lowest and highest total score the quiz can give, over every way
/// through it (each branch may be taken or not, whatever it tests).
pub fn score_bounds(def: &QuizDefinition) -> (f64, f64) {
    let (lo, hi) = total_bounds(def);
    (tidy(lo), tidy(hi))
}

/// The outcome for these scores: the outcome of the respondent's tier when
/// there is one; else the first score range or top category that matches,
/// in the order the outcomes are listed; else the first fallback.
pub fn choose_outcome<'a>(
    def: &'a QuizDefinition,
    scores: &Scores,
    tier: Option<&str>,
) -> Option<&'a Outcome> {
    let by_tier = tier.and_then(|t| {
        def.outcomes
            .iter()
            .find(|o| matches!(&o.rule, OutcomeRule::Tier { segment } if segment == t))
    });
    let top = highest_range_max(def);
    by_tier
        .or_else(|| {
            def.outcomes.iter().find(|o| match &o.rule {
                OutcomeRule::ScoreRange { min, max } => {
                    in_range(scores.total, *min, *max, top == Some(*max))
                }
                OutcomeRule::TopCategory { category } => {
                    scores.top_category() == Some(category.as_str())
                }
                _ => false,
            })
        })
        .or_else(|| {
            def.outcomes
                .iter()
                .find(|o| matches!(o.rule, OutcomeRule::Fallback))
        })
}

/// Whether `total` falls in `min..max`; the range reaching highest also
/// takes its `max`.
pub(super) fn in_range(total: f64, min: f64, max: f64, highest: bool) -> bool {
    total >= min && (total < max || (highest && total == max))
}

/// The highest `max` of the quiz's score ranges.
pub(super) fn highest_range_max(def: &QuizDefinition) -> Option<f64> {
    def.outcomes
        .iter()
        .filter_map(|o| match o.rule {
            OutcomeRule::ScoreRange { min, max } if min < max => Some(max),
            _ => None,
        })
        .max_by(f64::total_cmp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quiz::demo::demo_growth_quiz;

    fn choice(o: &[&str]) -> Answer {
        Answer::Choice {
            options: o.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn total(total: f64) -> Scores {
        Scores {
            total,
            ..Scores::default()
        }
    }

    #[test]
    fn points_category_points_and_scale_values_add_up() {
        let def = demo_growth_quiz();
        let answers = Answers::from([
            ("stage".into(), choice(&["growing"])),
            ("budget".into(), choice(&["high"])),
            ("urgency".into(), Answer::Scale { value: 5 }),
            ("channels".into(), choice(&["ads", "email"])),
        ]);
        let s = score(&def, &answers);
        assert_eq!(s.total, 2.0 + 3.0 + 5.0 + 2.0);
        assert_eq!(s.categories["budget"], 3.0);
        assert_eq!(s.categories["fit"], 2.0 + 1.0 + 1.0);
        assert_eq!(s.categories["urgency"], 1.0 + 1.0);
        assert_eq!(s.top_category(), Some("fit"));
    }

    #[test]
    fn chosen_options_give_their_tags_once() {
        let mut def = demo_growth_quiz();
        def.questions[1].options[2].tags = vec!["big-budget".into(), "hot".into()];
        def.questions[3].options[0].tags = vec!["hot".into()];
        let answers = Answers::from([
            ("stage".into(), choice(&["growing"])),
            ("budget".into(), choice(&["high"])),
            ("urgency".into(), Answer::Scale { value: 5 }),
            ("channels".into(), choice(&["ads", "email"])),
        ]);
        let tags: Vec<_> = score(&def, &answers).tags.into_iter().collect();
        assert_eq!(tags, ["big-budget", "hot"]);
        let other = Answers::from([
            ("stage".into(), choice(&["growing"])),
            ("budget".into(), choice(&["low"])),
        ]);
        assert!(score(&def, &other).tags.is_empty());
    }

    #[test]
    fn every_category_is_present_even_at_zero() {
        let s = score(&demo_growth_quiz(), &Answers::new());
        assert_eq!(s.total, 0.0);
        assert_eq!(
            s.categories.keys().collect::<Vec<_>>(),
            ["budget", "fit", "urgency"]
        );
    }

    #[test]
    fn answers_to_unknown_questions_and_options_score_nothing() {
        let def = demo_growth_quiz();
        let answers = Answers::from([
            ("gone".into(), choice(&["high"])),
            ("stage".into(), choice(&["tampered"])),
        ]);
        assert_eq!(score(&def, &answers).total, 0.0);
    }

    #[test]
    fn answers_a_branch_skipped_after_going_back_score_nothing() {
        let def = demo_growth_quiz();
        let answers = Answers::from([
            ("stage".into(), choice(&["idea"])),
            ("budget".into(), choice(&["high"])),
        ]);
        let s = score(&def, &answers);
        assert_eq!(s.total, 0.0);
        assert_eq!(s.categories["budget"], 0.0);
    }

    #[test]
    fn fractional_points_add_up_without_float_noise() {
        let mut def = demo_growth_quiz();
        def.questions[0].options[1].points = 0.1;
        def.questions[1].options[1].points = 0.2;
        let answers = Answers::from([
            ("stage".into(), choice(&["growing"])),
            ("budget".into(), choice(&["mid"])),
        ]);
        assert_eq!(score(&def, &answers).total, 0.3);
    }

    #[test]
    fn ties_for_top_category_go_to_the_first_by_name() {
        let s = Scores {
            total: 0.0,
            categories: BTreeMap::from([("urgency".into(), 2.0), ("budget".into(), 2.0)]),
            ..Scores::default()
        };
        assert_eq!(top_category(&s), Some("budget"));
        assert_eq!(top_category(&Scores::default()), None);
    }

    #[test]
    fn score_ranges_include_their_min_and_exclude_their_max_except_the_highest() {
        let def = demo_growth_quiz();
        let key = |t: f64| choose_outcome(&def, &total(t), None).map(|o| o.key.as_str());
        assert_eq!(key(0.0), Some("explore"));
        assert_eq!(key(7.5), Some("explore"));
        assert_eq!(key(8.0), Some("consider"));
        assert_eq!(key(14.0), Some("ready"));
        assert_eq!(key(16.0), Some("ready"));
        assert_eq!(key(16.5), None);
        assert_eq!(key(-1.0), None);
    }

    #[test]
    fn a_matching_tier_outcome_wins_over_scores() {
        let mut def = demo_growth_quiz();
        def.outcomes[0].rule = OutcomeRule::Tier {
            segment: "fast-track".into(),
        };
        let cold = total(0.0);
        let chosen = choose_outcome(&def, &cold, Some("fast-track")).unwrap();
        assert_eq!(chosen.key, "explore");
        let chosen = choose_outcome(&def, &total(15.0), Some("nurture")).unwrap();
        assert_eq!(chosen.key, "ready");
    }

    #[test]
    fn top_category_outcomes_and_the_fallback_are_chosen_in_turn() {
        let mut def = demo_growth_quiz();
        def.outcomes[0].rule = OutcomeRule::TopCategory {
            category: "budget".into(),
        };
        def.outcomes[1].rule = OutcomeRule::TopCategory {
            category: "fit".into(),
        };
        def.outcomes[2].rule = OutcomeRule::Fallback;
        let mut s = total(3.0);
        s.categories = BTreeMap::from([("budget".into(), 1.0), ("fit".into(), 4.0)]);
        assert_eq!(choose_outcome(&def, &s, None).unwrap().key, "consider");
        s.categories = BTreeMap::from([("urgency".into(), 9.0)]);
        assert_eq!(choose_outcome(&def, &s, None).unwrap().key, "ready");
    }
}
