//! The in-memory evaluator and the SQL compiler must agree on every
//! contact. Random contacts are stored in a fresh in-memory SQLite database
//! with the real schema, and each random rule is run both ways.
//!
//! The same check runs on Postgres when `RULE_PG_URL` names a database
//! this test may create a scratch schema in (it drops it afterwards).

use super::agreement_fixtures::{NOW, contacts, expected_members, fixture_statements, rule};
use super::{ContactFacts, DAY_MS, Dialect, Rule, SqlParam, compile, select_in_range};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::json;
use sqlx::{Connection, PgConnection, Row, SqliteConnection};

const SQLITE_SCHEMA: &str = include_str!("../../migrations/sqlite/0001_core.sql");
/// The attributes' table as it is now on SQLite, in its key's order.
const SQLITE_ATTRIBUTES: &str =
    include_str!("../../migrations/sqlite/0015_attributes_by_contact.sql");
/// The attributes' folded copies, which `contains` reads.
const SQLITE_FOLDED: &str = include_str!("../../migrations/sqlite/0021_attribute_case_folding.sql");
const POSTGRES_SCHEMA: &str = include_str!("../../migrations/postgres/0001_core.sql");
const POSTGRES_FOLDED: &str =
    include_str!("../../migrations/postgres/0021_attribute_case_folding.sql");

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime builds")
}

fn fail(what: &str, err: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(format!("{what}: {err}"))
}

fn sqlite_query<'q>(
    sql: &'q str,
    params: &'q [SqlParam],
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    params.iter().fold(sqlx::query(sql), |q, p| match p {
        SqlParam::Text(s) => q.bind(s.as_str()),
        SqlParam::Int(i) => q.bind(*i),
        SqlParam::Real(f) => q.bind(*f),
    })
}

fn postgres_query<'q>(
    sql: &'q str,
    params: &'q [SqlParam],
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    params.iter().fold(sqlx::query(sql), |q, p| match p {
        SqlParam::Text(s) => q.bind(s.as_str()),
        SqlParam::Int(i) => q.bind(*i),
        SqlParam::Real(f) => q.bind(*f),
    })
}

/// The contacts `select_in_range` is tried on: the fixtures' ids start at
/// 1, so some fall on each side.
const RANGE: (i64, i64) = (2, 4);

/// The range's two bounds, then `params`.
fn in_range(params: &[SqlParam]) -> Vec<SqlParam> {
    [SqlParam::Int(RANGE.0), SqlParam::Int(RANGE.1)]
        .into_iter()
        .chain(params.iter().cloned())
        .collect()
}

/// Every rule and every node inside it: each must agree on its own.
fn all_nodes(rules: &[Rule]) -> Vec<&Rule> {
    let mut nodes = Vec::new();
    for rule in rules {
        rule.walk(&mut |node| nodes.push(node));
    }
    nodes
}

async fn check_sqlite(contacts: &[ContactFacts], rules: &[Rule]) -> Result<(), TestCaseError> {
    let mut db = SqliteConnection::connect("sqlite::memory:")
        .await
        .map_err(|e| fail("open sqlite", e))?;
    sqlx::raw_sql(SQLITE_SCHEMA)
        .execute(&mut db)
        .await
        .map_err(|e| fail("schema", e))?;
    for schema in [SQLITE_ATTRIBUTES, SQLITE_FOLDED] {
        sqlx::raw_sql(schema)
            .execute(&mut db)
            .await
            .map_err(|e| fail("schema", e))?;
    }
    for (sql, params) in fixture_statements(contacts, Dialect::Sqlite) {
        sqlite_query(&sql, &params)
            .execute(&mut db)
            .await
            .map_err(|e| fail(&sql, e))?;
    }
    for rule in all_nodes(rules) {
        // Start numbering past 1 to prove offsets work, with a dummy first.
        let predicate = compile(rule, Dialect::Sqlite, NOW, 2);
        let mut params = vec![SqlParam::Int(0)];
        params.extend(predicate.params.iter().cloned());
        let sql = format!(
            "SELECT c.id FROM contacts c WHERE c.id > $1 AND {} ORDER BY c.id",
            predicate.sql
        );
        let rows = sqlite_query(&sql, &params)
            .fetch_all(&mut db)
            .await
            .map_err(|e| fail(&sql, e))?;
        let got: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        prop_assert_eq!(
            &got,
            &expected_members(contacts, rule, NOW),
            "rule {} compiled to {}",
            rule,
            predicate.sql
        );
        let (lo, hi) = RANGE;
        let counted = select_in_range(rule, Dialect::Sqlite, NOW, 3, ("$1", "$2"), "count(*)");
        let count: i64 = sqlite_query(&counted.sql, &in_range(&counted.params))
            .fetch_one(&mut db)
            .await
            .map_err(|e| fail(&counted.sql, e))?
            .get(0);
        let inside = got.iter().filter(|id| (lo..=hi).contains(*id)).count();
        prop_assert_eq!(
            count as usize,
            inside,
            "rule {} counted by {}",
            rule,
            counted.sql
        );
    }
    Ok(())
}

