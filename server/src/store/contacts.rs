//! Contacts, identity and events.

use super::segments::{Changed, Recheck};
use super::sql::{BeginWrite, db_err, value_rows, with_pool};
use super::{Db, SqlStore};
use async_trait::async_trait;
use quizfunnel::contact::{
    AnswerDetail, AttrChange, AttrKind, Attribute, CONTACTS_PER_PAGE, ContactFilter, ContactList,
    ContactProfile, ContactSummary, DAY_MS, Erasure, EventRecord, Identified, Identify,
    IngestReport, ListCursor, NewEvent, QUIZ_VIEWED, QuizSessionDetail, QuizView, Rejection,
    Subject, TimelinePage, TrackingSettings,
};
use quizfunnel::email::Email;
use quizfunnel::rule::{fold_case, number_in_text, stored_fold};
use quizfunnel::store::{ContactStore, StoreError, StoreResult};
use std::collections::{BTreeMap, HashMap};

/// The contacts of those of `$visitors` who have one, inside transaction
/// `$tx`, by visitor id.
macro_rules! known_visitors {
    ($tx:ident, $postgres:expr, $visitors:expr) => {{
        let visitors: &[&str] = $visitors;
        let sql = format!(
            "SELECT visitor_id, contact_id FROM contact_visitors WHERE visitor_id IN ({})",
            value_rows($postgres, visitors.len(), 1, |m| m[0].clone())
        );
        let mut query = sqlx::query_as::<_, (String, i64)>(&sql).persistent(false);
        for visitor in visitors {
            query = query.bind(*visitor);
        }
        query
            .fetch_all(&mut *$tx)
            .await
            .map_err(db_err)?
            .into_iter()
            .collect::<HashMap<String, i64>>()
    }};
}

/// A visitor who may need a contact: the hidden fields and time a new
/// contact starts with.
struct Visiting<'a> {
    visitor: &'a str,
    fields: &'a str,
    at: i64,
}

/// The contact [`visitor_contacts!`] found or made for `visitor`: it makes
/// one for every visitor asked, so a miss is a bug, not bad input.
fn visitor_contact(contact_of: &HashMap<String, i64>, visitor: &str) -> StoreResult<i64> {
    contact_of
        .get(visitor)
        .copied()
        .ok_or_else(|| StoreError::Internal(format!("no contact for visitor {visitor}")))
}

/// The contacts of `$wanted` (distinct visitors) inside transaction `$tx`,
/// those without one created, in a few statements per
/// [`ROWS_PER_STATEMENT`] visitors. Evaluates to the contact by visitor id
/// and the visitors whose contact was created here.
macro_rules! visitor_contacts {
    ($tx:ident, $postgres:expr, $wanted:expr) => {{
        let postgres: bool = $postgres;
        let mut contact_of: HashMap<String, i64> = HashMap::new();
        let mut created_here: Vec<String> = Vec::new();
        for wanted in $wanted.chunks(ROWS_PER_STATEMENT) {
            let wanted: &[Visiting] = wanted;
            let visitors: Vec<&str> = wanted.iter().map(|w| w.visitor).collect();
            contact_of.extend(known_visitors!($tx, postgres, &visitors));
            let mut new: Vec<&Visiting> = wanted
                .iter()
                .filter(|w| !contact_of.contains_key(w.visitor))
                .collect();
            if new.is_empty() {
                continue;
            }
            // In one order everywhere: two instances inserting the same new
            // visitors (Postgres) then wait on each other instead of
            // deadlocking.
            new.sort_unstable_by_key(|w| w.visitor);
            let sql = format!(
                "INSERT INTO contacts (visitor_id, hidden_fields, first_seen, last_seen) \
                 VALUES {} ON CONFLICT (visitor_id) DO NOTHING RETURNING visitor_id, id",
                value_rows(postgres, new.len(), 4, |m| format!("({})", m.join(", ")))
            );
            let mut insert = sqlx::query_as::<_, (String, i64)>(&sql).persistent(false);
            for w in &new {
                insert = insert.bind(w.visitor).bind(w.fields).bind(w.at).bind(w.at);
            }
            let created = insert.fetch_all(&mut *$tx).await.map_err(db_err)?;
            if !created.is_empty() {
                let sql = format!(
                    "INSERT INTO contact_visitors (visitor_id, contact_id, first_seen) VALUES {}",
                    value_rows(postgres, created.len(), 3, |m| format!(
                        "({})",
                        m.join(", ")
                    ))
                );
                let first_seen: HashMap<&str, i64> =
                    new.iter().map(|w| (w.visitor, w.at)).collect();
                let mut link = sqlx::query(&sql).persistent(false);
                for (visitor, contact) in &created {
                    link = link
                        .bind(visitor)
                        .bind(contact)
                        .bind(first_seen[visitor.as_str()]);
                }
                link.execute(&mut *$tx).await.map_err(db_err)?;
            }
            for (visitor, contact) in created {
                created_here.push(visitor.clone());
                contact_of.insert(visitor, contact);
            }
            // Another instance created these a moment ago (Postgres).
            let raced: Vec<&str> = new
                .iter()
                .map(|w| w.visitor)
                .filter(|v| !contact_of.contains_key(*v))
                .collect();
            if !raced.is_empty() {
                contact_of.extend(known_visitors!($tx, postgres, &raced));
            }
        }
        (contact_of, created_here)
    }};
}

