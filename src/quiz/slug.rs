//! Names a quiz and its parts are known by: the slug in `/q/{slug}` and the
//! stable keys of questions, options and outcomes that rules refer to.

use serde::{Deserialize, Serialize};
use std::fmt;

pub const MAX_SLUG_LEN: usize = 60;
pub const MAX_KEY_LEN: usize = 40;

/// The public name of a quiz: lower-case letters, digits and single dashes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("enter a slug, e.g. growth-check".into());
        }
        if s.len() > MAX_SLUG_LEN {
            return Err(format!("a slug can be at most {MAX_SLUG_LEN} characters"));
        }
        let allowed = s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !allowed || s.starts_with('-') || s.ends_with('-') || s.contains("--") {
            return Err(
                "use lower-case letters, digits and single dashes, e.g. growth-check".into(),
            );
        }
        Ok(Self(s.to_string()))
    }

    /// A slug made from a title: "What's Next? (2025)" → `what-s-next-2025`.
    pub fn from_title(title: &str) -> Self {
        let mut out = String::new();
        for c in title.trim().chars().flat_map(char::to_lowercase) {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                out.push(c);
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
            if out.len() >= MAX_SLUG_LEN {
                break;
            }
        }
        let trimmed = out.trim_end_matches('-');
        if trimmed.is_empty() {
            Self("quiz".into())
        } else {
            Self(trimmed.to_string())
        }
    }

    /// The `n`th alternative when this slug is taken: `growth-2`, `growth-3`…
    pub fn numbered(&self, n: u32) -> Self {
        let suffix = format!("-{n}");
        let room = MAX_SLUG_LEN - suffix.len();
        let base = self.0[..self.0.len().min(room)].trim_end_matches('-');
        Self(format!("{base}{suffix}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Slug {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Slug> for String {
    fn from(s: Slug) -> Self {
        s.0
    }
}

/// Whether `key` can name a question, option, outcome or category: 1 to 40
/// lower-case letters, digits, `_` or `-`, starting with a letter or digit.
pub fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("enter a key".into());
    }
    if key.len() > MAX_KEY_LEN {
        return Err(format!("a key can be at most {MAX_KEY_LEN} characters"));
    }
    let first_ok = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let all_ok = key
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if first_ok && all_ok {
        Ok(())
    } else {
        Err(format!(
            "\"{key}\": use lower-case letters, digits, _ and -, starting with a letter or digit"
        ))
    }
}

/// The first of `prefix1`, `prefix2`, … that `taken` does not hold.
pub fn free_key<'a>(prefix: &str, taken: impl IntoIterator<Item = &'a str> + Clone) -> String {
    (1..)
        .map(|n| format!("{prefix}{n}"))
        .find(|k| !taken.clone().into_iter().any(|t| t == k))
        .unwrap_or_else(|| prefix.to_string()) // the range is endless
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_plain_slug_parses_and_trims() {
        assert_eq!(
            Slug::parse(" growth-check ").unwrap().as_str(),
            "growth-check"
        );
    }

    #[test]
    fn slugs_with_capitals_spaces_or_stray_dashes_are_refused() {
        for bad in [
            "",
            "Growth",
            "growth check",
            "-growth",
            "growth-",
            "a--b",
            "ä",
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Slug::parse(&"a".repeat(MAX_SLUG_LEN + 1)).is_err());
    }

    #[test]
    fn a_title_becomes_a_slug() {
        assert_eq!(
            Slug::from_title("What's Next? (2025)").as_str(),
            "what-s-next-2025"
        );
        assert_eq!(Slug::from_title("  ¿¿ !! ").as_str(), "quiz");
    }

    #[test]
    fn numbered_slugs_stay_within_the_length_limit() {
        let long = Slug::from_title(&"x".repeat(100));
        let n = long.numbered(12);
        assert!(n.as_str().ends_with("-12"));
        assert!(n.as_str().len() <= MAX_SLUG_LEN);
        assert_eq!(
            Slug::parse("growth").unwrap().numbered(2).as_str(),
            "growth-2"
        );
    }

    #[test]
    fn keys_are_lower_case_words() {
        assert!(check_key("budget_2").is_ok());
        assert!(check_key("team-size").is_ok());
        for bad in ["", "Budget", "_x", "a b", "a.b"] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn free_key_skips_taken_ones() {
        assert_eq!(free_key("q", ["q1", "q2", "q4"]), "q3");
        assert_eq!(free_key("o", Vec::<&str>::new()), "o1");
    }

    proptest! {
        #[test]
        fn any_title_gives_a_valid_slug(title in ".{0,120}") {
            let slug = Slug::from_title(&title);
            prop_assert_eq!(Slug::parse(slug.as_str()), Ok(slug.clone()));
            prop_assert!(Slug::parse(slug.numbered(99).as_str()).is_ok());
        }
    }
}
