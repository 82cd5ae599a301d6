//! The data generator: contacts with the attributes a B2B funnel collects,
//! sessions of the demo quiz `growth` (answers, scores, tier placements)
//! and behavioural events over the last 90 days, written in bulk.
//!
//! Rows are made with the domain's own code (the quiz flow, scoring and
//! the rule evaluator for tier placement), so the data has the shape the
//! app itself would have stored. Segment memberships are left for the
//! first rebuild, which the suite times.

use crate::{BenchResult, Rng, fail};
use quizfunnel::quiz::{self, Answer, Answers, QuestionKind, QuizDefinition, Step};
use quizfunnel::rule::{AttrValue, ContactFacts, EventFact, Rule, SessionFact, evaluate};
use quizfunnel::store::{QuizStore, SegmentStore};
use quizfunnel_server::store::{Db, SqlStore};
use sqlx::Connection;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::{Duration, Instant};

pub const DAY_MS: i64 = 86_400_000;
const SPAN_DAYS: i64 = 90;
/// Share of contacts who start the quiz, and of those who leave midway.
const QUIZ_SHARE: f64 = 0.3;
const ABANDON_SHARE: f64 = 0.2;
const SIGNUP_SHARE: f64 = 0.35;
const INVITE_SHARE: f64 = 0.3;
/// Contacts made and written together: one transaction on SQLite.
const CHUNK: u64 = 5_000;
/// Rows per multi-row INSERT on SQLite.
const ROWS_PER_INSERT: usize = 500;

/// Segments the suite counts and rebuilds, beside the demo's three tiers.
pub const BENCH_SEGMENTS: &[(&str, &str, &str)] = &[
    (
        "engaged-no-invite",
        "Engaged, never invited a teammate",
        "all(completed(growth), score(growth) >= 7, never(invited_teammate))",
    ),
    (
        "active-readers",
        "Active readers",
        "event(page_viewed, count >= 3, within 30d)",
    ),
    (
        "pro-large",
        "Pro plans at larger companies",
        "all(attr(plan) in [\"pro\", \"enterprise\"], attr(company_size) >= 50)",
    ),
];

