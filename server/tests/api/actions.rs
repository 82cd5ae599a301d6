//! What segments do when a contact enters them: signed webhooks from the
//! outbox (retries, resend), sales handoff in turn, tags; on both databases.

use crate::contacts::{batch, event, visitor};
use crate::helpers::{Backend, TestApp, call, count, post_form, spawn_app};
use axum::http::HeaderMap;
use quizfunnel::account::Role;
use quizfunnel::contact::Subject;
use quizfunnel::rule::Rule;
use quizfunnel::store::{ContactStore, QuizStore, SegmentStore, Tier};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> String {
        self.headers[name].to_str().unwrap().to_string()
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// A webhook receiver on loopback that answers with `script` in turn, then
/// 200; a status of 0 never answers.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(script: Vec<u16>) -> Receiver {
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let script = Arc::new(Mutex::new(script.into_iter()));
        let seen = got.clone();
        let handler = move |headers: HeaderMap, body: String| {
            let (seen, script) = (seen.clone(), script.clone());
            async move {
                seen.lock().unwrap().push(Received { headers, body });
                let status = script.lock().unwrap().next().unwrap_or(200);
                if status == 0 {
                    std::future::pending::<()>().await;
                }
                axum::http::StatusCode::from_u16(status).unwrap()
            }
        };
        let router = axum::Router::new().route("/hook", axum::routing::post(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Receiver { url, got }
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits (up to a minute) until `n` requests have arrived.
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..600 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "the receiver got {} requests, not {n}",
            self.received().len()
        );
    }
}

