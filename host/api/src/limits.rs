//! Rate limits on the routes that cost a password hash or can be guessed: sign-up, sign-in
//! and token refresh. Each client address has a budget, and each account name another, so
//! that neither one address nor many together can keep the CPU hashing or guess passwords
//! without bound. The check comes before any hashing: a refused attempt costs nothing.
//!
//! Budgets are GCRA cells ([`governor`]): a burst, then one more attempt every period. The
//! address is checked first and the account only if the address was let through, so an
//! address over its own budget never touches an account's budget. An account's budget is
//! spent only by failed sign-ins (a wrong password or an unknown name): it is looked at
//! before the hash, and an empty one refuses, but only a failed verification charges it
//! ([`AuthLimiter::charge_failed_sign_in`]). The owner signing in spends none of it, so
//! keeping an owner out takes failed guesses faster than the account's budget refills, and
//! each address's guesses are capped by its own budget: with an account period no longer
//! than the address period and a larger account burst, one address alone never empties an
//! account; it runs out of its own budget first.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Mutex, TryLockError};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, StatusCode};
use governor::clock::{Clock, DefaultClock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::StateStore;
use governor::state::keyed::{HashMapStateStore, ShrinkableKeyedStateStore};
use governor::{NotUntil, Quota, RateLimiter};
use vodpipe_auth::local::username_key;

use crate::error::ApiError;

pub static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// How often idle keys are dropped: a key whose budget is full again is indistinguishable
/// from a new one, so memory follows the clients of the last few minutes, not all time.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// A burst of attempts, then one more every `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub burst: NonZeroU32,
    pub period: Duration,
}

impl Budget {
    fn quota(self) -> Quota {
        Quota::with_period(self.period.max(Duration::from_millis(1)))
            .expect("a period of at least a millisecond")
            .allow_burst(self.burst)
    }
}

/// The limits `vodpipe serve` applies to local accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthLimits {
    /// Per client address (an IPv6 client's whole /64, which one host usually holds):
    /// sign-up, sign-in and refresh together.
    pub per_address: Budget,
    /// Per account name, spent by failed sign-ins only; sign-ups of a name have a budget of
    /// the same size of their own, spent by every attempt (so sign-up attempts on a taken
    /// name cannot lock its owner out).
    pub per_account: Budget,
    /// Reverse proxies in front of the server that each append to `X-Forwarded-For`; the
    /// client is the address that many entries from the right. 0: the header is ignored
    /// and the socket peer is the client (anyone can write the header).
    pub trusted_proxies: usize,
}

impl AuthLimits {
    /// 10 attempts at once per address covers a few typos, or a household or office behind
    /// one address signing in at the same time; then one every 6 s (10 a minute) costs the
    /// server at most one argon2 hash (tens of milliseconds of one core) every 6 s per
    /// address. An account takes 20 failed sign-ins at once, then one every 6 s: looser than
    /// one address, so one address guessing wrong never empties it, and many addresses
    /// together guess one account's password no faster than one address could. Keeping an
    /// owner out takes at least two addresses guessing wrong at their full rate without
    /// pause (their two guesses every 6 s outrun the account's one).
    pub const DEFAULT: Self = Self {
        per_address: Budget {
            burst: NonZeroU32::new(10).unwrap(),
            period: Duration::from_secs(6),
        },
        per_account: Budget {
            burst: NonZeroU32::new(20).unwrap(),
            period: Duration::from_secs(6),
        },
        trusted_proxies: 0,
    };
}

impl Default for AuthLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What a request is about to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt<'a> {
    SignUp {
        username: &'a str,
    },
    /// Looks at the account's budget without spending it; a failed sign-in is charged
    /// afterwards ([`AuthLimiter::charge_failed_sign_in`]).
    SignIn {
        username: &'a str,
    },
    /// A refresh token names no account before it is looked up; it is 256 random bits, so
    /// only the address budget applies.
    Refresh,
}

/// Which budget ran out, and when the next attempt is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimited {
    pub exhausted: Exhausted,
    /// Whole seconds, rounded up, at least 1 (what `Retry-After` says).
    pub retry_after_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exhausted {
    Address,
    SignUpName,
    Account,
}

