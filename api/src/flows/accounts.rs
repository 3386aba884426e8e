//! Company accounts: creating one (its creator becomes the owner),
//! renaming it, its invitation preferences and how its emails speak.

use domain::AccountName;
use domain::audit::AuditAction;
use domain::invitation::{EmailPolicy, InvitationPreferences, InvitationTtl, ReminderSchedule};
use persistence::accounts::{self, Account, EmailSettings};
use persistence::erasure::Step;
use persistence::{DbConnection, StoreError, write_transaction};
use uuid::Uuid;

use super::audit::Event;
use super::{Ctx, Grantor, Precondition, Shared, check_precondition, entity_tag, family_error};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Precondition(#[from] Precondition),
    /// The deployment's plans file declares no such plan; these it does.
    #[error("no plan {key:?}")]
    UnknownPlan { key: String, known: Vec<String> },
    /// Deleting needs the account's name repeated, exactly.
    #[error("the name given does not match the account's")]
    NameMismatch,
    /// The account waits for its deletion already.
    #[error("the account is pending deletion")]
    PendingDeletion,
    /// Restoring an account whose deletion is not waiting.
    #[error("the account is not pending deletion")]
    NotPendingDeletion,
    #[error(transparent)]
    Shared(Shared),
}
family_error!(AccountError);

/// Creates an account owned by `owner`, on `plan`.
pub fn create(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    owner: Uuid,
    name: &AccountName,
    plan: &str,
) -> Result<Account, AccountError> {
    write_transaction(conn, |conn| {
        // The token outlives nothing it names: a user deleted since it was
        // issued is signed out, not a foreign-key failure.
        let account = accounts::create_with_owner(conn, name, plan, owner, ctx.now).map_err(|error| match error {
            StoreError::MissingReference => AccountError::Shared(Shared::UserGone),
            other => other.into(),
        })?;
        let event = Event::in_account(account.id, AuditAction::AccountCreated)
            .target("account", account.id, &account.name)
            .set("name", &account.name)
            .set("owner", owner)
            .set("plan", plan);
        ctx.record(conn, event)?;
        Ok(account)
    })
}

/// The version of an account for `ETag`/`If-Match`.
pub fn account_tag(account: &Account) -> String {
    entity_tag(&format!("{}\n{}", account.name, account.updated_at))
}

/// The version of an account's invitation preferences.
pub fn preferences_tag(preferences: &InvitationPreferences) -> String {
    entity_tag(&format!(
        "{}\n{:?}\n{}\n{}",
        preferences.ttl.days(),
        preferences.reminders.days(),
        preferences.email_policy.key(),
        preferences.restricted_to_domains
    ))
}

/// Renames the account, if `if_match` names its current version.
pub fn rename(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    name: &AccountName,
    if_match: Option<&str>,
) -> Result<Account, AccountError> {
    write_transaction(conn, |conn| {
        accounts::lock(conn, account)?;
        let before = accounts::find(conn, account)?.ok_or(AccountError::Shared(Shared::NotFound))?;
        check_precondition(if_match, &account_tag(&before))?;
        let renamed = accounts::rename(conn, account, name, ctx.now)?.ok_or(AccountError::Shared(Shared::NotFound))?;
        let event = Event::in_account(account, AuditAction::AccountRenamed)
            .target("account", account, &renamed.name)
            .change("name", &before.name, &renamed.name);
        ctx.record(conn, event)?;
        Ok(renamed)
    })
}

/// The version of an account's email settings.
pub fn email_settings_tag(settings: &EmailSettings) -> String {
    entity_tag(&format!("{:?}\n{:?}\n{:?}", settings.display_name, settings.invitation_message, settings.locale))
}

/// A change of email settings: `None` keeps a value, `Some(None)` clears it.
#[derive(Debug, Default)]
pub struct EmailSettingsChange {
    pub display_name: Option<Option<AccountName>>,
    pub invitation_message: Option<Option<domain::InvitationMessage>>,
    pub locale: Option<Option<domain::Locale>>,
}