async fn allow_private_webhooks(app: &TestApp, owner: &reqwest::Client) {
    let (status, body) = call(
        app,
        owner,
        "/api/settings/webhooks/save",
        &[("settings", "webhooks"), ("allow_private", "on")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

async fn new_segment(app: &TestApp, slug: &str, rule: &str) -> i64 {
    app.store
        .create_segment(slug, slug, "", &Rule::parse(rule).unwrap(), app.clock.now())
        .await
        .unwrap()
}

async fn actions_and_log(app: &TestApp, c: &reqwest::Client, segment: i64) -> serde_json::Value {
    let (status, body) = call(
        app,
        c,
        "/api/segments/actions",
        &[("segment_id", &segment.to_string())],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// Polls the delivery log until `done` holds for it (up to a minute).
async fn log_until(
    app: &TestApp,
    c: &reqwest::Client,
    segment: i64,
    done: impl Fn(&[serde_json::Value]) -> bool,
) -> Vec<serde_json::Value> {
    for _ in 0..600 {
        let log = actions_and_log(app, c, segment).await["deliveries"]
            .as_array()
            .unwrap()
            .clone();
        if done(&log) {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the delivery log never got there");
}

async fn entering_a_segment_sends_signed_webhooks_tags_and_hands_off_in_turn(backend: Backend) {
    let app = spawn_app(backend).await;
    // The first delivery is answered 500: it is tried again later.
    let receiver = Receiver::start(vec![500]).await;
    let (owner, _) = app.signed_in(Role::Owner).await;
    allow_private_webhooks(&app, &owner).await;
    for who in ["sam@example.com", "sue@example.com"] {
        app.user(who, Role::Sales, crate::helpers::PASSWORD).await;
    }
    let segment = new_segment(&app, "trial", "event(signed_up, count >= 1)").await;
    let id = segment.to_string();
    for (kind, url, tag) in [
        ("webhook", receiver.url.as_str(), ""),
        ("tag", "", "trialist"),
        ("handoff", "", ""),
    ] {
        let (status, body) = call(
            &app,
            &owner,
            "/api/segments/actions/add",
            &[
                ("segment_id", &id),
                ("kind", kind),
                ("url", url),
                ("tag", tag),
            ],
        )
        .await;
        assert_eq!(status, 200, "{kind}: {body}");
    }
    let actions = actions_and_log(&app, &owner, segment).await["actions"].clone();
    let secret = actions[0]["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));

    let now = app.clock.now();
    for v in ["ada-visitor-0001", "bob-visitor-0001", "cy-visitor-00001"] {
        let events = batch(vec![event(
            Subject::Visitor(visitor(v)),
            "signed_up",
            now,
            None,
        )]);
        app.store.ingest_events(&events, now).await.unwrap();
    }

    // Each entry is sent once, signed over its timestamp and body.
    let got = receiver.wait_for(3).await;
    for r in &got {
        let ts: i64 = r.header("x-quizfunnel-timestamp").parse().unwrap();
        let expected = quizfunnel_server::outbox::signature(&secret, ts, &r.body);
        assert_eq!(
            r.header("x-quizfunnel-signature"),
            format!("sha256={expected}")
        );
        let body = r.json();
        assert_eq!(body["event"], "segment.entered");
        assert_eq!(body["segment"]["slug"], "trial");
        assert_eq!(body["id"], r.header("idempotency-key"));
        assert_eq!(body["contact"]["tags"], serde_json::json!(["trialist"]));
        let owner = body["contact"]["owner"].as_str().unwrap();
        assert!(
            ["sam@example.com", "sue@example.com"].contains(&owner),
            "{owner}"
        );
    }
    let keys: std::collections::BTreeSet<String> =
        got.iter().map(|r| r.header("idempotency-key")).collect();
    assert_eq!(keys.len(), 3);

    // Leads go to the sales users in turn, each handoff in the lead's history.
    let owners = |who: &str| {
        format!(
            "SELECT count(*) FROM contacts c JOIN users u ON u.id = c.owner_id WHERE u.email = '{who}'"
        )
    };
    let (sam, sue) = (
        count(&app, &owners("sam@example.com")).await,
        count(&app, &owners("sue@example.com")).await,
    );
    assert_eq!((sam.min(sue), sam.max(sue)), (1, 2));
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM lead_changes WHERE owner_id IS NOT NULL"
        )
        .await,
        3
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM contact_tags WHERE tag = 'trialist'"
        )
        .await,
        3
    );

    // The one answered 500 waits 30 s, then goes again with the same key.
    let log = log_until(&app, &owner, segment, |log| {
        log.iter().filter(|d| d["status"] == "delivered").count() == 2
            && log
                .iter()
                .any(|d| d["status"] == "pending" && d["attempts"] == 1)
    })
    .await;
    let failed = log.iter().find(|d| d["status"] == "pending").unwrap();
    assert_eq!(failed["last_code"], 500);
    app.clock.advance(31_000);
    let got = receiver.wait_for(4).await;
    assert_eq!(
        got[3].header("idempotency-key"),
        failed["idempotency_key"].as_str().unwrap()
    );
    log_until(&app, &owner, segment, |log| {
        log.iter().all(|d| d["status"] == "delivered")
    })
    .await;

    // Later syncs and replays of the same events send nothing new.
    app.store
        .sync_memberships(None, app.clock.now())
        .await
        .unwrap();
    assert_eq!(
        count(&app, "SELECT count(*) FROM webhook_deliveries").await,
        3
    );

    // Resend: once more, same key, for the receiver to drop if it has it.
    let delivered_id = failed["id"].to_string();
    let (status, body) = call(
        &app,
        &owner,
        "/api/segments/deliveries/resend",
        &[("segment_id", &id), ("delivery_id", &delivered_id)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let got = receiver.wait_for(5).await;
    assert_eq!(
        got[4].header("idempotency-key"),
        got[3].header("idempotency-key")
    );
    // One still queued, or out right now, is not queued again: a second
    // click would send it twice.
    log_until(&app, &owner, segment, |log| {
        log.iter().all(|d| d["status"] == "delivered")
    })
    .await;
    crate::contacts::sql(
        &app,
        &format!(
            "UPDATE webhook_deliveries SET status = 'pending', \
             next_attempt_at = 9000000000000000 WHERE id = {delivered_id}"
        ),
    )
    .await;
    let (status, body) = call(
        &app,
        &owner,
        "/api/segments/deliveries/resend",
        &[("segment_id", &id), ("delivery_id", &delivered_id)],
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("already queued"), "{body}");

    // The contact page names the owner and the tags.
    let contact = app
        .store
        .members_matching(
            &Rule::parse("event(signed_up, count >= 1)").unwrap(),
            app.clock.now(),
            0,
            1,
        )
        .await
        .unwrap()[0]
        .id;
    let (status, body) = call(
        &app,
        &owner,
        "/api/segments/why",
        &[("contact_id", &contact.to_string())],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let why: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(why["tags"], serde_json::json!(["trialist"]));
    assert!(why["owner"].as_str().unwrap().ends_with("@example.com"));
}

async fn a_receiver_that_never_answers_does_not_hold_up_respondents(backend: Backend) {
    let app = spawn_app(backend).await;
    quizfunnel_server::demo::seed(&app.store, app.clock.now())
        .await
        .unwrap();
    let receiver = Receiver::start(vec![0, 0, 0]).await;
    let (owner, _) = app.signed_in(Role::Owner).await;
    allow_private_webhooks(&app, &owner).await;
    let segment = new_segment(&app, "rita", "answered(growth.team = large)").await;
    let (status, body) = call(
        &app,
        &owner,
        "/api/segments/actions/add",
        &[
            ("segment_id", &segment.to_string()),
            ("kind", "webhook"),
            ("url", &receiver.url),
            ("tag", ""),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let c = crate::helpers::client();
    crate::helpers::open_quiz(&app, &c, "/q/growth").await;
    for (i, step) in crate::respond::FULL_PATH.iter().enumerate() {
        app.clock.advance(2_000);
        let res = post_form(&c, &app.url("/q/growth"), step).await;
        assert_eq!(
            res.status(),
            303,
            "step {i} answered while the receiver hangs"
        );
    }
    let result = c.get(app.url("/q/growth")).send().await.unwrap();
    assert_eq!(result.status(), 200);
    // The webhook did go out, and is still waiting for its answer.
    receiver.wait_for(1).await;
    assert!(
        count(
            &app,
            "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'"
        )
        .await
            >= 1
    );
}

async fn forbidden_webhook_addresses_and_bad_actions_are_refused_and_nothing_is_saved(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (marketer, _) = app.signed_in(Role::Marketer).await;
    let segment = new_segment(&app, "any", "never(unsubscribed)").await;
    let id = segment.to_string();
    for (kind, url, tag, field, words) in [
        (
            "webhook",
            "http://127.0.0.1:9/hook",
            "",
            "action-url",
            "private",
        ),
        (
            "webhook",
            "http://localhost/hook",
            "",
            "action-url",
            "private",
        ),
        (
            "webhook",
            "http://169.254.169.254/latest/meta-data",
            "",
            "action-url",
            "private",
        ),
        ("webhook", "http://[::1]/hook", "", "action-url", "private"),
        (
            "handoff",
            "http://10.0.0.7/crm",
            "",
            "action-url",
            "private",
        ),
        (
            "webhook",
            "ftp://example.com/hook",
            "",
            "action-url",
            "https://",
        ),
        (
            "webhook",
            "https://user:pw@example.com/",
            "",
            "action-url",
            "password",
        ),
        ("webhook", "", "", "action-url", "URL"),
        ("tag", "", "   ", "action-tag", "tag"),
        ("email", "", "", "action-kind", "choose"),
    ] {
        let (status, body) = call(
            &app,
            &marketer,
            "/api/segments/actions/add",
            &[
                ("segment_id", &id),
                ("kind", kind),
                ("url", url),
                ("tag", tag),
            ],
        )
        .await;
        assert_eq!(status, 422, "{kind} {url}: {body}");
        assert!(
            body.contains(field) && body.contains(words),
            "{kind} {url}: {body}"
        );
    }
    let (status, _) = call(
        &app,
        &marketer,
        "/api/segments/actions/add",
        &[
            ("segment_id", "999999"),
            ("kind", "tag"),
            ("url", ""),
            ("tag", "x"),
        ],
    )
    .await;
    assert_eq!(status, 404);
    let (sales, _) = app.signed_in(Role::Sales).await;
    let (status, _) = call(
        &app,
        &sales,
        "/api/segments/actions/add",
        &[
            ("segment_id", &id),
            ("kind", "tag"),
            ("url", ""),
            ("tag", "x"),
        ],
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(count(&app, "SELECT count(*) FROM segment_actions").await, 0);
}

/// Tiers never overlap: a completer takes the actions of the tier they
/// are placed in, not those of a lower tier whose rule they also meet.
async fn a_tier_acts_only_for_the_leads_placed_in_it(backend: Backend) {
    let app = spawn_app(backend).await;
    quizfunnel_server::demo::seed(&app.store, app.clock.now())
        .await
        .unwrap();
    let (owner, _) = app.signed_in(Role::Owner).await;
    for (tier, tag) in [
        ("fast-track", "call-today"),
        ("nurture", "nurture-sequence"),
    ] {
        let segment = count(
            &app,
            &format!("SELECT id FROM segments WHERE slug = '{tier}'"),
        )
        .await;
        let (status, body) = call(
            &app,
            &owner,
            "/api/segments/actions/add",
            &[
                ("segment_id", &segment.to_string()),
                ("kind", "tag"),
                ("url", ""),
                ("tag", tag),
            ],
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    // 15 points: fast-track, though nurture's rule (8 and up) holds too;
    // then 12 points: nurture.
    let ready = crate::helpers::client();
    crate::respond::complete(&app, &ready, "ready@example.com").await;
    let mut later = crate::dashboard::with_email(crate::respond::FULL_PATH, "later@example.com");
    later[1] = vec![("question", "budget"), ("answer", "low")];
    let steps: Vec<&[(&str, &str)]> = later.iter().map(|s| s.as_slice()).collect();
    crate::dashboard::respond(&app, &steps).await;
    let tagged = |email: &str, tag: &str| {
        format!(
            "SELECT count(*) FROM contact_tags WHERE tag = '{tag}' AND contact_id = \
             (SELECT id FROM contacts WHERE email = '{email}')"
        )
    };
    for (email, tag, expected) in [
        ("ready@example.com", "call-today", 1),
        ("ready@example.com", "nurture-sequence", 0),
        ("later@example.com", "call-today", 0),
        ("later@example.com", "nurture-sequence", 1),
    ] {
        assert_eq!(
            count(&app, &tagged(email, tag)).await,
            expected,
            "{email} {tag}"
        );
    }
    // Taken again for 12 points, the first respondent moves to nurture:
    // they were in its segment all along, and take its actions now.
    crate::respond::retake_with_a_low_budget(&app, &ready, "ready@example.com").await;
    let nurtured = tagged("ready@example.com", "nurture-sequence");
    assert_eq!(count(&app, &nurtured).await, 1);
}

/// A tier whose rule names segments the completion itself brings the
/// respondent into, or that a contact new since their first page view is
/// in: the placement sees them as they are after the completion, and the
/// tier it picks takes its actions.
async fn a_tier_rule_sees_the_segments_its_completion_opens(backend: Backend) {
    let app = spawn_app(backend).await;
    let quiz = app
        .store
        .create_quiz("growth", &quizfunnel::quiz::demo::growth_quiz(), 0)
        .await
        .unwrap();
    app.store.publish_quiz(quiz, 0).await.unwrap();
    let mut tiers = Vec::new();
    for (slug, rule) in [
        ("finishers", "completed(growth)"),
        ("quiet", "never(invited_teammate)"),
        (
            "hot",
            "all(in_segment(finishers), in_segment(quiet), score(growth) >= 14)",
        ),
        ("rest", "completed(growth)"),
    ] {
        let rule = Rule::parse(rule).unwrap();
        let id = app
            .store
            .create_segment(slug, slug, "", &rule, 0)
            .await
            .unwrap();
        if !["finishers", "quiet"].contains(&slug) {
            tiers.push(Tier {
                segment_id: id,
                next_step: slug.into(),
                outcome_key: None,
            });
        }
    }
    let hot = tiers[0].segment_id;
    app.store.set_playbook(&tiers).await.unwrap();
    let (owner, _) = app.signed_in(Role::Owner).await;
    let (status, body) = call(
        &app,
        &owner,
        "/api/segments/actions/add",
        &[
            ("segment_id", &hot.to_string()),
            ("kind", "tag"),
            ("url", ""),
            ("tag", "call-today"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let c = crate::helpers::client();
    crate::respond::complete(&app, &c, "first@example.com").await;
    let contact = "(SELECT id FROM contacts WHERE email = 'first@example.com')";
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) FROM leads WHERE tier_slug = 'hot' AND contact_id = {contact}"
            )
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) FROM contact_tags WHERE tag = 'call-today' AND contact_id = {contact}"
            )
        )
        .await,
        1
    );
}

crate::on_both_backends!(
    a_tier_rule_sees_the_segments_its_completion_opens,
    a_tier_acts_only_for_the_leads_placed_in_it,
    entering_a_segment_sends_signed_webhooks_tags_and_hands_off_in_turn,
    a_receiver_that_never_answers_does_not_hold_up_respondents,
    forbidden_webhook_addresses_and_bad_actions_are_refused_and_nothing_is_saved,
);
