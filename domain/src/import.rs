//! Spreadsheet onboarding: reading an uploaded CSV into rows, judging each
//! row on its own (shape, email, names, role and group syntax) and across
//! the file (duplicates), and the vocabulary of per-row outcomes. What needs
//! the database (membership, pending invitations, roles, groups, grants) is
//! decided by the caller with [`RowProblem`]s from here, so every reason a
//! row is refused is named in one place.

use std::collections::HashMap;
use std::fmt;

use crate::catalogue::check_role_key;
use crate::{Email, PersonName};

/// At most this many data rows per file.
pub const MAX_ROWS: usize = 100_000;
/// At most this many bytes per file.
pub const MAX_BYTES: usize = 32 * 1024 * 1024;
/// The columns, in order.
pub const COLUMNS: [&str; 5] = ["email", "first_name", "last_name", "roles", "groups"];

/// A column a file may add after [`COLUMNS`]: the language (BCP 47) to
/// write to the person in while they chose none.
pub const LOCALE_COLUMN: &str = "locale";

/// The downloadable template: the header and one example row.
pub const TEMPLATE: &str = "email,first_name,last_name,roles,groups\r\n\
                            grace@example.com,Grace,Hopper,developer;analyst,Design;Research:administrator\r\n";

/// The five cells of a row as they were read (lossily decoded, trimmed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowCells {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub roles: String,
    pub groups: String,
    /// Empty when the file has no `locale` column or the cell is blank.
    pub locale: String,
}

/// One data row of the file. `number` is its row in the spreadsheet: the
/// header is row 1, so the first data row is row 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    pub number: u32,
    pub cells: RowCells,
    /// Refused on its own or against earlier rows, before any database
    /// check; `None` when the row is a candidate for an invitation.
    pub rejection: Option<RowProblem>,
}

/// Why a whole file was refused; nothing of it is kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileRefused {
    #[error("The file is larger than {} MiB.", MAX_BYTES / 1024 / 1024)]
    TooLarge,
    #[error("The file has more than {MAX_ROWS} rows; split it into files of at most {MAX_ROWS} rows.")]
    TooManyRows,
    #[error("The file has no rows to import below its header.")]
    NoRows,
    #[error("The first row must be the header \"email,first_name,last_name,roles,groups\"; found {0:?}.")]
    BadHeader(String),
    #[error("The file is not valid CSV: {0}")]
    Unreadable(String),
}

impl FileRefused {
    pub fn code(&self) -> &'static str {
        match self {
            FileRefused::TooLarge => "file_too_large",
            FileRefused::TooManyRows => "too_many_rows",
            FileRefused::NoRows => "no_rows",
            FileRefused::BadHeader(_) => "invalid_header",
            FileRefused::Unreadable(_) => "unreadable_file",
        }
    }
}

/// What became of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RowOutcome {
    Invited,
    /// Nothing to do: the person is already there or already asked.
    Skipped,
    /// The row needs fixing before it can be imported.
    Failed,
}

impl RowOutcome {
    pub fn key(self) -> &'static str {
        match self {
            RowOutcome::Invited => "invited",
            RowOutcome::Skipped => "skipped",
            RowOutcome::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [RowOutcome::Invited, RowOutcome::Skipped, RowOutcome::Failed].into_iter().find(|o| o.key() == raw)
    }
}

/// The outcome a problem's code stands for: the person is already there or
/// already asked (skipped), or the row needs fixing (failed).
pub fn outcome_of(code: &str) -> RowOutcome {
    match code {
        "duplicate_row" | "already_member" | "already_invited" => RowOutcome::Skipped,
        _ => RowOutcome::Failed,
    }
}

/// Every reason a row is not invited. Each has its own code and a message
/// that tells the person what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowProblem {
    MalformedRow(String),
    InvalidEmail(String),
    /// The `locale` cell is not a language tag.
    InvalidLocale(String),
    InvalidName {
        column: &'static str,
        reason: String,
    },
    DuplicateRow {
        first: u32,
    },
    AlreadyMember,
    AlreadyInvited,
    UnknownRole(String),
    UnknownGroup(String),
    RoleNotGrantable {
        role: String,
        permission: String,
    },
    EmailPolicyRefused,
    /// The account invites only emails at its verified domains.
    EmailDomainNotAllowed,
    /// The row gives more roles than a member may hold.
    TooManyRoles,
    /// The uploader no longer holds `imports:manage` in the account.
    UploaderLostAccess,
    /// Every seat of the account's plan is taken; says which plan and limit.
    SeatLimitReached(String),
}

