//! Roles: built in and template roles are shared by every account (no
//! account id); custom roles belong to one account and store their
//! permissions. Every lookup is scoped to what one account can see.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::catalogue::TemplateRole;
use domain::{BuiltInRole, HeldRole, PermissionSet, RoleKind};
use uuid::Uuid;

use crate::schema::{role_permissions, roles};
use crate::{DbConnection, StoreError, ids, time};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub id: Uuid,
    /// `None` for built-in and template roles.
    pub account_id: Option<Uuid>,
    pub key: String,
    pub name: String,
    pub description: String,
    pub kind: RoleKind,
    pub created_at: DateTime<Utc>,
}

impl Role {
    pub fn held(&self, group: Option<Uuid>) -> HeldRole {
        HeldRole { key: self.key.clone(), kind: self.kind.clone(), group }
    }

    pub fn kind_name(&self) -> &'static str {
        kind_name(&self.kind)
    }
}

pub fn kind_name(kind: &RoleKind) -> &'static str {
    match kind {
        RoleKind::BuiltIn(_) => "built_in",
        RoleKind::Template => "template",
        RoleKind::Custom(_) => "custom",
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = roles)]
pub(crate) struct RoleRow {
    id: String,
    account_id: Option<String>,
    key: String,
    name: String,
    description: String,
    kind: String,
    created_at: NaiveDateTime,
}

/// Turns stored kinds into domain kinds, loading custom roles' permissions
/// in one query.
pub(crate) fn hydrate(conn: &mut DbConnection, rows: Vec<RoleRow>) -> Result<Vec<Role>, StoreError> {
    let custom: Vec<&str> = rows.iter().filter(|row| row.kind == "custom").map(|row| row.id.as_str()).collect();
    let mut permissions: HashMap<String, Vec<String>> = HashMap::new();
    if !custom.is_empty() {
        let pairs: Vec<(String, String)> = role_permissions::table
            .filter(role_permissions::role_id.eq_any(&custom))
            .select((role_permissions::role_id, role_permissions::permission))
            .load(conn)?;
        for (role, permission) in pairs {
            permissions.entry(role).or_default().push(permission);
        }
    }
    rows.into_iter()
        .map(|row| {
            let kind = match row.kind.as_str() {
                "built_in" => RoleKind::BuiltIn(
                    BuiltInRole::from_key(&row.key)
                        .ok_or_else(|| StoreError::Corrupt(format!("built-in role {:?}", row.key)))?,
                ),
                "template" => RoleKind::Template,
                // The same custom role can appear in several rows (one role held
                // in two groups, or by two members): each gets its permissions.
                "custom" => RoleKind::Custom(permissions.get(&row.id).into_iter().flatten().cloned().collect()),
                other => return Err(StoreError::Corrupt(format!("role kind {other:?}"))),
            };
            Ok(Role {
                id: ids::from_db(&row.id)?,
                account_id: row.account_id.as_deref().map(ids::from_db).transpose()?,
                key: row.key,
                name: row.name,
                description: row.description,
                kind,
                created_at: time::from_db(row.created_at),
            })
        })
        .collect()
}

/// Roles `account` can use, by key.
pub fn list_visible_by_keys(conn: &mut DbConnection, account: Uuid, keys: &[&str]) -> Result<Vec<Role>, StoreError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let rows = roles::table
        .filter(roles::account_id.is_null().or(roles::account_id.eq(ids::to_db(account))))
        .filter(roles::key.eq_any(keys))
        .select(RoleRow::as_select())
        .load(conn)?;
    hydrate(conn, rows)
}

/// Every role `account` can use: built in, templates, then its own.
pub fn list_visible(conn: &mut DbConnection, account: Uuid) -> Result<Vec<Role>, StoreError> {
    let rows = roles::table
        .filter(roles::account_id.is_null().or(roles::account_id.eq(ids::to_db(account))))
        .select(RoleRow::as_select())
        .order((roles::account_id.is_not_null(), roles::key))
        .load(conn)?;
    hydrate(conn, rows)
}

pub fn built_in_id(conn: &mut DbConnection, role: BuiltInRole) -> Result<Uuid, StoreError> {
    let id: String = roles::table
        .filter(roles::account_id.is_null())
        .filter(roles::key.eq(role.key()))
        .select(roles::id)
        .first(conn)?;
    ids::from_db(&id)
}

