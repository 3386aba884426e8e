//! The language and time zone people read in: a BCP 47 language tag
//! (`de-AT`, `ja`, `pt-BR`) and an IANA time zone (`Europe/Vienna`).
//! Any well-formed tag is accepted, not only the languages shipped:
//! which of those an email is written in is decided when it is sent, by
//! falling back along the tag (`de-AT` → `de`) and then to defaults.

use std::fmt;
use std::str::FromStr;

use unic_langid::LanguageIdentifier;

use crate::InvalidValue;

/// A BCP 47 language tag, in its canonical form (`de-at` → `de-AT`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Locale(LanguageIdentifier);

impl Locale {
    /// Longer tags exist in theory; nobody's language needs one.
    pub const MAX_CHARS: usize = 35;

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let invalid =
            || InvalidValue::new("invalid_format", "Give a BCP 47 language tag, such as \"en\", \"de-AT\" or \"ja\".");
        let text = raw.trim();
        if text.is_empty()
            || text.len() > Self::MAX_CHARS
            || !text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(invalid());
        }
        let tag = LanguageIdentifier::from_str(text).map_err(|_| invalid())?;
        // `und` (undetermined) parses, but says nothing about a language.
        if tag.language.is_empty() {
            return Err(invalid());
        }
        Ok(Self(tag))
    }

    pub fn tag(&self) -> &LanguageIdentifier {
        &self.0
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An IANA time zone, such as `Europe/Vienna` or `UTC`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(chrono_tz::Tz);

impl TimeZone {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        raw.trim().parse::<chrono_tz::Tz>().map(Self).map_err(|_| {
            InvalidValue::new("invalid_format", "Give an IANA time zone, such as \"Europe/Vienna\" or \"UTC\".")
        })
    }

    pub fn zone(&self) -> chrono_tz::Tz {
        self.0
    }

    pub fn name(&self) -> &'static str {
        self.0.name()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn tags_are_canonical_and_nonsense_is_refused() {
        assert_eq!(Locale::parse(" de-at ").unwrap().to_string(), "de-AT");
        assert_eq!(Locale::parse("ja").unwrap().to_string(), "ja");
        assert_eq!(Locale::parse("zh-Hant-TW").unwrap().to_string(), "zh-Hant-TW");
        for bad in ["", "und", "de_AT", "de-", "e", "de-AT-x-", "12", "de\u{0}", "de AT"] {
            assert!(Locale::parse(bad).is_err(), "{bad:?} is not a language tag");
        }
    }

    #[test]
    fn time_zones_are_iana_names() {
        assert_eq!(TimeZone::parse("Europe/Vienna").unwrap().name(), "Europe/Vienna");
        assert_eq!(TimeZone::parse("UTC").unwrap().name(), "UTC");
        assert!(TimeZone::parse("Mars/Olympus").is_err());
        assert!(TimeZone::parse("").is_err());
    }

    proptest! {
        #[test]
        fn whatever_parses_prints_as_a_tag_that_parses_to_itself(raw in "[a-zA-Z0-9-]{0,20}") {
            if let Ok(locale) = Locale::parse(&raw) {
                prop_assert_eq!(Locale::parse(&locale.to_string()).unwrap(), locale);
            }
        }
    }
}
