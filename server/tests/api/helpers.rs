//! The test harness: `spawn_app` on a fresh SQLite file or Postgres database.
//!
//! Postgres comes from `TEST_DATABASE_URL` (a superuser URL; one database per
//! test is created beside it) or, when that is unset, from a throwaway
//! cluster this process starts with `initdb`/`pg_ctl` and removes at exit.

use quizfunnel::account::{Role, User};
use quizfunnel::store::AccountStore;
use quizfunnel_app::state::Clock;
use quizfunnel_server::config::ServeConfig;
use quizfunnel_server::startup::Application;
use quizfunnel_server::store::SqlStore;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub address: String,
    pub database_url: String,
    /// A browser-like client with its own cookie jar.
    pub client: reqwest::Client,
    /// The server's clock; move it forward to pass timeouts.
    pub clock: Clock,
    pub store: SqlStore,
    _shutdown: tokio::sync::oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        get(&self.client, &self.url(path)).await
    }

    /// Creates a user straight in the store.
    pub async fn user(&self, email: &str, role: Role, password: &str) -> User {
        let hash = quizfunnel_app::auth::ssr::hash_password(password.into())
            .await
            .unwrap();
        self.store
            .create_user(email, role, &hash, self.clock.now())
            .await
            .unwrap()
    }

    /// A client signed in as a new user with this role.
    pub async fn signed_in(&self, role: Role) -> (reqwest::Client, User) {
        let email = format!("{}-{}@example.com", role, self.clock.now());
        let user = self.user(&email, role, PASSWORD).await;
        let client = client();
        let res = post_form(
            &client,
            &self.url("/login"),
            &[("email", &email), ("password", PASSWORD)],
        )
        .await;
        assert_eq!(res.status(), 303, "sign-in as {role} works");
        (client, user)
    }
}

pub const PASSWORD: &str = "correct horse battery";

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        // A stuck response fails its test with a message instead of
        // stalling the whole run.
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .expect("http client")
}

pub async fn get(client: &reqwest::Client, url: &str) -> reqwest::Response {
    client
        .get(url)
        .send()
        .await
        .expect("request reaches the test server")
}

pub async fn post_form(
    client: &reqwest::Client,
    url: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client
        .post(url)
        .form(form)
        .send()
        .await
        .expect("request reaches the test server")
}

/// Posts a form (a server function call, say): (status, body).
pub async fn call(
    app: &TestApp,
    c: &reqwest::Client,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let res = post_form(c, &app.url(path), form).await;
    (res.status().as_u16(), res.text().await.unwrap())
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, None).await
}

/// Another server process's worth of app on the same database, as a second
/// instance behind a load balancer would be.
pub async fn second_instance(first: &TestApp) -> TestApp {
    start(
        first.database_url.clone(),
        tempfile::tempdir().expect("temp dir"),
        |_| {},
    )
    .await
}

/// `spawn_app`, with the retention job running every `retention_every`.
pub async fn spawn_app_with(
    backend: Backend,
    retention_every: Option<std::time::Duration>,
) -> TestApp {
    spawn_app_configured(backend, |c| c.retention_every = retention_every).await
}

/// `spawn_app`, with what `configure` changes in the server's settings.
pub async fn spawn_app_configured(
    backend: Backend,
    configure: impl FnOnce(&mut ServeConfig),
) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.path().join("test.db").display()),
        Backend::Postgres => fresh_postgres_database().await,
    };
    start(database_url, dir, configure).await
}

async fn start(
    database_url: String,
    dir: tempfile::TempDir,
    configure: impl FnOnce(&mut ServeConfig),
) -> TestApp {
    let clock = Clock::default();
    let mut config = ServeConfig {
        database_url: database_url.clone(),
        addr: "127.0.0.1:0".into(),
        site_root: dir.path().join("site"),
        sessions: Default::default(),
        spam: Default::default(),
        quiz_posts_per_minute: 0,
        trusted_proxies: Default::default(),
        clock: clock.clone(),
        retention_every: None,
        shutdown_timeout: std::time::Duration::from_secs(10),
    };
    configure(&mut config);
    let app = Application::build(config)
        .await
        .expect("test server starts");
    app.first_sweep().await;
    let address = format!("http://{}", app.addr());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async {
        let _ = rx.await;
    }));
    let store = SqlStore::connect(&database_url).await.expect("store");
    TestApp {
        address,
        database_url,
        client: client(),
        clock,
        store,
        _shutdown: tx,
        _dir: dir,
    }
}

