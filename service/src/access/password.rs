//! Passwords: the policy, and Argon2id hashing off the async executor.

use std::sync::OnceLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::{Error, Result};

/// OWASP's Argon2id minimum: 19 MiB, 2 passes, 1 lane.
const M_COST: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

fn hasher() -> Argon2<'static> {
    let params = Params::new(M_COST, T_COST, P_COST, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A password that satisfies the policy: 12–128 characters, not the username, not one
/// character repeated.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Checks the policy; the error names the rule that failed.
    pub fn parse(candidate: &str, username: &str, field: &str) -> Result<Self> {
        let len = candidate.chars().count();
        let rule = if len < 12 {
            Some("must be at least 12 characters long")
        } else if len > 128 {
            Some("must be at most 128 characters long")
        } else if candidate.eq_ignore_ascii_case(username) {
            Some("must not be the same as the username")
        } else if candidate.chars().all(|c| candidate.starts_with(c)) {
            Some("must not be one character repeated")
        } else {
            None
        };
        match rule {
            Some(message) => Err(Error::invalid(field, message)),
            None => Ok(Self(candidate.to_string())),
        }
    }

    /// A random password that satisfies the policy (20 characters, URL-safe).
    pub fn generate() -> Self {
        use base64::Engine;
        use rand::RngExt;
        let bytes: [u8; 15] = rand::rng().random();
        Self(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The plaintext, for showing a generated password once.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

/// Hashes on the hashing threads, so a burst of logins never stalls the executor.
pub async fn hash(password: &Password) -> Result<String> {
    let plain = password.0.clone();
    hashing::run(move || {
        hasher()
            .hash_password(plain.as_bytes())
            .map(|h| h.to_string())
            .map_err(Error::internal)
    })
    .await?
}

/// The outcome of checking a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    No,
    Yes,
    /// Correct, but hashed with weaker parameters than today's: rehash it.
    YesButRehash,
}

/// Verifies `plain` against a PHC string on the hashing threads. With no stored hash (an
/// unknown user, or a user without a password) a dummy hash is verified instead, so the
/// answer takes the same time either way.
pub async fn verify(plain: &str, stored: Option<&str>) -> Result<Verified> {
    let plain = plain.to_string();
    let stored = stored.map(str::to_string);
    hashing::run(move || verify_now(&plain, stored.as_deref())).await
}

/// [`verify`] on the calling thread.
fn verify_now(plain: &str, stored: Option<&str>) -> Verified {
    // A stored hash that does not parse is checked like a missing one: the same work, "no".
    let real = stored.and_then(|s| PasswordHash::new(s).ok());
    let dummy;
    let parsed = match &real {
        Some(parsed) => parsed,
        None => {
            dummy = PasswordHash::new(dummy_hash());
            match &dummy {
                Ok(parsed) => parsed,
                Err(_) => return Verified::No,
            }
        }
    };
    let argon = match Params::try_from(parsed) {
        Ok(params) => Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
        Err(_) => hasher(),
    };
    // Always verify, then look at whose hash it was: the dummy costs what a real one does.
    let matches = argon_verify(&argon, plain, parsed);
    if real.is_none() || !matches {
        return Verified::No;
    }
    let strong = parsed.algorithm.as_str() == "argon2id"
        && Params::try_from(parsed)
            .map(|p| p.m_cost() >= M_COST && p.t_cost() >= T_COST && p.p_cost() >= P_COST)
            .unwrap_or(false);
    if strong {
        Verified::Yes
    } else {
        Verified::YesButRehash
    }
}

/// One Argon2 verification: the only place a password is compared with a hash.
fn argon_verify(argon: &Argon2<'_>, plain: &str, parsed: &PasswordHash) -> bool {
    #[cfg(test)]
    ARGON_CALLS.with(|calls| calls.set(calls.get() + 1));
    argon.verify_password(plain.as_bytes(), parsed).is_ok()
}

#[cfg(test)]
thread_local! {
    /// Argon2 verifications run on this thread, so a test can see that one ran.
    static ARGON_CALLS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// A few dedicated threads for Argon2, the only CPU-heavy work on a request path.
///
/// Each hash takes 19 MiB and most of a core. Running them on the general blocking pool
/// lets a burst of sign-ins take every core (so `/healthz` and pages wait) and leaves a
/// retained allocator arena behind on every thread that ever hashed. A fixed pool of
/// `cores - 1` threads (at least one) keeps a core free for the executors and bounds memory.
mod hashing {
    use std::sync::mpsc::{Receiver, Sender, channel};
    use std::sync::{Arc, Mutex, OnceLock};

    use crate::{Error, Result};

    type Job = Box<dyn FnOnce() + Send>;

    fn queue() -> &'static Mutex<Sender<Job>> {
        static QUEUE: OnceLock<Mutex<Sender<Job>>> = OnceLock::new();
        QUEUE.get_or_init(|| {
            let (tx, rx) = channel::<Job>();
            let rx = Arc::new(Mutex::new(rx));
            let cores = std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2);
            for i in 0..cores.saturating_sub(1).max(1) {
                let rx = Arc::clone(&rx);
                let _ = std::thread::Builder::new()
                    .name(format!("metadeck-hash-{i}"))
                    .spawn(move || work(&rx));
            }
            Mutex::new(tx)
        })
    }

    fn work(rx: &Mutex<Receiver<Job>>) {
        loop {
            let job = match rx.lock() {
                Ok(rx) => rx.recv(),
                Err(_) => return,
            };
            match job {
                Ok(job) => job(),
                Err(_) => return,
            }
        }
    }

    /// Runs `f` on a hashing thread and waits for its answer without blocking the executor.
    pub(super) async fn run<T: Send + 'static>(
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        queue()
            .lock()
            .map_err(|_| Error::internal("the hashing queue is poisoned"))?
            .send(job)
            .map_err(Error::internal)?;
        rx.await
            .map_err(|_| Error::internal("a hashing thread stopped"))
    }
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        hasher()
            .hash_password(b"metadeck-timing-equaliser")
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_says_which_rule_failed() {
        let msg = |pw: &str| match Password::parse(pw, "alice", "password") {
            Err(Error::Validation(e)) => e[0].message.clone(),
            _ => "accepted".into(),
        };
        assert!(msg("short").contains("at least 12"));
        assert!(msg(&"x".repeat(129)).contains("at most 128"));
        assert!(msg("aaaaaaaaaaaaaaa").contains("repeated"));
        assert_eq!(msg("a-good-long-passphrase"), "accepted");
        assert!(Password::parse("ALICEalice12", "aliceALICE12", "password").is_err());
    }

    #[tokio::test]
    async fn a_hash_verifies_and_a_weak_one_asks_for_rehash() {
        let pw = Password::parse("correct horse battery", "bob", "password").unwrap();
        let phc = hash(&pw).await.unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert_eq!(
            verify("correct horse battery", Some(&phc)).await.unwrap(),
            Verified::Yes
        );
        assert_eq!(verify("wrong", Some(&phc)).await.unwrap(), Verified::No);
        assert_eq!(verify("anything", None).await.unwrap(), Verified::No);

        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).unwrap(),
        )
        .hash_password(b"correct horse battery")
        .unwrap()
        .to_string();
        assert_eq!(
            verify("correct horse battery", Some(&weak)).await.unwrap(),
            Verified::YesButRehash
        );
    }

    /// Unknown users must cost one Argon2 verification, like known ones: no timing oracle.
    #[test]
    fn an_unknown_user_costs_one_argon2_verification_like_a_known_one() {
        let calls = || ARGON_CALLS.with(|c| c.get());
        let pw = Password::parse("correct horse battery", "bob", "password").unwrap();
        let phc = hasher()
            .hash_password(pw.expose().as_bytes())
            .unwrap()
            .to_string();

        let before = calls();
        assert_eq!(verify_now("wrong guess", Some(&phc)), Verified::No);
        assert_eq!(calls(), before + 1, "a known user's check runs Argon2 once");

        let before = calls();
        assert_eq!(verify_now("wrong guess", None), Verified::No);
        assert_eq!(
            calls(),
            before + 1,
            "an unknown user's check runs Argon2 once"
        );

        let before = calls();
        assert_eq!(verify_now("wrong guess", Some("not a hash")), Verified::No);
        assert_eq!(calls(), before + 1, "an unreadable hash runs Argon2 once");

        // The dummy hash accepts nothing, not even its own plaintext.
        assert_eq!(verify_now("metadeck-timing-equaliser", None), Verified::No);
    }

    #[test]
    fn generated_passwords_pass_the_policy() {
        let pw = Password::generate();
        assert!(Password::parse(pw.expose(), "admin", "password").is_ok());
    }
}
