//! The shape every versioned settings resource of an account shares
//! (contacts, addresses, and those to come): created under the account's
//! lock, replaced and removed only from the version read (`If-Match`),
//! each change in one transaction with its audit event. A resource says
//! what is its own — how it is stored, what a write must make room for,
//! what its events carry — by implementing [`VersionedResource`].

use chrono::{DateTime, Utc};
use domain::audit::AuditAction;
use persistence::{DbConnection, QueryError, StoreError, accounts, write_transaction};
use uuid::Uuid;

use super::audit::Event;
use super::{Ctx, Precondition, Shared, check_precondition};

/// One kind of versioned settings resource.
pub trait VersionedResource {
    /// The stored item.
    type Item;
    /// An item as asked for, already parsed.
    type Draft;
    type Error: From<Precondition> + From<Shared> + From<StoreError> + From<QueryError>;

    /// What the audit log calls a creation, a change and a removal.
    const ACTIONS: Actions;

    fn find(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<Option<Self::Item>, StoreError>;
    fn insert(
        conn: &mut DbConnection,
        account: Uuid,
        draft: &Self::Draft,
        now: DateTime<Utc>,
    ) -> Result<Self::Item, Self::Error>;
    fn update(
        conn: &mut DbConnection,
        account: Uuid,
        id: Uuid,
        draft: &Self::Draft,
        now: DateTime<Utc>,
    ) -> Result<bool, Self::Error>;
    fn delete(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<bool, StoreError>;

    /// Makes room for `draft`, or refuses it (one default address per kind,
    /// one primary contact); `replacing` is the item it replaces.
    fn admit(
        conn: &mut DbConnection,
        ctx: &Ctx<'_>,
        account: Uuid,
        draft: &Self::Draft,
        replacing: Option<Uuid>,
    ) -> Result<(), Self::Error>;

    /// The item's version for `ETag`/`If-Match`.
    fn version(item: &Self::Item) -> String;
    /// An event about `item`, naming it as its target.
    fn event(item: &Self::Item, action: AuditAction) -> Event;
    /// The fields a creation (`before` none) or a change recorded.
    fn changes(event: Event, before: Option<&Self::Item>, after: &Self::Item) -> Event;
    /// The fields a removal records.
    fn removed(event: Event, item: &Self::Item) -> Event;
}

/// The audit actions of one resource.
pub struct Actions {
    pub created: AuditAction,
    pub updated: AuditAction,
    pub deleted: AuditAction,
}

pub fn create<R: VersionedResource>(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    draft: &R::Draft,
) -> Result<R::Item, R::Error> {
    write_transaction(conn, |conn| {
        accounts::lock(conn, account)?;
        R::admit(conn, ctx, account, draft, None)?;
        let item = R::insert(conn, account, draft, ctx.now)?;
        ctx.record(conn, R::changes(R::event(&item, R::ACTIONS.created), None, &item))?;
        Ok(item)
    })
}

/// Replaces an item, if `if_match` names its current version.
pub fn replace<R: VersionedResource>(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    id: Uuid,
    draft: &R::Draft,
    if_match: Option<&str>,
) -> Result<R::Item, R::Error> {
    write_transaction(conn, |conn| {
        accounts::lock(conn, account)?;
        let before = R::find(conn, account, id)?.ok_or(Shared::NotFound)?;
        check_precondition(if_match, &R::version(&before))?;
        R::admit(conn, ctx, account, draft, Some(id))?;
        R::update(conn, account, id, draft, ctx.now)?;
        let after = R::find(conn, account, id)?.ok_or(Shared::NotFound)?;
        ctx.record(conn, R::changes(R::event(&after, R::ACTIONS.updated), Some(&before), &after))?;
        Ok(after)
    })
}

/// Removes an item, if `if_match` names its current version.
pub fn delete<R: VersionedResource>(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    id: Uuid,
    if_match: Option<&str>,
) -> Result<(), R::Error> {
    write_transaction(conn, |conn| {
        let item = R::find(conn, account, id)?.ok_or(Shared::NotFound)?;
        check_precondition(if_match, &R::version(&item))?;
        R::delete(conn, account, id)?;
        ctx.record(conn, R::removed(R::event(&item, R::ACTIONS.deleted), &item))?;
        Ok(())
    })
}
