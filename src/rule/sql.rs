//! Compiling a rule to a SQL predicate over all contacts, with the same
//! meaning as [`evaluate`](super::evaluate) (see `eval.rs` for the rules).
//!
//! The predicate is a boolean expression about the contact row aliased `c`:
//! `SELECT c.id FROM contacts c WHERE <sql>`. It is always TRUE or FALSE,
//! never NULL, so it can sit under `NOT`. Every string and number from the
//! rule — property keys too — is a bound parameter `$N`; the SQL text holds
//! only fixed words. Each leaf is one correlated `EXISTS` (or a count capped
//! with `LIMIT`) that starts from the indexed `contact_id` columns.

use super::ast::{AttrTest, Cmp, CountTest, Literal, NumberTest, PropFilter, Rule};
use super::eval::{fold_case, window_start};
use std::fmt::Write;

/// Which database the SQL is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A value to bind to one `$N` placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlParam {
    Text(String),
    /// Bind as a 64-bit integer (`BIGINT`).
    Int(i64),
    /// Bind as a double (`DOUBLE PRECISION`).
    Real(f64),
}

/// A boolean SQL expression about the contact `c`, and what to bind to
/// its placeholders `$first_param`, `$first_param + 1`, ... in order.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlPredicate {
    pub sql: String,
    pub params: Vec<SqlParam>,
}

/// Compiles `rule` as of `now_ms`, numbering placeholders from
/// `first_param` (1 when the predicate is the only thing bound).
pub fn compile(rule: &Rule, dialect: Dialect, now_ms: i64, first_param: usize) -> SqlPredicate {
    let mut compiler = Compiler::new(dialect, now_ms, first_param, None);
    compiler.rule(rule);
    SqlPredicate {
        sql: compiler.sql,
        params: compiler.params,
    }
}

/// A statement selecting `columns` (`count(*)`, say) of the contacts with
/// ids in `lo..=hi` that match `rule`; `lo` and `hi` are placeholders the
/// caller binds, and the rule's are numbered from `first_param`.
///
/// On Postgres each leaf repeats that range on its own table: Postgres
/// turns a leaf's `EXISTS` into a join and does not carry `c.id`'s range
/// over to it, so a count over half the contacts read the leaf's rows of
/// all of them (with the range repeated, the rule-builder preview took 16%
/// less at a million contacts). SQLite searches each leaf by
/// `contact_id = c.id` already, and a second test on that column could
/// only lead it to a worse index.
///
/// A rule that requires an attribute test (at its top or in nested
/// `all`s) is counted over that test's attribute rows rather than over
/// `contacts`: the attributes' key holds at most one row per contact and
/// key, and each row's contact exists, so the rows stand for the
/// contacts. Only the rows that pass the test go on to the rest of the
/// rule, and on Postgres a candidate costs no probe of the contacts' key.
pub fn select_in_range(
    rule: &Rule,
    dialect: Dialect,
    now_ms: i64,
    first_param: usize,
    (lo, hi): (&str, &str),
    columns: &str,
) -> SqlPredicate {
    // Only Postgres needs the range repeated in each leaf (above).
    let leaf_range = (dialect == Dialect::Postgres).then_some((lo, hi));
    let mut compiler = Compiler::new(dialect, now_ms, first_param, leaf_range);
    let (from, in_range) = match required_attr(rule) {
        Some((key, test, rest)) => {
            let rows = compiler.attr_rows(key, test);
            compiler.rule(&rest);
            let from = format!(
                "(SELECT a.contact_id AS id FROM contact_attributes a \
                 WHERE a.contact_id BETWEEN {lo} AND {hi} AND {rows}) c"
            );
            (from, String::new())
        }
        None => {
            compiler.rule(rule);
            let in_range = format!("c.id BETWEEN {lo} AND {hi} AND ");
            ("contacts c".to_string(), in_range)
        }
    };
    SqlPredicate {
        sql: format!(
            "SELECT {columns} FROM {from} WHERE {in_range}{}",
            compiler.sql
        ),
        params: compiler.params,
    }
}

