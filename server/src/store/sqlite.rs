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
