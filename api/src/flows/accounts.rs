//! Company accounts: creating one (its creator becomes the owner),
//! renaming it and its invitation preferences.

use domain::AccountName;
use domain::audit::AuditAction;
use domain::invitation::{EmailPolicy, InvitationPreferences, InvitationTtl, ReminderSchedule};
use persistence::accounts::{self, Account};
use persistence::{DbConnection, StoreError, write_transaction};
use uuid::Uuid;

use super::audit::Event;
use super::{Ctx, Shared, family_error};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The deployment's plans file declares no such plan; these it does.
    #[error("no plan {key:?}")]
    UnknownPlan { key: String, known: Vec<String> },
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

pub fn rename(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    name: &AccountName,
) -> Result<Account, AccountError> {
    write_transaction(conn, |conn| {
        let before = accounts::find(conn, account)?.ok_or(AccountError::Shared(Shared::NotFound))?;
        let renamed = accounts::rename(conn, account, name, ctx.now)?.ok_or(AccountError::Shared(Shared::NotFound))?;
        let event = Event::in_account(account, AuditAction::AccountRenamed)
            .target("account", account, &renamed.name)
            .change("name", &before.name, &renamed.name);
        ctx.record(conn, event)?;
        Ok(renamed)
    })
}

/// A change of invitation preferences: `None` keeps the current value.
#[derive(Debug, Default)]
pub struct PreferencesChange {
    pub ttl: Option<InvitationTtl>,
    pub reminders: Option<ReminderSchedule>,
    pub email_policy: Option<EmailPolicy>,
}

pub fn update_preferences(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    change: PreferencesChange,
) -> Result<InvitationPreferences, AccountError> {
    write_transaction(conn, |conn| {
        let before = accounts::invitation_preferences(conn, account)?.ok_or(AccountError::Shared(Shared::NotFound))?;
        let mut preferences = before.clone();
        preferences.ttl = change.ttl.unwrap_or(preferences.ttl);
        preferences.reminders = change.reminders.unwrap_or(preferences.reminders);
        preferences.email_policy = change.email_policy.unwrap_or(preferences.email_policy);
        accounts::set_invitation_preferences(conn, account, &preferences, ctx.now)?;
        let event = Event::in_account(account, AuditAction::AccountPreferencesUpdated)
            .target("account", account, "preferences")
            .change("invitation_ttl_days", before.ttl.days(), preferences.ttl.days())
            .change("reminder_days", before.reminders.days(), preferences.reminders.days())
            .change("invitation_email_policy", before.email_policy.key(), preferences.email_policy.key());
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