/// An attribute test `rule` cannot hold without (at its top or in nested
/// `all`s), and the rest of the rule; `None` if it has none.
fn required_attr(rule: &Rule) -> Option<(&str, &AttrTest, Rule)> {
    match rule {
        Rule::Attr { key, test } if attr_shape(test) == AttrShape::Exists => {
            Some((key, test, Rule::All { rules: Vec::new() }))
        }
        Rule::All { rules } => rules.iter().enumerate().find_map(|(i, r)| {
            let (key, test, rest) = required_attr(r)?;
            let mut rules = rules.clone();
            rules[i] = rest;
            Some((key, test, Rule::All { rules }))
        }),
        _ => None,
    }
}

const TRUE: &str = "(1 = 1)";
const FALSE: &str = "(1 = 0)";

pub(super) struct Compiler<'a> {
    pub(super) dialect: Dialect,
    now_ms: i64,
    first_param: usize,
    /// Placeholders of the contact range each leaf repeats, if any.
    range: Option<(&'a str, &'a str)>,
    /// The placeholder of `now`, once bound.
    now: Option<String>,
    sql: String,
    params: Vec<SqlParam>,
}

impl<'a> Compiler<'a> {
    fn new(
        dialect: Dialect,
        now_ms: i64,
        first_param: usize,
        range: Option<(&'a str, &'a str)>,
    ) -> Self {
        Compiler {
            dialect,
            now_ms,
            first_param,
            range,
            now: None,
            sql: String::new(),
            params: Vec::new(),
        }
    }

    fn rule(&mut self, rule: &Rule) {
        match rule {
            Rule::All { rules } => self.join(rules, " AND ", TRUE),
            Rule::Any { rules } => self.join(rules, " OR ", FALSE),
            Rule::Not { rule } => {
                self.sql.push_str("(NOT ");
                self.rule(rule);
                self.sql.push(')');
            }
            Rule::Answered {
                quiz,
                question,
                options,
            } => {
                if options.is_empty() {
                    self.sql.push_str(FALSE);
                    return;
                }
                let quiz_id = self.quiz_id(quiz);
                let now = self.now();
                let question = self.text(question);
                let options = self.list(options.iter().map(|o| SqlParam::Text(o.clone())));
                write!(
                    self.sql,
                    "EXISTS (SELECT 1 FROM answers a WHERE a.session_id = \
                     (SELECT s.id FROM quiz_sessions s WHERE s.contact_id = c.id \
                     AND s.quiz_id = {quiz_id} AND s.started_at <= {now} \
                     ORDER BY s.started_at DESC, s.id DESC LIMIT 1) \
                     AND a.question_key = {question} AND (a.option_key IN ({options}) \
                     OR (a.option_key = '' AND a.value_text IN ({options}))))"
                )
                .expect(WRITE_TO_STRING);
            }
            Rule::Score {
                quiz,
                category,
                test,
            } => self.score(quiz, category.as_deref(), test),
            Rule::Event {
                name,
                filters,
                count,
                within_days,
            } => self.event(name, filters, *count, *within_days),
            Rule::Never {
                name,
                filters,
                within_days,
            } => {
                let zero = CountTest {
                    cmp: Cmp::Eq,
                    value: 0,
                };
                self.event(name, filters, zero, *within_days)
            }
            Rule::Completed { quiz, within_days } => {
                let quiz_id = self.quiz_id(quiz);
                let since = self.since("s.completed_at", *within_days);
                let of_contact = self.of_contact("s");
                write!(
                    self.sql,
                    "EXISTS (SELECT 1 FROM quiz_sessions s WHERE {of_contact} \
                     AND s.quiz_id = {quiz_id}{since})"
                )
                .expect(WRITE_TO_STRING);
            }
            Rule::Attr { key, test } => self.attr(key, test),
            Rule::InSegment { slug } => {
                let slug = self.text(slug);
                let of_contact = self.of_contact("m");
                write!(
                    self.sql,
                    "EXISTS (SELECT 1 FROM segment_memberships m WHERE m.segment_id = \
                     (SELECT g.id FROM segments g WHERE g.slug = {slug}) \
                     AND {of_contact} AND m.exited_at IS NULL)"
                )
                .expect(WRITE_TO_STRING);
            }
        }
    }

