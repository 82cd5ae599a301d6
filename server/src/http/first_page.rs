//! The first step of a published quiz, as every visitor new to us sees it.
//!
//! Rendering that page through Leptos is nearly all of its cost (about
//! 240 µs, against 7 µs for everything around it), yet for two new
//! visitors it differs in four values only: the script nonce, the
//! `started` time the bot check reads, the visitor id, and the browser key
//! in the cookies. So the first render per published version is kept as a
//! template with those cut out, and later new visitors get it filled in
//! with their own, their view recorded as the render would have.
//!
//! Only requests that cannot see anything else take this path: a `GET` of
//! `/q/{slug}` with no query (UTM fields become hidden inputs) and no
//! cookie (a returning visitor resumes their own step; a signed-in user is
//! not new). A publish changes the version and so the template.

use super::AppState;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use quizfunnel::contact::{BROWSER_COOKIE, QuizView, VISITOR_COOKIE};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Pages larger than this are not kept (a first step is a few KB).
const MAX_PAGE: usize = 256 * 1024;

/// The kept first pages, by quiz slug.
#[derive(Default)]
pub struct FirstPages(RwLock<HashMap<String, Arc<Page>>>);

struct Page {
    version_id: i64,
    headers: Vec<(HeaderName, Template)>,
    body: Template,
}

/// Text with the per-visitor values cut out.
#[derive(Debug, PartialEq)]
struct Template(Vec<Piece>);

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Nonce,
    Started,
    Visitor,
    Browser,
}

/// One visitor's values, and the values the template was cut from.
struct Values {
    nonce: String,
    started: String,
    visitor: String,
    /// Secret: only ever in its HttpOnly cookie.
    browser: String,
}

impl Values {
    fn of<'a>(&'a self, piece: &'a Piece) -> &'a str {
        match piece {
            Piece::Text(text) => text,
            Piece::Nonce => &self.nonce,
            Piece::Started => &self.started,
            Piece::Visitor => &self.visitor,
            Piece::Browser => &self.browser,
        }
    }
}