/// Moves everything of contact `$absorb` onto `$keep` and deletes it,
/// inside transaction `$tx`.
macro_rules! merge_into {
    ($tx:ident, $keep:expr, $absorb:expr) => {{
        let (keep, absorb): (i64, i64) = ($keep, $absorb);
        for sql in [
            "UPDATE events SET contact_id = $1 WHERE contact_id = $2",
            "UPDATE quiz_sessions SET contact_id = $1 WHERE contact_id = $2",
            "UPDATE contact_visitors SET contact_id = $1 WHERE contact_id = $2",
            "UPDATE webhook_deliveries SET contact_id = $1 WHERE contact_id = $2",
            "UPDATE lead_changes SET contact_id = $1 WHERE contact_id = $2",
            // Each finished session keeps its placement: the result page
            // and the tier history read them.
            "UPDATE placements SET contact_id = $1 WHERE contact_id = $2",
            // One lead per contact: the newer placement decides the tier,
            // while the status sales gave the kept lead stays.
            "UPDATE leads SET segment_id = a.segment_id, tier_slug = a.tier_slug, \
             next_step = a.next_step, session_id = a.session_id, score = a.score, \
             placed_at = a.placed_at FROM leads a \
             WHERE leads.contact_id = $1 AND a.contact_id = $2 AND a.placed_at > leads.placed_at",
            // With no lead of its own the kept contact takes the other's.
            "UPDATE leads SET contact_id = $1 WHERE contact_id = $2 \
             AND NOT EXISTS (SELECT 1 FROM leads k WHERE k.contact_id = $1)",
            "INSERT INTO contact_tags (contact_id, tag, added_at) \
             SELECT $1, tag, added_at FROM contact_tags WHERE contact_id = $2 \
             ON CONFLICT (contact_id, tag) DO NOTHING",
            // The kept contact keeps its owner; else it takes the other's.
            "UPDATE contacts SET owner_id = COALESCE(owner_id, \
                (SELECT owner_id FROM contacts WHERE id = $2)) WHERE id = $1",
            // The kept contact's own attribute values win.
            "INSERT INTO contact_attributes \
             (contact_id, key, kind, value_text, value_num, value_folded) \
             SELECT $1, key, kind, value_text, value_num, value_folded FROM contact_attributes \
             WHERE contact_id = $2 ON CONFLICT (contact_id, key) DO NOTHING",
        ] {
            sqlx::query(sql)
                .bind(keep)
                .bind(absorb)
                .execute(&mut *$tx)
                .await
                .map_err(db_err)?;
        }
        // Both in one segment now: one person, one stay, from the earlier
        // of the two entries (two open stays would overlap in the history
        // and be counted twice for the days between).
        for sql in [
            "UPDATE segment_memberships SET entered_at = ( \
                SELECT a.entered_at FROM segment_memberships a WHERE a.contact_id = $2 \
                AND a.segment_id = segment_memberships.segment_id AND a.exited_at IS NULL) \
             WHERE contact_id = $1 AND exited_at IS NULL AND EXISTS ( \
                SELECT 1 FROM segment_memberships a WHERE a.contact_id = $2 \
                AND a.segment_id = segment_memberships.segment_id AND a.exited_at IS NULL \
                AND a.entered_at < segment_memberships.entered_at)",
            "DELETE FROM segment_memberships \
             WHERE contact_id = $2 AND exited_at IS NULL AND EXISTS ( \
                SELECT 1 FROM segment_memberships k WHERE k.contact_id = $1 \
                AND k.segment_id = segment_memberships.segment_id AND k.exited_at IS NULL)",
        ] {
            sqlx::query(sql)
                .bind(keep)
                .bind(absorb)
                .execute(&mut *$tx)
                .await
                .map_err(db_err)?;
        }
        sqlx::query("UPDATE segment_memberships SET contact_id = $1 WHERE contact_id = $2")
            .bind(keep)
            .bind(absorb)
            .execute(&mut *$tx)
            .await
            .map_err(db_err)?;
        let gone: AbsorbedRow = sqlx::query_as(
            "DELETE FROM contacts WHERE id = $1 \
             RETURNING email, name, consent, hidden_fields, first_seen, last_seen",
        )
        .bind(absorb)
        .fetch_one(&mut *$tx)
        .await
        .map_err(db_err)?;
        sqlx::query(
            "UPDATE contacts SET email = COALESCE(email, $2), name = COALESCE(name, $3), \
             consent = (consent OR $4), \
             hidden_fields = CASE WHEN hidden_fields = '{}' THEN $5 ELSE hidden_fields END, \
             first_seen = CASE WHEN first_seen > $6 THEN $6 ELSE first_seen END, \
             last_seen = CASE WHEN last_seen < $7 THEN $7 ELSE last_seen END \
             WHERE id = $1",
        )
        .bind(keep)
        .bind(gone.email)
        .bind(gone.name)
        .bind(gone.consent)
        .bind(gone.hidden_fields)
        .bind(gone.first_seen)
        .bind(gone.last_seen)
        .execute(&mut *$tx)
        .await
        .map_err(db_err)?;
    }};
}

#[derive(sqlx::FromRow)]
struct AbsorbedRow {
    email: Option<String>,
    name: Option<String>,
    consent: bool,
    hidden_fields: String,
    first_seen: i64,
    last_seen: i64,
}

#[derive(sqlx::FromRow)]
pub(super) struct SummaryRow {
    id: i64,
    email: Option<String>,
    name: Option<String>,
    first_seen: i64,
    last_seen: i64,
}

impl From<SummaryRow> for ContactSummary {
    fn from(r: SummaryRow) -> Self {
        ContactSummary {
            id: r.id,
            email: r.email,
            name: r.name,
            first_seen: r.first_seen,
            last_seen: r.last_seen,
        }
    }
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: i64,
    quiz_slug: String,
    quiz_title: String,
    version: i64,
    started_at: i64,
    completed_at: Option<i64>,
    score: Option<f64>,
}

#[derive(sqlx::FromRow)]
struct AnswerRow {
    session_id: i64,
    question_key: String,
    option_key: String,
    value_text: Option<String>,
    answered_at: i64,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    name: String,
    properties: String,
    occurred_at: i64,
}

#[derive(sqlx::FromRow)]
struct SettingsRow {
    site_key: String,
    allowed_origins: String,
    retention_days: i64,
}

