//! Postgres, for several `quizfunnel serve` instances sharing one database.

use crate::error::StartupError;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};
use std::str::FromStr;
use std::time::Duration;

/// Returns the pool and `host:port/database` for messages (no password).
pub async fn connect(url: &str) -> Result<(PgPool, String), StartupError> {
    let options =
        PgConnectOptions::from_str(url).map_err(|e| StartupError::BadUrl(e.to_string()))?;
    let target = format!(
        "{}:{}/{}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("")
    );
    let unavailable = |e: sqlx::Error| StartupError::PostgresUnavailable {
        target: target.clone(),
        reason: with_hint(e.to_string()),
    };
    // One direct attempt first: the pool only reports "timed out", while a
    // single connection says why (refused, bad password, no such database).
    let probe = tokio::time::timeout(Duration::from_secs(5), PgConnection::connect_with(&options))
        .await
        .map_err(|_| StartupError::PostgresUnavailable {
            target: target.clone(),
            reason: "no answer within 5 s".to_string(),
        })?
        .map_err(unavailable)?;
    let _ = probe.close().await;
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(5))
        // The same prepared statement syncs one contact after an answer
        // and 5,000 in a rebuild slice. After five runs Postgres may keep a
        // generic plan made for neither, guessed from `BETWEEN $3 AND $4`:
        // a single contact's sync then took over a second at a million
        // contacts, and a rebuild minutes. Planning each run for its own
        // range costs well under a millisecond.
        .after_connect(|conn, _| {
            Box::pin(async move {
                sqlx::Executor::execute(conn, "SET plan_cache_mode = force_custom_plan").await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .map_err(unavailable)?;
    Ok((pool, target))
}

/// A refused certificate says what to add to the URL: managed services
/// sign theirs with their own authority, which no built-in list holds.
fn with_hint(reason: String) -> String {
    if reason.contains("invalid peer certificate") {
        format!(
            "{reason} (the server's certificate is not trusted: give its authority's \
             certificate as sslrootcert=/path/to/ca.pem in DATABASE_URL)"
        )
    } else {
        reason
    }
}
