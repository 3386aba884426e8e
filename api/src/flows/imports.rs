//! Spreadsheet import flows: recording an upload, and the background job's
//! batch, which decides each row against the account as it is when the row
//! is processed and writes the invitations, their emails and the rows'
//! results in one transaction (see `persistence::imports` for why that makes
//! each row happen exactly once).

use std::collections::{HashMap, HashSet};

use domain::audit::AuditAction;
use domain::email_domain::{EmailDomain, outside_allowed_domains};
use domain::import::{FileRefused, ImportRow, RowOutcome, RowProblem, RowRequest, outcome_of};
use domain::invitation::{EmailPolicy, InvitationClock, InvitationPreferences};
use domain::membership::{Admission, Candidate, check_admission};
use domain::{Catalogue, HeldRole, Permission, check_grant, check_role_count};
use persistence::imports::{self, Import, ImportStatus, PendingRow, RowResult};
use persistence::invitations::{self, InvitedRole, NewInvitation};
use persistence::roles::{self, Role};
use persistence::{DbConnection, StoreError, accounts, groups, memberships, users, write_transaction};
use uuid::Uuid;

use super::audit::Event;
use super::invitations::{accept_url, sender_verified};
use super::notifications::notify_members;
use super::seats::Seats;
use super::{Actor, Ctx, Shared, family_error};
use crate::auth::secrets::OpaqueToken;
use crate::email::Message;
use crate::email::kinds::{ImportFailure, ImportReport, Invitation};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    File(#[from] FileRefused),
    #[error("the uploader's email is not verified")]
    SenderUnverified,
    /// A pending invitation appeared after the batch read them: the batch
    /// is undone and runs again.
    #[error("an invitation was created concurrently; the batch runs again")]
    ConcurrentInvitation,
    /// The account waits for its deletion: the import waits with it.
    #[error("the account is pending deletion; the import waits")]
    AccountPendingDeletion,
    #[error(transparent)]
    Shared(Shared),
}
family_error!(ImportError);

/// Rows per transaction: large enough that the fixed cost of a batch (a
/// dozen queries) is spread thin, small enough that SQLite's single writer
/// is never held for long.
pub const BATCH_ROWS: i64 = 500;

/// Records an uploaded file's rows for the import job. Sending invitations
/// needs a verified email, as a batch does.
pub fn upload(
    conn: &mut DbConnection,
    ctx: &Ctx<'_>,
    account: Uuid,
    uploader: Uuid,
    file_name: Option<&str>,
    file: &[u8],
) -> Result<Import, ImportError> {
    write_transaction(conn, |conn| {
        if !sender_verified(conn, ctx, uploader)? {
            return Err(ImportError::SenderUnverified);
        }
        let rows: Vec<ImportRow> = domain::import::read_file(file)?;
        let import = imports::create(conn, account, uploader, file_name, &rows, ctx.now)?;
        let job = serde_json::json!({ "import_id": import.id }).to_string();
        persistence::jobs::enqueue_once(conn, &job_id(import.id), JOB_KIND, &job, ctx.now)?;
        let event = Event::in_account(account, AuditAction::ImportCreated)
            .target("import", import.id, file_name.unwrap_or("spreadsheet"))
            .set("rows", import.counts.total)
            .set("file_name", file_name);
        ctx.record(conn, event)?;
        Ok(import)
    })
}

/// The job kind that processes an import, batch by batch.
pub const JOB_KIND: &str = "import";

/// One job per import.
fn job_id(import: Uuid) -> String {
    format!("import:{import}")
}

fn report_url(ctx: &Ctx<'_>, import: &Import) -> String {
    ctx.link(&format!("/v1/accounts/{}/invitation-imports/{}/report", import.account_id, import.id))
}