#[derive(Debug, Clone)]
pub struct Plan {
    pub contacts: u64,
    /// Events in total, quiz events included; the generator aims close to
    /// it and reports what it wrote.
    pub events: u64,
    pub seed: u64,
    pub progress: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Generated {
    pub contacts: u64,
    pub events: u64,
    pub sessions: u64,
    pub completed: u64,
    pub rows: u64,
    pub elapsed: Duration,
}

/// Migrates, publishes the demo quiz with its tiers, adds the benchmark
/// segments, then writes `plan` into the database at `database_url`.
pub async fn generate(database_url: &str, plan: &Plan, now: i64) -> BenchResult<Generated> {
    let started = Instant::now();
    let store = SqlStore::connect(database_url).await?;
    let setting = prepare(&store, now).await?;
    let backend = match store.db() {
        Db::Sqlite(_) => Backend::Sqlite,
        Db::Postgres(_) => Backend::Postgres,
    };
    let mut writer = Writer::open(&store, database_url).await?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Chunk>(2);
    let plan_for_maker = plan.clone();
    // Making rows is CPU work; it overlaps with the database writing the
    // chunk before.
    let maker = tokio::task::spawn_blocking(move || {
        let mut maker = Maker::new(setting, &plan_for_maker, backend, now);
        let mut done = 0;
        while done < plan_for_maker.contacts {
            let n = CHUNK.min(plan_for_maker.contacts - done);
            let chunk = maker.chunk(n);
            if tx.blocking_send(chunk).is_err() {
                break;
            }
            done += n;
        }
        maker.totals
    });
    let mut written = 0u64;
    let mut rows = 0u64;
    while let Some(chunk) = rx.recv().await {
        rows += chunk.rows();
        writer.write(&chunk).await?;
        written += chunk.contacts;
        if plan.progress {
            let secs = started.elapsed().as_secs_f64().max(0.001);
            eprint!(
                "\rgenerated {written}/{} contacts, {rows} rows ({:.0} rows/s)   ",
                plan.contacts,
                rows as f64 / secs
            );
        }
    }
    let mut totals = maker.await.map_err(|e| fail(e.to_string()))?;
    if plan.progress {
        eprintln!();
    }
    writer.finish().await?;
    totals.rows = rows;
    totals.elapsed = started.elapsed();
    Ok(totals)
}

/// What the rows refer to: the published quiz and the tier playbook.
struct Setting {
    quiz_id: i64,
    version_id: i64,
    definition: QuizDefinition,
    tiers: Vec<TierRow>,
    next_contact: i64,
    next_session: i64,
    next_event: i64,
}

struct TierRow {
    segment_id: i64,
    slug: String,
    rule: Rule,
    next_step: String,
    outcome_key: Option<String>,
}

async fn prepare(store: &SqlStore, now: i64) -> BenchResult<Setting> {
    store.migrate().await?;
    quizfunnel_server::demo::seed(store, now).await?;
    for (slug, name, rule) in BENCH_SEGMENTS {
        if store.segment_rule(slug).await?.is_none() {
            let rule = Rule::parse(rule).map_err(|e| fail(format!("{slug}: {e}")))?;
            store.create_segment(slug, name, "", &rule, now).await?;
        }
    }
    let published = store
        .published_quiz(quizfunnel_server::demo::DEMO_SLUG)
        .await?
        .ok_or_else(|| fail("the demo quiz is not published"))?;
    const TIERS: &str = "SELECT t.segment_id, s.slug, s.rule, t.next_step, t.outcome_key \
        FROM tiers t JOIN segments s ON s.id = t.segment_id ORDER BY t.position";
    type Tier = (i64, String, String, String, Option<String>);
    let (tiers, ids): (Vec<Tier>, (i64, i64, i64)) = match store.db() {
        Db::Sqlite(db) => (
            sqlx::query_as(TIERS).fetch_all(db.writer()).await?,
            sqlx::query_as(NEXT_IDS).fetch_one(db.writer()).await?,
        ),
        Db::Postgres(pool) => (
            sqlx::query_as(TIERS).fetch_all(pool).await?,
            sqlx::query_as(NEXT_IDS).fetch_one(pool).await?,
        ),
    };
    let tiers = tiers
        .into_iter()
        .map(|(segment_id, slug, rule, next_step, outcome_key)| {
            Ok(TierRow {
                segment_id,
                rule: serde_json::from_str(&rule)?,
                slug,
                next_step,
                outcome_key,
            })
        })
        .collect::<BenchResult<Vec<_>>>()?;
    Ok(Setting {
        quiz_id: published.quiz_id,
        version_id: published.version_id,
        definition: published.definition.clone(),
        tiers,
        next_contact: ids.0 + 1,
        next_session: ids.1 + 1,
        next_event: ids.2 + 1,
    })
}

const NEXT_IDS: &str = "SELECT (SELECT COALESCE(max(id), 0) FROM contacts), \
    (SELECT COALESCE(max(id), 0) FROM quiz_sessions), (SELECT COALESCE(max(id), 0) FROM events)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The tables written, in an order that satisfies their foreign keys.
const TABLES: [(&str, &str); 8] = [
    (
        "contacts",
        "id, visitor_id, email, name, consent, hidden_fields, first_seen, last_seen",
    ),
    ("contact_visitors", "visitor_id, contact_id, first_seen"),
    (
        "contact_attributes",
        "contact_id, key, kind, value_text, value_num",
    ),
    (
        "quiz_sessions",
        "id, contact_id, quiz_id, version_id, started_at, completed_at, score, current_question, answers",
    ),
    (
        "answers",
        "session_id, question_key, option_key, value_text, answered_at",
    ),
    ("session_category_scores", "session_id, category, score"),
    (
        "placements",
        "session_id, contact_id, segment_id, segment_slug, next_step, outcome_key, placed_at",
    ),
    (
        "events",
        "id, contact_id, name, properties, occurred_at, idempotency_key",
    ),
];
const CONTACTS: usize = 0;
const VISITORS: usize = 1;
const ATTRIBUTES: usize = 2;
const SESSIONS: usize = 3;
const ANSWERS: usize = 4;
const SCORES: usize = 5;
const PLACEMENTS: usize = 6;
const EVENTS: usize = 7;

/// One value of a generated row. Every value is made here, never read
/// from outside, so the text can be written as a literal.
enum V<'a> {
    I(i64),
    R(f64),
    T(&'a str),
    B(bool),
    Null,
}

/// Rows for a run of contacts, each already formatted for the backend: a
/// `(…)` tuple for SQLite, a CSV line for Postgres' COPY.
pub struct Chunk {
    contacts: u64,
    tables: [Vec<String>; 8],
}

impl Chunk {
    fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.len() as u64).sum()
    }
}

