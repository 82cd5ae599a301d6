//! Which question comes next, and how far along a respondent is.

use super::answer::{Answer, Answers};
use super::model::{Condition, QuizDefinition, Target};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Question(String),
    Result,
}

impl Condition {
    pub fn holds(&self, answers: &Answers) -> bool {
        match self {
            Condition::All { conditions } => conditions.iter().all(|c| c.holds(answers)),
            Condition::Any { conditions } => conditions.iter().any(|c| c.holds(answers)),
            Condition::Chose { question, options } => answers
                .get(question)
                .is_some_and(|a| a.options().iter().any(|o| options.contains(o))),
            Condition::AtLeast { question, value } => {
                matches!(answers.get(question), Some(Answer::Scale { value: v }) if v >= value)
            }
        }
    }
}

pub fn first_step(def: &QuizDefinition) -> Step {
    def.questions
        .first()
        .map(|q| Step::Question(q.key.clone()))
        .unwrap_or(Step::Result)
}

/// After answering `current`: the first branch that holds, else the next
/// question in order, else the result.
pub fn next_step(def: &QuizDefinition, answers: &Answers, current: &str) -> Step {
    let Some(pos) = def.position(current) else {
        return Step::Result;
    };
    let question = &def.questions[pos];
    if let Some(branch) = question.branches.iter().find(|b| b.when.holds(answers)) {
        return match &branch.goto {
            Target::Question(key) if def.question(key).is_some() => Step::Question(key.clone()),
            _ => Step::Result,
        };
    }
    def.questions
        .get(pos + 1)
        .map(|q| Step::Question(q.key.clone()))
        .unwrap_or(Step::Result)
}

/// The questions a respondent with these answers has been shown, in order,
/// up to and including the first one not yet answered.
pub fn path(def: &QuizDefinition, answers: &Answers) -> Vec<String> {
    let mut out = Vec::new();
    let mut step = first_step(def);
    while let Step::Question(key) = step {
        if out.contains(&key) || out.len() > def.questions.len() {
            break; // a loop publishing should have refused
        }
        out.push(key.clone());
        if !answers.contains_key(&key) {
            break;
        }
        step = next_step(def, answers, &key);
    }
    out
}

/// Questions answered and an estimate of the total, for the progress bar:
/// the path so far plus every question after the current one in order.
pub fn progress(def: &QuizDefinition, answers: &Answers, current: &str) -> (usize, usize) {
    let seen = path(def, answers);
    let done = seen.iter().position(|k| k == current).unwrap_or(seen.len());
    let remaining = def
        .position(current)
        .map(|p| def.questions.len() - p)
        .unwrap_or(0);
    (done, (done + remaining).max(1))
}

/// The question before `current` on this respondent's path, for "back".
pub fn previous(def: &QuizDefinition, answers: &Answers, current: &str) -> Option<String> {
    let seen = path(def, answers);
    let pos = seen.iter().position(|k| k == current)?;
    pos.checked_sub(1).map(|p| seen[p].clone())
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
    fn without_a_branch_the_next_question_follows() {
        let def = growth_quiz();
        assert_eq!(first_step(&def), Step::Question("stage".into()));
        let answers = Answers::from([("stage".into(), choice("growing"))]);
        assert_eq!(
            next_step(&def, &answers, "stage"),
            Step::Question("budget".into())
        );
    }

    #[test]
    fn a_matching_branch_skips_ahead() {
        let def = growth_quiz();
        // "Just exploring" skips the budget and urgency questions.
        let answers = Answers::from([("stage".into(), choice("idea"))]);
        assert_eq!(
            next_step(&def, &answers, "stage"),
            Step::Question("channels".into())
        );
        assert_eq!(path(&def, &answers), ["stage", "channels"]);
    }

    #[test]
    fn the_last_question_leads_to_the_result() {
        let def = growth_quiz();
        let last = def.questions.last().unwrap().key.clone();
        assert_eq!(next_step(&def, &Answers::new(), &last), Step::Result);
    }

    #[test]
    fn progress_counts_the_path_and_back_goes_one_step() {
        let def = growth_quiz();
        let answers = Answers::from([
            ("stage".into(), choice("growing")),
            ("budget".into(), choice("high")),
        ]);
        let (done, total) = progress(&def, &answers, "urgency");
        assert_eq!(done, 2);
        assert_eq!(total, def.questions.len());
        assert_eq!(
            previous(&def, &answers, "urgency").as_deref(),
            Some("budget")
        );
        assert_eq!(previous(&def, &answers, "stage"), None);
    }

    #[test]
    fn any_and_all_conditions_combine() {
        let answers = Answers::from([
            ("a".into(), choice("x")),
            ("b".into(), Answer::Scale { value: 3 }),
        ]);
        let chose = Condition::Chose {
            question: "a".into(),
            options: vec!["x".into()],
        };
        let high = Condition::AtLeast {
            question: "b".into(),
            value: 4,
        };
        assert!(
            !Condition::All {
                conditions: vec![chose.clone(), high.clone()]
            }
            .holds(&answers)
        );
        assert!(
            Condition::Any {
                conditions: vec![chose, high]
            }
            .holds(&answers)
        );
    }
}
