//! How each database reads one event property for `where prop = value`:
//! a JSON string matches a string, a JSON number a number, a JSON boolean
//! a boolean, and nothing else matches (see `eval.rs`).

use super::ast::{PropFilter, PropValue};
use super::print::is_bare_name;
use super::sql::{Compiler, Dialect, WRITE_TO_STRING};
use std::fmt::Write;

impl Compiler<'_> {
    /// The condition on the event row `e` for one filter.
    pub(super) fn property_filter(&mut self, filter: &PropFilter) -> String {
        let PropFilter { prop, value } = filter;
        match self.dialect {
            Dialect::Sqlite if is_bare_name(prop) => {
                // A bare name has no characters that a JSON path would need
                // quoted, so `$."name"` addresses exactly that key.
                let path = self.text(&format!("$.\"{prop}\""));
                let (kind, value) = self.sqlite_type_and_value(value);
                let mut sql = format!("(json_type(e.properties, {path}) {kind}");
                if let Some(value) = value {
                    write!(sql, " AND json_extract(e.properties, {path}) = {value}")
                        .expect(WRITE_TO_STRING);
                }
                sql.push(')');
                sql
            }
            // Any other key, matched exactly among the object's own keys.
            Dialect::Sqlite => {
                let key = self.text(prop);
                let (kind, value) = self.sqlite_type_and_value(value);
                let value = value.map_or(String::new(), |v| format!(" AND p.atom = {v}"));
                format!(
                    "EXISTS (SELECT 1 FROM json_each(e.properties) p \
                     WHERE p.key = {key} AND p.type {kind}{value})"
                )
            }
            Dialect::Postgres => {
                let key = self.text(prop);
                match value {
                    PropValue::Text(s) => {
                        let s = self.text(s);
                        format!(
                            "(jsonb_typeof(e.properties -> {key}) = 'string' \
                             AND e.properties ->> {key} = {s})"
                        )
                    }
                    // CASE keeps the cast away from values that are not numbers.
                    PropValue::Number(n) => {
                        let n = self.real(n.get());
                        format!(
                            "(CASE WHEN jsonb_typeof(e.properties -> {key}) = 'number' \
                             THEN (e.properties ->> {key})::double precision = {n} ELSE FALSE END)"
                        )
                    }
                    PropValue::Bool(b) => format!("(e.properties -> {key} = '{b}'::jsonb)"),
                }
            }
        }
    }

    /// The test on SQLite's `json_type` for this kind of value, and the
    /// placeholder the extracted value must equal (none for booleans).
    fn sqlite_type_and_value(&mut self, value: &PropValue) -> (&'static str, Option<String>) {
        match value {
            PropValue::Text(s) => ("= 'text'", Some(self.text(s))),
            PropValue::Number(n) => ("IN ('integer', 'real')", Some(self.real(n.get()))),
            PropValue::Bool(true) => ("= 'true'", None),
            PropValue::Bool(false) => ("= 'false'", None),
        }
    }
}
