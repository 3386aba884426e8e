//! The one typed configuration. Every setting is a flag and a `ROSTER_*`
//! environment variable, with its default shown by `roster --help`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use domain::rate_limit::{LONGEST_SIGN_IN_WAIT, Limit};
use persistence::DatabaseUrl;

#[derive(Debug, Parser)]
#[command(name = "roster", version, about = "Company accounts and their users, as a JSON REST API.")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply migrations, then serve the HTTP API until SIGTERM or Ctrl-C.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document to standard output.
    Openapi,
    /// Work on the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Work on accounts, as the operator (or a billing system).
    Accounts {
        #[command(subcommand)]
        command: AccountsCommand,
    },
    /// Look at the emails Roster sends.
    Emails {
        #[command(subcommand)]
        command: EmailsCommand,
    },
    /// Make an operator token: prints the token (give it to the billing
    /// system) and the digest to set as ROSTER_OPERATOR_TOKEN_SHA256.
    OperatorToken,
    /// Run the due background jobs (emails, imports, reminders, clean-up)
    /// until none is left, then exit.
    RunJobs {
        /// Only jobs of these kinds (email, import, invitation_clock, cleanup).
        #[arg(long = "kind")]
        kinds: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Put an account on a plan of the plans file. A downgrade removes
    /// nobody; it blocks what the new plan lacks.
    SetPlan {
        /// The account's id.
        account: uuid::Uuid,
        /// The plan's key.
        plan: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum EmailsCommand {
    /// Name every email template.
    List,
    /// Render an email template with sample data, as configured (brand,
    /// ROSTER_EMAIL_TEMPLATES_DIR), without sending anything.
    Preview {
        /// The template's name (`invitation`, `password_reset`, …).
        name: String,
        /// The reader's language (BCP 47); the default language without it.
        #[arg(long)]
        locale: Option<String>,
        /// Print the HTML part (the text part otherwise).
        #[arg(long)]
        html: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk every chain of the audit log and name the first broken link;
    /// exits non-zero when one is broken.
    Verify,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Database: sqlite://PATH (embedded) or postgres://USER@HOST/DB.
    #[arg(long, env = "ROSTER_DATABASE_URL", default_value = "sqlite://data/roster.db", global = true, value_parser = DatabaseUrl::parse)]
    pub database_url: DatabaseUrl,

    /// Address and port the HTTP server listens on (port 0 picks a free one).
    #[arg(long, env = "ROSTER_BIND", default_value = "127.0.0.1:8080", global = true)]
    pub bind: SocketAddr,

    /// Address and port of a second listener serving `GET /metrics` in the
    /// Prometheus text format (port 0 picks a free one). Unset: no metrics.
    /// Keep it off the public network.
    #[arg(long, env = "ROSTER_METRICS_BIND", global = true)]
    pub metrics_bind: Option<SocketAddr>,

    /// The DNS server (`IP:PORT`) that domain verification asks for TXT
    /// records. Unset: the system's name servers (`/etc/resolv.conf`).
    #[arg(long, env = "ROSTER_DNS_RESOLVER", global = true)]
    pub dns_resolver: Option<SocketAddr>,

    /// Directory for generated files (signing key, and the SQLite default).
    #[arg(long, env = "ROSTER_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,

    /// Public base URL of the service; the `iss` of issued tokens and the
    /// base of links.
    #[arg(long, env = "ROSTER_PUBLIC_URL", default_value = "http://127.0.0.1:8080", global = true)]
    pub public_url: String,

    /// `production` refuses to start without explicitly configured keys.
    #[arg(long = "env", env = "ROSTER_ENV", value_enum, default_value = "development", global = true)]
    pub environment: Environment,

    /// PKCS#8 PEM file of the Ed25519 key that signs access tokens. When
    /// unset (development only) one is generated into the data directory.
    #[arg(long, env = "ROSTER_JWT_PRIVATE_KEY_FILE", global = true)]
    pub jwt_private_key_file: Option<PathBuf>,

    /// File holding the 32-byte key (base64) that seals stored secrets such
    /// as webhook signing secrets. When unset (development only) one is
    /// generated into the data directory.
    #[arg(long, env = "ROSTER_SECRETS_KEY_FILE", global = true)]
    pub secrets_key_file: Option<PathBuf>,

    /// Let webhooks reach private, loopback and link-local addresses and
    /// plain http URLs. For local development and tests only.
    #[arg(long, env = "ROSTER_WEBHOOK_ALLOW_PRIVATE_NETWORKS", default_value_t = false, global = true, action = clap::ArgAction::Set)]
    pub webhook_allow_private_networks: bool,

    /// TOML file declaring application permissions and template roles; the
    /// built-in default reproduces a developer console (Developer, Marketer,
    /// Analyst).
    #[arg(long, env = "ROSTER_PERMISSIONS_FILE", global = true)]
    pub permissions_file: Option<PathBuf>,

    /// TOML file declaring the plans (`[[plans]]` with `key`, `name`,
    /// `features` and `seats`); without one, every account has everything.
    #[arg(long, env = "ROSTER_PLANS_FILE", global = true)]
    pub plans_file: Option<PathBuf>,

    /// The plan of new accounts (default: the first declared).
    #[arg(long, env = "ROSTER_DEFAULT_PLAN", global = true)]
    pub default_plan: Option<String>,

    /// SHA-256 (64 hex digits) of the operator token that authenticates
    /// `/v1/operator/…` (a billing system setting plans); `roster
    /// operator-token` makes a token and its digest. Unset: that API
    /// refuses every call.
    #[arg(long, env = "ROSTER_OPERATOR_TOKEN_SHA256", global = true)]
    pub operator_token_sha256: Option<crate::auth::operator::OperatorTokenDigest>,

    /// `aud` claim of issued access tokens.
    #[arg(long, env = "ROSTER_JWT_AUDIENCE", default_value = "roster", global = true)]
    pub jwt_audience: String,

    /// Lifetime of access tokens, in seconds.
    #[arg(long, env = "ROSTER_ACCESS_TOKEN_TTL_SECONDS", default_value_t = 900, global = true, value_parser = clap::value_parser!(u32).range(30..=86_400))]
    pub access_token_ttl_seconds: u32,

    /// Lifetime of refresh tokens, in days.
    #[arg(long, env = "ROSTER_REFRESH_TOKEN_TTL_DAYS", default_value_t = 30, global = true, value_parser = clap::value_parser!(u32).range(1..=365))]
    pub refresh_token_ttl_days: u32,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "ROSTER_BODY_LIMIT_BYTES", default_value_t = 1_048_576, global = true)]
    pub body_limit_bytes: usize,

    /// Database connections per instance; 0: twice the cores plus one.
    #[arg(long, env = "ROSTER_DB_POOL_SIZE", default_value_t = 0, global = true, value_parser = clap::value_parser!(u32).range(0..=500))]
    pub db_pool_size: u32,

    /// How long a request waits for a database connection before it is
    /// answered 503 with `Retry-After`, in milliseconds. Short, so that an
    /// unreachable database fails requests fast instead of queueing them.
    #[arg(long, env = "ROSTER_DB_CONNECT_WAIT_MS", default_value_t = 1_000, global = true, value_parser = clap::value_parser!(u64).range(50..=60_000))]
    pub db_connect_wait_ms: u64,

    /// How long the authorization cache's listener waits before it
    /// reconnects after losing its connection, in milliseconds. Meanwhile
    /// every decision is read from the database.
    #[arg(long, env = "ROSTER_AUTHORIZATION_LISTENER_RETRY_MS", default_value_t = 1_000, global = true, value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    pub authorization_listener_retry_ms: u64,

    /// Origins (scheme://host[:port]) whose browser pages may call the API,
    /// comma-separated, or `*` for any origin. None by default: only pages
    /// served from the public URL's own origin. Roster authenticates with
    /// bearer tokens, never cookies, so credentialed CORS is never enabled
    /// (and `*` cannot be combined with it).
    #[arg(long, env = "ROSTER_CORS_ALLOWED_ORIGINS", value_delimiter = ',', global = true)]
    pub cors_allowed_origins: Vec<String>,

    /// Addresses of reverse proxies in front of Roster, comma-separated.
    /// Only when a request comes from one of them is `X-Forwarded-For` read
    /// for the client's address (rate limits, the audit log); otherwise
    /// anyone could claim any address.
    #[arg(long, env = "ROSTER_TRUSTED_PROXIES", value_delimiter = ',', global = true)]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    #[command(flatten)]
    pub rate_limits: RateLimitSettings,

    /// Threads that hash and check passwords (0: one per CPU core). Each
    /// hash holds about 19 MiB while it runs, so this bounds the memory and
    /// CPU that sign-ins can take.
    #[arg(long, env = "ROSTER_PASSWORD_HASHING_THREADS", default_value_t = 0, global = true)]
    pub password_hashing_threads: usize,

    /// How long a sign-in or registration waits for a free hashing thread
    /// before it is answered 503 with `Retry-After`, in milliseconds.
    #[arg(long, env = "ROSTER_PASSWORD_HASHING_WAIT_MS", default_value_t = 1_000, global = true, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub password_hashing_wait_ms: u64,

    /// HTTP worker threads (0: one per CPU core).
    #[arg(long, env = "ROSTER_WORKERS", default_value_t = 0, global = true)]
    pub workers: usize,

    /// Where emails go: `file://DIR` writes .eml files (the default, so a
    /// local user can open them), `smtp://HOST:PORT` plain or STARTTLS
    /// (`?tls=required`), `smtps://USER:PASS@HOST` implicit TLS.
    #[arg(long, env = "ROSTER_EMAIL_TRANSPORT", default_value = "file://data/mail", global = true)]
    pub email_transport: String,

    /// Sender address of every email. Without a display name of its own
    /// (`Name <address>`), emails come from the product's name.
    #[arg(long, env = "ROSTER_EMAIL_FROM", default_value = "roster@localhost", global = true)]
    pub email_from: String,

    /// The product's name, as every email and the API documentation's title
    /// give it: name it after the product Roster is part of.
    #[arg(long, env = "ROSTER_PRODUCT_NAME", default_value = "Roster", global = true)]
    pub product_name: String,

    /// Days a deleted account waits, restorable by an owner, before the job
    /// runner erases it.
    #[arg(long, env = "ROSTER_ACCOUNT_DELETION_GRACE_DAYS", default_value_t = 30, global = true, value_parser = clap::value_parser!(u32).range(0..=3650))]
    pub account_deletion_grace_days: u32,

    /// Where the people who get emails can ask for help: an email address
    /// shown at the foot of every email.
    #[arg(long, env = "ROSTER_SUPPORT_EMAIL", global = true)]
    pub support_email: Option<String>,

    /// A help page shown at the foot of every email (http or https).
    #[arg(long, env = "ROSTER_SUPPORT_URL", global = true)]
    pub support_url: Option<String>,

    /// The product's logo at the top of every HTML email (an https URL the
    /// reader's mail client loads).
    #[arg(long, env = "ROSTER_LOGO_URL", global = true)]
    pub logo_url: Option<String>,

    /// The language of emails to readers nobody knows more about (no
    /// language of their own, of their invitation or of their account): a
    /// BCP 47 tag of a shipped language (en, de, fr, es, ja) or one that
    /// falls back to it (de-AT).
    #[arg(long, env = "ROSTER_DEFAULT_LOCALE", default_value = "en", global = true)]
    pub default_locale: String,

    /// A directory of email templates that replace the built-in ones of
    /// the same file name (`invitation.html`, `layout.txt`, …; see `roster
    /// emails list`). Each is rendered with sample data at start-up.
    #[arg(long, env = "ROSTER_EMAIL_TEMPLATES_DIR", global = true)]
    pub email_templates_dir: Option<PathBuf>,

    /// Run background jobs (email delivery, imports, reminders, clean-up) in
    /// this instance. Instances that only serve requests can turn it off.
    #[arg(long, env = "ROSTER_JOBS", default_value_t = true, global = true, action = clap::ArgAction::Set)]
    pub jobs: bool,

    /// How often an idle job lane looks for due jobs queued elsewhere (other
    /// instances, retries), in milliseconds. Work queued by this instance
    /// starts at once.
    #[arg(long, env = "ROSTER_JOBS_POLL_MS", default_value_t = 1_000, global = true, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub jobs_poll_ms: u64,

    /// How often expiry and reminders of invitations are processed, in
    /// milliseconds.
    #[arg(long, env = "ROSTER_SCHEDULER_INTERVAL_MS", default_value_t = 60_000, global = true, value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    pub scheduler_interval_ms: u64,

    /// How often a verified domain's DNS record is looked up again, in
    /// hours; a record missing for 3 days makes the domain unverified.
    #[arg(long, env = "ROSTER_DOMAIN_RECHECK_HOURS", default_value_t = 24, global = true, value_parser = clap::value_parser!(u32).range(1..=720))]
    pub domain_recheck_hours: u32,

    /// The frontend pages single sign-on may return to, comma-separated
    /// and compared exactly: `GET /v1/sso/start` refuses any other
    /// `redirect_uri`. None by default (single sign-on is off until set).
    #[arg(long, env = "ROSTER_SSO_REDIRECT_URIS", value_delimiter = ',', global = true)]
    pub sso_redirect_uris: Vec<String>,

    /// Let single sign-on reach identity providers on private, loopback and
    /// link-local addresses and over plain http. For local development and
    /// tests only.
    #[arg(long, env = "ROSTER_SSO_ALLOW_PRIVATE_NETWORKS", default_value_t = false, global = true, action = clap::ArgAction::Set)]
    pub sso_allow_private_networks: bool,

    /// Days audit events are kept (0: forever). Older events are purged by a
    /// job; each chain stays verifiable from the last purged event.
    #[arg(long, env = "ROSTER_AUDIT_RETENTION_DAYS", default_value_t = 0, global = true)]
    pub audit_retention_days: u32,

    /// Days the audit log of an erased account is kept after its erasure, a
    /// sealed archive the operator can read and verify (0: as long as other
    /// events). Then its events are purged; the chain's anchor stays.
    #[arg(long, env = "ROSTER_AUDIT_ARCHIVE_DAYS", default_value_t = 365, global = true, value_parser = clap::value_parser!(u32).range(0..=36500))]
    pub audit_archive_days: u32,

    /// Log format: human-readable text or one JSON object per line.
    #[arg(long, env = "ROSTER_LOG_FORMAT", value_enum, default_value = "text", global = true)]
    pub log_format: LogFormat,

    /// Log filter, in tracing's EnvFilter syntax.
    #[arg(long, env = "ROSTER_LOG", default_value = "info", global = true)]
    pub log: String,
}

/// Rate limits, each `HITS/WINDOW` (`10/15m`; units s, m, h, d; at most a
/// day) or `off`. Counted in the database, so instances sharing one count
/// together.
#[derive(Debug, Clone, Args)]
pub struct RateLimitSettings {
    /// Sign-in attempts per email address, from every client address
    /// together: a cap on guessing from many addresses, and the longest
    /// wait the right password can meet (its window, at most 15 minutes).
    /// A password reset clears it.
    #[arg(
        long = "rate-limit-login-per-email",
        env = "ROSTER_RATE_LIMIT_LOGIN_PER_EMAIL",
        default_value = "30/15m",
        value_parser = sign_in_limit,
        global = true
    )]
    pub login_per_email: Limit,

    /// Failed sign-ins per email address from one client address; past
    /// it, the wait doubles with each further attempt, up to 15 minutes.
    /// A successful sign-in from that address or a password reset clears it.
    #[arg(
        long = "rate-limit-login-per-email-and-ip",
        env = "ROSTER_RATE_LIMIT_LOGIN_PER_EMAIL_AND_IP",
        default_value = "5/1m",
        value_parser = sign_in_limit,
        global = true
    )]
    pub login_per_email_and_ip: Limit,

    /// Sign-in attempts per client address.
    #[arg(
        long = "rate-limit-login-per-ip",
        env = "ROSTER_RATE_LIMIT_LOGIN_PER_IP",
        default_value = "100/15m",
        global = true
    )]
    pub login_per_ip: Limit,

    /// Registrations per client address.
    #[arg(
        long = "rate-limit-register-per-ip",
        env = "ROSTER_RATE_LIMIT_REGISTER_PER_IP",
        default_value = "20/h",
        global = true
    )]
    pub register_per_ip: Limit,

    /// Password reset emails per email address asked for.
    #[arg(
        long = "rate-limit-password-reset-per-email",
        env = "ROSTER_RATE_LIMIT_PASSWORD_RESET_PER_EMAIL",
        default_value = "5/h",
        global = true
    )]
    pub password_reset_per_email: Limit,

    /// Password reset requests per client address.
    #[arg(
        long = "rate-limit-password-reset-per-ip",
        env = "ROSTER_RATE_LIMIT_PASSWORD_RESET_PER_IP",
        default_value = "20/h",
        global = true
    )]
    pub password_reset_per_ip: Limit,

    /// Verification and address-change emails a user may ask for.
    #[arg(
        long = "rate-limit-verification-resend",
        env = "ROSTER_RATE_LIMIT_VERIFICATION_RESEND",
        default_value = "5/h",
        global = true
    )]
    pub verification_resend: Limit,

    /// Invitation emails (new, resent or reminded by hand) per account.
    #[arg(
        long = "rate-limit-invitations-per-account",
        env = "ROSTER_RATE_LIMIT_INVITATIONS_PER_ACCOUNT",
        default_value = "500/h",
        global = true
    )]
    pub invitations_per_account: Limit,

    /// Invitation emails (new, resent or reminded by hand) per sender, in
    /// all their accounts together.
    #[arg(
        long = "rate-limit-invitations-per-sender",
        env = "ROSTER_RATE_LIMIT_INVITATIONS_PER_SENDER",
        default_value = "500/h",
        global = true
    )]
    pub invitations_per_sender: Limit,

    /// Accounts a user may create.
    #[arg(
        long = "rate-limit-accounts-per-user",
        env = "ROSTER_RATE_LIMIT_ACCOUNTS_PER_USER",
        default_value = "10/d",
        global = true
    )]
    pub accounts_per_user: Limit,

    /// Joins through join links per client address.
    #[arg(
        long = "rate-limit-joins-per-ip",
        env = "ROSTER_RATE_LIMIT_JOINS_PER_IP",
        default_value = "30/h",
        global = true
    )]
    pub joins_per_ip: Limit,

    /// Single sign-ons started per client address.
    #[arg(
        long = "rate-limit-sso-starts-per-ip",
        env = "ROSTER_RATE_LIMIT_SSO_STARTS_PER_IP",
        default_value = "60/10m",
        global = true
    )]
    pub sso_starts_per_ip: Limit,

    /// Requests per partner API key, shared by every instance.
    #[arg(long = "rate-limit-api-key", env = "ROSTER_RATE_LIMIT_API_KEY", default_value = "6000/1m", global = true)]
    pub api_key: Limit,

    /// Requests per directory (SCIM) token, counted by each instance.
    #[arg(
        long = "rate-limit-scim-token",
        env = "ROSTER_RATE_LIMIT_SCIM_TOKEN",
        default_value = "3000/1m",
        global = true
    )]
    pub scim_token: Limit,
}

