//! Specifications of the SQL text the compiler writes; what it means is
//! checked against real databases in `sql_agreement_tests.rs`.

use super::*;
use crate::rule::parse_rule;

fn sqlite(text: &str) -> SqlPredicate {
    compile(&parse_rule(text).unwrap(), Dialect::Sqlite, 1_000, 1)
}

#[test]
fn user_text_never_reaches_the_sql() {
    let evil = r#"all(attr("x'; DROP TABLE contacts; --") = "'; DELETE FROM events; --",
        event("e'--" where "k'\"--" = "'--" and plain = "'--"), in_segment("s'--"),
        answered("q'--"."k'--" = "o'--"), score("q'--", "c'--") >= 1)"#;
    for dialect in [Dialect::Sqlite, Dialect::Postgres] {
        let predicate = compile(&parse_rule(evil).unwrap(), dialect, 0, 1);
        assert!(!predicate.sql.contains("--"), "{}", predicate.sql);
        assert!(!predicate.sql.contains("DROP"), "{}", predicate.sql);
    }
}

#[test]
fn placeholders_count_from_the_first_parameter_and_now_is_bound_once() {
    let predicate = compile(
        &parse_rule("all(completed(growth), never(x))").unwrap(),
        Dialect::Sqlite,
        1_000,
        3,
    );
    assert_eq!(
        predicate.params,
        vec![
            SqlParam::Text("growth".into()),
            SqlParam::Int(1_000),
            SqlParam::Text("x".into()),
        ]
    );
    assert!(predicate.sql.contains("q.slug = $3"));
    assert_eq!(predicate.sql.matches("$4").count(), 2);
    assert!(predicate.sql.contains("e.name = $5"));
}

#[test]
fn at_least_once_is_an_exists_and_never_is_a_not_exists() {
    assert!(
        sqlite("event(x, count >= 1)")
            .sql
            .starts_with("EXISTS (SELECT 1 FROM events e")
    );
    assert!(
        sqlite("never(x)")
            .sql
            .starts_with("NOT EXISTS (SELECT 1 FROM events e")
    );
    assert!(
        sqlite("event(x, count >= 3)")
            .sql
            .starts_with("EXISTS (SELECT 1 FROM events e")
    );
    assert!(
        sqlite("event(x, count >= 3)")
            .sql
            .ends_with("LIMIT 1 OFFSET $3)")
    );
    assert!(
        sqlite("event(x, count <= 2)")
            .sql
            .starts_with("NOT EXISTS (SELECT 1 FROM events e")
    );
    assert!(
        sqlite("event(x, count = 3)")
            .sql
            .contains("LIMIT $3) t) = $4")
    );
}

#[test]
fn windows_bound_the_indexed_time_column_from_both_sides() {
    let predicate = sqlite("event(x, within 1d)");
    assert!(
        predicate
            .sql
            .contains("e.occurred_at <= $2 AND e.occurred_at >= $3")
    );
    assert_eq!(predicate.params[2], SqlParam::Int(1_000 - 86_400_000));
}

#[test]
fn postgres_placeholders_carry_their_types() {
    let predicate = compile(
        &parse_rule("score(growth) >= 7").unwrap(),
        Dialect::Postgres,
        0,
        1,
    );
    assert!(predicate.sql.contains("$1::text"));
    assert!(predicate.sql.contains("$2::bigint"));
    assert!(predicate.sql.contains("s.score >= $3::double precision"));
}

#[test]
fn a_required_attribute_is_counted_from_its_rows() {
    let from = |dialect, text: &str| {
        let query = select_in_range(
            &parse_rule(text).unwrap(),
            dialect,
            0,
            3,
            ("$1", "$2"),
            "count(*)",
        );
        let from = query.sql.split_once(" FROM ").unwrap().1;
        from.split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let attribute_rows = "(SELECT a.contact_id";
    for required in [
        r#"attr(country) in ["US", "CA"]"#,
        r#"all(never(x), all(completed(growth), attr(plan) contains "pro"))"#,
        "all(attr(size) between 1 and 9, not(attr(size) = 5))",
    ] {
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            assert_eq!(from(dialect, required), attribute_rows, "{required}");
        }
    }
    // Each of these can hold for a contact without the attribute.
    for optional in [
        r#"any(attr(plan) = "trial", never(x))"#,
        r#"not(attr(plan) = "trial")"#,
        r#"attr(plan) != "trial""#,
        r#"attr(plan) not in ["trial"]"#,
        "attr(plan) in []",
        "completed(growth)",
    ] {
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            assert_eq!(from(dialect, optional), "contacts c", "{optional}");
        }
    }
}
