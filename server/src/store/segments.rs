//! Segments counted live with the rule compiler, and the tier playbook.

use super::contacts::SummaryRow;
use super::sql::{BeginWrite, bind_all, conflict_as, db_err, notify_changes, with_pool};
use super::{Db, SqlStore};
use async_trait::async_trait;
use quizfunnel::action::ActionKind;
use quizfunnel::contact::ContactSummary;
use quizfunnel::rule::{
    AttrValue, Catalog, ContactFacts, Dialect, EventFact, Rule, SessionFact, SqlPredicate, compile,
    segment_cycle, select_in_range,
};
use quizfunnel::store::{
    Rebuild, SegmentStore, SegmentSummary, Stay, StoreError, StoreResult, Tier, TierSummary,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(sqlx::FromRow)]
struct SegmentRow {
    id: i64,
    slug: String,
    name: String,
    description: String,
    rule: String,
    member_count: i64,
    updated_at: i64,
}

/// A segment with its count as pages show it (see `segment_counts` in the
/// migrations).
const SEGMENT_COLUMNS: &str = "SELECT g.id, g.slug, g.name, g.description, g.rule, \
    n.members AS member_count, g.updated_at \
    FROM segments g JOIN segment_counts n ON n.segment_id = g.id";

impl SqlStore {
    pub(super) fn dialect(&self) -> Dialect {
        match self.db() {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    async fn segment_rows(&self) -> StoreResult<Vec<SegmentRow>> {
        with_pool!(self.db(), read, |pool| {
            sqlx::query_as(&format!("{SEGMENT_COLUMNS} ORDER BY g.name, g.id"))
                .fetch_all(pool)
                .await
                .map_err(db_err)
        })
    }

    fn summary(&self, row: SegmentRow, count: i64) -> StoreResult<SegmentSummary> {
        let rule: Rule = serde_json::from_str(&row.rule)
            .map_err(|e| StoreError::Internal(format!("rule of segment {}: {e}", row.slug)))?;
        Ok(SegmentSummary {
            id: row.id,
            slug: row.slug,
            name: row.name,
            description: row.description,
            rule,
            count,
            updated_at: row.updated_at,
        })
    }
}

/// Segments in an order where every segment comes after those its rule
/// refers to (rules never form cycles: validation refuses them).
fn dependency_order(segments: Vec<SegmentSummary>) -> Vec<SegmentSummary> {
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut left = segments;
    let mut out = Vec::with_capacity(left.len());
    while !left.is_empty() {
        let before = left.len();
        let (ready, waiting): (Vec<_>, Vec<_>) = left.into_iter().partition(|s| {
            s.rule
                .referenced_segments()
                .iter()
                .all(|r| done.contains(*r) || *r == s.slug)
        });
        left = waiting;
        for s in ready {
            done.insert(s.slug.clone());
            out.push(s);
        }
        // A reference to a segment that no longer exists: order is moot.
        if left.len() == before {
            out.append(&mut left);
        }
    }
    out
}

const STAY_COLUMNS: &str = "SELECT g.slug, g.name, m.contact_id, m.entered_at, m.exited_at \
    FROM segment_memberships m JOIN segments g ON g.id = m.segment_id";

/// What happened to a contact, so that only the segments whose rules read
/// it are re-checked: most steps of a quiz can change no segment at all.
pub(super) enum Changed<'a> {
    /// Anything, e.g. two contacts merged into one.
    Everything,
    /// An answer mid-quiz (and the session it may have started).
    Answer,
    /// A completed quiz: its score, categories and placement, and the
    /// answers it keeps (those of a branch left by going back go).
    Completion,
    /// Name, consent or attributes given at a lead gate or by the API.
    Details,
    /// New events of these names.
    Events(&'a BTreeSet<&'a str>),
}

impl Changed<'_> {
    fn may_change(&self, rule: &Rule) -> bool {
        let counts = |names: &[&str]| {
            let events = rule.referenced_events();
            names.iter().any(|n| events.contains(n))
        };
        match self {
            Changed::Everything => true,
            Changed::Answer => {
                rule.reads_answers() || counts(&["question_answered", "quiz_started"])
            }
            Changed::Completion => {
                rule.reads_results() || rule.reads_answers() || counts(&["quiz_completed"])
            }
            Changed::Details => !rule.referenced_attributes().is_empty(),
            Changed::Events(names) => rule.referenced_events().iter().any(|e| names.contains(e)),
        }
    }
}

impl SqlStore {
    /// Re-evaluates one contact's segments after something about them
    /// changed. What changed is already stored; if this fails the periodic
    /// sweep catches up, so it is logged, not returned.
    pub(super) async fn contact_changed(&self, contact: i64, what: Changed<'_>, now: i64) {
        self.contacts_changed(&[contact], what, now).await;
    }

    /// [`Self::contact_changed`] for several contacts (an event batch on
    /// Postgres): one plan, then a short transaction per range of them, or
    /// one for them all when they are scattered. Not inside the batch's
    /// own transaction, which would hold the stays it changes until the
    /// whole batch is done. (SQLite re-checks a batch inside its
    /// transaction: see [`Recheck`].)
    pub(super) async fn contacts_changed(&self, contacts: &[i64], what: Changed<'_>, now: i64) {
        let work = self.recheck_plan(what, now).await;
        let (listed, ranges) = recheck_ranges(&work, contacts);
        let work = listed.as_deref().unwrap_or(&work);
        for range in ranges {
            if let Err(e) = self.sync_range(work, range, now).await {
                tracing::warn!(error = %e, ?range, "segment memberships not updated; the sweep will");
            }
        }
    }

    /// The steps a batch (events, quiz views) re-checks its contacts with
    /// inside its own transaction: on SQLite all of them, so the batch is
    /// one writer turn; on Postgres none, and [`Self::batch_stored`]
    /// re-checks them after, since inside, the count rows its stays change
    /// would be held until the whole batch is done, queueing other writers.
    pub(super) async fn batch_recheck_plan(&self, what: Changed<'_>, now: i64) -> Vec<SyncStep> {
        if self.is_postgres() {
            Vec::new()
        } else {
            self.recheck_plan(what, now).await
        }
    }

    /// After a batch commits: its contacts re-checked where
    /// [`Self::batch_recheck_plan`] left them (Postgres).
    pub(super) async fn batch_stored(&self, contacts: &[i64], what: Changed<'_>, now: i64) {
        if self.is_postgres() {
            self.contacts_changed(contacts, what, now).await;
        }
    }

    /// The steps that re-check a contact after `what` changed; none (logged)
    /// when the segments cannot be read, as the sweep catches up.
    pub(super) async fn recheck_plan(&self, what: Changed<'_>, now: i64) -> Vec<SyncStep> {
        self.checked_plan(what, now, true).await
    }

    /// Every segment with no actions: the memberships a completion's tier
    /// rules read through `in_segment`, brought up to date before its
    /// placement decides which tier acts.
    pub(super) async fn memberships_plan(&self, now: i64) -> Vec<SyncStep> {
        self.checked_plan(Changed::Everything, now, false).await
    }

    /// The plan version by which `what` changes no segment, when the plan
    /// this instance read last says so; `None` when it says otherwise or
    /// none was read yet. A write that checks the version in its own
    /// statement then needs neither a read of it first nor a re-check.
    pub(super) fn known_to_change_nothing(&self, what: Changed<'_>) -> Option<i64> {
        let planned = self.plans.latest()?;
        let affected = planned
            .segments
            .iter()
            .any(|p| what.may_change(&p.segment.rule));
        (!affected).then_some(planned.version)
    }

