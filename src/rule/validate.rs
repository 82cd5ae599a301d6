//! Checking a rule against what exists: quizzes, their questions, options
//! and categories, and the other segments (whose rules must not loop back
//! through `in_segment`). Also refuses rules that can never mean what
//! their author wanted: empty windows, empty lists, `between 9 and 3`.

use super::ast::{AttrTest, Cmp, Literal, NumberTest, PropFilter, Rule};
use super::parse::MAX_DEPTH;
use super::print::Name;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What a rule may name. The caller builds it from the store.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    pub quizzes: BTreeMap<String, CatalogQuiz>,
    /// Every saved segment by slug, with its rule when it has one, so that
    /// `in_segment` cycles can be found.
    pub segments: BTreeMap<String, Option<Rule>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CatalogQuiz {
    pub questions: BTreeMap<String, CatalogQuestion>,
    pub categories: BTreeSet<String>,
}

impl CatalogQuiz {
    /// Adds what an older version of the quiz had: its questions, options
    /// and categories. A question both have keeps this one's kind.
    pub fn merge(&mut self, older: CatalogQuiz) {
        for (key, question) in older.questions {
            match self.questions.get_mut(&key) {
                Some(known) if known.kind == question.kind => {
                    known.options.extend(question.options)
                }
                Some(_) => {}
                None => {
                    self.questions.insert(key, question);
                }
            }
        }
        self.categories.extend(older.categories);
    }

    /// What `rule` names in the quiz `slug` that this version of it does
    /// not have: questions, options and categories, as the rule writes
    /// them. Answers given to an earlier version still match such a test;
    /// respondents of this one cannot.
    pub fn missing_from(&self, rule: &Rule, slug: &str) -> BTreeSet<String> {
        let mut missing = BTreeSet::new();
        rule.walk(&mut |node| match node {
            Rule::Answered {
                quiz,
                question,
                options,
            } if quiz == slug => match self.questions.get(question) {
                None => {
                    missing.insert(format!("{}.{}", Name(quiz), Name(question)));
                }
                Some(known) => {
                    for option in options.iter().filter(|o| !known.options.contains(*o)) {
                        missing.insert(format!(
                            "{}.{} = {}",
                            Name(quiz),
                            Name(question),
                            Name(option)
                        ));
                    }
                }
            },
            Rule::Score {
                quiz,
                category: Some(category),
                ..
            } if quiz == slug && !self.categories.contains(category) => {
                missing.insert(format!("score({}, {})", Name(quiz), Name(category)));
            }
            _ => {}
        });
        missing
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogQuestion {
    pub kind: QuestionKind,
    pub options: BTreeSet<String>,
}

/// The question kinds of SPEC §2; text and contact questions cannot be
/// `answered` (a scale is matched by its values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    Single,
    Multi,
    Scale,
    Text,
    Contact,
}

/// One thing wrong with a rule: where (child indices from the root through
/// `all`/`any`/`not`) and what, in words that name the offending part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleProblem {
    pub path: Vec<usize>,
    pub message: String,
}

/// Every problem found in a rule, in the order of the rule's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .problems.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("; "))]
pub struct InvalidRule {
    pub problems: Vec<RuleProblem>,
}

/// The longest window a rule may use: about a century.
pub const MAX_WINDOW_DAYS: u32 = 36_500;

/// Checks `rule` for the segment `own_slug` (`None` for a segment not saved
/// yet) against `catalog`, returning every problem, not just the first.
pub fn validate(rule: &Rule, catalog: &Catalog, own_slug: Option<&str>) -> Result<(), InvalidRule> {
    let mut check = Check {
        catalog,
        own_slug,
        rule,
        path: Vec::new(),
        problems: Vec::new(),
    };
    if rule.depth() > MAX_DEPTH + 1 {
        check.problem(format!("the rule nests deeper than {MAX_DEPTH} levels"));
    } else {
        check.node(rule);
    }
    if check.problems.is_empty() {
        Ok(())
    } else {
        Err(InvalidRule {
            problems: check.problems,
        })
    }
}

/// The `in_segment` loop that saving `rule` as the segment `own_slug`
/// would close through the segments in `catalog`, in words. `validate`
/// finds loops too; this is for the store, which asks again against the
/// segments as they are when it saves, after another save may have
/// closed one since the rule was validated.
pub fn segment_cycle(rule: &Rule, catalog: &Catalog, own_slug: &str) -> Option<String> {
    let check = Check {
        catalog,
        own_slug: Some(own_slug),
        rule,
        path: Vec::new(),
        problems: Vec::new(),
    };
    rule.referenced_segments()
        .into_iter()
        .find_map(|slug| check.cycle_words(slug))
}

