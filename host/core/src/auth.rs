//! Who is calling. Embedded mode signs its own tokens for local accounts; AWS mode verifies
//! Cognito's. The API sees only this port.

use std::future::Future;
use std::pin::Pin;

/// A signed-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Stable and unique: stored as a video's owner and in upload metadata.
    pub user_id: String,
    /// What to show; not used for access decisions.
    pub username: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the token has expired")]
    Expired,
    /// Bad signature, wrong issuer or audience, malformed: the reason is for logs and the
    /// caller alike (it never contains key material).
    #[error("the token is not valid: {0}")]
    Invalid(String),
    /// The verifier could not reach what it needs (a JWKS endpoint): try again later.
    #[error("tokens cannot be checked right now: {0}")]
    Unavailable(String),
}

pub type AuthFuture<'a> = Pin<Box<dyn Future<Output = Result<Caller, AuthError>> + Send + 'a>>;

/// Turns a bearer token into a caller.
pub trait Authenticator: Send + Sync {
    fn authenticate<'a>(&'a self, token: &'a str) -> AuthFuture<'a>;
}