fn format_row(backend: Backend, values: &[V]) -> String {
    let mut s = String::with_capacity(96);
    if backend == Backend::Sqlite {
        s.push('(');
    }
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        match (v, backend) {
            (V::I(n), _) => write!(s, "{n}").expect("writing to a String"),
            (V::R(x), _) => write!(s, "{x}").expect("writing to a String"),
            (V::T(t), Backend::Sqlite) => {
                s.push('\'');
                s.push_str(&t.replace('\'', "''"));
                s.push('\'');
            }
            (V::T(t), Backend::Postgres) => {
                s.push('"');
                s.push_str(&t.replace('"', "\"\""));
                s.push('"');
            }
            (V::B(b), Backend::Sqlite) => s.push(if *b { '1' } else { '0' }),
            (V::B(b), Backend::Postgres) => s.push(if *b { 't' } else { 'f' }),
            (V::Null, Backend::Sqlite) => s.push_str("NULL"),
            (V::Null, Backend::Postgres) => {}
        }
    }
    if backend == Backend::Sqlite {
        s.push(')');
    }
    s
}

/// Writes chunks on one dedicated connection.
enum Writer {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Writer {
    async fn open(store: &SqlStore, database_url: &str) -> BenchResult<Self> {
        match store.db() {
            Db::Sqlite(db) => {
                let url = format!("sqlite://{}", db.path().display());
                let mut conn = sqlx::SqliteConnection::connect(&url).await?;
                // A bulk load that fails is simply run again on a fresh
                // file: durability per commit buys nothing here.
                sqlx::raw_sql(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; \
                     PRAGMA cache_size = -1000000; PRAGMA temp_store = MEMORY; \
                     PRAGMA foreign_keys = ON;",
                )
                .execute(&mut conn)
                .await?;
                Ok(Writer::Sqlite(conn))
            }
            Db::Postgres(_) => Ok(Writer::Postgres(
                sqlx::PgConnection::connect(database_url).await?,
            )),
        }
    }

    async fn write(&mut self, chunk: &Chunk) -> BenchResult<()> {
        match self {
            Writer::Sqlite(conn) => {
                let mut tx = conn.begin().await?;
                for ((table, columns), rows) in TABLES.iter().zip(&chunk.tables) {
                    for part in rows.chunks(ROWS_PER_INSERT) {
                        let sql =
                            format!("INSERT INTO {table} ({columns}) VALUES {}", part.join(","));
                        sqlx::raw_sql(&sql).execute(&mut *tx).await?;
                    }
                }
                tx.commit().await?;
            }
            Writer::Postgres(conn) => {
                for ((table, columns), rows) in TABLES.iter().zip(&chunk.tables) {
                    if rows.is_empty() {
                        continue;
                    }
                    let mut copy = conn
                        .copy_in_raw(&format!(
                            "COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)"
                        ))
                        .await?;
                    let mut data = rows.join("\n");
                    data.push('\n');
                    copy.send(data.into_bytes()).await?;
                    copy.finish().await?;
                }
            }
        }
        Ok(())
    }

