//! The contact store on both databases: ingestion, stitching, merging,
//! erasure, retention, the timeline and the admin list.

use crate::helpers::{Backend, TestApp, count, spawn_app, spawn_app_with};
use quizfunnel::contact::{
    AttrChange, AttrKind, Attribute, CONTACTS_PER_PAGE, Caller, ContactFilter, DAY_MS, Identify,
    ListCursor, NewEvent, Subject, VisitorId, parse_batch,
};
use quizfunnel::email::Email;
use quizfunnel::store::{ContactStore, QuizStore, ResponseStore, StoreError};
use quizfunnel_server::demo;
use quizfunnel_server::store::Db;
use serde_json::json;

const T0: i64 = 1_795_881_900_000;

pub fn visitor(v: &str) -> VisitorId {
    VisitorId::parse(v).unwrap()
}

fn email(e: &str) -> Email {
    Email::parse(e).unwrap()
}

pub fn event(subject: Subject, name: &str, at: i64, key: Option<&str>) -> NewEvent {
    NewEvent {
        subject,
        name: name.into(),
        properties: json!({"path": "/pricing"}).as_object().unwrap().clone(),
        occurred_at: at,
        idempotency_key: key.map(String::from),
    }
}

pub fn batch(events: Vec<NewEvent>) -> Vec<(usize, NewEvent)> {
    events.into_iter().enumerate().collect()
}

/// Runs test-only SQL with literal values on either backend.
pub async fn sql(app: &TestApp, text: &str) {
    match app.store.db() {
        Db::Sqlite(db) => {
            sqlx::raw_sql(text).execute(db.writer()).await.unwrap();
        }
        Db::Postgres(pool) => {
            sqlx::raw_sql(text).execute(pool).await.unwrap();
        }
    }
}

/// Every row of every table as text, to look for traces of a person.
pub async fn all_rows_as_text(app: &TestApp) -> String {
    let mut out = String::new();
    match app.store.db() {
        Db::Sqlite(db) => {
            let pool = db.writer();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .fetch_all(pool)
            .await
            .unwrap();
            for t in tables {
                let cols: Vec<String> =
                    sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{t}')"))
                        .fetch_all(pool)
                        .await
                        .unwrap();
                let expr = cols
                    .iter()
                    .map(|c| {
                        format!(
                            "COALESCE(CASE WHEN typeof(\"{c}\") = 'blob' THEN hex(\"{c}\") \
                             ELSE CAST(\"{c}\" AS TEXT) END, '')"
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" || '|' || ");
                let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT {expr} FROM \"{t}\""))
                    .fetch_all(pool)
                    .await
                    .unwrap();
                out.push_str(&format!("{t}: {}\n", rows.join("\n")));
            }
        }
        Db::Postgres(pool) => {
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .fetch_all(pool)
            .await
            .unwrap();
            for t in tables {
                let rows: Vec<String> =
                    sqlx::query_scalar(&format!("SELECT t::text FROM \"{t}\" AS t"))
                        .fetch_all(pool)
                        .await
                        .unwrap();
                out.push_str(&format!("{t}: {}\n", rows.join("\n")));
            }
        }
    }
    out
}

/// A published quiz, a completed session with answers and category scores,
/// and a segment the contact is in, written straight into the tables.
pub async fn give_quiz_history(app: &TestApp, contact_id: i64, segment: &str) {
    sql(
        app,
        &format!(
            "INSERT INTO quizzes (slug, title, status, draft, created_at, updated_at) \
             SELECT 'growth', 'Growth check', 'published', '{{}}', 1, 1 \
             WHERE NOT EXISTS (SELECT 1 FROM quizzes WHERE slug = 'growth'); \
             INSERT INTO quiz_versions (quiz_id, version, definition, published_at) \
             SELECT id, 1, '{{}}', 1 FROM quizzes WHERE slug = 'growth' \
             AND NOT EXISTS (SELECT 1 FROM quiz_versions); \
             INSERT INTO quiz_sessions (contact_id, quiz_id, version_id, started_at, completed_at, score) \
             SELECT {contact_id}, q.id, v.id, {T0}, {T0} + 60000, 7 FROM quizzes q JOIN quiz_versions v ON v.quiz_id = q.id; \
             INSERT INTO answers (session_id, question_key, option_key, answered_at) \
             SELECT id, 'budget', 'high', {T0} FROM quiz_sessions WHERE contact_id = {contact_id}; \
             INSERT INTO session_category_scores (session_id, category, score) \
             SELECT id, 'urgency', 3 FROM quiz_sessions WHERE contact_id = {contact_id}; \
             INSERT INTO segments (slug, name, rule, updated_at) \
             SELECT '{segment}', '{segment}', 'never(x)', 1 WHERE NOT EXISTS (SELECT 1 FROM segments WHERE slug = '{segment}'); \
             INSERT INTO segment_memberships (segment_id, contact_id, entered_at) \
             SELECT id, {contact_id}, {T0} FROM segments WHERE slug = '{segment}';"
        ),
    )
    .await;
}

