//! Each instance's memory of who holds what in which account, so that an
//! authorization decision — the hot path of every integration — needs no
//! database round trip.
//!
//! What is kept, per account: each member's resolved roles (group scopes
//! and roles inherited from a linked parent included; non-members too, as
//! such), the API keys used there, and the account's plan. It is right
//! because it forgets in time:
//!
//! - every change that can alter a decision names its account inside its
//!   transaction ([`persistence::authorization_changes`]); the instance that
//!   commits it forgets the account before the unit of work that made it
//!   returns, so before its response is sent ([`AccessCache::forget`]);
//! - the other instances hear of it through their [`listen`]er, a few
//!   milliseconds later;
//! - while an instance's listener is down, the cache answers nothing and
//!   every decision reads through to the database; once it is back, the
//!   cache starts empty;
//! - an answer read from the database is kept only if what it is about was
//!   not forgotten while it was being read ([`Ticket`]): a change committed
//!   meanwhile would otherwise be overwritten by what it replaced. A change
//!   to one member voids what was being read about that member only, so
//!   the echo of an accepted invitation (the instance hears its own
//!   `NOTIFY` a moment later) does not stop the inviter's roles from being
//!   kept.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::HeldRole;
use parking_lot::RwLock;
use persistence::DatabaseUrl;
use persistence::api_keys::ApiKey;
use persistence::authorization_changes::{ChangeListener, Changed};
use uuid::Uuid;

/// Past this many members and keys kept, the cache starts again empty: a
/// bound on memory that costs one read per member afterwards.
const CAPACITY: usize = 200_000;

/// How often the listener checks that its connection still answers.
const PING: Duration = Duration::from_secs(1);

/// How many of an account's member changes are remembered for
/// [`Ticket`]s; a ticket older than that keeps nothing.
const RECENT_MEMBER_CHANGES: usize = 64;

/// A member's roles in an account, as decisions need them.
#[derive(Debug)]
pub struct MemberAccess {
    /// `None` for someone whose access is inherited from a parent account.
    pub membership: Option<Uuid>,
    pub roles: Vec<HeldRole>,
    /// When activity in the account was last recorded, so that it is
    /// recorded every few minutes and not on every request.
    last_active: Moment,
}

impl MemberAccess {
    pub fn new(membership: Option<Uuid>, roles: Vec<HeldRole>, last_active_at: Option<DateTime<Utc>>) -> Self {
        Self { membership, roles, last_active: Moment::new(last_active_at) }
    }

    pub fn last_active_at(&self) -> Option<DateTime<Utc>> {
        self.last_active.get()
    }

    pub fn set_last_active_at(&self, at: DateTime<Utc>) {
        self.last_active.set(at);
    }
}

/// An API key and the secret it was presented with.
#[derive(Debug)]
pub struct KeyAccess {
    pub key: ApiKey,
    /// Until when the presented secret works (a rotated-out one ends).
    pub secret_valid_until: Option<DateTime<Utc>>,
    /// What its rate limit is counted by: the key's id.
    pub subject: String,
    last_used: Moment,
    /// What the key may do, worked out on first use. Safe to keep here:
    /// it derives from its creator's roles and the plan of the key's own
    /// account, and a change to either forgets the key too.
    resolved: OnceLock<ResolvedKey>,
}

/// A key's roles (its creator's, reduced to what the key carries) and
/// the plan of its account.
#[derive(Debug, Clone)]
pub struct ResolvedKey {
    pub roles: Vec<HeldRole>,
    pub plan: Option<String>,
    /// The key's account waits for its deletion: the key is refused.
    pub pending_deletion: bool,
}

impl KeyAccess {
    pub fn new(key: ApiKey, secret_valid_until: Option<DateTime<Utc>>) -> Self {
        let last_used = Moment::new(key.last_used_at);
        let subject = key.id.to_string();
        Self { key, secret_valid_until, subject, last_used, resolved: OnceLock::new() }
    }

    pub fn resolved(&self) -> Option<&ResolvedKey> {
        self.resolved.get()
    }

    pub fn resolve(&self, resolved: ResolvedKey) -> &ResolvedKey {
        self.resolved.get_or_init(|| resolved)
    }

    pub fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.last_used.get()
    }

    pub fn set_last_used_at(&self, at: DateTime<Utc>) {
        self.last_used.set(at);
    }
}

/// A time that entries shared between requests update in place.
#[derive(Debug)]
struct Moment(AtomicI64);

impl Moment {
    const NEVER: i64 = i64::MIN;

