//! Scores, category scores and the outcome they earn.

use super::answer::{Answer, Answers};
use super::model::{Outcome, OutcomeRule, QuestionKind, QuizDefinition};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub total: f64,
    pub categories: BTreeMap<String, f64>,
}

impl Scores {
    /// The category with the most points; ties go to the first by name.
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
/// questions the version does not have count for nothing.
pub fn score(def: &QuizDefinition, answers: &Answers) -> Scores {
    let mut scores = Scores::default();
    for category in def.categories() {
        scores.categories.insert(category, 0.0);
    }
    for question in &def.questions {
        match (answers.get(&question.key), &question.kind) {
            (Some(Answer::Choice { options }), _) => {
                for option in question.options.iter().filter(|o| options.contains(&o.key)) {
                    scores.total += option.points;
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
    scores
}

/// The lowest and highest total score the quiz can give.
pub fn score_bounds(def: &QuizDefinition) -> (f64, f64) {
    let (mut lo, mut hi) = (0.0, 0.0);
    // With branching, a question may be skipped and count for nothing.
    let skippable = def.questions.iter().any(|q| !q.branches.is_empty());
    for q in &def.questions {
        let points = q.options.iter().map(|o| o.points);
        let (qlo, qhi) = match &q.kind {
            QuestionKind::Single => (
                points.clone().fold(f64::INFINITY, f64::min),
                points.fold(f64::NEG_INFINITY, f64::max),
            ),
            QuestionKind::Multi => (
                points.clone().filter(|p| *p < 0.0).sum(),
                points.filter(|p| *p > 0.0).sum(),
            ),
            QuestionKind::Scale { min, max } => (*min as f64, *max as f64),
            _ => (0.0, 0.0),
        };
        let optional = !q.required || skippable;
        if qlo.is_finite() && qhi.is_finite() {
            lo += if optional { qlo.min(0.0) } else { qlo };
            hi += if optional { qhi.max(0.0) } else { qhi };
        }
    }
    (lo, hi)
}

/// The outcome for these scores: the tier's own outcome when the respondent
/// landed in a tier that has one, else the first score range or top
/// category that matches, else the fallback.
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
    by_tier
        .or_else(|| {
            def.outcomes.iter().find(|o| match &o.rule {
                OutcomeRule::ScoreRange { min, max } => scores.total >= *min && scores.total < *max,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quiz::demo::growth_quiz;

    fn choice(o: &str) -> Answer {
        Answer::Choice {
            options: vec![o.to_string()],
        }
    }

    #[test]
    fn points_and_category_points_add_up() {
        let def = growth_quiz();
        let answers = Answers::from([
            ("budget".into(), choice("high")),
            ("urgency".into(), Answer::Scale { value: 5 }),
        ]);
        let s = score(&def, &answers);
        assert_eq!(s.total, 3.0 + 5.0);
        assert_eq!(s.categories["budget"], 3.0);
        assert_eq!(s.top_category(), Some("budget"));
    }

    #[test]
    fn answers_to_unknown_questions_score_nothing() {
        let def = growth_quiz();
        let answers = Answers::from([("gone".into(), choice("high"))]);
        assert_eq!(score(&def, &answers).total, 0.0);
    }

    #[test]
    fn high_scores_earn_the_hot_outcome_and_tiers_win_over_scores() {
        let def = growth_quiz();
        let hot = Scores {
            total: 20.0,
            ..Scores::default()
        };
        assert_eq!(choose_outcome(&def, &hot, None).unwrap().key, "ready");
        let cold = Scores::default();
        assert_eq!(choose_outcome(&def, &cold, None).unwrap().key, "explore");
        assert_eq!(
            choose_outcome(&def, &cold, Some("no-such-tier"))
                .unwrap()
                .key,
            "explore"
        );
        let mut tiered = def.clone();
        tiered.outcomes[0].rule = OutcomeRule::Tier {
            segment: "fast-track".into(),
        };
        let key = &choose_outcome(&tiered, &cold, Some("fast-track"))
            .unwrap()
            .key;
        assert_eq!(key, &tiered.outcomes[0].key);
    }
}
