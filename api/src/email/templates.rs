//! Email bodies, text and HTML. Every interpolated value is escaped in the
//! HTML part; links are built from the configured public URL.

use super::OutgoingEmail;
use chrono::{DateTime, Utc};

fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

fn html(paragraphs: &[String], link: (&str, &str)) -> String {
    let body: String = paragraphs.iter().map(|p| format!("<p>{}</p>\n", escape(p))).collect();
    format!(
        "<!doctype html>\n<html><body style=\"font-family: sans-serif\">\n{body}<p><a href=\"{}\">{}</a></p>\n</body></html>\n",
        escape(link.0),
        escape(link.1)
    )
}

pub struct InvitationEmail<'a> {
    pub recipient: &'a str,
    pub inviter_name: &'a str,
    pub account_name: &'a str,
    pub accept_url: &'a str,
    pub expires_at: DateTime<Utc>,
    pub reminder: bool,
}

/// The subject names no one: the inviter's and the account's names are
/// whatever their author typed, and a subject line is where a phishing
/// sentence ("Visit … to keep your job") would be read as Roster's own.
/// In the body they stand in quotes, as what somebody wrote.
pub fn invitation(email: &InvitationEmail<'_>) -> OutgoingEmail {
    let subject = if email.reminder {
        "Reminder: you have an invitation waiting on Roster".to_owned()
    } else {
        "You are invited to join an account on Roster".to_owned()
    };
    let lines = vec![
        format!("“{}” invited you to join the account “{}” on Roster.", email.inviter_name, email.account_name),
        format!("The invitation is valid until {}.", email.expires_at.format("%Y-%m-%d %H:%M UTC")),
        "If you did not expect it, ignore this email.".to_owned(),
    ];
    OutgoingEmail {
        recipient: email.recipient.to_owned(),
        subject,
        text_body: format!("{}\n\nAccept the invitation: {}\n", lines.join("\n\n"), email.accept_url),
        html_body: html(&lines, (email.accept_url, "Accept the invitation")),
        unsubscribe_url: None,
    }
}

pub fn email_verification(recipient: &str, verify_url: &str) -> OutgoingEmail {
    let lines = vec!["Confirm that this is your email address for Roster.".to_owned()];
    with_link(recipient, "Confirm your email address", lines, (verify_url, "Confirm my email address"))
}

/// An email with one link to follow.
fn with_link(recipient: &str, subject: &str, lines: Vec<String>, link: (&str, &str)) -> OutgoingEmail {
    OutgoingEmail {
        recipient: recipient.to_owned(),
        subject: subject.to_owned(),
        text_body: format!("{}\n\n{}: {}\n", lines.join("\n\n"), link.1, link.0),
        html_body: html(&lines, link),
        unsubscribe_url: None,
    }
}

/// An email that only tells.
fn notice(recipient: &str, subject: &str, lines: &[String]) -> OutgoingEmail {
    let body: String = lines.iter().map(|p| format!("<p>{}</p>\n", escape(p))).collect();
    OutgoingEmail {
        recipient: recipient.to_owned(),
        subject: subject.to_owned(),
        text_body: format!("{}\n", lines.join("\n\n")),
        html_body: format!("<!doctype html>\n<html><body style=\"font-family: sans-serif\">\n{body}</body></html>\n"),
        unsubscribe_url: None,
    }
}

pub fn password_reset(recipient: &str, reset_url: &str) -> OutgoingEmail {
    let lines = vec![
        "Someone asked to reset the password of your Roster account. The link works once, for one hour.".to_owned(),
        "If it was not you, ignore this email: your password stays as it is.".to_owned(),
    ];
    with_link(recipient, "Reset your Roster password", lines, (reset_url, "Choose a new password"))
}

/// Tells the account's owner that its password changed, so that a change
/// they did not make does not go unnoticed.
pub fn password_changed(recipient: &str) -> OutgoingEmail {
    let lines = [
        "The password of your Roster account was just changed, and your other sessions were signed out.".to_owned(),
        "If you did not do this, reset your password now and tell your administrator.".to_owned(),
    ];
    notice(recipient, "Your Roster password was changed", &lines)
}

pub fn email_change(recipient: &str, confirm_url: &str) -> OutgoingEmail {
    let lines = vec![
        "Confirm that you want to sign in to Roster with this email address from now on. The link works once, for one day."
            .to_owned(),
    ];
    with_link(recipient, "Confirm your new email address", lines, (confirm_url, "Use this address"))
}

