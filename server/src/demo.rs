//! `quizfunnel demo`: the published `growth` quiz and a few hundred
//! synthetic respondents, so a newcomer sees a living app. Idempotent.

use crate::error::StartupError;
use quizfunnel::quiz::{self, Answer, Answers, Step, demo::growth_quiz};
use quizfunnel::store::{AnsweredStep, Store, Tier};
use quizfunnel_app::respond::ssr::lead_details;
use std::collections::BTreeMap;

pub const DEMO_SLUG: &str = "growth";
const RESPONDENTS: u64 = 300;
const DAY_MS: i64 = 86_400_000;

fn internal(e: impl std::fmt::Display) -> StartupError {
    StartupError::Other(format!("seeding the demo failed: {e}"))
}

/// A small deterministic generator, so every demo looks the same.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

pub struct Seeded {
    pub quiz_created: bool,
    pub respondents_added: u64,
    pub playbook_created: bool,
}

/// The demo tiers: together they place every completer of `growth`, the
/// first that matches winning.
const TIERS: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "fast-track",
        "Fast-track sales",
        "Completed with a score of 14 or more: budget, urgency and fit.",
        "all(completed(growth), score(growth) >= 14)",
        "fast_track",
        "ready",
    ),
    (
        "nurture",
        "Nurture",
        "Completed with a score from 8: promising, not ready yet.",
        "all(completed(growth), score(growth) >= 8)",
        "nurture",
        "consider",
    ),
    (
        "disqualify",
        "Disqualify",
        "Everyone else who completed the quiz.",
        "completed(growth)",
        "disqualify",
        "explore",
    ),
];

async fn seed_playbook(store: &dyn Store, now: i64) -> Result<bool, StartupError> {
    if !store.segments().await.map_err(internal)?.is_empty() {
        return Ok(false);
    }
    let mut tiers = Vec::new();
    for (slug, name, description, rule, next_step, outcome) in TIERS {
        let rule = quizfunnel::rule::Rule::parse(rule).map_err(internal)?;
        let id = store
            .create_segment(slug, name, description, &rule, now)
            .await
            .map_err(internal)?;
        tiers.push(Tier {
            segment_id: id,
            next_step: next_step.to_string(),
            outcome_key: Some(outcome.to_string()),
        });
    }
    store.set_playbook(&tiers).await.map_err(internal)?;
    Ok(true)
}

pub async fn seed(store: &dyn Store, now: i64) -> Result<Seeded, StartupError> {
    let quiz_created = match store.published_quiz(DEMO_SLUG).await.map_err(internal)? {
        Some(_) => false,
        None => {
            let id = match store.quiz_id_by_slug(DEMO_SLUG).await.map_err(internal)? {
                Some(id) => id,
                None => store
                    .create_quiz(DEMO_SLUG, &growth_quiz(), now)
                    .await
                    .map_err(internal)?,
            };
            store.publish_quiz(id, now).await.map_err(internal)?;
            true
        }
    };
    let published = store
        .published_quiz(DEMO_SLUG)
        .await
        .map_err(internal)?
        .ok_or_else(|| internal("the demo quiz did not publish"))?;
    // The playbook first, so every demo completion is placed in a tier.
    let playbook_created = seed_playbook(store, now).await?;
    let def = &published.definition;
    let sources = ["google", "linkedin", "newsletter", "partner", "direct"];
    let mut added = 0;
    for i in 0..RESPONDENTS {
        let mut dice = Dice(i + 1);
        let visitor = format!("demo-visitor-{i:04}");
        let started = now - (dice.roll(60) as i64) * DAY_MS - (dice.roll(86_400) as i64) * 1000;
        let utm = BTreeMap::from([
            (
                "utm_source".to_string(),
                sources[dice.roll(sources.len())].to_string(),
            ),
            ("utm_medium".to_string(), "demo".to_string()),
        ]);
        let contact = store
            .contact_for_visitor(&visitor, &utm, started)
            .await
            .map_err(internal)?;
        if !store
            .contact(contact)
            .await
            .map_err(internal)?
            .sessions
            .is_empty()
        {
            continue;
        }
        let first = match quiz::first_step(def) {
            Step::Question(k) => k,
            Step::Result => continue,
        };
        let session = store
            .start_session(
                contact,
                None,
                published.quiz_id,
                published.version_id,
                Some(&first),
                &utm,
                started,
            )
            .await
            .map_err(internal)?;
        // About one in five stops somewhere along the way.
        let abandon_at = (dice.roll(5) == 0).then(|| dice.roll(def.questions.len()));
        let mut answers = Answers::new();
        let mut current = first;
        let mut at = started;
        let mut completed = true;
        for step_no in 0.. {
            if abandon_at == Some(step_no) {
                completed = false;
                break;
            }
            let Some(q) = def.question(&current) else {
                break;
            };
            let answer = demo_answer(q, &mut dice, i);
            answers.insert(current.clone(), answer.clone());
            let next = match quiz::next_step(def, &answers, &current) {
                Step::Question(k) => Some(k),
                Step::Result => None,
            };
            at += 5_000 + dice.roll(20_000) as i64;
            let key = format!("demo:{}:{current}", session.id);
            store
                .save_answer(AnsweredStep {
                    session_id: session.id,
                    question: &current,
                    answer: &answer,
                    answers: &answers,
                    next_question: next.as_deref(),
                    event_key: &key,
                    now: at,
                })
                .await
                .map_err(internal)?;
            if let Answer::Contact {
                email: Some(email),
                name,
                company,
                consent,
            } = &answer
            {
                let who = lead_details(&visitor, email, name, company, *consent);
                store.identify(&who, at).await.map_err(internal)?;
            }
            match next {
                Some(k) => current = k,
                None => break,
            }
        }
        if completed {
            let scores = quiz::score(def, &answers);
            store
                .complete_session(session.id, &answers, &scores, at)
                .await
                .map_err(internal)?;
        }
        added += 1;
    }
    Ok(Seeded {
        quiz_created,
        respondents_added: added,
        playbook_created,
    })
}

fn demo_answer(q: &quiz::Question, dice: &mut Dice, i: u64) -> Answer {
    use quiz::QuestionKind::*;
    match &q.kind {
        Single => Answer::Choice {
            options: vec![q.options[dice.roll(q.options.len())].key.clone()],
        },
        Multi => {
            let mut options: Vec<String> = q
                .options
                .iter()
                .filter(|_| dice.roll(2) == 0)
                .map(|o| o.key.clone())
                .collect();
            if options.is_empty() {
                options.push(q.options[0].key.clone());
            }
            Answer::Choice { options }
        }
        Scale { min, max } => Answer::Scale {
            value: min + dice.roll((max - min + 1) as usize) as i64,
        },
        Text => match dice.roll(3) {
            0 => Answer::Skipped,
            1 => Answer::Text {
                text: "Not enough qualified leads".into(),
            },
            _ => Answer::Text {
                text: "We do not know which channel works".into(),
            },
        },
        Contact { .. } => {
            let first = ["ana", "ben", "chloe", "dev", "eli", "fatima", "gus", "hana"];
            let name = first[dice.roll(first.len())];
            Answer::Contact {
                email: quizfunnel::email::Email::parse(&format!("{name}.{i}@demo.quizfunnel.test"))
                    .ok(),
                name: format!("{}{}", name[..1].to_uppercase(), &name[1..]),
                company: format!("Company {}", i % 37),
                consent: dice.roll(4) != 0,
            }
        }
    }
}
