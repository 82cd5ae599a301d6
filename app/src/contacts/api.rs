//! Server functions for the contacts pages. Any signed-in user may read
//! contacts; export and erasure are for owners.

// A server function takes its form's fields one by one, and the list's
// form has many; the attribute must cover the browser's generated call too.
#![allow(clippy::too_many_arguments)]

use crate::error::AppError;
use leptos::prelude::*;
use quizfunnel::contact::{ContactList, ContactProfile, TimelinePage};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
fn reader() -> Result<crate::state::AppContext, AppError> {
    crate::auth::ssr::require(|_| true, "read contacts")?;
    Ok(crate::state::AppContext::get())
}

/// A `YYYY-MM-DD` date from a filter field as UTC ms (its midnight).
#[cfg(feature = "ssr")]
fn filter_date(field: &str, text: &str) -> Result<Option<i64>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    quizfunnel::time::parse_iso(text).map(Some).ok_or_else(|| {
        crate::error::respond(AppError::invalid(field, "enter a date as YYYY-MM-DD"))
    })
}

/// A page of the contact list, and, when it is a funnel's "stopped here",
/// the quiz and question in the words the funnel showed them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Listed {
    pub list: ContactList,
    pub stopped: Option<StoppedWords>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoppedWords {
    pub quiz_title: String,
    pub prompt: String,
    /// The funnel's count at the stop, and the people behind it.
    pub counted: quizfunnel::store::StoppedHere,
}

/// A date a funnel's link carries, which the page has no field for.
#[cfg(feature = "ssr")]
fn link_date(field: &str, text: Option<String>) -> Result<Option<i64>, AppError> {
    filter_date(field, text.as_deref().unwrap_or("")).map_err(|_| {
        crate::error::respond(AppError::invalid(
            field,
            "this funnel link's start dates are damaged (YYYY-MM-DD): open it from the dashboard again, or show all contacts",
        ))
    })
}

/// The funnel's filters come along (all optional, so a list without them
/// is asked as before): `quiz` and `stopped_at` name the question, the
/// rest are the funnel's own.
#[server(endpoint = "contacts/list")]
pub async fn list_contacts(
    search: String,
    attr_key: String,
    attr_value: String,
    completed: bool,
    from: String,
    until: String,
    after: String,
    quiz: Option<String>,
    stopped_at: Option<String>,
    started_from: Option<String>,
    started_until: Option<String>,
    source: Option<String>,
) -> Result<Listed, AppError> {
    use quizfunnel::contact::{ContactFilter, DAY_MS, ListCursor, StoppedAt};
    use quizfunnel::store::FunnelFilter;
    let ctx = reader()?;
    let quiz = quiz.unwrap_or_default().trim().to_string();
    let question = stopped_at.unwrap_or_default().trim().to_string();
    let stopped = match (quiz.is_empty(), question.is_empty()) {
        (true, true) => None,
        (false, false) => Some(StoppedAt {
            quiz,
            question,
            within: FunnelFilter {
                from: link_date("started_from", started_from)?,
                until: link_date("started_until", started_until)?.map(|d| d + DAY_MS - 1),
                utm_source: source
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty()),
            },
        }),
        (true, false) => {
            return Err(crate::error::respond(AppError::invalid(
                "quiz",
                "name the quiz the question belongs to",
            )));
        }
        (false, true) => {
            return Err(crate::error::respond(AppError::invalid(
                "stopped_at",
                "name the question people stopped at",
            )));
        }
    };
    let after = match after.trim() {
        "" => None,
        text => Some(ListCursor::parse(text).ok_or_else(|| {
            crate::error::respond(AppError::invalid(
                "after",
                "this page link is damaged: start again from the first page",
            ))
        })?),
    };
    let filter = ContactFilter {
        search,
        attr_key,
        attr_value,
        completed_quiz: completed,
        seen_from: filter_date("from", &from)?,
        // The whole of the last day counts.
        seen_until: filter_date("until", &until)?.map(|d| d + DAY_MS - 1),
        stopped,
        after,
    };
    let list = ctx.store.contacts(&filter).await?;
    // Named as the live version names them; a quiz or question no longer
    // there is named by its key.
    let stopped = match &filter.stopped {
        None => None,
        Some(s) => {
            let published = ctx.store.published_quiz(&s.quiz).await?;
            let quiz_title = published
                .as_ref()
                .map_or_else(|| s.quiz.clone(), |p| p.definition.title.clone());
            let prompt = published
                .as_ref()
                .and_then(|p| p.definition.questions.iter().find(|q| q.key == s.question))
                .map_or_else(|| s.question.clone(), |q| q.prompt.clone());
            let counted = ctx.store.stopped_here(s).await?;
            Some(StoppedWords {
                quiz_title,
                prompt,
                counted,
            })
        }
    };
    Ok(Listed { list, stopped })
}

