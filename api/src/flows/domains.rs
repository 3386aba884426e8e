//! An account's email domains: claimed, then verified by a DNS TXT record
//! that the account's administrators publish. The lookup happens before
//! [`confirm`], in the handler: no transaction waits on DNS.

use domain::Email;
use domain::audit::AuditAction;
use domain::email_domain::{EmailDomain, Recheck, TxtRecord, VerificationToken, outside_allowed_domains, recheck};
use domain::invitation::InvitationPreferences;
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

/// The account's verified domains, when it invites only emails at them
/// (none to load otherwise).
pub fn allowed_domains(
    conn: &mut DbConnection,
    account: Uuid,
    preferences: &InvitationPreferences,
) -> Result<Vec<EmailDomain>, StoreError> {
    if !preferences.restricted_to_domains {
        return Ok(Vec::new());
    }
    verified(conn, account)
}

/// The account's verified domains.
pub fn verified(conn: &mut DbConnection, account: Uuid) -> Result<Vec<EmailDomain>, StoreError> {
    let names = domains::verified_names(conn, account)?;
    Ok(names.iter().filter_map(|name| EmailDomain::parse(name).ok()).collect())
}

/// Whether the account, under its `preferences`, refuses `email` for not
/// being at one of its verified domains.
pub fn refuses(
    conn: &mut DbConnection,
    account: Uuid,
    preferences: &InvitationPreferences,
    email: &Email,
) -> Result<bool, StoreError> {
    let allowed = allowed_domains(conn, account, preferences)?;
    Ok(outside_allowed_domains(preferences.restricted_to_domains, email, &allowed))
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

/// The record `claimed` is verified by; none if what is stored is not a
/// domain and token (it never is: both were parsed when claimed).
pub fn record(claimed: &AccountDomain) -> Option<TxtRecord> {
    let domain = EmailDomain::parse(&claimed.domain).ok()?;
    let token = VerificationToken::parse(&claimed.token).ok()?;
    Some(domain.verification_record(&token))
}

/// Records a re-check of a verified domain whose record was `found` or
/// not: a record missing past the grace makes the domain unverified, in
/// the audit log, and tells those who manage the account's settings.
pub fn rechecked(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    claimed: &AccountDomain,
    found: bool,
) -> Result<(), StoreError> {
    let (account, id) = (claimed.account_id, claimed.id);
    write_transaction(conn, |conn| {
        // Removed or unverified meanwhile: nothing to record.
        let Some(claimed) = domains::find(conn, account, id)?.filter(|now| now.verified_at.is_some()) else {
            return Ok(());
        };
        rechecked_in(conn, ctx, &claimed, found)
    })
}

fn rechecked_in(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    claimed: &AccountDomain,
    found: bool,
) -> Result<(), StoreError> {
    let (account, id) = (claimed.account_id, claimed.id);
    match recheck(found, claimed.missing_since, ctx.now) {
        Recheck::Holds => domains::record_found(conn, account, id, ctx.now),
        Recheck::MissingSince(since) => domains::record_missing(conn, account, id, since, ctx.now),
        Recheck::Lapsed => {
            domains::unverify(conn, account, id, ctx.now)?;
            let event = event(claimed, AuditAction::DomainUnverified)
                .by(super::Actor::System)
                .change("status", "verified", "pending");
            ctx.record(conn, event)?;
            let account_name = super::notifications::name_in_emails(conn, account)?;
            let url = ctx.link(&format!("/v1/accounts/{account}/domains/{id}"));
            let manages = |role: &domain::HeldRole| {
                ctx.catalogue.role_permissions(role).contains(domain::Permission::SettingsManage)
            };
            super::notifications::notify_holders(
                conn,
                ctx,
                account,
                domain::notification::Topic::SecurityNotices,
                manages,
                |recipient| {
                    let said = crate::email::kinds::DomainUnverified {
                        account_name: account_name.clone(),
                        domain: claimed.domain.clone(),
                        domain_url: url.clone(),
                    };
                    crate::email::Message::DomainUnverified(said).to(recipient)
                },
            )
        }
    }
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
