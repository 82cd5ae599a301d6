//! The rule tree, and its JSON form.
//!
//! A [`Rule`] serializes as an object tagged by `"op"`; optional parts are
//! left out when absent. The shapes, one per node:
//!
//! ```text
//! {"op":"all","rules":[…]}                {"op":"any","rules":[…]}
//! {"op":"not","rule":{…}}
//! {"op":"answered","quiz":"growth","question":"budget","options":["high"]}
//! {"op":"score","quiz":"growth","category":"budget","test":{"between":{"lo":3,"hi":9}}}
//! {"op":"score","quiz":"growth","test":{"compare":{"cmp":">=","value":7}}}
//! {"op":"event","name":"page_viewed","where":[{"prop":"path","value":"/pricing"}],
//!  "count":{"cmp":">=","value":2},"within_days":7}
//! {"op":"never","name":"invited_teammate","within_days":30}
//! {"op":"completed","quiz":"growth","within_days":14}
//! {"op":"attr","key":"plan","test":{"compare":{"cmp":"=","value":"trial"}}}
//! {"op":"attr","key":"role","test":{"in":["cto","vp"]}}      (also "not_in")
//! {"op":"attr","key":"plan","test":{"contains":"trial"}}
//! {"op":"attr","key":"size","test":{"between":{"lo":10,"hi":50}}}
//! {"op":"in_segment","slug":"high-intent"}
//! ```
//!
//! `cmp` is one of `=`, `!=`, `>`, `>=`, `<`, `<=`. Attribute values and
//! event property values are plain JSON strings or numbers (property values
//! may also be `true`/`false`). `where` and `within_days` may be omitted.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One segment rule. See the module docs for the JSON form and SPEC §3 for
/// the meaning of each node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Rule {
    /// True when every rule holds; `all()` holds for everyone.
    All {
        rules: Vec<Rule>,
    },
    /// True when at least one rule holds; `any()` holds for no one.
    Any {
        rules: Vec<Rule>,
    },
    Not {
        rule: Box<Rule>,
    },
    /// The latest session of `quiz` chose one of `options` for `question`.
    /// The text form prints one option as `= option`, several as `in [..]`.
    Answered {
        quiz: String,
        question: String,
        options: Vec<String>,
    },
    /// The overall score (or one category's) of the latest completed session.
    Score {
        quiz: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        category: Option<String>,
        test: NumberTest,
    },
    /// How many matching events the contact has, compared with a count.
    Event {
        name: String,
        #[serde(rename = "where", default, skip_serializing_if = "Vec::is_empty")]
        filters: Vec<PropFilter>,
        count: CountTest,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        within_days: Option<u32>,
    },
    /// No matching event: the same as `event(.., count = 0)`.
    Never {
        name: String,
        #[serde(rename = "where", default, skip_serializing_if = "Vec::is_empty")]
        filters: Vec<PropFilter>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        within_days: Option<u32>,
    },
    /// Some session of `quiz` was completed (inside the window, if any).
    Completed {
        quiz: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        within_days: Option<u32>,
    },
    /// A test on one contact attribute.
    Attr {
        key: String,
        test: AttrTest,
    },
    /// The contact is currently a member of the segment `slug`.
    InSegment {
        slug: String,
    },
}

/// A comparison operator. In JSON it is its symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Cmp {
    #[serde(rename = "=")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
}

/// A test on a score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberTest {
    Compare {
        cmp: Cmp,
        value: Number,
    },
    /// Inclusive at both ends.
    Between {
        lo: Number,
        hi: Number,
    },
}

/// `count CMP n` on an event count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountTest {
    pub cmp: Cmp,
    pub value: u32,
}

/// `prop = value` inside `event(name where ...)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PropFilter {
    pub prop: String,
    pub value: PropValue,
}

/// What an event property is matched against. A string matches only a JSON
/// string equal to it, a number only a JSON number equal to it, a boolean
/// only that JSON boolean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PropValue {
    Bool(bool),
    Number(Number),
    Text(String),
}

/// A test on one attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttrTest {
    Compare {
        cmp: Cmp,
        value: Literal,
    },
    /// Inclusive at both ends.
    Between {
        lo: Literal,
        hi: Literal,
    },
    In(Vec<Literal>),
    NotIn(Vec<Literal>),
    /// Case-insensitive (ASCII) substring test.
    Contains(String),
}

/// A value written in a rule: a string or a number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Literal {
    Number(Number),
    Text(String),
}

/// A finite number. Rules never hold NaN or infinities, so two numbers that
/// print alike are equal.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Number(f64);

/// Milliseconds in one day of a `within Nd` window.
pub const DAY_MS: i64 = 86_400_000;

