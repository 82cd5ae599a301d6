//! The quiz store: drafts, revisions, published versions, archive, copies
//! and the list's response counts.

use crate::helpers::{Backend, TestApp, call, spawn_app};
use quizfunnel::account::Role;
use quizfunnel::quiz::demo::growth_quiz;
use quizfunnel::store::{ContactStore, QuizStatus, QuizStore, SegmentStore, StoreError};
use std::collections::BTreeMap;

/// The demo quiz as a new draft, its first revision.
async fn growth_draft(app: &TestApp) -> i64 {
    app.store
        .create_quiz("growth", &growth_quiz(), 100)
        .await
        .unwrap()
}

/// A session of `quiz_id` on `version_id` for a new contact, finished or not.
/// Sessions are written by the respondent side; the list only counts them.
async fn session(app: &TestApp, quiz_id: i64, version_id: i64, completed: bool) {
    let visitor = format!("visitor-{}", uuid_like());
    let contact = app
        .store
        .contact_for_visitor(&visitor, &BTreeMap::new(), 1)
        .await
        .unwrap();
    let sql = "INSERT INTO quiz_sessions (contact_id, quiz_id, version_id, started_at, completed_at) \
               VALUES ($1, $2, $3, 10, $4)";
    let completed_at = completed.then_some(20_i64);
    if app.database_url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
        sqlx::query(sql)
            .bind(contact)
            .bind(quiz_id)
            .bind(version_id)
            .bind(completed_at)
            .execute(&pool)
            .await
            .unwrap();
    } else {
        let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
        sqlx::query(sql)
            .bind(contact)
            .bind(quiz_id)
            .bind(version_id)
            .bind(completed_at)
            .execute(&pool)
            .await
            .unwrap();
    }
}

fn uuid_like() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

