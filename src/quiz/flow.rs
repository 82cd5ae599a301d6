//! Which question comes next, the path a respondent takes, and how far
//! along they are.
//!
//! A respondent may go back and change an answer so that a branch now
//! skips questions they answered before. Those answers stay stored but are
//! off the path: branches are judged, and scores counted, only on the
//! answers given along the path.

use super::answer::{Answer, Answers};
use super::model::{Condition, QuizDefinition, Target};
use std::collections::BTreeSet;

/// Where a respondent goes: a question (by key) or the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Question(String),
    Result,
}

impl Condition {
    /// Whether the condition holds for these answers. A question not
    /// answered (or skipped) matches no option and no scale bound.
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
            Condition::AtMost { question, value } => {
                matches!(answers.get(question), Some(Answer::Scale { value: v }) if v <= value)
            }
        }
    }
}

/// The first question, or the result for a quiz without questions.
pub fn first_step(def: &QuizDefinition) -> Step {
    first_question(def)
        .map(|k| Step::Question(k.to_string()))
        .unwrap_or(Step::Result)
}

pub fn first_question(def: &QuizDefinition) -> Option<&str> {
    def.questions.first().map(|q| q.key.as_str())
}

/// After answering `current`: the first of its branches that holds, else
/// the next question in order, else the result. Branches see the answers
/// given on the way to `current` (and `current`'s own).
pub fn next_step(def: &QuizDefinition, answers: &Answers, current: &str) -> Step {
    let Some(pos) = def.position(current) else {
        return Step::Result;
    };
    let walk = walk(def, answers);
    match walk.positions.iter().position(|p| *p == pos) {
        Some(i) => step_after(def, &walk.answers_until(def, answers, i), pos),
        None => step_after(def, answers, pos),
    }
}

/// The questions a respondent with these answers has been shown, in order,
/// up to and including the first one not yet answered.
pub fn path(def: &QuizDefinition, answers: &Answers) -> Vec<String> {
    walk(def, answers)
        .positions
        .iter()
        .map(|p| def.questions[*p].key.clone())
        .collect()
}

/// Whether the respondent's path asks for their email: a branch may skip
/// the quiz's own contact question, and then the lead gate has to.
pub fn path_asks_for_email(def: &QuizDefinition, answers: &Answers) -> bool {
    walk(def, answers)
        .positions
        .iter()
        .any(|p| def.questions[*p].asks_for_email())
}

/// The answers that count: those given along the respondent's path.
pub fn answers_on_path(def: &QuizDefinition, answers: &Answers) -> Answers {
    let walk = walk(def, answers);
    walk.answers_until(def, answers, walk.positions.len())
}

/// For the progress bar: questions done before `current` on this
/// respondent's path, and an estimate of the total (those plus `current`
/// and the questions expected after it, following branches the answers so
/// far already decide). The total is at least 1.
pub fn progress(def: &QuizDefinition, answers: &Answers, current: &str) -> (usize, usize) {
    let seen = path(def, answers);
    let done = seen.iter().position(|k| k == current).unwrap_or(seen.len());
    let behind: BTreeSet<&str> = seen.iter().take(done).map(String::as_str).collect();
    let mut ahead = BTreeSet::new();
    let mut step = Step::Question(current.to_string());
    while let Step::Question(key) = step {
        let Some(pos) = def.position(&key) else { break };
        if behind.contains(key.as_str()) || !ahead.insert(pos) {
            break; // a loop publishing refuses
        }
        step = step_after(def, answers, pos);
    }
    (done, (done + ahead.len()).max(1))
}

/// The question before `current` on this respondent's path, for "back".
pub fn previous(def: &QuizDefinition, answers: &Answers, current: &str) -> Option<String> {
    let seen = path(def, answers);
    let pos = seen.iter().position(|k| k == current)?;
    pos.checked_sub(1).map(|p| seen[p].clone())
}

/// The path as question positions: from the first question, following
/// each answered question's step, until an unanswered question (included),
/// the result, or a loop.
struct Walk {
    positions: Vec<usize>,
}