impl Number {
    /// `None` for NaN and infinities.
    pub fn new(value: f64) -> Option<Number> {
        value.is_finite().then_some(Number(value))
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

impl From<i32> for Number {
    fn from(value: i32) -> Self {
        Number(f64::from(value))
    }
}

impl From<u32> for Number {
    fn from(value: u32) -> Self {
        Number(f64::from(value))
    }
}

impl TryFrom<f64> for Number {
    type Error = &'static str;

    fn try_from(value: f64) -> Result<Self, Self::Error> {
        Number::new(value).ok_or("a rule number must be finite")
    }
}

impl From<Number> for f64 {
    fn from(value: Number) -> Self {
        value.0
    }
}

impl fmt::Display for Number {
    /// Plain decimal digits, never an exponent, and the shortest that reads
    /// back as the same number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Cmp {
    pub const ALL: [Cmp; 6] = [Cmp::Eq, Cmp::Ne, Cmp::Gt, Cmp::Ge, Cmp::Lt, Cmp::Le];

    /// The symbol in the text form and in SQL (`!=` is `<>` in SQL).
    pub fn symbol(self) -> &'static str {
        match self {
            Cmp::Eq => "=",
            Cmp::Ne => "!=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
        }
    }

    /// The symbol people read in explanations: `≥`, `≠`, ...
    pub fn pretty(self) -> &'static str {
        match self {
            Cmp::Eq => "=",
            Cmp::Ne => "≠",
            Cmp::Gt => ">",
            Cmp::Ge => "≥",
            Cmp::Lt => "<",
            Cmp::Le => "≤",
        }
    }

    /// `a CMP b`; false whenever the two do not compare (NaN).
    pub fn holds<T: PartialOrd + ?Sized>(self, a: &T, b: &T) -> bool {
        match self {
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
        }
    }
}

impl Rule {
    /// The node's name as written in the text form (`all`, `in_segment`, ...).
    pub fn op(&self) -> &'static str {
        match self {
            Rule::All { .. } => "all",
            Rule::Any { .. } => "any",
            Rule::Not { .. } => "not",
            Rule::Answered { .. } => "answered",
            Rule::Score { .. } => "score",
            Rule::Event { .. } => "event",
            Rule::Never { .. } => "never",
            Rule::Completed { .. } => "completed",
            Rule::Attr { .. } => "attr",
            Rule::InSegment { .. } => "in_segment",
        }
    }

    /// The direct sub-rules of `all`, `any` and `not`; empty for leaves.
    pub fn children(&self) -> &[Rule] {
        match self {
            Rule::All { rules } | Rule::Any { rules } => rules,
            Rule::Not { rule } => std::slice::from_ref(rule.as_ref()),
            _ => &[],
        }
    }

    /// How deep the tree is: 1 for a leaf.
    pub fn depth(&self) -> usize {
        1 + self.children().iter().map(Rule::depth).max().unwrap_or(0)
    }

    /// Calls `visit` on this node and every node below it, parents first.
    pub fn walk<'r>(&'r self, visit: &mut impl FnMut(&'r Rule)) {
        visit(self);
        for child in self.children() {
            child.walk(visit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn event_rule_has_the_documented_json_shape() {
        let rule = Rule::Event {
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
        };
        let value = serde_json::to_value(&rule).unwrap();
        assert_eq!(
            value,
            json!({"op": "event", "name": "page_viewed",
                   "where": [{"prop": "path", "value": "/pricing"}],
                   "count": {"cmp": ">=", "value": 2}, "within_days": 7})
        );
        assert_eq!(serde_json::from_value::<Rule>(value).unwrap(), rule);
    }

    #[test]
    fn optional_parts_may_be_left_out_of_json() {
        let rule: Rule =
            serde_json::from_value(json!({"op": "never", "name": "invited_teammate"})).unwrap();
        assert_eq!(
            rule,
            Rule::Never {
                name: "invited_teammate".into(),
                filters: vec![],
                within_days: None
            }
        );
    }

    #[test]
    fn attribute_values_are_plain_json_strings_or_numbers() {
        let rule: Rule = serde_json::from_value(
            json!({"op": "attr", "key": "role", "test": {"in": ["cto", 3, 2.5]}}),
        )
        .unwrap();
        assert_eq!(
            rule,
            Rule::Attr {
                key: "role".into(),
                test: AttrTest::In(vec![
                    Literal::Text("cto".into()),
                    Literal::Number(3.into()),
                    Literal::Number(Number::new(2.5).unwrap()),
                ]),
            }
        );
    }

    #[test]
    fn negative_counts_are_not_representable_in_json() {
        let bad = json!({"op": "event", "name": "x", "count": {"cmp": ">=", "value": -1}});
        assert!(serde_json::from_value::<Rule>(bad).is_err());
    }

    #[test]
    fn numbers_are_finite() {
        assert!(Number::new(f64::NAN).is_none());
        assert!(Number::new(f64::INFINITY).is_none());
        assert_eq!(Number::new(2.5).map(Number::get), Some(2.5));
    }

    #[test]
    fn depth_counts_nested_combinators() {
        let leaf = Rule::InSegment { slug: "a".into() };
        let rule = Rule::All {
            rules: vec![
                leaf.clone(),
                Rule::Not {
                    rule: Box::new(leaf.clone()),
                },
            ],
        };
        assert_eq!(leaf.depth(), 1);
        assert_eq!(rule.depth(), 3);
    }
}
