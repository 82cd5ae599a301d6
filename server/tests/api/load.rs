//! Load for the reliability tests: quiz completions and event batches sent
//! to a server (in this process or a real `quizfunnel serve`), each written
//! down only once the server acknowledged it, plus the checks that what the
//! database holds adds up.

use crate::respond::FULL_PATH;
use quizfunnel_server::store::{Db, SqlStore};
use serde_json::json;

/// Completes the demo quiz as `email` in a browser of its own; true once the
/// last answer was acknowledged with the result page. `before_step` lets an
/// in-process server's clock move past the bot check.
pub async fn complete_quiz(
    base: &str,
    email: &str,
    before_step: &(dyn Fn() + Sync),
) -> Result<bool, reqwest::Error> {
    let c = crate::helpers::client();
    c.get(format!("{base}/q/growth")).send().await?;
    let last = FULL_PATH.len() - 1;
    for (i, step) in FULL_PATH.iter().enumerate() {
        before_step();
        let form: Vec<(&str, &str)> = step
            .iter()
            .map(|&(k, v)| if k == "email" { (k, email) } else { (k, v) })
            .collect();
        let res = c
            .post(format!("{base}/q/growth"))
            .form(&form)
            .send()
            .await?;
        let location = res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let wanted = if i == last {
            "/q/growth/result"
        } else {
            "/q/growth"
        };
        if res.status() != 303 || location != wanted {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Sends one batch of `page_viewed` events with these idempotency keys;
/// true when the server answered 202 with every event accepted or known.
pub async fn send_events(
    client: &reqwest::Client,
    base: &str,
    api_key: &str,
    keys: &[String],
) -> Result<bool, reqwest::Error> {
    let batch: Vec<_> = keys
        .iter()
        .map(|k| {
            json!({
                "name": "page_viewed",
                "visitor_id": format!("visitor-{k}"),
                "properties": {"path": "/pricing"},
                "idempotency_key": k,
            })
        })
        .collect();
    let res = client
        .post(format!("{base}/api/v1/events"))
        .bearer_auth(api_key)
        .json(&batch)
        .send()
        .await?;
    if res.status() != 202 {
        return Ok(false);
    }
    let body: serde_json::Value = res.json().await?;
    let stored = body["accepted"].as_u64().unwrap_or(0) + body["duplicates"].as_u64().unwrap_or(0);
    Ok(stored == keys.len() as u64)
}

/// One column of text rows, read by the writer (SQLite) so every commit is
/// seen.
pub async fn strings(store: &SqlStore, query: &str) -> Vec<String> {
    match store.db() {
        Db::Sqlite(db) => sqlx::query_scalar(query)
            .fetch_all(db.writer())
            .await
            .unwrap(),
        Db::Postgres(pool) => sqlx::query_scalar(query).fetch_all(pool).await.unwrap(),
    }
}

pub async fn number(store: &SqlStore, query: &str) -> i64 {
    match store.db() {
        Db::Sqlite(db) => sqlx::query_scalar(query)
            .fetch_one(db.writer())
            .await
            .unwrap(),
        Db::Postgres(pool) => sqlx::query_scalar(query).fetch_one(pool).await.unwrap(),
    }
}

/// Each acknowledged key is stored exactly once.
pub async fn assert_events_stored_once(store: &SqlStore, acked: &[String]) {
    let stored = strings(
        store,
        "SELECT idempotency_key FROM events WHERE idempotency_key LIKE 'load-%'",
    )
    .await;
    let mut seen = std::collections::HashMap::<&str, usize>::new();
    for k in &stored {
        *seen.entry(k.as_str()).or_default() += 1;
    }
    assert!(seen.values().all(|&n| n == 1), "an event stored twice");
    let missing: Vec<_> = acked
        .iter()
        .filter(|k| !seen.contains_key(k.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged events missing, e.g. {:?}",
        missing.len(),
        missing.first()
    );
}

/// Each acknowledged completion is one completed session of that person.
pub async fn assert_completions_stored_once(store: &SqlStore, acked: &[String]) {
    let stored = strings(
        store,
        "SELECT c.email FROM quiz_sessions s JOIN contacts c ON c.id = s.contact_id \
         WHERE s.completed_at IS NOT NULL AND c.email LIKE 'load-%'",
    )
    .await;
    let mut seen = std::collections::HashMap::<&str, usize>::new();
    for e in &stored {
        *seen.entry(e.as_str()).or_default() += 1;
    }
    assert!(
        seen.values().all(|&n| n == 1),
        "a completion stored twice: {seen:?}"
    );
    let missing: Vec<_> = acked
        .iter()
        .filter(|e| !seen.contains_key(e.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged completions missing, e.g. {:?}",
        missing.len(),
        missing.first()
    );
}

/// The counts the database keeps (segment members, leads per tier) equal
/// a count made from scratch, both as pages read them and, once any
/// changes still pending are folded in (Postgres), as stored.
pub async fn assert_counts_match_a_recount(store: &SqlStore) {
    for folded in [false, true] {
        if folded {
            store.fold_counts().await.unwrap();
        }
        let segments_off = number(
            store,
            "SELECT count(*) FROM segment_counts n WHERE members <> \
             (SELECT count(*) FROM segment_memberships m WHERE m.segment_id = n.segment_id AND m.exited_at IS NULL)",
        )
        .await;
        assert_eq!(
            segments_off, 0,
            "a segment count differs from its members (folded: {folded})"
        );
        let leads_off = number(
            store,
            "SELECT count(*) FROM (SELECT tier_slug FROM tier_lead_counts UNION SELECT tier_slug FROM leads) t \
             WHERE COALESCE((SELECT leads FROM tier_lead_counts c WHERE c.tier_slug = t.tier_slug), 0) <> \
             (SELECT count(*) FROM leads l WHERE l.tier_slug = t.tier_slug)",
        )
        .await;
        assert_eq!(
            leads_off, 0,
            "a tier's lead count differs from its leads (folded: {folded})"
        );
    }
    let stored_off = number(
        store,
        "SELECT count(*) FROM segments s WHERE member_count <> \
         (SELECT members FROM segment_counts n WHERE n.segment_id = s.id)",
    )
    .await;
    assert_eq!(
        stored_off, 0,
        "a folded segment count differs from the one pages read"
    );
    let placed_without_stay = number(
        store,
        "SELECT count(*) FROM quiz_sessions s JOIN contacts c ON c.id = s.contact_id \
         WHERE s.completed_at IS NOT NULL AND c.email LIKE 'load-%' \
         AND NOT EXISTS (SELECT 1 FROM placements p WHERE p.session_id = s.id)",
    )
    .await;
    assert_eq!(placed_without_stay, 0, "a completer was never placed");
}
