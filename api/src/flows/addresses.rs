//! The company's addresses, a [`VersionedResource`]: one default per kind
//! (making an address the default takes it from the one that was); changes
//! and removals name the version they were read at (`If-Match`).

use chrono::{DateTime, Utc};
use domain::address::{AddressKind, CountryCode, PostalCode};
use domain::audit::AuditAction;
use persistence::addresses::{self, Address, AddressFields};
use persistence::{DbConnection, StoreError};
use uuid::Uuid;

use super::audit::Event;
use super::versioned::{Actions, VersionedResource};
use super::{Ctx, Precondition, Shared, entity_tag, family_error};

#[derive(Debug, thiserror::Error)]
pub enum AddressError {
    #[error(transparent)]
    Precondition(#[from] Precondition),
    #[error(transparent)]
    Shared(Shared),
}
family_error!(AddressError);

/// An address as asked for, already parsed.
pub struct AddressDraft {
    pub kind: AddressKind,
    pub lines: Vec<String>,
    pub city: String,
    pub region: String,
    pub postal_code: PostalCode,
    pub country: CountryCode,
    pub is_default: bool,
}

impl AddressDraft {
    fn fields(&self) -> AddressFields<'_> {
        AddressFields {
            kind: self.kind,
            lines: &self.lines,
            city: &self.city,
            region: &self.region,
            postal_code: self.postal_code.as_str(),
            country: self.country.as_str(),
            is_default: self.is_default,
        }
    }
}

/// Addresses as a [`VersionedResource`]: one default per kind.
pub struct Addresses;

impl VersionedResource for Addresses {
    type Item = Address;
    type Draft = AddressDraft;
    type Error = AddressError;

    const ACTIONS: Actions = Actions {
        created: AuditAction::AddressCreated,
        updated: AuditAction::AddressUpdated,
        deleted: AuditAction::AddressDeleted,
    };

    fn find(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<Option<Address>, StoreError> {
        addresses::find(conn, account, id)
    }

    fn insert(
        conn: &mut DbConnection,
        account: Uuid,
        draft: &AddressDraft,
        now: DateTime<Utc>,
    ) -> Result<Address, AddressError> {
        Ok(addresses::insert(conn, account, &draft.fields(), now)?)
    }

    fn update(
        conn: &mut DbConnection,
        account: Uuid,
        id: Uuid,
        draft: &AddressDraft,
        now: DateTime<Utc>,
    ) -> Result<bool, AddressError> {
        Ok(addresses::update(conn, account, id, &draft.fields(), now)?)
    }

    fn delete(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<bool, StoreError> {
        addresses::delete(conn, account, id)
    }

    /// Making an address the default takes it from the one that was.
    fn admit(
        conn: &mut DbConnection,
        ctx: &Ctx<'_>,
        account: Uuid,
        draft: &AddressDraft,
        replacing: Option<Uuid>,
    ) -> Result<(), AddressError> {
        if draft.is_default {
            addresses::clear_default(conn, account, draft.kind, replacing, ctx.now)?;
        }
        Ok(())
    }

    fn version(address: &Address) -> String {
        entity_tag(&format!(
            "{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
            address.kind.key(),
            address.lines.join("\u{1f}"),
            address.city,
            address.region,
            address.postal_code,
            address.country,
            address.is_default,
            address.updated_at
        ))
    }

    fn event(address: &Address, action: AuditAction) -> Event {
        let label = format!("{}, {}", address.lines.first().map_or("", String::as_str), address.city);
        Event::in_account(address.account_id, action).target("address", address.id, label)
    }

    fn changes(event: Event, before: Option<&Address>, after: &Address) -> Event {
        event
            .change("kind", before.map(|a| a.kind.key()), after.kind.key())
            .change("lines", before.map(|a| &a.lines), &after.lines)
            .change("city", before.map(|a| &a.city), &after.city)
            .change("region", before.map(|a| &a.region), &after.region)
            .change("postal_code", before.map(|a| &a.postal_code), &after.postal_code)
            .change("country", before.map(|a| &a.country), &after.country)
            .change("is_default", before.map(|a| a.is_default), after.is_default)
    }

    fn removed(event: Event, address: &Address) -> Event {
        event.unset("kind", address.kind.key()).unset("city", &address.city).unset("country", &address.country)
    }
}