/// Contacts that sit on the edges the semantics are most careful about.
fn edge_contacts() -> Vec<ContactFacts> {
    let facts = json!([
        {
            "attributes": {
                "city": {"text": "ÉCOLE Ünï", "num": null},
                "plan": {"text": "Trial-Pro", "num": null},
                "size": {"text": "50", "num": 50.0},
                "words": {"text": "fifty", "num": null},
                "signed_up": {"text": "2024-03-01", "num": null},
                "empty": {"text": "", "num": null}
            },
            "events": [
                {"name": "page_viewed", "properties": {"path": "/pricing"}, "occurred_at": NOW - 7 * DAY_MS},
                {"name": "page_viewed", "properties": {"path": "/pricing"}, "occurred_at": NOW - 7 * DAY_MS - 1},
                {"name": "page_viewed", "properties": {"path": "/pricing"}, "occurred_at": NOW + 1},
                {"name": "purchase", "occurred_at": NOW, "properties":
                    {"seats": 3.0, "code": "3", "trial": true, "utm.source": "ads", "nested": {"a": 1}, "list": ["/pricing"]}}
            ],
            "sessions": [
                {"id": 7, "quiz_slug": "growth", "started_at": NOW - 100, "completed_at": NOW - 7 * DAY_MS,
                 "score": 7.0, "category_scores": {"budget": 3.0}, "answers": [["budget", "high"]]},
                {"id": 3, "quiz_slug": "growth", "started_at": NOW - 100, "completed_at": null,
                 "score": null, "category_scores": {}, "answers": [["budget", "low"]]},
                {"id": 9, "quiz_slug": "fit", "started_at": NOW + 1, "completed_at": NOW + 2,
                 "score": 1.0, "category_scores": {}, "answers": [["role", "cto"]]}
            ],
            "segments": ["high-intent"]
        },
        {"attributes": {"plan": {"text": "trial", "num": null}}, "events": [], "segments": [], "sessions": [
            {"id": 8, "quiz_slug": "growth", "started_at": NOW - 60, "completed_at": NOW - 10,
             "score": 9.0, "category_scores": {}, "answers": []},
            {"id": 5, "quiz_slug": "growth", "started_at": NOW - 50, "completed_at": NOW - 10,
             "score": 2.0, "category_scores": {}, "answers": []},
            {"id": 4, "quiz_slug": "growth", "started_at": NOW - 40, "completed_at": NOW - 10,
             "score": 3.0, "category_scores": {}, "answers": []}
        ]},
        {"attributes": {}, "events": [], "sessions": [], "segments": ["trial-users"]}
    ]);
    serde_json::from_value(facts).expect("edge contacts are well-formed")
}

const EDGE_RULES: &[&str] = &[
    r#"attr(city) contains "ün""#,
    r#"attr(city) contains "école""#,
    r#"attr(city) contains "ÉCOLE ü""#,
    r#"attr(plan) = "trial-pro""#,
    r#"attr(plan) contains "TRIAL""#,
    r#"attr(plan) < "trial""#,
    r#"attr(plan) > "Trial""#,
    r#"attr(plan) between "A" and "Z""#,
    r#"attr(signed_up) between "2024-01-01" and "2024-12-31""#,
    "attr(size) >= 50",
    r#"attr(size) = "50.0""#,
    r#"attr(size) in ["x", 50]"#,
    "attr(words) != 50",
    "attr(words) not in [50]",
    r#"attr(missing) != "x""#,
    r#"attr(empty) = """#,
    r#"attr(empty) contains """#,
    r#"attr(missing) contains """#,
    "attr(plan) in []",
    "attr(plan) not in []",
    "event(page_viewed, count = 1, within 7d)",
    "event(page_viewed, count = 2)",
    "event(page_viewed, count != 2)",
    "never(page_viewed, within 1d)",
    "event(purchase where seats = 3)",
    r#"event(purchase where seats = "3")"#,
    "event(purchase where code = 3)",
    r#"event(purchase where code = "3")"#,
    "event(purchase where trial = true)",
    "event(purchase where trial = false)",
    r#"event(purchase where "utm.source" = "ads")"#,
    r#"event(purchase where "utm.source" = "ADS")"#,
    r#"event(purchase where nested = "{\"a\":1}")"#,
    r#"event(purchase where list = "/pricing")"#,
    r#"event(purchase where missing = "x")"#,
    "answered(growth.budget = high)",
    "answered(growth.budget in [])",
    "answered(fit.role = cto)",
    "score(growth) != 7",
    "score(growth) = 7",
    "score(growth) = 9",
    "score(growth) = 2",
    "score(fit) >= 0",
    "score(growth, budget) between 3 and 9",
    "score(growth, urgency) != 1",
    "completed(growth, within 7d)",
    "completed(growth, within 6d)",
    "completed(fit)",
    "in_segment(high-intent)",
    "not(in_segment(trial-users))",
    "all()",
    "any()",
];