    fn new(at: Option<DateTime<Utc>>) -> Self {
        Self(AtomicI64::new(at.map_or(Self::NEVER, |at| at.timestamp_micros())))
    }

    fn get(&self) -> Option<DateTime<Utc>> {
        match self.0.load(Ordering::Relaxed) {
            Self::NEVER => None,
            micros => DateTime::from_timestamp_micros(micros),
        }
    }

    fn set(&self, at: DateTime<Utc>) {
        self.0.store(at.timestamp_micros(), Ordering::Relaxed);
    }
}

/// What the cache knows of some users of one account.
#[derive(Debug, Clone, Default)]
pub struct AccountAccess {
    /// The account's plan (`None`: the account does not exist).
    pub plan: Option<String>,
    /// The account waits for its deletion: nothing in it may change.
    pub pending_deletion: bool,
    /// The users asked about who hold anything there.
    pub members: HashMap<Uuid, Arc<MemberAccess>>,
}

/// Taken before reading an account's access from the database; what was
/// read is kept only if the account was not forgotten since.
#[derive(Debug, Clone, Copy)]
pub struct Ticket {
    account: Uuid,
    epoch: u64,
    generation: u64,
    member_generation: u64,
}

#[derive(Debug, Default)]
pub struct AccessCache {
    entries: RwLock<Entries>,
    /// Whether the cache may answer: only while the listener is up.
    answering: AtomicBool,
}

#[derive(Debug, Default)]
struct Entries {
    /// Moves on when everything is forgotten: every ticket taken before is void.
    epoch: u64,
    accounts: HashMap<Uuid, AccountEntry>,
    /// The keys kept, by the digest they were presented with: one lookup
    /// on the hot path of a partner's backend.
    keys: HashMap<String, Arc<KeyAccess>>,
    /// Members, keys and accounts forgotten without anything kept, for
    /// [`CAPACITY`].
    size: usize,
}

#[derive(Debug, Default)]
struct AccountEntry {
    /// Moves on each time the whole account is forgotten.
    generation: u64,
    /// Moves on each time one member of the account is forgotten.
    member_generation: u64,
    /// The latest member changes, oldest first, each with the
    /// `member_generation` it moved to.
    recent_member_changes: std::collections::VecDeque<(u64, Uuid)>,
    plan: Option<Option<String>>,
    /// Kept with the plan: whether the account waits for its deletion.
    pending_deletion: bool,
    /// `None`: known to hold nothing there.
    members: HashMap<Uuid, Option<Arc<MemberAccess>>>,
    /// The digests of the account's keys kept in [`Entries::keys`].
    key_digests: Vec<String>,
}

impl AccessCache {
    /// What is known of `users` in `account`: `None` unless the plan and
    /// every one of them are kept (and the cache is answering).
    pub fn account(&self, account: Uuid, users: &[Uuid]) -> Option<AccountAccess> {
        if !self.answering() {
            return None;
        }
        let entries = self.entries.read();
        let entry = entries.accounts.get(&account)?;
        let mut found = AccountAccess {
            plan: entry.plan.clone()?,
            pending_deletion: entry.pending_deletion,
            members: HashMap::with_capacity(users.len()),
        };
        for user in users {
            if let Some(member) = entry.members.get(user)?.as_ref() {
                found.members.insert(*user, member.clone());
            }
        }
        Some(found)
    }

    /// The key presented with `digest`, if kept.
    pub fn key(&self, digest: &str) -> Option<Arc<KeyAccess>> {
        if !self.answering() {
            return None;
        }
        self.entries.read().keys.get(digest).cloned()
    }

    pub fn ticket(&self, account: Uuid) -> Ticket {
        let entries = self.entries.read();
        let (generation, member_generation) =
            entries.accounts.get(&account).map_or((0, 0), |entry| (entry.generation, entry.member_generation));
        Ticket { account, epoch: entries.epoch, generation, member_generation }
    }

    /// Keeps what was read about `asked` under `ticket`: the plan, and each
    /// user's access (or that they hold nothing) unless that user was
    /// forgotten since the ticket was taken.
    pub fn keep_account(&self, ticket: Ticket, asked: &[Uuid], read: &AccountAccess) {
        self.keep(ticket, asked.len(), |entries| {
            let entry = entries.accounts.entry(ticket.account).or_default();
            let Some(changed_since) = entry.members_changed_since(ticket.member_generation) else { return 0 };
            entry.plan = Some(read.plan.clone());
            entry.pending_deletion = read.pending_deletion;
            asked
                .iter()
                .filter(|user| !changed_since.contains(user))
                .filter(|user| entry.members.insert(**user, read.members.get(user).cloned()).is_none())
                .count()
        });
    }

