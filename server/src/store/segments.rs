//! Segments counted live with the rule compiler, and the tier playbook.

use super::contacts::SummaryRow;
use super::sql::{BeginWrite, bind_all, conflict_as, db_err, with_pool};
use super::{Db, SqlStore};
use async_trait::async_trait;
use quizfunnel::contact::ContactSummary;
use quizfunnel::rule::{
    AttrValue, ContactFacts, Dialect, EventFact, Rule, SessionFact, SqlPredicate, compile,
};
use quizfunnel::store::{
    SegmentStore, SegmentSummary, Stay, StoreError, StoreResult, Tier, TierSummary,
};
use std::collections::BTreeSet;

#[derive(sqlx::FromRow)]
struct SegmentRow {
    id: i64,
    slug: String,
    name: String,
    description: String,
    rule: String,
    updated_at: i64,
}

impl SqlStore {
    pub(super) fn dialect(&self) -> Dialect {
        match self.db() {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    async fn segment_rows(&self) -> StoreResult<Vec<SegmentRow>> {
        with_pool!(self.db(), read, |pool| {
            sqlx::query_as("SELECT id, slug, name, description, rule, updated_at FROM segments ORDER BY name, id")
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

impl SqlStore {
    /// Re-evaluates one contact's segments after something about them
    /// changed. What changed is already stored; if this fails the periodic
    /// sweep catches up, so it is logged, not returned.
    pub(super) async fn contact_changed(&self, contact: i64, now: i64) {
        self.resync(contact, now, |_| true).await;
    }

    /// As [`Self::contact_changed`], when all that changed is new events of
    /// these names: only rules counting them (and rules on those segments)
    /// can have changed their answer.
    pub(super) async fn events_arrived(&self, contact: i64, names: &BTreeSet<&str>, now: i64) {
        self.resync(contact, now, |rule| {
            rule.referenced_events().iter().any(|e| names.contains(e))
        })
        .await;
    }

    async fn resync(&self, contact: i64, now: i64, affected: impl Fn(&Rule) -> bool) {
        if let Err(e) = self.sync_where(Some(contact), now, affected).await {
            tracing::warn!(error = %e, contact, "segment memberships not updated; the sweep will");
        }
    }

    /// Syncs the segments whose rule `affected` picks, and every segment
    /// whose rule uses one of those, in dependency order.
    async fn sync_where(
        &self,
        contact: Option<i64>,
        now: i64,
        affected: impl Fn(&Rule) -> bool,
    ) -> StoreResult<()> {
        let mut segments = Vec::new();
        for row in self.segment_rows().await? {
            segments.push(self.summary(row, 0)?);
        }
        let mut synced: BTreeSet<String> = BTreeSet::new();
        let mut work = Vec::new();
        for segment in dependency_order(segments) {
            let uses_synced = segment
                .rule
                .referenced_segments()
                .iter()
                .any(|r| synced.contains(*r));
            if affected(&segment.rule) || uses_synced {
                work.push((
                    segment.id,
                    self.sync_statements(&segment.rule, now, contact.is_some()),
                ));
                synced.insert(segment.slug);
            }
        }
        if work.is_empty() {
            return Ok(());
        }
        // One transaction: one commit per change, and rules on segments see
        // the stays synced just before them.
        let contact = contact.unwrap_or(0);
        with_pool!(self.db(), write, |pool| {
            let mut tx = pool.begin_write().await.map_err(db_err)?;
            for (segment_id, (statements, predicate)) in &work {
                for sql in statements {
                    bind_all!(
                        sqlx::query(sql).bind(segment_id).bind(now).bind(contact),
                        &predicate.params
                    )
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                }
            }
            tx.commit().await.map_err(db_err)
        })
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
    /// for those it newly matches. `$1` segment, `$2` now, `$3` the contact
    /// (0: everyone), then the rule's own parameters.
    fn sync_statements(
        &self,
        rule: &Rule,
        now: i64,
        one_contact: bool,
    ) -> ([String; 2], SqlPredicate) {
        let predicate = compile(rule, self.dialect(), now, 4);
        // Spelled out rather than `($3 = 0 OR id = $3)`, which keeps the
        // database from going straight to the one contact.
        let (stay_scope, contact_scope) = if one_contact {
            ("contact_id = $3", "c.id = $3")
        } else {
            ("$3 = 0", "$3 = 0")
        };
        let exits = format!(
            "UPDATE segment_memberships SET exited_at = $2 \
             WHERE segment_id = $1 AND exited_at IS NULL AND {stay_scope} \
             AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = segment_memberships.contact_id AND ({}))",
            predicate.sql
        );
        let entries = format!(
            "INSERT INTO segment_memberships (segment_id, contact_id, entered_at) \
             SELECT $1, c.id, $2 FROM contacts c WHERE {contact_scope} AND ({}) \
             AND NOT EXISTS (SELECT 1 FROM segment_memberships m \
                 WHERE m.segment_id = $1 AND m.contact_id = c.id AND m.exited_at IS NULL)",
            predicate.sql
        );
        ([exits, entries], predicate)
    }
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
        with_pool!(self.db(), write, |pool| {
            sqlx::query_scalar(
                "INSERT INTO segments (slug, name, description, rule, updated_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(slug)
            .bind(name)
            .bind(description)
            .bind(&json)
            .bind(now)
            .fetch_one(pool)
            .await
            .map_err(conflict_as("another segment uses that slug"))
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
        let changed = with_pool!(self.db(), write, |pool| {
            sqlx::query(
                "UPDATE segments SET name = $1, description = $2, rule = $3, updated_at = $4 WHERE id = $5",
            )
            .bind(name)
            .bind(description)
            .bind(&json)
            .bind(now)
            .bind(id)
            .execute(pool)
            .await
            .map_err(db_err)?
            .rows_affected()
        });
        if changed == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn segment(&self, id: i64, now: i64) -> StoreResult<SegmentSummary> {
        let row: SegmentRow = with_pool!(self.db(), read, |pool| {
            sqlx::query_as(
                "SELECT id, slug, name, description, rule, updated_at FROM segments WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound)
        })?;
        let summary = self.summary(row, 0)?;
        let count = self.count_matching(&summary.rule, now).await?;
        Ok(SegmentSummary { count, ..summary })
    }

    async fn segments(&self, now: i64) -> StoreResult<Vec<SegmentSummary>> {
        let mut out = Vec::new();
        for row in self.segment_rows().await? {
            let summary = self.summary(row, 0)?;
            let count = self.count_matching(&summary.rule, now).await?;
            out.push(SegmentSummary { count, ..summary });
        }
        Ok(out)
    }

    async fn count_matching(&self, rule: &Rule, now: i64) -> StoreResult<i64> {
        let predicate = compile(rule, self.dialect(), now, 1);
        let sql = format!("SELECT count(*) FROM contacts c WHERE {}", predicate.sql);
        with_pool!(self.db(), read, |pool| {
            bind_all!(sqlx::query_scalar::<_, i64>(&sql), &predicate.params)
                .fetch_one(pool)
                .await
                .map_err(db_err)
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
                "SELECT a.session_id, a.question_key, a.option_key FROM answers a \
                 JOIN quiz_sessions s ON s.id = a.session_id WHERE s.contact_id = $1",
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

    async fn sync_memberships(&self, contact: Option<i64>, now: i64) -> StoreResult<()> {
        self.sync_where(contact, now, |_| true).await
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
            bind_all!(sqlx::query_as(&sql), &predicate.params)
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