/// What a batch's rows are judged against, read once per batch.
struct Account {
    name: String,
    /// How its emails speak: the name they give it, its invitation message
    /// and language.
    emails: accounts::EmailSettings,
    preferences: InvitationPreferences,
    /// Its verified domains, when it invites only emails at them.
    verified_domains: Vec<EmailDomain>,
    roles: HashMap<String, Role>,
    groups: HashMap<String, Uuid>,
    /// The roles each group gives its members (role, held inside it).
    group_roles: HashMap<Uuid, Vec<(Uuid, bool)>>,
}

/// Who uploaded, and what they may hand out.
struct Uploader {
    name: String,
    /// `None` when they no longer may import into the account.
    roles: Option<Vec<HeldRole>>,
}

/// The people of a batch the account already knows.
struct Known {
    members: HashSet<String>,
    invited: HashSet<String>,
    users: HashSet<String>,
}

/// What an invitable row offers.
struct Offer {
    assignments: Vec<InvitedRole>,
    groups: Vec<Uuid>,
}

fn grant(
    catalogue: &Catalogue,
    holder: &[HeldRole],
    account: &Account,
    key: &str,
    group: Option<Uuid>,
) -> Result<InvitedRole, RowProblem> {
    let role = account.roles.get(key).ok_or_else(|| RowProblem::UnknownRole(key.to_owned()))?;
    let offered = catalogue.role_permissions(&role.held(group));
    check_grant(&catalogue.effective(holder, group), &offered)
        .map_err(|refused| RowProblem::RoleNotGrantable { role: key.to_owned(), permission: refused.permission })?;
    Ok(InvitedRole { role_id: role.id, role_key: role.key.clone(), group_id: group })
}

/// Putting someone in `group` gives them its roles: the uploader must be
/// able to give those too.
fn check_group_gives(
    catalogue: &Catalogue,
    holder: &[HeldRole],
    account: &Account,
    group: Uuid,
) -> Result<(), RowProblem> {
    for (role_id, in_group) in account.group_roles.get(&group).into_iter().flatten() {
        let Some(role) = account.roles.values().find(|role| role.id == *role_id) else { continue };
        grant(catalogue, holder, account, &role.key, in_group.then_some(group))?;
    }
    Ok(())
}

/// Decides one row that passed the upload checks.
fn judge(
    catalogue: &Catalogue,
    account: &Account,
    uploader: &Uploader,
    known: &Known,
    request: &RowRequest,
) -> Result<Offer, RowProblem> {
    let holder = uploader.roles.as_deref().ok_or(RowProblem::UploaderLostAccess)?;
    let email = request.email.as_str();
    let candidate = Candidate {
        is_member: known.members.contains(email),
        has_pending_invitation: known.invited.contains(email),
        has_user: known.users.contains(email),
        outside_allowed_domains: outside_allowed_domains(
            account.preferences.restricted_to_domains,
            &request.email,
            &account.verified_domains,
        ),
    };
    check_admission(&candidate, Admission::Invitation(account.preferences.email_policy))?;
    let mut offer = Offer { assignments: Vec::new(), groups: Vec::new() };
    for key in &request.roles {
        offer.assignments.push(grant(catalogue, holder, account, key, None)?);
    }
    for entry in &request.groups {
        let group = *account
            .groups
            .get(&entry.name.to_lowercase())
            .ok_or_else(|| RowProblem::UnknownGroup(entry.name.clone()))?;
        check_group_gives(catalogue, holder, account, group)?;
        match &entry.role {
            Some(key) => offer.assignments.push(grant(catalogue, holder, account, key, Some(group))?),
            None => offer.groups.push(group),
        }
    }
    check_role_count(offer.assignments.len()).map_err(|_| RowProblem::TooManyRoles)?;
    Ok(offer)
}

fn result_of(row: &PendingRow, problem: &RowProblem) -> RowResult {
    RowResult {
        number: row.number,
        email: row.cells.email.clone(),
        outcome: problem.outcome(),
        code: problem.code().to_owned(),
        message: problem.to_string(),
        invitation_id: None,
    }
}

