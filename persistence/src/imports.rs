//! Spreadsheet imports: the upload, its rows, and one result per row.
//!
//! The background job works through an import in batches, each one
//! transaction: it locks the import ([`lock`]), reads the rows
//! from its cursor on, writes their invitations and results, and moves the
//! cursor ([`record_batch`]). A crash rolls back the batch in flight and the
//! next run starts again from the cursor, so no row is invited twice or
//! lost; the results' primary key refuses a second result for a row even if
//! two workers were ever to overlap.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Text;
use domain::import::{ImportRow, RowCells, RowOutcome};
use uuid::Uuid;

use crate::db::insert_all;
use crate::schema::{invitation_import_results, invitation_import_rows, invitation_imports};
use crate::{DbConnection, StoreError, ids, time};

/// Where an import stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportStatus {
    /// Uploaded; no batch processed yet.
    Queued,
    Processing,
    /// Every row has its result.
    Completed,
}

impl ImportStatus {
    pub fn key(self) -> &'static str {
        match self {
            ImportStatus::Queued => "queued",
            ImportStatus::Processing => "processing",
            ImportStatus::Completed => "completed",
        }
    }

    fn parse(raw: &str) -> Result<Self, StoreError> {
        [ImportStatus::Queued, ImportStatus::Processing, ImportStatus::Completed]
            .into_iter()
            .find(|status| status.key() == raw)
            .ok_or_else(|| StoreError::Corrupt(format!("import status {raw:?}")))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub id: Uuid,
    pub account_id: Uuid,
    pub uploaded_by: Uuid,
    pub file_name: Option<String>,
    pub status: ImportStatus,
    pub counts: ImportCounts,
    /// Rows numbered below this have their result.
    pub next_row: i32,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

/// Progress: `processed` = `invited` + `skipped` + `failed`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub total: i32,
    pub processed: i32,
    pub invited: i32,
    pub skipped: i32,
    pub failed: i32,
}

#[derive(Queryable, Selectable, QueryableByName)]
#[diesel(table_name = invitation_imports)]
struct ImportRecord {
    id: String,
    account_id: String,
    uploaded_by: String,
    file_name: Option<String>,
    status: String,
    total: i32,
    processed: i32,
    invited: i32,
    skipped: i32,
    failed: i32,
    next_row: i32,
    created_at: NaiveDateTime,
    completed_at: Option<NaiveDateTime>,
}

impl TryFrom<ImportRecord> for Import {
    type Error = StoreError;

    fn try_from(record: ImportRecord) -> Result<Self, StoreError> {
        Ok(Import {
            id: ids::from_db(&record.id)?,
            account_id: ids::from_db(&record.account_id)?,
            uploaded_by: ids::from_db(&record.uploaded_by)?,
            file_name: record.file_name,
            status: ImportStatus::parse(&record.status)?,
            counts: ImportCounts {
                total: record.total,
                processed: record.processed,
                invited: record.invited,
                skipped: record.skipped,
                failed: record.failed,
            },
            next_row: record.next_row,
            created_at: time::from_db(record.created_at),
            completed_at: record.completed_at.map(time::from_db),
        })
    }
}

#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = invitation_import_rows, treat_none_as_default_value = false)]
struct RowRecord {
    import_id: String,
    row_number: i32,
    email: String,
    first_name: String,
    last_name: String,
    roles: String,
    groups: String,
    rejection_code: Option<String>,
    rejection_message: Option<String>,
    locale: String,
}

/// A stored row awaiting its result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRow {
    pub number: i32,
    pub cells: RowCells,
    /// Code and message when the row was refused at upload.
    pub rejection: Option<(String, String)>,
}

