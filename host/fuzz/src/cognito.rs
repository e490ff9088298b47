//! Cognito JWT and JWKS parsing (the `cognito_jwt` target). Also replayed by
//! `host/auth/tests/fuzz_corpus.rs`.
//!
//! An input is a token on the first line and a JWKS document after it; the token is checked
//! against the keys parsed from that document, as the authenticator does after a fetch.

use std::sync::LazyLock;

use vodpipe_auth::cognito::{CognitoAuthenticator, CognitoConfig, JwkSet, TokenUse};
use vodpipe_core::auth::AuthError;

pub const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_FuzzPool1";
pub const CLIENT_ID: &str = "fuzzclient0123456789abcdef";

static AUTHENTICATOR: LazyLock<CognitoAuthenticator> = LazyLock::new(|| {
    CognitoAuthenticator::new(CognitoConfig::new(ISSUER, CLIENT_ID, TokenUse::Access)).expect("a valid configuration")
});

/// Parses the key set and checks the token against it: nothing panics, a parsed set is never
/// empty, a refusal is a short printable reason (never "unavailable": nothing is fetched), and
/// an accepted token names its caller.
pub fn check(data: &[u8]) {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let (token, jwks) = input.split_once('\n').unwrap_or((input, ""));
    let keys = match JwkSet::parse(jwks.as_bytes()) {
        Ok(keys) => {
            assert!(!keys.is_empty(), "a parsed key set without keys");
            keys
        }
        Err(why) => {
            assert!(!why.is_empty(), "a refused key set without a reason");
            JwkSet::default()
        }
    };
    match AUTHENTICATOR.verify_with_keys(token, &keys) {
        Ok(caller) => {
            assert!(!keys.is_empty(), "a token accepted without keys");
            assert!(!caller.user_id.is_empty(), "a caller without a user id");
        }
        Err(AuthError::Invalid(reason)) => {
            assert!(
                !reason.is_empty() && !reason.chars().any(char::is_control),
                "reason {reason:?}"
            );
        }
        Err(AuthError::Expired) => {}
        Err(other) => panic!("checking against held keys failed with {other:?}"),
    }
}
