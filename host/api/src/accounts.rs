//! Local accounts (embedded mode): sign up, sign in, refresh, sign out. Where a user pool
//! signs users in (Cognito), these routes answer 404 and the front end talks to the pool.
//! Sign-up, sign-in and refresh are rate limited ([`crate::limits`]) before any work.

use std::net::IpAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use vodpipe_auth::local::{AccountError, LocalAccounts, Tokens};

use crate::error::ApiError;
use crate::extract::{Body, ClientAddress, SignedIn};
use crate::limits::{Attempt, AuthLimiter};
use crate::views::{Credentials, Me, RefreshRequest, TokensView};
use crate::{ApiState, blocking};

/// Local accounts and the rate limits that guard them (embedded mode).
#[derive(Clone)]
pub struct LocalAuth {
    pub accounts: Arc<LocalAccounts>,
    pub limiter: Arc<AuthLimiter>,
}

impl LocalAuth {
    /// Spends one attempt of the client's budgets (for a sign-in, looks whether the account
    /// has a failed attempt left), or refuses with `429` and `Retry-After`.
    fn admit(&self, client: Option<IpAddr>, attempt: Attempt<'_>) -> Result<(), ApiError> {
        // A wiring mistake, not the client's: refuse rather than go unlimited.
        let client = client.ok_or_else(|| {
            ApiError::internal(
                "the client's address is unknown, so sign-in cannot be rate limited: \
                 serve the router with connection info (axum's into_make_service_with_connect_info)",
            )
        })?;
        self.limiter.check(client, attempt).map_err(|limited| {
            // No username: people type passwords into that field too.
            tracing::info!(%client, exhausted = ?limited.exhausted, retry_after_secs = limited.retry_after_secs, "rate limited");
            ApiError::from(limited)
        })
    }
}

fn local(state: &ApiState) -> Result<&LocalAuth, ApiError> {
    state
        .accounts
        .as_ref()
        .ok_or_else(|| ApiError::not_found("accounts are managed by the user pool here, not by this API"))
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        let message = e.to_string();
        match e {
            AccountError::InvalidUsername(_) | AccountError::WeakPassword(_) => ApiError::invalid(message),
            AccountError::UsernameTaken => ApiError::conflict(message),
            AccountError::BadCredentials => ApiError::unauthorized("bad_credentials", message),
            AccountError::InvalidRefreshToken => ApiError::unauthorized("invalid_token", message),
            AccountError::Unavailable(why) => ApiError::from(vodpipe_core::ports::PortError::Unavailable(why)),
        }
    }
}

fn view(tokens: Tokens) -> Json<TokensView> {
    Json(TokensView {
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        token_type: tokens.token_type.into(),
        expires_in: tokens.expires_in,
        user_id: tokens.user_id,
        username: tokens.username,
    })
}

/// Creates a local account and signs it in.
#[utoipa::path(post, path = "/api/auth/signup", tag = "accounts", request_body = Credentials,
    responses((status = 201, body = TokensView), (status = 400, body = crate::error::ErrorBody),
              (status = 409, description = "username taken", body = crate::error::ErrorBody),
              (status = 429, description = "too many attempts from this address or for this account: `rate_limited`", body = crate::error::ErrorBody,
               headers(("Retry-After" = u64, description = "whole seconds until an attempt is allowed again")))))]
pub async fn sign_up(
    State(state): State<ApiState>,
    ClientAddress(client): ClientAddress,
    Body(credentials): Body<Credentials>,
) -> Result<(StatusCode, Json<TokensView>), ApiError> {
    let local = local(&state)?;
    local.admit(
        client,
        Attempt::SignUp {
            username: &credentials.username,
        },
    )?;
    let accounts = local.accounts.clone();
    // Password hashing takes tens of milliseconds of CPU: off the executor.
    let tokens = blocking(move || Ok(accounts.sign_up(&credentials.username, &credentials.password)?)).await?;
    Ok((StatusCode::CREATED, view(tokens)))
}

#[utoipa::path(post, path = "/api/auth/signin", tag = "accounts", request_body = Credentials,
    responses((status = 200, body = TokensView), (status = 401, body = crate::error::ErrorBody),
              (status = 429, description = "too many attempts from this address, or too many failed sign-ins for this account: `rate_limited`", body = crate::error::ErrorBody,
               headers(("Retry-After" = u64, description = "whole seconds until an attempt is allowed again")))))]
pub async fn sign_in(
    State(state): State<ApiState>,
    ClientAddress(client): ClientAddress,
    Body(credentials): Body<Credentials>,
) -> Result<Json<TokensView>, ApiError> {
    let local = local(&state)?;
    local.admit(
        client,
        Attempt::SignIn {
            username: &credentials.username,
        },
    )?;
    let accounts = local.accounts.clone();
    let username = credentials.username.clone();
    let signed_in = blocking(move || Ok(accounts.sign_in(&credentials.username, &credentials.password))).await?;
    match signed_in {
        Ok(tokens) => Ok(view(tokens)),
        // Only failures spend the account's budget: the owner signing in never locks it.
        Err(AccountError::BadCredentials) => {
            local.limiter.charge_failed_sign_in(&username);
            Err(AccountError::BadCredentials.into())
        }
        Err(other) => Err(other.into()),
    }
}

/// Trades a refresh token for new tokens; the old refresh token stops working.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "accounts", request_body = RefreshRequest,
    responses((status = 200, body = TokensView), (status = 401, body = crate::error::ErrorBody),
              (status = 429, description = "too many attempts from this address or for this account: `rate_limited`", body = crate::error::ErrorBody,
               headers(("Retry-After" = u64, description = "whole seconds until an attempt is allowed again")))))]
pub async fn refresh(
    State(state): State<ApiState>,
    ClientAddress(client): ClientAddress,
    Body(request): Body<RefreshRequest>,
) -> Result<Json<TokensView>, ApiError> {
    let local = local(&state)?;
    local.admit(client, Attempt::Refresh)?;
    let accounts = local.accounts.clone();
    let tokens = blocking(move || Ok(accounts.refresh(&request.refresh_token)?)).await?;
    Ok(view(tokens))
}

#[utoipa::path(post, path = "/api/auth/signout", tag = "accounts", request_body = RefreshRequest,
    responses((status = 204, description = "the refresh token no longer works")))]
pub async fn sign_out(
    State(state): State<ApiState>,
    Body(request): Body<RefreshRequest>,
) -> Result<StatusCode, ApiError> {
    let accounts = local(&state)?.accounts.clone();
    blocking(move || Ok(accounts.sign_out(&request.refresh_token)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who the token belongs to.
#[utoipa::path(get, path = "/api/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = crate::error::ErrorBody)))]
pub async fn me(SignedIn(caller): SignedIn) -> Json<Me> {
    Json(Me {
        user_id: caller.user_id,
        username: caller.username,
    })
}