impl From<crate::membership::AdmissionRefused> for RowProblem {
    fn from(refused: crate::membership::AdmissionRefused) -> Self {
        use crate::membership::AdmissionRefused;
        match refused {
            AdmissionRefused::AlreadyMember => RowProblem::AlreadyMember,
            AdmissionRefused::AlreadyInvited => RowProblem::AlreadyInvited,
            AdmissionRefused::EmailPolicyRefused => RowProblem::EmailPolicyRefused,
            AdmissionRefused::EmailDomainNotAllowed => RowProblem::EmailDomainNotAllowed,
        }
    }
}

impl RowProblem {
    pub fn code(&self) -> &'static str {
        match self {
            RowProblem::MalformedRow(_) => "malformed_row",
            RowProblem::InvalidEmail(_) => "invalid_email",
            RowProblem::InvalidLocale(_) => "invalid_locale",
            RowProblem::InvalidName { .. } => "invalid_name",
            RowProblem::DuplicateRow { .. } => "duplicate_row",
            RowProblem::AlreadyMember => "already_member",
            RowProblem::AlreadyInvited => "already_invited",
            RowProblem::UnknownRole(_) => "unknown_role",
            RowProblem::UnknownGroup(_) => "unknown_group",
            RowProblem::RoleNotGrantable { .. } => "role_not_grantable",
            RowProblem::EmailPolicyRefused => "email_policy_refused",
            RowProblem::EmailDomainNotAllowed => "email_domain_not_allowed",
            RowProblem::TooManyRoles => "too_many_roles",
            RowProblem::UploaderLostAccess => "uploader_lost_access",
            RowProblem::SeatLimitReached(_) => "seat_limit_reached",
        }
    }

    pub fn outcome(&self) -> RowOutcome {
        outcome_of(self.code())
    }
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RowProblem::MalformedRow(reason) | RowProblem::SeatLimitReached(reason) => write!(f, "{reason}"),
            RowProblem::InvalidEmail(reason) => write!(f, "The email is not valid: {reason}"),
            RowProblem::InvalidLocale(reason) => write!(f, "The locale is not valid: {reason}"),
            RowProblem::InvalidName { column, reason } => write!(f, "The {column} is not valid: {reason}"),
            RowProblem::DuplicateRow { first } => {
                write!(f, "This email already appears in row {first}; only that row is imported.")
            }
            RowProblem::AlreadyMember => write!(f, "This person is already a member of the account; nothing to do."),
            RowProblem::AlreadyInvited => {
                write!(f, "This person already has a pending invitation to the account; resend it instead.")
            }
            RowProblem::UnknownRole(role) => {
                write!(
                    f,
                    "There is no role {role:?} in this account; use a role key from GET /v1/accounts/{{id}}/roles."
                )
            }
            RowProblem::UnknownGroup(group) => {
                write!(f, "There is no group named {group:?} in this account; create it first or fix the name.")
            }
            RowProblem::RoleNotGrantable { role, permission } => write!(
                f,
                "You may not give the role {role:?}: it carries {permission:?}, which you do not hold where it would apply."
            ),
            RowProblem::EmailDomainNotAllowed => write!(
                f,
                "This account invites only emails at its verified domains (GET /v1/accounts/{{id}}/domains), and this one is at none of them."
            ),
            RowProblem::EmailPolicyRefused => write!(
                f,
                "This account only invites people who have no user yet (policy new_users_only), and this email has one."
            ),
            RowProblem::TooManyRoles => write!(
                f,
                "The row gives more than {} roles; a member holds at most that many.",
                crate::role::MAX_ROLES_PER_MEMBER
            ),
            RowProblem::UploaderLostAccess => write!(
                f,
                "The person who uploaded the file no longer may import into this account; someone who may must upload it again."
            ),
        }
    }
}

/// A group the invitee joins, and the role they get inside it, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    pub name: String,
    pub role: Option<String>,
}

/// A row that passed every check that needs no database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowRequest {
    pub email: Email,
    pub first_name: String,
    pub last_name: String,
    /// Role keys given account-wide, each once.
    pub roles: Vec<String>,
    pub groups: Vec<GroupEntry>,
    /// The language to write to the person in while they chose none.
    pub locale: Option<crate::Locale>,
}

fn optional_name(raw: &str, column: &'static str) -> Result<String, RowProblem> {
    if raw.is_empty() {
        return Ok(String::new());
    }
    PersonName::parse(raw)
        .map(PersonName::into_inner)
        .map_err(|error| RowProblem::InvalidName { column, reason: error.message })
}

fn role_key(raw: &str) -> Result<String, RowProblem> {
    check_role_key(raw).map(|()| raw.to_owned()).map_err(|_| RowProblem::UnknownRole(raw.to_owned()))
}

fn list(raw: &str) -> impl Iterator<Item = &str> {
    raw.split(';').map(str::trim).filter(|item| !item.is_empty())
}

