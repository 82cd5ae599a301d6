//! Several `quizfunnel serve` instances on one Postgres (SPEC §6): answers
//! taken by either instance add up to the same counts, and the webhooks
//! they fire leave once each while both instances drain the outbox.

use crate::helpers::{Backend, TestApp, call, second_instance, spawn_app};
use crate::load::{
    assert_completions_stored_once, assert_counts_match_a_recount, complete_quiz, number, strings,
};
use quizfunnel::account::Role;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A webhook receiver on loopback that counts each idempotency key it got.
/// It answers slowly, so one instance's sends are still in flight while
/// the other instance looks for work.
async fn slow_receiver() -> (String, Arc<Mutex<HashMap<String, usize>>>) {
    let got: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let seen = got.clone();
    let handler = move |headers: axum::http::HeaderMap| {
        let seen = seen.clone();
        async move {
            let key = headers
                .get("idempotency-key")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            *seen.lock().unwrap().entry(key).or_default() += 1;
            tokio::time::sleep(Duration::from_millis(300)).await;
            axum::http::StatusCode::OK
        }
    };
    let router = axum::Router::new().route("/hook", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, got)
}

/// Completes the quiz as each of `emails` on `app`, a few at a time.
/// Every step moves both instances' clocks on together: the quiz's bot
/// check wants time to pass, and instances whose clocks disagree by more
/// than the outbox lease would take each other's deliveries.
async fn complete_on(app: Arc<TestApp>, other: Arc<TestApp>, emails: Vec<String>) {
    let mut respondents = tokio::task::JoinSet::new();
    for email in emails {
        let (app, other) = (app.clone(), other.clone());
        respondents.spawn(async move {
            let step = || {
                app.clock.advance(2_000);
                other.clock.advance(2_000);
            };
            let done = complete_quiz(&app.address, &email, &step).await.unwrap();
            assert!(done, "{email} finished the quiz on {}", app.address);
        });
    }
    while let Some(done) = respondents.join_next().await {
        done.unwrap();
    }
}

async fn completions_spread_over_two_instances_count_once_and_send_each_webhook_once(
    backend: Backend,
) {
    let a = spawn_app(backend).await;
    quizfunnel_server::demo::seed(&a.store, a.clock.now())
        .await
        .unwrap();
    let b = second_instance(&a).await;
    let (hook, received) = slow_receiver().await;

    // Every completer lands in a tier; each tier's segment calls the
    // receiver, set up through one instance and used by both.
    let (owner, _) = a.signed_in(Role::Owner).await;
    let (status, body) = call(
        &a,
        &owner,
        "/api/settings/webhooks/save",
        &[("settings", "webhooks"), ("allow_private", "on")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let tiers = strings(
        &a.store,
        "SELECT CAST(id AS TEXT) FROM segments \
         WHERE slug IN ('fast-track', 'nurture', 'disqualify') ORDER BY id",
    )
    .await;
    assert_eq!(tiers.len(), 3);
    for segment in &tiers {
        let (status, body) = call(
            &a,
            &owner,
            "/api/segments/actions/add",
            &[
                ("segment_id", segment.as_str()),
                ("kind", "webhook"),
                ("url", &hook),
                ("tag", ""),
            ],
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }

    let (a, b) = (Arc::new(a), Arc::new(b));
    let emails: Vec<String> = (0..24)
        .map(|i| format!("load-instances-{i}@example.com"))
        .collect();
    let on_a: Vec<String> = emails.iter().step_by(2).cloned().collect();
    let on_b: Vec<String> = emails.iter().skip(1).step_by(2).cloned().collect();
    tokio::join!(
        complete_on(a.clone(), b.clone(), on_a),
        complete_on(b.clone(), a.clone(), on_b),
    );

    // (a) The counts the database keeps, whichever instance wrote, equal a
    // recount, and both instances serve the same ones.
    assert_completions_stored_once(&a.store, &emails).await;
    assert_counts_match_a_recount(&a.store).await;
    let (owner_b, _) = b.signed_in(Role::Owner).await;
    let counts = |app: Arc<TestApp>, c: reqwest::Client| async move {
        let (status, body) = call(&app, &c, "/api/dashboard", &[("days", "30")]).await;
        assert_eq!(status, 200, "{body}");
        let dashboard: serde_json::Value = serde_json::from_str(&body).unwrap();
        dashboard["counts"].to_string()
    };
    assert_eq!(
        counts(a.clone(), owner.clone()).await,
        counts(b.clone(), owner_b).await
    );

    // (b) Every webhook those completions queued reaches the receiver once:
    // each was taken by one instance, one time.
    let queued = "SELECT d.idempotency_key FROM webhook_deliveries d \
                  JOIN contacts c ON c.id = d.contact_id WHERE c.email LIKE 'load-instances-%'";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let pending = number(
            &a.store,
            "SELECT count(*) FROM webhook_deliveries WHERE status <> 'delivered'",
        )
        .await;
        if pending == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{pending} webhooks still not delivered after a minute"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let keys = strings(&a.store, queued).await;
    let completers_with_a_webhook = number(
        &a.store,
        "SELECT count(DISTINCT d.contact_id) FROM webhook_deliveries d \
         JOIN contacts c ON c.id = d.contact_id WHERE c.email LIKE 'load-instances-%'",
    )
    .await;
    assert_eq!(completers_with_a_webhook, emails.len() as i64);
    let got = received.lock().unwrap().clone();
    for key in &keys {
        assert_eq!(got.get(key), Some(&1), "webhook {key} was received");
    }
    let twice: Vec<_> = got.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    assert_eq!(
        number(
            &a.store,
            "SELECT count(*) FROM webhook_deliveries WHERE attempts <> 1"
        )
        .await,
        0,
        "a delivery was taken twice"
    );
}

mod on_one_postgres {
    /// Only Postgres is shared by several instances; SQLite is one process.
    #[tokio::test]
    async fn postgres() {
        super::completions_spread_over_two_instances_count_once_and_send_each_webhook_once(
            crate::helpers::Backend::Postgres,
        )
        .await
    }
}
