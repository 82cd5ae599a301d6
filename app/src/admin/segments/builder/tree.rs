//! Editing a rule tree where the builder points: a node is found by its
//! path, the child indices from the root through `all`/`any`/`not` (the
//! same paths a [`quizfunnel::rule::RuleProblem`] names). Plain functions,
//! so the builder's edits are tested without a browser.

use super::super::api::BuilderCatalog;
use quizfunnel::rule::{AttrTest, Cmp, CountTest, Literal, Number, NumberTest, Rule};

/// How a group combines its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    All,
    Any,
    Not,
}

/// The kinds of condition the dropdowns can build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Answered,
    Score,
    Completed,
    Event,
    Never,
    Attr,
    InSegment,
}

/// What the builder draws for a tree, without the values in it: the page
/// is rebuilt only when this changes, so editing a value keeps the focus.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Group(GroupKind, Vec<Shape>),
    Condition(Kind),
    /// A condition the dropdowns cannot show without losing part of it
    /// (event property filters, say): shown as its text, kept as it is.
    Fixed,
}

impl GroupKind {
    pub const ALL: [GroupKind; 3] = [GroupKind::All, GroupKind::Any, GroupKind::Not];

    pub fn value(self) -> &'static str {
        match self {
            GroupKind::All => "all",
            GroupKind::Any => "any",
            GroupKind::Not => "not",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            GroupKind::All => "all of these (AND)",
            GroupKind::Any => "any of these (OR)",
            GroupKind::Not => "not this",
        }
    }

    pub fn from_value(value: &str) -> Option<GroupKind> {
        GroupKind::ALL.into_iter().find(|k| k.value() == value)
    }

    fn of(rule: &Rule) -> Option<GroupKind> {
        match rule {
            Rule::All { .. } => Some(GroupKind::All),
            Rule::Any { .. } => Some(GroupKind::Any),
            Rule::Not { .. } => Some(GroupKind::Not),
            _ => None,
        }
    }
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Completed,
        Kind::Score,
        Kind::Answered,
        Kind::Event,
        Kind::Never,
        Kind::Attr,
        Kind::InSegment,
    ];

    /// The rule's own word for it, as the select's value.
    pub fn value(self) -> &'static str {
        match self {
            Kind::Answered => "answered",
            Kind::Score => "score",
            Kind::Completed => "completed",
            Kind::Event => "event",
            Kind::Never => "never",
            Kind::Attr => "attr",
            Kind::InSegment => "in_segment",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Answered => "answered a question",
            Kind::Score => "quiz score",
            Kind::Completed => "completed a quiz",
            Kind::Event => "did something (event)",
            Kind::Never => "never did something",
            Kind::Attr => "contact attribute",
            Kind::InSegment => "in another segment",
        }
    }

    pub fn from_value(value: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.value() == value)
    }
}

/// The builder's picture of a rule.
pub fn shape(rule: &Rule) -> Shape {
    match rule {
        Rule::All { rules } => Shape::Group(GroupKind::All, rules.iter().map(shape).collect()),
        Rule::Any { rules } => Shape::Group(GroupKind::Any, rules.iter().map(shape).collect()),
        Rule::Not { rule } => Shape::Group(GroupKind::Not, vec![shape(rule)]),
        Rule::Answered { .. } => Shape::Condition(Kind::Answered),
        Rule::Score { .. } => Shape::Condition(Kind::Score),
        Rule::Completed { .. } => Shape::Condition(Kind::Completed),
        Rule::Event { filters, .. } | Rule::Never { filters, .. } if !filters.is_empty() => {
            Shape::Fixed
        }
        Rule::Event { .. } => Shape::Condition(Kind::Event),
        Rule::Never { .. } => Shape::Condition(Kind::Never),
        // A comma inside a listed value would split when edited as a list.
        Rule::Attr {
            test: AttrTest::In(values) | AttrTest::NotIn(values),
            ..
        } if values
            .iter()
            .any(|v| matches!(v, Literal::Text(t) if t.contains(','))) =>
        {
            Shape::Fixed
        }
        Rule::Attr { .. } => Shape::Condition(Kind::Attr),
        Rule::InSegment { .. } => Shape::Condition(Kind::InSegment),
    }
}

