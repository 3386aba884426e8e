//! argon2id password hashes (PHC strings with their own salt and cost), on
//! a bounded set of threads.
//!
//! One argon2 run fills about 19 MiB and holds a core for tens of
//! milliseconds. Run on an unbounded pool, a flood of sign-ins (which anyone
//! can send) took gigabytes and starved every other request.
//! [`PasswordHasher`] runs at most one hash per thread of its own; a request
//! waits for a free thread at most [`PasswordHasher`]'s `wait`, then gets
//! 503 with `Retry-After`. Each thread fills the same memory every time:
//! freed and allocated again, the 19 MiB landed in whichever malloc arena
//! was free and stayed there, ~250 MiB after a few sign-ins on two threads.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use domain::NewPassword;
use tokio::sync::{Semaphore, oneshot};

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum HashingError {
    /// Every hashing thread stayed busy for the whole wait: try again soon.
    #[error("every password hashing thread is busy")]
    Busy,
    #[error("password hashing failed: {0}")]
    Failed(String),
}

/// Work for a hashing thread, given that thread's argon2 memory.
type Job = Box<dyn FnOnce(&mut Memory) + Send>;

/// The blocks argon2 fills, allocated once per thread.
pub struct Memory(Vec<Block>);

impl Memory {
    fn new() -> Self {
        Self(vec![Block::default(); Params::default().block_count()])
    }

    /// Enough blocks for `params`: more only for hashes stored with a
    /// higher memory cost than ours.
    fn blocks(&mut self, params: &Params) -> &mut [Block] {
        if self.0.len() < params.block_count() {
            self.0.resize(params.block_count(), Block::default());
        }
        &mut self.0
    }
}

/// The password hashing threads. Cloning shares them.
#[derive(Clone)]
pub struct PasswordHasher {
    jobs: Sender<Job>,
    /// One permit per thread: holding one means a thread is free for you.
    permits: Arc<Semaphore>,
    wait: Duration,
}

impl PasswordHasher {
    /// Starts `threads` hashing threads (0: one per core). The threads end
    /// when the last clone of the hasher is dropped.
    pub fn start(threads: usize, wait: Duration) -> std::io::Result<Self> {
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            n => n,
        };
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new().name(format!("roster-argon2-{index}")).spawn(move || serve(&queue))?;
        }
        Ok(Self { jobs, permits: Arc::new(Semaphore::new(threads)), wait })
    }

    /// The argon2id hash of a new password.
    pub async fn hash(&self, password: NewPassword) -> Result<String, HashingError> {
        self.run(move |memory| hash(&password, memory)).await?
    }

    /// Whether `candidate` matches `stored`; with no stored hash the decoy
    /// is checked, so an unknown email costs what a wrong password does.
    pub async fn verify(&self, candidate: String, stored: Option<String>) -> Result<bool, HashingError> {
        self.run(move |memory| verify(&candidate, stored.as_deref(), memory)).await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Result<T, HashingError> {
        let permit = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| HashingError::Busy)?
            .map_err(|e| HashingError::Failed(e.to_string()))?;
        let (done, outcome) = oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let outcome = work(memory);
            // Free before answering, so that whoever reads the answer finds
            // the thread free.
            drop(permit);
            let _ = done.send(outcome);
        });
        self.jobs.send(job).map_err(|_| HashingError::Failed("the password hashing threads stopped".into()))?;
        outcome.await.map_err(|_| HashingError::Failed("a password hashing job was lost".into()))
    }
}

fn serve(queue: &Mutex<Receiver<Job>>) {
    let mut memory = Memory::new();
    loop {
        // The lock is held only while waiting for the next job, so one idle
        // thread waits on the channel and the others on the lock.
        let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        match job {
            Ok(job) => job(&mut memory),
            Err(_) => return,
        }
    }
}

/// argon2's own `hash_password`, filling `memory` instead of allocating.
fn digest(
    argon2: &Argon2<'_>,
    password: &[u8],
    salt: Salt<'_>,
    memory: &mut Memory,
) -> argon2::password_hash::Result<Output> {
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
    let length = argon2.params().output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let blocks = memory.blocks(argon2.params());
    Output::init_with(length, |out| {
        Ok(argon2.hash_password_into_with_memory(password, salt_bytes, out, &mut *blocks)?)
    })
}

