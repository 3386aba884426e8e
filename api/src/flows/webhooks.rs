//! Webhook endpoints and deliveries. Every audit event of an account is
//! offered to the account's enabled endpoints subscribed to its action
//! ([`enqueue_for`], called when the event is sealed): one delivery per
//! endpoint, delivered by the job runner.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use domain::audit::AuditAction;
use domain::notification::Topic;
use persistence::audit::AuditEvent;
use persistence::webhooks::{self, Delivery, Endpoint, EndpointChange, NewEndpoint};
use persistence::{DbConnection, StoreError, jobs, write_transaction};
use serde_json::{Value, json};
use uuid::Uuid;

use super::audit::Event;
use super::{Actor, Ctx, Grantor, Shared, family_error};
use crate::auth::sealing::SealError;

/// The job kind that delivers one webhook.
pub const JOB_KIND: &str = "webhook";

/// After a rotation, the old secret keeps signing this long.
pub const ROTATION_OVERLAP: Duration = Duration::hours(24);

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("the endpoint is disabled")]
    Disabled,
    #[error(transparent)]
    Sealing(#[from] SealError),
    #[error(transparent)]
    Shared(Shared),
}
family_error!(WebhookError);

/// An endpoint as just created or rotated: with its secret, shown once.
pub struct Revealed {
    pub endpoint: Endpoint,
    pub secret: String,
}

/// What an administrator asks for, already checked.
pub struct EndpointDraft {
    pub url: String,
    pub description: String,
    pub event_types: Vec<AuditAction>,
}

fn keys(types: &[AuditAction]) -> Vec<&'static str> {
    types.iter().map(|action| action.key()).collect()
}

fn about(endpoint: &Endpoint, action: AuditAction) -> Event {
    Event::in_account(endpoint.account_id, action).target("webhook", endpoint.id, &endpoint.url)
}