pub fn node_at<'r>(rule: &'r Rule, path: &[usize]) -> Option<&'r Rule> {
    match path.split_first() {
        None => Some(rule),
        Some((&i, rest)) => node_at(rule.children().get(i)?, rest),
    }
}

pub fn node_at_mut<'r>(rule: &'r mut Rule, path: &[usize]) -> Option<&'r mut Rule> {
    let Some((&i, rest)) = path.split_first() else {
        return Some(rule);
    };
    let child = match rule {
        Rule::All { rules } | Rule::Any { rules } => rules.get_mut(i)?,
        Rule::Not { rule } if i == 0 => rule.as_mut(),
        _ => return None,
    };
    node_at_mut(child, rest)
}

/// Puts `new` where `path` points; false when nothing is there.
pub fn replace(rule: &mut Rule, path: &[usize], new: Rule) -> bool {
    match node_at_mut(rule, path) {
        Some(node) => {
            *node = new;
            true
        }
        None => false,
    }
}

/// Adds `child` at the end of the `all`/`any` group at `path`; a single
/// condition there becomes `all(condition, child)`. False for `not`,
/// which holds one part only, and for a path that leads nowhere.
pub fn add(rule: &mut Rule, path: &[usize], child: Rule) -> bool {
    let Some(node) = node_at_mut(rule, path) else {
        return false;
    };
    match node {
        Rule::All { rules } | Rule::Any { rules } => rules.push(child),
        Rule::Not { .. } => return false,
        leaf => {
            let first = std::mem::replace(leaf, Rule::All { rules: vec![] });
            *leaf = Rule::All {
                rules: vec![first, child],
            };
        }
    }
    true
}

/// The tree without the node at `path`, or `None` when nothing is left.
/// A `not` cannot stand empty, so removing its part removes it too.
pub fn remove(mut rule: Rule, path: &[usize]) -> Option<Rule> {
    let (&last, parent_path) = path.split_last()?;
    match node_at_mut(&mut rule, parent_path) {
        Some(Rule::All { rules } | Rule::Any { rules }) if last < rules.len() => {
            rules.remove(last);
            Some(rule)
        }
        Some(Rule::Not { .. }) => remove(rule, parent_path),
        _ => Some(rule),
    }
}

/// The group `node` as another kind, keeping its parts. `not` of several
/// parts keeps them in their group, so that changing back gives the same
/// group again.
pub fn with_group_kind(node: Rule, kind: GroupKind) -> Rule {
    if GroupKind::of(&node) == Some(kind) {
        return node;
    }
    match (node, kind) {
        (Rule::All { mut rules } | Rule::Any { mut rules }, GroupKind::Not) if rules.len() == 1 => {
            Rule::Not {
                rule: Box::new(rules.remove(0)),
            }
        }
        (Rule::Not { rule }, kind) => {
            let parts = match *rule {
                Rule::All { rules } | Rule::Any { rules } => rules,
                other => vec![other],
            };
            group(kind, parts)
        }
        (other, GroupKind::Not) => Rule::Not {
            rule: Box::new(other),
        },
        (Rule::All { rules } | Rule::Any { rules }, kind) => group(kind, rules),
        (leaf, kind) => group(kind, vec![leaf]),
    }
}

/// A new group of this kind around `parts` (a `not` of several wraps them
/// in `all`).
pub fn group(kind: GroupKind, mut parts: Vec<Rule>) -> Rule {
    match kind {
        GroupKind::All => Rule::All { rules: parts },
        GroupKind::Any => Rule::Any { rules: parts },
        GroupKind::Not if parts.len() == 1 => Rule::Not {
            rule: Box::new(parts.remove(0)),
        },
        GroupKind::Not => Rule::Not {
            rule: Box::new(Rule::All { rules: parts }),
        },
    }
}

/// The tests a score condition offers, by the select's value.
pub const NUMBER_TESTS: [&str; 7] = ["=", "!=", ">", ">=", "<", "<=", "between"];

/// The tests an attribute condition offers: (the select's value, its words).
pub const ATTR_TESTS: [(&str, &str); 10] = [
    ("=", "="),
    ("!=", "≠"),
    (">", ">"),
    (">=", "≥"),
    ("<", "<"),
    ("<=", "≤"),
    ("contains", "contains"),
    ("in", "is one of"),
    ("not in", "is none of"),
    ("between", "between"),
];

