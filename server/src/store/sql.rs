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
/// transactions that wait on each other (two rule saves each naming the
/// other's segment, say): the person behind it may simply try again.
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
    use super::{numbered_rows, value_rows};

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
