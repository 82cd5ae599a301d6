//! The live dashboard: counts pushed over server-sent events (across
//! instances on Postgres), and the quiz funnel; on both databases.

use crate::helpers::{Backend, TestApp, client, post_form, second_instance, spawn_app};
use futures_util::StreamExt;
use quizfunnel::account::Role;
use quizfunnel::rule::Rule;
use quizfunnel::store::{ContactStore, QuizStore, SegmentStore, Tier};
use serde_json::Value;
use std::time::Duration;

/// Reads `/admin/live` as a browser's EventSource would.
struct Live {
    chunks: std::pin::Pin<
        Box<dyn futures_util::Stream<Item = reqwest::Result<axum::body::Bytes>> + Send>,
    >,
    buffer: String,
}

impl Live {
    async fn open(app: &TestApp, c: &reqwest::Client) -> Live {
        let res = c.get(app.url("/admin/live")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        Live {
            chunks: Box::pin(res.bytes_stream()),
            buffer: String::new(),
        }
    }

    /// The next `counts` event's data (waiting up to a minute).
    async fn next_counts(&mut self) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let event: String = self.buffer.drain(..end + 2).collect();
                if event.lines().any(|l| l == "event: counts") {
                    let data: String = event
                        .lines()
                        .filter_map(|l| l.strip_prefix("data: "))
                        .collect();
                    return serde_json::from_str(&data).unwrap();
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.chunks.next())
                .await
                .expect("a counts event within a minute")
                .expect("the stream stays open")
                .unwrap();
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}

fn leads_in(counts: &Value, tier: &str) -> i64 {
    counts["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["slug"] == tier)
        .map(|t| t["leads"].as_i64().unwrap())
        .unwrap()
}

/// The growth quiz published, with one tier placing every completer.
pub async fn quiz_with_a_tier(app: &TestApp) {
    publish_with_a_tier(app, "growth", &quizfunnel::quiz::demo::growth_quiz()).await;
}

/// Publishes `def` at `slug` with one tier, `finished`: whoever completes it.
pub async fn publish_with_a_tier(
    app: &TestApp,
    slug: &str,
    def: &quizfunnel::quiz::QuizDefinition,
) {
    let quiz = app.store.create_quiz(slug, def, 0).await.unwrap();
    app.store.publish_quiz(quiz, 0).await.unwrap();
    let rule = Rule::parse(&format!("completed({slug})")).unwrap();
    let segment = app
        .store
        .create_segment("finished", "Finished", "", &rule, 0)
        .await
        .unwrap();
    app.store
        .set_playbook(&[Tier {
            segment_id: segment,
            next_step: "nurture".into(),
            outcome_key: None,
        }])
        .await
        .unwrap();
}

/// One respondent's visit and answers, each step a couple of seconds on.
pub async fn respond(app: &TestApp, steps: &[&[(&str, &str)]]) {
    let c = client();
    crate::helpers::open_quiz(app, &c, "/q/growth").await;
    for step in steps {
        app.clock.advance(2_000);
        let res = post_form(&c, &app.url("/q/growth"), step).await;
        assert_eq!(res.status(), 303, "{step:?}");
    }
}

pub fn with_email<'a>(
    path: &[&'a [(&'a str, &'a str)]],
    email: &'a str,
) -> Vec<Vec<(&'a str, &'a str)>> {
    let mut steps: Vec<Vec<(&str, &str)>> = path.iter().map(|s| s.to_vec()).collect();
    let last = steps.last_mut().unwrap();
    for field in last.iter_mut() {
        if field.0 == "email" {
            field.1 = email;
        }
    }
    steps
}

/// Two answers of the growth quiz, then gone: stopped at urgency.
const CY_LEAVES_AT_URGENCY: &[&[(&str, &str)]] = &[
    &[("question", "stage"), ("answer", "growing")],
    &[("question", "budget"), ("answer", "mid")],
];

async fn a_completion_reaches_an_open_dashboard_stream(backend: Backend) {
    let app = spawn_app(backend).await;
    quiz_with_a_tier(&app).await;
    let (marketer, _) = app.signed_in(Role::Marketer).await;
    let mut live = Live::open(&app, &marketer).await;
    let before = live.next_counts().await;
    assert_eq!(leads_in(&before, "finished"), 0);

    respond(&app, crate::respond::FULL_PATH).await;
    let mut counts = live.next_counts().await;
    while leads_in(&counts, "finished") == 0 {
        counts = live.next_counts().await;
    }
    assert_eq!(leads_in(&counts, "finished"), 1);
    let finished = counts["segments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["slug"] == "finished")
        .unwrap()
        .clone();
    assert_eq!(finished["members"], 1);

    // Nobody signed out gets the stream.
    let res = client().get(app.url("/admin/live")).send().await.unwrap();
    assert_ne!(res.status(), 200);
}

async fn a_completion_on_one_instance_reaches_a_dashboard_on_another(backend: Backend) {
    let a = spawn_app(backend).await;
    quiz_with_a_tier(&a).await;
    let b = second_instance(&a).await;
    let (marketer, _) = b.signed_in(Role::Marketer).await;
    let mut live = Live::open(&b, &marketer).await;
    assert_eq!(leads_in(&live.next_counts().await, "finished"), 0);
    respond(&a, crate::respond::FULL_PATH).await;
    let mut counts = live.next_counts().await;
    while leads_in(&counts, "finished") == 0 {
        counts = live.next_counts().await;
    }
    assert_eq!(leads_in(&counts, "finished"), 1);
}

async fn the_funnel_counts_each_step_and_skips_what_a_branch_skipped(backend: Backend) {
    let app = spawn_app(backend).await;
    quiz_with_a_tier(&app).await;
    let tail: &[&[(&str, &str)]] = &crate::respond::FULL_PATH[3..];
    // Ada: the whole quiz.
    let ada = with_email(crate::respond::FULL_PATH, "ada@example.com");
    let ada: Vec<&[(&str, &str)]> = ada.iter().map(|s| s.as_slice()).collect();
    respond(&app, &ada).await;
    // Bo: "just exploring" jumps over budget and urgency, then finishes.
    let mut bo: Vec<&[(&str, &str)]> = vec![&[("question", "stage"), ("answer", "idea")]];
    let bo_tail = with_email(tail, "bo@example.com");
    bo.extend(bo_tail.iter().map(|s| s.as_slice()));
    respond(&app, &bo).await;
    // Cy: two answers, then leaves at urgency.
    respond(&app, CY_LEAVES_AT_URGENCY).await;
    // Di: opens the quiz and leaves.
    respond(&app, &[]).await;

    let (sales, _) = app.signed_in(Role::Sales).await;
    let res = post_form(
        &sales,
        &app.url("/api/dashboard/funnel"),
        &[
            ("quiz", "growth"),
            ("from", ""),
            ("until", ""),
            ("source", ""),
        ],
    )
    .await;
    assert_eq!(res.status(), 200);
    let view: Value = res.json().await.unwrap();
    let f = &view["funnel"];
    assert_eq!(
        (f["views"].as_i64(), f["starts"].as_i64()),
        (Some(4), Some(3))
    );
    let steps: Vec<(String, i64, i64)> = f["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            (
                q["key"].as_str().unwrap().to_string(),
                q["reached"].as_i64().unwrap(),
                q["stopped"].as_i64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, i64, i64)> = [
        ("stage", 3, 0),
        // Bo never saw budget or urgency: not a drop-off.
        ("budget", 2, 0),
        ("urgency", 2, 1),
        ("channels", 2, 0),
        ("blocker", 2, 0),
        ("team", 2, 0),
        ("contact", 2, 0),
    ]
    .iter()
    .map(|(k, r, s)| (k.to_string(), *r, *s))
    .collect();
    assert_eq!(steps, expected);
    assert_eq!(
        (f["completions"].as_i64(), f["captured"].as_i64()),
        (Some(2), Some(2))
    );
    assert_eq!(f["tiers"], serde_json::json!([["finished", 2]]));

    // A source nobody came from counts nobody; a bad date is refused.
    let res = post_form(
        &sales,
        &app.url("/api/dashboard/funnel"),
        &[
            ("quiz", "growth"),
            ("from", ""),
            ("until", ""),
            ("source", "nowhere"),
        ],
    )
    .await;
    let view: Value = res.json().await.unwrap();
    assert_eq!(view["funnel"]["views"], 0);
    let res = post_form(
        &sales,
        &app.url("/api/dashboard/funnel"),
        &[
            ("quiz", "growth"),
            ("from", "soon"),
            ("until", ""),
            ("source", ""),
        ],
    )
    .await;
    assert_eq!(res.status(), 422);
    let res = post_form(
        &sales,
        &app.url("/api/dashboard/funnel"),
        &[
            ("quiz", "nope"),
            ("from", ""),
            ("until", ""),
            ("source", ""),
        ],
    )
    .await;
    assert_eq!(res.status(), 422);
}

/// A funnel's "stopped" count opens the contact list of those people,
/// within the funnel's own filters; a half-named stop is refused.
async fn the_people_who_stopped_at_a_question_are_listed(backend: Backend) {
    let app = spawn_app(backend).await;
    quiz_with_a_tier(&app).await;
    // Ada finishes, then starts again and waits at the first question
    // having answered nothing: not a drop-off.
    let ada = with_email(crate::respond::FULL_PATH, "ada@example.com");
    let mut ada: Vec<&[(&str, &str)]> = ada.iter().map(|s| s.as_slice()).collect();
    ada.push(&[("action", "restart")]);
    respond(&app, &ada).await;
    // Cy leaves at urgency; Di opens the quiz and answers nothing.
    respond(&app, CY_LEAVES_AT_URGENCY).await;
    respond(&app, &[]).await;
    // Eve came from an ad and leaves at budget.
    let eve = client();
    crate::helpers::open_quiz(&app, &eve, "/q/growth?utm_source=ads").await;
    app.clock.advance(2_000);
    let step = [
        ("question", "stage"),
        ("answer", "growing"),
        ("hidden.utm_source", "ads"),
    ];
    let res = post_form(&eve, &app.url("/q/growth"), &step).await;
    assert_eq!(res.status(), 303);
    let restarted = "SELECT count(*) FROM quiz_sessions WHERE current_question = 'stage' \
                     AND completed_at IS NULL";
    assert_eq!(crate::helpers::count(&app, restarted).await, 1);
    let cy: i64 = crate::helpers::count(
        &app,
        "SELECT contact_id FROM quiz_sessions WHERE current_question = 'urgency' \
         AND completed_at IS NULL",
    )
    .await;

    let (sales, _) = app.signed_in(Role::Sales).await;
    let list = |stop: &[(&'static str, String)]| {
        let mut form: Vec<(&str, String)> =
            ["search", "attr_key", "attr_value", "from", "until", "after"]
                .into_iter()
                .map(|k| (k, String::new()))
                .collect();
        form.push(("completed", "false".into()));
        form.extend(stop.iter().cloned());
        let sales = sales.clone();
        let url = app.url("/api/contacts/list");
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let res = post_form(&sales, &url, &form).await;
            let status = res.status().as_u16();
            (status, res.text().await.unwrap())
        }
    };
    let stop = |question: &str, extra: &[(&'static str, &str)]| {
        let mut form = vec![
            ("quiz", "growth".to_string()),
            ("stopped_at", question.to_string()),
        ];
        form.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        form
    };
    let listed = |body: &str| -> Vec<i64> {
        let v: Value = serde_json::from_str(body).unwrap();
        v["list"]["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect()
    };

    let (status, body) = list(&stop("urgency", &[])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(listed(&body), vec![cy]);
    let v: Value = serde_json::from_str(&body).unwrap();
    let growth = quizfunnel::quiz::demo::growth_quiz();
    let urgency = growth
        .questions
        .iter()
        .find(|q| q.key == "urgency")
        .unwrap();
    assert_eq!(v["stopped"]["prompt"], urgency.prompt.as_str());
    assert_eq!(v["stopped"]["quiz_title"], growth.title.as_str());
    let counted = |v: &Value| {
        (
            v["stopped"]["counted"]["sessions"].clone(),
            v["stopped"]["counted"]["people"].clone(),
        )
    };
    assert_eq!(counted(&v), (1.into(), 1.into()));
    // Nobody stopped at the first question or came from nowhere; the
    // session started today, not before it.
    assert_eq!(
        listed(&list(&stop("stage", &[])).await.1),
        Vec::<i64>::new()
    );
    let nowhere = stop("urgency", &[("source", "nowhere")]);
    assert_eq!(listed(&list(&nowhere).await.1), Vec::<i64>::new());
    let eve: i64 = crate::helpers::count(
        &app,
        "SELECT contact_id FROM quiz_sessions WHERE current_question = 'budget' \
         AND completed_at IS NULL",
    )
    .await;
    let from_ads = stop("budget", &[("source", "ads")]);
    assert_eq!(listed(&list(&from_ads).await.1), vec![eve]);
    let cy_from_ads = stop("urgency", &[("source", "ads")]);
    assert_eq!(listed(&list(&cy_from_ads).await.1), Vec::<i64>::new());
    let today = quizfunnel::time::format_iso(app.clock.now());
    let today = &today[..10];
    let within = stop(
        "urgency",
        &[("started_from", today), ("started_until", today)],
    );
    assert_eq!(listed(&list(&within).await.1), vec![cy]);
    let before = quizfunnel::time::format_iso(app.clock.now() - quizfunnel::rule::DAY_MS);
    let earlier = stop("urgency", &[("started_until", &before[..10])]);
    assert_eq!(listed(&list(&earlier).await.1), Vec::<i64>::new());
    // Without a stop, everyone, and nothing named.
    let (_, body) = list(&[]).await;
    let everyone = listed(&body);
    assert!(everyone.len() > 1 && everyone.contains(&cy), "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(v["stopped"].is_null());

    // Fay leaves at urgency on her phone and again on her laptop, and the
    // two records are found to be her: the funnel counts her two sessions,
    // the list her once, and says so.
    respond(&app, CY_LEAVES_AT_URGENCY).await;
    respond(&app, CY_LEAVES_AT_URGENCY).await;
    let fay = |nth: &str| {
        format!(
            "SELECT contact_id FROM quiz_sessions WHERE current_question = 'urgency' \
             AND completed_at IS NULL AND contact_id <> {cy} ORDER BY contact_id {nth} LIMIT 1"
        )
    };
    let phone = crate::helpers::count(&app, &fay("ASC")).await;
    let laptop = crate::helpers::count(&app, &fay("DESC")).await;
    app.store
        .merge_contacts(phone, laptop, app.clock.now())
        .await
        .unwrap();
    let (status, body) = list(&stop("urgency", &[])).await;
    assert_eq!(status, 200, "{body}");
    let people = listed(&body);
    assert_eq!(people.len(), 2, "{body}");
    assert!(people.contains(&cy), "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(counted(&v), (3.into(), 2.into()));
    assert_eq!(v["list"]["total"], 2);

    // Half a stop, or a date that is not one, says what to fix.
    let (status, body) = list(&[("stopped_at", "urgency".into())]).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("name the quiz"), "{body}");
    let (status, body) = list(&[("quiz", "growth".into())]).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("name the question"), "{body}");
    let (status, body) = list(&stop("urgency", &[("started_from", "soon")])).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("YYYY-MM-DD"), "{body}");
}

crate::on_both_backends!(
    a_completion_reaches_an_open_dashboard_stream,
    the_funnel_counts_each_step_and_skips_what_a_branch_skipped,
    the_people_who_stopped_at_a_question_are_listed,
);

mod across_instances {
    /// Instances share counts through Postgres; SQLite is one process.
    #[tokio::test]
    async fn postgres() {
        super::a_completion_on_one_instance_reaches_a_dashboard_on_another(
            crate::helpers::Backend::Postgres,
        )
        .await
    }
}
