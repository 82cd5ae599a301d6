//! The dashboard's counts, trends and funnels.

use super::sql::{db_err, with_pool};
use super::{Db, SqlStore};
use async_trait::async_trait;
use quizfunnel::contact::StoppedAt;
use quizfunnel::rule::DAY_MS;
use quizfunnel::store::{
    DashboardStore, Funnel, FunnelFilter, FunnelQuestion, LiveCounts, SegmentCount, StoppedHere,
    StoreResult, TierCount, Trend,
};
use std::collections::BTreeMap;

fn day_of(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS) * DAY_MS
}

/// Every instance folds Postgres's pending count changes this often; the
/// views read by pages add what is pending, so this only keeps it short.
pub const FOLD_COUNTS_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

impl SqlStore {
    /// Folds the count changes Postgres appends (migration 0013) into the
    /// stored counts. Each statement takes the changes it deletes, so two
    /// instances folding at once never add one twice. SQLite writes its
    /// counts directly: nothing to fold.
    pub async fn fold_counts(&self) -> StoreResult<()> {
        let Db::Postgres(pool) = self.db() else {
            return Ok(());
        };
        sqlx::raw_sql(
            "WITH moved AS (DELETE FROM segment_count_deltas RETURNING segment_id, delta) \
             UPDATE segments s SET member_count = s.member_count + m.delta \
             FROM (SELECT segment_id, sum(delta)::bigint AS delta FROM moved GROUP BY segment_id) m \
             WHERE s.id = m.segment_id; \
             WITH moved AS (DELETE FROM lead_count_deltas RETURNING tier_slug, delta) \
             INSERT INTO lead_counts (tier_slug, leads) \
             SELECT tier_slug, sum(delta)::bigint FROM moved GROUP BY tier_slug \
             ON CONFLICT (tier_slug) DO UPDATE SET leads = lead_counts.leads + excluded.leads",
        )
        .execute(pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }
}

/// The `utm_source` a contact's first visit came with, for a statement
/// that names the contact `c`: funnels are filtered by it.
pub(super) fn utm_source_of_contact(db: &Db) -> &'static str {
    match db {
        Db::Sqlite(_) => "json_extract(c.hidden_fields, '$.utm_source')",
        Db::Postgres(_) => "(c.hidden_fields::json ->> 'utm_source')",
    }
}

/// The sessions a funnel counts: `$1` the quiz, `$2..$3` started between,
/// `$4` the source ('' for any). Statements with these are not kept
/// prepared, so Postgres plans each for its own dates and source (see
/// `store/postgres.rs`).
fn funnel_sessions(db: &Db) -> String {
    let utm = utm_source_of_contact(db);
    format!(
        "FROM quiz_sessions s JOIN quizzes q ON q.id = s.quiz_id \
         JOIN contacts c ON c.id = s.contact_id \
         WHERE q.slug = $1 AND s.started_at BETWEEN $2 AND $3 \
         AND ($4 = '' OR {utm} = $4)"
    )
}

/// Of [`funnel_sessions`], those stopped: unfinished, with an answer,
/// waiting at a question. The contact list of a stop reads the same.
pub(super) const STOPPED: &str = "AND s.completed_at IS NULL AND s.current_question IS NOT NULL \
    AND EXISTS (SELECT 1 FROM answers a WHERE a.session_id = s.id)";

/// [`funnel_sessions`]'s `$2..$4` from a funnel's filter.
fn funnel_bounds(filter: &FunnelFilter) -> (i64, i64, String) {
    (
        filter.from.unwrap_or(i64::MIN),
        filter.until.unwrap_or(i64::MAX),
        filter.utm_source.clone().unwrap_or_default(),
    )
}