/// Changes how the account's emails speak, if `if_match` names the
/// settings' current version.
pub fn update_email_settings(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    change: EmailSettingsChange,
    if_match: Option<&str>,
) -> Result<EmailSettings, AccountError> {
    write_transaction(conn, |conn| {
        accounts::lock(conn, account)?;
        let before = accounts::find(conn, account)?.ok_or(AccountError::Shared(Shared::NotFound))?.emails;
        check_precondition(if_match, &email_settings_tag(&before))?;
        let after = EmailSettings {
            display_name: change
                .display_name
                .map_or_else(|| before.display_name.clone(), |name| name.map(|name| name.as_str().to_owned())),
            invitation_message: change
                .invitation_message
                .map_or_else(|| before.invitation_message.clone(), |message| message.map(|m| m.into_inner())),
            locale: change.locale.map_or_else(|| before.locale.clone(), |locale| locale.map(|l| l.to_string())),
        };
        accounts::set_email_settings(conn, account, &after, ctx.now)?;
        let event = Event::in_account(account, AuditAction::AccountEmailSettingsUpdated)
            .target("account", account, "email settings")
            .change("display_name", &before.display_name, &after.display_name)
            .change("invitation_message", &before.invitation_message, &after.invitation_message)
            .change("locale", &before.locale, &after.locale);
        ctx.record(conn, event)?;
        Ok(after)
    })
}

/// A change of invitation preferences: `None` keeps the current value.
#[derive(Debug, Default)]
pub struct PreferencesChange {
    pub ttl: Option<InvitationTtl>,
    pub reminders: Option<ReminderSchedule>,
    pub email_policy: Option<EmailPolicy>,
    pub restricted_to_domains: Option<bool>,
}

/// Changes the invitation preferences, if `if_match` names their current
/// version.
pub fn update_preferences(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    change: PreferencesChange,
    if_match: Option<&str>,
) -> Result<InvitationPreferences, AccountError> {
    write_transaction(conn, |conn| {
        accounts::lock(conn, account)?;
        let before = accounts::invitation_preferences(conn, account)?.ok_or(AccountError::Shared(Shared::NotFound))?;
        check_precondition(if_match, &preferences_tag(&before))?;
        let mut preferences = before.clone();
        preferences.ttl = change.ttl.unwrap_or(preferences.ttl);
        preferences.reminders = change.reminders.unwrap_or(preferences.reminders);
        preferences.email_policy = change.email_policy.unwrap_or(preferences.email_policy);
        preferences.restricted_to_domains = change.restricted_to_domains.unwrap_or(preferences.restricted_to_domains);
        accounts::set_invitation_preferences(conn, account, &preferences, ctx.now)?;
        let event = Event::in_account(account, AuditAction::AccountPreferencesUpdated)
            .target("account", account, "preferences")
            .change("invitation_ttl_days", before.ttl.days(), preferences.ttl.days())
            .change("reminder_days", before.reminders.days(), preferences.reminders.days())
            .change("invitation_email_policy", before.email_policy.key(), preferences.email_policy.key())
            .change(
                "invitations_restricted_to_domains",
                before.restricted_to_domains,
                preferences.restricted_to_domains,
            );
        ctx.record(conn, event)?;
        Ok(preferences)
    })
}

/// Puts an account on a plan of the deployment; nothing else changes (a
/// downgrade removes nobody, it only refuses new seats and features).
pub fn set_plan(conn: &mut DbConnection, ctx: &Ctx<'_>, account: Uuid, plan: &str) -> Result<(), AccountError> {
    if ctx.plans.find(plan).is_none() {
        let known = ctx.plans.all().iter().map(|plan| plan.key.clone()).collect();
        return Err(AccountError::UnknownPlan { key: plan.to_owned(), known });
    }
    write_transaction(conn, |conn| {
        let before = accounts::plan_of(conn, account)?.ok_or(Shared::NotFound)?;
        accounts::set_plan(conn, account, plan, ctx.now)?;
        let event = Event::in_account(account, AuditAction::AccountPlanChanged)
            .target("account", account, "")
            .change("plan", before, plan);
        ctx.record(conn, event)?;
        Ok(())
    })
}

