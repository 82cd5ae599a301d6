//! Every page and server function, and what each role gets from it. A new
//! route that is not in these tables fails the test until someone decides
//! who may use it.

use crate::helpers::{Backend, client, spawn_app};
use quizfunnel::account::Role;
use quizfunnel::store::{AccountStore, ActionStore, ContactStore, QuizStore, SegmentStore};
use std::collections::BTreeSet;

/// Expected status for: anonymous, sales, marketer, owner.
type Expect = [u16; 4];
const ANYONE: Expect = [200, 200, 200, 200];
const SIGNED_IN_PAGE: Expect = [303, 200, 200, 200];
const FUNNELS_PAGE: Expect = [303, 403, 200, 200];
const OWNER_PAGE: Expect = [303, 403, 403, 200];
const SIGNED_IN_FN: Expect = [401, 200, 200, 200];
const FUNNELS_FN: Expect = [401, 403, 200, 200];
const OWNER_FN: Expect = [401, 403, 403, 200];

/// Pages as the router lists them, with a concrete path to request.
const PAGES: &[(&str, &str, Expect)] = &[
    ("/", "/", ANYONE),
    ("/login", "/login", ANYONE),
    ("/logout", "/logout", ANYONE),
    ("/setup", "/setup", ANYONE),
    ("/invite/{token}", "/invite/unknown", ANYONE),
    ("/q/{slug}", "/q/growth", ANYONE),
    ("/q/{slug}/result", "/q/growth/result", ANYONE),
    ("/admin", "/admin", SIGNED_IN_PAGE),
    ("/admin/quizzes", "/admin/quizzes", FUNNELS_PAGE),
    ("/admin/contacts", "/admin/contacts", SIGNED_IN_PAGE),
    ("/admin/leads", "/admin/leads", SIGNED_IN_PAGE),
    // The test's first contact, made before anything else, has id 1.
    ("/admin/contacts/{id}", "/admin/contacts/1", SIGNED_IN_PAGE),
    ("/admin/quizzes/{id}", "/admin/quizzes/1", FUNNELS_PAGE),
    ("/admin/segments", "/admin/segments", FUNNELS_PAGE),
    // The test's segment, made before any other, has id 1.
    ("/admin/segments/{id}", "/admin/segments/1", FUNNELS_PAGE),
    ("/admin/settings", "/admin/settings", OWNER_PAGE),
];