#[async_trait]
impl DashboardStore for SqlStore {
    async fn live_counts(&self) -> StoreResult<LiveCounts> {
        with_pool!(self.db(), read, |pool| {
            let segments: Vec<(
                i64,
                String,
                String,
                i64,
                Option<i64>,
                Option<i64>,
                Option<i64>,
            )> = sqlx::query_as(
                "SELECT g.id, g.slug, g.name, n.members, r.done, r.total, r.finished_at \
                     FROM segments g JOIN segment_counts n ON n.segment_id = g.id \
                     LEFT JOIN segment_rebuilds r ON r.segment_id = g.id \
                     ORDER BY g.name, g.id",
            )
            .fetch_all(pool)
            .await
            .map_err(db_err)?;
            let tiers: Vec<(i64, String, String, String, Option<i64>)> = sqlx::query_as(
                "SELECT g.id, g.slug, g.name, t.next_step, c.leads FROM tiers t \
                 JOIN segments g ON g.id = t.segment_id \
                 LEFT JOIN tier_lead_counts c ON c.tier_slug = g.slug ORDER BY t.position",
            )
            .fetch_all(pool)
            .await
            .map_err(db_err)?;
            Ok(LiveCounts {
                tiers: tiers
                    .into_iter()
                    .map(|(segment_id, slug, name, next_step, leads)| TierCount {
                        segment_id,
                        slug,
                        name,
                        next_step,
                        leads: leads.unwrap_or(0),
                    })
                    .collect(),
                segments: segments
                    .into_iter()
                    .map(|(id, slug, name, members, done, total, finished)| {
                        let rebuilding = match (done, total, finished) {
                            (Some(done), Some(total), None) => Some(if total > 0 {
                                done.clamp(0, total) * 100 / total
                            } else {
                                0
                            }),
                            _ => None,
                        };
                        SegmentCount {
                            id,
                            slug,
                            name,
                            members,
                            rebuilding,
                        }
                    })
                    .collect(),
            })
        })
    }

    async fn record_daily_counts(&self, days: u32, now: i64) -> StoreResult<()> {
        let today = day_of(now);
        let first = today - i64::from(days.saturating_sub(1)) * DAY_MS;
        let segments: Vec<(i64, i64)> = with_pool!(self.db(), read, |pool| {
            sqlx::query_as("SELECT segment_id, members FROM segment_counts")
                .fetch_all(pool)
                .await
                .map_err(db_err)
        })?;
        for (segment, members) in segments {
            let known: Vec<i64> = with_pool!(self.db(), read, |pool| {
                sqlx::query_scalar(
                    "SELECT day FROM segment_daily_counts WHERE segment_id = $1 AND day >= $2 AND day < $3",
                )
                .bind(segment)
                .bind(first)
                .bind(today)
                .fetch_all(pool)
                .await
                .map_err(db_err)
            })?;
            let mut rows = vec![(today, members)];
            let mut day = first;
            while day < today {
                if !known.contains(&day) {
                    let end = day + DAY_MS;
                    // The stays open at the day's end.
                    let n: i64 = with_pool!(self.db(), read, |pool| {
                        sqlx::query_scalar(
                            "SELECT count(*) FROM segment_memberships WHERE segment_id = $1 \
                             AND entered_at < $2 AND (exited_at IS NULL OR exited_at >= $2)",
                        )
                        .bind(segment)
                        .bind(end)
                        .fetch_one(pool)
                        .await
                        .map_err(db_err)
                    })?;
                    rows.push((day, n));
                }
                day += DAY_MS;
            }
            with_pool!(self.db(), write, |pool| {
                for (day, n) in &rows {
                    sqlx::query(
                        "INSERT INTO segment_daily_counts (segment_id, day, members) VALUES ($1, $2, $3) \
                         ON CONFLICT (segment_id, day) DO UPDATE SET members = excluded.members",
                    )
                    .bind(segment)
                    .bind(day)
                    .bind(n)
                    .execute(pool)
                    .await
                    .map_err(db_err)?;
                }
                Ok::<_, quizfunnel::store::StoreError>(())
            })?;
        }
        Ok(())
    }

    async fn tier_trends(&self, days: u32, now: i64) -> StoreResult<Vec<Trend>> {
        let today = day_of(now);
        let first = today - i64::from(days.saturating_sub(1)) * DAY_MS;
        let rows: Vec<(String, String, Option<i64>, Option<i64>)> =
            with_pool!(self.db(), read, |pool| {
                sqlx::query_as(
                    "SELECT g.slug, g.name, d.day, d.members FROM tiers t \
                     JOIN segments g ON g.id = t.segment_id \
                     LEFT JOIN segment_daily_counts d ON d.segment_id = g.id AND d.day >= $1 \
                     ORDER BY t.position, d.day",
                )
                .bind(first)
                .fetch_all(pool)
                .await
                .map_err(db_err)
            })?;
        let mut out: Vec<Trend> = Vec::new();
        for (slug, name, day, members) in rows {
            if out.last().is_none_or(|t| t.slug != slug) {
                out.push(Trend {
                    slug,
                    name,
                    days: Vec::new(),
                });
            }
            if let (Some(day), Some(members), Some(trend)) = (day, members, out.last_mut()) {
                trend.days.push((day, members));
            }
        }
        Ok(out)
    }