/// Tells the owner of an address that someone tried to register with it:
/// registering answers the same whether or not the address has a user, so
/// this email is how a person who forgot they have an account learns it.
pub fn registration_attempted(recipient: &str) -> OutgoingEmail {
    let lines = [
        "Someone tried to create a Roster account with this email address, which has one already. Nothing changed."
            .to_owned(),
        "If it was you, sign in instead; if you forgot your password, reset it from the sign-in page. If it was not you, you can ignore this email."
            .to_owned(),
    ];
    notice(recipient, "Someone tried to register with your email address", &lines)
}

/// Tells the owner of an address that another user tried to move their
/// account to it; like registering, the request answers as if it were free.
pub fn email_change_attempted(recipient: &str) -> OutgoingEmail {
    let lines = [
        "Someone signed in to another Roster account asked to move it to this email address, which has an account already. Nothing changed."
            .to_owned(),
        "If it was you, sign in with this address instead. If it was not you, you can ignore this email.".to_owned(),
    ];
    notice(recipient, "Someone tried to use your email address", &lines)
}

/// Tells the old address that the account moved away from it.
pub fn email_changed(old: &str, new: &str) -> OutgoingEmail {
    let lines = [
        format!("Your Roster account now signs in with {new} instead of this address."),
        "If you did not do this, tell your administrator at once.".to_owned(),
    ];
    notice(old, "Your Roster email address was changed", &lines)
}

/// What the uploader of a spreadsheet learns when the import finishes.
pub struct ImportSummaryEmail<'a> {
    pub recipient: &'a str,
    pub account_name: &'a str,
    pub file_name: Option<&'a str>,
    pub total: i32,
    pub invited: i32,
    pub skipped: i32,
    pub failed: i32,
    pub report_url: &'a str,
}

pub fn import_summary(email: &ImportSummaryEmail<'_>) -> OutgoingEmail {
    let file = email.file_name.map_or_else(|| "Your spreadsheet".to_owned(), |name| format!("Your spreadsheet {name}"));
    let mut lines = vec![
        format!("{file} for {} has been imported: {} rows.", email.account_name, email.total),
        format!("Invited: {}. Skipped: {}. Failed: {}.", email.invited, email.skipped, email.failed),
    ];
    if email.failed > 0 {
        lines.push("The report says what to fix in each failed row; fix them and upload those rows again.".to_owned());
    }
    OutgoingEmail {
        recipient: email.recipient.to_owned(),
        subject: format!(
            "Import finished for {}: {} invited, {} skipped, {} failed",
            email.account_name, email.invited, email.skipped, email.failed
        ),
        text_body: format!("{}\n\nReport: {}\n", lines.join("\n\n"), email.report_url),
        html_body: html(&lines, (email.report_url, "See the report")),
        unsubscribe_url: None,
    }
}

/// To each reviewer when someone asks to join through a link.
pub struct JoinRequestEmail<'a> {
    pub recipient: &'a str,
    pub requester_name: &'a str,
    pub requester_email: &'a str,
    pub account_name: &'a str,
    pub message: &'a str,
    pub review_url: &'a str,
}

pub fn join_request_received(email: &JoinRequestEmail<'_>) -> OutgoingEmail {
    let who = if email.requester_name.is_empty() {
        email.requester_email.to_owned()
    } else {
        format!("{} <{}>", email.requester_name, email.requester_email)
    };
    let mut lines = vec![format!("{who} asks to join {} on Roster through a join link.", email.account_name)];
    if !email.message.is_empty() {
        lines.push(format!("Their message: {}", email.message));
    }
    lines.push("Approve the request with the roles they should have, or deny it.".to_owned());
    OutgoingEmail {
        recipient: email.recipient.to_owned(),
        subject: format!("{who} asks to join {}", email.account_name),
        text_body: format!("{}\n\nReview: {}\n", lines.join("\n\n"), email.review_url),
        html_body: html(&lines, (email.review_url, "Review the request")),
        unsubscribe_url: None,
    }
}

