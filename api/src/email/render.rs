//! Emails from templates: each email is three minijinja templates,
//! `NAME.subject`, `NAME.txt` and `NAME.html` (HTML autoescaped), over
//! `layout.txt` and `layout.html`, with the words taken from Fluent by
//! `t("message-id", arg=value)`. The built-in templates ship in the
//! binary; a file of the same name in `ROSTER_EMAIL_TEMPLATES_DIR`
//! replaces one. Every template is rendered with sample data in every
//! shipped language when the renderer is made, so a broken override stops
//! the start with its file and line instead of failing emails later.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use fluent_bundle::{FluentArgs, FluentValue};
use minijinja::value::{Kwargs, ValueKind};
use minijinja::{AutoEscape, Environment, ErrorKind, Output, State, UndefinedBehavior, Value, context};
use serde::Serialize;
use unic_langid::LanguageIdentifier;

use super::kinds::Message;
use super::words::{SHIPPED, Words};

/// `(file name, source)` for shared files, then the three files of each email.
macro_rules! built_in {
    ($($shared:literal),*; $($email:literal),*) => {
        [
            $(($shared, include_str!(concat!("templates/", $shared))),)*
            $(
                (concat!($email, ".subject"), include_str!(concat!("templates/", $email, ".subject"))),
                (concat!($email, ".txt"), include_str!(concat!("templates/", $email, ".txt"))),
                (concat!($email, ".html"), include_str!(concat!("templates/", $email, ".html"))),
            )*
        ]
    };
}

/// The built-in templates, by file name.
const BUILT_IN: &[(&str, &str)] = &built_in![
    "layout.html",
    "layout.txt",
    "macros.html";
    "invitation",
    "invitation_reminder",
    "email_verification",
    "password_reset",
    "password_changed",
    "email_change",
    "registration_attempted",
    "email_change_attempted",
    "email_changed",
    "import_report",
    "join_request_received",
    "join_request_approved",
    "join_request_declined",
    "directory_welcome",
    "domain_unverified",
    "webhook_disabled",
    "api_key_created",
    "ownership_transferred",
    "access_review_started",
    "access_review_due_soon",
    "access_review_overdue",
    "account_link_requested",
    "account_deletion_scheduled",
    "account_restored",
    "personal_export_ready"
];

/// The operator's product, as every email names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Brand {
    pub product_name: String,
    pub support_email: Option<String>,
    pub support_url: Option<String>,
    pub logo_url: Option<String>,
}

impl Default for Brand {
    fn default() -> Self {
        Self { product_name: "Roster".into(), support_email: None, support_url: None, logo_url: None }
    }
}

/// Who reads an email: the languages they may read it in, most wanted
/// first (their own, the invitation's, the account's), and their time zone.
#[derive(Debug, Clone, Default)]
pub struct Reader {
    pub languages: Vec<LanguageIdentifier>,
    pub time_zone: Option<chrono_tz::Tz>,
}

/// An email ready for the transport.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rendered {
    /// The language it is written in.
    pub language: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A template that cannot be used: names its file and line.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read the email templates directory {dir}: {reason}")]
    Unreadable { dir: String, reason: String },
    #[error("{file}: no built-in email template has this name; the names are {known}")]
    UnknownFile { file: String, known: String },
    #[error("email template {0}")]
    Broken(String),
    #[error("email words: {0}")]
    Words(String),
}

pub struct EmailRenderer {
    env: Environment<'static>,
    words: Arc<Words>,
    brand: Brand,
    /// The files that replace built-in ones, for the log.
    overridden: Vec<String>,
}

impl std::fmt::Debug for EmailRenderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailRenderer").field("brand", &self.brand).field("overridden", &self.overridden).finish()
    }
}

impl EmailRenderer {
    /// The renderer for `brand`, writing to readers nobody knows more
    /// about in `default_locale`, with the templates of `overrides` (a
    /// directory) in place of the built-in ones of the same name. Fails
    /// when a template does not render every sample in every language.
    pub fn new(brand: Brand, default_locale: &domain::Locale, overrides: Option<&Path>) -> Result<Self, TemplateError> {
        let words = Arc::new(Words::shipped(default_locale).map_err(TemplateError::Words)?);
        let overrides = match overrides {
            Some(dir) => read_overrides(dir)?,
            None => HashMap::new(),
        };
        let mut overridden: Vec<String> = overrides.keys().cloned().collect();
        overridden.sort();
        let renderer = Self { env: environment(words.clone(), &brand, overrides), words, brand, overridden };
        renderer.check()?;
        Ok(renderer)
    }

    pub fn brand(&self) -> &Brand {
        &self.brand
    }

    pub fn overridden(&self) -> &[String] {
        &self.overridden
    }