    async fn stopped_here(&self, stop: &StoppedAt) -> StoreResult<StoppedHere> {
        let sql = format!(
            "SELECT count(*), count(DISTINCT s.contact_id) {} {STOPPED} AND s.current_question = $5",
            funnel_sessions(self.db())
        );
        let (from, until, source) = funnel_bounds(&stop.within);
        let (sessions, people): (i64, i64) = with_pool!(self.db(), read, |pool| {
            sqlx::query_as(&sql)
                .persistent(false)
                .bind(&stop.quiz)
                .bind(from)
                .bind(until)
                .bind(&source)
                .bind(&stop.question)
                .fetch_one(pool)
                .await
                .map_err(db_err)
        })?;
        Ok(StoppedHere { sessions, people })
    }

    async fn funnel(
        &self,
        quiz_slug: &str,
        order: &[String],
        filter: &FunnelFilter,
    ) -> StoreResult<Funnel> {
        let utm = utm_source_of_contact(self.db());
        let scope = funnel_sessions(self.db());
        let (from, until, source) = funnel_bounds(filter);
        // Views: first views of the quiz, one per visitor, by their key.
        let views_sql = format!(
            "SELECT count(*) FROM events e JOIN contacts c ON c.id = e.contact_id \
             JOIN quizzes q ON e.idempotency_key LIKE 'quiz_viewed:' || q.id || ':%' \
             WHERE e.name = 'quiz_viewed' AND q.slug = $1 AND e.occurred_at BETWEEN $2 AND $3 \
             AND ($4 = '' OR {utm} = $4)"
        );
        let totals_sql = format!(
            "SELECT \
             count(CASE WHEN EXISTS (SELECT 1 FROM answers a WHERE a.session_id = s.id) THEN 1 END), \
             count(s.completed_at), \
             count(CASE WHEN s.completed_at IS NOT NULL AND c.email IS NOT NULL THEN 1 END) {scope}"
        );
        // The funnel's sessions, from another table's rows naming them.
        let scope_from = |rows: &str, session: &str| {
            scope.replacen(
                "FROM quiz_sessions s",
                &format!("FROM {rows} JOIN quiz_sessions s ON s.id = {session}"),
                1,
            )
        };
        let answered_sql = format!(
            "SELECT a.question_key, count(DISTINCT a.session_id) {} GROUP BY a.question_key",
            scope_from("answers a", "a.session_id")
        );
        let stopped_sql = format!(
            "SELECT s.current_question, count(*) {scope} {STOPPED} GROUP BY s.current_question"
        );
        let tiers_sql = format!(
            "SELECT p.segment_slug, count(*) {} GROUP BY p.segment_slug ORDER BY count(*) DESC",
            scope_from("placements p", "p.session_id")
        );
        with_pool!(self.db(), read, |pool| {
            let views: i64 = sqlx::query_scalar(&views_sql)
                .persistent(false)
                .bind(quiz_slug)
                .bind(from)
                .bind(until)
                .bind(&source)
                .fetch_one(pool)
                .await
                .map_err(db_err)?;
            let (starts, completions, captured): (i64, i64, i64) = sqlx::query_as(&totals_sql)
                .persistent(false)
                .bind(quiz_slug)
                .bind(from)
                .bind(until)
                .bind(&source)
                .fetch_one(pool)
                .await
                .map_err(db_err)?;
            let mut counts: BTreeMap<String, (i64, i64)> = BTreeMap::new();
            for (sql, stopped) in [(&answered_sql, false), (&stopped_sql, true)] {
                let rows: Vec<(String, i64)> = sqlx::query_as(sql)
                    .persistent(false)
                    .bind(quiz_slug)
                    .bind(from)
                    .bind(until)
                    .bind(&source)
                    .fetch_all(pool)
                    .await
                    .map_err(db_err)?;
                for (key, n) in rows {
                    let entry = counts.entry(key).or_default();
                    if stopped {
                        entry.1 += n;
                    } else {
                        entry.0 += n;
                    }
                }
            }
            let tiers: Vec<(String, i64)> = sqlx::query_as(&tiers_sql)
                .persistent(false)
                .bind(quiz_slug)
                .bind(from)
                .bind(until)
                .bind(&source)
                .fetch_all(pool)
                .await
                .map_err(db_err)?;
            Ok(Funnel {
                views,
                starts,
                questions: order
                    .iter()
                    .map(|key| {
                        let (answered, stopped) = counts.get(key).copied().unwrap_or_default();
                        FunnelQuestion {
                            key: key.clone(),
                            reached: answered + stopped,
                            stopped,
                        }
                    })
                    .collect(),
                completions,
                captured,
                tiers,
            })
        })
    }
}
