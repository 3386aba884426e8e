//! Single sign-on flows: an account's connections to its OpenID provider,
//! and a sign-in's steps around the provider's answer (which the handler
//! fetches and validates first, with [`crate::oidc`]: no transaction
//! waits on the network). A person signing in is linked by the provider's
//! subject, or by an email the provider vouches for, or created; they
//! become a member of the connection's account with the mapped roles,
//! which are applied again at every sign-in.

use domain::audit::AuditAction;
use domain::email_domain::EmailDomain;
use domain::sso::{ClaimName, PasswordAccess, RoleMapping, Scopes, SsoPolicy, email_trusted};
use domain::{Email, PersonName};
use persistence::sso::{self, Attempt, Connection, ConnectionFields};
use persistence::users::NewUser;
use persistence::{DbConnection, StoreError, domains, groups, memberships, roles, users, write_transaction};
use uuid::Uuid;

use super::audit::Event;
use super::seats::Seats;
use super::sessions::{self, Session, SessionError, SessionPolicy};
use super::{Actor, Ctx, Grantor, Shared, family_error};
use crate::auth::jwt::SsoRequired;
use crate::auth::secrets::{self, OpaqueToken};

#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    #[error("no single sign-on connection for this email or id")]
    ConnectionNotFound,
    #[error("the single sign-on connection is disabled")]
    ConnectionDisabled,
    #[error("the sign-in state is unknown, used or expired")]
    StateInvalid,
    #[error("the sign-in code is unknown, used or expired")]
    CodeInvalid,
    #[error("the ID token carries no usable email in claim {0}")]
    EmailMissing(String),
    #[error("the provider does not vouch for this email and it is at none of the account's verified domains")]
    EmailNotTrusted,
    #[error("requiring single sign-on needs an enabled connection")]
    ConnectionRequired,
    #[error("requiring single sign-on needs a verified domain")]
    VerifiedDomainRequired,
    #[error("the break-glass user is not an owner of the account")]
    BreakGlassNotOwner,
    #[error("the owner role cannot be given by a provider")]
    OwnerNotMappable,
    #[error("a user with this email exists, and it is at none of the account's verified domains")]
    EmailInUse,
    #[error("cannot seal or open a stored secret")]
    Sealing,
    #[error(transparent)]
    Session(Box<SessionError>),
    #[error(transparent)]
    Shared(Shared),
}
family_error!(SsoError);

impl From<crate::auth::sealing::SealError> for SsoError {
    fn from(_: crate::auth::sealing::SealError) -> Self {
        SsoError::Sealing
    }
}

/// A connection as its managers write it; the client secret only when
/// given (an update without one keeps the stored secret).
pub struct ConnectionDraft {
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub scopes: Scopes,
    pub email_claim: ClaimName,
    pub groups_claim: Option<ClaimName>,
    pub mapping: RoleMapping,
    pub enabled: bool,
}

fn event(connection: &Connection, action: AuditAction) -> Event {
    Event::in_account(connection.account_id, action).target("sso_connection", connection.id, &connection.name)
}

/// The mapping gives only the account's roles, each one `by` may give
/// (no one gains through their provider what the connection's manager
/// could not grant by hand), and the account's groups.
fn check_mapping(conn: &mut DbConnection, ctx: &Ctx<'_>, by: &Grantor, mapping: &RoleMapping) -> Result<(), SsoError> {
    // Ownership is handed over by an owner, never by whoever the provider
    // puts in a group.
    if mapping.role_keys().contains(domain::role::BuiltInRole::Owner.key()) {
        return Err(SsoError::OwnerNotMappable);
    }
    let wanted: Vec<(String, Option<Uuid>)> =
        mapping.role_keys().into_iter().map(|key| (key.to_owned(), None)).collect();
    super::roles::grantable(conn, ctx, by, &wanted, "group_rules")?;
    for group in mapping.rules.iter().flat_map(|rule| &rule.groups) {
        groups::find(conn, by.account_id, *group)?.ok_or(Shared::UnknownGroup { field: "group_rules" })?;
    }
    Ok(())
}

fn fields<'a>(draft: &'a ConnectionDraft, sealed: &'a str) -> ConnectionFields<'a> {
    ConnectionFields {
        name: &draft.name,
        issuer: &draft.issuer,
        client_id: &draft.client_id,
        client_secret_sealed: sealed,
        scopes: draft.scopes.as_slice(),
        email_claim: draft.email_claim.as_str(),
        groups_claim: draft.groups_claim.as_ref().map(ClaimName::as_str),
        mapping: &draft.mapping,
        enabled: draft.enabled,
    }
}

fn described(event: Event, connection: &Connection) -> Event {
    event
        .set("name", &connection.name)
        .set("issuer", &connection.issuer)
        .set("client_id", &connection.client_id)
        .set("scopes", &connection.scopes)
        .set("enabled", connection.enabled)
}