    /// Keeps a key read under `ticket`, by the digest it was presented with:
    /// only if no member changed meanwhile (a key's roles are its creator's).
    pub fn keep_key(&self, ticket: Ticket, digest: &str, key: Arc<KeyAccess>) {
        self.keep(ticket, 1, |entries| {
            let member_generation = entries.accounts.get(&ticket.account).map_or(0, |entry| entry.member_generation);
            if member_generation != ticket.member_generation || entries.keys.insert(digest.to_owned(), key).is_some() {
                return 0;
            }
            entries.accounts.entry(ticket.account).or_default().key_digests.push(digest.to_owned());
            1
        });
    }

    /// Runs `update`, unless the ticket is void (the cache forgot
    /// everything, or the whole account, since it was taken) or the cache is
    /// not answering; `update` returns how many entries it added.
    fn keep(&self, ticket: Ticket, adding: usize, update: impl FnOnce(&mut Entries) -> usize) {
        if !self.answering() {
            return;
        }
        let mut entries = self.entries.write();
        if entries.size + adding > CAPACITY {
            entries.forget_all();
        }
        if entries.epoch != ticket.epoch {
            return;
        }
        let generation = entries.accounts.get(&ticket.account).map_or(0, |entry| entry.generation);
        if generation != ticket.generation {
            return;
        }
        let added = update(&mut entries);
        entries.size += added;
    }

    /// Forgets what `changes` name: a whole account, or one member there
    /// together with the account's API keys (whose roles are their
    /// creators'). Either way, what is being read about the account now is
    /// not kept.
    pub fn forget(&self, changes: &[Changed]) {
        if changes.is_empty() {
            return;
        }
        let mut entries = self.entries.write();
        for change in changes {
            // An account never kept still gets an entry, so that what is
            // being read about it now is not kept; it counts towards the
            // capacity like a member, so that entries of every account
            // ever written to do not pile up.
            if !entries.accounts.contains_key(&change.account) {
                entries.size += 1;
            }
            let entry = entries.accounts.entry(change.account).or_default();
            let mut dropped = entry.key_digests.len();
            match change.member {
                Some(member) => {
                    entry.member_generation += 1;
                    entry.recent_member_changes.push_back((entry.member_generation, member));
                    if entry.recent_member_changes.len() > RECENT_MEMBER_CHANGES {
                        entry.recent_member_changes.pop_front();
                    }
                    dropped += usize::from(entry.members.remove(&member).is_some());
                }
                None => {
                    entry.generation += 1;
                    entry.plan = None;
                    dropped += entry.members.len();
                    entry.members.clear();
                }
            }
            for digest in std::mem::take(&mut entry.key_digests) {
                entries.keys.remove(&digest);
            }
            entries.size -= dropped;
        }
    }

    /// Forgets everything, and voids every ticket taken so far.
    pub fn forget_all(&self) {
        self.entries.write().forget_all();
    }

    /// Forgets what the transactions this thread committed changed:
    /// called by whoever owns a connection, after each unit of work.
    pub fn forget_committed(&self) {
        self.forget(&persistence::authorization_changes::take_committed());
    }

    fn answering(&self) -> bool {
        self.answering.load(Ordering::Acquire)
    }

    /// Whether the listener is up, so the cache answers (metrics, tests).
    pub fn listening(&self) -> bool {
        self.answering()
    }
}

impl AccountEntry {
    /// The members forgotten after `member_generation`; `None` when the
    /// changes since then are too many to have been remembered.
    fn members_changed_since(&self, member_generation: u64) -> Option<Vec<Uuid>> {
        if self.member_generation == member_generation {
            return Some(Vec::new());
        }
        let oldest = self.recent_member_changes.front().map_or(u64::MAX, |(generation, _)| *generation);
        if oldest > member_generation + 1 {
            return None;
        }
        Some(
            self.recent_member_changes
                .iter()
                .filter(|(at, _)| *at > member_generation)
                .map(|(_, user)| *user)
                .collect(),
        )
    }
}

impl Entries {
    fn forget_all(&mut self) {
        let epoch = self.epoch + 1;
        *self = Entries { epoch, ..Entries::default() };
    }
}