/// Runs one async test body against each backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {$(
        mod $test {
            #[tokio::test]
            async fn sqlite() {
                super::$test($crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test]
            async fn postgres() {
                super::$test($crate::helpers::Backend::Postgres).await
            }
        }
    )*};
}

/// A new, empty database on the shared test server.
pub async fn fresh_postgres_database() -> String {
    use sqlx::Connection;
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let admin = postgres_admin_url();
    let name = format!(
        "qf_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut conn = sqlx::PgConnection::connect(admin)
        .await
        .expect("connect to the test Postgres");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
    format!("{base}/{name}")
}

fn postgres_admin_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => start_throwaway_cluster(),
    })
}

/// The clusters this process started, stopped and removed at exit.
static CLUSTERS: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

fn start_throwaway_cluster() -> String {
    let (port, _) = start_cluster("", "", |_| {});
    format!("postgres://postgres@127.0.0.1:{port}/postgres")
}

/// A cluster that only takes TLS connections, with a certificate for
/// 127.0.0.1 signed by a throwaway authority.
pub struct TlsPostgres {
    /// A superuser URL, without the TLS settings.
    pub url: String,
    /// The authority's certificate, for `sslrootcert`.
    pub ca: PathBuf,
}

pub fn tls_postgres() -> &'static TlsPostgres {
    static PG: OnceLock<TlsPostgres> = OnceLock::new();
    PG.get_or_init(|| {
        let opts = "-c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key";
        let (port, dir) = start_cluster(".tls", opts, |data| {
            let openssl = |args: &[&str]| run(Command::new("openssl").current_dir(data).args(args));
            openssl(&[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=quizfunnel test authority",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
            ]);
            openssl(&[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=127.0.0.1",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
            ]);
            use std::os::unix::fs::PermissionsExt;
            let key = std::fs::Permissions::from_mode(0o600);
            std::fs::set_permissions(data.join("server.key"), key).unwrap();
            std::fs::write(data.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
            openssl(&[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                "san.ext",
                "-out",
                "server.crt",
            ]);
            // Plain connections are refused, so a test that connects knows
            // it went over TLS.
            std::fs::write(
                data.join("pg_hba.conf"),
                "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
            )
            .unwrap();
        });
        TlsPostgres {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            ca: dir.join("data").join("ca.crt"),
        }
    })
}

/// Starts a cluster of this process in its own directory (`suffix` tells
/// two apart) on a free loopback port with `options`; `prepare` may add
/// to its data directory before it starts. Returns the port and directory.
fn start_cluster(suffix: &str, options: &str, prepare: impl FnOnce(&Path)) -> (u16, PathBuf) {
    let root = std::env::temp_dir().join("quizfunnel-test-pg");
    std::fs::create_dir_all(&root).expect("cluster root");
    remove_abandoned_clusters(&root);
    let dir = root.join(format!("{}{suffix}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("cluster dir");
    let as_root = unsafe { libc::geteuid() } == 0;
    let hand_over = |path: &Path| {
        // Postgres refuses to run as root; hand the directory to its user.
        if as_root {
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(path));
        }
    };
    hand_over(&dir);
    if as_root {
        run(Command::new("chmod").arg("755").arg(&root));
    }
    let data = dir.join("data");
    let port = free_port();
    run(&mut pg_command(
        as_root,
        "initdb",
        &[
            "-D",
            &data.display().to_string(),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        ],
    ));
    prepare(&data);
    hand_over(&data);
    // Durability is pointless for a cluster thrown away after the run.
    let server_opts = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 {options}",
        dir.display()
    );
    run(&mut pg_command(
        as_root,
        "pg_ctl",
        &[
            "-D",
            &data.display().to_string(),
            "-o",
            &server_opts,
            "-l",
            &dir.join("log").display().to_string(),
            "-w",
            "start",
        ],
    ));
    let mut clusters = CLUSTERS.lock().unwrap();
    if clusters.is_empty() {
        unsafe {
            libc::atexit(stop_throwaway_clusters);
        }
    }
    clusters.push(dir.clone());
    (port, dir)
}

