//! Server functions of the segment list and editor: owners and marketers.

use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use quizfunnel::contact::ContactSummary;
use quizfunnel::rule::QuestionKind;
use quizfunnel::store::{Rebuild, SegmentSummary, Stay, Tier, TierSummary};
use serde::{Deserialize, Serialize};

/// Members shown under a segment, and in a rule's preview.
#[cfg(feature = "ssr")]
const MEMBERS_SHOWN: u32 = 100;
#[cfg(feature = "ssr")]
const SAMPLE_SIZE: u32 = 10;

/// A saved segment as the editor opens it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentEdit {
    pub segment: SegmentSummary,
    /// The rule in its text form.
    pub text: String,
    pub members: Vec<ContactSummary>,
    /// The latest entries and exits.
    pub history: Vec<Stay>,
}

/// What a rule would match now, before it is saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulePreview {
    pub count: i64,
    pub sample: Vec<ContactSummary>,
}

/// What the rule builder offers in its dropdowns: what rules may name, with
/// the words people know these things by.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BuilderCatalog {
    /// The published quizzes, by slug.
    pub quizzes: Vec<QuizChoice>,
    /// Event names seen so far; rules may name others not seen yet.
    pub events: Vec<String>,
    /// Contact attribute keys in use.
    pub attributes: Vec<String>,
    pub segments: Vec<SegmentChoice>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuizChoice {
    pub slug: String,
    pub title: String,
    pub questions: Vec<QuestionChoice>,
    pub categories: Vec<String>,
}

/// A question of a published quiz, in the quiz's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionChoice {
    pub key: String,
    pub prompt: String,
    pub kind: QuestionKind,
    pub options: Vec<OptionChoice>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptionChoice {
    pub key: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentChoice {
    pub slug: String,
    pub name: String,
}

/// A contact's segments: now, with why, and every stay so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactSegments {
    pub verdicts: Vec<Verdict>,
    pub stays: Vec<Stay>,
    /// Tags segments gave the contact.
    pub tags: Vec<String>,
    /// The sales user the contact was handed to, by email.
    pub owner: Option<String>,
}

/// Whether a contact is in a segment, with the rule judged node by node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub slug: String,
    pub name: String,
    pub explanation: quizfunnel::rule::Explanation,
}

#[cfg(feature = "ssr")]
pub(super) mod ssr {
    use crate::error::{AppError, respond};
    use crate::state::AppContext;
    use quizfunnel::quiz::QuizDefinition;
    use quizfunnel::rule::{Catalog, CatalogQuiz, Rule};
    use quizfunnel::store::{QuizStatus, SegmentSummary};
    use std::collections::BTreeMap;

    pub fn marketer() -> Result<AppContext, AppError> {
        crate::auth::ssr::require(|r| r.can_edit_funnels(), "work on segments")?;
        Ok(AppContext::get())
    }

    /// Every error leaves with its status (404, 409, 422…).
    pub fn fail(e: impl Into<AppError>) -> AppError {
        respond(e.into())
    }

    /// What rules may name, as stored: the published version of each
    /// published quiz, by slug, and the saved segments.
    pub struct Nameable {
        pub quizzes: Vec<(String, QuizDefinition)>,
        pub segments: Vec<SegmentSummary>,
    }

    pub async fn nameable(ctx: &AppContext) -> Result<Nameable, AppError> {
        let mut quizzes = Vec::new();
        for quiz in ctx.store.quiz_summaries().await.map_err(fail)? {
            if quiz.status != QuizStatus::Published {
                continue;
            }
            if let Some(published) = ctx.store.published_quiz(&quiz.slug).await.map_err(fail)? {
                quizzes.push((quiz.slug, published.definition.clone()));
            }
        }
        let segments = ctx.store.segments().await.map_err(fail)?;
        Ok(Nameable { quizzes, segments })
    }

