//! Reading the text form: a hand-written recursive-descent parser.
//!
//! The grammar, with spaces, tabs and newlines allowed between tokens:
//!
//! ```text
//! rule      = "all" "(" [rule {"," rule}] ")" | "any" "(" [rule {"," rule}] ")"
//!           | "not" "(" rule ")"
//!           | "answered" "(" name "." name ("=" name | "in" "[" [name {"," name}] "]") ")"
//!           | "score" "(" name ["," name] ")" number-test
//!           | "event" "(" name [filters] {"," ("count" cmp uint | window)} ")"
//!           | "never" "(" name [filters] ["," window] ")"
//!           | "completed" "(" name ["," window] ")"
//!           | "attr" "(" name ")" attr-test
//!           | "in_segment" "(" name ")"
//! filters   = "where" name "=" (string | number | "true" | "false") {"and" ...}
//! window    = "within" uint "d"                      (e.g. within 7d)
//! number-test = cmp number | "between" number "and" number
//! attr-test = cmp literal | "between" literal "and" literal | "contains" string
//!           | "in" list | "not" "in" list             (list = "[" [literal {"," literal}] "]")
//! name      = bare word [A-Za-z0-9_][A-Za-z0-9_-]* | string
//! literal   = string | number        string = "..." with \" and \\ escapes
//! number    = ["-"] digits ["." digits]              cmp = = != > >= < <=
//! ```
//!
//! `event(x)` without a count means `count >= 1`; `count` and the window
//! may come in either order. Rules nest at most [`MAX_DEPTH`] deep.

use super::ast::{AttrTest, Cmp, CountTest, Literal, NumberTest, PropFilter, PropValue, Rule};
use super::scan::{Parsed, Parser, is_word_char};

/// How deep `all`/`any`/`not` may nest, so hostile input cannot exhaust the
/// stack of the parser or of anything that walks the tree later.
pub const MAX_DEPTH: usize = 64;

/// Why a text is not a rule, and where (1-based line and column, counted
/// in characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Parses the text form of a rule.
pub fn parse_rule(text: &str) -> Result<Rule, ParseError> {
    let mut parser = Parser::new(text);
    let rule = parser.rule()?;
    parser.skip_space();
    if parser.pos < text.len() {
        return Err(parser.expected("the end of the rule"));
    }
    Ok(rule)
}

