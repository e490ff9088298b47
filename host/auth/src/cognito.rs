//! Verifies Amazon Cognito user-pool JWTs (AWS mode), following "Verifying a JSON Web Token" in the
//! Cognito developer guide. `jsonwebtoken` parses header, claims and key set and checks the
//! signature and the registered claims; what Cognito needs beyond that is checked here.
//!
//! What a token must be, in the order it is checked:
//! 1. At most [`MAX_TOKEN_LEN`] bytes, three dot-separated parts.
//! 2. Header (`decode_header`): `alg` exactly `RS256` (Cognito signs nothing else, so `none`,
//!    `HS256` and the rest are refused before any key is looked at) and a `kid`.
//! 3. On the unverified payload (`dangerous::insecure_decode_claims`): `iss` a string equal to the
//!    configured issuer, `token_use` (`access` or `id`) as configured. Tokens from another pool or
//!    of the other kind thus cause no JWKS traffic; the signature covers these very bytes, so the
//!    checks hold for the verified token. (This also keeps `iss` exact: `jsonwebtoken` would take
//!    an array containing the issuer.)
//! 4. `decode` with the JWK the header's `kid` names: RS256 signature; `iss` and `sub` present;
//!    `exp` a number and not passed (allowing [`CognitoConfig::leeway`]; passed is
//!    [`AuthError::Expired`], every other refusal [`AuthError::Invalid`]); `iss` again; for ID
//!    tokens `aud` present and naming the app client (a string, or a list containing it).
//! 5. Here: `exp` present (as a required claim `jsonwebtoken` would call a non-numeric `exp`
//!    missing), an access token's `client_id` (access tokens carry no `aud`) equal to the app
//!    client id, and a non-empty `sub`, which becomes [`Caller::user_id`]. The username comes from
//!    `username` (access) or `cognito:username` (ID) and is optional.
//!
//! Each `jsonwebtoken` error kind maps to its own short reason, naming no key material.
//! `decode_header` fails on an `alg` it has no variant for (`none`), so then the header is read
//! once more, only to name that `alg` in the reason.
//!
//! The key set is fetched with reqwest (no redirects, a timeout, a size cap) and kept in memory:
//! - Readers take a snapshot behind a short, never-awaited lock; fetches go through an async mutex,
//!   so one runs at a time and requests that queued behind it use its result instead of fetching
//!   again (a burst of requests on a cold cache makes one fetch).
//! - A `kid` not in the set triggers a refetch (Cognito rotated its keys), at most once per
//!   [`CognitoConfig::refetch_cooldown`] counted between such kid-triggered fetches, so made-up
//!   `kid`s cannot hammer the endpoint.
//! - After [`CognitoConfig::cache_ttl`] the set is refreshed by whichever request notices first
//!   (others keep using the old set meanwhile); a failed refresh keeps the old keys and is retried
//!   no sooner than the cooldown.
//! - With no keys at all (never fetched, or every fetch failed) each request may try again, still
//!   one fetch at a time; while that fails requests get [`AuthError::Unavailable`].
//! - Entries are read as `jsonwebtoken::jwk::Jwk` one at a time (a `jwk::JwkSet` is refused whole
//!   for one entry it cannot read) and made keys with `DecodingKey::from_jwk`. Entries that are not
//!   usable RSA signing keys (other `kty`, `use` not `sig`, `alg` not `RS256`, bad base64, modulus
//!   outside 2048..=8192 bits, exponent even or below 3) are skipped with a warning. aws-lc-rs
//!   refuses such keys too, but only when a signature is checked, as a bad signature; checked on
//!   load, a response with no usable key at all counts as a failed fetch and does not replace a
//!   good set. Leading zero octets of `n` and `e`, which some encoders write (RFC 7518 6.3.1.1) and
//!   aws-lc-rs refuses, are dropped.
//!
//! Default leeway on `exp` is 30 s: enough for ordinary clock skew between hosts, small against
//! Cognito's shortest token lifetime (5 min). Nothing here panics on any input.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex as StdMutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::dangerous::insecure_decode_claims;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, DecodingKeyKind, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};
use vodpipe_core::auth::{AuthError, AuthFuture, Authenticator, Caller};