    fn join(&mut self, rules: &[Rule], op: &str, empty: &str) {
        if rules.is_empty() {
            self.sql.push_str(empty);
            return;
        }
        self.sql.push('(');
        for (i, rule) in rules.iter().enumerate() {
            if i > 0 {
                self.sql.push_str(op);
            }
            self.rule(rule);
        }
        self.sql.push(')');
    }

    fn score(&mut self, quiz: &str, category: Option<&str>, test: &NumberTest) {
        let quiz_id = self.quiz_id(quiz);
        let now = self.now();
        let latest = format!(
            "(SELECT s2.id FROM quiz_sessions s2 WHERE s2.contact_id = c.id \
             AND s2.quiz_id = {quiz_id} AND s2.completed_at <= {now} \
             ORDER BY s2.completed_at DESC, s2.id DESC LIMIT 1)"
        );
        let (from, column) = match category {
            None => (format!("quiz_sessions s WHERE s.id = {latest}"), "s.score"),
            Some(category) => {
                let category = self.text(category);
                let from = format!(
                    "session_category_scores cs WHERE cs.session_id = {latest} \
                     AND cs.category = {category}"
                );
                (from, "cs.score")
            }
        };
        let (negate, condition) = match test {
            NumberTest::Compare { cmp, value } => {
                let (negate, cmp) = positive(*cmp);
                let value = self.real(value.get());
                (negate, format!("{column} {} {value}", sql_op(cmp)))
            }
            NumberTest::Between { lo, hi } => {
                let lo = self.real(lo.get());
                let hi = self.real(hi.get());
                (false, format!("{column} >= {lo} AND {column} <= {hi}"))
            }
        };
        let not = if negate { "NOT " } else { "" };
        write!(
            self.sql,
            "{not}EXISTS (SELECT 1 FROM {from} AND {condition})"
        )
        .expect(WRITE_TO_STRING);
    }

    fn event(&mut self, name: &str, filters: &[PropFilter], count: CountTest, within: Option<u32>) {
        let n = i64::from(count.value);
        enum Shape {
            Always,
            Never,
            AtLeast(i64),
            FewerThan(i64),
            Count,
        }
        let shape = match (count.cmp, n) {
            (Cmp::Ge, 0) => Shape::Always,
            (Cmp::Lt, 0) => Shape::Never,
            (Cmp::Ge, n) => Shape::AtLeast(n),
            (Cmp::Gt, n) => Shape::AtLeast(n + 1),
            (Cmp::Ne, 0) => Shape::AtLeast(1),
            (Cmp::Lt, n) => Shape::FewerThan(n),
            (Cmp::Le, n) => Shape::FewerThan(n + 1),
            (Cmp::Eq, 0) => Shape::FewerThan(1),
            (Cmp::Eq | Cmp::Ne, _) => Shape::Count,
        };
        let rows = match shape {
            Shape::Always => return self.sql.push_str(TRUE),
            Shape::Never => return self.sql.push_str(FALSE),
            _ => self.event_rows(name, filters, within),
        };
        match shape {
            Shape::AtLeast(k) | Shape::FewerThan(k) => {
                let not = match shape {
                    Shape::FewerThan(_) => "NOT ",
                    _ => "",
                };
                // Whether a k-th event exists, rather than a count of up
                // to k: no count to build per contact (a fifth less time
                // for `count >= 3` over a million contacts on SQLite).
                let skip = match k {
                    1 => String::new(),
                    k => format!(" LIMIT 1 OFFSET {}", self.int(k - 1)),
                };
                write!(self.sql, "{not}EXISTS (SELECT 1 {rows}{skip})")
            }
            _ => {
                // Counting past n + 1 cannot change whether the count is
                // n, so stop there.
                let cap = self.int(n + 1);
                let n = self.int(n);
                write!(
                    self.sql,
                    "(SELECT count(*) FROM (SELECT 1 {rows} LIMIT {cap}) t) {} {n}",
                    sql_op(count.cmp)
                )
            }
        }
        .expect(WRITE_TO_STRING);
    }