    /// Moves the id sequences past the ids written, and gathers the
    /// planner's statistics a database this size would have by then. On
    /// Postgres it vacuums too: a served database has been through
    /// autovacuum, which marks pages all-visible (index-only scans skip
    /// the table for them), and otherwise autovacuum's pass over ten
    /// million fresh rows would run beside the first measurements.
    async fn finish(self) -> BenchResult<()> {
        match self {
            Writer::Sqlite(mut conn) => {
                sqlx::raw_sql("ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);")
                    .execute(&mut conn)
                    .await?;
                conn.close().await?;
            }
            Writer::Postgres(mut conn) => {
                for table in ["contacts", "quiz_sessions", "events"] {
                    sqlx::raw_sql(&format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                         (SELECT COALESCE(max(id), 1) FROM {table}))"
                    ))
                    .execute(&mut conn)
                    .await?;
                }
                sqlx::raw_sql("VACUUM (ANALYZE)").execute(&mut conn).await?;
                conn.close().await?;
            }
        }
        Ok(())
    }
}

const COUNTRIES: &[(&str, u32)] = &[
    ("US", 35),
    ("GB", 10),
    ("DE", 9),
    ("FR", 7),
    ("IN", 8),
    ("BR", 6),
    ("CA", 5),
    ("NL", 4),
    ("ES", 4),
    ("AU", 4),
    ("JP", 3),
    ("SE", 2),
    ("PL", 2),
    ("MX", 1),
];
const PLANS: &[(&str, u32)] = &[
    ("free", 50),
    ("starter", 25),
    ("pro", 18),
    ("enterprise", 7),
];
const SOURCES: &[&str] = &[
    "google",
    "linkedin",
    "newsletter",
    "partner",
    "direct",
    "podcast",
];
const FIRST_NAMES: &[&str] = &[
    "ana", "ben", "chloe", "dev", "eli", "fatima", "gus", "hana", "ivan", "jun", "kofi", "lena",
    "mateo", "nora", "omar", "priya", "quinn", "rita", "sven", "tara",
];
const COMPANIES: &[&str] = &[
    "acme",
    "globex",
    "initech",
    "umbrella",
    "hooli",
    "stark",
    "wayne",
    "tyrell",
    "wonka",
    "cyberdyne",
    "soylent",
    "vandelay",
];
const BROWSING: &[(&str, u32)] = &[
    ("page_viewed", 65),
    ("feature_used", 20),
    ("pricing_viewed", 10),
    ("email_opened", 5),
];
const PATHS: &[&str] = &[
    "/",
    "/pricing",
    "/features",
    "/blog/growth-loops",
    "/docs",
    "/about",
];
const FEATURES: &[&str] = &["reports", "segments", "webhooks", "quiz_builder", "exports"];
const BLOCKERS: &[&str] = &[
    "Not enough qualified leads",
    "We do not know which channel works",
    "Sales and marketing don't talk",
    "No budget approved yet",
];

/// Makes the rows, contact by contact, from one seeded generator.
struct Maker {
    setting: Setting,
    rng: Rng,
    backend: Backend,
    now: i64,
    /// Browsing events per contact on average, after the quiz's own.
    browse_mean: f64,
    totals: Generated,
}

/// One event before it is written.
struct Ev {
    name: &'static str,
    properties: String,
    at: i64,
    key: Option<String>,
}

impl Maker {
    fn new(setting: Setting, plan: &Plan, backend: Backend, now: i64) -> Self {
        // Quiz events: started, one per answer (about six), completed.
        let quiz_events = QUIZ_SHARE * (1.0 + 6.0 + (1.0 - ABANDON_SHARE));
        let account_events = SIGNUP_SHARE * (1.0 + INVITE_SHARE * 2.0);
        let per_contact = plan.events as f64 / plan.contacts.max(1) as f64;
        Maker {
            setting,
            rng: Rng::new(plan.seed),
            backend,
            now,
            browse_mean: (per_contact - quiz_events - account_events).max(0.0),
            totals: Generated::default(),
        }
    }

    fn chunk(&mut self, contacts: u64) -> Chunk {
        let mut chunk = Chunk {
            contacts,
            tables: Default::default(),
        };
        for _ in 0..contacts {
            self.contact(&mut chunk);
        }
        chunk
    }

    fn row(&self, chunk: &mut Chunk, table: usize, values: &[V]) {
        chunk.tables[table].push(format_row(self.backend, values));
    }

