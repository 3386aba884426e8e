//! The JSON Schemas of the request fields the domain parses (names, labels,
//! free text, tokens, emails, passwords, role and permission keys), stated
//! once so that every operation describes a field as its parser accepts it.
//! The route modules use them; the document module only collects them.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    Array, ArrayBuilder, KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};

/// What the domain's label parsers (`PersonName`, `AccountName`,
/// `GroupName`, `RoleName`) accept, as a JSON Schema pattern: at least one
/// character that is neither white space nor a control character, and no
/// control characters. Kept honest by `label_pattern_matches_the_parsers`.
pub const LABEL_PATTERN: &str =
    r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$";

/// What `Description` accepts: no control characters but line breaks and
/// tabs.
pub const FREE_TEXT_PATTERN: &str = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$";

/// [`FREE_TEXT_PATTERN`] with at least one character that is not white
/// space: free text that must say something (a reviewer's reason).
pub const REQUIRED_FREE_TEXT_PATTERN: &str = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*[^\s\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f][^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$";

/// No control characters at all (optional names, which may be empty).
pub const NO_CONTROL_PATTERN: &str = r"^[^\u0000-\u001f\u007f-\u009f]*$";

/// What `PostalCode` accepts: letters, digits, spaces and hyphens, a
/// letter or digit at each end.
pub const POSTAL_CODE_PATTERN: &str = r"^[A-Za-z0-9][A-Za-z0-9 -]*[A-Za-z0-9]$";

/// The characters `PhoneNumber` reads: `+`, then digits with spaces,
/// parentheses, dots and hyphens between them; or nothing (no number).
/// (Whether the number exists in its country's plan is libphonenumber's
/// data, not a pattern.)
pub const PHONE_PATTERN: &str = r"^(\+[0-9]([0-9 ().-]*[0-9])?)?$";

/// One decimal IPv4 address as Rust (and the SSRF guard) reads it: no
/// leading zeros.
macro_rules! ipv4 {
    () => {
        r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}"
    };
}

/// An IPv6 address in any form Rust reads, each `::` standing for at least
/// one group, an IPv4 tail only where two groups are left for it.
macro_rules! ipv6 {
    () => {
        concat!(
            r"(([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}",
            r"|([0-9A-Fa-f]{1,4}:){1,7}:",
            r"|([0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4}",
            r"|([0-9A-Fa-f]{1,4}:){1,5}(:[0-9A-Fa-f]{1,4}){1,2}",
            r"|([0-9A-Fa-f]{1,4}:){1,4}(:[0-9A-Fa-f]{1,4}){1,3}",
            r"|([0-9A-Fa-f]{1,4}:){1,3}(:[0-9A-Fa-f]{1,4}){1,4}",
            r"|([0-9A-Fa-f]{1,4}:){1,2}(:[0-9A-Fa-f]{1,4}){1,5}",
            r"|[0-9A-Fa-f]{1,4}:(:[0-9A-Fa-f]{1,4}){1,6}",
            r"|:(:[0-9A-Fa-f]{1,4}){1,7}",
            r"|::",
            r"|([0-9A-Fa-f]{1,4}:){6}",
            ipv4!(),
            r"|::([0-9A-Fa-f]{1,4}:){0,5}",
            ipv4!(),
            r"|[0-9A-Fa-f]{1,4}::([0-9A-Fa-f]{1,4}:){0,4}",
            ipv4!(),
            r"|([0-9A-Fa-f]{1,4}:){1}[0-9A-Fa-f]{1,4}::([0-9A-Fa-f]{1,4}:){0,3}",
            ipv4!(),
            r"|([0-9A-Fa-f]{1,4}:){2}[0-9A-Fa-f]{1,4}::([0-9A-Fa-f]{1,4}:){0,2}",
            ipv4!(),
            r"|([0-9A-Fa-f]{1,4}:){3}[0-9A-Fa-f]{1,4}::([0-9A-Fa-f]{1,4}:)?",
            ipv4!(),
            r"|([0-9A-Fa-f]{1,4}:){4}[0-9A-Fa-f]{1,4}::",
            ipv4!(),
            ")"
        )
    };
}

