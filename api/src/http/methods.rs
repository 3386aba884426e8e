//! Which methods each path supports, read from the OpenAPI document, so that
//! a 405 can say so in `Allow` (RFC 9110 requires it).

use actix_web::http::Method;

/// The documented paths as templates (`{name}` segments match any one
/// segment) with their methods.
#[derive(Debug, Default)]
pub struct RouteMethods(Vec<(Vec<Segment>, Vec<Method>)>);

#[derive(Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Parameter,
}

impl RouteMethods {
    pub fn from_document(document: &utoipa::openapi::OpenApi) -> Self {
        let routes = document
            .paths
            .paths
            .iter()
            .map(|(template, item)| {
                let segments = template
                    .split('/')
                    .map(|part| {
                        if part.starts_with('{') && part.ends_with('}') {
                            Segment::Parameter
                        } else {
                            Segment::Literal(part.to_owned())
                        }
                    })
                    .collect();
                let operations = [
                    (Method::GET, item.get.is_some()),
                    (Method::PUT, item.put.is_some()),
                    (Method::POST, item.post.is_some()),
                    (Method::DELETE, item.delete.is_some()),
                    (Method::PATCH, item.patch.is_some()),
                ];
                let methods =
                    operations.into_iter().filter_map(|(method, present)| present.then_some(method)).collect();
                (segments, methods)
            })
            .collect();
        RouteMethods(routes)
    }

    /// The methods of every documented path `path` matches, as an `Allow`
    /// value; `None` when it matches none.
    pub fn allow(&self, path: &str) -> Option<String> {
        let parts: Vec<&str> = path.split('/').collect();
        let mut allowed: Vec<&Method> = Vec::new();
        for (segments, methods) in &self.0 {
            let matches = segments.len() == parts.len()
                && segments.iter().zip(&parts).all(|(segment, part)| match segment {
                    Segment::Literal(literal) => literal == part,
                    Segment::Parameter => !part.is_empty(),
                });
            if matches {
                for method in methods {
                    if !allowed.contains(&method) {
                        allowed.push(method);
                    }
                }
            }
        }
        if allowed.is_empty() {
            return None;
        }
        Some(allowed.iter().map(|method| method.as_str()).collect::<Vec<_>>().join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RouteMethods {
        RouteMethods::from_document(&crate::http::openapi::document())
    }

    #[test]
    fn a_template_matches_any_segment_value() {
        let allow = table().allow("/v1/accounts/0193a3b1-0000-7000-8000-000000000000/groups/abc");
        assert_eq!(allow.as_deref(), Some("GET, DELETE, PATCH"));
    }

    #[test]
    fn literal_paths_keep_their_own_methods() {
        assert_eq!(table().allow("/v1/auth/login").as_deref(), Some("POST"));
        assert_eq!(table().allow("/v1/me").as_deref(), Some("GET, DELETE, PATCH"));
    }

    #[test]
    fn unknown_paths_match_nothing() {
        assert_eq!(table().allow("/v1/nothing/here"), None);
        assert_eq!(table().allow("/v1/accounts//groups"), None);
    }
}
