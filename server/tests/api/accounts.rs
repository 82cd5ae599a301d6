//! Setup, signing in and out, sessions, throttling, invitations, API keys.

use crate::helpers::{Backend, PASSWORD, client, get, post_form, spawn_app};
use quizfunnel::account::Role;
use quizfunnel::store::AccountStore;

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("qf_session="))
        .map(|c| c.split(';').next().unwrap_or("").to_string())
}

async fn admin_leads_to_setup_until_an_owner_exists_then_setup_is_gone(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app.get("/admin").await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/setup".into())
    );

    let res = post_form(
        &app.client,
        &app.url("/setup"),
        &[("email", "Owner@Example.com"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/admin".into())
    );
    let cookie = session_cookie(&res).expect("signed in at once");
    assert!(
        res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("HttpOnly; SameSite=Lax")
    );
    assert!(!cookie.is_empty());
    assert_eq!(app.get("/admin").await.status(), 200);

    let stranger = client();
    let res = post_form(
        &stranger,
        &app.url("/setup"),
        &[("email", "late@example.com"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("Setup is complete"));
    assert_eq!(app.store.count_users().await.unwrap(), 1);
    let owner = app
        .store
        .user_credentials("owner@example.com")
        .await
        .unwrap()
        .unwrap()
        .0;
    assert_eq!(owner.role, Role::Owner);
}

async fn setup_with_bad_input_says_why_and_creates_nobody(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = post_form(
        &app.client,
        &app.url("/setup"),
        &[("email", "not-an-email"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("is not a valid email address"), "{html}");
    let res = post_form(
        &app.client,
        &app.url("/setup"),
        &[("email", "a@b.co"), ("password", "short")],
    )
    .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("at least 10 characters"));
    // A form with no fields at all is bad input too, not a crash.
    let res = app
        .client
        .post(app.url("/setup"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("%%%")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let res = app
        .client
        .post(app.url("/setup"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415, "not a form at all");
    assert_eq!(app.store.count_users().await.unwrap(), 0);
}

async fn sign_in_rotates_the_session_and_sign_out_ends_it(backend: Backend) {
    let app = spawn_app(backend).await;
    app.user("sam@example.com", Role::Sales, PASSWORD).await;
    let form = [
        ("email", "sam@example.com"),
        ("password", PASSWORD),
        ("next", "/admin"),
    ];
    let first = post_form(&app.client, &app.url("/login"), &form).await;
    assert_eq!(
        (first.status().as_u16(), location(&first)),
        (303, "/admin".into())
    );
    let first_cookie = session_cookie(&first).unwrap();
    let second = post_form(&app.client, &app.url("/login"), &form).await;
    let second_cookie = session_cookie(&second).unwrap();
    assert_ne!(
        first_cookie, second_cookie,
        "a new session id at every sign-in"
    );

    // The earlier session no longer opens the admin.
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/admin"))
        .header("cookie", &first_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);

    assert_eq!(app.get("/admin").await.status(), 200);
    let res = post_form(&app.client, &app.url("/logout"), &[]).await;
    assert_eq!(location(&res), "/login");
    let res = app.get("/admin").await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/login?next=/admin".into())
    );
}

async fn wrong_password_and_unknown_email_get_the_same_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    app.user("sam@example.com", Role::Sales, PASSWORD).await;
    let wrong = post_form(
        &app.client,
        &app.url("/login"),
        &[("email", "sam@example.com"), ("password", "nope nope nope")],
    )
    .await;
    let unknown = post_form(
        &app.client,
        &app.url("/login"),
        &[("email", "who@example.com"), ("password", "nope nope nope")],
    )
    .await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(unknown.status(), 401);
    let (a, b) = (wrong.text().await.unwrap(), unknown.text().await.unwrap());
    assert!(a.contains("do not match an account"));
    assert!(b.contains("do not match an account"));

    // A mistyped password on the way to a page still leads there after.
    let page = app
        .get("/login?next=/admin/leads")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"action="/login?next=%2Fadmin%2Fleads""#),
        "{page}"
    );
    let url = app.url("/login?next=%2Fadmin%2Fleads");
    let wrong = [
        ("email", "sam@example.com"),
        ("password", "nope nope nope"),
        ("next", "/admin/leads"),
    ];
    let again = post_form(&app.client, &url, &wrong).await;
    assert_eq!(again.status(), 401);
    let page = again.text().await.unwrap();
    assert!(
        page.contains(r#"name="next" value="/admin/leads""#),
        "{page}"
    );
    let right = [
        ("email", "sam@example.com"),
        ("password", PASSWORD),
        ("next", "/admin/leads"),
    ];
    let res = post_form(&app.client, &url, &right).await;
    assert_eq!(location(&res), "/admin/leads");
}

async fn over_long_credentials_are_refused_with_a_message(backend: Backend) {
    let app = spawn_app(backend).await;
    let long_email = format!("{}@example.com", "a".repeat(260));
    let res = post_form(
        &app.client,
        &app.url("/login"),
        &[("email", &long_email), ("password", "x")],
    )
    .await;
    assert_eq!(res.status(), 422);
    let long_password = "p".repeat(1025);
    let res = post_form(
        &app.client,
        &app.url("/login"),
        &[("email", "a@b.co"), ("password", &long_password)],
    )
    .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("longer than any account allows")
    );
}

async fn five_failures_in_a_minute_throttle_the_account_until_the_window_passes(backend: Backend) {
    let app = spawn_app(backend).await;
    app.user("sam@example.com", Role::Sales, PASSWORD).await;
    let bad = [
        ("email", "sam@example.com"),
        ("password", "wrong wrong wrong"),
    ];
    for _ in 0..5 {
        assert_eq!(
            post_form(&app.client, &app.url("/login"), &bad)
                .await
                .status(),
            401
        );
    }
    let good = [("email", "sam@example.com"), ("password", PASSWORD)];
    let res = post_form(&app.client, &app.url("/login"), &good).await;
    assert_eq!(res.status(), 429);
    let retry: i64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    app.clock.advance(61_000);
    assert_eq!(
        post_form(&app.client, &app.url("/login"), &good)
            .await
            .status(),
        303
    );
}

async fn idle_sessions_expire(backend: Backend) {
    let app = spawn_app(backend).await;
    let (client, _) = app.signed_in(Role::Marketer).await;
    assert_eq!(get(&client, &app.url("/admin")).await.status(), 200);
    app.clock.advance(29 * 60_000);
    assert_eq!(get(&client, &app.url("/admin")).await.status(), 200);
    app.clock.advance(31 * 60_000);
    let res = get(&client, &app.url("/admin")).await;
    assert_eq!(res.status(), 303, "idle for 31 minutes");
}

async fn deactivating_a_user_ends_their_sessions_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, _) = app.signed_in(Role::Owner).await;
    let (sales, sales_user) = app.signed_in(Role::Sales).await;
    assert_eq!(get(&sales, &app.url("/admin")).await.status(), 200);
    let res = post_form(
        &owner,
        &app.url("/api/settings/active"),
        &[("user_id", &sales_user.id.to_string()), ("active", "false")],
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(get(&sales, &app.url("/admin")).await.status(), 303);
    let again = post_form(
        &sales,
        &app.url("/login"),
        &[("email", &sales_user.email), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(again.status(), 401, "a deactivated user cannot sign in");
    let log = app.store.audit_log(10).await.unwrap();
    assert!(
        log.iter()
            .any(|e| e.action == "user.deactivated" && e.target == sales_user.email)
    );
}

async fn invitation_link_creates_the_account_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, _) = app.signed_in(Role::Owner).await;
    let res = post_form(
        &owner,
        &app.url("/api/settings/invite"),
        &[("email", "new@example.com"), ("role", "sales")],
    )
    .await;
    assert_eq!(res.status(), 200);
    let link: serde_json::Value = res.json().await.unwrap();
    let path = link["path"].as_str().unwrap().to_string();

    let invitee = client();
    let page = get(&invitee, &app.url(&path)).await.text().await.unwrap();
    assert!(page.contains("new@example.com"), "{page}");
    let res = post_form(&invitee, &app.url(&path), &[("password", "short")]).await;
    assert_eq!(res.status(), 422);
    let res = post_form(&invitee, &app.url(&path), &[("password", PASSWORD)]).await;
    assert_eq!(
        (res.status().as_u16(), location(&res)),
        (303, "/admin".into())
    );
    assert_eq!(get(&invitee, &app.url("/admin")).await.status(), 200);
    let user = app
        .store
        .user_credentials("new@example.com")
        .await
        .unwrap()
        .unwrap()
        .0;
    assert_eq!(user.role, Role::Sales);

    let res = post_form(&client(), &app.url(&path), &[("password", PASSWORD)]).await;
    assert_eq!(res.status(), 410, "a used link stays used");
}

async fn invitation_expires_after_72_hours(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, _) = app.signed_in(Role::Owner).await;
    let res = post_form(
        &owner,
        &app.url("/api/settings/invite"),
        &[("email", "late@example.com"), ("role", "marketer")],
    )
    .await;
    let path = res.json::<serde_json::Value>().await.unwrap()["path"]
        .as_str()
        .unwrap()
        .to_string();
    app.clock.advance(73 * 3_600_000);
    let page = get(&client(), &app.url(&path)).await.text().await.unwrap();
    assert!(page.contains("cannot be used"));
    let res = post_form(&client(), &app.url(&path), &[("password", PASSWORD)]).await;
    assert_eq!(res.status(), 410);
    assert!(
        app.store
            .user_credentials("late@example.com")
            .await
            .unwrap()
            .is_none()
    );
    let res = post_form(
        &client(),
        &app.url("/invite/forged-token"),
        &[("password", PASSWORD)],
    )
    .await;
    assert_eq!(res.status(), 410);
}

async fn invite_with_bad_email_or_role_is_a_422(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, _) = app.signed_in(Role::Owner).await;
    let res = post_form(
        &owner,
        &app.url("/api/settings/invite"),
        &[("email", "nope"), ("role", "sales")],
    )
    .await;
    assert_eq!(res.status(), 422);
    let res = post_form(
        &owner,
        &app.url("/api/settings/invite"),
        &[("email", "x@example.com"), ("role", "admin")],
    )
    .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("owner, marketer or sales")
    );
}