    fn contact(&mut self, chunk: &mut Chunk) {
        let id = self.setting.next_contact;
        self.setting.next_contact += 1;
        self.totals.contacts += 1;
        let now = self.now;
        let rng = &mut self.rng;
        let first_seen = now - 600_000 - rng.below((SPAN_DAYS * DAY_MS) as u64) as i64;
        let visitor = format!("gen-{id:08}");
        let source = *rng.pick(SOURCES);
        let hidden = serde_json::json!({ "utm_source": source }).to_string();
        let first_name = *rng.pick(FIRST_NAMES);
        let company = *rng.pick(COMPANIES);
        let mut attributes: Vec<(&'static str, &'static str, String, Option<f64>)> = vec![(
            "country",
            "string",
            rng.weighted(COUNTRIES).to_string(),
            None,
        )];
        let mut events: Vec<Ev> = Vec::new();
        let when = |rng: &mut Rng| first_seen + rng.below((now - first_seen) as u64) as i64;

        let signed_up = rng.chance(SIGNUP_SHARE);
        let plan = *rng.weighted(PLANS);
        if signed_up {
            let at = when(rng);
            events.push(Ev {
                name: "signed_up",
                properties: serde_json::json!({ "plan": plan }).to_string(),
                at,
                key: None,
            });
            if rng.chance(INVITE_SHARE) {
                for _ in 0..1 + rng.below(3) {
                    let at = at + rng.below((now - at) as u64) as i64;
                    events.push(Ev {
                        name: "invited_teammate",
                        properties: r#"{"role":"member"}"#.to_string(),
                        at,
                        key: None,
                    });
                }
            }
        }
        let browsing = rng.exponential(self.browse_mean).round() as u64;
        for _ in 0..browsing {
            let name = *rng.weighted(BROWSING);
            let properties = match name {
                "page_viewed" => serde_json::json!({ "path": rng.pick(PATHS) }),
                "feature_used" => serde_json::json!({ "feature": rng.pick(FEATURES) }),
                "pricing_viewed" => serde_json::json!({ "plan": rng.weighted(PLANS) }),
                _ => serde_json::json!({ "campaign": format!("onboarding-{}", rng.below(5) + 1) }),
            }
            .to_string();
            events.push(Ev {
                name,
                properties,
                at: when(rng),
                key: None,
            });
        }

        let taker = rng.chance(QUIZ_SHARE);
        let session = if taker {
            Some(self.session(id, first_seen, &hidden, first_name, company))
        } else {
            None
        };
        let rng = &mut self.rng;
        let completed = session.as_ref().is_some_and(|s| s.completed.is_some());
        let identified = completed || (signed_up && rng.chance(0.7)) || rng.chance(0.05);
        if signed_up || completed {
            attributes.push(("plan", "string", plan.to_string(), None));
            let size = (rng.unit() * 5000f64.ln()).exp().round().max(1.0);
            attributes.push(("company_size", "number", size.to_string(), Some(size)));
        }
        if completed {
            attributes.push(("company", "string", company.to_string(), None));
        }
        let email = identified.then(|| format!("{first_name}.{id}@{company}.example"));
        let name = identified.then(|| {
            let mut n = first_name.to_string();
            n[..1].make_ascii_uppercase();
            n
        });
        let consent = identified && rng.chance(0.75);

        if let Some(s) = session {
            events.extend(s.events);
            self.placement(chunk, id, &s.fact, &attributes, &events);
            for row in s.rows {
                chunk.tables[row.0].push(row.1);
            }
        }
        let last_seen = events.iter().map(|e| e.at).max().unwrap_or(first_seen);
        self.row(
            chunk,
            CONTACTS,
            &[
                V::I(id),
                V::T(&visitor),
                email.as_deref().map_or(V::Null, V::T),
                name.as_deref().map_or(V::Null, V::T),
                V::B(consent),
                V::T(&hidden),
                V::I(first_seen),
                V::I(last_seen),
            ],
        );
        self.row(
            chunk,
            VISITORS,
            &[V::T(&visitor), V::I(id), V::I(first_seen)],
        );
        for (key, kind, text, num) in &attributes {
            self.row(
                chunk,
                ATTRIBUTES,
                &[
                    V::I(id),
                    V::T(key),
                    V::T(kind),
                    V::T(text),
                    num.map_or(V::Null, V::R),
                ],
            );
        }
        events.sort_by_key(|e| e.at);
        for e in &events {
            let event_id = self.setting.next_event;
            self.setting.next_event += 1;
            self.totals.events += 1;
            self.row(
                chunk,
                EVENTS,
                &[
                    V::I(event_id),
                    V::I(id),
                    V::T(e.name),
                    V::T(&e.properties),
                    V::I(e.at),
                    e.key.as_deref().map_or(V::Null, V::T),
                ],
            );
        }
    }