async fn a_new_quiz_is_a_draft_at_revision_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = growth_draft(&app).await;
    let quiz = app.store.quiz(id).await.unwrap();
    assert_eq!(quiz.slug, "growth");
    assert_eq!(quiz.status, QuizStatus::Draft);
    assert_eq!(quiz.draft, growth_quiz());
    assert_eq!(quiz.draft_revision, 1);
    assert_eq!(quiz.published_version, None);
    assert!(!quiz.unpublished_changes);
    assert!(matches!(
        app.store.quiz(id + 1000).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        app.store.create_quiz("growth", &growth_quiz(), 100).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn a_save_from_a_stale_revision_is_told_the_quiz_changed(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = growth_draft(&app).await;

    // Two marketers open revision 1; the first saves.
    let mut first = growth_quiz();
    first.title = "Growth check".into();
    let revision = app
        .store
        .save_draft(id, "growth", &first, 1, 200)
        .await
        .unwrap();
    assert_eq!(revision, 2);

    // The second saves different work from revision 1: refused, nothing lost.
    let mut second = growth_quiz();
    second.intro = "Another intro".into();
    let refused = app.store.save_draft(id, "growth", &second, 1, 300).await;
    assert!(
        matches!(&refused, Err(StoreError::Conflict(m)) if m.contains("changed since you opened it")),
        "{refused:?}"
    );
    let quiz = app.store.quiz(id).await.unwrap();
    assert_eq!((quiz.draft, quiz.draft_revision), (first.clone(), 2));

    // Saving exactly what is stored (a retried request) loses nothing.
    assert_eq!(
        app.store
            .save_draft(id, "growth", &first, 1, 400)
            .await
            .unwrap(),
        2
    );

    // From the latest revision the second marketer's save goes through.
    assert_eq!(
        app.store
            .save_draft(id, "growth-check", &second, 2, 500)
            .await
            .unwrap(),
        3
    );
    let quiz = app.store.quiz(id).await.unwrap();
    assert_eq!(quiz.slug, "growth-check");
    assert_eq!(quiz.updated_at, 500);
}

async fn a_save_cannot_take_another_quizs_slug(backend: Backend) {
    let app = spawn_app(backend).await;
    app.store
        .create_quiz("taken", &growth_quiz(), 100)
        .await
        .unwrap();
    let id = app
        .store
        .create_quiz("mine", &growth_quiz(), 100)
        .await
        .unwrap();
    let refused = app
        .store
        .save_draft(id, "taken", &growth_quiz(), 1, 200)
        .await;
    assert!(
        matches!(&refused, Err(StoreError::Conflict(m)) if m.contains("slug")),
        "{refused:?}"
    );
    assert_eq!(app.store.quiz(id).await.unwrap().draft_revision, 1);
}

async fn publishing_freezes_an_immutable_version_and_edits_make_a_new_draft(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = growth_draft(&app).await;
    let v1 = app.store.publish_draft(id, 1, 200).await.unwrap();
    assert_eq!((v1.quiz_id, v1.slug.as_str()), (id, "growth"));
    let quiz = app.store.quiz(id).await.unwrap();
    assert_eq!(quiz.status, QuizStatus::Published);
    assert_eq!(quiz.published_version, Some(1));
    assert!(!quiz.unpublished_changes);

    // Editing changes the draft only: respondents still get version 1.
    let mut edited = growth_quiz();
    edited.title = "Growth check, second edition".into();
    let revision = app
        .store
        .save_draft(id, "growth", &edited, 1, 300)
        .await
        .unwrap();
    let quiz = app.store.quiz(id).await.unwrap();
    assert!(quiz.unpublished_changes);
    assert_eq!(quiz.status, QuizStatus::Published);
    let served = app.store.published_quiz("growth").await.unwrap().unwrap();
    assert_eq!(served.version_id, v1.version_id);
    assert_eq!(served.definition, growth_quiz());

    // A publish validated at an older revision is refused.
    assert!(matches!(
        app.store.publish_draft(id, revision - 1, 400).await,
        Err(StoreError::Conflict(_))
    ));

    let v2 = app.store.publish_draft(id, revision, 400).await.unwrap();
    assert_ne!(v2.version_id, v1.version_id);
    assert_eq!(v2.definition, edited);
    assert_eq!(app.store.quiz(id).await.unwrap().published_version, Some(2));
    // Version 1 is still there, unchanged, for the answers given on it.
    assert_eq!(app.store.quiz_version(v1.version_id).await.unwrap(), v1);

    // Publishing again without changes makes no copy.
    let again = app.store.publish_draft(id, revision, 500).await.unwrap();
    assert_eq!(again.version_id, v2.version_id);
}

/// "Discard changes" in the builder: the draft goes back to the served
/// version; a stale page, a quiz never published and a missing quiz are
/// refused with why, and change nothing.
async fn discarding_a_draft_brings_back_the_served_version(backend: Backend) {
    let app = spawn_app(backend).await;
    let (marketer, _) = app.signed_in(Role::Marketer).await;
    let discard = |id: i64, revision: i64| {
        marketer
            .post(app.url("/api/quizzes/discard"))
            .form(&[("id", id.to_string()), ("revision", revision.to_string())])
            .send()
    };
    let id = growth_draft(&app).await;

    // Never published: there is nothing to go back to.
    let res = discard(id, 1).await.unwrap();
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("no published version"));

    app.store.publish_draft(id, 1, 200).await.unwrap();
    let mut edited = growth_quiz();
    edited.title = "Growth check, half rewritten".into();
    edited.questions.pop();
    let revision = app
        .store
        .save_draft(id, "growth", &edited, 1, 300)
        .await
        .unwrap();

    // A page opened before that save would drop changes it never saw.
    let res = discard(id, revision - 1).await.unwrap();
    assert_eq!(res.status(), 409);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("changed since you opened it")
    );
    assert_eq!(app.store.quiz(id).await.unwrap().draft, edited);

    assert_eq!(discard(id, revision).await.unwrap().status(), 200);
    let quiz = app.store.quiz(id).await.unwrap();
    assert_eq!(quiz.draft, growth_quiz());
    assert!(!quiz.unpublished_changes);
    assert_eq!(quiz.published_version, Some(1));
    assert_eq!(quiz.draft_revision, revision + 1);
    let listed = app.store.quiz_summaries().await.unwrap();
    assert_eq!(listed[0].title, growth_quiz().title);

    // Again, with nothing left to discard: the revision stays, and the
    // audit log has the one discard that dropped something.
    assert_eq!(discard(id, revision + 1).await.unwrap().status(), 200);
    assert_eq!(
        app.store.quiz(id).await.unwrap().draft_revision,
        revision + 1
    );
    let audited = "SELECT count(*) FROM audit_log WHERE action = 'quiz.draft_discarded' \
                   AND detail = 'back to version 1'";
    assert_eq!(crate::helpers::count(&app, audited).await, 1);

    assert_eq!(discard(id + 100, 1).await.unwrap().status(), 404);
}