#[server(endpoint = "contacts/profile")]
pub async fn contact_details(id: i64) -> Result<ContactProfile, AppError> {
    let ctx = reader()?;
    ctx.store
        .contact(id)
        .await
        .map_err(|e| crate::error::respond(e.into()))
}

/// One page of the contact's events, newest first; `before` is the cursor
/// the previous page handed out (empty for the newest).
#[server(endpoint = "contacts/timeline")]
pub async fn contact_timeline(id: i64, before: String) -> Result<TimelinePage, AppError> {
    use quizfunnel::contact::{ListCursor, TIMELINE_PAGE};
    let ctx = reader()?;
    let cursor = match before.trim() {
        "" => None,
        text => Some(ListCursor::parse(text).ok_or_else(|| {
            crate::error::respond(AppError::invalid("before", "not a timeline position"))
        })?),
    };
    Ok(ctx.store.timeline(id, cursor, TIMELINE_PAGE).await?)
}

/// Everything stored about one contact, as pretty JSON.
#[server(endpoint = "contacts/export")]
pub async fn export_contact(id: i64) -> Result<String, AppError> {
    let me = crate::auth::ssr::require(|r| r.can_administer(), "export contacts")?;
    let ctx = crate::state::AppContext::get();
    let json = ssr::export_contact(&ctx, id)
        .await
        .map_err(crate::error::respond)?;
    crate::auth::ssr::audit(
        &ctx,
        &me.email,
        "contact.exported",
        &format!("contact #{id}"),
        "",
    )
    .await;
    Ok(json)
}

/// Erases the contact and everything about them; answers the erased id.
#[server(endpoint = "contacts/erase")]
pub async fn erase_contact(id: i64) -> Result<i64, AppError> {
    let me = crate::auth::ssr::require(|r| r.can_administer(), "erase contacts")?;
    let ctx = crate::state::AppContext::get();
    let erased = ssr::erase_contact(&ctx, id, &me.email)
        .await
        .map_err(crate::error::respond)?;
    Ok(erased.contact_id)
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use crate::error::AppError;
    use crate::state::AppContext;
    use quizfunnel::contact::{Erasure, TIMELINE_PAGE};

    /// Erasure for the UI, the CLI and the API alike: the store deletes the
    /// person in one transaction; the audit log keeps that it happened, by
    /// whom, and counts, never who it was.
    pub async fn erase_contact(
        ctx: &AppContext,
        id: i64,
        actor: &str,
    ) -> Result<Erasure, AppError> {
        let erased = ctx.store.erase_contact(id).await?;
        crate::auth::ssr::audit(
            ctx,
            actor,
            "contact.erased",
            &format!("contact #{id}"),
            &erased.audit_detail(),
        )
        .await;
        Ok(erased)
    }

    pub async fn export_contact(ctx: &AppContext, id: i64) -> Result<String, AppError> {
        let profile = ctx.store.contact(id).await?;
        let mut events = Vec::new();
        let mut cursor = None;
        loop {
            let page = ctx.store.timeline(id, cursor, TIMELINE_PAGE * 10).await?;
            for e in page.events {
                let properties: serde_json::Value =
                    serde_json::from_str(&e.properties).unwrap_or(serde_json::Value::Null);
                events.push(serde_json::json!({
                    "name": e.name,
                    "occurred_at": quizfunnel::time::format_iso(e.occurred_at),
                    "properties": properties,
                }));
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let export = serde_json::json!({"contact": profile, "events": events});
        serde_json::to_string_pretty(&export).map_err(|_| AppError::Internal)
    }
}
