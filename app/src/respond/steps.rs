//! Where a respondent is and what the step looks like: pure code over the
//! quiz definition, shared by the public quiz (on the server) and the
//! builder's preview (in the browser), so the preview is the quiz.

use super::{LeadOffer, PublicQuiz, QuestionView, ResultView, StepView};
use quizfunnel::quiz::{
    self, Answer, Answers, ContactField, LeadGate, Outcome, Question, QuestionKind, QuizDefinition,
    Scores, Step,
};

use quizfunnel::quiz::draft::LEAD_STEP;

/// The contact step the lead gate adds, before the result or on it.
pub fn lead_question() -> Question {
    Question {
        key: LEAD_STEP.into(),
        kind: QuestionKind::Contact {
            fields: vec![
                ContactField::Email,
                ContactField::Name,
                ContactField::Consent,
            ],
        },
        prompt: "Where should we send your result?".into(),
        help: "We use your email to send the result and follow up on it.".into(),
        required: true,
        options: vec![],
        branches: vec![],
    }
}

/// Whether the respondent with these answers meets the contact step before
/// the result: their path may skip the quiz's own email question.
fn needs_lead_step(def: &QuizDefinition, answers: &Answers) -> bool {
    def.lead_gate == LeadGate::BeforeResult && !quiz::path_asks_for_email(def, answers)
}

pub fn question_for(def: &QuizDefinition, answers: &Answers, key: &str) -> Option<Question> {
    if key == LEAD_STEP && needs_lead_step(def, answers) {
        return Some(lead_question());
    }
    def.question(key).cloned()
}

pub fn first_question(def: &QuizDefinition) -> Option<String> {
    match quiz::first_step(def) {
        Step::Question(k) => Some(k),
        Step::Result => needs_lead_step(def, &Answers::new()).then(|| LEAD_STEP.to_string()),
    }
}

pub fn next_after(def: &QuizDefinition, answers: &Answers, current: &str) -> Option<String> {
    if current == LEAD_STEP {
        return None;
    }
    match quiz::next_step(def, answers, current) {
        Step::Question(k) => Some(k),
        Step::Result => needs_lead_step(def, answers).then(|| LEAD_STEP.to_string()),
    }
}

pub fn previous(def: &QuizDefinition, answers: &Answers, current: &str) -> Option<String> {
    if current == LEAD_STEP {
        return quiz::path(def, answers).last().cloned();
    }
    quiz::previous(def, answers, current)
}

fn answer_values(answer: Option<&Answer>) -> Vec<(String, String)> {
    let pair = |k: &str, v: String| (k.to_string(), v);
    match answer {
        Some(Answer::Choice { options }) => {
            options.iter().map(|o| pair("answer", o.clone())).collect()
        }
        Some(Answer::Scale { value }) => vec![pair("answer", value.to_string())],
        Some(Answer::Text { text }) => vec![pair("answer", text.clone())],
        Some(Answer::Contact {
            email,
            name,
            company,
            consent,
        }) => {
            let mut v = vec![pair("name", name.clone()), pair("company", company.clone())];
            if let Some(e) = email {
                v.push(pair("email", e.to_string()));
            }
            if *consent {
                v.push(pair("consent", "on".into()));
            }
            v
        }
        _ => vec![],
    }
}

pub struct ViewInput<'a> {
    pub slug: &'a str,
    pub def: &'a QuizDefinition,
    pub answers: &'a Answers,
    pub current: &'a str,
    pub error: Option<(String, String)>,
    pub values: Option<Vec<(String, String)>>,
    pub hidden: Vec<(String, String)>,
}

pub fn step_view(input: ViewInput<'_>) -> PublicQuiz {
    let ViewInput {
        slug,
        def,
        answers,
        current,
        error,
        values,
        hidden,
    } = input;
    let Some(q) = question_for(def, answers, current) else {
        return PublicQuiz::Finished { slug: slug.into() };
    };
    // Only an estimate ahead of the result: a branch may still skip the
    // quiz's own email question.
    let gate = usize::from(def.lead_gate == LeadGate::BeforeResult && !def.asks_for_email());
    let (done, total) = if current == LEAD_STEP {
        let n = quiz::path(def, answers).len();
        (n, n + 1)
    } else {
        let (d, t) = quiz::progress(def, answers, current);
        (d, t + gate)
    };
    let fields = match &q.kind {
        QuestionKind::Contact { fields } => fields
            .iter()
            .map(|f| {
                serde_json::to_value(f)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default()
            })
            .collect(),
        _ => vec![],
    };
    let scale = match q.kind {
        QuestionKind::Scale { min, max } => Some((min, max)),
        _ => None,
    };
    PublicQuiz::Step(Box::new(StepView {
        slug: slug.into(),
        title: def.title.clone(),
        intro: def.intro.clone(),
        brand_color: def.theme.brand_color.clone(),
        logo_url: def.theme.logo_url.clone(),
        done,
        total,
        can_go_back: previous(def, answers, current).is_some(),
        last: next_after(def, answers, current).is_none(),
        error,
        values: values.unwrap_or_else(|| answer_values(answers.get(current))),
        hidden_fields: hidden,
        started: None,
        question: QuestionView {
            key: q.key.clone(),
            kind: q.kind.name().into(),
            prompt: q.prompt.clone(),
            help: q.help.clone(),
            required: q.required,
            options: q
                .options
                .iter()
                .map(|o| (o.key.clone(), o.label.clone()))
                .collect(),
            scale,
            fields,
        },
    }))
}

