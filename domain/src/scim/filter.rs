//! SCIM filters (RFC 7644 §3.4.2.2), with no IO: a parser of the grammar
//! into a tree, and a printer whose output parses back to the same tree.
//! Attribute names and operators are case-insensitive, as the RFC says;
//! `not` binds tighter than `and`, which binds tighter than `or`.
//!
//! ```text
//! FILTER    = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"
//! valuePath = attrPath "[" valFilter "]"
//! attrExp   = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)
//! compValue = false / null / true / number / string
//! attrPath  = [URI ":"] ATTRNAME *1subAttr
//! ```

use std::fmt;

/// The longest filter accepted, in bytes: longer ones are refused rather
/// than parsed (`tooMany` is the directory's business, not ours).
pub const MAX_LEN: usize = 4_096;

/// How deep parentheses and value paths may nest.
pub const MAX_DEPTH: usize = 16;

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Present(AttrPath),
    Compare(AttrPath, CompareOp, Value),
    Not(Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    /// `emails[type eq "work"]`, optionally followed by `.value`-style
    /// sub-attributes only in PATCH paths (not here).
    ValuePath(AttrPath, Box<Filter>),
}

/// An attribute, optionally with a schema URN and a sub-attribute, in the
/// case it was written (compare with [`AttrPath::matches`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    pub urn: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

impl AttrPath {
    /// Whether this is `name` (and `sub`), ignoring case and the URN.
    pub fn matches(&self, name: &str, sub: Option<&str>) -> bool {
        self.name.eq_ignore_ascii_case(name)
            && match (&self.sub, sub) {
                (Some(mine), Some(wanted)) => mine.eq_ignore_ascii_case(wanted),
                (None, None) => true,
                _ => false,
            }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    const ALL: [CompareOp; 9] = [
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
    ];

    pub fn key(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    fn parse(word: &str) -> Option<Self> {
        CompareOp::ALL.into_iter().find(|op| op.key().eq_ignore_ascii_case(word))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
}

/// Why a filter is refused (SCIM's `invalidFilter`), and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid filter at byte {at}: {reason}")]
pub struct InvalidFilter {
    pub at: usize,
    pub reason: String,
}

pub fn parse(text: &str) -> Result<Filter, InvalidFilter> {
    if text.len() > MAX_LEN {
        return Err(InvalidFilter { at: MAX_LEN, reason: format!("longer than {MAX_LEN} bytes") });
    }
    let mut parser = Parser { text, at: 0, depth: 0 };
    let filter = parser.or()?;
    parser.skip_spaces();
    if parser.at < text.len() {
        return Err(parser.error("unexpected text after the filter"));
    }
    Ok(filter)
}

/// A PATCH operation's target (RFC 7644 §3.5.2): an attribute, or the
/// elements of a multi-valued one that a filter selects, optionally one
/// sub-attribute of them (`emails[type eq "work"].value`).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    pub filter: Option<Filter>,
    /// The sub-attribute after a value filter; without a filter it is
    /// `attr.sub`.
    pub sub: Option<String>,
}

impl PatchPath {
    /// The sub-attribute targeted, however it was written.
    pub fn sub(&self) -> Option<&str> {
        self.sub.as_deref().or(self.attr.sub.as_deref())
    }
}

/// Parses a PATCH path: `PATH = attrPath / valuePath [subAttr]`.
pub fn parse_path(text: &str) -> Result<PatchPath, InvalidFilter> {
    if text.len() > MAX_LEN {
        return Err(InvalidFilter { at: MAX_LEN, reason: format!("longer than {MAX_LEN} bytes") });
    }
    let mut parser = Parser { text, at: 0, depth: 0 };
    let attr = parser.attr_path()?;
    let mut path = PatchPath { attr, filter: None, sub: None };
    if parser.rest().starts_with('[') {
        if path.attr.sub.is_some() {
            return Err(parser.error("a value filter follows an attribute, not a sub-attribute"));
        }
        parser.at += 1;
        path.filter = Some(parser.nested(Parser::or)?);
        parser.skip_spaces();
        if !parser.rest().starts_with(']') {
            return Err(parser.error("expected ]"));
        }
        parser.at += 1;
        if parser.rest().starts_with('.') {
            parser.at += 1;
            let sub = parser.peek_word().to_owned();
            if !valid_name(&sub) {
                return Err(parser.error("not a sub-attribute name"));
            }
            parser.at += sub.len();
            path.sub = Some(sub);
        }
    }
    if parser.at < text.len() {
        return Err(parser.error("unexpected text after the path"));
    }
    Ok(path)
}

/// An attribute name: a letter (or `$`, as `$ref`), then letters, digits,
/// `-` and `_`.
fn valid_name(part: &str) -> bool {
    part.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '$')
        && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '$')
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
    depth: usize,
}

