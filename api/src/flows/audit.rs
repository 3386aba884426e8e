//! Recording changes: every flow appends one event (or a few) to the audit
//! log inside the transaction of its change, through [`Ctx::record`]. The
//! event names the actor, what the change is about and the fields it
//! changed, before and after; never a secret or a token digest.

use crate::auth::sealing::SealingKey;
use domain::audit::{AuditAction, Bound, BoundSigner};
use persistence::audit::{self, NewEvent};
use persistence::users::{self, User};
use persistence::{DbConnection, StoreError};
use serde::Serialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{Actor, Ctx};

/// Whose chain an event joins: an account's, or (for what a user does
/// outside any account) the user's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chain {
    Account(Uuid),
    User(Uuid),
}

impl Chain {
    pub fn key(self) -> String {
        match self {
            Chain::Account(account) => account.to_string(),
            Chain::User(user) => format!("user:{user}"),
        }
    }
}

/// One thing an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: Uuid,
    /// How a person recognises it: an email, a name, a key.
    pub label: String,
}

/// An event being built by a flow.
#[derive(Debug, Clone)]
pub struct Event {
    chain: Chain,
    action: AuditAction,
    actor: Option<Actor>,
    targets: Vec<Target>,
    changes: Map<String, Value>,
}

impl Event {
    pub fn in_account(account: Uuid, action: AuditAction) -> Self {
        Self { chain: Chain::Account(account), action, actor: None, targets: Vec::new(), changes: Map::new() }
    }

    pub fn for_user(user: Uuid, action: AuditAction) -> Self {
        Self { chain: Chain::User(user), action, actor: None, targets: Vec::new(), changes: Map::new() }
    }

    /// The event is about this.
    pub fn target(mut self, kind: &'static str, id: Uuid, label: impl Into<String>) -> Self {
        self.targets.push(Target { kind, id, label: label.into() });
        self
    }

    /// Someone other than the flow's actor did it (a user who has just
    /// registered, the invitee who accepts).
    pub fn by(mut self, actor: Actor) -> Self {
        self.actor = Some(actor);
        self
    }

    /// A field that changed from `before` to `after`; left out when equal.
    pub fn change(mut self, field: &str, before: impl Serialize, after: impl Serialize) -> Self {
        let (before, after) = (to_value(before), to_value(after));
        if before != after {
            self.changes.insert(field.to_owned(), json!({"before": before, "after": after}));
        }
        self
    }

    /// A field of something new.
    pub fn set(mut self, field: &str, after: impl Serialize) -> Self {
        self.changes.insert(field.to_owned(), json!({"before": null, "after": to_value(after)}));
        self
    }

    /// A field of something removed.
    pub fn unset(mut self, field: &str, before: impl Serialize) -> Self {
        self.changes.insert(field.to_owned(), json!({"before": to_value(before), "after": null}));
        self
    }

    pub fn action(&self) -> AuditAction {
        self.action
    }
}

/// How a user is labelled as a target: their email (empty once deleted).
pub fn user_label(conn: &mut DbConnection, user: Uuid) -> Result<String, StoreError> {
    Ok(users::find(conn, user)?.map(|user| user.email).unwrap_or_default())
}

