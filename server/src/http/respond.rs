//! Plain form posts of the public quiz, for respondents without JavaScript:
//! post, then redirect to the next step (or the result); a refused answer
//! renders the step again with its message and status 422.

use super::{AppState, ClientIp};
use axum::body::Body;
use axum::extract::{FromRequest, Path, RawForm, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Json, Redirect, Response};
use leptos::prelude::provide_context;
use quizfunnel_app::error::AppError;
use quizfunnel_app::respond::PublicQuiz;
use quizfunnel_app::respond::ssr::{Posted, PostedResult, send_result, submit, visitor_from};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Posts per address per minute on the public quiz; 0 turns the limit off.
/// Counted per instance: it protects this process, not the data.
#[derive(Debug, Default)]
pub struct PostLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<IpAddr, (i64, u32)>>,
}

impl PostLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds to wait when `ip` is over the limit at `now` (ms).
    pub fn check(&self, ip: IpAddr, now: i64) -> Option<i64> {
        if self.per_minute == 0 {
            return None;
        }
        let minute = now.div_euclid(60_000);
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() > 100_000 {
            windows.retain(|_, (m, _)| *m == minute);
        }
        let entry = windows.entry(ip).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        entry.1 += 1;
        (entry.1 > self.per_minute).then(|| 60 - now.rem_euclid(60_000) / 1000)
    }
}

const TOO_MANY: &str = "Too many answers from this address; please wait a minute.";

/// 429 with how long to wait, around `body`.
fn too_many(wait: i64, body: impl IntoResponse) -> Response {
    let mut res = (StatusCode::TOO_MANY_REQUESTS, body).into_response();
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(wait));
    res
}

/// The server functions a hydrated quiz answers through.
const QUIZ_WRITES: [&str; 2] = ["/api/quiz/answer", "/api/quiz/result/send"];

/// A hydrated quiz answers through server functions rather than form
/// posts: they count against the same per-address limit, or a script could
/// answer past it. The error is the one server functions send, so the page
/// shows its message.
pub async fn limit_quiz_calls(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    req: Request,
    next: Next,
) -> Response {
    if req.method() == Method::POST
        && QUIZ_WRITES.contains(&req.uri().path())
        && let Some(wait) = state.limiter.check(client, state.ctx.clock.now())
    {
        return too_many(wait, Json(AppError::TooMany(TOO_MANY.into())));
    }
    next.run(req).await
}

/// The limit check and the form of a public quiz post, or the answer to
/// give instead.
async fn read_post(
    state: &AppState,
    client: IpAddr,
    req: Request,
) -> Result<(Parts, Vec<(String, String)>), Response> {
    if let Some(wait) = state.limiter.check(client, state.ctx.clock.now()) {
        return Err(too_many(wait, TOO_MANY));
    }
    let (parts, body) = req.into_parts();
    let form = match RawForm::from_request(Request::from_parts(parts.clone(), body), state).await {
        Ok(form) => form,
        Err(rejection) => return Err(rejection.into_response()),
    };
    // Refused before anything is looked up, so a garbled post leaves no
    // trace (not even a visitor record).
    // The decoder would replace bad bytes instead of refusing them.
    let readable = std::str::from_utf8(&form.0).is_ok();
    match serde_urlencoded::from_bytes::<Vec<(String, String)>>(&form.0) {
        Ok(fields) if readable => Ok((parts, fields)),
        _ => Err((
            StatusCode::BAD_REQUEST,
            "The form could not be read: it must be URL-encoded UTF-8.",
        )
            .into_response()),
    }
}

/// `parts` pointed at another page of the quiz, for a page rendered in
/// reply to a post.
fn parts_for(parts: &Parts, path: &str) -> Parts {
    let mut p = parts.clone();
    p.uri = path.parse().unwrap_or(p.uri);
    p
}

fn error_response(e: AppError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Body::from(e.to_string())).into_response()
}

pub async fn post_step(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ClientIp(client): ClientIp,
    req: Request,
) -> Response {
    let (parts, fields) = match read_post(&state, client, req).await {
        Ok(read) => read,
        Err(res) => return res,
    };
    let secure = state.ctx.sessions.secure_cookie;
    let (visitor, cookies) = visitor_from(&parts.headers, &parts.uri, secure);
    let mut res = match submit(&state.ctx, &visitor, &slug, &fields).await {
        Ok(PublicQuiz::Finished { slug }) => {
            Redirect::to(&format!("/q/{slug}/result")).into_response()
        }
        Ok(PublicQuiz::Step(step)) if step.error.is_none() => {
            Redirect::to(&format!("/q/{}", step.slug)).into_response()
        }
        Ok(other) => {
            let status = match other {
                PublicQuiz::NotFound => StatusCode::NOT_FOUND,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let posted = Posted(other);
            let page = parts_for(&parts, &format!("/q/{slug}"));
            super::render::page(&state, &page, status, move || {
                provide_context(posted.clone())
            })
            .await
        }
        Err(e) => error_response(e),
    };
    for cookie in cookies {
        res.headers_mut().append(header::SET_COOKIE, cookie);
    }
    res
}

/// The result page's "get this result by email" form, without JavaScript:
/// back to the result page, or the page again with the message (422).
pub async fn post_result(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ClientIp(client): ClientIp,
    req: Request,
) -> Response {
    let (parts, fields) = match read_post(&state, client, req).await {
        Ok(read) => read,
        Err(res) => return res,
    };
    let (visitor, _) = visitor_from(&parts.headers, &parts.uri, false);
    let path = format!("/q/{slug}/result");
    match send_result(&state.ctx, &visitor, &slug, &fields).await {
        Ok(Some(view)) if view.lead.as_ref().is_some_and(|l| l.error.is_some()) => {
            let posted = PostedResult(view);
            let page = parts_for(&parts, &path);
            super::render::page(&state, &page, StatusCode::UNPROCESSABLE_ENTITY, move || {
                provide_context(posted.clone())
            })
            .await
        }
        Ok(_) => Redirect::to(&path).into_response(),
        Err(e) => error_response(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_refuses_past_the_limit_until_the_minute_turns() {
        let l = PostLimiter::new(2);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(l.check(ip, 60_000), None);
        assert_eq!(l.check(ip, 61_000), None);
        assert_eq!(l.check(ip, 62_000), Some(58));
        assert_eq!(l.check(ip, 120_000), None);
        assert_eq!(PostLimiter::new(0).check(ip, 0), None);
    }
}