    /// Renders `email` for `reader`.
    pub fn render(&self, email: &Message, reader: &Reader) -> Result<Rendered, minijinja::Error> {
        let wanted: Vec<&LanguageIdentifier> = reader.languages.iter().collect();
        let language = self.words.negotiate(&wanted);
        let zone = reader.time_zone.unwrap_or(chrono_tz::UTC);
        self.render_in(email, &language, zone)
    }

    fn render_in(&self, email: &Message, language: &str, zone: chrono_tz::Tz) -> Result<Rendered, minijinja::Error> {
        let name = email.template();
        let params = Value::from_serialize(email.params());
        let ctx = context! { brand => &self.brand, lang => language, time_zone => zone.name(), ..params };
        let subject = one_line(&self.env.get_template(&format!("{name}.subject"))?.render(&ctx)?);
        let ctx = context! { subject => &subject, ..ctx };
        let text = tidy_text(&self.env.get_template(&format!("{name}.txt"))?.render(&ctx)?);
        let html = self.env.get_template(&format!("{name}.html"))?.render(&ctx)?;
        Ok(Rendered { language: language.to_owned(), subject, text, html })
    }

    /// Template `name`'s sample, as a reader of `locale` (the default
    /// language when `None`) would get it: what previews show.
    pub fn preview(&self, name: &str, locale: Option<&domain::Locale>) -> Option<Result<Rendered, minijinja::Error>> {
        let email = Message::sample(name)?;
        let reader = Reader { languages: locale.map(|l| l.tag().clone()).into_iter().collect(), time_zone: None };
        Some(self.render(&email, &reader))
    }

    /// Renders every sample in every shipped language.
    fn check(&self) -> Result<(), TemplateError> {
        for email in Message::samples() {
            for (language, _) in SHIPPED {
                self.render_in(&email, language, chrono_tz::Europe::Vienna).map_err(|error| {
                    TemplateError::Broken(format!(
                        "{} (rendering {} in {language})",
                        described(&error),
                        email.template()
                    ))
                })?;
            }
        }
        Ok(())
    }

    /// The names of the emails there are templates for.
    pub fn names() -> Vec<&'static str> {
        Message::samples().iter().map(Message::template).collect()
    }
}

/// A template error with its file and line, and what was wrong.
fn described(error: &minijinja::Error) -> String {
    let place = match (error.name(), error.line()) {
        (Some(name), Some(line)) => format!("{name}, line {line}: "),
        (Some(name), None) => format!("{name}: "),
        _ => String::new(),
    };
    let detail =
        error.detail().map_or_else(|| error.kind().to_string(), |detail| format!("{}: {detail}", error.kind()));
    let mut text = format!("{place}{detail}");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(&format!(" ({cause})"));
        source = cause.source();
    }
    text
}

fn read_overrides(dir: &Path) -> Result<HashMap<String, String>, TemplateError> {
    let unreadable = |reason: std::io::Error| TemplateError::Unreadable {
        dir: dir.display().to_string(),
        reason: reason.to_string(),
    };
    let mut overrides = HashMap::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let file = entry.file_name().to_string_lossy().into_owned();
        if file.starts_with('.') || !entry.file_type().map_err(unreadable)?.is_file() {
            continue;
        }
        if !BUILT_IN.iter().any(|(name, _)| *name == file) {
            let known = BUILT_IN.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ");
            return Err(TemplateError::UnknownFile { file: entry.path().display().to_string(), known });
        }
        let source = std::fs::read_to_string(entry.path()).map_err(|error| TemplateError::Unreadable {
            dir: entry.path().display().to_string(),
            reason: error.to_string(),
        })?;
        overrides.insert(file, source);
    }
    Ok(overrides)
}

fn environment(words: Arc<Words>, brand: &Brand, overrides: HashMap<String, String>) -> Environment<'static> {
    let mut env = Environment::new();
    // A name a template uses and the email does not have is an error, not
    // a blank: overrides are checked against every sample at start-up.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_formatter(html_formatter);
    env.set_loader(move |name| {
        Ok(overrides
            .get(name)
            .cloned()
            .or_else(|| BUILT_IN.iter().find(|(file, _)| *file == name).map(|(_, source)| (*source).to_owned())))
    });
    let product = brand.product_name.clone();
    let translate = words.clone();
    env.add_function("t", move |state: &State, key: String, kwargs: Kwargs| -> Result<String, minijinja::Error> {
        let mut args = FluentArgs::new();
        args.set("product", FluentValue::from(product.clone()));
        for name in kwargs.args() {
            let value: Value = kwargs.get(name)?;
            args.set(name.to_owned(), fluent_value(name, &value)?);
        }
        kwargs.assert_all_used()?;
        translate
            .format(&language(state), &key, &args)
            .map_err(|reason| minijinja::Error::new(ErrorKind::InvalidOperation, reason))
    });
    let dates = words.clone();
    env.add_filter("datetime", move |state: &State, at: String| datetime(&dates, state, &at, true));
    env.add_filter("date", move |state: &State, at: String| datetime(&words, state, &at, false));
    env.add_filter("quote", |text: String| text.lines().map(|line| format!("> {line}")).collect::<Vec<_>>().join("\n"));
    env.add_filter("inert", |text: String| inert(&text));
    env
}