/// Reads `groups`: `Design` joins the group, `Design:developer` also gives
/// the role `developer` inside it. The role follows the last `:`, so group
/// names may contain colons.
fn group_entry(raw: &str) -> Result<GroupEntry, RowProblem> {
    match raw.rsplit_once(':') {
        Some((name, role)) if !name.trim().is_empty() => {
            Ok(GroupEntry { name: name.trim().to_owned(), role: Some(role_key(role.trim())?) })
        }
        Some(_) => Err(RowProblem::UnknownGroup(raw.to_owned())),
        None => Ok(GroupEntry { name: raw.to_owned(), role: None }),
    }
}

impl RowCells {
    /// Checks what the row says on its own.
    pub fn parse(&self) -> Result<RowRequest, RowProblem> {
        let email = Email::parse(&self.email).map_err(|error| RowProblem::InvalidEmail(error.message))?;
        let first_name = optional_name(&self.first_name, "first_name")?;
        let last_name = optional_name(&self.last_name, "last_name")?;
        let mut roles: Vec<String> = Vec::new();
        for key in list(&self.roles) {
            let key = role_key(key)?;
            if !roles.contains(&key) {
                roles.push(key);
            }
        }
        let mut groups: Vec<GroupEntry> = Vec::new();
        for raw in list(&self.groups) {
            let entry = group_entry(raw)?;
            if !groups.contains(&entry) {
                groups.push(entry);
            }
        }
        let locale = match self.locale.as_str() {
            "" => None,
            tag => Some(crate::Locale::parse(tag).map_err(|error| RowProblem::InvalidLocale(error.message))?),
        };
        Ok(RowRequest { email, first_name, last_name, roles, groups, locale })
    }
}

/// The uploaded file's name as shown back: control characters dropped, at
/// most 255 characters, `None` when nothing is left.
pub fn display_file_name(raw: &str) -> Option<String> {
    let name: String = raw.chars().filter(|c| !c.is_control()).take(255).collect();
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

/// A cell as text: invalid UTF-8 and NUL characters (which no database
/// column may hold) become U+FFFD, so the report can still show the row.
fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().replace('\0', "\u{FFFD}")
}

