//! The token level of the parser: names, strings, numbers, punctuation,
//! and where in the text an error is.

use super::ast::{Cmp, Literal, Number};
use super::parse::ParseError;

pub(super) type Parsed<T> = Result<T, ParseError>;

/// The parser's cursor over the text. The grammar lives in `parse.rs`.
pub(super) struct Parser<'t> {
    pub(super) text: &'t str,
    /// Byte offset of the next unread character.
    pub(super) pos: usize,
    pub(super) depth: usize,
}

impl<'t> Parser<'t> {
    pub(super) fn new(text: &'t str) -> Self {
        Parser {
            text,
            pos: 0,
            depth: 0,
        }
    }

    /// `[item, item, ...]`
    pub(super) fn list<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Parsed<T>,
    ) -> Parsed<Vec<T>> {
        self.punct("[")?;
        let mut items = Vec::new();
        if self.eat("]") {
            return Ok(items);
        }
        loop {
            items.push(item(self)?);
            if self.eat("]") {
                return Ok(items);
            }
            self.punct_or(",", r#"expected "]" or ",""#)?;
        }
    }

    pub(super) fn name(&mut self, what: &str) -> Parsed<String> {
        self.skip_space();
        if self.peek() == Some('"') {
            return self.string();
        }
        match self.peek_word() {
            Some(word) => {
                self.pos += word.len();
                Ok(word.to_string())
            }
            None => Err(self.expected(what)),
        }
    }

    /// An option key, or a value of a scale: a scale may run below zero,
    /// and `-2` reads as the value it is, not as a name.
    pub(super) fn option_key(&mut self) -> Parsed<String> {
        self.skip_space();
        let rest = &self.text[self.pos..];
        if let Some(digits) = rest.strip_prefix('-') {
            let len = digits.bytes().take_while(u8::is_ascii_digit).count();
            if len > 0 && !digits[len..].starts_with(is_word_char) {
                self.pos += 1 + len;
                return Ok(rest[..1 + len].to_string());
            }
        }
        self.name("an option key")
    }

    pub(super) fn literal(&mut self) -> Parsed<Literal> {
        self.skip_space();
        match self.peek() {
            Some('"') => Ok(Literal::Text(self.string()?)),
            Some(c) if c == '-' || c.is_ascii_digit() => Ok(Literal::Number(self.number()?)),
            _ => Err(self.expected("a string or a number")),
        }
    }

    pub(super) fn string(&mut self) -> Parsed<String> {
        self.skip_space();
        let start = self.pos;
        if self.peek() != Some('"') {
            return Err(self.expected("a string in double quotes"));
        }
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(ch) = self.peek() else {
                return Err(self.error_at(start, "this string has no closing quote".into()));
            };
            self.pos += ch.len_utf8();
            match ch {
                '"' => return Ok(out),
                '\\' => match self.peek() {
                    Some(esc @ ('"' | '\\')) => {
                        self.pos += 1;
                        out.push(esc);
                    }
                    _ => return Err(self.expected(r#"\" or \\ after a backslash"#)),
                },
                _ => out.push(ch),
            }
        }
    }

    pub(super) fn number(&mut self) -> Parsed<Number> {
        self.skip_space();
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let mut end = start;
        if bytes.get(end) == Some(&b'-') {
            end += 1;
        }
        let digits = |from: usize| {
            bytes[from..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count()
        };
        let int_digits = digits(end);
        if int_digits == 0 {
            return Err(self.expected("a number"));
        }
        end += int_digits;
        if bytes.get(end) == Some(&b'.') && digits(end + 1) > 0 {
            end += 1 + digits(end + 1);
        }
        if self.text[end..].starts_with(is_word_char) {
            return Err(self.error_at(start, "expected a number".into()));
        }
        let value: f64 = self.text[start..end]
            .parse()
            .map_err(|_| self.error_at(start, "expected a number".into()))?;
        let number = Number::new(value)
            .ok_or_else(|| self.error_at(start, "this number is too large".into()))?;
        self.pos = end;
        Ok(number)
    }

    pub(super) fn uint(&mut self, what: &str) -> Parsed<u32> {
        self.skip_space();
        let start = self.pos;
        let len = self.text[start..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        if len == 0 {
            return Err(self.expected(what));
        }
        let value = self.text[start..start + len].parse().map_err(|_| {
            self.error_at(start, format!("this number is larger than {}", u32::MAX))
        })?;
        self.pos = start + len;
        Ok(value)
    }

    pub(super) fn cmp(&mut self) -> Option<Cmp> {
        self.skip_space();
        let rest = &self.text[self.pos..];
        let (cmp, len) = if rest.starts_with("!=") {
            (Cmp::Ne, 2)
        } else if rest.starts_with(">=") {
            (Cmp::Ge, 2)
        } else if rest.starts_with("<=") {
            (Cmp::Le, 2)
        } else if rest.starts_with('=') {
            (Cmp::Eq, 1)
        } else if rest.starts_with('>') {
            (Cmp::Gt, 1)
        } else if rest.starts_with('<') {
            (Cmp::Lt, 1)
        } else {
            return None;
        };
        self.pos += len;
        Some(cmp)
    }

    /// Consumes `word` if it is the next whole word.
    pub(super) fn keyword(&mut self, word: &str) -> bool {
        self.skip_space();
        if self.peek_word() == Some(word) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    pub(super) fn keyword_or(&mut self, word: &str, message: &str) -> Parsed<()> {
        if self.keyword(word) {
            Ok(())
        } else {
            Err(self.error_at(self.pos, message.into()))
        }
    }

    /// Consumes the punctuation `p` if it comes next.
    pub(super) fn eat(&mut self, p: &str) -> bool {
        self.skip_space();
        if self.text[self.pos..].starts_with(p) {
            self.pos += p.len();
            true
        } else {
            false
        }
    }

    pub(super) fn punct(&mut self, p: &str) -> Parsed<()> {
        self.punct_or(p, &format!("expected \"{p}\""))
    }

    pub(super) fn punct_or(&mut self, p: &str, message: &str) -> Parsed<()> {
        if self.eat(p) {
            Ok(())
        } else {
            Err(self.error_at(self.pos, message.into()))
        }
    }

    /// The bare word starting at the current position, if any.
    pub(super) fn peek_word(&self) -> Option<&'t str> {
        let rest = &self.text[self.pos..];
        if rest.starts_with('-') {
            return None;
        }
        let len = rest.find(|c: char| !is_word_char(c)).unwrap_or(rest.len());
        (len > 0).then(|| &rest[..len])
    }

    pub(super) fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    pub(super) fn skip_space(&mut self) {
        let rest = &self.text[self.pos..];
        self.pos += rest.len() - rest.trim_start().len();
    }

    pub(super) fn expected(&mut self, what: &str) -> ParseError {
        self.skip_space();
        self.error_at(self.pos, format!("expected {what}"))
    }

    pub(super) fn error_at(&self, pos: usize, message: String) -> ParseError {
        let before = &self.text[..pos];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        ParseError {
            line,
            column,
            message,
        }
    }
}

pub(super) fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}
