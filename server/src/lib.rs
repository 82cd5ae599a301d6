//! The quizfunnel server: configuration, storage, HTTP and the CLI.

pub mod accounts;
pub mod backup;
pub mod cli;
pub mod config;
pub mod demo;
pub mod error;
pub mod http;
pub mod outbox;
pub mod startup;
pub mod store;
pub mod telemetry;