async fn api_keys_are_shown_once_stored_hashed_and_revocable(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, _) = app.signed_in(Role::Owner).await;
    let res = post_form(
        &owner,
        &app.url("/api/settings/keys/create"),
        &[("name", "backend")],
    )
    .await;
    assert_eq!(res.status(), 200);
    let created: serde_json::Value = res.json().await.unwrap();
    let key = created["key"].as_str().unwrap().to_string();
    let id = created["info"]["id"].as_i64().unwrap();
    let listed = post_form(&owner, &app.url("/api/settings/keys"), &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(listed.contains("backend"));
    assert!(!listed.contains(&key), "the secret is never listed");
    let hash = quizfunnel_app::auth::ssr::token_hash(&key);
    assert!(app.store.use_api_key(&hash, 1).await.unwrap().is_some());
    let res = post_form(
        &owner,
        &app.url("/api/settings/keys/revoke"),
        &[("id", &id.to_string())],
    )
    .await;
    assert_eq!(res.status(), 200);
    assert!(app.store.use_api_key(&hash, 2).await.unwrap().is_none());
    let res = post_form(
        &owner,
        &app.url("/api/settings/keys/create"),
        &[("name", "  ")],
    )
    .await;
    assert_eq!(res.status(), 422);
}

async fn the_only_owner_cannot_be_demoted_or_deactivated(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, me) = app.signed_in(Role::Owner).await;
    let id = me.id.to_string();
    let res = post_form(
        &owner,
        &app.url("/api/settings/role"),
        &[("user_id", &id), ("role", "sales")],
    )
    .await;
    assert_eq!(res.status(), 409);
    let res = post_form(
        &owner,
        &app.url("/api/settings/active"),
        &[("user_id", &id), ("active", "false")],
    )
    .await;
    assert_eq!(res.status(), 409);
    assert_eq!(app.store.user(me.id).await.unwrap().role, Role::Owner);
}