    /// `FROM events e WHERE ...` for the contact's matching events.
    fn event_rows(&mut self, name: &str, filters: &[PropFilter], within: Option<u32>) -> String {
        let name = self.text(name);
        let since = self.since("e.occurred_at", within);
        let mut rows = format!(
            "FROM events e WHERE {} AND e.name = {name}{since}",
            self.of_contact("e")
        );
        for filter in filters {
            rows.push_str(" AND ");
            let condition = self.property_filter(filter);
            rows.push_str(&condition);
        }
        rows
    }

    fn attr(&mut self, key: &str, test: &AttrTest) {
        let not = match attr_shape(test) {
            AttrShape::Always => return self.sql.push_str(TRUE),
            AttrShape::Never => return self.sql.push_str(FALSE),
            AttrShape::Exists => "",
            AttrShape::Missing => "NOT ",
        };
        let rows = self.attr_rows(key, test);
        let of_contact = self.of_contact("a");
        write!(
            self.sql,
            "{not}EXISTS (SELECT 1 FROM contact_attributes a WHERE {of_contact} AND {rows})"
        )
        .expect(WRITE_TO_STRING);
    }

    /// The condition on an attribute row `a` that makes `test` true, or
    /// (where its shape is [`AttrShape::Missing`]) false.
    fn attr_rows(&mut self, key: &str, test: &AttrTest) -> String {
        let condition = match test {
            AttrTest::Compare { cmp, value } => Some(self.compare(positive(*cmp).1, value)),
            AttrTest::Between { lo, hi } => {
                let lo = self.compare(Cmp::Ge, lo);
                let hi = self.compare(Cmp::Le, hi);
                Some(format!("{lo} AND {hi}"))
            }
            AttrTest::In(values) | AttrTest::NotIn(values) => Some(self.one_of(values)),
            // Every text contains the empty string.
            AttrTest::Contains(needle) if needle.is_empty() => None,
            // A text beyond ASCII has its folded copy stored; lower() does
            // the rest (under the "C" collation on Postgres it folds ASCII
            // only, as SQLite's does, whatever the database's locale).
            AttrTest::Contains(needle) => {
                let needle = self.text(&fold_case(needle));
                Some(match self.dialect {
                    Dialect::Sqlite => format!(
                        "instr(COALESCE(a.value_folded, lower(a.value_text)), {needle}) > 0"
                    ),
                    Dialect::Postgres => format!(
                        "strpos(COALESCE(a.value_folded, lower(a.value_text COLLATE \"C\")), {needle}) > 0"
                    ),
                })
            }
        };
        let key = self.text(key);
        let condition = condition.map_or(String::new(), |c| format!(" AND {c}"));
        format!("a.key = {key}{condition}")
    }

    /// `value CMP literal` on the attribute row `a` (never with `!=`).
    fn compare(&mut self, cmp: Cmp, literal: &Literal) -> String {
        let op = sql_op(cmp);
        match literal {
            Literal::Number(n) => format!("a.value_num {op} {}", self.real(n.get())),
            Literal::Text(s) => {
                let s = self.text(s);
                match (self.dialect, cmp) {
                    // Order strings by bytes, as SQLite and Rust do.
                    (Dialect::Postgres, Cmp::Gt | Cmp::Ge | Cmp::Lt | Cmp::Le) => {
                        format!("a.value_text COLLATE \"C\" {op} {s}")
                    }
                    _ => format!("a.value_text {op} {s}"),
                }
            }
        }
    }

