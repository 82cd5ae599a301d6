//! Integration tests: each starts the real server on port 0 against a fresh
//! database. Store-backed tests run twice, on SQLite and on Postgres.

mod helpers;

mod accounts;
mod actions;
mod backup;
mod cli;
mod contacts;
mod crash;
mod dashboard;
mod health;
mod hostile;
mod ingest;
mod leads;
mod load;
mod mixed;
mod pages;
mod process;
mod proxies;
mod quizzes;
mod replays;
mod respond;
mod roles;
mod scale_out;
mod segments;
mod shutdown;
mod tls;