/// minijinja's escaping, but with `/` left as it is: links in `href`
/// stay readable in the source of an email, and `/` means nothing in HTML
/// text or quoted attributes.
fn html_formatter(out: &mut Output, state: &State, value: &Value) -> Result<(), minijinja::Error> {
    match value.as_str() {
        Some(text) if state.auto_escape() == AutoEscape::Html && !value.is_safe() => {
            let mut escaped = String::with_capacity(text.len());
            for c in text.chars() {
                match c {
                    '&' => escaped.push_str("&amp;"),
                    '<' => escaped.push_str("&lt;"),
                    '>' => escaped.push_str("&gt;"),
                    '"' => escaped.push_str("&quot;"),
                    '\'' => escaped.push_str("&#39;"),
                    c => escaped.push(c),
                }
            }
            out.write_str(&escaped).map_err(|_| minijinja::Error::from(ErrorKind::WriteFailure))
        }
        _ => minijinja::escape_formatter(out, state, value),
    }
}

fn language(state: &State) -> String {
    state.lookup("lang").and_then(|lang| lang.as_str().map(str::to_owned)).unwrap_or_default()
}

fn fluent_value(name: &str, value: &Value) -> Result<FluentValue<'static>, minijinja::Error> {
    match value.kind() {
        ValueKind::Number => match value.as_i64() {
            Some(number) => Ok(FluentValue::from(number)),
            None => Ok(FluentValue::from(f64::try_from(value.clone())?)),
        },
        ValueKind::Undefined | ValueKind::None => {
            Err(minijinja::Error::new(ErrorKind::UndefinedError, format!("argument {name} has no value")))
        }
        _ => Ok(FluentValue::from(value.to_string())),
    }
}

fn datetime(words: &Words, state: &State, at: &str, full: bool) -> Result<String, minijinja::Error> {
    let at = DateTime::parse_from_rfc3339(at)
        .map_err(|e| minijinja::Error::new(ErrorKind::InvalidOperation, format!("not a time: {e}")))?
        .with_timezone(&Utc);
    let zone = state
        .lookup("time_zone")
        .and_then(|zone| zone.as_str().and_then(|name| name.parse::<chrono_tz::Tz>().ok()))
        .unwrap_or(chrono_tz::UTC);
    words
        .datetime(&language(state), at, zone, full)
        .map_err(|reason| minijinja::Error::new(ErrorKind::InvalidOperation, reason))
}

/// What someone typed, with no address or link a mail client would turn
/// into one: a zero-width space after every `.`, `@` and `:`, which readers
/// do not see and autolinkers stop at. Roster never makes links of what
/// people wrote; this keeps their mail clients from making them either.
fn inert(text: &str) -> String {
    let mut inert = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        inert.push(c);
        if matches!(c, '.' | '@' | ':') {
            inert.push('\u{200B}');
        }
    }
    inert
}