/// The PHC string of a new argon2id hash with the default cost.
fn hash(password: &NewPassword, memory: &mut Memory) -> Result<String, HashingError> {
    let salt = SaltString::generate(&mut OsRng);
    let argon2 = Argon2::default();
    let output = digest(&argon2, password.expose().as_bytes(), salt.as_salt(), memory)
        .map_err(|e| HashingError::Failed(e.to_string()))?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::default().into()),
        params: ParamsString::try_from(argon2.params()).map_err(|e| HashingError::Failed(e.to_string()))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(hash.to_string())
}

/// A hash of a random password, verified against when the email is unknown
/// so that "no such user" costs the same time as "wrong password".
static DECOY_HASH: LazyLock<String> = LazyLock::new(|| {
    let decoy = SaltString::generate(&mut OsRng);
    NewPassword::parse(decoy.as_str(), "")
        .ok()
        .and_then(|password| hash(&password, &mut Memory::new()).ok())
        .unwrap_or_default()
});

/// Checks `candidate` against a stored hash, or against the decoy when there
/// is none; either way one argon2 run happens. `Output`'s equality is
/// constant-time.
fn verify(candidate: &str, stored: Option<&str>, memory: &mut Memory) -> bool {
    let real = stored.is_some();
    let Ok(parsed) = PasswordHash::new(stored.unwrap_or(DECOY_HASH.as_str())) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let argon2 = match (Algorithm::try_from(parsed.algorithm), Params::try_from(&parsed)) {
        (Ok(algorithm), Ok(params)) => {
            let version = parsed.version.map_or(Ok(Version::default()), Version::try_from);
            let Ok(version) = version else { return false };
            Argon2::new(algorithm, version, params)
        }
        _ => return false,
    };
    let matches = digest(&argon2, candidate.as_bytes(), salt, memory).is_ok_and(|computed| computed == expected);
    matches && real
}

/// Computes the decoy hash ahead of the first login.
pub fn warm_up() {
    LazyLock::force(&DECOY_HASH);
}

#[cfg(test)]
mod tests {
    use super::*;

    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

    #[test]
    fn verifies_only_the_right_password() {
        let memory = &mut Memory::new();
        let password = NewPassword::parse("correct horse battery", "ada@example.com").unwrap();
        let stored = hash(&password, memory).unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery", Some(&stored), memory));
        assert!(!verify("wrong horse battery", Some(&stored), memory));
    }

    #[test]
    fn hashes_are_interchangeable_with_argon2s_own() {
        let memory = &mut Memory::new();
        let password = NewPassword::parse("correct horse battery", "ada@example.com").unwrap();
        let ours = hash(&password, memory).unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"correct horse battery", &parsed).is_ok());
        // A hash made elsewhere with a higher cost still verifies.
        let params = Params::new(32 * 1024, 3, 1, None).unwrap();
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"correct horse battery", &salt)
            .unwrap()
            .to_string();
        assert!(verify("correct horse battery", Some(&theirs), memory));
        assert!(!verify("correct horse batter", Some(&theirs), memory));
        assert!(!verify("x", Some("not a PHC string"), memory));
    }

    #[test]
    fn the_decoy_costs_what_a_real_hash_costs() {
        let memory = &mut Memory::new();
        let real = hash(&NewPassword::parse("correct horse battery", "").unwrap(), memory).unwrap();
        let cost = |phc: &str| Params::try_from(&PasswordHash::new(phc).unwrap()).unwrap();
        let (decoy, real) = (cost(&DECOY_HASH), cost(&real));
        assert_eq!(
            (decoy.m_cost(), decoy.t_cost(), decoy.p_cost(), decoy.output_len()),
            (real.m_cost(), real.t_cost(), real.p_cost(), real.output_len())
        );
    }

    #[test]
    fn the_decoy_never_matches() {
        let memory = &mut Memory::new();
        assert!(DECOY_HASH.starts_with("$argon2id$"));
        assert!(!verify("", None, memory));
        assert!(!verify("anything at all", None, memory));
    }

    #[tokio::test]
    async fn a_caller_waits_for_a_free_thread_then_is_refused() {
        let hasher = PasswordHasher::start(1, Duration::from_millis(50)).unwrap();
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let busy = hasher.clone();
        let occupied = tokio::spawn(async move { busy.run(move |_| hold.recv().is_ok()).await });
        // The only thread is taken until `release` is sent.
        while hasher.permits.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        assert!(matches!(hasher.verify("x".into(), None).await, Err(HashingError::Busy)));
        release.send(()).unwrap();
        assert!(occupied.await.unwrap().unwrap());
        assert!(!hasher.verify("x".into(), None).await.unwrap(), "a free thread serves the next caller");
    }
}