/// What `IpAllowList` accepts per entry: an IPv4 or IPv6 address, with or
/// without a prefix length (`/0` to `/32`, `/0` to `/128`).
pub const IP_ENTRY_PATTERN: &str =
    concat!("^(", ipv4!(), r"(/(3[0-2]|[12][0-9]|[0-9]))?|", ipv6!(), r"(/(12[0-8]|1[01][0-9]|[1-9]?[0-9]))?)$");

/// What the webhook URL check reads without DNS: https, a host name (whose
/// last label starts with a letter, labels without `--`), an IPv4 address
/// or a bracketed IPv6 one, an optional port, then anything without white
/// space; no user name or password.
pub const WEBHOOK_URL_PATTERN: &str = concat!(
    r"^https://(([A-Za-z0-9]+(-[A-Za-z0-9]+)*\.)*[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)*|",
    ipv4!(),
    r"|\[",
    ipv6!(),
    r"\])(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?([/?#]\S*)?$"
);

/// What `domain::Locale` accepts: a BCP 47 language tag of a language
/// (2 or 3 letters), an optional script (4 letters) and an optional region
/// (2 letters or 3 digits), in any case.
pub const LOCALE_PATTERN: &str = r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?$";

/// A language tag (`domain::Locale`).
pub fn locale_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .pattern(Some(LOCALE_PATTERN))
        .max_length(Some(12))
        .description(Some("A BCP 47 language tag: language, optional script and region (`de`, `de-AT`, `zh-Hant-TW`)."))
        .build()
}

pub fn locale_or_null_schema() -> Object {
    let mut schema = locale_schema();
    schema.schema_type = SchemaType::from_iter([Type::String, Type::Null]);
    schema
}

/// An IANA time zone (`domain::TimeZone`): one of the names of the time
/// zone database Roster is built with, or null.
pub fn time_zone_or_null_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(
            chrono_tz::TZ_VARIANTS
                .iter()
                .map(|zone| serde_json::Value::from(zone.name()))
                .chain([serde_json::Value::Null]),
        ))
        .description(Some("An IANA time zone name (`Europe/Vienna`, `UTC`)."))
        .build()
}

fn text_schema(pattern: &str, max_length: usize, description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .pattern(Some(pattern))
        .max_length(Some(max_length))
        .description(Some(description))
}

/// The same schema, also allowing `null` (an optional field: null leaves
/// the value as it is).
fn or_null(schema: ObjectBuilder) -> Object {
    schema.schema_type(SchemaType::from_iter([Type::String, Type::Null])).build()
}

const PERSON_NAME: &str = "A name: 1 to 100 characters, no control characters.";
const LABEL: &str = "1 to 200 characters, no control characters.";
const FREE_TEXT: &str = "Up to 1,000 characters; line breaks and tabs but no other control characters.";

/// A first or last name (`domain::PersonName`).
pub fn person_name_schema() -> Object {
    text_schema(LABEL_PATTERN, domain::PersonName::MAX_CHARS, PERSON_NAME).build()
}

pub fn person_name_or_null_schema() -> Object {
    or_null(text_schema(LABEL_PATTERN, domain::PersonName::MAX_CHARS, PERSON_NAME))
}

/// An account, group or role name (`domain::AccountName` and siblings).
pub fn label_schema() -> Object {
    text_schema(LABEL_PATTERN, domain::AccountName::MAX_CHARS, LABEL).build()
}

pub fn label_or_null_schema() -> Object {
    or_null(text_schema(LABEL_PATTERN, domain::AccountName::MAX_CHARS, LABEL))
}

/// A name that may be left empty (invitations).
pub fn optional_name_schema() -> Object {
    let description = "Up to 100 characters, no control characters; empty: unknown.";
    text_schema(NO_CONTROL_PATTERN, domain::PersonName::MAX_CHARS, description).build()
}