impl From<RateLimited> for ApiError {
    fn from(limited: RateLimited) -> Self {
        let secs = limited.retry_after_secs;
        let when = if secs == 1 {
            "1 second".to_owned()
        } else {
            format!("{secs} seconds")
        };
        let message = match limited.exhausted {
            Exhausted::Address => {
                format!("too many sign-up, sign-in or refresh attempts from your address: try again in {when}")
            }
            Exhausted::SignUpName => format!("too many sign-up attempts for this username: try again in {when}"),
            Exhausted::Account => format!("too many failed sign-ins for this account: try again in {when}"),
        };
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message).retry_after(secs)
    }
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum NameKey {
    SignUp(String),
    SignIn(String),
}

/// A decision on a name's budget: spend one attempt, or only look whether one is left.
#[derive(Clone, PartialEq, Eq, Hash)]
struct NameCheck {
    name: NameKey,
    look_only: bool,
}

/// The budgets of account names: governor's hash map of GCRA cells, which also answers a
/// look, decided exactly as a spend would be but leaving the cell as it was (governor has no
/// such call of its own; its state stores are its extension point).
#[derive(Default)]
struct NameBudgets(HashMapStateStore<NameKey>);

impl StateStore for NameBudgets {
    type Key = NameCheck;

    fn measure_and_replace<T, F, E>(&self, check: &NameCheck, decide: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        if !check.look_only {
            return self.0.measure_and_replace(&check.name, decide);
        }
        // A name never charged has its whole budget: decide without storing it.
        if !self.0.lock().contains_key(&check.name) {
            return decide(None).map(|(outcome, _)| outcome);
        }
        // Writes back what was there (0 is how governor stores "never charged").
        self.0.measure_and_replace(&check.name, |cell| {
            decide(cell).map(|(outcome, _)| (outcome, cell.unwrap_or(Nanos::from(0))))
        })
    }
}

impl ShrinkableKeyedStateStore<NameCheck> for NameBudgets {
    fn retain_recent(&self, drop_below: Nanos) {
        self.0.retain_recent(drop_below);
    }

    fn shrink_to_fit(&self) {
        ShrinkableKeyedStateStore::shrink_to_fit(&self.0);
    }

    fn len(&self) -> usize {
        ShrinkableKeyedStateStore::len(&self.0)
    }

    fn is_empty(&self) -> bool {
        ShrinkableKeyedStateStore::is_empty(&self.0)
    }
}

type Limiter<K, S, C> = RateLimiter<K, S, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// The budgets of every address and account name, in memory (one process, like the
/// embedded mode's database).
pub struct AuthLimiter<C: Clock = DefaultClock> {
    by_address: Limiter<IpAddr, HashMapStateStore<IpAddr>, C>,
    by_name: Limiter<NameCheck, NameBudgets, C>,
    trusted_proxies: usize,
    clock: C,
    last_sweep: Mutex<C::Instant>,
}

impl AuthLimiter {
    pub fn new(limits: AuthLimits) -> Self {
        Self::with_clock(limits, DefaultClock::default())
    }
}

impl<C: Clock + Clone> AuthLimiter<C> {
    pub fn with_clock(limits: AuthLimits, clock: C) -> Self {
        Self {
            by_address: RateLimiter::new(limits.per_address.quota(), HashMapStateStore::default(), clock.clone()),
            by_name: RateLimiter::new(limits.per_account.quota(), NameBudgets::default(), clock.clone()),
            trusted_proxies: limits.trusted_proxies,
            last_sweep: Mutex::new(clock.now()),
            clock,
        }
    }

