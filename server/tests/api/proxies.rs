//! Behind a load balancer: the per-address limits count each visitor the
//! trusted proxy names, and nobody else can name themselves.

use crate::helpers::{Backend, PASSWORD, TestApp, client, spawn_app_configured};
use quizfunnel::account::Role;

/// A quiz answer sent through a proxy that says it came from `from`
/// (no header for `None`); the status only matters here: 429 or not.
async fn answer_from(app: &TestApp, from: Option<&str>) -> u16 {
    let mut req = client().post(app.url("/q/growth")).form(&[("answer", "x")]);
    if let Some(from) = from {
        req = req.header("x-forwarded-for", from);
    }
    req.send().await.unwrap().status().as_u16()
}

async fn sign_in_from(app: &TestApp, from: &str, email: &str, password: &str) -> u16 {
    client()
        .post(app.url("/login"))
        .header("x-forwarded-for", from)
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn behind_a_trusted_proxy_each_visitor_has_their_own_limits(backend: Backend) {
    let app = spawn_app_configured(backend, |c| {
        c.quiz_posts_per_minute = 2;
        c.trusted_proxies = "127.0.0.1".parse().unwrap();
    })
    .await;
    // One visitor runs out of answers...
    for _ in 0..2 {
        assert_ne!(answer_from(&app, Some("203.0.113.1")).await, 429);
    }
    assert_eq!(answer_from(&app, Some("203.0.113.1")).await, 429);
    // ...and only they: another visitor, and the proxy's own requests, go on.
    assert_ne!(answer_from(&app, Some("203.0.113.2")).await, 429);
    assert_ne!(answer_from(&app, None).await, 429);
    // A visitor who writes an address themselves is still counted as the
    // address the proxy saw.
    assert_eq!(
        answer_from(&app, Some("198.51.100.9, 203.0.113.1")).await,
        429
    );

    // Five wrong passwords from one visitor (to five accounts, so no
    // account is held up) hold up that visitor only.
    app.user("sam@example.com", Role::Sales, PASSWORD).await;
    for i in 0..5 {
        let email = format!("guess{i}@example.com");
        assert_eq!(
            sign_in_from(&app, "203.0.113.1", &email, "wrong").await,
            401
        );
    }
    assert_eq!(
        sign_in_from(&app, "203.0.113.1", "sam@example.com", PASSWORD).await,
        429
    );
    assert_eq!(
        sign_in_from(&app, "203.0.113.2", "sam@example.com", PASSWORD).await,
        303
    );
}

async fn without_a_trusted_proxy_a_forwarded_address_is_ignored(backend: Backend) {
    let app = spawn_app_configured(backend, |c| c.quiz_posts_per_minute = 2).await;
    assert_ne!(answer_from(&app, Some("203.0.113.1")).await, 429);
    assert_ne!(answer_from(&app, Some("203.0.113.2")).await, 429);
    // All from this one peer, whatever each claimed.
    assert_eq!(answer_from(&app, Some("203.0.113.3")).await, 429);
}

/// A page with JavaScript answers through a server function: the same
/// limit holds, and the page gets a message it can show.
async fn answers_from_the_hydrated_quiz_count_against_the_limit(backend: Backend) {
    let app = spawn_app_configured(backend, |c| c.quiz_posts_per_minute = 2).await;
    let body = serde_json::json!({"slug": "growth", "fields": [["answer", "x"]]});
    let answer = || {
        client()
            .post(app.url("/api/quiz/answer"))
            .json(&body)
            .send()
    };
    for _ in 0..2 {
        assert_ne!(answer().await.unwrap().status(), 429);
    }
    let refused = answer().await.unwrap();
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    let error: quizfunnel_app::error::AppError = refused.json().await.unwrap();
    assert!(
        error.to_string().contains("please wait a minute"),
        "{error}"
    );
    // The plain form shares the count.
    assert_eq!(answer_from(&app, None).await, 429);
}

crate::on_both_backends!(
    answers_from_the_hydrated_quiz_count_against_the_limit,
    behind_a_trusted_proxy_each_visitor_has_their_own_limits,
    without_a_trusted_proxy_a_forwarded_address_is_ignored,
);
