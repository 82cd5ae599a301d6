//! Server functions of the quiz list and builder: owners and marketers only.

use crate::error::AppError;
use leptos::prelude::*;
use quizfunnel::store::{QuizDraft, QuizSummary, QuizVersionSummary};
use serde::{Deserialize, Serialize};

/// What a save answers: the revision the next save starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    pub revision: i64,
    pub unpublished_changes: bool,
}

/// What a publish answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    pub version: i64,
    pub slug: String,
    /// Segments whose rules name questions, options or categories this
    /// version does not have.
    pub stale_segments: Vec<StaleSegment>,
}

/// A segment whose rule asks of a quiz what its served version lacks:
/// only answers to earlier versions can match those tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleSegment {
    pub id: i64,
    pub name: String,
    /// As the rule writes them, e.g. `growth.budget = high`.
    pub missing: Vec<String>,
}

#[cfg(feature = "ssr")]
mod ssr {
    pub use crate::auth::ssr::audit;
    use crate::error::{AppError, respond};
    use crate::state::AppContext;
    use quizfunnel::account::User;
    use quizfunnel::quiz::Slug;

    pub fn marketer() -> Result<(AppContext, User), AppError> {
        let user = crate::auth::ssr::require(|r| r.can_edit_funnels(), "work on quizzes")?;
        Ok((AppContext::get(), user))
    }

    /// Every error leaves with its status (404, 409, 422…).
    pub fn fail(e: impl Into<AppError>) -> AppError {
        respond(e.into())
    }

    /// `base`, or `base-2`, `base-3`… whichever no quiz uses yet.
    pub async fn free_slug(ctx: &AppContext, base: &Slug) -> Result<Slug, AppError> {
        for n in 1..=100 {
            let candidate = if n == 1 {
                base.clone()
            } else {
                base.numbered(n)
            };
            if ctx
                .store
                .quiz_id_by_slug(candidate.as_str())
                .await
                .map_err(fail)?
                .is_none()
            {
                return Ok(candidate);
            }
        }
        Err(fail(AppError::Conflict(
            "too many quizzes share this name; choose another title".into(),
        )))
    }
}

#[server(endpoint = "quizzes")]
pub async fn quizzes() -> Result<Vec<QuizSummary>, AppError> {
    let (ctx, _) = ssr::marketer()?;
    ctx.store.quiz_summaries().await.map_err(ssr::fail)
}

/// A new, empty draft named `title`; its slug follows the title.
#[server(endpoint = "quizzes/create")]
pub async fn create_quiz(title: String) -> Result<i64, AppError> {
    use quizfunnel::quiz::{QuizDefinition, Slug, draft::MAX_TITLE_LEN};
    let (ctx, me) = ssr::marketer()?;
    let title = title.trim().to_string();
    if title.is_empty() || title.chars().count() > MAX_TITLE_LEN {
        return Err(ssr::fail(AppError::invalid(
            "new-quiz-title",
            format!("give the quiz a title of 1 to {MAX_TITLE_LEN} characters"),
        )));
    }
    let slug = ssr::free_slug(&ctx, &Slug::from_title(&title)).await?;
    let draft = QuizDefinition {
        title: title.clone(),
        intro: String::new(),
        theme: Default::default(),
        questions: vec![],
        outcomes: vec![],
        lead_gate: Default::default(),
        categories: vec![],
    };
    let id = ctx
        .store
        .create_quiz(slug.as_str(), &draft, ctx.clock.now())
        .await
        .map_err(ssr::fail)?;
    ssr::audit(&ctx, &me.email, "quiz.created", slug.as_str(), &title).await;
    Ok(id)
}

#[server(endpoint = "quizzes/get")]
pub async fn quiz(id: i64) -> Result<QuizDraft, AppError> {
    let (ctx, _) = ssr::marketer()?;
    ctx.store.quiz(id).await.map_err(ssr::fail)
}

