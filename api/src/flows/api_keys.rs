//! Authorized partners and their API keys. A key carries a subset of its
//! creator's permissions (`domain::api_key::check_permissions`); when used it
//! acts with those limited by what its creator holds at that moment
//! ([`roles_of_key`]), so a creator who loses a permission, or leaves,
//! takes it from their keys at once.

use chrono::{DateTime, Duration, Utc};
use domain::api_key::{self, IpAllowList, KeyPermissionsRefused};
use domain::audit::AuditAction;
use domain::{Catalogue, HeldRole, PermissionSet, RoleKind};
use persistence::api_keys::{self as store, ApiKey, NewKey, Partner};
use persistence::{DbConnection, groups, write_transaction};
use uuid::Uuid;

use super::audit::Event;
use super::{Ctx, Grantor, Shared, family_error};
use crate::auth::secrets::ApiKeySecret;

#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    #[error("a partner of that name exists")]
    PartnerExists,
    #[error("no such partner")]
    UnknownPartner,
    #[error(transparent)]
    Permissions(#[from] KeyPermissionsRefused),
    #[error(transparent)]
    Shared(Shared),
}
family_error!(ApiKeyError);

fn partner_event(partner: &Partner, action: AuditAction) -> Event {
    Event::in_account(partner.account_id, action).target("partner", partner.id, &partner.name)
}

fn key_event(key: &ApiKey, action: AuditAction) -> Event {
    Event::in_account(key.account_id, action).target("api_key", key.id, &key.name).target("partner", key.partner_id, "")
}

pub fn create_partner(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    name: &str,
    description: &str,
) -> Result<Partner, ApiKeyError> {
    write_transaction(conn, |conn| {
        let partner =
            store::create_partner(conn, account, name, description, ctx.now)?.ok_or(ApiKeyError::PartnerExists)?;
        ctx.record(conn, partner_event(&partner, AuditAction::PartnerCreated).set("name", &partner.name))?;
        Ok(partner)
    })
}

pub fn delete_partner(conn: &mut DbConnection, ctx: &Ctx<'_>, account: Uuid, id: Uuid) -> Result<(), ApiKeyError> {
    write_transaction(conn, |conn| {
        let partner = store::find_partner(conn, account, id)?.ok_or(Shared::NotFound)?;
        store::delete_partner(conn, account, id)?;
        ctx.record(conn, partner_event(&partner, AuditAction::PartnerDeleted).unset("name", &partner.name))?;
        Ok(())
    })
}

/// What a key is asked to be, already parsed.
pub struct KeyDraft {
    pub name: String,
    pub partner_id: Uuid,
    pub permissions: PermissionSet,
    pub group_id: Option<Uuid>,
    pub expires_at: DateTime<Utc>,
    pub allowed_ips: IpAllowList,
}

/// A key as just created or rotated: with its secret, shown once.
pub struct RevealedKey {
    pub key: ApiKey,
    pub secret: ApiKeySecret,
}

pub fn create_key(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    by: &Grantor,
    draft: KeyDraft,
) -> Result<RevealedKey, ApiKeyError> {
    // No escalation: what the creator holds where the key applies.
    api_key::check_permissions(&draft.permissions, &by.holds_in(ctx.catalogue, draft.group_id))?;
    let secret = ApiKeySecret::generate();
    write_transaction(conn, |conn| {
        let partner = store::find_partner(conn, by.account_id, draft.partner_id)?.ok_or(ApiKeyError::UnknownPartner)?;
        if let Some(group) = draft.group_id
            && groups::find(conn, by.account_id, group)?.is_none()
        {
            return Err(Shared::UnknownGroup { field: "group_id" }.into());
        }
        let permissions: Vec<String> = draft.permissions.keys().map(str::to_owned).collect();
        let allowed_ips = draft.allowed_ips.entries();
        let key = store::create_key(
            conn,
            NewKey {
                account_id: by.account_id,
                partner_id: partner.id,
                name: &draft.name,
                permissions: &permissions,
                group_id: draft.group_id,
                allowed_ips: &allowed_ips,
                created_by: by.user_id,
                expires_at: draft.expires_at,
                digest: &secret.digest(),
                shown: &secret.shown(),
                now: ctx.now,
            },
        )?;
        let event = key_event(&key, AuditAction::ApiKeyCreated)
            .set("name", &key.name)
            .set("partner", &partner.name)
            .set("permissions", &key.permissions)
            .set("group_id", key.group_id)
            .set("expires_at", key.expires_at)
            .set("allowed_ips", &key.allowed_ips);
        ctx.record(conn, event)?;
        tell_administrators(conn, ctx, &key, &partner)?;
        Ok(RevealedKey { key, secret })
    })
}

