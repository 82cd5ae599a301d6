//! Delivers the webhook outbox: signed POSTs, retried with backoff for a
//! day, each with the idempotency key its receiver drops copies by.

use hmac::{Hmac, Mac};
use quizfunnel::action::{check_webhook_url, is_private, retry_at};
use quizfunnel::store::{DeliveryOutcome, DueDelivery, Store, StoreResult};
use quizfunnel_app::state::Clock;
use sha2::Sha256;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How long finding a receiver's address, and then its answer, may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How long a taken delivery is held before any worker may take it again.
/// A try lasts at most two TIMEOUTs (the lookup, then the request); the
/// lease is three times that, so recording the outcome on a busy database
/// and instances' clocks a few seconds apart still fit inside it and two
/// live instances never send one delivery at once. Longer only delays the
/// deliveries a killed server was holding.
const LEASE_MS: i64 = 6 * TIMEOUT.as_millis() as i64;
const BATCH: u32 = 32;

/// The signature receivers check: HMAC-SHA256 with the webhook's secret
/// over `{timestamp}.{body}`, hex. The timestamp is signed too so an old
/// request cannot be replayed as new.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    quizfunnel::hex::encode(&mac.finalize().into_bytes())
}

/// The JSON a receiver gets.
pub fn body(d: &DueDelivery, sent_at: i64) -> String {
    serde_json::json!({
        "id": d.idempotency_key,
        "event": "segment.entered",
        "action": d.action,
        "segment": { "slug": d.segment_slug, "name": d.segment_name },
        "tier": d.next_step.as_ref().map(|s| serde_json::json!({ "next_step": s })),
        "contact": {
            "id": d.contact_id,
            "email": d.email,
            "name": d.name,
            "owner": d.owner_email,
            "tags": d.tags,
        },
        "entered_at": d.entered_at,
        "sent_at": sent_at,
    })
    .to_string()
}

/// Takes what is due and sends it until nothing is; returns how many were
/// tried.
pub async fn deliver_due(store: &Arc<dyn Store>, clock: &Clock) -> StoreResult<usize> {
    let mut tried = 0;
    loop {
        let now = clock.now();
        let due = store.claim_deliveries(now, now + LEASE_MS, BATCH).await?;
        let taken = due.len();
        if taken == 0 {
            return Ok(tried);
        }
        let allow_private = store.allow_private_webhooks().await?;
        let mut sends = tokio::task::JoinSet::new();
        for d in due {
            let (store, clock) = (store.clone(), clock.clone());
            sends.spawn(async move {
                let outcome = send(&d, allow_private, &clock).await;
                if !outcome.delivered {
                    tracing::info!(delivery = d.id, url = %d.url, error = ?outcome.error,
                        code = ?outcome.code, retry = outcome.retry_at.is_some(), "webhook not delivered");
                }
                if let Err(e) = store.finish_delivery(d.id, &outcome, clock.now()).await {
                    // Its lease runs out and it is tried again.
                    tracing::warn!(error = %e, delivery = d.id, "webhook outcome not recorded");
                }
            });
        }
        while sends.join_next().await.is_some() {}
        tried += taken;
        if taken < BATCH as usize {
            return Ok(tried);
        }
    }
}

async fn send(d: &DueDelivery, allow_private: bool, clock: &Clock) -> DeliveryOutcome {
    let failed = |code: Option<u16>, error: String, retry: bool| DeliveryOutcome {
        delivered: false,
        code,
        error: Some(error),
        retry_at: retry
            .then(|| retry_at(d.attempts, clock.now(), d.give_up_at))
            .flatten(),
    };
    // Checked again at each try: settings change, and names can come to
    // point somewhere else after the webhook was saved.
    let target = match check_webhook_url(&d.url, allow_private) {
        Ok(t) => t,
        Err(e) => return failed(None, e, false),
    };
    // Bounded like the request, or a hung resolver would outlast the lease.
    let lookup = tokio::net::lookup_host((target.host.as_str(), target.port));
    let addrs: Vec<SocketAddr> = match tokio::time::timeout(TIMEOUT, lookup).await {
        Ok(Ok(a)) => a.collect(),
        Ok(Err(e)) => return failed(None, format!("{} cannot be found: {e}", target.host), true),
        Err(_) => {
            return failed(
                None,
                format!(
                    "{} could not be looked up within {} s",
                    target.host,
                    TIMEOUT.as_secs()
                ),
                true,
            );
        }
    };
    let Some(addr) = addrs.first().copied() else {
        return failed(None, format!("{} has no address", target.host), true);
    };
    if !allow_private && addrs.iter().any(|a| is_private(a.ip())) {
        return failed(
            None,
            format!(
                "{} points to a private address; allow private addresses in Settings to call it",
                target.host
            ),
            false,
        );
    }
    // The request goes to the address just checked, not to a second lookup.
    let client = match reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .resolve(&target.host, addr)
        .build()
    {
        Ok(c) => c,
        Err(e) => return failed(None, format!("cannot prepare the request: {e}"), true),
    };
    let now = clock.now();
    let timestamp = now / 1000;
    let body = body(d, now);
    let result = client
        .post(&d.url)
        .header("content-type", "application/json")
        .header("user-agent", "quizfunnel-webhooks")
        .header("idempotency-key", &d.idempotency_key)
        .header("x-quizfunnel-timestamp", timestamp.to_string())
        .header(
            "x-quizfunnel-signature",
            format!("sha256={}", signature(&d.secret, timestamp, &body)),
        )
        .body(body)
        .send()
        .await;
    match result {
        Ok(r) if r.status().is_success() => DeliveryOutcome {
            delivered: true,
            code: Some(r.status().as_u16()),
            error: None,
            retry_at: None,
        },
        Ok(r) => failed(
            Some(r.status().as_u16()),
            format!("the receiver answered {}", r.status()),
            true,
        ),
        Err(e) if e.is_timeout() => failed(
            None,
            format!("no answer within {} s", TIMEOUT.as_secs()),
            true,
        ),
        Err(e) => failed(None, format!("cannot reach the receiver: {e}"), true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_cover_the_timestamp_and_the_body() {
        let a = signature("secret", 1_700_000_000, "{}");
        assert_eq!(a.len(), 64);
        assert_ne!(a, signature("secret", 1_700_000_001, "{}"));
        assert_ne!(a, signature("secret", 1_700_000_000, "{ }"));
        assert_ne!(a, signature("other", 1_700_000_000, "{}"));
        // What a receiver computes to check a request, spelled out.
        assert_eq!(
            signature("whsec", 1_700_000_000, r#"{"id":"qf-1"}"#),
            "7f08e4d4702b4df6ec0ec1fa2bdd17f4b33b4729e43ccc00014b9e53ba34254e"
        );
    }
}
