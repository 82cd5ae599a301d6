//! The baseline for completions: raw single-row inserts into the same
//! database, one transaction each, through a pool set up as the server's
//! (on SQLite, its single writer connection).

use crate::load::{self, JobOutcome, LoadConfig, LoadReport};
use crate::{BenchResult, fail};
use quizfunnel_server::store::{Db, SqlStore};
use std::sync::Arc;
use std::time::Instant;

const INSERT: &str = "INSERT INTO events (contact_id, name, properties, occurred_at) \
    VALUES ($1, 'bench_insert', '{}', $2)";
const CLEAN_UP: &str = "DELETE FROM events WHERE name = 'bench_insert'";

pub async fn raw_inserts(database_url: &str, config: &LoadConfig) -> BenchResult<LoadReport> {
    let store = Arc::new(SqlStore::connect(database_url).await?);
    let contact: Option<i64> = match store.db() {
        Db::Sqlite(db) => {
            sqlx::query_scalar("SELECT min(id) FROM contacts")
                .fetch_one(db.writer())
                .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_scalar("SELECT min(id) FROM contacts")
                .fetch_one(pool)
                .await?
        }
    };
    let contact = contact.ok_or_else(|| fail("no contacts to insert events for"))?;
    let db = store.clone();
    let report = load::run(config, move |seq| {
        let db = db.clone();
        async move {
            let mut outcome = JobOutcome::default();
            let sent = Instant::now();
            let result = match db.db() {
                Db::Sqlite(db) => sqlx::query(INSERT)
                    .bind(contact)
                    .bind(seq as i64)
                    .execute(db.writer())
                    .await
                    .map(|_| ()),
                Db::Postgres(pool) => sqlx::query(INSERT)
                    .bind(contact)
                    .bind(seq as i64)
                    .execute(pool)
                    .await
                    .map(|_| ()),
            };
            let took = sent.elapsed();
            outcome.requests.push(took);
            outcome.last = Some(took);
            if let Err(e) = result {
                load::database_error(&mut outcome, &e);
            }
            outcome
        }
    })
    .await;
    match store.db() {
        Db::Sqlite(db) => sqlx::query(CLEAN_UP)
            .execute(db.writer())
            .await
            .map(|_| ())?,
        Db::Postgres(pool) => sqlx::query(CLEAN_UP).execute(pool).await.map(|_| ())?,
    }
    Ok(report)
}
