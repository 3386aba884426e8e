//! An account's email domains: claimed, then verified by a DNS TXT record
//! that the account's administrators publish. The lookup happens before
//! [`confirm`], in the handler: no transaction waits on DNS.

use domain::audit::AuditAction;
use domain::email_domain::{EmailDomain, VerificationToken};
use persistence::domains::{self, AccountDomain};
use persistence::{DbConnection, StoreError, write_transaction};
use uuid::Uuid;

use super::audit::Event;
use super::{Ctx, Shared, family_error};

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("a public mail provider's domain cannot be claimed")]
    PublicMailDomain,
    #[error("another account verified this domain")]
    Taken,
    #[error("the account has claimed this domain already")]
    AlreadyClaimed,
    #[error("the verification record was not found")]
    RecordNotFound,
    #[error(transparent)]
    Shared(Shared),
}
family_error!(DomainError);

fn event(claimed: &AccountDomain, action: AuditAction) -> Event {
    Event::in_account(claimed.account_id, action).target("domain", claimed.id, &claimed.domain)
}

/// Whether another account than `account` verified `domain`.
fn taken_by_another(conn: &mut DbConnection, account: Uuid, domain: &str) -> Result<bool, StoreError> {
    Ok(domains::verified_by(conn, domain)?.is_some_and(|owner| owner != account))
}

/// Claims `domain` for `account`, to be verified with `token`'s record.
pub fn add(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    domain: &EmailDomain,
    token: &VerificationToken,
) -> Result<AccountDomain, DomainError> {
    if domain.is_public_mail_provider() {
        return Err(DomainError::PublicMailDomain);
    }
    write_transaction(conn, |conn| {
        if taken_by_another(conn, account, domain.as_str())? {
            return Err(DomainError::Taken);
        }
        let claimed =
            domains::insert(conn, account, domain.as_str(), token.as_str(), ctx.now).map_err(|error| match error {
                StoreError::Conflict => DomainError::AlreadyClaimed,
                other => other.into(),
            })?;
        ctx.record(conn, event(&claimed, AuditAction::DomainAdded).set("domain", &claimed.domain))?;
        Ok(claimed)
    })
}

/// Verifies the claimed domain `id` if its record was `found` just now;
/// verifying a verified domain again only records the check.
pub fn confirm(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    id: Uuid,
    found: bool,
) -> Result<AccountDomain, DomainError> {
    write_transaction(conn, |conn| {
        let claimed = domains::find(conn, account, id)?.ok_or(Shared::NotFound)?;
        if !found {
            return Err(DomainError::RecordNotFound);
        }
        if taken_by_another(conn, account, &claimed.domain)? {
            return Err(DomainError::Taken);
        }
        domains::record_found(conn, account, id, ctx.now).map_err(|error| match error {
            // Another account's verification committed meanwhile.
            StoreError::Conflict => DomainError::Taken,
            other => other.into(),
        })?;
        let verified = domains::find(conn, account, id)?.ok_or(Shared::NotFound)?;
        if claimed.verified_at.is_none() {
            ctx.record(conn, event(&verified, AuditAction::DomainVerified).set("status", "verified"))?;
        }
        Ok(verified)
    })
}

/// Removes the account's claim of domain `id`.
pub fn remove(conn: &mut DbConnection, ctx: &Ctx<'_>, account: Uuid, id: Uuid) -> Result<(), DomainError> {
    write_transaction(conn, |conn| {
        let claimed = domains::find(conn, account, id)?.ok_or(Shared::NotFound)?;
        domains::delete(conn, account, id)?;
        ctx.record(conn, event(&claimed, AuditAction::DomainRemoved).unset("domain", &claimed.domain))?;
        Ok(())
    })
}
