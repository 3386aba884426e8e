//! What each email says, as data. A queued email names its template and
//! carries that template's parameters; its words are chosen when it is
//! sent, in the reader's language, by [`super::render`]. Every value
//! here is what somebody typed or a link Roster made: templates show
//! them quoted and escaped, never as markup.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One email, by template. The serde tag is the template's name: the
/// files `NAME.subject`, `NAME.txt` and `NAME.html`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "template", content = "params", rename_all = "snake_case")]
pub enum Message {
    Invitation(Invitation),
    InvitationReminder(Invitation),
    EmailVerification(Link),
    PasswordReset(Link),
    PasswordChanged,
    EmailChange(Link),
    RegistrationAttempted,
    EmailChangeAttempted,
    EmailChanged(EmailChanged),
    ImportReport(ImportReport),
    JoinRequestReceived(JoinRequestReceived),
    JoinRequestApproved(JoinRequestDecided),
    JoinRequestDeclined(JoinRequestDecided),
    DirectoryWelcome(DirectoryWelcome),
    DomainUnverified(DomainUnverified),
    WebhookDisabled(WebhookDisabled),
    ApiKeyCreated(ApiKeyCreated),
    OwnershipTransferred(OwnershipTransferred),
    AccessReviewStarted(AccessReview),
    AccessReviewDueSoon(AccessReview),
    AccessReviewOverdue(AccessReview),
    AccountLinkRequested(AccountLinkRequested),
    AccountDeletionScheduled(AccountDeletion),
    AccountRestored(AccountRestored),
    PersonalExportReady(PersonalExportReady),
}

/// An invitation (or its reminder). The subject names no one: the
/// inviter's and the account's names are whatever their author typed, and
/// a subject line is where a phishing sentence ("Visit … to keep your
/// job") would be read as the product's own. In the body they stand in
/// quotes, as what somebody wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub inviter_name: String,
    pub account_name: String,
    pub accept_url: String,
    pub expires_at: DateTime<Utc>,
    /// The account's own words for its invitations, shown quoted.
    #[serde(default)]
    pub message: Option<String>,
}

/// An email with one link to follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub url: String,
}

/// To the old address, once the account moved away from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailChanged {
    pub new_email: String,
}

/// What the uploader of a spreadsheet learns when the import finishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub account_name: String,
    pub file_name: Option<String>,
    pub total: i32,
    pub invited: i32,
    pub skipped: i32,
    pub failed: i32,
    pub report_url: String,
    /// The first failed rows, in row order ([`ImportReport::LISTED`] at most).
    #[serde(default)]
    pub failures: Vec<ImportFailure>,
}

impl ImportReport {
    /// How many failed rows the body lists; the attached report has them all.
    pub const LISTED: usize = 50;
}

/// A row that could not be invited: the email as written, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportFailure {
    pub row: i32,
    pub email: String,
    /// One of [`ImportFailure::REASONS`]: the templates say what it means
    /// in the reader's language.
    pub reason: String,
    /// The stored explanation, in English: what English readers see.
    pub detail: String,
}

impl ImportFailure {
    /// The codes of failed rows that have words of their own; any other
    /// code is written as `other`, with its detail.
    pub const REASONS: [&str; 12] = [
        "malformed_row",
        "invalid_email",
        "invalid_locale",
        "invalid_name",
        "unknown_role",
        "unknown_group",
        "role_not_grantable",
        "email_policy_refused",
        "email_domain_not_allowed",
        "too_many_roles",
        "uploader_lost_access",
        "seat_limit_reached",
    ];

    pub fn new(row: i32, email: &str, code: &str, detail: &str) -> Self {
        let reason = if Self::REASONS.contains(&code) { code } else { "other" };
        Self { row, email: email.to_owned(), reason: reason.to_owned(), detail: detail.to_owned() }
    }
}

/// To each reviewer when someone asks to join through a link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRequestReceived {
    pub requester_name: String,
    pub requester_email: String,
    pub account_name: String,
    pub message: String,
    pub review_url: String,
}

/// To the requester once their request is decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRequestDecided {
    pub account_name: String,
    pub reason: Option<String>,
    pub url: String,
}

/// How someone the account's directory added signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignIn {
    /// Through the account's identity provider.
    SingleSignOn,
    /// They have no password yet: the link sets one.
    SetPassword,
    /// With the password they already have.
    Password,
}

/// To someone the account's directory (SCIM) made a member: that they are
/// one, and how to sign in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryWelcome {
    pub account_name: String,
    pub sign_in: SignIn,
    pub url: String,
}

/// To those who manage an account's domains when one lost its record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainUnverified {
    pub account_name: String,
    pub domain: String,
    pub domain_url: String,
}