impl Parser<'_> {
    fn error(&self, reason: &str) -> InvalidFilter {
        InvalidFilter { at: self.at, reason: reason.to_owned() }
    }

    fn rest(&self) -> &str {
        &self.text[self.at..]
    }

    fn skip_spaces(&mut self) {
        let trimmed = self.rest().trim_start_matches(' ');
        self.at = self.text.len() - trimmed.len();
    }

    /// The next word (letters, digits and the characters of names), not
    /// consumed.
    fn peek_word(&self) -> &str {
        let rest = self.rest();
        let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || "-_:.$".contains(c))).unwrap_or(rest.len());
        &rest[..end]
    }

    fn keyword(&mut self, word: &str) -> bool {
        self.skip_spaces();
        let next = self.peek_word();
        if next.eq_ignore_ascii_case(word) {
            self.at += next.len();
            true
        } else {
            false
        }
    }

    fn nested<T>(&mut self, parse: impl FnOnce(&mut Self) -> Result<T, InvalidFilter>) -> Result<T, InvalidFilter> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("nested too deep"));
        }
        let parsed = parse(self);
        self.depth -= 1;
        parsed
    }

    fn or(&mut self) -> Result<Filter, InvalidFilter> {
        let mut left = self.and()?;
        while self.keyword("or") {
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, InvalidFilter> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, InvalidFilter> {
        self.skip_spaces();
        let next = self.peek_word();
        if next.eq_ignore_ascii_case("not") && self.rest()[next.len()..].trim_start_matches(' ').starts_with('(') {
            self.at += next.len();
            self.skip_spaces();
            return Ok(Filter::Not(Box::new(self.group()?)));
        }
        if self.rest().starts_with('(') {
            return self.group();
        }
        self.attribute_expression()
    }

    fn group(&mut self) -> Result<Filter, InvalidFilter> {
        self.at += 1; // '('
        let inner = self.nested(Self::or)?;
        self.skip_spaces();
        if !self.rest().starts_with(')') {
            return Err(self.error("expected )"));
        }
        self.at += 1;
        Ok(inner)
    }

    fn attribute_expression(&mut self) -> Result<Filter, InvalidFilter> {
        let path = self.attr_path()?;
        if self.rest().starts_with('[') {
            if path.sub.is_some() {
                return Err(self.error("a value filter follows an attribute, not a sub-attribute"));
            }
            self.at += 1;
            let inner = self.nested(Self::or)?;
            self.skip_spaces();
            if !self.rest().starts_with(']') {
                return Err(self.error("expected ]"));
            }
            self.at += 1;
            return Ok(Filter::ValuePath(path, Box::new(inner)));
        }
        if !self.rest().starts_with(' ') {
            return Err(self.error("expected an operator after the attribute"));
        }
        self.skip_spaces();
        let word = self.peek_word().to_owned();
        if word.eq_ignore_ascii_case("pr") {
            self.at += word.len();
            return Ok(Filter::Present(path));
        }
        let op = CompareOp::parse(&word).ok_or_else(|| self.error("expected pr or a comparison operator"))?;
        self.at += word.len();
        if !self.rest().starts_with(' ') {
            return Err(self.error("expected a value after the operator"));
        }
        self.skip_spaces();
        Ok(Filter::Compare(path, op, self.value()?))
    }

    fn attr_path(&mut self) -> Result<AttrPath, InvalidFilter> {
        self.skip_spaces();
        let word = self.peek_word().to_owned();
        if word.is_empty() {
            return Err(self.error("expected an attribute"));
        }
        self.at += word.len();
        // A URN prefix ends at its last ':'; the attribute follows.
        let (urn, path) = match word.rfind(':') {
            Some(colon) if word.to_ascii_lowercase().starts_with("urn:") => {
                (Some(word[..colon].to_owned()), &word[colon + 1..])
            }
            _ => (None, word.as_str()),
        };
        let (name, sub) = match path.split_once('.') {
            Some((name, sub)) => (name, Some(sub)),
            None => (path, None),
        };
        if !valid_name(name) || sub.is_some_and(|sub| !valid_name(sub)) {
            return Err(self.error("not an attribute name"));
        }
        Ok(AttrPath { urn, name: name.to_owned(), sub: sub.map(str::to_owned) })
    }

    fn value(&mut self) -> Result<Value, InvalidFilter> {
        let rest = self.rest();
        if let Some(body) = rest.strip_prefix('"') {
            // A JSON string: its end is the first unescaped quote.
            let mut escaped = false;
            let end = body
                .char_indices()
                .find(|(_, c)| {
                    let closes = *c == '"' && !escaped;
                    escaped = *c == '\\' && !escaped;
                    closes
                })
                .map(|(i, _)| i + 2)
                .ok_or_else(|| self.error("unterminated string"))?;
            let text: String = serde_json::from_str(&rest[..end]).map_err(|_| self.error("not a JSON string"))?;
            self.at += end;
            return Ok(Value::String(text));
        }
        let word = self.peek_word().to_owned();
        let value = match word.to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" => Value::Null,
            _ => {
                let number: serde_json::Number =
                    serde_json::from_str(&word).map_err(|_| self.error("expected a value"))?;
                Value::Number(number.as_f64().ok_or_else(|| self.error("not a number"))?)
            }
        };
        self.at += word.len();
        Ok(value)
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        write!(f, "{}", self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => {
                write!(f, "{}", serde_json::Number::from_f64(*n).map_or("null".into(), |n| n.to_string()))
            }
            Value::String(s) => write!(f, "{}", serde_json::Value::String(s.clone())),
        }
    }
}

