//! Segment figures through the store API, as the admin pages ask them:
//! a saved segment's count, a rule-builder preview (count and sample), the
//! rebuild of a newly saved rule and a full membership sync, against a
//! plain `SELECT count(*)`.

use crate::generate::BENCH_SEGMENTS;
use crate::{BenchResult, fail};
use quizfunnel::rule::Rule;
use quizfunnel::store::SegmentStore;
use quizfunnel_server::store::{Db, SqlStore};
use std::future::Future;
use std::time::{Duration, Instant};

/// A rule no segment has yet, as someone would type it in the builder.
pub const PREVIEW_RULE: &str = "all(event(page_viewed, count >= 3, within 30d), attr(country) in [\"US\", \"CA\"], not(in_segment(disqualify)))";
/// As many members as the builder's preview shows.
const PREVIEW_SAMPLE: u32 = 10;
/// Each read is timed this many times; the median is reported.
const REPEATS: usize = 5;

#[derive(Debug, Clone)]
pub struct SegmentFigures {
    /// Each benchmark segment's count as pages are served it, from its
    /// maintained memberships: (slug, median time, members).
    pub counts: Vec<(String, Duration, i64)>,
    /// The same counts worked out from the rules over every contact, as a
    /// check on the maintained ones and for scale.
    pub evaluated: Vec<(String, Duration, i64)>,
    /// The segment list page: every segment with its count.
    pub list: Duration,
    pub preview: Duration,
    pub preview_count: i64,
    /// A new segment saved with the preview's rule, rebuilt from empty.
    pub rebuild_new: Duration,
    /// Every segment synced from empty (every stay opened), then once more
    /// with nothing to change.
    pub rebuild_first: Duration,
    pub rebuild_again: Duration,
    pub segments: usize,
    /// `SELECT count(*) FROM contacts`, the baseline.
    pub plain_count: Duration,
    pub contacts: i64,
}

impl SegmentFigures {
    /// The slowest of the benchmark segments' served counts.
    pub fn slowest_count(&self) -> Duration {
        self.counts.iter().map(|c| c.1).max().unwrap_or_default()
    }
}

async fn median<T, F, Fut>(mut f: F) -> BenchResult<(Duration, T)>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = BenchResult<T>>,
{
    let mut times = Vec::with_capacity(REPEATS);
    let mut last = None;
    for _ in 0..REPEATS {
        let t = Instant::now();
        last = Some(f().await?);
        times.push(t.elapsed());
    }
    times.sort();
    Ok((times[REPEATS / 2], last.expect("REPEATS is not zero")))
}

pub async fn measure(database_url: &str, now: i64) -> BenchResult<SegmentFigures> {
    let store = SqlStore::connect(database_url).await?;
    let (plain_count, contacts) = median(|| async {
        let n: i64 = match store.db() {
            Db::Sqlite(db) => {
                sqlx::query_scalar("SELECT count(*) FROM contacts")
                    .fetch_one(db.reader())
                    .await?
            }
            Db::Postgres(pool) => {
                sqlx::query_scalar("SELECT count(*) FROM contacts")
                    .fetch_one(pool)
                    .await?
            }
        };
        Ok(n)
    })
    .await?;
    // The first rebuild opens every stay; rules on segments then read them.
    let t = Instant::now();
    store.sync_memberships(None, now).await?;
    let rebuild_first = t.elapsed();
    // Postgres plans the next sync from statistics that still say the
    // memberships table is empty, and an anti-join planned that way runs
    // for hours at a million contacts. Autovacuum analyzes within about a
    // minute; the suite does it at once rather than wait.
    if let Db::Postgres(pool) = store.db() {
        sqlx::query("ANALYZE segment_memberships")
            .execute(pool)
            .await?;
    }
    let t = Instant::now();
    store.sync_memberships(None, now).await?;
    let rebuild_again = t.elapsed();
    let mut counts = Vec::new();
    let mut evaluated = Vec::new();
    for (slug, _, _) in BENCH_SEGMENTS {
        let rule = store
            .segment_rule(slug)
            .await?
            .ok_or_else(|| fail(format!("segment {slug} is missing")))?;
        let id = store
            .segments()
            .await?
            .into_iter()
            .find(|s| s.slug == *slug)
            .map(|s| s.id)
            .ok_or_else(|| fail(format!("segment {slug} is missing")))?;
        let (took, n) = median(|| async { Ok(store.segment(id).await?.count) }).await?;
        counts.push((slug.to_string(), took, n));
        let (took, n) = median(|| async { Ok(store.count_matching(&rule, now).await?) }).await?;
        evaluated.push((slug.to_string(), took, n));
    }
    let (list, segments) = median(|| async { Ok(store.segments().await?.len()) }).await?;
    let rule = Rule::parse(PREVIEW_RULE).map_err(|e| fail(e.to_string()))?;
    let (preview, preview_count) = median(|| async {
        let n = store.count_matching(&rule, now).await?;
        store
            .members_matching(&rule, now, 0, PREVIEW_SAMPLE)
            .await?;
        Ok(n)
    })
    .await?;
    // Saving the previewed rule as a segment, as a marketer would next.
    let id = store
        .create_segment("bench-new-rule", "Benchmark: a new rule", "", &rule, now)
        .await?;
    let t = Instant::now();
    store.begin_rebuild(id, now).await?;
    store.rebuild_segment(id, now).await?;
    let rebuild_new = t.elapsed();
    // A rebuild that stopped early would time well and be wrong.
    let rebuilt = store.segment(id).await?.count;
    if rebuilt != preview_count {
        return Err(fail(format!(
            "the new segment's rebuild left {rebuilt} members where the preview counted {preview_count}"
        )));
    }
    Ok(SegmentFigures {
        counts,
        evaluated,
        list,
        preview,
        preview_count,
        rebuild_new,
        rebuild_first,
        rebuild_again,
        segments,
        plain_count,
        contacts,
    })
}
