//! Local accounts for embedded mode: argon2id password hashes, short-lived HS256 access
//! tokens, and refresh tokens that are stored hashed and used once (each refresh hands out a
//! new one, so a stolen token stops working as soon as its owner refreshes).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use vodpipe_core::auth::{AuthError, AuthFuture, Authenticator, Caller};
use vodpipe_core::ports::{Account, AccountStore, Clock, PortError};

/// Who signs local tokens and who they are for.
const ISSUER: &str = "vodpipe";
const AUDIENCE: &str = "vodpipe-api";

pub const USERNAME_CHARS: std::ops::RangeInclusive<usize> = 3..=32;
pub const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 8..=128;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    InvalidUsername(String),
    #[error("{0}")]
    WeakPassword(String),
    #[error("that username is taken")]
    UsernameTaken,
    /// Unknown user and wrong password look the same to the caller.
    #[error("wrong username or password")]
    BadCredentials,
    #[error("the refresh token is not valid (unknown, used or expired): sign in again")]
    InvalidRefreshToken,
    #[error("accounts are unavailable: {0}")]
    Unavailable(String),
}

impl From<PortError> for AccountError {
    fn from(e: PortError) -> Self {
        Self::Unavailable(e.to_string())
    }
}

/// What a successful sign-up, sign-in or refresh returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    /// Seconds the access token is valid for.
    pub expires_in: u64,
    pub user_id: String,
    pub username: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    sub: String,
    username: String,
    token_use: String,
    iat: u64,
    exp: u64,
}

pub struct LocalAccounts {
    store: Arc<dyn AccountStore>,
    clock: Arc<dyn Clock>,
    encoding: EncodingKey,
    decoding: DecodingKey,
    hasher: Argon2<'static>,
    /// Password hashes and verifications made for requests: what sign-up and sign-in cost.
    password_hashes: AtomicU64,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
}

impl LocalAccounts {
    /// `secret` signs access tokens: at least 32 random bytes, kept with the data.
    pub fn new(store: Arc<dyn AccountStore>, secret: &[u8], clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            // OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
            hasher: Argon2::default(),
            password_hashes: AtomicU64::new(0),
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
        }
    }

    /// Creates an account and signs it in. Hashing is deliberately slow (tens of ms): call
    /// it off the async executor.
    pub fn sign_up(&self, username: &str, password: &str) -> Result<Tokens, AccountError> {
        check_username(username)?;
        check_password(password)?;
        self.password_hashes.fetch_add(1, Ordering::Relaxed);
        let password_hash = self
            .hasher
            .hash_password(password.as_bytes())
            .map_err(|e| AccountError::Unavailable(format!("hashing: {e}")))?
            .to_string();
        let account = Account {
            user_id: random_token(16),
            username: username.to_owned(),
            password_hash,
            created_at_ms: self.clock.now_ms(),
        };
        if !self.store.create_account(&account)? {
            return Err(AccountError::UsernameTaken);
        }
        self.issue(&account)
    }

    pub fn sign_in(&self, username: &str, password: &str) -> Result<Tokens, AccountError> {
        let account = self.store.find_account(username)?;
        // Unknown users cost a verification too, so timing does not tell which names exist.
        let hash = account
            .as_ref()
            .map_or_else(|| dummy_hash(&self.hasher), |a| a.password_hash.as_str());
        self.password_hashes.fetch_add(1, Ordering::Relaxed);
        let matches = PasswordHash::new(hash)
            .is_ok_and(|parsed| self.hasher.verify_password(password.as_bytes(), &parsed).is_ok());
        match account {
            Some(account) if matches => self.issue(&account),
            _ => Err(AccountError::BadCredentials),
        }
    }

    /// How many passwords this instance has hashed or verified for sign-ups and sign-ins
    /// (tens of milliseconds of CPU each).
    pub fn password_hashes(&self) -> u64 {
        self.password_hashes.load(Ordering::Relaxed)
    }

    /// Trades a refresh token for new tokens; the old refresh token stops working.
    pub fn refresh(&self, refresh_token: &str) -> Result<Tokens, AccountError> {
        let user_id = self
            .store
            .take_refresh_token(&token_hash(refresh_token), self.clock.now_ms())?
            .ok_or(AccountError::InvalidRefreshToken)?;
        let account = self
            .store
            .find_account_by_id(&user_id)?
            .ok_or(AccountError::InvalidRefreshToken)?;
        self.issue(&account)
    }

    /// Ends a session: its refresh token stops working (access tokens expire on their own).
    pub fn sign_out(&self, refresh_token: &str) -> Result<(), AccountError> {
        self.store
            .take_refresh_token(&token_hash(refresh_token), self.clock.now_ms())?;
        Ok(())
    }

    /// An access token for `account` issued now (by this instance's clock).
    pub fn access_token(&self, account: &Account) -> Result<String, AccountError> {
        let now = self.clock.now_ms() / 1000;
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: account.user_id.clone(),
            username: account.username.clone(),
            token_use: "access".into(),
            iat: now,
            exp: now + self.access_ttl.as_secs(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AccountError::Unavailable(format!("signing: {e}")))
    }

    fn issue(&self, account: &Account) -> Result<Tokens, AccountError> {
        let refresh_token = random_token(32);
        let expires = self.clock.now_ms() + self.refresh_ttl.as_millis() as u64;
        self.store
            .store_refresh_token(&token_hash(&refresh_token), &account.user_id, expires)?;
        Ok(Tokens {
            access_token: self.access_token(account)?,
            refresh_token,
            token_type: "Bearer",
            expires_in: self.access_ttl.as_secs(),
            user_id: account.user_id.clone(),
            username: account.username.clone(),
        })
    }

    fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Expiry is checked below against the injected clock.
        validation.validate_exp = false;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|e| AuthError::Invalid(e.to_string()))?
            .claims;
        if claims.token_use != "access" {
            return Err(AuthError::Invalid(format!(
                "token_use is {}, expected access",
                claims.token_use
            )));
        }
        if claims.exp * 1000 <= self.clock.now_ms() {
            return Err(AuthError::Expired);
        }
        Ok(Caller {
            user_id: claims.sub,
            username: Some(claims.username),
        })
    }
}

