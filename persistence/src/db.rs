use std::cell::Cell;
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::audit::{self, HeldEvents};
use crate::{StoreError, authorization_changes};

/// A connection to either backend. Every repository function takes this.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

pub type DbPool = r2d2::Pool<ConnectionManager>;
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");
pub(crate) const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");

/// Where the data lives, parsed from `sqlite://PATH` or `postgres://…`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if let Some(path) = raw.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("a sqlite:// URL needs a file path, e.g. sqlite://data/roster.db".into());
            }
            Ok(Self::Sqlite(PathBuf::from(path)))
        } else if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            Ok(Self::Postgres(raw.to_owned()))
        } else {
            Err("the database URL must start with sqlite:// or postgres://".into())
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgres",
            Self::Sqlite(_) => "sqlite",
        }
    }
}

/// Credentials never reach logs: the user-info part of a URL is masked.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            Self::Postgres(url) => match url.split_once("://").and_then(|(_, rest)| rest.rsplit_once('@')) {
                Some((_, host)) => write!(f, "postgres://***@{host}"),
                None => f.write_str(url),
            },
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Opens connections of the backend the URL names. diesel's own manager
/// would try each backend in turn, and SQLite accepts any string as a path.
///
/// A connection is tested (`SELECT 1`) on checkout only when it may have
/// gone stale: after the pool was quiet for a while, or for a minute after a
/// connection was found lost. Under steady load the test was one round trip
/// in ten of an invitation's; a connection that breaks under load fails its
/// one request with a 503 and is dropped.
#[derive(Debug)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    /// Milliseconds since `started` of the last checkout.
    last_checkout: AtomicU64,
    /// Until when (milliseconds since `started`) every checkout is tested.
    suspect_until: AtomicU64,
    started: Instant,
}

/// A pool quiet for this long tests what it hands out next.
const QUIET: Duration = Duration::from_secs(1);
/// How long after a lost connection every checkout is tested.
const SUSPECT: Duration = Duration::from_secs(60);

thread_local! {
    /// Set when a statement on this thread found its connection lost, so
    /// that the pool drops that connection when it comes back.
    static LOST: Cell<bool> = const { Cell::new(false) };
}

/// Notes that the connection this thread is using was found lost.
pub(crate) fn connection_lost() {
    LOST.set(true);
}

impl ConnectionManager {
    fn new(url: &DatabaseUrl) -> Self {
        ConnectionManager {
            url: url.clone(),
            last_checkout: AtomicU64::new(0),
            suspect_until: AtomicU64::new(0),
            started: Instant::now(),
        }
    }

    fn millis(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                diesel::PgConnection::establish(url).map(DbConnection::Pg).map_err(r2d2::Error::ConnectionError)
            }
            DatabaseUrl::Sqlite(path) => {
                let mut conn = diesel::SqliteConnection::establish(&path.to_string_lossy())
                    .map_err(r2d2::Error::ConnectionError)?;
                // The busy timeout comes first so that every later statement,
                // switching to WAL included, waits for a lock instead of
                // failing. WAL lets readers proceed beside the single writer.
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA wal_autocheckpoint = {WAL_BACKSTOP_PAGES};"
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        let now = self.millis();
        let previous = self.last_checkout.swap(now, Ordering::Relaxed);
        let busy = now.saturating_sub(previous) < QUIET.as_millis() as u64;
        if busy && now >= self.suspect_until.load(Ordering::Relaxed) {
            return Ok(());
        }
        conn.batch_execute("SELECT 1").map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        if LOST.take() {
            self.suspect_until.store(self.millis() + SUSPECT.as_millis() as u64, Ordering::Relaxed);
            return true;
        }
        conn.is_broken()
    }
}

/// How many pages SQLite's write-ahead log may hold before a commit copies
/// them into the database file itself. At SQLite's default (1,000) the
/// commit that crossed it did the copying, with its fsyncs, while holding
/// the only write lock, several times a second under steady writes, and
/// every writer queued behind it waited. `roster serve` copies off the write
/// path instead ([`checkpoint`]; invite→accept 15–20 % more flows/s,
/// BENCHMARKS.md); this is the backstop for when that falls behind or does
/// not run (one-off commands).
const WAL_BACKSTOP_PAGES: u32 = 10_000;

/// Copies what it can of SQLite's write-ahead log into the database file,
/// without waiting for readers or writers (`PASSIVE`): call it every so often
/// beside the writes. PostgreSQL has nothing to do.
pub fn checkpoint(conn: &mut DbConnection) -> Result<(), StoreError> {
    if let DbConnection::Sqlite(sqlite) = conn {
        sqlite.batch_execute("PRAGMA wal_checkpoint(PASSIVE)")?;
    }
    Ok(())
}