/// To the requester once their request is decided.
pub fn join_request_decided(
    recipient: &str,
    account_name: &str,
    approved: bool,
    reason: Option<&str>,
    url: &str,
) -> OutgoingEmail {
    let (subject, mut lines) = if approved {
        (
            format!("You are now a member of {account_name}"),
            vec![format!("Your request to join {account_name} on Roster was approved.")],
        )
    } else {
        (
            format!("Your request to join {account_name} was declined"),
            vec![format!("Your request to join {account_name} on Roster was declined.")],
        )
    };
    if let Some(reason) = reason.filter(|reason| !reason.is_empty()) {
        lines.push(format!("Reason: {reason}"));
    }
    OutgoingEmail {
        recipient: recipient.to_owned(),
        subject,
        text_body: format!("{}\n\nRoster: {url}\n", lines.join("\n\n")),
        html_body: html(&lines, (url, "Open Roster")),
        unsubscribe_url: None,
    }
}

/// How someone the account's directory added signs in.
pub enum SignIn<'a> {
    /// Through the account's identity provider, starting here.
    SingleSignOn { start_url: &'a str },
    /// They have no password yet: this link sets one.
    SetPassword { url: &'a str },
    /// With the password they already have.
    Password { url: &'a str },
}

/// To someone the account's directory (SCIM) made a member: that they are
/// one, and how to sign in. The account's name stands in quotes, as what
/// somebody wrote.
pub fn directory_welcome(recipient: &str, account_name: &str, sign_in: SignIn<'_>) -> OutgoingEmail {
    let (how, url, label) = match sign_in {
        SignIn::SingleSignOn { start_url } => ("Sign in with your company's identity provider.", start_url, "Sign in"),
        SignIn::SetPassword { url } => (
            "Choose a password to sign in; the link works for 7 days (after that, use \"Forgot password\").",
            url,
            "Choose a password",
        ),
        SignIn::Password { url } => ("Sign in with your email and the password you already use.", url, "Sign in"),
    };
    let lines = vec![
        format!("Your organisation's directory added you to the account “{account_name}” on Roster."),
        how.to_owned(),
        "If you did not expect it, ask your organisation's administrator.".to_owned(),
    ];
    OutgoingEmail {
        recipient: recipient.to_owned(),
        subject: "You were added to an account on Roster".to_owned(),
        text_body: format!("{}\n\n{label}: {url}\n", lines.join("\n\n")),
        html_body: html(&lines, (url, label)),
        unsubscribe_url: None,
    }
}

/// To an account's webhook administrators when Roster stops sending to an
/// endpoint.
pub fn domain_unverified(recipient: &str, account_name: &str, domain: &str, domain_url: &str) -> OutgoingEmail {
    let lines = vec![
        format!("{domain} is no longer a verified domain of {account_name}: its DNS record was missing for 3 days."),
        "Publish the record again (the domain shows it), then verify the domain again.".to_owned(),
    ];
    OutgoingEmail {
        recipient: recipient.to_owned(),
        subject: format!("{domain} is no longer verified"),
        text_body: format!("{}\n\nDomain: {domain_url}\n", lines.join("\n\n")),
        html_body: html(&lines, (domain_url, "See the domain")),
        unsubscribe_url: None,
    }
}

pub fn webhook_disabled(
    recipient: &str,
    account_name: &str,
    url: &str,
    reason: &str,
    settings_url: &str,
) -> OutgoingEmail {
    let lines = vec![
        format!("Roster stopped sending webhooks of {account_name} to {url}."),
        format!("Why: {reason}."),
        "Fix the receiver, then enable the endpoint again; deliveries that failed can be sent again one by one."
            .to_owned(),
    ];
    OutgoingEmail {
        recipient: recipient.to_owned(),
        subject: format!("Webhooks to {url} were disabled"),
        text_body: format!("{}\n\nEndpoint: {settings_url}\n", lines.join("\n\n")),
        html_body: html(&lines, (settings_url, "See the endpoint")),
        unsubscribe_url: None,
    }
}

pub struct ApiKeyCreatedEmail<'a> {
    pub recipient: &'a str,
    pub account_name: &'a str,
    pub key_name: &'a str,
    pub partner_name: &'a str,
    pub created_by: &'a str,
    pub permissions: &'a [String],
    pub expires_at: DateTime<Utc>,
    pub key_url: &'a str,
}

/// To an account's owners and administrators when a partner is given a key.
pub fn api_key_created(email: &ApiKeyCreatedEmail<'_>) -> OutgoingEmail {
    let lines = vec![
        format!(
            "{} gave {} an API key for {}: \"{}\".",
            email.created_by, email.partner_name, email.account_name, email.key_name
        ),
        format!("It may: {}.", email.permissions.join(", ")),
        format!("It expires on {}.", email.expires_at.format("%Y-%m-%d")),
        "If this is unexpected, revoke the key at once.".to_owned(),
    ];
    OutgoingEmail {
        recipient: email.recipient.to_owned(),
        subject: format!("New API key for {} in {}", email.partner_name, email.account_name),
        text_body: format!("{}\n\nThe key: {}\n", lines.join("\n\n"), email.key_url),
        html_body: html(&lines, (email.key_url, "See the key")),
        unsubscribe_url: None,
    }
}

/// To an account's owners and administrators when ownership changes hands.
pub fn ownership_transferred(
    recipient: &str,
    account_name: &str,
    new_owner: &str,
    previous_owner: &str,
    members_url: &str,
) -> OutgoingEmail {
    let lines = vec![
        format!("{previous_owner} made {new_owner} an owner of {account_name}."),
        format!("{previous_owner} is an administrator now."),
        "If this was not agreed, an owner can change it among the members.".to_owned(),
    ];
    with_link(recipient, &format!("{account_name} has a new owner"), lines, (members_url, "See the members"))
}

/// Why reviewers hear of an access review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewNotice {
    Started,
    DueSoon,
    Overdue,
}

