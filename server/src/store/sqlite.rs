//! SQLite: one writer connection, many readers.
//!
//! WAL lets readers run beside the writer; funnelling every write through a
//! single connection means writers queue in the pool instead of racing for
//! SQLite's lock, so no request ever sees `database is locked`.

use crate::error::StartupError;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// The writer's page cache, in KiB (negative, as SQLite takes it).
const WRITER_CACHE_KIB: &str = "-32768";

#[derive(Clone, Debug)]
pub struct SqliteDb {
    writer: SqlitePool,
    reader: SqlitePool,
    path: PathBuf,
}

impl SqliteDb {
    pub async fn connect(url: &str) -> Result<Self, StartupError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StartupError::BadUrl(e.to_string()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let path = options.get_filename().to_path_buf();
        let unavailable = |reason: String| StartupError::SqliteUnavailable {
            path: path.display().to_string(),
            reason,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| unavailable(format!("cannot create {}: {e}", dir.display())))?;
        }
        // A connection here is a thread in this process, not a socket that
        // can drop, so the pool's ping before each use (one more hand-over
        // to that thread, and every write waits behind the writer's) buys
        // nothing.
        //
        // Every write goes through this one connection, so its page cache
        // is the one that holds the indexes each answer and re-check
        // touch; SQLite's default of 2 MB sends most of them back to the
        // kernel at a million contacts. Readers keep the default: there
        // are eight of them.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone().pragma("cache_size", WRITER_CACHE_KIB))
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        // Opening is lazy about permissions; a write proves the file is usable.
        sqlx::query("CREATE TABLE IF NOT EXISTS _quizfunnel_probe (x INTEGER); DROP TABLE _quizfunnel_probe")
            .execute(&writer)
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        // Before any reader opens, so every connection plans with the same
        // statistics. Said when slow: a large database that never had them
        // is read for seconds on its first start.
        let started = std::time::Instant::now();
        match keep_statistics(&writer).await {
            Ok(()) if started.elapsed() >= Duration::from_secs(1) => {
                tracing::info!(took = ?started.elapsed(), "SQLite's query planner statistics gathered");
            }
            Ok(()) => {}
            Err(e) => {
                tracing::warn!(error = %e, "SQLite statistics not refreshed; queries are planned without them");
            }
        }
        let reader = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .connect_with(options.read_only(true))
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        Ok(Self {
            writer,
            reader,
            path,
        })
    }

    pub fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    pub fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Refreshes the statistics SQLite plans queries with, keeping them to
/// `sqlite_stat1`.
///
/// Without statistics SQLite picks indexes by rule of thumb, which goes
/// wrong on tables that grew unevenly (events against contacts); `PRAGMA
/// optimize` gathers them where missing or stale, within a bounded effort.
/// The bundled SQLite also keeps samples of indexed values
/// (`sqlite_stat4`), and with them compiles a statement again each time a
/// value bound to an indexed column changes: for quizfunnel's statements,
/// nearly every run. At a million contacts completions ran three fifths
/// faster without them (docs/BENCHMARKS.md), so the samples are dropped.
async fn keep_statistics(writer: &SqlitePool) -> Result<(), sqlx::Error> {
    let mut conn = writer.acquire().await?;
    sqlx::query("PRAGMA optimize = 0x10002")
        .execute(&mut *conn)
        .await?;
    let samples: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat4')",
    )
    .fetch_one(&mut *conn)
    .await?;
    if samples {
        // Loading them again tells this connection's planner they are gone.
        sqlx::raw_sql("DELETE FROM sqlite_stat4; ANALYZE sqlite_schema")
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn stat_rows(db: &SqliteDb, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(db.writer())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn opening_keeps_statistics_but_not_value_samples() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("qf.db").display());
        let db = SqliteDb::connect(&url).await.unwrap();
        sqlx::raw_sql(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER); CREATE INDEX t_k ON t (k); \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) \
             INSERT INTO t (k) SELECT i % 7 FROM n; ANALYZE",
        )
        .execute(db.writer())
        .await
        .unwrap();
        assert!(
            stat_rows(&db, "sqlite_stat4").await > 0,
            "ANALYZE wrote no samples to drop"
        );
        db.writer().close().await;

        let db = SqliteDb::connect(&url).await.unwrap();
        assert_eq!(stat_rows(&db, "sqlite_stat4").await, 0);
        assert!(stat_rows(&db, "sqlite_stat1").await > 0);
    }
}
