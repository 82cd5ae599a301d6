//! `quizfunnel backup FILE` and `quizfunnel restore FILE`: a consistent copy
//! of the whole store taken while the server keeps serving, and its return
//! into an empty database.
//!
//! SQLite copies with `VACUUM INTO`, which reads one snapshot of the WAL
//! database, so writes that commit meanwhile are either wholly in the copy
//! or wholly absent. Postgres uses `pg_dump`, whose single repeatable-read
//! transaction gives the same promise.

use crate::error::StartupError;
use crate::store::SqlStore;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// What a finished backup or restore reports.
#[derive(Debug)]
pub struct Summary {
    pub file: PathBuf,
    pub bytes: u64,
    /// Contacts and events in it, where the file can be read back (a
    /// Postgres dump cannot be queried without restoring it).
    pub counts: Option<(i64, i64)>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({} bytes)", self.file.display(), self.bytes)?;
        match self.counts {
            Some((contacts, events)) => write!(f, ": {contacts} contacts, {events} events"),
            None => Ok(()),
        }
    }
}

/// How a backup file starts, so restore can tell the two kinds apart.
const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
const PG_DUMP_MAGIC: &[u8] = b"PGDMP";

pub async fn backup(database_url: &str, file: &Path) -> Result<Summary, StartupError> {
    if file.exists() {
        return Err(StartupError::Other(format!(
            "{} exists already; backups never overwrite, choose a new file name",
            file.display()
        )));
    }
    match scheme(database_url) {
        "sqlite" => {
            let mut conn = open_sqlite(database_url, false).await?;
            // VACUUM INTO takes the destination as a value; binding it keeps
            // quotes in the path from becoming SQL.
            sqlx::query("VACUUM INTO $1")
                .bind(file.to_string_lossy().as_ref())
                .execute(&mut conn)
                .await
                .map_err(|e| failed("backup", e))?;
            let _ = conn.close().await;
        }
        "postgres" | "postgresql" => {
            let mut cmd = tokio::process::Command::new(pg_tool("pg_dump")?);
            cmd.arg("--format=custom")
                .arg("--no-owner")
                .arg("--no-privileges")
                .arg("--file")
                .arg(file)
                .arg("--dbname");
            connect_to(&mut cmd, database_url);
            run_pg_tool(cmd, "pg_dump").await?;
        }
        other => return Err(StartupError::UnknownScheme(other.to_string())),
    }
    summarize_file(file, database_url).await
}

