//! Respondents taking the published quiz, without JavaScript (plain form
//! posts), on both databases.

use crate::helpers::{Backend, TestApp, client, count, count_reaches, post_form, spawn_app};
use quizfunnel::rule::Rule;
use quizfunnel::store::{ContactStore, QuizStore, ResponseStore, SegmentStore};
use quizfunnel_server::demo;

async fn app_with_demo(backend: Backend) -> TestApp {
    let app = spawn_app(backend).await;
    demo::seed(&app.store, app.clock.now()).await.unwrap();
    app
}

/// Posts one step and returns (status, location).
async fn answer(app: &TestApp, c: &reqwest::Client, form: &[(&str, &str)]) -> (u16, String) {
    let res = post_form(c, &app.url("/q/growth"), form).await;
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (res.status().as_u16(), location)
}

pub const FULL_PATH: &[&[(&str, &str)]] = &[
    &[("question", "stage"), ("answer", "scaling")],
    &[("question", "budget"), ("answer", "high")],
    &[("question", "urgency"), ("answer", "5")],
    &[
        ("question", "channels"),
        ("answer", "ads"),
        ("answer", "seo"),
    ],
    &[("question", "blocker"), ("answer", "No pipeline")],
    &[("question", "team"), ("answer", "large")],
    &[
        ("question", "contact"),
        ("email", "Rita@Example.com"),
        ("name", "Rita"),
        ("consent", "on"),
    ],
];