/// The builder's version history: every published version with its
/// respondents, and any of them put back as the draft, guarded like a
/// discard; respondents keep the served version until the next publish.
async fn marketers_load_an_earlier_version_into_the_draft(backend: Backend) {
    let app = spawn_app(backend).await;
    let (marketer, _) = app.signed_in(Role::Marketer).await;
    let id = growth_draft(&app).await;
    let (status, body) = call(
        &app,
        &marketer,
        "/api/quizzes/versions",
        &[("id", &id.to_string())],
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "[]"));

    let v1 = app.store.publish_draft(id, 1, 200).await.unwrap();
    let mut edited = growth_quiz();
    edited.title = "Growth check, shorter".into();
    edited.questions.pop();
    let revision = app
        .store
        .save_draft(id, "growth", &edited, 1, 300)
        .await
        .unwrap();
    let v2 = app.store.publish_draft(id, revision, 400).await.unwrap();
    session(&app, id, v1.version_id, true).await;
    session(&app, id, v1.version_id, false).await;
    session(&app, id, v2.version_id, false).await;

    let versions = || {
        let (app, marketer) = (&app, &marketer);
        async move {
            let (status, body) = call(
                app,
                marketer,
                "/api/quizzes/versions",
                &[("id", &id.to_string())],
            )
            .await;
            assert_eq!(status, 200, "{body}");
            serde_json::from_str::<Vec<quizfunnel::store::QuizVersionSummary>>(&body).unwrap()
        }
    };
    let listed = versions().await;
    let rows: Vec<_> = listed
        .iter()
        .map(|v| {
            (
                v.version,
                v.title.as_str(),
                v.questions,
                v.responses,
                v.completions,
                v.live,
                v.same_as_draft,
            )
        })
        .collect();
    let questions = growth_quiz().questions.len();
    assert_eq!(
        rows,
        [
            (2, "Growth check, shorter", questions - 1, 1, 0, true, true),
            (
                1,
                growth_quiz().title.as_str(),
                questions,
                2,
                1,
                false,
                false
            ),
        ]
    );
    assert_eq!(listed[1].published_at, 200);

    let load = |version: &str, revision: i64| {
        let (marketer, app) = (marketer.clone(), &app);
        let revision = revision.to_string();
        let version = version.to_string();
        async move {
            call(
                app,
                &marketer,
                "/api/quizzes/load-version",
                &[
                    ("id", &id.to_string()),
                    ("version", &version),
                    ("revision", &revision),
                ],
            )
            .await
        }
    };
    // A page opened before the last save would drop what it never saw.
    let (status, body) = load("1", revision - 1).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("before loading another"), "{body}");
    for missing in ["9", "0", "-1"] {
        let (status, body) = load(missing, revision).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.contains(&format!("no version {missing}")), "{body}");
    }
    assert_eq!(app.store.quiz(id).await.unwrap().draft, edited);

    assert_eq!(load("1", revision).await.0, 200);
    let quiz = app.store.quiz(id).await.unwrap();
    assert_eq!(quiz.draft, growth_quiz());
    assert_eq!(quiz.draft_revision, revision + 1);
    assert!(quiz.unpublished_changes);
    let served = app.store.published_quiz("growth").await.unwrap().unwrap();
    assert_eq!(served.version_id, v2.version_id);
    let listed = versions().await;
    assert_eq!(
        listed
            .iter()
            .map(|v| (v.live, v.same_as_draft))
            .collect::<Vec<_>>(),
        [(true, false), (false, true)]
    );
    assert_eq!(
        app.store.quiz_summaries().await.unwrap()[0].title,
        growth_quiz().title
    );

    // Loading what the draft already is changes nothing, and the audit log
    // has the one load that did.
    assert_eq!(load("1", revision + 1).await.0, 200);
    assert_eq!(
        app.store.quiz(id).await.unwrap().draft_revision,
        revision + 1
    );
    let audited = "SELECT count(*) FROM audit_log WHERE action = 'quiz.version_loaded' \
                   AND detail = 'version 1 into the draft'";
    assert_eq!(crate::helpers::count(&app, audited).await, 1);

    // Publishing it makes a new version rather than serving the old one.
    let v3 = app
        .store
        .publish_draft(id, revision + 1, 500)
        .await
        .unwrap();
    assert_ne!(v3.version_id, v1.version_id);
    assert_eq!(app.store.quiz(id).await.unwrap().published_version, Some(3));

    assert_eq!(load("1", 1).await.0, 409);
    let (status, _) = call(
        &app,
        &marketer,
        "/api/quizzes/versions",
        &[("id", &(id + 100).to_string())],
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &app,
        &marketer,
        "/api/quizzes/load-version",
        &[
            ("id", &(id + 100).to_string()),
            ("version", "1"),
            ("revision", "1"),
        ],
    )
    .await;
    assert_eq!(status, 404);
    let (status, body) = load("one", 1).await;
    assert_eq!(status, 400, "{body}");
    let (sales, _) = app.signed_in(Role::Sales).await;
    let (status, _) = call(
        &app,
        &sales,
        "/api/quizzes/versions",
        &[("id", &id.to_string())],
    )
    .await;
    assert_eq!(status, 403);
}

