//! The canonical text form of a rule (SPEC §3), as `Display`.
//!
//! `Rule::parse(&rule.to_string())` gives back the same rule. Names (slugs,
//! keys, event names) print bare when they are made of ASCII letters,
//! digits, `_` and `-` (not starting with `-`), and as quoted strings
//! otherwise. Strings are double-quoted with `\"` and `\\` escapes. Numbers
//! print as plain decimals. `event` always prints its count.

use super::ast::{AttrTest, CountTest, Literal, NumberTest, PropFilter, PropValue, Rule};
use std::fmt::{self, Display, Formatter, Write};

impl Display for Rule {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Rule::All { rules } | Rule::Any { rules } => {
                write!(f, "{}(", self.op())?;
                for (i, rule) in rules.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    rule.fmt(f)?;
                }
                f.write_str(")")
            }
            Rule::Not { rule } => write!(f, "not({rule})"),
            Rule::Answered {
                quiz,
                question,
                options,
            } => {
                write!(f, "answered({}.{}", Name(quiz), Name(question))?;
                match options.as_slice() {
                    [one] => write!(f, " = {}", Name(one))?,
                    many => {
                        f.write_str(" in [")?;
                        write_list(f, many.iter().map(|o| Name(o)))?;
                        f.write_str("]")?;
                    }
                }
                f.write_str(")")
            }
            Rule::Score {
                quiz,
                category,
                test,
            } => {
                write!(f, "score({}", Name(quiz))?;
                if let Some(category) = category {
                    write!(f, ", {}", Name(category))?;
                }
                f.write_str(") ")?;
                match test {
                    NumberTest::Compare { cmp, value } => write!(f, "{} {value}", cmp.symbol()),
                    NumberTest::Between { lo, hi } => write!(f, "between {lo} and {hi}"),
                }
            }
            Rule::Event {
                name,
                filters,
                count,
                within_days,
            } => {
                write!(f, "event({}", Name(name))?;
                write_filters(f, filters)?;
                let CountTest { cmp, value } = count;
                write!(f, ", count {} {value}", cmp.symbol())?;
                write_window(f, *within_days)?;
                f.write_str(")")
            }
            Rule::Never {
                name,
                filters,
                within_days,
            } => {
                write!(f, "never({}", Name(name))?;
                write_filters(f, filters)?;
                write_window(f, *within_days)?;
                f.write_str(")")
            }
            Rule::Completed { quiz, within_days } => {
                write!(f, "completed({}", Name(quiz))?;
                write_window(f, *within_days)?;
                f.write_str(")")
            }
            Rule::Attr { key, test } => {
                write!(f, "attr({}) ", Name(key))?;
                match test {
                    AttrTest::Compare { cmp, value } => write!(f, "{} {value}", cmp.symbol()),
                    AttrTest::Between { lo, hi } => write!(f, "between {lo} and {hi}"),
                    AttrTest::In(values) => {
                        f.write_str("in [")?;
                        write_list(f, values.iter())?;
                        f.write_str("]")
                    }
                    AttrTest::NotIn(values) => {
                        f.write_str("not in [")?;
                        write_list(f, values.iter())?;
                        f.write_str("]")
                    }
                    AttrTest::Contains(needle) => write!(f, "contains {}", Quoted(needle)),
                }
            }
            Rule::InSegment { slug } => write!(f, "in_segment({})", Name(slug)),
        }
    }
}

impl Display for Literal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Number(n) => n.fmt(f),
            Literal::Text(s) => Quoted(s).fmt(f),
        }
    }
}

impl Display for PropValue {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            PropValue::Bool(b) => b.fmt(f),
            PropValue::Number(n) => n.fmt(f),
            PropValue::Text(s) => Quoted(s).fmt(f),
        }
    }
}

impl Display for PropFilter {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {}", Name(&self.prop), self.value)
    }
}

/// Whether `name` can be written without quotes.
pub fn is_bare_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A name as the text form writes it: bare when it can be, quoted otherwise.
pub(crate) struct Name<'a>(pub &'a str);