    async fn checked_plan(&self, what: Changed<'_>, now: i64, acting: bool) -> Vec<SyncStep> {
        self.plan_steps(now, |s| what.may_change(&s.rule), acting)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "segment memberships not updated; the sweep will");
                Vec::new()
            })
    }

    /// What syncing the segments `affected` picks takes: those segments and
    /// every segment whose rule uses one of them, in dependency order.
    async fn sync_plan(
        &self,
        now: i64,
        affected: impl Fn(&SegmentSummary) -> bool,
    ) -> StoreResult<Vec<SyncStep>> {
        self.plan_steps(now, affected, true).await
    }

    /// [`Self::sync_plan`], with the segments' entry actions when `acting`.
    async fn plan_steps(
        &self,
        now: i64,
        affected: impl Fn(&SegmentSummary) -> bool,
        acting: bool,
    ) -> StoreResult<Vec<SyncStep>> {
        let planned = self.planned_segments().await?;
        let mut synced: BTreeSet<&str> = BTreeSet::new();
        let mut work = Vec::new();
        for PlannedSegment { segment, actions } in &planned.segments {
            let uses_synced = segment
                .rule
                .referenced_segments()
                .iter()
                .any(|r| synced.contains(*r));
            if affected(segment) || uses_synced {
                let (sync, predicate) = self.sync_statements(&segment.rule, now);
                let has = |k: ActionKind| acting && actions.contains(k.as_str());
                let actions = entry_actions(
                    has(ActionKind::Webhook) || has(ActionKind::Handoff),
                    has(ActionKind::Tag),
                    NEW_STAYS,
                );
                // SQLite runs a script in one hand-over to its connection's
                // thread, and the writer waits on those hand-overs more
                // than on the statements; Postgres takes one statement per
                // set of bound values, and refuses values a statement
                // does not use.
                let (statements, one_contact) = if self.is_postgres() {
                    let sync = sync.into_iter().map(|sql| (sql, true));
                    let statements: Vec<(String, bool)> = sync
                        .chain(actions.into_iter().map(|sql| (sql, false)))
                        .collect();
                    let one_contact = statements
                        .iter()
                        .map(|(sql, _)| for_one_contact(sql))
                        .collect();
                    (statements, one_contact)
                } else {
                    let script = sync
                        .into_iter()
                        .chain(actions)
                        .collect::<Vec<_>>()
                        .join(";\n");
                    (vec![(script, true)], Vec::new())
                };
                work.push(SyncStep {
                    segment_id: segment.id,
                    statements,
                    one_contact,
                    rule_params: predicate.params,
                    handoff: has(ActionKind::Handoff).then(|| segment.name.clone()),
                    listed: false,
                });
                synced.insert(&segment.slug);
            }
        }
        Ok(work)
    }

    /// Every segment with its action kinds, in dependency order: from
    /// memory while the database's plan version says nothing moved, so an
    /// answer's re-check reads one number instead of every rule.
    async fn planned_segments(&self) -> StoreResult<Arc<PlannedSegments>> {
        // Read before the segments: a save landing between the two reads
        // leaves an older number beside newer rules, read again next time.
        let version: i64 = with_pool!(self.db(), read, |pool| {
            sqlx::query_scalar("SELECT version FROM segment_plan_version")
                .fetch_one(pool)
                .await
                .map_err(db_err)
        })?;
        if let Some(cached) = self.plans.get(version) {
            return Ok(cached);
        }
        let mut segments = Vec::new();
        for row in self.segment_rows().await? {
            segments.push(self.summary(row, 0)?);
        }
        let mut acting = self.segments_with_actions().await?;
        let planned = Arc::new(PlannedSegments {
            version,
            segments: dependency_order(segments)
                .into_iter()
                .map(|segment| PlannedSegment {
                    actions: acting.remove(&segment.id).unwrap_or_default(),
                    segment,
                })
                .collect(),
        });
        self.plans.put(planned.clone());
        Ok(planned)
    }

    /// Syncs the planned segments for everyone, a slice of contacts per
    /// transaction so other writers get their turn, at `pace`; `progress`
    /// hears how many contact ids of how many are done.
    async fn sync_everyone(
        &self,
        work: &[SyncStep],
        now: i64,
        pace: Pace,
        progress: impl AsyncProgress,
    ) -> StoreResult<()> {
        let last = self.last_contact_id().await?;
        self.sync_from(work, (0, last), now, pace, progress).await
    }

    async fn last_contact_id(&self) -> StoreResult<i64> {
        let last: Option<i64> = with_pool!(self.db(), read, |pool| {
            sqlx::query_scalar("SELECT max(id) FROM contacts")
                .fetch_one(pool)
                .await
                .map_err(db_err)
        })?;
        Ok(last.unwrap_or(0))
    }

    /// [`Self::sync_everyone`] for the contact ids in `range`. Slices in
    /// other lanes are other transactions: a rule reads only its own
    /// contact's stays, so they cannot see each other's half-done work.
    async fn sync_from(
        &self,
        work: &[SyncStep],
        (from, last): (i64, i64),
        now: i64,
        pace: Pace,
        mut progress: impl AsyncProgress,
    ) -> StoreResult<()> {
        use futures_util::StreamExt;
        if work.is_empty() {
            return Ok(());
        }
        let mut sizer = SliceSizer::new(pace.budget);
        // In order, so progress only moves forward; a slice still running
        // when the sync stops is rolled back, and the sync that stopped it
        // covers its contacts.
        let mut synced = futures_util::stream::FuturesOrdered::new();
        let mut next = Some(from);
        let mut changed = 0;
        loop {
            while synced.len() < pace.lanes.max(1)
                && let Some(start) = next
            {
                let size = sizer.size();
                let end = start.saturating_add(size - 1);
                next = end.checked_add(1).filter(|_| end < last);
                synced.push_back(async move {
                    let started = Instant::now();
                    let n = self.sync_range(work, (start, end), now).await?;
                    Ok::<_, StoreError>((end, size, started.elapsed(), n))
                });
            }
            let Some(slice) = synced.next().await else {
                break;
            };
            let (end, size, took, n) = slice?;
            sizer.took(size, took);
            changed += n;
            if !progress.report(end.min(last), last).await {
                break;
            }
        }
        drop(synced);
        // Planner statistics taken while the table was nearly empty would
        // mislead the plans of the syncs after this one (the per-contact
        // re-checks on every answer); autovacuum gets there minutes later.
        if changed >= ANALYZE_AFTER && self.is_postgres() {
            with_pool!(self.db(), write, |pool| {
                sqlx::query("ANALYZE segment_memberships")
                    .execute(pool)
                    .await
                    .map(|_| ())
                    .map_err(db_err)
            })?;
        }
        Ok(())
    }

    /// Runs the planned steps for the contacts with ids in `range`, in one
    /// transaction: one commit per change, and rules on segments see the
    /// stays synced just before them.
    async fn sync_range(&self, work: &[SyncStep], range: (i64, i64), now: i64) -> StoreResult<u64> {
        if work.is_empty() {
            return Ok(0);
        }
        let pg = self.is_postgres();
        let changed = with_pool!(self.db(), write, |pool| {
            let mut tx = pool.begin_write().await.map_err(db_err)?;
            let changed = run_steps!(tx, work, &[range], now, pg);
            if changed > 0 {
                notify_changes!(tx, pg);
            }
            tx.commit().await.map_err(db_err)?;
            Ok::<_, StoreError>(changed)
        })?;
        if changed > 0 {
            self.counts_changed();
        }
        Ok(changed)
    }

    async fn stays(&self, sql: &str, id: i64, limit: u32) -> StoreResult<Vec<Stay>> {
        let rows: Vec<(String, String, i64, i64, Option<i64>)> =
            with_pool!(self.db(), read, |pool| {
                sqlx::query_as(sql)
                    .bind(id)
                    .bind(i64::from(limit))
                    .fetch_all(pool)
                    .await
                    .map_err(db_err)
            })?;
        Ok(rows
            .into_iter()
            .map(
                |(segment_slug, segment_name, contact_id, entered_at, exited_at)| Stay {
                    segment_slug,
                    segment_name,
                    contact_id,
                    entered_at,
                    exited_at,
                },
            )
            .collect())
    }

    /// The two statements that bring one segment's stays in line with its
    /// rule: close the stays of contacts it no longer matches, open stays
    /// for those it newly matches. `$1` segment, `$2` now, `$3`..`$4` the
    /// contact ids synced, then the rule's own parameters.
    fn sync_statements(&self, rule: &Rule, now: i64) -> ([String; 2], SqlPredicate) {
        let predicate = compile(rule, self.dialect(), now, 5);
        // A long sync (a rebuild, the sweep) runs at the moment it began;
        // a contact re-checked since then, at a later moment, keeps what
        // that check decided: a stay entered later is not closed, and one
        // closed later is not opened again, both earlier than they were.
        // The `+`s keep SQLite on the contacts' few stays. On entries: by
        // segment it walked every stay of the segment for each contact (a
        // rebuild at 20,000 contacts went from 0.3 to 3 s); read once per
        // statement over the range instead (`NOT IN`), the stays made
        // ingestion at 1M contacts ten times slower. On exits: the time
        // bound chose the segment's stays by time, every one of them, for
        // a re-check of a hundred listed contacts (ingestion on SQLite at
        // 1M contacts fell from 4,020 to 631 events/s).
        let exits = format!(
            "UPDATE segment_memberships SET exited_at = $2 \
             WHERE segment_id = $1 AND exited_at IS NULL AND contact_id BETWEEN $3 AND $4 \
             AND +entered_at <= $2 \
             AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = segment_memberships.contact_id AND ({}))",
            predicate.sql
        );
        // The open stay is found by its unique index, not by `NOT EXISTS`:
        // while a new segment fills, Postgres's statistics still say it has
        // no stays, and it planned the anti-join as a scan of all of them
        // for every candidate (seconds per slice at a million contacts).
        // A re-check planned before the segment was deleted enters nobody
        // (the test of the segment is made once per statement). On
        // Postgres, one running while a delete has not yet committed still
        // fails on the foreign key; its savepoint leaves the contact to the
        // minute's sweep, and the answer or completion stands.
        let entries = format!(
            "INSERT INTO segment_memberships (segment_id, contact_id, entered_at) \
             SELECT $1, c.id, $2 FROM contacts c WHERE c.id BETWEEN $3 AND $4 \
             AND EXISTS (SELECT 1 FROM segments g WHERE g.id = $1) AND ({}) \
             AND NOT EXISTS (SELECT 1 FROM segment_memberships x WHERE x.contact_id = c.id \
                AND +x.segment_id = $1 AND x.exited_at > $2) \
             ON CONFLICT (segment_id, contact_id) WHERE exited_at IS NULL DO NOTHING",
            predicate.sql
        );
        ([exits, entries], predicate)
    }

    async fn end_rebuild(
        &self,
        segment_id: i64,
        now: i64,
        error: Option<&StoreError>,
    ) -> StoreResult<()> {
        let failed = error.map(|e| e.to_string());
        with_pool!(self.db(), write, |pool| {
            sqlx::query(
                "UPDATE segment_rebuilds SET finished_at = $2, error = $3, \
                 done = CASE WHEN $4 THEN done ELSE total END \
                 WHERE segment_id = $1 AND started_at = $2",
            )
            .bind(segment_id)
            .bind(now)
            .bind(&failed)
            .bind(failed.is_some())
            .execute(pool)
            .await
            .map_err(db_err)?;
            Ok(())
        })
    }

    async fn finish_abandoned_rebuilds(&self, now: i64) -> StoreResult<()> {
        with_pool!(self.db(), write, |pool| {
            sqlx::query(
                "UPDATE segment_rebuilds SET finished_at = $1, done = total \
                 WHERE finished_at IS NULL AND started_at < $1",
            )
            .bind(now)
            .execute(pool)
            .await
            .map_err(db_err)?;
            Ok(())
        })
    }

    /// Which kinds of action each segment takes on entry.
    async fn segments_with_actions(&self) -> StoreResult<BTreeMap<i64, BTreeSet<String>>> {
        let rows: Vec<(i64, String)> = with_pool!(self.db(), read, |pool| {
            sqlx::query_as("SELECT DISTINCT segment_id, kind FROM segment_actions")
                .fetch_all(pool)
                .await
                .map_err(db_err)
        })?;
        let mut out: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
        for (segment, kind) in rows {
            out.entry(segment).or_default().insert(kind);
        }
        Ok(out)
    }
}