pub async fn restore(database_url: &str, file: &Path) -> Result<Summary, StartupError> {
    let head = read_head(file)?;
    match scheme(database_url) {
        "sqlite" => {
            if !head.starts_with(SQLITE_MAGIC) {
                return Err(wrong_kind(file, &head, "sqlite://"));
            }
            let target = sqlite_path(database_url)?;
            ensure_empty_sqlite(&target).await?;
            let mut source = open_sqlite(&format!("sqlite://{}", file.display()), true).await?;
            let check: String = sqlx::query_scalar("PRAGMA quick_check")
                .fetch_one(&mut source)
                .await
                .map_err(|e| failed("restore", e))?;
            if check != "ok" {
                return Err(StartupError::Other(format!(
                    "{} is damaged ({check}); restore an earlier backup",
                    file.display()
                )));
            }
            if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StartupError::Other(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
            sqlx::query("VACUUM INTO $1")
                .bind(target.to_string_lossy().as_ref())
                .execute(&mut source)
                .await
                .map_err(|e| failed("restore", e))?;
            let _ = source.close().await;
        }
        "postgres" | "postgresql" => {
            if !head.starts_with(PG_DUMP_MAGIC) {
                return Err(wrong_kind(file, &head, "postgres://"));
            }
            ensure_empty_postgres(database_url).await?;
            let mut cmd = tokio::process::Command::new(pg_tool("pg_restore")?);
            // One transaction: a restore that fails half-way leaves the
            // database as empty as it found it.
            cmd.arg("--no-owner")
                .arg("--no-privileges")
                .arg("--exit-on-error")
                .arg("--single-transaction")
                .arg("--dbname");
            connect_to(&mut cmd, database_url);
            cmd.arg(file);
            run_pg_tool(cmd, "pg_restore").await?;
        }
        other => return Err(StartupError::UnknownScheme(other.to_string())),
    }
    // A backup from an older release gets this release's schema.
    let store = SqlStore::connect(database_url).await?;
    store.migrate().await?;
    Ok(Summary {
        file: file.to_path_buf(),
        bytes: std::fs::metadata(file).map(|m| m.len()).unwrap_or(0),
        counts: Some(totals(&store).await?),
    })
}

fn scheme(url: &str) -> &str {
    url.split_once(':').map(|(s, _)| s).unwrap_or(url)
}

fn sqlite_path(url: &str) -> Result<PathBuf, StartupError> {
    let options =
        SqliteConnectOptions::from_str(url).map_err(|e| StartupError::BadUrl(e.to_string()))?;
    Ok(options.get_filename().to_path_buf())
}

/// A single connection to an existing SQLite file: a backup of a database
/// that is not there is a mistake, not an empty backup.
async fn open_sqlite(url: &str, read_only: bool) -> Result<SqliteConnection, StartupError> {
    let path = sqlite_path(url)?;
    if !path.is_file() {
        return Err(StartupError::Other(format!(
            "there is no SQLite database at {}; check DATABASE_URL",
            path.display()
        )));
    }
    SqliteConnectOptions::from_str(url)
        .map_err(|e| StartupError::BadUrl(e.to_string()))?
        .read_only(read_only)
        // The server's writer may hold the lock for a moment.
        .busy_timeout(Duration::from_secs(30))
        .connect()
        .await
        .map_err(|e| StartupError::SqliteUnavailable {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
}

/// Restoring over data would mix two histories; only a missing file or one
/// without tables is taken (and the latter replaced).
async fn ensure_empty_sqlite(target: &Path) -> Result<(), StartupError> {
    if !target.exists() {
        return Ok(());
    }
    let url = format!("sqlite://{}", target.display());
    let mut conn = open_sqlite(&url, true).await?;
    let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM sqlite_master")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| failed("restore", e))?;
    let _ = conn.close().await;
    if tables > 0 {
        return Err(not_empty(&target.display().to_string()));
    }
    // VACUUM INTO writes only to a file that is absent or empty.
    for suffix in ["", "-wal", "-shm"] {
        let mut name = target.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::remove_file(&name) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(StartupError::Other(format!(
                    "cannot replace the empty database {}: {e}",
                    target.display()
                )));
            }
        }
    }
    Ok(())
}

async fn ensure_empty_postgres(url: &str) -> Result<(), StartupError> {
    let store = SqlStore::connect(url).await?;
    let tables: i64 = match store.db() {
        crate::store::Db::Postgres(pool) => sqlx::query_scalar(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
        )
        .fetch_one(pool)
        .await
        .map_err(|e| failed("restore", e))?,
        crate::store::Db::Sqlite(_) => 0,
    };
    if tables > 0 {
        return Err(not_empty(store.describe()));
    }
    Ok(())
}

fn not_empty(what: &str) -> StartupError {
    StartupError::Other(format!(
        "{what} already holds data; restore only into an empty database (a new file, or a newly created Postgres database)"
    ))
}

fn read_head(file: &Path) -> Result<Vec<u8>, StartupError> {
    use std::io::Read;
    let mut head = Vec::with_capacity(16);
    std::fs::File::open(file)
        .and_then(|f| f.take(16).read_to_end(&mut head))
        .map_err(|e| StartupError::Other(format!("cannot read {}: {e}", file.display())))?;
    Ok(head)
}

fn wrong_kind(file: &Path, head: &[u8], wanted: &str) -> StartupError {
    let what = if head.starts_with(SQLITE_MAGIC) {
        "a SQLite backup; restore it with a sqlite:// DATABASE_URL"
    } else if head.starts_with(PG_DUMP_MAGIC) {
        "a Postgres backup; restore it with a postgres:// DATABASE_URL"
    } else {
        "not a quizfunnel backup"
    };
    StartupError::Other(format!(
        "{} is {what} (DATABASE_URL is {wanted}…)",
        file.display()
    ))
}

/// `pg_dump` and `pg_restore` from PATH, or a message saying how to get them.
fn pg_tool(name: &str) -> Result<PathBuf, StartupError> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    found.ok_or_else(|| {
        StartupError::Other(format!(
            "{name} was not found on PATH; install the PostgreSQL client tools (the server's major version or newer, e.g. `apt install postgresql-client`) and try again"
        ))
    })
}