pub fn create(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    by: &Grantor,
    draft: &ConnectionDraft,
) -> Result<Connection, SsoError> {
    let secret = draft.client_secret.as_deref().unwrap_or_default();
    let sealed = ctx.secrets.seal(secret)?;
    write_transaction(conn, |conn| {
        check_mapping(conn, ctx, by, &draft.mapping)?;
        let created = sso::insert(conn, by.account_id, &fields(draft, &sealed), ctx.now)?;
        ctx.record(conn, described(event(&created, AuditAction::SsoConnectionCreated), &created))?;
        Ok(created)
    })
}

pub fn update(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    by: &Grantor,
    id: Uuid,
    draft: &ConnectionDraft,
) -> Result<Connection, SsoError> {
    let new_secret = draft.client_secret.as_deref().map(|secret| ctx.secrets.seal(secret)).transpose()?;
    write_transaction(conn, |conn| {
        let before = sso::find(conn, by.account_id, id)?.ok_or(Shared::NotFound)?;
        check_mapping(conn, ctx, by, &draft.mapping)?;
        let sealed = new_secret.clone().unwrap_or_else(|| before.client_secret_sealed.clone());
        sso::update(conn, by.account_id, id, &fields(draft, &sealed), ctx.now)?;
        let after = sso::find(conn, by.account_id, id)?.ok_or(Shared::NotFound)?;
        let mut change = event(&after, AuditAction::SsoConnectionUpdated)
            .change("name", &before.name, &after.name)
            .change("issuer", &before.issuer, &after.issuer)
            .change("client_id", &before.client_id, &after.client_id)
            .change("scopes", &before.scopes, &after.scopes)
            .change("email_claim", &before.email_claim, &after.email_claim)
            .change("groups_claim", &before.groups_claim, &after.groups_claim)
            .change("group_rules", &before.mapping.rules, &after.mapping.rules)
            .change("default_roles", &before.mapping.default_roles, &after.mapping.default_roles)
            .change("enabled", before.enabled, after.enabled);
        if new_secret.is_some() {
            change = change.change("client_secret", "previous", "new");
        }
        ctx.record(conn, change)?;
        Ok(after)
    })
}

pub fn remove(conn: &mut DbConnection, ctx: &Ctx<'_>, account: Uuid, id: Uuid) -> Result<(), SsoError> {
    write_transaction(conn, |conn| {
        let connection = sso::find(conn, account, id)?.ok_or(Shared::NotFound)?;
        sso::delete(conn, account, id)?;
        ctx.record(conn, event(&connection, AuditAction::SsoConnectionDeleted).unset("name", &connection.name))?;
        Ok(())
    })
}

/// The connection a sign-in with `email` goes through: the enabled one
/// (the oldest, if several) of the account that verified the email's
/// domain.
pub fn connection_for_email(conn: &mut DbConnection, email: &Email) -> Result<Connection, SsoError> {
    let domain = EmailDomain::of(email).ok_or(SsoError::ConnectionNotFound)?;
    let account = domains::verified_by(conn, domain.as_str())?.ok_or(SsoError::ConnectionNotFound)?;
    let connections = sso::list(conn, account)?;
    if connections.is_empty() {
        return Err(SsoError::ConnectionNotFound);
    }
    connections.into_iter().find(|connection| connection.enabled).ok_or(SsoError::ConnectionDisabled)
}

/// The connection with this id, enabled.
pub fn enabled_connection(conn: &mut DbConnection, id: Uuid) -> Result<Connection, SsoError> {
    let connection = sso::find_any(conn, id)?.ok_or(SsoError::ConnectionNotFound)?;
    if !connection.enabled {
        return Err(SsoError::ConnectionDisabled);
    }
    Ok(connection)
}

/// The connection's client secret, opened.
pub fn client_secret(ctx: &Ctx<'_>, connection: &Connection) -> Result<String, SsoError> {
    Ok(ctx.secrets.open(&connection.client_secret_sealed)?)
}

/// Remembers a sign-in sent to the provider until it comes back, found by
/// its `state`.
pub fn remember_attempt(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    connection: Uuid,
    state: &str,
    nonce: &str,
    pkce_verifier: &str,
    redirect_uri: &str,
) -> Result<(), SsoError> {
    let attempt = Attempt {
        connection_id: connection,
        nonce: nonce.to_owned(),
        pkce_verifier_sealed: ctx.secrets.seal(pkce_verifier)?,
        redirect_uri: redirect_uri.to_owned(),
        expires_at: ctx.now + domain::sso::ATTEMPT_TTL,
    };
    sso::insert_attempt(conn, &secrets::digest(state), &attempt)?;
    Ok(())
}

