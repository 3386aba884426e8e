use chrono::{DateTime, SubsecRound, Utc};

/// The source of "now" for every rule that depends on time, injected so that
/// expiry and reminders can be tested without waiting.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// Wall-clock time, truncated to microseconds: PostgreSQL stores no finer
/// precision, and both backends must hand back exactly what was written.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_has_microsecond_precision() {
        let now = SystemClock.now();
        assert_eq!(now.timestamp_subsec_nanos() % 1_000, 0);
    }
}

/// A clock that stands still until moved: tests drive expiry and reminders
/// with it instead of waiting.
#[derive(Debug)]
pub struct ManualClock(std::sync::Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn starting_at(now: DateTime<Utc>) -> Self {
        Self(std::sync::Mutex::new(now.trunc_subsecs(6)))
    }

    pub fn advance(&self, by: chrono::Duration) {
        if let Ok(mut now) = self.0.lock() {
            *now += by;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.lock().map(|now| *now).unwrap_or_else(|poisoned| *poisoned.into_inner())
    }
}

#[cfg(test)]
mod manual_tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::starting_at(SystemClock.now());
        let before = clock.now();
        assert_eq!(clock.now(), before);
        clock.advance(chrono::Duration::days(3));
        assert_eq!(clock.now() - before, chrono::Duration::days(3));
    }
}
