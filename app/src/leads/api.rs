//! Server functions of the lead lists and a lead's status and owner: every
//! signed-in role, sales included.

use crate::error::AppError;
use leptos::prelude::*;
use quizfunnel::lead::{Lead, LeadChange};
use quizfunnel::store::LeadTier;
use serde::{Deserialize, Serialize};

/// Leads per page.
pub const PAGE_SIZE: u32 = 50;

/// One page of a lead list view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadPage {
    pub tiers: Vec<LeadTier>,
    /// The segment whose members these are, by (slug, name), when the view
    /// is a segment's rather than the leads.
    pub segment: Option<(String, String)>,
    /// The view as query pairs (the tier always named), for links.
    pub view: Vec<(String, String)>,
    pub leads: Vec<Lead>,
    /// The query string of the next page, when there is one.
    pub next: Option<String>,
    /// Users leads can be given to, for the owner filter.
    pub users: Vec<(i64, String)>,
}

/// A contact as a lead: tier, status, owner, and what changed when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadPanel {
    pub lead: Option<Lead>,
    pub history: Vec<LeadChange>,
    /// Active users the lead can be given to.
    pub users: Vec<(i64, String)>,
}

/// Encodes query pairs for a link.
pub fn query_string(pairs: &[(String, String)]) -> String {
    use crate::encode;
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use crate::error::{AppError, respond};
    use crate::state::AppContext;
    use quizfunnel::account::User;
    use quizfunnel::lead::LeadFilter;

    pub fn signed_in() -> Result<(AppContext, User), AppError> {
        let user = crate::auth::ssr::require(|_| true, "work on leads")?;
        Ok((AppContext::get(), user))
    }

    /// A view read from a query string; with no tier named, the first
    /// tier's list (fast-track first, as the playbook orders them).
    pub async fn view(ctx: &AppContext, query: &str) -> Result<LeadFilter, AppError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).map_err(|_| {
            respond(AppError::invalid(
                "query",
                "the address's filters cannot be read",
            ))
        })?;
        let mut filter =
            LeadFilter::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .map_err(|e| respond(AppError::invalid(&e.field, e.message)))?;
        if let Some(tier) = &filter.tier {
            let known = ctx
                .store
                .segment_rule(tier)
                .await
                .map_err(|e| respond(e.into()))?
                .is_some();
            if !known {
                return Err(respond(AppError::invalid(
                    "tier",
                    format!("there is no tier called “{tier}”"),
                )));
            }
        }
        if let Some(slug) = &filter.segment
            && ctx
                .store
                .segment_rule(slug)
                .await
                .map_err(|e| respond(e.into()))?
                .is_none()
        {
            return Err(respond(AppError::invalid(
                "segment",
                format!("there is no segment called “{slug}”"),
            )));
        }
        if filter.segment.is_none() && !pairs.iter().any(|(k, _)| k == "tier") {
            filter.tier = ctx
                .store
                .lead_tiers()
                .await
                .map_err(|e| respond(e.into()))?
                .into_iter()
                .next()
                .map(|t| t.slug);
        }
        Ok(filter)
    }

    pub async fn users(ctx: &AppContext) -> Result<Vec<(i64, String)>, AppError> {
        Ok(ctx
            .store
            .users()
            .await
            .map_err(|e| respond(e.into()))?
            .into_iter()
            .filter(|u| u.active)
            .map(|u| (u.id, u.email))
            .collect())
    }
}