/// A sign-in limit: its window is the longest the right password can be
/// made to wait, so it may not exceed [`LONGEST_SIGN_IN_WAIT`].
fn sign_in_limit(text: &str) -> Result<Limit, String> {
    let limit: Limit = text.parse().map_err(|e: domain::rate_limit::InvalidQuota| e.to_string())?;
    match limit.0 {
        Some(quota) if quota.window > LONGEST_SIGN_IN_WAIT => {
            Err("a sign-in limit's window may be at most 15m: the right password never waits longer".into())
        }
        _ => Ok(limit),
    }
}

impl RateLimitSettings {
    /// Every limit off: for tests that are about something else.
    pub fn off() -> Self {
        let off = Limit(None);
        RateLimitSettings {
            login_per_email: off,
            login_per_email_and_ip: off,
            login_per_ip: off,
            register_per_ip: off,
            password_reset_per_email: off,
            password_reset_per_ip: off,
            verification_resend: off,
            invitations_per_account: off,
            invitations_per_sender: off,
            accounts_per_user: off,
            joins_per_ip: off,
            sso_starts_per_ip: off,
            api_key: off,
            scim_token: off,
        }
    }
}

impl Settings {
    /// Settings as `roster serve` reads them with no flags (environment
    /// variables still apply): the base that tests and tools adjust.
    pub fn defaults() -> Self {
        Cli::parse_from(["roster", "serve"]).settings
    }