async fn events_of(app: &TestApp, contact_id: i64) -> i64 {
    count(
        app,
        &format!("SELECT count(*) FROM events WHERE contact_id = {contact_id}"),
    )
    .await
}

async fn a_batch_lands_on_one_contact_per_visitor_and_a_replay_is_all_duplicates(backend: Backend) {
    let app = spawn_app(backend).await;
    let v = || Subject::Visitor(visitor("visitor-one"));
    let events = batch(vec![
        event(v(), "page_viewed", T0, Some("k1")),
        event(v(), "page_viewed", T0 + 1, Some("k2")),
        event(
            Subject::Email(email("ana@example.com")),
            "signed_up",
            T0,
            None,
        ),
        // The same key twice in one batch is stored once.
        event(v(), "page_viewed", T0 + 2, Some("k2")),
    ]);
    let first = app.store.ingest_events(&events, T0).await.unwrap();
    assert_eq!((first.accepted, first.duplicates), (3, 1));
    assert!(first.rejected.is_empty());
    let again = app.store.ingest_events(&events, T0 + 5).await.unwrap();
    assert_eq!(
        (again.accepted, again.duplicates),
        (1, 3),
        "only the key-less event again"
    );
    assert_eq!(count(&app, "SELECT count(*) FROM contacts").await, 2);
    let vid = app
        .store
        .contact_for_visitor("visitor-one", &Default::default(), T0)
        .await
        .unwrap();
    assert_eq!(events_of(&app, vid).await, 2);
}

async fn a_contact_id_that_does_not_exist_is_rejected_and_the_rest_is_stored(backend: Backend) {
    let app = spawn_app(backend).await;
    let events = batch(vec![
        event(Subject::Contact(999), "x", T0, None),
        event(Subject::Visitor(visitor("visitor-two")), "x", T0, None),
    ]);
    let report = app.store.ingest_events(&events, T0).await.unwrap();
    assert_eq!(report.accepted, 1);
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(
        (report.rejected[0].index, report.rejected[0].field.as_str()),
        (0, "contact_id")
    );
    assert_eq!(count(&app, "SELECT count(*) FROM events").await, 1);
}

async fn ten_thousand_events_ingest_in_batches(backend: Backend) {
    let app = spawn_app(backend).await;
    for b in 0..20 {
        let events: Vec<_> = (0..500)
            .map(|i| {
                let who = Subject::Visitor(visitor(&format!("visitor-{:04}", i % 50)));
                event(who, "page_viewed", T0 + i, Some(&format!("bulk-{b}-{i}")))
            })
            .collect();
        let r = app.store.ingest_events(&batch(events), T0).await.unwrap();
        assert_eq!(r.accepted, 500);
    }
    assert_eq!(count(&app, "SELECT count(*) FROM events").await, 10_000);
}