/// Makes the roles table hold a row for every template role of the
/// catalogue (their permissions are read from the catalogue, not stored).
pub fn sync_templates(
    conn: &mut DbConnection,
    templates: &[TemplateRole],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for template in templates {
        let updated =
            diesel::update(roles::table.filter(roles::account_id.is_null()).filter(roles::key.eq(&template.key)))
                .set((
                    roles::name.eq(&template.name),
                    roles::description.eq(&template.description),
                    roles::kind.eq("template"),
                ))
                .execute(conn)?;
        if updated == 0 {
            diesel::insert_into(roles::table)
                .values((
                    roles::id.eq(ids::to_db(Uuid::now_v7())),
                    roles::key.eq(&template.key),
                    roles::name.eq(&template.name),
                    roles::description.eq(&template.description),
                    roles::kind.eq("template"),
                    roles::built_in.eq(false),
                    roles::created_at.eq(time::to_db(now)),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// One role of `account` (or a shared one) by id.
pub fn find_visible(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<Option<Role>, StoreError> {
    let rows = roles::table
        .filter(roles::id.eq(ids::to_db(id)))
        .filter(roles::account_id.is_null().or(roles::account_id.eq(ids::to_db(account))))
        .select(RoleRow::as_select())
        .load(conn)?;
    Ok(hydrate(conn, rows)?.pop())
}

pub struct NewCustomRole<'a> {
    pub account_id: Uuid,
    pub key: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub permissions: &'a PermissionSet,
    pub now: DateTime<Utc>,
}

/// Creates an account's own role. [`StoreError::Conflict`] when the key is
/// taken in the account; the caller checks shared keys first.
pub fn create_custom(conn: &mut DbConnection, new: NewCustomRole<'_>) -> Result<Uuid, StoreError> {
    let id = Uuid::now_v7();
    diesel::insert_into(roles::table)
        .values((
            roles::id.eq(ids::to_db(id)),
            roles::account_id.eq(ids::to_db(new.account_id)),
            roles::key.eq(new.key),
            roles::name.eq(new.name),
            roles::description.eq(new.description),
            roles::kind.eq("custom"),
            roles::built_in.eq(false),
            roles::created_at.eq(time::to_db(new.now)),
        ))
        .execute(conn)?;
    set_permissions(conn, id, new.permissions)?;
    Ok(id)
}

fn set_permissions(conn: &mut DbConnection, role: Uuid, permissions: &PermissionSet) -> Result<(), StoreError> {
    diesel::delete(role_permissions::table.filter(role_permissions::role_id.eq(ids::to_db(role)))).execute(conn)?;
    for key in permissions.keys() {
        diesel::insert_into(role_permissions::table)
            .values((role_permissions::role_id.eq(ids::to_db(role)), role_permissions::permission.eq(key)))
            .execute(conn)?;
    }
    Ok(())
}

pub struct CustomRoleChange<'a> {
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub permissions: Option<&'a PermissionSet>,
}

pub fn update_custom(
    conn: &mut DbConnection,
    account: Uuid,
    id: Uuid,
    change: CustomRoleChange<'_>,
) -> Result<(), StoreError> {
    let target = || roles::table.filter(roles::id.eq(ids::to_db(id))).filter(roles::account_id.eq(ids::to_db(account)));
    if let Some(name) = change.name {
        diesel::update(target()).set(roles::name.eq(name)).execute(conn)?;
    }
    if let Some(description) = change.description {
        diesel::update(target()).set(roles::description.eq(description)).execute(conn)?;
    }
    if let Some(permissions) = change.permissions {
        set_permissions(conn, id, permissions)?;
    }
    Ok(())
}

/// How many assignments and pending invitations use a role.
pub fn usage(conn: &mut DbConnection, id: Uuid) -> Result<i64, StoreError> {
    use crate::schema::{invitation_assignments, invitations, role_assignments};
    let assigned: i64 =
        role_assignments::table.filter(role_assignments::role_id.eq(ids::to_db(id))).count().get_result(conn)?;
    let invited: i64 = invitation_assignments::table
        .inner_join(invitations::table)
        .filter(invitation_assignments::role_id.eq(ids::to_db(id)))
        .filter(invitations::status.eq("pending"))
        .count()
        .get_result(conn)?;
    Ok(assigned + invited)
}

/// Deletes an account's own role, first moving its assignments and pending
/// invitations to `reassign_to` when given. Call inside a transaction.
pub fn delete_custom(
    conn: &mut DbConnection,
    account: Uuid,
    id: Uuid,
    reassign_to: Option<Uuid>,
) -> Result<(), StoreError> {
    use crate::schema::{invitation_assignments, role_assignments};
    let (from, to) = (ids::to_db(id), reassign_to.map(ids::to_db));
    if let Some(to) = &to {
        // Members holding both keep one assignment: drop the duplicates first.
        let holders: Vec<(String, Option<String>)> = role_assignments::table
            .filter(role_assignments::role_id.eq(to))
            .select((role_assignments::membership_id, role_assignments::group_id))
            .load(conn)?;
        for (membership, group) in holders {
            let duplicate = role_assignments::table
                .filter(role_assignments::role_id.eq(&from))
                .filter(role_assignments::membership_id.eq(membership));
            match group {
                Some(group) => diesel::delete(duplicate.filter(role_assignments::group_id.eq(group))).execute(conn)?,
                None => diesel::delete(duplicate.filter(role_assignments::group_id.is_null())).execute(conn)?,
            };
        }
        diesel::update(role_assignments::table.filter(role_assignments::role_id.eq(&from)))
            .set(role_assignments::role_id.eq(to))
            .execute(conn)?;
        // Pending invitations offer the replacement instead.
        diesel::update(invitation_assignments::table.filter(invitation_assignments::role_id.eq(&from)))
            .set(invitation_assignments::role_id.eq(to))
            .execute(conn)?;
    }
    diesel::delete(invitation_assignments::table.filter(invitation_assignments::role_id.eq(&from))).execute(conn)?;
    diesel::delete(role_assignments::table.filter(role_assignments::role_id.eq(&from))).execute(conn)?;
    diesel::delete(roles::table.filter(roles::id.eq(&from)).filter(roles::account_id.eq(ids::to_db(account))))
        .execute(conn)?;
    Ok(())
}
