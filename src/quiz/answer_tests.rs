//! Reading each kind of step from form fields, and refusing bad input
//! with a message for the field it belongs to.

use super::*;
use crate::quiz::demo::demo_growth_quiz;
use proptest::prelude::*;

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn question(key: &str) -> Question {
    demo_growth_quiz().question(key).unwrap().clone()
}

fn contact(fields: Vec<ContactField>, required: bool) -> Question {
    Question {
        required,
        kind: QuestionKind::Contact { fields },
        ..question("contact")
    }
}

#[test]
fn single_choice_takes_a_known_option() {
    let a = parse_step(&question("budget"), &form(&[("answer", " high ")])).unwrap();
    assert_eq!(a.options(), ["high"]);
}

#[test]
fn tampered_option_key_is_refused() {
    let e = parse_step(&question("budget"), &form(&[("answer", "gold")])).unwrap_err();
    assert_eq!(e.field, "answer");
    assert_eq!(e.message, "that answer is not one of the choices");
    let e = parse_step(
        &question("channels"),
        &form(&[("answer", "ads"), ("answer", "bribe")]),
    )
    .unwrap_err();
    assert_eq!(e.message, "that answer is not one of the choices");
}

#[test]
fn two_answers_to_a_single_choice_are_refused() {
    let e = parse_step(
        &question("budget"),
        &form(&[("answer", "low"), ("answer", "high")]),
    )
    .unwrap_err();
    assert_eq!(e.message, "choose one answer");
}

#[test]
fn missing_required_answer_is_refused() {
    for key in ["budget", "channels", "urgency"] {
        let e = parse_step(&question(key), &form(&[("answer", "  ")])).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.message.as_str()),
            ("answer", "please answer this question")
        );
    }
}

#[test]
fn an_optional_question_left_empty_is_skipped() {
    let a = parse_step(&question("blocker"), &form(&[("answer", "")])).unwrap();
    assert_eq!(a, Answer::Skipped);
    let mut budget = question("budget");
    budget.required = false;
    assert_eq!(parse_step(&budget, &[]).unwrap(), Answer::Skipped);
}

#[test]
fn multi_choice_keeps_each_option_once() {
    let a = parse_step(
        &question("channels"),
        &form(&[("answer", "ads"), ("answer", "seo"), ("answer", "ads")]),
    )
    .unwrap();
    assert_eq!(a.options(), ["ads", "seo"]);
}

#[test]
fn scale_out_of_range_or_not_a_whole_number_is_refused() {
    let q = question("urgency");
    for bad in ["9", "0", "3.5", "three", "99999999999999999999"] {
        let e = parse_step(&q, &form(&[("answer", bad)])).unwrap_err();
        assert_eq!(e.message, "choose a whole number from 1 to 5", "{bad}");
    }
    let e = parse_step(&q, &form(&[("answer", "2"), ("answer", "3")])).unwrap_err();
    assert_eq!(e.message, "choose one number");
    let a = parse_step(&q, &form(&[("answer", "4")])).unwrap();
    assert_eq!(a, Answer::Scale { value: 4 });
}

#[test]
fn text_over_two_thousand_characters_is_refused() {
    let q = question("blocker");
    let long = "é".repeat(MAX_TEXT_LEN + 1);
    let e = parse_step(&q, &form(&[("answer", &long)])).unwrap_err();
    assert_eq!(e.field, "answer");
    assert_eq!(
        e.message,
        "please keep your answer to 2,000 characters or fewer"
    );
    let exact = "é".repeat(MAX_TEXT_LEN);
    assert!(parse_step(&q, &form(&[("answer", &exact)])).is_ok());
}

#[test]
fn text_loses_control_characters_but_keeps_line_breaks() {
    let a = parse_step(
        &question("blocker"),
        &form(&[("answer", "\0 no\u{7}\nleads ")]),
    );
    assert_eq!(
        a.unwrap(),
        Answer::Text {
            text: "no\nleads".into()
        }
    );
}