async fn identifying_a_visitor_keeps_its_anonymous_history_on_the_identified_contact(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let anon = app
        .store
        .contact_for_visitor("browser-a1", &Default::default(), T0)
        .await
        .unwrap();
    let evs = batch(vec![event(
        Subject::Visitor(visitor("browser-a1")),
        "page_viewed",
        T0,
        None,
    )]);
    app.store.ingest_events(&evs, T0).await.unwrap();
    let mut who = Identify::email(email("ana@example.com"));
    who.visitor_id = Some(visitor("browser-a1"));
    who.name = Some("Ana".into());
    who.attributes = vec![
        AttrChange::Set(Attribute {
            key: "seats".into(),
            kind: AttrKind::String,
            text: "50".into(),
        }),
        AttrChange::Set(Attribute {
            key: "plan".into(),
            kind: AttrKind::String,
            text: "trial".into(),
        }),
    ];
    let first = app.store.identify(&who, T0 + 10).await.unwrap();
    assert_eq!(first.contact_id, anon, "the anonymous contact becomes Ana");
    assert!(!first.created);
    // The same visitor's later events keep landing on Ana.
    app.store
        .ingest_events(
            &batch(vec![event(
                Subject::Visitor(visitor("browser-a1")),
                "clicked",
                T0 + 20,
                None,
            )]),
            T0 + 20,
        )
        .await
        .unwrap();
    assert_eq!(events_of(&app, anon).await, 2);
    // value_num follows rule::number_in_text.
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM contact_attributes WHERE key = 'seats' AND value_num = 50"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM contact_attributes WHERE key = 'plan' AND value_num IS NULL"
        )
        .await,
        1
    );

    // On a second device Ana browses anonymously, then gives her email:
    // that history merges into her contact, with both visitor ids.
    let phone = app
        .store
        .contact_for_visitor("browser-b2", &Default::default(), T0)
        .await
        .unwrap();
    app.store
        .ingest_events(
            &batch(vec![
                event(
                    Subject::Visitor(visitor("browser-b2")),
                    "page_viewed",
                    T0 + 30,
                    None,
                ),
                event(
                    Subject::Visitor(visitor("browser-b2")),
                    "page_viewed",
                    T0 + 31,
                    None,
                ),
            ]),
            T0 + 31,
        )
        .await
        .unwrap();
    give_quiz_history(&app, phone, "nurture").await;
    let mut again = Identify::email(email("ANA@example.com"));
    again.visitor_id = Some(visitor("browser-b2"));
    let second = app.store.identify(&again, T0 + 40).await.unwrap();
    assert_eq!(second.contact_id, anon);
    assert_eq!(second.merged_from, Some(phone));
    assert_eq!(events_of(&app, anon).await, 4);
    let profile = app.store.contact(anon).await.unwrap();
    assert_eq!(profile.visitor_ids, ["browser-a1", "browser-b2"]);
    assert_eq!(profile.sessions.len(), 1);
    assert_eq!(profile.sessions[0].answers[0].option_key, "high");
    assert_eq!(profile.segments, ["nurture"]);
    assert_eq!(profile.summary.name.as_deref(), Some("Ana"));
    assert!(matches!(
        app.store.contact(phone).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        app.store
            .contact_for_visitor("browser-b2", &Default::default(), T0 + 50)
            .await
            .unwrap(),
        anon,
        "the quiz flow finds Ana behind either browser"
    );
}

async fn a_shared_device_identified_as_someone_else_points_to_them_without_merging(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let mut ana = Identify::email(email("ana@example.com"));
    ana.visitor_id = Some(visitor("shared-pc1"));
    let ana_id = app.store.identify(&ana, T0).await.unwrap().contact_id;
    app.store
        .ingest_events(
            &batch(vec![event(
                Subject::Visitor(visitor("shared-pc1")),
                "x",
                T0,
                None,
            )]),
            T0,
        )
        .await
        .unwrap();
    let mut bo = Identify::email(email("bo@example.com"));
    bo.visitor_id = Some(visitor("shared-pc1"));
    let bo_id = app.store.identify(&bo, T0 + 1).await.unwrap();
    assert!(bo_id.created);
    assert_ne!(bo_id.contact_id, ana_id);
    assert_eq!(bo_id.merged_from, None);
    assert_eq!(events_of(&app, ana_id).await, 1, "Ana keeps her history");
    let now_bo = app
        .store
        .contact_for_visitor("shared-pc1", &Default::default(), T0 + 2)
        .await
        .unwrap();
    assert_eq!(now_bo, bo_id.contact_id);
}

