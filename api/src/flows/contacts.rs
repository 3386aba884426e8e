//! The company's contacts, a [`VersionedResource`]: changes and removals
//! name the version they were read at (`If-Match`), so that nobody
//! overwrites a change they have not seen; an account has one primary
//! contact at most.

use chrono::{DateTime, Utc};
use domain::audit::AuditAction;
use domain::contact::{ContactKind, PhoneNumber, PrimaryTaken, check_kind};
use domain::{Email, PersonName};
use persistence::contacts::{self, Contact, ContactFields};
use persistence::{DbConnection, StoreError};
use uuid::Uuid;

use super::audit::Event;
use super::versioned::{Actions, VersionedResource};
use super::{Ctx, Precondition, Shared, entity_tag, family_error};

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

/// Contacts as a [`VersionedResource`]: at most one primary.
pub struct Contacts;

impl VersionedResource for Contacts {
    type Item = Contact;
    type Draft = ContactDraft;
    type Error = ContactError;

    const ACTIONS: Actions = Actions {
        created: AuditAction::ContactCreated,
        updated: AuditAction::ContactUpdated,
        deleted: AuditAction::ContactDeleted,
    };

    fn find(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<Option<Contact>, StoreError> {
        contacts::find(conn, account, id)
    }

    fn insert(
        conn: &mut DbConnection,
        account: Uuid,
        draft: &ContactDraft,
        now: DateTime<Utc>,
    ) -> Result<Contact, ContactError> {
        contacts::insert(conn, account, &draft.fields(), now).map_err(primary_conflict)
    }

    fn update(
        conn: &mut DbConnection,
        account: Uuid,
        id: Uuid,
        draft: &ContactDraft,
        now: DateTime<Utc>,
    ) -> Result<bool, ContactError> {
        contacts::update(conn, account, id, &draft.fields(), now).map_err(primary_conflict)
    }

    fn delete(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<bool, StoreError> {
        contacts::delete(conn, account, id)
    }

    fn admit(
        conn: &mut DbConnection,
        _: &Ctx<'_>,
        account: Uuid,
        draft: &ContactDraft,
        replacing: Option<Uuid>,
    ) -> Result<(), ContactError> {
        Ok(check_kind(draft.kind, contacts::primary_exists(conn, account, replacing)?)?)
    }

    fn version(contact: &Contact) -> String {
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

    fn changes(event: Event, before: Option<&Contact>, after: &Contact) -> Event {
        match before {
            None => event
                .set("kind", after.kind.key())
                .set("name", &after.name)
                .set("email", &after.email)
                .set("phone", &after.phone),
            Some(before) => event
                .change("kind", before.kind.key(), after.kind.key())
                .change("name", &before.name, &after.name)
                .change("email", &before.email, &after.email)
                .change("phone", &before.phone, &after.phone),
        }
    }

    fn removed(event: Event, contact: &Contact) -> Event {
        event.unset("kind", contact.kind.key()).unset("name", &contact.name).unset("email", &contact.email)
    }
}

fn primary_conflict(error: StoreError) -> ContactError {
    match error {
        StoreError::Conflict => ContactError::PrimaryTaken(PrimaryTaken),
        other => other.into(),
    }
}
