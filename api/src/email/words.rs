//! The words of every email, in every shipped language: Fluent files
//! (`locales/LANG.ftl`) built into the binary. Which language an email is
//! written in is negotiated from the reader's preferences, falling back
//! along each tag (`de-AT` → `de`) and then to the deployment's default.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use fluent_langneg::{NegotiationStrategy, negotiate_languages};
use unic_langid::LanguageIdentifier;

/// The languages every built-in email is written in, with their words.
pub const SHIPPED: [(&str, &str); 5] = [
    ("en", include_str!("locales/en.ftl")),
    ("de", include_str!("locales/de.ftl")),
    ("fr", include_str!("locales/fr.ftl")),
    ("es", include_str!("locales/es.ftl")),
    ("ja", include_str!("locales/ja.ftl")),
];

/// The language an email falls back to when nothing else is known.
pub const FALLBACK: &str = "en";

pub struct Words {
    bundles: HashMap<String, FluentBundle<FluentResource>>,
    available: Vec<LanguageIdentifier>,
    default: LanguageIdentifier,
}

impl std::fmt::Debug for Words {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Words").field("available", &self.available).field("default", &self.default).finish()
    }
}

impl Words {
    /// The shipped languages, with `default` (a shipped language, or a
    /// tag that falls back to one) for readers nobody knows more about.
    pub fn shipped(default: &domain::Locale) -> Result<Self, String> {
        let mut bundles = HashMap::new();
        let mut available = Vec::new();
        for (tag, source) in SHIPPED {
            let lang: LanguageIdentifier = tag.parse().map_err(|e| format!("{tag}: {e}"))?;
            let resource = FluentResource::try_new(source.to_owned())
                .map_err(|(_, errors)| format!("locales/{tag}.ftl does not parse: {errors:?}"))?;
            let mut bundle = FluentBundle::new_concurrent(vec![lang.clone()]);
            // Bidi isolation marks are invisible in the languages shipped,
            // and they would sit inside every link and address in the text part.
            bundle.set_use_isolating(false);
            bundle.add_resource(resource).map_err(|errors| format!("locales/{tag}.ftl: {errors:?}"))?;
            bundles.insert(tag.to_owned(), bundle);
            available.push(lang);
        }
        let fallback: LanguageIdentifier = FALLBACK.parse().map_err(|e| format!("{e}"))?;
        let default = negotiate_languages(&[default.tag()], &available, None, NegotiationStrategy::Lookup)
            .first()
            .map(|lang| (*lang).clone())
            .ok_or_else(|| {
                format!(
                    "no built-in language for the default locale {default}; the languages are {}",
                    SHIPPED.map(|(tag, _)| tag).join(", ")
                )
            })?;
        debug_assert!(available.contains(&fallback));
        Ok(Self { bundles, available, default })
    }

    /// The shipped language to write in for a reader whose preferences
    /// are `wanted`, most wanted first.
    pub fn negotiate(&self, wanted: &[&LanguageIdentifier]) -> String {
        negotiate_languages(wanted, &self.available, Some(&self.default), NegotiationStrategy::Lookup)
            .first()
            .map_or_else(|| self.default.to_string(), |lang| lang.to_string())
    }

    /// The deployment's default language.
    pub fn default_language(&self) -> String {
        self.default.to_string()
    }

    /// Message `key` in `lang` with `args`. A key missing in `lang` is
    /// written in English rather than failing the email (a test keeps
    /// every language complete); a key missing everywhere, or a message
    /// that names an argument it was not given, is an error.
    pub fn format(&self, lang: &str, key: &str, args: &FluentArgs<'_>) -> Result<String, String> {
        let bundle = self.bundles.get(lang).ok_or_else(|| format!("no language {lang}"))?;
        let (bundle, message) = match bundle.get_message(key) {
            Some(message) => (bundle, message),
            None => {
                let english = self.bundles.get(FALLBACK).ok_or("no English words")?;
                let message = english.get_message(key).ok_or_else(|| format!("no message {key:?}"))?;
                tracing::warn!(lang, key, "an email message has no translation; written in English");
                (english, message)
            }
        };
        let pattern = message.value().ok_or_else(|| format!("message {key:?} has no value"))?;
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(args), &mut errors);
        match errors.first() {
            None => Ok(text.into_owned()),
            Some(error) => Err(format!("message {key:?} in {lang}: {error}")),
        }
    }

    /// `at` in `zone`, written as `lang` writes a date and time (`full`)
    /// or a date, with the format its `datetime-format` or `date-format`
    /// message gives.
    pub fn datetime(&self, lang: &str, at: DateTime<Utc>, zone: chrono_tz::Tz, full: bool) -> Result<String, String> {
        let format = self.format(lang, if full { "datetime-format" } else { "date-format" }, &FluentArgs::new())?;
        let local = at.with_timezone(&zone);
        Ok(local.format_localized(&format, chrono_locale(lang)).to_string())
    }
}

