use super::*;
use serde_json::json;

const NOW: i64 = 1_795_881_900_000;

fn event(v: Value) -> Result<NewEvent, FieldError> {
    parse_event(&v, Caller::Server, NOW)
}

fn field_of(v: Value) -> String {
    event(v).expect_err("refused").0
}

#[test]
fn a_minimal_event_happens_now_with_no_properties() {
    let e = event(json!({"name": "signed_up", "visitor_id": "v-12345678"})).unwrap();
    assert_eq!(e.occurred_at, NOW);
    assert!(e.properties.is_empty());
    assert_eq!(
        e.subject,
        Subject::Visitor(VisitorId::parse("v-12345678").unwrap())
    );
}

#[test]
fn occurred_at_reads_milliseconds_and_rfc3339() {
    let ms = event(json!({"name": "x", "email": "A@B.io", "occurred_at": NOW - 1000})).unwrap();
    assert_eq!(ms.occurred_at, NOW - 1000);
    assert_eq!(ms.subject, Subject::Email(Email::parse("a@b.io").unwrap()));
    let iso = event(json!({"name": "x", "contact_id": 7, "occurred_at": "2026-11-28T16:00:00Z"}))
        .unwrap();
    assert_eq!(iso.occurred_at, NOW - 5 * 60_000);
}

#[test]
fn future_events_beyond_five_minutes_are_refused() {
    // Within the drift allowed, an event from the future arrives now.
    let ahead = event(json!({"name": "x", "contact_id": 1, "occurred_at": NOW + MAX_FUTURE_MS}));
    assert_eq!(ahead.unwrap().occurred_at, NOW);
    assert_eq!(
        field_of(json!({"name": "x", "contact_id": 1, "occurred_at": NOW + MAX_FUTURE_MS + 1})),
        "occurred_at"
    );
    assert_eq!(
        field_of(json!({"name": "x", "contact_id": 1, "occurred_at": 1_700_000_000})),
        "occurred_at",
        "seconds instead of milliseconds"
    );
}

#[test]
fn each_bad_field_is_named() {
    let cases = [
        (json!({"visitor_id": "v-12345678"}), "name"),
        (json!({"name": 3, "visitor_id": "v-12345678"}), "name"),
        (json!({"name": "", "visitor_id": "v-12345678"}), "name"),
        (json!({"name": "x"}), "visitor_id"),
        (json!({"name": "x", "visitor_id": "short"}), "visitor_id"),
        (json!({"name": "x", "visitor_id": 12345678}), "visitor_id"),
        (json!({"name": "x", "email": "nope"}), "email"),
        (json!({"name": "x", "contact_id": -1}), "contact_id"),
        (json!({"name": "x", "contact_id": "7"}), "contact_id"),
        (
            json!({"name": "x", "visitor_id": "v-12345678", "email": "a@b.io"}),
            "email",
        ),
        (
            json!({"name": "x", "contact_id": 1, "properties": []}),
            "properties",
        ),
        (
            json!({"name": "x", "contact_id": 1, "occurred_at": "yesterday"}),
            "occurred_at",
        ),
        (
            json!({"name": "x", "contact_id": 1, "occurred_at": 1.5}),
            "occurred_at",
        ),
        (
            json!({"name": "x", "contact_id": 1, "idempotency_key": ""}),
            "idempotency_key",
        ),
        (
            json!({"name": "x", "contact_id": 1, "colour": "red"}),
            "colour",
        ),
        (json!("just text"), ""),
    ];
    for (input, field) in cases {
        assert_eq!(field_of(input.clone()), field, "{input}");
    }
}

#[test]
fn oversized_properties_are_refused() {
    let big = "x".repeat(MAX_PROPERTIES_BYTES);
    assert_eq!(
        field_of(json!({"name": "x", "contact_id": 1, "properties": {"p": big}})),
        "properties"
    );
}

#[test]
fn a_nul_character_anywhere_in_the_properties_is_refused() {
    for properties in [
        json!({"p": "a\u{0}b"}),
        json!({"a\u{0}": 1}),
        json!({"deep": [{"x": ["ok", "\u{0}"]}]}),
    ] {
        let event = json!({"name": "x", "contact_id": 1, "properties": properties});
        assert_eq!(field_of(event.clone()), "properties", "{event}");
    }
    let fine = json!({"name": "x", "contact_id": 1, "properties": {"p": "a\\u0000b"}});
    assert!(parse_event(&fine, Caller::Server, NOW).is_ok());
}