#[test]
fn a_line_break_counts_once_as_the_browser_counted_it() {
    // 20 lines of 99 characters and one more: 2,000 with one character per
    // break, as the field's maxlength counts them; a post sends CRLF.
    let lines = vec!["a".repeat(99); 20].join("\r\n") + "b";
    let a = parse_step(&question("blocker"), &form(&[("answer", &lines)])).unwrap();
    let Answer::Text { text } = a else {
        panic!("{a:?}")
    };
    assert_eq!(text.chars().count(), MAX_TEXT_LEN);
    assert!(!text.contains('\r'));
}

#[test]
fn invalid_email_is_refused_on_the_email_field() {
    let q = question("contact");
    let e = parse_step(&q, &form(&[("email", "nope"), ("name", "Ana")])).unwrap_err();
    assert_eq!(e.field, "email");
    assert_eq!(e.message, "\"nope\" is not a valid email address");
    let e = parse_step(&q, &form(&[("name", "Ana")])).unwrap_err();
    assert_eq!(
        (e.field.as_str(), e.message.as_str()),
        ("email", "enter your email address")
    );
}

#[test]
fn contact_step_reads_email_name_company_and_consent() {
    let a = parse_step(
        &question("contact"),
        &form(&[
            ("email", "Ana@Example.com"),
            ("name", "Ana"),
            ("company", "Acme"),
            ("consent", "on"),
        ]),
    )
    .unwrap();
    match a {
        Answer::Contact {
            email,
            name,
            company,
            consent,
        } => {
            assert_eq!(email.unwrap().as_str(), "ana@example.com");
            assert_eq!((name.as_str(), company.as_str()), ("Ana", "Acme"));
            assert!(consent);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn contact_fields_the_question_does_not_ask_for_are_ignored() {
    let q = contact(vec![ContactField::Email], true);
    let a = parse_step(
        &q,
        &form(&[("email", "a@b.io"), ("name", "Ana"), ("consent", "on")]),
    )
    .unwrap();
    assert!(matches!(a, Answer::Contact { ref name, consent: false, .. } if name.is_empty()));
}

#[test]
fn required_contact_without_email_field_needs_the_name() {
    let q = contact(vec![ContactField::Name, ContactField::Consent], true);
    let e = parse_step(&q, &form(&[("consent", "on")])).unwrap_err();
    assert_eq!(
        (e.field.as_str(), e.message.as_str()),
        ("name", "enter your name")
    );
    let optional = contact(vec![ContactField::Email, ContactField::Name], false);
    assert!(parse_step(&optional, &[]).is_ok());
}

#[test]
fn over_long_name_is_refused_on_the_name_field() {
    let long = "n".repeat(MAX_CONTACT_TEXT_LEN + 1);
    let e = parse_step(
        &question("contact"),
        &form(&[("email", "a@b.io"), ("name", &long)]),
    )
    .unwrap_err();
    assert_eq!(e.field, "name");
}

fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("answer".to_string()),
        Just("email".to_string()),
        Just("name".to_string()),
        Just("company".to_string()),
        Just("consent".to_string()),
        "\\PC{0,8}",
    ]
}

fn field_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("high".to_string()),
        Just("ads".to_string()),
        Just("a@b.io".to_string()),
        "-?[0-9]{1,25}",
        any::<String>(),
        "\\PC{1990,2010}",
    ]
}

proptest! {
    #[test]
    fn parsing_any_form_never_panics(
        pairs in proptest::collection::vec((field_name(), field_value()), 0..8),
        which in 0usize..7,
        required in any::<bool>(),
    ) {
        let def = demo_growth_quiz();
        let mut q = def.questions[which % def.questions.len()].clone();
        q.required = required;
        if let Ok(answer) = parse_step(&q, &pairs) {
            // Whatever is accepted is something the question can hold.
            for o in answer.options() {
                prop_assert!(q.options.iter().any(|x| &x.key == o));
            }
            if let Answer::Text { text } = &answer {
                prop_assert!(text.chars().count() <= MAX_TEXT_LEN);
            }
        }
    }

    #[test]
    fn a_scale_of_any_bounds_never_panics(
        min in any::<i64>(),
        max in any::<i64>(),
        raw in any::<String>(),
    ) {
        let q = Question {
            kind: QuestionKind::Scale { min, max },
            ..question("urgency")
        };
        if let Ok(Answer::Scale { value }) = parse_step(&q, &form(&[("answer", &raw)])) {
            prop_assert!(min <= value && value <= max);
        }
    }
}
