//! Why the process could not start or finish a command.

/// Every message says what is wrong and what to do about it, on one line.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(
        "DATABASE_URL has an unknown scheme \"{0}\": use sqlite://path/to/file.db or postgres://user:password@host/database"
    )]
    UnknownScheme(String),
    #[error("DATABASE_URL is not a valid database address ({0})")]
    BadUrl(String),
    #[error(
        "cannot open the SQLite database at {path}: {reason}; point DATABASE_URL at a writable file"
    )]
    SqliteUnavailable { path: String, reason: String },
    #[error(
        "cannot reach Postgres at {target}: {reason}; check DATABASE_URL and that the server is running"
    )]
    PostgresUnavailable { target: String, reason: String },
    #[error("applying database migrations failed: {0}")]
    Migration(String),
    #[error(
        "address {addr} is already in use; stop the other server or choose another with --addr or QUIZFUNNEL_ADDR"
    )]
    AddrInUse { addr: String },
    #[error("cannot listen on {addr}: {reason}")]
    Bind { addr: String, reason: String },
    #[error("{0}")]
    Other(String),
}
