//! `/embed/{slug}.js`: puts a quiz into another site in an iframe that
//! takes the height of its content, and the small script the framed quiz
//! uses to report that height.

use super::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

const EMBED_JS: &str = r#"(function () {
  var script = document.currentScript;
  var origin = new URL(script.src).origin;
  var frame = document.createElement("iframe");
  // The host page's campaign tags and the visitor id its tracking snippet
  // keeps go to the quiz, as on a link to it: the answers join that
  // visitor's history and keep the campaign that brought them.
  var pass = new URLSearchParams();
  try {
    new URLSearchParams(location.search).forEach(function (v, k) { if (/^utm_/.test(k)) pass.set(k, v); });
    var ok = /^[A-Za-z0-9_-]{8,64}$/, qf = window.quizfunnel;
    var vid = qf && qf.visitorId && qf.visitorId();
    var m = document.cookie.match(/(?:^|;\s*)qf_vid=([A-Za-z0-9_-]{8,64})/);
    vid = vid || (m && m[1]);
    try { vid = vid || localStorage.getItem("qf_vid"); } catch (e) {}
    if (vid && ok.test(vid)) pass.set("qf_vid", vid);
  } catch (e) {}
  pass = pass.toString();
  frame.src = origin + "/q/__SLUG__" + (pass ? "?" + pass : "");
  frame.title = "Quiz";
  frame.setAttribute("loading", "lazy");
  frame.style.cssText = "width:100%;border:0;min-height:480px;display:block";
  script.parentNode.insertBefore(frame, script.nextSibling);
  window.addEventListener("message", function (e) {
    if (e.origin !== origin || e.source !== frame.contentWindow) return;
    var h = e.data && e.data.quizfunnelHeight;
    if (typeof h === "number" && h > 0 && h < 20000) frame.style.height = Math.ceil(h) + "px";
  });
})();
"#;

/// Loaded by every quiz page; does something only inside a frame.
pub const FRAME_JS: &str = r#"(function () {
  if (window.parent === window) return;
  function send() {
    window.parent.postMessage({ quizfunnelHeight: document.documentElement.scrollHeight }, "*");
  }
  if ("ResizeObserver" in window) new ResizeObserver(send).observe(document.documentElement);
  window.addEventListener("load", send);
  send();
})();
"#;

fn javascript(body: String) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        "text/javascript; charset=utf-8"
            .parse()
            .expect("static header"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        "public, max-age=300".parse().expect("static header"),
    );
    (headers, body).into_response()
}

pub async fn embed_script(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some(slug) = file.strip_suffix(".js") else {
        return (StatusCode::NOT_FOUND, "// no such quiz").into_response();
    };
    // Only published quizzes, and only slugs that are safe inside the script.
    let safe = !slug.is_empty()
        && slug
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    match state.ctx.store.published_quiz(slug).await {
        Ok(Some(_)) if safe => javascript(EMBED_JS.replace("__SLUG__", slug)),
        Ok(_) => (StatusCode::NOT_FOUND, "// no such quiz").into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "// try again later").into_response(),
    }
}

pub async fn frame_script() -> Response {
    javascript(FRAME_JS.to_string())
}
