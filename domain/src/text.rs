//! Text people type that is not a name: descriptions, notes and search
//! terms. Labels (names of people, accounts, groups, roles) are
//! [`crate::person_name`]'s business.

use std::borrow::Cow;

use crate::InvalidValue;

/// Makes a cell safe to open in a spreadsheet: a cell a spreadsheet would
/// read as a formula (leading `=`, `+`, `-`, `@`, tab or carriage return)
/// gets a leading apostrophe, as OWASP recommends. Values are stored as
/// people gave them; every CSV the service writes passes through this.
pub fn spreadsheet_safe(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// Free text of up to `max_chars` characters: trimmed; line breaks and tabs
/// are kept, other control characters (NUL among them, which PostgreSQL
/// cannot store) are refused.
pub fn parse_free_text(raw: &str, max_chars: usize) -> Result<String, InvalidValue> {
    let text = raw.trim();
    if text.chars().count() > max_chars {
        return Err(InvalidValue::new("too_long", format!("Write at most {max_chars} characters.")));
    }
    if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(InvalidValue::new("invalid_characters", "Remove control characters."));
    }
    Ok(text.to_owned())
}

/// A description of a role or group: free text, possibly empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    pub const MAX_CHARS: usize = 1_000;

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        parse_free_text(raw, Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// What an account's invitations say besides the product's words: plain
/// text (shown quoted and escaped, never as links or markup), line breaks
/// kept, up to 1,000 characters; blank means none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationMessage(String);

impl InvitationMessage {
    pub const MAX_CHARS: usize = 1_000;

    pub fn parse(raw: &str) -> Result<Option<Self>, InvalidValue> {
        let text = parse_free_text(raw, Self::MAX_CHARS)?;
        Ok((!text.is_empty()).then_some(Self(text)))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// What someone typed into a search box: trimmed, one line, bounded so
/// that a pattern built from it stays cheap (SQLite refuses LIKE patterns
/// over 50,000 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText(String);

impl SearchText {
    pub const MAX_CHARS: usize = 200;

    /// `None` for a blank search, which matches everything.
    pub fn parse(raw: &str) -> Result<Option<Self>, InvalidValue> {
        let text = raw.trim();
        if text.chars().count() > Self::MAX_CHARS {
            return Err(InvalidValue::new("too_long", format!("Search for at most {} characters.", Self::MAX_CHARS)));
        }
        if text.chars().any(char::is_control) {
            return Err(InvalidValue::new("invalid_characters", "Remove control characters from the search."));
        }
        Ok((!text.is_empty()).then(|| Self(text.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn descriptions_keep_line_breaks_and_refuse_other_control_characters() {
        assert_eq!(Description::parse("  two\nlines\t ").unwrap().as_str(), "two\nlines");
        assert_eq!(Description::parse("nul\u{0}").unwrap_err().code, "invalid_characters");
        assert_eq!(Description::parse(&"x".repeat(1_001)).unwrap_err().code, "too_long");
        assert_eq!(Description::parse("").unwrap().as_str(), "");
    }

    #[test]
    fn searches_are_one_bounded_line() {
        assert_eq!(SearchText::parse(" ada ").unwrap().unwrap().as_str(), "ada");
        assert_eq!(SearchText::parse("   ").unwrap(), None);
        assert_eq!(SearchText::parse("a\u{0}b").unwrap_err().code, "invalid_characters");
        assert_eq!(SearchText::parse(&"é".repeat(201)).unwrap_err().code, "too_long");
        assert!(SearchText::parse(&"é".repeat(200)).is_ok());
    }

    #[test]
    fn formula_cells_are_escaped() {
        for dangerous in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "=HYPERLINK(\"http://x\",\"y\")"] {
            assert_eq!(spreadsheet_safe(dangerous), format!("'{dangerous}"));
        }
        assert_eq!(spreadsheet_safe("grace@example.com"), "grace@example.com");
        assert_eq!(spreadsheet_safe(""), "");
    }

    proptest! {
        #[test]
        fn escaped_cells_never_start_a_formula(cell in ".*") {
            let escaped = spreadsheet_safe(&cell);
            prop_assert!(!escaped.starts_with(['=', '+', '-', '@', '\t', '\r']));
            prop_assert!(escaped.ends_with(cell.as_str()));
        }

        #[test]
        fn accepted_text_never_carries_a_nul(raw in "\\PC*\\x00?\\PC*") {
            if let Ok(text) = parse_free_text(&raw, 10_000) {
                prop_assert!(!text.contains('\0'));
            }
            if let Ok(Some(search)) = SearchText::parse(&raw) {
                prop_assert!(!search.as_str().contains('\0'));
                prop_assert!(search.as_str().chars().count() <= SearchText::MAX_CHARS);
            }
        }
    }
}
