//! The quiz step form decoder: a URL-encoded body as a browser posts it to
//! `/q/{slug}`, read against each question of the demo quiz.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quizfunnel::quiz::{demo_growth_quiz, parse_step};
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static QUIZ: OnceLock<quizfunnel::quiz::QuizDefinition> = OnceLock::new();
    let quiz = QUIZ.get_or_init(demo_growth_quiz);
    // The server reads an unreadable form as no fields at all.
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(data).unwrap_or_default();
    for question in &quiz.questions {
        let _ = parse_step(question, &form);
    }
});
