//! Case-insensitive "contains" search, the same on both backends: diesel has
//! no portable `ilike`, so both sides are lower-cased (emails are stored
//! lower-case already) and LIKE wildcards in the user's text are escaped.
//! On SQLite, FTS5 trigram tables name the candidates first; new
//! invitations reach theirs through a queue ([`index_queued_invitations`]).

use diesel::prelude::*;

use crate::schema::invitations_search_queue;
use crate::{DbConnection, StoreError};

diesel::define_sql_function! {
    /// SQL `lower()`.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

pub(crate) const ESCAPE: char = '\\';

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// The LIKE pattern matching values that contain `text`, or `None` for an
/// empty search.
pub(crate) fn contains_pattern(text: &str) -> Option<String> {
    if text.is_empty() {
        return None;
    }
    Some(format!("%{}%", escape(&text.to_lowercase())))
}

/// The LIKE pattern matching values that start with `text`.
pub(crate) fn prefix_pattern(text: &str) -> String {
    format!("{}%", escape(text))
}

/// The FTS5 phrase that finds `text` as a substring in a trigram index,
/// or `None` when the text is shorter than one trigram (the index cannot
/// help; the caller scans).
pub(crate) fn fts_phrase(text: &str) -> Option<String> {
    (text.chars().count() >= 3).then(|| format!("\"{}\"", text.replace('"', "\"\"")))
}

/// Whether invitations wait for the search index (always `false` on
/// PostgreSQL, whose trigram indexes are written with the row).
pub fn invitations_queued(conn: &mut DbConnection) -> Result<bool, StoreError> {
    let DbConnection::Sqlite(sqlite) = conn else { return Ok(false) };
    let first: Option<String> =
        invitations_search_queue::table.select(invitations_search_queue::invitation_id).first(sqlite).optional()?;
    Ok(first.is_some())
}

/// Moves up to `limit` queued invitations into SQLite's search index, in
/// one FTS5 segment; returns how many. Call inside a write transaction.
pub fn index_queued_invitations(conn: &mut DbConnection, limit: i64) -> Result<usize, StoreError> {
    use invitations_search_queue::dsl::{invitation_id, invitations_search_queue as queue};
    let DbConnection::Sqlite(sqlite) = conn else { return Ok(0) };
    let batch: Vec<String> = queue.select(invitation_id).order(invitation_id.asc()).limit(limit).load(sqlite)?;
    let (Some(first), Some(last)) = (batch.first(), batch.last()) else { return Ok(0) };
    diesel::sql_query(
        "INSERT INTO invitations_search (rowid, invitation_id, email, first_name, last_name) \
         SELECT i.rowid, i.id, i.email, i.first_name, i.last_name \
         FROM invitations_search_queue q JOIN invitations i ON i.id = q.invitation_id \
         WHERE q.invitation_id BETWEEN $1 AND $2",
    )
    .bind::<diesel::sql_types::Text, _>(first)
    .bind::<diesel::sql_types::Text, _>(last)
    .execute(sqlite)?;
    diesel::delete(queue.filter(invitation_id.between(first, last))).execute(sqlite)?;
    Ok(batch.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_in_the_search_text_match_literally() {
        assert_eq!(contains_pattern("Ada"), Some("%ada%".into()));
        assert_eq!(contains_pattern("100%_"), Some("%100\\%\\_%".into()));
        assert_eq!(contains_pattern(""), None);
        assert_eq!(prefix_pattern("join_link."), "join\\_link.%");
    }

    #[test]
    fn a_phrase_needs_a_whole_trigram_and_quotes_its_quotes() {
        assert_eq!(fts_phrase("ad"), None);
        assert_eq!(fts_phrase("ada"), Some("\"ada\"".into()));
        assert_eq!(fts_phrase("a\"b OR c"), Some("\"a\"\"b OR c\"".into()));
    }
}
