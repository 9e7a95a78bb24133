//! Throttling of password sign-ins: what stops guessing without handing
//! anyone a way to lock a real user out.
//!
//! The rule (OWASP's guidance on credential stuffing versus lockout; the
//! README says it to operators):
//! - **one account from one address** is strict: after
//!   [`Limits::pair_failures`] wrong passwords inside
//!   [`Limits::failure_window`] that pair waits until the window
//!   has passed;
//! - **one address** is strict too: [`Limits::address_failures`]
//!   wrong passwords for any accounts, then it waits;
//! - **one account from anywhere** is loose: past
//!   [`Limits::account_failures`] each further attempt waits a
//!   delay that doubles with every failure, up to
//!   [`Limits::account_max_delay`], and never applies to an address
//!   that has signed this account in before. So a stranger's wrong
//!   passwords slow strangers down but never keep the user out from where
//!   they usually sign in.
//!
//! An attempt is *reserved* before the password is checked: the check
//! and the counting happen under one lock, so a burst of parallel
//! requests gets exactly as many password checks as the limits allow. A
//! reservation counts as a failure until the password turns out right,
//! when it is taken back.
//!
//! Everything lives in memory and a restart forgets it: that trades a
//! little protection for no write per failure.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The limits the throttle holds attempts to (from
/// `sessions::SessionPolicy`, whose fields say what each means).
#[derive(Clone, Debug)]
pub(crate) struct Limits {
    pub pair_failures: usize,
    pub address_failures: usize,
    pub account_failures: usize,
    pub account_max_delay: Duration,
    pub failure_window: Duration,
}

/// Memory bound of the failure lists and of the known addresses: past it,
/// entries that no longer matter go first, then arbitrary ones.
const MAX_KEYS: usize = 100_000;

/// Addresses remembered per account as "has signed in from here".
const KNOWN_PER_ACCOUNT: usize = 8;

#[derive(Default)]
pub(crate) struct SignInThrottle {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Times of failed (or still running) attempts, oldest first, per key.
    failures: HashMap<Key, VecDeque<Instant>>,
    /// Addresses that signed an account in, newest last.
    known: HashMap<String, VecDeque<Option<IpAddr>>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Pair(String, Option<IpAddr>),
    Address(IpAddr),
    Account(String),
}

/// An attempt allowed to check its password; give it back with
/// [`SignInThrottle::succeeded`] when the password was right. Dropped
/// otherwise, it stays counted as a failure.
#[must_use]
pub(crate) struct Reservation {
    account: String,
    address: Option<IpAddr>,
    keys: Vec<Key>,
    at: Instant,
}

impl SignInThrottle {
    /// Reserves an attempt of `account` from `address`, or says how long
    /// until one is allowed.
    pub(crate) fn reserve(
        &self,
        policy: &Limits,
        account: &str,
        address: Option<IpAddr>,
    ) -> Result<Reservation, Duration> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let window = policy.failure_window;
        let known = state
            .known
            .get(account)
            .is_some_and(|list| list.contains(&address));
        let mut keys = vec![Key::Pair(account.to_owned(), address)];
        if let Some(a) = address {
            keys.push(Key::Address(a));
        }
        keys.push(Key::Account(account.to_owned()));
        let mut wait = Duration::ZERO;
        for key in &keys {
            let Some(list) = state.failures.get_mut(key) else {
                continue;
            };
            while list
                .front()
                .is_some_and(|t| now.duration_since(*t) >= window)
            {
                list.pop_front();
            }
            let strict = |limit: usize| {
                (list.len() >= limit)
                    .then(|| list.front().map(|t| window.saturating_sub(now - *t)))
                    .flatten()
            };
            let this = match key {
                Key::Pair(..) => strict(policy.pair_failures),
                Key::Address(_) => strict(policy.address_failures),
                Key::Account(_) if known => None,
                Key::Account(_) => {
                    let over = list.len().checked_sub(policy.account_failures);
                    over.zip(list.back()).map(|(over, last)| {
                        let delay = growing_delay(over, policy.account_max_delay);
                        delay.saturating_sub(now - *last)
                    })
                }
            };
            wait = wait.max(this.unwrap_or_default());
        }
        if !wait.is_zero() {
            return Err(wait);
        }
        if state.failures.len() >= MAX_KEYS {
            state
                .failures
                .retain(|_, l| l.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        for key in &keys {
            state
                .failures
                .entry(key.clone())
                .or_default()
                .push_back(now);
        }
        Ok(Reservation {
            account: account.to_owned(),
            address,
            keys,
            at: now,
        })
    }

    /// The password was right: the attempt is no failure, the pair and
    /// the account start afresh, and the address is one this account
    /// signs in from.
    pub(crate) fn succeeded(&self, reservation: Reservation) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        for key in &reservation.keys {
            let Some(list) = state.failures.get_mut(key) else {
                continue;
            };
            match key {
                Key::Pair(..) | Key::Account(_) => list.clear(),
                Key::Address(_) => {
                    if let Some(at) = list.iter().position(|t| *t == reservation.at) {
                        list.remove(at);
                    }
                }
            }
            if list.is_empty() {
                state.failures.remove(key);
            }
        }
        if state.known.len() >= MAX_KEYS && !state.known.contains_key(&reservation.account) {
            // Forgetting whom an account knows only makes its next sign-in
            // from there subject to the loose account delay again.
            if let Some(any) = state.known.keys().next().cloned() {
                state.known.remove(&any);
            }
        }
        let list = state.known.entry(reservation.account).or_default();
        list.retain(|a| *a != reservation.address);
        list.push_back(reservation.address);
        if list.len() > KNOWN_PER_ACCOUNT {
            list.pop_front();
        }
    }
}