/// Whether the result page offers to send the result by email: the gate
/// comes after the result, and the respondent's path did not ask already.
fn offers_lead_after(def: &QuizDefinition, answers: &Answers) -> bool {
    def.lead_gate == LeadGate::AfterResult && !quiz::path_asks_for_email(def, answers)
}

/// The result page for an outcome (none: a plain thank-you); `sent_to`
/// shows only where the page offers the result by email.
pub fn result_view(
    slug: &str,
    def: &QuizDefinition,
    answers: &Answers,
    scores: &Scores,
    outcome: Option<&Outcome>,
    sent_to: Option<String>,
) -> ResultView {
    ResultView {
        slug: slug.into(),
        quiz_title: def.title.clone(),
        brand_color: def.theme.brand_color.clone(),
        title: outcome
            .map(|o| o.title.clone())
            .unwrap_or_else(|| "Thank you!".into()),
        body: outcome.map(|o| o.body_markdown.clone()).unwrap_or_default(),
        cta_label: outcome.map(|o| o.cta_label.clone()).unwrap_or_default(),
        cta_url: outcome.map(|o| o.cta_url.clone()).unwrap_or_default(),
        score: scores.total,
        lead: offers_lead_after(def, answers).then(|| LeadOffer {
            sent_to,
            ..Default::default()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_question(gate: &str) -> QuizDefinition {
        serde_json::from_value(serde_json::json!({
            "title": "Quick", "intro": "", "lead_gate": gate,
            "theme": {"brand_color": "#0f766e"},
            "questions": [{"key": "size", "kind": "single", "prompt": "Team size?",
                "options": [{"key": "solo", "label": "Just me", "points": 1}]}],
        }))
        .unwrap()
    }

    #[test]
    fn the_gate_before_the_result_adds_a_contact_step_after_the_last_question() {
        let def = one_question("before_result");
        assert_eq!(
            next_after(&def, &Answers::new(), "size").as_deref(),
            Some(LEAD_STEP)
        );
        assert_eq!(next_after(&def, &Answers::new(), LEAD_STEP), None);
        assert_eq!(
            previous(&def, &Answers::new(), LEAD_STEP).as_deref(),
            Some("size")
        );
        assert!(question_for(&def, &Answers::new(), LEAD_STEP).is_some());
        assert!(!offers_lead_after(&def, &Answers::new()));
    }

    #[test]
    fn the_gate_after_the_result_offers_the_form_on_the_result_only() {
        let def = one_question("after_result");
        assert_eq!(next_after(&def, &Answers::new(), "size"), None);
        assert!(question_for(&def, &Answers::new(), LEAD_STEP).is_none());
        let view = result_view(
            "quick",
            &def,
            &Answers::new(),
            &Scores::default(),
            None,
            None,
        );
        assert_eq!(view.title, "Thank you!");
        assert_eq!(view.lead, Some(LeadOffer::default()));
        let never = one_question("never");
        assert_eq!(
            result_view(
                "quick",
                &never,
                &Answers::new(),
                &Scores::default(),
                None,
                None
            )
            .lead,
            None
        );
    }

    fn chose(pairs: &[(&str, &str)]) -> Answers {
        pairs
            .iter()
            .map(|(q, o)| {
                let options = vec![o.to_string()];
                (q.to_string(), Answer::Choice { options })
            })
            .collect()
    }

    #[test]
    fn a_quiz_that_asks_for_the_email_itself_gets_no_extra_step_or_form() {
        let mut def = quiz::demo::growth_quiz();
        // "Just exploring" goes on to the quiz's own contact step.
        let idea = chose(&[
            ("stage", "idea"),
            ("channels", "ads"),
            ("blocker", "none"),
            ("team", "solo"),
        ]);
        assert_eq!(next_after(&def, &idea, "contact"), None);
        def.lead_gate = LeadGate::AfterResult;
        assert!(!offers_lead_after(&def, &idea));
    }

    #[test]
    fn a_branch_that_skips_the_quizs_email_question_meets_the_gate() {
        let mut def = quiz::demo::growth_quiz();
        def.questions[1].branches.push(quiz::Branch {
            when: quiz::Condition::Chose {
                question: "budget".into(),
                options: vec!["low".into()],
            },
            goto: quiz::Target::Result,
        });
        let low = chose(&[("stage", "growing"), ("budget", "low")]);
        assert_eq!(next_after(&def, &low, "budget").as_deref(), Some(LEAD_STEP));
        assert!(question_for(&def, &low, LEAD_STEP).is_some());
        assert!(!offers_lead_after(&def, &low));

        def.lead_gate = LeadGate::AfterResult;
        assert_eq!(next_after(&def, &low, "budget"), None);
        assert!(offers_lead_after(&def, &low));
        let last = &def.questions.last().unwrap().key;
        assert_eq!(next_after(&def, &Answers::new(), last), None);
    }
}
