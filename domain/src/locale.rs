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
    /// Accepts a language (2 or 3 letters), then optionally a script (4
    /// letters), then optionally a region (2 letters or 3 digits), in any
    /// case: the tags people's languages have. (Variants and extensions
    /// choose nothing among the languages emails are written in.) The API's
    /// schema states the same as a pattern.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let invalid =
            || InvalidValue::new("invalid_format", "Give a BCP 47 language tag, such as \"en\", \"de-AT\" or \"ja\".");
        let letters = |part: &str, lengths: std::ops::RangeInclusive<usize>| {
            lengths.contains(&part.len()) && part.bytes().all(|b| b.is_ascii_alphabetic())
        };
        let mut parts = raw.split('-').peekable();
        if !parts.next().is_some_and(|language| letters(language, 2..=3)) {
            return Err(invalid());
        }
        parts.next_if(|script| letters(script, 4..=4));
        parts.next_if(|region| {
            letters(region, 2..=2) || (region.len() == 3 && region.bytes().all(|b| b.is_ascii_digit()))
        });
        if parts.next().is_some() {
            return Err(invalid());
        }
        LanguageIdentifier::from_str(raw).map(Self).map_err(|_| invalid())
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
        assert_eq!(Locale::parse("de-at").unwrap().to_string(), "de-AT");
        assert_eq!(Locale::parse("ja").unwrap().to_string(), "ja");
        assert_eq!(Locale::parse("zh-hant-tw").unwrap().to_string(), "zh-Hant-TW");
        assert_eq!(Locale::parse("es-419").unwrap().to_string(), "es-419");
        for bad in ["", " de", "de_AT", "de-", "e", "german", "de-AT-1996", "de-AT-x-y", "12", "de\u{0}", "de AT"] {
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
        /// The API's schema promises that every tag of this shape is taken.
        #[test]
        fn every_tag_of_the_documented_shape_is_taken_and_prints_as_itself(
            raw in "[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?"
        ) {
            let locale = Locale::parse(&raw).unwrap();
            prop_assert!(locale.to_string().eq_ignore_ascii_case(&raw));
            prop_assert_eq!(Locale::parse(&locale.to_string()).unwrap(), locale);
        }

        #[test]
        fn nothing_else_is(raw in "[a-zA-Z0-9 _-]{0,16}") {
            let shaped = regex_lite_match(&raw);
            prop_assert_eq!(Locale::parse(&raw).is_ok(), shaped, "{:?}", raw);
        }
    }

    /// The schema's pattern, by hand (the domain has no regex engine).
    fn regex_lite_match(raw: &str) -> bool {
        let parts: Vec<&str> = raw.split('-').collect();
        let alpha = |s: &str, n: &[usize]| n.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphabetic());
        let region = |s: &str| alpha(s, &[2]) || (s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()));
        match parts.as_slice() {
            [language] => alpha(language, &[2, 3]),
            [language, second] => alpha(language, &[2, 3]) && (alpha(second, &[4]) || region(second)),
            [language, script, third] => alpha(language, &[2, 3]) && alpha(script, &[4]) && region(third),
            _ => false,
        }
    }
}