fn load_account(conn: &mut DbConnection, id: Uuid) -> Result<Account, ImportError> {
    let found = accounts::find(conn, id)?.ok_or(ImportError::Shared(Shared::NotFound))?;
    let name = found.name_in_emails().to_owned();
    let preferences = accounts::invitation_preferences(conn, id)?.ok_or(ImportError::Shared(Shared::NotFound))?;
    let roles = roles::list_visible(conn, id)?.into_iter().map(|role| (role.key.clone(), role)).collect();
    let groups = groups::ids_by_name(conn, id)?;
    let verified_domains = super::domains::allowed_domains(conn, id, &preferences)?;
    let mut group_roles = HashMap::new();
    for group in groups.values() {
        group_roles.insert(*group, groups::roles(conn, *group)?);
    }
    Ok(Account { name, emails: found.emails, preferences, verified_domains, roles, groups, group_roles })
}

fn load_uploader(conn: &mut DbConnection, catalogue: &Catalogue, import: &Import) -> Result<Uploader, ImportError> {
    let user = users::find(conn, import.uploaded_by)?.ok_or(ImportError::Shared(Shared::NotFound))?;
    let roles = memberships::find(conn, import.account_id, import.uploaded_by)?
        .map(|membership| membership.held_roles())
        .filter(|roles| catalogue.effective(roles, None).contains(Permission::ImportsManage));
    Ok(Uploader { name: format!("{} {}", user.first_name, user.last_name).trim().to_owned(), roles })
}