#[test]
fn browsers_may_only_name_their_own_visitor() {
    let browser = |v: Value| parse_event(&v, Caller::Browser, NOW);
    assert!(browser(json!({"name": "x", "visitor_id": "v-12345678"})).is_ok());
    assert_eq!(
        browser(json!({"name": "x", "email": "a@b.io"}))
            .unwrap_err()
            .0,
        "email"
    );
    assert_eq!(
        browser(json!({"name": "x", "contact_id": 3}))
            .unwrap_err()
            .0,
        "contact_id"
    );
}

#[test]
fn a_mixed_batch_keeps_the_valid_items_and_lists_the_rest_by_index() {
    let body = json!([
        {"name": "a", "visitor_id": "v-12345678"},
        {"name": "b"},
        {"name": "c", "contact_id": 2, "occurred_at": NOW + 3_600_000},
    ])
    .to_string();
    let (valid, rejected) = parse_batch(body.as_bytes(), Caller::Server, NOW).unwrap();
    assert_eq!(valid.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [0]);
    assert_eq!(
        rejected
            .iter()
            .map(|r| (r.index, r.field.as_str()))
            .collect::<Vec<_>>(),
        [(1, "visitor_id"), (2, "occurred_at")]
    );
}

#[test]
fn whole_batches_are_refused_for_shape_and_size() {
    let parse = |s: &str| parse_batch(s.as_bytes(), Caller::Server, NOW).unwrap_err();
    assert!(matches!(parse("[{"), BatchError::NotJson(_)));
    assert_eq!(parse("{}"), BatchError::NotArray);
    assert_eq!(parse("[]"), BatchError::Empty);
    let many = format!("[{}]", vec!["{}"; MAX_BATCH + 1].join(","));
    assert_eq!(parse(&many), BatchError::TooMany(MAX_BATCH + 1));
}

#[test]
fn attributes_are_typed_from_their_json() {
    let kind = |v: Value| match attribute_from_json("k", &v).unwrap() {
        AttrChange::Set(a) => (a.kind, a.text),
        AttrChange::Remove(_) => panic!("removed"),
    };
    assert_eq!(kind(json!(50)), (AttrKind::Number, "50".into()));
    assert_eq!(kind(json!(2.5)), (AttrKind::Number, "2.5".into()));
    assert_eq!(kind(json!(true)), (AttrKind::Bool, "true".into()));
    assert_eq!(
        kind(json!("2026-01-31")),
        (AttrKind::Date, "2026-01-31".into())
    );
    assert_eq!(kind(json!("trial")), (AttrKind::String, "trial".into()));
    assert_eq!(
        attribute_from_json("k", &Value::Null).unwrap(),
        AttrChange::Remove("k".into())
    );
    assert!(attribute_from_json("k", &json!([1])).is_err());
    assert!(attribute_from_json("bad key", &json!(1)).is_err());
    assert!(attribute_from_json("k", &json!("a\u{0}b")).is_err());
}

#[test]
fn identify_reads_email_visitor_and_attributes() {
    let body = json!({
        "email": "Ana@Example.com",
        "visitor_id": "v-12345678",
        "name": "Ana",
        "attributes": {"plan": "trial", "seats": 5}
    })
    .to_string();
    let who = parse_identify(&serde_json::from_str(&body).unwrap()).unwrap();
    assert_eq!(who.email.as_str(), "ana@example.com");
    assert_eq!(who.visitor_id.unwrap().as_str(), "v-12345678");
    assert_eq!(who.attributes.len(), 2);
}

#[test]
fn identify_names_the_bad_field() {
    let field = |v: Value| parse_identify(&v).unwrap_err().0;
    assert_eq!(field(json!({})), "email");
    assert_eq!(field(json!({"email": "x"})), "email");
    assert_eq!(field(json!({"email": "a@b.io", "extra": 1})), "extra");
    assert_eq!(
        field(json!({"email": "a@b.io", "consent": "yes"})),
        "consent"
    );
    assert_eq!(
        field(json!({"email": "a@b.io", "attributes": {"k": {"nested": 1}}})),
        "attributes.k"
    );
    assert_eq!(parse_identify(&json!([1])).unwrap_err().0, "");
}

#[test]
fn origins_are_normalised_and_paths_refused() {
    assert_eq!(
        parse_origin("https://Shop.Example.com/").unwrap(),
        "https://shop.example.com"
    );
    assert_eq!(
        parse_origin("http://localhost:3101").unwrap(),
        "http://localhost:3101"
    );
    assert!(parse_origin("shop.example.com").is_err());
    assert!(parse_origin("https://shop.example.com/path").is_err());
}

#[test]
fn timeline_cursor_round_trips_through_text() {
    let c = ListCursor { at: NOW, id: 42 };
    assert_eq!(ListCursor::parse(&c.to_string()), Some(c));
    assert_eq!(ListCursor::parse("nope"), None);
}
