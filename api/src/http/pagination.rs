//! Keyset pagination: `limit` and an opaque `cursor` in, `next_cursor` out.
//! Pages are fetched with one extra row to know whether another follows;
//! no endpoint uses OFFSET.

use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::http::problem::ApiError;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100, example = 50)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(value_type = Option<Uuid>)]
    pub cursor: Option<String>,
}

/// Pagination through a sequence (the audit log): the cursor is a position.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SequencePageQuery {
    /// Page size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100, example = 50)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(minimum = 1, value_type = Option<i64>)]
    pub cursor: Option<String>,
}

impl SequencePageQuery {
    fn page(&self) -> PageQuery {
        PageQuery { limit: self.limit, cursor: self.cursor.clone() }
    }

    pub fn limit(&self) -> Result<i64, ApiError> {
        self.page().limit()
    }
}

impl PageQuery {
    pub fn limit(&self) -> Result<i64, ApiError> {
        match self.limit {
            None => Ok(50),
            Some(limit @ 1..=100) => Ok(i64::from(limit)),
            Some(_) => Err(ApiError::field("limit", "out_of_range", "limit must be between 1 and 100.")),
        }
    }

    pub fn cursor(&self) -> Result<Option<Uuid>, ApiError> {
        self.cursor
            .as_deref()
            .map(|raw| {
                Uuid::parse_str(raw).map_err(|_| {
                    ApiError::field("cursor", "invalid_cursor", "Pass back the next_cursor of a previous page.")
                })
            })
            .transpose()
    }
}

impl SequencePageQuery {
    /// The position the page starts after.
    pub fn position(&self) -> Result<Option<i64>, ApiError> {
        self.cursor
            .as_deref()
            .map(|raw| {
                raw.parse::<i64>().ok().filter(|position| *position > 0).ok_or_else(|| {
                    ApiError::field("cursor", "invalid_cursor", "Pass back the next_cursor of a previous page.")
                })
            })
            .transpose()
    }
}

/// Trims a page fetched with one extra row and returns the next cursor.
pub fn page_cursor<T>(rows: &mut Vec<T>, limit: i64, cursor_of: impl Fn(&T) -> String) -> Option<String> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(cursor_of)
    } else {
        None
    }
}