impl<'t> Parser<'t> {
    fn rule(&mut self) -> Parsed<Rule> {
        self.skip_space();
        let start = self.pos;
        let op = self.peek_word().unwrap_or("");
        let rule = match op {
            "all" | "any" => {
                self.enter(start)?;
                self.pos += op.len();
                self.punct("(")?;
                let mut rules = Vec::new();
                if !self.eat(")") {
                    loop {
                        rules.push(self.rule()?);
                        if self.eat(")") {
                            break;
                        }
                        self.punct_or(",", r#"expected ")" or ",""#)?;
                    }
                }
                self.depth -= 1;
                if op == "all" {
                    Rule::All { rules }
                } else {
                    Rule::Any { rules }
                }
            }
            "not" => {
                self.enter(start)?;
                self.pos += op.len();
                self.punct("(")?;
                let rule = Box::new(self.rule()?);
                self.punct(")")?;
                self.depth -= 1;
                Rule::Not { rule }
            }
            "answered" => {
                self.pos += op.len();
                self.punct("(")?;
                let quiz = self.name("a quiz slug")?;
                self.punct_or(
                    ".",
                    r#"expected "." and a question key, as in answered(quiz.question = option)"#,
                )?;
                let question = self.name("a question key")?;
                let options = if self.eat("=") {
                    vec![self.option_key()?]
                } else if self.keyword("in") {
                    self.list(|p| p.option_key())?
                } else {
                    return Err(self.expected(r#""=" or "in""#));
                };
                self.punct(")")?;
                Rule::Answered {
                    quiz,
                    question,
                    options,
                }
            }
            "score" => {
                self.pos += op.len();
                self.punct("(")?;
                let quiz = self.name("a quiz slug")?;
                let category = if self.eat(",") {
                    Some(self.name("a category")?)
                } else {
                    None
                };
                self.punct_or(")", r#"expected ")" or ",""#)?;
                let test = if self.keyword("between") {
                    let lo = self.number()?;
                    self.keyword_or("and", r#"expected "and""#)?;
                    NumberTest::Between {
                        lo,
                        hi: self.number()?,
                    }
                } else if let Some(cmp) = self.cmp() {
                    NumberTest::Compare {
                        cmp,
                        value: self.number()?,
                    }
                } else {
                    return Err(self.expected(r#"a comparison or "between""#));
                };
                Rule::Score {
                    quiz,
                    category,
                    test,
                }
            }
            "event" => {
                self.pos += op.len();
                self.punct("(")?;
                let name = self.name("an event name")?;
                let filters = self.filters()?;
                let mut count = None;
                let mut within_days = None;
                while self.eat(",") {
                    self.skip_space();
                    let at = self.pos;
                    if count.is_none() && self.keyword("count") {
                        let cmp = self.cmp().ok_or_else(|| self.expected("a comparison"))?;
                        count = Some(CountTest {
                            cmp,
                            value: self.uint("a whole number")?,
                        });
                    } else if within_days.is_none() && self.keyword("within") {
                        within_days = Some(self.window()?);
                    } else {
                        self.pos = at;
                        return Err(self.expected(match (count, within_days) {
                            (None, None) => r#""count" or "within""#,
                            (None, Some(_)) => r#""count""#,
                            _ => r#""within""#,
                        }));
                    }
                }
                self.punct_or(")", r#"expected ")" or ",""#)?;
                Rule::Event {
                    name,
                    filters,
                    count: count.unwrap_or(CountTest {
                        cmp: Cmp::Ge,
                        value: 1,
                    }),
                    within_days,
                }
            }
            "never" => {
                self.pos += op.len();
                self.punct("(")?;
                let name = self.name("an event name")?;
                let filters = self.filters()?;
                let within_days = self.optional_window()?;
                Rule::Never {
                    name,
                    filters,
                    within_days,
                }
            }
            "completed" => {
                self.pos += op.len();
                self.punct("(")?;
                let quiz = self.name("a quiz slug")?;
                let within_days = self.optional_window()?;
                Rule::Completed { quiz, within_days }
            }
            "attr" => {
                self.pos += op.len();
                self.punct("(")?;
                let key = self.name("an attribute key")?;
                self.punct(")")?;
                let test = if self.keyword("between") {
                    let lo = self.literal()?;
                    self.keyword_or("and", r#"expected "and""#)?;
                    AttrTest::Between {
                        lo,
                        hi: self.literal()?,
                    }
                } else if self.keyword("in") {
                    AttrTest::In(self.list(Self::literal)?)
                } else if self.keyword("not") {
                    self.keyword_or("in", r#"expected "in""#)?;
                    AttrTest::NotIn(self.list(Self::literal)?)
                } else if self.keyword("contains") {
                    self.skip_space();
                    if self.peek() != Some('"') {
                        return Err(self.expected("a string in double quotes"));
                    }
                    AttrTest::Contains(self.string()?)
                } else if let Some(cmp) = self.cmp() {
                    AttrTest::Compare {
                        cmp,
                        value: self.literal()?,
                    }
                } else {
                    return Err(
                        self.expected(r#"a comparison, "between", "in", "not in" or "contains""#)
                    );
                };
                Rule::Attr { key, test }
            }
            "in_segment" => {
                self.pos += op.len();
                self.punct("(")?;
                let slug = self.name("a segment slug")?;
                self.punct(")")?;
                Rule::InSegment { slug }
            }
            _ => {
                return Err(self.expected(
                    "a rule: all, any, not, answered, score, event, never, completed, attr or in_segment",
                ));
            }
        };
        Ok(rule)
    }

    fn enter(&mut self, start: usize) -> Parsed<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_at(start, format!("rules nest deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    /// `where prop = value and prop = value ...`, or nothing.
    fn filters(&mut self) -> Parsed<Vec<PropFilter>> {
        let mut filters = Vec::new();
        if !self.keyword("where") {
            return Ok(filters);
        }
        loop {
            let prop = self.name("a property name")?;
            self.punct("=")?;
            self.skip_space();
            let value = if self.keyword("true") {
                PropValue::Bool(true)
            } else if self.keyword("false") {
                PropValue::Bool(false)
            } else if matches!(self.peek(), Some(c) if c == '"' || c == '-' || c.is_ascii_digit()) {
                match self.literal()? {
                    Literal::Text(s) => PropValue::Text(s),
                    Literal::Number(n) => PropValue::Number(n),
                }
            } else {
                return Err(self.expected("a string, a number, true or false"));
            };
            filters.push(PropFilter { prop, value });
            if !self.keyword("and") {
                return Ok(filters);
            }
        }
    }

    /// `[, within Nd] )`
    fn optional_window(&mut self) -> Parsed<Option<u32>> {
        let within = if self.eat(",") {
            self.keyword_or("within", r#"expected "within""#)?;
            Some(self.window()?)
        } else {
            None
        };
        self.punct_or(")", r#"expected ")" or ",""#)?;
        Ok(within)
    }

    /// The `Nd` after `within`.
    fn window(&mut self) -> Parsed<u32> {
        let days = self.uint("a number of days, as in within 7d")?;
        if self.peek() == Some('d') && !self.text[self.pos + 1..].starts_with(is_word_char) {
            self.pos += 1;
            Ok(days)
        } else {
            Err(self.expected(r#""d" right after the number of days, as in within 7d"#))
        }
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