/// Longest token accepted, in bytes; longer input is refused before any decoding.
pub const MAX_TOKEN_LEN: usize = 32 * 1024;
/// Largest JWKS response read, in bytes (Cognito's is well under 2 KiB).
const MAX_JWKS_LEN: usize = 256 * 1024;
/// Longest [`CognitoConfig::leeway`] accepted: Cognito tokens live at most a day, so more would
/// make `exp` meaningless (and `jsonwebtoken` subtracts the leeway from the time unchecked).
pub const MAX_LEEWAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Which Cognito token the API expects in `Authorization: Bearer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenUse {
    /// Access token: `token_use` is `access`, the app client is in `client_id`.
    Access,
    /// ID token: `token_use` is `id`, the app client is in `aud`.
    Id,
}

impl TokenUse {
    /// The value of the `token_use` claim: `"access"` or `"id"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenUse::Access => "access",
            TokenUse::Id => "id",
        }
    }
}

impl fmt::Display for TokenUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TokenUse {
    type Err = CognitoSetupError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "access" => Ok(TokenUse::Access),
            "id" => Ok(TokenUse::Id),
            _ => Err(CognitoSetupError::Config(format!(
                "token_use must be \"access\" or \"id\", not {s:?}"
            ))),
        }
    }
}

/// Where tokens come from and how keys are cached. Build with [`CognitoConfig::new`] or
/// [`CognitoConfig::for_user_pool`] and override fields with struct update syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CognitoConfig {
    /// `https://cognito-idp.{region}.amazonaws.com/{userPoolId}`, compared exactly with `iss`
    /// (so no trailing slash).
    pub issuer: String,
    /// The app client id: `client_id` of access tokens, `aud` of ID tokens.
    pub client_id: String,
    /// Which kind of token is accepted.
    pub token_use: TokenUse,
    /// Where the key set is; `None` means `{issuer}/.well-known/jwks.json`. Tests point it at a
    /// local server.
    pub jwks_url: Option<String>,
    /// Least time between two JWKS fetches triggered by unknown `kid`s, and between retries of a
    /// failed refresh while old keys are still in use. Default 60 s.
    pub refetch_cooldown: Duration,
    /// How long a fetched key set is used before it is refreshed. Default 1 h.
    pub cache_ttl: Duration,
    /// Clock skew allowed on `exp`, whole seconds, at most [`MAX_LEEWAY`]. Default 30 s.
    pub leeway: Duration,
    /// Timeout of one JWKS request (connecting included). Default 5 s.
    pub fetch_timeout: Duration,
}

impl CognitoConfig {
    pub const DEFAULT_REFETCH_COOLDOWN: Duration = Duration::from_secs(60);
    pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(60 * 60);
    pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);
    pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(5);

    /// A configuration with the default JWKS location, cache and leeway.
    pub fn new(issuer: impl Into<String>, client_id: impl Into<String>, token_use: TokenUse) -> Self {
        CognitoConfig {
            issuer: issuer.into(),
            client_id: client_id.into(),
            token_use,
            jwks_url: None,
            refetch_cooldown: Self::DEFAULT_REFETCH_COOLDOWN,
            cache_ttl: Self::DEFAULT_CACHE_TTL,
            leeway: Self::DEFAULT_LEEWAY,
            fetch_timeout: Self::DEFAULT_FETCH_TIMEOUT,
        }
    }

    /// [`CognitoConfig::new`] with the issuer of user pool `user_pool_id` in `region`
    /// (for example `eu-west-1` and `eu-west-1_AbCdEf123`).
    pub fn for_user_pool(region: &str, user_pool_id: &str, client_id: impl Into<String>, token_use: TokenUse) -> Self {
        Self::new(
            format!("https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"),
            client_id,
            token_use,
        )
    }

    /// The URL the key set is fetched from: `jwks_url`, or `{issuer}/.well-known/jwks.json`.
    pub fn effective_jwks_url(&self) -> String {
        match &self.jwks_url {
            Some(url) => url.clone(),
            None => format!("{}/.well-known/jwks.json", self.issuer),
        }
    }
}