/// Writes a rebuild's progress where every instance's pages can read it,
/// and stops the rebuild once a later save (on any instance) has started
/// another: going on would spend the writer on the old rule and could
/// write its stays over the new one's.
struct RebuildProgress<'a> {
    store: &'a SqlStore,
    segment_id: i64,
    started_at: i64,
    /// When progress was last written; none yet, so the first slice
    /// already learns whether a later save replaced this rebuild.
    written_at: Option<Instant>,
}

/// How often a rebuild writes its progress (and learns whether it was
/// replaced): on SQLite each write is a turn at the one writer, and a
/// slice takes a few milliseconds.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

impl AsyncProgress for RebuildProgress<'_> {
    async fn report(&mut self, done: i64, total: i64) -> bool {
        let due = self
            .written_at
            .is_none_or(|at| at.elapsed() >= PROGRESS_EVERY);
        if !due && done < total {
            return true;
        }
        self.written_at = Some(Instant::now());
        let written = with_pool!(self.store.db(), write, |pool| {
            sqlx::query(
                "UPDATE segment_rebuilds SET done = $2, total = $3 \
                 WHERE segment_id = $1 AND started_at = $4",
            )
            .bind(self.segment_id)
            .bind(done)
            .bind(total)
            .bind(self.started_at)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        });
        match written {
            Ok(rows) => rows > 0,
            Err(e) => {
                tracing::warn!(error = %e, segment = self.segment_id, "rebuild progress not recorded");
                true
            }
        }
    }
}

/// The most ranges of contacts a rule's count runs as at once.
const MAX_COUNT_PARTS: i64 = 4;

/// How many ranges of contacts one piece of work runs as at once: the
/// machine's cores, up to [`MAX_COUNT_PARTS`].
fn parallel_parts() -> i64 {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get() as i64)
        .clamp(1, MAX_COUNT_PARTS)
}

/// `first..=last` cut into at most `parts` ranges that cover it exactly.
fn id_ranges(first: i64, last: i64, parts: i64) -> impl Iterator<Item = (i64, i64)> {
    let span = (last - first) / parts + 1;
    (0..parts)
        .map(move |i| first.saturating_add(i * span))
        .take_while(move |from| *from <= last)
        .map(move |from| (from, from.saturating_add(span - 1).min(last)))
}

/// Contacts synced per transaction when everyone is synced, and the
/// fewest a slice takes.
const SYNC_SLICE: i64 = 1_000;
/// The most contacts a slice grows to.
const MAX_SYNC_SLICE: i64 = 128_000;
/// How long a rebuild's slice may take on Postgres. A slice of a simple
/// rule takes milliseconds, and each one costs a plan, a commit and a
/// progress check besides; a transaction there holds no one else up for
/// long but the segment's count row, which it takes as it finishes.
const REBUILD_SLICE_BUDGET: Duration = Duration::from_millis(200);

/// How a sync goes through everyone: slices at once, and how long one may
/// take (none: [`SYNC_SLICE`] contacts each).
#[derive(Clone, Copy, Debug)]
struct Pace {
    lanes: usize,
    budget: Option<Duration>,
}

impl Pace {
    /// Background syncs, beside served traffic: on SQLite each slice holds
    /// the one writer that page views wait for.
    const STEADY: Pace = Pace {
        lanes: 1,
        budget: None,
    };

    /// A rebuild, which someone waits on. On Postgres slices run side by
    /// side, as a count's ranges do, and grow while they are quick;
    /// SQLite's one writer would only queue them, and page views wait
    /// behind it.
    fn rebuild(postgres: bool) -> Pace {
        if postgres {
            Pace {
                lanes: parallel_parts() as usize,
                budget: Some(REBUILD_SLICE_BUDGET),
            }
        } else {
            Pace::STEADY
        }
    }
}

/// How many contacts a sync's next slice takes. With a budget, slices
/// double while one takes under half of it and halve when one overruns
/// it; a size that overran is not tried again, as past some size a rule's
/// plan can turn from index lookups to reading whole tables.
#[derive(Debug)]
struct SliceSizer {
    size: i64,
    budget: Option<Duration>,
    /// The smallest size that overran.
    ceiling: i64,
}

impl SliceSizer {
    fn new(budget: Option<Duration>) -> Self {
        Self {
            size: SYNC_SLICE,
            budget,
            ceiling: i64::MAX,
        }
    }

    fn size(&self) -> i64 {
        self.size
    }

    /// A slice of `size` contacts took `took`. Slices started before the
    /// last resize report the old size and are heard only if they overran.
    fn took(&mut self, size: i64, took: Duration) {
        let Some(budget) = self.budget else {
            return;
        };
        if took > budget {
            self.ceiling = self.ceiling.min(size);
            self.size = (size / 2).clamp(SYNC_SLICE, self.size);
        } else if took < budget / 2 && size == self.size && size * 2 < self.ceiling {
            self.size = (size * 2).min(MAX_SYNC_SLICE);
        }
    }
}

/// Stays opened or closed by one sync past which Postgres is asked to
/// re-read the table's statistics.
const ANALYZE_AFTER: u64 = 50_000;

/// Contacts an event batch makes are numbered in a row: re-checked as one
/// range, a rule is asked once for all of them instead of once each.
/// Contacts in the gaps are re-checked too, which is harmless.
const RUN_GAP: i64 = 16;

/// Sorted ids as ranges, joining neighbours at most `gap` apart.
fn id_runs(ids: &[i64], gap: i64) -> Vec<(i64, i64)> {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    let mut runs: Vec<(i64, i64)> = Vec::new();
    for id in sorted {
        match runs.last_mut() {
            Some((_, to)) if id - *to <= gap => *to = id.max(*to),
            _ => runs.push((id, id)),
        }
    }
    runs
}

/// One segment's part of a sync.
pub(super) struct SyncStep {
    segment_id: i64,
    /// The sync's two statements, then those of the segment's entry
    /// actions, run with `$1` segment, `$2` now, `$3`..`$4` the contact ids
    /// and, where marked, the rule's parameters after; on SQLite, one
    /// script of them all.
    statements: Vec<(String, bool)>,
    /// On Postgres, `statements` for a single contact (see
    /// [`for_one_contact`]); empty on SQLite and when `listed`.
    one_contact: Vec<String>,
    /// Bound after `$4` to the statements marked for them.
    rule_params: Vec<quizfunnel::rule::SqlParam>,
    /// The segment's name, when it hands its new contacts to sales.
    handoff: Option<String>,
    /// Narrowed to a list of contacts written into the statements (see
    /// [`SyncStep::for_ids`]): text that changes with each batch, so not
    /// kept among the connection's prepared statements.
    listed: bool,
}

impl SyncStep {
    /// This step for the contacts in `ids` (comma-separated) only, run over
    /// the range from the first to the last: each test of the range also
    /// asks for the list. The ids are numbers of ours, so written in place.
    fn for_ids(&self, ids: &str) -> SyncStep {
        SyncStep {
            segment_id: self.segment_id,
            statements: self
                .statements
                .iter()
                .map(|(sql, with_rule)| (narrowed_to(sql, ids), *with_rule))
                .collect(),
            one_contact: Vec::new(),
            rule_params: self.rule_params.clone(),
            handoff: self.handoff.clone(),
            listed: true,
        }
    }
}

/// `sql` with each `<column> BETWEEN $3 AND $4` also requiring the column
/// to be one of `ids`, which the index is then searched by.
fn narrowed_to(sql: &str, ids: &str) -> String {
    // The unary plus keeps the range from choosing the index: SQLite
    // otherwise walked a segment's whole range of stays for a handful of
    // listed contacts.
    each_range(sql, |column| {
        format!("+{column} BETWEEN $3 AND $4 AND {column} IN ({ids})")
    })
}

/// `sql` for a range of one contact (`$3` = `$4`), each `<column> BETWEEN
/// $3 AND $4` written as an equality. Postgres keeps one plan for a
/// statement it has run five times with plans as good; a range's plan
/// depends on its width, an equality's does not, so this form can be kept
/// prepared and planned once, which the range cannot (see `run_steps`).
pub(super) fn for_one_contact(sql: &str) -> String {
    each_range(sql, |column| format!("{column} = $3 AND {column} <= $4"))
}

/// `sql` with each `<column> BETWEEN $3 AND $4` replaced by `with(column)`.
fn each_range(sql: &str, with: impl Fn(&str) -> String) -> String {
    const RANGE: &str = " BETWEEN $3 AND $4";
    let mut out = String::with_capacity(sql.len() * 2);
    let mut rest = sql;
    while let Some(at) = rest.find(RANGE) {
        let before = &rest[..at];
        let column = before
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .map_or(before, |i| &before[i + 1..]);
        out.push_str(&before[..before.len() - column.len()]);
        out.push_str(&with(column));
        rest = &rest[at + RANGE.len()..];
    }
    out.push_str(rest);
    out
}

