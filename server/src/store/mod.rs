//! The store, implemented for SQLite (the embedded default) and Postgres
//! (for scale-out), chosen by the scheme of DATABASE_URL.

mod accounts;
mod actions;
mod answer_batch;
mod contacts;
mod dashboard;
mod leads;
pub use contacts::timeline_sql;
pub use dashboard::FOLD_COUNTS_EVERY;
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
    /// Told whenever counts may have changed, for the live dashboard.
    changes: tokio::sync::broadcast::Sender<()>,
    /// The segments as last read for re-checks, shared by clones.
    plans: segments::PlanCache,
    /// Published quizzes, the read behind every public quiz page.
    published: quizzes::PublishedCache,
    /// SQLite's answers waiting for the writer, stored together.
    answers: answer_batch::AnswerQueue,
}

/// The Postgres channel instances tell each other about count changes on.
pub(crate) const CHANGES_CHANNEL: &str = "quizfunnel_counts";

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
        let (changes, _) = tokio::sync::broadcast::channel(64);
        Ok(Self {
            db,
            describe,
            changes,
            plans: segments::PlanCache::default(),
            published: quizzes::PublishedCache::default(),
            answers: answer_batch::AnswerQueue::default(),
        })
    }

    /// Where to subscribe to hear (with no details) whenever counts may
    /// have changed, here or, on Postgres, in another instance once
    /// [`SqlStore::listen`] runs.
    pub fn count_changes(&self) -> tokio::sync::broadcast::Sender<()> {
        self.changes.clone()
    }

    /// Counts may have changed: tell this instance's listeners now, and
    /// other instances through Postgres (`notify_in` does that inside the
    /// transaction, so they hear it only once it commits).
    pub(crate) fn counts_changed(&self) {
        let _ = self.changes.send(());
    }

    /// Relays other instances' count changes (Postgres) to this one's
    /// listeners, reconnecting when the connection drops.
    pub fn listen(&self) {
        let Db::Postgres(pool) = &self.db else {
            return;
        };
        let (pool, changes) = (pool.clone(), self.changes.clone());
        tokio::spawn(async move {
            loop {
                match sqlx::postgres::PgListener::connect_with(&pool).await {
                    Ok(mut listener) => {
                        if let Err(e) = listener.listen(CHANGES_CHANNEL).await {
                            tracing::warn!(error = %e, "cannot listen for count changes");
                        } else {
                            while listener.recv().await.is_ok() {
                                let _ = changes.send(());
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot listen for count changes"),
                }
                // Whatever changed meanwhile: have everyone read again.
                let _ = changes.send(());
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        });
    }

    /// A human description of where data goes, without credentials.
    pub fn describe(&self) -> &str {
        &self.describe
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self.db, Db::Postgres(_))
    }

    /// Waits for the connections to finish what they do and closes them;
    /// on SQLite the writer goes last, so it folds the WAL back into the
    /// database file.
    pub async fn close(&self) {
        match &self.db {
            Db::Sqlite(db) => {
                db.reader().close().await;
                db.writer().close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }

    pub async fn migrate(&self) -> Result<(), StartupError> {
        let failed = |e: &dyn std::fmt::Display| StartupError::Migration(e.to_string());
        match &self.db {
            Db::Sqlite(db) => {
                // A table is rebuilt by dropping it, and with foreign keys
                // on SQLite would delete every row referring to it first.
                // The switch only takes outside a transaction, so it is
                // made around the migrations, on the one writer.
                let mut conn = db.writer().acquire().await.map_err(|e| failed(&e))?;
                sqlx::query("PRAGMA foreign_keys = OFF")
                    .execute(&mut *conn)
                    .await
                    .map_err(|e| failed(&e))?;
                let ran = SQLITE_MIGRATIONS.run(&mut *conn).await;
                sqlx::query("PRAGMA foreign_keys = ON")
                    .execute(&mut *conn)
                    .await
                    .map_err(|e| failed(&e))?;
                ran.map_err(|e| failed(&e))?;
            }
            Db::Postgres(pool) => POSTGRES_MIGRATIONS
                .run(pool)
                .await
                .map_err(|e| failed(&e))?,
        }
        let folded = contacts::fold_stored_attributes(&self.db)
            .await
            .map_err(|e| failed(&e))?;
        if folded > 0 {
            tracing::info!(folded, "attribute texts folded for `contains`");
        }
        Ok(())
    }
}

impl SqlStore {
    /// The installation's key of this name: `fresh` when none was stored
    /// yet, the stored one when another instance (or an earlier start) got
    /// there first.
    pub async fn instance_key(
        &self,
        name: &str,
        fresh: &str,
    ) -> quizfunnel::store::StoreResult<String> {
        sql::with_pool!(&self.db, write, |pool| {
            sqlx::query(
                "INSERT INTO instance_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(fresh)
            .execute(pool)
            .await
            .map_err(sql::db_err)?;
            sqlx::query_scalar("SELECT value FROM instance_keys WHERE name = $1")
                .bind(name)
                .fetch_one(pool)
                .await
                .map_err(sql::db_err)
        })
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