/// A subject is one line, whatever the template's whitespace.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text part without the blank lines templates leave: at most one
/// empty line between paragraphs, none at the ends.
fn tidy_text(text: &str) -> String {
    let mut tidy = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines().map(str::trim_end) {
        if line.is_empty() {
            blank += 1;
            continue;
        }
        if !tidy.is_empty() && blank > 0 {
            tidy.push('\n');
        }
        blank = 0;
        tidy.push_str(line);
        tidy.push('\n');
    }
    tidy
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renderer(brand: Brand) -> EmailRenderer {
        EmailRenderer::new(brand, &domain::Locale::parse("en").unwrap(), None).unwrap()
    }

    fn reader(tag: &str) -> Reader {
        Reader { languages: vec![tag.parse().unwrap()], time_zone: None }
    }

    /// Every built-in email in every shipped language: the snapshots are
    /// what a reviewer reads to approve a wording.
    #[test]
    fn every_built_in_email_renders_in_every_language() {
        let renderer = renderer(Brand::default());
        for email in Message::samples() {
            for (language, _) in SHIPPED {
                let rendered = renderer.render(&email, &reader(language)).unwrap();
                assert_eq!(rendered.language, language);
                assert!(!rendered.subject.is_empty() && !rendered.text.is_empty());
                let snapshot =
                    format!("Subject: {}\n\n{}\n--- html ---\n{}", rendered.subject, rendered.text, rendered.html);
                insta::assert_snapshot!(format!("{}.{language}", email.template()), snapshot);
            }
        }
    }

    #[test]
    fn what_people_typed_is_escaped_in_html_and_quoted_in_text() {
        let renderer = renderer(Brand::default());
        let Some(Message::Invitation(mut invitation)) = Message::sample("invitation") else { panic!("a sample") };
        invitation.inviter_name = "<script>alert(1)</script>".into();
        invitation.account_name = "Acme & Sons".into();
        invitation.message = Some("Hello <b>team</b>\nsee https://evil.example".into());
        let rendered = renderer.render(&Message::Invitation(invitation), &reader("en")).unwrap();
        assert!(!rendered.html.contains("<script>") && !rendered.html.contains("<b>"));
        assert!(rendered.html.contains("Acme &amp; Sons"));
        assert!(!rendered.html.contains("href=\"https://evil.example"), "no link is made of the message");
        let all = format!("{}{}", rendered.text, rendered.html);
        assert!(!all.contains("evil.example") && !all.contains("https://e"), "nothing an autolinker takes: {all}");
        assert!(rendered.text.contains("> Hello <b>team</b>\n> see https:\u{200B}//evil.\u{200B}example\n"));
        assert!(rendered.text.contains("https://accounts.example.com/invitations/accept?token=sample"));
    }

    #[test]
    fn a_configured_product_name_replaces_roster_everywhere() {
        let brand = Brand {
            product_name: "Acme Cloud".into(),
            support_email: Some("help@acme.example".into()),
            support_url: Some("https://acme.example/help".into()),
            logo_url: Some("https://acme.example/logo.png".into()),
        };
        let renderer = renderer(brand);
        for email in Message::samples() {
            for (language, _) in SHIPPED {
                let rendered = renderer.render(&email, &reader(language)).unwrap();
                let all = format!("{}{}{}", rendered.subject, rendered.text, rendered.html);
                assert!(!all.contains("Roster"), "{} in {language} says Roster", email.template());
                assert!(rendered.text.contains("help@acme.example") && rendered.html.contains("logo.png"));
            }
        }
    }

    #[test]
    fn an_override_replaces_one_template_and_a_broken_one_names_its_file_and_line() {
        let dir = std::env::temp_dir().join(format!("roster-templates-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("password_changed.subject"),
            "{{ brand.product_name }}: {{ t(\"password-changed-subject\") }} (custom)",
        )
        .unwrap();
        let en = domain::Locale::parse("en").unwrap();
        let renderer = EmailRenderer::new(Brand::default(), &en, Some(&dir)).unwrap();
        assert_eq!(renderer.overridden(), ["password_changed.subject"]);
        let changed = renderer.render(&Message::PasswordChanged, &reader("de")).unwrap();
        assert_eq!(changed.subject, "Roster: Ihr Roster-Passwort wurde geändert (custom)");
        let untouched = renderer.render(&Message::RegistrationAttempted, &reader("en")).unwrap();
        assert_eq!(untouched.subject, "Someone tried to register with your email address");

        std::fs::write(
            dir.join("invitation.html"),
            "{% extends \"layout.html\" %}\n{% block body %}\n<p>{{ inviter }}</p>\n{% endblock %}\n",
        )
        .unwrap();
        let error = EmailRenderer::new(Brand::default(), &en, Some(&dir)).unwrap_err().to_string();
        assert!(error.contains("invitation.html, line 3"), "{error}");

        std::fs::write(dir.join("invitation.html"), "{% if %}").unwrap();
        let error = EmailRenderer::new(Brand::default(), &en, Some(&dir)).unwrap_err().to_string();
        assert!(error.contains("invitation.html, line 1") && error.contains("syntax"), "{error}");

        std::fs::remove_file(dir.join("invitation.html")).unwrap();
        std::fs::write(dir.join("invitaton.html"), "typo").unwrap();
        let error = EmailRenderer::new(Brand::default(), &en, Some(&dir)).unwrap_err().to_string();
        assert!(error.contains("invitaton.html") && error.contains("invitation.html"), "{error}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn german_readers_get_german_words_and_dates_in_their_time_zone() {
        let renderer = renderer(Brand::default());
        let email = Message::sample("invitation").unwrap();
        let reader = Reader { languages: vec!["de-AT".parse().unwrap()], time_zone: Some(chrono_tz::Europe::Vienna) };
        let rendered = renderer.render(&email, &reader).unwrap();
        assert_eq!(rendered.language, "de");
        assert!(rendered.text.contains("24. Dezember 2026, 18:30 CET"), "{}", rendered.text);
        assert!(rendered.subject.starts_with("Einladung"), "{}", rendered.subject);
    }
}