async fn cross_site_posts_are_refused_and_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, _) = app.signed_in(Role::Owner).await;
    let forged: &[(&str, &[(&str, &str)])] = &[
        (
            "/setup",
            &[("email", "evil@example.com"), ("password", PASSWORD)],
        ),
        (
            "/login",
            &[("email", "evil@example.com"), ("password", PASSWORD)],
        ),
        ("/logout", &[]),
        ("/invite/anything", &[("password", PASSWORD)]),
        (
            "/api/settings/invite",
            &[("email", "evil@example.com"), ("role", "owner")],
        ),
        ("/api/settings/role", &[("user_id", "1"), ("role", "sales")]),
        (
            "/api/settings/active",
            &[("user_id", "1"), ("active", "false")],
        ),
        ("/api/settings/keys/create", &[("name", "evil")]),
        ("/api/settings/keys/revoke", &[("id", "1")]),
    ];
    for (path, form) in forged {
        for (header, value) in [
            ("origin", "http://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ] {
            let res = owner
                .post(app.url(path))
                .header(header, value)
                .form(form)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 403, "{path} with {header}");
        }
    }
    assert_eq!(app.store.users().await.unwrap().len(), 1);
    assert!(app.store.api_keys().await.unwrap().is_empty());
    assert_eq!(
        get(&owner, &app.url("/admin")).await.status(),
        200,
        "still signed in"
    );
}