/// Records an upload and its rows. The job picks it up from there.
pub fn create(
    conn: &mut DbConnection,
    account: Uuid,
    uploader: Uuid,
    file_name: Option<&str>,
    rows: &[ImportRow],
    now: DateTime<Utc>,
) -> Result<Import, StoreError> {
    let id = ids::to_db(Uuid::now_v7());
    let now = time::to_db(now);
    let total = i32::try_from(rows.len()).map_err(|_| StoreError::Corrupt("too many rows".into()))?;
    diesel::insert_into(invitation_imports::table)
        .values((
            invitation_imports::id.eq(&id),
            invitation_imports::account_id.eq(ids::to_db(account)),
            invitation_imports::uploaded_by.eq(ids::to_db(uploader)),
            invitation_imports::file_name.eq(file_name),
            invitation_imports::status.eq(ImportStatus::Queued.key()),
            invitation_imports::total.eq(total),
            invitation_imports::created_at.eq(now),
            invitation_imports::updated_at.eq(now),
        ))
        .execute(conn)?;
    let records: Vec<RowRecord> = rows
        .iter()
        .map(|row| RowRecord {
            import_id: id.clone(),
            row_number: i32::try_from(row.number).unwrap_or(i32::MAX),
            email: row.cells.email.clone(),
            first_name: row.cells.first_name.clone(),
            last_name: row.cells.last_name.clone(),
            roles: row.cells.roles.clone(),
            groups: row.cells.groups.clone(),
            rejection_code: row.rejection.as_ref().map(|problem| problem.code().to_owned()),
            rejection_message: row.rejection.as_ref().map(ToString::to_string),
            locale: row.cells.locale.clone(),
        })
        .collect();
    insert_all!(conn, invitation_import_rows::table, records)?;
    find_by_id(conn, &id)?.ok_or_else(|| StoreError::Corrupt("the new import is missing".into()))
}

fn find_by_id(conn: &mut DbConnection, id: &str) -> Result<Option<Import>, StoreError> {
    invitation_imports::table
        .find(id)
        .select(ImportRecord::as_select())
        .first(conn)
        .optional()?
        .map(Import::try_from)
        .transpose()
}

/// An import of `account`; imports of other accounts are not found.
pub fn find(conn: &mut DbConnection, account: Uuid, id: Uuid) -> Result<Option<Import>, StoreError> {
    invitation_imports::table
        .filter(invitation_imports::account_id.eq(ids::to_db(account)))
        .find(ids::to_db(id))
        .select(ImportRecord::as_select())
        .first(conn)
        .optional()?
        .map(Import::try_from)
        .transpose()
}

/// An account's imports, newest first.
pub fn list(
    conn: &mut DbConnection,
    account: Uuid,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Import>, StoreError> {
    let mut query = invitation_imports::table
        .filter(invitation_imports::account_id.eq(ids::to_db(account)))
        .select(ImportRecord::as_select())
        .order(invitation_imports::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(invitation_imports::id.lt(ids::to_db(before)));
    }
    query.load(conn)?.into_iter().map(Import::try_from).collect()
}

/// The import, locked for the rest of the transaction: its job's lease
/// already keeps two workers apart; the lock keeps a worker whose lease ran
/// out from committing a batch beside the next one.
pub fn lock(conn: &mut DbConnection, id: Uuid) -> Result<Option<Import>, StoreError> {
    let row_lock = match conn {
        DbConnection::Pg(_) => "FOR UPDATE",
        DbConnection::Sqlite(_) => "",
    };
    let statement = format!(
        "SELECT id, account_id, uploaded_by, file_name, status, total, processed, invited, skipped, failed, \
                next_row, created_at, completed_at \
         FROM invitation_imports WHERE id = $1 {row_lock}"
    );
    let found: Option<ImportRecord> =
        diesel::sql_query(statement).bind::<Text, _>(ids::to_db(id)).get_result(conn).optional()?;
    found.map(Import::try_from).transpose()
}

/// Up to `limit` rows from the import's cursor on, in file order.
pub fn pending_rows(conn: &mut DbConnection, import: &Import, limit: i64) -> Result<Vec<PendingRow>, StoreError> {
    let records: Vec<RowRecord> = invitation_import_rows::table
        .filter(invitation_import_rows::import_id.eq(ids::to_db(import.id)))
        .filter(invitation_import_rows::row_number.ge(import.next_row))
        .order(invitation_import_rows::row_number.asc())
        .limit(limit)
        .select(RowRecord::as_select())
        .load(conn)?;
    Ok(records
        .into_iter()
        .map(|record| PendingRow {
            number: record.row_number,
            rejection: record.rejection_code.zip(record.rejection_message),
            cells: RowCells {
                email: record.email,
                first_name: record.first_name,
                last_name: record.last_name,
                roles: record.roles,
                groups: record.groups,
                locale: record.locale,
            },
        })
        .collect())
}

/// The result of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowResult {
    pub number: i32,
    pub email: String,
    pub outcome: RowOutcome,
    pub code: String,
    pub message: String,
    pub invitation_id: Option<Uuid>,
}

