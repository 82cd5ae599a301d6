//! Postgres over TLS, as managed Postgres services require: the server's
//! certificate is checked against the authority named in the URL, and
//! every connection the app opens is encrypted.

use crate::helpers::tls_postgres;
use quizfunnel_server::config::ServeConfig;
use quizfunnel_server::startup::Application;

fn config(database_url: String, dir: &std::path::Path) -> ServeConfig {
    ServeConfig {
        database_url,
        addr: "127.0.0.1:0".into(),
        site_root: dir.to_path_buf(),
        sessions: Default::default(),
        spam: Default::default(),
        quiz_posts_per_minute: 0,
        trusted_proxies: Default::default(),
        clock: Default::default(),
        retention_every: None,
        shutdown_timeout: std::time::Duration::from_secs(10),
    }
}

async fn refusal(database_url: String, dir: &std::path::Path) -> String {
    match Application::build(config(database_url, dir)).await {
        Ok(_) => panic!("the server started"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn the_app_runs_on_postgres_over_verified_tls_only() {
    use sqlx::Connection;
    let pg = tls_postgres();
    let ca = pg.ca.display();
    let verified = |db: &str| {
        let base = pg.url.rsplit_once('/').unwrap().0;
        format!("{base}/{db}?sslmode=verify-full&sslrootcert={ca}")
    };
    let mut admin = sqlx::PgConnection::connect(&verified("postgres"))
        .await
        .expect("a verified TLS connection");
    let db = format!("qf_tls_{}", std::process::id());
    sqlx::query(&format!("CREATE DATABASE {db}"))
        .execute(&mut admin)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();

    // A certificate from an authority nobody named is refused, and so is
    // an unencrypted connection; both say what went wrong.
    let unknown = verified(&db).replace(&format!("&sslrootcert={ca}"), "");
    let e = refusal(unknown, dir.path()).await;
    assert!(e.contains("cannot reach Postgres"), "{e}");
    assert!(e.contains("invalid peer certificate"), "{e}");
    assert!(e.contains("sslrootcert="), "says what to add: {e}");
    let plain = verified(&db).replace("sslmode=verify-full", "sslmode=disable");
    let e = refusal(plain, dir.path()).await;
    assert!(e.contains("no encryption"), "{e}");

    let app = Application::build(config(verified(&db), dir.path()))
        .await
        .expect("the server starts over TLS");
    let url = format!("http://{}", app.addr());
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let ready = reqwest::get(format!("{url}/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
    // A failed sign-in is stored: a write over the same connections.
    let res = reqwest::Client::new()
        .post(format!("{url}/login"))
        .form(&[("email", "nobody@example.com"), ("password", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let (encrypted, plain): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl) \
         FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.datname = $1",
    )
    .bind(&db)
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert!(encrypted > 0, "the app holds connections");
    assert_eq!(plain, 0);
    let failures: i64 = sqlx::query_scalar("SELECT count(*) FROM login_failures")
        .fetch_one(&mut sqlx::PgConnection::connect(&verified(&db)).await.unwrap())
        .await
        .unwrap();
    assert!(failures > 0, "the failed sign-in was stored");
}