struct Check<'c> {
    catalog: &'c Catalog,
    own_slug: Option<&'c str>,
    rule: &'c Rule,
    path: Vec<usize>,
    problems: Vec<RuleProblem>,
}

impl<'c> Check<'c> {
    fn node(&mut self, rule: &'c Rule) {
        match rule {
            Rule::All { .. } | Rule::Any { .. } | Rule::Not { .. } => {
                for (i, child) in rule.children().iter().enumerate() {
                    self.path.push(i);
                    self.node(child);
                    self.path.pop();
                }
            }
            Rule::Answered {
                quiz,
                question,
                options,
            } => self.answered(quiz, question, options),
            Rule::Score {
                quiz,
                category,
                test,
            } => {
                let found = self.quiz(quiz);
                if let (Some(found), Some(category)) = (found, category)
                    && !found.categories.contains(category)
                {
                    self.problem(format!(
                        "unknown category \"{category}\" for quiz {}; expected one of: {}",
                        Name(quiz),
                        listing(&found.categories)
                    ));
                }
                if let NumberTest::Between { lo, hi } = test
                    && lo > hi
                {
                    self.problem(format!(
                        "between {lo} and {hi} is empty: {lo} is above {hi}"
                    ));
                }
            }
            Rule::Event {
                name,
                filters,
                count,
                within_days,
            } => {
                self.event(name, filters, *within_days);
                match (count.cmp, count.value) {
                    (Cmp::Ge, 0) => self.problem(format!(
                        "event({}, count >= 0) holds for everyone; use count >= 1",
                        Name(name)
                    )),
                    (Cmp::Lt, 0) => self.problem(format!(
                        "event({}, count < 0) holds for no one; counts start at 0",
                        Name(name)
                    )),
                    _ => {}
                }
            }
            Rule::Never {
                name,
                filters,
                within_days,
            } => self.event(name, filters, *within_days),
            Rule::Completed { quiz, within_days } => {
                self.quiz(quiz);
                self.window(*within_days);
            }
            Rule::Attr { key, test } => self.attr(key, test),
            Rule::InSegment { slug } => self.in_segment(slug),
        }
    }

    fn answered(&mut self, quiz: &str, question: &str, options: &[String]) {
        if options.is_empty() {
            self.problem(format!(
                "answered({}.{} in []) needs at least one option",
                Name(quiz),
                Name(question)
            ));
        }
        let Some(found) = self.quiz(quiz) else { return };
        let Some(q) = found.questions.get(question) else {
            let keys: BTreeSet<&String> = found.questions.keys().collect();
            return self.problem(format!(
                "unknown question \"{question}\" in quiz {}; expected one of: {}",
                Name(quiz),
                listing(&keys)
            ));
        };
        if matches!(q.kind, QuestionKind::Text | QuestionKind::Contact) {
            return self.problem(format!(
                "question {}.{} takes free text, so it has no options to match",
                Name(quiz),
                Name(question)
            ));
        }
        let scale: Vec<i64> = q.options.iter().filter_map(|o| o.parse().ok()).collect();
        for option in options {
            if q.options.contains(option) {
                continue;
            }
            if let (QuestionKind::Scale, Some(lo), Some(hi)) =
                (q.kind, scale.iter().min(), scale.iter().max())
            {
                self.problem(format!(
                    "\"{option}\" is not on the scale of question {}.{}; expected a whole number from {lo} to {hi}",
                    Name(quiz),
                    Name(question)
                ));
            } else {
                self.problem(format!(
                    "unknown option \"{option}\" for question {}.{}; expected one of: {}",
                    Name(quiz),
                    Name(question),
                    listing(&q.options)
                ));
            }
        }
    }

    fn event(&mut self, name: &str, filters: &[PropFilter], within_days: Option<u32>) {
        if name.is_empty() {
            self.problem("an event name cannot be empty".into());
        }
        if filters.iter().any(|f| f.prop.is_empty()) {
            self.problem(format!(
                "a property name in event {} cannot be empty",
                Name(name)
            ));
        }
        self.window(within_days);
    }

    fn window(&mut self, within_days: Option<u32>) {
        match within_days {
            Some(0) => self.problem("within 0d is an empty window; use 1d or more".into()),
            Some(days) if days > MAX_WINDOW_DAYS => self.problem(format!(
                "within {days}d is longer than the {MAX_WINDOW_DAYS}d a window may span"
            )),
            _ => {}
        }
    }

