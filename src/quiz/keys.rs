//! The names a marketer gives a quiz and its parts: the quiz's slug (its
//! address, `/q/{slug}`), and the stable keys of questions, options and
//! outcomes that answers, segment rules and builder anchors refer to.
//!
//! Each is parsed once, at the edge, and is valid from then on: `parse`
//! says what is wrong in words a marketer understands, and deserializing
//! runs the same check. Every key can be written in a segment rule without
//! quotes (`answered(growth.budget = high)`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// The longest slug or key.
pub const MAX_KEY_LEN: usize = 64;

/// Why a slug or key was refused. The message names what it was for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the {what} is empty: give it a short name such as \"budget\"")]
    Empty { what: &'static str },
    #[error("the {what} \"{value}\" is too long: use at most {MAX_KEY_LEN} characters")]
    TooLong { what: &'static str, value: String },
    #[error("the {what} \"{value}\" can only use {allowed}")]
    BadCharacter {
        what: &'static str,
        value: String,
        allowed: &'static str,
    },
    #[error("the {what} \"{value}\" cannot start or end with \"-\"")]
    EdgeDash { what: &'static str, value: String },
}

/// A quiz's address: lower-case letters, digits and `-`, 1–64 characters,
/// not starting or ending with `-` (`growth`, `saas-readiness-2025`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

/// A question's stable key: ASCII letters, digits, `_` and `-`, 1–64
/// characters, not starting with `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct QuestionKey(String);

/// An option's stable key, with the same rules as a question key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OptionKey(String);

/// An outcome's (result page's) stable key, with the same rules as a
/// question key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OutcomeKey(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, KeyError> {
        let what = "quiz address";
        check_length(what, raw)?;
        let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        if !raw.chars().all(ok) {
            return Err(KeyError::BadCharacter {
                what,
                value: raw.to_string(),
                allowed: "lower-case letters a-z, digits and \"-\"",
            });
        }
        if raw.starts_with('-') || raw.ends_with('-') {
            return Err(KeyError::EdgeDash {
                what,
                value: raw.to_string(),
            });
        }
        Ok(Self(raw.to_string()))
    }
}

impl QuestionKey {
    pub fn parse(raw: &str) -> Result<Self, KeyError> {
        parse_key("question key", raw).map(Self)
    }
}

impl OptionKey {
    pub fn parse(raw: &str) -> Result<Self, KeyError> {
        parse_key("option key", raw).map(Self)
    }
}

impl OutcomeKey {
    pub fn parse(raw: &str) -> Result<Self, KeyError> {
        parse_key("outcome key", raw).map(Self)
    }
}

/// The shared conveniences: read as `&str`, compare with strings, convert
/// from `String` (checked) and into `String`.
macro_rules! text_newtype {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = KeyError;
            fn try_from(s: String) -> Result<Self, KeyError> {
                Self::parse(&s)
            }
        }

        impl std::str::FromStr for $name {
            type Err = KeyError;
            fn from_str(s: &str) -> Result<Self, KeyError> {
                Self::parse(s)
            }
        }

        impl From<$name> for String {
            fn from(k: $name) -> String {
                k.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_newtype!(Slug);
text_newtype!(QuestionKey);
text_newtype!(OptionKey);
text_newtype!(OutcomeKey);

fn check_length(what: &'static str, raw: &str) -> Result<(), KeyError> {
    if raw.is_empty() {
        return Err(KeyError::Empty { what });
    }
    if raw.chars().count() > MAX_KEY_LEN {
        return Err(KeyError::TooLong {
            what,
            value: raw.chars().take(MAX_KEY_LEN).collect::<String>() + "…",
        });
    }
    Ok(())
}

fn parse_key(what: &'static str, raw: &str) -> Result<String, KeyError> {
    check_length(what, raw)?;
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if !raw.chars().all(ok) {
        return Err(KeyError::BadCharacter {
            what,
            value: raw.to_string(),
            allowed: "letters a-z, digits, \"_\" and \"-\" (no spaces)",
        });
    }
    if raw.starts_with('-') {
        return Err(KeyError::EdgeDash {
            what,
            value: raw.to_string(),
        });
    }
    Ok(raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_takes_lower_case_words_joined_by_dashes() {
        for good in ["growth", "saas-readiness-2025", "a", &"x".repeat(64)] {
            assert_eq!(Slug::parse(good).unwrap().as_str(), good);
        }
    }

    #[test]
    fn slug_refuses_capitals_spaces_edge_dashes_and_length() {
        assert!(matches!(
            Slug::parse("Growth"),
            Err(KeyError::BadCharacter { .. })
        ));
        assert!(matches!(
            Slug::parse("my quiz"),
            Err(KeyError::BadCharacter { .. })
        ));
        assert!(matches!(
            Slug::parse("growth_2"),
            Err(KeyError::BadCharacter { .. })
        ));
        assert!(matches!(
            Slug::parse("-growth"),
            Err(KeyError::EdgeDash { .. })
        ));
        assert!(matches!(
            Slug::parse("growth-"),
            Err(KeyError::EdgeDash { .. })
        ));
        assert_eq!(
            Slug::parse(""),
            Err(KeyError::Empty {
                what: "quiz address"
            })
        );
        assert!(matches!(
            Slug::parse(&"x".repeat(65)),
            Err(KeyError::TooLong { .. })
        ));
    }

    #[test]
    fn question_and_option_keys_allow_underscores_and_capitals() {
        assert_eq!(QuestionKey::parse("team_size").unwrap(), "team_size");
        assert_eq!(
            OptionKey::parse("Over-10k").unwrap().to_string(),
            "Over-10k"
        );
        assert_eq!(OutcomeKey::parse("hot").unwrap().as_str(), "hot");
    }

    #[test]
    fn keys_refuse_spaces_punctuation_non_ascii_and_a_leading_dash() {
        for bad in ["team size", "a.b", "café", "-x", "", "a\"b"] {
            assert!(QuestionKey::parse(bad).is_err(), "{bad}");
            assert!(OptionKey::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn key_errors_say_what_was_wrong_in_plain_words() {
        let e = QuestionKey::parse("team size").unwrap_err().to_string();
        assert_eq!(
            e,
            "the question key \"team size\" can only use letters a-z, digits, \"_\" and \"-\" (no spaces)"
        );
        let e = Slug::parse("").unwrap_err().to_string();
        assert!(e.starts_with("the quiz address is empty"), "{e}");
    }

    #[test]
    fn keys_are_plain_strings_in_json_and_checked_when_read() {
        let key = OptionKey::parse("high").unwrap();
        assert_eq!(serde_json::to_string(&key).unwrap(), "\"high\"");
        assert_eq!(serde_json::from_str::<OptionKey>("\"high\"").unwrap(), key);
        assert!(serde_json::from_str::<OptionKey>("\"not ok\"").is_err());
        assert!(serde_json::from_str::<Slug>("\"Growth\"").is_err());
    }

    #[test]
    fn every_key_is_a_bare_name_in_segment_rules() {
        for k in ["budget", "team_size", "Over-10k", "9"] {
            let key = QuestionKey::parse(k).unwrap();
            assert!(crate::rule::is_bare_name(key.as_str()), "{k}");
        }
    }
}
