//! Loads the plans: the deployment's file when configured
//! (`ROSTER_PLANS_FILE`), else the built-in plan that includes everything.

use domain::plan::{Plans, PlansDefinition};

use crate::config::Settings;

pub fn load(settings: &Settings) -> Result<Plans, String> {
    let definition = match &settings.plans_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            parse(&text).map_err(|reason| format!("{}: {reason}", path.display()))?
        }
        None => PlansDefinition::default(),
    };
    Plans::new(definition, settings.default_plan.as_deref()).map_err(|e| e.message)
}

pub fn parse(text: &str) -> Result<PlansDefinition, String> {
    toml::from_str(text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::plan::Feature;

    #[test]
    fn a_plans_file_reads_as_declared() {
        let text = "[[plans]]\nkey = \"basic\"\nname = \"Basic\"\nfeatures = [\"groups\"]\nseats = 5\n\n\
                    [[plans]]\nkey = \"professional\"\nname = \"Professional\"\nfeatures = [\"groups\", \"api_keys\"]\n";
        let plans = Plans::new(parse(text).unwrap(), Some("professional")).unwrap();
        assert_eq!(plans.default_plan().key, "professional");
        assert_eq!(plans.find("basic").unwrap().seats, Some(5));
        assert!(!plans.find("basic").unwrap().includes(Feature::ApiKeys));
        assert!(parse("[[plans]]\nkey = \"x\"\nname = \"X\"\nfeatures = [\"teleport\"]").is_err());
    }
}