/// Opens a pool of `size` connections, creating the SQLite file's directory.
///
/// `wait` bounds how long a caller waits for a connection: when the database
/// is away, requests should fail fast (and be retried) rather than pile up.
pub fn connect_pool(url: &DatabaseUrl, size: u32, wait: Duration) -> Result<DbPool, StoreError> {
    create_sqlite_dir(url)?;
    r2d2::Pool::builder()
        .max_size(size)
        // Open one connection up front (it fails fast on a bad URL) and the
        // rest on demand, rather than all at once.
        .min_idle(Some(1))
        .connection_timeout(wait)
        .build(ConnectionManager::new(url))
        .map_err(|e| StoreError::Connect(e.to_string()))
}

/// Opens one connection, for a command that runs once and exits: a pool
/// would open its replacement connection on a thread of its own, which the
/// process's exit can cut short inside libpq (a crash, on PostgreSQL).
pub fn connect(url: &DatabaseUrl) -> Result<DbConnection, StoreError> {
    create_sqlite_dir(url)?;
    ConnectionManager::new(url).connect().map_err(|e| StoreError::Connect(e.to_string()))
}

fn create_sqlite_dir(url: &DatabaseUrl) -> Result<(), StoreError> {
    if let DatabaseUrl::Sqlite(path) = url
        && let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Connect(format!("cannot create {}: {e}", dir.display())))?;
    }
    Ok(())
}

/// Applies the embedded migrations of the connection's backend. On
/// PostgreSQL an advisory lock serialises instances starting together.
pub fn run_migrations(conn: &mut DbConnection) -> Result<(), StoreError> {
    const MIGRATION_LOCK: i64 = 0x526f_7374_6572; // "Roster"
    let migrate =
        |result: diesel::migration::Result<Vec<_>>| result.map(drop).map_err(|e| StoreError::Migration(e.to_string()));
    match conn {
        DbConnection::Pg(pg) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")).execute(pg)?;
            let outcome = migrate(pg.run_pending_migrations(POSTGRES_MIGRATIONS));
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")).execute(pg)?;
            outcome
        }
        DbConnection::Sqlite(sqlite) => migrate(sqlite.run_pending_migrations(SQLITE_MIGRATIONS)),
    }
}

/// Whether the database lacks migrations this build knows (readiness).
pub fn migrations_pending(conn: &mut DbConnection) -> Result<bool, StoreError> {
    let pending = match conn {
        DbConnection::Pg(pg) => pg.has_pending_migration(POSTGRES_MIGRATIONS),
        DbConnection::Sqlite(sqlite) => sqlite.has_pending_migration(SQLITE_MIGRATIONS),
    };
    pending.map_err(|e| StoreError::Migration(e.to_string()))
}

/// SQLite's writers of this process, one at a time, in the order they came.
///
/// SQLite admits one writer per database; the others wait in its busy
/// handler, which sleeps (1, 2, 5 … 100 ms) and polls, so a writer could
/// sleep 25 ms for a lock freed after 0.2 ms, and an unlucky one could be
/// overtaken again and again. Waiting here instead wakes the next writer the
/// moment the lock is free, first come first served. One queue for the whole
/// process: a server serves one database; a test process with many
/// databases only serialises their (short) writes. Other processes (the
/// `roster` commands) still meet the busy handler.
static SQLITE_WRITERS: parking_lot::FairMutex<()> = parking_lot::const_fair_mutex(());