/// A version that drops an option a segment's rule names is published, and
/// the marketer is told which segments now only match earlier answers.
async fn publishing_names_segments_that_ask_for_what_the_version_dropped(backend: Backend) {
    let app = spawn_app(backend).await;
    let (marketer, _) = app.signed_in(Role::Marketer).await;
    let id = growth_draft(&app).await;
    app.store.publish_draft(id, 1, 200).await.unwrap();
    let segment = |slug: &'static str, name: &'static str, rule: &'static str| {
        let rule = quizfunnel::rule::Rule::parse(rule).unwrap();
        let store = app.store.clone();
        async move {
            store
                .create_segment(slug, name, "", &rule, 300)
                .await
                .unwrap()
        }
    };
    let big = segment(
        "big-budgets",
        "Big budgets",
        "answered(growth.budget = high)",
    )
    .await;
    segment(
        "mid-budgets",
        "Mid budgets",
        "answered(growth.budget = mid)",
    )
    .await;
    let publish = |revision: i64| {
        marketer
            .post(app.url("/api/quizzes/publish"))
            .form(&[("id", id.to_string()), ("revision", revision.to_string())])
            .send()
    };
    let res = publish(1).await.unwrap();
    assert_eq!(res.status(), 200);
    let same: serde_json::Value = res.json().await.unwrap();
    assert_eq!(same["stale_segments"], serde_json::json!([]), "{same}");

    let mut edited = growth_quiz();
    edited.questions[1].options.retain(|o| o.key != "high");
    let res = save_quiz(
        &app,
        &marketer,
        id,
        1,
        "growth",
        serde_json::to_string(&edited).unwrap(),
    )
    .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let res = publish(2).await.unwrap();
    assert_eq!(res.status(), 200);
    let published: serde_json::Value = res.json().await.unwrap();
    assert_eq!(published["version"], 2);
    assert_eq!(
        published["stale_segments"],
        serde_json::json!([{
            "id": big,
            "name": "Big budgets",
            "missing": ["growth.budget = high"],
        }])
    );
}

async fn an_archived_quiz_is_served_to_nobody_until_restored(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = growth_draft(&app).await;
    app.store.publish_draft(id, 1, 200).await.unwrap();
    app.store.archive_quiz(id, 300).await.unwrap();
    app.store.archive_quiz(id, 301).await.unwrap();
    assert_eq!(
        app.store.quiz(id).await.unwrap().status,
        QuizStatus::Archived
    );
    assert_eq!(app.store.published_quiz("growth").await.unwrap(), None);

    app.store.restore_quiz(id, 400).await.unwrap();
    assert_eq!(
        app.store.quiz(id).await.unwrap().status,
        QuizStatus::Published
    );
    assert!(app.store.published_quiz("growth").await.unwrap().is_some());

    let never_published = app
        .store
        .create_quiz("draft", &growth_quiz(), 100)
        .await
        .unwrap();
    app.store.archive_quiz(never_published, 300).await.unwrap();
    app.store.restore_quiz(never_published, 400).await.unwrap();
    assert_eq!(
        app.store.quiz(never_published).await.unwrap().status,
        QuizStatus::Draft
    );
    assert!(matches!(
        app.store.archive_quiz(9999, 1).await,
        Err(StoreError::NotFound)
    ));
}