/// A description (`domain::Description`).
pub fn free_text_schema() -> Object {
    text_schema(FREE_TEXT_PATTERN, domain::Description::MAX_CHARS, FREE_TEXT).build()
}

pub fn free_text_or_null_schema() -> Object {
    or_null(text_schema(FREE_TEXT_PATTERN, domain::Description::MAX_CHARS, FREE_TEXT))
}

/// A reason that must be given (`domain::Description`, not empty).
pub fn required_free_text_schema() -> Object {
    let description =
        "Why: 1 to 1,000 characters, not only white space; line breaks and tabs but no other control characters.";
    text_schema(REQUIRED_FREE_TEXT_PATTERN, domain::Description::MAX_CHARS, description).min_length(Some(1)).build()
}

/// A token from an emailed link or an earlier response: URL-safe base64.
pub fn token_schema() -> Object {
    text_schema(TOKEN_PATTERN, 128, "The token exactly as received.").build()
}

/// Tokens are URL-safe base64 (`crate::auth::secrets`).
pub const TOKEN_PATTERN: &str = "^[A-Za-z0-9_-]{1,128}$";

/// An email address (`domain::Email`).
pub fn email_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
        .max_length(Some(domain::Email::MAX_LEN))
        .description(Some("An email address; compared case-insensitively."))
        .build()
}

/// What `domain::email_domain::EmailDomain` accepts: labels of letters,
/// digits and inner hyphens, the last starting with a letter; a trailing
/// dot is allowed.
pub const DOMAIN_PATTERN: &str =
    r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$";

/// An email domain (`domain::email_domain::EmailDomain`).
pub fn domain_schema() -> Object {
    text_schema(
        DOMAIN_PATTERN,
        domain::email_domain::EmailDomain::MAX_LEN,
        "A domain name (`acme.example`; an internationalised one in its `xn--` form). Subdomains are domains of \
         their own.",
    )
    .examples([serde_json::json!("acme.example")])
    .build()
}

/// A postal code (`domain::address::PostalCode`).
pub fn postal_code_schema() -> Object {
    text_schema(
        POSTAL_CODE_PATTERN,
        domain::address::PostalCode::MAX_CHARS,
        "2 to 12 letters, digits, spaces or hyphens, a letter or digit at each end; stored upper case.",
    )
    .min_length(Some(2))
    .examples([serde_json::json!("10117")])
    .build()
}

/// A phone number (`domain::contact::PhoneNumber`), or null.
pub fn phone_or_null_schema() -> Object {
    or_null(
        text_schema(
            PHONE_PATTERN,
            40,
            "In international form: `+`, the country code and the number, with spaces, parentheses, dots or \
             hyphens between digits; empty or null: none. It must be a valid number of that country's numbering plan (422 \
             `invalid_phone` otherwise). Stored and shown in E.164.",
        )
        .examples([serde_json::json!("+49 30 901820")]),
    )
}

/// Client addresses and CIDR blocks an API key may be used from
/// (`domain::api_key::IpAllowList`).
pub fn ip_allow_list_schema() -> Array {
    let entry = text_schema(IP_ENTRY_PATTERN, 43, "An IPv4 or IPv6 address, or a CIDR block.")
        .examples([serde_json::json!("203.0.113.0/24")]);
    ArrayBuilder::new()
        .items(entry)
        .max_items(Some(domain::api_key::IpAllowList::MAX_ENTRIES))
        .description(Some(
            "Client addresses and CIDR blocks (`203.0.113.7`, `2001:db8::/32`) the key may be used from; empty or \
             absent: any.",
        ))
        .build()
}

const WEBHOOK_URL: &str = "An https URL on a public host, at most 2,000 characters: a host name that resolves only \
     to public addresses (422 `private_address` otherwise) or a public IP address; no user name or password.";

