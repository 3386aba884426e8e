//! The company's addresses. One default per kind: making an address the
//! default takes it from the one that was. Changes and removals name the
//! version they were read at (`If-Match`).

use domain::address::{AddressKind, CountryCode, PostalCode};
use domain::audit::AuditAction;
use persistence::addresses::{self, Address, AddressFields};
use persistence::{DbConnection, accounts, write_transaction};
use uuid::Uuid;

use super::audit::Event;
use super::{Ctx, Precondition, Shared, check_precondition, entity_tag, family_error};

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

/// The version of an address for `ETag`/`If-Match`.
pub fn address_tag(address: &Address) -> String {
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

fn with_fields(event: Event, before: Option<&Address>, after: &Address) -> Event {
    event
        .change("kind", before.map(|a| a.kind.key()), after.kind.key())
        .change("lines", before.map(|a| &a.lines), &after.lines)
        .change("city", before.map(|a| &a.city), &after.city)
        .change("region", before.map(|a| &a.region), &after.region)
        .change("postal_code", before.map(|a| &a.postal_code), &after.postal_code)
        .change("country", before.map(|a| &a.country), &after.country)
        .change("is_default", before.map(|a| a.is_default), after.is_default)
}

pub fn create(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    draft: &AddressDraft,
) -> Result<Address, AddressError> {
    write_transaction(conn, |conn| {
        accounts::lock(conn, account)?;
        if draft.is_default {
            addresses::clear_default(conn, account, draft.kind, None, ctx.now)?;
        }
        let address = addresses::insert(conn, account, &draft.fields(), ctx.now)?;
        ctx.record(conn, with_fields(event(&address, AuditAction::AddressCreated), None, &address))?;
        Ok(address)
    })
}

/// Replaces an address, if `if_match` names its current version.
pub fn replace(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    id: Uuid,
    draft: &AddressDraft,
    if_match: Option<&str>,
) -> Result<Address, AddressError> {
    write_transaction(conn, |conn| {
        accounts::lock(conn, account)?;
        let before = addresses::find(conn, account, id)?.ok_or(AddressError::Shared(Shared::NotFound))?;
        check_precondition(if_match, &address_tag(&before))?;
        if draft.is_default {
            addresses::clear_default(conn, account, draft.kind, Some(id), ctx.now)?;
        }
        addresses::update(conn, account, id, &draft.fields(), ctx.now)?;
        let after = addresses::find(conn, account, id)?.ok_or(AddressError::Shared(Shared::NotFound))?;
        ctx.record(conn, with_fields(event(&after, AuditAction::AddressUpdated), Some(&before), &after))?;
        Ok(after)
    })
}

/// Removes an address, if `if_match` names its current version.
pub fn delete(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    id: Uuid,
    if_match: Option<&str>,
) -> Result<(), AddressError> {
    write_transaction(conn, |conn| {
        let address = addresses::find(conn, account, id)?.ok_or(AddressError::Shared(Shared::NotFound))?;
        check_precondition(if_match, &address_tag(&address))?;
        addresses::delete(conn, account, id)?;
        let deleted = event(&address, AuditAction::AddressDeleted)
            .unset("kind", address.kind.key())
            .unset("city", &address.city)
            .unset("country", &address.country);
        ctx.record(conn, deleted)?;
        Ok(())
    })
}