/// To an account's webhook administrators when sending to an endpoint stops.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDisabled {
    pub account_name: String,
    pub endpoint_url: String,
    pub reason: String,
    pub settings_url: String,
}

/// To an account's owners and administrators when a partner is given a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyCreated {
    pub account_name: String,
    pub key_name: String,
    pub partner_name: String,
    pub created_by: String,
    pub permissions: Vec<String>,
    pub expires_at: DateTime<Utc>,
    pub key_url: String,
}

/// To an account's owners and administrators when ownership changes hands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnershipTransferred {
    pub account_name: String,
    pub new_owner: String,
    pub previous_owner: String,
    pub members_url: String,
}

/// To an access review's reviewers: it began, is due soon, or is overdue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessReview {
    pub account_name: String,
    /// A group review's group.
    pub group_name: Option<String>,
    pub due_at: DateTime<Utc>,
    pub undecided: usize,
    pub review_url: String,
}

/// To every member when an owner deletes the account: when it is erased,
/// and that an owner can restore it until then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountDeletion {
    pub account_name: String,
    pub deleted_by: String,
    pub erase_after: DateTime<Utc>,
    pub account_url: String,
}

/// To someone whose copy of their data was made in the background: the
/// link to download it, and until when it works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonalExportReady {
    pub download_url: String,
    pub expires_at: DateTime<Utc>,
}

/// To every member when an owner restores an account whose deletion waited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRestored {
    pub account_name: String,
    pub restored_by: String,
    pub account_url: String,
}

/// To a child account's owners when a parent account asks to link it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountLinkRequested {
    pub parent_name: String,
    pub child_name: String,
    pub links_url: String,
}