/// Several SQLite steps as one script: `runs` in order, each step's
/// values numbered after the run before's.
struct JoinedScript<'a> {
    sql: String,
    runs: Vec<(&'a SyncStep, (i64, i64))>,
    /// Whether the text recurs, so is worth keeping prepared.
    kept: bool,
}

/// The SQLite steps for `ranges` as few scripts as can be: each is one
/// hand-over to the writer's thread, and a re-check waited on those more
/// than on its statements. A script runs its statements in order, so
/// segments still see the stays they use settled; it ends after a step
/// that hands its new contacts to sales, whose owners are picked in
/// between.
fn joined_scripts<'a>(work: &'a [SyncStep], ranges: &[(i64, i64)]) -> Vec<JoinedScript<'a>> {
    let mut scripts: Vec<JoinedScript<'a>> = Vec::new();
    let mut values = 0;
    for step in work {
        for &range in ranges {
            let open = scripts
                .last()
                .and_then(|s| s.runs.last())
                .is_some_and(|(last, _)| last.handoff.is_none());
            if !open {
                scripts.push(JoinedScript {
                    sql: String::new(),
                    runs: Vec::new(),
                    kept: true,
                });
                values = 0;
            }
            let script = scripts.last_mut().expect("pushed above");
            for (sql, _) in &step.statements {
                if !script.sql.is_empty() {
                    script.sql.push_str(";\n");
                }
                script.sql.push_str(&renumbered(sql, values));
            }
            script.runs.push((step, range));
            script.kept &= !step.listed;
            values += 4 + step.rule_params.len();
        }
    }
    scripts
}

/// `sql` with each `$n` written `$(n + by)`. Rules bind every value they
/// compare, so `$` and a digit appear in no literal.
fn renumbered(sql: &str, by: usize) -> String {
    if by == 0 {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + sql.len() / 8);
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if let Ok(n) = rest[..digits].parse::<usize>() {
            out.push_str(&(n + by).to_string());
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

/// Past this many runs of neighbouring ids, contacts are re-checked as one
/// list instead of run by run: a batch of 100 contacts spread over the
/// whole table was 100 passes of every statement of every segment.
const RUNS_AS_LIST: usize = 4;

/// How to re-check `contacts` with `work`: the ranges, and when the
/// contacts are scattered, the steps narrowed to them over one range.
fn recheck_ranges(work: &[SyncStep], contacts: &[i64]) -> (Option<Vec<SyncStep>>, Vec<(i64, i64)>) {
    let runs = id_runs(contacts, RUN_GAP);
    match (runs.first(), runs.last()) {
        (Some(&(first, _)), Some(&(_, last))) if runs.len() > RUNS_AS_LIST => {
            let mut ids = contacts.to_vec();
            ids.sort_unstable();
            ids.dedup();
            let ids = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            let listed = work.iter().map(|step| step.for_ids(&ids)).collect();
            (Some(listed), vec![(first, last)])
        }
        _ => (None, runs),
    }
}

/// A segment as re-checks need it: its rule and the kinds of action it
/// takes on entry.
struct PlannedSegment {
    segment: SegmentSummary,
    actions: BTreeSet<String>,
}

/// Every segment, in dependency order, as of one plan version.
pub(super) struct PlannedSegments {
    version: i64,
    segments: Vec<PlannedSegment>,
}

/// The newest [`PlannedSegments`] read, shared by a store's clones.
#[derive(Clone, Default)]
pub(super) struct PlanCache(Arc<Mutex<Option<Arc<PlannedSegments>>>>);

impl std::fmt::Debug for PlanCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlanCache")
    }
}

impl PlanCache {
    fn get(&self, version: i64) -> Option<Arc<PlannedSegments>> {
        self.latest().filter(|p| p.version == version)
    }

    fn latest(&self) -> Option<Arc<PlannedSegments>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Keeps `planned` unless a newer version is already kept (two
    /// requests may read at once, the older finishing last).
    fn put(&self, planned: Arc<PlannedSegments>) {
        let mut cached = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if cached.as_ref().is_none_or(|p| p.version <= planned.version) {
            *cached = Some(planned);
        }
    }
}

/// Hears how far a long sync has come: contact ids done, of how many.
trait AsyncProgress: Send {
    /// Whether the sync should go on.
    fn report(&mut self, done: i64, total: i64) -> impl std::future::Future<Output = bool> + Send;
}

/// For syncs nobody watches.
struct Quietly;

impl AsyncProgress for Quietly {
    async fn report(&mut self, _: i64, _: i64) -> bool {
        true
    }
}

/// The stays this sync opened that take the segment's actions: `$1`
/// segment, `$2` now, `$3`..`$4` the contact ids synced. Tiers never
/// overlap, so a tier's segment acts only for the leads placed in that
/// tier: a fast-track lead whose score also meets nurture's rule is not
/// sent nurture's sequence.
const NEW_STAYS: &str = "m.segment_id = $1 AND m.exited_at IS NULL AND m.entered_at = $2 \
    AND m.contact_id BETWEEN $3 AND $4 \
    AND (NOT EXISTS (SELECT 1 FROM tiers t WHERE t.segment_id = m.segment_id) \
        OR EXISTS (SELECT 1 FROM leads l WHERE l.contact_id = m.contact_id \
            AND l.segment_id = m.segment_id))";

/// Statements run, in the sync's transaction, for the stays it opened: the
/// outbox rows of the segment's webhooks (one per action and stay, whatever
/// retries or replays follow) and its tags.
pub(super) fn entry_actions(webhooks: bool, tags: bool, scope: &str) -> Vec<String> {
    let mut out = Vec::new();
    if webhooks {
        out.push(format!(
            "INSERT INTO webhook_deliveries (action_id, segment_id, contact_id, idempotency_key, \
                entered_at, next_attempt_at, give_up_at, created_at) \
             SELECT a.id, m.segment_id, m.contact_id, \
                'qf-' || a.id || '-' || m.contact_id || '-' || m.entered_at, \
                m.entered_at, $2, $2 + {}, $2 \
             FROM segment_memberships m JOIN segment_actions a ON a.segment_id = m.segment_id \
             WHERE {scope} AND a.url IS NOT NULL \
             ON CONFLICT (idempotency_key) DO NOTHING",
            quizfunnel::action::RETRY_FOR_MS
        ));
    }
    if tags {
        out.push(format!(
            "INSERT INTO contact_tags (contact_id, tag, added_at) \
             SELECT m.contact_id, a.tag, $2 \
             FROM segment_memberships m JOIN segment_actions a ON a.segment_id = m.segment_id \
             WHERE {scope} AND a.kind = 'tag' AND a.tag IS NOT NULL \
             ON CONFLICT (contact_id, tag) DO NOTHING"
        ));
    }
    out
}

/// Runs planned steps for the contacts with ids in `$ranges` on `$tx`
/// (a transaction of either driver; `$pg` says which); evaluates to the
/// stays changed.
macro_rules! run_steps {
    ($tx:ident, $work:expr, $ranges:expr, $now:expr, $pg:expr) => {{
        let (work, ranges, now): (&[SyncStep], &[(i64, i64)], i64) = ($work, $ranges, $now);
        let mut changed = 0u64;
        if $pg {
            // Segments in dependency order, each for every range, so a
            // segment sees the stays it uses already settled.
            for step in work {
                for &(from, to) in ranges {
                    let one = from == to && !step.one_contact.is_empty();
                    // Counts the action rows too: they follow entries only.
                    for (at, (sql, with_rule)) in step.statements.iter().enumerate() {
                        let rule: &[quizfunnel::rule::SqlParam] =
                            if *with_rule { &step.rule_params } else { &[] };
                        // A statement kept prepared on Postgres ends up with
                        // one plan for every run (see `for_one_contact`): a
                        // range's is planned for its own width each time.
                        let sql = if one { &step.one_contact[at] } else { sql };
                        changed += bind_all!(
                            sqlx::query(sql)
                                .persistent(one)
                                .bind(step.segment_id)
                                .bind(now)
                                .bind(from)
                                .bind(to),
                            rule
                        )
                        .execute(&mut *$tx)
                        .await
                        .map_err(db_err)?
                        .rows_affected();
                    }
                    if let Some(segment_name) = &step.handoff {
                        hand_off!(
                            $tx,
                            step.segment_id,
                            segment_name,
                            (from, to),
                            now,
                            NEW_STAYS
                        );
                    }
                }
            }
        } else {
            for script in joined_scripts(work, ranges) {
                let mut query = sqlx::query(&script.sql).persistent(script.kept);
                for &(step, (from, to)) in &script.runs {
                    query = bind_all!(
                        query.bind(step.segment_id).bind(now).bind(from).bind(to),
                        &step.rule_params
                    );
                }
                changed += query
                    .execute(&mut *$tx)
                    .await
                    .map_err(db_err)?
                    .rows_affected();
                if let Some((step, (from, to))) = script.runs.last() {
                    if let Some(segment_name) = &step.handoff {
                        hand_off!(
                            $tx,
                            step.segment_id,
                            segment_name,
                            (*from, *to),
                            now,
                            NEW_STAYS
                        );
                    }
                }
            }
        }
        changed
    }};
}
use run_steps;

/// A lead placed in a tier whose segment they were in already: no sync
/// opens a stay for them, so the tier's actions are run here, once per
/// stay (a webhook's key names the stay). `$3` and `$4` are both the lead,
/// in the form [`for_one_contact`] gives.
pub(super) const PLACED_STAY: &str = "m.segment_id = $1 AND m.exited_at IS NULL AND m.entered_at < $2 \
    AND m.contact_id = $3 AND m.contact_id <= $4";

/// Runs the entry actions of tier segment `$segment` for `$contact`,
/// placed in that tier at `$now` on `$tx` (a transaction of either driver).
macro_rules! act_on_placement {
    ($tx:ident, $segment:expr, $contact:expr, $now:expr) => {{
        let (segment, contact, now): (i64, i64, i64) = ($segment, $contact, $now);
        let kinds: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT kind FROM segment_actions WHERE segment_id = $1")
                .bind(segment)
                .fetch_all(&mut *$tx)
                .await
                .map_err(db_err)?;
        let has = |k: ActionKind| kinds.iter().any(|kind| kind == k.as_str());
        let statements = entry_actions(
            has(ActionKind::Webhook) || has(ActionKind::Handoff),
            has(ActionKind::Tag),
            PLACED_STAY,
        );
        for sql in &statements {
            sqlx::query(sql)
                .bind(segment)
                .bind(now)
                .bind(contact)
                .bind(contact)
                .execute(&mut *$tx)
                .await
                .map_err(db_err)?;
        }
        if has(ActionKind::Handoff) {
            let name: String = sqlx::query_scalar("SELECT name FROM segments WHERE id = $1")
                .bind(segment)
                .fetch_one(&mut *$tx)
                .await
                .map_err(db_err)?;
            hand_off!($tx, segment, &name, (contact, contact), now, PLACED_STAY);
        }
    }};
}
pub(super) use act_on_placement;

/// Re-checks contacts' segments inside the transaction that changed them,
/// so the change and its memberships take one writer turn.
pub(super) trait Recheck {
    /// Under a savepoint: if the re-check fails, the change still commits
    /// and the sweep catches up. Returns the stays changed; on Postgres,
    /// other instances hear of them when the transaction commits.
    async fn recheck(&mut self, work: &[SyncStep], contacts: &[i64], now: i64) -> StoreResult<u64>;

