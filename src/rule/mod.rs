//! The segment rule language (SPEC §3): one AST ([`Rule`], JSON via serde),
//! its canonical text form ([`Rule::parse`] / `Display`), validation
//! against what exists ([`validate`]), and two evaluators that agree
//! exactly: in memory for one contact ([`evaluate`], [`explain`]) and as
//! SQL over all contacts ([`compile`], for SQLite and Postgres).
//!
//! ```
//! use quizfunnel::rule::{ContactFacts, AttrValue, Rule, evaluate};
//!
//! let rule = Rule::parse(r#"all(attr(plan) = "trial", never(invited_teammate))"#).unwrap();
//! let mut facts = ContactFacts::default();
//! facts.attributes.insert("plan".into(), AttrValue::new("trial"));
//! assert!(evaluate(&rule, &facts, 0));
//! assert_eq!(rule.referenced_events(), ["invited_teammate"].into());
//! ```
//!
//! The exact semantics are written down in `eval.rs`.

mod ast;
mod eval;
mod explain;
mod parse;
mod print;
mod scan;
mod sql;
mod sql_properties;
mod validate;

pub use ast::*;
pub use eval::{
    AttrValue, ContactFacts, EventFact, SessionFact, evaluate, fold_case, number_in_text,
    stored_fold,
};
pub use explain::{Explanation, explain};
pub use parse::{MAX_DEPTH, ParseError, parse_rule};
pub use print::is_bare_name;
pub use sql::{Dialect, SqlParam, SqlPredicate, compile, select_in_range};
pub use validate::{
    Catalog, CatalogQuestion, CatalogQuiz, InvalidRule, MAX_WINDOW_DAYS, QuestionKind, RuleProblem,
    segment_cycle, validate,
};

use std::collections::BTreeSet;

impl Rule {
    /// Reads the text form; see [`parse_rule`].
    pub fn parse(text: &str) -> Result<Rule, ParseError> {
        parse_rule(text)
    }

    /// Slugs of the segments this rule reads through `in_segment`: when one
    /// of them changes, this rule's members may change too.
    pub fn referenced_segments(&self) -> BTreeSet<&str> {
        self.collect(|node| match node {
            Rule::InSegment { slug } => Some(slug),
            _ => None,
        })
    }

    /// Names of the events this rule counts (`event`, `never`): a new event
    /// with another name cannot change whether the rule holds.
    pub fn referenced_events(&self) -> BTreeSet<&str> {
        self.collect(|node| match node {
            Rule::Event { name, .. } | Rule::Never { name, .. } => Some(name),
            _ => None,
        })
    }

    /// Slugs of the quizzes whose sessions this rule reads (`answered`,
    /// `score`, `completed`).
    pub fn referenced_quizzes(&self) -> BTreeSet<&str> {
        self.collect(|node| match node {
            Rule::Answered { quiz, .. }
            | Rule::Score { quiz, .. }
            | Rule::Completed { quiz, .. } => Some(quiz),
            _ => None,
        })
    }

    /// Keys of the contact attributes this rule reads.
    pub fn referenced_attributes(&self) -> BTreeSet<&str> {
        self.collect(|node| match node {
            Rule::Attr { key, .. } => Some(key),
            _ => None,
        })
    }

    /// Whether some part uses `within Nd`, so that membership can change
    /// with nothing but the passing of time (a rebuild has to re-check it).
    pub fn has_time_window(&self) -> bool {
        let mut found = false;
        self.walk(&mut |node| {
            found |= matches!(
                node,
                Rule::Event {
                    within_days: Some(_),
                    ..
                } | Rule::Never {
                    within_days: Some(_),
                    ..
                } | Rule::Completed {
                    within_days: Some(_),
                    ..
                }
            );
        });
        found
    }

    /// Whether some part reads a quiz session's answers (`answered`): an
    /// answer given mid-quiz can change it.
    pub fn reads_answers(&self) -> bool {
        self.any_node(|node| matches!(node, Rule::Answered { .. }))
    }

    /// Whether some part reads finished sessions (`score`, `completed`):
    /// only a completion can change those.
    pub fn reads_results(&self) -> bool {
        self.any_node(|node| matches!(node, Rule::Score { .. } | Rule::Completed { .. }))
    }

    fn any_node(&self, test: impl Fn(&Rule) -> bool) -> bool {
        let mut found = false;
        self.walk(&mut |node| found |= test(node));
        found
    }

    fn collect<'r>(&'r self, pick: impl Fn(&'r Rule) -> Option<&'r String>) -> BTreeSet<&'r str> {
        let mut names = BTreeSet::new();
        self.walk(&mut |node| {
            if let Some(name) = pick(node) {
                names.insert(name.as_str());
            }
        });
        names
    }
}

impl std::str::FromStr for Rule {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Rule, ParseError> {
        parse_rule(text)
    }
}

#[cfg(test)]
mod agreement_fixtures;
#[cfg(test)]
mod sql_agreement_tests;

#[cfg(test)]
mod tests {
    use super::*;

    const HIGH_INTENT: &str = r#"all(completed(growth, within 14d), event(page_viewed where path = "/pricing", count >= 2, within 7d), not(in_segment(customers)), attr(plan) != "enterprise", any(never(invited_teammate), in_segment(trial-users)))"#;

    #[test]
    fn a_rule_says_whether_answers_or_results_can_change_it() {
        let rule: Rule = HIGH_INTENT.parse().unwrap();
        assert!(rule.reads_results());
        assert!(!rule.reads_answers());
        let answered: Rule = "any(attr(plan) = \"pro\", not(answered(growth.budget = high)))"
            .parse()
            .unwrap();
        assert!(answered.reads_answers());
        assert!(!answered.reads_results());
        let neither: Rule = "event(page_viewed, count >= 3, within 30d)"
            .parse()
            .unwrap();
        assert!(!neither.reads_answers() && !neither.reads_results());
    }

    #[test]
    fn placement_learns_which_segments_and_events_a_rule_reads() {
        let rule: Rule = HIGH_INTENT.parse().unwrap();
        assert_eq!(
            rule.referenced_segments(),
            ["customers", "trial-users"].into()
        );
        assert_eq!(
            rule.referenced_events(),
            ["invited_teammate", "page_viewed"].into()
        );
        assert_eq!(rule.referenced_quizzes(), ["growth"].into());
        assert_eq!(rule.referenced_attributes(), ["plan"].into());
    }

    #[test]
    fn rules_with_windows_change_with_time() {
        assert!(Rule::parse(HIGH_INTENT).unwrap().has_time_window());
        assert!(
            !Rule::parse(r#"all(attr(plan) = "trial", never(invited_teammate))"#)
                .unwrap()
                .has_time_window()
        );
        assert!(
            Rule::parse("not(never(x, within 1d))")
                .unwrap()
                .has_time_window()
        );
    }

    #[test]
    fn display_and_parse_are_inverse() {
        let rule = Rule::parse(HIGH_INTENT).unwrap();
        assert_eq!(rule.to_string(), HIGH_INTENT);
    }
}