/// A sign-in coming back from the provider: its attempt (used up now,
/// whatever follows), its connection (still enabled) and PKCE verifier.
pub fn take_attempt(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    state: &str,
) -> Result<(Attempt, Connection, String), SsoError> {
    let attempt = write_transaction(conn, |conn| {
        sso::take_attempt(conn, &secrets::digest(state), ctx.now)?.ok_or(SsoError::StateInvalid)
    })?;
    let connection = enabled_connection(conn, attempt.connection_id)?;
    let verifier = ctx.secrets.open(&attempt.pkce_verifier_sealed)?;
    Ok((attempt, connection, verifier))
}

/// Who the provider says signed in, from a validated ID token.
#[derive(Debug, Clone, Default)]
pub struct ProviderIdentity {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub groups: Vec<String>,
}

/// The Roster user `identity` is: linked before by the provider's subject,
/// or the user with the email the provider vouches for (or that is at a
/// domain the account verified), or a new user without a password.
fn user_of(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    connection: &Connection,
    identity: &ProviderIdentity,
) -> Result<persistence::users::User, SsoError> {
    if let Some(user) = sso::identity(conn, connection.id, &identity.subject)? {
        return users::find(conn, user)?.ok_or(SsoError::Shared(Shared::UserGone));
    }
    let email = identity
        .email
        .as_deref()
        .and_then(|raw| Email::parse(raw).ok())
        .ok_or_else(|| SsoError::EmailMissing(connection.email_claim.clone()))?;
    let verified = super::domains::verified(conn, connection.account_id)?;
    if !email_trusted(identity.email_verified, &email, &verified) {
        return Err(SsoError::EmailNotTrusted);
    }
    // Only a domain the account proved it controls lets its provider speak
    // for an existing user: any provider can claim `email_verified` for
    // anyone's address, and linking on that would hand the provider's
    // administrators the user's other accounts.
    let at_verified_domain = domain::email_domain::at_any(&verified, &email);
    if let Some(user) = users::find_by_email(conn, &email)? {
        return if at_verified_domain { Ok(user) } else { Err(SsoError::EmailInUse) };
    }
    let local = email.as_str().split('@').next().unwrap_or_default().to_owned();
    let name = |given: Option<&String>| {
        given.and_then(|raw| PersonName::parse(raw).ok()).or_else(|| PersonName::parse(&local).ok())
    };
    let (first, last) = (name(identity.given_name.as_ref()), name(identity.family_name.as_ref()));
    let (Some(first_name), Some(last_name)) = (first, last) else {
        return Err(SsoError::EmailMissing(connection.email_claim.clone()));
    };
    let new = NewUser {
        id: Uuid::now_v7(),
        email: &email,
        first_name: &first_name,
        last_name: &last_name,
        password_hash: None,
        // Verified for Roster only where the account controls the domain.
        email_verified: at_verified_domain,
        now: ctx.now,
    };
    let user = users::insert(conn, new)?;
    let registered = super::users::registered(&user).by(Actor::System).set("sso_connection_id", connection.id);
    ctx.record(conn, registered)?;
    Ok(user)
}

/// Completes a sign-in the provider vouched for: links or creates the
/// user, makes them a member of the connection's account with the mapped
/// roles and groups (or applies the mapping again), and hands out a
/// one-time code for the frontend. All in one transaction.
pub fn complete(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    connection: &Connection,
    identity: &ProviderIdentity,
) -> Result<OpaqueToken, SsoError> {
    write_transaction(conn, |conn| {
        let account = connection.account_id;
        let seats = Seats::hold(conn, ctx, account)?;
        let user = user_of(conn, ctx, connection, identity)?;
        sso::link_identity(conn, connection.id, &identity.subject, user.id, ctx.now)?;
        let mapped = connection.mapping.mapped(&identity.groups);
        let keys: Vec<&str> = mapped.roles.iter().map(String::as_str).collect();
        let roles: Vec<(Uuid, String)> =
            roles::list_visible_by_keys(conn, account, &keys)?.into_iter().map(|role| (role.id, role.key)).collect();
        let mut group_ids = Vec::new();
        for group in &mapped.groups {
            if groups::find(conn, account, *group)?.is_some() {
                group_ids.push(*group);
            }
        }
        let role_ids: Vec<Uuid> = roles.iter().map(|(id, _)| *id).collect();
        let membership = match memberships::find(conn, account, user.id)? {
            Some(membership) => membership.id,
            None => {
                seats.take_one(conn, ctx.now)?;
                let membership = memberships::admit(conn, account, user.id, &[], &[], ctx.now)?;
                let keys: Vec<&String> = roles.iter().map(|(_, key)| key).collect();
                let joined = Event::in_account(account, AuditAction::MemberJoined)
                    .by(Actor::System)
                    .target("user", user.id, &user.email)
                    .target("sso_connection", connection.id, &connection.name)
                    .set("roles", keys)
                    .set("groups", &group_ids);
                ctx.record(conn, joined)?;
                membership
            }
        };
        let change = sso::apply_mapped_roles(conn, membership, connection.id, &role_ids, ctx.now)?;
        for group in &group_ids {
            groups::add_member(conn, *group, membership, ctx.now)?;
        }
        if !change.added.is_empty() || !change.removed.is_empty() {
            let updated = Event::in_account(account, AuditAction::MemberRolesUpdated)
                .by(Actor::System)
                .target("user", user.id, &user.email)
                .target("sso_connection", connection.id, &connection.name)
                .set("added", &change.added)
                .set("removed", &change.removed);
            ctx.record(conn, updated)?;
        }
        let code = OpaqueToken::generate();
        sso::insert_grant(conn, &code.digest(), user.id, connection.id, ctx.now + domain::sso::GRANT_TTL)?;
        Ok(code)
    })
}

