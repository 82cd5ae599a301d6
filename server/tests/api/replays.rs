//! Replays that race: two copies of the same public POST sent at once (a
//! double click, a client retrying before the first answer) store one
//! record, on both databases. Replays one after the other are covered in
//! respond.rs and ingest.rs.

use crate::helpers::{Backend, client, count, spawn_app};
use crate::respond::FULL_PATH;
use serde_json::{Value, json};

async fn two_copies_of_every_quiz_step_racing_store_each_once(backend: Backend) {
    let app = spawn_app(backend).await;
    quizfunnel_server::demo::seed(&app.store, app.clock.now())
        .await
        .unwrap();
    let c = client();
    crate::helpers::open_quiz(&app, &c, "/q/growth").await;
    for (i, step) in FULL_PATH.iter().enumerate() {
        app.clock.advance(2_000);
        let post = || c.post(app.url("/q/growth")).form(step).send();
        let (a, b) = tokio::join!(post(), post());
        let (a, b) = (a.unwrap().status(), b.unwrap().status());
        // The copy that lost the race is told where the respondent is, or
        // that the step was already taken: never a server error.
        assert!(a == 303 || b == 303, "step {i}: {a} {b}");
        assert!(a.as_u16() < 500 && b.as_u16() < 500, "step {i}: {a} {b}");
    }
    let contact = "(SELECT id FROM contacts WHERE email = 'rita@example.com')";
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM contacts WHERE email = 'rita@example.com'"
        )
        .await,
        1,
        "the lead gate made one contact"
    );
    assert_eq!(
        count(&app, &format!("SELECT count(*) FROM quiz_sessions WHERE completed_at IS NOT NULL AND contact_id = {contact}")).await,
        1
    );
    assert_eq!(
        count(&app, &format!("SELECT count(*) FROM events WHERE name = 'question_answered' AND contact_id = {contact}")).await,
        FULL_PATH.len() as i64
    );
    assert_eq!(
        count(&app, &format!("SELECT count(*) FROM events WHERE name = 'quiz_completed' AND contact_id = {contact}")).await,
        1
    );
    assert_eq!(
        count(
            &app,
            &format!("SELECT count(*) FROM placements WHERE contact_id = {contact}")
        )
        .await,
        1
    );
    crate::load::assert_counts_match_a_recount(&app.store).await;
}

async fn two_copies_of_an_event_batch_racing_store_each_event_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = crate::ingest::api_key(&app).await;
    for round in 0..10 {
        let batch: Vec<Value> = (0..5)
            .map(|i| json!({"name": "page_viewed", "visitor_id": format!("visitor-race-{round}"), "idempotency_key": format!("race-{round}-{i}")}))
            .collect();
        let body = Value::Array(batch).to_string();
        let post = || {
            app.client
                .post(app.url("/api/v1/events"))
                .bearer_auth(&key)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
        };
        let (a, b) = tokio::join!(post(), post());
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!((a.status().as_u16(), b.status().as_u16()), (202, 202));
        let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
        assert_eq!(
            a["accepted"].as_u64().unwrap() + b["accepted"].as_u64().unwrap(),
            5,
            "{a} {b}"
        );
        assert_eq!(
            a["duplicates"].as_u64().unwrap() + b["duplicates"].as_u64().unwrap(),
            5,
            "{a} {b}"
        );
    }
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM events WHERE idempotency_key LIKE 'race-%'"
        )
        .await,
        50
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM contacts").await,
        10,
        "one visitor contact per round, not per copy"
    );
}

crate::on_both_backends!(
    two_copies_of_every_quiz_step_racing_store_each_once,
    two_copies_of_an_event_batch_racing_store_each_event_once,
);
