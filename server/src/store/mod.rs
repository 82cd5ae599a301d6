//! The store, implemented for SQLite (the embedded default) and Postgres
//! (for scale-out), chosen by the scheme of DATABASE_URL.

mod accounts;
mod actions;
mod contacts;
mod leads;
pub use contacts::timeline_sql;
mod postgres;
mod quizzes;
mod responses;
mod segments;
mod sql;
mod sqlite;

use crate::error::StartupError;
use async_trait::async_trait;
use quizfunnel::store::{Readiness, Store};
use sqlx::migrate::Migrator;

pub static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
pub static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// Both backends share one shape of SQL wherever the dialects agree; `$N`
/// placeholders work on both.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(sqlite::SqliteDb),
    Postgres(sqlx::PgPool),
}

#[derive(Clone, Debug)]
pub struct SqlStore {
    db: Db,
    describe: String,
}

impl SqlStore {
    pub async fn connect(url: &str) -> Result<Self, StartupError> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or(url);
        let (db, describe) = match scheme {
            "sqlite" => {
                let db = sqlite::SqliteDb::connect(url).await?;
                let describe = format!("SQLite at {}", db.path().display());
                (Db::Sqlite(db), describe)
            }
            "postgres" | "postgresql" => {
                let (pool, target) = postgres::connect(url).await?;
                (Db::Postgres(pool), format!("Postgres at {target}"))
            }
            other => return Err(StartupError::UnknownScheme(other.to_string())),
        };
        Ok(Self { db, describe })
    }

    /// A human description of where data goes, without credentials.
    pub fn describe(&self) -> &str {
        &self.describe
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub async fn migrate(&self) -> Result<(), StartupError> {
        let result = match &self.db {
            Db::Sqlite(db) => SQLITE_MIGRATIONS.run(db.writer()).await,
            Db::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        };
        result.map_err(|e| StartupError::Migration(e.to_string()))
    }
}

/// How many migrations the database says it has applied successfully.
const APPLIED_MIGRATIONS: &str = "SELECT count(*) FROM _sqlx_migrations WHERE success";

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> &'static str {
        match self.db {
            Db::Sqlite(_) => "SQLite",
            Db::Postgres(_) => "Postgres",
        }
    }

    async fn readiness(&self) -> Readiness {
        let (applied, expected) = match &self.db {
            Db::Sqlite(db) => (
                sqlx::query_scalar::<_, i64>(APPLIED_MIGRATIONS)
                    .fetch_one(db.reader())
                    .await,
                SQLITE_MIGRATIONS.iter().count(),
            ),
            Db::Postgres(pool) => (
                sqlx::query_scalar::<_, i64>(APPLIED_MIGRATIONS)
                    .fetch_one(pool)
                    .await,
                POSTGRES_MIGRATIONS.iter().count(),
            ),
        };
        match applied {
            Ok(n) if n as usize >= expected => Ok(()),
            Ok(n) => Err(format!(
                "{n} of {expected} migrations applied; run `quizfunnel migrate`"
            )),
            Err(e) => {
                tracing::warn!(error = %e, "readiness check failed");
                Err("the database does not answer or has no migrations applied".to_string())
            }
        }
    }
}