/// The public page serves the published quiz from memory: an archive made
/// through this instance takes it down at once, one made through another
/// instance within a second or so.
async fn the_page_follows_archives_here_at_once_and_elsewhere_soon(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = growth_draft(&app).await;
    app.store.publish_draft(id, 1, 200).await.unwrap();
    let status = || async { app.get("/q/growth").await.status().as_u16() };
    assert_eq!(status().await, 200);
    let (marketer, _) = app.signed_in(Role::Marketer).await;
    let (code, body) = call(
        &app,
        &marketer,
        "/api/quizzes/archive",
        &[("id", &id.to_string())],
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(status().await, 404);

    // `app.store` is a second instance on the same database.
    app.store.restore_quiz(id, 400).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while status().await != 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "the restore never reached the page"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn a_duplicate_is_a_new_draft_with_the_same_questions(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = growth_draft(&app).await;
    app.store.publish_draft(id, 1, 200).await.unwrap();
    let copy = app
        .store
        .duplicate_quiz(id, "growth-copy", "Growth (copy)", 300)
        .await
        .unwrap();
    let quiz = app.store.quiz(copy).await.unwrap();
    assert_eq!(quiz.status, QuizStatus::Draft);
    assert_eq!(quiz.slug, "growth-copy");
    assert_eq!(quiz.draft.title, "Growth (copy)");
    assert_eq!(quiz.draft.questions, growth_quiz().questions);
    assert_eq!(quiz.published_version, None);
    assert!(matches!(
        app.store
            .duplicate_quiz(id, "growth-copy", "Again", 400)
            .await,
        Err(StoreError::Conflict(_))
    ));
}

async fn the_list_counts_responses_and_completions_per_quiz(backend: Backend) {
    let app = spawn_app(backend).await;
    let growth = growth_draft(&app).await;
    let quiet = app
        .store
        .create_quiz("quiet", &growth_quiz(), 200)
        .await
        .unwrap();
    let v1 = app.store.publish_draft(growth, 1, 300).await.unwrap();
    for completed in [true, true, false, true] {
        session(&app, growth, v1.version_id, completed).await;
    }
    let list = app.store.quiz_summaries().await.unwrap();
    let ids: Vec<i64> = list.iter().map(|q| q.id).collect();
    assert_eq!(ids, [quiet, growth], "newest first");
    let g = &list[1];
    assert_eq!(
        (g.status, g.responses, g.completions),
        (QuizStatus::Published, 4, 3)
    );
    assert_eq!(g.completion_rate(), Some(0.75));
    assert!(!g.unpublished_changes);
    let q = &list[0];
    assert_eq!(
        (q.status, q.responses, q.completions),
        (QuizStatus::Draft, 0, 0)
    );
    assert_eq!(q.completion_rate(), None);
}

crate::on_both_backends!(
    a_new_quiz_is_a_draft_at_revision_one,
    a_save_from_a_stale_revision_is_told_the_quiz_changed,
    a_save_cannot_take_another_quizs_slug,
    publishing_freezes_an_immutable_version_and_edits_make_a_new_draft,
    discarding_a_draft_brings_back_the_served_version,
    marketers_load_an_earlier_version_into_the_draft,
    publishing_names_segments_that_ask_for_what_the_version_dropped,
    an_archived_quiz_is_served_to_nobody_until_restored,
    the_page_follows_archives_here_at_once_and_elsewhere_soon,
    a_duplicate_is_a_new_draft_with_the_same_questions,
    the_list_counts_responses_and_completions_per_quiz,
);

/// The builder's save, as `who` posts it to its server function.
async fn save_quiz(
    app: &crate::helpers::TestApp,
    who: &reqwest::Client,
    id: i64,
    revision: i64,
    slug: &str,
    definition: String,
) -> reqwest::Response {
    let form = [
        ("id", id.to_string()),
        ("revision", revision.to_string()),
        ("slug", slug.to_string()),
        ("definition", definition),
    ];
    who.post(app.url("/api/quizzes/save"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// Bad input through the server functions: a message for the field, a 4xx,
/// and nothing written.
async fn the_builder_refuses_bad_input_with_the_field_and_writes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let (marketer, _) = app.signed_in(quizfunnel::account::Role::Marketer).await;
    let id = growth_draft(&app).await;
    app.store
        .create_quiz("taken", &growth_quiz(), 100)
        .await
        .unwrap();
    let save = |slug: &'static str, def: &quizfunnel::quiz::QuizDefinition, revision: i64| {
        let definition = serde_json::to_string(def).unwrap();
        save_quiz(&app, &marketer, id, revision, slug, definition)
    };
    let mut bad_key = growth_quiz();
    bad_key.questions[1].key = "Budget Size".into();
    for (slug, def, field) in [
        ("Not A Slug", growth_quiz(), "quiz-slug"),
        ("taken", growth_quiz(), "quiz-slug"),
        ("growth", bad_key, "q1-key"),
    ] {
        let res = save(slug, &def, 1).await;
        assert_eq!(res.status(), 422, "{slug}");
        let body = res.text().await.unwrap();
        assert!(body.contains(field), "{body}");
    }
    // A segment names the quiz by its slug: renaming it is refused.
    let rule = quizfunnel::rule::Rule::parse("completed(growth)").unwrap();
    app.store
        .create_segment("finishers", "Finishers", "", &rule, 100)
        .await
        .unwrap();
    let res = save("renamed", &growth_quiz(), 1).await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("quiz-slug") && body.contains("Finishers"),
        "{body}"
    );
    let res = save_quiz(&app, &marketer, id, 1, "growth", "{not json".into()).await;
    assert_eq!(res.status(), 422);
    assert_eq!(app.store.quiz(id).await.unwrap().draft_revision, 1);

    // Someone else saved: the stale save hears about it.
    let mut theirs = growth_quiz();
    theirs.title = "Theirs".into();
    app.store
        .save_draft(id, "growth", &theirs, 1, 200)
        .await
        .unwrap();
    let res = save("growth", &growth_quiz(), 1).await;
    assert_eq!(res.status(), 409);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("changed since you opened it")
    );

    // Publishing a draft with problems names them and publishes nothing.
    let mut broken = theirs.clone();
    broken.outcomes.clear();
    app.store
        .save_draft(id, "growth", &broken, 2, 300)
        .await
        .unwrap();
    let res = marketer
        .post(app.url("/api/quizzes/publish"))
        .form(&[("id", id.to_string()), ("revision", "3".into())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("add at least one outcome")
    );
    assert_eq!(app.store.published_quiz("growth").await.unwrap(), None);

    // An outcome for a tier the playbook lacks would never be shown.
    let mut mistyped = theirs.clone();
    mistyped.outcomes[0].rule = quizfunnel::quiz::OutcomeRule::Tier {
        segment: "fast-trak".into(),
    };
    app.store
        .save_draft(id, "growth", &mistyped, 3, 400)
        .await
        .unwrap();
    let res = marketer
        .post(app.url("/api/quizzes/publish"))
        .form(&[("id", id.to_string()), ("revision", "4".into())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let says = res.text().await.unwrap();
    assert!(
        says.contains("fast-trak") && says.contains("which is not in the tier playbook"),
        "{says}"
    );
    assert_eq!(app.store.published_quiz("growth").await.unwrap(), None);
}

/// A quiz with long outcome pages is more than a public form may send;
/// the editor's save takes it. Past even that, the marketer is told to
/// shorten it, and nothing is written.
async fn a_quiz_with_long_outcome_pages_is_saved(backend: Backend) {
    let app = spawn_app(backend).await;
    let (marketer, _) = app.signed_in(quizfunnel::account::Role::Marketer).await;
    let id = growth_draft(&app).await;
    let mut long = growth_quiz();
    for outcome in &mut long.outcomes {
        // Accented letters: each takes six bytes form-encoded.
        outcome.body_markdown = "Étape à suivre. ".repeat(1_200);
    }
    let too_long = serde_json::to_string(&long).unwrap().repeat(60);
    let res = save_quiz(&app, &marketer, id, 1, "growth", too_long).await;
    assert!(res.status().is_client_error(), "{}", res.status());
    let body = res.text().await.unwrap();
    let shown: quizfunnel_app::error::AppError = serde_json::from_str(&body).unwrap();
    assert!(shown.to_string().contains("make it shorter"), "{body}");
    assert_eq!(app.store.quiz(id).await.unwrap().draft_revision, 1);

    let definition = serde_json::to_string(&long).unwrap();
    assert!(definition.len() > 64 * 1024);
    // Only a marketer's save may be that large: nobody else's is read.
    let (sales, _) = app.signed_in(quizfunnel::account::Role::Sales).await;
    for other in [&sales, &app.client] {
        let res = save_quiz(&app, other, id, 1, "growth", definition.clone()).await;
        let body = res.text().await.unwrap();
        let shown: quizfunnel_app::error::AppError = serde_json::from_str(&body).unwrap();
        assert!(shown.to_string().contains("make it shorter"), "{body}");
    }
    let res = save_quiz(&app, &marketer, id, 1, "growth", definition).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(app.store.quiz(id).await.unwrap().draft_revision, 2);
}

crate::on_both_backends!(
    the_builder_refuses_bad_input_with_the_field_and_writes_nothing,
    a_quiz_with_long_outcome_pages_is_saved,
);
