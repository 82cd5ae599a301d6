//! The segment rule language (SPEC §3).