/// Starts the thread that hears of other instances' changes for `cache`
/// and keeps it answering while it does. It ends when the cache is
/// dropped. `retry`: how long to wait before reconnecting.
pub fn listen(cache: &Arc<AccessCache>, url: DatabaseUrl, name: String, retry: Duration) -> std::io::Result<()> {
    let cache = Arc::downgrade(cache);
    std::thread::Builder::new()
        .name("access-listener".into())
        .spawn(move || listen_until_dropped(&cache, &url, &name, retry))?;
    Ok(())
}

fn listen_until_dropped(cache: &Weak<AccessCache>, url: &DatabaseUrl, name: &str, retry: Duration) {
    loop {
        match ChangeListener::connect(url, name) {
            Ok(listener) => {
                let Some(lost) = hear(cache, listener) else { return };
                tracing::warn!(error = %lost, "authorization listener lost its connection; reading through until it is back");
            }
            Err(error) => tracing::warn!(%error, "authorization listener cannot connect; reading through"),
        }
        if !wait(cache, retry) {
            return;
        }
    }
}

/// Hears changes until the connection is lost (`Some(error)`) or the cache
/// is dropped (`None`). Everything kept before listening may have missed
/// changes, so the cache starts empty.
fn hear(cache: &Weak<AccessCache>, mut listener: ChangeListener) -> Option<persistence::StoreError> {
    {
        let cache = cache.upgrade()?;
        cache.forget_all();
        cache.answering.store(true, Ordering::Release);
    }
    let (mut last_ping, poll) = (std::time::Instant::now(), listener.poll_interval());
    loop {
        let heard = if last_ping.elapsed() >= PING {
            last_ping = std::time::Instant::now();
            listener.ping().and_then(|()| listener.changed())
        } else {
            listener.changed()
        };
        let cache = cache.upgrade()?;
        match heard {
            Ok(changes) => cache.forget(&changes),
            Err(error) => {
                cache.answering.store(false, Ordering::Release);
                cache.forget_all();
                return Some(error);
            }
        }
        drop(cache);
        std::thread::sleep(poll);
    }
}