/// 1 s after the first failure past the free ones, doubling, capped.
fn growing_delay(over: usize, max: Duration) -> Duration {
    let shift = u32::try_from(over).unwrap_or(u32::MAX).min(30);
    Duration::from_secs(1u64 << shift).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Limits {
        Limits {
            pair_failures: 3,
            address_failures: 5,
            account_failures: 4,
            account_max_delay: Duration::from_secs(60),
            failure_window: Duration::from_secs(15 * 60),
        }
    }

    fn addr(n: u8) -> Option<IpAddr> {
        Some(IpAddr::from([10, 0, 0, n]))
    }

    #[test]
    fn one_pair_gets_its_limit_and_then_waits_the_window() {
        let t = SignInThrottle::default();
        let p = policy();
        for _ in 0..3 {
            drop(t.reserve(&p, "ann", addr(1)).unwrap());
        }
        let wait = t.reserve(&p, "ann", addr(1)).err().unwrap();
        assert!(wait > Duration::from_secs(14 * 60), "{wait:?}");
    }

    #[test]
    fn reservations_count_before_their_outcome_is_known() {
        let t = SignInThrottle::default();
        let p = policy();
        let held: Vec<_> = (0..3).map(|_| t.reserve(&p, "ann", addr(1))).collect();
        assert!(held.iter().all(Result::is_ok));
        assert!(t.reserve(&p, "ann", addr(1)).is_err());
    }

    #[test]
    fn a_success_gives_its_attempt_back_and_clears_the_pair() {
        let t = SignInThrottle::default();
        let p = policy();
        drop(t.reserve(&p, "ann", addr(1)).unwrap());
        drop(t.reserve(&p, "ann", addr(1)).unwrap());
        t.succeeded(t.reserve(&p, "ann", addr(1)).unwrap());
        for _ in 0..3 {
            drop(t.reserve(&p, "ann", addr(1)).unwrap());
        }
    }

    #[test]
    fn one_address_is_limited_across_accounts() {
        let t = SignInThrottle::default();
        let p = policy();
        for n in 0..5 {
            drop(t.reserve(&p, &format!("user{n}"), addr(1)).unwrap());
        }
        assert!(t.reserve(&p, "user9", addr(1)).is_err());
        assert!(t.reserve(&p, "user9", addr(2)).is_ok());
    }

    #[test]
    fn strangers_slow_an_account_down_but_never_lock_out_a_known_address() {
        let t = SignInThrottle::default();
        let p = policy();
        t.succeeded(t.reserve(&p, "ann", addr(200)).unwrap());
        for n in 0..4 {
            drop(t.reserve(&p, "ann", addr(n)).unwrap());
        }
        // Past the free failures, a new address waits a growing delay…
        let first = t.reserve(&p, "ann", addr(50)).err().unwrap();
        assert!(first <= Duration::from_secs(1), "{first:?}");
        // …but the address ann signs in from goes straight through.
        assert!(t.reserve(&p, "ann", addr(200)).is_ok());
    }

    #[test]
    fn the_account_delay_doubles_and_is_capped() {
        assert_eq!(
            growing_delay(0, Duration::from_secs(60)),
            Duration::from_secs(1)
        );
        assert_eq!(
            growing_delay(3, Duration::from_secs(60)),
            Duration::from_secs(8)
        );
        assert_eq!(
            growing_delay(40, Duration::from_secs(60)),
            Duration::from_secs(60)
        );
    }
}