/// Owners and administrators hear of every new key: a key is a door into
/// the account.
fn tell_administrators(conn: &mut DbConnection, ctx: &Ctx<'_>, key: &ApiKey, partner: &Partner) -> Result<(), Shared> {
    let account = super::notifications::name_in_emails(conn, key.account_id)?;
    let keys_url = ctx.link(&format!("/v1/accounts/{}/api-keys/{}", key.account_id, key.id));
    let administers = super::notifications::administers;
    let topic = domain::notification::Topic::SecurityNotices;
    Ok(super::notifications::notify_holders(conn, ctx, key.account_id, topic, administers, |recipient| {
        let said = crate::email::kinds::ApiKeyCreated {
            account_name: account.clone(),
            key_name: key.name.clone(),
            partner_name: partner.name.clone(),
            created_by: key.created_by_email.clone(),
            permissions: key.permissions.clone(),
            expires_at: key.expires_at,
            key_url: keys_url.clone(),
        };
        crate::email::Message::ApiKeyCreated(said).to(recipient)
    })?)
}

pub fn revoke_key(conn: &mut DbConnection, ctx: &Ctx<'_>, account: Uuid, id: Uuid) -> Result<ApiKey, ApiKeyError> {
    write_transaction(conn, |conn| {
        let key = store::find_key(conn, account, id)?.ok_or(Shared::NotFound)?;
        if store::revoke(conn, account, id, ctx.now)? {
            ctx.record(conn, key_event(&key, AuditAction::ApiKeyRevoked).change("revoked", false, true))?;
        }
        Ok(store::find_key(conn, account, id)?.ok_or(Shared::NotFound)?)
    })
}

/// A new secret; the current one keeps working for `overlap` (none: it
/// stops at once), so a partner can switch without downtime.
pub fn rotate_key(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    id: Uuid,
    overlap: Duration,
) -> Result<RevealedKey, ApiKeyError> {
    let secret = ApiKeySecret::generate();
    write_transaction(conn, |conn| {
        let key = store::find_key(conn, account, id)?.ok_or(Shared::NotFound)?;
        if key.revoked_at.is_some() || key.expires_at <= ctx.now {
            return Err(Shared::NotFound.into());
        }
        store::rotate(conn, id, &secret.digest(), &secret.shown(), ctx.now, ctx.now + overlap)?;
        let event = key_event(&key, AuditAction::ApiKeyRotated).set("old_secret_valid_until", ctx.now + overlap);
        ctx.record(conn, event)?;
        let key = store::find_key(conn, account, id)?.ok_or(Shared::NotFound)?;
        Ok(RevealedKey { key, secret })
    })
}

/// The roles a key acts with: each of its creator's roles reduced to the
/// key's permissions and, for a key scoped to a group, applying only in
/// that group. In any scope the key then holds exactly what its creator
/// holds there and the key carries.
pub fn roles_of_key(catalogue: &Catalogue, creator: &[HeldRole], key: &ApiKey) -> Vec<HeldRole> {
    let carried: PermissionSet = key.permissions.iter().map(String::as_str).collect();
    creator
        .iter()
        .filter_map(|role| {
            let group = match (key.group_id, role.group) {
                (None, group) => group,
                (Some(scope), None) => Some(scope),
                (Some(scope), Some(group)) if scope == group => Some(scope),
                (Some(_), Some(_)) => return None,
            };
            let permissions: PermissionSet =
                catalogue.role_permissions(role).keys().filter(|key| carried.contains_key(key)).collect();
            Some(HeldRole { key: role.key.clone(), kind: RoleKind::Custom(permissions), group })
        })
        .collect()
}
