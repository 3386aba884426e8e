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
    VerifiedDomains => "verified_domains";
    DirectorySync => "directory_sync";
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

/// Every seat of the account's plan is taken: members plus pending
/// invitations reached its limit. A downgrade below the seats in use
/// removes nobody; it only refuses new seats.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "The account's plan ({plan}) allows {limit} seats (members plus pending invitations) and all are taken; \
     revoke a pending invitation, remove a member or move to a plan with more seats."
)]
pub struct SeatLimitReached {
    pub plan: String,
    pub limit: u32,
}

impl Plan {
    /// How many more seats fit beside `used`; `None`: no limit.
    pub fn free_seats(&self, used: u64) -> Option<u64> {
        self.seats.map(|limit| u64::from(limit).saturating_sub(used))
    }

    /// Takes one more seat beside `used`.
    pub fn take_seat(&self, used: u64) -> Result<(), SeatLimitReached> {
        match self.free_seats(used) {
            Some(0) => Err(self.seats_taken()),
            _ => Ok(()),
        }
    }

    /// The refusal when no seat is left.
    pub fn seats_taken(&self) -> SeatLimitReached {
        SeatLimitReached { plan: self.name.clone(), limit: self.seats.unwrap_or(0) }
    }
}

impl Plans {
    /// Whether any plan limits seats: without one, nobody needs to count.
    pub fn limit_seats(&self) -> bool {
        self.plans.iter().any(|plan| plan.seats.is_some())
    }
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
        assert_eq!(plans.default_plan().take_seat(1_000_000), Ok(()));
        assert!(!plans.limit_seats());
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
        assert!(plans.limit_seats());
        assert_eq!(basic.take_seat(4), Ok(()));
        let refused = basic.take_seat(5).unwrap_err();
        assert_eq!(refused, SeatLimitReached { plan: "basic".to_owned(), limit: 5 });
        assert!(refused.to_string().contains("(basic) allows 5 seats"));
        assert_eq!((basic.free_seats(3), basic.free_seats(9)), (Some(2), Some(0)));
    }

    proptest::proptest! {
        /// A seat is taken exactly while fewer than the limit are used, and
        /// the free seats say how many more takes succeed.
        #[test]
        fn seats_never_pass_the_limit(limit in proptest::option::of(0u32..100), used in 0u64..200) {
            let plan = plan("p", &[], limit);
            let mut taken = used;
            while plan.take_seat(taken).is_ok() && taken < 300 {
                taken += 1;
            }
            match limit {
                Some(limit) => {
                    proptest::prop_assert_eq!(taken, used.max(u64::from(limit)));
                    proptest::prop_assert_eq!(plan.free_seats(used), Some(u64::from(limit).saturating_sub(used)));
                }
                None => proptest::prop_assert_eq!(taken, 300),
            }
        }
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