/// A string in double quotes with `\"` and `\\` escaped.
pub(crate) struct Quoted<'a>(pub &'a str);

impl Display for Name<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if is_bare_name(self.0) {
            f.write_str(self.0)
        } else {
            Quoted(self.0).fmt(f)
        }
    }
}

impl Display for Quoted<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        for ch in self.0.chars() {
            if ch == '"' || ch == '\\' {
                f.write_char('\\')?;
            }
            f.write_char(ch)?;
        }
        f.write_char('"')
    }
}

fn write_list<T: Display>(f: &mut Formatter<'_>, items: impl Iterator<Item = T>) -> fmt::Result {
    for (i, item) in items.enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        item.fmt(f)?;
    }
    Ok(())
}

fn write_filters(f: &mut Formatter<'_>, filters: &[PropFilter]) -> fmt::Result {
    for (i, filter) in filters.iter().enumerate() {
        f.write_str(if i == 0 { " where " } else { " and " })?;
        filter.fmt(f)?;
    }
    Ok(())
}

fn write_window(f: &mut Formatter<'_>, within_days: Option<u32>) -> fmt::Result {
    match within_days {
        Some(days) => write!(f, ", within {days}d"),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::ast::{Cmp, Number};

    fn text(s: &str) -> Literal {
        Literal::Text(s.into())
    }

    #[test]
    fn high_intent_visitors_print_like_the_spec() {
        let rule = Rule::All {
            rules: vec![
                Rule::Completed {
                    quiz: "growth".into(),
                    within_days: Some(14),
                },
                Rule::Event {
                    name: "page_viewed".into(),
                    filters: vec![PropFilter {
                        prop: "path".into(),
                        value: PropValue::Text("/pricing".into()),
                    }],
                    count: CountTest {
                        cmp: Cmp::Ge,
                        value: 2,
                    },
                    within_days: Some(7),
                },
            ],
        };
        assert_eq!(
            rule.to_string(),
            r#"all(completed(growth, within 14d), event(page_viewed where path = "/pricing", count >= 2, within 7d))"#
        );
    }

    #[test]
    fn attribute_tests_print_with_quoted_strings() {
        let not_in = Rule::Attr {
            key: "role".into(),
            test: AttrTest::NotIn(vec![text("intern")]),
        };
        assert_eq!(not_in.to_string(), r#"attr(role) not in ["intern"]"#);
        let contains = Rule::Attr {
            key: "plan".into(),
            test: AttrTest::Contains("say \"hi\" \\o/".into()),
        };
        assert_eq!(
            contains.to_string(),
            r#"attr(plan) contains "say \"hi\" \\o/""#
        );
    }

    #[test]
    fn one_answer_option_prints_as_equals_and_several_as_a_list() {
        let one = Rule::Answered {
            quiz: "growth".into(),
            question: "budget".into(),
            options: vec!["high".into()],
        };
        assert_eq!(one.to_string(), "answered(growth.budget = high)");
        let two = Rule::Answered {
            quiz: "growth".into(),
            question: "budget".into(),
            options: vec!["low".into(), "mid".into()],
        };
        assert_eq!(two.to_string(), "answered(growth.budget in [low, mid])");
    }

    #[test]
    fn names_that_are_not_bare_words_are_quoted() {
        let rule = Rule::Never {
            name: "Signed Up".into(),
            filters: vec![],
            within_days: Some(30),
        };
        assert_eq!(rule.to_string(), r#"never("Signed Up", within 30d)"#);
        assert_eq!(
            Rule::InSegment {
                slug: "high-intent".into()
            }
            .to_string(),
            "in_segment(high-intent)"
        );
    }

    #[test]
    fn decimal_scores_print_without_exponents() {
        let rule = Rule::Score {
            quiz: "growth".into(),
            category: Some("budget".into()),
            test: NumberTest::Between {
                lo: Number::new(0.5).unwrap(),
                hi: Number::new(1e21).unwrap(),
            },
        };
        assert_eq!(
            rule.to_string(),
            "score(growth, budget) between 0.5 and 1000000000000000000000"
        );
    }
}
