//! The sales lead lists: one denormalized row per lead, so every filter
//! and order is a plain indexed query on both databases.

use super::SqlStore;
use super::contacts::like_pattern;
use super::sql::{BeginWrite, bind_all, db_err, value_rows, with_pool};
use async_trait::async_trait;
use quizfunnel::lead::{Lead, LeadChange, LeadFilter, LeadSort, LeadStatus, OwnerFilter};
use quizfunnel::rule::SqlParam;
use quizfunnel::store::{LeadStore, LeadTier, StoreError, StoreResult};

#[derive(sqlx::FromRow)]
struct LeadRow {
    contact_id: i64,
    email: Option<String>,
    name: Option<String>,
    company: Option<String>,
    score: f64,
    tier_slug: String,
    tier_name: Option<String>,
    next_step: String,
    session_id: Option<i64>,
    placed_at: i64,
    last_seen: i64,
    status: String,
    owner_id: Option<i64>,
    owner_email: Option<String>,
    hidden_fields: String,
}

const LEAD_COLUMNS: &str = "SELECT l.contact_id, c.email, c.name, \
    (SELECT a.value_text FROM contact_attributes a WHERE a.contact_id = c.id AND a.key = 'company') AS company, \
    l.score, l.tier_slug, g.name AS tier_name, l.next_step, l.session_id, l.placed_at, c.last_seen, \
    l.status, c.owner_id, u.email AS owner_email, c.hidden_fields \
    FROM leads l JOIN contacts c ON c.id = l.contact_id \
    LEFT JOIN segments g ON g.id = l.segment_id \
    LEFT JOIN users u ON u.id = c.owner_id";

/// A segment's members in the lead list's shape: `m` is the open stay,
/// whose entry stands for the placement; contacts never placed in a tier
/// have no tier and a score of 0.
const MEMBER_COLUMNS: &str = "SELECT c.id AS contact_id, c.email, c.name, \
    (SELECT a.value_text FROM contact_attributes a WHERE a.contact_id = c.id AND a.key = 'company') AS company, \
    COALESCE(l.score, 0.0) AS score, COALESCE(l.tier_slug, '') AS tier_slug, g.name AS tier_name, \
    COALESCE(l.next_step, '') AS next_step, l.session_id, m.entered_at AS placed_at, c.last_seen, \
    COALESCE(l.status, 'new') AS status, c.owner_id, u.email AS owner_email, c.hidden_fields \
    FROM segment_memberships m JOIN contacts c ON c.id = m.contact_id \
    LEFT JOIN leads l ON l.contact_id = c.id \
    LEFT JOIN segments g ON g.id = l.segment_id \
    LEFT JOIN users u ON u.id = c.owner_id";

/// The columns a view sorts and pages by, for leads or for members.
struct Keys {
    score: &'static str,
    status: &'static str,
    entered: &'static str,
    contact: &'static str,
}

const LEAD_KEYS: Keys = Keys {
    score: "l.score",
    status: "l.status",
    entered: "l.placed_at",
    contact: "l.contact_id",
};

const MEMBER_KEYS: Keys = Keys {
    score: "COALESCE(l.score, 0.0)",
    // Members never placed in a tier are shown as new.
    status: "COALESCE(l.status, 'new')",
    entered: "m.entered_at",
    contact: "c.id",
};

