//! The servers under load: the real `quizfunnel serve` binary as a child
//! process, and the baseline, a bare axum handler returning a static page
//! of the same size. Both listen on 127.0.0.1 only.

use crate::{BenchResult, fail};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// A child server, killed when dropped.
pub struct ServerProcess {
    child: Child,
    pub addr: SocketAddr,
    pub pid: u32,
}

impl ServerProcess {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The most memory the process has held (VmHWM), in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        peak_rss_kib(self.pid)
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// A free port on the loopback interface.
pub fn free_addr() -> BenchResult<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}

/// Starts `quizfunnel serve` on `database_url` with nothing that would
/// throttle or drop the load: no rate limit, no minimum quiz time, no
/// retention job.
pub async fn start_quizfunnel(
    bin: &Path,
    database_url: &str,
    site_root: &Path,
    log: &Path,
) -> BenchResult<ServerProcess> {
    if !bin.exists() {
        return Err(fail(format!(
            "{} is missing; build it with `cargo build --release -p quizfunnel-server`",
            bin.display()
        )));
    }
    let addr = free_addr()?;
    let log = std::fs::File::create(log)?;
    let child = Command::new(bin)
        .arg("serve")
        .args(["--addr", &addr.to_string()])
        .arg("--site-root")
        .arg(site_root)
        .args(["--quiz-posts-per-minute", "0", "--min-quiz-seconds", "0"])
        .args(["--retention-every-minutes", "0"])
        .env("DATABASE_URL", database_url)
        .env("QUIZFUNNEL_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()?;
    ready(child, addr, "/healthz").await
}

/// Starts this program's own `baseline-server` with a body of `bytes`.
pub async fn start_baseline(bytes: usize) -> BenchResult<ServerProcess> {
    let addr = free_addr()?;
    let child = Command::new(std::env::current_exe()?)
        .arg("baseline-server")
        .args(["--addr", &addr.to_string()])
        .args(["--bytes", &bytes.to_string()])
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    ready(child, addr, "/q/growth").await
}

async fn ready(mut child: Child, addr: SocketAddr, path: &str) -> BenchResult<ServerProcess> {
    let pid = child
        .id()
        .ok_or_else(|| fail("the server exited at once"))?;
    let url = format!("http://{addr}{path}");
    let client = reqwest::Client::new();
    let since = Instant::now();
    while since.elapsed() < Duration::from_secs(120) {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(fail(format!("the server exited: {status}")));
        }
        if let Ok(res) = client.get(&url).send().await
            && res.status().is_success()
        {
            return Ok(ServerProcess { child, addr, pid });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill().await;
    Err(fail(format!("{url} did not answer within 120 s")))
}

/// Waits, for at most `limit`, until the machine's CPUs have been nearly
/// idle for a whole second, and says how long that took (None: never).
/// A server starts by re-checking every segment for every contact: tens
/// of seconds at a million contacts, in the server or in Postgres, on the
/// writer the loads need. Their figures are of a server past that.
pub async fn quiet(limit: Duration) -> Option<Duration> {
    let since = Instant::now();
    let mut last = cpu_ticks()?;
    while since.elapsed() < limit {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = cpu_ticks()?;
        let (busy, all) = (now.0 - last.0, now.1 - last.1);
        if busy * 20 <= all {
            return Some(since.elapsed());
        }
        last = now;
    }
    None
}

/// Busy and total clock ticks of all CPUs since boot.
fn cpu_ticks() -> Option<(u64, u64)> {
    busy_and_all(&std::fs::read_to_string("/proc/stat").ok()?)
}

/// Busy and total ticks from the `cpu` line of `/proc/stat`.
fn busy_and_all(stat: &str) -> Option<(u64, u64)> {
    let ticks: Vec<u64> = stat
        .lines()
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .filter_map(|t| t.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal …
    let idle = ticks.get(3)? + ticks.get(4)?;
    let all: u64 = ticks.iter().take(8).sum();
    Some((all - idle, all))
}

/// VmHWM of a process, in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The baseline: one route answering the same bytes every time.
pub fn baseline_router(bytes: usize) -> axum::Router {
    let body: &'static str = Box::leak("x".repeat(bytes).into_boxed_str());
    axum::Router::new().route(
        "/q/growth",
        axum::routing::get(move || async move { axum::response::Html(body) }),
    )
}

/// Serves [`baseline_router`] until the process is killed.
pub async fn serve_baseline(addr: SocketAddr, bytes: usize) -> BenchResult<()> {
    if !addr.ip().is_loopback() {
        return Err(fail("the baseline listens on 127.0.0.1 only"));
    }
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, baseline_router(bytes)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_time_leaves_out_idle_and_waiting_for_disk() {
        let stat = "cpu  100 5 50 1000 20 3 2 1 0 0\ncpu0 50 2 25 500 10 1 1 0 0 0\n";
        assert_eq!(busy_and_all(stat), Some((161, 1181)));
        assert_eq!(busy_and_all("intr 1 2 3"), None);
    }
}