/// Where a webhook goes (`crate::outbound::check_url`).
pub fn webhook_url_schema() -> Object {
    text_schema(WEBHOOK_URL_PATTERN, crate::outbound::MAX_URL_CHARS, WEBHOOK_URL)
        .examples([serde_json::json!("https://hooks.example.com/roster")])
        .build()
}

pub fn webhook_url_or_null_schema() -> Object {
    or_null(text_schema(WEBHOOK_URL_PATTERN, crate::outbound::MAX_URL_CHARS, WEBHOOK_URL))
}

/// An ISO 3166-1 alpha-2 country code, as the standard writes it.
pub struct CountryCode;

impl utoipa::PartialSchema for CountryCode {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .enum_values(Some(domain::address::CountryCode::all()))
            .description(Some("An ISO 3166-1 alpha-2 country code, upper case."))
            .examples([serde_json::json!("DE")])
            .into()
    }
}

impl utoipa::ToSchema for CountryCode {}

/// No NUL character: every text field refuses it (PostgreSQL cannot store
/// one; see `crate::http::extract::check_shape`).
pub const NO_NUL_PATTERN: &str = "^[^\\u0000]*$";

/// Text the server compares but does not parse (the email a sign-in
/// names): anything without a NUL character.
pub fn any_text_schema() -> Object {
    password_schema()
}

/// A password being given (sign-in, current password).
pub fn password_schema() -> Object {
    ObjectBuilder::new().schema_type(SchemaType::Type(Type::String)).pattern(Some(NO_NUL_PATTERN)).build()
}

/// A password being chosen (`domain::NewPassword`).
pub fn new_password_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .pattern(Some(NO_NUL_PATTERN))
        .min_length(Some(domain::NewPassword::MIN_CHARS))
        .max_length(Some(domain::NewPassword::MAX_CHARS))
        .description(Some("10 to 256 characters, and not the email address."))
        .build()
}

/// What `domain::catalogue::check_role_key` accepts. Kept honest by
/// `role_key_pattern_matches_the_parser`.
pub const ROLE_KEY_PATTERN: &str = "^[a-z][a-z0-9_-]{0,63}$";

/// A list of role keys (`domain::catalogue::check_role_key`).
pub fn role_keys_schema() -> Array {
    role_keys().build()
}

/// [`role_keys_schema`] of at most `max` keys, or null (what is set stays).
pub fn optional_role_keys_schema(max: usize) -> Array {
    role_keys().schema_type(SchemaType::from_iter([Type::Array, Type::Null])).max_items(Some(max)).build()
}

fn role_keys() -> ArrayBuilder {
    let key = ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .pattern(Some(ROLE_KEY_PATTERN))
        .description(Some("A role key."));
    ArrayBuilder::new().items(key)
}

/// What `domain::permission::check_key` accepts: `area:action`.
pub const PERMISSION_KEY_PATTERN: &str = "^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$";

/// A key of the deployment's permission catalogue. The published schema
/// lists the keys as an `enum`: the committed document those of the default
/// catalogue, `/openapi.json` those of the catalogue the server loaded
/// (`crate::http::openapi::document_for`), so that a client generated from either knows every
/// key the server accepts.
pub struct PermissionKey;

/// A permission key; the document lists the keys (see `list_permission_keys`).
fn permission_key_schema(description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .pattern(Some(PERMISSION_KEY_PATTERN))
        .max_length(Some(64))
        .description(Some(description))
        .examples([serde_json::json!("members:read")])
        .into()
}

impl utoipa::PartialSchema for PermissionKey {
    fn schema() -> RefOr<Schema> {
        permission_key_schema("A permission key of the catalogue (`GET /v1/permissions`).")
    }
}

impl utoipa::ToSchema for PermissionKey {}

/// A permission key an API key may carry: the catalogue's keys but
/// `domain::api_key::NEVER_ON_A_KEY`, listed like [`PermissionKey`].
pub struct ApiKeyPermissionKey;