    /// The database connections to open: as configured, or twice the cores
    /// plus one. More connections than the cores can serve only queue inside
    /// the database: on 2 cores, 4–5 connections answered authorization
    /// checks 10–25 % faster than 10, with p99 12 ms instead of 17–19 ms
    /// (BENCHMARKS.md).
    pub fn pool_size(&self) -> u32 {
        match self.db_pool_size {
            0 => {
                let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
                u32::try_from(cores * 2 + 1).unwrap_or(u32::MAX).min(500)
            }
            size => size,
        }
    }

    pub fn issuer(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_defaults_to_twice_the_cores_plus_one_unless_set() {
        let mut settings = Settings::defaults();
        let cores = std::thread::available_parallelism().unwrap().get() as u32;
        assert_eq!(settings.pool_size(), cores * 2 + 1);
        settings.db_pool_size = 7;
        assert_eq!(settings.pool_size(), 7);
    }
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn flags_override_defaults() {
        let cli = Cli::parse_from([
            "roster",
            "migrate",
            "--database-url",
            "postgres://u:secret@db/roster",
            "--env",
            "production",
        ]);
        assert!(matches!(cli.command, Command::Migrate));
        assert_eq!(cli.settings.environment, Environment::Production);
        assert_eq!(cli.settings.database_url.backend(), "postgres");
        assert!(!cli.settings.database_url.to_string().contains("secret"));
    }

    #[test]
    fn sign_in_limits_may_not_make_the_right_password_wait_past_15_minutes() {
        assert!(sign_in_limit("30/15m").is_ok());
        assert!(sign_in_limit("off").is_ok());
        assert!(sign_in_limit("30/16m").unwrap_err().contains("15m"));
        let refused = Cli::try_parse_from(["roster", "serve", "--rate-limit-login-per-email", "10/1h"]);
        assert!(refused.is_err());
    }
}