    /// Spends one attempt of `client`'s budget and then, if it had one left, one of the
    /// sign-up name's, or looks whether the account has a failed sign-in left (spending
    /// none). Refused: which budget ran out and for how long.
    pub fn check(&self, client: IpAddr, attempt: Attempt<'_>) -> Result<(), RateLimited> {
        self.sweep_if_due();
        self.by_address
            .check_key(&address_key(client))
            .map_err(|not_until| self.refusal(Exhausted::Address, &not_until))?;
        let (check, exhausted) = match attempt {
            Attempt::SignUp { username } => (
                NameCheck {
                    name: NameKey::SignUp(username_key(username)),
                    look_only: false,
                },
                Exhausted::SignUpName,
            ),
            Attempt::SignIn { username } => (
                NameCheck {
                    name: NameKey::SignIn(username_key(username)),
                    look_only: true,
                },
                Exhausted::Account,
            ),
            Attempt::Refresh => return Ok(()),
        };
        self.by_name
            .check_key(&check)
            .map_err(|not_until| self.refusal(exhausted, &not_until))
    }

    /// Charges a failed sign-in (a wrong password or an unknown name) to the account's
    /// budget. Concurrent failures may find it already empty: the hash is done by then, and
    /// the next attempt is refused before its own.
    pub fn charge_failed_sign_in(&self, username: &str) {
        let check = NameCheck {
            name: NameKey::SignIn(username_key(username)),
            look_only: false,
        };
        if self.by_name.check_key(&check).is_err() {
            tracing::debug!("a failed sign-in found the account's budget already empty");
        }
    }

    /// The client of a request the server got from `peer`: the peer itself, or with
    /// trusted proxies the address the outermost one saw, the `trusted_proxies`-th entry
    /// from the right. Only that entry is read: the entries left of it are whatever the
    /// client sent (any bytes), so they cannot make the request count as anyone else's. A
    /// header without enough entries, or whose entry is not an address, counts as the
    /// peer's (the proxy's) own request: sharing the proxy's budget refuses more, never less.
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if self.trusted_proxies == 0 {
            return peer;
        }
        // Several header lines are one list, in order (RFC 9110 section 5.3), as a proxy
        // that adds its own line rather than appending to the client's means it.
        let hops: Vec<&[u8]> = headers
            .get_all(&X_FORWARDED_FOR)
            .iter()
            .flat_map(|line| line.as_bytes().split(|&byte| byte == b','))
            .collect();
        hops.len()
            .checked_sub(self.trusted_proxies)
            .and_then(|i| parse_hop(hops[i]))
            .unwrap_or(peer)
    }

    /// Addresses and names currently tracked (each a few dozen bytes).
    pub fn tracked_keys(&self) -> usize {
        self.by_address.len() + self.by_name.len()
    }

    fn refusal(&self, exhausted: Exhausted, not_until: &NotUntil<C::Instant>) -> RateLimited {
        RateLimited {
            exhausted,
            retry_after_secs: whole_seconds(not_until.wait_time_from(self.clock.now())),
        }
    }

    /// Drops the keys whose budget is full again, at most once per [`SWEEP_EVERY`]; a
    /// request that finds another thread sweeping does not wait for it.
    fn sweep_if_due(&self) {
        let mut last = match self.last_sweep.try_lock() {
            Ok(last) => last,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return,
        };
        let now = self.clock.now();
        if Duration::from(now.duration_since(*last)) < SWEEP_EVERY {
            return;
        }
        *last = now;
        self.by_address.retain_recent();
        self.by_address.shrink_to_fit();
        self.by_name.retain_recent();
        self.by_name.shrink_to_fit();
    }
}

/// IPv4-mapped IPv6 addresses are their IPv4 address; other IPv6 addresses count by their
/// /64, the block one subscriber or host usually gets (and can change addresses within).
fn address_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !u128::from(u64::MAX))),
        },
    }
}

/// An `X-Forwarded-For` entry: `192.0.2.1`, `2001:db8::1`, `[2001:db8::1]`, or either with a
/// port, with spaces around.
fn parse_hop(hop: &[u8]) -> Option<IpAddr> {
    let hop = std::str::from_utf8(hop).ok()?.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| hop.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
}