    /// [`Recheck::recheck`], then commits, then tells this instance's live
    /// counts when stays changed.
    async fn commit_rechecked(
        self,
        store: &SqlStore,
        work: &[SyncStep],
        contacts: &[i64],
        now: i64,
    ) -> StoreResult<()>;
}

macro_rules! impl_recheck {
    ($db:ty, $pg:expr) => {
        impl Recheck for sqlx::Transaction<'_, $db> {
            async fn recheck(
                &mut self,
                work: &[SyncStep],
                contacts: &[i64],
                now: i64,
            ) -> StoreResult<u64> {
                if work.is_empty() || contacts.is_empty() {
                    return Ok(0);
                }
                let (listed, ranges) = recheck_ranges(work, contacts);
                let work = listed.as_deref().unwrap_or(work);
                let mut savepoint = sqlx::Acquire::begin(&mut *self).await.map_err(db_err)?;
                let done: StoreResult<u64> =
                    async { Ok(run_steps!(savepoint, work, &ranges, now, $pg)) }.await;
                match done {
                    Ok(changed) => {
                        savepoint.commit().await.map_err(db_err)?;
                        if $pg && changed > 0 {
                            sqlx::query("SELECT pg_notify($1, '')")
                                .bind(super::CHANGES_CHANNEL)
                                .execute(&mut **self)
                                .await
                                .map_err(db_err)?;
                        }
                        Ok(changed)
                    }
                    Err(e) => {
                        savepoint.rollback().await.map_err(db_err)?;
                        tracing::warn!(error = %e, ?contacts, "segment memberships not updated; the sweep will");
                        Ok(0)
                    }
                }
            }

            async fn commit_rechecked(
                mut self,
                store: &SqlStore,
                work: &[SyncStep],
                contacts: &[i64],
                now: i64,
            ) -> StoreResult<()> {
                let changed = self.recheck(work, contacts, now).await?;
                self.commit().await.map_err(db_err)?;
                if changed > 0 {
                    store.counts_changed();
                }
                Ok(())
            }
        }
    };
}
impl_recheck!(sqlx::Sqlite, false);
impl_recheck!(sqlx::Postgres, true);

/// Gives each contact who just entered a handoff segment, and has no owner
/// yet, an owner: the active sales users in turn, least recently given a
/// lead first. Each handoff is written to the lead's history.
macro_rules! hand_off {
    ($tx:ident, $segment:expr, $segment_name:expr, $range:expr, $now:expr, $scope:expr) => {{
        let (segment, (from, to), now): (i64, (i64, i64), i64) = ($segment, $range, $now);
        // Kept prepared only in the form whose plan fits every run (see
        // `for_one_contact`).
        let one = from == to;
        let scope = if one {
            super::segments::for_one_contact($scope)
        } else {
            $scope.to_string()
        };
        let sql = format!(
            "SELECT m.contact_id FROM segment_memberships m JOIN contacts c ON c.id = m.contact_id \
             WHERE {scope} AND c.owner_id IS NULL ORDER BY m.contact_id"
        );
        let leads: Vec<i64> = sqlx::query_scalar(&sql)
            .persistent(one)
            .bind(segment)
            .bind(now)
            .bind(from)
            .bind(to)
            .fetch_all(&mut *$tx)
            .await
            .map_err(db_err)?;
        if !leads.is_empty() {
            let sales: Vec<i64> = sqlx::query_scalar(
                "SELECT u.id FROM users u WHERE u.role = 'sales' AND u.active \
                 ORDER BY COALESCE((SELECT max(h.at) FROM lead_changes h WHERE h.owner_id = u.id), 0), u.id",
            )
            .fetch_all(&mut *$tx)
            .await
            .map_err(db_err)?;
            if sales.is_empty() {
                tracing::warn!(segment, "no active sales user to hand leads to");
            }
            let note = format!("Handed off on entering {}", $segment_name);
            for (lead, owner) in leads.iter().zip(sales.iter().cycle()) {
                sqlx::query("UPDATE contacts SET owner_id = $1 WHERE id = $2")
                    .bind(owner)
                    .bind(lead)
                    .execute(&mut *$tx)
                    .await
                    .map_err(db_err)?;
                sqlx::query(
                    "INSERT INTO lead_changes (contact_id, at, owner_id, note) VALUES ($1, $2, $3, $4)",
                )
                .bind(lead)
                .bind(now)
                .bind(owner)
                .bind(&note)
                .execute(&mut *$tx)
                .await
                .map_err(db_err)?;
            }
        }
    }};
}
pub(super) use hand_off;

/// The Postgres advisory lock saves of rules naming segments take turns on.
const RULES_NAMING_SEGMENTS: i64 = 0x7166_7275_6c65;

/// Refuses a rule naming a segment that is gone, inside the transaction
/// that saves it: a segment deleted since the rule was checked would leave
/// `in_segment` matching nobody, quietly. On Postgres each named segment's
/// row is held until the save commits, so a delete waits for it (see
/// `delete_segment`).
macro_rules! segments_still_there {
    ($tx:ident, $pg:expr, $slugs:expr) => {
        for slug in &$slugs {
            let found: Option<i64> = sqlx::query_scalar(if $pg {
                "SELECT id FROM segments WHERE slug = $1 FOR SHARE"
            } else {
                "SELECT id FROM segments WHERE slug = $1"
            })
            .bind(*slug)
            .fetch_optional(&mut *$tx)
            .await
            .map_err(db_err)?;
            if found.is_none() {
                return Err(StoreError::Conflict(format!(
                    "this rule uses the segment \"{slug}\", which no longer exists"
                )));
            }
        }
    };
}

