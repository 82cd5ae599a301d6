//! Segments counted live and the tier playbook, on both databases.

use crate::helpers::{Backend, call, count, spawn_app};
use quizfunnel::account::Role;
use quizfunnel::rule::Rule;
use quizfunnel::store::{ContactStore, QuizStore, SegmentStore, StoreError};
use quizfunnel_server::demo;
use quizfunnel_server::store::Db;
use serde_json::json;

async fn demo_tiers_place_every_completer_exactly_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let seeded = demo::seed(&app.store, app.clock.now()).await.unwrap();
    assert!(seeded.playbook_created);
    let now = app.clock.now();
    let tiers = app.store.playbook(now).await.unwrap();
    let slugs: Vec<&str> = tiers.iter().map(|t| t.segment.slug.as_str()).collect();
    assert_eq!(slugs, ["fast-track", "nurture", "disqualify"]);
    let completers = app
        .store
        .count_matching(&Rule::parse("completed(growth)").unwrap(), now)
        .await
        .unwrap();
    assert!(completers > 100, "{completers}");
    let placed: i64 = tiers.iter().map(|t| t.placed).sum();
    assert_eq!(
        placed, completers,
        "first match wins: no overlap, nobody left out"
    );
    // Each completion was placed as it happened, in the same tiers.
    for tier in &tiers {
        let sql = format!(
            "SELECT count(DISTINCT contact_id) FROM placements WHERE segment_slug = '{}'",
            tier.segment.slug
        );
        assert_eq!(
            count(&app, &sql).await,
            tier.placed,
            "{}",
            tier.segment.slug
        );
    }
    // Nurture as a segment includes the fast-track contacts; as a tier not.
    let nurture = &tiers[1];
    assert_eq!(nurture.segment.count, nurture.placed + tiers[0].placed);
    assert!(!demo::seed(&app.store, now).await.unwrap().playbook_created);
}