    /// The attribute row `a` equals one of `values`.
    fn one_of(&mut self, values: &[Literal]) -> String {
        let texts: Vec<_> = values
            .iter()
            .filter_map(|v| match v {
                Literal::Text(s) => Some(SqlParam::Text(s.clone())),
                Literal::Number(_) => None,
            })
            .collect();
        let numbers: Vec<_> = values
            .iter()
            .filter_map(|v| match v {
                Literal::Number(n) => Some(SqlParam::Real(n.get())),
                Literal::Text(_) => None,
            })
            .collect();
        let mut parts = Vec::new();
        if !texts.is_empty() {
            parts.push(format!("a.value_text IN ({})", self.list(texts)));
        }
        if !numbers.is_empty() {
            parts.push(format!("a.value_num IN ({})", self.list(numbers)));
        }
        format!("({})", parts.join(" OR "))
    }

    /// ` AND column <= now [AND column >= start]`.
    fn since(&mut self, column: &str, within: Option<u32>) -> String {
        let now = self.now();
        let mut sql = format!(" AND {column} <= {now}");
        if let Some(days) = within {
            let start = self.int(window_start(self.now_ms, days));
            write!(sql, " AND {column} >= {start}").expect(WRITE_TO_STRING);
        }
        sql
    }

    fn quiz_id(&mut self, slug: &str) -> String {
        let slug = self.text(slug);
        format!("(SELECT q.id FROM quizzes q WHERE q.slug = {slug})")
    }

    /// The leaf table's rows of the contact `c`.
    fn of_contact(&self, alias: &str) -> String {
        let column = format!("{alias}.contact_id");
        match &self.range {
            None => format!("{column} = c.id"),
            Some((lo, hi)) => format!("{column} = c.id AND {column} BETWEEN {lo} AND {hi}"),
        }
    }

    fn now(&mut self) -> String {
        if let Some(now) = &self.now {
            return now.clone();
        }
        let now = self.int(self.now_ms);
        self.now = Some(now.clone());
        now
    }

    fn list(&mut self, params: impl IntoIterator<Item = SqlParam>) -> String {
        let placeholders: Vec<String> = params.into_iter().map(|p| self.bind(p)).collect();
        placeholders.join(", ")
    }

    pub(super) fn text(&mut self, value: &str) -> String {
        self.bind(SqlParam::Text(value.to_string()))
    }

    fn int(&mut self, value: i64) -> String {
        self.bind(SqlParam::Int(value))
    }

    pub(super) fn real(&mut self, value: f64) -> String {
        self.bind(SqlParam::Real(value))
    }

    /// The placeholder for a new parameter; on Postgres with its type
    /// spelled out, so every operator and overload resolves the same way.
    fn bind(&mut self, param: SqlParam) -> String {
        let n = self.first_param + self.params.len();
        let cast = match (self.dialect, &param) {
            (Dialect::Sqlite, _) => "",
            (Dialect::Postgres, SqlParam::Text(_)) => "::text",
            (Dialect::Postgres, SqlParam::Int(_)) => "::bigint",
            (Dialect::Postgres, SqlParam::Real(_)) => "::double precision",
        };
        self.params.push(param);
        format!("${n}{cast}")
    }
}

pub(super) const WRITE_TO_STRING: &str = "writing to a String cannot fail";

/// What an attribute test asks of a contact's row for its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AttrShape {
    /// True of every contact.
    Always,
    /// True of none.
    Never,
    /// True when a row meets [`Compiler::attr_rows`].
    Exists,
    /// True when no row does.
    Missing,
}

fn attr_shape(test: &AttrTest) -> AttrShape {
    match test {
        AttrTest::In(values) if values.is_empty() => AttrShape::Never,
        AttrTest::NotIn(values) if values.is_empty() => AttrShape::Always,
        AttrTest::Compare { cmp: Cmp::Ne, .. } | AttrTest::NotIn(_) => AttrShape::Missing,
        _ => AttrShape::Exists,
    }
}

/// `!=` as `NOT (=)`, so a missing value makes it true; other comparisons
/// as they are.
fn positive(cmp: Cmp) -> (bool, Cmp) {
    match cmp {
        Cmp::Ne => (true, Cmp::Eq),
        other => (false, other),
    }
}

fn sql_op(cmp: Cmp) -> &'static str {
    match cmp {
        Cmp::Ne => "<>",
        other => other.symbol(),
    }
}

#[cfg(test)]
#[path = "sql_tests.rs"]
mod tests;
