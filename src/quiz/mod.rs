//! Quizzes: definitions, answers, scoring, branching and publish validation.
//! The same code scores a respondent on the server and previews a draft in
//! the builder.
//!
//! - [`QuizDefinition`] is what is stored, as JSON, per draft and per
//!   published version; answers always point at the version they were given
//!   on, so they are scored against it.
//! - [`parse_step`] turns one step's form fields into a typed [`Answer`], or
//!   a [`FieldError`] for the field to show it next to.
//! - [`next_step`], [`path`], [`previous`] and [`progress`] walk the
//!   questions, following branches.
//! - [`score`] and [`choose_outcome`] give the scores and the result page.
//! - [`validate_for_publish`] lists every [`Problem`] with the builder
//!   anchor it is about.
//! - [`Slug`], [`QuestionKey`], [`OptionKey`] and [`OutcomeKey`] are the
//!   checked names; a published version only holds keys they accept.
//!
//! ```
//! use quizfunnel::quiz::{self, Answers, Step};
//!
//! let def = quiz::demo_growth_quiz();
//! assert!(quiz::validate_for_publish(&def).is_empty());
//!
//! let budget = def.question("budget").unwrap();
//! let form = vec![("answer".to_string(), "high".to_string())];
//! let answer = quiz::parse_step(budget, &form).unwrap();
//!
//! let mut answers = Answers::new();
//! answers.insert("stage".into(), quiz::parse_step(&def.questions[0], &[("answer".into(), "growing".into())]).unwrap());
//! answers.insert("budget".into(), answer);
//! assert_eq!(quiz::next_step(&def, &answers, "budget"), Step::Question("urgency".into()));
//! assert_eq!(quiz::score(&def, &answers).total, 5.0);
//! ```

pub mod answer;
pub mod demo;
pub mod draft;
pub mod flow;
mod graph;
pub mod keys;
pub mod markdown;
pub mod model;
mod outcome_checks;
pub mod publish;
pub mod scoring;
pub mod slug;

pub use answer::{Answer, Answers, FieldError, MAX_CONTACT_TEXT_LEN, MAX_TEXT_LEN, parse_step};
pub use demo::demo_growth_quiz;
pub use draft::check_draft;
pub use flow::{
    Step, answers_on_path, first_question, first_step, next_step, path, path_asks_for_email,
    previous, progress,
};
pub use keys::{KeyError, MAX_KEY_LEN, OptionKey, OutcomeKey, QuestionKey};
pub use model::*;
pub use publish::{MAX_SCALE_STEPS, Problem, validate_for_publish};
pub use scoring::{Scores, choose_outcome, score, score_bounds, top_category};
pub use slug::{Slug, check_key, free_key};