    /// One respondent's way through the quiz, as the app stores it.
    fn session(
        &mut self,
        contact: i64,
        first_seen: i64,
        hidden: &str,
        first_name: &str,
        company: &str,
    ) -> TakenSession {
        let id = self.setting.next_session;
        self.setting.next_session += 1;
        self.totals.sessions += 1;
        let (quiz_id, version_id) = (self.setting.quiz_id, self.setting.version_id);
        let def = &self.setting.definition;
        let rng = &mut self.rng;
        let backend = self.backend;
        let latest_start = (self.now - 600_000).max(first_seen);
        let started = first_seen + rng.below((latest_start - first_seen).max(1) as u64) as i64;
        let mut rows: Vec<(usize, String)> = Vec::new();
        let mut events = vec![Ev {
            name: "quiz_started",
            properties: serde_json::json!({
                "quiz_id": quiz_id, "version_id": version_id, "session_id": id,
                "hidden_fields": serde_json::from_str::<serde_json::Value>(hidden).unwrap_or_default(),
            })
            .to_string(),
            at: started,
            key: Some(format!("quiz_started:{id}")),
        }];
        let abandon_at = rng
            .chance(ABANDON_SHARE)
            .then(|| rng.below(def.questions.len() as u64) as usize);
        let mut answers = Answers::new();
        let mut pairs = Vec::new();
        let mut current = match quiz::first_step(def) {
            Step::Question(k) => Some(k),
            Step::Result => None,
        };
        let mut at = started;
        let mut step_no = 0;
        while let Some(key) = current.clone() {
            if abandon_at == Some(step_no) {
                break;
            }
            let Some(question) = def.question(&key) else {
                break;
            };
            let answer = pick_answer(question, rng, contact, first_name, company);
            answers.insert(key.clone(), answer.clone());
            at += 5_000 + rng.below(20_000) as i64;
            for (option, value) in answer.rows() {
                pairs.push((key.clone(), option.clone()));
                rows.push((
                    ANSWERS,
                    format_row(
                        backend,
                        &[
                            V::I(id),
                            V::T(&key),
                            V::T(&option),
                            value.as_deref().map_or(V::Null, V::T),
                            V::I(at),
                        ],
                    ),
                ));
            }
            events.push(Ev {
                name: "question_answered",
                properties: serde_json::json!({
                    "quiz_id": quiz_id, "version_id": version_id, "session_id": id,
                    "question": key, "options": answer.options(),
                })
                .to_string(),
                at,
                key: Some(format!("question_answered:{id}:{key}:{:016x}", 0)),
            });
            current = match quiz::next_step(def, &answers, &key) {
                Step::Question(k) => Some(k),
                Step::Result => None,
            };
            step_no += 1;
        }
        let done = current.is_none();
        let scores = quiz::score(def, &answers);
        let completed = done.then_some(at);
        if done {
            self.totals.completed += 1;
            for (category, points) in &scores.categories {
                rows.push((
                    SCORES,
                    format_row(backend, &[V::I(id), V::T(category), V::R(*points)]),
                ));
            }
            events.push(Ev {
                name: "quiz_completed",
                properties: serde_json::json!({
                    "quiz_id": quiz_id, "version_id": version_id, "session_id": id,
                    "score": scores.total, "categories": scores.categories,
                })
                .to_string(),
                at,
                key: Some(format!("quiz_completed:{id}")),
            });
        }
        let answers_json = serde_json::to_string(&answers).unwrap_or_else(|_| "{}".into());
        rows.insert(
            0,
            (
                SESSIONS,
                format_row(
                    backend,
                    &[
                        V::I(id),
                        V::I(contact),
                        V::I(quiz_id),
                        V::I(version_id),
                        V::I(started),
                        completed.map_or(V::Null, V::I),
                        if done { V::R(scores.total) } else { V::Null },
                        current.as_deref().map_or(V::Null, V::T),
                        V::T(&answers_json),
                    ],
                ),
            ),
        );
        TakenSession {
            completed,
            rows,
            events,
            fact: SessionFact {
                id,
                quiz_slug: quizfunnel_server::demo::DEMO_SLUG.to_string(),
                started_at: started,
                completed_at: completed,
                score: done.then_some(scores.total),
                category_scores: if done {
                    scores.categories.clone()
                } else {
                    BTreeMap::new()
                },
                answers: pairs,
            },
        }
    }

