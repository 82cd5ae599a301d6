//! The quizfunnel domain: what a quiz, a contact and a segment are, and the
//! rules that place contacts in segments. No I/O lives here; the same code
//! runs on the server and, compiled to WebAssembly, in the admin's browser.

pub mod account;
pub mod action;
pub mod contact;
pub mod email;
pub mod hex;
pub mod lead;
pub mod net;
pub mod quiz;
pub mod rule;
pub mod store;
pub mod time;
