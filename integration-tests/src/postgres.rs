//! PostgreSQL for tests: one database per test, copied from a template that
//! is migrated once (the template's name carries a hash of the migrations,
//! so it is rebuilt exactly when they change).
//!
//! The server comes from `ROSTER_TEST_POSTGRES_URL` when set, else the local
//! server on 127.0.0.1:5432, else a throwaway cluster started here with
//! `initdb`/`pg_ctl` (as the `postgres` user when running as root, since
//! both refuse to run as root).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use diesel::prelude::*;
use diesel::{PgConnection, sql_query};
use sha2::{Digest, Sha256};

// Test connections are local: without TLS they are quicker to open, and a
// test process that exits while threads still hold OpenSSL state cannot
// crash in OpenSSL's exit handler.
const LOCAL_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable";

struct Server {
    /// URL of the maintenance database, used to create and drop databases.
    admin_url: String,
    /// The same URL without the database name and parameters.
    base_url: String,
    /// Its parameters (`?sslmode=disable`), or nothing.
    params: String,
    template: String,
}

static SERVER: OnceLock<Option<Server>> = OnceLock::new();

/// A database of its own for one test, dropped with it.
pub struct TestDatabase {
    pub url: String,
    name: String,
    admin_url: String,
}

impl TestDatabase {
    pub fn create() -> Option<TestDatabase> {
        let Some(server) = SERVER.get_or_init(provision) else {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI=true and no PostgreSQL could be found or started: PostgreSQL tests cannot be skipped in CI");
            }
            return None;
        };
        let name = format!("roster_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin =
            PgConnection::establish(&server.admin_url).expect("the maintenance database accepts connections");
        // Copying a template fails while another session is connected to it;
        // nobody should be, but retry briefly rather than flake.
        let mut attempt = 0;
        while let Err(error) =
            sql_query(format!("CREATE DATABASE {name} TEMPLATE {}", server.template)).execute(&mut admin)
        {
            attempt += 1;
            assert!(attempt < 20, "cannot create test database {name}: {error}");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(TestDatabase { url: server.database_url(&name), name, admin_url: server.admin_url.clone() })
    }
}

impl Server {
    fn database_url(&self, name: &str) -> String {
        format!("{}/{name}{}", self.base_url, self.params)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&self.admin_url) {
            let _ = sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).execute(&mut admin);
        }
    }
}

fn provision() -> Option<Server> {
    let (admin_url, source) = match std::env::var("ROSTER_TEST_POSTGRES_URL") {
        Ok(url) => (url, "ROSTER_TEST_POSTGRES_URL"),
        Err(_)
            if std::env::var_os("ROSTER_TEST_SKIP_LOCAL_POSTGRES").is_none()
                && PgConnection::establish(LOCAL_SERVER).is_ok() =>
        {
            (LOCAL_SERVER.to_owned(), "the local server")
        }
        Err(_) => match start_throwaway_cluster() {
            Ok(url) => (url, "a throwaway cluster"),
            Err(reason) => {
                eprintln!(
                    "\n*** NO POSTGRESQL FOR TESTS: {reason}.\n*** Set ROSTER_TEST_POSTGRES_URL, run a server on 127.0.0.1:5432, or install PostgreSQL.\n*** PostgreSQL tests are SKIPPED (and fail under CI=true).\n"
                );
                return None;
            }
        },
    };
    let mut admin = PgConnection::establish(&admin_url)
        .unwrap_or_else(|e| panic!("cannot connect to PostgreSQL from {source}: {e}"));
    let (path, params) = match admin_url.split_once('?') {
        Some((path, params)) => (path, format!("?{params}")),
        None => (admin_url.as_str(), String::new()),
    };
    let base_url = path.rsplit_once('/').map(|(base, _)| base.to_owned()).expect("a URL with a database name");
    let mut server = Server { admin_url: admin_url.clone(), base_url, params, template: String::new() };
    server.template = ensure_template(&mut admin, &server);
    eprintln!("integration tests: PostgreSQL from {source}, template {}", server.template);
    Some(server)
}

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    exists: bool,
}

fn ensure_template(admin: &mut PgConnection, server: &Server) -> String {
    let template = format!("roster_tpl_{}", migrations_hash());
    // Serialises template builds across concurrent test processes.
    sql_query("SELECT pg_advisory_lock(7415)").execute(admin).expect("advisory lock");
    let exists = sql_query(format!("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = '{template}') AS exists"))
        .get_result::<Exists>(admin)
        .expect("pg_database is readable")
        .exists;
    if !exists {
        let building = format!("{template}_building");
        sql_query(format!("DROP DATABASE IF EXISTS {building}")).execute(admin).expect("drop stale build");
        sql_query(format!("CREATE DATABASE {building}")).execute(admin).expect("create template database");
        {
            let conn = PgConnection::establish(&server.database_url(&building)).expect("connect to template");
            let mut conn = persistence::DbConnection::Pg(conn);
            persistence::run_migrations(&mut conn).expect("migrate template");
        }
        // Renaming publishes the template only once it is complete.
        sql_query(format!("ALTER DATABASE {building} RENAME TO {template}")).execute(admin).expect("publish template");
    }
    sql_query("SELECT pg_advisory_unlock(7415)").execute(admin).expect("advisory unlock");
    template
}

