//! Segments counted live and the tier playbook, on both databases.

use crate::helpers::{Backend, count, spawn_app};
use quizfunnel::account::Role;
use quizfunnel::rule::Rule;
use quizfunnel::store::SegmentStore;
use quizfunnel_server::demo;

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
    assert!(html.contains("completed(growth)"));
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

crate::on_both_backends!(
    demo_tiers_place_every_completer_exactly_once,
    dashboard_shows_tier_counts_to_signed_in_users,
    a_segment_slug_is_unique,
);