pub struct AccessReviewEmail<'a> {
    pub recipient: &'a str,
    pub account_name: &'a str,
    /// A group review's group.
    pub group_name: Option<&'a str>,
    pub due_at: DateTime<Utc>,
    pub undecided: usize,
    pub notice: ReviewNotice,
    pub review_url: &'a str,
}

/// To an access review's reviewers: it began, is due soon, or is overdue.
pub fn access_review(email: &AccessReviewEmail<'_>) -> OutgoingEmail {
    let scope = match email.group_name {
        Some(group) => format!("the group {group} of {}", email.account_name),
        None => email.account_name.to_owned(),
    };
    let due = email.due_at.format("%Y-%m-%d %H:%M UTC");
    let (subject, first) = match email.notice {
        ReviewNotice::Started => (
            format!("Access review of {scope}"),
            format!("An access review of {scope} began; you are one of its reviewers. It is due {due}."),
        ),
        ReviewNotice::DueSoon => (
            format!("Reminder: access review of {scope} due {due}"),
            format!("The access review of {scope} is due {due}."),
        ),
        ReviewNotice::Overdue => (
            format!("Overdue: access review of {scope}"),
            format!("The access review of {scope} was due {due} and is not completed."),
        ),
    };
    let lines = vec![
        first,
        format!(
            "{} member(s) wait for a decision: keep, reduce or remove. Nobody decides on their own access.",
            email.undecided
        ),
    ];
    with_link(email.recipient, &subject, lines, (email.review_url, "Open the review"))
}

/// To a child account's owners when a parent account asks to link it.
pub fn account_link_requested(recipient: &str, parent_name: &str, child_name: &str, links_url: &str) -> OutgoingEmail {
    let lines = vec![
        format!("{parent_name} asked to link {child_name} under it as a linked account."),
        format!(
            "Once an owner of {child_name} accepts, the roles {parent_name} extends to its linked accounts apply in \
             {child_name} too. Either side can end the link at any time."
        ),
        "If you do not know this account, decline the request.".to_owned(),
    ];
    OutgoingEmail {
        recipient: recipient.to_owned(),
        subject: format!("{parent_name} asks to link {child_name}"),
        text_body: format!("{}\n\nThe request: {links_url}\n", lines.join("\n\n")),
        html_body: html(&lines, (links_url, "Review the request")),
        unsubscribe_url: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_what_people_typed() {
        let email = invitation(&InvitationEmail {
            recipient: "a@example.com",
            inviter_name: "<script>alert(1)</script>",
            account_name: "Acme & Sons",
            accept_url: "https://roster.example/invitations/accept?token=abc",
            expires_at: Utc::now(),
            reminder: false,
        });
        assert!(!email.html_body.contains("<script>"));
        assert!(email.html_body.contains("Acme &amp; Sons"));
        assert!(email.text_body.contains("https://roster.example/invitations/accept?token=abc"));
    }
}