impl utoipa::PartialSchema for ApiKeyPermissionKey {
    fn schema() -> RefOr<Schema> {
        permission_key_schema(
            "A permission key of the catalogue that an API key may carry: all but those that hand the account \
             away, delete or link it, or mint further keys or webhooks.",
        )
    }
}

impl utoipa::ToSchema for ApiKeyPermissionKey {}

/// An identity provider's issuer URL: what the webhook URL check reads,
/// the same SSRF guard.
pub fn issuer_url_schema() -> Object {
    text_schema(
        WEBHOOK_URL_PATTERN,
        crate::outbound::MAX_URL_CHARS,
        "The provider's issuer URL, https, to a public address; its discovery document is at \
         `{issuer}/.well-known/openid-configuration`.",
    )
    .examples([serde_json::json!("https://acme.okta.com")])
    .build()
}

/// An OAuth client secret: 1 to 1,000 characters, not only white space, no
/// control characters; null keeps the stored one.
pub fn client_secret_or_null_schema() -> Object {
    or_null(text_schema(LABEL_PATTERN, 1_000, "The client secret; sealed at rest, never shown again."))
}

/// What `domain::sso::Scopes` accepts per scope: an OAuth scope token.
pub const SCOPE_PATTERN: &str = r"^[!#-\[\]-~]{1,100}$";

/// What `domain::sso::ClaimName` accepts.
pub const CLAIM_NAME_PATTERN: &str = "^[!-~]{1,100}$";

/// The scopes asked of a provider (`domain::sso::Scopes`).
pub fn scopes_or_null_schema() -> Array {
    let scope = ObjectBuilder::new().schema_type(SchemaType::Type(Type::String)).pattern(Some(SCOPE_PATTERN));
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(scope)
        .max_items(Some(domain::sso::Scopes::MAX))
        .unique_items(true)
        .description(Some("OAuth scopes, once each; must include `openid`. Default `openid email profile`."))
        .build()
}

/// An ID token claim's name (`domain::sso::ClaimName`), or null.
pub fn claim_name_or_null_schema() -> Object {
    or_null(text_schema(CLAIM_NAME_PATTERN, 100, "A claim name: 1 to 100 printable ASCII characters, no spaces."))
}

