//! Quizzes: definitions, answers, scoring, branching and publish validation.
//! The same code scores a respondent on the server and previews a draft in
//! the builder.

pub mod answer;
pub mod demo;
pub mod draft;
pub mod flow;
pub mod model;
pub mod publish;
pub mod scoring;
pub mod slug;

pub use answer::{Answer, Answers, FieldError, MAX_TEXT_LEN, parse_step};
pub use draft::check_draft;
pub use flow::{Step, first_step, next_step, path, previous, progress};
pub use model::*;
pub use publish::{Problem, validate_for_publish};
pub use scoring::{Scores, choose_outcome, score, score_bounds};
pub use slug::{Slug, check_key, free_key};