async fn respondent_without_javascript_completes_and_sees_the_outcome_they_earned(
    backend: Backend,
) {
    let app = app_with_demo(backend).await;
    let c = client();
    let page = c
        .get(app.url("/q/growth?utm_source=podcast"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Where is your business today?"), "{html}");
    assert!(html.contains(r#"name="hidden.utm_source""#));
    for (i, step) in FULL_PATH.iter().enumerate() {
        app.clock.advance(2_000);
        let mut form = step.to_vec();
        form.push(("hidden.utm_source", "podcast"));
        let (status, location) = answer(&app, &c, &form).await;
        assert_eq!(status, 303, "step {i}");
        let expected = if i + 1 == FULL_PATH.len() {
            "/q/growth/result"
        } else {
            "/q/growth"
        };
        assert_eq!(location, expected, "step {i}");
    }
    let result = c
        .get(app.url("/q/growth/result"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // 3 + 3 + 5 + 1 + 1 + 2 = 15: the "ready" outcome.
    assert!(
        result.contains("Let&#x27;s talk this week") || result.contains("Let's talk this week"),
        "{result}"
    );
    assert!(result.contains("Your score: 15"));

    let contact = "(SELECT id FROM contacts WHERE email = 'rita@example.com')";
    assert_eq!(count(&app, &format!("SELECT count(*) FROM quiz_sessions WHERE completed_at IS NOT NULL AND contact_id = {contact}")).await, 1);
    assert_eq!(count(&app, &format!("SELECT count(*) FROM events WHERE name = 'question_answered' AND contact_id = {contact}")).await, 7);
    assert_eq!(count(&app, &format!("SELECT count(*) FROM session_category_scores s JOIN quiz_sessions q ON q.id = s.session_id WHERE q.contact_id = {contact} AND s.category = 'budget' AND s.score = 3")).await, 1);
    assert_eq!(count(&app, &format!("SELECT count(*) FROM contacts WHERE id = {contact} AND hidden_fields LIKE '%podcast%'")).await, 1);
    // Placed in the first tier that matches, with the completion.
    assert_eq!(
        count(&app, &format!("SELECT count(*) FROM placements WHERE contact_id = {contact} AND segment_slug = 'fast-track' AND next_step = 'fast_track'")).await,
        1
    );
}

/// Takes the growth quiz to the end as `c`; returns `c`'s visitor id.
pub async fn complete(app: &TestApp, c: &reqwest::Client, email: &str) -> String {
    let page = crate::helpers::open_quiz(app, c, "/q/growth").await;
    let visitor = crate::helpers::set_cookie(&page, "qf_vid").unwrap();
    let steps = crate::dashboard::with_email(FULL_PATH, email);
    for step in &steps {
        app.clock.advance(2_000);
        assert_eq!(answer(app, c, step).await.0, 303, "{step:?}");
    }
    visitor
}

/// "Take it again" on a finished quiz, then the full path with the lowest
/// budget (a score of 12, the nurture tier), giving `email` at the gate.
pub async fn retake_with_a_low_budget(app: &TestApp, c: &reqwest::Client, email: &str) {
    assert_eq!(answer(app, c, &[("action", "restart")]).await.0, 303);
    let mut again = crate::dashboard::with_email(FULL_PATH, email);
    again[1] = vec![("question", "budget"), ("answer", "low")];
    for step in &again {
        app.clock.advance(2_000);
        assert_eq!(answer(app, c, step).await.0, 303, "{step:?}");
    }
}

async fn page(c: &reqwest::Client, url: String) -> String {
    c.get(url).send().await.unwrap().text().await.unwrap()
}

const FIRST_QUESTION: &str = "Where is your business today?";

/// Links from the marketer's site carry the visitor id, and people share
/// links: whoever opens one continues that person's history, but sees
/// only answers given in their own browser.
async fn a_link_with_someones_visitor_id_shows_none_of_their_answers(backend: Backend) {
    let app = app_with_demo(backend).await;
    let rita = client();
    let visitor = complete(&app, &rita, "rita@example.com").await;
    assert!(
        page(&rita, app.url("/q/growth/result"))
            .await
            .contains("Your score: 15")
    );

    let contacts = count(&app, "SELECT count(*) FROM contacts").await;
    let stranger = client();
    let result = page(&stranger, app.url("/q/growth/result")).await;
    assert!(!result.contains("Your score"), "{result}");
    // Looking at a result stores nobody.
    assert_eq!(count(&app, "SELECT count(*) FROM contacts").await, contacts);

    let link = app.url(&format!("/q/growth?qf_vid={visitor}"));
    let shown = page(&stranger, link).await;
    assert!(shown.contains(FIRST_QUESTION), "{shown}");
    let result = page(&stranger, app.url("/q/growth/result")).await;
    assert!(!result.contains("Your score"), "{result}");
    // Their own answers start a session of their own; Rita's is untouched.
    app.clock.advance(2_000);
    assert_eq!(answer(&app, &stranger, FULL_PATH[0]).await.0, 303);
    let shown = page(&stranger, app.url("/q/growth")).await;
    assert!(
        shown.contains("What could you invest in growth each month?"),
        "{shown}"
    );
    assert!(
        page(&rita, app.url("/q/growth/result"))
            .await
            .contains("Your score: 15")
    );
}

/// Anyone may type anyone's email: that joins their visit to that
/// contact's history, not the contact's answers to their screen.
async fn an_email_given_for_a_visitor_shows_none_of_that_persons_answers(backend: Backend) {
    let app = app_with_demo(backend).await;
    complete(&app, &client(), "rita@example.com").await;
    let key = crate::ingest::api_key(&app).await;
    let stranger = client();
    let visitor = crate::helpers::set_cookie(
        &crate::helpers::open_quiz(&app, &stranger, "/q/growth").await,
        "qf_vid",
    )
    .unwrap();
    let identify = serde_json::json!({"email": "rita@example.com", "visitor_id": visitor});
    let res = app
        .client
        .post(app.url("/api/v1/identify"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(identify.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());

    let shown = page(&stranger, app.url("/q/growth")).await;
    assert!(shown.contains(FIRST_QUESTION), "{shown}");
    let result = page(&stranger, app.url("/q/growth/result")).await;
    assert!(!result.contains("Your score"), "{result}");

    // The same at the lead gate, after a quiz of one's own: the result
    // shown is the one just earned, not Rita's.
    let sam = client();
    complete(&app, &sam, "sam@example.com").await;
    retake_with_a_low_budget(&app, &sam, "rita@example.com").await;
    let result = page(&sam, app.url("/q/growth/result")).await;
    assert!(result.contains("Your score: 12"), "{result}");
}

/// On a shared device the next respondent is whoever gives their email:
/// the quiz they take after someone else's is theirs, with its events,
/// and its placement makes them the lead.
async fn a_quiz_taken_on_a_shared_device_belongs_to_the_email_given(backend: Backend) {
    let app = app_with_demo(backend).await;
    let c = client();
    complete(&app, &c, "sam@example.com").await;
    retake_with_a_low_budget(&app, &c, "rita@example.com").await;
    let of = |email: &str| format!("(SELECT id FROM contacts WHERE email = '{email}')");
    for (email, tier) in [
        ("sam@example.com", "fast-track"),
        ("rita@example.com", "nurture"),
    ] {
        let contact = of(email);
        let lead = format!(
            "SELECT count(*) FROM leads WHERE contact_id = {contact} AND tier_slug = '{tier}'"
        );
        assert_eq!(count(&app, &lead).await, 1, "{email}");
        let finished = format!(
            "SELECT count(*) FROM quiz_sessions WHERE contact_id = {contact} \
             AND completed_at IS NOT NULL"
        );
        assert_eq!(count(&app, &finished).await, 1, "{email}");
        for (event, expected) in [
            ("quiz_started", 1),
            ("question_answered", FULL_PATH.len() as i64),
            ("quiz_completed", 1),
        ] {
            let events = format!(
                "SELECT count(*) FROM events WHERE contact_id = {contact} AND name = '{event}'"
            );
            assert_eq!(count(&app, &events).await, expected, "{email} {event}");
        }
    }
    let result = page(&c, app.url("/q/growth/result")).await;
    assert!(result.contains("Your score: 12"), "{result}");
}

/// The quick quiz once through in browser `c`, from its first page.
async fn take_quick(app: &TestApp, c: &reqwest::Client) {
    let html = page(c, app.url("/q/quick")).await;
    // A first page carries when it was shown; a restarted session knows.
    let started = started_on(&html).unwrap_or_default();
    app.clock.advance(5_000);
    let step = [
        ("question", "size"),
        ("answer", "team"),
        ("started", started.as_str()),
    ];
    assert_eq!(
        post_form(c, &app.url("/q/quick"), &step).await.status(),
        303
    );
}

/// The same on a quiz whose gate follows the result: the placement made
/// as the browser's earlier contact moves to the person who then asks for
/// the result, and the earlier contact's lead goes back to their own.
async fn a_result_asked_for_on_a_shared_device_moves_its_lead(backend: Backend) {
    let app = spawn_app(backend).await;
    let def = serde_json::from_str(EMAIL_AFTER).unwrap();
    crate::dashboard::publish_with_a_tier(&app, "quick", &def).await;
    let c = client();
    for (i, email) in ["sam@example.com", "rita@example.com"].iter().enumerate() {
        if i > 0 {
            let again = post_form(&c, &app.url("/q/quick"), &[("action", "restart")]).await;
            assert_eq!(again.status(), 303);
        }
        take_quick(&app, &c).await;
        let res = post_form(&c, &app.url("/q/quick/result"), &[("email", *email)]).await;
        assert_eq!(res.status(), 303);
    }
    for email in ["sam@example.com", "rita@example.com"] {
        let contact = format!("(SELECT id FROM contacts WHERE email = '{email}')");
        let own = format!(
            "SELECT count(*) FROM leads l JOIN placements p ON p.session_id = l.session_id \
             JOIN quiz_sessions s ON s.id = p.session_id \
             WHERE l.contact_id = {contact} AND p.contact_id = {contact} \
             AND s.contact_id = {contact} AND l.tier_slug = 'finished'"
        );
        assert_eq!(count(&app, &own).await, 1, "{email}");
        let sessions = format!("SELECT count(*) FROM quiz_sessions WHERE contact_id = {contact}");
        assert_eq!(count(&app, &sessions).await, 1, "{email}");
        let completed = format!(
            "SELECT count(*) FROM events WHERE contact_id = {contact} AND name = 'quiz_completed'"
        );
        assert_eq!(count(&app, &completed).await, 1, "{email}");
    }
    let html = page(&c, app.url("/q/quick/result")).await;
    assert!(html.contains("on its way to rita@example.com"), "{html}");
}

/// `answered` reads the latest session: taking the quiz again empties it,
/// and a bot's session thrown away takes what it answered with it.
async fn a_restart_or_a_discarded_bot_leaves_the_answer_segments(backend: Backend) {
    let app = app_with_demo(backend).await;
    let rule = Rule::parse("answered(growth.budget = high)").unwrap();
    app.store
        .create_segment("big-budget", "Big budget", "", &rule, app.clock.now())
        .await
        .unwrap();
    let members = "SELECT count(*) FROM segment_memberships m JOIN segments g \
        ON g.id = m.segment_id WHERE g.slug = 'big-budget' AND m.exited_at IS NULL";
    let c = client();
    complete(&app, &c, "rita@example.com").await;
    assert_eq!(count(&app, members).await, 1);
    assert_eq!(answer(&app, &c, &[("action", "restart")]).await.0, 303);
    assert_eq!(count(&app, members).await, 0);
    // The result earned stays on its page while the quiz is taken again.
    let html = page(&c, app.url("/q/growth/result")).await;
    assert!(
        html.contains("Let&#x27;s talk this week") || html.contains("Let's talk this week"),
        "{html}"
    );

    let bot = client();
    crate::helpers::open_quiz(&app, &bot, "/q/growth").await;
    for step in &FULL_PATH[..2] {
        app.clock.advance(2_000);
        assert_eq!(answer(&app, &bot, step).await.0, 303);
    }
    assert_eq!(count(&app, members).await, 1);
    let trap = [
        ("question", "urgency"),
        ("answer", "5"),
        ("website", "spam"),
    ];
    assert_eq!(answer(&app, &bot, &trap).await.0, 303);
    assert_eq!(count(&app, members).await, 0);
}

/// A NUL in a link's query or a hidden field cannot be stored: the field
/// is left out, and the visit and its answers are kept.
async fn fields_holding_nul_are_left_out_and_the_visit_is_kept(backend: Backend) {
    let app = app_with_demo(backend).await;
    let c = client();
    let page = c
        .get(app.url("/q/growth?utm_source=%00&utm_medium=mail"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let views = "SELECT count(*) FROM events e JOIN contacts c ON c.id = e.contact_id \
                 WHERE e.name = 'quiz_viewed' AND c.hidden_fields LIKE '%mail%'";
    count_reaches(&app, views, 1).await;
    let step = [
        ("question", "stage"),
        ("answer", "scaling"),
        ("hidden.utm_campaign", "\0"),
        ("hidden.utm_term", "kept"),
    ];
    assert_eq!(answer(&app, &c, &step).await.0, 303);
    let started = "SELECT count(*) FROM events WHERE name = 'quiz_started' \
                   AND CAST(properties AS TEXT) LIKE '%kept%' \
                   AND CAST(properties AS TEXT) NOT LIKE '%utm_campaign%'";
    assert_eq!(count(&app, started).await, 1);
}

/// Two copies of the last step sent at once (a double click without
/// JavaScript): whichever loses the race is shown the result, not an error.
async fn a_double_clicked_last_step_shows_the_result(backend: Backend) {
    let app = app_with_demo(backend).await;
    for n in 0..4 {
        let c = client();
        crate::helpers::open_quiz(&app, &c, "/q/growth").await;
        let email = format!("twice{n}@example.com");
        let steps = crate::dashboard::with_email(FULL_PATH, &email);
        let (last, first) = steps.split_last().unwrap();
        for step in first {
            app.clock.advance(2_000);
            assert_eq!(answer(&app, &c, step).await.0, 303);
        }
        let (a, b) = tokio::join!(answer(&app, &c, last), answer(&app, &c, last));
        assert_eq!((a.0, b.0), (303, 303), "{a:?} {b:?}");
    }
    let finished = "SELECT count(*) FROM quiz_sessions WHERE completed_at IS NOT NULL \
                    AND contact_id IN (SELECT id FROM contacts WHERE email LIKE 'twice%')";
    assert_eq!(count(&app, finished).await, 4);
}

/// A result page says where the result went only to whoever gave the
/// address there: not to someone who opened a link carrying another
/// person's visitor id.
async fn a_result_page_never_shows_someone_elses_email(backend: Backend) {
    let app = spawn_app(backend).await;
    publish_quick(&app).await;
    let alice = client();
    let first = crate::helpers::open_quiz(&app, &alice, "/q/quick").await;
    let visitor = crate::helpers::set_cookie(&first, "qf_vid").unwrap();
    take_quick(&app, &alice).await;
    let res = post_form(
        &alice,
        &app.url("/q/quick/result"),
        &[("email", "alice@example.com")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let html = page(&alice, app.url("/q/quick/result")).await;
    assert!(html.contains("on its way to alice@example.com"), "{html}");

    let bob = client();
    let link = app.url(&format!("/q/quick?qf_vid={visitor}"));
    assert_eq!(bob.get(link).send().await.unwrap().status(), 200);
    take_quick(&app, &bob).await;
    let html = page(&bob, app.url("/q/quick/result")).await;
    assert!(!html.contains("alice@example.com"), "{html}");
    assert!(html.contains("Get this result by email"), "{html}");
}

/// The cookies a respondent's browser gets, read off each way a quiz page
/// is served: a rendered first page, a kept one, a form post.
async fn quiz_cookies_reach_an_embedded_quiz_only_over_https(backend: Backend) {
    for secure in [false, true] {
        let app = crate::helpers::spawn_app_configured(backend, |c| {
            c.sessions.secure_cookie = secure;
        })
        .await;
        demo::seed(&app.store, app.clock.now()).await.unwrap();
        let new_visitor = || client().get(app.url("/q/growth")).send();
        let first = new_visitor().await.unwrap();
        let kept = new_visitor().await.unwrap();
        let posted = post_form(&client(), &app.url("/q/growth"), FULL_PATH[0]).await;
        for res in [first, kept, posted] {
            let cookies: Vec<&str> = res
                .headers()
                .get_all("set-cookie")
                .iter()
                .map(|v| v.to_str().unwrap())
                .collect();
            let of = |name: &str| {
                cookies
                    .iter()
                    .find(|c| c.starts_with(&format!("{name}=")))
                    .unwrap_or_else(|| panic!("{name} in {cookies:?}"))
                    .to_string()
            };
            let (visitor, browser) = (of("qf_vid"), of("qf_rk"));
            assert!(browser.contains("HttpOnly"), "{browser}");
            assert!(!visitor.contains("HttpOnly"), "{visitor}");
            for cookie in [visitor, browser] {
                let embeddable = cookie.contains("Secure; SameSite=None; Partitioned");
                assert_eq!(embeddable, secure, "{cookie}");
                assert_eq!(cookie.contains("SameSite=Lax"), !secure, "{cookie}");
            }
        }
    }
}

/// Going back and taking another branch: the answers of the branch left
/// behind count neither in the score nor in segment rules.
async fn answers_of_a_branch_left_behind_do_not_count(backend: Backend) {
    let app = app_with_demo(backend).await;
    let rule = Rule::parse("answered(growth.budget = high)").unwrap();
    app.store
        .create_segment("big-budget", "Big budget", "", &rule, app.clock.now())
        .await
        .unwrap();
    // Kept to the end: counted.
    complete(&app, &client(), "kept@example.com").await;
    // Answered, then left by going back to an early stage, which skips it.
    let c = client();
    crate::helpers::open_quiz(&app, &c, "/q/growth").await;
    let left = crate::dashboard::with_email(FULL_PATH, "left@example.com");
    let back = |question| vec![("question", question), ("action", "back")];
    let mut steps = vec![
        left[0].clone(),
        left[1].clone(),
        back("urgency"),
        back("budget"),
        vec![("question", "stage"), ("answer", "idea")],
    ];
    steps.extend(left[3..].iter().cloned());
    for step in &steps {
        app.clock.advance(2_000);
        assert_eq!(answer(&app, &c, step).await.0, 303, "{step:?}");
    }
    assert!(
        page(&c, app.url("/q/growth/result"))
            .await
            .contains("Your score")
    );

    let member = |email: &str| {
        format!(
            "SELECT count(*) FROM segment_memberships m JOIN segments g ON g.id = m.segment_id \
             WHERE g.slug = 'big-budget' AND m.exited_at IS NULL AND m.contact_id = \
             (SELECT id FROM contacts WHERE email = '{email}')"
        )
    };
    assert_eq!(count(&app, &member("kept@example.com")).await, 1);
    assert_eq!(count(&app, &member("left@example.com")).await, 0);
    let budget_answers = "SELECT count(*) FROM answers a JOIN quiz_sessions s ON s.id = a.session_id \
        WHERE a.question_key = 'budget' AND s.contact_id = \
        (SELECT id FROM contacts WHERE email = 'left@example.com')";
    assert_eq!(count(&app, budget_answers).await, 0);
}

/// Taking the quiz again with other answers moves the lead to the tier
/// those answers earn, and each tier's count follows.
async fn a_retake_moves_the_lead_to_its_new_tier(backend: Backend) {
    let app = app_with_demo(backend).await;
    let c = client();
    complete(&app, &c, "rita@example.com").await;
    let tier = "SELECT count(*) FROM leads WHERE contact_id = \
        (SELECT id FROM contacts WHERE email = 'rita@example.com') AND tier_slug = ";
    assert_eq!(count(&app, &format!("{tier}'fast-track'")).await, 1);
    retake_with_a_low_budget(&app, &c, "rita@example.com").await;
    assert_eq!(count(&app, &format!("{tier}'nurture'")).await, 1);
    let counts_disagree = "SELECT count(*) FROM tier_lead_counts t WHERE t.leads <> \
        (SELECT count(*) FROM leads l WHERE l.tier_slug = t.tier_slug)";
    assert_eq!(count(&app, counts_disagree).await, 0);
}

/// A lead in the fast-track tier who then finishes another quiz, and
/// stays in that tier, keeps the score that placed them there and when
/// they entered it: sales' list does not drop them to the bottom. The
/// other quiz's chosen options still give their tags.
async fn another_quiz_finished_keeps_the_leads_score_and_entry(backend: Backend) {
    let app = app_with_demo(backend).await;
    let c = client();
    complete(&app, &c, "kim@example.com").await;
    let lead = |column: &str| {
        format!(
            "SELECT CAST({column} AS BIGINT) FROM leads WHERE tier_slug = 'fast-track' AND contact_id = \
             (SELECT id FROM contacts WHERE email = 'kim@example.com')"
        )
    };
    let figures = || async {
        (
            count(&app, &lead("score * 100")).await,
            count(&app, &lead("placed_at")).await,
            count(&app, &lead("session_id")).await,
        )
    };
    let before = figures().await;
    assert!(before.0 > 0);

    app.clock.advance(86_400_000);
    let mut def: quizfunnel::quiz::QuizDefinition = serde_json::from_str(EMAIL_AFTER).unwrap();
    def.questions[0].options[1].tags = vec!["has-a-team".into()];
    let quiz = app.store.create_quiz("quick", &def, 0).await.unwrap();
    app.store.publish_quiz(quiz, 0).await.unwrap();
    take_quick(&app, &c).await;
    let placed_again = "SELECT count(*) FROM placements p JOIN quiz_sessions s ON s.id = p.session_id \
                        WHERE s.quiz_id = (SELECT id FROM quizzes WHERE slug = 'quick') \
                        AND p.segment_slug = 'fast-track'";
    assert_eq!(count(&app, placed_again).await, 1);
    assert_eq!(figures().await, before);
    // The chosen option's tag is the contact's now.
    let tagged = "SELECT count(*) FROM contact_tags t JOIN contacts c ON c.id = t.contact_id \
                  WHERE c.email = 'kim@example.com' AND t.tag = 'has-a-team'";
    assert_eq!(count(&app, tagged).await, 1);
}

async fn replayed_and_double_clicked_steps_store_nothing_twice(backend: Backend) {
    let app = app_with_demo(backend).await;
    let c = client();
    crate::helpers::open_quiz(&app, &c, "/q/growth").await;
    let first = FULL_PATH[0];
    assert_eq!(answer(&app, &c, first).await.0, 303);
    // The same post again (a double click, a retry): still on question 2.
    assert_eq!(answer(&app, &c, first).await.0, 303);
    let html = c
        .get(app.url("/q/growth"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("What could you invest in growth each month?"));
    let before = count(
        &app,
        "SELECT count(*) FROM events WHERE name = 'question_answered'",
    )
    .await;
    let sessions = count(&app, "SELECT count(*) FROM quiz_sessions").await;
    for step in &FULL_PATH[1..] {
        app.clock.advance(2_000);
        answer(&app, &c, step).await;
        answer(&app, &c, step).await;
    }
    let after = count(
        &app,
        "SELECT count(*) FROM events WHERE name = 'question_answered'",
    )
    .await;
    assert_eq!(after - before, (FULL_PATH.len() - 1) as i64);
    assert_eq!(
        count(&app, "SELECT count(*) FROM quiz_sessions").await,
        sessions
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM events WHERE name = 'quiz_completed' AND contact_id = (SELECT id FROM contacts WHERE email = 'rita@example.com')").await,
        1
    );
}

async fn bad_answers_are_shown_again_with_the_message_and_nothing_is_stored(backend: Backend) {
    let app = app_with_demo(backend).await;
    let c = client();
    crate::helpers::open_quiz(&app, &c, "/q/growth").await;
    let events = count(&app, "SELECT count(*) FROM events").await;
    let res = post_form(
        &c,
        &app.url("/q/growth"),
        &[("question", "stage"), ("answer", "billionaire")],
    )
    .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("that answer is not one of the choices"),
        "{html}"
    );
    let res = post_form(&c, &app.url("/q/growth"), &[("question", "stage")]).await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("please answer this question")
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM events").await,
        events,
        "nothing stored"
    );

    for step in &FULL_PATH[..6] {
        answer(&app, &c, step).await;
    }
    let long = "x".repeat(2_001);
    let res = post_form(
        &c,
        &app.url("/q/growth"),
        &[
            ("question", "contact"),
            ("email", "not-an-email"),
            ("name", &long),
        ],
    )
    .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("is not a valid email address"));
    assert!(
        html.contains(r#"value="not-an-email""#),
        "the typed value is kept"
    );
    // The field says it is wrong, and which message says why.
    let email_field = html
        .split(r#"id="field-email""#)
        .nth(1)
        .and_then(|rest| rest.split('>').next())
        .unwrap_or_default();
    assert!(
        email_field.contains(r#"aria-invalid="true""#)
            && email_field.contains(r#"aria-describedby="field-email-error""#),
        "{email_field}"
    );
    assert!(html.contains(r#"id="field-email-error""#), "{html}");
}

async fn going_back_keeps_earlier_answers(backend: Backend) {
    let app = app_with_demo(backend).await;
    let c = client();
    crate::helpers::open_quiz(&app, &c, "/q/growth").await;
    answer(&app, &c, FULL_PATH[0]).await;
    answer(&app, &c, &[("question", "budget"), ("action", "back")]).await;
    let html = c
        .get(app.url("/q/growth"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Where is your business today?"));
    assert!(
        html.contains(r#"value="scaling" checked"#)
            || html.contains(r#"checked="" value="scaling""#)
            || html.contains("value=\"scaling\" checked=\"\""),
        "{html}"
    );
}

/// Without JavaScript, the browser's Back shows an earlier question from
/// its history: an answer changed there is taken, and the quiz goes on from
/// that question, instead of the change being dropped without a word.
async fn an_answer_changed_on_a_page_from_the_browsers_history_is_taken(backend: Backend) {
    let app = app_with_demo(backend).await;
    let c = client();
    crate::helpers::open_quiz(&app, &c, "/q/growth").await;
    for step in &FULL_PATH[..2] {
        app.clock.advance(2_000);
        assert_eq!(answer(&app, &c, step).await.0, 303);
    }
    let stored =
        "SELECT count(*) FROM answers WHERE question_key = 'stage' AND option_key = 'idea'";
    let before = count(&app, stored).await;
    // "Just exploring" skips the budget and urgency questions.
    let changed = [("question", "stage"), ("answer", "idea")];
    assert_eq!(answer(&app, &c, &changed).await.0, 303);
    let html = page(&c, app.url("/q/growth")).await;
    assert!(
        html.contains("Which channels bring you customers today?"),
        "{html}"
    );
    assert_eq!(count(&app, stored).await, before + 1);
}

async fn branch_skips_questions_for_early_stage_respondents(backend: Backend) {
    let app = app_with_demo(backend).await;
    let c = client();
    crate::helpers::open_quiz(&app, &c, "/q/growth").await;
    answer(&app, &c, &[("question", "stage"), ("answer", "idea")]).await;
    let html = c
        .get(app.url("/q/growth"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Which channels bring you customers today?"),
        "budget and urgency skipped"
    );
}

/// A branch that skips the quiz's own email question meets the lead gate
/// instead: that respondent is asked before the result all the same.
async fn a_branch_past_the_email_question_still_meets_the_lead_gate(backend: Backend) {
    use quizfunnel::quiz::{Branch, Condition, Target};
    let app = spawn_app(backend).await;
    let mut def = quizfunnel::quiz::demo_growth_quiz();
    def.questions[1].branches.push(Branch {
        when: Condition::Chose {
            question: "budget".into(),
            options: vec!["low".into()],
        },
        goto: Target::Result,
    });
    let quiz = app.store.create_quiz("short", &def, 0).await.unwrap();
    app.store.publish_quiz(quiz, 0).await.unwrap();
    let c = client();
    crate::helpers::open_quiz(&app, &c, "/q/short").await;
    let steps: [&[(&str, &str)]; 2] = [
        &[("question", "stage"), ("answer", "growing")],
        &[("question", "budget"), ("answer", "low")],
    ];
    for step in steps {
        app.clock.advance(2_000);
        let res = post_form(&c, &app.url("/q/short"), step).await;
        assert_eq!(res.headers()["location"], "/q/short");
    }
    let html = page(&c, app.url("/q/short")).await;
    assert!(html.contains("Where should we send your result?"), "{html}");
    app.clock.advance(2_000);
    let lead = [
        ("question", "lead"),
        ("email", "lee@example.com"),
        ("name", "Lee"),
    ];
    let res = post_form(&c, &app.url("/q/short"), &lead).await;
    assert_eq!(res.headers()["location"], "/q/short/result");
    let done = "SELECT count(*) FROM quiz_sessions s JOIN contacts c ON c.id = s.contact_id \
                WHERE c.email = 'lee@example.com' AND s.completed_at IS NOT NULL";
    assert_eq!(count(&app, done).await, 1);
}

/// A browser that keeps no cookies cannot be followed from one question to
/// the next: it is told so, instead of being sent back to the first
/// question without a word.
async fn a_browser_keeping_no_cookies_is_told_why_its_place_was_lost(backend: Backend) {
    let app = app_with_demo(backend).await;
    // A client without a cookie store: each post arrives as a stranger.
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (i, step) in FULL_PATH[..2].iter().enumerate() {
        app.clock.advance(2_000);
        let res = post_form(&c, &app.url("/q/growth"), step).await;
        if i == 0 {
            assert_eq!(res.status(), 303);
        } else {
            assert_eq!(res.status(), 422);
            let html = res.text().await.unwrap();
            assert!(html.contains("did not keep the quiz cookie"), "{html}");
            assert!(html.contains(FIRST_QUESTION), "{html}");
        }
    }
}

/// Finishing faster than a person could is asked again, with what was
/// chosen kept, instead of being dropped: a quick person gets their result
/// on the second try, and nothing is completed before it.
async fn a_result_sent_too_soon_is_asked_again(backend: Backend) {
    let app = spawn_app(backend).await;
    publish_quick(&app).await;
    let c = client();
    crate::helpers::open_quiz(&app, &c, "/q/quick").await;
    let step = [("question", "size"), ("answer", "team")];
    let res = post_form(&c, &app.url("/q/quick"), &step).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("That was quick"), "{html}");
    let team = html.split(r#"value="team""#).nth(1).unwrap_or_default();
    let team_input = team.split('>').next().unwrap_or_default();
    assert!(team_input.contains("checked"), "the choice is kept: {html}");
    let completed = "SELECT count(*) FROM quiz_sessions WHERE completed_at IS NOT NULL";
    assert_eq!(count(&app, completed).await, 0);
    app.clock.advance(5_000);
    let res = post_form(&c, &app.url("/q/quick"), &step).await;
    assert_eq!(res.headers()["location"], "/q/quick/result");
    assert_eq!(count(&app, completed).await, 1);
}

/// The start a page carries is the server's word: a script that writes
/// its own earlier time, or moves the page's, is timed from its post.
async fn a_start_time_the_server_did_not_sign_counts_from_the_post(backend: Backend) {
    let app = spawn_app(backend).await;
    publish_quick(&app).await;
    // Each from a browser of its own, past the minimum since its page:
    // only the forgery can make it too quick.
    let forgeries: [fn(i64, &str) -> String; 2] = [
        |shown, _| (shown - 3_600_000).to_string(),
        |shown, signature| format!("{}.{signature}", shown - 3_600_000),
    ];
    for forge in forgeries {
        let c = client();
        let html = page(&c, app.url("/q/quick")).await;
        let token = started_on(&html).expect("the first step carries when it was shown");
        let (shown, signature) = token.split_once('.').expect("a time and its signature");
        let forged = forge(shown.parse().unwrap(), signature);
        app.clock.advance(5_000);
        let res = answer_quick(&c, app.url("/q/quick"), &forged).await;
        assert_eq!(res.status(), 422, "{forged}");
        let html = res.text().await.unwrap();
        assert!(html.contains("That was quick"), "{html}");
    }
    let completed = "SELECT count(*) FROM quiz_sessions WHERE completed_at IS NOT NULL";
    assert_eq!(count(&app, completed).await, 0);
    // The page as later new visitors get it (filled in from the first
    // one's render) carries a start of their own that counts.
    let c = client();
    let html = page(&c, app.url("/q/quick")).await;
    let token = started_on(&html).expect("the first step carries when it was shown");
    app.clock.advance(5_000);
    let res = answer_quick(&c, app.url("/q/quick"), &token).await;
    assert_eq!(res.status(), 303);
    assert_eq!(count(&app, completed).await, 1);

    // A browser that keeps no cookie posts a page signed for the key it
    // was given: told so, not asked again and again.
    let cookieless = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let html = page(&cookieless, app.url("/q/quick")).await;
    let token = started_on(&html).expect("the first step carries when it was shown");
    app.clock.advance(5_000);
    let res = answer_quick(&cookieless, app.url("/q/quick"), &token).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("did not keep the quiz cookie"), "{html}");
}

/// Instances share the key a page's start is signed with: a page served
/// by one is timed from its first view when the answer reaches another.
async fn a_start_signed_by_one_instance_counts_on_another(backend: Backend) {
    let a = spawn_app(backend).await;
    publish_quick(&a).await;
    let b = crate::helpers::second_instance(&a).await;
    let c = client();
    let html = page(&c, a.url("/q/quick")).await;
    let token = started_on(&html).expect("the first step carries when it was shown");
    b.clock.advance(5_000);
    let res = answer_quick(&c, b.url("/q/quick"), &token).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
}

async fn bots_filling_the_honeypot_are_dropped_silently(backend: Backend) {
    let app = app_with_demo(backend).await;
    let sessions = count(&app, "SELECT count(*) FROM quiz_sessions").await;
    let bot = client();
    bot.get(app.url("/q/growth")).send().await.unwrap();
    answer(&app, &bot, FULL_PATH[0]).await;
    let (status, location) = answer(
        &app,
        &bot,
        &[
            ("question", "budget"),
            ("answer", "high"),
            ("website", "http://spam.example"),
        ],
    )
    .await;
    assert_eq!((status, location.as_str()), (303, "/q/growth/result"));
    assert_eq!(
        count(&app, "SELECT count(*) FROM quiz_sessions").await,
        sessions
    );
}

/// Publishes [`EMAIL_AFTER`] at `/q/quick`.
async fn publish_quick(app: &TestApp) {
    let def = serde_json::from_str(EMAIL_AFTER).unwrap();
    let quiz = app.store.create_quiz("quick", &def, 0).await.unwrap();
    app.store.publish_quiz(quiz, 0).await.unwrap();
}

/// Answers the quick quiz's one question, with the start its page gave.
async fn answer_quick(c: &reqwest::Client, url: String, started: &str) -> reqwest::Response {
    let step = [
        ("question", "size"),
        ("answer", "team"),
        ("started", started),
    ];
    post_form(c, &url, &step).await
}

/// The signed time a first page says its question was shown at.
fn started_on(html: &str) -> Option<String> {
    html.split(r#"name="started" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(str::to_string)
}

/// A one-question quiz that offers the result by email after showing it.
const EMAIL_AFTER: &str = r##"{
  "title": "Quick check", "intro": "", "lead_gate": "after_result",
  "theme": {"brand_color": "#0f766e"},
  "questions": [{"key": "size", "kind": "single", "prompt": "Team size?", "required": true,
    "options": [{"key": "solo", "label": "Just me", "points": 1},
                {"key": "team", "label": "A team", "points": 3}]}],
  "outcomes": [{"key": "all", "title": "Here is your plan",
    "body_markdown": "Start **small**.\n\n- [Read the guide](/guide)\n- [Win](javascript:alert(1))", "rule": {"by": "score_range", "min": 0, "max": 3}}]
}"##;

async fn the_result_page_offers_the_result_by_email_and_names_a_bad_address(backend: Backend) {
    let app = spawn_app(backend).await;
    publish_quick(&app).await;
    let c = client();
    let html = c
        .get(app.url("/q/quick"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Timed from the page's first view, so one question can pass the minimum.
    let started = started_on(&html).expect("the first step carries when it was shown");
    app.clock.advance(5_000);
    let res = post_form(
        &c,
        &app.url("/q/quick"),
        &[
            ("question", "size"),
            ("answer", "team"),
            ("started", &started),
        ],
    )
    .await;
    assert_eq!(res.status(), 303, "no contact step before the result");
    let page = c.get(app.url("/q/quick/result")).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains("Here is your plan"), "{html}");
    assert!(html.contains("Get this result by email"), "{html}");
    assert!(html.contains("<strong>small</strong>"), "{html}");
    assert!(
        html.contains(r#"<a href="/guide">Read the guide</a>"#),
        "{html}"
    );
    assert!(!html.contains("href=\"javascript"), "{html}");

    let res = post_form(
        &c,
        &app.url("/q/quick/result"),
        &[("email", "not an email"), ("name", "Ola")],
    )
    .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Here is your plan"),
        "the result stays: {html}"
    );
    assert!(html.contains(r#"id="lead-email-error""#), "{html}");
    assert!(
        html.contains(r#"value="Ola""#),
        "what was typed is kept: {html}"
    );
    // The name field lets through no more than the server takes, and a
    // refused name is named on its field.
    let name_input = |html: &str| {
        let rest = html.split(r#"id="lead-name""#).nth(1).unwrap_or_default();
        rest.split('>').next().unwrap_or_default().to_string()
    };
    let longest = quizfunnel::quiz::MAX_CONTACT_TEXT_LEN;
    assert!(
        name_input(&html).contains(&format!(r#"maxlength="{longest}""#)),
        "{html}"
    );
    let long_name = "n".repeat(longest + 1);
    let res = post_form(
        &c,
        &app.url("/q/quick/result"),
        &[("email", "ola@example.com"), ("name", &long_name)],
    )
    .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"id="lead-name-error""#), "{html}");
    assert!(
        name_input(&html).contains(r#"aria-describedby="lead-name-error""#),
        "{html}"
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM contacts WHERE email IS NOT NULL"
        )
        .await,
        0
    );

    let res = post_form(
        &c,
        &app.url("/q/quick/result"),
        &[
            ("email", "Ola@Example.com"),
            ("name", "Ola"),
            ("consent", "on"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let html = c
        .get(app.url("/q/quick/result"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("on its way to ola@example.com"), "{html}");
    assert!(!html.contains("Get this result by email"));
    // What sends it is the marketer's: an event on the contact for a
    // segment's webhook, once however often the form is sent.
    let again = post_form(
        &c,
        &app.url("/q/quick/result"),
        &[("email", "ola@example.com"), ("name", "Ola")],
    )
    .await;
    assert_eq!(again.status(), 303);
    let requested = "SELECT count(*) FROM events e JOIN contacts c ON c.id = e.contact_id \
                     WHERE c.email = 'ola@example.com' AND e.name = 'result_requested'";
    assert_eq!(count(&app, requested).await, 1);
    // The respondent's answers now belong to the identified contact.
    assert_eq!(
        count(&app, "SELECT count(*) FROM quiz_sessions s JOIN contacts c ON c.id = s.contact_id \
                     WHERE c.email = 'ola@example.com' AND c.name = 'Ola' AND s.completed_at IS NOT NULL").await,
        1
    );

    // Before finishing there is nothing to send.
    let stranger = client();
    let res = post_form(
        &stranger,
        &app.url("/q/quick/result"),
        &[("email", "x@example.com")],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM contacts WHERE email = 'x@example.com'"
        )
        .await,
        0
    );
}

async fn unknown_quiz_is_a_friendly_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let res = app.get("/q/no-such-quiz").await;
    assert_eq!(res.status(), 404);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("This quiz is not available")
    );
    let res = post_form(&client(), &app.url("/q/no-such-quiz"), &[("question", "x")]).await;
    assert_eq!(res.status(), 404);
    let res = app.get("/q/no-such-quiz/result").await;
    assert_eq!(res.status(), 404);
    let page = res.text().await.unwrap();
    assert!(page.contains("This quiz is not available"), "{page}");
    let res = post_form(
        &client(),
        &app.url("/q/no-such-quiz/result"),
        &[("email", "a@b.io")],
    )
    .await;
    assert_eq!(res.status(), 404);
}

async fn demo_seeding_twice_changes_nothing(backend: Backend) {
    let app = app_with_demo(backend).await;
    let sessions = count(&app, "SELECT count(*) FROM quiz_sessions").await;
    let events = count(&app, "SELECT count(*) FROM events").await;
    assert!(sessions >= 300);
    let again = demo::seed(&app.store, app.clock.now()).await.unwrap();
    assert!(!again.quiz_created);
    assert_eq!(again.respondents_added, 0);
    assert_eq!(
        count(&app, "SELECT count(*) FROM quiz_sessions").await,
        sessions
    );
    assert_eq!(count(&app, "SELECT count(*) FROM events").await, events);
}

/// A visitor new to us costs the page no write: their view waits in a
/// queue and is stored a moment later, with their contact and the query
/// they came with, once however often they look.
async fn a_first_view_is_stored_after_the_page_once_with_its_query(backend: Backend) {
    let app = app_with_demo(backend).await;
    let c = client();
    let views = "SELECT count(*) FROM events e JOIN contacts c ON c.id = e.contact_id \
                 WHERE e.name = 'quiz_viewed' AND c.hidden_fields LIKE '%newsletter%'";
    for _ in 0..3 {
        let page = c
            .get(app.url("/q/growth?utm_source=newsletter"))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        assert!(
            page.text()
                .await
                .unwrap()
                .contains("Where is your business today?")
        );
    }
    count_reaches(&app, views, 1).await;
    // A later look (the contact now known) stores nothing new.
    crate::helpers::open_quiz(&app, &c, "/q/growth").await;
    let all_views = "SELECT count(*) FROM events WHERE name = 'quiz_viewed' AND contact_id IN \
                     (SELECT id FROM contacts WHERE hidden_fields LIKE '%newsletter%')";
    assert_eq!(count(&app, all_views).await, 1);
}

/// A contact already known by `visitor` (made as an answer makes one),
/// and the published `growth` quiz's id, for storing views directly.
async fn known_visitor_and_quiz(app: &crate::helpers::TestApp, visitor: &str) -> (i64, i64) {
    use quizfunnel::store::ContactStore;
    let now = app.clock.now();
    let contact = app
        .store
        .contact_for_visitor(visitor, &Default::default(), now)
        .await
        .unwrap();
    let quiz_id = app
        .store
        .published_quiz("growth")
        .await
        .unwrap()
        .unwrap()
        .quiz_id;
    (contact, quiz_id)
}

/// A first answer can reach the database before the view that preceded
/// it; the contact it made still gets the view's query, and both count.
async fn an_answer_before_its_view_is_stored_keeps_the_views_query(backend: Backend) {
    use quizfunnel::contact::QuizView;
    use quizfunnel::store::ContactStore;
    let app = app_with_demo(backend).await;
    let now = app.clock.now();
    let (contact, quiz_id) = known_visitor_and_quiz(&app, "early-answer-0001").await;
    let view = QuizView {
        visitor_id: "early-answer-0001".into(),
        first_visit_fields: [("utm_source".to_string(), "podcast".to_string())].into(),
        quiz_id,
        slug: "growth".into(),
        at: now,
    };
    app.store
        .record_quiz_views(&[view.clone(), view], now)
        .await
        .unwrap();
    let contact_row = format!(
        "SELECT count(*) FROM contacts WHERE id = {contact} AND hidden_fields LIKE '%podcast%'"
    );
    assert_eq!(count(&app, &contact_row).await, 1);
    let views = format!(
        "SELECT count(*) FROM events WHERE name = 'quiz_viewed' AND contact_id = {contact}"
    );
    assert_eq!(count(&app, &views).await, 1, "counted once");
}

/// A batch of views larger than one statement's worth, with a visitor
/// seen twice far apart and one already known, stores one contact per
/// visitor, one view each, and the query each first brought.
async fn a_large_batch_of_views_makes_one_contact_per_visitor(backend: Backend) {
    use quizfunnel::contact::QuizView;
    use quizfunnel::store::ContactStore;
    let app = app_with_demo(backend).await;
    let now = app.clock.now();
    let (known, quiz_id) = known_visitor_and_quiz(&app, "batch-known-0001").await;
    let view = |visitor: &str, at: i64, source: Option<&str>| QuizView {
        visitor_id: visitor.into(),
        first_visit_fields: source
            .map(|s| [("utm_source".to_string(), s.to_string())].into())
            .unwrap_or_default(),
        quiz_id,
        slug: "growth".into(),
        at,
    };
    let mut views = vec![view("batch-twice-0001", now - 5, None)];
    views.extend((0..450).map(|i| view(&format!("batch-new-{i:04}"), now - i, None)));
    views.push(view("batch-known-0001", now, Some("partner")));
    views.push(view("batch-twice-0001", now, Some("podcast")));
    app.store.record_quiz_views(&views, now).await.unwrap();

    let batch = "SELECT count(*) FROM contacts WHERE visitor_id LIKE 'batch-%'";
    assert_eq!(count(&app, batch).await, 452, "one contact per visitor");
    let linked = "SELECT count(*) FROM contact_visitors v JOIN contacts c ON c.id = v.contact_id \
                  WHERE v.visitor_id LIKE 'batch-%' AND c.visitor_id = v.visitor_id";
    assert_eq!(
        count(&app, linked).await,
        452,
        "each visitor id leads to its contact"
    );
    let viewed = "SELECT count(*) FROM events e JOIN contacts c ON c.id = e.contact_id \
                  WHERE e.name = 'quiz_viewed' AND c.visitor_id LIKE 'batch-%'";
    assert_eq!(count(&app, viewed).await, 452, "one view per visitor");
    let first_seen = format!(
        "SELECT count(*) FROM contacts c JOIN contact_visitors v ON v.contact_id = c.id \
         WHERE c.visitor_id = 'batch-new-0449' AND c.first_seen = {at} AND v.first_seen = {at}",
        at = now - 449
    );
    assert_eq!(
        count(&app, &first_seen).await,
        1,
        "seen first when they viewed"
    );
    let fields = |visitor: &str, source: &str| {
        format!(
            "SELECT count(*) FROM contacts WHERE visitor_id = '{visitor}' \
             AND hidden_fields LIKE '%{source}%'"
        )
    };
    assert_eq!(count(&app, &fields("batch-known-0001", "partner")).await, 1);
    let known_row = format!("SELECT count(*) FROM contacts WHERE id = {known}");
    assert_eq!(
        count(&app, &known_row).await,
        1,
        "the known contact is kept"
    );
    assert_eq!(
        count(&app, &fields("batch-twice-0001", "podcast")).await,
        1,
        "a later view's query fills a contact that had none"
    );
}

/// Every visitor new to us gets the first step with their own script
/// nonce (the one the page's policy allows), start time and visitor id,
/// and their own view stored, though the page is rendered once per
/// published version; a new version replaces it.
async fn new_visitors_each_get_their_own_first_page(backend: Backend) {
    let app = app_with_demo(backend).await;
    // No cookie store: each request is a visitor new to us.
    let new_visitor = || async {
        let before = app.clock.now();
        let res = reqwest::Client::new()
            .get(app.url("/q/growth"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let header = |name: &str| res.headers()[name].to_str().unwrap().to_string();
        let nonce = header("content-security-policy")
            .split("'nonce-")
            .nth(1)
            .unwrap()
            .split('\'')
            .next()
            .unwrap()
            .to_string();
        let visitor = header("set-cookie")
            .strip_prefix("qf_vid=")
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let body = res.text().await.unwrap();
        let scripts = body.matches("<script").count();
        assert!(scripts > 0);
        assert_eq!(
            body.matches(&format!("nonce=\"{nonce}\"")).count(),
            scripts,
            "every script carries this response's nonce: {body}"
        );
        let token = body
            .split("name=\"started\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let started: i64 = token.split('.').next().unwrap().parse().unwrap();
        assert!((before..=app.clock.now()).contains(&started), "{started}");
        assert!(
            body.contains(&format!("\\\"started\\\":\\\"{token}\\\"")),
            "{body}"
        );
        (nonce, visitor, body)
    };
    // The ids carry the wall clock's time, not the server's moved one.
    let wall = || quizfunnel_app::state::Clock::default().now();
    let mut nonces = std::collections::BTreeSet::new();
    let mut visitors = Vec::new();
    let first_asked = wall();
    for _ in 0..3 {
        let (nonce, visitor, body) = new_visitor().await;
        assert!(body.contains("Where is your business today?"));
        nonces.insert(nonce);
        visitors.push(visitor);
        app.clock.advance(1_000);
    }
    assert_eq!(nonces.len(), 3);
    // An id begins with when it was made, in hex milliseconds, so each
    // new visitor sorts after the ones before.
    let made = |v: &str| i64::from_str_radix(&v[..12], 16).unwrap();
    assert!(
        (first_asked..=wall()).contains(&made(&visitors[0])),
        "{visitors:?}"
    );
    assert!(
        visitors.windows(2).all(|w| made(&w[0]) <= made(&w[1])),
        "{visitors:?}"
    );
    let stored = format!(
        "SELECT count(DISTINCT contact_id) FROM contact_visitors WHERE visitor_id IN ('{}')",
        visitors.join("', '")
    );
    count_reaches(&app, &stored, 3).await;

    let id = app.store.quiz_id_by_slug("growth").await.unwrap().unwrap();
    let quiz = app.store.quiz(id).await.unwrap();
    let mut draft = quiz.draft.clone();
    draft.title = "Growth, revised".into();
    let now = app.clock.now();
    let revision = app
        .store
        .save_draft(id, "growth", &draft, quiz.draft_revision, now)
        .await
        .unwrap();
    // `app.store` is another instance: the server sees it within a second.
    app.store.publish_draft(id, revision, now).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !new_visitor().await.2.contains("Growth, revised") {
        assert!(
            std::time::Instant::now() < deadline,
            "new visitors never saw the published change"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Respondents answering at the same moment (on SQLite their answers share
/// the writer's transactions): each answer lands in its own session, with
/// its own rows and its own event.
async fn respondents_answering_at_once_each_keep_their_own_answers(backend: Backend) {
    const RESPONDENTS: usize = 24;
    let app = std::sync::Arc::new(app_with_demo(backend).await);
    // The demo's own respondents stay out of the counts.
    let before = count(&app, "SELECT COALESCE(max(id), 0) FROM quiz_sessions").await;
    let mut answering = tokio::task::JoinSet::new();
    for i in 0..RESPONDENTS {
        let app = app.clone();
        answering.spawn(async move {
            let c = client();
            crate::helpers::open_quiz(&app, &c, "/q/growth").await;
            let budget = ["low", "mid", "high"][i % 3];
            let channel = ["ads", "seo"][i % 2];
            let urgency = (i % 5 + 1).to_string();
            let steps: [&[(&str, &str)]; 4] = [
                &[("question", "stage"), ("answer", "scaling")],
                &[("question", "budget"), ("answer", budget)],
                &[("question", "urgency"), ("answer", &urgency)],
                &[
                    ("question", "channels"),
                    ("answer", "email"),
                    ("answer", channel),
                ],
            ];
            for step in steps {
                assert_eq!(answer(&app, &c, step).await, (303, "/q/growth".into()));
            }
        });
    }
    while let Some(done) = answering.join_next().await {
        done.unwrap();
    }
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) FROM quiz_sessions WHERE id > {before} \
                 AND current_question = 'blocker'"
            )
        )
        .await,
        RESPONDENTS as i64
    );
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) FROM answers WHERE session_id > {before} \
                 AND question_key = 'budget' AND option_key = 'high'"
            )
        )
        .await,
        (RESPONDENTS / 3) as i64
    );
    // Every chosen option twice over, the same: as a row and in the event.
    let rows: std::collections::BTreeSet<String> = crate::load::strings(
        &app.store,
        &format!(
            "SELECT a.session_id || ':' || a.question_key || ':' || a.option_key FROM answers a \
             WHERE a.session_id > {before} AND a.option_key <> ''"
        ),
    )
    .await
    .into_iter()
    .collect();
    let (mut from_events, mut answered) = (std::collections::BTreeSet::new(), 0);
    let events = crate::load::strings(
        &app.store,
        "SELECT CAST(properties AS TEXT) FROM events WHERE name = 'question_answered'",
    )
    .await;
    for props in events {
        let props: serde_json::Value = serde_json::from_str(&props).unwrap();
        if props["session_id"].as_i64().unwrap() <= before {
            continue;
        }
        answered += 1;
        for option in props["options"].as_array().unwrap() {
            from_events.insert(format!(
                "{}:{}:{}",
                props["session_id"],
                props["question"].as_str().unwrap(),
                option.as_str().unwrap()
            ));
        }
    }
    assert_eq!(answered, 4 * RESPONDENTS);
    assert_eq!(rows.len(), 4 * RESPONDENTS, "{rows:?}");
    assert_eq!(rows, from_events);
}

/// The session `start_session` hands back, made without reading it again,
/// is the one stored; a second start while it is open (a double click)
/// hands back that same session.
async fn a_started_session_is_the_one_stored(backend: Backend) {
    let app = app_with_demo(backend).await;
    let store = &app.store;
    let quiz = store.published_quiz("growth").await.unwrap().unwrap();
    let now = app.clock.now();
    let contact = store
        .contact_for_visitor("started-session", &Default::default(), now)
        .await
        .unwrap();
    let hidden = [("utm_source".to_string(), "news".to_string())].into();
    let start = |at| {
        store.start_session(
            contact,
            Some("started-session-browser"),
            quiz.quiz_id,
            quiz.version_id,
            Some("stage"),
            &hidden,
            at,
        )
    };
    let started = start(now).await.unwrap();
    assert_eq!(started.started_at, now);
    assert_eq!(started.current_question.as_deref(), Some("stage"));
    let held = store
        .browser_session("started-session-browser", quiz.quiz_id, false)
        .await
        .unwrap();
    assert_eq!(held.as_ref(), Some(&started));
    assert_eq!(start(now + 1_000).await.unwrap(), started);
    // Another browser of the same contact starts its own.
    let other = store
        .start_session(
            contact,
            Some("another-browser"),
            quiz.quiz_id,
            quiz.version_id,
            Some("stage"),
            &hidden,
            now + 2_000,
        )
        .await
        .unwrap();
    assert_ne!(other.id, started.id);
}

/// A post reads its visitor's contact and its browser's session at once;
/// each is the one the visitor's and the browser's own lookups give.
async fn a_post_reads_the_visitors_contact_and_the_browsers_session(backend: Backend) {
    let app = app_with_demo(backend).await;
    let store = &app.store;
    let now = app.clock.now();
    let quiz = store.published_quiz("growth").await.unwrap().unwrap();
    let none = &std::collections::BTreeMap::new();
    let visit = |visitor: &'static str, browser: Option<&'static str>, quiz_id: i64| async move {
        let (contact, session) = store
            .visitor_and_session(visitor, browser, quiz_id, none, now)
            .await
            .unwrap();
        (contact, session.map(|s| s.id))
    };
    // A visitor seen for the first time gets their contact.
    let (first, session) = visit("new-visitor", None, quiz.quiz_id).await;
    assert_eq!(session, None);
    assert_eq!(
        store
            .contact_for_visitor("new-visitor", none, now)
            .await
            .unwrap(),
        first
    );
    let started = store
        .start_session(
            first,
            Some("browser-1"),
            quiz.quiz_id,
            quiz.version_id,
            None,
            none,
            now,
        )
        .await
        .unwrap();
    assert_eq!(
        visit("new-visitor", Some("browser-1"), quiz.quiz_id).await,
        (first, Some(started.id))
    );
    // Another quiz, or a browser new to us, has no session.
    assert_eq!(
        visit("new-visitor", Some("browser-1"), quiz.quiz_id + 1)
            .await
            .1,
        None
    );
    assert_eq!(
        visit("new-visitor", Some("browser-2"), quiz.quiz_id)
            .await
            .1,
        None
    );
    // The session is the browser's, whoever's visitor id comes with it.
    let (other, session) = visit("other-visitor", Some("browser-1"), quiz.quiz_id).await;
    assert_ne!(other, first);
    assert_eq!(session, Some(started.id));
    let latest = store
        .browser_session("browser-1", quiz.quiz_id, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.id, started.id);
}

crate::on_both_backends!(
    a_post_reads_the_visitors_contact_and_the_browsers_session,
    respondents_answering_at_once_each_keep_their_own_answers,
    a_started_session_is_the_one_stored,
    a_first_view_is_stored_after_the_page_once_with_its_query,
    new_visitors_each_get_their_own_first_page,
    an_answer_before_its_view_is_stored_keeps_the_views_query,
    a_large_batch_of_views_makes_one_contact_per_visitor,
    respondent_without_javascript_completes_and_sees_the_outcome_they_earned,
    replayed_and_double_clicked_steps_store_nothing_twice,
    bad_answers_are_shown_again_with_the_message_and_nothing_is_stored,
    going_back_keeps_earlier_answers,
    branch_skips_questions_for_early_stage_respondents,
    bots_filling_the_honeypot_are_dropped_silently,
    a_branch_past_the_email_question_still_meets_the_lead_gate,
    a_browser_keeping_no_cookies_is_told_why_its_place_was_lost,
    a_result_sent_too_soon_is_asked_again,
    a_start_time_the_server_did_not_sign_counts_from_the_post,
    a_start_signed_by_one_instance_counts_on_another,
    an_answer_changed_on_a_page_from_the_browsers_history_is_taken,
    the_result_page_offers_the_result_by_email_and_names_a_bad_address,
    unknown_quiz_is_a_friendly_404,
    demo_seeding_twice_changes_nothing,
    a_link_with_someones_visitor_id_shows_none_of_their_answers,
    an_email_given_for_a_visitor_shows_none_of_that_persons_answers,
    a_retake_moves_the_lead_to_its_new_tier,
    another_quiz_finished_keeps_the_leads_score_and_entry,
    a_quiz_taken_on_a_shared_device_belongs_to_the_email_given,
    a_result_asked_for_on_a_shared_device_moves_its_lead,
    a_result_page_never_shows_someone_elses_email,
    a_restart_or_a_discarded_bot_leaves_the_answer_segments,
    fields_holding_nul_are_left_out_and_the_visit_is_kept,
    a_double_clicked_last_step_shows_the_result,
    quiz_cookies_reach_an_embedded_quiz_only_over_https,
    answers_of_a_branch_left_behind_do_not_count,
);

async fn embed_script_frames_published_quizzes_only(backend: Backend) {
    let app = app_with_demo(backend).await;
    let res = app.get("/embed/growth.js").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(
        res.text()
            .await
            .unwrap()
            .contains(r#"origin + "/q/growth""#)
    );
    assert_eq!(app.get("/embed/nope.js").await.status(), 404);
    assert_eq!(app.get("/embed/growth.css").await.status(), 404);
    // The quiz may be framed by any site; the admin by none.
    let quiz = app.get("/q/growth").await;
    assert!(
        quiz.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors *")
    );
    assert!(!quiz.headers().contains_key("x-frame-options"));
    let admin = app.get("/login").await;
    assert_eq!(admin.headers()["x-frame-options"], "DENY");
}

crate::on_both_backends!(embed_script_frames_published_quizzes_only);

/// Quiz links written with a slash at the end (site builders and mail
/// tools add one) reach the quiz, with their campaign tags.
async fn a_quiz_link_with_a_slash_at_the_end_reaches_the_quiz(backend: Backend) {
    let app = app_with_demo(backend).await;
    let c = client();
    for (from, to) in [
        ("/q/growth/?utm_source=news", "/q/growth?utm_source=news"),
        ("/q/growth/result/", "/q/growth/result"),
    ] {
        let res = c.get(app.url(from)).send().await.unwrap();
        assert_eq!(res.status(), 308, "{from}");
        assert_eq!(res.headers()["location"], to, "{from}");
    }
    let html = page(&c, app.url("/q/growth?utm_source=news")).await;
    assert!(html.contains(FIRST_QUESTION), "{html}");
    // Never a link to another site.
    for elsewhere in ["//example.com/"] {
        let res = c.get(app.url(elsewhere)).send().await.unwrap();
        assert!(
            res.status().is_client_error(),
            "{elsewhere}: {}",
            res.status()
        );
    }
    // A post goes on as a post.
    let res = c.post(app.url("/q/growth/")).send().await.unwrap();
    assert_eq!(res.status(), 308);
    assert_eq!(res.headers()["location"], "/q/growth");
}

crate::on_both_backends!(a_quiz_link_with_a_slash_at_the_end_reaches_the_quiz);

/// Links and embeds made before a quiz was renamed still reach it, until
/// another quiz takes the old address.
async fn links_to_a_renamed_quiz_reach_it_at_its_new_address(backend: Backend) {
    use quizfunnel::store::QuizStore;
    let app = app_with_demo(backend).await;
    let c = client();
    let id = app.store.quiz_id_by_slug("growth").await.unwrap().unwrap();
    let draft = app.store.quiz(id).await.unwrap().draft;
    crate::helpers::publish_edit(&app, id, "grow", &draft).await;
    for (from, to) in [
        ("/q/growth?utm_source=news", "/q/grow?utm_source=news"),
        ("/q/growth/result", "/q/grow/result"),
        ("/embed/growth.js", "/embed/grow.js"),
    ] {
        let res = c.get(app.url(from)).send().await.unwrap();
        assert_eq!(res.status(), 307, "{from}");
        assert_eq!(res.headers()["location"], to, "{from}");
    }
    assert!(page(&c, app.url("/q/grow")).await.contains(FIRST_QUESTION));
    assert_eq!(
        c.get(app.url("/q/nothing-here"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    // A new quiz at the old address is what it shows from then on.
    let def = serde_json::from_str(EMAIL_AFTER).unwrap();
    let other = app.store.create_quiz("growth", &def, 0).await.unwrap();
    app.store.publish_quiz(other, 0).await.unwrap();
    let res = c.get(app.url("/q/growth")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Team size?"));
}

crate::on_both_backends!(links_to_a_renamed_quiz_reach_it_at_its_new_address);
