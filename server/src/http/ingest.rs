//! The ingestion API (SPEC §4): events, contacts, identify and erasure,
//! plus the `/t.js` tracking script that feeds it from browsers.
//!
//! Servers authenticate with `Authorization: Bearer KEY`; browsers send the
//! public site key (`?site_key=`) from an allowed origin and may only speak
//! for their own visitor id. Every refusal is JSON `{"error", "details"}`
//! with a 4xx status.

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::post};
use quizfunnel::account::ApiKeyInfo;
use quizfunnel::contact::{Caller, MAX_BODY_BYTES, TrackingSettings, parse_batch, parse_identify};
use quizfunnel::email::Email;
use quizfunnel::store::StoreError;
use quizfunnel_app::auth::ssr::token_hash;
use quizfunnel_app::contacts::api::ssr::erase_contact;
use quizfunnel_app::state::AppContext;
use serde_json::{Value, json};

pub fn routes() -> Router<super::AppState> {
    Router::new()
        .route("/api/v1/events", post(events).options(preflight))
        .route("/api/v1/identify", post(identify).options(preflight))
        .route("/api/v1/contacts", post(upsert_contact))
        .route("/api/v1/contacts/erase", post(erase))
        .route("/api/v1/contacts/merge", post(merge))
        .merge(super::segments_api::routes())
        // API callers read every refusal as JSON, these two included.
        .route("/api/v1/{*rest}", axum::routing::any(unknown_endpoint))
        .method_not_allowed_fallback(wrong_method)
        .route("/t.js", axum::routing::get(tracker))
}

async fn unknown_endpoint() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "there is no such API endpoint; the README lists them",
    )
}

async fn wrong_method() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "this endpoint does not take that method; the Allow header names the ones it takes",
    )
}

/// A refusal: status, message, and per-field details.
pub struct ApiError {
    status: StatusCode,
    error: String,
    details: Vec<Value>,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, error: impl Into<String>) -> Self {
        ApiError {
            status,
            error: error.into(),
            details: Vec::new(),
        }
    }

    pub(super) fn field(status: StatusCode, field: &str, reason: &str) -> Self {
        let error = if field.is_empty() {
            reason.to_string()
        } else {
            format!("{field}: {reason}")
        };
        ApiError {
            status,
            error,
            details: vec![json!({"field": field, "reason": reason})],
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::new(StatusCode::NOT_FOUND, "no such contact"),
            StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, m),
            StoreError::Internal(m) => {
                tracing::error!(error = %m, "ingestion failed");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage is unavailable; retry later",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"error": self.error, "details": self.details})),
        )
            .into_response()
    }
}

/// Who is calling.
pub(super) enum Credential {
    Server(ApiKeyInfo),
    /// A browser on an allowed origin (or on our own pages).
    Browser {
        origin: String,
    },
}

impl Credential {
    fn caller(&self) -> Caller {
        match self {
            Credential::Server(_) => Caller::Server,
            Credential::Browser { .. } => Caller::Browser,
        }
    }

    fn actor(&self) -> String {
        match self {
            Credential::Server(k) => format!("api key {}…", k.prefix),
            Credential::Browser { origin } => format!("site key from {origin}"),
        }
    }
}

fn site_key_param(query: Option<&str>) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or("")).ok()?;
    pairs
        .into_iter()
        .find(|(k, _)| k == "site_key")
        .map(|(_, v)| v)
}

fn origin_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.to_ascii_lowercase())
}

/// Our own pages (the public quiz) may use the site key too.
fn same_origin(origin: &str, headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

pub(super) async fn authenticate(
    ctx: &AppContext,
    headers: &HeaderMap,
    query: Option<&str>,
    browsers_allowed: bool,
) -> Result<Credential, ApiError> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim());
    if let Some(auth) = bearer {
        // The scheme's name is case-insensitive (RFC 9110).
        let key = auth
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, key)| key.trim())
            .filter(|k| !k.is_empty())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "send the API key as Authorization: Bearer KEY",
                )
            })?;
        return match ctx
            .store
            .use_api_key(&token_hash(key), ctx.clock.now())
            .await?
        {
            Some(info) => Ok(Credential::Server(info)),
            None => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "this API key is unknown or was revoked",
            )),
        };
    }
    let Some(site_key) = site_key_param(query) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "send an API key as Authorization: Bearer KEY (or, from a browser, the site key)",
        ));
    };
    if !browsers_allowed {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "this call needs an API key; the site key only sends events and identifies visitors",
        ));
    }
    let settings = ctx.store.tracking_settings().await?;
    if site_key != settings.site_key {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "this site key is not the one in Settings → Tracking",
        ));
    }
    match origin_of(headers) {
        Some(origin) if settings.allows_origin(&origin) || same_origin(&origin, headers) => {
            Ok(Credential::Browser { origin })
        }
        Some(origin) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "the origin {origin} may not use the site key; an owner can add it in Settings → Tracking"
            ),
        )),
        None => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "the site key is for browsers, which send an Origin header; servers use an API key",
        )),
    }
}