fn edge_rules() -> Vec<Rule> {
    EDGE_RULES
        .iter()
        .map(|text| Rule::parse(text).unwrap_or_else(|e| panic!("{text}: {e}")))
        .collect()
}

#[test]
fn sqlite_agrees_on_the_edge_cases() {
    if let Err(err) = runtime().block_on(check_sqlite(&edge_contacts(), &edge_rules())) {
        panic!("{err}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn sqlite_agrees_with_the_evaluator(
        contacts in contacts(),
        rules in proptest::collection::vec(rule(), 1..=8),
    ) {
        runtime().block_on(check_sqlite(&contacts, &rules))?;
    }
}

/// Runs every case inside a transaction that is rolled back, in a scratch
/// schema made once.
#[test]
fn postgres_agrees_with_the_evaluator() {
    let Ok(url) = std::env::var("RULE_PG_URL") else {
        eprintln!("RULE_PG_URL is not set; skipping the Postgres agreement check");
        return;
    };
    let rt = runtime();
    let schema = format!("rule_agreement_{}", std::process::id());
    let mut db = rt
        .block_on(async {
            let mut db = PgConnection::connect(&url).await?;
            sqlx::raw_sql(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; SET search_path TO {schema}"))
                .execute(&mut db)
                .await?;
            sqlx::raw_sql(POSTGRES_SCHEMA).execute(&mut db).await?;
            sqlx::raw_sql(POSTGRES_FOLDED).execute(&mut db).await?;
            Ok::<_, sqlx::Error>(db)
        })
        .expect("connect to RULE_PG_URL and create the scratch schema");
    let edges = rt.block_on(check_postgres(&mut db, &edge_contacts(), &edge_rules()));
    let db = std::cell::RefCell::new(db);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(300));
    let result = edges.map_err(|e| e.to_string()).and_then(|()| {
        runner
            .run(
                &(contacts(), proptest::collection::vec(rule(), 1..=8)),
                |(contacts, rules)| {
                    rt.block_on(check_postgres(&mut db.borrow_mut(), &contacts, &rules))
                },
            )
            .map_err(|e| e.to_string())
    });
    let mut db = db.into_inner();
    rt.block_on(async {
        sqlx::raw_sql(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&mut db)
            .await
    })
    .expect("drop the scratch schema");
    if let Err(err) = result {
        panic!("{err}");
    }
}

async fn check_postgres(
    db: &mut PgConnection,
    contacts: &[ContactFacts],
    rules: &[Rule],
) -> Result<(), TestCaseError> {
    let mut tx = db.begin().await.map_err(|e| fail("begin", e))?;
    for (sql, params) in fixture_statements(contacts, Dialect::Postgres) {
        postgres_query(&sql, &params)
            .execute(&mut *tx)
            .await
            .map_err(|e| fail(&sql, e))?;
    }
    for rule in all_nodes(rules) {
        let predicate = compile(rule, Dialect::Postgres, NOW, 1);
        let sql = format!(
            "SELECT c.id FROM contacts c WHERE {} ORDER BY c.id",
            predicate.sql
        );
        let rows = postgres_query(&sql, &predicate.params)
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| fail(&sql, e))?;
        let got: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        let expected = expected_members(contacts, rule, NOW);
        prop_assert_eq!(
            &got,
            &expected,
            "rule {} compiled to {}",
            rule,
            predicate.sql
        );

        // Selected from a range of contacts, as the rule builder counts,
        // exactly the members inside it, whichever table the count starts
        // from.
        let (lo, hi) = RANGE;
        let ranged = select_in_range(rule, Dialect::Postgres, NOW, 3, ("$1", "$2"), "c.id");
        let sql = format!("{} ORDER BY c.id", ranged.sql);
        let params = in_range(&ranged.params);
        let rows = postgres_query(&sql, &params)
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| fail(&sql, e))?;
        let got: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        let inside: Vec<i64> = expected
            .into_iter()
            .filter(|id| (lo..=hi).contains(id))
            .collect();
        prop_assert_eq!(&got, &inside, "rule {} compiled to {}", rule, ranged.sql);
    }
    tx.rollback().await.map_err(|e| fail("rollback", e))?;
    Ok(())
}