pub fn cmp_from_symbol(symbol: &str) -> Option<Cmp> {
    Cmp::ALL.into_iter().find(|c| c.symbol() == symbol)
}

pub fn number_test_op(test: &NumberTest) -> &'static str {
    match test {
        NumberTest::Compare { cmp, .. } => cmp.symbol(),
        NumberTest::Between { .. } => "between",
    }
}

/// `test` turned into the test `op`, keeping its number(s).
pub fn number_test_as(test: &NumberTest, op: &str) -> Option<NumberTest> {
    let (lo, hi) = match *test {
        NumberTest::Compare { value, .. } => (value, value),
        NumberTest::Between { lo, hi } => (lo, hi),
    };
    if op == "between" {
        return Some(NumberTest::Between { lo, hi });
    }
    Some(NumberTest::Compare {
        cmp: cmp_from_symbol(op)?,
        value: lo,
    })
}

pub fn attr_test_op(test: &AttrTest) -> &'static str {
    match test {
        AttrTest::Compare { cmp, .. } => cmp.symbol(),
        AttrTest::Between { .. } => "between",
        AttrTest::In(_) => "in",
        AttrTest::NotIn(_) => "not in",
        AttrTest::Contains(_) => "contains",
    }
}

/// `test` turned into the test `op`, keeping what it compared with.
pub fn attr_test_as(test: &AttrTest, op: &str) -> Option<AttrTest> {
    let first = match test {
        AttrTest::Compare { value, .. } => value.clone(),
        AttrTest::Between { lo, .. } => lo.clone(),
        AttrTest::In(values) | AttrTest::NotIn(values) => values
            .first()
            .cloned()
            .unwrap_or_else(|| Literal::Text(String::new())),
        AttrTest::Contains(needle) => Literal::Text(needle.clone()),
    };
    let list = match test {
        AttrTest::In(values) | AttrTest::NotIn(values) => values.clone(),
        _ => vec![first.clone()],
    };
    Some(match op {
        "contains" => AttrTest::Contains(match first {
            Literal::Text(t) => t,
            Literal::Number(n) => n.to_string(),
        }),
        "in" => AttrTest::In(list),
        "not in" => AttrTest::NotIn(list),
        "between" => match test {
            AttrTest::Between { .. } => test.clone(),
            _ => AttrTest::Between {
                lo: first.clone(),
                hi: first,
            },
        },
        symbol => AttrTest::Compare {
            cmp: cmp_from_symbol(symbol)?,
            value: first,
        },
    })
}

/// A new condition of this kind naming the first fitting thing that
/// exists, so that it reads (and counts) at once; empty names where
/// nothing fits yet, which the preview then points out.
pub fn new_condition(kind: Kind, catalog: &BuilderCatalog, own_slug: Option<&str>) -> Rule {
    let quiz = || {
        catalog
            .quizzes
            .first()
            .map(|q| q.slug.clone())
            .unwrap_or_default()
    };
    let event = || catalog.events.first().cloned().unwrap_or_default();
    match kind {
        Kind::Completed => Rule::Completed {
            quiz: quiz(),
            within_days: None,
        },
        Kind::Score => Rule::Score {
            quiz: quiz(),
            category: None,
            test: NumberTest::Compare {
                cmp: Cmp::Ge,
                value: Number::from(1),
            },
        },
        Kind::Answered => {
            let answerable = catalog.quizzes.iter().find_map(|q| {
                let question = q.questions.iter().find(|qu| !qu.options.is_empty())?;
                Some((q.slug.clone(), question))
            });
            match answerable {
                Some((quiz, question)) => Rule::Answered {
                    quiz,
                    question: question.key.clone(),
                    options: question
                        .options
                        .iter()
                        .take(1)
                        .map(|o| o.key.clone())
                        .collect(),
                },
                None => Rule::Answered {
                    quiz: quiz(),
                    question: String::new(),
                    options: vec![],
                },
            }
        }
        Kind::Event => Rule::Event {
            name: event(),
            filters: vec![],
            count: CountTest {
                cmp: Cmp::Ge,
                value: 1,
            },
            within_days: None,
        },
        Kind::Never => Rule::Never {
            name: event(),
            filters: vec![],
            within_days: None,
        },
        Kind::Attr => Rule::Attr {
            key: catalog.attributes.first().cloned().unwrap_or_default(),
            test: AttrTest::Compare {
                cmp: Cmp::Eq,
                value: Literal::Text(String::new()),
            },
        },
        Kind::InSegment => Rule::InSegment {
            slug: catalog
                .segments
                .iter()
                .map(|s| s.slug.as_str())
                .find(|s| Some(*s) != own_slug)
                .unwrap_or_default()
                .to_string(),
        },
    }
}