/// Where a sign-in through `connection` starts (add `redirect_uri`).
pub fn start_url(public_url: &str, connection: Uuid) -> String {
    format!("{public_url}/v1/sso/start?connection={connection}")
}

/// Sets whether the account requires its people to sign in through its
/// provider. Requiring it needs an enabled connection, a verified domain
/// and an owner who keeps password access (break-glass): the one named,
/// or the caller.
pub fn set_policy(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    by: &Grantor,
    wanted: SsoPolicy,
) -> Result<SsoPolicy, SsoError> {
    let account = by.account_id;
    write_transaction(conn, |conn| {
        let before = sso::policy(conn, account)?.ok_or(Shared::NotFound)?;
        let mut policy = wanted;
        if policy.required {
            if !sso::list(conn, account)?.iter().any(|connection| connection.enabled) {
                return Err(SsoError::ConnectionRequired);
            }
            if domains::verified_names(conn, account)?.is_empty() {
                return Err(SsoError::VerifiedDomainRequired);
            }
            policy.break_glass_owner = Some(policy.break_glass_owner.unwrap_or(by.user_id));
        }
        if let Some(owner) = policy.break_glass_owner
            && !memberships::find(conn, account, owner)?.is_some_and(|held| held.is_owner())
        {
            return Err(SsoError::BreakGlassNotOwner);
        }
        sso::set_policy(conn, account, &policy, ctx.now)?;
        let event = Event::in_account(account, AuditAction::AccountSsoPolicyUpdated)
            .target("account", account, "single sign-on policy")
            .change("sso_required", before.required, policy.required)
            .change("break_glass_owner_id", before.break_glass_owner, policy.break_glass_owner);
        ctx.record(conn, event)?;
        Ok(policy)
    })
}

/// The account that requires `user` to sign in through its identity
/// provider, in a session signed in through the connection `through` (if
/// any), with the connection to use: the account that verified their
/// email's domain, when it requires single sign-on, they are its member,
/// not its break-glass owner, and the session did not come through one of
/// its connections. None while the account has no enabled connection.
pub fn required_of(
    conn: &mut DbConnection,
    user: &persistence::users::User,
    through: Option<Uuid>,
) -> Result<Option<SsoRequired>, StoreError> {
    let Some(domain) = Email::parse(&user.email).ok().as_ref().and_then(EmailDomain::of) else { return Ok(None) };
    let Some(account) = domains::verified_by(conn, domain.as_str())? else { return Ok(None) };
    let policy = sso::policy(conn, account)?.unwrap_or_default();
    if !policy.required {
        return Ok(None);
    }
    let Some(membership) = memberships::find(conn, account, user.id)? else { return Ok(None) };
    let connections = sso::list(conn, account)?;
    let Some(to_use) = connections.iter().find(|connection| connection.enabled) else { return Ok(None) };
    let break_glass_is_owner = match policy.break_glass_owner {
        Some(named) if named == user.id => membership.is_owner(),
        Some(named) => memberships::find(conn, account, named)?.is_some_and(|held| held.is_owner()),
        None => false,
    };
    let access = PasswordAccess {
        at_verified_domain: true,
        is_owner: membership.is_owner(),
        break_glass_is_owner,
        through_account_sso: through.is_some_and(|id| connections.iter().any(|connection| connection.id == id)),
    };
    Ok((!policy.allows(user.id, access)).then_some(SsoRequired { account, connection: to_use.id }))
}

/// Exchanges the one-time code for a session, which counts as signed in
/// through the connection.
pub fn redeem(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    policy: &SessionPolicy<'_>,
    code: &str,
) -> Result<Session, SsoError> {
    write_transaction(conn, |conn| {
        let (user, connection) =
            sso::take_grant(conn, &secrets::digest(code), ctx.now)?.ok_or(SsoError::CodeInvalid)?;
        sessions::start_through(conn, ctx, policy, user, Some(connection)).map_err(|e| SsoError::Session(Box::new(e)))
    })
}