async fn dashboard_shows_tier_counts_to_signed_in_users(backend: Backend) {
    let app = spawn_app(backend).await;
    demo::seed(&app.store, app.clock.now()).await.unwrap();
    let (sales, _) = app.signed_in(Role::Sales).await;
    let html = sales
        .get(app.url("/admin"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Fast-track sales"), "{html}");
    assert!(html.contains("Next step: fast track"));
    // Each tier's count leads to its list of leads.
    assert!(
        html.contains(r#"href="/admin/leads?tier=fast-track""#),
        "{html}"
    );
}

async fn a_segment_slug_is_unique(backend: Backend) {
    let app = spawn_app(backend).await;
    let rule = Rule::parse("never(invited_teammate)").unwrap();
    app.store
        .create_segment("quiet", "Quiet", "", &rule, 0)
        .await
        .unwrap();
    let again = app
        .store
        .create_segment("quiet", "Quiet 2", "", &rule, 0)
        .await;
    assert!(matches!(
        again,
        Err(quizfunnel::store::StoreError::Conflict(_))
    ));
}

async fn other_systems_read_segments_and_their_members_with_an_api_key(backend: Backend) {
    let app = spawn_app(backend).await;
    demo::seed(&app.store, app.clock.now()).await.unwrap();
    let key = crate::ingest::api_key(&app).await;
    let http = reqwest::Client::new();
    let get = |path: &str| {
        http.get(app.url(path))
            .header("authorization", format!("Bearer {key}"))
            .send()
    };

    let res = http.get(app.url("/api/v1/segments")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("API key"));

    let list: serde_json::Value = get("/api/v1/segments").await.unwrap().json().await.unwrap();
    let nurture = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["slug"] == "nurture")
        .expect("the demo's nurture segment is listed");
    let rule = app.store.segment_rule("nurture").await.unwrap().unwrap();
    let expected = app
        .store
        .count_matching(&rule, app.clock.now())
        .await
        .unwrap();
    assert!(expected > 0);
    assert_eq!(nurture["count"], expected);
    assert!(nurture["name"].is_string() && nurture["updated_at"].is_i64());

    // Paging through with `after` visits every member once, in id order.
    let mut ids = Vec::new();
    let mut after = 0;
    loop {
        let page: serde_json::Value = get(&format!(
            "/api/v1/segments/nurture/members?limit=25&after={after}"
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        ids.extend(
            page["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_i64().unwrap()),
        );
        match page["next_after"].as_i64() {
            Some(next) => after = next,
            None => break,
        }
    }
    assert_eq!(ids.len() as i64, expected);
    assert!(ids.windows(2).all(|w| w[0] < w[1]));

    let res = get("/api/v1/segments/nurture/members.csv").await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = res.text().await.unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("id,email,name,first_seen,last_seen"));
    assert_eq!(lines.count() as i64, expected);
    let res = get("/api/v1/segments/no-such-segment/members.csv")
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    let res = get("/api/v1/segments/no-such-segment/members")
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("no-such-segment"));
    let res = get("/api/v1/segments/nurture/members?limit=0")
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["details"][0]["field"], "limit");
}

async fn marketers_write_segment_rules_and_see_whom_they_match(backend: Backend) {
    let app = spawn_app(backend).await;
    demo::seed(&app.store, app.clock.now()).await.unwrap();
    let (c, _) = app.signed_in(Role::Marketer).await;
    let text = "all(completed(growth), score(growth) >= 7, never(invited_teammate))";
    let expected = app
        .store
        .count_matching(&Rule::parse(text).unwrap(), app.clock.now())
        .await
        .unwrap();
    assert!(expected > 0);

    let (status, body) = call(&app, &c, "/api/segments/preview", &[("text", text)]).await;
    assert_eq!(status, 200, "{body}");
    let preview: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(preview["count"], expected);
    assert_eq!(
        preview["sample"].as_array().unwrap().len() as i64,
        expected.min(10)
    );

    // Bad rules: a 422 naming the problem, and nothing saved.
    let segments_before = count(&app, "SELECT count(*) FROM segments").await;
    for (bad, says) in [
        ("all(completed(growth)", "line 1"),
        ("completed(no-such-quiz)", "no-such-quiz"),
        ("answered(growth.budget = gazillions)", "gazillions"),
        ("in_segment(hot)", "hot"),
    ] {
        let form = [
            ("slug", "hot"),
            ("name", "Hot"),
            ("description", ""),
            ("text", bad),
        ];
        let (status, body) = call(&app, &c, "/api/segments/save", &form).await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert!(body.contains(says), "{bad}: {body}");
        let (status, _) = call(&app, &c, "/api/segments/preview", &[("text", bad)]).await;
        assert_eq!(status, 422, "{bad}");
    }
    let form = [
        ("slug", "Not A Slug!"),
        ("name", "Hot"),
        ("description", ""),
        ("text", text),
    ];
    assert_eq!(call(&app, &c, "/api/segments/save", &form).await.0, 422);
    let form = [
        ("slug", "hot"),
        ("name", " "),
        ("description", ""),
        ("text", text),
    ];
    assert_eq!(call(&app, &c, "/api/segments/save", &form).await.0, 422);
    assert_eq!(
        count(&app, "SELECT count(*) FROM segments").await,
        segments_before
    );

    let form = [
        ("slug", "hot"),
        ("name", "Hot leads"),
        ("description", ""),
        ("text", text),
    ];
    let (status, body) = call(&app, &c, "/api/segments/save", &form).await;
    assert_eq!(status, 200, "{body}");
    let id: i64 = body.trim().parse().unwrap();
    // The count is the stored memberships', complete once the rebuild is.
    rebuilt(&app, &c, id).await;
    let saved = app.store.segment(id).await.unwrap();
    assert_eq!((saved.name.as_str(), saved.count), ("Hot leads", expected));
    // The slug is taken now.
    assert_eq!(call(&app, &c, "/api/segments/save", &form).await.0, 409);

    // Changing the rule: the members follow; a rule on itself is refused.
    let id_text = id.to_string();
    let form = [
        ("id", id_text.as_str()),
        ("slug", ""),
        ("name", "Hot leads"),
        ("description", "Finished, scored 7+"),
        ("text", "in_segment(hot)"),
    ];
    assert_eq!(call(&app, &c, "/api/segments/save", &form).await.0, 422);
    let form = [
        ("id", id_text.as_str()),
        ("slug", ""),
        ("name", "Hot leads"),
        ("description", "Finished, scored 7+"),
        ("text", "completed(growth)"),
    ];
    assert_eq!(call(&app, &c, "/api/segments/save", &form).await.0, 200);
    rebuilt(&app, &c, id).await;
    let (_, body) = call(&app, &c, "/api/segments/get", &[("id", &id_text)]).await;
    let edit: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(edit["text"], "completed(growth)");
    assert!(edit["segment"]["count"].as_i64().unwrap() > expected);
    assert_eq!(
        edit["members"].as_array().unwrap().len() as i64,
        edit["segment"]["count"].as_i64().unwrap().min(100)
    );
}

async fn the_rule_builder_offers_what_exists_to_marketers(backend: Backend) {
    use crate::contacts::{batch, event, visitor};
    use quizfunnel::contact::{AttrChange, AttrKind, Attribute, Identify, Subject};
    let app = spawn_app(backend).await;
    let now = app.clock.now();
    demo::seed(&app.store, now).await.unwrap();
    let ada = Subject::Visitor(visitor("ada-visitor-0001"));
    let events = batch(vec![
        event(ada.clone(), "webinar_joined", now, None),
        event(ada, "webinar_joined", now, None),
    ]);
    app.store.ingest_events(&events, now).await.unwrap();
    let mut who = Identify::email(quizfunnel::email::Email::parse("bo@example.com").unwrap());
    who.attributes = vec![AttrChange::Set(Attribute {
        key: "seats".into(),
        kind: AttrKind::String,
        text: "50".into(),
    })];
    app.store.identify(&who, now).await.unwrap();
    let (c, _) = app.signed_in(Role::Marketer).await;

    let (status, body) = call(&app, &c, "/api/segments/catalog", &[]).await;
    assert_eq!(status, 200, "{body}");
    let catalog: serde_json::Value = serde_json::from_str(&body).unwrap();
    let growth = catalog["quizzes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["slug"] == "growth")
        .expect("the published demo quiz is offered");
    let budget = growth["questions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["key"] == "budget")
        .expect("its questions are offered");
    assert_eq!(budget["kind"], "single");
    assert_eq!(
        budget["prompt"],
        "What could you invest in growth each month?"
    );
    assert!(
        budget["options"]
            .as_array()
            .unwrap()
            .contains(&json!({"key": "high", "label": "Over $10,000"}))
    );
    assert!(
        growth["categories"]
            .as_array()
            .unwrap()
            .contains(&json!("urgency"))
    );
    let events: Vec<&str> = catalog["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(
        events.iter().filter(|e| **e == "webinar_joined").count(),
        1,
        "each name once: {events:?}"
    );
    assert!(events.windows(2).all(|w| w[0] < w[1]), "{events:?}");
    assert!(
        catalog["attributes"]
            .as_array()
            .unwrap()
            .contains(&json!("seats"))
    );
    assert!(
        catalog["segments"]
            .as_array()
            .unwrap()
            .contains(&json!({"slug": "nurture", "name": "Nurture"})),
        "{}",
        catalog["segments"]
    );

    // The editor's first render is unchanged but for the builder's place.
    let html = c
        .get(app.url("/admin/segments/new"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Condition builder"), "{html}");
    assert!(html.contains(r#"id="segment-rule""#), "{html}");

    let (sales, _) = app.signed_in(Role::Sales).await;
    assert_eq!(
        call(&app, &sales, "/api/segments/catalog", &[]).await.0,
        403
    );
}

async fn the_contact_page_says_why_a_contact_is_in_each_segment_or_not(backend: Backend) {
    let app = spawn_app(backend).await;
    demo::seed(&app.store, app.clock.now()).await.unwrap();
    let now = app.clock.now();
    let text = "all(completed(growth), event(page_viewed, count >= 1), never(invited_teammate))";
    let rule = Rule::parse(text).unwrap();
    app.store
        .create_segment("browsers", "Browsers", "", &rule, now)
        .await
        .unwrap();
    let (sales, _) = app.signed_in(Role::Sales).await;
    // Every demo contact's verdicts agree with the live counts' members.
    let segments = app.store.segments().await.unwrap();
    for contact in app
        .store
        .members_matching(&Rule::parse("completed(growth)").unwrap(), now, 0, 40)
        .await
        .unwrap()
    {
        let (status, body) = call(
            &app,
            &sales,
            "/api/segments/why",
            &[("contact_id", &contact.id.to_string())],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let report: serde_json::Value = serde_json::from_str(&body).unwrap();
        let verdicts = &report["verdicts"];
        assert_eq!(verdicts.as_array().unwrap().len(), segments.len());
        for (segment, verdict) in segments.iter().zip(verdicts.as_array().unwrap()) {
            let members = app
                .store
                .members_matching(&segment.rule, now, contact.id - 1, 1)
                .await
                .unwrap();
            let is_member = members.first().is_some_and(|m| m.id == contact.id);
            assert_eq!(verdict["slug"], segment.slug.as_str());
            assert_eq!(
                verdict["explanation"]["holds"], is_member,
                "{} for {}",
                segment.slug, contact.id
            );
        }
    }
    // The evidence names what was counted.
    let (_, body) = call(&app, &sales, "/api/segments/why", &[("contact_id", "1")]).await;
    assert!(
        body.contains("page_viewed") && body.contains("invited_teammate"),
        "{body}"
    );
    let (status, _) = call(
        &app,
        &sales,
        "/api/segments/why",
        &[("contact_id", "999999")],
    )
    .await;
    assert_eq!(status, 404);
}

/// A scale question is matched by its values: offered in the builder in
/// order, refused off the scale, counted and explained like options.
async fn rules_match_the_values_given_on_a_scale(backend: Backend) {
    let app = spawn_app(backend).await;
    demo::seed(&app.store, app.clock.now()).await.unwrap();
    let (c, _) = app.signed_in(Role::Marketer).await;
    let (_, body) = call(&app, &c, "/api/segments/catalog", &[]).await;
    let catalog: serde_json::Value = serde_json::from_str(&body).unwrap();
    let urgency = catalog["quizzes"][0]["questions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["key"] == "urgency")
        .expect("the scale is offered")
        .clone();
    let values: Vec<&str> = urgency["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["key"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["1", "2", "3", "4", "5"]);

    let form = |text: &'static str| {
        [
            ("slug", "urgent"),
            ("name", "Urgent"),
            ("description", ""),
            ("text", text),
        ]
    };
    let (status, body) = call(
        &app,
        &c,
        "/api/segments/save",
        &form("answered(growth.urgency = 9)"),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("from 1 to 5"), "{body}");
    let (status, body) = call(
        &app,
        &c,
        "/api/segments/save",
        &form("answered(growth.urgency in [4, 5])"),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let mut calm = crate::dashboard::with_email(crate::respond::FULL_PATH, "calm@example.com");
    calm[2] = vec![("question", "urgency"), ("answer", "2")];
    let urgent = crate::dashboard::with_email(crate::respond::FULL_PATH, "urgent@example.com");
    for steps in [calm, urgent] {
        let steps: Vec<&[(&str, &str)]> = steps.iter().map(|s| s.as_slice()).collect();
        crate::dashboard::respond(&app, &steps).await;
    }
    let member = |email: &str| {
        format!(
            "{} AND m.contact_id = (SELECT id FROM contacts WHERE email = '{email}')",
            open("urgent")
        )
    };
    assert_eq!(count(&app, &member("urgent@example.com")).await, 1);
    assert_eq!(count(&app, &member("calm@example.com")).await, 0);
    let urgent = count(
        &app,
        "SELECT id FROM contacts WHERE email = 'urgent@example.com'",
    )
    .await;
    let (sales, _) = app.signed_in(Role::Sales).await;
    let (status, body) = call(
        &app,
        &sales,
        "/api/segments/why",
        &[("contact_id", &urgent.to_string())],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let report: serde_json::Value = serde_json::from_str(&body).unwrap();
    let verdict = report["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["slug"] == "urgent")
        .unwrap();
    assert_eq!(verdict["explanation"]["holds"], true, "{verdict}");
}

/// SQL counting a segment's open stays.
fn open(slug: &str) -> String {
    format!(
        "SELECT count(*) FROM segment_memberships m JOIN segments g ON g.id = m.segment_id \
         WHERE g.slug = '{slug}' AND m.exited_at IS NULL"
    )
}

/// A sync that began before a contact's own re-check (a rebuild, the
/// sweep) undoes nothing that re-check decided: it neither closes a stay
/// entered after it began nor opens again one closed after it began.
async fn a_long_sync_leaves_newer_decisions_alone(backend: Backend) {
    use crate::contacts::{batch, event, visitor};
    use quizfunnel::contact::Subject;
    let app = spawn_app(backend).await;
    let t0 = app.clock.now();
    const DAY: i64 = 86_400_000;
    let rule = Rule::parse("event(ping, count >= 1, within 1d)").unwrap();
    app.store
        .create_segment("recent", "Recent", "", &rule, t0)
        .await
        .unwrap();
    let early = Subject::Visitor(visitor("early-visitor-0001"));
    let late = Subject::Visitor(visitor("late-visitor-00001"));
    app.store
        .ingest_events(&batch(vec![event(early, "ping", t0, None)]), t0)
        .await
        .unwrap();
    // Two days on the window has passed: the early contact leaves.
    app.store
        .sync_memberships(None, t0 + 2 * DAY)
        .await
        .unwrap();
    // Three days on, the late contact pings and enters.
    let t3 = t0 + 3 * DAY;
    app.store
        .ingest_events(&batch(vec![event(late, "ping", t3, None)]), t3)
        .await
        .unwrap();
    assert_eq!(count(&app, &open("recent")).await, 1);
    let before = count(&app, "SELECT count(*) FROM segment_memberships").await;

    // A sync that began an hour after the first ping finishes only now.
    app.store
        .sync_memberships(None, t0 + DAY / 24)
        .await
        .unwrap();
    assert_eq!(count(&app, &open("recent")).await, 1);
    let late_open = "SELECT count(*) FROM segment_memberships m JOIN contacts c \
        ON c.id = m.contact_id WHERE c.visitor_id = 'late-visitor-00001' AND m.exited_at IS NULL";
    assert_eq!(count(&app, late_open).await, 1);
    assert_eq!(
        count(&app, "SELECT count(*) FROM segment_memberships").await,
        before
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM segment_memberships WHERE exited_at < entered_at"
        )
        .await,
        0
    );
}

/// A batch whose contacts are spread over many others is re-checked as
/// one list of them: exactly its contacts enter and leave, and the
/// contacts between them, which match too, are not touched.
async fn a_scattered_batch_moves_exactly_its_contacts(backend: Backend) {
    use crate::contacts::{batch, event, visitor};
    use quizfunnel::contact::Subject;
    let app = spawn_app(backend).await;
    let now = app.clock.now();
    let who = |i: usize| Subject::Visitor(visitor(&format!("scatter-visitor-{i:04}")));
    // 200 contacts numbered in a row, all of them "readers" from the start.
    let everyone = batch(
        (0..200)
            .map(|i| event(who(i), "page_viewed", now, None))
            .collect(),
    );
    app.store.ingest_events(&everyone, now).await.unwrap();
    let buyers_rule = Rule::parse("event(purchased, count >= 1)").unwrap();
    let unpaid = Rule::parse("all(event(page_viewed, count >= 1), never(purchased))").unwrap();
    app.store
        .create_segment("buyers", "Buyers", "", &buyers_rule, now)
        .await
        .unwrap();
    app.store
        .create_segment("unpaid", "Unpaid readers", "", &unpaid, now)
        .await
        .unwrap();
    app.store.sync_memberships(None, now).await.unwrap();
    assert_eq!(count(&app, &open("unpaid")).await, 200);

    // Every 25th contact buys: eight runs of one, far apart.
    let later = now + 1_000;
    let purchases = batch(
        (0..200)
            .step_by(25)
            .map(|i| event(who(i), "purchased", later, None))
            .collect(),
    );
    app.store.ingest_events(&purchases, later).await.unwrap();
    assert_eq!(count(&app, &open("buyers")).await, 8);
    assert_eq!(count(&app, &open("unpaid")).await, 192);
    let stays_of = |i: usize, slug: &str| {
        format!(
            "SELECT count(*) FROM segment_memberships m JOIN contacts c ON c.id = m.contact_id \
             JOIN segments g ON g.id = m.segment_id \
             WHERE c.visitor_id = 'scatter-visitor-{i:04}' AND g.slug = '{slug}' AND m.exited_at IS NULL"
        )
    };
    for (i, bought) in [(0, true), (1, false), (175, true), (199, false)] {
        let b = i64::from(bought);
        assert_eq!(
            count(&app, &stays_of(i, "buyers")).await,
            b,
            "{i} in buyers"
        );
        assert_eq!(
            count(&app, &stays_of(i, "unpaid")).await,
            1 - b,
            "{i} in unpaid"
        );
    }
    // Only the buyers' stays moved: eight entries, eight exits.
    let moved = format!(
        "SELECT count(*) FROM segment_memberships WHERE entered_at = {later} OR exited_at = {later}"
    );
    assert_eq!(count(&app, &moved).await, 16);
}

async fn memberships_follow_events_at_once_and_expire_with_their_window(backend: Backend) {
    use crate::contacts::{batch, event, visitor};
    use quizfunnel::contact::Subject;
    const DAY: i64 = 86_400_000;
    let app = spawn_app(backend).await;
    let now = app.clock.now();
    let recent = Rule::parse("event(page_viewed, count >= 1, within 7d)").unwrap();
    let buyers = Rule::parse("all(in_segment(recent), event(purchased, count >= 1))").unwrap();
    // Created in the order a user could: `buyers` refers to `recent`.
    app.store
        .create_segment("recent", "Recent visitors", "", &recent, now)
        .await
        .unwrap();
    app.store
        .create_segment("buyers", "Recent buyers", "", &buyers, now)
        .await
        .unwrap();
    let ada = Subject::Visitor(visitor("ada-visitor-0001"));

    // Stored events re-evaluate the contact's segments at once, dependent
    // segments after the ones they use.
    let events = batch(vec![
        event(ada.clone(), "page_viewed", now, None),
        event(ada.clone(), "purchased", now, None),
    ]);
    app.store.ingest_events(&events, now).await.unwrap();
    assert_eq!(count(&app, &open("recent")).await, 1);
    assert_eq!(count(&app, &open("buyers")).await, 1);
    let contact = app
        .store
        .members_matching(&recent, now, 0, 1)
        .await
        .unwrap()[0]
        .id;

    // Eight days on, nothing new happened, yet the window has passed: the
    // sweep closes both stays, and the history keeps them.
    let later = now + 8 * DAY;
    app.store.sync_memberships(None, later).await.unwrap();
    assert_eq!(count(&app, &open("recent")).await, 0);
    assert_eq!(count(&app, &open("buyers")).await, 0);
    let stays = app.store.contact_stays(contact).await.unwrap();
    assert_eq!(stays.len(), 2);
    assert!(
        stays
            .iter()
            .all(|s| s.entered_at == now && s.exited_at == Some(later))
    );

    // Coming back opens a new stay beside the closed one.
    let events = batch(vec![event(ada, "page_viewed", later, None)]);
    app.store.ingest_events(&events, later).await.unwrap();
    let stays = app.store.contact_stays(contact).await.unwrap();
    let recent_stays: Vec<_> = stays
        .iter()
        .filter(|s| s.segment_slug == "recent")
        .collect();
    assert_eq!(recent_stays.len(), 2);
    assert_eq!(recent_stays[0].exited_at, None, "newest first");
    assert_eq!(
        count(&app, &open("buyers")).await,
        1,
        "still a buyer, recent again"
    );
    let history = app.store.segment_stays(1, 10).await.unwrap();
    assert_eq!(history.len(), 2);
}

/// `contains` ignores case beyond ASCII too: for a value stored now, and
/// for one an older version stored without its folded copy, which the
/// server folds as it starts.
async fn contains_ignores_case_in_every_script(backend: Backend) {
    use quizfunnel::contact::{AttrChange, AttrKind, Attribute, Identify};
    let app = spawn_app(backend).await;
    let now = app.clock.now();
    let mut who = Identify::email(quizfunnel::email::Email::parse("eve@example.com").unwrap());
    who.attributes = vec![AttrChange::Set(Attribute {
        key: "city".into(),
        kind: AttrKind::String,
        text: "ÉCOLE Paris".into(),
    })];
    let eve = app.store.identify(&who, now).await.unwrap().contact_id;
    crate::contacts::sql(
        &app,
        &format!(
            "INSERT INTO contact_attributes (contact_id, key, kind, value_text) \
             VALUES ({eve}, 'school', 'string', 'LYCÉE')"
        ),
    )
    .await;
    app.store.migrate().await.unwrap();
    for (rule, matching) in [
        (r#"attr(city) contains "école""#, 1),
        (r#"attr(city) contains "PARIS""#, 1),
        (r#"attr(school) contains "lycée""#, 1),
        (r#"attr(city) contains "ecole""#, 0),
    ] {
        let rule = Rule::parse(rule).unwrap();
        assert_eq!(
            app.store.count_matching(&rule, now).await.unwrap(),
            matching,
            "{rule}"
        );
    }
}

/// Gives a contact `plan = pro` behind the store's back, so nothing
/// re-checks them.
async fn make_pro(app: &crate::helpers::TestApp, contact: i64) {
    crate::contacts::sql(
        app,
        &format!(
            "INSERT INTO contact_attributes (contact_id, key, kind, value_text, value_num) \
             VALUES ({contact}, 'plan', 'string', 'pro', NULL)"
        ),
    )
    .await;
}

/// A completion re-checks its contact's segments in its own transaction;
/// when that re-check fails, the completion is still stored, and the sweep
/// brings the memberships level.
async fn a_failing_recheck_loses_no_completion(backend: Backend) {
    use crate::load::{assert_completions_stored_once, assert_counts_match_a_recount, number};
    let app = spawn_app(backend).await;
    demo::seed(&app.store, app.clock.now()).await.unwrap();
    let pg = matches!(backend, Backend::Postgres);
    crate::contacts::sql(
        &app,
        if pg {
            "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$ \
             LANGUAGE plpgsql; CREATE TRIGGER refuse BEFORE INSERT ON segment_memberships \
             FOR EACH ROW EXECUTE FUNCTION refuse();"
        } else {
            "CREATE TRIGGER refuse BEFORE INSERT ON segment_memberships \
             BEGIN SELECT RAISE(ABORT, 'refused'); END;"
        },
    )
    .await;
    let email = "load-refused@example.com";
    assert!(
        // A few seconds a step, as people take.
        crate::load::complete_quiz(&app.address, email, &|| app.clock.advance(2_000))
            .await
            .unwrap()
    );
    assert_completions_stored_once(&app.store, &[email.to_string()]).await;
    let stays = format!(
        "SELECT count(*) FROM segment_memberships m JOIN contacts c ON c.id = m.contact_id \
         WHERE c.email = '{email}' AND m.exited_at IS NULL"
    );
    assert_eq!(number(&app.store, &stays).await, 0);
    let placed = format!(
        "SELECT count(*) FROM placements p JOIN contacts c ON c.id = p.contact_id \
         WHERE c.email = '{email}'"
    );
    assert_eq!(number(&app.store, &placed).await, 1, "placed in its tier");

    let drop = if pg {
        "DROP TRIGGER refuse ON segment_memberships"
    } else {
        "DROP TRIGGER refuse"
    };
    crate::contacts::sql(&app, drop).await;
    app.store
        .sync_memberships(None, app.clock.now())
        .await
        .unwrap();
    assert!(number(&app.store, &stays).await > 0);
    assert_counts_match_a_recount(&app.store).await;
}

/// A save while the last save's rebuild still runs starts a new rebuild;
/// the old one stops at its next slice and leaves the new one's progress
/// alone, so the editor never shows the new rule done before it is.
async fn a_later_save_stops_the_rebuild_before_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let now = app.clock.now();
    let rule = Rule::parse("event(page_viewed, count >= 1)").unwrap();
    let id = app
        .store
        .create_segment("viewers", "Viewers", "", &rule, now)
        .await
        .unwrap();
    app.store.begin_rebuild(id, now).await.unwrap();
    app.store.begin_rebuild(id, now + 1).await.unwrap();
    app.store.rebuild_segment(id, now).await.unwrap();
    let state = app.store.rebuild_state(id).await.unwrap().unwrap();
    assert_eq!(
        (state.started_at, state.finished_at, state.done),
        (now + 1, None, 0),
        "the later rebuild is still to run"
    );
    app.store.rebuild_segment(id, now + 1).await.unwrap();
    let state = app.store.rebuild_state(id).await.unwrap().unwrap();
    assert!(state.finished_at.is_some() && state.error.is_none());
}

/// Between the hourly full sweeps, the minute's sweep re-checks what can
/// change without a write that re-checks its contact: rules with time
/// windows, for everyone, and every rule for contacts new since the last.
async fn the_minute_sweep_rechecks_time_windows_and_new_contacts(backend: Backend) {
    use crate::contacts::{batch, event, sql, visitor};
    use quizfunnel::contact::Subject;
    const DAY: i64 = 86_400_000;
    let app = spawn_app(backend).await;
    let now = app.clock.now();
    for (slug, rule) in [
        ("recent", "event(page_viewed, count >= 1, within 7d)"),
        ("pros", "attr(plan) = \"pro\""),
    ] {
        let rule = Rule::parse(rule).unwrap();
        app.store
            .create_segment(slug, slug, "", &rule, now)
            .await
            .unwrap();
    }
    let ada = Subject::Visitor(visitor("ada-visitor-0001"));
    let events = batch(vec![event(ada, "page_viewed", now, None)]);
    app.store.ingest_events(&events, now).await.unwrap();
    assert_eq!(count(&app, &open("recent")).await, 1);
    let ada = count(&app, "SELECT max(id) FROM contacts").await;
    make_pro(&app, ada).await;

    // The server's own sweep runs beside this test: at the same time, it
    // can only agree.
    app.clock.advance(8 * DAY);
    let later = now + 8 * DAY;
    let reached = app.store.sweep_memberships(ada, later).await.unwrap();
    assert_eq!(reached, ada);
    assert_eq!(count(&app, &open("recent")).await, 0, "the window passed");

    sql(
        &app,
        &format!(
            "INSERT INTO contacts (email, hidden_fields, first_seen, last_seen) \
             VALUES ('bo@example.com', '{{}}', {later}, {later})"
        ),
    )
    .await;
    let bo = count(
        &app,
        "SELECT id FROM contacts WHERE email = 'bo@example.com'",
    )
    .await;
    make_pro(&app, bo).await;
    let reached = app.store.sweep_memberships(reached, later).await.unwrap();
    assert_eq!(reached, bo);
    let pros = "SELECT contact_id FROM segment_memberships m JOIN segments g ON g.id = m.segment_id \
                WHERE g.slug = 'pros' AND m.exited_at IS NULL";
    assert_eq!(count(&app, pros).await, bo, "the new contact is checked");

    // The full sweep checks everyone against every rule.
    app.store.sweep_memberships(0, later).await.unwrap();
    assert_eq!(count(&app, &open("pros")).await, 2);
}

async fn completing_the_quiz_enters_the_tier_segment_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    demo::seed(&app.store, app.clock.now()).await.unwrap();
    app.store
        .sync_memberships(None, app.clock.now())
        .await
        .unwrap();
    // Every stay stored matches the live count of its segment.
    for s in app.store.segments().await.unwrap() {
        let stored = count(
            &app,
            &format!("SELECT count(*) FROM segment_memberships WHERE segment_id = {} AND exited_at IS NULL", s.id),
        )
        .await;
        assert_eq!(stored, s.count, "{}", s.slug);
    }
    let scaling = Rule::parse("answered(growth.stage = scaling)").unwrap();
    let now = app.clock.now();
    app.store
        .create_segment("scaling", "Scaling", "", &scaling, now)
        .await
        .unwrap();
    let before = count(&app, "SELECT count(*) FROM segment_memberships").await;
    let c = crate::helpers::client();
    crate::helpers::open_quiz(&app, &c, "/q/growth").await;
    let in_scaling = "SELECT count(*) FROM segment_memberships m JOIN segments g ON g.id = m.segment_id \
                      WHERE g.slug = 'scaling' AND m.exited_at IS NULL";
    let scaling_before = count(&app, in_scaling).await;
    for (i, step) in crate::respond::FULL_PATH.iter().enumerate() {
        app.clock.advance(2_000);
        crate::helpers::post_form(&c, &app.url("/q/growth"), step).await;
        if i == 0 {
            // One answer, long before the end, is enough to enter.
            assert_eq!(count(&app, in_scaling).await, scaling_before + 1);
        }
    }
    let rita = "(SELECT id FROM contacts WHERE email = 'rita@example.com')";
    assert!(
        count(&app, &format!("SELECT count(*) FROM segment_memberships m JOIN segments g ON g.id = m.segment_id \
                               WHERE g.slug = 'fast-track' AND m.exited_at IS NULL AND m.contact_id = {rita}")).await == 1
    );
    assert!(count(&app, "SELECT count(*) FROM segment_memberships").await > before);
}

/// A visitor answers the growth quiz's first question, "scaling".
async fn answer_stage(app: &crate::helpers::TestApp, visitor: &str) {
    let res = crate::helpers::client()
        .post(app.url("/q/growth"))
        .header("cookie", format!("qf_vid={visitor}"))
        .form(&[("question", "stage"), ("answer", "scaling")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
}

/// The server keeps its segments' rules in memory for the re-check after
/// each answer; a rule changed elsewhere (another instance, the CLI, a
/// restore) must reach the very next answer all the same.
async fn a_rule_changed_elsewhere_reaches_the_next_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    demo::seed(&app.store, app.clock.now()).await.unwrap();
    let rule = |text: &str| serde_json::to_string(&Rule::parse(text).unwrap()).unwrap();
    app.store
        .create_segment(
            "stage",
            "Stage",
            "",
            &Rule::parse("answered(growth.stage = growing)").unwrap(),
            app.clock.now(),
        )
        .await
        .unwrap();
    let members = |email: &str| {
        format!(
            "SELECT count(*) FROM segment_memberships m JOIN segments g ON g.id = m.segment_id \
             WHERE g.slug = 'stage' AND m.exited_at IS NULL AND m.contact_id = \
             (SELECT contact_id FROM contact_visitors WHERE visitor_id = '{email}')"
        )
    };
    // The server has read the rule (the answer was re-checked against it).
    answer_stage(&app, "before-the-change").await;
    assert_eq!(count(&app, &members("before-the-change")).await, 0);
    let changed = format!(
        "UPDATE segments SET rule = '{}' WHERE slug = 'stage'",
        rule("answered(growth.stage = scaling)")
    );
    crate::contacts::sql(&app, &changed).await;
    answer_stage(&app, "after-the-change").await;
    assert_eq!(count(&app, &members("after-the-change")).await, 1);
    // Nothing rebuilt the segment: the earlier respondent waits for the sweep.
    assert_eq!(count(&app, &members("before-the-change")).await, 0);
}

/// While no segment reads answers, an answer needs no re-check; the first
/// segment that does, saved elsewhere, must reach the very next answer.
async fn the_first_rule_on_answers_reaches_the_next_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    demo::seed(&app.store, app.clock.now()).await.unwrap();
    crate::contacts::sql(&app, "DELETE FROM tiers; DELETE FROM segments").await;
    // The server has read that no segment exists.
    answer_stage(&app, "before-any-rule").await;
    let rule =
        serde_json::to_string(&Rule::parse("answered(growth.stage = scaling)").unwrap()).unwrap();
    crate::contacts::sql(
        &app,
        &format!(
            "INSERT INTO segments (slug, name, rule, updated_at) VALUES ('stage', 'Stage', '{rule}', 0)"
        ),
    )
    .await;
    answer_stage(&app, "after-the-rule").await;
    let members = "SELECT count(*) FROM segment_memberships m JOIN segments g ON g.id = m.segment_id \
        JOIN contact_visitors v ON v.contact_id = m.contact_id \
        WHERE g.slug = 'stage' AND m.exited_at IS NULL AND v.visitor_id = 'after-the-rule'";
    assert_eq!(count(&app, members).await, 1);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM answers a JOIN quiz_sessions s ON s.id = a.session_id \
             JOIN contact_visitors v ON v.contact_id = s.contact_id \
             WHERE a.question_key = 'stage' AND a.option_key = 'scaling' \
             AND v.visitor_id IN ('before-any-rule', 'after-the-rule')"
        )
        .await,
        2
    );
}

async fn marketers_reorder_the_playbook_and_bad_tiers_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    demo::seed(&app.store, app.clock.now()).await.unwrap();
    let (c, _) = app.signed_in(Role::Marketer).await;
    let tiers = |app: &crate::helpers::TestApp| {
        let store = app.store.clone();
        let now = app.clock.now();
        async move {
            store
                .playbook(now)
                .await
                .unwrap()
                .into_iter()
                .map(|t| (t.segment.slug, t.next_step, t.placed))
                .collect::<Vec<_>>()
        }
    };
    let before = tiers(&app).await;
    let id = |slug: &str| before.iter().position(|t| t.0 == slug).unwrap() as i64 + 1;
    let save = |body: serde_json::Value| c.post(app.url("/api/playbook/save")).json(&body).send();
    let tier = |segment_id: i64, step: &str| json!({"segment_id": segment_id, "next_step": step, "outcome_key": null});
    for (bad, says) in [
        (vec![tier(999, "nurture")], "does not exist"),
        (vec![tier(1, "nurture"), tier(1, "nurture")], "repeats"),
        (vec![tier(1, "  ")], "next step"),
        (
            vec![json!({"segment_id": 1, "next_step": "nurture", "outcome_key": "Not a key!"})],
            "does not read",
        ),
    ] {
        let res = save(json!({ "tiers": bad })).await.unwrap();
        assert_eq!(res.status(), 422);
        assert!(res.text().await.unwrap().contains(says));
        assert_eq!(tiers(&app).await, before);
    }
    // Disqualify first: it now places everyone it matches, the others fewer.
    let order = [
        ("disqualify", "disqualify"),
        ("fast-track", "call today"),
        ("nurture", "nurture"),
    ];
    let mut body: Vec<_> = order
        .iter()
        .map(|(slug, step)| tier(id(slug), step))
        .collect();
    // A tier may show one of the published quizzes' outcomes, or none.
    let view: serde_json::Value = c
        .post(app.url("/api/playbook"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let offered: Vec<&str> = view["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o[0].as_str())
        .collect();
    assert!(offered.contains(&"consider"), "{view}");
    body[1]["outcome_key"] = json!(" consider ");
    body[0]["outcome_key"] = json!("");
    let res = save(json!({ "tiers": body })).await.unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let shown: Vec<Option<String>> = app
        .store
        .playbook(app.clock.now())
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.outcome_key)
        .collect();
    assert_eq!(shown, [None, Some("consider".to_string()), None]);

    // A published quiz showing an outcome to a tier keeps that tier in.
    let mut def = quizfunnel::quiz::demo_growth_quiz();
    def.outcomes[2].rule = quizfunnel::quiz::OutcomeRule::Tier {
        segment: "fast-track".into(),
    };
    let quiz = app.store.create_quiz("by-tier", &def, 0).await.unwrap();
    app.store.publish_quiz(quiz, 0).await.unwrap();
    let without: Vec<_> = order
        .iter()
        .filter(|(slug, _)| *slug != "fast-track")
        .map(|(slug, step)| tier(id(slug), step))
        .collect();
    let res = save(json!({ "tiers": without })).await.unwrap();
    assert_eq!(res.status(), 422);
    let says = res.text().await.unwrap();
    assert!(
        says.contains("fast-track") && says.contains("change that outcome first"),
        "{says}"
    );
    assert_eq!(tiers(&app).await.len(), 3);
    let after = tiers(&app).await;
    let slugs: Vec<&str> = after.iter().map(|t| t.0.as_str()).collect();
    assert_eq!(slugs, ["disqualify", "fast-track", "nurture"]);
    assert_eq!(after[1].1, "call today");
    let placed =
        |list: &[(String, String, i64)], slug: &str| list.iter().find(|t| t.0 == slug).unwrap().2;
    assert!(placed(&after, "disqualify") >= placed(&before, "disqualify"));
    let total = |list: &[(String, String, i64)]| list.iter().map(|t| t.2).sum::<i64>();
    assert_eq!(
        total(&after),
        total(&before),
        "every completer is still placed once"
    );
}

/// A segment nobody needs any more is deleted with its stays; a tier, or
/// one another segment's rule uses, is refused with what to change first,
/// and nothing of it goes.
async fn marketers_delete_segments_no_tier_or_rule_uses(backend: Backend) {
    let app = spawn_app(backend).await;
    demo::seed(&app.store, app.clock.now()).await.unwrap();
    let (c, _) = app.signed_in(Role::Marketer).await;
    let now = app.clock.now();
    let finished = Rule::parse("completed(growth)").unwrap();
    let old = app
        .store
        .create_segment("old-list", "Old list", "", &finished, now)
        .await
        .unwrap();
    let nested = Rule::parse("all(in_segment(old-list), completed(growth))").unwrap();
    let user = app
        .store
        .create_segment("uses-old", "Uses the old list", "", &nested, now)
        .await
        .unwrap();
    app.store.rebuild_segment(old, now).await.unwrap();
    app.store.rebuild_segment(user, now).await.unwrap();
    let stays =
        |id: i64| format!("SELECT count(*) FROM segment_memberships WHERE segment_id = {id}");
    let before = count(&app, &stays(old)).await;
    assert!(before > 0);
    let delete = |id: i64| {
        c.post(app.url("/api/segments/delete"))
            .form(&[("id", id.to_string())])
            .send()
    };

    let tier = app.store.playbook(now).await.unwrap()[0].segment.id;
    let res = delete(tier).await.unwrap();
    assert_eq!(res.status(), 409);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("remove it from the playbook first")
    );
    assert!(app.store.segment(tier).await.is_ok());

    let res = delete(old).await.unwrap();
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("Uses the old list"));
    assert_eq!(count(&app, &stays(old)).await, before);

    assert_eq!(delete(user).await.unwrap().status(), 200);
    assert_eq!(delete(old).await.unwrap().status(), 200);
    assert_eq!(count(&app, &stays(old)).await, 0);
    let slugs: Vec<String> = app
        .store
        .segments()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.slug)
        .collect();
    assert!(
        !slugs.iter().any(|s| s == "old-list" || s == "uses-old"),
        "{slugs:?}"
    );
    let audited = "SELECT count(*) FROM audit_log WHERE action = 'segment.deleted'";
    assert_eq!(count(&app, audited).await, 2);
    assert_eq!(delete(old).await.unwrap().status(), 404);
}

/// Two marketers' rules, each checked before the other was saved, would
/// make a loop: the store asks again as it saves and refuses the second.
async fn rules_checked_at_once_never_close_a_loop(backend: Backend) {
    let app = spawn_app(backend).await;
    demo::seed(&app.store, app.clock.now()).await.unwrap();
    let now = app.clock.now();
    let first = Rule::parse("completed(growth)").unwrap();
    let a = app
        .store
        .create_segment("loop-a", "Loop A", "", &first, now)
        .await
        .unwrap();
    let names_a = Rule::parse("in_segment(loop-a)").unwrap();
    let b = app
        .store
        .create_segment("loop-b", "Loop B", "", &names_a, now)
        .await
        .unwrap();
    // As the page checked it, loop-b did not name loop-a yet.
    let names_b = Rule::parse("any(in_segment(loop-b), completed(growth))").unwrap();
    let refused = app
        .store
        .update_segment(a, "Loop A", "", &names_b, now)
        .await;
    assert!(
        matches!(&refused, Err(StoreError::Conflict(why))
            if why.contains("makes a cycle: loop-a → loop-b → loop-a")),
        "{refused:?}"
    );
    assert_eq!(app.store.segment(a).await.unwrap().rule, first);
    // A rule naming a segment that leads nowhere back is saved.
    let names_fast_track = Rule::parse("in_segment(fast-track)").unwrap();
    app.store
        .update_segment(a, "Loop A", "", &names_fast_track, now)
        .await
        .unwrap();
    assert_eq!(app.store.segment(b).await.unwrap().rule, names_a);

    // Two saves at the same moment close a loop of three (x names y, y
    // names z, and z already names x): one is saved, the other refused.
    // On Postgres the first waits to write x, held by another transaction,
    // while the second begins: without taking turns, the second would
    // check before the first is stored.
    let x = app
        .store
        .create_segment("loop-x", "Loop X", "", &first, now)
        .await
        .unwrap();
    let y = app
        .store
        .create_segment("loop-y", "Loop Y", "", &first, now)
        .await
        .unwrap();
    let names_x = Rule::parse("in_segment(loop-x)").unwrap();
    app.store
        .create_segment("loop-z", "Loop Z", "", &names_x, now)
        .await
        .unwrap();
    let save = |id: i64, rule: &str| {
        let (store, rule) = (app.store.clone(), Rule::parse(rule).unwrap());
        tokio::spawn(async move { store.update_segment(id, "Loop", "", &rule, now).await })
    };
    let (x_saved, y_saved) = match app.store.db() {
        Db::Sqlite(_) => (save(x, "in_segment(loop-y)"), save(y, "in_segment(loop-z)")),
        Db::Postgres(pool) => {
            let mut holder = pool.begin().await.unwrap();
            sqlx::query("SELECT id FROM segments WHERE slug = 'loop-x' FOR UPDATE")
                .execute(&mut *holder)
                .await
                .unwrap();
            let waiting = "SELECT count(*) FROM pg_stat_activity \
                           WHERE datname = current_database() AND wait_event_type = 'Lock' \
                           AND (query LIKE '%segments%' OR query LIKE '%advisory%')";
            let x_saved = save(x, "in_segment(loop-y)");
            crate::helpers::count_reaches(&app, waiting, 1).await;
            let y_saved = save(y, "in_segment(loop-z)");
            crate::helpers::count_reaches(&app, waiting, 2).await;
            holder.commit().await.unwrap();
            (x_saved, y_saved)
        }
    };
    let outcomes = [x_saved.await.unwrap(), y_saved.await.unwrap()];
    let refused: Vec<&String> = outcomes
        .iter()
        .filter_map(|o| match o {
            Err(StoreError::Conflict(why)) => Some(why),
            _ => None,
        })
        .collect();
    assert_eq!(refused.len(), 1, "{outcomes:?}");
    assert!(outcomes.iter().any(Result::is_ok), "{outcomes:?}");
    assert!(refused[0].contains("makes a cycle"), "{refused:?}");
    let stored = [
        app.store.segment(x).await.unwrap().rule,
        app.store.segment(y).await.unwrap().rule,
    ];
    assert!(stored.contains(&first), "{stored:?}");
}

/// The store keeps rules and segments whole by itself, whatever checked
/// them before: a rule naming a segment that is gone is not saved, a
/// segment a rule uses is not deleted, and a re-check planned before a
/// segment was deleted enters nobody in it rather than failing the
/// respondent's completion.
async fn rules_never_name_a_deleted_segment(backend: Backend) {
    let app = spawn_app(backend).await;
    demo::seed(&app.store, app.clock.now()).await.unwrap();
    let now = app.clock.now();
    let finished = Rule::parse("completed(growth)").unwrap();
    let base = app
        .store
        .create_segment("finishers", "Finishers", "", &finished, now)
        .await
        .unwrap();
    let nested = Rule::parse("all(in_segment(finishers), completed(growth))").unwrap();
    let user = app
        .store
        .create_segment("finishers-too", "Finishers too", "", &nested, now)
        .await
        .unwrap();
    let refused = app.store.delete_segment(base).await;
    assert!(
        matches!(&refused, Err(StoreError::Conflict(why)) if why.contains("Finishers too")),
        "{refused:?}"
    );
    app.store.delete_segment(user).await.unwrap();

    // Warm this instance's re-check plan with the segment in it.
    crate::respond::complete(&app, &crate::helpers::client(), "first@example.com").await;
    let stays = "SELECT count(*) FROM segment_memberships m JOIN segments g ON g.id = m.segment_id \
                 WHERE g.slug = 'finishers'";
    assert_eq!(count(&app, stays).await, 1);

    // Deleted with the plan's version put back: the next completion's
    // re-check still names the segment, as one planned just before a
    // delete does.
    let version = count(&app, "SELECT version FROM segment_plan_version").await;
    crate::contacts::sql(
        &app,
        &format!(
            "DELETE FROM segments WHERE id = {base}; \
             UPDATE segment_plan_version SET version = {version};"
        ),
    )
    .await;
    crate::respond::complete(&app, &crate::helpers::client(), "second@example.com").await;
    // The completion's other segments are re-checked with it, at once.
    let tier_stays = "SELECT count(*) FROM segment_memberships m \
         JOIN segments g ON g.id = m.segment_id JOIN contacts c ON c.id = m.contact_id \
         WHERE c.email = 'second@example.com' AND g.slug = 'fast-track' AND m.exited_at IS NULL";
    assert_eq!(count(&app, tier_stays).await, 1);

    for rule in [
        "in_segment(finishers)",
        "any(in_segment(fast-track), in_segment(finishers))",
    ] {
        let rule = Rule::parse(rule).unwrap();
        let created = app
            .store
            .create_segment("again", "Again", "", &rule, now)
            .await;
        assert!(
            matches!(&created, Err(StoreError::Conflict(why)) if why.contains("finishers")),
            "{created:?}"
        );
        let tier = app.store.playbook(now).await.unwrap()[0].segment.id;
        let updated = app
            .store
            .update_segment(tier, "Fast-track sales", "", &rule, now)
            .await;
        assert!(
            matches!(updated, Err(StoreError::Conflict(_))),
            "{updated:?}"
        );
    }
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM segments WHERE slug = 'again' OR rule LIKE '%finishers%'"
        )
        .await,
        0
    );
}

/// Answers keep pointing at the version they were given on: a rule about
/// an option a later version dropped, or about a quiz since archived,
/// still saves; an option no version had is still refused.
async fn rules_name_answers_of_older_versions_and_archived_quizzes(backend: Backend) {
    let app = spawn_app(backend).await;
    demo::seed(&app.store, app.clock.now()).await.unwrap();
    let (c, _) = app.signed_in(Role::Marketer).await;
    let save = |slug: &'static str, text: &'static str| {
        let form = [
            ("slug", slug),
            ("name", slug),
            ("description", ""),
            ("text", text),
        ];
        let (app, c) = (&app, &c);
        async move { call(app, c, "/api/segments/save", &form).await }
    };
    let id = app.store.quiz_id_by_slug("growth").await.unwrap().unwrap();
    let mut later = app
        .store
        .published_quiz("growth")
        .await
        .unwrap()
        .unwrap()
        .definition
        .clone();
    let budget = later
        .questions
        .iter_mut()
        .find(|q| q.key == "budget")
        .unwrap();
    budget.options.retain(|o| o.key != "high");
    crate::helpers::publish_edit(&app, id, "growth", &later).await;

    let (status, body) = save("big-budget", "answered(growth.budget = high)").await;
    assert_eq!(status, 200, "{body}");
    // The condition builder offers it too, marked.
    let (_, catalog) = call(&app, &c, "/api/segments/catalog", &[]).await;
    assert!(
        catalog.contains("Over $10,000 (earlier version)"),
        "{catalog}"
    );
    let (status, body) = save("odd-budget", "answered(growth.budget = huge)").await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("huge"), "{body}");

    app.store.archive_quiz(id, app.clock.now()).await.unwrap();
    let (status, body) = save("finished", "completed(growth)").await;
    assert_eq!(status, 200, "{body}");
    let (_, catalog) = call(&app, &c, "/api/segments/catalog", &[]).await;
    assert!(catalog.contains("(archived)"), "{catalog}");
}

/// The warning on small tiers follows the marketer's threshold; a bad one
/// is refused with a message and the old one stays.
async fn marketers_set_how_few_contacts_make_a_tier_small(backend: Backend) {
    let app = spawn_app(backend).await;
    demo::seed(&app.store, app.clock.now()).await.unwrap();
    let (c, _) = app.signed_in(Role::Marketer).await;
    let dashboard = || async {
        let res = c
            .post(app.url("/api/dashboard"))
            .form(&[("days", "30")])
            .send()
            .await
            .unwrap();
        res.json::<serde_json::Value>().await.unwrap()["small_tier"].clone()
    };
    assert_eq!(dashboard().await, 30);
    let set = |below: &'static str| {
        c.post(app.url("/api/playbook/small-tier/save"))
            .form(&[("below", below)])
            .send()
    };
    for bad in ["0", "-5", "many", "", "2.5", "1000001"] {
        let res = set(bad).await.unwrap();
        assert_eq!(res.status(), 422, "{bad:?}");
        let says = res.text().await.unwrap();
        assert!(says.contains("whole number of contacts"), "{bad:?}: {says}");
        assert_eq!(app.store.small_tier().await.unwrap(), 30, "{bad:?}");
    }
    let res = set(" 500 ").await.unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(dashboard().await, 500);
    let playbook: serde_json::Value = c
        .post(app.url("/api/playbook"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(playbook["small_tier"], 500);
}

/// Waits (up to a minute) for the segment's rebuild to finish; returns the
/// progress figures seen on the way.
async fn rebuilt(app: &crate::helpers::TestApp, c: &reqwest::Client, id: i64) -> Vec<i64> {
    let mut seen = Vec::new();
    for _ in 0..600 {
        let (status, body) =
            call(app, c, "/api/segments/rebuild", &[("id", &id.to_string())]).await;
        assert_eq!(status, 200, "{body}");
        let state: serde_json::Value = serde_json::from_str(&body).unwrap();
        if state["total"].is_i64() {
            seen.push(state["done"].as_i64().unwrap());
        }
        if state["finished_at"].is_i64() {
            assert!(state["error"].is_null(), "{body}");
            return seen;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the rebuild of segment {id} never finished");
}

async fn saving_a_rule_rebuilds_memberships_in_the_background(backend: Backend) {
    let app = spawn_app(backend).await;
    demo::seed(&app.store, app.clock.now()).await.unwrap();
    // A contact far past the others: the rebuild goes slice by slice over
    // contact ids and must reach it.
    crate::contacts::sql(
        &app,
        "INSERT INTO contacts (id, hidden_fields, first_seen, last_seen) VALUES (12000, '{}', 0, 0)",
    )
    .await;
    let (marketer, _) = app.signed_in(Role::Marketer).await;
    let open = |slug: &str| {
        format!(
            "SELECT count(*) FROM segment_memberships m JOIN segments g ON g.id = m.segment_id \
             WHERE g.slug = '{slug}' AND m.exited_at IS NULL"
        )
    };
    let save = |id: &str, text: &'static str| {
        let (c, app, id) = (marketer.clone(), &app, id.to_string());
        async move {
            let (status, body) = call(
                app,
                &c,
                "/api/segments/save",
                &[
                    ("id", id.as_str()),
                    ("slug", "everyone"),
                    ("name", "Everyone"),
                    ("description", ""),
                    ("text", text),
                ],
            )
            .await;
            assert_eq!(status, 200, "{body}");
            body.parse::<i64>().unwrap()
        }
    };
    let id = save("", "never(zzz_not_sent)").await;
    let seen = rebuilt(&app, &marketer, id).await;
    assert!(
        seen.windows(2).all(|w| w[0] <= w[1]),
        "progress only grows: {seen:?}"
    );
    let everyone = count(&app, "SELECT count(*) FROM contacts").await;
    assert_eq!(count(&app, &open("everyone")).await, everyone);

    // A changed rule: those it no longer matches leave, with their history.
    let same = save(&id.to_string(), "completed(growth)").await;
    assert_eq!(same, id);
    rebuilt(&app, &marketer, id).await;
    let completers = app
        .store
        .count_matching(&Rule::parse("completed(growth)").unwrap(), app.clock.now())
        .await
        .unwrap();
    assert_eq!(count(&app, &open("everyone")).await, completers);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM segment_memberships WHERE exited_at IS NOT NULL"
        )
        .await,
        everyone - completers
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM segment_memberships WHERE contact_id = 12000 AND exited_at IS NOT NULL").await,
        1
    );
}

crate::on_both_backends!(
    contains_ignores_case_in_every_script,
    rules_match_the_values_given_on_a_scale,
    a_long_sync_leaves_newer_decisions_alone,
    saving_a_rule_rebuilds_memberships_in_the_background,
    demo_tiers_place_every_completer_exactly_once,
    dashboard_shows_tier_counts_to_signed_in_users,
    a_segment_slug_is_unique,
    other_systems_read_segments_and_their_members_with_an_api_key,
    marketers_write_segment_rules_and_see_whom_they_match,
    the_rule_builder_offers_what_exists_to_marketers,
    the_contact_page_says_why_a_contact_is_in_each_segment_or_not,
    memberships_follow_events_at_once_and_expire_with_their_window,
    a_scattered_batch_moves_exactly_its_contacts,
    a_failing_recheck_loses_no_completion,
    a_later_save_stops_the_rebuild_before_it,
    the_minute_sweep_rechecks_time_windows_and_new_contacts,
    completing_the_quiz_enters_the_tier_segment_at_once,
    a_rule_changed_elsewhere_reaches_the_next_answer,
    the_first_rule_on_answers_reaches_the_next_answer,
    marketers_reorder_the_playbook_and_bad_tiers_change_nothing,
    marketers_delete_segments_no_tier_or_rule_uses,
    rules_never_name_a_deleted_segment,
    rules_checked_at_once_never_close_a_loop,
    rules_name_answers_of_older_versions_and_archived_quizzes,
    marketers_set_how_few_contacts_make_a_tier_small,
);