/// A value as typed: a number when it reads as one, text otherwise; quotes
/// around it make it text whatever it holds (`"50"`).
pub fn literal_from_input(input: &str) -> Literal {
    let input = input.trim();
    if let Some(inner) = input
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    {
        return Literal::Text(inner.to_string());
    }
    match number_from_input(input) {
        Some(n) => Literal::Number(n),
        None => Literal::Text(input.to_string()),
    }
}

/// How a value is shown for editing, so that [`literal_from_input`] reads
/// it back the same: text that would read as a number is quoted.
pub fn literal_to_input(literal: &Literal) -> String {
    match literal {
        Literal::Number(n) => n.to_string(),
        Literal::Text(t) => {
            if literal_from_input(t) == *literal {
                t.clone()
            } else {
                format!("\"{t}\"")
            }
        }
    }
}

/// Values typed as a list, separated by commas.
pub fn literals_from_input(input: &str) -> Vec<Literal> {
    input
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(literal_from_input)
        .collect()
}

pub fn literals_to_input(values: &[Literal]) -> String {
    values
        .iter()
        .map(literal_to_input)
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn number_from_input(input: &str) -> Option<Number> {
    let input = input.trim();
    // Rust reads "inf" and "NaN" as numbers; people mean words by them.
    if !input.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.') {
        return None;
    }
    input.parse::<f64>().ok().and_then(Number::new)
}

/// A window as typed: empty for ever, else whole days. `None` when it
/// reads as neither.
pub fn window_from_input(input: &str) -> Option<Option<u32>> {
    let input = input.trim();
    if input.is_empty() {
        Some(None)
    } else {
        input.parse::<u32>().ok().map(Some)
    }
}

/// A node's position as people count: `2.1` is the first part of the
/// second part. The top is `1`, whether a condition or the top group.
pub fn position(path: &[usize]) -> String {
    if path.is_empty() {
        return "1".into();
    }
    path.iter()
        .map(|i| (i + 1).to_string())
        .collect::<Vec<_>>()
        .join(".")
}

/// An element id unique to a node and one of its controls.
pub fn dom_id(path: &[usize], control: &str) -> String {
    let mut id = String::from("cond");
    for i in path {
        id.push('-');
        id.push_str(&i.to_string());
    }
    id.push('-');
    id.push_str(control);
    id
}

#[cfg(test)]
mod tests {
    use super::super::super::api::{OptionChoice, QuestionChoice, QuizChoice, SegmentChoice};
    use super::*;
    use quizfunnel::rule::QuestionKind;

    fn rule(text: &str) -> Rule {
        Rule::parse(text).unwrap()
    }

    fn catalog() -> BuilderCatalog {
        BuilderCatalog {
            quizzes: vec![QuizChoice {
                slug: "growth".into(),
                title: "Growth check".into(),
                questions: vec![
                    QuestionChoice {
                        key: "urgency".into(),
                        prompt: "How urgent?".into(),
                        kind: QuestionKind::Scale,
                        options: vec![],
                    },
                    QuestionChoice {
                        key: "budget".into(),
                        prompt: "Budget?".into(),
                        kind: QuestionKind::Single,
                        options: vec![
                            OptionChoice {
                                key: "low".into(),
                                label: "Low".into(),
                            },
                            OptionChoice {
                                key: "high".into(),
                                label: "High".into(),
                            },
                        ],
                    },
                ],
                categories: vec!["budget".into()],
            }],
            events: vec!["page_viewed".into()],
            attributes: vec!["plan".into()],
            segments: vec![
                SegmentChoice {
                    slug: "hot".into(),
                    name: "Hot".into(),
                },
                SegmentChoice {
                    slug: "warm".into(),
                    name: "Warm".into(),
                },
            ],
        }
    }