    /// What rules may refer to, for checking them: every version ever
    /// published, of archived quizzes too, so a rule about answers given
    /// on an older version (or a quiz since archived) still saves.
    async fn catalog(ctx: &AppContext) -> Result<Catalog, AppError> {
        let mut quizzes: BTreeMap<String, CatalogQuiz> = BTreeMap::new();
        for version in ctx.store.published_versions().await.map_err(fail)? {
            let seen = version.definition.rule_catalog();
            match quizzes.get_mut(&version.slug) {
                Some(newer) => newer.merge(seen),
                None => {
                    quizzes.insert(version.slug, seen);
                }
            }
        }
        let segments = ctx.store.segments().await.map_err(fail)?;
        Ok(Catalog {
            quizzes,
            segments: segments
                .into_iter()
                .map(|s| (s.slug, Some(s.rule)))
                .collect(),
        })
    }

    /// The rule in `text`, read and checked against what exists, or a 422
    /// naming the problem (with its line and column when it does not read).
    pub async fn checked_rule(
        ctx: &AppContext,
        text: &str,
        own_slug: Option<&str>,
    ) -> Result<Rule, AppError> {
        let rule = Rule::parse(text).map_err(|e| fail(AppError::invalid("rule", e.to_string())))?;
        quizfunnel::rule::validate(&rule, &catalog(ctx).await?, own_slug)
            .map_err(|e| fail(AppError::invalid("rule", e.to_string())))?;
        Ok(rule)
    }
}

#[server(endpoint = "segments")]
pub async fn segments() -> Result<Vec<SegmentSummary>, AppError> {
    let ctx = ssr::marketer()?;
    ctx.store.segments().await.map_err(ssr::fail)
}

#[server(endpoint = "segments/get")]
pub async fn segment(id: i64) -> Result<SegmentEdit, AppError> {
    let ctx = ssr::marketer()?;
    let now = ctx.clock.now();
    let segment = ctx.store.segment(id).await.map_err(ssr::fail)?;
    let members = ctx
        .store
        .members_matching(&segment.rule, now, 0, MEMBERS_SHOWN)
        .await
        .map_err(ssr::fail)?;
    let history = ctx.store.segment_stays(id, 20).await.map_err(ssr::fail)?;
    Ok(SegmentEdit {
        text: segment.rule.to_string(),
        segment,
        members,
        history,
    })
}

/// The count and a few members a rule matches now; `slug` is the segment
/// being edited, so that it cannot refer to itself.
#[server(endpoint = "segments/preview")]
pub async fn preview_rule(text: String, slug: Option<String>) -> Result<RulePreview, AppError> {
    let ctx = ssr::marketer()?;
    let rule = ssr::checked_rule(&ctx, &text, slug.as_deref()).await?;
    let now = ctx.clock.now();
    let count = ctx
        .store
        .count_matching(&rule, now)
        .await
        .map_err(ssr::fail)?;
    let sample = ctx
        .store
        .members_matching(&rule, now, 0, SAMPLE_SIZE)
        .await
        .map_err(ssr::fail)?;
    Ok(RulePreview { count, sample })
}

/// How many event names and attribute keys the builder offers at most.
#[cfg(feature = "ssr")]
const CHOICES_SHOWN: u32 = 500;

