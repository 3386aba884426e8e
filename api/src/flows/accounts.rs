//! Company accounts: creating one (its creator becomes the owner),
//! renaming it, its invitation preferences and how its emails speak.

use domain::AccountName;
use domain::audit::AuditAction;
use domain::invitation::{EmailPolicy, InvitationPreferences, InvitationTtl, ReminderSchedule};
use persistence::accounts::{self, Account, EmailSettings};
use persistence::{DbConnection, StoreError, write_transaction};
use uuid::Uuid;

use super::audit::Event;
use super::{Ctx, Precondition, Shared, check_precondition, entity_tag, family_error};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Precondition(#[from] Precondition),
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
