//! Webhook endpoints, their subscriptions, and deliveries. Secrets arrive
//! and leave sealed: this module never sees one in the clear.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::insert_all;
use crate::schema::{webhook_deliveries, webhook_endpoints, webhook_subscriptions};
use crate::{DbConnection, StoreError, ids, time};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub id: Uuid,
    pub account_id: Uuid,
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
    pub secret_sealed: String,
    /// The previous secret, still signing until `previous_secret_until`.
    pub previous_secret: Option<(String, DateTime<Utc>)>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints)]
struct EndpointRow {
    id: String,
    account_id: String,
    url: String,
    description: String,
    secret_sealed: String,
    previous_secret_sealed: Option<String>,
    previous_secret_until: Option<NaiveDateTime>,
    enabled: bool,
    disabled_reason: Option<String>,
    failing_since: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl EndpointRow {
    fn into_endpoint(self, event_types: Vec<String>) -> Result<Endpoint, StoreError> {
        Ok(Endpoint {
            id: ids::from_db(&self.id)?,
            account_id: ids::from_db(&self.account_id)?,
            url: self.url,
            description: self.description,
            event_types,
            secret_sealed: self.secret_sealed,
            previous_secret: self.previous_secret_sealed.zip(self.previous_secret_until.map(time::from_db)),
            enabled: self.enabled,
            disabled_reason: self.disabled_reason,
            failing_since: self.failing_since.map(time::from_db),
            created_at: time::from_db(self.created_at),
            updated_at: time::from_db(self.updated_at),
        })
    }
}

pub struct NewEndpoint<'a> {
    pub account_id: Uuid,
    pub url: &'a str,
    pub description: &'a str,
    pub event_types: &'a [&'a str],
    pub secret_sealed: &'a str,
    pub now: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = webhook_subscriptions, treat_none_as_default_value = false)]
struct SubscriptionRow<'a> {
    endpoint_id: &'a str,
    account_id: &'a str,
    event_type: &'a str,
}

fn subscribe(conn: &mut DbConnection, endpoint: Uuid, account: Uuid, types: &[&str]) -> Result<(), StoreError> {
    let (endpoint, account) = (ids::to_db(endpoint), ids::to_db(account));
    diesel::delete(webhook_subscriptions::table.filter(webhook_subscriptions::endpoint_id.eq(&endpoint)))
        .execute(conn)?;
    let rows: Vec<SubscriptionRow<'_>> = types
        .iter()
        .map(|event_type| SubscriptionRow { endpoint_id: &endpoint, account_id: &account, event_type })
        .collect();
    insert_all!(conn, webhook_subscriptions::table, rows)?;
    Ok(())
}

pub fn create(conn: &mut DbConnection, new: NewEndpoint<'_>) -> Result<Endpoint, StoreError> {
    let id = Uuid::now_v7();
    let now = time::to_db(new.now);
    diesel::insert_into(webhook_endpoints::table)
        .values((
            webhook_endpoints::id.eq(ids::to_db(id)),
            webhook_endpoints::account_id.eq(ids::to_db(new.account_id)),
            webhook_endpoints::url.eq(new.url),
            webhook_endpoints::description.eq(new.description),
            webhook_endpoints::secret_sealed.eq(new.secret_sealed),
            webhook_endpoints::enabled.eq(true),
            webhook_endpoints::created_at.eq(now),
            webhook_endpoints::updated_at.eq(now),
        ))
        .execute(conn)?;
    subscribe(conn, id, new.account_id, new.event_types)?;
    find(conn, new.account_id, id)?.ok_or_else(|| StoreError::Corrupt("an endpoint vanished".into()))
}

fn load(conn: &mut DbConnection, rows: Vec<EndpointRow>) -> Result<Vec<Endpoint>, StoreError> {
    let ids: Vec<&str> = rows.iter().map(|row| row.id.as_str()).collect();
    let subscriptions: Vec<(String, String)> = webhook_subscriptions::table
        .filter(webhook_subscriptions::endpoint_id.eq_any(&ids))
        .select((webhook_subscriptions::endpoint_id, webhook_subscriptions::event_type))
        .order((webhook_subscriptions::endpoint_id, webhook_subscriptions::event_type))
        .load(conn)?;
    rows.into_iter()
        .map(|row| {
            let types =
                subscriptions.iter().filter(|(endpoint, _)| *endpoint == row.id).map(|(_, t)| t.clone()).collect();
            row.into_endpoint(types)
        })
        .collect()
}