/// The conventions chrono names dates by (month and day names) for a
/// shipped language.
fn chrono_locale(lang: &str) -> chrono::Locale {
    match lang {
        "de" => chrono::Locale::de_DE,
        "fr" => chrono::Locale::fr_FR,
        "es" => chrono::Locale::es_ES,
        "ja" => chrono::Locale::ja_JP,
        _ => chrono::Locale::en_US,
    }
}

/// The names of the messages a Fluent file defines, in order.
#[cfg(test)]
pub fn message_keys(source: &str) -> Vec<&str> {
    source
        .lines()
        .filter(|line| line.starts_with(|c: char| c.is_ascii_lowercase()))
        .filter_map(|line| line.split_once(" =").map(|(key, _)| key.trim()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words() -> Words {
        Words::shipped(&domain::Locale::parse("en").unwrap()).unwrap()
    }

    #[test]
    fn every_language_has_every_message_and_no_other() {
        let english: Vec<&str> = message_keys(SHIPPED[0].1);
        assert!(english.len() > 50, "the English words parse into keys");
        for (tag, source) in &SHIPPED[1..] {
            let keys = message_keys(source);
            let missing: Vec<_> = english.iter().filter(|key| !keys.contains(key)).collect();
            let extra: Vec<_> = keys.iter().filter(|key| !english.contains(key)).collect();
            assert!(missing.is_empty() && extra.is_empty(), "{tag}.ftl: missing {missing:?}, unknown {extra:?}");
        }
    }

    #[test]
    fn a_tag_falls_back_along_itself_then_to_the_default() {
        let words = words();
        let tag = |text: &str| text.parse::<LanguageIdentifier>().unwrap();
        assert_eq!(words.negotiate(&[&tag("de-AT")]), "de");
        assert_eq!(words.negotiate(&[&tag("pt-BR"), &tag("fr")]), "fr");
        assert_eq!(words.negotiate(&[&tag("pt-BR")]), "en");
        assert_eq!(words.negotiate(&[]), "en");
        let german_default = Words::shipped(&domain::Locale::parse("de-CH").unwrap()).unwrap();
        assert_eq!(german_default.negotiate(&[&tag("pt")]), "de");
        assert!(Words::shipped(&domain::Locale::parse("pt").unwrap()).unwrap_err().contains("en, de, fr, es, ja"));
    }

    #[test]
    fn dates_are_written_in_the_language_and_the_readers_time_zone() {
        let words = words();
        let at = DateTime::parse_from_rfc3339("2026-12-24T17:30:00Z").unwrap().with_timezone(&Utc);
        let vienna: chrono_tz::Tz = "Europe/Vienna".parse().unwrap();
        assert_eq!(words.datetime("de", at, vienna, true).unwrap(), "24. Dezember 2026, 18:30 CET");
        assert_eq!(words.datetime("en", at, chrono_tz::UTC, true).unwrap(), "December 24, 2026, 17:30 UTC");
        assert_eq!(words.datetime("fr", at, chrono_tz::UTC, false).unwrap(), "24 décembre 2026");
        assert_eq!(words.datetime("ja", at, chrono_tz::Tz::Asia__Tokyo, false).unwrap(), "2026年12月25日");
    }

    #[test]
    fn a_missing_argument_is_an_error_not_a_blank() {
        let error = words().format("en", "invitation-intro", &FluentArgs::new()).unwrap_err();
        assert!(error.contains("invitation-intro"), "{error}");
        assert!(words().format("en", "no-such-message", &FluentArgs::new()).is_err());
    }
}
