//! Case-insensitive "contains" search, the same on both backends: diesel has
//! no portable `ilike`, so both sides are lower-cased (emails are stored
//! lower-case already) and LIKE wildcards in the user's text are escaped.

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