type Form = Vec<(&'static str, String)>;

/// Server functions taking JSON rather than a form.
fn json_body(path: &str) -> Option<serde_json::Value> {
    match path {
        "/api/quiz/answer" | "/api/quiz/result/send" => {
            Some(serde_json::json!({"slug": "growth", "fields": []}))
        }
        "/api/playbook/save" => Some(serde_json::json!({"tiers": [
            {"segment_id": 1, "next_step": "nurture", "outcome_key": null}
        ]})),
        _ => None,
    }
}

/// Server functions with a form body that is valid for an owner.
fn server_functions(
    sales_id: i64,
    key_id: i64,
    contact_id: i64,
    quiz_id: i64,
) -> Vec<(&'static str, Form, Expect)> {
    let contact = || vec![("id", contact_id.to_string())];
    let quiz = || ("id", quiz_id.to_string());
    let definition = serde_json::to_string(&quizfunnel::quiz::demo::growth_quiz()).unwrap();
    vec![
        ("/api/server_status", vec![], ANYONE),
        ("/api/me", vec![], ANYONE),
        ("/api/setup_open", vec![], ANYONE),
        ("/api/invitation", vec![("token", "x".into())], ANYONE),
        ("/api/quiz/step", vec![("slug", "growth".into())], ANYONE),
        ("/api/quiz/answer", vec![], ANYONE),
        ("/api/quiz/result", vec![("slug", "growth".into())], ANYONE),
        ("/api/quiz/result/send", vec![], ANYONE),
        ("/api/quizzes", vec![], FUNNELS_FN),
        ("/api/dashboard", vec![("days", "30".into())], SIGNED_IN_FN),
        (
            "/api/dashboard/funnel",
            vec![
                ("quiz", String::new()),
                ("from", String::new()),
                ("until", String::new()),
                ("source", String::new()),
            ],
            SIGNED_IN_FN,
        ),
        (
            "/api/quizzes/create",
            vec![("title", "Role table quiz".into())],
            FUNNELS_FN,
        ),
        ("/api/quizzes/get", vec![quiz()], FUNNELS_FN),
        // Publish and save are replayed by two roles from the same revision:
        // the draft does not change, so neither is a conflicting edit.
        (
            "/api/quizzes/publish",
            vec![quiz(), ("revision", "1".into())],
            FUNNELS_FN,
        ),
        (
            "/api/quizzes/save",
            vec![
                quiz(),
                ("revision", "1".into()),
                ("slug", "growth".into()),
                ("definition", definition),
            ],
            FUNNELS_FN,
        ),
        (
            "/api/quizzes/discard",
            vec![quiz(), ("revision", "1".into())],
            FUNNELS_FN,
        ),
        ("/api/quizzes/versions", vec![quiz()], FUNNELS_FN),
        (
            "/api/quizzes/load-version",
            vec![quiz(), ("version", "1".into()), ("revision", "1".into())],
            FUNNELS_FN,
        ),
        ("/api/quizzes/duplicate", vec![quiz()], FUNNELS_FN),
        ("/api/quizzes/archive", vec![quiz()], FUNNELS_FN),
        ("/api/quizzes/restore", vec![quiz()], FUNNELS_FN),
        ("/api/segments", vec![], FUNNELS_FN),
        ("/api/playbook", vec![], FUNNELS_FN),
        ("/api/playbook/save", vec![], FUNNELS_FN),
        (
            "/api/playbook/small-tier/save",
            vec![("below", "30".into())],
            FUNNELS_FN,
        ),
        ("/api/segments/get", vec![("id", "1".into())], FUNNELS_FN),
        ("/api/segments/catalog", vec![], FUNNELS_FN),
        (
            "/api/segments/rebuild",
            vec![("id", "1".into())],
            FUNNELS_FN,
        ),
        (
            "/api/segments/preview",
            vec![("text", "completed(growth)".into())],
            FUNNELS_FN,
        ),
        (
            "/api/segments/save",
            vec![
                ("id", "1".into()),
                ("slug", String::new()),
                ("name", "Finished the quiz".into()),
                ("description", String::new()),
                ("text", "completed(growth)".into()),
            ],
            FUNNELS_FN,
        ),
        (
            "/api/segments/actions",
            vec![("segment_id", "1".into())],
            FUNNELS_FN,
        ),
        (
            "/api/segments/actions/add",
            vec![
                ("segment_id", "1".into()),
                ("kind", "tag".into()),
                ("url", String::new()),
                ("tag", "finished".into()),
            ],
            FUNNELS_FN,
        ),
        (
            "/api/segments/actions/remove",
            // The tag just added; the webhook (1) keeps the delivery below.
            vec![("segment_id", "1".into()), ("action_id", "2".into())],
            FUNNELS_FN,
        ),
        // The marketer's call deletes it; the owner's finds it gone.
        (
            "/api/segments/delete",
            vec![("id", "2".into())],
            [401, 403, 200, 404],
        ),
        // The delivery made for the table, id 1.
        (
            "/api/segments/deliveries/resend",
            vec![("segment_id", "1".into()), ("delivery_id", "1".into())],
            FUNNELS_FN,
        ),
        ("/api/settings/users", vec![], OWNER_FN),
        (
            "/api/settings/invite",
            vec![
                ("email", "someone@example.com".into()),
                ("role", "sales".into()),
            ],
            OWNER_FN,
        ),
        (
            "/api/settings/role",
            vec![("user_id", sales_id.to_string()), ("role", "sales".into())],
            OWNER_FN,
        ),
        (
            "/api/settings/active",
            vec![("user_id", sales_id.to_string()), ("active", "true".into())],
            OWNER_FN,
        ),
        ("/api/settings/keys", vec![], OWNER_FN),
        (
            "/api/settings/keys/create",
            vec![("name", "k".into())],
            OWNER_FN,
        ),
        (
            "/api/settings/keys/revoke",
            vec![("id", key_id.to_string())],
            OWNER_FN,
        ),
        ("/api/settings/audit", vec![], OWNER_FN),
        ("/api/settings/webhooks", vec![], OWNER_FN),
        (
            "/api/settings/webhooks/save",
            vec![
                ("settings", "webhooks".into()),
                ("allow_private", "on".into()),
            ],
            OWNER_FN,
        ),
        ("/api/settings/tracking", vec![], OWNER_FN),
        (
            "/api/settings/tracking/save",
            vec![
                ("origins", "https://shop.example".into()),
                ("retention_days", "180".into()),
            ],
            OWNER_FN,
        ),
        (
            "/api/contacts/list",
            vec![
                ("search", String::new()),
                ("attr_key", String::new()),
                ("attr_value", String::new()),
                ("completed", "false".into()),
                ("from", String::new()),
                ("until", String::new()),
                ("after", String::new()),
            ],
            SIGNED_IN_FN,
        ),
        ("/api/contacts/profile", contact(), SIGNED_IN_FN),
        (
            "/api/contacts/timeline",
            vec![("id", contact_id.to_string()), ("before", String::new())],
            SIGNED_IN_FN,
        ),
        (
            "/api/segments/why",
            vec![("contact_id", contact_id.to_string())],
            SIGNED_IN_FN,
        ),
        (
            "/api/leads/list",
            vec![("query", String::new())],
            SIGNED_IN_FN,
        ),
        (
            "/api/leads/get",
            vec![("contact_id", contact_id.to_string())],
            SIGNED_IN_FN,
        ),
        // The table's contact is made a lead in the setup below.
        (
            "/api/leads/status",
            vec![
                ("contact_id", contact_id.to_string()),
                ("status", "contacted".into()),
                ("note", String::new()),
            ],
            SIGNED_IN_FN,
        ),
        (
            "/api/leads/owner",
            vec![
                ("contact_id", contact_id.to_string()),
                ("owner", String::new()),
                ("note", String::new()),
            ],
            SIGNED_IN_FN,
        ),
        ("/api/contacts/export", contact(), OWNER_FN),
        // Last: the owner's call erases the contact.
        ("/api/contacts/erase", contact(), OWNER_FN),
    ]
}

#[test]
fn every_page_and_server_function_is_in_the_access_table() {
    let listed: BTreeSet<String> = quizfunnel_server::http::route_list()
        .iter()
        .map(|r| r.path().to_string())
        .collect();
    let table: BTreeSet<String> = PAGES.iter().map(|(p, _, _)| p.to_string()).collect();
    assert_eq!(listed, table, "pages and the access table differ");

    let fns: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_string())
        .collect();
    let table: BTreeSet<String> = server_functions(0, 0, 0, 0)
        .into_iter()
        .map(|(p, _, _)| p.to_string())
        .collect();
    assert_eq!(fns, table, "server functions and the access table differ");
}