impl From<SettingsRow> for TrackingSettings {
    fn from(r: SettingsRow) -> Self {
        TrackingSettings {
            site_key: r.site_key,
            allowed_origins: r
                .allowed_origins
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect(),
            retention_days: r.retention_days,
        }
    }
}

/// Event properties are TEXT in SQLite and JSONB in Postgres; an
/// idempotency key makes a replayed event (or quiz step) store nothing.
pub(super) fn insert_event_sql(db: &Db) -> &'static str {
    use std::sync::LazyLock;
    static SQLITE: LazyLock<String> = LazyLock::new(|| insert_event_at(false, [1, 2, 3, 4, 5]));
    static POSTGRES: LazyLock<String> = LazyLock::new(|| insert_event_at(true, [1, 2, 3, 4, 5]));
    match db {
        Db::Sqlite(_) => &SQLITE,
        Db::Postgres(_) => &POSTGRES,
    }
}

/// The event insert with the contact, name, properties, time and key at
/// these placeholders, for statements that bind other values first.
pub(super) fn insert_event_at(postgres: bool, at: [usize; 5]) -> String {
    format!(
        "{EVENT_INSERT}{}{EVENT_CONFLICT}",
        event_row(postgres, &at.map(|n| format!("${n}")))
    )
}

const EVENT_INSERT: &str =
    "INSERT INTO events (contact_id, name, properties, occurred_at, idempotency_key) VALUES ";
const EVENT_CONFLICT: &str = " ON CONFLICT (idempotency_key) DO NOTHING";

/// One event's values from its placeholders for the contact, name,
/// properties, time and key.
fn event_row(postgres: bool, marks: &[String]) -> String {
    let [contact, name, properties, occurred_at, key] = marks else {
        unreachable!("an event row has five values")
    };
    if postgres {
        format!("({contact}, {name}, CAST({properties} AS JSONB), {occurred_at}, {key})")
    } else {
        format!("({contact}, {name}, {properties}, {occurred_at}, {key})")
    }
}

/// One insert of `rows` events, each bound as [`insert_event_at`] binds one.
fn insert_events_sql(postgres: bool, rows: usize) -> String {
    format!(
        "{EVENT_INSERT}{}{EVENT_CONFLICT}",
        value_rows(postgres, rows, 5, |m| event_row(postgres, m))
    )
}

/// Rows written per statement where many are stored together: a few
/// statements per chunk instead of several per row, as each is a wait on
/// the one writer, and far below either database's limit on bound values.
const ROWS_PER_STATEMENT: usize = 200;

/// One page of a contact's timeline, newest first, before a cursor; public
/// so the tests can check the plan walks the index instead of sorting.
pub fn timeline_sql(db: &Db) -> &'static str {
    match db {
        Db::Sqlite(_) => {
            "SELECT id, name, properties, occurred_at FROM events \
             WHERE contact_id = $1 AND occurred_at <= $2 AND (occurred_at < $2 OR id < $3) \
             ORDER BY occurred_at DESC, id DESC LIMIT $4"
        }
        Db::Postgres(_) => {
            "SELECT id, name, properties::text AS properties, occurred_at FROM events \
             WHERE contact_id = $1 AND occurred_at <= $2 AND (occurred_at < $2 OR id < $3) \
             ORDER BY occurred_at DESC, id DESC LIMIT $4"
        }
    }
}

/// The admin list's filters, all bound parameters; an empty value filters
/// nothing.
/// The contact list's filter, `$1` to `$11`. A stop ($7 the quiz, '' for
/// none; $8 its question; $9..$10 started between; $11 source, '' for any)
/// is a funnel's "stopped" count, person by person. Its sessions are read
/// once (`IN`), not looked up for every contact (docs/BENCHMARKS.md,
/// "The contact list of a funnel's stop"). Which of its tests apply
/// depends on the values, so statements with it are not kept prepared:
/// Postgres plans each for its own (see `store/postgres.rs`).
fn contact_filter(db: &Db) -> String {
    let utm = super::dashboard::utm_source_of_contact(db);
    let stopped = super::dashboard::STOPPED;
    format!(
        "FROM contacts c WHERE \
         ($1 = '' OR LOWER(COALESCE(c.email, '')) LIKE $1 ESCAPE '\\' \
             OR LOWER(COALESCE(c.name, '')) LIKE $1 ESCAPE '\\') \
         AND ($2 = '' OR EXISTS (SELECT 1 FROM contact_attributes a WHERE a.contact_id = c.id \
             AND a.key = $2 AND ($3 = '' OR a.value_text = $3))) \
         AND ($4 = 0 OR EXISTS (SELECT 1 FROM quiz_sessions s WHERE s.contact_id = c.id \
             AND s.completed_at IS NOT NULL)) \
         AND c.last_seen >= $5 AND c.last_seen <= $6 \
         AND ($7 = '' OR (($11 = '' OR {utm} = $11) AND c.id IN (SELECT s.contact_id \
             FROM quiz_sessions s JOIN quizzes q ON q.id = s.quiz_id WHERE q.slug = $7 \
             AND s.current_question = $8 AND s.started_at BETWEEN $9 AND $10 {stopped})))"
    )
}

