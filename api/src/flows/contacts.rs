//! The company's contacts. Changes and removals name the version they were
//! read at (`If-Match`), so that nobody overwrites a change they have not
//! seen.

use domain::audit::AuditAction;
use domain::contact::{ContactKind, PhoneNumber, PrimaryTaken, check_kind};
use domain::{Email, PersonName};
use persistence::contacts::{self, Contact, ContactFields};
use persistence::{DbConnection, StoreError, accounts, write_transaction};
use uuid::Uuid;

use super::audit::Event;
use super::{Ctx, Precondition, Shared, check_precondition, entity_tag, family_error};

#[derive(Debug, thiserror::Error)]
pub enum ContactError {
    #[error(transparent)]
    PrimaryTaken(#[from] PrimaryTaken),
    #[error(transparent)]
    Precondition(#[from] Precondition),
    #[error(transparent)]
    Shared(Shared),
}
family_error!(ContactError);

/// A contact as asked for, already parsed.
pub struct ContactDraft {
    pub kind: ContactKind,
    pub name: PersonName,
    pub email: Email,
    pub phone: Option<PhoneNumber>,
}

impl ContactDraft {
    fn fields(&self) -> ContactFields<'_> {
        ContactFields {
            kind: self.kind,
            name: self.name.as_str(),
            email: self.email.as_str(),
            phone: self.phone.as_ref().map(PhoneNumber::as_str),
        }
    }
}

/// The version of a contact for `ETag`/`If-Match`.
pub fn contact_tag(contact: &Contact) -> String {
    let phone = contact.phone.as_deref().unwrap_or_default();
    entity_tag(&format!(
        "{}\n{}\n{}\n{}\n{}",
        contact.kind.key(),
        contact.name,
        contact.email,
        phone,
        contact.updated_at
    ))
}

fn event(contact: &Contact, action: AuditAction) -> Event {
    Event::in_account(contact.account_id, action).target("contact", contact.id, &contact.name)
}

fn primary_conflict(error: StoreError) -> ContactError {
    match error {
        StoreError::Conflict => ContactError::PrimaryTaken(PrimaryTaken),
        other => other.into(),
    }
}

pub fn create(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    draft: &ContactDraft,
) -> Result<Contact, ContactError> {
    write_transaction(conn, |conn| {
        accounts::lock(conn, account)?;
        check_kind(draft.kind, contacts::primary_exists(conn, account, None)?)?;
        let contact = contacts::insert(conn, account, &draft.fields(), ctx.now).map_err(primary_conflict)?;
        let created = event(&contact, AuditAction::ContactCreated)
            .set("kind", contact.kind.key())
            .set("name", &contact.name)
            .set("email", &contact.email)
            .set("phone", &contact.phone);
        ctx.record(conn, created)?;
        Ok(contact)
    })
}

/// Replaces a contact, if `if_match` names its current version.
pub fn replace(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    id: Uuid,
    draft: &ContactDraft,
    if_match: Option<&str>,
) -> Result<Contact, ContactError> {
    write_transaction(conn, |conn| {
        accounts::lock(conn, account)?;
        let before = contacts::find(conn, account, id)?.ok_or(ContactError::Shared(Shared::NotFound))?;
        check_precondition(if_match, &contact_tag(&before))?;
        check_kind(draft.kind, contacts::primary_exists(conn, account, Some(id))?)?;
        contacts::update(conn, account, id, &draft.fields(), ctx.now).map_err(primary_conflict)?;
        let after = contacts::find(conn, account, id)?.ok_or(ContactError::Shared(Shared::NotFound))?;
        let updated = event(&after, AuditAction::ContactUpdated)
            .change("kind", before.kind.key(), after.kind.key())
            .change("name", &before.name, &after.name)
            .change("email", &before.email, &after.email)
            .change("phone", &before.phone, &after.phone);
        ctx.record(conn, updated)?;
        Ok(after)
    })
}

/// Removes a contact, if `if_match` names its current version.
pub fn delete(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    id: Uuid,
    if_match: Option<&str>,
) -> Result<(), ContactError> {
    write_transaction(conn, |conn| {
        let contact = contacts::find(conn, account, id)?.ok_or(ContactError::Shared(Shared::NotFound))?;
        check_precondition(if_match, &contact_tag(&contact))?;
        contacts::delete(conn, account, id)?;
        let deleted = event(&contact, AuditAction::ContactDeleted)
            .unset("kind", contact.kind.key())
            .unset("name", &contact.name)
            .unset("email", &contact.email);
        ctx.record(conn, deleted)?;
        Ok(())
    })
}
