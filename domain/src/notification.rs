//! Which emails a member gets, with no IO. Transactional emails
//! (invitations, address verification, password reset) always go out;
//! the topics here are the others, each on unless the member turned it off,
//! or, when the member never chose, unless the account's default is off.

use std::collections::BTreeMap;

use crate::InvalidValue;

/// A kind of non-transactional email a member may turn off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    /// Someone asked to join: sent to those who may review join requests.
    JoinRequests,
    /// A spreadsheet import finished: sent to whoever uploaded it.
    ImportReports,
    /// An access review waits for a decision: sent to its reviewers.
    AccessReviewReminders,
    /// New API keys, account links, ownership changes, disabled webhooks.
    SecurityNotices,
    /// The account's directory added someone: sent to them, saying how to
    /// sign in.
    Welcome,
}

/// Emails that cannot be turned off: what a person asked for or must act on.
const TRANSACTIONAL: [&str; 4] = ["invitations", "email_verification", "password_reset", "email_change"];

impl Topic {
    pub const ALL: [Topic; 5] = [
        Topic::JoinRequests,
        Topic::ImportReports,
        Topic::AccessReviewReminders,
        Topic::SecurityNotices,
        Topic::Welcome,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Topic::JoinRequests => "join_requests",
            Topic::ImportReports => "import_reports",
            Topic::AccessReviewReminders => "access_review_reminders",
            Topic::SecurityNotices => "security_notices",
            Topic::Welcome => "welcome",
        }
    }

    /// A topic by key; a transactional email's key is refused with its
    /// own reason, since that is a request we understand and decline.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        if let Some(topic) = Self::ALL.into_iter().find(|topic| topic.key() == raw) {
            return Ok(topic);
        }
        if TRANSACTIONAL.contains(&raw) {
            return Err(InvalidValue::new(
                "transactional_email",
                "Invitations, address verification and password emails cannot be turned off.",
            ));
        }
        Err(InvalidValue::new(
            "unknown_topic",
            "Use join_requests, import_reports, access_review_reminders, security_notices or welcome.",
        ))
    }
}

/// Choices per topic; a topic absent has not been chosen.
pub type Choices = BTreeMap<Topic, bool>;

/// Whether a member gets `topic`: their own choice, else the account's
/// default, else yes.
pub fn wants(topic: Topic, member: &Choices, account_defaults: &Choices) -> bool {
    member.get(&topic).or_else(|| account_defaults.get(&topic)).copied().unwrap_or(true)
}

/// Every topic resolved for one member.
pub fn resolved(member: &Choices, account_defaults: &Choices) -> Choices {
    Topic::ALL.into_iter().map(|topic| (topic, wants(topic, member, account_defaults))).collect()
}

/// The account's defaults, every topic filled in.
pub fn defaults(account_defaults: &Choices) -> Choices {
    resolved(&Choices::new(), account_defaults)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keys_round_trip_and_transactional_emails_are_refused_by_name() {
        for topic in Topic::ALL {
            assert_eq!(Topic::parse(topic.key()), Ok(topic));
        }
        assert_eq!(Topic::parse("invitations").unwrap_err().code, "transactional_email");
        assert_eq!(Topic::parse("password_reset").unwrap_err().code, "transactional_email");
        assert_eq!(Topic::parse("newsletter").unwrap_err().code, "unknown_topic");
    }

    #[test]
    fn the_member_choice_wins_then_the_account_default_then_yes() {
        let off = Choices::from([(Topic::ImportReports, false)]);
        let on = Choices::from([(Topic::ImportReports, true)]);
        assert!(wants(Topic::ImportReports, &Choices::new(), &Choices::new()));
        assert!(!wants(Topic::ImportReports, &Choices::new(), &off));
        assert!(wants(Topic::ImportReports, &on, &off));
        assert!(!wants(Topic::ImportReports, &off, &on));
        assert!(wants(Topic::JoinRequests, &off, &off), "other topics are untouched");
    }

    fn choices() -> impl Strategy<Value = Choices> {
        proptest::collection::btree_map(proptest::sample::select(Topic::ALL.to_vec()), any::<bool>(), 0..=4)
    }

    proptest! {
        #[test]
        fn resolution_covers_every_topic_and_agrees_with_wants(member in choices(), account in choices()) {
            let all = resolved(&member, &account);
            prop_assert_eq!(all.len(), Topic::ALL.len());
            for topic in Topic::ALL {
                prop_assert_eq!(all[&topic], wants(topic, &member, &account));
                if let Some(own) = member.get(&topic) {
                    prop_assert_eq!(all[&topic], *own);
                }
            }
        }
    }
}
