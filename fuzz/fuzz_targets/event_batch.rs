//! The event batch decoder behind `POST /api/v1/events`: any body is read
//! into valid events and indexed refusals, or refused as a whole.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quizfunnel::contact::{Caller, parse_batch};

fuzz_target!(|data: &[u8]| {
    let now = 1_780_000_000_000;
    for caller in [Caller::Server, Caller::Browser] {
        if let Ok((valid, rejected)) = parse_batch(data, caller, now) {
            let mut indexes: Vec<usize> = valid.iter().map(|(i, _)| *i).collect();
            indexes.extend(rejected.iter().map(|r| r.index));
            indexes.sort_unstable();
            indexes.dedup();
            assert_eq!(
                indexes.len(),
                valid.len() + rejected.len(),
                "each event is either stored or refused, once"
            );
        }
    }
});
