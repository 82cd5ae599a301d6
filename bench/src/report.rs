//! The suite's output: one markdown table of figures against their
//! baselines and targets, then the details behind each row.

use crate::load::{LoadReport, Pace, Percentiles};
use std::fmt::Write;
use std::time::Duration;

pub struct Row {
    pub what: String,
    pub measured: String,
    pub baseline: String,
    pub ratio: String,
    pub target: String,
    /// "yes", "no", or why there is no verdict.
    pub met: String,
}

pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| what | measured | baseline (same run) | ratio | target | met |\n|---|---|---|---|---|---|\n",
    );
    for r in rows {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            r.what, r.measured, r.baseline, r.ratio, r.target, r.met
        )
        .expect("writing to a String");
    }
    out
}

pub fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

pub fn rate(per_second: f64) -> String {
    if per_second >= 100.0 {
        format!("{per_second:.0}")
    } else {
        format!("{per_second:.1}")
    }
}

pub fn percent(ratio: f64) -> String {
    format!("{:.0}%", ratio * 100.0)
}

pub fn yes(met: bool) -> String {
    if met { "yes".into() } else { "**no**".into() }
}

pub fn percentiles(p: &Percentiles) -> String {
    format!(
        "p50 {} / p95 {} / p99 {} / max {} (n={})",
        ms(p.p50),
        ms(p.p95),
        ms(p.p99),
        ms(p.max),
        p.samples
    )
}

/// One load run, in one line of detail.
pub fn describe(name: &str, r: &LoadReport) -> String {
    let pace = match r.pace {
        Pace::Closed => "closed loop".to_string(),
        Pace::Open { per_second } => format!("open loop at {}/s", rate(per_second)),
    };
    let mut s = format!(
        "- **{name}** ({pace}, {} connections, {:.1} s): {} jobs ({}/s), {} requests ({}/s); \
         per request {}; per job from {} {}",
        r.connections,
        r.elapsed.as_secs_f64(),
        r.jobs,
        rate(r.jobs_per_second()),
        r.requests,
        rate(r.requests_per_second()),
        percentiles(&r.request_latency),
        if matches!(r.pace, Pace::Open { .. }) {
            "when due"
        } else {
            "start"
        },
        percentiles(&r.job_latency),
    );
    if r.last_latency.samples > 0 && r.last_latency.samples != r.request_latency.samples {
        write!(s, "; final request {}", percentiles(&r.last_latency)).expect("writing");
    }
    write!(
        s,
        "; failed jobs {}, 5xx {}, `database is locked` {}, other errors {}",
        r.failed_jobs, r.server_errors, r.locked, r.other_errors
    )
    .expect("writing to a String");
    if let Some(e) = &r.first_error {
        write!(s, " (first: `{}`)", e.replace(['\n', '`'], " ")).expect("writing");
    }
    s
}