/// The whole query of a view (without its LIMIT), with its parameters in
/// order.
fn view_sql(filter: &LeadFilter, me: i64) -> (String, Vec<SqlParam>) {
    let mut params: Vec<SqlParam> = Vec::new();
    let next = |p: SqlParam, params: &mut Vec<SqlParam>| {
        params.push(p);
        format!("${}", params.len())
    };
    let mut conditions: Vec<String> = Vec::new();
    let (columns, keys) = match &filter.segment {
        Some(slug) => {
            let n = next(SqlParam::Text(slug.clone()), &mut params);
            conditions.push(format!(
                "m.segment_id = (SELECT id FROM segments WHERE slug = {n}) AND m.exited_at IS NULL"
            ));
            (MEMBER_COLUMNS, MEMBER_KEYS)
        }
        None => (LEAD_COLUMNS, LEAD_KEYS),
    };
    if let Some(tier) = &filter.tier {
        let n = next(SqlParam::Text(tier.clone()), &mut params);
        conditions.push(format!("l.tier_slug = {n}"));
    }
    if let Some(status) = filter.status {
        let n = next(SqlParam::Text(status.as_str().into()), &mut params);
        conditions.push(format!("{} = {n}", keys.status));
    }
    match filter.owner {
        OwnerFilter::Anyone => {}
        OwnerFilter::Nobody => conditions.push("c.owner_id IS NULL".into()),
        OwnerFilter::Me | OwnerFilter::User(_) => {
            let id = match filter.owner {
                OwnerFilter::User(id) => id,
                _ => me,
            };
            let n = next(SqlParam::Int(id), &mut params);
            conditions.push(format!("c.owner_id = {n}"));
        }
    }
    if let Some(from) = filter.placed_from {
        let n = next(SqlParam::Int(from), &mut params);
        conditions.push(format!("{} >= {n}", keys.entered));
    }
    if let Some(until) = filter.placed_until {
        let n = next(SqlParam::Int(until), &mut params);
        conditions.push(format!("{} <= {n}", keys.entered));
    }
    if let Some(min) = filter.score_min {
        let n = next(SqlParam::Real(min), &mut params);
        conditions.push(format!("{} >= {n}", keys.score));
    }
    if let Some(max) = filter.score_max {
        let n = next(SqlParam::Real(max), &mut params);
        conditions.push(format!("{} <= {n}", keys.score));
    }
    let pattern = like_pattern(&filter.search);
    if !pattern.is_empty() {
        let n = next(SqlParam::Text(pattern), &mut params);
        conditions.push(format!(
            "(LOWER(COALESCE(c.email, '')) LIKE {n} ESCAPE '\\' \
             OR LOWER(COALESCE(c.name, '')) LIKE {n} ESCAPE '\\' \
             OR EXISTS (SELECT 1 FROM contact_attributes a WHERE a.contact_id = c.id \
                AND a.key = 'company' AND LOWER(a.value_text) LIKE {n} ESCAPE '\\'))"
        ));
    }
    let key = match filter.sort {
        LeadSort::Score => keys.score,
        LeadSort::Recent => "c.last_seen",
        LeadSort::Entered => keys.entered,
    };
    let contact = keys.contact;
    if let Some(after) = filter.after {
        // Times are whole milliseconds; scores are compared as stored.
        let k = match filter.sort {
            LeadSort::Score => next(SqlParam::Real(after.key), &mut params),
            _ => next(SqlParam::Int(after.key as i64), &mut params),
        };
        let id = next(SqlParam::Int(after.contact_id), &mut params);
        // A row comparison: both databases walk the sort's index from the
        // cursor (an OR of the two parts makes Postgres scan and sort).
        conditions.push(format!("({key}, {contact}) < ({k}, {id})"));
    }
    let filter_sql = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    (
        format!("{columns}{filter_sql} ORDER BY {key} DESC, {contact} DESC"),
        params,
    )
}

impl SqlStore {
    /// Turns rows into leads with their completion's category scores.
    async fn with_categories(&self, rows: Vec<LeadRow>) -> StoreResult<Vec<Lead>> {
        let sessions: Vec<i64> = rows.iter().filter_map(|r| r.session_id).collect();
        let mut scores: Vec<(i64, String, f64)> = Vec::new();
        for chunk in sessions.chunks(500) {
            let sql = format!(
                "SELECT session_id, category, score FROM session_category_scores \
                 WHERE session_id IN ({}) ORDER BY category",
                value_rows(self.is_postgres(), chunk.len(), 1, |m| m[0].clone())
            );
            let part: Vec<(i64, String, f64)> = with_pool!(self.db(), read, |pool| {
                let mut q = sqlx::query_as(&sql);
                for s in chunk {
                    q = q.bind(s);
                }
                q.fetch_all(pool).await.map_err(db_err)
            })?;
            scores.extend(part);
        }
        rows.into_iter()
            .map(|r| {
                let status = LeadStatus::parse(&r.status)
                    .ok_or_else(|| StoreError::Internal(format!("lead status {}", r.status)))?;
                Ok(Lead {
                    categories: scores
                        .iter()
                        .filter(|(s, _, _)| Some(*s) == r.session_id)
                        .map(|(_, c, v)| (c.clone(), *v))
                        .collect(),
                    contact_id: r.contact_id,
                    email: r.email,
                    name: r.name,
                    company: r.company,
                    score: r.score,
                    tier_name: r.tier_name.unwrap_or_else(|| r.tier_slug.clone()),
                    tier_slug: r.tier_slug,
                    next_step: r.next_step,
                    placed_at: r.placed_at,
                    last_seen: r.last_seen,
                    status,
                    owner_id: r.owner_id,
                    owner_email: r.owner_email,
                    hidden_fields: r.hidden_fields,
                })
            })
            .collect()
    }
}

#[async_trait]
impl LeadStore for SqlStore {
    async fn leads(&self, filter: &LeadFilter, me: i64, limit: u32) -> StoreResult<Vec<Lead>> {
        let (view, params) = view_sql(filter, me);
        let sql = format!("{view} LIMIT {}", limit.clamp(1, 10_000));
        let rows: Vec<LeadRow> = with_pool!(self.db(), read, |pool| {
            bind_all!(sqlx::query_as(&sql), &params)
                .fetch_all(pool)
                .await
                .map_err(db_err)
        })?;
        self.with_categories(rows).await
    }