/// Processes the next batch of an import and returns the import as it then
/// stands; `None` when there is no such import.
pub fn process_batch(conn: &mut DbConnection, ctx: &Ctx<'_>, id: Uuid) -> Result<Option<Import>, ImportError> {
    let (catalogue, now) = (ctx.catalogue, ctx.now);
    write_transaction(conn, |conn| {
        let Some(import) = imports::lock(conn, id)? else { return Ok(None) };
        if import.status == ImportStatus::Completed {
            return Ok(Some(import));
        }
        if accounts::pending_deletion(conn, import.account_id)?.is_some() {
            return Err(ImportError::AccountPendingDeletion);
        }
        let seats = Seats::hold(conn, ctx, import.account_id)?;
        let rows = imports::pending_rows(conn, &import, BATCH_ROWS)?;
        let account = load_account(conn, import.account_id)?;
        let uploader = load_uploader(conn, catalogue, &import)?;

        // Rows refused at upload keep that verdict; the others are read again.
        let requests: Vec<Option<Result<RowRequest, RowProblem>>> =
            rows.iter().map(|row| row.rejection.is_none().then(|| row.cells.parse())).collect();
        let emails: Vec<&str> = requests.iter().flatten().flatten().map(|request| request.email.as_str()).collect();
        let pending = invitations::settle_pending_among(conn, import.account_id, &emails, now)?;
        super::invitations::record_expired(conn, ctx, &pending.lapsed)?;
        let known = Known {
            members: memberships::member_emails_among(conn, import.account_id, &emails)?,
            invited: pending.open,
            // Only the new_users_only policy asks who has a user already.
            users: if account.preferences.email_policy == EmailPolicy::Any {
                HashSet::new()
            } else {
                users::existing_among(conn, &emails)?
            },
        };

        let clock = InvitationClock::new(now, account.preferences.ttl);
        let next_reminder_at = clock.next_reminder_at(&account.preferences.reminders);
        // Rows take the free seats in file order; the rows past them are refused.
        let mut free_seats = seats.free(conn, now)?;
        let mut results = Vec::with_capacity(rows.len());
        let mut offers = Vec::new();
        for (row, request) in rows.iter().zip(&requests) {
            let Some(request) = request else {
                let (code, message) = row.rejection.clone().unwrap_or_default();
                results.push(RowResult {
                    number: row.number,
                    email: row.cells.email.clone(),
                    outcome: outcome_of(&code),
                    code,
                    message,
                    invitation_id: None,
                });
                continue;
            };
            let judged = request.as_ref().map_err(Clone::clone).and_then(|request| {
                let offer = judge(catalogue, &account, &uploader, &known, request)?;
                match free_seats.as_mut() {
                    Some(0) => Err(RowProblem::SeatLimitReached(seats.refusal().to_string())),
                    Some(free) => {
                        *free -= 1;
                        Ok((request, offer))
                    }
                    None => Ok((request, offer)),
                }
            });
            match judged {
                Ok((request, offer)) => {
                    offers.push((results.len(), request, offer, OpaqueToken::generate()));
                    results.push(RowResult {
                        number: row.number,
                        email: request.email.as_str().to_owned(),
                        outcome: RowOutcome::Invited,
                        code: "invited".to_owned(),
                        message: format!("Invitation sent to {}.", request.email),
                        invitation_id: None,
                    });
                }
                Err(problem) => results.push(result_of(row, &problem)),
            }
        }

        let digests: Vec<String> = offers.iter().map(|(_, _, _, token)| token.digest()).collect();
        let locales: Vec<Option<String>> =
            offers.iter().map(|(_, request, _, _)| request.locale.as_ref().map(ToString::to_string)).collect();
        let news: Vec<NewInvitation<'_>> = offers
            .iter()
            .zip(digests.iter().zip(&locales))
            .map(|((_, request, offer, _), (digest, locale))| NewInvitation {
                account_id: import.account_id,
                email: &request.email,
                first_name: &request.first_name,
                last_name: &request.last_name,
                assignments: &offer.assignments,
                groups: &offer.groups,
                invited_by: import.uploaded_by,
                token_hash: digest,
                clock,
                next_reminder_at,
                locale: locale.as_deref(),
            })
            .collect();
        let ids = invitations::insert_many(conn, &news).map_err(|error| match error {
            StoreError::Conflict => ImportError::ConcurrentInvitation,
            other => other.into(),
        })?;
        let inviter_name = if uploader.name.is_empty() { &account.name } else { &uploader.name };
        let emails: Vec<_> = offers
            .iter()
            .zip(ids.iter().zip(&locales))
            .map(|((index, request, _, token), (id, locale))| {
                results[*index].invitation_id = Some(*id);
                Message::Invitation(Invitation {
                    inviter_name: inviter_name.clone(),
                    account_name: account.name.clone(),
                    accept_url: accept_url(ctx, token),
                    expires_at: clock.expires_at,
                    message: account.emails.invitation_message.clone(),
                })
                .to(request.email.as_str())
                .in_locale(locale.as_deref().or(account.emails.locale.as_deref()))
            })
            .collect();
        crate::email::enqueue_many(conn, &emails, now)?;

        let last_row = rows.last().map_or(import.next_row, |row| row.number);
        let import = imports::record_batch(conn, &import, &results, last_row, now)?;
        if import.status == ImportStatus::Completed {
            let listed = ImportReport::LISTED as i64;
            let failures = imports::first_failures(conn, import.id, listed)?
                .iter()
                .map(|row| ImportFailure::new(row.number, &row.email, &row.code, &row.message))
                .collect();
            let report = ImportReport {
                account_name: account.name.clone(),
                file_name: import.file_name.clone(),
                total: import.counts.total,
                invited: import.counts.invited,
                skipped: import.counts.skipped,
                failed: import.counts.failed,
                report_url: report_url(ctx, &import),
                failures,
            };
            let topic = domain::notification::Topic::ImportReports;
            notify_members(conn, ctx, import.account_id, &[import.uploaded_by], topic, |recipient| {
                Message::ImportReport(report.clone())
                    .to(recipient)
                    .with_attachment(crate::email::Attachment::ImportReport { import_id: import.id })
            })?;
            let event = Event::in_account(import.account_id, AuditAction::ImportCompleted)
                .by(Actor::System)
                .target("import", import.id, import.file_name.as_deref().unwrap_or("spreadsheet"))
                .set("invited", import.counts.invited)
                .set("skipped", import.counts.skipped)
                .set("failed", import.counts.failed);
            ctx.record(conn, event)?;
        }
        Ok(Some(import))
    })
}