    fn attr(&mut self, key: &str, test: &AttrTest) {
        if key.is_empty() {
            self.problem("an attribute key cannot be empty".into());
        }
        let attr = format!("attr({})", Name(key));
        match test {
            AttrTest::Between { lo, hi } => match (lo, hi) {
                (Literal::Number(a), Literal::Number(b)) if a > b => self.problem(format!(
                    "{attr} between {lo} and {hi} is empty: {lo} is above {hi}"
                )),
                (Literal::Text(a), Literal::Text(b)) if a > b => self.problem(format!(
                    "{attr} between {lo} and {hi} is empty: {lo} sorts after {hi}"
                )),
                (Literal::Number(_), Literal::Text(_)) | (Literal::Text(_), Literal::Number(_)) => {
                    self.problem(format!(
                        "{attr} between {lo} and {hi} mixes a number and a string; use two numbers or two strings"
                    ))
                }
                _ => {}
            },
            AttrTest::In(values) | AttrTest::NotIn(values) if values.is_empty() => {
                self.problem(format!("{attr} {test} needs at least one value", test = if matches!(test, AttrTest::In(_)) { "in []" } else { "not in []" }))
            }
            AttrTest::Contains(needle) if needle.is_empty() => self.problem(format!(
                "{attr} contains \"\" matches every value; give some text to look for"
            )),
            _ => {}
        }
    }

    fn in_segment(&mut self, slug: &str) {
        if Some(slug) == self.own_slug {
            return self.problem(format!(
                "in_segment({}) refers to this segment itself",
                Name(slug)
            ));
        }
        if !self.catalog.segments.contains_key(slug) {
            let slugs: BTreeSet<&String> = self.catalog.segments.keys().collect();
            return self.problem(format!(
                "unknown segment \"{slug}\"; expected one of: {}",
                listing(&slugs)
            ));
        }
        if let Some(problem) = self.cycle_words(slug) {
            self.problem(problem);
        }
    }

    /// The loop through `in_segment(slug)`, in words, if there is one.
    fn cycle_words(&self, slug: &'c str) -> Option<String> {
        let cycle = self.cycle_from(slug)?;
        Some(format!(
            "in_segment({}) makes a cycle: {}",
            Name(slug),
            cycle
                .iter()
                .map(|s| Name(s).to_string())
                .collect::<Vec<_>>()
                .join(" → ")
        ))
    }

    /// A loop of `in_segment` references reachable from `start`, written as
    /// the slugs along it with the first repeated at the end.
    fn cycle_from(&self, start: &'c str) -> Option<Vec<&'c str>> {
        let mut stack: Vec<&'c str> = self.own_slug.into_iter().collect();
        let mut cleared: BTreeSet<&'c str> = BTreeSet::new();
        self.search(start, &mut stack, &mut cleared)
    }

    fn search(
        &self,
        slug: &'c str,
        stack: &mut Vec<&'c str>,
        cleared: &mut BTreeSet<&'c str>,
    ) -> Option<Vec<&'c str>> {
        if let Some(at) = stack.iter().position(|s| *s == slug) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(slug);
            return Some(cycle);
        }
        if cleared.contains(slug) {
            return None;
        }
        let rule = if Some(slug) == self.own_slug {
            Some(self.rule)
        } else {
            self.catalog.segments.get(slug).and_then(Option::as_ref)
        };
        stack.push(slug);
        let mut found = None;
        if let Some(rule) = rule {
            let mut next = Vec::new();
            rule.walk(&mut |node| {
                if let Rule::InSegment { slug } = node {
                    next.push(slug.as_str());
                }
            });
            found = next
                .into_iter()
                .find_map(|n| self.search(n, stack, cleared));
        }
        stack.pop();
        if found.is_none() {
            cleared.insert(slug);
        }
        found
    }

    /// The quiz, or a problem naming it.
    fn quiz(&mut self, slug: &str) -> Option<&'c CatalogQuiz> {
        let found = self.catalog.quizzes.get(slug);
        if found.is_none() {
            let slugs: BTreeSet<&String> = self.catalog.quizzes.keys().collect();
            self.problem(format!(
                "unknown quiz \"{slug}\"; expected one of: {}",
                listing(&slugs)
            ));
        }
        found
    }

    fn problem(&mut self, message: String) {
        self.problems.push(RuleProblem {
            path: self.path.clone(),
            message,
        });
    }
}

/// `a, b, c`, or a note that there is nothing to choose from.
fn listing<T: AsRef<str>>(names: &BTreeSet<T>) -> String {
    const SHOWN: usize = 20;
    if names.is_empty() {
        return "(there are none)".into();
    }
    let mut out: Vec<&str> = names.iter().take(SHOWN).map(AsRef::as_ref).collect();
    if names.len() > SHOWN {
        out.push("…");
    }
    out.join(", ")
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
