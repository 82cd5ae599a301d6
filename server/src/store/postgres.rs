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
    // Postgres keeps one generic plan for a prepared statement once five
    // runs found it no worse than their own. That suits statements whose
    // best plan does not depend on their values (a contact by its id), and
    // spares planning them: it was two fifths of the database's time in
    // completions (docs/BENCHMARKS.md). Statements whose plan does (a
    // range of contacts, a funnel's dates, the contact list's filters, a
    // rule's count) are not kept prepared, so each run is planned for its
    // own values. A kept membership sync, run for one contact after an
    // answer and for 5,000 in a rebuild slice, once got a plan guessed from
    // `BETWEEN $3 AND $4`: one contact's sync took over a second at a
    // million contacts, and a rebuild minutes (see `for_one_contact`).
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(5))
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