async fn merging_two_identified_contacts_keeps_events_answers_and_memberships(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app
        .store
        .identify(&Identify::email(email("a@example.com")), T0)
        .await
        .unwrap()
        .contact_id;
    let b = app
        .store
        .identify(&Identify::email(email("b@example.com")), T0)
        .await
        .unwrap()
        .contact_id;
    give_quiz_history(&app, a, "fast-track").await;
    give_quiz_history(&app, b, "fast-track").await;
    // b entered the segment first.
    sql(
        &app,
        &format!("UPDATE segment_memberships SET entered_at = {T0} - 1000 WHERE contact_id = {b}"),
    )
    .await;
    app.store
        .ingest_events(
            &batch(vec![
                event(Subject::Contact(a), "x", T0, None),
                event(Subject::Contact(b), "y", T0, None),
            ]),
            T0,
        )
        .await
        .unwrap();
    app.store.merge_contacts(a, b, T0 + 5).await.unwrap();
    assert_eq!(events_of(&app, a).await, 2);
    assert_eq!(
        count(
            &app,
            &format!("SELECT count(*) FROM quiz_sessions WHERE contact_id = {a}")
        )
        .await,
        2
    );
    // One person, one stay: open, from the earlier entry; no two stays
    // overlapping in the history, and the segment counts one member.
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) FROM segment_memberships WHERE contact_id = {a} \
                 AND exited_at IS NULL AND entered_at = {T0} - 1000"
            )
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            &format!("SELECT count(*) FROM segment_memberships WHERE contact_id = {a}")
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT n.members FROM segment_counts n JOIN segments g ON g.id = n.segment_id \
             WHERE g.slug = 'fast-track'"
        )
        .await,
        1
    );
    assert_eq!(count(&app, "SELECT count(*) FROM contacts").await, 1);
    assert!(matches!(
        app.store.merge_contacts(a, a, T0).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn erasure_leaves_nothing_of_the_person_in_any_table(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut who = Identify::email(email("erase.me@example.com"));
    who.visitor_id = Some(visitor("erase-visitor-1"));
    who.name = Some("Eve Erasable".into());
    who.attributes = vec![AttrChange::Set(Attribute {
        key: "company".into(),
        kind: AttrKind::String,
        text: "Erasable Corp".into(),
    })];
    let id = app.store.identify(&who, T0).await.unwrap().contact_id;
    give_quiz_history(&app, id, "fast-track").await;
    let (valid, _) = parse_batch(
        json!([{"name": "page_viewed", "visitor_id": "erase-visitor-1",
                "properties": {"secret": "eve-private-note"}}])
        .to_string()
        .as_bytes(),
        Caller::Server,
        T0,
    )
    .unwrap();
    app.store.ingest_events(&valid, T0).await.unwrap();
    let keep = app
        .store
        .identify(&Identify::email(email("stays@example.com")), T0)
        .await
        .unwrap()
        .contact_id;

    let erased = app.store.erase_contact(id).await.unwrap();
    assert_eq!((erased.events, erased.quiz_sessions), (1, 1));
    let everything = all_rows_as_text(&app).await;
    for trace in [
        "erase.me@example.com",
        "erase-visitor-1",
        "Eve Erasable",
        "Erasable Corp",
        "eve-private-note",
    ] {
        assert!(
            !everything.contains(trace),
            "{trace} left in:\n{everything}"
        );
    }
    for table in [
        "events",
        "quiz_sessions",
        "segment_memberships",
        "contact_attributes",
        "contact_visitors",
    ] {
        assert_eq!(
            count(
                &app,
                &format!("SELECT count(*) FROM {table} WHERE contact_id = {id}")
            )
            .await,
            0,
            "{table}"
        );
    }
    assert_eq!(count(&app, "SELECT count(*) FROM answers").await, 0);
    assert!(
        app.store.contact(keep).await.is_ok(),
        "others are untouched"
    );
    assert!(matches!(
        app.store.erase_contact(id).await,
        Err(StoreError::NotFound)
    ));
}

async fn retention_deletes_only_anonymous_visitors_idle_past_the_setting(backend: Backend) {
    let app = spawn_app(backend).await;
    let old = app
        .store
        .contact_for_visitor("old-visitor", &Default::default(), T0)
        .await
        .unwrap();
    app.store
        .ingest_events(
            &batch(vec![event(Subject::Contact(old), "x", T0, None)]),
            T0,
        )
        .await
        .unwrap();
    let recent = app
        .store
        .contact_for_visitor("recent-visitor", &Default::default(), T0 + 100 * DAY_MS)
        .await
        .unwrap();
    let known = app
        .store
        .identify(&Identify::email(email("known@example.com")), T0)
        .await
        .unwrap()
        .contact_id;
    assert_eq!(
        app.store.tracking_settings().await.unwrap().retention_days,
        180
    );
    assert_eq!(
        app.store
            .purge_stale_visitors(T0 + 180 * DAY_MS)
            .await
            .unwrap(),
        0,
        "exactly 180 days is kept"
    );
    assert_eq!(
        app.store
            .purge_stale_visitors(T0 + 181 * DAY_MS)
            .await
            .unwrap(),
        1
    );
    assert!(app.store.contact(old).await.is_err());
    assert_eq!(count(&app, "SELECT count(*) FROM events").await, 0);
    assert!(app.store.contact(recent).await.is_ok());
    assert!(
        app.store.contact(known).await.is_ok(),
        "identified contacts are kept"
    );
    app.store.save_tracking_settings(&[], 30).await.unwrap();
    assert_eq!(
        app.store
            .purge_stale_visitors(T0 + 131 * DAY_MS)
            .await
            .unwrap(),
        1
    );
    assert!(app.store.contact(known).await.is_ok());
}

async fn the_retention_job_runs_on_its_own_in_the_server(backend: Backend) {
    let app = spawn_app_with(backend, Some(std::time::Duration::from_millis(50))).await;
    // Seen 181 days before the server's now.
    let long_ago = app.clock.now() - 181 * DAY_MS;
    app.store
        .contact_for_visitor("idle-visitor", &Default::default(), long_ago)
        .await
        .unwrap();
    for _ in 0..100 {
        if count(&app, "SELECT count(*) FROM contacts").await == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the retention job did not delete the idle visitor");
}

async fn the_timeline_pages_newest_first_by_keyset(backend: Backend) {
    let app = spawn_app(backend).await;
    let s = || Subject::Visitor(visitor("timeline-v"));
    // Two events share a time: the id breaks the tie.
    let evs = batch(vec![
        event(s(), "e1", T0, None),
        event(s(), "e2", T0 + 10, None),
        event(s(), "e3", T0 + 10, None),
        event(s(), "e4", T0 + 20, None),
        event(s(), "e5", T0 + 30, None),
    ]);
    app.store.ingest_events(&evs, T0 + 30).await.unwrap();
    let id = app
        .store
        .contact_for_visitor("timeline-v", &Default::default(), T0)
        .await
        .unwrap();
    let mut names = Vec::new();
    let mut cursor = None;
    loop {
        let page = app.store.timeline(id, cursor, 2).await.unwrap();
        names.extend(page.events.iter().map(|e| e.name.clone()));
        assert!(page.events[0].properties.contains("/pricing"));
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(names, ["e5", "e4", "e3", "e2", "e1"]);
}

async fn the_contact_list_searches_and_filters(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut ana = Identify::email(email("ana@shop.example"));
    ana.name = Some("Ana Lima".into());
    ana.attributes = vec![AttrChange::Set(Attribute {
        key: "plan".into(),
        kind: AttrKind::String,
        text: "trial".into(),
    })];
    let ana = app.store.identify(&ana, T0).await.unwrap().contact_id;
    let bo = app
        .store
        .identify(&Identify::email(email("bo_x@other.example")), T0 + DAY_MS)
        .await
        .unwrap()
        .contact_id;
    give_quiz_history(&app, bo, "nurture").await;
    app.store
        .contact_for_visitor("anon-list-1", &Default::default(), T0 + 2 * DAY_MS)
        .await
        .unwrap();
    let ids = |f: ContactFilter| {
        let store = &app.store;
        async move {
            let list = store.contacts(&f).await.unwrap();
            (
                list.total,
                list.contacts.iter().map(|c| c.id).collect::<Vec<_>>(),
            )
        }
    };
    assert_eq!(ids(ContactFilter::default()).await.0, 3);
    let search = |s: &str| ContactFilter {
        search: s.into(),
        ..Default::default()
    };
    assert_eq!(ids(search("LIMA")).await, (1, vec![ana]));
    assert_eq!(ids(search("shop.")).await, (1, vec![ana]));
    assert_eq!(
        ids(search("_")).await,
        (1, vec![bo]),
        "LIKE wildcards are literal"
    );
    let by_attr = ContactFilter {
        attr_key: "plan".into(),
        attr_value: "trial".into(),
        ..Default::default()
    };
    assert_eq!(ids(by_attr).await, (1, vec![ana]));
    let completed = ContactFilter {
        completed_quiz: true,
        ..Default::default()
    };
    assert_eq!(ids(completed).await, (1, vec![bo]));
    let range = ContactFilter {
        seen_from: Some(T0 + DAY_MS),
        seen_until: Some(T0 + DAY_MS),
        ..Default::default()
    };
    assert_eq!(ids(range).await, (1, vec![bo]));

    // A page goes on after the one before it, whoever arrives at the top.
    let all = app.store.contacts(&ContactFilter::default()).await.unwrap();
    assert_eq!(all.next, None);
    let top = &all.contacts[0];
    let rest = ContactFilter {
        after: Some(ListCursor {
            at: top.last_seen,
            id: top.id,
        }),
        ..Default::default()
    };
    app.store
        .contact_for_visitor("anon-list-2", &Default::default(), T0 + 3 * DAY_MS)
        .await
        .unwrap();
    let below: Vec<i64> = all.contacts[1..].iter().map(|c| c.id).collect();
    assert_eq!(ids(rest).await, (4, below));

    // Seen at one instant: the id orders them, and no one is shown twice.
    for i in 0..CONTACTS_PER_PAGE {
        app.store
            .contact_for_visitor(
                &format!("anon-many-{i}"),
                &Default::default(),
                T0 + 4 * DAY_MS,
            )
            .await
            .unwrap();
    }
    let first = app.store.contacts(&ContactFilter::default()).await.unwrap();
    assert_eq!(first.contacts.len() as i64, CONTACTS_PER_PAGE);
    let second = ContactFilter {
        after: first.next,
        ..Default::default()
    };
    let second = app.store.contacts(&second).await.unwrap();
    assert_eq!(second.next, None);
    let shown: std::collections::BTreeSet<i64> = first
        .contacts
        .iter()
        .chain(&second.contacts)
        .map(|c| c.id)
        .collect();
    assert_eq!(shown.len() as i64, first.total);
}

/// A merged or erased contact's id, or a discarded session's, is never
/// given to someone new: what still names it (a view counted once per
/// contact, a link in the admin) would point at a stranger.
async fn a_gone_contacts_or_sessions_id_is_never_given_again(backend: Backend) {
    let app = spawn_app(backend).await;
    demo::seed(&app.store, T0).await.unwrap();
    let id = |e: &'static str| {
        let store = app.store.clone();
        async move {
            store
                .identify(&Identify::email(email(e)), T0)
                .await
                .unwrap()
                .contact_id
        }
    };
    let (a, b) = (id("a@example.com").await, id("b@example.com").await);
    app.store.merge_contacts(a, b, T0).await.unwrap();
    let c = id("c@example.com").await;
    assert!(c > b, "{c} after {b}");
    app.store.erase_contact(c).await.unwrap();
    let d = id("d@example.com").await;
    assert!(d > c, "{d} after {c}");

    let quiz = app.store.published_quiz("growth").await.unwrap().unwrap();
    let quiz = &*quiz;
    let start = |key: &'static str| {
        let store = app.store.clone();
        async move {
            store
                .start_session(
                    d,
                    Some(key),
                    quiz.quiz_id,
                    quiz.version_id,
                    Some("stage"),
                    &Default::default(),
                    T0,
                )
                .await
                .unwrap()
                .id
        }
    };
    let bot = start("bot-browser-key").await;
    app.store.discard_session(bot, T0).await.unwrap();
    let person = start("person-browser-key").await;
    assert!(person > bot, "{person} after {bot}");
}

async fn rows_per_table(pool: &sqlx::SqlitePool) -> Vec<(String, i64)> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut counts = Vec::new();
    for table in tables {
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM \"{table}\""))
            .fetch_one(pool)
            .await
            .unwrap();
        counts.push((table, n));
    }
    counts
}

