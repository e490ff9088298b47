//! Rate limits on the routes that cost a password hash or can be guessed: sign-up, sign-in
//! and token refresh. Each client address has a budget, and each account name another, so
//! that neither one address nor many together can keep the CPU hashing or guess passwords
//! without bound. The check comes before any hashing: a refused attempt costs nothing.
//!
//! Budgets are GCRA cells ([`governor`]): a burst, then one more attempt every period. The
//! address is checked first and the account only if the address was let through, so an
//! address over its own budget never spends an account's budget. Account budgets are looser
//! than address budgets (a larger burst, the same period): one address alone cannot exhaust
//! an account and lock its owner out; it runs out of its own budget first.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Mutex, TryLockError};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, StatusCode};
use governor::clock::{Clock, DefaultClock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::HashMapStateStore;
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
    /// Per account name, for sign-in; sign-ups of a name have a budget of the same size of
    /// their own (so sign-up attempts on a taken name cannot lock its owner out).
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
    /// address. An account gets 20 at once, then the same one every 6 s: looser than one
    /// address, so locking an owner out takes several addresses working continuously, and
    /// many addresses together guess one account's password no faster than one address.
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
            Exhausted::Account => format!("too many sign-in attempts for this account: try again in {when}"),
        };
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message).retry_after(secs)
    }
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum NameKey {
    SignUp(String),
    SignIn(String),
}

type Keyed<K, C> = RateLimiter<K, HashMapStateStore<K>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// The budgets of every address and account name, in memory (one process, like the
/// embedded mode's database).
pub struct AuthLimiter<C: Clock = DefaultClock> {
    by_address: Keyed<IpAddr, C>,
    by_name: Keyed<NameKey, C>,
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
            by_name: RateLimiter::new(limits.per_account.quota(), HashMapStateStore::default(), clock.clone()),
            trusted_proxies: limits.trusted_proxies,
            last_sweep: Mutex::new(clock.now()),
            clock,
        }
    }

    /// Spends one attempt of `client`'s budget and then, if it had one left, of the
    /// account's. Refused: which budget ran out and for how long.
    pub fn check(&self, client: IpAddr, attempt: Attempt<'_>) -> Result<(), RateLimited> {
        self.sweep_if_due();
        self.by_address
            .check_key(&address_key(client))
            .map_err(|not_until| self.refusal(Exhausted::Address, &not_until))?;
        let (name, exhausted) = match attempt {
            Attempt::SignUp { username } => (NameKey::SignUp(username_key(username)), Exhausted::SignUpName),
            Attempt::SignIn { username } => (NameKey::SignIn(username_key(username)), Exhausted::Account),
            Attempt::Refresh => return Ok(()),
        };
        self.by_name
            .check_key(&name)
            .map_err(|not_until| self.refusal(exhausted, &not_until))
    }

    /// The client of a request the server got from `peer`: the peer itself, or with
    /// trusted proxies the address the outermost one saw. A header that does not hold
    /// enough readable entries counts as the peer's (the proxy's) own request: sharing the
    /// proxy's budget refuses more, never less.
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if self.trusted_proxies == 0 {
            return peer;
        }
        // Several headers are one list, in order (RFC 9110 section 5.3).
        let values: Option<Vec<&str>> = headers
            .get_all(&X_FORWARDED_FOR)
            .iter()
            .map(|v| v.to_str().ok())
            .collect();
        let Some(values) = values else { return peer };
        let hops: Vec<&str> = values.iter().flat_map(|v| v.split(',')).map(str::trim).collect();
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
/// port.
fn parse_hop(hop: &str) -> Option<IpAddr> {
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
        sign_in("192.0.2.2", "ALICE").unwrap();
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
        limiter.check(ip("192.0.2.1"), attempt).unwrap();
        limiter.check(ip("192.0.2.1"), attempt).unwrap();
        for _ in 0..50 {
            assert_eq!(
                limiter.check(ip("192.0.2.1"), attempt).unwrap_err().exhausted,
                Exhausted::Address
            );
        }
        // Two of alice's three were spent; the 50 refused attempts spent none.
        limiter.check(ip("192.0.2.2"), attempt).unwrap();
        assert_eq!(
            limiter.check(ip("192.0.2.3"), attempt).unwrap_err().exhausted,
            Exhausted::Account
        );
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
