//! The use cases. Each write runs in one transaction with everything it
//! causes (emails in the outbox, and what later issues add beside them),
//! and each family returns its own typed error, mapped to HTTP once in
//! [`crate::http::problem`]. Business decisions are `domain`'s; flows
//! gather the facts, ask `domain`, and write through `persistence`.

pub mod access_reviews;
pub mod accounts;
pub mod addresses;
pub mod api_keys;
pub mod audit;
pub mod contacts;
pub mod credentials;
pub mod directory;
pub mod domains;
pub mod enrollment;
pub mod groups;
pub mod imports;
pub mod invitations;
pub mod joins;
pub mod links;
pub mod members;
pub mod my_data;
pub mod notifications;
pub mod roles;
pub mod scim_tokens;
pub mod seats;
pub mod sessions;
pub mod sso;
pub mod users;
pub mod versioned;
pub mod webhooks;

use chrono::{DateTime, Utc};

use crate::auth::sealing::SealingKey;
use domain::plan::Plans;
use domain::{Catalogue, GrantRefused, TooManyRoles};
use persistence::{QueryError, StoreError};
use uuid::Uuid;

/// Who makes a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in user.
    User(Uuid),
    /// A partner's API key.
    ApiKey(Uuid),
    /// Whoever runs the deployment, through the operator API.
    Operator,
    /// Someone not signed in (registering, declining through a link).
    Anonymous,
    /// Roster itself: background jobs.
    System,
    /// The account's directory provisioning over SCIM, by its token.
    Directory(Uuid),
}

/// Where a request came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
}

/// What the deployment is configured with that flows consult: loaded once
/// at start-up and shared by the server, the job runner and the commands.
pub struct Deployment {
    pub catalogue: Catalogue,
    /// What each plan includes; the account's plan gates features and seats.
    pub plans: Plans,
    /// Seals secrets that are stored but cannot be digests.
    pub secrets: SealingKey,
    /// The base of the links in emails.
    pub public_url: String,
    /// Writes emails in the reader's language, in the operator's brand.
    pub emails: crate::email::render::EmailRenderer,
    /// How long a deleted account waits, restorable, before it is erased.
    pub deletion_grace: chrono::Duration,
    /// How long an erased account's audit log is kept after its erasure
    /// (`None`: as long as other events).
    pub audit_archive: Option<chrono::Duration>,
}

/// What every flow needs besides its input: the deployment's catalogue,
/// plans and keys, the time of the change, and who asked from where.
pub struct Ctx<'a> {
    pub catalogue: &'a Catalogue,
    pub plans: &'a Plans,
    /// Seals secrets that are stored but cannot be digests.
    pub secrets: &'a SealingKey,
    pub now: DateTime<Utc>,
    pub public_url: &'a str,
    /// How long a deleted account waits, restorable, before it is erased.
    pub deletion_grace: chrono::Duration,
    pub actor: Actor,
    pub origin: Origin,
    /// `actor`'s display name, read once per flow however many events it
    /// records (accepting an invitation records two).
    pub(crate) actor_name: std::sync::OnceLock<String>,
}

impl<'a> Ctx<'a> {
    pub fn new(deployment: &'a Deployment, now: DateTime<Utc>, actor: Actor, origin: Origin) -> Self {
        Ctx {
            catalogue: &deployment.catalogue,
            plans: &deployment.plans,
            secrets: &deployment.secrets,
            now,
            public_url: &deployment.public_url,
            deletion_grace: deployment.deletion_grace,
            actor,
            origin,
            actor_name: std::sync::OnceLock::new(),
        }
    }
}

impl Ctx<'_> {
    /// A URL under the public base, for links in emails.
    pub fn link(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.public_url.trim_end_matches('/'))
    }
}

/// A member acting in their account, with the roles they hold there: who
/// grants roles, invites, approves or administers.
#[derive(Debug, Clone)]
pub struct Grantor {
    pub account_id: Uuid,
    pub user_id: Uuid,
    pub roles: Vec<domain::HeldRole>,
}

impl Grantor {
    /// What the grantor holds where a change applies: account-wide, or
    /// inside `group`.
    pub fn holds_in(&self, catalogue: &Catalogue, group: Option<Uuid>) -> domain::PermissionSet {
        catalogue.effective(&self.roles, group)
    }
}

/// An optimistic-concurrency refusal: the change named no version
/// (`If-Match`) or a stale one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Precondition {
    #[error("the current version (If-Match) is required")]
    Required,
    #[error("the resource changed since it was read")]
    Failed,
}

/// An opaque version of a value for `ETag`/`If-Match`: a digest of its
/// canonical text.
pub fn entity_tag(canonical: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(canonical.as_bytes());
    format!("\"{}\"", base16ct::lower::encode_string(&digest[..10]))
}

/// A stale tag fails; none at all is required, so that no client
/// overwrites a change it never saw.
pub fn check_precondition(if_match: Option<&str>, current: &str) -> Result<(), Precondition> {
    match if_match {
        None => Err(Precondition::Required),
        Some(tags) if tags.split(',').map(str::trim).any(|tag| tag == current || tag == "*") => Ok(()),
        Some(_) => Err(Precondition::Failed),
    }
}

/// Refusals that several flow families meet. Each family's error wraps
/// them as its `Shared` variant.
#[derive(Debug, thiserror::Error)]
pub enum Shared {
    /// No such resource in the caller's account (or the caller cannot see it).
    #[error("not found")]
    NotFound,
    /// The caller lacks this permission where the change applies.
    #[error("missing permission {0}")]
    Forbidden(domain::Permission),
    #[error(transparent)]
    Grant(#[from] GrantRefused),
    #[error(transparent)]
    TooManyRoles(#[from] TooManyRoles),
    /// A role key the account does not have, named in `field`.
    #[error("unknown role {key:?}")]
    UnknownRole { field: &'static str, key: String },
    /// A group the account does not have, named in `field`.
    #[error("unknown group")]
    UnknownGroup { field: &'static str },
    /// The signed-in user's row is gone (deleted since the token was issued).
    #[error("the signed-in user no longer exists")]
    UserGone,
    #[error(transparent)]
    SeatLimit(#[from] domain::plan::SeatLimitReached),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The conversions every family error needs, through its `Shared` variant.
macro_rules! family_error {
    ($name:ident) => {
        impl From<$crate::flows::Shared> for $name {
            fn from(shared: $crate::flows::Shared) -> Self {
                $name::Shared(shared)
            }
        }
        impl From<persistence::StoreError> for $name {
            fn from(error: persistence::StoreError) -> Self {
                $name::Shared($crate::flows::Shared::Store(error))
            }
        }
        impl From<persistence::QueryError> for $name {
            fn from(error: persistence::QueryError) -> Self {
                $name::Shared($crate::flows::Shared::Store(error.into()))
            }
        }
        impl From<domain::GrantRefused> for $name {
            fn from(refused: domain::GrantRefused) -> Self {
                $name::Shared($crate::flows::Shared::Grant(refused))
            }
        }
        impl From<domain::TooManyRoles> for $name {
            fn from(refused: domain::TooManyRoles) -> Self {
                $name::Shared($crate::flows::Shared::TooManyRoles(refused))
            }
        }
    };
}
pub(crate) use family_error;

impl From<QueryError> for Shared {
    fn from(error: QueryError) -> Self {
        Shared::Store(error.into())
    }
}