async fn responses_carry_security_headers(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app.get("/login").await;
    let h = res.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h.contains_key("referrer-policy"));
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"));
    assert!(
        csp.contains("'nonce-"),
        "hydration script is allowed by nonce: {csp}"
    );
    assert!(csp.contains("'wasm-unsafe-eval'"));
    let api = app.get("/healthz").await;
    assert!(
        api.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
}

async fn oversized_bodies_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let big = "a".repeat(70 * 1024);
    let res = post_form(
        &app.client,
        &app.url("/login"),
        &[("email", &big), ("password", "x")],
    )
    .await;
    assert_eq!(res.status(), 413);
}

crate::on_both_backends!(
    admin_leads_to_setup_until_an_owner_exists_then_setup_is_gone,
    setup_with_bad_input_says_why_and_creates_nobody,
    sign_in_rotates_the_session_and_sign_out_ends_it,
    wrong_password_and_unknown_email_get_the_same_answer,
    over_long_credentials_are_refused_with_a_message,
    five_failures_in_a_minute_throttle_the_account_until_the_window_passes,
    idle_sessions_expire,
    deactivating_a_user_ends_their_sessions_at_once,
    invitation_link_creates_the_account_once,
    invitation_expires_after_72_hours,
    invite_with_bad_email_or_role_is_a_422,
    api_keys_are_shown_once_stored_hashed_and_revocable,
    the_only_owner_cannot_be_demoted_or_deactivated,
    cross_site_posts_are_refused_and_change_nothing,
    responses_carry_security_headers,
    oversized_bodies_are_refused,
);

async fn sessions_survive_a_server_restart_and_end_after_the_absolute_timeout(backend: Backend) {
    let app = spawn_app(backend).await;
    let (client, _) = app.signed_in(Role::Marketer).await;
    // A second server process on the same database knows the session.
    let again =
        quizfunnel_server::startup::Application::build(quizfunnel_server::config::ServeConfig {
            database_url: app.database_url.clone(),
            addr: "127.0.0.1:0".into(),
            site_root: std::env::temp_dir(),
            sessions: Default::default(),
            spam: Default::default(),
            quiz_posts_per_minute: 0,
            trusted_proxies: Default::default(),
            retention_every: None,
            clock: app.clock.clone(),
            shutdown_timeout: std::time::Duration::from_secs(10),
        })
        .await
        .unwrap();
    let other = format!("http://{}", again.addr());
    tokio::spawn(again.run_until_stopped(std::future::pending()));
    assert_eq!(get(&client, &format!("{other}/admin")).await.status(), 200);

    // Busy all day, the session still ends 12 hours after sign-in.
    for _ in 0..24 {
        app.clock.advance(29 * 60_000);
        assert_eq!(get(&client, &app.url("/admin")).await.status(), 200);
    }
    app.clock.advance(29 * 60_000);
    assert_eq!(get(&client, &app.url("/admin")).await.status(), 303);
}

crate::on_both_backends!(sessions_survive_a_server_restart_and_end_after_the_absolute_timeout);