impl Walk {
    /// The answers of the first `n + 1` questions on the walk.
    fn answers_until(&self, def: &QuizDefinition, answers: &Answers, n: usize) -> Answers {
        self.positions
            .iter()
            .take(n.saturating_add(1))
            .filter_map(|p| {
                let key = &def.questions[*p].key;
                answers.get(key).map(|a| (key.clone(), a.clone()))
            })
            .collect()
    }
}

fn walk(def: &QuizDefinition, answers: &Answers) -> Walk {
    let mut positions: Vec<usize> = Vec::new();
    let mut given = Answers::new();
    let mut pos = if def.questions.is_empty() {
        None
    } else {
        Some(0)
    };
    while let Some(p) = pos {
        if positions.contains(&p) {
            break; // a loop publishing refuses
        }
        positions.push(p);
        let key = &def.questions[p].key;
        let Some(answer) = answers.get(key) else {
            break;
        };
        given.insert(key.clone(), answer.clone());
        pos = match step_after(def, &given, p) {
            Step::Question(k) => def.position(&k),
            Step::Result => None,
        };
    }
    Walk { positions }
}

fn step_after(def: &QuizDefinition, answers: &Answers, pos: usize) -> Step {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quiz::demo::demo_growth_quiz;
    use crate::quiz::model::Branch;

    fn choice(o: &str) -> Answer {
        Answer::Choice {
            options: vec![o.to_string()],
        }
    }

    fn answers(pairs: &[(&str, Answer)]) -> Answers {
        pairs
            .iter()
            .map(|(k, a)| (k.to_string(), a.clone()))
            .collect()
    }

    #[test]
    fn without_a_branch_the_next_question_follows() {
        let def = demo_growth_quiz();
        assert_eq!(first_step(&def), Step::Question("stage".into()));
        assert_eq!(first_question(&def), Some("stage"));
        let given = answers(&[("stage", choice("growing"))]);
        assert_eq!(
            next_step(&def, &given, "stage"),
            Step::Question("budget".into())
        );
    }

    #[test]
    fn a_matching_branch_skips_ahead() {
        let def = demo_growth_quiz();
        // "Just exploring" skips the budget and urgency questions.
        let given = answers(&[("stage", choice("idea"))]);
        assert_eq!(
            next_step(&def, &given, "stage"),
            Step::Question("channels".into())
        );
        assert_eq!(path(&def, &given), ["stage", "channels"]);
    }

    #[test]
    fn branch_to_result_skips_remaining_questions() {
        let mut def = demo_growth_quiz();
        def.questions[1].branches.push(Branch {
            when: Condition::Chose {
                question: "budget".into(),
                options: vec!["low".into()],
            },
            goto: Target::Result,
        });
        let given = answers(&[("stage", choice("growing")), ("budget", choice("low"))]);
        assert_eq!(next_step(&def, &given, "budget"), Step::Result);
        assert_eq!(path(&def, &given), ["stage", "budget"]);
        // Only a path through the contact step asks for the email.
        assert!(def.asks_for_email());
        assert!(!path_asks_for_email(&def, &given));
        let idea = answers(&[
            ("stage", choice("idea")),
            ("channels", choice("ads")),
            ("blocker", Answer::Text { text: "".into() }),
            ("team", choice("solo")),
        ]);
        assert!(path_asks_for_email(&def, &idea));
    }

    #[test]
    fn the_first_branch_that_holds_wins() {
        let mut def = demo_growth_quiz();
        def.questions[0].branches = vec![
            Branch {
                when: Condition::Chose {
                    question: "stage".into(),
                    options: vec!["scaling".into()],
                },
                goto: Target::Question("team".into()),
            },
            Branch {
                when: Condition::always(),
                goto: Target::Result,
            },
        ];
        let scaling = answers(&[("stage", choice("scaling"))]);
        assert_eq!(
            next_step(&def, &scaling, "stage"),
            Step::Question("team".into())
        );
        let idea = answers(&[("stage", choice("idea"))]);
        assert_eq!(next_step(&def, &idea, "stage"), Step::Result);
    }

    #[test]
    fn the_last_question_leads_to_the_result() {
        let def = demo_growth_quiz();
        let last = def.questions.last().unwrap().key.clone();
        assert_eq!(next_step(&def, &Answers::new(), &last), Step::Result);
        assert_eq!(next_step(&def, &Answers::new(), "no-such"), Step::Result);
    }

    #[test]
    fn a_quiz_without_questions_starts_at_the_result() {
        let mut def = demo_growth_quiz();
        def.questions.clear();
        assert_eq!(first_step(&def), Step::Result);
        assert!(path(&def, &Answers::new()).is_empty());
        assert_eq!(progress(&def, &Answers::new(), "x"), (0, 1));
    }

    #[test]
    fn progress_counts_the_path_and_back_goes_one_step() {
        let def = demo_growth_quiz();
        let given = answers(&[("stage", choice("growing")), ("budget", choice("high"))]);
        let (done, total) = progress(&def, &given, "urgency");
        assert_eq!(done, 2);
        assert_eq!(total, def.questions.len());
        assert_eq!(previous(&def, &given, "urgency").as_deref(), Some("budget"));
        assert_eq!(previous(&def, &given, "stage"), None);
    }

    #[test]
    fn progress_leaves_out_questions_a_branch_has_skipped() {
        let def = demo_growth_quiz();
        let given = answers(&[("stage", choice("idea"))]);
        assert_eq!(
            progress(&def, &given, "channels"),
            (1, def.questions.len() - 2)
        );
        assert_eq!(previous(&def, &given, "channels").as_deref(), Some("stage"));
    }

    #[test]
    fn answers_a_changed_branch_skips_no_longer_count() {
        let def = demo_growth_quiz();
        // Answered budget, then went back and chose "idea", which skips it.
        let given = answers(&[
            ("stage", choice("idea")),
            ("budget", choice("high")),
            ("channels", choice("ads")),
        ]);
        assert_eq!(path(&def, &given), ["stage", "channels", "blocker"]);
        let counted = answers_on_path(&def, &given);
        assert!(!counted.contains_key("budget"));
        assert!(counted.contains_key("channels"));
    }

    #[test]
    fn branches_ignore_answers_off_the_path() {
        let mut def = demo_growth_quiz();
        // From "channels": go to the result if budget was "high".
        def.questions[3].branches.push(Branch {
            when: Condition::Chose {
                question: "budget".into(),
                options: vec!["high".into()],
            },
            goto: Target::Result,
        });
        let given = answers(&[
            ("stage", choice("idea")),
            ("budget", choice("high")),
            ("channels", choice("ads")),
        ]);
        assert_eq!(
            next_step(&def, &given, "channels"),
            Step::Question("blocker".into())
        );
    }

    #[test]
    fn any_and_all_conditions_combine() {
        let given = answers(&[("a", choice("x")), ("b", Answer::Scale { value: 3 })]);
        let chose = Condition::Chose {
            question: "a".into(),
            options: vec!["x".into(), "y".into()],
        };
        let high = Condition::AtLeast {
            question: "b".into(),
            value: 4,
        };
        let low = Condition::AtMost {
            question: "b".into(),
            value: 3,
        };
        let all = |c: Vec<Condition>| Condition::All { conditions: c };
        let any = |c: Vec<Condition>| Condition::Any { conditions: c };
        assert!(!all(vec![chose.clone(), high.clone()]).holds(&given));
        assert!(all(vec![chose.clone(), low.clone()]).holds(&given));
        assert!(any(vec![chose, high.clone()]).holds(&given));
        assert!(!any(vec![]).holds(&given));
        assert!(!high.holds(&Answers::new()));
        assert!(!low.holds(&answers(&[("b", Answer::Skipped)])));
    }

    #[test]
    fn a_loop_in_a_draft_does_not_hang_the_walk() {
        let mut def = demo_growth_quiz();
        def.questions[1].branches = vec![Branch {
            when: Condition::always(),
            goto: Target::Question("stage".into()),
        }];
        let given = answers(&[("stage", choice("growing")), ("budget", choice("high"))]);
        assert_eq!(path(&def, &given), ["stage", "budget"]);
        assert_eq!(progress(&def, &given, "budget"), (1, 2));
    }
}