#[async_trait]
impl SegmentStore for SqlStore {
    async fn create_segment(
        &self,
        slug: &str,
        name: &str,
        description: &str,
        rule: &Rule,
        now: i64,
    ) -> StoreResult<i64> {
        let json = serde_json::to_string(rule).map_err(|e| StoreError::Internal(e.to_string()))?;
        let used = rule.referenced_segments();
        let pg = self.is_postgres();
        with_pool!(self.db(), write, |pool| {
            let mut tx = pool.begin_write().await.map_err(db_err)?;
            segments_still_there!(tx, pg, used);
            let id = sqlx::query_scalar(
                "INSERT INTO segments (slug, name, description, rule, updated_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(slug)
            .bind(name)
            .bind(description)
            .bind(&json)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(conflict_as("another segment uses that slug"))?;
            tx.commit().await.map_err(db_err)?;
            Ok(id)
        })
    }

    async fn update_segment(
        &self,
        id: i64,
        name: &str,
        description: &str,
        rule: &Rule,
        now: i64,
    ) -> StoreResult<()> {
        let json = serde_json::to_string(rule).map_err(|e| StoreError::Internal(e.to_string()))?;
        let used = rule.referenced_segments();
        let pg = self.is_postgres();
        let changed = with_pool!(self.db(), write, |pool| {
            let mut tx = pool.begin_write().await.map_err(db_err)?;
            // Rules checked at once can close a loop between them (a names
            // b while b is saved naming c, which names a), each check
            // passing before the others were saved. Saves of rules that
            // name segments take turns, as every SQLite write does, and
            // ask again below against what the saves before them stored.
            if pg && !used.is_empty() {
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(RULES_NAMING_SEGMENTS)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
            }
            segments_still_there!(tx, pg, used);
            if !used.is_empty() {
                let rows: Vec<(i64, String, String)> =
                    sqlx::query_as("SELECT id, slug, rule FROM segments")
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(db_err)?;
                let mut own = None;
                let mut catalog = Catalog::default();
                for (other, slug, stored) in rows {
                    if other == id {
                        own = Some(slug.clone());
                    }
                    catalog
                        .segments
                        .insert(slug, serde_json::from_str(&stored).ok());
                }
                if let Some(why) = own.and_then(|own| segment_cycle(rule, &catalog, &own)) {
                    return Err(StoreError::Conflict(format!(
                        "this rule would close a loop with the segments as saved now: {why}"
                    )));
                }
            }
            let changed = sqlx::query(
                "UPDATE segments SET name = $1, description = $2, rule = $3, updated_at = $4 WHERE id = $5",
            )
            .bind(name)
            .bind(description)
            .bind(&json)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
            tx.commit().await.map_err(db_err)?;
            changed
        });
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn segment(&self, id: i64) -> StoreResult<SegmentSummary> {
        let row: SegmentRow = with_pool!(self.db(), read, |pool| {
            sqlx::query_as(&format!("{SEGMENT_COLUMNS} WHERE g.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(db_err)?
                .ok_or(StoreError::NotFound)
        })?;
        let count = row.member_count;
        self.summary(row, count)
    }

    async fn segments(&self) -> StoreResult<Vec<SegmentSummary>> {
        self.segment_rows()
            .await?
            .into_iter()
            .map(|row| {
                let count = row.member_count;
                self.summary(row, count)
            })
            .collect()
    }

    /// Counts in ranges of contacts at once, one per core (up to
    /// [`MAX_COUNT_PARTS`]), each on its own connection: at a million
    /// contacts the count is a probe per contact and rule leaf, and one
    /// connection keeps one core busy while the others wait. More ranges
    /// than cores measured slower on Postgres, where each range plans (and
    /// may scan) the rule's leaves anew.
    ///
    /// On Postgres a range gets no parallel workers of its own: they only
    /// split the scan of the first leaf's rows while the probes per
    /// contact stay in one process, so on a machine of two cores two
    /// ranges with two workers each ran six processes for two cores (the
    /// rule-builder preview took a fifth less without them). Nor does it
    /// cache probes (Memoize): a range's contacts each come once, so the
    /// cache only misses, and evicts as it fills.
    async fn count_matching(&self, rule: &Rule, now: i64) -> StoreResult<i64> {
        let query = select_in_range(rule, self.dialect(), now, 3, ("$1", "$2"), "count(*)");
        let pg = self.is_postgres();
        with_pool!(self.db(), read, |pool| {
            let (first, last): (Option<i64>, Option<i64>) =
                sqlx::query_as("SELECT min(id), max(id) FROM contacts")
                    .fetch_one(pool)
                    .await
                    .map_err(db_err)?;
            let (Some(first), Some(last)) = (first, last) else {
                return Ok(0);
            };
            let counts = id_ranges(first, last, parallel_parts()).map(|(from, to)| {
                // Planned for its own range and values each time: a
                // preview's rule is often asked again with other values.
                let count = bind_all!(
                    sqlx::query_scalar::<_, i64>(&query.sql)
                        .persistent(false)
                        .bind(from)
                        .bind(to),
                    &query.params
                );
                async move {
                    if !pg {
                        return count.fetch_one(pool).await;
                    }
                    let mut tx = pool.begin().await?;
                    sqlx::query(
                        "SELECT set_config('max_parallel_workers_per_gather', '0', true), \
                                set_config('enable_memoize', 'off', true)",
                    )
                    .execute(&mut *tx)
                    .await?;
                    let n = count.fetch_one(&mut *tx).await?;
                    tx.commit().await?;
                    Ok(n)
                }
            });
            let counts = futures_util::future::try_join_all(counts)
                .await
                .map_err(db_err)?;
            Ok(counts.into_iter().sum())
        })
    }

    async fn contact_facts(
        &self,
        contact_id: i64,
        event_names: &[String],
    ) -> StoreResult<ContactFacts> {
        let properties = match self.db() {
            Db::Sqlite(_) => "properties",
            Db::Postgres(_) => "properties::text",
        };
        let events_sql = format!(
            "SELECT name, {properties}, occurred_at FROM events WHERE contact_id = $1 AND name = $2"
        );
        with_pool!(self.db(), read, |pool| {
            let attributes: Vec<(String, String, Option<f64>)> = sqlx::query_as(
                "SELECT key, value_text, value_num FROM contact_attributes WHERE contact_id = $1",
            )
            .bind(contact_id)
            .fetch_all(pool)
            .await
            .map_err(db_err)?;
            let mut events = Vec::new();
            for name in event_names {
                let rows: Vec<(String, String, i64)> = sqlx::query_as(&events_sql)
                    .bind(contact_id)
                    .bind(name)
                    .fetch_all(pool)
                    .await
                    .map_err(db_err)?;
                events.extend(
                    rows.into_iter()
                        .map(|(name, props, occurred_at)| EventFact {
                            name,
                            properties: serde_json::from_str(&props).unwrap_or_default(),
                            occurred_at,
                        }),
                );
            }
            let sessions: Vec<(i64, String, i64, Option<i64>, Option<f64>)> = sqlx::query_as(
                "SELECT s.id, q.slug, s.started_at, s.completed_at, s.score FROM quiz_sessions s \
                 JOIN quizzes q ON q.id = s.quiz_id WHERE s.contact_id = $1",
            )
            .bind(contact_id)
            .fetch_all(pool)
            .await
            .map_err(db_err)?;
            let scores: Vec<(i64, String, f64)> = sqlx::query_as(
                "SELECT c.session_id, c.category, c.score FROM session_category_scores c \
                 JOIN quiz_sessions s ON s.id = c.session_id WHERE s.contact_id = $1",
            )
            .bind(contact_id)
            .fetch_all(pool)
            .await
            .map_err(db_err)?;
            let answers: Vec<(i64, String, String)> = sqlx::query_as(
                // A scale's answer is its value (see `answered` in the rule
                // compiler).
                "SELECT a.session_id, a.question_key, \
                 CASE WHEN a.option_key = '' THEN a.value_text ELSE a.option_key END \
                 FROM answers a JOIN quiz_sessions s ON s.id = a.session_id \
                 WHERE s.contact_id = $1 AND (a.option_key <> '' OR a.value_text IS NOT NULL)",
            )
            .bind(contact_id)
            .fetch_all(pool)
            .await
            .map_err(db_err)?;
            let segments: Vec<String> = sqlx::query_scalar(
                "SELECT g.slug FROM segment_memberships m JOIN segments g ON g.id = m.segment_id \
                 WHERE m.contact_id = $1 AND m.exited_at IS NULL",
            )
            .bind(contact_id)
            .fetch_all(pool)
            .await
            .map_err(db_err)?;
            Ok(ContactFacts {
                attributes: attributes
                    .into_iter()
                    .map(|(key, text, num)| (key, AttrValue { text, num }))
                    .collect(),
                events,
                sessions: sessions
                    .into_iter()
                    .map(
                        |(id, quiz_slug, started_at, completed_at, score)| SessionFact {
                            id,
                            quiz_slug,
                            started_at,
                            completed_at,
                            score,
                            category_scores: scores
                                .iter()
                                .filter(|(s, _, _)| *s == id)
                                .map(|(_, c, v)| (c.clone(), *v))
                                .collect(),
                            answers: answers
                                .iter()
                                .filter(|(s, _, _)| *s == id)
                                .map(|(_, q, o)| (q.clone(), o.clone()))
                                .collect(),
                        },
                    )
                    .collect(),
                segments: segments.into_iter().collect(),
            })
        })
    }

    async fn sweep_memberships(&self, checked_up_to: i64, now: i64) -> StoreResult<i64> {
        let last = self.last_contact_id().await?;
        if checked_up_to <= 0 {
            self.sync_memberships(None, now).await?;
            return Ok(last);
        }
        let windows = self.sync_plan(now, |s| s.rule.has_time_window()).await?;
        self.sync_from(
            &windows,
            (0, checked_up_to.min(last)),
            now,
            Pace::STEADY,
            Quietly,
        )
        .await?;
        if last > checked_up_to {
            let everything = self.sync_plan(now, |_| true).await?;
            self.sync_from(
                &everything,
                (checked_up_to + 1, last),
                now,
                Pace::STEADY,
                Quietly,
            )
            .await?;
        }
        Ok(last)
    }

    async fn sync_memberships(&self, contact: Option<i64>, now: i64) -> StoreResult<()> {
        let work = self.sync_plan(now, |_| true).await?;
        match contact {
            Some(c) => self.sync_range(&work, (c, c), now).await.map(|_| ()),
            None => {
                self.sync_everyone(&work, now, Pace::STEADY, Quietly)
                    .await?;
                // Everyone is current: a rebuild a stopped server left
                // unfinished is done too.
                self.finish_abandoned_rebuilds(now).await
            }
        }
    }

    async fn rebuild_segment(&self, segment_id: i64, now: i64) -> StoreResult<()> {
        let work = self.sync_plan(now, |s| s.id == segment_id).await?;
        let progress = RebuildProgress {
            store: self,
            segment_id,
            started_at: now,
            written_at: None,
        };
        let pace = Pace::rebuild(self.is_postgres());
        let outcome = self.sync_everyone(&work, now, pace, progress).await;
        self.end_rebuild(segment_id, now, outcome.as_ref().err())
            .await?;
        outcome
    }

    async fn begin_rebuild(&self, segment_id: i64, now: i64) -> StoreResult<()> {
        with_pool!(self.db(), write, |pool| {
            sqlx::query(
                "INSERT INTO segment_rebuilds (segment_id, done, total, started_at) VALUES ($1, 0, 0, $2) \
                 ON CONFLICT (segment_id) DO UPDATE SET done = 0, total = 0, started_at = $2, \
                 finished_at = NULL, error = NULL",
            )
            .bind(segment_id)
            .bind(now)
            .execute(pool)
            .await
            .map_err(db_err)?;
            Ok(())
        })
    }

    async fn rebuild_state(&self, segment_id: i64) -> StoreResult<Option<Rebuild>> {
        let row: Option<(i64, i64, i64, Option<i64>, Option<String>)> =
            with_pool!(self.db(), read, |pool| {
                sqlx::query_as(
                    "SELECT done, total, started_at, finished_at, error FROM segment_rebuilds \
                     WHERE segment_id = $1",
                )
                .bind(segment_id)
                .fetch_optional(pool)
                .await
                .map_err(db_err)
            })?;
        Ok(
            row.map(|(done, total, started_at, finished_at, error)| Rebuild {
                done,
                total,
                started_at,
                finished_at,
                error,
            }),
        )
    }

    async fn contact_stays(&self, contact_id: i64) -> StoreResult<Vec<Stay>> {
        let sql = format!(
            "{STAY_COLUMNS} WHERE m.contact_id = $1 ORDER BY m.entered_at DESC, g.name LIMIT $2"
        );
        self.stays(&sql, contact_id, 1000).await
    }

    async fn segment_stays(&self, segment_id: i64, limit: u32) -> StoreResult<Vec<Stay>> {
        let sql = format!(
            "{STAY_COLUMNS} WHERE m.segment_id = $1 \
             ORDER BY COALESCE(m.exited_at, m.entered_at) DESC, m.contact_id LIMIT $2"
        );
        self.stays(&sql, segment_id, limit).await
    }

    async fn segment_rule(&self, slug: &str) -> StoreResult<Option<Rule>> {
        let rule: Option<String> = with_pool!(self.db(), read, |pool| {
            sqlx::query_scalar("SELECT rule FROM segments WHERE slug = $1")
                .bind(slug)
                .fetch_optional(pool)
                .await
                .map_err(db_err)
        })?;
        rule.map(|r| {
            serde_json::from_str(&r)
                .map_err(|e| StoreError::Internal(format!("rule of segment {slug}: {e}")))
        })
        .transpose()
    }

    async fn event_names(&self, limit: u32) -> StoreResult<Vec<String>> {
        // Walks the `events_by_name` index rather than the events themselves.
        with_pool!(self.db(), read, |pool| {
            sqlx::query_scalar("SELECT DISTINCT name FROM events ORDER BY name LIMIT $1")
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map_err(db_err)
        })
    }

    async fn attribute_keys(&self, limit: u32) -> StoreResult<Vec<String>> {
        with_pool!(self.db(), read, |pool| {
            sqlx::query_scalar("SELECT DISTINCT key FROM contact_attributes ORDER BY key LIMIT $1")
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map_err(db_err)
        })
    }

    async fn members_matching(
        &self,
        rule: &Rule,
        now: i64,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<ContactSummary>> {
        let predicate = compile(rule, self.dialect(), now, 1);
        let next = predicate.params.len() + 1;
        let sql = format!(
            "SELECT c.id, c.email, c.name, c.first_seen, c.last_seen FROM contacts c \
             WHERE ({}) AND c.id > ${next} ORDER BY c.id LIMIT ${}",
            predicate.sql,
            next + 1
        );
        let rows: Vec<SummaryRow> = with_pool!(self.db(), read, |pool| {
            bind_all!(sqlx::query_as(&sql).persistent(false), &predicate.params)
                .bind(after)
                .bind(i64::from(limit.clamp(1, 1000)))
                .fetch_all(pool)
                .await
                .map_err(db_err)
        })?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn set_playbook(&self, tiers: &[Tier]) -> StoreResult<()> {
        with_pool!(self.db(), write, |pool| {
            let mut tx = pool.begin_write().await.map_err(db_err)?;
            sqlx::query("DELETE FROM tiers")
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            for (position, tier) in (0i64..).zip(tiers) {
                sqlx::query("INSERT INTO tiers (segment_id, position, next_step, outcome_key) VALUES ($1, $2, $3, $4)")
                    .bind(tier.segment_id)
                    .bind(position)
                    .bind(&tier.next_step)
                    .bind(&tier.outcome_key)
                    .execute(&mut *tx)
                    .await
                    .map_err(conflict_as("a segment can be in the playbook once"))?;
            }
            tx.commit().await.map_err(db_err)
        })
    }

    async fn delete_segment(&self, id: i64) -> StoreResult<()> {
        let pg = self.is_postgres();
        with_pool!(self.db(), write, |pool| {
            let mut tx = pool.begin_write().await.map_err(db_err)?;
            // Locked first on Postgres: a rule save that starts using the
            // segment meanwhile waits for the delete and then finds it gone
            // (`segments_still_there!`), or the delete waits for the save
            // and then reads its rule below. On SQLite the two writes go
            // one after the other anyway.
            let slug: String = sqlx::query_scalar(if pg {
                "SELECT slug FROM segments WHERE id = $1 FOR UPDATE"
            } else {
                "SELECT slug FROM segments WHERE id = $1"
            })
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound)?;
            let tier: i64 = sqlx::query_scalar("SELECT count(*) FROM tiers WHERE segment_id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
            if tier > 0 {
                return Err(StoreError::Conflict(
                    "it is a tier of the playbook: remove it from the playbook first".into(),
                ));
            }
            let others: Vec<(String, String)> =
                sqlx::query_as("SELECT name, rule FROM segments WHERE id <> $1 ORDER BY name")
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db_err)?;
            let mut users = Vec::new();
            for (name, rule) in others {
                let rule: Rule = serde_json::from_str(&rule)
                    .map_err(|e| StoreError::Internal(format!("rule of segment {name}: {e}")))?;
                if rule.referenced_segments().contains(slug.as_str()) {
                    users.push(format!("\"{name}\""));
                }
            }
            if !users.is_empty() {
                return Err(StoreError::Conflict(format!(
                    "the rule of {} uses it; change that rule first",
                    users.join(", ")
                )));
            }
            // Everything of the segment's goes with it (the schema's
            // cascades); leads and placements keep the tier's name.
            let deleted = sqlx::query("DELETE FROM segments WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
            if deleted == 0 {
                return Err(StoreError::NotFound);
            }
            notify_changes!(tx, pg);
            tx.commit().await.map_err(db_err)
        })?;
        self.counts_changed();
        Ok(())
    }

    async fn small_tier(&self) -> StoreResult<i64> {
        with_pool!(self.db(), read, |pool| {
            sqlx::query_scalar("SELECT small_tier FROM tracking_settings WHERE id = 1")
                .fetch_one(pool)
                .await
                .map_err(db_err)
        })
    }

    async fn set_small_tier(&self, below: i64) -> StoreResult<()> {
        with_pool!(self.db(), write, |pool| {
            sqlx::query("UPDATE tracking_settings SET small_tier = $1 WHERE id = 1")
                .bind(below)
                .execute(pool)
                .await
                .map_err(db_err)?;
            Ok(())
        })
    }

    async fn playbook(&self, now: i64) -> StoreResult<Vec<TierSummary>> {
        let tiers: Vec<(i64, String, Option<String>)> = with_pool!(self.db(), read, |pool| {
            sqlx::query_as("SELECT segment_id, next_step, outcome_key FROM tiers ORDER BY position")
                .fetch_all(pool)
                .await
                .map_err(db_err)
        })?;
        let mut rows: Vec<SegmentRow> = self.segment_rows().await?;
        let mut out = Vec::new();
        // First match wins: a tier places those it matches that no earlier
        // tier matched.
        let mut earlier: Vec<Rule> = Vec::new();
        for (segment_id, next_step, outcome_key) in tiers {
            let Some(pos) = rows.iter().position(|r| r.id == segment_id) else {
                continue;
            };
            let row = rows.remove(pos);
            let rule: Rule = serde_json::from_str(&row.rule)
                .map_err(|e| StoreError::Internal(format!("rule of segment {}: {e}", row.slug)))?;
            let mut placed_rule = vec![rule.clone()];
            placed_rule.extend(earlier.iter().map(|r| Rule::Not {
                rule: Box::new(r.clone()),
            }));
            let placed = self
                .count_matching(&Rule::All { rules: placed_rule }, now)
                .await?;
            let count = self.count_matching(&rule, now).await?;
            earlier.push(rule);
            out.push(TierSummary {
                segment: self.summary(row, count)?,
                next_step,
                outcome_key,
                placed,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_contacts_form_tests_each_range_by_equality() {
        let sql = "UPDATE m SET x = 1 WHERE contact_id BETWEEN $3 AND $4 AND y; \
                   SELECT c.id FROM c WHERE (c.id BETWEEN $3 AND $4) AND $5";
        assert_eq!(
            for_one_contact(sql),
            "UPDATE m SET x = 1 WHERE contact_id = $3 AND contact_id <= $4 AND y; \
             SELECT c.id FROM c WHERE (c.id = $3 AND c.id <= $4) AND $5"
        );
        assert_eq!(
            for_one_contact(PLACED_STAY),
            PLACED_STAY,
            "already one contact's"
        );
    }

    #[test]
    fn renumbering_moves_every_value_and_nothing_else() {
        assert_eq!(
            renumbered(
                "a = $1 AND b IN ($2, $12) AND json_type(p, '$.\"k\"') AND $",
                4
            ),
            "a = $5 AND b IN ($6, $16) AND json_type(p, '$.\"k\"') AND $"
        );
        assert_eq!(renumbered("a = $1", 0), "a = $1");
    }

    fn step(segment_id: i64, rule_values: usize, handoff: bool) -> SyncStep {
        SyncStep {
            segment_id,
            statements: vec![(format!("S{segment_id} $1 $4 $5"), true)],
            one_contact: Vec::new(),
            rule_params: vec![quizfunnel::rule::SqlParam::Int(0); rule_values],
            handoff: handoff.then(|| format!("segment {segment_id}")),
            listed: false,
        }
    }

    #[test]
    fn sqlite_steps_join_into_one_script_until_a_handoff() {
        let work = [step(1, 1, false), step(2, 0, true), step(3, 2, false)];
        let scripts = joined_scripts(&work, &[(7, 7), (9, 12)]);
        let runs: Vec<Vec<(i64, (i64, i64))>> = scripts
            .iter()
            .map(|s| s.runs.iter().map(|(st, r)| (st.segment_id, *r)).collect())
            .collect();
        assert_eq!(
            runs,
            [
                vec![(1, (7, 7)), (1, (9, 12)), (2, (7, 7))],
                vec![(2, (9, 12))],
                vec![(3, (7, 7)), (3, (9, 12))],
            ],
            "in dependency order, each range, ending after each hand-off"
        );
        // Segment 1 takes five values a run, so the next run starts at $6.
        assert_eq!(
            scripts[0].sql,
            "S1 $1 $4 $5;\nS1 $6 $9 $10;\nS2 $11 $14 $15"
        );
        assert_eq!(scripts[2].sql, "S3 $1 $4 $5;\nS3 $7 $10 $11");
    }

    #[test]
    fn slices_grow_while_quick_and_never_back_to_a_size_that_overran() {
        let ms = Duration::from_millis;
        let mut steady = SliceSizer::new(None);
        steady.took(SYNC_SLICE, ms(1));
        assert_eq!(steady.size(), SYNC_SLICE, "no budget, no growth");

        let mut sizer = SliceSizer::new(Some(ms(200)));
        let mut sizes = vec![sizer.size()];
        for took in [20, 40, 80, 160, 320, 20, 20] {
            sizer.took(sizer.size(), ms(took));
            sizes.push(sizer.size());
        }
        assert_eq!(
            sizes,
            [1_000, 2_000, 4_000, 8_000, 8_000, 4_000, 4_000, 4_000]
        );
        // A slice started before the last resize: heard only if it overran.
        let mut sizer = SliceSizer::new(Some(ms(200)));
        sizer.took(SYNC_SLICE, ms(10));
        sizer.took(SYNC_SLICE, ms(10));
        assert_eq!(sizer.size(), 2 * SYNC_SLICE);
        sizer.took(SYNC_SLICE, ms(900));
        assert_eq!(sizer.size(), SYNC_SLICE, "never below the steady size");
    }

    #[test]
    fn a_list_narrows_every_range_test_to_its_column() {
        let sql = "UPDATE m SET x = 1 WHERE contact_id BETWEEN $3 AND $4 AND y; \
                   SELECT c.id FROM c WHERE (c.id BETWEEN $3 AND $4) AND $5";
        assert_eq!(
            narrowed_to(sql, "3,70"),
            "UPDATE m SET x = 1 WHERE +contact_id BETWEEN $3 AND $4 AND contact_id IN (3,70) AND y; \
             SELECT c.id FROM c WHERE (+c.id BETWEEN $3 AND $4 AND c.id IN (3,70)) AND $5"
        );
        assert_eq!(narrowed_to("SELECT 1", "3"), "SELECT 1");
    }

    /// What SQLite would read for a re-check of listed contacts: their
    /// own stays, never the segment's (by contact or by time), with no
    /// statistics and with statistics from when there were few stays (as
    /// after an `ANALYZE` of a young database that then grew).
    #[tokio::test]
    async fn a_listed_recheck_reads_the_contacts_stays_only() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("plan.db").display());
        let store = SqlStore::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        listed_recheck_plans_read_by_contact(&store).await;

        let super::Db::Sqlite(db) = store.db() else {
            unreachable!("a SQLite store")
        };
        sqlx::query("ANALYZE").execute(db.writer()).await.unwrap();
        let indexes: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'segment_memberships' \
             AND sql IS NOT NULL",
        )
        .fetch_all(db.writer())
        .await
        .unwrap();
        for index in indexes {
            // A few hundred stays, two per contact and a third of them per
            // segment: what the benchmark's statistics still said once its
            // stays had grown past a million.
            let columns: i64 = sqlx::query_scalar(&format!(
                "SELECT count(*) FROM pragma_index_info('{index}')"
            ))
            .fetch_one(db.writer())
            .await
            .unwrap();
            let first = if index.contains("by_contact") { 2 } else { 127 };
            let stat = format!("381 {first}{}", " 1".repeat(columns as usize - 1));
            sqlx::query(
                "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('segment_memberships', $1, $2)",
            )
            .bind(&index)
            .bind(stat)
            .execute(db.writer())
            .await
            .unwrap();
        }
        store.close().await;
        // New connections, which read the statistics as they open.
        let store = SqlStore::connect(&url).await.unwrap();
        listed_recheck_plans_read_by_contact(&store).await;
    }

    async fn listed_recheck_plans_read_by_contact(store: &SqlStore) {
        let rule = Rule::parse("event(page_viewed, count >= 3, within 30d)").unwrap();
        let (statements, predicate) = store.sync_statements(&rule, 1_000);
        let super::Db::Sqlite(db) = store.db() else {
            unreachable!("a SQLite store")
        };
        // A batch of events names up to a hundred contacts.
        let listed: Vec<String> = (1..=100).map(|id| (id * 7).to_string()).collect();
        for sql in statements {
            let sql = narrowed_to(&sql, &listed.join(","));
            let explain = format!("EXPLAIN QUERY PLAN {sql}");
            let query = sqlx::query_as::<_, (i64, i64, i64, String)>(&explain)
                .bind(1_i64)
                .bind(1_000_i64)
                .bind(7_i64)
                .bind(700_i64);
            let plan: Vec<String> = bind_all!(query, &predicate.params)
                .fetch_all(db.reader())
                .await
                .unwrap()
                .into_iter()
                .map(|row| row.3)
                .collect();
            let memberships: Vec<&String> = plan
                .iter()
                .filter(|step| step.contains("segment_memberships") || step.contains(" x "))
                .collect();
            assert!(!memberships.is_empty(), "{plan:?}");
            for step in memberships {
                assert!(
                    step.contains("contact_id=?"),
                    "by the contacts, not the segment: {plan:?}"
                );
            }
        }
    }

    #[test]
    fn scattered_contacts_are_rechecked_as_one_list() {
        let step = SyncStep {
            segment_id: 1,
            statements: vec![("SELECT 1 WHERE c.id BETWEEN $3 AND $4".into(), true)],
            one_contact: vec!["SELECT 1 WHERE c.id = $3 AND c.id <= $4".into()],
            rule_params: Vec::new(),
            handoff: None,
            listed: false,
        };
        let work = [step];
        let (listed, ranges) = recheck_ranges(&work, &[5, 6, 7]);
        assert!(listed.is_none());
        assert_eq!(ranges, vec![(5, 7)]);
        let scattered = [900, 100, 300, 500, 700, 100];
        let (listed, ranges) = recheck_ranges(&work, &scattered);
        assert_eq!(ranges, vec![(100, 900)]);
        let listed = listed.expect("narrowed");
        assert!(listed[0].listed);
        assert!(
            listed[0].one_contact.is_empty(),
            "a list is never one contact"
        );
        assert!(
            listed[0].statements[0]
                .0
                .ends_with("c.id IN (100,300,500,700,900)")
        );
    }

    #[test]
    fn id_runs_join_near_neighbours_only() {
        assert_eq!(id_runs(&[], 16), vec![]);
        assert_eq!(id_runs(&[7, 3, 5, 5, 4], 1), vec![(3, 5), (7, 7)]);
        assert_eq!(
            id_runs(&[100, 1, 17, 200], 16),
            vec![(1, 17), (100, 100), (200, 200)]
        );
    }

    #[test]
    fn id_ranges_cover_every_id_once() {
        for (first, last, parts) in [
            (1, 1, 4),
            (1, 3, 4),
            (5, 1_000_003, 4),
            (-2, 9, 3),
            (1, 8, 4),
        ] {
            let ranges: Vec<_> = id_ranges(first, last, parts).collect();
            assert!(ranges.len() as i64 <= parts, "{ranges:?}");
            assert_eq!(ranges.first().map(|r| r.0), Some(first));
            assert_eq!(ranges.last().map(|r| r.1), Some(last));
            for pair in ranges.windows(2) {
                assert_eq!(pair[0].1 + 1, pair[1].0, "{ranges:?}");
            }
            assert!(ranges.iter().all(|(from, to)| from <= to), "{ranges:?}");
        }
    }

    fn segment(slug: &str, rule: &str) -> SegmentSummary {
        SegmentSummary {
            id: 0,
            slug: slug.into(),
            name: slug.into(),
            description: String::new(),
            rule: Rule::parse(rule).unwrap(),
            count: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn segments_come_after_the_segments_their_rules_use() {
        let order = dependency_order(vec![
            segment("top", "all(in_segment(middle), in_segment(base))"),
            segment("middle", "in_segment(base)"),
            segment("base", "completed(growth)"),
            segment("orphan", "in_segment(gone)"),
        ]);
        let slugs: Vec<&str> = order.iter().map(|s| s.slug.as_str()).collect();
        assert_eq!(slugs, ["base", "middle", "top", "orphan"]);
    }
}