impl Template {
    /// Cuts every occurrence of each of `values` out of `text`; `None` if
    /// the started time does not occur exactly `started_times` times, as
    /// then the page is not the one this module knows how to fill.
    fn cut(text: &str, values: &Values, started_times: usize) -> Option<Self> {
        let needles = [
            (values.nonce.as_str(), Piece::Nonce),
            (values.started.as_str(), Piece::Started),
            (values.visitor.as_str(), Piece::Visitor),
            (values.browser.as_str(), Piece::Browser),
        ];
        let mut pieces = Vec::new();
        let mut rest = text;
        let mut started = 0;
        loop {
            let next = needles
                .iter()
                .filter(|(needle, _)| !needle.is_empty())
                .filter_map(|(needle, piece)| rest.find(needle).map(|at| (at, *needle, piece)))
                .min_by_key(|(at, _, _)| *at);
            let Some((at, needle, piece)) = next else {
                break;
            };
            if at > 0 {
                pieces.push(Piece::Text(rest[..at].to_string()));
            }
            started += usize::from(*piece == Piece::Started);
            pieces.push(piece.clone());
            rest = &rest[at + needle.len()..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        (started == started_times).then_some(Self(pieces))
    }

    fn fill(&self, values: &Values) -> String {
        // Sized once: growing a page-sized string doubles it several times.
        let mut out = String::with_capacity(self.0.iter().map(|p| values.of(p).len()).sum());
        for piece in &self.0 {
            out.push_str(values.of(piece));
        }
        out
    }
}

/// The quiz slug of a request a kept page may answer.
fn slug_of(req: &Request) -> Option<String> {
    let uri = req.uri();
    if req.method() != Method::GET
        || uri.query().is_some()
        || req.headers().contains_key(header::COOKIE)
    {
        return None;
    }
    let slug = uri.path().strip_prefix("/q/")?;
    (!slug.is_empty() && !slug.contains('/')).then(|| slug.to_string())
}

pub async fn serve(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(slug) = slug_of(&req) else {
        return next.run(req).await;
    };
    let ctx = &state.ctx;
    let Ok(Some(published)) = ctx.store.published_quiz(&slug).await else {
        return next.run(req).await;
    };
    let kept = state
        .first_pages
        .0
        .read()
        .ok()
        .and_then(|pages| pages.get(&slug).cloned())
        .filter(|page| page.version_id == published.version_id);
    let Some(page) = kept else {
        let res = next.run(req).await;
        return keep(&state, &slug, published.version_id, res).await;
    };
    let now = ctx.clock.now();
    let browser = quizfunnel_app::auth::ssr::new_visitor_id();
    let values = Values {
        nonce: leptos::nonce::Nonce::new().to_string(),
        started: ctx.spam.start_token(published.quiz_id, &browser, now),
        visitor: quizfunnel_app::auth::ssr::new_visitor_id(),
        browser,
    };
    let view = QuizView {
        visitor_id: values.visitor.clone(),
        first_visit_fields: Default::default(),
        quiz_id: published.quiz_id,
        slug: slug.clone(),
        at: now,
    };
    ctx.views.record(&*ctx.store, view, now).await;
    let mut res = Response::new(Body::from(page.body.fill(&values)));
    for (name, value) in &page.headers {
        if let Ok(value) = HeaderValue::from_str(&value.fill(&values)) {
            res.headers_mut().append(name.clone(), value);
        }
    }
    res
}

/// Keeps a new visitor's rendered first page as the slug's template, and
/// answers with it unchanged.
async fn keep(state: &AppState, slug: &str, version_id: i64, res: Response) -> Response {
    let (parts, body) = res.into_parts();
    // The render is whole in memory already: collecting it costs a copy.
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if parts.status == StatusCode::OK
        && bytes.len() <= MAX_PAGE
        && let Some(page) = template(&parts.headers, &bytes, version_id)
        && let Ok(mut pages) = state.first_pages.0.write()
    {
        pages.insert(slug.to_string(), Arc::new(page));
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The template of a rendered first page, if it has the four values where
/// the page is known to put them.
fn template(headers: &HeaderMap, body: &[u8], version_id: i64) -> Option<Page> {
    let body = std::str::from_utf8(body).ok()?;
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let nonce = header(header::CONTENT_SECURITY_POLICY)?
        .split("'nonce-")
        .nth(1)?
        .split('\'')
        .next()?;
    let cookie = |name: &str| {
        headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix(name)?.strip_prefix('=')?.split(';').next())
    };
    let visitor = cookie(VISITOR_COOKIE)?;
    let browser = cookie(BROWSER_COOKIE)?;
    let started = body
        .split("name=\"started\" value=\"")
        .nth(1)?
        .split('"')
        .next()?;
    let values = Values {
        nonce: nonce.to_string(),
        started: started.to_string(),
        visitor: visitor.to_string(),
        browser: browser.to_string(),
    };
    if values.nonce.len() < 16
        || values.visitor.len() < 16
        || values.browser.len() < 16
        || values.started.is_empty()
        || body.contains(browser)
    {
        return None;
    }
    // Once in the form, once in the step's data for hydration.
    let body = Template::cut(body, &values, 2)?;
    let headers = headers
        .iter()
        .filter(|(name, _)| {
            ![
                header::DATE,
                header::CONTENT_LENGTH,
                header::TRANSFER_ENCODING,
            ]
            .contains(name)
        })
        .map(|(name, value)| {
            let value = Template::cut(value.to_str().ok()?, &values, 0)?;
            Some((name.clone(), value))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Page {
        version_id,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(nonce: &str, started: &str, visitor: &str) -> Values {
        Values {
            nonce: nonce.into(),
            started: started.into(),
            visitor: visitor.into(),
            browser: "BROWSER".into(),
        }
    }

    #[test]
    fn a_template_gives_back_the_page_it_was_cut_from_and_fills_in_others() {
        let was = values("NONCE", "1700", "VISITOR");
        let page =
            "<script nonce=\"NONCE\"></script><input value=\"1700\">{\"started\":1700}VISITOR";
        let template = Template::cut(page, &was, 2).unwrap();
        assert_eq!(template.fill(&was), page);
        assert_eq!(
            template.fill(&values("n2", "1800", "v2")),
            "<script nonce=\"n2\"></script><input value=\"1800\">{\"started\":1800}v2"
        );
    }

    #[test]
    fn a_page_with_the_started_time_elsewhere_is_not_kept() {
        let was = values("NONCE", "1700", "VISITOR");
        assert_eq!(Template::cut("1700 1700 1700", &was, 2), None);
        assert_eq!(Template::cut("1700", &was, 2), None);
    }

    #[test]
    fn each_new_visitor_gets_their_own_browser_key_and_never_in_the_page() {
        let nonce = "n".repeat(22);
        let (visitor, browser) = ("v".repeat(44), "k".repeat(44));
        let mut headers = HeaderMap::new();
        let csp = format!("script-src 'nonce-{nonce}'");
        headers.insert(header::CONTENT_SECURITY_POLICY, csp.parse().unwrap());
        for cookie in [
            format!("{VISITOR_COOKIE}={visitor}; Path=/"),
            format!("{BROWSER_COOKIE}={browser}; Path=/; HttpOnly"),
        ] {
            headers.append(header::SET_COOKIE, cookie.parse().unwrap());
        }
        let body = format!(
            "<i nonce=\"{nonce}\"></i><input name=\"started\" value=\"1700\">1700 {visitor}"
        );
        let page = template(&headers, body.as_bytes(), 1).unwrap();
        let mine = Values {
            nonce: "N".repeat(22),
            started: "1800".into(),
            visitor: "V".repeat(44),
            browser: "K".repeat(44),
        };
        let cookies: Vec<String> = page
            .headers
            .iter()
            .filter(|(name, _)| name == header::SET_COOKIE)
            .map(|(_, value)| value.fill(&mine))
            .collect();
        assert_eq!(
            cookies,
            [
                format!("{VISITOR_COOKIE}={}; Path=/", mine.visitor),
                format!("{BROWSER_COOKIE}={}; Path=/; HttpOnly", mine.browser),
            ]
        );
        assert!(!page.body.fill(&mine).contains(&mine.browser));

        let leaky = format!("{body} {browser}");
        assert!(template(&headers, leaky.as_bytes(), 1).is_none());
        headers.remove(header::SET_COOKIE);
        assert!(template(&headers, body.as_bytes(), 1).is_none());
    }
}