/// The choices of the rule builder's dropdowns.
#[server(endpoint = "segments/catalog")]
pub async fn rule_catalog() -> Result<BuilderCatalog, AppError> {
    let ctx = ssr::marketer()?;
    let ssr::Nameable { quizzes, segments } = ssr::nameable(&ctx).await?;
    let mut quizzes: Vec<QuizChoice> = quizzes
        .into_iter()
        .map(|(slug, definition)| quiz_choice(slug, definition))
        .collect();
    // Rules may name what earlier versions and archived quizzes asked
    // (answers keep their version): offered after what is live, marked.
    for version in ctx.store.published_versions().await.map_err(ssr::fail)? {
        match quizzes.iter_mut().find(|q| q.slug == version.slug) {
            Some(known) => {
                let older = quiz_choice(version.slug, version.definition);
                for question in older.questions {
                    match known.questions.iter_mut().find(|q| q.key == question.key) {
                        Some(q) if q.kind == question.kind => {
                            for option in question.options {
                                if !q.options.iter().any(|o| o.key == option.key) {
                                    q.options.push(OptionChoice {
                                        label: format!("{} (earlier version)", option.label),
                                        ..option
                                    });
                                }
                            }
                        }
                        Some(_) => {}
                        None => known.questions.push(QuestionChoice {
                            prompt: format!("{} (earlier version)", question.prompt),
                            ..question
                        }),
                    }
                }
            }
            None => {
                let mut archived = quiz_choice(version.slug, version.definition);
                archived.title = format!("{} (archived)", archived.title);
                quizzes.push(archived);
            }
        }
    }
    let events = ctx
        .store
        .event_names(CHOICES_SHOWN)
        .await
        .map_err(ssr::fail)?;
    let attributes = ctx
        .store
        .attribute_keys(CHOICES_SHOWN)
        .await
        .map_err(ssr::fail)?;
    Ok(BuilderCatalog {
        quizzes,
        events,
        attributes,
        segments: segments
            .into_iter()
            .map(|s| SegmentChoice {
                slug: s.slug,
                name: s.name,
            })
            .collect(),
    })
}

/// Creates a segment (`id` empty) or changes one; answers its id.
#[server(endpoint = "segments/save")]
pub async fn save_segment(
    id: Option<i64>,
    slug: String,
    name: String,
    description: String,
    text: String,
) -> Result<i64, AppError> {
    let ctx = ssr::marketer()?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ssr::fail(AppError::invalid(
            "segment-name",
            "give the segment a name of 1 to 100 characters",
        )));
    }
    if description.chars().count() > 1000 {
        return Err(ssr::fail(AppError::invalid(
            "segment-description",
            "keep the description under 1,000 characters",
        )));
    }
    let now = ctx.clock.now();
    let id = match id {
        Some(id) => {
            let current = ctx.store.segment(id).await.map_err(ssr::fail)?;
            let rule = ssr::checked_rule(&ctx, &text, Some(&current.slug)).await?;
            ctx.store
                .update_segment(id, name, description.trim(), &rule, now)
                .await
                .map_err(ssr::fail)?;
            id
        }
        None => {
            let slug = quizfunnel::quiz::Slug::parse(&slug)
                .map_err(|m| ssr::fail(AppError::invalid("segment-slug", m)))?;
            let rule = ssr::checked_rule(&ctx, &text, Some(slug.as_str())).await?;
            ctx.store
                .create_segment(slug.as_str(), name, description.trim(), &rule, now)
                .await
                .map_err(ssr::fail)?
        }
    };
    // The stored stays follow the new rule (and the rules that use it) in
    // the background: on many contacts that takes longer than a request
    // should; the editor shows how far it has come.
    ctx.store.begin_rebuild(id, now).await.map_err(ssr::fail)?;
    let store = ctx.store.clone();
    tokio::spawn(async move {
        if let Err(e) = store.rebuild_segment(id, now).await {
            tracing::warn!(error = %e, segment = id, "segment rebuild failed; the sweep will catch up");
        }
    });
    Ok(id)
}

/// What the condition builder offers of one version of a quiz.
#[cfg(feature = "ssr")]
fn quiz_choice(slug: String, definition: quizfunnel::quiz::QuizDefinition) -> QuizChoice {
    let kinds = definition.rule_catalog().questions;
    QuizChoice {
        questions: definition
            .questions
            .iter()
            .filter_map(|q| {
                Some(QuestionChoice {
                    kind: kinds.get(&q.key)?.kind,
                    key: q.key.clone(),
                    prompt: q.prompt.clone(),
                    options: q
                        .answer_keys()
                        .into_iter()
                        .map(|(key, label)| OptionChoice { key, label })
                        .collect(),
                })
            })
            .collect(),
        categories: definition.categories(),
        title: definition.title,
        slug,
    }
}

