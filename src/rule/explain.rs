//! Why a rule holds or not for one contact: the rule tree with each node's
//! truth value and the evidence behind it, for the admin's drill-down.
//! Every node's `holds` is what [`evaluate`](super::evaluate) says of it.

use super::ast::{AttrTest, Cmp, Literal, NumberTest, PropFilter, Rule};
use super::eval::{
    ContactFacts, Window, attr_test_holds, chosen, completions, count_events, latest_completed,
    latest_session, number_test_holds, session_score,
};
use super::print::{Name, Quoted};
use serde::{Deserialize, Serialize};
use std::fmt;

/// One node of a rule, judged for one contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The node in canonical text form.
    pub rule: String,
    pub holds: bool,
    /// Why, in words: `page_viewed: 1 time in the last 7 days, needs ≥ 2`.
    pub evidence: String,
    /// The explanations of the sub-rules of `all`, `any` and `not`.
    pub children: Vec<Explanation>,
}

/// Judges `rule` for the contact as of `now_ms`, node by node.
pub fn explain(rule: &Rule, facts: &ContactFacts, now_ms: i64) -> Explanation {
    let children: Vec<Explanation> = rule
        .children()
        .iter()
        .map(|child| explain(child, facts, now_ms))
        .collect();
    let (holds, evidence) = match rule {
        Rule::All { .. } => {
            let held = children.iter().filter(|c| c.holds).count();
            (
                held == children.len(),
                tally(held, children.len(), "no rules, so it holds for everyone"),
            )
        }
        Rule::Any { .. } => {
            let held = children.iter().filter(|c| c.holds).count();
            (
                held > 0,
                tally(held, children.len(), "no rules, so it holds for no one"),
            )
        }
        Rule::Not { .. } => {
            let inner = children.first().is_some_and(|c| c.holds);
            let evidence = if inner {
                "the rule inside holds"
            } else {
                "the rule inside does not hold"
            };
            (!inner, evidence.to_string())
        }
        Rule::Answered {
            quiz,
            question,
            options,
        } => {
            let needs = match options.as_slice() {
                [one] => Name(one).to_string(),
                many => format!("one of [{}]", names(many)),
            };
            match latest_session(facts, quiz, now_ms) {
                None => (false, format!("no {} session, needs {needs}", Name(quiz))),
                Some(session) => {
                    let picked: Vec<&str> = chosen(session, question).collect();
                    let holds = picked.iter().any(|p| options.iter().any(|o| o == p));
                    let answer = if picked.is_empty() {
                        format!("has no answer to {}", Name(question))
                    } else {
                        format!("answered {} = {}", Name(question), names(&picked))
                    };
                    (
                        holds,
                        format!("the latest {} session {answer}, needs {needs}", Name(quiz)),
                    )
                }
            }
        }
        Rule::Score {
            quiz,
            category,
            test,
        } => {
            let what = match category {
                Some(category) => format!("score({}, {})", Name(quiz), Name(category)),
                None => format!("score({})", Name(quiz)),
            };
            let needs = match test {
                NumberTest::Compare { cmp, value } => format!("{} {value}", cmp.pretty()),
                NumberTest::Between { lo, hi } => format!("between {lo} and {hi}"),
            };
            let session = latest_completed(facts, quiz, now_ms);
            let score = session.and_then(|s| session_score(s, category.as_deref()));
            let evidence = match (session, score) {
                (None, _) => format!("no completed {} session, needs {what} {needs}", Name(quiz)),
                (Some(_), None) => {
                    format!("{what} has no value in the latest completed session, needs {needs}")
                }
                (Some(_), Some(score)) => {
                    format!("{what} is {score} in the latest completed session, needs {needs}")
                }
            };
            (number_test_holds(score, test), evidence)
        }
        Rule::Event {
            name,
            filters,
            count,
            within_days,
        } => {
            let window = Window::new(*within_days, now_ms);
            let n = count_events(facts, name, filters, window);
            let holds = count.cmp.holds(&n, &u64::from(count.value));
            let needs = format!("{} {}", count.cmp.pretty(), count.value);
            (
                holds,
                event_evidence(name, filters, n, *within_days, &needs),
            )
        }
        Rule::Never {
            name,
            filters,
            within_days,
        } => {
            let n = count_events(facts, name, filters, Window::new(*within_days, now_ms));
            (
                n == 0,
                event_evidence(name, filters, n, *within_days, "none"),
            )
        }
        Rule::Completed { quiz, within_days } => {
            let n = completions(facts, quiz, Window::new(*within_days, now_ms)).count() as u64;
            let evidence = format!(
                "{} completed {} {}",
                Name(quiz),
                times(n),
                span(*within_days)
            );
            (n > 0, evidence)
        }
        Rule::Attr { key, test } => {
            let value = facts.attributes.get(key);
            let attr = format!("attr({})", Name(key));
            let is = match value {
                None => format!("{attr} is missing"),
                Some(v) if needs_number(test) && v.num.is_none() => {
                    format!("{attr} is {}, which is not a number", Quoted(&v.text))
                }
                Some(v) => format!("{attr} is {}", Quoted(&v.text)),
            };
            (
                attr_test_holds(value, test),
                format!("{is}, needs {}", attr_needs(test)),
            )
        }
        Rule::InSegment { slug } => {
            let holds = facts.segments.contains(slug);
            let evidence = if holds {
                "currently in"
            } else {
                "not currently in"
            };
            (holds, format!("{evidence} {}", Name(slug)))
        }
    };
    Explanation {
        rule: rule.to_string(),
        holds,
        evidence,
        children,
    }
}