    /// The first tier whose rule the contact matches at completion, asked
    /// of the same evaluator the app's rules are checked against.
    fn placement(
        &mut self,
        chunk: &mut Chunk,
        contact: i64,
        session: &SessionFact,
        attributes: &[(&'static str, &'static str, String, Option<f64>)],
        events: &[Ev],
    ) {
        let Some(completed_at) = session.completed_at else {
            return;
        };
        let facts = ContactFacts {
            attributes: attributes
                .iter()
                .map(|(k, _, text, num)| {
                    (
                        k.to_string(),
                        AttrValue {
                            text: text.clone(),
                            num: *num,
                        },
                    )
                })
                .collect(),
            events: events
                .iter()
                .map(|e| EventFact {
                    name: e.name.to_string(),
                    properties: serde_json::from_str(&e.properties).unwrap_or_default(),
                    occurred_at: e.at,
                })
                .collect(),
            sessions: vec![session.clone()],
            segments: Default::default(),
        };
        let Some(tier) = self
            .setting
            .tiers
            .iter()
            .find(|t| evaluate(&t.rule, &facts, completed_at))
        else {
            return;
        };
        let row = format_row(
            self.backend,
            &[
                V::I(session.id),
                V::I(contact),
                V::I(tier.segment_id),
                V::T(&tier.slug),
                V::T(&tier.next_step),
                tier.outcome_key.as_deref().map_or(V::Null, V::T),
                V::I(completed_at),
            ],
        );
        chunk.tables[PLACEMENTS].push(row);
    }
}

struct TakenSession {
    completed: Option<i64>,
    rows: Vec<(usize, String)>,
    events: Vec<Ev>,
    fact: SessionFact,
}

fn pick_answer(
    q: &quiz::Question,
    rng: &mut Rng,
    contact: i64,
    first_name: &str,
    company: &str,
) -> Answer {
    match &q.kind {
        QuestionKind::Single => Answer::Choice {
            options: vec![rng.pick(&q.options).key.clone()],
        },
        QuestionKind::Multi => {
            let mut options: Vec<String> = q
                .options
                .iter()
                .filter(|_| rng.chance(0.5))
                .map(|o| o.key.clone())
                .collect();
            if options.is_empty() {
                options.push(q.options[0].key.clone());
            }
            Answer::Choice { options }
        }
        QuestionKind::Scale { min, max } => Answer::Scale {
            value: min + rng.below((max - min + 1) as u64) as i64,
        },
        QuestionKind::Text => {
            if rng.chance(0.3) {
                Answer::Skipped
            } else {
                Answer::Text {
                    text: rng.pick(BLOCKERS).to_string(),
                }
            }
        }
        QuestionKind::Contact { .. } => Answer::Contact {
            email: quizfunnel::email::Email::parse(&format!(
                "{first_name}.{contact}@{company}.example"
            ))
            .ok(),
            name: first_name.to_string(),
            company: company.to_string(),
            consent: rng.chance(0.75),
        },
    }
}