/// Deletes a segment no tier and no other segment's rule uses; its
/// contacts' stays in it go too.
#[server(endpoint = "segments/delete")]
pub async fn delete_segment(id: i64) -> Result<(), AppError> {
    let user = crate::auth::ssr::require(|r| r.can_edit_funnels(), "work on segments")?;
    let ctx = crate::state::AppContext::get();
    let segment = ctx.store.segment(id).await.map_err(ssr::fail)?;
    ctx.store.delete_segment(id).await.map_err(|e| match e {
        quizfunnel::store::StoreError::Conflict(why) => ssr::fail(AppError::Conflict(format!(
            "\"{}\" cannot be deleted: {why}",
            segment.name
        ))),
        other => ssr::fail(other),
    })?;
    crate::auth::ssr::audit(
        &ctx,
        &user.email,
        "segment.deleted",
        &segment.slug,
        &segment.name,
    )
    .await;
    Ok(())
}

/// How far the segment's latest rebuild has come.
#[server(endpoint = "segments/rebuild")]
pub async fn rebuild_state(id: i64) -> Result<Option<Rebuild>, AppError> {
    let ctx = ssr::marketer()?;
    ctx.store.rebuild_state(id).await.map_err(ssr::fail)
}

/// For each segment, why this contact is in it or not (anyone signed in,
/// like the contact page itself).
#[server(endpoint = "segments/why")]
pub async fn why(contact_id: i64) -> Result<ContactSegments, AppError> {
    crate::auth::ssr::require(|_| true, "see contacts")?;
    let ctx = crate::state::AppContext::get();
    let now = ctx.clock.now();
    let segments = ctx.store.segments().await.map_err(ssr::fail)?;
    let events: Vec<String> = segments
        .iter()
        .flat_map(|s| s.rule.referenced_events())
        .map(String::from)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    ctx.store.contact(contact_id).await.map_err(ssr::fail)?;
    let facts = ctx
        .store
        .contact_facts(contact_id, &events)
        .await
        .map_err(ssr::fail)?;
    let verdicts = segments
        .into_iter()
        .map(|s| Verdict {
            explanation: quizfunnel::rule::explain(&s.rule, &facts, now),
            slug: s.slug,
            name: s.name,
        })
        .collect();
    let stays = ctx
        .store
        .contact_stays(contact_id)
        .await
        .map_err(ssr::fail)?;
    let (tags, owner) = ctx
        .store
        .contact_tags_and_owner(contact_id)
        .await
        .map_err(ssr::fail)?;
    Ok(ContactSegments {
        verdicts,
        stays,
        tags,
        owner,
    })
}

/// More tiers than this are hard to act on differently.
pub const MANY_TIERS: usize = 6;

/// The playbook as its page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlaybookView {
    /// In order, each tier with the contacts it places.
    pub tiers: Vec<TierSummary>,
    /// Tiers placing fewer contacts are flagged as too small.
    pub small_tier: i64,
    /// The outcomes a tier may show instead of the quiz's own choice: each
    /// key in the published quizzes, with what it shows in each.
    pub outcomes: Vec<(String, String)>,
}

#[server(endpoint = "playbook")]
pub async fn playbook() -> Result<PlaybookView, AppError> {
    let ctx = ssr::marketer()?;
    let mut outcomes: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (_, def) in ssr::nameable(&ctx).await?.quizzes {
        for o in &def.outcomes {
            let shown = format!("{} ({})", o.title, def.title);
            outcomes.entry(o.key.clone()).or_default().push(shown);
        }
    }
    Ok(PlaybookView {
        outcomes: outcomes
            .into_iter()
            .map(|(key, shown)| (key, shown.join("; ")))
            .collect(),
        tiers: ctx
            .store
            .playbook(ctx.clock.now())
            .await
            .map_err(ssr::fail)?,
        small_tier: ctx.store.small_tier().await.map_err(ssr::fail)?,
    })
}

