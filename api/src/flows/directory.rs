//! What an account's directory (Okta, Entra ID, … over SCIM) changes: it
//! makes people members directly with the account's directory roles,
//! updates what it knows of them, suspends and restores them (`active`),
//! removes them, and keeps groups and their members. Each change is one
//! transaction with its audit events (actor `directory`, the token's id)
//! and webhooks, through the same flows as a change made by hand.

use domain::audit::AuditAction;
use domain::membership::{LastOwner, MembershipStatus};
use domain::notification::Topic;
use domain::scim::group::GroupAttributes;
use domain::scim::user::UserAttributes;
use domain::scim::{Refusal, ScimType};
use domain::{Email, PersonName};
use persistence::directory::{self, DirectoryGroup, DirectoryMember, GroupSelect, Profile, Select};
use persistence::users::{NewUser, ProfileChange};
use persistence::{DbConnection, StoreError, memberships, users, write_transaction};
use uuid::Uuid;

use super::audit::Event;
use super::groups::GroupError;
use super::members::{MemberError, Removal};
use super::seats::Seats;
use super::{Ctx, Precondition, Shared, check_precondition, entity_tag, family_error};
use crate::email::Message;
use crate::email::kinds::{DirectoryWelcome, SignIn};

/// How long the link that lets a new person choose a password works.
pub const WELCOME_LINK_LIFETIME: chrono::Duration = chrono::Duration::days(7);

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// The request says something Roster refuses (400, with its kind).
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// Someone with this `userName`, or a group with this `displayName`,
    /// is there already (409 `uniqueness`).
    #[error("{0}")]
    Taken(String),
    #[error(transparent)]
    LastOwner(#[from] LastOwner),
    /// The directory never makes owners.
    #[error("the directory's people cannot start as owners")]
    OwnerNotGiven,
    #[error(transparent)]
    Precondition(#[from] Precondition),
    #[error(transparent)]
    Shared(Shared),
}
family_error!(DirectoryError);

impl From<MemberError> for DirectoryError {
    fn from(error: MemberError) -> Self {
        match error {
            MemberError::LastOwner(last) => DirectoryError::LastOwner(last),
            MemberError::Precondition(failed) => DirectoryError::Precondition(failed),
            MemberError::Shared(shared) => DirectoryError::Shared(shared),
            other => DirectoryError::Refused(Refusal::new(ScimType::InvalidValue, other.to_string())),
        }
    }
}

impl From<GroupError> for DirectoryError {
    fn from(error: GroupError) -> Self {
        match error {
            GroupError::NameTaken(name) => DirectoryError::Taken(format!("the account has a group named {name:?}")),
            GroupError::NotAMember => {
                DirectoryError::Refused(Refusal::new(ScimType::InvalidValue, "members are users of this account"))
            }
            GroupError::Shared(shared) => DirectoryError::Shared(shared),
            GroupError::OwnerNotGiven => DirectoryError::OwnerNotGiven,
        }
    }
}

/// A member as the directory sees them: what it said, else Roster's own.
pub fn attributes_of(member: &DirectoryMember) -> UserAttributes {
    let roster_name = |name: &str| PersonName::parse(name).ok();
    let (given, family, display, external) = match &member.profile {
        Some(profile) => (
            profile.given_name.as_deref().and_then(roster_name),
            profile.family_name.as_deref().and_then(roster_name),
            profile.display_name.clone(),
            profile.external_id.clone(),
        ),
        None => (roster_name(&member.first_name), roster_name(&member.last_name), None, None),
    };
    UserAttributes {
        // Stored emails were parsed when stored; a corrupt one is logged
        // and shows as an address that cannot receive mail.
        user_name: Email::parse(&member.email).unwrap_or_else(|_| unreachable_email(&member.email)),
        external_id: external,
        given_name: given,
        family_name: family,
        display_name: display,
        active: member.status == MembershipStatus::Active,
    }
}

fn unreachable_email(stored: &str) -> Email {
    tracing::error!(stored, "a stored email does not parse");
    Email::parse("invalid@invalid.invalid").expect("a valid address")
}

/// The version of a member as the directory sees them (`meta.version`).
pub fn user_version(member: &DirectoryMember) -> String {
    let attributes = attributes_of(member);
    let groups: Vec<String> = member.groups.iter().map(|(id, name)| format!("{id}={name}")).collect();
    entity_tag(&format!(
        "{}|{:?}|{:?}|{:?}|{:?}|{}|{}",
        attributes.user_name,
        attributes.external_id,
        attributes.given_name.as_ref().map(PersonName::as_str),
        attributes.family_name.as_ref().map(PersonName::as_str),
        attributes.display_name,
        attributes.active,
        groups.join(",")
    ))
}

/// The version of a group as the directory sees it.
pub fn group_version(group: &DirectoryGroup, members: &[Uuid]) -> String {
    let members: Vec<String> = members.iter().map(Uuid::to_string).collect();
    entity_tag(&format!("{}|{:?}|{}", group.name, group.external_id, members.join(",")))
}

pub fn member(conn: &mut DbConnection, account: Uuid, user: Uuid) -> Result<DirectoryMember, DirectoryError> {
    directory::members(conn, account, Select::User(user))?.pop().ok_or(DirectoryError::Shared(Shared::NotFound))
}

/// The roles a person the directory adds starts with, account-wide: those
/// the account configured (none until it does), as (id, key).
fn starting_roles(conn: &mut DbConnection, account: Uuid) -> Result<Vec<(Uuid, String)>, StoreError> {
    directory::default_roles(conn, account)
}

/// Sets the roles people the directory adds start with (account-wide):
/// each one `by` may give, never owner (ownership is handed over by an
/// owner, not by whoever the directory adds).
pub fn set_default_roles(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    by: &super::Grantor,
    keys: &[String],
) -> Result<Vec<String>, DirectoryError> {
    if keys.iter().any(|key| key == domain::BuiltInRole::Owner.key()) {
        return Err(DirectoryError::OwnerNotGiven);
    }
    write_transaction(conn, |conn| {
        let wanted: Vec<(String, Option<Uuid>)> = keys.iter().map(|key| (key.clone(), None)).collect();
        let granted = super::roles::grantable(conn, ctx, by, &wanted, "default_roles")?;
        let before = directory::default_role_keys(conn, by.account_id)?;
        let ids: Vec<Uuid> = granted.iter().map(|role| role.role_id).collect();
        directory::set_default_roles(conn, by.account_id, &ids)?;
        let after = directory::default_role_keys(conn, by.account_id)?;
        if before != after {
            let event = Event::in_account(by.account_id, AuditAction::DirectorySettingsUpdated).change(
                "default_roles",
                &before,
                &after,
            );
            ctx.record(conn, event)?;
        }
        Ok(after)
    })
}

/// Whether the directory speaks for `email`'s names: it made the user, or
/// the email is at a domain the account verified. Otherwise the person
/// came with their own account, which other accounts share: what the
/// directory says is kept beside it, not written over it.
fn speaks_for(conn: &mut DbConnection, account: Uuid, email: &Email, made_user: bool) -> Result<bool, StoreError> {
    Ok(made_user || domain::email_domain::at_any(&super::domains::verified(conn, account)?, email))
}

/// Makes the person `wanted` describes a member: an existing Roster user
/// with that email is linked, anyone else is created without a password.
/// They hold the account's directory roles, take a seat, and are told how
/// to sign in (unless the account turned those emails off).
pub fn create_user(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    wanted: &UserAttributes,
) -> Result<DirectoryMember, DirectoryError> {
    let taken = || DirectoryError::Taken(format!("a member has the userName {}", wanted.user_name));
    // Two requests for one person: the second one's insert of the user or
    // the membership waits for the first to commit, then breaks a unique
    // index (nothing serialises the account's other creates).
    let created = write_transaction(conn, |conn| {
        let seats = Seats::hold(conn, ctx, account)?;
        let existing = users::find_by_email(conn, &wanted.user_name)?;
        if let Some(user) = &existing
            && memberships::find(conn, account, user.id)?.is_some()
        {
            return Err(taken());
        }
        seats.take_one(conn, ctx.now)?;
        let made_user = existing.is_none();
        let (user, registered) = match existing {
            Some(user) => (user, None),
            None => {
                let (user, registered) = new_user(conn, ctx, account, wanted)?;
                (user, Some(registered))
            }
        };
        let starting = starting_roles(conn, account)?;
        let assignments: Vec<(Uuid, Option<Uuid>)> = starting.iter().map(|(id, _)| (*id, None)).collect();
        let membership = memberships::admit(conn, account, user.id, &assignments, &[], ctx.now)?;
        let profile = profile_of(wanted, made_user, ctx);
        directory::save_profile(conn, account, membership, &profile)?;
        let keys: Vec<&String> = starting.iter().map(|(_, key)| key).collect();
        let joined = Event::in_account(account, AuditAction::MemberJoined)
            .target("user", user.id, &user.email)
            .set("roles", keys)
            .set("external_id", &wanted.external_id);
        ctx.record_all(conn, registered.into_iter().chain([joined]).collect())?;
        let mut status = MembershipStatus::Active;
        if !wanted.active {
            super::members::set_status(conn, ctx, account, None, user.id, MembershipStatus::Suspended)?;
            status = MembershipStatus::Suspended;
        }
        welcome(conn, ctx, account, membership, &user, made_user)?;
        // As `member` would read it back, without the reads.
        Ok(DirectoryMember {
            membership_id: membership,
            user_id: user.id,
            email: user.email,
            first_name: user.first_name,
            last_name: user.last_name,
            status,
            created_at: ctx.now,
            last_modified: ctx.now,
            profile: Some(profile),
            groups: Vec::new(),
        })
    });
    match created {
        Err(DirectoryError::Shared(Shared::Store(StoreError::Conflict))) => Err(taken()),
        other => other,
    }
}

fn profile_of(wanted: &UserAttributes, made_user: bool, ctx: &Ctx<'_>) -> Profile {
    Profile {
        external_id: wanted.external_id.clone(),
        given_name: wanted.given_name.as_ref().map(|name| name.as_str().to_owned()),
        family_name: wanted.family_name.as_ref().map(|name| name.as_str().to_owned()),
        display_name: wanted.display_name.clone(),
        made_user,
        updated_at: ctx.now,
    }
}

/// A Roster user for `wanted`, and the event that records it (for the
/// caller to record with its own).
fn new_user(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    wanted: &UserAttributes,
) -> Result<(users::User, Event), DirectoryError> {
    let email = &wanted.user_name;
    let local = email.as_str().split('@').next().unwrap_or_default();
    let fallback = PersonName::parse(local)
        .map_err(|_| Refusal::new(ScimType::InvalidValue, "userName has no local part to name the person by"))?;
    let first_name = wanted.given_name.clone().unwrap_or_else(|| fallback.clone());
    let last_name = wanted.family_name.clone().unwrap_or(fallback);
    let verified = domain::email_domain::at_any(&super::domains::verified(conn, account)?, email);
    let user = users::insert(
        conn,
        NewUser {
            id: Uuid::now_v7(),
            email,
            first_name: &first_name,
            last_name: &last_name,
            password_hash: None,
            // Verified for Roster only where the account controls the
            // domain: any directory can name any address.
            email_verified: verified,
            now: ctx.now,
        },
    )?;
    let registered = super::users::registered(&user).by(ctx.actor).set("account_id", account);
    Ok((user, registered))
}

/// Tells someone the directory added how to sign in: through the
/// account's identity provider when it has one, else with a password (a
/// link to choose one when they have none).
fn welcome(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    membership: Uuid,
    user: &users::User,
    made_user: bool,
) -> Result<(), StoreError> {
    let account_name = super::notifications::name_in_emails(conn, account)?;
    let connection = persistence::sso::list(conn, account)?.into_iter().find(|connection| connection.enabled);
    let password_link = match (&connection, made_user && user.password_hash.is_none()) {
        (None, true) => {
            let purpose = persistence::user_tokens::Purpose::ResetPassword;
            let token = super::credentials::issue(conn, ctx, purpose, user, &user.email, WELCOME_LINK_LIFETIME)?;
            Some(ctx.link(&format!("/reset-password?token={}", token.expose())))
        }
        _ => None,
    };
    let sso_url = connection.map(|connection| super::sso::start_url(ctx.public_url, connection.id));
    let (sign_in, url) = match (sso_url, password_link) {
        (Some(start_url), _) => (SignIn::SingleSignOn, start_url),
        (None, Some(url)) => (SignIn::SetPassword, url),
        (None, None) => (SignIn::Password, ctx.link("/sign-in")),
    };
    let email = Message::DirectoryWelcome(DirectoryWelcome { account_name, sign_in, url }).to(&user.email);
    let recipient = persistence::notifications::Recipient {
        membership_id: membership,
        user_id: user.id,
        email: user.email.clone(),
    };
    super::notifications::notify_new_member(conn, ctx, account, recipient, Topic::Welcome, |_| email.clone())
}

/// Replaces what the directory says about member `user` with `wanted`
/// (PUT, or a PATCH applied to what it said), if `if_match` names the
/// current version.
pub fn replace_user(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    user: Uuid,
    change: impl FnOnce(&UserAttributes) -> Result<UserAttributes, Refusal>,
    if_match: Option<&str>,
) -> Result<DirectoryMember, DirectoryError> {
    write_transaction(conn, |conn| {
        let current = member(conn, account, user)?;
        if let Some(tag) = if_match {
            check_precondition(Some(tag), &user_version(&current))?;
        }
        let before = attributes_of(&current);
        let wanted = change(&before)?;
        wanted.check_replaces(&before)?;
        let made_user = current.profile.as_ref().is_some_and(|p| p.made_user);
        if wanted != before || current.profile.is_none() {
            directory::save_profile(conn, account, current.membership_id, &profile_of(&wanted, made_user, ctx))?;
            let event = Event::in_account(account, AuditAction::MemberDirectoryProfileUpdated)
                .target("user", user, &current.email)
                .change("external_id", &before.external_id, &wanted.external_id)
                .change(
                    "given_name",
                    before.given_name.as_ref().map(PersonName::as_str),
                    wanted.given_name.as_ref().map(PersonName::as_str),
                )
                .change(
                    "family_name",
                    before.family_name.as_ref().map(PersonName::as_str),
                    wanted.family_name.as_ref().map(PersonName::as_str),
                )
                .change("display_name", &before.display_name, &wanted.display_name);
            ctx.record(conn, event)?;
        }
        let renamed = wanted.given_name != before.given_name || wanted.family_name != before.family_name;
        if renamed && speaks_for(conn, account, &wanted.user_name, made_user)? {
            rename_user(conn, ctx, &current, &wanted)?;
        }
        if wanted.active != before.active {
            let to = if wanted.active { MembershipStatus::Active } else { MembershipStatus::Suspended };
            super::members::set_status(conn, ctx, account, None, user, to)?;
        }
        member(conn, account, user)
    })
}

/// Gives the Roster user the names the directory sent (those it sent).
fn rename_user(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    current: &DirectoryMember,
    wanted: &UserAttributes,
) -> Result<(), DirectoryError> {
    let change = ProfileChange {
        first_name: wanted.given_name.as_ref(),
        last_name: wanted.family_name.as_ref(),
        ..ProfileChange::default()
    };
    if change.first_name.is_none() && change.last_name.is_none() {
        return Ok(());
    }
    if let Some(updated) = users::update_names(conn, current.user_id, change, ctx.now)? {
        let event = Event::for_user(current.user_id, AuditAction::UserProfileUpdated)
            .target("user", current.user_id, &current.email)
            .change("first_name", &current.first_name, &updated.first_name)
            .change("last_name", &current.last_name, &updated.last_name);
        ctx.record(conn, event)?;
    }
    Ok(())
}

/// Removes member `user` from the account (never the Roster user, who may
/// belong to other accounts), as a removal by hand does, if `if_match`
/// names the current version.
pub fn delete_user(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    user: Uuid,
    if_match: Option<&str>,
) -> Result<(), DirectoryError> {
    write_transaction(conn, |conn| {
        if let Some(tag) = if_match {
            check_precondition(Some(tag), &user_version(&member(conn, account, user)?))?;
        }
        Ok(super::members::remove(conn, ctx, account, user, Removal::Directory)?)
    })
}

/// The account's groups, as the directory reads them.
pub fn group(
    conn: &mut DbConnection,
    account: Uuid,
    id: Uuid,
    with_members: bool,
) -> Result<DirectoryGroup, DirectoryError> {
    directory::groups(conn, account, GroupSelect::Id(id), with_members)?
        .pop()
        .ok_or(DirectoryError::Shared(Shared::NotFound))
}

/// The Roster users the group's `members` name, each a member here.
fn member_users(conn: &mut DbConnection, account: Uuid, ids: &[String]) -> Result<Vec<Uuid>, DirectoryError> {
    let unknown =
        |id: &str| Refusal::new(ScimType::InvalidValue, format!("members: {id:?} is no user of this account"));
    let mut users = Vec::with_capacity(ids.len());
    for id in ids {
        let user = Uuid::parse_str(id).map_err(|_| unknown(id))?;
        if memberships::find(conn, account, user)?.is_none() {
            return Err(unknown(id).into());
        }
        users.push(user);
    }
    Ok(users)
}

/// Makes a group with the directory's name, id and members.
pub fn create_group(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    wanted: &GroupAttributes,
) -> Result<DirectoryGroup, DirectoryError> {
    write_transaction(conn, |conn| {
        let users = member_users(conn, account, &wanted.members)?;
        let made = super::groups::create(conn, ctx, account, wanted.display_name.as_str(), "")?;
        directory::set_group_external_id(conn, account, made.id, wanted.external_id.as_deref(), ctx.now)?;
        for user in users {
            super::groups::add_member(conn, ctx, account, made.id, user, None)?;
        }
        group(conn, account, made.id, true)
    })
}

/// Replaces the group's name, id and members with what `change` makes of
/// them, if `if_match` names the current version. Members join and leave
/// as they do by hand (leaving takes the roles held in the group).
pub fn replace_group(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    id: Uuid,
    change: impl FnOnce(&GroupAttributes) -> Result<GroupAttributes, Refusal>,
    if_match: Option<&str>,
) -> Result<DirectoryGroup, DirectoryError> {
    write_transaction(conn, |conn| {
        let current = group(conn, account, id, true)?;
        let current_members: Vec<Uuid> = current.members.iter().map(|(user, _)| *user).collect();
        if let Some(tag) = if_match {
            check_precondition(Some(tag), &group_version(&current, &current_members))?;
        }
        let before = GroupAttributes {
            display_name: domain::GroupName::parse(&current.name)
                .map_err(|e| StoreError::Corrupt(format!("group name: {}", e.message)))?,
            external_id: current.external_id.clone(),
            members: current_members.iter().map(Uuid::to_string).collect(),
        };
        let wanted = change(&before)?;
        if wanted.display_name != before.display_name {
            super::groups::update(conn, ctx, account, id, Some(wanted.display_name.as_str()), None)?;
        }
        if wanted.external_id != before.external_id {
            directory::set_group_external_id(conn, account, id, wanted.external_id.as_deref(), ctx.now)?;
        }
        let next = member_users(conn, account, &wanted.members)?;
        for user in current_members.iter().filter(|user| !next.contains(user)) {
            super::groups::remove_member(conn, ctx, account, id, *user)?;
        }
        for user in next.iter().filter(|user| !current_members.contains(user)) {
            super::groups::add_member(conn, ctx, account, id, *user, None)?;
        }
        if next != current_members {
            directory::touch_group(conn, id, ctx.now)?;
        }
        group(conn, account, id, true)
    })
}

pub fn delete_group(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    id: Uuid,
    if_match: Option<&str>,
) -> Result<(), DirectoryError> {
    write_transaction(conn, |conn| {
        if let Some(tag) = if_match {
            let current = group(conn, account, id, true)?;
            let members: Vec<Uuid> = current.members.iter().map(|(user, _)| *user).collect();
            check_precondition(Some(tag), &group_version(&current, &members))?;
        }
        Ok(super::groups::delete(conn, ctx, account, id)?)
    })
}