    #[test]
    fn a_path_leads_through_groups_and_not() {
        let r = rule("all(completed(growth), not(any(never(x), in_segment(hot))))");
        assert_eq!(node_at(&r, &[]), Some(&r));
        assert_eq!(node_at(&r, &[1, 0, 1]), Some(&rule("in_segment(hot)")));
        assert_eq!(node_at(&r, &[2]), None);
        assert_eq!(node_at(&r, &[0, 0]), None, "a condition has no parts");
    }

    #[test]
    fn replacing_a_node_keeps_the_rest() {
        let mut r = rule("all(completed(growth), not(never(x)))");
        assert!(replace(&mut r, &[1, 0], rule("in_segment(hot)")));
        assert_eq!(r, rule("all(completed(growth), not(in_segment(hot)))"));
        assert!(!replace(&mut r, &[5], rule("in_segment(hot)")));
    }

    #[test]
    fn adding_goes_to_the_end_of_a_group_and_turns_a_condition_into_one() {
        let mut r = rule("all(completed(growth), any())");
        assert!(add(&mut r, &[1], rule("never(x)")));
        assert!(add(&mut r, &[], rule("in_segment(hot)")));
        assert_eq!(
            r,
            rule("all(completed(growth), any(never(x)), in_segment(hot))")
        );
        let mut single = rule("completed(growth)");
        assert!(add(&mut single, &[], rule("never(x)")));
        assert_eq!(single, rule("all(completed(growth), never(x))"));
        let mut not = rule("not(never(x))");
        assert!(!add(&mut not, &[], rule("never(y)")), "not holds one part");
    }

    #[test]
    fn removing_a_part_of_not_removes_the_not() {
        let r = rule("all(completed(growth), not(never(x)), in_segment(hot))");
        assert_eq!(
            remove(r.clone(), &[1, 0]),
            Some(rule("all(completed(growth), in_segment(hot))"))
        );
        assert_eq!(
            remove(r.clone(), &[0]),
            Some(rule("all(not(never(x)), in_segment(hot))"))
        );
        assert_eq!(remove(r, &[]), None, "removing the top leaves nothing");
        assert_eq!(remove(rule("not(never(x))"), &[0]), None);
    }

    #[test]
    fn changing_a_group_kind_keeps_its_parts_and_changes_back() {
        let both = rule("all(completed(growth), never(x))");
        let any = with_group_kind(both.clone(), GroupKind::Any);
        assert_eq!(any, rule("any(completed(growth), never(x))"));
        let not = with_group_kind(both.clone(), GroupKind::Not);
        assert_eq!(not, rule("not(all(completed(growth), never(x)))"));
        assert_eq!(with_group_kind(not, GroupKind::All), both);
        let one = with_group_kind(rule("any(never(x))"), GroupKind::Not);
        assert_eq!(one, rule("not(never(x))"));
        assert_eq!(with_group_kind(one, GroupKind::Any), rule("any(never(x))"));
        assert_eq!(with_group_kind(both.clone(), GroupKind::All), both);
    }

    #[test]
    fn event_filters_and_comma_values_are_kept_as_text() {
        let r = rule(
            r#"all(event(page_viewed where path = "/pricing", count >= 2), never(x), attr(role) in ["a, b"], attr(role) in ["a", "b"])"#,
        );
        assert_eq!(
            shape(&r),
            Shape::Group(
                GroupKind::All,
                vec![
                    Shape::Fixed,
                    Shape::Condition(Kind::Never),
                    Shape::Fixed,
                    Shape::Condition(Kind::Attr),
                ]
            )
        );
        assert_eq!(
            shape(&rule("not(completed(growth))")),
            Shape::Group(GroupKind::Not, vec![Shape::Condition(Kind::Completed)])
        );
    }

    #[test]
    fn a_shape_ignores_values_so_editing_them_rebuilds_nothing() {
        assert_eq!(
            shape(&rule("all(score(growth) >= 7)")),
            shape(&rule("all(score(other, budget) between 1 and 2)"))
        );
    }