impl fmt::Display for Explanation {
    /// An indented tree, one node a line: `✓ rule — evidence`. Combinators
    /// show only their name; their sub-rules follow on their own lines.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_tree(f, 0)
    }
}

impl Explanation {
    fn write_tree(&self, f: &mut fmt::Formatter<'_>, indent: usize) -> fmt::Result {
        let mark = if self.holds { '✓' } else { '✗' };
        let label = if self.children.is_empty() {
            self.rule.as_str()
        } else {
            self.rule.split('(').next().unwrap_or_default()
        };
        writeln!(f, "{:indent$}{mark} {label} — {}", "", self.evidence)?;
        for child in &self.children {
            child.write_tree(f, indent + 2)?;
        }
        Ok(())
    }
}

fn tally(held: usize, of: usize, when_empty: &str) -> String {
    match (held, of) {
        (_, 0) => when_empty.to_string(),
        (1, 1) => "the only rule holds".to_string(),
        (0, 1) => "the only rule does not hold".to_string(),
        (h, n) if h == n => format!("all {n} hold"),
        (0, n) => format!("none of {n} hold"),
        (1, n) => format!("1 of {n} holds"),
        (h, n) => format!("{h} of {n} hold"),
    }
}

fn event_evidence(
    name: &str,
    filters: &[PropFilter],
    n: u64,
    within_days: Option<u32>,
    needs: &str,
) -> String {
    let mut what = Name(name).to_string();
    for (i, filter) in filters.iter().enumerate() {
        what.push_str(if i == 0 { " where " } else { " and " });
        what.push_str(&filter.to_string());
    }
    format!("{what}: {} {}, needs {needs}", times(n), span(within_days))
}

fn times(n: u64) -> String {
    match n {
        1 => "1 time".to_string(),
        n => format!("{n} times"),
    }
}

fn span(within_days: Option<u32>) -> String {
    match within_days {
        None => "ever".to_string(),
        Some(1) => "in the last day".to_string(),
        Some(days) => format!("in the last {days} days"),
    }
}

fn names<S: AsRef<str>>(names: &[S]) -> String {
    let names: Vec<String> = names.iter().map(|n| Name(n.as_ref()).to_string()).collect();
    names.join(", ")
}

/// Whether the test compares with a number somewhere.
fn needs_number(test: &AttrTest) -> bool {
    let is_number = |l: &Literal| matches!(l, Literal::Number(_));
    match test {
        AttrTest::Compare { value, .. } => is_number(value),
        AttrTest::Between { lo, hi } => is_number(lo) || is_number(hi),
        AttrTest::In(values) | AttrTest::NotIn(values) => {
            !values.is_empty() && values.iter().all(is_number)
        }
        AttrTest::Contains(_) => false,
    }
}

fn attr_needs(test: &AttrTest) -> String {
    let list = |values: &[Literal]| {
        values
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    match test {
        AttrTest::Compare {
            cmp: Cmp::Ne,
            value,
        } => format!("≠ {value} (or missing)"),
        AttrTest::Compare { cmp, value } => format!("{} {value}", cmp.pretty()),
        AttrTest::Between { lo, hi } => format!("between {lo} and {hi}"),
        AttrTest::In(values) => format!("one of [{}]", list(values)),
        AttrTest::NotIn(values) => format!("none of [{}] (or missing)", list(values)),
        AttrTest::Contains(needle) => format!("to contain {} (any case)", Quoted(needle)),
    }
}

#[cfg(test)]
#[path = "explain_tests.rs"]
mod tests;