/// Saves the draft (sent as JSON) if nobody saved since `revision`.
#[server(endpoint = "quizzes/save")]
pub async fn save_quiz(
    id: i64,
    revision: i64,
    slug: String,
    definition: String,
) -> Result<Saved, AppError> {
    use quizfunnel::quiz::{QuizDefinition, Slug, check_draft};
    let (ctx, _) = ssr::marketer()?;
    let slug = Slug::parse(&slug).map_err(|m| ssr::fail(AppError::invalid("quiz-slug", m)))?;
    let draft: QuizDefinition = serde_json::from_str(&definition).map_err(|e| {
        ssr::fail(AppError::invalid(
            "quiz",
            format!("the quiz could not be read: {e}"),
        ))
    })?;
    check_draft(&draft).map_err(|e| ssr::fail(AppError::invalid(&e.field, e.message)))?;
    if let Some(other) = ctx
        .store
        .quiz_id_by_slug(slug.as_str())
        .await
        .map_err(ssr::fail)?
        && other != id
    {
        return Err(ssr::fail(AppError::invalid(
            "quiz-slug",
            "another quiz uses that slug",
        )));
    }
    // Segment rules name quizzes by slug: renamed under them, they would
    // quietly match nobody.
    let current = ctx.store.quiz(id).await.map_err(ssr::fail)?;
    if current.slug != slug.as_str() {
        let naming: Vec<String> = ctx
            .store
            .segments()
            .await
            .map_err(ssr::fail)?
            .into_iter()
            .filter(|s| s.rule.referenced_quizzes().contains(current.slug.as_str()))
            .map(|s| s.name)
            .collect();
        if !naming.is_empty() {
            return Err(ssr::fail(AppError::invalid(
                "quiz-slug",
                format!(
                    "the segment{} {} name{} this quiz as {}; change {} first",
                    if naming.len() == 1 { "" } else { "s" },
                    naming.join(", "),
                    if naming.len() == 1 { "s" } else { "" },
                    current.slug,
                    if naming.len() == 1 { "it" } else { "them" },
                ),
            )));
        }
    }
    let revision = ctx
        .store
        .save_draft(id, slug.as_str(), &draft, revision, ctx.clock.now())
        .await
        .map_err(ssr::fail)?;
    let quiz = ctx.store.quiz(id).await.map_err(ssr::fail)?;
    Ok(Saved {
        revision,
        unpublished_changes: quiz.unpublished_changes || quiz.published_version.is_none(),
    })
}

/// Publishes the draft at `revision` if it passes every publish check; else
/// 422 naming each problem (the builder lists them with links).
#[server(endpoint = "quizzes/publish")]
pub async fn publish_quiz(id: i64, revision: i64) -> Result<Published, AppError> {
    use quizfunnel::quiz::validate_for_publish;
    let (ctx, me) = ssr::marketer()?;
    let quiz = ctx.store.quiz(id).await.map_err(ssr::fail)?;
    if quiz.draft_revision != revision {
        return Err(ssr::fail(AppError::Conflict(
            "this quiz was changed since you opened it; reload to see the latest version".into(),
        )));
    }
    let mut list: Vec<String> = validate_for_publish(&quiz.draft)
        .into_iter()
        .map(|p| p.message)
        .collect();
    // An outcome for a tier the playbook does not have is never shown.
    let tiers = ctx
        .store
        .tier_slugs(ctx.clock.now())
        .await
        .map_err(ssr::fail)?;
    for o in &quiz.draft.outcomes {
        if let quizfunnel::quiz::OutcomeRule::Tier { segment } = &o.rule
            && !tiers.contains(segment)
        {
            let known = if tiers.is_empty() {
                "it has none".to_string()
            } else {
                format!("its tiers: {}", tiers.join(", "))
            };
            list.push(format!(
                "outcome \"{}\" is for the tier \"{segment}\", which is not in the tier playbook ({known})",
                o.title
            ));
        }
    }
    if !list.is_empty() {
        return Err(ssr::fail(AppError::invalid(
            "publish",
            format!(
                "fix {} problem{} before publishing: {}",
                list.len(),
                if list.len() == 1 { "" } else { "s" },
                list.join("; ")
            ),
        )));
    }
    let published = ctx
        .store
        .publish_draft(id, revision, ctx.clock.now())
        .await
        .map_err(ssr::fail)?;
    let version = ctx
        .store
        .quiz(id)
        .await
        .map_err(ssr::fail)?
        .published_version
        .unwrap_or(1);
    ssr::audit(
        &ctx,
        &me.email,
        "quiz.published",
        &published.slug,
        &format!("version {version}"),
    )
    .await;
    let served = published.definition.rule_catalog();
    // The version is live whatever this finds: a failure to look is not
    // a failed publish.
    let segments = ctx.store.segments().await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "segments not read after a publish");
        Vec::new()
    });
    let stale_segments = segments
        .into_iter()
        .filter_map(|s| {
            let missing = served.missing_from(&s.rule, &published.slug);
            (!missing.is_empty()).then(|| StaleSegment {
                id: s.id,
                name: s.name,
                missing: missing.into_iter().collect(),
            })
        })
        .collect();
    Ok(Published {
        version,
        slug: published.slug,
        stale_segments,
    })
}