#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = invitation_import_results, treat_none_as_default_value = false)]
struct ResultRecord {
    import_id: String,
    row_number: i32,
    email: String,
    outcome: String,
    code: String,
    message: String,
    invitation_id: Option<String>,
}

/// Stores a batch's results and moves the cursor past `last_row`; completes
/// the import when no row is left. Returns the import as it now stands.
/// Call in the transaction that locked the import.
pub fn record_batch(
    conn: &mut DbConnection,
    import: &Import,
    results: &[RowResult],
    last_row: i32,
    now: DateTime<Utc>,
) -> Result<Import, StoreError> {
    let id = ids::to_db(import.id);
    let records: Vec<ResultRecord> = results
        .iter()
        .map(|result| ResultRecord {
            import_id: id.clone(),
            row_number: result.number,
            email: result.email.clone(),
            outcome: result.outcome.key().to_owned(),
            code: result.code.clone(),
            message: result.message.clone(),
            invitation_id: result.invitation_id.map(ids::to_db),
        })
        .collect();
    insert_all!(conn, invitation_import_results::table, records)?;
    let count = |outcome: RowOutcome| {
        i32::try_from(results.iter().filter(|result| result.outcome == outcome).count()).unwrap_or(i32::MAX)
    };
    let mut counts = import.counts;
    counts.invited += count(RowOutcome::Invited);
    counts.skipped += count(RowOutcome::Skipped);
    counts.failed += count(RowOutcome::Failed);
    counts.processed = counts.invited + counts.skipped + counts.failed;
    let done = counts.processed >= counts.total;
    let status = if done { ImportStatus::Completed } else { ImportStatus::Processing };
    let now = time::to_db(now);
    diesel::update(invitation_imports::table.find(&id))
        .set((
            invitation_imports::status.eq(status.key()),
            invitation_imports::processed.eq(counts.processed),
            invitation_imports::invited.eq(counts.invited),
            invitation_imports::skipped.eq(counts.skipped),
            invitation_imports::failed.eq(counts.failed),
            invitation_imports::next_row.eq(last_row + 1),
            invitation_imports::updated_at.eq(now),
            invitation_imports::completed_at.eq(done.then_some(now)),
        ))
        .execute(conn)?;
    if done {
        // The results are the record from now on; the uploaded names and
        // emails of rows are not kept longer than needed.
        diesel::delete(invitation_import_rows::table.filter(invitation_import_rows::import_id.eq(&id)))
            .execute(conn)?;
    }
    find_by_id(conn, &id)?.ok_or_else(|| StoreError::Corrupt("the import vanished".into()))
}

/// Every result of an import so far, in file order.
pub fn results(conn: &mut DbConnection, import: Uuid) -> Result<Vec<RowResult>, StoreError> {
    let records: Vec<ResultRecord> = invitation_import_results::table
        .filter(invitation_import_results::import_id.eq(ids::to_db(import)))
        .order(invitation_import_results::row_number.asc())
        .select(ResultRecord::as_select())
        .load(conn)?;
    records.into_iter().map(RowResult::try_from).collect()
}

/// The first `limit` failed rows of an import, in file order.
pub fn first_failures(conn: &mut DbConnection, import: Uuid, limit: i64) -> Result<Vec<RowResult>, StoreError> {
    let records: Vec<ResultRecord> = invitation_import_results::table
        .filter(invitation_import_results::import_id.eq(ids::to_db(import)))
        .filter(invitation_import_results::outcome.eq(RowOutcome::Failed.key()))
        .order(invitation_import_results::row_number.asc())
        .limit(limit)
        .select(ResultRecord::as_select())
        .load(conn)?;
    records.into_iter().map(RowResult::try_from).collect()
}

impl TryFrom<ResultRecord> for RowResult {
    type Error = StoreError;

    fn try_from(record: ResultRecord) -> Result<Self, StoreError> {
        Ok(RowResult {
            number: record.row_number,
            email: record.email,
            outcome: RowOutcome::parse(&record.outcome)
                .ok_or_else(|| StoreError::Corrupt(format!("import outcome {:?}", record.outcome)))?,
            code: record.code,
            message: record.message,
            invitation_id: record.invitation_id.as_deref().map(ids::from_db).transpose()?,
        })
    }
}
