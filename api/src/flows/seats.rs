//! Seats: an account's members plus its pending invitations, within its
//! plan's limit. Every flow that adds a seat (an invitation, a join
//! approval, a resend that revives an invitation, an import's rows) holds
//! the account first, so that parallel flows count one after the other and
//! the limit is never passed.

use chrono::{DateTime, Utc};
use domain::plan::{Plan, SeatLimitReached};
use persistence::{DbConnection, StoreError, accounts};
use uuid::Uuid;

use super::Ctx;

/// The seats of one account, held until the transaction ends.
pub struct Seats<'p> {
    account: Uuid,
    /// The account's plan when it limits seats; `None`: nothing to count.
    limited: Option<&'p Plan>,
}

impl<'p> Seats<'p> {
    /// Holds `account`'s seats: on a plan with a limit, locks the account
    /// row (PostgreSQL; SQLite's single writer already serialises). Take it
    /// before the flow's other writes, so that flows lock in one order.
    pub fn hold(conn: &mut DbConnection, ctx: &Ctx<'p>, account: Uuid) -> Result<Self, StoreError> {
        if !ctx.plans.limit_seats() {
            return Ok(Seats { account, limited: None });
        }
        let stored = accounts::plan_of(conn, account)?.unwrap_or_default();
        let plan = ctx.plans.of_account(&stored);
        let limited = plan.seats.is_some().then_some(plan);
        if limited.is_some() {
            accounts::lock(conn, account)?;
        }
        Ok(Seats { account, limited })
    }

    /// How many seats are free; `None`: no limit.
    pub fn free(&self, conn: &mut DbConnection, now: DateTime<Utc>) -> Result<Option<u64>, StoreError> {
        match self.limited {
            Some(plan) => Ok(plan.free_seats(accounts::seats_used(conn, self.account, now)?)),
            None => Ok(None),
        }
    }

    /// Takes one seat, or says that none is left.
    pub fn take_one(&self, conn: &mut DbConnection, now: DateTime<Utc>) -> Result<(), super::Shared> {
        match self.free(conn, now)? {
            Some(0) => Err(self.refusal().into()),
            _ => Ok(()),
        }
    }

    /// The refusal once every seat is taken.
    pub fn refusal(&self) -> SeatLimitReached {
        self.limited.map_or(SeatLimitReached { plan: String::new(), limit: 0 }, Plan::seats_taken)
    }
}