/// Gives a Postgres tool the database to use. The password goes through
/// its environment (`PGPASSWORD`), not its command line, which any user
/// of the machine can read.
fn connect_to(cmd: &mut tokio::process::Command, database_url: &str) {
    let (url, password) = password_apart(database_url);
    cmd.arg(url);
    if let Some(password) = password {
        cmd.env("PGPASSWORD", password);
    }
}

/// The URL without the password in its user part, and that password.
fn password_apart(url: &str) -> (String, Option<String>) {
    let whole = || (url.to_string(), None);
    let Some((scheme, rest)) = url.split_once("://") else {
        return whole();
    };
    let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return whole();
    };
    let Some((user, password)) = userinfo.split_once(':') else {
        return whole();
    };
    (
        format!("{scheme}://{user}@{host}{tail}"),
        Some(percent_decoded(password)),
    )
}

fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn run_pg_tool(mut cmd: tokio::process::Command, name: &str) -> Result<(), StartupError> {
    let out = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| StartupError::Other(format!("cannot run {name}: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = stderr
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no message");
    Err(StartupError::Other(format!("{name} failed: {first}")))
}

fn failed(what: &str, e: sqlx::Error) -> StartupError {
    StartupError::Other(format!("the {what} failed: {e}"))
}

/// Counts read back from the backup itself, so the numbers printed are the
/// ones in the file and not the live database's.
async fn summarize_file(file: &Path, database_url: &str) -> Result<Summary, StartupError> {
    let bytes = std::fs::metadata(file)
        .map(|m| m.len())
        .map_err(|e| StartupError::Other(format!("the backup was not written: {e}")))?;
    let counts = if scheme(database_url) == "sqlite" {
        let mut conn = open_sqlite(&format!("sqlite://{}", file.display()), true).await?;
        let counts = (
            scalar_on(&mut conn, "SELECT count(*) FROM contacts").await?,
            scalar_on(&mut conn, "SELECT count(*) FROM events").await?,
        );
        let _ = conn.close().await;
        Some(counts)
    } else {
        None
    };
    Ok(Summary {
        file: file.to_path_buf(),
        bytes,
        counts,
    })
}

async fn scalar_on(conn: &mut SqliteConnection, sql: &str) -> Result<i64, StartupError> {
    sqlx::query_scalar(sql)
        .fetch_one(conn)
        .await
        .map_err(|e| failed("backup", e))
}

async fn totals(store: &SqlStore) -> Result<(i64, i64), StartupError> {
    use crate::store::Db;
    const CONTACTS: &str = "SELECT count(*) FROM contacts";
    const EVENTS: &str = "SELECT count(*) FROM events";
    let result = match store.db() {
        Db::Sqlite(db) => {
            let pool = db.writer();
            let c = sqlx::query_scalar(CONTACTS).fetch_one(pool).await;
            let e = sqlx::query_scalar(EVENTS).fetch_one(pool).await;
            c.and_then(|c| e.map(|e| (c, e)))
        }
        Db::Postgres(pool) => {
            let c = sqlx::query_scalar(CONTACTS).fetch_one(pool).await;
            let e = sqlx::query_scalar(EVENTS).fetch_one(pool).await;
            c.and_then(|c| e.map(|e| (c, e)))
        }
    };
    result.map_err(|e| failed("restore", e))
}

#[cfg(test)]
mod tests {
    use super::password_apart;

    #[test]
    fn the_password_leaves_the_url_and_arrives_decoded() {
        assert_eq!(
            password_apart("postgres://qf:s%40cr%3At@db.internal:5432/qf?sslmode=require"),
            (
                "postgres://qf@db.internal:5432/qf?sslmode=require".to_string(),
                Some("s@cr:t".to_string())
            )
        );
        // An @ left unencoded in the password does not end the user part.
        assert_eq!(
            password_apart("postgresql://a:p@ss@h/d"),
            ("postgresql://a@h/d".to_string(), Some("p@ss".to_string()))
        );
        for without in ["postgres://qf@db/qf", "postgres://db/qf", "not a url"] {
            assert_eq!(password_apart(without), (without.to_string(), None));
        }
    }
}