impl Authenticator for LocalAccounts {
    fn authenticate<'a>(&'a self, token: &'a str) -> AuthFuture<'a> {
        // HMAC verification takes microseconds: no need to leave the executor.
        let result = self.verify(token);
        Box::pin(std::future::ready(result))
    }
}

fn check_username(username: &str) -> Result<(), AccountError> {
    let count = username.chars().count();
    if !USERNAME_CHARS.contains(&count) {
        return Err(AccountError::InvalidUsername(format!(
            "a username has {} to {} characters (this one has {count})",
            USERNAME_CHARS.start(),
            USERNAME_CHARS.end()
        )));
    }
    if let Some(c) = username
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(AccountError::InvalidUsername(format!(
            "a username may use letters, digits, '.', '_' and '-' only, not {c:?}"
        )));
    }
    Ok(())
}

/// The form in which account names are compared (the store ignores ASCII case, and names
/// are ASCII), so that `Alice` and `alice` are one key. Longer inputs name no account and
/// are cut to bound the key's size.
pub fn username_key(username: &str) -> String {
    let mut key: String = username.chars().take(USERNAME_CHARS.end() + 1).collect();
    key.make_ascii_lowercase();
    key
}

fn check_password(password: &str) -> Result<(), AccountError> {
    let count = password.chars().count();
    if !PASSWORD_CHARS.contains(&count) {
        return Err(AccountError::WeakPassword(format!(
            "a password has {} to {} characters (this one has {count})",
            PASSWORD_CHARS.start(),
            PASSWORD_CHARS.end()
        )));
    }
    Ok(())
}

/// A hash of nothing anyone knows, verified against when the username does not exist.
fn dummy_hash(hasher: &Argon2<'static>) -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        hasher
            .hash_password(random_token(32).as_bytes())
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// `bytes` random bytes from the OS, base64url.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the OS random source is unavailable");
    URL_SAFE_NO_PAD.encode(buf)
}

/// Refresh tokens are stored as SHA-256 hashes: a copy of the database signs no one in.
fn token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}
