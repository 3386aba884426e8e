//! A person's own copy of what Roster holds about them (GDPR articles 15
//! and 20), served by `GET /v1/me/export` or made by the job runner for a
//! download link. It holds their data and nothing of other people's: whom
//! they invited, who acted on them and what others' events say about
//! others show as ids.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use persistence::audit::AuditEvent;
use persistence::personal_data as held;
use persistence::{DbConnection, StoreError, accounts, groups, memberships, notifications, users};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::routes::me::UserProfile;
use crate::http::routes::members::AssignmentView;

/// Everything Roster holds about you.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "exported_at": "2026-12-07T10:00:00Z",
    "profile": {"id": "01937a2e-4c1d-7b6a-9f3e-2a1b0c9d8e7f", "email": "ada@example.com", "first_name": "Ada",
        "last_name": "Lovelace", "email_verified": true, "locale": "en-GB", "time_zone": "Europe/London",
        "created_at": "2026-11-22T09:30:00Z", "updated_at": "2026-11-22T09:30:00Z"},
    "memberships": [{"account": {"id": "01937a2e-1111-7000-8000-000000000001", "name": "Acme"}, "status": "active",
        "joined_at": "2026-11-22T09:31:00Z", "last_active_at": "2026-12-07T09:59:00Z", "roles": ["developer"],
        "assignments": [{"role": "developer", "group_id": null}], "groups": [], "notifications": {"member_joined": false}}],
    "invitations_received": [], "invitations_sent": [], "join_requests": [],
    "sessions": [{"id": "01937a2e-2222-7000-8000-000000000001", "created_at": "2026-12-07T09:00:00Z",
        "last_used_at": "2026-12-07T09:59:00Z", "expires_at": "2027-01-06T09:00:00Z", "ended_at": null,
        "user_agent": "Mozilla/5.0", "client_ip": "203.0.113.7", "single_sign_on": false}],
    "audit_events": [{"chain": "user:01937a2e-4c1d-7b6a-9f3e-2a1b0c9d8e7f", "account_id": null, "seq": 2,
        "occurred_at": "2026-12-07T09:00:00Z", "action": "session.started", "actor": {"type": "user", "id": "01937a2e-4c1d-7b6a-9f3e-2a1b0c9d8e7f"},
        "targets": [], "changes": {}, "client_ip": "203.0.113.7", "user_agent": "Mozilla/5.0"}]
}))]
pub struct PersonalDataExport {
    pub exported_at: DateTime<Utc>,
    pub profile: UserProfile,
    /// The accounts you are a member of.
    pub memberships: Vec<ExportedMembership>,
    /// Invitations addressed to you.
    pub invitations_received: Vec<ExportedInvitation>,
    /// Invitations you sent (whom to is the invitee's, and left out).
    pub invitations_sent: Vec<ExportedInvitation>,
    pub join_requests: Vec<ExportedJoinRequest>,
    /// Your sessions, ended ones included, with where they came from.
    pub sessions: Vec<ExportedSession>,
    /// Every event of every audit log you are the actor or a subject of,
    /// and your own log's, in each log's order.
    pub audit_events: Vec<ExportedAuditEvent>,
}