/// Prints a filter so that it parses back to the same tree: every `and`,
/// `or` and `not` operand in parentheses.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Present(path) => write!(f, "{path} pr"),
            Filter::Compare(path, op, value) => write!(f, "{path} {} {value}", op.key()),
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::And(left, right) => write!(f, "({left}) and ({right})"),
            Filter::Or(left, right) => write!(f, "({left}) or ({right})"),
            Filter::ValuePath(path, inner) => write!(f, "{path}[{inner}]"),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn path(name: &str) -> AttrPath {
        AttrPath { urn: None, name: name.into(), sub: None }
    }

    fn eq(name: &str, value: &str) -> Filter {
        Filter::Compare(path(name), CompareOp::Eq, Value::String(value.into()))
    }

    #[test]
    fn the_rfc_examples_parse() {
        for example in [
            r#"userName Eq "john""#,
            r#"Username eq "john""#,
            r#"name.familyName co "O'Malley""#,
            r#"userName sw "J""#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
            r#"title pr"#,
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
            r#"title pr and userType eq "Employee""#,
            r#"title pr or userType eq "Intern""#,
            r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
            r#"userType eq "Employee" and (emails.type eq "work")"#,
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
            r#"active eq true"#,
            r#"externalId eq null"#,
            r#"meta.version ge 3"#,
        ] {
            let parsed = parse(example).unwrap_or_else(|e| panic!("{example}: {e}"));
            assert_eq!(parse(&parsed.to_string()).unwrap(), parsed, "{example}");
        }
    }

    #[test]
    fn precedence_is_not_then_and_then_or() {
        let parsed = parse(r#"a eq "1" or b eq "2" and c eq "3""#).unwrap();
        let and = Filter::And(Box::new(eq("b", "2")), Box::new(eq("c", "3")));
        assert_eq!(parsed, Filter::Or(Box::new(eq("a", "1")), Box::new(and)));
        let urn = parse(r#"urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq "Ada""#).unwrap();
        let Filter::Compare(path, ..) = urn else { panic!() };
        assert_eq!(path.urn.as_deref(), Some("urn:ietf:params:scim:schemas:core:2.0:User"));
        assert!(path.matches("NAME", Some("givenname")));
    }

    #[test]
    fn bad_filters_are_refused_with_where() {
        for bad in [
            "",
            "userName",
            r#"userName eq"#,
            r#"userName equals "x""#,
            r#"userName eq "x"#,
            r#"(userName eq "x""#,
            r#"userName eq "x")"#,
            r#"emails[type eq "work""#,
            r#"userName eq "x" and"#,
            r#"userName eq x"#,
            r#"1userName eq "x""#,
            r#"name.givenName[value eq "x"]"#,
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
        let deep = format!("{}a pr{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
        assert!(parse(&deep).is_err());
        assert!(parse(&"a".repeat(MAX_LEN + 1)).is_err());
    }

    fn attr() -> impl Strategy<Value = AttrPath> {
        (
            proptest::option::of(Just("urn:ietf:params:scim:schemas:core:2.0:User".to_owned())),
            "[a-zA-Z][a-zA-Z0-9_-]{0,8}",
            proptest::option::of("[a-zA-Z][a-zA-Z0-9]{0,6}"),
        )
            .prop_map(|(urn, name, sub)| AttrPath { urn, name, sub })
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-1_000_000i64..1_000_000).prop_map(|n| Value::Number(n as f64)),
            ".{0,12}".prop_map(Value::String),
        ]
    }

    fn filter() -> impl Strategy<Value = Filter> {
        let leaf = prop_oneof![
            attr().prop_map(Filter::Present),
            (attr(), proptest::sample::select(CompareOp::ALL.to_vec()), value())
                .prop_map(|(path, op, value)| Filter::Compare(path, op, value)),
        ];
        leaf.prop_recursive(4, 24, 2, |inner| {
            prop_oneof![
                inner.clone().prop_map(|f| Filter::Not(Box::new(f))),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
                (attr().prop_map(|p| AttrPath { sub: None, ..p }), inner)
                    .prop_map(|(path, f)| Filter::ValuePath(path, Box::new(f))),
            ]
        })
    }

    #[test]
    fn patch_paths_as_directories_send_them() {
        let work = parse_path(r#"emails[type eq "work"].value"#).unwrap();
        assert!(work.attr.matches("emails", None));
        assert_eq!(work.filter, Some(eq("type", "work")));
        assert_eq!(work.sub(), Some("value"));
        let member = parse_path(r#"members[value eq "2819c223"]"#).unwrap();
        assert_eq!(member.filter, Some(eq("value", "2819c223")));
        assert_eq!(member.sub(), None);
        let given = parse_path("name.givenName").unwrap();
        assert_eq!((given.attr.name.as_str(), given.sub()), ("name", Some("givenName")));
        let department = parse_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department").unwrap();
        assert_eq!(department.attr.urn.as_deref(), Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
        assert_eq!(department.attr.name, "department");
        for bad in ["", "emails[", r#"emails[type eq "work"]x"#, r#"name.givenName[value eq "x"]"#, "a b"] {
            assert!(parse_path(bad).is_err(), "{bad:?} parsed");
        }
    }

    proptest! {
        #[test]
        fn printing_and_parsing_again_gives_the_same_filter(tree in filter()) {
            let printed = tree.to_string();
            prop_assert_eq!(parse(&printed), Ok(tree), "{}", printed);
        }

        #[test]
        fn any_text_is_parsed_or_refused_never_a_panic(text in ".{0,80}") {
            let _ = parse(&text);
        }
    }
}