/// Stores the folded copy of attribute texts written before there was one
/// (migration 0021), a batch per transaction; returns how many. Found
/// through that migration's partial index, so once done it reads nothing.
pub(super) async fn fold_stored_attributes(db: &Db) -> StoreResult<u64> {
    const BATCH: i64 = 500;
    // Several servers may start at once on Postgres: each takes rows the
    // others have not locked.
    let (unfolded, lock) = match db {
        Db::Sqlite(_) => ("length(value_text) <> length(CAST(value_text AS BLOB))", ""),
        Db::Postgres(_) => (
            "octet_length(value_text) <> length(value_text)",
            " FOR UPDATE SKIP LOCKED",
        ),
    };
    let select = format!(
        "SELECT contact_id, key, value_text FROM contact_attributes \
         WHERE value_folded IS NULL AND {unfolded} ORDER BY contact_id, key LIMIT $1{lock}"
    );
    let mut folded = 0u64;
    loop {
        let done = with_pool!(db, write, |pool| {
            let mut tx = pool.begin_write().await.map_err(db_err)?;
            let rows: Vec<(i64, String, String)> = sqlx::query_as(&select)
                .bind(BATCH)
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?;
            for (contact_id, key, text) in &rows {
                sqlx::query(
                    "UPDATE contact_attributes SET value_folded = $1 \
                     WHERE contact_id = $2 AND key = $3",
                )
                .bind(fold_case(text))
                .bind(contact_id)
                .bind(key)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            }
            tx.commit().await.map_err(db_err)?;
            folded += rows.len() as u64;
            Ok::<_, StoreError>((rows.len() as i64) < BATCH)
        })?;
        if done {
            return Ok(folded);
        }
    }
}