/// The endpoint, when it belongs to the account.
pub fn find(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<Option<Endpoint>, StoreError> {
    let rows: Vec<EndpointRow> = webhook_endpoints::table
        .filter(webhook_endpoints::id.eq(ids::to_db(id)))
        .filter(webhook_endpoints::account_id.eq(ids::to_db(account)))
        .select(EndpointRow::as_select())
        .load(conn)?;
    Ok(load(conn, rows)?.pop())
}

/// The account's endpoints in creation order, after `after`.
pub fn list(
    conn: &mut DbConnection,
    account: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Endpoint>, StoreError> {
    let mut query = webhook_endpoints::table
        .filter(webhook_endpoints::account_id.eq(ids::to_db(account)))
        .select(EndpointRow::as_select())
        .order(webhook_endpoints::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(webhook_endpoints::id.gt(ids::to_db(after)));
    }
    let rows = query.load(conn)?;
    load(conn, rows)
}

/// A change of an endpoint: `None` keeps the value.
#[derive(Debug, Default)]
pub struct EndpointChange<'a> {
    pub url: Option<&'a str>,
    pub description: Option<&'a str>,
    pub event_types: Option<&'a [&'a str]>,
    /// `Some(true)` enables (and forgets a failing streak), `Some(false)`
    /// disables with the reason.
    pub enabled: Option<(bool, Option<&'a str>)>,
}

pub fn update(
    conn: &mut DbConnection,
    endpoint: &Endpoint,
    change: EndpointChange<'_>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let target = || webhook_endpoints::table.find(ids::to_db(endpoint.id));
    diesel::update(target())
        .set((
            webhook_endpoints::url.eq(change.url.unwrap_or(&endpoint.url)),
            webhook_endpoints::description.eq(change.description.unwrap_or(&endpoint.description)),
            webhook_endpoints::updated_at.eq(time::to_db(now)),
        ))
        .execute(conn)?;
    if let Some((enabled, reason)) = change.enabled {
        diesel::update(target())
            .set((
                webhook_endpoints::enabled.eq(enabled),
                webhook_endpoints::disabled_reason.eq(reason.filter(|_| !enabled)),
                webhook_endpoints::failing_since.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
    }
    if let Some(types) = change.event_types {
        subscribe(conn, endpoint.id, endpoint.account_id, types)?;
    }
    Ok(())
}

/// Replaces the signing secret; the old one keeps signing until `until`.
pub fn rotate_secret(
    conn: &mut DbConnection,
    endpoint: &Endpoint,
    sealed: &str,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::update(webhook_endpoints::table.find(ids::to_db(endpoint.id)))
        .set((
            webhook_endpoints::previous_secret_sealed.eq(Some(&endpoint.secret_sealed)),
            webhook_endpoints::previous_secret_until.eq(Some(time::to_db(until))),
            webhook_endpoints::secret_sealed.eq(sealed),
            webhook_endpoints::updated_at.eq(time::to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn delete(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<bool, StoreError> {
    let deleted = diesel::delete(
        webhook_endpoints::table
            .filter(webhook_endpoints::id.eq(ids::to_db(id)))
            .filter(webhook_endpoints::account_id.eq(ids::to_db(account))),
    )
    .execute(conn)?;
    Ok(deleted == 1)
}

/// Who listens to what in `accounts`: each enabled endpoint's subscriptions
/// as `(account, event type, endpoint)`, in one query for a whole batch of
/// events.
pub fn subscriptions(conn: &mut DbConnection, accounts: &[Uuid]) -> Result<Vec<(Uuid, String, Uuid)>, StoreError> {
    let mut found = Vec::new();
    for chunk in accounts.chunks(crate::db::BATCH_ROWS) {
        let chunk: Vec<String> = chunk.iter().map(|account| ids::to_db(*account)).collect();
        let rows: Vec<(String, String, String)> = webhook_subscriptions::table
            .inner_join(webhook_endpoints::table)
            .filter(webhook_subscriptions::account_id.eq_any(chunk))
            .filter(webhook_endpoints::enabled.eq(true))
            .select((
                webhook_subscriptions::account_id,
                webhook_subscriptions::event_type,
                webhook_subscriptions::endpoint_id,
            ))
            .load(conn)?;
        for (account, event_type, endpoint) in rows {
            found.push((ids::from_db(&account)?, event_type, ids::from_db(&endpoint)?));
        }
    }
    Ok(found)
}

/// Records a failed attempt: the endpoint's failing streak starts now if
/// it had none. Returns when the streak started.
pub fn record_failure(
    conn: &mut DbConnection,
    endpoint: Uuid,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, StoreError> {
    diesel::update(
        webhook_endpoints::table.find(ids::to_db(endpoint)).filter(webhook_endpoints::failing_since.is_null()),
    )
    .set(webhook_endpoints::failing_since.eq(Some(time::to_db(now))))
    .execute(conn)?;
    let since: Option<NaiveDateTime> =
        webhook_endpoints::table.find(ids::to_db(endpoint)).select(webhook_endpoints::failing_since).first(conn)?;
    Ok(since.map_or(now, time::from_db))
}

/// A success ends the endpoint's failing streak.
pub fn record_success(conn: &mut DbConnection, endpoint: Uuid) -> Result<(), StoreError> {
    diesel::update(webhook_endpoints::table.find(ids::to_db(endpoint)))
        .set(webhook_endpoints::failing_since.eq(None::<NaiveDateTime>))
        .execute(conn)?;
    Ok(())
}

/// Disables an endpoint for `reason` (it failed for days; it answered 410).
pub fn disable(conn: &mut DbConnection, endpoint: Uuid, reason: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let changed =
        diesel::update(webhook_endpoints::table.find(ids::to_db(endpoint)).filter(webhook_endpoints::enabled.eq(true)))
            .set((
                webhook_endpoints::enabled.eq(false),
                webhook_endpoints::disabled_reason.eq(Some(reason)),
                webhook_endpoints::updated_at.eq(time::to_db(now)),
            ))
            .execute(conn)?;
    Ok(changed == 1)
}

/// The most recently sealed secret of any endpoint, for checking at
/// startup that the configured key still opens what is stored.
pub fn newest_sealed_secret(conn: &mut DbConnection) -> Result<Option<String>, StoreError> {
    Ok(webhook_endpoints::table
        .order(webhook_endpoints::updated_at.desc())
        .select(webhook_endpoints::secret_sealed)
        .first(conn)
        .optional()?)
}

/// The endpoint a delivery goes to, whatever its account.
pub fn endpoint_of(conn: &mut DbConnection, endpoint: Uuid) -> Result<Option<Endpoint>, StoreError> {
    let rows: Vec<EndpointRow> = webhook_endpoints::table
        .filter(webhook_endpoints::id.eq(ids::to_db(endpoint)))
        .select(EndpointRow::as_select())
        .load(conn)?;
    Ok(load(conn, rows)?.pop())
}

/// One event to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct Delivery {
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    pub payload: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub last_duration_ms: Option<i32>,
    pub created_at: NaiveDateTime,
    pub last_attempt_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = webhook_deliveries)]
#[diesel(treat_none_as_default_value = false)]
struct NewDeliveryRow<'a> {
    id: String,
    endpoint_id: String,
    event_id: &'a str,
    event_type: &'a str,
    payload: &'a str,
    status: &'static str,
    attempts: i32,
    last_status_code: Option<i32>,
    last_error: Option<String>,
    last_duration_ms: Option<i32>,
    created_at: NaiveDateTime,
    last_attempt_at: Option<NaiveDateTime>,
}

/// Creates one pending delivery per endpoint; returns their ids.
pub fn create_deliveries(
    conn: &mut DbConnection,
    endpoints: &[Uuid],
    event_id: &str,
    event_type: &str,
    payload: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, StoreError> {
    let ids_made: Vec<Uuid> = endpoints.iter().map(|_| Uuid::now_v7()).collect();
    let rows: Vec<NewDeliveryRow<'_>> = endpoints
        .iter()
        .zip(&ids_made)
        .map(|(endpoint, id)| NewDeliveryRow {
            id: ids::to_db(*id),
            endpoint_id: ids::to_db(*endpoint),
            event_id,
            event_type,
            payload,
            status: "pending",
            attempts: 0,
            last_status_code: None,
            last_error: None,
            last_duration_ms: None,
            created_at: time::to_db(now),
            last_attempt_at: None,
        })
        .collect();
    insert_all!(conn, webhook_deliveries::table, rows)?;
    Ok(ids_made)
}

pub fn find_delivery(conn: &mut DbConnection, id: Uuid) -> Result<Option<Delivery>, StoreError> {
    Ok(webhook_deliveries::table.find(ids::to_db(id)).select(Delivery::as_select()).first(conn).optional()?)
}

/// How an attempt went.
pub struct Attempt<'a> {
    pub status: &'static str,
    pub status_code: Option<i32>,
    pub error: Option<&'a str>,
    pub duration_ms: i32,
    pub at: DateTime<Utc>,
}

pub fn record_attempt(conn: &mut DbConnection, id: Uuid, attempt: Attempt<'_>) -> Result<(), StoreError> {
    diesel::update(webhook_deliveries::table.find(ids::to_db(id)))
        .set((
            webhook_deliveries::status.eq(attempt.status),
            webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
            webhook_deliveries::last_status_code.eq(attempt.status_code),
            webhook_deliveries::last_error.eq(attempt.error),
            webhook_deliveries::last_duration_ms.eq(Some(attempt.duration_ms)),
            webhook_deliveries::last_attempt_at.eq(Some(time::to_db(attempt.at))),
        ))
        .execute(conn)?;
    Ok(())
}

/// Marks a delivery pending again (redelivery).
pub fn reopen(conn: &mut DbConnection, id: Uuid) -> Result<(), StoreError> {
    diesel::update(webhook_deliveries::table.find(ids::to_db(id)))
        .set(webhook_deliveries::status.eq("pending"))
        .execute(conn)?;
    Ok(())
}

/// An endpoint's deliveries, newest first, before `before`.
pub fn deliveries(
    conn: &mut DbConnection,
    endpoint: Uuid,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Delivery>, StoreError> {
    let mut query = webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(ids::to_db(endpoint)))
        .select(Delivery::as_select())
        .order(webhook_deliveries::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(webhook_deliveries::id.lt(ids::to_db(before)));
    }
    Ok(query.load(conn)?)
}