#[cfg(test)]
mod tests {
    use domain::{BuiltInRole, Email, RoleKind};

    use super::*;

    fn role(key: &str, kind: RoleKind) -> Role {
        Role {
            id: Uuid::now_v7(),
            account_id: None,
            key: key.to_owned(),
            name: key.to_owned(),
            description: String::new(),
            kind,
            created_at: chrono::Utc::now(),
        }
    }

    fn account(policy: EmailPolicy) -> Account {
        let roles = [
            role("administrator", RoleKind::BuiltIn(BuiltInRole::Administrator)),
            role("developer", RoleKind::Template),
        ];
        Account {
            name: "Acme".into(),
            emails: accounts::EmailSettings::default(),
            preferences: InvitationPreferences { email_policy: policy, ..Default::default() },
            verified_domains: Vec::new(),
            roles: roles.into_iter().map(|role| (role.key.clone(), role)).collect(),
            groups: HashMap::from([("design".to_owned(), Uuid::now_v7())]),
            group_roles: HashMap::new(),
        }
    }

    fn request(email: &str, roles: &[&str], groups: &[(&str, Option<&str>)]) -> RowRequest {
        RowRequest {
            email: Email::parse(email).unwrap(),
            first_name: String::new(),
            last_name: String::new(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            groups: groups
                .iter()
                .map(|(name, role)| domain::import::GroupEntry {
                    name: (*name).to_owned(),
                    role: role.map(str::to_owned),
                })
                .collect(),
            locale: None,
        }
    }

    fn known(members: &[&str], invited: &[&str], users: &[&str]) -> Known {
        let set = |emails: &[&str]| emails.iter().map(|e| (*e).to_owned()).collect();
        Known { members: set(members), invited: set(invited), users: set(users) }
    }

    fn uploader(roles: Option<Vec<HeldRole>>) -> Uploader {
        Uploader { name: "Ada".into(), roles }
    }

    fn codes(judged: Result<Offer, RowProblem>) -> &'static str {
        judged.map_or_else(|problem| problem.code(), |_| "invited")
    }

    #[test]
    fn each_row_is_judged_against_the_account_and_the_uploader() {
        let catalogue = crate::catalogue::parse(crate::catalogue::DEFAULT_PERMISSIONS).unwrap();
        let any = account(EmailPolicy::Any);
        let developer = uploader(Some(vec![any.roles["developer"].held(None)]));
        let admin = uploader(Some(vec![any.roles["administrator"].held(None)]));
        let nobody = known(&["m@example.com"], &["p@example.com"], &["u@example.com"]);
        let judge_row = |account: &Account, uploader: &Uploader, row: RowRequest| {
            codes(judge(&catalogue, account, uploader, &nobody, &row))
        };
        assert_eq!(judge_row(&any, &admin, request("n@example.com", &["developer"], &[("Design", None)])), "invited");
        assert_eq!(judge_row(&any, &admin, request("m@example.com", &[], &[])), "already_member");
        assert_eq!(judge_row(&any, &admin, request("p@example.com", &[], &[])), "already_invited");
        assert_eq!(judge_row(&any, &admin, request("n@example.com", &["ghost"], &[])), "unknown_role");
        assert_eq!(judge_row(&any, &admin, request("n@example.com", &[], &[("Sales", None)])), "unknown_group");
        assert_eq!(
            judge_row(&any, &developer, request("n@example.com", &[], &[("design", Some("administrator"))])),
            "role_not_grantable"
        );
        assert_eq!(judge_row(&any, &developer, request("n@example.com", &["developer"], &[])), "invited");
        let strict = account(EmailPolicy::NewUsersOnly);
        assert_eq!(judge_row(&strict, &admin, request("u@example.com", &[], &[])), "email_policy_refused");
        assert_eq!(judge_row(&any, &uploader(None), request("n@example.com", &[], &[])), "uploader_lost_access");
    }
}