/// Runs `work` in a transaction that writes.
///
/// On SQLite it waits its turn in [`SQLITE_WRITERS`], then starts with
/// `BEGIN IMMEDIATE`, taking the write lock up front: a deferred transaction
/// that reads and then writes can fail with SQLITE_BUSY without waiting.
/// PostgreSQL uses an ordinary transaction. Nested calls become savepoints on
/// both. The outermost call collects the accounts whose authorization the
/// transaction changed ([`authorization_changes`]).
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let depth = match conn {
        DbConnection::Pg(pg) => AnsiTransactionManager::transaction_manager_status_mut(pg).transaction_depth()?,
        DbConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::transaction_manager_status_mut(sqlite).transaction_depth()?
        }
    };
    if depth.is_some() {
        let mark = HeldEvents::mark();
        let outcome = conn.transaction(work);
        if outcome.is_err() {
            // Its savepoint is rolled back: so are the events it recorded.
            HeldEvents::forget_since(mark);
        }
        return outcome;
    }
    let DbConnection::Sqlite(sqlite) = conn else {
        // Recorded events wait for the statement that asks which
        // authorization changed, and go with it: one round trip fewer.
        let held = HeldEvents::start();
        let (value, changed) = conn.transaction(|conn| {
            let value = work(conn)?;
            let recorded = held.take();
            let changed = match (audit::insert_of(&recorded), &mut *conn) {
                (Some(insert), DbConnection::Pg(pg)) => authorization_changes::pending_pg_after(pg, insert)?,
                _ => {
                    audit::write_now(conn, &recorded)?;
                    authorization_changes::pending(conn)?
                }
            };
            Ok::<_, E>((value, changed))
        })?;
        authorization_changes::committed(changed);
        return Ok(value);
    };
    let _turn = SQLITE_WRITERS.lock();
    AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
    let outcome = work(conn).and_then(|value| Ok((value, authorization_changes::pending(conn)?)));
    let DbConnection::Sqlite(sqlite) = conn else {
        unreachable!("the connection cannot change backend inside a transaction")
    };
    match outcome {
        Ok((value, changed)) => match AnsiTransactionManager::commit_transaction(sqlite) {
            Ok(()) => {
                authorization_changes::committed(changed);
                Ok(value)
            }
            Err(commit_error) => {
                let _ = AnsiTransactionManager::rollback_transaction(sqlite);
                Err(commit_error.into())
            }
        },
        Err(error) => {
            AnsiTransactionManager::rollback_transaction(sqlite)?;
            Err(error)
        }
    }
}

/// A no-op condition that makes diesel send its query unprepared, so that
/// PostgreSQL plans it for the values at hand. For lookups by a batch's list
/// of emails: prepared, `= ANY($1)` gets one generic plan, made from the
/// table statistics of that moment; after a large import into a table the
/// statistics called empty, that plan filtered every row against the whole
/// list (70 ms per 500-row batch instead of 3 ms, measured). For searches
/// (`LIKE '%…%'`): a generic plan cannot tell a rare pattern from a common
/// one and walked a million-member account in id order (2.3 s) instead of
/// using the trigram indexes (5.6 ms).
pub(crate) fn planned_per_call() -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    diesel::dsl::sql::<diesel::sql_types::Bool>("TRUE")
}

/// Rows per statement in [`insert_all!`]: the widest table inserted in
/// batches has 16 columns, which keeps a statement well under SQLite's
/// 32,766 bound parameters (PostgreSQL allows 65,535).
pub(crate) const BATCH_ROWS: usize = 1_000;

/// From this many rows, PostgreSQL gets them by `COPY … FROM STDIN`
/// (binary) rather than as a multi-row `INSERT`, which it parses and plans
/// with a bound parameter per value.
pub(crate) const COPY_ROWS: usize = 64;

/// Inserts a slice of `Insertable` rows with one multi-row statement per
/// [`BATCH_ROWS`], or on PostgreSQL one `COPY` from [`COPY_ROWS`] rows.
/// `MultiConnection` cannot express batch inserts, so this is
/// the one place that matches on the backend for them. Row structs must use
/// `#[diesel(treat_none_as_default_value = false)]`: SQLite has no
/// `DEFAULT` inside a multi-row `VALUES`. A single row (what most flows
/// write) goes as a single-row statement, which diesel keeps prepared; it
/// parses a multi-row one every time.
macro_rules! insert_all {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let rows = &$rows[..];
        match &mut *$conn {
            $crate::DbConnection::Pg(conn) if rows.len() >= $crate::db::COPY_ROWS => {
                diesel::copy_from($table).from_insertable(rows).execute(conn)
            }
            _ => {
                let mut inserted = 0usize;
                for chunk in rows.chunks($crate::db::BATCH_ROWS) {
                    inserted += match (&mut *$conn, chunk) {
                        ($crate::DbConnection::Pg(conn), [row]) => {
                            diesel::insert_into($table).values(row).execute(conn)
                        }
                        ($crate::DbConnection::Pg(conn), _) => diesel::insert_into($table).values(chunk).execute(conn),
                        ($crate::DbConnection::Sqlite(conn), [row]) => {
                            diesel::insert_into($table).values(row).execute(conn)
                        }
                        ($crate::DbConnection::Sqlite(conn), _) => {
                            diesel::insert_into($table).values(chunk).execute(conn)
                        }
                    }?;
                }
                Ok::<usize, diesel::result::Error>(inserted)
            }
        }
    }};
}
pub(crate) use insert_all;
