use super::{PublicQuiz, ResultView};
use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// The step this visitor is on (the first question for a new visitor).
#[server(endpoint = "quiz/step")]
pub async fn quiz_step(slug: String) -> Result<PublicQuiz, AppError> {
    let ctx = crate::state::AppContext::get();
    let visitor = super::ssr::visitor();
    super::ssr::current(&ctx, &visitor, &slug).await
}

/// Answers the current step (or goes back) and returns the next one. The
/// same work the plain form post does, for pages that run WebAssembly.
#[server(endpoint = "quiz/answer", input = Json)]
pub async fn answer_step(
    slug: String,
    fields: Vec<(String, String)>,
) -> Result<PublicQuiz, AppError> {
    let ctx = crate::state::AppContext::get();
    let visitor = super::ssr::visitor();
    // A refused answer is a step with its message, not a failed call.
    super::ssr::submit(&ctx, &visitor, &slug, &fields).await
}

/// The outcome this visitor earned, once they have finished.
#[server(endpoint = "quiz/result")]
pub async fn quiz_result(slug: String) -> Result<Option<ResultView>, AppError> {
    let ctx = crate::state::AppContext::get();
    let visitor = super::ssr::visitor();
    super::ssr::result(&ctx, &visitor, &slug).await
}

/// Asks for the result by email on a quiz whose lead gate comes after the
/// result; a refused email comes back on the result, not as a failed call.
#[server(endpoint = "quiz/result/send", input = Json)]
pub async fn send_result(
    slug: String,
    fields: Vec<(String, String)>,
) -> Result<Option<ResultView>, AppError> {
    let ctx = crate::state::AppContext::get();
    let visitor = super::ssr::visitor();
    super::ssr::send_result(&ctx, &visitor, &slug, &fields).await
}
