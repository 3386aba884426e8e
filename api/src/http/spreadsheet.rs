//! Every CSV the service produces is written here, so that no cell skips
//! the escaping against spreadsheet formula injection
//! ([`domain::text::spreadsheet_safe`]).

use crate::http::problem::ApiError;

/// A CSV document built row by row in memory.
pub struct SafeCsv {
    writer: csv::Writer<Vec<u8>>,
}

impl SafeCsv {
    pub fn new(header: &[&str]) -> Result<Self, ApiError> {
        let mut csv = Self { writer: csv::Writer::from_writer(Vec::new()) };
        csv.row(header.iter().copied())?;
        Ok(csv)
    }

    /// A document continuing another: rows only, no header.
    pub fn continuing() -> Self {
        Self { writer: csv::Writer::from_writer(Vec::new()) }
    }

    pub fn row<'a>(&mut self, cells: impl IntoIterator<Item = &'a str>) -> Result<(), ApiError> {
        let cells = cells.into_iter().map(domain::text::spreadsheet_safe);
        self.writer
            .write_record(cells.collect::<Vec<_>>().iter().map(|cell| cell.as_bytes()))
            .map_err(ApiError::internal)
    }

    pub fn finish(self) -> Result<Vec<u8>, ApiError> {
        self.writer.into_inner().map_err(ApiError::internal)
    }
}

/// An import's per-row report as CSV: what the report endpoint serves with
/// `Accept: text/csv` and the import report email carries.
pub fn import_report(results: &[persistence::imports::RowResult]) -> Result<Vec<u8>, ApiError> {
    let mut csv = SafeCsv::new(&["row", "email", "outcome", "code", "message", "invitation_id"])?;
    for result in results {
        let row = result.number.to_string();
        let invitation = result.invitation_id.map(|id| id.to_string()).unwrap_or_default();
        csv.row([row.as_str(), &result.email, result.outcome.key(), &result.code, &result.message, &invitation])?;
    }
    csv.finish()
}

/// The report file's name.
pub fn import_report_file_name(import: uuid::Uuid) -> String {
    format!("import-{import}-report.csv")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cell_is_escaped_and_quoted_as_csv_needs() {
        let mut csv = SafeCsv::new(&["name", "note"]).unwrap();
        csv.row(["=HYPERLINK(\"http://evil.example\",\"x\")", "plain, with comma"]).unwrap();
        let text = String::from_utf8(csv.finish().unwrap()).unwrap();
        assert_eq!(text, "name,note\n\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",\"plain, with comma\"\n");
    }
}