/// Reads an uploaded file. The file as a whole is refused only when it
/// cannot be a Roster import at all (size, row count, header); rows that
/// are wrong one by one are kept with their [`RowProblem`], so the report
/// can say what to fix in each.
pub fn read_file(bytes: &[u8]) -> Result<Vec<ImportRow>, FileRefused> {
    if bytes.len() > MAX_BYTES {
        return Err(FileRefused::TooLarge);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
    let mut records = reader.byte_records();
    let header = match records.next() {
        Some(Ok(header)) => header,
        Some(Err(error)) => return Err(FileRefused::Unreadable(error.to_string())),
        None => return Err(FileRefused::NoRows),
    };
    let names: Vec<String> = header.iter().map(|cell| lossy(cell).to_lowercase()).collect();
    let with_locale = names.len() == COLUMNS.len() + 1 && names.last().is_some_and(|last| last == LOCALE_COLUMN);
    if names[..names.len().min(COLUMNS.len())] != COLUMNS || (names.len() != COLUMNS.len() && !with_locale) {
        return Err(FileRefused::BadHeader(names.join(",")));
    }
    let width = names.len();
    let mut rows = Vec::new();
    let mut first_row_of: HashMap<String, u32> = HashMap::new();
    let mut number: u32 = 1;
    for record in records {
        number += 1;
        let record = match record {
            Ok(record) => record,
            Err(error) => return Err(FileRefused::Unreadable(format!("row {number}: {error}"))),
        };
        if record.iter().all(|cell| cell.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        if rows.len() == MAX_ROWS {
            return Err(FileRefused::TooManyRows);
        }
        let cell = |index: usize| record.get(index).map(lossy).unwrap_or_default();
        let cells = RowCells {
            email: cell(0),
            first_name: cell(1),
            last_name: cell(2),
            roles: cell(3),
            groups: cell(4),
            locale: if with_locale { cell(5) } else { String::new() },
        };
        let rejection = if record.len() != width {
            Some(RowProblem::MalformedRow(format!(
                "The row has {} cells; it needs {width}: {}.",
                record.len(),
                names.join(", ")
            )))
        } else if record.iter().any(|cell| cell.contains(&0)) {
            Some(RowProblem::MalformedRow("The row contains a NUL character; remove it.".to_owned()))
        } else if record.iter().any(|cell| std::str::from_utf8(cell).is_err()) {
            Some(RowProblem::MalformedRow("The row is not valid UTF-8; save the file as CSV UTF-8.".to_owned()))
        } else {
            match cells.parse() {
                Err(problem) => Some(problem),
                Ok(request) => match first_row_of.get(request.email.as_str()) {
                    Some(&first) => Some(RowProblem::DuplicateRow { first }),
                    None => {
                        first_row_of.insert(request.email.into_inner(), number);
                        None
                    }
                },
            }
        };
        rows.push(ImportRow { number, cells, rejection });
    }
    if rows.is_empty() {
        return Err(FileRefused::NoRows);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn file(rows: &[&str]) -> Vec<u8> {
        let mut text = String::from("email,first_name,last_name,roles,groups\n");
        for row in rows {
            text.push_str(row);
            text.push('\n');
        }
        text.into_bytes()
    }

    fn codes(rows: &[ImportRow]) -> Vec<Option<&'static str>> {
        rows.iter().map(|row| row.rejection.as_ref().map(RowProblem::code)).collect()
    }

    #[test]
    fn the_template_reads_as_one_valid_row() {
        let rows = read_file(TEMPLATE.as_bytes()).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].number, 2);
        let request = rows[0].cells.parse().unwrap();
        assert_eq!(request.roles, ["developer", "analyst"]);
        assert_eq!(
            request.groups,
            [
                GroupEntry { name: "Design".into(), role: None },
                GroupEntry { name: "Research".into(), role: Some("administrator".into()) }
            ]
        );
    }

    #[test]
    fn each_row_is_judged_on_its_own() {
        let rows = read_file(&file(&[
            "a@example.com,Ada,Lovelace,,",
            "not-an-email,,,,",
            "b@example.com,,",
            "A@Example.com,,,,",
            "c@example.com,,,Not A Role,",
            "d@example.com,,,,:developer",
        ]))
        .unwrap();
        assert_eq!(
            codes(&rows),
            [
                None,
                Some("invalid_email"),
                Some("malformed_row"),
                Some("duplicate_row"),
                Some("unknown_role"),
                Some("unknown_group")
            ]
        );
        assert_eq!(rows[3].rejection, Some(RowProblem::DuplicateRow { first: 2 }));
        assert_eq!(rows.iter().map(|r| r.number).collect::<Vec<_>>(), [2, 3, 4, 5, 6, 7]);
    }

    #[test]
    fn bad_encoding_is_a_malformed_row_not_a_refused_file() {
        let mut bytes = file(&["a@example.com,Ada,,,"]);
        bytes.extend_from_slice(b"b@example.com,\xff\xfe,,,\n");
        let rows = read_file(&bytes).unwrap();
        assert_eq!(codes(&rows), [None, Some("malformed_row")]);
    }

    #[test]
    fn file_names_are_shown_without_control_characters() {
        assert_eq!(display_file_name("team\0.csv").as_deref(), Some("team.csv"));
        assert_eq!(display_file_name("\u{1}"), None);
        assert_eq!(display_file_name(&"n".repeat(300)).map(|n| n.len()), Some(255));
    }

    #[test]
    fn a_nul_character_is_a_malformed_row_and_is_never_kept() {
        let mut bytes = file(&["a@example.com,Ada,,,"]);
        bytes.extend_from_slice(b"b@example.com,Gr\0ace,,,\n");
        let rows = read_file(&bytes).unwrap();
        assert_eq!(codes(&rows), [None, Some("malformed_row")]);
        assert_eq!(rows[1].cells.first_name, "Gr\u{FFFD}ace");
    }

    #[test]
    fn files_that_cannot_be_imports_are_refused_whole() {
        assert_eq!(read_file(b"name,mail\nx,y\n"), Err(FileRefused::BadHeader("name,mail".into())));
        assert_eq!(read_file(&file(&[])), Err(FileRefused::NoRows));
        assert_eq!(read_file(b""), Err(FileRefused::NoRows));
        let many: Vec<String> = (0..=MAX_ROWS).map(|i| format!("p{i}@example.com,,,,")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(read_file(&file(&many)), Err(FileRefused::TooManyRows));
        assert_eq!(read_file(&vec![b'a'; MAX_BYTES + 1]), Err(FileRefused::TooLarge));
    }

    #[test]
    fn a_byte_order_mark_and_blank_rows_are_ignored() {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend(file(&["a@example.com,,,,", ",,,,", "b@example.com,,,,"]));
        let rows = read_file(&bytes).unwrap();
        assert_eq!(rows.iter().map(|r| r.number).collect::<Vec<_>>(), [2, 4]);
    }

    proptest! {
        #[test]
        fn any_bytes_give_rows_or_a_refusal_never_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let mut input = b"email,first_name,last_name,roles,groups\n".to_vec();
            input.extend(bytes);
            if let Ok(rows) = read_file(&input) {
                prop_assert!(rows.windows(2).all(|pair| pair[0].number < pair[1].number));
                for row in &rows {
                    let cells = &row.cells;
                    for cell in [&cells.email, &cells.first_name, &cells.last_name, &cells.roles, &cells.groups] {
                        prop_assert!(!cell.contains('\0'), "a NUL would not store");
                    }
                }
            }
        }
    }
}