/// `%text%` for LIKE, with LIKE's own wildcards taken literally.
pub(super) fn like_pattern(text: &str) -> String {
    let text = text.trim().to_lowercase();
    if text.is_empty() {
        return String::new();
    }
    let mut p = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// How far behind a visitor's `last_seen` may lag while they click through
/// a quiz: it feeds "last active" and the retention of idle visitors,
/// both counted in minutes or days.
const LAST_SEEN_STEP_MS: i64 = 60_000;

impl SqlStore {
    /// The contact behind `visitor_id` from what a read of it found
    /// (`known`: its id and when it was last seen): as read when seen a
    /// moment ago, else made, or moved on, at the writer.
    pub(super) async fn visitor_contact_after(
        &self,
        visitor_id: &str,
        known: Option<(i64, i64)>,
        first_visit_fields: &BTreeMap<String, String>,
        now: i64,
    ) -> StoreResult<i64> {
        if let Some((id, last_seen)) = known
            && now - last_seen < LAST_SEEN_STEP_MS
        {
            return Ok(id);
        }
        let fields = serde_json::to_string(first_visit_fields).unwrap_or_else(|_| "{}".into());
        let postgres = self.is_postgres();
        with_pool!(self.db(), write, |pool| {
            let mut tx = pool.begin_write().await.map_err(db_err)?;
            let wanted = [Visiting {
                visitor: visitor_id,
                fields: &fields,
                at: now,
            }];
            let (contact_of, _) = visitor_contacts!(tx, postgres, wanted);
            let id = visitor_contact(&contact_of, visitor_id)?;
            sqlx::query("UPDATE contacts SET last_seen = $2 WHERE id = $1 AND last_seen < $2")
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            tx.commit().await.map_err(db_err)?;
            Ok(id)
        })
    }
}

#[async_trait]
impl ContactStore for SqlStore {
    async fn contact_for_visitor(
        &self,
        visitor_id: &str,
        first_visit_fields: &BTreeMap<String, String>,
        now: i64,
    ) -> StoreResult<i64> {
        // Nearly every request comes from a visitor already known and seen
        // a moment ago: a read answers it, and the single writer is only
        // taken to create the contact or move `last_seen` on by a minute.
        let known: Option<(i64, i64)> = with_pool!(self.db(), read, |pool| {
            sqlx::query_as(
                "SELECT c.id, c.last_seen FROM contact_visitors v \
                 JOIN contacts c ON c.id = v.contact_id WHERE v.visitor_id = $1",
            )
            .bind(visitor_id)
            .fetch_optional(pool)
            .await
            .map_err(db_err)
        })?;
        self.visitor_contact_after(visitor_id, known, first_visit_fields, now)
            .await
    }

    async fn record_quiz_views(&self, views: &[QuizView], now: i64) -> StoreResult<()> {
        if views.is_empty() {
            return Ok(());
        }
        let postgres = self.is_postgres();
        let names = std::collections::BTreeSet::from([QUIZ_VIEWED]);
        let recheck = self.batch_recheck_plan(Changed::Events(&names), now).await;
        let touched: Vec<i64> = with_pool!(self.db(), write, |pool| {
            let mut tx = pool.begin_write().await.map_err(db_err)?;
            let mut touched = Vec::with_capacity(views.len());
            for chunk in views.chunks(ROWS_PER_STATEMENT) {
                let fields: Vec<String> = chunk
                    .iter()
                    .map(|v| {
                        serde_json::to_string(&v.first_visit_fields).unwrap_or_else(|_| "{}".into())
                    })
                    .collect();
                // Each visitor's first view in the chunk, which creates
                // their contact when they have none yet.
                let mut first_view: HashMap<&str, usize> = HashMap::new();
                for (i, view) in chunk.iter().enumerate() {
                    first_view.entry(view.visitor_id.as_str()).or_insert(i);
                }
                let wanted: Vec<Visiting> = first_view
                    .iter()
                    .map(|(&visitor, &i)| Visiting {
                        visitor,
                        fields: &fields[i],
                        at: chunk[i].at,
                    })
                    .collect();
                let (contact_of, created) = visitor_contacts!(tx, postgres, wanted);
                let created_by: std::collections::HashSet<usize> =
                    created.iter().map(|v| first_view[v.as_str()]).collect();
                let mut rows = Vec::with_capacity(chunk.len());
                for (i, view) in chunk.iter().enumerate() {
                    let contact = visitor_contact(&contact_of, &view.visitor_id)?;
                    if !view.first_visit_fields.is_empty() && !created_by.contains(&i) {
                        sqlx::query(
                            "UPDATE contacts SET hidden_fields = $2 WHERE id = $1 AND hidden_fields = '{}'",
                        )
                        .bind(contact)
                        .bind(&fields[i])
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    }
                    rows.push(contact);
                }
                let sql = insert_events_sql(postgres, chunk.len());
                let mut insert = sqlx::query(&sql).persistent(false);
                for (view, &contact) in chunk.iter().zip(&rows) {
                    insert = insert
                        .bind(contact)
                        .bind(QUIZ_VIEWED)
                        .bind(serde_json::json!({ "quiz": view.slug }).to_string())
                        .bind(view.at)
                        .bind(view.idempotency_key(contact));
                }
                insert.execute(&mut *tx).await.map_err(db_err)?;
                touched.extend(rows);
            }
            tx.commit_rechecked(self, &recheck, &touched, now).await?;
            Ok::<_, StoreError>(touched)
        })?;
        self.batch_stored(&touched, Changed::Events(&names), now)
            .await;
        Ok(())
    }

    async fn ingest_events(
        &self,
        events: &[(usize, NewEvent)],
        now: i64,
    ) -> StoreResult<IngestReport> {
        let postgres = self.is_postgres();
        let mut report = IngestReport::default();
        let names: std::collections::BTreeSet<&str> =
            events.iter().map(|(_, e)| e.name.as_str()).collect();
        let recheck = self.batch_recheck_plan(Changed::Events(&names), now).await;
        let mut visitors: Vec<&str> = Vec::new();
        let mut emails: Vec<&str> = Vec::new();
        let mut ids: Vec<i64> = Vec::new();
        for (_, event) in events {
            match &event.subject {
                Subject::Visitor(v) => visitors.push(v.as_str()),
                Subject::Email(e) => emails.push(e.as_str()),
                Subject::Contact(id) => ids.push(*id),
            }
        }
        for list in [&mut visitors, &mut emails] {
            list.sort_unstable();
            list.dedup();
        }
        ids.sort_unstable();
        ids.dedup();
        let touched: Vec<i64> = with_pool!(self.db(), write, |pool| {
            let mut tx = pool.begin_write().await.map_err(db_err)?;
            let wanted: Vec<Visiting> = visitors
                .iter()
                .map(|&visitor| Visiting {
                    visitor,
                    fields: "{}",
                    at: now,
                })
                .collect();
            let (by_visitor, _) = visitor_contacts!(tx, postgres, wanted);
            let mut by_email: HashMap<String, i64> = HashMap::new();
            for chunk in emails.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "INSERT INTO contacts (email, hidden_fields, first_seen, last_seen) VALUES {} \
                     ON CONFLICT (email) DO UPDATE SET email = excluded.email RETURNING email, id",
                    value_rows(postgres, chunk.len(), 3, |m| {
                        format!("({}, '{{}}', {}, {})", m[0], m[1], m[2])
                    })
                );
                let mut upsert = sqlx::query_as::<_, (String, i64)>(&sql).persistent(false);
                for email in chunk {
                    upsert = upsert.bind(*email).bind(now).bind(now);
                }
                by_email.extend(upsert.fetch_all(&mut *tx).await.map_err(db_err)?);
            }
            let mut known_ids = std::collections::HashSet::new();
            for chunk in ids.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "SELECT id FROM contacts WHERE id IN ({})",
                    value_rows(postgres, chunk.len(), 1, |m| m[0].clone())
                );
                let mut query = sqlx::query_scalar::<_, i64>(&sql).persistent(false);
                for id in chunk {
                    query = query.bind(id);
                }
                known_ids.extend(query.fetch_all(&mut *tx).await.map_err(db_err)?);
            }
            let mut rows: Vec<(i64, &NewEvent)> = Vec::with_capacity(events.len());
            for (index, event) in events {
                let contact = match &event.subject {
                    Subject::Visitor(v) => by_visitor.get(v.as_str()).copied(),
                    Subject::Email(e) => by_email.get(e.as_str()).copied(),
                    Subject::Contact(id) => known_ids.contains(id).then_some(*id),
                };
                match contact {
                    Some(contact) => rows.push((contact, event)),
                    None => report.rejected.push(Rejection {
                        index: *index,
                        field: "contact_id".into(),
                        reason: "no contact has this id".into(),
                    }),
                }
            }
            for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                let sql = insert_events_sql(postgres, chunk.len());
                let mut insert = sqlx::query(&sql).persistent(false);
                for (contact, event) in chunk {
                    insert = insert
                        .bind(*contact)
                        .bind(&event.name)
                        .bind(serde_json::Value::Object(event.properties.clone()).to_string())
                        .bind(event.occurred_at)
                        .bind(event.idempotency_key.as_deref());
                }
                let inserted = insert
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .rows_affected();
                report.accepted += inserted as usize;
                report.duplicates += chunk.len() - inserted as usize;
            }
            let mut touched: Vec<i64> = rows.iter().map(|(c, _)| *c).collect();
            touched.sort_unstable();
            touched.dedup();
            // Through the primary key in id order: concurrent batches on
            // Postgres lock shared contacts in the same order and never
            // deadlock. `now` is a number of ours, written in place so the
            // ids are the only values bound.
            for chunk in touched.chunks(ROWS_PER_STATEMENT) {
                let sql = format!(
                    "UPDATE contacts SET last_seen = {now} WHERE id IN ({}) AND last_seen < {now}",
                    value_rows(postgres, chunk.len(), 1, |m| m[0].clone())
                );
                let mut update = sqlx::query(&sql).persistent(false);
                for id in chunk {
                    update = update.bind(id);
                }
                update.execute(&mut *tx).await.map_err(db_err)?;
            }
            tx.commit_rechecked(self, &recheck, &touched, now).await?;
            Ok::<_, StoreError>(touched)
        })?;
        self.batch_stored(&touched, Changed::Events(&names), now)
            .await;
        report.rejected.sort_by_key(|r| r.index);
        Ok(report)
    }

    async fn identify(&self, who: &Identify, now: i64) -> StoreResult<Identified> {
        let email = who.email.as_str();
        let visitor = who.visitor_id.as_ref().map(|v| v.as_str());
        // A contact made or merged here is new to every rule (`never(..)`
        // holds for it); otherwise only what the lead gave can matter.
        // Which is known inside the transaction, so both are planned.
        let everything = self.recheck_plan(Changed::Everything, now).await;
        let details = self.recheck_plan(Changed::Details, now).await;
        let identified: Identified = with_pool!(self.db(), write, |pool| {
            let mut tx = pool.begin_write().await.map_err(db_err)?;
            // Two copies of one lead form (a double click) would both find
            // no contact by this email and both make one. Taking the
            // visitor's contact's row lock queues the second behind the
            // first, which then finds the contact the first made.
            if let Some(v) = visitor {
                sqlx::query(
                    "UPDATE contacts SET last_seen = last_seen WHERE id = \
                     (SELECT contact_id FROM contact_visitors WHERE visitor_id = $1)",
                )
                .bind(v)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            }
            let by_email: Option<i64> =
                sqlx::query_scalar("SELECT id FROM contacts WHERE email = $1")
                    .bind(email)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?;
            let by_visitor: Option<(i64, Option<String>)> = match visitor {
                None => None,
                Some(v) => sqlx::query_as(
                    "SELECT c.id, c.email FROM contact_visitors v \
                     JOIN contacts c ON c.id = v.contact_id WHERE v.visitor_id = $1",
                )
                .bind(v)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?,
            };
            let mut created = false;
            let mut merged_from = None;
            let contact_id = match (by_email, by_visitor) {
                (Some(e), Some((v, _))) if e == v => e,
                (Some(e), Some((v, None))) => {
                    merge_into!(tx, e, v);
                    merged_from = Some(v);
                    e
                }
                (None, Some((v, None))) => {
                    sqlx::query("UPDATE contacts SET email = $2 WHERE id = $1")
                        .bind(v)
                        .bind(email)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    v
                }
                (by_email, by_visitor) => {
                    // No contact behind the visitor yet, or one that is
                    // someone else (a shared device): the visitor id now
                    // points at the contact with this email.
                    let id = match by_email {
                        Some(id) => id,
                        None => {
                            created = true;
                            sqlx::query_scalar(
                                "INSERT INTO contacts (visitor_id, email, hidden_fields, first_seen, last_seen) \
                                 VALUES ($1, $2, '{}', $3, $3) RETURNING id",
                            )
                            .bind(if by_visitor.is_none() { visitor } else { None })
                            .bind(email)
                            .bind(now)
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(db_err)?
                        }
                    };
                    if let Some(v) = visitor {
                        if let Some((previous, _)) = by_visitor {
                            sqlx::query(
                                "UPDATE contacts SET visitor_id = NULL WHERE id = $1 AND visitor_id = $2",
                            )
                            .bind(previous)
                            .bind(v)
                            .execute(&mut *tx)
                            .await
                            .map_err(db_err)?;
                        }
                        sqlx::query(
                            "INSERT INTO contact_visitors (visitor_id, contact_id, first_seen) \
                             VALUES ($1, $2, $3) \
                             ON CONFLICT (visitor_id) DO UPDATE SET contact_id = excluded.contact_id",
                        )
                        .bind(v)
                        .bind(id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    }
                    id
                }
            };
            sqlx::query(
                "UPDATE contacts SET name = COALESCE($2, name), consent = COALESCE($3, consent), \
                 last_seen = CASE WHEN last_seen < $4 THEN $4 ELSE last_seen END WHERE id = $1",
            )
            .bind(contact_id)
            .bind(who.name.as_deref())
            .bind(who.consent)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            for change in &who.attributes {
                match change {
                    AttrChange::Set(a) => {
                        sqlx::query(
                            "INSERT INTO contact_attributes \
                             (contact_id, key, kind, value_text, value_num, value_folded) \
                             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (contact_id, key) DO UPDATE \
                             SET kind = excluded.kind, value_text = excluded.value_text, \
                             value_num = excluded.value_num, value_folded = excluded.value_folded",
                        )
                        .bind(contact_id)
                        .bind(&a.key)
                        .bind(a.kind.as_str())
                        .bind(&a.text)
                        .bind(number_in_text(&a.text))
                        .bind(stored_fold(&a.text))
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    }
                    AttrChange::Remove(key) => {
                        sqlx::query(
                            "DELETE FROM contact_attributes WHERE contact_id = $1 AND key = $2",
                        )
                        .bind(contact_id)
                        .bind(key)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    }
                }
            }
            let recheck = if created || merged_from.is_some() {
                &everything
            } else {
                &details
            };
            tx.commit_rechecked(self, recheck, &[contact_id], now)
                .await?;
            Ok::<_, StoreError>(Identified {
                contact_id,
                created,
                merged_from,
            })
        })?;
        Ok(identified)
    }

    async fn merge_contacts(&self, keep: i64, absorb: i64, now: i64) -> StoreResult<()> {
        if keep == absorb {
            return Err(StoreError::Conflict(
                "a contact cannot merge into itself".into(),
            ));
        }
        with_pool!(self.db(), write, |pool| {
            let mut tx = pool.begin_write().await.map_err(db_err)?;
            let exists: i64 = sqlx::query_scalar("SELECT count(*) FROM contacts WHERE id = $1")
                .bind(keep)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
            if exists == 0 {
                return Err(StoreError::NotFound);
            }
            // Both with an email: the absorbed one's email goes with it.
            merge_into!(tx, keep, absorb);
            tx.commit().await.map_err(db_err)?;
            Ok::<_, StoreError>(())
        })?;
        self.contact_changed(keep, Changed::Everything, now).await;
        Ok(())
    }

    async fn contact_id_by_email(&self, email: &Email) -> StoreResult<Option<i64>> {
        with_pool!(self.db(), read, |pool| {
            sqlx::query_scalar("SELECT id FROM contacts WHERE email = $1")
                .bind(email.as_str())
                .fetch_optional(pool)
                .await
                .map_err(db_err)
        })
    }

    async fn contacts(&self, filter: &ContactFilter) -> StoreResult<ContactList> {
        let after = filter.after.unwrap_or(ListCursor::START);
        let search = like_pattern(&filter.search);
        let attr_key = filter.attr_key.trim();
        let attr_value = if attr_key.is_empty() {
            ""
        } else {
            filter.attr_value.trim()
        };
        let completed = i64::from(filter.completed_quiz);
        let from = filter.seen_from.unwrap_or(i64::MIN);
        let until = filter.seen_until.unwrap_or(i64::MAX);
        let stopped = filter.stopped.clone().unwrap_or_default();
        let started_from = stopped.within.from.unwrap_or(i64::MIN);
        let started_until = stopped.within.until.unwrap_or(i64::MAX);
        let source = stopped.within.utm_source.unwrap_or_default();
        let filter_sql = contact_filter(self.db());
        let count_sql = format!("SELECT count(*) {filter_sql}");
        let list_sql = format!(
            "SELECT c.id, c.email, c.name, c.first_seen, c.last_seen {filter_sql} \
             AND c.last_seen <= $12 AND (c.last_seen < $12 OR c.id < $13) \
             ORDER BY c.last_seen DESC, c.id DESC LIMIT $14"
        );
        let (total, mut rows): (i64, Vec<SummaryRow>) = with_pool!(self.db(), read, |pool| {
            let total = sqlx::query_scalar(&count_sql)
                .persistent(false)
                .bind(&search)
                .bind(attr_key)
                .bind(attr_value)
                .bind(completed)
                .bind(from)
                .bind(until)
                .bind(&stopped.quiz)
                .bind(&stopped.question)
                .bind(started_from)
                .bind(started_until)
                .bind(&source)
                .fetch_one(pool)
                .await
                .map_err(db_err)?;
            let rows = sqlx::query_as(&list_sql)
                .persistent(false)
                .bind(&search)
                .bind(attr_key)
                .bind(attr_value)
                .bind(completed)
                .bind(from)
                .bind(until)
                .bind(&stopped.quiz)
                .bind(&stopped.question)
                .bind(started_from)
                .bind(started_until)
                .bind(&source)
                .bind(after.at)
                .bind(after.id)
                .bind(CONTACTS_PER_PAGE + 1)
                .fetch_all(pool)
                .await
                .map_err(db_err)?;
            Ok::<_, StoreError>((total, rows))
        })?;
        let more = rows.len() as i64 > CONTACTS_PER_PAGE;
        rows.truncate(CONTACTS_PER_PAGE as usize);
        let next = more.then(|| rows.last()).flatten().map(|r| ListCursor {
            at: r.last_seen,
            id: r.id,
        });
        Ok(ContactList {
            contacts: rows.into_iter().map(Into::into).collect(),
            total,
            next,
        })
    }

    async fn contact(&self, id: i64) -> StoreResult<ContactProfile> {
        with_pool!(self.db(), read, |pool| {
            let row: Option<(i64, Option<String>, Option<String>, i64, i64, bool, String)> =
                sqlx::query_as(
                    "SELECT id, email, name, first_seen, last_seen, consent, hidden_fields \
                     FROM contacts WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(db_err)?;
            let Some((id, email, name, first_seen, last_seen, consent, hidden_fields)) = row else {
                return Err(StoreError::NotFound);
            };
            let visitor_ids: Vec<String> = sqlx::query_scalar(
                "SELECT visitor_id FROM contact_visitors WHERE contact_id = $1 ORDER BY first_seen, visitor_id",
            )
            .bind(id)
            .fetch_all(pool)
            .await
            .map_err(db_err)?;
            let attributes: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT key, kind, value_text FROM contact_attributes WHERE contact_id = $1 ORDER BY key",
            )
            .bind(id)
            .fetch_all(pool)
            .await
            .map_err(db_err)?;
            let sessions: Vec<SessionRow> = sqlx::query_as(
                "SELECT s.id, q.slug AS quiz_slug, q.title AS quiz_title, v.version, \
                 s.started_at, s.completed_at, s.score \
                 FROM quiz_sessions s JOIN quizzes q ON q.id = s.quiz_id \
                 JOIN quiz_versions v ON v.id = s.version_id \
                 WHERE s.contact_id = $1 ORDER BY s.started_at DESC, s.id DESC",
            )
            .bind(id)
            .fetch_all(pool)
            .await
            .map_err(db_err)?;
            let answers: Vec<AnswerRow> = sqlx::query_as(
                "SELECT a.session_id, a.question_key, a.option_key, a.value_text, a.answered_at \
                 FROM answers a JOIN quiz_sessions s ON s.id = a.session_id \
                 WHERE s.contact_id = $1 ORDER BY a.answered_at, a.question_key, a.option_key",
            )
            .bind(id)
            .fetch_all(pool)
            .await
            .map_err(db_err)?;
            let category_scores: Vec<(i64, String, f64)> = sqlx::query_as(
                "SELECT c.session_id, c.category, c.score FROM session_category_scores c \
                 JOIN quiz_sessions s ON s.id = c.session_id \
                 WHERE s.contact_id = $1 ORDER BY c.category",
            )
            .bind(id)
            .fetch_all(pool)
            .await
            .map_err(db_err)?;
            let segments: Vec<String> = sqlx::query_scalar(
                "SELECT g.slug FROM segment_memberships m JOIN segments g ON g.id = m.segment_id \
                 WHERE m.contact_id = $1 AND m.exited_at IS NULL ORDER BY g.slug",
            )
            .bind(id)
            .fetch_all(pool)
            .await
            .map_err(db_err)?;
            let event_count: i64 =
                sqlx::query_scalar("SELECT count(*) FROM events WHERE contact_id = $1")
                    .bind(id)
                    .fetch_one(pool)
                    .await
                    .map_err(db_err)?;
            let sessions = sessions
                .into_iter()
                .map(|s| QuizSessionDetail {
                    answers: answers
                        .iter()
                        .filter(|a| a.session_id == s.id)
                        .map(|a| AnswerDetail {
                            question_key: a.question_key.clone(),
                            option_key: a.option_key.clone(),
                            value_text: a.value_text.clone(),
                            answered_at: a.answered_at,
                        })
                        .collect(),
                    category_scores: category_scores
                        .iter()
                        .filter(|c| c.0 == s.id)
                        .map(|c| (c.1.clone(), c.2))
                        .collect(),
                    id: s.id,
                    quiz_slug: s.quiz_slug,
                    quiz_title: s.quiz_title,
                    version: s.version,
                    started_at: s.started_at,
                    completed_at: s.completed_at,
                    score: s.score,
                })
                .collect();
            Ok(ContactProfile {
                summary: ContactSummary {
                    id,
                    email,
                    name,
                    first_seen,
                    last_seen,
                },
                consent,
                hidden_fields,
                visitor_ids,
                attributes: attributes
                    .into_iter()
                    .map(|(key, kind, text)| Attribute {
                        key,
                        kind: AttrKind::parse(&kind).unwrap_or(AttrKind::String),
                        text,
                    })
                    .collect(),
                sessions,
                segments,
                event_count,
            })
        })
    }

    async fn timeline(
        &self,
        contact_id: i64,
        before: Option<ListCursor>,
        limit: u32,
    ) -> StoreResult<TimelinePage> {
        let limit = i64::from(limit.clamp(1, 500));
        let before = before.unwrap_or(ListCursor::START);
        let sql = timeline_sql(self.db());
        let mut rows: Vec<EventRow> = with_pool!(self.db(), read, |pool| {
            sqlx::query_as(sql)
                .bind(contact_id)
                .bind(before.at)
                .bind(before.id)
                .bind(limit + 1)
                .fetch_all(pool)
                .await
                .map_err(db_err)
        })?;
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next = more.then(|| rows.last()).flatten().map(|r| ListCursor {
            at: r.occurred_at,
            id: r.id,
        });
        Ok(TimelinePage {
            events: rows
                .into_iter()
                .map(|r| EventRecord {
                    id: r.id,
                    name: r.name,
                    properties: r.properties,
                    occurred_at: r.occurred_at,
                })
                .collect(),
            next,
        })
    }

    async fn erase_contact(&self, id: i64) -> StoreResult<Erasure> {
        with_pool!(self.db(), write, |pool| {
            let mut tx = pool.begin_write().await.map_err(db_err)?;
            let events: i64 =
                sqlx::query_scalar("SELECT count(*) FROM events WHERE contact_id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_err)?;
            let quiz_sessions: i64 =
                sqlx::query_scalar("SELECT count(*) FROM quiz_sessions WHERE contact_id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_err)?;
            // Explicit, biggest first; the schema's ON DELETE CASCADE takes
            // whatever else refers to the contact.
            for sql in [
                "DELETE FROM events WHERE contact_id = $1",
                "DELETE FROM answers WHERE session_id IN (SELECT id FROM quiz_sessions WHERE contact_id = $1)",
                "DELETE FROM session_category_scores WHERE session_id IN (SELECT id FROM quiz_sessions WHERE contact_id = $1)",
                "DELETE FROM quiz_sessions WHERE contact_id = $1",
                "DELETE FROM segment_memberships WHERE contact_id = $1",
                "DELETE FROM contact_attributes WHERE contact_id = $1",
                "DELETE FROM contact_visitors WHERE contact_id = $1",
            ] {
                sqlx::query(sql)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            let deleted = sqlx::query("DELETE FROM contacts WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
            if deleted == 0 {
                return Err(StoreError::NotFound);
            }
            tx.commit().await.map_err(db_err)?;
            Ok(Erasure {
                contact_id: id,
                events,
                quiz_sessions,
            })
        })
    }

    async fn tracking_settings(&self) -> StoreResult<TrackingSettings> {
        let row: SettingsRow = with_pool!(self.db(), read, |pool| {
            sqlx::query_as(
                "SELECT site_key, allowed_origins, retention_days FROM tracking_settings WHERE id = 1",
            )
            .fetch_one(pool)
            .await
            .map_err(db_err)
        })?;
        Ok(row.into())
    }

    async fn save_tracking_settings(
        &self,
        allowed_origins: &[String],
        retention_days: i64,
    ) -> StoreResult<TrackingSettings> {
        let origins = allowed_origins.join("\n");
        let row: SettingsRow = with_pool!(self.db(), write, |pool| {
            sqlx::query_as(
                "UPDATE tracking_settings SET allowed_origins = $1, retention_days = $2 WHERE id = 1 \
                 RETURNING site_key, allowed_origins, retention_days",
            )
            .bind(&origins)
            .bind(retention_days)
            .fetch_one(pool)
            .await
            .map_err(db_err)
        })?;
        Ok(row.into())
    }

    async fn purge_stale_visitors(&self, now: i64) -> StoreResult<u64> {
        let days = self.tracking_settings().await?.retention_days.max(1);
        let cutoff = now.saturating_sub(days.saturating_mul(DAY_MS));
        let mut total = 0;
        // Small chunks, so the single SQLite writer is never held for long.
        loop {
            let deleted = with_pool!(self.db(), write, |pool| {
                sqlx::query(
                    "DELETE FROM contacts WHERE id IN (SELECT id FROM contacts \
                     WHERE email IS NULL AND last_seen < $1 ORDER BY last_seen LIMIT 500)",
                )
                .bind(cutoff)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
                .map_err(db_err)
            })?;
            total += deleted;
            if deleted == 0 {
                return Ok(total);
            }
        }
    }
}