    async fn lead_tiers(&self) -> StoreResult<Vec<LeadTier>> {
        let rows: Vec<(String, Option<String>, i64)> = with_pool!(self.db(), read, |pool| {
            sqlx::query_as(
                "SELECT l.tier_slug, max(g.name), count(*) FROM leads l \
                 LEFT JOIN segments g ON g.slug = l.tier_slug \
                 LEFT JOIN tiers t ON t.segment_id = g.id \
                 GROUP BY l.tier_slug \
                 ORDER BY COALESCE(max(t.position), 1000000), l.tier_slug",
            )
            .fetch_all(pool)
            .await
            .map_err(db_err)
        })?;
        Ok(rows
            .into_iter()
            .map(|(slug, name, leads)| LeadTier {
                name: name.unwrap_or_else(|| slug.clone()),
                slug,
                leads,
            })
            .collect())
    }

    async fn lead(&self, contact_id: i64) -> StoreResult<Option<Lead>> {
        let sql = format!("{LEAD_COLUMNS} WHERE l.contact_id = $1");
        let rows: Vec<LeadRow> = with_pool!(self.db(), read, |pool| {
            sqlx::query_as(&sql)
                .bind(contact_id)
                .fetch_all(pool)
                .await
                .map_err(db_err)
        })?;
        Ok(self.with_categories(rows).await?.pop())
    }

    async fn lead_history(&self, contact_id: i64) -> StoreResult<Vec<LeadChange>> {
        let rows: Vec<(
            i64,
            Option<String>,
            Option<String>,
            Option<i64>,
            Option<String>,
            String,
        )> = with_pool!(self.db(), read, |pool| {
            sqlx::query_as(
                "SELECT h.at, a.email, h.status, h.owner_id, o.email, h.note FROM lead_changes h \
                     LEFT JOIN users a ON a.id = h.actor_id LEFT JOIN users o ON o.id = h.owner_id \
                     WHERE h.contact_id = $1 ORDER BY h.at DESC, h.id DESC",
            )
            .bind(contact_id)
            .fetch_all(pool)
            .await
            .map_err(db_err)
        })?;
        Ok(rows
            .into_iter()
            .map(|(at, actor_email, status, owner_id, owner_email, note)| {
                let status = status.as_deref().and_then(LeadStatus::parse);
                LeadChange {
                    at,
                    actor_email,
                    // A change that set neither status nor owner cleared the owner.
                    owner_cleared: status.is_none() && owner_id.is_none(),
                    status,
                    owner_email,
                    note,
                }
            })
            .collect())
    }

    async fn set_lead_status(
        &self,
        contact_id: i64,
        status: LeadStatus,
        note: &str,
        actor: i64,
        now: i64,
    ) -> StoreResult<()> {
        with_pool!(self.db(), write, |pool| {
            let mut tx = pool.begin_write().await.map_err(db_err)?;
            let changed = sqlx::query("UPDATE leads SET status = $1 WHERE contact_id = $2")
                .bind(status.as_str())
                .bind(contact_id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            sqlx::query(
                "INSERT INTO lead_changes (contact_id, at, actor_id, status, note) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(contact_id)
            .bind(now)
            .bind(actor)
            .bind(status.as_str())
            .bind(note)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            tx.commit().await.map_err(db_err)
        })
    }

    async fn set_lead_owner(
        &self,
        contact_id: i64,
        owner: Option<i64>,
        note: &str,
        actor: i64,
        now: i64,
    ) -> StoreResult<()> {
        with_pool!(self.db(), write, |pool| {
            let mut tx = pool.begin_write().await.map_err(db_err)?;
            let changed = sqlx::query("UPDATE contacts SET owner_id = $1 WHERE id = $2")
                .bind(owner)
                .bind(contact_id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected();
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            sqlx::query(
                "INSERT INTO lead_changes (contact_id, at, actor_id, owner_id, note) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(contact_id)
            .bind(now)
            .bind(actor)
            .bind(owner)
            .bind(note)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            tx.commit().await.map_err(db_err)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_filter_is_a_bound_parameter_never_spliced_text() {
        let filter = LeadFilter::from_pairs([
            ("tier", "x' OR 1=1 --"),
            ("q", "%'; DROP TABLE leads; --"),
            ("status", "new"),
            ("owner", "me"),
            ("min", "3"),
            ("sort", "entered"),
            ("after", "entered.1700000000000.9"),
        ])
        .unwrap();
        let (sql, params) = view_sql(&filter, 7);
        assert!(!sql.contains("DROP") && !sql.contains("OR 1=1"), "{sql}");
        assert_eq!(params.len(), 7);
        assert!(sql.ends_with("ORDER BY l.placed_at DESC, l.contact_id DESC"));
        let members = LeadFilter {
            segment: Some("hot".into()),
            ..filter
        };
        let (sql, _) = view_sql(&members, 7);
        assert!(
            sql.ends_with("ORDER BY m.entered_at DESC, c.id DESC"),
            "{sql}"
        );
    }
}