/// A caller with an API key (the site key is refused).
pub(super) struct ServerKey(pub Credential);

impl FromRequestParts<super::AppState> for ServerKey {
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &super::AppState,
    ) -> Result<Self, ApiError> {
        authenticate(&state.ctx, &parts.headers, parts.uri.query(), false)
            .await
            .map(ServerKey)
    }
}

/// A caller with an API key, or a browser with the site key.
pub(super) struct AnyKey(pub Credential);

impl FromRequestParts<super::AppState> for AnyKey {
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &super::AppState,
    ) -> Result<Self, ApiError> {
        authenticate(&state.ctx, &parts.headers, parts.uri.query(), true)
            .await
            .map(AnyKey)
    }
}

/// The body, at most [`MAX_BODY_BYTES`].
async fn read_body(headers: &HeaderMap, body: Body) -> Result<axum::body::Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than {MAX_BODY_BYTES} bytes; send smaller batches"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(too_large());
    }
    to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| too_large())
}

/// The body as JSON; 400 when it is not.
async fn read_json(headers: &HeaderMap, body: Body) -> Result<Value, ApiError> {
    let bytes = read_body(headers, body).await?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("the body is not valid JSON: {e}"),
        )
    })
}

/// Browsers on an allowed origin may read our answers.
fn with_cors(mut res: Response, credential: Option<&Credential>) -> Response {
    if let Some(Credential::Browser { origin }) = credential
        && let Ok(v) = HeaderValue::from_str(origin)
    {
        let h = res.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    res
}

async fn preflight(State(ctx): State<AppContext>, headers: HeaderMap) -> Response {
    let allowed = match origin_of(&headers) {
        Some(origin) => ctx
            .store
            .tracking_settings()
            .await
            .is_ok_and(|s| s.allows_origin(&origin))
            .then_some(origin),
        None => None,
    };
    let mut res = StatusCode::NO_CONTENT.into_response();
    if let Some(origin) = allowed.and_then(|o| HeaderValue::from_str(&o).ok()) {
        let h = res.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    res
}

/// `POST /api/v1/events`: a JSON array of up to 500 events.
async fn events(
    State(ctx): State<AppContext>,
    AnyKey(credential): AnyKey,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let res = ingest(&ctx, &credential, &headers, body).await;
    with_cors(
        res.unwrap_or_else(IntoResponse::into_response),
        Some(&credential),
    )
}

async fn ingest(
    ctx: &AppContext,
    credential: &Credential,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(headers, body).await?;
    let now = ctx.clock.now();
    let (valid, mut rejected) = parse_batch(&bytes, credential.caller(), now).map_err(|e| {
        let status = match e {
            quizfunnel::contact::BatchError::TooMany(_) => StatusCode::PAYLOAD_TOO_LARGE,
            quizfunnel::contact::BatchError::NotJson(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError::new(status, e.to_string())
    })?;
    let details = |rejected: &[quizfunnel::contact::Rejection]| -> Vec<Value> {
        rejected
            .iter()
            .map(|r| json!({"index": r.index, "field": r.field, "reason": r.reason}))
            .collect()
    };
    if valid.is_empty() {
        let first = &rejected[0];
        return Err(ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            error: format!(
                "no event in the batch is valid; events[{}].{}: {}",
                first.index, first.field, first.reason
            ),
            details: details(&rejected),
        });
    }
    let mut report = ctx.store.ingest_events(&valid, now).await?;
    rejected.append(&mut report.rejected);
    rejected.sort_by_key(|r| r.index);
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "accepted": report.accepted,
            "duplicates": report.duplicates,
            "rejected": details(&rejected),
        })),
    )
        .into_response())
}

/// `POST /api/v1/identify`: this visitor is the person with this email
/// (`quizfunnel.identify` in `/t.js`; API key or site key).
async fn identify(
    State(ctx): State<AppContext>,
    AnyKey(credential): AnyKey,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let res = identify_inner(&ctx, &headers, body, true).await;
    with_cors(
        res.unwrap_or_else(IntoResponse::into_response),
        Some(&credential),
    )
}

async fn identify_inner(
    ctx: &AppContext,
    headers: &HeaderMap,
    body: Body,
    visitor_required: bool,
) -> Result<Response, ApiError> {
    let value = read_json(headers, body).await?;
    let who = parse_identify(&value).map_err(|(field, reason)| {
        ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, &field, &reason)
    })?;
    if visitor_required && who.visitor_id.is_none() {
        return Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "visitor_id",
            "is required",
        ));
    }
    let done = ctx.store.identify(&who, ctx.clock.now()).await?;
    Ok((
        StatusCode::OK,
        Json(json!({
            "contact_id": done.contact_id,
            "created": done.created,
            "merged_from": done.merged_from,
        })),
    )
        .into_response())
}

