//! Erasing a person from what was recorded about others' work: the audit
//! log's personal part, webhook payloads. Their ids stay (they are how the
//! chain and the accounts' history hold together); every name, email and
//! address of theirs gives way to a pseudonym.

use std::collections::HashSet;

use serde_json::Value;

/// Someone being erased, and everything that names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasedPerson {
    /// Ids that stand for them: their user id, and the ids of their
    /// memberships, invitations and join requests.
    pub ids: HashSet<String>,
    /// Every email address they had, replaced wherever it occurs.
    pub emails: Vec<String>,
    /// Their names as written (full name, first, last), replaced where a
    /// value is exactly one of them: a short name may be part of other
    /// words.
    pub names: Vec<String>,
    /// What they are called from now on.
    pub pseudonym: String,
}

/// What an audit event says about people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalDetails {
    pub actor_name: String,
    /// JSON array of `{type, id, label}`.
    pub targets: String,
    /// JSON object of `{"field": {"before", "after"}}`.
    pub changes: String,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
}

impl ErasedPerson {
    /// The event's personal part with this person taken out: as its actor,
    /// their name, address and browser; as a target, its label; anywhere
    /// else, their emails and any value that is exactly their name.
    pub fn redact(&self, actor_id: Option<&str>, details: &PersonalDetails) -> PersonalDetails {
        let acted = actor_id.is_some_and(|id| self.ids.contains(id));
        let mut targets: Value = serde_json::from_str(&details.targets).unwrap_or(Value::Null);
        if let Value::Array(items) = &mut targets {
            for item in items {
                let theirs = item.get("id").and_then(Value::as_str).is_some_and(|id| self.ids.contains(id));
                if theirs && let Some(label) = item.get_mut("label") {
                    *label = Value::String(self.pseudonym.clone());
                }
            }
        }
        let mut changes: Value = serde_json::from_str(&details.changes).unwrap_or(Value::Null);
        self.redact_value(&mut targets);
        self.redact_value(&mut changes);
        PersonalDetails {
            actor_name: if acted { self.pseudonym.clone() } else { self.redact_text(&details.actor_name) },
            targets: if targets.is_null() { self.redact_text(&details.targets) } else { targets.to_string() },
            changes: if changes.is_null() { self.redact_text(&details.changes) } else { changes.to_string() },
            client_ip: if acted { None } else { details.client_ip.clone() },
            user_agent: if acted { None } else { details.user_agent.clone() },
        }
    }

    /// `text` with every one of their emails replaced, whatever its case.
    pub fn redact_text(&self, text: &str) -> String {
        self.emails
            .iter()
            .filter(|email| !email.is_empty())
            .fold(text.to_owned(), |text, email| replace_ignoring_ascii_case(&text, email, &self.pseudonym))
    }

    fn names_them(&self, value: &str) -> bool {
        let value = value.trim();
        self.names
            .iter()
            .chain(&self.emails)
            .any(|name| !name.trim().is_empty() && name.trim().eq_ignore_ascii_case(value))
    }

    fn redact_value(&self, value: &mut Value) {
        match value {
            Value::String(text) if self.names_them(text) => *text = self.pseudonym.clone(),
            Value::String(text) => *text = self.redact_text(text),
            Value::Array(items) => items.iter_mut().for_each(|item| self.redact_value(item)),
            Value::Object(fields) => fields.values_mut().for_each(|field| self.redact_value(field)),
            _ => {}
        }
    }
}

fn replace_ignoring_ascii_case(text: &str, needle: &str, with: &str) -> String {
    let (haystack, needle_bytes) = (text.as_bytes(), needle.as_bytes());
    let mut out = String::with_capacity(text.len());
    let (mut start, mut at) = (0, 0);
    while at + needle_bytes.len() <= haystack.len() {
        // An ASCII-case-insensitive match of a valid UTF-8 needle starts
        // and ends on character boundaries.
        if haystack[at..at + needle_bytes.len()].eq_ignore_ascii_case(needle_bytes) {
            out.push_str(&text[start..at]);
            out.push_str(with);
            at += needle_bytes.len();
            start = at;
        } else {
            at += 1;
        }
    }
    out.push_str(&text[start..]);
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn ada() -> ErasedPerson {
        ErasedPerson {
            ids: ["u1".to_owned(), "inv1".to_owned()].into(),
            emails: vec!["ada@example.com".into()],
            names: vec!["Ada Lovelace".into(), "Ada".into(), "Lovelace".into()],
            pseudonym: "erased user u1".into(),
        }
    }

    fn details(actor_name: &str, targets: Value, changes: Value) -> PersonalDetails {
        PersonalDetails {
            actor_name: actor_name.into(),
            targets: targets.to_string(),
            changes: changes.to_string(),
            client_ip: Some("203.0.113.9".into()),
            user_agent: Some("Firefox".into()),
        }
    }

    #[test]
    fn as_actor_they_leave_name_address_and_browser() {
        let event = details("Ada Lovelace", json!([]), json!({}));
        let redacted = ada().redact(Some("u1"), &event);
        assert_eq!(redacted.actor_name, "erased user u1");
        assert_eq!((redacted.client_ip, redacted.user_agent), (None, None));
    }

    #[test]
    fn others_in_the_event_stay_as_they_were() {
        let event = details(
            "Grace Hopper",
            json!([{"type": "invitation", "id": "inv1", "label": "ADA@example.com"}, {"type": "user", "id": "u2", "label": "bob@example.com"}]),
            json!({"email": {"before": null, "after": "Ada@Example.com"}, "first_name": {"before": "Adam", "after": "Ada"}, "note": "ask ada@example.com, Adaline"}),
        );
        let redacted = ada().redact(Some("u2"), &event);
        assert_eq!(redacted.actor_name, "Grace Hopper");
        assert_eq!(redacted.client_ip.as_deref(), Some("203.0.113.9"));
        let targets: Value = serde_json::from_str(&redacted.targets).unwrap();
        assert_eq!(targets[0]["label"], "erased user u1");
        assert_eq!(targets[1]["label"], "bob@example.com");
        let changes: Value = serde_json::from_str(&redacted.changes).unwrap();
        assert_eq!(changes["email"]["after"], "erased user u1");
        assert_eq!(changes["first_name"], json!({"before": "Adam", "after": "erased user u1"}));
        assert_eq!(changes["note"], "ask erased user u1, Adaline", "a name inside other words is left");
    }

    proptest! {
        #[test]
        fn an_email_is_gone_whatever_surrounds_it(before in ".{0,12}", after in ".{0,12}", upper in any::<bool>()) {
            let email = if upper { "ADA@EXAMPLE.COM" } else { "ada@example.com" };
            let text = format!("{before}{email}{after}");
            let redacted = ada().redact_text(&text);
            prop_assert!(!redacted.to_ascii_lowercase().contains("ada@example.com"));
            let event = details(&text, json!([{"id": "x", "label": text}]), json!({"f": {"after": text}}));
            let redacted = ada().redact(None, &event);
            for field in [redacted.actor_name, redacted.targets, redacted.changes] {
                prop_assert!(!field.to_ascii_lowercase().contains("ada@example.com"), "{}", field);
            }
        }
    }
}
