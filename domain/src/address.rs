//! The company's addresses (business, billing, shipping), with no IO:
//! countries are ISO 3166-1 alpha-2 codes checked against the standard's
//! list (the `isocountry` crate), postal codes and lines are bounded plain
//! text, and each kind has at most one default address.

use crate::InvalidValue;

/// What an address is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressKind {
    Business,
    Billing,
    Shipping,
}

impl AddressKind {
    pub const ALL: [AddressKind; 3] = [AddressKind::Business, AddressKind::Billing, AddressKind::Shipping];

    pub fn key(self) -> &'static str {
        match self {
            AddressKind::Business => "business",
            AddressKind::Billing => "billing",
            AddressKind::Shipping => "shipping",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.key() == raw)
            .ok_or_else(|| InvalidValue::new("unknown_kind", "Use business, billing or shipping."))
    }
}

/// An ISO 3166-1 alpha-2 country code, upper case, exactly as the
/// standard writes it (the contract enumerates [`CountryCode::all`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryCode(&'static str);

impl CountryCode {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        Self::all().find(|code| *code == raw).map(Self).ok_or_else(|| {
            InvalidValue::new("unknown_country", "Give the country as its ISO 3166-1 alpha-2 code, such as DE or US.")
        })
    }

    /// Every code of the standard, in alphabetical order.
    pub fn all() -> impl Iterator<Item = &'static str> {
        isocountry::CountryCode::iter_alpha2().map(isocountry::CountryCode::alpha2)
    }

    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

/// A postal code: letters, digits, spaces and hyphens, 2 to 12 characters
/// (the longest in use is 10), starting and ending with a letter or digit;
/// stored upper case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostalCode(String);

impl PostalCode {
    pub const MAX_CHARS: usize = 12;

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let code = raw.to_uppercase();
        let ends = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        let valid = (2..=Self::MAX_CHARS).contains(&code.chars().count())
            && code.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
            && ends(code.chars().next())
            && ends(code.chars().last());
        if valid {
            Ok(Self(code))
        } else {
            Err(InvalidValue::new(
                "invalid_postal_code",
                "A postal code has 2 to 12 letters, digits, spaces or hyphens.",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The street lines: one to three, each 1 to 200 characters without
/// control characters.
pub fn parse_lines(raw: &[String]) -> Result<Vec<String>, InvalidValue> {
    if raw.is_empty() || raw.len() > 3 {
        return Err(InvalidValue::new("invalid_lines", "Give one to three address lines."));
    }
    raw.iter().map(|line| crate::person_name::parse_label(line, 200, "an address line")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_come_from_the_standard() {
        assert_eq!(CountryCode::parse("US").unwrap().as_str(), "US");
        assert_eq!(CountryCode::all().count(), 249);
        for bad in ["XX", "DEU", "", "Germany", "ZZ", "de", " DE"] {
            assert_eq!(CountryCode::parse(bad).unwrap_err().code, "unknown_country", "{bad}");
        }
    }

    #[test]
    fn postal_codes_and_lines_are_bounded_plain_text() {
        assert_eq!(PostalCode::parse("sw1a 1aa").unwrap().as_str(), "SW1A 1AA");
        assert_eq!(PostalCode::parse("10115").unwrap().as_str(), "10115");
        for bad in ["1", "--", "1234567890123", "10115;DROP", "ä1234", " 10115", "10115-", " 1"] {
            assert!(PostalCode::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_lines(&["Unter den Linden 1".into()]).unwrap(), ["Unter den Linden 1"]);
        assert!(parse_lines(&[]).is_err());
        assert!(parse_lines(&["a".into(), "b".into(), "c".into(), "d".into()]).is_err());
        assert!(parse_lines(&["line\nbreak".into()]).is_err());
    }
}