/// A page of the lead list `query` (the page's query string) describes.
#[server(endpoint = "leads/list")]
pub async fn list_leads(query: String) -> Result<LeadPage, AppError> {
    use crate::error::respond;
    let (ctx, me) = ssr::signed_in()?;
    let filter = ssr::view(&ctx, &query).await?;
    let mut leads = ctx
        .store
        .leads(&filter, me.id, PAGE_SIZE + 1)
        .await
        .map_err(|e| respond(e.into()))?;
    let next = (leads.len() > PAGE_SIZE as usize).then(|| {
        leads.truncate(PAGE_SIZE as usize);
        let mut next = filter.clone();
        next.after = leads.last().map(|l| l.cursor(filter.sort));
        query_string(&owned(next.to_pairs(true)))
    });
    let segment = match &filter.segment {
        Some(slug) => ctx
            .store
            .segments()
            .await
            .map_err(|e| respond(e.into()))?
            .into_iter()
            .find(|s| s.slug == *slug)
            .map(|s| (s.slug, s.name)),
        None => None,
    };
    Ok(LeadPage {
        segment,
        tiers: ctx
            .store
            .lead_tiers()
            .await
            .map_err(|e| respond(e.into()))?,
        view: owned(filter.to_pairs(false)),
        leads,
        next,
        users: ssr::users(&ctx).await?,
    })
}

#[cfg(feature = "ssr")]
fn owned(pairs: Vec<(&'static str, String)>) -> Vec<(String, String)> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

#[server(endpoint = "leads/get")]
pub async fn lead_details(contact_id: i64) -> Result<LeadPanel, AppError> {
    use crate::error::respond;
    let (ctx, _) = ssr::signed_in()?;
    Ok(LeadPanel {
        lead: ctx
            .store
            .lead(contact_id)
            .await
            .map_err(|e| respond(e.into()))?,
        history: ctx
            .store
            .lead_history(contact_id)
            .await
            .map_err(|e| respond(e.into()))?,
        users: ssr::users(&ctx).await?,
    })
}

#[cfg(feature = "ssr")]
fn checked_note(note: &str) -> Result<String, AppError> {
    let note = note.trim();
    if note.chars().count() > quizfunnel::lead::MAX_NOTE {
        return Err(crate::error::respond(AppError::invalid(
            "lead-note",
            format!(
                "keep the note under {} characters",
                quizfunnel::lead::MAX_NOTE
            ),
        )));
    }
    Ok(note.to_string())
}

/// Moves a lead along: `new`, `contacted`, `qualified` or `disqualified`.
#[server(endpoint = "leads/status")]
pub async fn set_status(contact_id: i64, status: String, note: String) -> Result<(), AppError> {
    use crate::error::respond;
    let (ctx, me) = ssr::signed_in()?;
    let status = quizfunnel::lead::LeadStatus::parse(&status).ok_or_else(|| {
        respond(AppError::invalid(
            "lead-status",
            "choose new, contacted, qualified or disqualified",
        ))
    })?;
    let note = checked_note(&note)?;
    ctx.store
        .set_lead_status(contact_id, status, &note, me.id, ctx.clock.now())
        .await
        .map_err(|e| respond(e.into()))?;
    crate::auth::ssr::audit(
        &ctx,
        &me.email,
        "lead.status",
        &format!("contact {contact_id}"),
        format!("{} {note}", status.as_str()).trim(),
    )
    .await;
    Ok(())
}

/// Gives a lead to a user (`owner`: their number), or to nobody (empty).
#[server(endpoint = "leads/owner")]
pub async fn set_owner(contact_id: i64, owner: String, note: String) -> Result<(), AppError> {
    use crate::error::respond;
    let (ctx, me) = ssr::signed_in()?;
    let users = ssr::users(&ctx).await?;
    let owner = match owner.trim() {
        "" => None,
        id => Some(
            id.parse::<i64>()
                .ok()
                .and_then(|id| users.iter().find(|(u, _)| *u == id))
                .cloned()
                .ok_or_else(|| {
                    respond(AppError::invalid(
                        "lead-owner",
                        "choose an active user, or nobody",
                    ))
                })?,
        ),
    };
    let note = checked_note(&note)?;
    ctx.store
        .set_lead_owner(
            contact_id,
            owner.as_ref().map(|(id, _)| *id),
            &note,
            me.id,
            ctx.clock.now(),
        )
        .await
        .map_err(|e| respond(e.into()))?;
    let to = owner
        .map(|(_, email)| email)
        .unwrap_or_else(|| "nobody".into());
    crate::auth::ssr::audit(
        &ctx,
        &me.email,
        "lead.owner",
        &format!("contact {contact_id}"),
        format!("to {to} {note}").trim(),
    )
    .await;
    Ok(())
}
