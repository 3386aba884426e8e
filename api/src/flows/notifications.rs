//! Emails a member may turn off. Every such email is queued here: the
//! recipients' choices (or their account's defaults) are applied when it is
//! queued, and each copy carries its own signed one-click link (RFC 8058)
//! that turns that one topic off for that one member.

use domain::HeldRole;
use domain::audit::AuditAction;
use domain::notification::{self, Choices, Topic};
use persistence::notifications::{self as store, Recipient};
use persistence::{DbConnection, StoreError, accounts, write_transaction};
use uuid::Uuid;

use super::audit::Event;
use super::{Ctx, Precondition, Shared, check_precondition, entity_tag, family_error};
use crate::email::{self, OutgoingEmail};

#[derive(Debug, thiserror::Error)]
pub enum NotificationError {
    /// The unsubscribe link was altered, or its membership has ended.
    #[error("the unsubscribe link is invalid")]
    LinkInvalid,
    #[error(transparent)]
    Precondition(#[from] Precondition),
    #[error(transparent)]
    Shared(Shared),
}
family_error!(NotificationError);

/// Queues `build`'s email to each member holding (account-wide) a role
/// `keep` accepts, unless they turned `topic` off.
pub(crate) fn notify_holders(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    topic: Topic,
    keep: impl Fn(&HeldRole) -> bool,
    build: impl Fn(&str) -> OutgoingEmail,
) -> Result<(), StoreError> {
    let roles: Vec<Uuid> = persistence::roles::list_visible(conn, account)?
        .into_iter()
        .filter(|role| keep(&role.held(None)))
        .map(|role| role.id)
        .collect();
    let recipients = store::holding(conn, account, &roles)?;
    notify(conn, ctx, account, topic, recipients, build)
}

/// Queues `build`'s email to every member of the account, whatever they
/// chose: what no member may turn off (the account is to be deleted).
pub(crate) fn tell_every_member(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    build: impl Fn(&str) -> OutgoingEmail,
) -> Result<(), StoreError> {
    let language = persistence::accounts::find(conn, account)?.and_then(|found| found.emails.locale);
    let emails: Vec<OutgoingEmail> = store::every_member(conn, account)?
        .iter()
        .map(|recipient| build(&recipient.email).in_locale(language.as_deref()))
        .collect();
    email::enqueue_many(conn, &emails, ctx.now)
}

/// How emails name user `id`: their name, else their email.
pub(crate) fn name_of_user(conn: &mut DbConnection, id: Uuid) -> Result<String, StoreError> {
    Ok(persistence::users::find(conn, id)?.map(|user| super::audit::user_name(&user)).unwrap_or_default())
}

/// Account `id`'s name as its emails give it (empty when it is gone).
pub(crate) fn name_in_emails(conn: &mut DbConnection, id: Uuid) -> Result<String, StoreError> {
    Ok(persistence::accounts::find(conn, id)?.map(|found| found.name_in_emails().to_owned()).unwrap_or_default())
}

/// Owners and administrators: who hears of security notices.
pub(crate) fn administers(role: &HeldRole) -> bool {
    matches!(role.kind, domain::RoleKind::BuiltIn(domain::BuiltInRole::Owner | domain::BuiltInRole::Administrator))
}

/// Queues `build`'s email to each of `users` who is a member and did not
/// turn `topic` off.
pub(crate) fn notify_members(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    users: &[Uuid],
    topic: Topic,
    build: impl Fn(&str) -> OutgoingEmail,
) -> Result<(), StoreError> {
    let recipients = store::members(conn, account, users)?;
    notify(conn, ctx, account, topic, recipients, build)
}

/// Queues `build`'s email to `recipient`, a membership the flow has just
/// made, unless the account turned `topic` off.
pub(crate) fn notify_new_member(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    recipient: store::Recipient,
    topic: Topic,
    build: impl Fn(&str) -> OutgoingEmail,
) -> Result<(), StoreError> {
    notify(conn, ctx, account, topic, vec![recipient], build)
}

fn notify(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    topic: Topic,
    recipients: Vec<Recipient>,
    build: impl Fn(&str) -> OutgoingEmail,
) -> Result<(), StoreError> {
    if recipients.is_empty() {
        return Ok(());
    }
    let defaults = store::account_defaults(conn, account)?;
    // Members who chose no language read the account's.
    let language = persistence::accounts::find(conn, account)?.and_then(|found| found.emails.locale);
    let ids: Vec<Uuid> = recipients.iter().map(|r| r.membership_id).collect();
    let chosen = store::member_choices(conn, &ids)?;
    let none = Choices::new();
    let mut emails = Vec::with_capacity(recipients.len());
    for recipient in recipients {
        if notification::wants(topic, chosen.get(&recipient.membership_id).unwrap_or(&none), &defaults) {
            let mut email = build(&recipient.email);
            email.unsubscribe_url = Some(unsubscribe_url(ctx, recipient.membership_id, topic)?);
            email.locale = email.locale.or_else(|| language.clone());
            emails.push(email);
        }
    }
    email::enqueue_many(conn, &emails, ctx.now)
}

/// The one-click link that turns `topic` off for one membership: the pair
/// sealed under the deployment's secrets key, so it can be neither read
/// nor altered nor made up.
fn unsubscribe_url(ctx: &Ctx<'_>, membership: Uuid, topic: Topic) -> Result<String, StoreError> {
    let token = ctx
        .secrets
        .seal_for_link(&format!("{membership}:{}", topic.key()))
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(ctx.link(&format!("/v1/notification-preferences/unsubscribe?token={token}")))
}

/// What a member gets in one account: every topic resolved.
pub fn of_member(conn: &mut DbConnection, account: Uuid, user: Uuid) -> Result<Choices, NotificationError> {
    let member = store::member(conn, account, user)?.ok_or(NotificationError::Shared(Shared::NotFound))?;
    Ok(resolved_for(conn, account, &member)?)
}

fn resolved_for(conn: &mut DbConnection, account: Uuid, member: &Recipient) -> Result<Choices, StoreError> {
    let defaults = store::account_defaults(conn, account)?;
    let mut chosen = store::member_choices(conn, &[member.membership_id])?;
    Ok(notification::resolved(&chosen.remove(&member.membership_id).unwrap_or_default(), &defaults))
}

/// A member changes what they get; topics not named keep their value.
pub fn update_member(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    user: Uuid,
    change: &Choices,
) -> Result<Choices, NotificationError> {
    write_transaction(conn, |conn| {
        let member = store::member(conn, account, user)?.ok_or(NotificationError::Shared(Shared::NotFound))?;
        choose(conn, ctx, account, &member, change)?;
        Ok(resolved_for(conn, account, &member)?)
    })
}

fn choose(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    member: &Recipient,
    change: &Choices,
) -> Result<(), NotificationError> {
    let before = resolved_for(conn, account, member)?;
    store::set_member_choices(conn, member.membership_id, change, ctx.now)?;
    let mut event = Event::in_account(account, AuditAction::MemberNotificationPreferencesUpdated).target(
        "user",
        member.user_id,
        &member.email,
    );
    for (topic, enabled) in change {
        event = event.change(topic.key(), before[topic], enabled);
    }
    ctx.record(conn, event)?;
    Ok(())
}

/// The account's defaults, every topic filled in.
pub fn account_defaults(conn: &mut DbConnection, account: Uuid) -> Result<Choices, NotificationError> {
    accounts::find(conn, account)?.ok_or(NotificationError::Shared(Shared::NotFound))?;
    Ok(notification::defaults(&store::account_defaults(conn, account)?))
}

/// The version of an account's defaults for `ETag`/`If-Match`.
pub fn defaults_tag(defaults: &Choices) -> String {
    let canonical: Vec<String> = defaults.iter().map(|(topic, on)| format!("{}={on}", topic.key())).collect();
    entity_tag(&canonical.join("\n"))
}

/// Administrators change the defaults of members who never chose, if
/// `if_match` names the current version; topics not named keep theirs.
pub fn update_defaults(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    change: &Choices,
    if_match: Option<&str>,
) -> Result<Choices, NotificationError> {
    write_transaction(conn, |conn| {
        accounts::lock(conn, account)?;
        let before = account_defaults(conn, account)?;
        check_precondition(if_match, &defaults_tag(&before))?;
        store::set_account_defaults(conn, account, change, ctx.now)?;
        let mut event = Event::in_account(account, AuditAction::AccountNotificationDefaultsUpdated).target(
            "account",
            account,
            "notification defaults",
        );
        for (topic, enabled) in change {
            event = event.change(topic.key(), before[topic], enabled);
        }
        ctx.record(conn, event)?;
        account_defaults(conn, account)
    })
}

/// What a one-click link turned off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribed {
    pub account_id: Uuid,
    pub topic: Topic,
}

/// Follows a one-click link: its topic is off for its member from now on.
/// Following it again changes nothing.
pub fn unsubscribe(conn: &mut DbConnection, ctx: &Ctx<'_>, token: &str) -> Result<Unsubscribed, NotificationError> {
    let opened = ctx.secrets.open_from_link(token).map_err(|_| NotificationError::LinkInvalid)?;
    let (membership, topic) = opened.split_once(':').ok_or(NotificationError::LinkInvalid)?;
    let membership = Uuid::parse_str(membership).map_err(|_| NotificationError::LinkInvalid)?;
    let topic = Topic::parse(topic).map_err(|_| NotificationError::LinkInvalid)?;
    write_transaction(conn, |conn| {
        let (account, member) = store::membership(conn, membership)?.ok_or(NotificationError::LinkInvalid)?;
        if resolved_for(conn, account, &member)?[&topic] {
            // Recorded as anonymous: whoever holds the email may follow it.
            choose(conn, ctx, account, &member, &Choices::from([(topic, false)]))?;
        }
        Ok(Unsubscribed { account_id: account, topic })
    })
}