fn migrations_hash() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/postgres");
    let mut files = Vec::new();
    collect_files(&dir, &mut files);
    files.sort();
    let mut hasher = Sha256::new();
    for file in files {
        hasher.update(file.strip_prefix(&dir).unwrap_or(&file).to_string_lossy().as_bytes());
        hasher.update(std::fs::read(&file).expect("migration readable"));
    }
    hasher.finalize().iter().take(6).map(|b| format!("{b:02x}")).collect()
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("migrations directory").flatten() {
        let path = entry.path();
        if path.is_dir() { collect_files(&path, out) } else { out.push(path) }
    }
}

/// Where `make test-clean` and the next run find the throwaway cluster.
pub fn throwaway_cluster_dir() -> PathBuf {
    std::env::temp_dir().join("roster-test-pg")
}

fn start_throwaway_cluster() -> Result<String, String> {
    let bin = pg_bin_dir().ok_or("initdb and pg_ctl were not found")?;
    let dir = throwaway_cluster_dir();
    let lock = File::create(std::env::temp_dir().join("roster-test-pg.lock")).map_err(|e| e.to_string())?;
    lock.lock().map_err(|e| e.to_string())?;
    let port_file = dir.join("roster-port");
    if let Ok(port) = std::fs::read_to_string(&port_file) {
        let url = format!("postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable", port.trim());
        if PgConnection::establish(&url).is_ok() {
            return Ok(url);
        }
        let _ = run_as_postgres(&bin.join("pg_ctl"), &["-D", &dir.to_string_lossy(), "-m", "immediate", "stop"]);
    }
    let port = init_cluster(&bin, &dir)?;
    start_cluster(&bin, &dir, port)?;
    std::fs::write(&port_file, port.to_string()).map_err(|e| e.to_string())?;
    Ok(cluster_url(port))
}

fn cluster_url(port: u16) -> String {
    format!("postgres://postgres@127.0.0.1:{port}/postgres?sslmode=disable")
}

/// Creates a fresh cluster in `dir` and picks a free port for it.
fn init_cluster(bin: &Path, dir: &Path) -> Result<u16, String> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    if is_root() {
        run(Command::new("chown").args(["postgres:postgres", &dir.to_string_lossy()]))?;
    }
    let data = dir.to_string_lossy().into_owned();
    run_as_postgres(&bin.join("initdb"), &["-D", &data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])?;
    Ok(std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port())
}

fn start_cluster(bin: &Path, dir: &Path, port: u16) -> Result<(), String> {
    let data = dir.to_string_lossy().into_owned();
    let options = format!("-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300");
    run_as_postgres(
        &bin.join("pg_ctl"),
        &["-D", &data, "-l", &format!("{data}/server.log"), "-o", &options, "-w", "start"],
    )
}

fn stop_cluster(bin: &Path, dir: &Path) -> Result<(), String> {
    run_as_postgres(&bin.join("pg_ctl"), &["-D", &dir.to_string_lossy(), "-m", "fast", "-w", "stop"])
}

/// A PostgreSQL cluster of one test's own, which the test may stop and
/// start again (to see how the service behaves while its database is
/// away). Removed when dropped.
pub struct OwnCluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
}

impl OwnCluster {
    /// `None` (after saying why) where `initdb` and `pg_ctl` are missing;
    /// under `CI=true` that fails the test instead.
    pub fn start() -> Option<OwnCluster> {
        let started = pg_bin_dir().ok_or_else(|| "initdb and pg_ctl were not found".to_owned()).and_then(|bin| {
            let dir = std::env::temp_dir().join(format!("roster-own-pg-{}", uuid::Uuid::new_v4().simple()));
            let port = init_cluster(&bin, &dir)?;
            start_cluster(&bin, &dir, port)?;
            Ok(OwnCluster { bin, dir, port })
        });
        match started {
            Ok(cluster) => Some(cluster),
            Err(error) if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("CI=true: {error}"),
            Err(error) => {
                eprintln!("SKIPPED: a PostgreSQL cluster of the test's own could not be started: {error}");
                None
            }
        }
    }

    pub fn url(&self) -> String {
        cluster_url(self.port)
    }

    /// Stops the server (fast shutdown: connections are cut).
    pub fn stop(&self) {
        stop_cluster(&self.bin, &self.dir).expect("the cluster stops");
    }

    /// Starts the stopped server again on the same port.
    pub fn resume(&self) {
        start_cluster(&self.bin, &self.dir, self.port).expect("the cluster starts again");
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let _ =
            run_as_postgres(&self.bin.join("pg_ctl"), &["-D", &self.dir.to_string_lossy(), "-m", "immediate", "stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn pg_bin_dir() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .collect();
    candidates.sort();
    candidates.into_iter().rev().find(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

fn run_as_postgres(program: &Path, args: &[&str]) -> Result<(), String> {
    if is_root() {
        run(Command::new("runuser").args(["-u", "postgres", "--"]).arg(program).args(args))
    } else {
        run(Command::new(program).args(args))
    }
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command.output().map_err(|e| format!("{command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed: {}", String::from_utf8_lossy(&output.stderr).trim()))
    }
}