fn to_value(value: impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The name an actor is shown with: a user's name (or email), "Roster"
/// for the system.
fn actor_name(conn: &mut DbConnection, actor: Actor) -> Result<String, StoreError> {
    Ok(match actor {
        Actor::User(id) => users::find(conn, id)?.map_or_else(|| "deleted user".to_owned(), |user| user_name(&user)),
        Actor::ApiKey(id) => match persistence::api_keys::find_any(conn, id)? {
            Some(key) => format!("{} ({})", key.name, key.partner_name),
            None => "deleted API key".to_owned(),
        },
        Actor::Anonymous => "anonymous".to_owned(),
        Actor::Operator => "operator".to_owned(),
        Actor::System => "Roster".to_owned(),
        Actor::Directory(id) => match persistence::scim_tokens::find_any(conn, id)? {
            Some(token) => format!("{} (directory)", token.name),
            None => "directory".to_owned(),
        },
    })
}

/// A user's name as an actor: their full name, or their email when they
/// gave none.
pub(crate) fn user_name(user: &User) -> String {
    let name = format!("{} {}", user.first_name, user.last_name).trim().to_owned();
    if name.is_empty() { user.email.clone() } else { name }
}

fn actor_parts(actor: Actor) -> (&'static str, Option<Uuid>) {
    match actor {
        Actor::User(id) => ("user", Some(id)),
        Actor::ApiKey(id) => ("api_key", Some(id)),
        Actor::Anonymous => ("anonymous", None),
        Actor::Operator => ("operator", None),
        Actor::System => ("system", None),
        Actor::Directory(id) => ("directory", Some(id)),
    }
}

impl Ctx<'_> {
    /// Notes `user`'s name when they are the flow's actor: a flow that has
    /// read its actor anyway spares recording a second read.
    pub fn met(&self, user: &User) {
        if self.actor == Actor::User(user.id) {
            let _ = self.actor_name.set(user_name(user));
        }
    }

    /// Records `event` in the caller's transaction. The sealer gives it its
    /// place in the chain moments later and queues its webhook deliveries
    /// ([`crate::jobs`]), so that concurrent flows never wait on each other.
    pub fn record(&self, conn: &mut DbConnection, event: Event) -> Result<(), StoreError> {
        self.record_all(conn, vec![event])
    }

    /// Records `events`, in this order, with one write.
    pub fn record_all(&self, conn: &mut DbConnection, events: Vec<Event>) -> Result<(), StoreError> {
        let recorded = events.into_iter().map(|event| self.recorded(conn, event)).collect::<Result<Vec<_>, _>>()?;
        let new: Vec<NewEvent<'_>> = recorded.iter().map(|event| event.as_new(self)).collect();
        audit::record(conn, &new)
    }

    fn recorded(&self, conn: &mut DbConnection, event: Event) -> Result<Recorded, StoreError> {
        let actor = event.actor.unwrap_or(self.actor);
        let actor_name = match self.actor_name.get() {
            Some(name) if actor == self.actor => name.clone(),
            _ => {
                let name = actor_name(conn, actor)?;
                if actor == self.actor {
                    let _ = self.actor_name.set(name.clone());
                }
                name
            }
        };
        Ok(Recorded {
            chain: event.chain.key(),
            account_id: match event.chain {
                Chain::Account(account) => Some(account),
                Chain::User(_) => None,
            },
            action: event.action,
            actor,
            actor_name,
            targets: serde_json::to_string(&event.targets).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            target_ids: event.targets.iter().map(|target| target.id).collect(),
            changes: Value::Object(event.changes).to_string(),
        })
    }
}

/// An event with its actor named and its parts serialised, ready to store.
struct Recorded {
    chain: String,
    account_id: Option<Uuid>,
    action: AuditAction,
    actor: Actor,
    actor_name: String,
    targets: String,
    target_ids: Vec<Uuid>,
    changes: String,
}

impl Recorded {
    fn as_new<'a>(&'a self, ctx: &'a Ctx<'_>) -> NewEvent<'a> {
        let (actor_type, actor_id) = actor_parts(self.actor);
        NewEvent {
            chain: &self.chain,
            account_id: self.account_id,
            occurred_at: ctx.now,
            action: self.action.key(),
            actor_type,
            actor_id,
            actor_name: &self.actor_name,
            targets: &self.targets,
            target_ids: &self.target_ids,
            changes: &self.changes,
            request_id: ctx.origin.request_id.as_deref(),
            client_ip: ctx.origin.client_ip.as_deref(),
            user_agent: ctx.origin.user_agent.as_deref(),
        }
    }
}

/// Chains' bounds are sealed with the deployment's secrets key: an
/// authenticated seal of what a bound names, which only this key makes.
impl BoundSigner for SealingKey {
    fn sign(&self, bound: Bound, chain: &str, seq: i64, hash: &str) -> Result<String, String> {
        self.seal(&bound.signed_text(chain, seq, hash))
            .map_err(|_| format!("the audit {bound:?} bound could not be sealed"))
    }

    fn holds(&self, bound: Bound, chain: &str, seq: i64, hash: &str, seal: &str) -> bool {
        self.open(seal).is_ok_and(|text| text == bound.signed_text(chain, seq, hash))
    }
}
