//! What every store area shares: running one query text on either backend.

use quizfunnel::store::StoreError;

/// Runs `$body` with `$pool` bound to the right pool of whichever backend
/// this is. The body is written once and type-checked against each driver.
/// `write` goes to SQLite's single writer connection; `read` to its readers.
macro_rules! with_pool {
    ($db:expr, write, |$pool:ident| $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite(sqlite) => {
                let $pool = sqlite.writer();
                $body
            }
            $crate::store::Db::Postgres(pg) => {
                let $pool = pg;
                $body
            }
        }
    };
    ($db:expr, read, |$pool:ident| $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite(sqlite) => {
                let $pool = sqlite.reader();
                $body
            }
            $crate::store::Db::Postgres(pg) => {
                let $pool = pg;
                $body
            }
        }
    };
}
pub(crate) use with_pool;

/// Binds the rule compiler's parameters, in order, to a query on either
/// driver.
macro_rules! bind_all {
    ($query:expr, $params:expr) => {{
        let mut q = $query;
        for p in $params {
            q = match p {
                quizfunnel::rule::SqlParam::Text(s) => q.bind(s.clone()),
                quizfunnel::rule::SqlParam::Int(i) => q.bind(*i),
                quizfunnel::rule::SqlParam::Real(f) => q.bind(*f),
            };
        }
        q
    }};
}
pub(crate) use bind_all;

/// Inside a transaction `$tx` on Postgres (`$pg`): tell the other instances
/// that counts changed, once the transaction commits.
macro_rules! notify_changes {
    ($tx:ident, $pg:expr) => {
        if $pg {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind($crate::store::CHANGES_CHANNEL)
                .execute(&mut *$tx)
                .await
                .map_err(db_err)?;
        }
    };
}
pub(crate) use notify_changes;

/// Database errors become store errors; a broken uniqueness rule becomes
/// `Conflict` with the caller's words for it. Postgres ends one of two
/// transactions that wait on each other (each holding a row the other
/// wants): the person behind it may simply try again.
pub fn db_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict("that already exists".into())
        }
        sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("40P01" | "40001")) => {
            tracing::warn!(error = %e, "a transaction gave way to another");
            StoreError::Conflict(
                "another change to the same records was made at the same moment; try again".into(),
            )
        }
        _ => {
            tracing::error!(error = %e, "database error");
            StoreError::Internal(e.to_string())
        }
    }
}

pub fn conflict_as(message: &str) -> impl Fn(sqlx::Error) -> StoreError + '_ {
    move |e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(message.to_string())
        }
        _ => db_err(e),
    }
}

/// `count` rows of `width` placeholders numbered on from `$1`, as a
/// multi-row VALUES list; `shape` writes one row from its first number.
pub(crate) fn numbered_rows(count: usize, width: usize, shape: impl Fn(usize) -> String) -> String {
    (0..count)
        .map(|i| shape(1 + i * width))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The placeholders of a statement with many values, `count` rows of
/// `width`, as a multi-row VALUES or IN list: numbered on Postgres,
/// anonymous on SQLite, bound in the order written. SQLite looks each
/// `$N` up by name in a list when it prepares the statement and again as
/// each value is bound, so a thousand of them take about a million
/// compares; a `?` takes none. `shape` writes one row from its marks.
pub(crate) fn value_rows(
    postgres: bool,
    count: usize,
    width: usize,
    shape: impl Fn(&[String]) -> String,
) -> String {
    let marks: Vec<String> = (1..=count * width)
        .map(|n| {
            if postgres {
                format!("${n}")
            } else {
                "?".into()
            }
        })
        .collect();
    marks
        .chunks(width.max(1))
        .map(shape)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Opens a write transaction. On SQLite it takes the write lock at `BEGIN`:
/// a deferred transaction that reads first and then writes fails at once
/// with "database is locked", busy timeout or not, when another process
/// (the CLI beside a running server) wrote in between.
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>;
}

impl BeginWrite for sqlx::SqlitePool {
    type Db = sqlx::Sqlite;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for sqlx::PgPool {
    type Db = sqlx::Postgres;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.begin().await
    }
}

#[cfg(test)]
mod tests {
    use super::{db_err, numbered_rows, value_rows};
    use quizfunnel::store::StoreError;

    /// Two transactions that each lock a row the other then wants: the one
    /// Postgres gives up reaches its person as a conflict to try again,
    /// not as a failure. Runs where the test suite has a Postgres server.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_postgres_deadlock_is_a_conflict_to_try_again() {
        let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
            eprintln!("TEST_DATABASE_URL is not set; skipping the Postgres deadlock check");
            return;
        };
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        let table = format!("deadlock_probe_{}", std::process::id());
        sqlx::raw_sql(&format!(
            "DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (id INT PRIMARY KEY); \
             INSERT INTO {table} VALUES (1), (2)"
        ))
        .execute(&pool)
        .await
        .unwrap();
        let both_hold_one = std::sync::Arc::new(tokio::sync::Barrier::new(2));
        let cross = |mine: i32, theirs: i32| {
            let (pool, table, both_hold_one) = (pool.clone(), table.clone(), both_hold_one.clone());
            tokio::spawn(async move {
                let lock = |id: i32| format!("SELECT id FROM {table} WHERE id = {id} FOR UPDATE");
                let mut tx = pool.begin().await.unwrap();
                sqlx::query(&lock(mine)).execute(&mut *tx).await.unwrap();
                both_hold_one.wait().await;
                let out = sqlx::query(&lock(theirs)).execute(&mut *tx).await;
                tx.rollback().await.unwrap();
                out.map(|_| ()).map_err(db_err)
            })
        };
        let (first, second) = (cross(1, 2), cross(2, 1));
        let outcomes = [first.await.unwrap(), second.await.unwrap()];
        sqlx::query(&format!("DROP TABLE {table}"))
            .execute(&pool)
            .await
            .unwrap();
        assert!(outcomes.iter().any(Result::is_ok), "{outcomes:?}");
        assert!(
            outcomes
                .iter()
                .any(|o| matches!(o, Err(StoreError::Conflict(why)) if why.ends_with("try again"))),
            "{outcomes:?}"
        );
    }

    #[test]
    fn numbered_rows_number_each_row_on_from_the_last() {
        assert_eq!(numbered_rows(0, 3, |n| format!("${n}")), "");
        assert_eq!(
            numbered_rows(3, 2, |n| format!("($1, ${}, ${})", n + 1, n + 2)),
            "($1, $2, $3), ($1, $4, $5), ($1, $6, $7)"
        );
        assert_eq!(numbered_rows(2, 1, |n| format!("${n}")), "$1, $2");
    }

    #[test]
    fn value_rows_are_numbered_on_postgres_and_anonymous_on_sqlite() {
        let pair = |m: &[String]| format!("({}, {})", m[0], m[1]);
        assert_eq!(value_rows(true, 2, 2, pair), "($1, $2), ($3, $4)");
        assert_eq!(value_rows(false, 2, 2, pair), "(?, ?), (?, ?)");
        assert_eq!(value_rows(true, 0, 1, |m| m[0].clone()), "");
    }
}