/// Up to `max` role keys.
pub fn role_keys_up_to(max: usize) -> Array {
    let mut keys = role_keys_schema();
    keys.max_items = Some(max);
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{AccountName, Description, PersonName};
    use proptest::prelude::*;
    use proptest::string::string_regex;

    proptest! {
        // What the contract lets a client send, the parsers accept: a
        // schema-valid request is never refused for its text.
        #[test]
        fn label_pattern_matches_the_parsers(text in matching(LABEL_PATTERN)) {
            prop_assume!(text.chars().count() <= PersonName::MAX_CHARS);
            prop_assert!(PersonName::parse(&text).is_ok(), "{text:?}");
            prop_assert!(AccountName::parse(&text).is_ok(), "{text:?}");
        }

        #[test]
        fn free_text_pattern_matches_the_parser(text in matching(FREE_TEXT_PATTERN)) {
            prop_assume!(text.chars().count() <= Description::MAX_CHARS);
            prop_assert!(Description::parse(&text).is_ok(), "{text:?}");
        }

        #[test]
        fn required_free_text_pattern_matches_the_parser(text in matching(REQUIRED_FREE_TEXT_PATTERN)) {
            prop_assume!(text.chars().count() <= Description::MAX_CHARS);
            let parsed = Description::parse(&text);
            prop_assert!(parsed.as_ref().is_ok_and(|d| !d.as_str().is_empty()), "{text:?}");
        }

        #[test]
        fn optional_names_without_control_characters_are_accepted(text in matching(NO_CONTROL_PATTERN)) {
            prop_assume!(text.chars().count() <= PersonName::MAX_CHARS && !text.trim().is_empty());
            prop_assert!(PersonName::parse(&text).is_ok(), "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn role_key_pattern_matches_the_parser(key in matching(ROLE_KEY_PATTERN)) {
            prop_assert!(domain::catalogue::check_role_key(&key).is_ok(), "{key:?}");
        }

        #[test]
        fn permission_key_pattern_matches_the_parser(key in matching(PERMISSION_KEY_PATTERN)) {
            prop_assume!(key.len() <= 64);
            prop_assert!(domain::permission::check_key(&key).is_ok(), "{key:?}");
        }
    }

    proptest! {
        #[test]
        fn postal_code_pattern_matches_the_parser(code in matching(POSTAL_CODE_PATTERN)) {
            prop_assume!(code.chars().count() <= domain::address::PostalCode::MAX_CHARS);
            prop_assert!(domain::address::PostalCode::parse(&code).is_ok(), "{code:?}");
        }

        #[test]
        fn phone_pattern_leaves_only_the_numbering_plan_to_the_parser(phone in matching(PHONE_PATTERN)) {
            prop_assume!(phone.len() <= 40 && !phone.is_empty());
            if let Err(refused) = domain::contact::PhoneNumber::parse(&phone) {
                prop_assert_eq!(refused.code, "invalid_phone");
            }
        }

        #[test]
        fn ip_entry_pattern_matches_the_parser(entry in matching(IP_ENTRY_PATTERN)) {
            prop_assert!(domain::api_key::IpAllowList::parse(std::slice::from_ref(&entry)).is_ok(), "{entry:?}");
        }

        #[test]
        fn webhook_url_pattern_matches_the_shape_check(url in matching(WEBHOOK_URL_PATTERN)) {
            prop_assume!(url.chars().count() <= crate::outbound::MAX_URL_CHARS);
            let reach = crate::outbound::Reach { private_networks: false };
            match crate::outbound::check_url_shape(&url, reach) {
                Ok(_) => {}
                Err(refused) => prop_assert_eq!(refused.code(), "private_address", "{:?}: {}", url, refused),
            }
        }
    }

    proptest! {
        #[test]
        fn scope_and_claim_patterns_match_the_parsers(
            scope in matching(SCOPE_PATTERN),
            claim in matching(CLAIM_NAME_PATTERN),
        ) {
            let scopes = vec!["openid".to_owned(), scope.clone()];
            prop_assume!(scope != "openid");
            prop_assert!(domain::sso::Scopes::parse(&scopes).is_ok(), "{scope:?}");
            prop_assert!(domain::sso::ClaimName::parse(&claim).is_ok(), "{claim:?}");
        }

        #[test]
        fn domain_pattern_matches_the_parser(domain in matching(DOMAIN_PATTERN)) {
            prop_assume!(domain.len() <= domain::email_domain::EmailDomain::MAX_LEN);
            prop_assert!(domain::email_domain::EmailDomain::parse(&domain).is_ok(), "{domain:?}");
        }
    }

    #[test]
    fn every_form_of_ipv6_rust_reads_is_in_the_pattern() {
        let pattern = regex::Regex::new(IP_ENTRY_PATTERN).unwrap();
        for address in [
            "::",
            "::1",
            "1::",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
            "1::8",
            "2001:db8::/32",
            "::ffff:192.0.2.1",
            "64:ff9b::192.0.2.1",
            "1:2:3:4:5:6:192.0.2.1",
            "1::5:6:192.0.2.1",
            "1:2:3:4::192.0.2.1",
            "1:2:3:4:5::192.0.2.1",
            "fe80::1/128",
            "0.0.0.0/0",
            "203.0.113.7",
        ] {
            assert!(address.split('/').next().unwrap().parse::<std::net::IpAddr>().is_ok(), "{address}");
            assert!(pattern.is_match(address), "{address} is missing from the pattern");
        }
    }

    /// Strings the whole of an anchored pattern matches.
    fn matching(pattern: &str) -> proptest::string::RegexGeneratorStrategy<String> {
        string_regex(pattern.trim_start_matches('^').trim_end_matches('$')).unwrap()
    }
}