    #[test]
    fn new_conditions_name_what_exists() {
        let c = catalog();
        let new = |kind| new_condition(kind, &c, Some("hot")).to_string();
        assert_eq!(new(Kind::Completed), "completed(growth)");
        assert_eq!(new(Kind::Score), "score(growth) >= 1");
        assert_eq!(new(Kind::Answered), "answered(growth.budget = low)");
        assert_eq!(new(Kind::Event), "event(page_viewed, count >= 1)");
        assert_eq!(new(Kind::Never), "never(page_viewed)");
        assert_eq!(new(Kind::Attr), r#"attr(plan) = """#);
        assert_eq!(new(Kind::InSegment), "in_segment(warm)", "never itself");
        for kind in Kind::ALL {
            assert_eq!(
                shape(&new_condition(kind, &c, None)),
                Shape::Condition(kind)
            );
            assert_eq!(Kind::from_value(kind.value()), Some(kind));
        }
    }

    #[test]
    fn with_nothing_to_name_new_conditions_still_read() {
        for kind in Kind::ALL {
            let new = new_condition(kind, &BuilderCatalog::default(), None);
            assert_eq!(Rule::parse(&new.to_string()), Ok(new));
        }
    }

    #[test]
    fn typed_values_are_numbers_when_they_read_as_numbers() {
        assert_eq!(literal_from_input(" 50 "), Literal::Number(50.into()));
        assert_eq!(literal_from_input("trial"), Literal::Text("trial".into()));
        assert_eq!(literal_from_input("\"50\""), Literal::Text("50".into()));
        assert_eq!(literal_from_input("inf"), Literal::Text("inf".into()));
        for literal in [
            Literal::Text("50".into()),
            Literal::Text("\"quoted\"".into()),
            Literal::Text("trial".into()),
            Literal::Text(String::new()),
            Literal::Number(Number::new(2.5).unwrap()),
        ] {
            assert_eq!(literal_from_input(&literal_to_input(&literal)), literal);
        }
        let list = literals_from_input("cto, 3, , \"7\"");
        assert_eq!(
            list,
            [
                Literal::Text("cto".into()),
                Literal::Number(3.into()),
                Literal::Text("7".into())
            ]
        );
        assert_eq!(literals_to_input(&list), "cto, 3, \"7\"");
    }

    #[test]
    fn windows_are_whole_days_or_ever() {
        assert_eq!(window_from_input(" "), Some(None));
        assert_eq!(window_from_input("14"), Some(Some(14)));
        assert_eq!(window_from_input("1.5"), None);
        assert_eq!(number_from_input("7.5").map(Number::get), Some(7.5));
        assert_eq!(number_from_input("NaN"), None);
    }

    #[test]
    fn positions_count_from_one_and_ids_differ_by_path() {
        assert_eq!(position(&[]), "1");
        assert_eq!(position(&[1, 0]), "2.1");
        assert_ne!(dom_id(&[1, 0], "kind"), dom_id(&[10], "kind"));
        assert_eq!(dom_id(&[], "kind"), "cond-kind");
    }

    #[test]
    fn changing_a_test_keeps_what_it_compares_with() {
        let ge = NumberTest::Compare {
            cmp: Cmp::Ge,
            value: 7.into(),
        };
        let between = number_test_as(&ge, "between").unwrap();
        assert_eq!(
            between,
            NumberTest::Between {
                lo: 7.into(),
                hi: 7.into()
            }
        );
        assert_eq!(number_test_as(&between, ">="), Some(ge.clone()));
        assert_eq!(number_test_as(&ge, "about"), None);
        for op in NUMBER_TESTS {
            assert_eq!(number_test_op(&number_test_as(&ge, op).unwrap()), op);
        }

        let trial = AttrTest::Compare {
            cmp: Cmp::Eq,
            value: Literal::Text("trial".into()),
        };
        assert_eq!(
            attr_test_as(&trial, "in"),
            Some(AttrTest::In(vec![Literal::Text("trial".into())]))
        );
        assert_eq!(
            attr_test_as(&trial, "contains"),
            Some(AttrTest::Contains("trial".into()))
        );
        let many = AttrTest::In(vec![Literal::Text("a".into()), Literal::Text("b".into())]);
        assert_eq!(
            attr_test_as(&many, "not in"),
            Some(AttrTest::NotIn(vec![
                Literal::Text("a".into()),
                Literal::Text("b".into())
            ]))
        );
        for (op, _) in ATTR_TESTS {
            assert_eq!(attr_test_op(&attr_test_as(&trial, op).unwrap()), op);
        }
    }
}