/// Why a [`CognitoAuthenticator`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CognitoSetupError {
    #[error("invalid Cognito configuration: {0}")]
    Config(String),
    #[error("cannot build the HTTP client for the JWKS: {0}")]
    HttpClient(String),
}

/// Verifies Cognito user-pool tokens against the pool's JWKS. Cheap to share behind an `Arc`;
/// all methods take `&self`.
pub struct CognitoAuthenticator {
    config: CognitoConfig,
    jwks_url: String,
    http: reqwest::Client,
    validation: Validation,
    /// What requests read. Never held across an await.
    state: StdMutex<KeyState>,
    /// Held for the duration of a fetch: one at a time.
    fetch_lock: tokio::sync::Mutex<()>,
}

#[derive(Clone, Default)]
struct KeyState {
    keys: Arc<JwkSet>,
    /// Last successful fetch.
    fetched_at: Option<Instant>,
    /// Fetch attempts so far, successful or not: lets requests that waited for a fetch see that
    /// one happened meanwhile.
    attempts: u64,
    last_attempt: Option<Instant>,
    last_kid_refetch: Option<Instant>,
    /// Why the last attempt failed, if it did.
    last_error: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Trigger {
    NoKeys,
    UnknownKid,
    Expired,
    Forced,
}

impl fmt::Debug for CognitoAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CognitoAuthenticator")
            .field("config", &self.config)
            .field("jwks_url", &self.jwks_url)
            .finish_non_exhaustive()
    }
}