fn whole_seconds(wait: Duration) -> u64 {
    let rounded_up = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    rounded_up.max(1)
}

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;

    use super::*;

    fn limits(address_burst: u32, account_burst: u32, period_secs: u64) -> AuthLimits {
        AuthLimits {
            per_address: Budget {
                burst: NonZeroU32::new(address_burst).unwrap(),
                period: Duration::from_secs(period_secs),
            },
            per_account: Budget {
                burst: NonZeroU32::new(account_burst).unwrap(),
                period: Duration::from_secs(period_secs),
            },
            trusted_proxies: 0,
        }
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_address_gets_its_burst_then_waits_whole_seconds() {
        let clock = FakeRelativeClock::default();
        let limiter = AuthLimiter::with_clock(limits(3, 100, 6), clock.clone());
        for _ in 0..3 {
            limiter.check(ip("192.0.2.1"), Attempt::Refresh).unwrap();
        }
        let refused = limiter.check(ip("192.0.2.1"), Attempt::Refresh).unwrap_err();
        assert_eq!(
            refused,
            RateLimited {
                exhausted: Exhausted::Address,
                retry_after_secs: 6
            }
        );
        // 5.2 s left rounds up to 6; 0.3 s left is still 1, never 0.
        clock.advance(Duration::from_millis(800));
        assert_eq!(
            limiter
                .check(ip("192.0.2.1"), Attempt::Refresh)
                .unwrap_err()
                .retry_after_secs,
            6
        );
        clock.advance(Duration::from_millis(4900));
        assert_eq!(
            limiter
                .check(ip("192.0.2.1"), Attempt::Refresh)
                .unwrap_err()
                .retry_after_secs,
            1
        );
        clock.advance(Duration::from_millis(300));
        limiter.check(ip("192.0.2.1"), Attempt::Refresh).unwrap();
        // Another address has its own budget.
        limiter.check(ip("192.0.2.2"), Attempt::Refresh).unwrap();
    }

    #[test]
    fn names_are_counted_ignoring_case_and_sign_ups_apart_from_sign_ins() {
        let limiter = AuthLimiter::with_clock(limits(100, 2, 60), FakeRelativeClock::default());
        let sign_in = |address: &str, username| limiter.check(ip(address), Attempt::SignIn { username });
        sign_in("192.0.2.1", "alice").unwrap();
        limiter.charge_failed_sign_in("alice");
        sign_in("192.0.2.2", "ALICE").unwrap();
        limiter.charge_failed_sign_in("ALICE");
        let refused = sign_in("192.0.2.3", "Alice").unwrap_err();
        assert_eq!(refused.exhausted, Exhausted::Account);
        sign_in("192.0.2.3", "bob").unwrap();
        // Sign-ups of the name have their own budget: they cannot lock alice out, nor she them.
        for _ in 0..2 {
            limiter
                .check(ip("192.0.2.4"), Attempt::SignUp { username: "alice" })
                .unwrap();
        }
        let refused = limiter
            .check(ip("192.0.2.4"), Attempt::SignUp { username: "alice" })
            .unwrap_err();
        assert_eq!(refused.exhausted, Exhausted::SignUpName);
    }

    #[test]
    fn an_address_over_its_budget_does_not_spend_the_account() {
        let limiter = AuthLimiter::with_clock(limits(2, 3, 60), FakeRelativeClock::default());
        let attempt = Attempt::SignIn { username: "alice" };
        for _ in 0..2 {
            limiter.check(ip("192.0.2.1"), attempt).unwrap();
            limiter.charge_failed_sign_in("alice");
        }
        for _ in 0..50 {
            assert_eq!(
                limiter.check(ip("192.0.2.1"), attempt).unwrap_err().exhausted,
                Exhausted::Address
            );
        }
        // Two of alice's three were spent; the 50 refused attempts spent none.
        limiter.check(ip("192.0.2.2"), attempt).unwrap();
        limiter.charge_failed_sign_in("alice");
        assert_eq!(
            limiter.check(ip("192.0.2.3"), attempt).unwrap_err().exhausted,
            Exhausted::Account
        );
    }

    #[test]
    fn only_failed_sign_ins_spend_the_account_and_an_empty_one_refuses_before_the_hash() {
        let clock = FakeRelativeClock::default();
        let limiter = AuthLimiter::with_clock(limits(1000, 3, 60), clock.clone());
        let owner = ip("192.0.2.1");
        let alice = Attempt::SignIn { username: "alice" };
        // The owner signs in correctly a hundred times: nothing is charged, nor even stored
        // for the name (only the owner's address is tracked).
        for _ in 0..100 {
            limiter.check(owner, alice).unwrap();
        }
        assert_eq!(limiter.tracked_keys(), 1);
        // Three failed guesses empty the account; then even the owner is refused, before
        // any hash, until the budget refills.
        let guesser = ip("198.51.100.7");
        for _ in 0..3 {
            limiter.check(guesser, alice).unwrap();
            limiter.charge_failed_sign_in("alice");
        }
        let refused = limiter.check(owner, alice).unwrap_err();
        assert_eq!(
            refused,
            RateLimited {
                exhausted: Exhausted::Account,
                retry_after_secs: 60
            }
        );
        // Refused looks spend nothing either: a minute on, one attempt is back, and looking
        // at it any number of times (correct sign-ins) leaves it there.
        for _ in 0..5 {
            limiter.check(guesser, alice).unwrap_err();
        }
        clock.advance(Duration::from_secs(60));
        for _ in 0..5 {
            limiter.check(owner, alice).unwrap();
        }
        // One more failure spends it.
        limiter.charge_failed_sign_in("alice");
        assert_eq!(limiter.check(owner, alice).unwrap_err().exhausted, Exhausted::Account);
        // Another account is untouched.
        limiter.check(owner, Attempt::SignIn { username: "bob" }).unwrap();
    }

    #[test]
    fn ipv6_counts_by_its_64_and_mapped_ipv4_as_ipv4() {
        let limiter = AuthLimiter::with_clock(limits(1, 100, 60), FakeRelativeClock::default());
        limiter.check(ip("2001:db8:1:2::1"), Attempt::Refresh).unwrap();
        assert!(limiter.check(ip("2001:db8:1:2:ffff::9"), Attempt::Refresh).is_err());
        limiter.check(ip("2001:db8:1:3::1"), Attempt::Refresh).unwrap();
        limiter.check(ip("192.0.2.7"), Attempt::Refresh).unwrap();
        assert!(limiter.check(ip("::ffff:192.0.2.7"), Attempt::Refresh).is_err());
    }

    #[test]
    fn forwarded_addresses_are_trusted_only_through_the_configured_proxies() {
        let headers = |values: &[&str]| {
            let mut map = HeaderMap::new();
            for value in values {
                map.append(&X_FORWARDED_FOR, value.parse().unwrap());
            }
            map
        };
        let peer = ip("10.0.0.1");
        let direct = AuthLimiter::with_clock(limits(1, 1, 1), FakeRelativeClock::default());
        assert_eq!(direct.client_address(peer, &headers(&["203.0.113.9"])), peer);

        let one = AuthLimiter::with_clock(
            AuthLimits {
                trusted_proxies: 1,
                ..limits(1, 1, 1)
            },
            FakeRelativeClock::default(),
        );
        assert_eq!(one.client_address(peer, &headers(&["203.0.113.9"])), ip("203.0.113.9"));
        // What the client wrote itself is on the left; the proxy's entry is the last.
        assert_eq!(
            one.client_address(peer, &headers(&["1.2.3.4, 203.0.113.9"])),
            ip("203.0.113.9")
        );
        assert_eq!(
            one.client_address(peer, &headers(&["1.2.3.4", "203.0.113.9"])),
            ip("203.0.113.9")
        );
        assert_eq!(
            one.client_address(peer, &headers(&["[2001:db8::5]:4711"])),
            ip("2001:db8::5")
        );
        assert_eq!(
            one.client_address(peer, &headers(&["[2001:db8::5]"])),
            ip("2001:db8::5")
        );
        assert_eq!(one.client_address(peer, &headers(&["192.0.2.1:80"])), ip("192.0.2.1"));
        // No header, garbage, or an unreadable value: the proxy's own address.
        for unreadable in [&[][..], &["unknown"], &["1.2.3.4, "]] {
            assert_eq!(one.client_address(peer, &headers(unreadable)), peer, "{unreadable:?}");
        }
        let mut opaque = HeaderMap::new();
        opaque.append(
            &X_FORWARDED_FOR,
            axum::http::HeaderValue::from_bytes(b"\xff 203.0.113.9").unwrap(),
        );
        assert_eq!(one.client_address(peer, &opaque), peer);
        // Whatever the client put left of the proxy's entry, bytes that are not text
        // included, is not read: the request is still the client's, not the proxy's.
        let junk_then = |proxy_entry: &str| {
            let mut map = HeaderMap::new();
            map.append(
                &X_FORWARDED_FOR,
                axum::http::HeaderValue::from_bytes(&[&b"\xff[::1, \"x\"=\x80, "[..], proxy_entry.as_bytes()].concat())
                    .unwrap(),
            );
            map
        };
        assert_eq!(one.client_address(peer, &junk_then("203.0.113.9")), ip("203.0.113.9"));
        let mut junk_line_first = HeaderMap::new();
        junk_line_first.append(
            &X_FORWARDED_FOR,
            axum::http::HeaderValue::from_bytes(b"\xfe\xff, nonsense").unwrap(),
        );
        junk_line_first.append(&X_FORWARDED_FOR, "203.0.113.9".parse().unwrap());
        assert_eq!(one.client_address(peer, &junk_line_first), ip("203.0.113.9"));
        // Lines are read in order: the last line's last entry is the proxy's.
        assert_eq!(
            one.client_address(peer, &headers(&["203.0.113.9", "198.51.100.4, 1.2.3.4"])),
            ip("1.2.3.4")
        );

        let two = AuthLimiter::with_clock(
            AuthLimits {
                trusted_proxies: 2,
                ..limits(1, 1, 1)
            },
            FakeRelativeClock::default(),
        );
        assert_eq!(
            two.client_address(peer, &headers(&["1.2.3.4, 203.0.113.9, 10.0.0.2"])),
            ip("203.0.113.9")
        );
        assert_eq!(
            two.client_address(peer, &junk_then("203.0.113.9, 10.0.0.2")),
            ip("203.0.113.9")
        );
        assert_eq!(
            two.client_address(peer, &headers(&["1.2.3.4", "203.0.113.9", "10.0.0.2"])),
            ip("203.0.113.9")
        );
        assert_eq!(
            two.client_address(peer, &headers(&["203.0.113.9"])),
            peer,
            "fewer entries than proxies"
        );
    }

    #[test]
    fn idle_keys_are_dropped() {
        let clock = FakeRelativeClock::default();
        let limiter = AuthLimiter::with_clock(limits(5, 5, 6), clock.clone());
        for i in 0..1000u32 {
            let address = IpAddr::from(std::net::Ipv4Addr::from_bits(0x0a00_0000 + i));
            limiter
                .check(
                    address,
                    Attempt::SignIn {
                        username: &format!("user{i}"),
                    },
                )
                .unwrap();
            limiter.charge_failed_sign_in(&format!("user{i}"));
        }
        assert_eq!(limiter.tracked_keys(), 2000);
        // A minute on, with full budgets again, the next check sweeps them away.
        clock.advance(SWEEP_EVERY);
        limiter.check(ip("192.0.2.1"), Attempt::Refresh).unwrap();
        assert_eq!(limiter.tracked_keys(), 1);
    }

    #[test]
    fn keys_still_spending_survive_a_sweep() {
        let clock = FakeRelativeClock::default();
        // A 120 s period: one attempt a minute ago is not forgotten yet.
        let limiter = AuthLimiter::with_clock(limits(2, 100, 120), clock.clone());
        limiter.check(ip("192.0.2.1"), Attempt::Refresh).unwrap();
        clock.advance(SWEEP_EVERY);
        limiter.check(ip("192.0.2.2"), Attempt::Refresh).unwrap();
        assert_eq!(limiter.tracked_keys(), 2);
        limiter.check(ip("192.0.2.1"), Attempt::Refresh).unwrap();
        assert!(limiter.check(ip("192.0.2.1"), Attempt::Refresh).is_err());
    }
}