#[derive(Serialize, ToSchema)]
pub struct ExportedAccount {
    pub id: Uuid,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct ExportedMembership {
    pub account: ExportedAccount,
    #[schema(value_type = crate::http::routes::members::MembershipStatusName)]
    pub status: String,
    pub joined_at: DateTime<Utc>,
    pub last_active_at: Option<DateTime<Utc>>,
    /// Keys of the roles you hold account-wide.
    pub roles: Vec<String>,
    pub assignments: Vec<AssignmentView>,
    /// The groups you are in.
    pub groups: Vec<ExportedAccount>,
    /// The emails you chose to get (`true`) or not, by topic; the others
    /// follow the account's defaults.
    pub notifications: BTreeMap<String, bool>,
}

#[derive(Serialize, ToSchema)]
pub struct ExportedInvitation {
    pub id: Uuid,
    pub account_id: Uuid,
    #[schema(value_type = crate::http::routes::invitations::InvitationStatusName)]
    pub status: String,
    /// Who sent it (a user id).
    pub invited_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct ExportedJoinRequest {
    pub id: Uuid,
    pub account_id: Uuid,
    #[schema(value_type = crate::http::routes::join_requests::JoinRequestStatusName)]
    pub status: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct ExportedSession {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub user_agent: Option<String>,
    pub client_ip: Option<String>,
    /// Whether it began with a single sign-on.
    pub single_sign_on: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ExportedActor {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub struct ExportedTarget {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Option<Uuid>,
    /// How it is labelled, when the target is you or a thing (a group, a
    /// role); absent for other people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ExportedAuditEvent {
    /// `user:<your id>` for your own log, else the account's id.
    pub chain: String,
    pub account_id: Option<Uuid>,
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    #[schema(value_type = crate::http::routes::audit::AuditActionName)]
    pub action: String,
    pub actor: ExportedActor,
    pub targets: Vec<ExportedTarget>,
    /// The fields that changed, in your own log; in accounts' logs they may
    /// be about others, and are left out.
    #[schema(value_type = Option<Object>)]
    pub changes: Option<Value>,
    /// Where you acted from, when you are the actor.
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
}

fn at(time: NaiveDateTime) -> DateTime<Utc> {
    persistence::time::from_db(time)
}

fn id(raw: &str) -> Uuid {
    raw.parse().unwrap_or_default()
}

/// The copy of `me`'s data, or `None` when they are gone.
pub fn collect(
    conn: &mut DbConnection,
    me: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<PersonalDataExport>, StoreError> {
    let Some(user) = users::find(conn, me)? else { return Ok(None) };
    let rows = held::memberships(conn, me)?;
    let membership_ids: Vec<Uuid> = rows.iter().map(|row| id(&row.id)).collect();
    let mut choices = notifications::member_choices(conn, &membership_ids)?;
    let mut exported_memberships = Vec::with_capacity(rows.len());
    for row in rows {
        let account = id(&row.account_id);
        let name = accounts::find(conn, account)?.map(|found| found.name).unwrap_or_default();
        let held = memberships::find(conn, account, me)?;
        let assignments: Vec<memberships::HeldAssignment> = held
            .iter()
            .flat_map(|membership| &membership.assignments)
            .map(|a| memberships::HeldAssignment { role_key: a.role.key.clone(), group_id: a.group_id })
            .collect();
        let mut in_groups = Vec::new();
        for group in groups::of_membership(conn, id(&row.id))? {
            if let Some(found) = groups::find(conn, account, group)? {
                in_groups.push(ExportedAccount { id: found.id, name: found.name });
            }
        }
        exported_memberships.push(ExportedMembership {
            account: ExportedAccount { id: account, name },
            status: row.status,
            joined_at: at(row.created_at),
            last_active_at: row.last_active_at.map(at),
            roles: memberships::account_role_keys(&assignments),
            assignments: AssignmentView::all(assignments),
            groups: in_groups,
            notifications: choices
                .remove(&id(&row.id))
                .unwrap_or_default()
                .into_iter()
                .map(|(topic, wanted)| (topic.key().to_owned(), wanted))
                .collect(),
        });
    }
    let invitation = |row: held::InvitationRow| ExportedInvitation {
        id: id(&row.id),
        account_id: id(&row.account_id),
        status: row.status,
        invited_by: row.invited_by.as_deref().map(id),
        created_at: at(row.created_at),
        expires_at: at(row.expires_at),
        decided_at: row.decided_at.map(at),
    };
    let places = held::audit_places(conn, me)?;
    let events = held::audit_events_at(conn, &places)?;
    Ok(Some(PersonalDataExport {
        exported_at: now,
        memberships: exported_memberships,
        invitations_received: held::invitations_received(conn, &user.email)?.into_iter().map(invitation).collect(),
        invitations_sent: held::invitations_sent(conn, me)?.into_iter().map(invitation).collect(),
        join_requests: held::join_requests(conn, me)?
            .into_iter()
            .map(|row| ExportedJoinRequest {
                id: id(&row.id),
                account_id: id(&row.account_id),
                status: row.status,
                message: row.message,
                created_at: at(row.created_at),
                decided_at: row.decided_at.map(at),
            })
            .collect(),
        sessions: held::sessions(conn, me)?
            .into_iter()
            .map(|row| ExportedSession {
                id: id(&row.id),
                created_at: at(row.created_at),
                last_used_at: at(row.last_used_at),
                expires_at: at(row.expires_at),
                ended_at: row.ended_at.map(at),
                user_agent: row.user_agent,
                client_ip: row.client_ip,
                single_sign_on: row.sso_connection_id.is_some(),
            })
            .collect(),
        audit_events: events.into_iter().map(|event| exported_event(event, me)).collect(),
        profile: UserProfile::from(user),
    }))
}

/// An audit event as the person's copy shows it: other people by id only.
fn exported_event(event: AuditEvent, me: Uuid) -> ExportedAuditEvent {
    let mine = ids_match(event.actor_id.as_deref(), me);
    let own_chain = event.chain == format!("user:{me}");
    let targets: Vec<Value> = serde_json::from_str(&event.targets).unwrap_or_default();
    let targets = targets
        .into_iter()
        .map(|target| {
            let kind = target["type"].as_str().unwrap_or_default().to_owned();
            let target_id = target["id"].as_str();
            // Labels of things (groups, roles, keys) are the account's;
            // of people (users, invitations, join requests), theirs.
            let personal =
                matches!(kind.as_str(), "user" | "invitation" | "join_request" | "membership" | "contact" | "session");
            let label =
                (!personal || ids_match(target_id, me)).then(|| target["label"].as_str().map(str::to_owned)).flatten();
            ExportedTarget { kind, id: target_id.and_then(|raw| raw.parse().ok()), label }
        })
        .collect();
    ExportedAuditEvent {
        account_id: event.account_id.as_deref().map(id),
        seq: event.seq,
        occurred_at: event.occurred_at(),
        actor: ExportedActor { kind: event.actor_type, id: event.actor_id.as_deref().and_then(|raw| raw.parse().ok()) },
        targets,
        changes: own_chain.then(|| serde_json::from_str(&event.changes).unwrap_or(Value::Null)),
        client_ip: event.client_ip.filter(|_| mine),
        user_agent: event.user_agent.filter(|_| mine),
        action: event.action,
        chain: event.chain,
    }
}

fn ids_match(raw: Option<&str>, me: Uuid) -> bool {
    raw.and_then(|raw| raw.parse::<Uuid>().ok()) == Some(me)
}