extern "C" fn stop_throwaway_clusters() {
    if let Ok(clusters) = CLUSTERS.lock() {
        for dir in clusters.iter() {
            stop_cluster(dir);
        }
    }
}

fn stop_cluster(dir: &Path) {
    let as_root = unsafe { libc::geteuid() } == 0;
    let data = dir.join("data").display().to_string();
    let _ = pg_command(
        as_root,
        "pg_ctl",
        &["-D", &data, "-m", "immediate", "-w", "stop"],
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .status();
    let _ = std::fs::remove_dir_all(dir);
}

/// Clusters left by test runs that were killed before they could clean up.
fn remove_abandoned_clusters(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.split('.').next()?.parse::<i32>().ok())
        else {
            continue;
        };
        let alive = unsafe { libc::kill(pid, 0) } == 0;
        if !alive {
            stop_cluster(&entry.path());
        }
    }
}

fn pg_command(as_root: bool, program: &str, args: &[&str]) -> Command {
    if as_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", program]).args(args);
        c
    } else {
        let mut c = Command::new(program);
        c.args(args);
        c
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {cmd:?}: {e}; are the PostgreSQL server binaries installed?")
    });
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Waits until `query` counts `n`: for what the server stores off the
/// request's path (quiz views wait in a queue). Gives up after 10 s.
pub async fn count_reaches(app: &TestApp, query: &str, n: i64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let now = count(app, query).await;
        if now == n {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{query}: {now}, never {n}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// The value `res` sets for the cookie `name`.
pub fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(name)?.strip_prefix('='))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
}

/// `GET path` (a quiz page) as `c`; when that made `c` a new visitor,
/// waits until their view is stored, so a count taken next is not raced
/// by it.
pub async fn open_quiz(app: &TestApp, c: &reqwest::Client, path: &str) -> reqwest::Response {
    let res = c.get(app.url(path)).send().await.unwrap();
    if let Some(visitor) = set_cookie(&res, "qf_vid") {
        let viewed = format!(
            "SELECT count(*) FROM events e JOIN contact_visitors v ON v.contact_id = e.contact_id \
             WHERE v.visitor_id = '{visitor}' AND e.name = 'quiz_viewed'"
        );
        count_reaches(app, &viewed, 1).await;
    }
    res
}

/// A single number from the database, read by the writer so it sees every
/// commit made so far.
pub async fn count(app: &TestApp, query: &str) -> i64 {
    use quizfunnel_server::store::Db;
    match app.store.db() {
        Db::Sqlite(db) => sqlx::query_scalar(query)
            .fetch_one(db.writer())
            .await
            .unwrap(),
        Db::Postgres(pool) => sqlx::query_scalar(query).fetch_one(pool).await.unwrap(),
    }
}

/// Saves `def` at `slug` as the quiz's draft, from its current revision,
/// and publishes it: a marketer's edit made live.
pub async fn publish_edit(
    app: &TestApp,
    id: i64,
    slug: &str,
    def: &quizfunnel::quiz::QuizDefinition,
) {
    use quizfunnel::store::QuizStore;
    let revision = app.store.quiz(id).await.unwrap().draft_revision;
    let revision = app
        .store
        .save_draft(id, slug, def, revision, app.clock.now())
        .await
        .unwrap();
    app.store
        .publish_draft(id, revision, app.clock.now())
        .await
        .unwrap();
}
