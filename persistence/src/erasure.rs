//! Erasing a deleted account a batch at a time. Each step deletes at most
//! one batch of the account's largest tables in a transaction of its own,
//! so a crash loses at most one batch of work and the next run goes on
//! where it stopped; once nothing large is left, the account's row goes
//! and with it (`ON DELETE CASCADE`) everything else that names it. Its
//! audit chain stays as it was sealed, verifiable, and leaves with the
//! audit retention like any other.

use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::{accounts, invitation_imports, invitations, memberships, webhook_deliveries, webhook_endpoints};
use crate::{DbConnection, StoreError, ids, write_transaction};

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Rows erased; more steps follow.
    Erased(usize),
    /// Nothing large is left: [`erase_account`] finishes.
    OnlyTheAccountLeft,
}

/// Deletes at most `$batch` rows of `$table` that match `$filter`, chosen
/// by `$key`, and ends the step if any were there.
macro_rules! erase_some {
    ($conn:expr, $table:expr, $key:expr => $key_type:ty, $filter:expr, $batch:expr) => {{
        let keys: Vec<$key_type> = $table.filter($filter).select($key).limit($batch).load($conn)?;
        if !keys.is_empty() {
            let erased = diesel::delete($table.filter($filter).filter($key.eq_any(&keys))).execute($conn)?;
            return Ok(Step::Erased(erased));
        }
    }};
}

/// Erases the next batch of `account` (at most `batch` rows of one table):
/// an import's results and rows (up to 100,000 each), webhook deliveries,
/// invitations, memberships.
pub fn erase_step(conn: &mut DbConnection, account: Uuid, batch: i64) -> Result<Step, StoreError> {
    use crate::schema::invitation_import_results as results;
    use crate::schema::invitation_import_rows as rows;
    let account = ids::to_db(account);
    write_transaction(conn, |conn| {
        let imports: Vec<String> = invitation_imports::table
            .filter(invitation_imports::account_id.eq(&account))
            .select(invitation_imports::id)
            .load(conn)?;
        for import in &imports {
            erase_some!(conn, results::table, results::row_number => i32, results::import_id.eq(import), batch);
            erase_some!(conn, rows::table, rows::row_number => i32, rows::import_id.eq(import), batch);
        }
        let endpoints: Vec<String> = webhook_endpoints::table
            .filter(webhook_endpoints::account_id.eq(&account))
            .select(webhook_endpoints::id)
            .load(conn)?;
        erase_some!(conn, webhook_deliveries::table, webhook_deliveries::id => String, webhook_deliveries::endpoint_id.eq_any(&endpoints), batch);
        erase_some!(conn, invitations::table, invitations::id => String, invitations::account_id.eq(&account), batch);
        erase_some!(conn, memberships::table, memberships::id => String, memberships::account_id.eq(&account), batch);
        Ok(Step::OnlyTheAccountLeft)
    })
}

/// Deletes the account's row, and with it (`ON DELETE CASCADE`) everything
/// else that names it: call once [`erase_step`] found only it left, in the
/// transaction that records the erasure. Whether it was there.
pub fn erase_account(conn: &mut DbConnection, account: Uuid) -> Result<bool, StoreError> {
    Ok(diesel::delete(accounts::table.find(ids::to_db(account))).execute(conn)? > 0)
}