/// The most contacts a marketer may ask every tier to hold.
pub const MAX_SMALL_TIER: i64 = 1_000_000;

/// Sets how few contacts make a tier too small, from the playbook's form.
#[server(endpoint = "playbook/small-tier/save")]
pub async fn save_small_tier(below: String) -> Result<i64, AppError> {
    let ctx = ssr::marketer()?;
    let below = below
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| (1..=MAX_SMALL_TIER).contains(n))
        .ok_or_else(|| {
            ssr::fail(AppError::invalid(
                "below",
                format!("enter a whole number of contacts from 1 to {MAX_SMALL_TIER}"),
            ))
        })?;
    ctx.store.set_small_tier(below).await.map_err(ssr::fail)?;
    Ok(below)
}

/// Replaces the playbook with these tiers, in this order.
#[server(endpoint = "playbook/save", input = Json)]
pub async fn save_playbook(tiers: Vec<Tier>) -> Result<(), AppError> {
    let ctx = ssr::marketer()?;
    let all = ctx.store.segments().await.map_err(ssr::fail)?;
    let known: std::collections::BTreeSet<i64> = all.iter().map(|s| s.id).collect();
    let mut seen = std::collections::BTreeSet::new();
    for (i, tier) in tiers.iter().enumerate() {
        let n = i + 1;
        if !known.contains(&tier.segment_id) {
            return Err(ssr::fail(AppError::invalid(
                "playbook",
                format!("tier {n} names a segment that does not exist"),
            )));
        }
        if !seen.insert(tier.segment_id) {
            return Err(ssr::fail(AppError::invalid(
                "playbook",
                format!("tier {n} repeats a segment: each segment can be one tier"),
            )));
        }
        let step = tier.next_step.trim();
        if step.is_empty() || step.chars().count() > 40 {
            return Err(ssr::fail(AppError::invalid(
                "playbook",
                format!("tier {n} needs a next step of 1 to 40 characters"),
            )));
        }
        if let Some(key) = &tier.outcome_key
            && !key.trim().is_empty()
            && let Err(e) = quizfunnel::quiz::OutcomeKey::parse(key.trim())
        {
            return Err(ssr::fail(AppError::invalid(
                "playbook",
                format!("tier {n} shows an outcome whose key does not read: {e}"),
            )));
        }
    }
    // A published outcome shown to a tier this playbook drops would never
    // be shown again: the quiz changes first.
    let kept: std::collections::BTreeSet<&str> = all
        .iter()
        .filter(|s| tiers.iter().any(|t| t.segment_id == s.id))
        .map(|s| s.slug.as_str())
        .collect();
    let now_tiers = ctx
        .store
        .tier_slugs(ctx.clock.now())
        .await
        .map_err(ssr::fail)?;
    for (_, def) in ssr::nameable(&ctx).await?.quizzes {
        for o in &def.outcomes {
            if let quizfunnel::quiz::OutcomeRule::Tier { segment } = &o.rule
                && now_tiers.contains(segment)
                && !kept.contains(segment.as_str())
            {
                return Err(ssr::fail(AppError::invalid(
                    "playbook",
                    format!(
                        "\"{}\" shows the outcome \"{}\" to the tier \"{segment}\", which this playbook drops: change that outcome first",
                        def.title, o.title
                    ),
                )));
            }
        }
    }
    let tiers: Vec<Tier> = tiers
        .into_iter()
        .map(|t| Tier {
            next_step: t.next_step.trim().to_string(),
            // No outcome named: the quiz's own choice.
            outcome_key: t
                .outcome_key
                .map(|k| k.trim().to_string())
                .filter(|k| !k.is_empty()),
            ..t
        })
        .collect();
    ctx.store.set_playbook(&tiers).await.map_err(ssr::fail)
}