/// Waits `retry`, looking every so often whether the cache is still there.
fn wait(cache: &Weak<AccessCache>, retry: Duration) -> bool {
    let deadline = std::time::Instant::now() + retry;
    while std::time::Instant::now() < deadline {
        if cache.strong_count() == 0 {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50).min(retry));
    }
    cache.strong_count() > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(account: Uuid) -> Changed {
        Changed { account, member: None }
    }

    fn answering() -> AccessCache {
        let cache = AccessCache::default();
        cache.answering.store(true, Ordering::Release);
        cache
    }

    fn read(plan: &str, members: &[Uuid]) -> AccountAccess {
        AccountAccess {
            plan: Some(plan.into()),
            pending_deletion: false,
            members: members.iter().map(|user| (*user, Arc::new(MemberAccess::new(None, Vec::new(), None)))).collect(),
        }
    }

    #[test]
    fn keeps_members_and_non_members_until_their_account_is_forgotten() {
        let cache = answering();
        let (account, member, outsider) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        assert!(cache.account(account, &[member]).is_none());
        cache.keep_account(cache.ticket(account), &[member, outsider], &read("free", &[member]));
        let known = cache.account(account, &[member, outsider]).unwrap();
        assert_eq!(known.plan.as_deref(), Some("free"));
        assert!(known.members.contains_key(&member) && !known.members.contains_key(&outsider));
        assert!(cache.account(account, &[Uuid::new_v4()]).is_none(), "someone never asked about is not known");
        cache.forget(&[whole(Uuid::new_v4())]);
        assert!(cache.account(account, &[member]).is_some(), "another account's change");
        cache.forget(&[whole(account)]);
        assert!(cache.account(account, &[member]).is_none());
    }

    #[test]
    fn a_members_change_forgets_that_member_and_the_accounts_keys() {
        let cache = answering();
        let (account, changed, other) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        cache.keep_account(cache.ticket(account), &[changed, other], &read("free", &[changed, other]));
        let during = cache.ticket(account);
        cache.forget(&[Changed { account, member: Some(changed) }]);
        assert!(cache.account(account, &[changed]).is_none());
        let kept = cache.account(account, &[other]).unwrap();
        assert!(kept.members.contains_key(&other) && kept.plan.is_some(), "the others and the plan stay");
        cache.keep_account(during, &[changed], &read("free", &[changed]));
        assert!(cache.account(account, &[changed]).is_none(), "read while the change committed: not kept");
        assert_eq!(cache.entries.read().size, 1);
    }

    #[test]
    fn a_members_change_voids_only_what_was_being_read_about_them() {
        let cache = answering();
        let (account, inviter, invitee) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let before = cache.ticket(account);
        cache.forget(&[Changed { account, member: Some(invitee) }]);
        cache.keep_account(before, &[inviter, invitee], &read("free", &[inviter, invitee]));
        assert!(cache.account(account, &[inviter]).is_some(), "the inviter's roles are kept");
        assert!(cache.account(account, &[invitee]).is_none(), "the invitee's, read while they changed, are not");
        let key = Arc::new(KeyAccess::new(api_key(account), None));
        cache.keep_key(before, "digest", key.clone());
        assert!(cache.key("digest").is_none(), "a key's roles are its creator's: any member's change voids it");
        cache.keep_key(cache.ticket(account), "digest", key);
        assert!(cache.key("digest").is_some());

        let before = cache.ticket(account);
        for _ in 0..=RECENT_MEMBER_CHANGES {
            cache.forget(&[Changed { account, member: Some(Uuid::new_v4()) }]);
        }
        cache.keep_account(before, &[invitee], &read("free", &[invitee]));
        assert!(cache.account(account, &[invitee]).is_none(), "more changes than remembered: nothing kept");
    }

    #[test]
    fn what_was_read_before_a_change_is_not_kept() {
        let cache = answering();
        let (account, member) = (Uuid::new_v4(), Uuid::new_v4());
        let before = cache.ticket(account);
        cache.forget(&[whole(account)]);
        cache.keep_account(before, &[member], &read("free", &[member]));
        assert!(cache.account(account, &[member]).is_none());
        let before = cache.ticket(account);
        cache.forget_all();
        cache.keep_account(before, &[member], &read("free", &[member]));
        assert!(cache.account(account, &[member]).is_none());
        cache.keep_account(cache.ticket(account), &[member], &read("free", &[member]));
        assert!(cache.account(account, &[member]).is_some());
    }

    fn api_key(account: Uuid) -> ApiKey {
        let now = Utc::now();
        ApiKey {
            id: Uuid::new_v4(),
            account_id: account,
            partner_id: Uuid::new_v4(),
            partner_name: "Partner".into(),
            name: "Backend".into(),
            permissions: vec!["members:read".into()],
            group_id: None,
            allowed_ips: Vec::new(),
            created_by: Uuid::new_v4(),
            created_by_email: "owner@example.com".into(),
            created_at: now,
            expires_at: now + chrono::Duration::days(90),
            revoked_at: None,
            last_used_at: None,
            last_used_ip: None,
            shown: "roster_Ab12Cd".into(),
        }
    }

    #[test]
    fn keys_are_forgotten_with_their_account() {
        let cache = answering();
        let account = Uuid::new_v4();
        cache.keep_key(cache.ticket(account), "digest", Arc::new(KeyAccess::new(api_key(account), None)));
        assert!(cache.key("digest").is_some());
        assert!(cache.key("another").is_none());
        cache.forget(&[whole(Uuid::new_v4())]);
        assert!(cache.key("digest").is_some());
        // Any member's change: the key's roles are its creator's.
        cache.forget(&[Changed { account, member: Some(Uuid::new_v4()) }]);
        assert!(cache.key("digest").is_none());
        assert_eq!(cache.entries.read().size, 1, "only the entry of the account never kept");
    }

    #[test]
    fn answers_nothing_while_not_listening() {
        let cache = AccessCache::default();
        let (account, member) = (Uuid::new_v4(), Uuid::new_v4());
        cache.keep_account(cache.ticket(account), &[member], &read("free", &[member]));
        assert!(cache.account(account, &[member]).is_none());
    }

    #[test]
    fn stays_within_its_capacity() {
        let cache = answering();
        let account = Uuid::new_v4();
        let users: Vec<Uuid> = (0..CAPACITY).map(|_| Uuid::new_v4()).collect();
        cache.keep_account(cache.ticket(account), &users, &read("free", &[]));
        assert_eq!(cache.entries.read().size, CAPACITY);
        let another = Uuid::new_v4();
        cache.keep_account(cache.ticket(another), &[Uuid::new_v4()], &read("free", &[]));
        assert_eq!(cache.entries.read().size, 0, "full: started again, and the ticket taken before is void");
        cache.keep_account(cache.ticket(another), &[Uuid::new_v4()], &read("free", &[]));
        assert_eq!(cache.entries.read().size, 1);
    }
}