async fn each_role_gets_the_intended_answer_everywhere(backend: Backend) {
    let app = spawn_app(backend).await;
    let quiz = app
        .store
        .create_quiz("growth", &quizfunnel::quiz::demo::growth_quiz(), 0)
        .await
        .unwrap();
    app.store.publish_quiz(quiz, 0).await.unwrap();
    let contact_id = app
        .store
        .contact_for_visitor("roles-visitor", &Default::default(), 0)
        .await
        .unwrap();
    assert_eq!(contact_id, 1, "the contact page in PAGES");
    let rule = quizfunnel::rule::Rule::parse("completed(growth)").unwrap();
    let segment = app
        .store
        .create_segment("finished", "Finished", "", &rule, 0)
        .await
        .unwrap();
    assert_eq!(segment, 1, "the segment page in PAGES");
    let deleted = app
        .store
        .create_segment("to-delete", "To delete", "", &rule, 0)
        .await
        .unwrap();
    assert_eq!(deleted, 2, "the segment the table deletes");
    let action = quizfunnel::action::NewAction {
        kind: quizfunnel::action::ActionKind::Webhook,
        url: Some("https://crm.example.com/hook".into()),
        tag: None,
    };
    let action = app
        .store
        .add_action(segment, &action, Some("whsec_table"), 0)
        .await
        .unwrap();
    crate::contacts::sql(
        &app,
        "INSERT INTO leads (contact_id, tier_slug, next_step, placed_at) VALUES (1, 'finished', 'nurture', 0)",
    )
    .await;
    crate::contacts::sql(
        &app,
        &format!(
            "INSERT INTO webhook_deliveries (action_id, segment_id, contact_id, idempotency_key, \
             entered_at, status, next_attempt_at, give_up_at, created_at) \
             VALUES ({action}, {segment}, {contact_id}, 'qf-table', 0, 'failed', 0, 0, 0)"
        ),
    )
    .await;
    let (owner, _) = app.signed_in(Role::Owner).await;
    let (marketer, _) = app.signed_in(Role::Marketer).await;
    let (sales, sales_user) = app.signed_in(Role::Sales).await;
    let key = app
        .store
        .create_api_key("table", "qf_x", "hash-for-the-table", None, 0)
        .await
        .unwrap();
    let quiz_id = quiz;
    assert_eq!(quiz_id, 1, "the page table opens /admin/quizzes/1");
    let clients = [client(), sales, marketer, owner];
    let names = ["anonymous", "sales", "marketer", "owner"];

    for (_, path, expect) in PAGES {
        for (i, c) in clients.iter().enumerate() {
            let status = c.get(app.url(path)).send().await.unwrap().status().as_u16();
            assert_eq!(status, expect[i], "GET {path} as {}", names[i]);
        }
    }
    for (path, form, expect) in server_functions(sales_user.id, key.id, contact_id, quiz_id) {
        for (i, c) in clients.iter().enumerate() {
            if path == "/api/segments/deliveries/resend" {
                // Each resend queues it; queued, the next would be refused.
                crate::contacts::sql(
                    &app,
                    "UPDATE webhook_deliveries SET status = 'failed' WHERE id = 1",
                )
                .await;
            }
            let req = c.post(app.url(path));
            let req = match json_body(path) {
                Some(body) => req.json(&body),
                None => req.form(&form),
            };
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            assert_eq!(
                status,
                expect[i],
                "POST {path} as {}: {}",
                names[i],
                res.text().await.unwrap()
            );
        }
    }
}

crate::on_both_backends!(each_role_gets_the_intended_answer_everywhere);