fn existing(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<Endpoint, WebhookError> {
    webhooks::find(conn, account, id)?.ok_or(WebhookError::Shared(Shared::NotFound))
}

pub fn create(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    by: &Grantor,
    draft: EndpointDraft,
) -> Result<Revealed, WebhookError> {
    let secret = crate::outbound::new_secret();
    let sealed = ctx.secrets.seal(&secret)?;
    write_transaction(conn, |conn| {
        let types = keys(&draft.event_types);
        let new = NewEndpoint {
            account_id: by.account_id,
            url: &draft.url,
            description: &draft.description,
            event_types: &types,
            secret_sealed: &sealed,
            now: ctx.now,
        };
        let endpoint = webhooks::create(conn, new)?;
        let event = about(&endpoint, AuditAction::WebhookCreated)
            .set("url", &endpoint.url)
            .set("description", &endpoint.description)
            .set("event_types", &endpoint.event_types);
        ctx.record(conn, event)?;
        Ok(Revealed { endpoint, secret })
    })
}

/// A change of an endpoint; `None` keeps the value.
#[derive(Default)]
pub struct EndpointPatch {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<AuditAction>>,
    pub enabled: Option<bool>,
}

pub fn update(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    id: Uuid,
    patch: EndpointPatch,
) -> Result<Endpoint, WebhookError> {
    write_transaction(conn, |conn| {
        let before = existing(conn, account, id)?;
        let types = patch.event_types.as_deref().map(keys);
        let change = EndpointChange {
            url: patch.url.as_deref(),
            description: patch.description.as_deref(),
            event_types: types.as_deref(),
            enabled: patch.enabled.map(|enabled| (enabled, Some("disabled by an administrator"))),
        };
        webhooks::update(conn, &before, change, ctx.now)?;
        let after = existing(conn, account, id)?;
        let event = about(&after, AuditAction::WebhookUpdated)
            .change("url", &before.url, &after.url)
            .change("description", &before.description, &after.description)
            .change("event_types", &before.event_types, &after.event_types)
            .change("enabled", before.enabled, after.enabled);
        ctx.record(conn, event)?;
        Ok(after)
    })
}

pub fn delete(conn: &mut DbConnection, ctx: &Ctx<'_>, account: Uuid, id: Uuid) -> Result<(), WebhookError> {
    write_transaction(conn, |conn| {
        let endpoint = existing(conn, account, id)?;
        webhooks::delete(conn, account, id)?;
        let event = about(&endpoint, AuditAction::WebhookDeleted)
            .unset("url", &endpoint.url)
            .unset("event_types", &endpoint.event_types);
        ctx.record(conn, event)?;
        Ok(())
    })
}

/// A new signing secret; the current one keeps signing beside it for
/// [`ROTATION_OVERLAP`], so receivers can switch without missing a beat.
pub fn rotate_secret(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    id: Uuid,
) -> Result<Revealed, WebhookError> {
    let secret = crate::outbound::new_secret();
    let sealed = ctx.secrets.seal(&secret)?;
    write_transaction(conn, |conn| {
        let endpoint = existing(conn, account, id)?;
        webhooks::rotate_secret(conn, &endpoint, &sealed, ctx.now + ROTATION_OVERLAP, ctx.now)?;
        let event = about(&endpoint, AuditAction::WebhookSecretRotated)
            .set("previous_secret_signs_until", ctx.now + ROTATION_OVERLAP);
        ctx.record(conn, event)?;
        Ok(Revealed { endpoint: existing(conn, account, id)?, secret })
    })
}

/// Sends one delivery again, under its original `webhook-id`.
pub fn redeliver(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    endpoint: Uuid,
    delivery: Uuid,
) -> Result<Delivery, WebhookError> {
    write_transaction(conn, |conn| {
        let found = existing(conn, account, endpoint)?;
        if !found.enabled {
            return Err(WebhookError::Disabled);
        }
        let item = webhooks::find_delivery(conn, delivery)?
            .filter(|item| item.endpoint_id == endpoint.to_string())
            .ok_or(WebhookError::Shared(Shared::NotFound))?;
        webhooks::reopen(conn, delivery)?;
        jobs::enqueue(conn, JOB_KIND, &job_payload(delivery), ctx.now)?;
        let event = about(&found, AuditAction::WebhookRedelivered)
            .target("webhook_delivery", delivery, &item.event_type)
            .change("status", &item.status, "pending");
        ctx.record(conn, event)?;
        Ok(webhooks::find_delivery(conn, delivery)?.unwrap_or(item))
    })
}

fn job_payload(delivery: Uuid) -> String {
    json!({ "delivery_id": delivery }).to_string()
}

/// The body receivers get: the Standard Webhooks `{type, timestamp, data}`
/// shape, the data being the audit event (thin: ids, labels, changes).
fn body(event: &AuditEvent, account: Uuid) -> String {
    let parse = |text: &str| serde_json::from_str::<Value>(text).unwrap_or(Value::Null);
    json!({
        "type": event.action,
        "timestamp": event.occurred_at().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "data": {
            "event_id": event.id,
            "account_id": account,
            "actor": {"type": event.actor_type, "id": event.actor_id, "name": event.actor_name},
            "targets": parse(&event.targets),
            "changes": parse(&event.changes),
        }
    })
    .to_string()
}

/// Queues one delivery of each sealed account event to each enabled
/// endpoint of its account subscribed to its action, in the transaction
/// that sealed the events; tells whether any was queued. One query finds
/// the listeners of the whole batch.
pub fn enqueue_for(conn: &mut DbConnection, sealed: &[AuditEvent], now: DateTime<Utc>) -> Result<bool, StoreError> {
    let in_account = |event: &AuditEvent| event.account_id.as_deref().and_then(|id| id.parse::<Uuid>().ok());
    let mut accounts: Vec<Uuid> = sealed.iter().filter_map(in_account).collect();
    accounts.sort_unstable();
    accounts.dedup();
    if accounts.is_empty() {
        return Ok(false);
    }
    let mut listeners: HashMap<(Uuid, String), Vec<Uuid>> = HashMap::new();
    for (account, event_type, endpoint) in webhooks::subscriptions(conn, &accounts)? {
        listeners.entry((account, event_type)).or_default().push(endpoint);
    }
    let mut queued = false;
    for event in sealed {
        let Some(account) = in_account(event) else { continue };
        let Some(endpoints) = listeners.get(&(account, event.action.clone())) else { continue };
        let deliveries =
            webhooks::create_deliveries(conn, endpoints, &event.id, &event.action, &body(event, account), now)?;
        let payloads: Vec<String> = deliveries.into_iter().map(job_payload).collect();
        jobs::enqueue_many(conn, JOB_KIND, &payloads, now)?;
        queued = true;
    }
    Ok(queued)
}

/// Records that an endpoint was disabled by the system (it failed for
/// days, or its receiver answered 410) and tells the account's webhook
/// administrators.
pub fn disabled_by_system(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    endpoint: &Endpoint,
    reason: &str,
) -> Result<(), StoreError> {
    if !webhooks::disable(conn, endpoint.id, reason, ctx.now)? {
        return Ok(());
    }
    let event = about(endpoint, AuditAction::WebhookDisabled)
        .by(Actor::System)
        .change("enabled", true, false)
        .set("reason", reason);
    ctx.record(conn, event)?;
    let account = super::notifications::name_in_emails(conn, endpoint.account_id)?;
    let settings_url = ctx.link(&format!("/v1/accounts/{}/webhooks/{}", endpoint.account_id, endpoint.id));
    let manages =
        |role: &domain::HeldRole| ctx.catalogue.role_permissions(role).contains(domain::Permission::WebhooksManage);
    super::notifications::notify_holders(conn, ctx, endpoint.account_id, Topic::SecurityNotices, manages, |recipient| {
        let said = crate::email::kinds::WebhookDisabled {
            account_name: account.clone(),
            endpoint_url: endpoint.url.clone(),
            reason: reason.to_owned(),
            settings_url: settings_url.clone(),
        };
        crate::email::Message::WebhookDisabled(said).to(recipient)
    })
}