/// `POST /api/v1/contacts`: upsert by email with attributes (API key).
async fn upsert_contact(
    State(ctx): State<AppContext>,
    _: ServerKey,
    headers: HeaderMap,
    body: Body,
) -> Response {
    identify_inner(&ctx, &headers, body, false)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// `POST /api/v1/contacts/erase` with `{"email": ...}` or
/// `{"contact_id": ...}` (API key): the person and all their data, now.
async fn erase(
    State(ctx): State<AppContext>,
    ServerKey(credential): ServerKey,
    headers: HeaderMap,
    body: Body,
) -> Response {
    erase_inner(&ctx, &credential, &headers, body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn erase_inner(
    ctx: &AppContext,
    credential: &Credential,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let unprocessable = |field: &str, reason: &str| {
        ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, field, reason)
    };
    let Value::Object(obj) = read_json(headers, body).await? else {
        return Err(unprocessable(
            "",
            "send a JSON object with email or contact_id",
        ));
    };
    if let Some(k) = obj
        .keys()
        .find(|k| !matches!(k.as_str(), "email" | "contact_id"))
    {
        return Err(unprocessable(
            k,
            "is not a known field; use email or contact_id",
        ));
    }
    let id = match (obj.get("email"), obj.get("contact_id")) {
        (Some(e), None) => {
            let email = e
                .as_str()
                .ok_or_else(|| unprocessable("email", "must be a string"))
                .and_then(|s| {
                    Email::parse(s).map_err(|err| unprocessable("email", &err.to_string()))
                })?;
            ctx.store
                .contact_id_by_email(&email)
                .await?
                .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no contact has this email"))?
        }
        (None, Some(id)) => id
            .as_i64()
            .filter(|id| *id > 0)
            .ok_or_else(|| unprocessable("contact_id", "must be a positive whole number"))?,
        _ => return Err(unprocessable("email", "give either email or contact_id")),
    };
    let erased = erase_contact(ctx, id, &credential.actor())
        .await
        .map_err(|e| match e {
            quizfunnel_app::error::AppError::NotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "no such contact")
            }
            _ => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage is unavailable; retry later",
            ),
        })?;
    Ok(Json(json!({
        "erased": erased.contact_id,
        "events": erased.events,
        "quiz_sessions": erased.quiz_sessions,
    }))
    .into_response())
}

/// `POST /api/v1/contacts/merge` with `{"keep": ..., "absorb": ...}`, each
/// an email or a contact id (API key): two records turned out to be one
/// person; everything of `absorb` moves onto `keep`.
async fn merge(
    State(ctx): State<AppContext>,
    ServerKey(credential): ServerKey,
    headers: HeaderMap,
    body: Body,
) -> Response {
    merge_inner(&ctx, &credential, &headers, body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn merge_inner(
    ctx: &AppContext,
    credential: &Credential,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let unprocessable = |field: &str, reason: &str| {
        ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, field, reason)
    };
    let Value::Object(obj) = read_json(headers, body).await? else {
        return Err(unprocessable("", "send a JSON object with keep and absorb"));
    };
    if let Some(k) = obj
        .keys()
        .find(|k| !matches!(k.as_str(), "keep" | "absorb"))
    {
        return Err(unprocessable(
            k,
            "is not a known field; use keep and absorb",
        ));
    }
    let mut ids = [0i64; 2];
    for (slot, field) in ids.iter_mut().zip(["keep", "absorb"]) {
        *slot = match obj.get(field) {
            Some(Value::String(text)) => {
                let email = Email::parse(text).map_err(|e| unprocessable(field, &e.to_string()))?;
                ctx.store
                    .contact_id_by_email(&email)
                    .await?
                    .ok_or_else(|| {
                        ApiError::field(StatusCode::NOT_FOUND, field, "no contact has this email")
                    })?
            }
            Some(v) => v
                .as_i64()
                .filter(|id| *id > 0)
                .ok_or_else(|| unprocessable(field, "must be an email or a contact id"))?,
            None => return Err(unprocessable(field, "is required")),
        };
    }
    let [keep, absorb] = ids;
    if keep == absorb {
        return Err(unprocessable("absorb", "is the same contact as keep"));
    }
    ctx.store
        .merge_contacts(keep, absorb, ctx.clock.now())
        .await?;
    quizfunnel_app::auth::ssr::audit(
        ctx,
        &credential.actor(),
        "contact.merged",
        &format!("contact #{absorb} into #{keep}"),
        "",
    )
    .await;
    Ok(Json(json!({"contact_id": keep, "merged_from": absorb})).into_response())
}

const TRACKER: &str = include_str!("tracker.js");

/// `GET /t.js`: the tracking script with this deployment's site key.
async fn tracker(State(ctx): State<AppContext>) -> Response {
    let site_key = match ctx.store.tracking_settings().await {
        Ok(TrackingSettings { site_key, .. }) => site_key,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the site key");
            // A script that does nothing: the host page must never break.
            String::new()
        }
    };
    let script = TRACKER.replace("__SITE_KEY__", &site_key);
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        script,
    )
        .into_response()
}