impl CognitoAuthenticator {
    /// Checks the configuration and builds the HTTP client. Fetches nothing: keys are loaded on
    /// first use, or by [`CognitoAuthenticator::refresh_keys`].
    pub fn new(config: CognitoConfig) -> Result<Self, CognitoSetupError> {
        if config.issuer.is_empty() {
            return Err(CognitoSetupError::Config("issuer is empty".into()));
        }
        if config.issuer.ends_with('/') {
            return Err(CognitoSetupError::Config(
                "issuer must not end with '/' (it is compared exactly with the iss claim)".into(),
            ));
        }
        if config.client_id.is_empty() {
            return Err(CognitoSetupError::Config("client_id is empty".into()));
        }
        if config.leeway > MAX_LEEWAY {
            return Err(CognitoSetupError::Config(format!(
                "leeway must be at most {} s",
                MAX_LEEWAY.as_secs()
            )));
        }
        let jwks_url = config.effective_jwks_url();
        let parsed = reqwest::Url::parse(&jwks_url)
            .map_err(|e| CognitoSetupError::Config(format!("JWKS URL {jwks_url:?} is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "https" | "http") {
            return Err(CognitoSetupError::Config(format!(
                "JWKS URL {jwks_url:?} is not http(s)"
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(config.fetch_timeout)
            .connect_timeout(config.fetch_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("vodpipe-auth/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CognitoSetupError::HttpClient(e.to_string()))?;

        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = config.leeway.as_secs();
        validation.set_issuer(&[&config.issuer]);
        // Not `exp`: a required claim that is not a number counts as missing there, whereas
        // `validate_exp` alone refuses it as malformed. Its presence is checked in `check_signed`.
        match config.token_use {
            TokenUse::Access => {
                // Access tokens carry no `aud`; their app client is in `client_id` (`check_signed`).
                validation.validate_aud = false;
                validation.set_required_spec_claims(&["iss", "sub"]);
            }
            TokenUse::Id => {
                validation.set_audience(&[&config.client_id]);
                validation.set_required_spec_claims(&["iss", "sub", "aud"]);
            }
        }

        Ok(CognitoAuthenticator {
            config,
            jwks_url,
            http,
            validation,
            state: StdMutex::new(KeyState::default()),
            fetch_lock: tokio::sync::Mutex::new(()),
        })
    }

    pub fn config(&self) -> &CognitoConfig {
        &self.config
    }

    /// Fetches the key set now, whatever the cache says (for example at startup, to fail early on
    /// a wrong URL). Returns how many usable keys are cached afterwards; on failure the previous
    /// keys, if any, stay in use.
    pub async fn refresh_keys(&self) -> Result<usize, AuthError> {
        let _fetching = self.fetch_lock.lock().await;
        let state = self.fetch_locked(Trigger::Forced).await;
        match state.last_error {
            None => Ok(state.keys.len()),
            Some(reason) => Err(AuthError::Unavailable(reason)),
        }
    }

    /// The whole check; see the module documentation.
    async fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        let kid = self.read_unverified(token)?;
        let keys = self.keys_for(&kid).await?;
        self.check_signed(token, &kid, &keys)
    }

    /// The same checks as [`Authenticator::authenticate`], against a key set the caller already
    /// holds: nothing is fetched, and a `kid` missing from `keys` is `unknown signing key`. For
    /// callers that load the JWKS themselves (and the fuzz target, which checks tokens against
    /// key sets it parsed).
    pub fn verify_with_keys(&self, token: &str, keys: &JwkSet) -> Result<Caller, AuthError> {
        let kid = self.read_unverified(token)?;
        self.check_signed(token, &kid, keys)
    }

    /// Steps 1–3: the token's shape, its header, and `iss` and `token_use` of the unverified
    /// payload. Returns the header's `kid`.
    fn read_unverified(&self, token: &str) -> Result<String, AuthError> {
        if token.is_empty() {
            return Err(invalid("empty token"));
        }
        if token.len() > MAX_TOKEN_LEN {
            return Err(invalid("token too large"));
        }
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(_signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid("not a JWT (expected three dot-separated parts)"));
        };
        if header_b64.is_empty() || payload_b64.is_empty() {
            return Err(invalid("not a JWT (empty header or payload)"));
        }

        let header = jsonwebtoken::decode_header(token).map_err(|_| explain_bad_header(header_b64))?;
        if header.alg != Algorithm::RS256 {
            return Err(invalid(format!("alg {:?} is not accepted, expected RS256", header.alg)));
        }
        let kid = match header.kid {
            Some(kid) if !kid.is_empty() => kid,
            _ => return Err(invalid("missing kid")),
        };

        let claims: Map<String, Value> = insecure_decode_claims(token).map_err(|_| invalid("malformed payload"))?;
        match claims.get("iss") {
            Some(Value::String(iss)) if *iss == self.config.issuer => {}
            Some(_) => return Err(invalid("wrong issuer")),
            None => return Err(invalid("missing iss")),
        }
        let expected_use = self.config.token_use.as_str();
        match claims.get("token_use") {
            Some(Value::String(token_use)) if token_use == expected_use => {}
            Some(Value::String(other)) => {
                return Err(invalid(format!(
                    "token_use is {}, expected {expected_use}",
                    printable(other)
                )));
            }
            Some(_) => return Err(invalid("token_use is not a string")),
            None => return Err(invalid("missing token_use")),
        }
        Ok(kid)
    }

    /// Steps 4–5: signature and registered claims with the header's key, then Cognito's own.
    fn check_signed(&self, token: &str, kid: &str, keys: &JwkSet) -> Result<Caller, AuthError> {
        let Some(key) = keys.keys.get(kid) else {
            return Err(invalid("unknown signing key"));
        };
        let claims = jsonwebtoken::decode::<CognitoClaims>(token, key, &self.validation)
            .map_err(|e| refusal(e.kind()))?
            .claims;

        if claims.exp.is_none() {
            return Err(invalid("missing exp"));
        }
        if self.config.token_use == TokenUse::Access {
            match claims.client_id {
                Some(Value::String(client)) if client == self.config.client_id => {}
                Some(_) => return Err(invalid("wrong client_id")),
                None => return Err(invalid("missing client_id")),
            }
        }
        // `jsonwebtoken` has checked that `sub` is a string; Cognito's are never empty.
        let user_id = match claims.sub {
            Some(Value::String(sub)) if !sub.is_empty() => sub,
            _ => return Err(invalid("missing sub")),
        };
        let username = match self.config.token_use {
            TokenUse::Access => claims.username,
            TokenUse::Id => claims.cognito_username,
        };
        let username = match username {
            Some(Value::String(name)) => Some(name),
            _ => None,
        };
        Ok(Caller { user_id, username })
    }

    fn snapshot(&self) -> KeyState {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The key set to look `kid` up in, fetching it first when needed (see the module docs).
    async fn keys_for(&self, kid: &str) -> Result<Arc<JwkSet>, AuthError> {
        let state = self.snapshot();

        if state.keys.is_empty() {
            let state = self.fetch_unless_done(state.attempts, Trigger::NoKeys).await;
            if state.keys.is_empty() {
                let reason = state.last_error.unwrap_or_else(|| "no signing keys loaded".into());
                return Err(AuthError::Unavailable(reason));
            }
            return Ok(state.keys);
        }

        if state.keys.contains(kid) {
            let stale = state.fetched_at.is_none_or(|at| at.elapsed() >= self.config.cache_ttl);
            // After a failed refresh, wait out the cooldown before trying again.
            let may_retry = state.last_error.is_none()
                || state
                    .last_attempt
                    .is_none_or(|at| at.elapsed() >= self.config.refetch_cooldown);
            if stale && may_retry {
                // Whoever gets the lock refreshes; the others go on with the keys they have.
                if let Ok(_fetching) = self.fetch_lock.try_lock() {
                    let current = self.snapshot();
                    if current.attempts != state.attempts {
                        return Ok(current.keys);
                    }
                    return Ok(self.fetch_locked(Trigger::Expired).await.keys);
                }
            }
            return Ok(state.keys);
        }

        let cooling = state
            .last_kid_refetch
            .is_some_and(|at| at.elapsed() < self.config.refetch_cooldown);
        if cooling {
            return Ok(state.keys);
        }
        Ok(self.fetch_unless_done(state.attempts, Trigger::UnknownKid).await.keys)
    }

    /// Waits for the fetch lock, then fetches unless another fetch was attempted since the caller
    /// looked at the state (`seen_attempts`), in which case its outcome is returned.
    async fn fetch_unless_done(&self, seen_attempts: u64, trigger: Trigger) -> KeyState {
        let _fetching = self.fetch_lock.lock().await;
        let current = self.snapshot();
        if current.attempts != seen_attempts {
            return current;
        }
        self.fetch_locked(trigger).await
    }

    /// Fetches and records the outcome. The caller holds `fetch_lock`.
    async fn fetch_locked(&self, trigger: Trigger) -> KeyState {
        let started = Instant::now();
        let outcome = self.fetch_keys().await;
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.attempts += 1;
        state.last_attempt = Some(started);
        if trigger == Trigger::UnknownKid {
            state.last_kid_refetch = Some(started);
        }
        match outcome {
            Ok(keys) => {
                tracing::info!(url = %self.jwks_url, keys = keys.len(), ?trigger, "fetched Cognito signing keys");
                state.keys = Arc::new(keys);
                state.fetched_at = Some(Instant::now());
                state.last_error = None;
            }
            Err(FetchFailure { reason, detail }) => {
                tracing::warn!(
                    url = %self.jwks_url,
                    %reason,
                    detail = detail.as_deref().unwrap_or(""),
                    ?trigger,
                    cached_keys = state.keys.len(),
                    "cannot fetch Cognito signing keys"
                );
                state.last_error = Some(reason);
            }
        }
        state.clone()
    }

    async fn fetch_keys(&self) -> Result<JwkSet, FetchFailure> {
        let mut response = self
            .http
            .get(&self.jwks_url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(FetchFailure::http)?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("JWKS endpoint answered HTTP {}", status.as_u16()).into());
        }
        if response.content_length().is_some_and(|len| len > MAX_JWKS_LEN as u64) {
            return Err("JWKS response too large".into());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(FetchFailure::http)? {
            if body.len() + chunk.len() > MAX_JWKS_LEN {
                return Err("JWKS response too large".into());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(JwkSet::parse(&body)?)
    }
}

impl Authenticator for CognitoAuthenticator {
    fn authenticate<'a>(&'a self, token: &'a str) -> AuthFuture<'a> {
        Box::pin(self.verify(token))
    }
}

/// The claims read from a verified token beyond those `jsonwebtoken` checks. Untyped, so that a
/// claim of the wrong type is refused with its own reason rather than as a malformed payload.
#[derive(Deserialize)]
struct CognitoClaims {
    exp: Option<serde::de::IgnoredAny>,
    sub: Option<Value>,
    client_id: Option<Value>,
    username: Option<Value>,
    #[serde(rename = "cognito:username")]
    cognito_username: Option<Value>,
}

/// A JWKS document; its entries are read one by one, so one unreadable entry is skipped alone.
#[derive(Deserialize)]
struct JwksDocument {
    keys: Vec<Value>,
}

/// The usable RS256 signing keys of a JWKS document, by `kid`.
#[derive(Clone, Default)]
pub struct JwkSet {
    keys: HashMap<String, DecodingKey>,
}

impl fmt::Debug for JwkSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut kids: Vec<&str> = self.keys.keys().map(String::as_str).collect();
        kids.sort_unstable();
        f.debug_struct("JwkSet").field("kids", &kids).finish()
    }
}

impl JwkSet {
    /// Parses a JWKS document (`{"keys": [...]}`), keeping the usable RS256 signing keys; other
    /// entries are skipped with a warning (see the module documentation), and of two entries
    /// with one `kid` the first is kept. A document with no usable key at all is an error.
    pub fn parse(body: &[u8]) -> Result<JwkSet, String> {
        let jwks: JwksDocument =
            serde_json::from_slice(body).map_err(|_| "JWKS response is not a key set".to_string())?;
        let mut keys = HashMap::new();
        for (index, entry) in jwks.keys.into_iter().enumerate() {
            let shown_kid = entry
                .get("kid")
                .and_then(Value::as_str)
                .map(printable)
                .unwrap_or_default();
            match usable_key(entry) {
                Ok((kid, key)) => match keys.entry(kid) {
                    Entry::Vacant(slot) => {
                        slot.insert(key);
                    }
                    Entry::Occupied(_) => tracing::warn!(index, kid = %shown_kid, "skipping JWK: duplicate kid"),
                },
                Err(reason) => tracing::warn!(index, kid = %shown_kid, reason, "skipping JWK"),
            }
        }
        if keys.is_empty() {
            return Err("JWKS has no usable RS256 signing key".into());
        }
        Ok(JwkSet { keys })
    }

    /// How many usable keys the set holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether the set holds a key with this `kid`.
    pub fn contains(&self, kid: &str) -> bool {
        self.keys.contains_key(kid)
    }
}

fn usable_key(entry: Value) -> Result<(String, DecodingKey), &'static str> {
    let jwk = Jwk::deserialize(entry).map_err(|_| "not a JWK object")?;
    if !matches!(jwk.algorithm, AlgorithmParameters::RSA(_)) {
        return Err("not an RSA key with n and e");
    }
    let kid = match &jwk.common.key_id {
        Some(kid) if !kid.is_empty() => kid.clone(),
        _ => return Err("no kid"),
    };
    if jwk
        .common
        .public_key_use
        .as_ref()
        .is_some_and(|u| *u != PublicKeyUse::Signature)
    {
        return Err("use is not sig");
    }
    if jwk.common.key_algorithm.is_some_and(|alg| alg != KeyAlgorithm::RS256) {
        return Err("alg is not RS256");
    }
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| "n or e is not base64url")?;
    let DecodingKeyKind::RsaModulusExponent { n: raw_n, e: raw_e } = key.kind() else {
        return Err("not an RSA key with n and e");
    };
    let (n, e) = (strip_leading_zeros(raw_n), strip_leading_zeros(raw_e));
    let bits = match n.first() {
        Some(first) => (n.len() - 1) * 8 + (8 - first.leading_zeros() as usize),
        None => 0,
    };
    if !(2048..=8192).contains(&bits) {
        return Err("modulus is not 2048 to 8192 bits");
    }
    if e.is_empty() || e.len() > 4 {
        return Err("unusual public exponent");
    }
    let exponent = e.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    if exponent < 3 || exponent % 2 == 0 {
        return Err("unusual public exponent");
    }
    if n.len() == raw_n.len() && e.len() == raw_e.len() {
        return Ok((kid, key));
    }
    Ok((kid, DecodingKey::from_rsa_raw_components(n, e)))
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

/// Why `jsonwebtoken::decode_header` refused a header. It refuses an `alg` it has no variant for
/// (`none`, `None`) like any malformed header, so the header is read again to name that `alg`.
fn explain_bad_header(header_b64: &str) -> AuthError {
    let header: Option<Map<String, Value>> = URL_SAFE_NO_PAD
        .decode(header_b64)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    match header.as_ref().map(|header| header.get("alg")) {
        Some(None) => invalid("missing alg"),
        Some(Some(Value::String(alg))) if alg != "RS256" => {
            invalid(format!("alg {} is not accepted, expected RS256", printable(alg)))
        }
        _ => invalid("malformed header"),
    }
}

/// A short reason for each of `jsonwebtoken`'s refusals (no key material, nothing from the token
/// but the names of the claims configured).
fn refusal(kind: &ErrorKind) -> AuthError {
    match kind {
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::InvalidSignature => invalid("bad signature"),
        ErrorKind::MissingRequiredClaim(claim) => invalid(format!("missing {claim}")),
        // Only raised for `exp` (and `nbf`, not checked): not a non-negative number.
        ErrorKind::InvalidClaimFormat(claim) => invalid(format!("{claim} is not a valid time")),
        ErrorKind::InvalidIssuer => invalid("wrong issuer"),
        ErrorKind::InvalidAudience => invalid("wrong aud"),
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => invalid("alg is not accepted, expected RS256"),
        ErrorKind::InvalidRsaKey(_) | ErrorKind::InvalidKeyFormat => invalid("signing key is unusable"),
        ErrorKind::Json(_) => invalid("malformed payload"),
        _ => invalid("malformed token"),
    }
}

/// Untrusted text made safe to put in a reason or a log line: short, printable ASCII.
fn printable(text: &str) -> String {
    const MAX: usize = 32;
    let mut out: String = text
        .chars()
        .take(MAX)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect();
    if text.chars().count() > MAX {
        out.push('…');
    }
    out
}

/// Why a fetch failed: `reason` is short and safe to hand to callers; `detail` (the HTTP client's
/// error chain, URL included) only goes to the log.
struct FetchFailure {
    reason: String,
    detail: Option<String>,
}

impl FetchFailure {
    fn http(error: reqwest::Error) -> Self {
        let what = if error.is_timeout() {
            "timed out"
        } else if error.is_connect() {
            "connection failed"
        } else if error.is_body() || error.is_decode() {
            "response body could not be read"
        } else {
            "request failed"
        };
        let mut detail = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            detail.push_str(": ");
            detail.push_str(&cause.to_string());
            source = cause.source();
        }
        FetchFailure {
            reason: format!("JWKS endpoint {what}"),
            detail: Some(detail),
        }
    }
}

impl From<String> for FetchFailure {
    fn from(reason: String) -> Self {
        FetchFailure { reason, detail: None }
    }
}

impl From<&str> for FetchFailure {
    fn from(reason: &str) -> Self {
        FetchFailure {
            reason: reason.to_owned(),
            detail: None,
        }
    }
}

fn invalid(reason: impl Into<String>) -> AuthError {
    AuthError::Invalid(reason.into())
}
