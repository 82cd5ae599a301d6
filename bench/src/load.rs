//! The load driver: a fixed number of concurrent workers (one connection
//! each), bounded by time and by a number of jobs.
//!
//! Two paces. `Closed`: each worker starts its next job when the last one
//! ends, which finds the most jobs per second the target sustains but hides
//! queueing (coordinated omission). `Open`: jobs are due at a constant rate
//! and each job's latency is counted from when it was due, not from when a
//! worker got round to it, so a stall shows in the percentiles.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    Closed,
    Open { per_second: f64 },
}

#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub connections: usize,
    pub duration: Duration,
    pub max_jobs: u64,
    pub pace: Pace,
}

/// What one job saw: each request's latency, and what went wrong.
#[derive(Debug, Default, Clone)]
pub struct JobOutcome {
    pub requests: Vec<Duration>,
    /// The job's final request (a quiz's completing post), when it matters.
    pub last: Option<Duration>,
    /// 5xx answers.
    pub server_errors: u64,
    /// Answers or errors that mention `database is locked`.
    pub locked: u64,
    /// Anything else unexpected: a refused answer, a broken connection.
    pub other_errors: u64,
    /// The first unexpected answer, to show why.
    pub first_error: Option<String>,
}

impl JobOutcome {
    fn failed(&self) -> bool {
        self.server_errors + self.locked + self.other_errors > 0
    }
}

/// p50, p95, p99 and the maximum.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Percentiles {
    pub p50: Duration,
    pub p95: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub samples: usize,
}

impl Percentiles {
    pub fn of(mut samples: Vec<Duration>) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        samples.sort_unstable();
        let at = |q: f64| {
            samples[((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1]
        };
        Percentiles {
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
            max: samples[samples.len() - 1],
            samples: samples.len(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct LoadReport {
    pub pace: Pace,
    pub connections: usize,
    pub jobs: u64,
    pub failed_jobs: u64,
    pub requests: u64,
    pub elapsed: Duration,
    /// Per request, from when it was sent.
    pub request_latency: Percentiles,
    /// Per job: from when it was due (open pace) or started (closed).
    pub job_latency: Percentiles,
    pub last_latency: Percentiles,
    pub server_errors: u64,
    pub locked: u64,
    pub other_errors: u64,
    pub first_error: Option<String>,
}

impl LoadReport {
    pub fn jobs_per_second(&self) -> f64 {
        self.jobs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn requests_per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs `job(sequence number)` under `config` and gathers the figures.
pub async fn run<F, Fut>(config: &LoadConfig, job: F) -> LoadReport
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = JobOutcome> + Send,
{
    let job = Arc::new(job);
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + config.duration;
    let mut workers = Vec::with_capacity(config.connections);
    for _ in 0..config.connections.max(1) {
        let (job, next, config) = (job.clone(), next.clone(), config.clone());
        workers.push(tokio::spawn(async move {
            let mut seen: Vec<(Duration, JobOutcome)> = Vec::new();
            loop {
                let seq = next.fetch_add(1, Ordering::Relaxed);
                if seq >= config.max_jobs {
                    break;
                }
                let due = match config.pace {
                    Pace::Closed => Instant::now(),
                    Pace::Open { per_second } => {
                        start + Duration::from_secs_f64(seq as f64 / per_second.max(1e-9))
                    }
                };
                if due >= deadline || Instant::now() >= deadline {
                    break;
                }
                tokio::time::sleep_until(due.into()).await;
                let outcome = job(seq).await;
                seen.push((due.elapsed(), outcome));
            }
            seen
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        if let Ok(seen) = w.await {
            all.extend(seen);
        }
    }
    let elapsed = start.elapsed();
    let mut report = LoadReport {
        pace: config.pace,
        connections: config.connections,
        jobs: all.len() as u64,
        failed_jobs: 0,
        requests: 0,
        elapsed,
        request_latency: Percentiles::default(),
        job_latency: Percentiles::default(),
        last_latency: Percentiles::default(),
        server_errors: 0,
        locked: 0,
        other_errors: 0,
        first_error: None,
    };
    let (mut requests, mut jobs, mut lasts) = (Vec::new(), Vec::new(), Vec::new());
    for (latency, outcome) in all {
        report.failed_jobs += u64::from(outcome.failed());
        report.server_errors += outcome.server_errors;
        report.locked += outcome.locked;
        report.other_errors += outcome.other_errors;
        if report.first_error.is_none() {
            report.first_error = outcome.first_error;
        }
        report.requests += outcome.requests.len() as u64;
        requests.extend(outcome.requests);
        lasts.extend(outcome.last);
        jobs.push(latency);
    }
    report.request_latency = Percentiles::of(requests);
    report.job_latency = Percentiles::of(jobs);
    report.last_latency = Percentiles::of(lasts);
    report
}

/// Sorts one HTTP answer into the outcome; `expected` is the status a
/// healthy answer has.
pub async fn check(
    outcome: &mut JobOutcome,
    sent: Instant,
    result: Result<reqwest::Response, reqwest::Error>,
    expected: u16,
) -> Option<String> {
    let res = match result {
        Ok(res) => res,
        Err(e) => {
            outcome.requests.push(sent.elapsed());
            note(outcome, e.to_string(), false);
            return None;
        }
    };
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = res.text().await.unwrap_or_default();
    let took = sent.elapsed();
    outcome.requests.push(took);
    outcome.last = Some(took);
    if status == expected {
        return Some(location.unwrap_or(body));
    }
    let locked = body.contains("database is locked");
    if locked {
        outcome.locked += 1;
    } else if status >= 500 {
        outcome.server_errors += 1;
    } else {
        outcome.other_errors += 1;
    }
    if outcome.first_error.is_none() {
        let mut text = format!("HTTP {status}: {body}");
        text.truncate(300);
        outcome.first_error = Some(text);
    }
    None
}

fn note(outcome: &mut JobOutcome, error: String, locked: bool) {
    if locked || error.contains("database is locked") {
        outcome.locked += 1;
    } else {
        outcome.other_errors += 1;
    }
    if outcome.first_error.is_none() {
        outcome.first_error = Some(error);
    }
}

/// Records a failed database call in the outcome.
pub fn database_error(outcome: &mut JobOutcome, error: &sqlx::Error) {
    note(outcome, error.to_string(), false);
}

/// A client for one run: no redirects followed (a quiz step answers 303),
/// up to `connections` connections kept open.
pub fn client(connections: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(connections)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a plain HTTP client builds")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_hundred_samples() {
        let samples = (1..=100).map(Duration::from_millis).collect();
        let p = Percentiles::of(samples);
        assert_eq!(p.p50, Duration::from_millis(50));
        assert_eq!(p.p99, Duration::from_millis(99));
        assert_eq!(p.max, Duration::from_millis(100));
    }

    #[tokio::test]
    async fn open_pace_counts_latency_from_when_a_job_was_due() {
        // One worker, two jobs due at once: the second waits for the first
        // and its latency says so.
        let config = LoadConfig {
            connections: 1,
            duration: Duration::from_secs(5),
            max_jobs: 2,
            pace: Pace::Open {
                per_second: 1_000_000.0,
            },
        };
        let report = run(&config, |_| async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            JobOutcome::default()
        })
        .await;
        assert_eq!(report.jobs, 2);
        assert!(report.job_latency.max >= Duration::from_millis(100));
    }
}
