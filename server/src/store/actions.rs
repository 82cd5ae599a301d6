//! Segment actions and the webhook outbox.

use super::sql::{BeginWrite, db_err, with_pool};
use super::{Db, SqlStore};
use async_trait::async_trait;
use quizfunnel::action::{ActionKind, NewAction, SegmentAction};
use quizfunnel::store::{
    ActionStore, Delivery, DeliveryOutcome, DueDelivery, StoreError, StoreResult,
};

#[derive(sqlx::FromRow)]
struct ActionRow {
    id: i64,
    segment_id: i64,
    kind: String,
    url: Option<String>,
    secret: Option<String>,
    tag: Option<String>,
    created_at: i64,
}

impl TryFrom<ActionRow> for SegmentAction {
    type Error = StoreError;

    fn try_from(r: ActionRow) -> StoreResult<Self> {
        Ok(SegmentAction {
            kind: ActionKind::parse(&r.kind)
                .ok_or_else(|| StoreError::Internal(format!("action kind {}", r.kind)))?,
            id: r.id,
            segment_id: r.segment_id,
            url: r.url,
            secret: r.secret,
            tag: r.tag,
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct DueRow {
    id: i64,
    idempotency_key: String,
    url: String,
    secret: String,
    attempts: i64,
    give_up_at: i64,
    action: String,
    segment_slug: String,
    segment_name: String,
    next_step: Option<String>,
    contact_id: i64,
    email: Option<String>,
    name: Option<String>,
    owner_email: Option<String>,
    entered_at: i64,
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: i64,
    contact_id: i64,
    contact_email: Option<String>,
    url: Option<String>,
    idempotency_key: String,
    status: String,
    attempts: i64,
    last_code: Option<i64>,
    last_error: Option<String>,
    created_at: i64,
    next_attempt_at: i64,
    delivered_at: Option<i64>,
}

fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn code(n: Option<i64>) -> Option<u16> {
    n.and_then(|c| u16::try_from(c).ok())
}

/// What the outbox needs to write a delivery's body, read when it is sent.
const DUE_SQL: &str = "SELECT d.id, d.idempotency_key, a.url, a.secret, d.attempts, d.give_up_at, \
    a.kind AS action, g.slug AS segment_slug, g.name AS segment_name, t.next_step, \
    c.id AS contact_id, c.email, c.name, u.email AS owner_email, d.entered_at \
    FROM webhook_deliveries d \
    JOIN segment_actions a ON a.id = d.action_id \
    JOIN segments g ON g.id = d.segment_id \
    JOIN contacts c ON c.id = d.contact_id \
    LEFT JOIN tiers t ON t.segment_id = d.segment_id \
    LEFT JOIN users u ON u.id = c.owner_id \
    WHERE d.id = $1 AND a.url IS NOT NULL AND a.secret IS NOT NULL";

#[async_trait]
impl ActionStore for SqlStore {
    async fn add_action(
        &self,
        segment_id: i64,
        action: &NewAction,
        secret: Option<&str>,
        now: i64,
    ) -> StoreResult<i64> {
        with_pool!(self.db(), write, |pool| {
            let mut tx = pool.begin_write().await.map_err(db_err)?;
            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM segments WHERE id = $1")
                .bind(segment_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
            if exists.is_none() {
                return Err(StoreError::NotFound);
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO segment_actions (segment_id, kind, url, secret, tag, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(segment_id)
            .bind(action.kind.as_str())
            .bind(&action.url)
            .bind(secret)
            .bind(&action.tag)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
            tx.commit().await.map_err(db_err)?;
            Ok(id)
        })
    }

    async fn remove_action(&self, segment_id: i64, action_id: i64) -> StoreResult<()> {
        with_pool!(self.db(), write, |pool| {
            sqlx::query("DELETE FROM segment_actions WHERE id = $1 AND segment_id = $2")
                .bind(action_id)
                .bind(segment_id)
                .execute(pool)
                .await
                .map_err(db_err)?;
            Ok(())
        })
    }

    async fn actions(&self, segment_id: i64) -> StoreResult<Vec<SegmentAction>> {
        let rows: Vec<ActionRow> = with_pool!(self.db(), read, |pool| {
            sqlx::query_as(
                "SELECT id, segment_id, kind, url, secret, tag, created_at FROM segment_actions \
                 WHERE segment_id = $1 ORDER BY id",
            )
            .bind(segment_id)
            .fetch_all(pool)
            .await
            .map_err(db_err)
        })?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn claim_deliveries(
        &self,
        now: i64,
        lease_until: i64,
        limit: u32,
    ) -> StoreResult<Vec<DueDelivery>> {
        // Postgres instances share the outbox: each takes rows the others
        // have not locked. SQLite has one writer, so taking is already one
        // at a time.
        let lock = match self.db() {
            Db::Sqlite(_) => "",
            Db::Postgres(_) => "FOR UPDATE SKIP LOCKED",
        };
        let claim = format!(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = $2 \
             WHERE id IN (SELECT id FROM webhook_deliveries \
                WHERE status = 'pending' AND next_attempt_at <= $1 \
                ORDER BY next_attempt_at, id LIMIT $3 {lock}) \
             RETURNING id"
        );
        with_pool!(self.db(), write, |pool| {
            let mut tx = pool.begin_write().await.map_err(db_err)?;
            let ids: Vec<i64> = sqlx::query_scalar(&claim)
                .bind(now)
                .bind(lease_until)
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?;
            let mut due = Vec::with_capacity(ids.len());
            for id in ids {
                let row: Option<DueRow> = sqlx::query_as(DUE_SQL)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?;
                let Some(row) = row else { continue };
                let tags: Vec<String> = sqlx::query_scalar(
                    "SELECT tag FROM contact_tags WHERE contact_id = $1 ORDER BY tag",
                )
                .bind(row.contact_id)
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?;
                due.push(DueDelivery {
                    id: row.id,
                    idempotency_key: row.idempotency_key,
                    url: row.url,
                    secret: row.secret,
                    attempts: count(row.attempts),
                    give_up_at: row.give_up_at,
                    action: row.action,
                    segment_slug: row.segment_slug,
                    segment_name: row.segment_name,
                    next_step: row.next_step,
                    contact_id: row.contact_id,
                    email: row.email,
                    name: row.name,
                    owner_email: row.owner_email,
                    tags,
                    entered_at: row.entered_at,
                });
            }
            tx.commit().await.map_err(db_err)?;
            Ok(due)
        })
    }

    async fn finish_delivery(
        &self,
        id: i64,
        outcome: &DeliveryOutcome,
        now: i64,
    ) -> StoreResult<()> {
        let status = match (outcome.delivered, outcome.retry_at) {
            (true, _) => "delivered",
            (false, Some(_)) => "pending",
            (false, None) => "failed",
        };
        with_pool!(self.db(), write, |pool| {
            // Only a delivery still out: one success per event, even if a
            // lease ran out and another worker took it meanwhile.
            sqlx::query(
                "UPDATE webhook_deliveries SET status = $2, last_code = $3, last_error = $4, \
                 next_attempt_at = COALESCE($5, next_attempt_at), \
                 delivered_at = CASE WHEN $2 = 'delivered' THEN $6 ELSE delivered_at END \
                 WHERE id = $1 AND status = 'pending'",
            )
            .bind(id)
            .bind(status)
            .bind(outcome.code.map(i64::from))
            .bind(&outcome.error)
            .bind(outcome.retry_at)
            .bind(now)
            .execute(pool)
            .await
            .map_err(db_err)?;
            Ok(())
        })
    }

    async fn deliveries(&self, segment_id: i64, limit: u32) -> StoreResult<Vec<Delivery>> {
        let rows: Vec<DeliveryRow> = with_pool!(self.db(), read, |pool| {
            sqlx::query_as(
                "SELECT d.id, d.contact_id, c.email AS contact_email, a.url, d.idempotency_key, \
                 d.status, d.attempts, d.last_code, d.last_error, d.created_at, \
                 d.next_attempt_at, d.delivered_at \
                 FROM webhook_deliveries d JOIN segment_actions a ON a.id = d.action_id \
                 JOIN contacts c ON c.id = d.contact_id \
                 WHERE d.segment_id = $1 ORDER BY d.created_at DESC, d.id DESC LIMIT $2",
            )
            .bind(segment_id)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
            .map_err(db_err)
        })?;
        Ok(rows
            .into_iter()
            .map(|r| Delivery {
                id: r.id,
                contact_id: r.contact_id,
                contact_email: r.contact_email,
                url: r.url.unwrap_or_default(),
                idempotency_key: r.idempotency_key,
                status: r.status,
                attempts: count(r.attempts),
                last_code: code(r.last_code),
                last_error: r.last_error,
                created_at: r.created_at,
                next_attempt_at: r.next_attempt_at,
                delivered_at: r.delivered_at,
            })
            .collect())
    }

    async fn resend_delivery(&self, segment_id: i64, id: i64, now: i64) -> StoreResult<()> {
        with_pool!(self.db(), write, |pool| {
            // A pending delivery may be out right now: queueing it again
            // (a second click, a second marketer) would send it twice.
            let changed = sqlx::query(
                "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $3, \
                 give_up_at = $4 WHERE id = $1 AND segment_id = $2 AND status <> 'pending'",
            )
            .bind(id)
            .bind(segment_id)
            .bind(now)
            .bind(now.saturating_add(quizfunnel::action::RETRY_FOR_MS))
            .execute(pool)
            .await
            .map_err(db_err)?
            .rows_affected();
            if changed > 0 {
                return Ok(());
            }
            let pending: Option<bool> = sqlx::query_scalar(
                "SELECT status = 'pending' FROM webhook_deliveries WHERE id = $1 AND segment_id = $2",
            )
            .bind(id)
            .bind(segment_id)
            .fetch_optional(pool)
            .await
            .map_err(db_err)?;
            match pending {
                Some(_) => Err(StoreError::Conflict(
                    "this delivery is already queued to be sent".into(),
                )),
                None => Err(StoreError::NotFound),
            }
        })
    }

    async fn contact_tags_and_owner(
        &self,
        contact_id: i64,
    ) -> StoreResult<(Vec<String>, Option<String>)> {
        with_pool!(self.db(), read, |pool| {
            let tags: Vec<String> = sqlx::query_scalar(
                "SELECT tag FROM contact_tags WHERE contact_id = $1 ORDER BY tag",
            )
            .bind(contact_id)
            .fetch_all(pool)
            .await
            .map_err(db_err)?;
            let owner: Option<String> = sqlx::query_scalar(
                "SELECT u.email FROM contacts c JOIN users u ON u.id = c.owner_id WHERE c.id = $1",
            )
            .bind(contact_id)
            .fetch_optional(pool)
            .await
            .map_err(db_err)?;
            Ok((tags, owner))
        })
    }

    async fn allow_private_webhooks(&self) -> StoreResult<bool> {
        with_pool!(self.db(), read, |pool| {
            sqlx::query_scalar("SELECT allow_private_webhooks FROM tracking_settings WHERE id = 1")
                .fetch_one(pool)
                .await
                .map_err(db_err)
        })
    }

    async fn set_allow_private_webhooks(&self, allow: bool) -> StoreResult<()> {
        with_pool!(self.db(), write, |pool| {
            sqlx::query("UPDATE tracking_settings SET allow_private_webhooks = $1 WHERE id = 1")
                .bind(allow)
                .execute(pool)
                .await
                .map_err(db_err)?;
            Ok(())
        })
    }
}
