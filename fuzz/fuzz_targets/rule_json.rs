//! The rule JSON decoder (the form rules travel in between the editor and
//! the server): any bytes decode or are refused, and a decoded rule can be
//! printed, evaluated and compiled to SQL without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quizfunnel::rule::{ContactFacts, Dialect, Rule, compile, evaluate};

fuzz_target!(|data: &[u8]| {
    let Ok(rule) = serde_json::from_slice::<Rule>(data) else {
        return;
    };
    let _ = rule.to_string();
    let _ = evaluate(&rule, &ContactFacts::default(), 0);
    let _ = compile(&rule, Dialect::Sqlite, 0, 1);
    let _ = compile(&rule, Dialect::Postgres, 0, 1);
});
