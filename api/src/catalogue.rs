//! Loads the permission catalogue: the deployment's file when configured,
//! else the default shipped in `api/config/permissions.toml`.

use domain::Catalogue;
use domain::catalogue::CatalogueDefinition;

use crate::config::Settings;

pub const DEFAULT_PERMISSIONS: &str = include_str!("../config/permissions.toml");

pub fn load(settings: &Settings) -> Result<Catalogue, String> {
    let (text, origin) = match &settings.permissions_file {
        Some(path) => (
            std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?,
            path.display().to_string(),
        ),
        None => (DEFAULT_PERMISSIONS.to_owned(), "the default catalogue".to_owned()),
    };
    parse(&text).map_err(|reason| format!("{origin}: {reason}"))
}

pub fn parse(text: &str) -> Result<Catalogue, String> {
    let definition: CatalogueDefinition = toml::from_str(text).map_err(|e| e.to_string())?;
    Catalogue::new(definition).map_err(|e| e.message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Permission;

    #[test]
    fn the_default_catalogue_reproduces_the_console_matrix() {
        let catalogue = parse(DEFAULT_PERMISSIONS).unwrap();
        let application = ["certifications:apply", "certifications:view", "badges:request"];
        for key in ["developer", "marketer", "analyst"] {
            let template = catalogue.template(key).unwrap();
            assert!(application.iter().all(|p| template.permissions.contains_key(p)), "{key}");
            assert!(!template.permissions.contains(Permission::MembersManage), "{key} cannot manage users");
        }
        let admin = catalogue.built_in(domain::BuiltInRole::Administrator);
        assert!(application.iter().all(|p| admin.contains_key(p)));
        assert!(admin.contains(Permission::MembersManage));
    }

    #[test]
    fn malformed_files_are_reported() {
        assert!(parse("[[permissions]]\nkey = 1").is_err());
        assert!(
            parse("[[roles]]\nkey = \"x\"\nname = \"X\"\npermissions = [\"nope:nope\"]")
                .unwrap_err()
                .contains("nope:nope")
        );
        assert!(parse("surprise = true").is_err());
    }
}