/// A SQLite database from before ids stopped being reused has its tables
/// rebuilt on upgrade, and every row, and every row referring to one,
/// comes through.
#[tokio::test]
async fn an_upgraded_sqlite_database_keeps_every_row() {
    use quizfunnel_server::store::{SQLITE_MIGRATIONS, SqlStore};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    let store = SqlStore::connect(&url).await.unwrap();
    let Db::Sqlite(db) = store.db() else {
        unreachable!("a SQLite store")
    };
    let before = sqlx::migrate::Migrator {
        migrations: SQLITE_MIGRATIONS
            .iter()
            // With the folded attribute texts the seed below writes.
            .filter(|m| m.version < 17 || m.version == 21)
            .cloned()
            .collect::<Vec<_>>()
            .into(),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    before.run(db.writer()).await.unwrap();
    demo::seed(&store, T0).await.unwrap();
    let rows = rows_per_table(db.writer()).await;
    assert!(
        rows.iter().any(|(t, n)| t == "answers" && *n > 100),
        "{rows:?}"
    );

    store.migrate().await.unwrap();
    // Tables of later migrations come in empty; the others keep every row.
    let after: Vec<_> = rows_per_table(db.writer())
        .await
        .into_iter()
        .filter(|(table, n)| *n > 0 || rows.iter().any(|(t, _)| t == table))
        .collect();
    assert_eq!(after, rows);
    let schema: String =
        sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE name = 'contacts'")
            .fetch_one(db.writer())
            .await
            .unwrap();
    assert!(schema.contains("AUTOINCREMENT"), "{schema}");
    // Foreign keys are on again, and hold.
    let newest: i64 = sqlx::query_scalar("SELECT max(id) FROM contacts")
        .fetch_one(db.writer())
        .await
        .unwrap();
    store.erase_contact(newest).await.unwrap();
    let orphans: i64 = sqlx::query_scalar(&format!(
        "SELECT (SELECT count(*) FROM quiz_sessions WHERE contact_id = {newest}) \
         + (SELECT count(*) FROM events WHERE contact_id = {newest})"
    ))
    .fetch_one(db.writer())
    .await
    .unwrap();
    assert_eq!(orphans, 0);
    let next = store
        .identify(&Identify::email(email("after@example.com")), T0)
        .await
        .unwrap()
        .contact_id;
    assert!(next > newest, "{next} after {newest}");
}

/// A page link cut short or edited by hand is refused with what to do,
/// never read as some other page.
async fn the_contact_list_names_a_damaged_page_link(backend: Backend) {
    let app = spawn_app(backend).await;
    let (sales, _) = app.signed_in(quizfunnel::account::Role::Sales).await;
    let form = |after: &'static str| {
        vec![
            ("search", ""),
            ("attr_key", ""),
            ("attr_value", ""),
            ("completed", "false"),
            ("from", ""),
            ("until", ""),
            ("after", after),
        ]
    };
    let list = "/api/contacts/list";
    let (status, body) = crate::helpers::call(&app, &sales, list, &form("1700000000000.x")).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("start again from the first page"), "{body}");
    let (status, body) = crate::helpers::call(&app, &sales, list, &form("")).await;
    assert_eq!(status, 200, "{body}");
}

crate::on_both_backends!(
    a_gone_contacts_or_sessions_id_is_never_given_again,
    a_batch_lands_on_one_contact_per_visitor_and_a_replay_is_all_duplicates,
    a_contact_id_that_does_not_exist_is_rejected_and_the_rest_is_stored,
    ten_thousand_events_ingest_in_batches,
    identifying_a_visitor_keeps_its_anonymous_history_on_the_identified_contact,
    a_shared_device_identified_as_someone_else_points_to_them_without_merging,
    merging_two_identified_contacts_keeps_events_answers_and_memberships,
    erasure_leaves_nothing_of_the_person_in_any_table,
    retention_deletes_only_anonymous_visitors_idle_past_the_setting,
    the_retention_job_runs_on_its_own_in_the_server,
    the_timeline_pages_newest_first_by_keyset,
    the_contact_list_searches_and_filters,
    the_contact_list_names_a_damaged_page_link,
);