/// Deletes the account, if `confirm_name` is its name: it waits out the
/// deployment's grace period (nothing in it changes; its links, keys and
/// webhooks stop), restorable by an owner, and every member is told.
pub fn request_deletion(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    by: &Grantor,
    confirm_name: &str,
) -> Result<accounts::PendingDeletion, AccountError> {
    write_transaction(conn, |conn| {
        let account = by.account_id;
        accounts::lock(conn, account)?;
        let found = accounts::find(conn, account)?.ok_or(AccountError::Shared(Shared::NotFound))?;
        if confirm_name.trim() != found.name {
            return Err(AccountError::NameMismatch);
        }
        let erase_after = ctx.now + ctx.deletion_grace;
        if !accounts::request_deletion(conn, account, by.user_id, ctx.now, erase_after)? {
            return Err(AccountError::PendingDeletion);
        }
        let event = Event::in_account(account, AuditAction::AccountDeletionRequested)
            .target("account", account, &found.name)
            .set("erase_after", erase_after);
        ctx.record(conn, event)?;
        let said = crate::email::kinds::AccountDeletion {
            account_name: found.name_in_emails().to_owned(),
            deleted_by: super::notifications::name_of_user(conn, by.user_id)?,
            erase_after,
            account_url: ctx.link(&format!("/v1/accounts/{account}")),
        };
        super::notifications::tell_every_member(conn, ctx, account, |recipient| {
            crate::email::Message::AccountDeletionScheduled(said.clone()).to(recipient)
        })?;
        accounts::pending_deletion(conn, account)?.ok_or(AccountError::Shared(Shared::NotFound))
    })
}

/// Calls the account's deletion off while it waits: everything in it works
/// again, and every member is told.
pub fn restore(conn: &mut DbConnection, ctx: &Ctx<'_>, by: &Grantor) -> Result<Account, AccountError> {
    write_transaction(conn, |conn| {
        let account = by.account_id;
        accounts::lock(conn, account)?;
        let waited = accounts::pending_deletion(conn, account)?.ok_or(AccountError::NotPendingDeletion)?;
        if !accounts::restore(conn, account)? {
            return Err(AccountError::NotPendingDeletion);
        }
        let found = accounts::find(conn, account)?.ok_or(AccountError::Shared(Shared::NotFound))?;
        let event = Event::in_account(account, AuditAction::AccountRestored)
            .target("account", account, &found.name)
            .unset("erase_after", waited.erase_after);
        ctx.record(conn, event)?;
        let said = crate::email::kinds::AccountRestored {
            account_name: found.name_in_emails().to_owned(),
            restored_by: super::notifications::name_of_user(conn, by.user_id)?,
            account_url: ctx.link(&format!("/v1/accounts/{account}")),
        };
        super::notifications::tell_every_member(conn, ctx, account, |recipient| {
            crate::email::Message::AccountRestored(said.clone()).to(recipient)
        })?;
        Ok(found)
    })
}

/// Rows erased per transaction: a crash loses at most this much work.
pub const ERASE_BATCH: i64 = 500;

/// Erases the accounts whose grace period ended, a batch per transaction:
/// their links first (recorded in the other accounts), then their rows,
/// then the account, whose sealed audit log records the erasure last.
/// Returns how many accounts were erased.
pub fn erase_due(conn: &mut DbConnection, ctx: &Ctx<'_>) -> Result<usize, StoreError> {
    let due = accounts::due_for_erasure(conn, ctx.now, 100)?;
    for account in &due {
        write_transaction(conn, |conn| super::links::unlink_all(conn, ctx, *account))?;
        let mut erased = 0;
        while let Step::Erased(rows) = persistence::erasure::erase_step(conn, *account, ERASE_BATCH)? {
            erased += rows;
        }
        // The account goes with the record of its going, or neither does.
        write_transaction(conn, |conn| {
            if persistence::erasure::erase_account(conn, *account)? {
                let event = Event::in_account(*account, AuditAction::AccountErased)
                    .by(super::Actor::System)
                    .target("account", *account, "erased account")
                    .set("rows_erased_last_run", erased);
                ctx.record(conn, event)?;
            }
            Ok::<(), StoreError>(())
        })?;
        tracing::info!(%account, rows = erased, "account erased");
    }
    Ok(due.len())
}