impl Message {
    /// The template's name, as in its files' names.
    pub fn template(&self) -> &'static str {
        match self {
            Message::Invitation(_) => "invitation",
            Message::InvitationReminder(_) => "invitation_reminder",
            Message::EmailVerification(_) => "email_verification",
            Message::PasswordReset(_) => "password_reset",
            Message::PasswordChanged => "password_changed",
            Message::EmailChange(_) => "email_change",
            Message::RegistrationAttempted => "registration_attempted",
            Message::EmailChangeAttempted => "email_change_attempted",
            Message::EmailChanged(_) => "email_changed",
            Message::ImportReport(_) => "import_report",
            Message::JoinRequestReceived(_) => "join_request_received",
            Message::JoinRequestApproved(_) => "join_request_approved",
            Message::JoinRequestDeclined(_) => "join_request_declined",
            Message::DirectoryWelcome(_) => "directory_welcome",
            Message::DomainUnverified(_) => "domain_unverified",
            Message::WebhookDisabled(_) => "webhook_disabled",
            Message::ApiKeyCreated(_) => "api_key_created",
            Message::OwnershipTransferred(_) => "ownership_transferred",
            Message::AccessReviewStarted(_) => "access_review_started",
            Message::AccessReviewDueSoon(_) => "access_review_due_soon",
            Message::AccessReviewOverdue(_) => "access_review_overdue",
            Message::AccountLinkRequested(_) => "account_link_requested",
            Message::AccountDeletionScheduled(_) => "account_deletion_scheduled",
            Message::AccountRestored(_) => "account_restored",
            Message::PersonalExportReady(_) => "personal_export_ready",
        }
    }

    /// The parameters the template sees, as a JSON object (empty for
    /// emails that only tell).
    pub fn params(&self) -> serde_json::Value {
        let mut tagged = serde_json::to_value(self).unwrap_or_default();
        match tagged.get_mut("params").map(serde_json::Value::take) {
            Some(params @ serde_json::Value::Object(_)) => params,
            _ => serde_json::Value::Object(serde_json::Map::new()),
        }
    }

    /// One email of every template, with made-up data: what previews show
    /// and what every template (and every override) must render.
    pub fn samples() -> Vec<Message> {
        let at =
            DateTime::parse_from_rfc3339("2026-12-24T17:30:00Z").map(|t| t.with_timezone(&Utc)).unwrap_or_default();
        let url = |path: &str| format!("https://accounts.example.com{path}");
        let invitation = Invitation {
            inviter_name: "Ada Lovelace".into(),
            account_name: "Acme GmbH".into(),
            accept_url: url("/invitations/accept?token=sample"),
            expires_at: at,
            message: Some("Welcome aboard! Your team lead is Grace.".into()),
        };
        let review = AccessReview {
            account_name: "Acme GmbH".into(),
            group_name: Some("Finance".into()),
            due_at: at,
            undecided: 3,
            review_url: url("/access-reviews/sample"),
        };
        let decided = JoinRequestDecided {
            account_name: "Acme GmbH".into(),
            reason: Some("Not on the team.".into()),
            url: url("/"),
        };
        vec![
            Message::Invitation(invitation.clone()),
            Message::InvitationReminder(Invitation { message: None, ..invitation }),
            Message::EmailVerification(Link { url: url("/verify-email?token=sample") }),
            Message::PasswordReset(Link { url: url("/password-reset?token=sample") }),
            Message::PasswordChanged,
            Message::EmailChange(Link { url: url("/email-change?token=sample") }),
            Message::RegistrationAttempted,
            Message::EmailChangeAttempted,
            Message::EmailChanged(EmailChanged { new_email: "ada@new.example.com".into() }),
            Message::ImportReport(ImportReport {
                account_name: "Acme GmbH".into(),
                file_name: Some("new-hires.csv".into()),
                total: 12,
                invited: 9,
                skipped: 1,
                failed: 2,
                report_url: url("/imports/sample/report"),
                failures: vec![
                    ImportFailure::new(
                        4,
                        "grace@@example.com",
                        "invalid_email",
                        "The email is not valid: it has two @.",
                    ),
                    ImportFailure::new(
                        9,
                        "=HYPERLINK(\"https://evil.example\")",
                        "unknown_role",
                        "There is no role \"auditor\" in this account.",
                    ),
                ],
            }),
            Message::JoinRequestReceived(JoinRequestReceived {
                requester_name: "Grace Hopper".into(),
                requester_email: "grace@example.com".into(),
                account_name: "Acme GmbH".into(),
                message: "EMEA sales, hi!".into(),
                review_url: url("/join-requests/sample"),
            }),
            Message::JoinRequestApproved(JoinRequestDecided { reason: None, ..decided.clone() }),
            Message::JoinRequestDeclined(decided),
            Message::DirectoryWelcome(DirectoryWelcome {
                account_name: "Acme GmbH".into(),
                sign_in: SignIn::SetPassword,
                url: url("/password-reset?token=sample"),
            }),
            Message::DomainUnverified(DomainUnverified {
                account_name: "Acme GmbH".into(),
                domain: "acme.example".into(),
                domain_url: url("/domains/sample"),
            }),
            Message::WebhookDisabled(WebhookDisabled {
                account_name: "Acme GmbH".into(),
                endpoint_url: "https://hooks.acme.example/roster".into(),
                reason: "every delivery failed for 3 days".into(),
                settings_url: url("/webhooks/sample"),
            }),
            Message::ApiKeyCreated(ApiKeyCreated {
                account_name: "Acme GmbH".into(),
                key_name: "Payroll sync".into(),
                partner_name: "Payroll Partner Ltd".into(),
                created_by: "ada@example.com".into(),
                permissions: vec!["members:read".into(), "invitations:create".into()],
                expires_at: at,
                key_url: url("/api-keys/sample"),
            }),
            Message::OwnershipTransferred(OwnershipTransferred {
                account_name: "Acme GmbH".into(),
                new_owner: "Grace Hopper".into(),
                previous_owner: "Ada Lovelace".into(),
                members_url: url("/members"),
            }),
            Message::AccessReviewStarted(review.clone()),
            Message::AccessReviewDueSoon(AccessReview { undecided: 1, group_name: None, ..review.clone() }),
            Message::AccessReviewOverdue(review),
            Message::AccountLinkRequested(AccountLinkRequested {
                parent_name: "Acme Global".into(),
                child_name: "Acme EMEA".into(),
                links_url: url("/linked-accounts"),
            }),
            Message::AccountDeletionScheduled(AccountDeletion {
                account_name: "Acme GmbH".into(),
                deleted_by: "Ada Lovelace".into(),
                erase_after: at,
                account_url: url("/accounts/sample"),
            }),
            Message::AccountRestored(AccountRestored {
                account_name: "Acme GmbH".into(),
                restored_by: "Ada Lovelace".into(),
                account_url: url("/accounts/sample"),
            }),
            Message::PersonalExportReady(PersonalExportReady {
                download_url: url("/v1/me/export/download?token=sample"),
                expires_at: at,
            }),
        ]
    }

    /// The sample of template `name`.
    pub fn sample(name: &str) -> Option<Message> {
        Self::samples().into_iter().find(|email| email.template() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_has_one_sample_and_its_payload_round_trips() {
        let samples = Message::samples();
        let mut names: Vec<&str> = samples.iter().map(Message::template).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), samples.len(), "one sample per template");
        for email in samples {
            let json = serde_json::to_value(&email).unwrap();
            assert_eq!(json["template"], email.template(), "the serde tag is the template's name");
            assert_eq!(serde_json::from_value::<Message>(json).unwrap(), email);
        }
    }
}
