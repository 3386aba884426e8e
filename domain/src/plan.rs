//! Plans with no IO: which features an account's plan includes and how
//! many seats it has. Plans are declared by the operator (a TOML file, like
//! the permission catalogue); the built-in default includes everything, so
//! that a fresh installation has no locked doors.

use serde::{Deserialize, Serialize};

use crate::InvalidValue;

macro_rules! features {
    ($($variant:ident => $key:literal;)+) => {
        /// What a plan can include.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Feature {
            $($variant,)+
        }

        impl Feature {
            pub const ALL: &'static [Feature] = &[$(Feature::$variant,)+];

            pub fn key(self) -> &'static str {
                match self {
                    $(Feature::$variant => $key,)+
                }
            }
        }
    };
}

features! {
    CustomRoles => "custom_roles";
    Groups => "groups";
    JoinLinks => "join_links";
    SpreadsheetImport => "spreadsheet_import";
    ApiKeys => "api_keys";
    LinkedAccounts => "linked_accounts";
    Webhooks => "webhooks";
    AuditExport => "audit_export";
    AccessReviews => "access_reviews";
}

impl Feature {
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|feature| feature.key() == raw)
    }
}

/// One plan.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub features: Vec<Feature>,
    /// Members plus pending invitations; absent: unlimited.
    #[serde(default)]
    pub seats: Option<u32>,
}

impl Plan {
    pub fn includes(&self, feature: Feature) -> bool {
        self.features.contains(&feature)
    }
}

/// The operator's plans file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlansDefinition {
    #[serde(default)]
    pub plans: Vec<Plan>,
}

/// Every plan of the deployment, and the one new accounts get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plans {
    plans: Vec<Plan>,
    default: String,
}

/// The built-in plan: everything, no seat limit.
pub const BUILT_IN: &str = "unlimited";

impl Plans {
    /// The deployment's plans; `default` names the plan of new accounts
    /// (`None`: the first declared). No plans declared: the built-in one.
    pub fn new(definition: PlansDefinition, default: Option<&str>) -> Result<Self, InvalidValue> {
        let mut plans = definition.plans;
        if plans.is_empty() {
            plans.push(Plan {
                key: BUILT_IN.to_owned(),
                name: "Unlimited".to_owned(),
                features: Feature::ALL.to_vec(),
                seats: None,
            });
        }
        for (index, plan) in plans.iter().enumerate() {
            crate::catalogue::check_role_key(&plan.key).map_err(|_| {
                InvalidValue::new("invalid_plan", format!("plan key {:?}: use a-z, 0-9, _ and -", plan.key))
            })?;
            if plans[..index].iter().any(|other| other.key == plan.key) {
                return Err(InvalidValue::new("invalid_plan", format!("plan {:?} is declared twice", plan.key)));
            }
        }
        let default = match default {
            Some(key) if plans.iter().any(|plan| plan.key == key) => key.to_owned(),
            Some(key) => {
                return Err(InvalidValue::new("invalid_plan", format!("the default plan {key:?} is not declared")));
            }
            None => plans[0].key.clone(),
        };
        Ok(Plans { plans, default })
    }

    /// The built-in plan alone.
    pub fn built_in() -> Self {
        Self::new(PlansDefinition::default(), None).unwrap_or_else(|_| unreachable!("the built-in plan is valid"))
    }

    pub fn all(&self) -> &[Plan] {
        &self.plans
    }

    pub fn default_plan(&self) -> &Plan {
        self.find(&self.default).unwrap_or(&self.plans[0])
    }

    pub fn find(&self, key: &str) -> Option<&Plan> {
        self.plans.iter().find(|plan| plan.key == key)
    }

    /// An account's plan: the one stored, or, if the operator has since
    /// removed it from the file, the default (so nothing is locked by a
    /// typo in configuration).
    pub fn of_account(&self, stored: &str) -> &Plan {
        self.find(stored).unwrap_or_else(|| self.default_plan())
    }

    /// The plans that include `feature`, to name in a refusal.
    pub fn including(&self, feature: Feature) -> Vec<&Plan> {
        self.plans.iter().filter(|plan| plan.includes(feature)).collect()
    }
}

/// Whether `wanted` more seats fit: members plus pending invitations may
/// not pass the plan's limit.
pub fn seats_fit(plan: &Plan, used: u64, wanted: u64) -> bool {
    plan.seats.is_none_or(|limit| used + wanted <= u64::from(limit))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(key: &str, features: &[Feature], seats: Option<u32>) -> Plan {
        Plan { key: key.to_owned(), name: key.to_owned(), features: features.to_vec(), seats }
    }

    fn plans(list: Vec<Plan>, default: Option<&str>) -> Result<Plans, String> {
        Plans::new(PlansDefinition { plans: list }, default).map_err(|e| e.message)
    }

    #[test]
    fn without_a_file_everything_is_included() {
        let plans = Plans::built_in();
        assert_eq!(plans.default_plan().key, BUILT_IN);
        assert!(Feature::ALL.iter().all(|f| plans.default_plan().includes(*f)));
        assert!(seats_fit(plans.default_plan(), 1_000_000, 1));
    }

    #[test]
    fn refusals_name_the_plans_that_include_a_feature() {
        let basic = plan("basic", &[Feature::Groups], Some(5));
        let professional = plan("professional", &[Feature::Groups, Feature::ApiKeys], Some(50));
        let plans = plans(vec![basic, professional], Some("basic")).unwrap();
        assert_eq!(plans.default_plan().key, "basic");
        let names: Vec<&str> = plans.including(Feature::ApiKeys).iter().map(|p| p.key.as_str()).collect();
        assert_eq!(names, ["professional"]);
        assert_eq!(plans.of_account("gone").key, "basic");
        let basic = plans.find("basic").unwrap();
        assert!(seats_fit(basic, 4, 1) && !seats_fit(basic, 5, 1) && !seats_fit(basic, 3, 3));
    }

    #[test]
    fn bad_files_are_reported() {
        let twice = plans(vec![plan("basic", &[], None), plan("basic", &[], None)], None);
        assert!(twice.unwrap_err().contains("twice"));
        assert!(plans(vec![plan("Basic", &[], None)], None).is_err());
        assert!(plans(vec![plan("basic", &[], None)], Some("pro")).unwrap_err().contains("pro"));
        assert!(Feature::parse("api_keys") == Some(Feature::ApiKeys) && Feature::parse("nope").is_none());
    }
}