/// A new draft with this quiz's questions, titled "… (copy)".
#[server(endpoint = "quizzes/duplicate")]
pub async fn duplicate_quiz(id: i64) -> Result<i64, AppError> {
    use quizfunnel::quiz::{Slug, draft::MAX_TITLE_LEN};
    let (ctx, me) = ssr::marketer()?;
    let quiz = ctx.store.quiz(id).await.map_err(ssr::fail)?;
    let base = Slug::parse(&format!("{}-copy", quiz.slug))
        .unwrap_or_else(|_| Slug::from_title(&format!("{} copy", quiz.slug)));
    let slug = ssr::free_slug(&ctx, &base).await?;
    let title: String = format!("{} (copy)", quiz.draft.title)
        .chars()
        .take(MAX_TITLE_LEN)
        .collect();
    let copy = ctx
        .store
        .duplicate_quiz(id, slug.as_str(), &title, ctx.clock.now())
        .await
        .map_err(ssr::fail)?;
    ssr::audit(
        &ctx,
        &me.email,
        "quiz.duplicated",
        slug.as_str(),
        &format!("from {}", quiz.slug),
    )
    .await;
    Ok(copy)
}

/// Drops the draft's changes since the last publish, if nobody saved since
/// `revision`: the draft is the served version again.
#[server(endpoint = "quizzes/discard")]
pub async fn discard_draft(id: i64, revision: i64) -> Result<(), AppError> {
    let (ctx, me) = ssr::marketer()?;
    let quiz = ctx.store.quiz(id).await.map_err(ssr::fail)?;
    let now_at = ctx
        .store
        .discard_draft(id, revision, ctx.clock.now())
        .await
        .map_err(ssr::fail)?;
    if now_at == revision {
        return Ok(());
    }
    let version = quiz.published_version.unwrap_or_default();
    ssr::audit(
        &ctx,
        &me.email,
        "quiz.draft_discarded",
        &quiz.slug,
        &format!("back to version {version}"),
    )
    .await;
    Ok(())
}

/// The quiz's published versions, newest first.
#[server(endpoint = "quizzes/versions")]
pub async fn quiz_versions(id: i64) -> Result<Vec<QuizVersionSummary>, AppError> {
    let (ctx, _) = ssr::marketer()?;
    ctx.store.quiz_versions(id).await.map_err(ssr::fail)
}

/// Makes the draft a copy of published version `version`, if nobody saved
/// since `revision`; respondents keep the served version until the next
/// publish.
#[server(endpoint = "quizzes/load-version")]
pub async fn load_version(id: i64, version: i64, revision: i64) -> Result<(), AppError> {
    let (ctx, me) = ssr::marketer()?;
    let quiz = ctx.store.quiz(id).await.map_err(ssr::fail)?;
    let now_at = ctx
        .store
        .load_version(id, version, revision, ctx.clock.now())
        .await
        .map_err(|e| match e {
            quizfunnel::store::StoreError::NotFound => ssr::fail(AppError::invalid(
                "version",
                format!("this quiz has no version {version}"),
            )),
            other => ssr::fail(other),
        })?;
    if now_at != revision {
        ssr::audit(
            &ctx,
            &me.email,
            "quiz.version_loaded",
            &quiz.slug,
            &format!("version {version} into the draft"),
        )
        .await;
    }
    Ok(())
}

/// Stops serving the quiz; answers and versions stay.
#[server(endpoint = "quizzes/archive")]
pub async fn archive_quiz(id: i64) -> Result<(), AppError> {
    let (ctx, me) = ssr::marketer()?;
    let quiz = ctx.store.quiz(id).await.map_err(ssr::fail)?;
    ctx.store
        .archive_quiz(id, ctx.clock.now())
        .await
        .map_err(ssr::fail)?;
    ssr::audit(&ctx, &me.email, "quiz.archived", &quiz.slug, "").await;
    Ok(())
}

/// Brings an archived quiz back: published again if it was, else a draft.
#[server(endpoint = "quizzes/restore")]
pub async fn restore_quiz(id: i64) -> Result<(), AppError> {
    let (ctx, me) = ssr::marketer()?;
    let quiz = ctx.store.quiz(id).await.map_err(ssr::fail)?;
    ctx.store
        .restore_quiz(id, ctx.clock.now())
        .await
        .map_err(ssr::fail)?;
    ssr::audit(&ctx, &me.email, "quiz.restored", &quiz.slug, "").await;
    Ok(())
}
