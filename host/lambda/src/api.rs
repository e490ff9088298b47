//! The API in Lambda: the same [`vodpipe_api::router`] as `vodpipe serve`, over DynamoDB and
//! S3, with Cognito access tokens and upload forms posted straight to the uploads bucket.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use axum::Router;
use vodpipe_api::uploads::{MAX_UPLOAD_BYTES, PostForm, UPLOAD_EXPIRY, UploadSigner};
use vodpipe_api::{ApiError, ApiState, UlidIds};
use vodpipe_auth::{CognitoAuthenticator, CognitoConfig, TokenUse};
use vodpipe_aws::Blocking;
use vodpipe_core::ports::SystemClock;
use vodpipe_presign::{Credentials, PresignedPost};

use crate::config::{ConfigError, Storage, optional, storage, var};

/// Signs upload forms with the function's own temporary credentials: the form carries their
/// session token, and S3 accepts it while those credentials are valid (a form's 15 minutes
/// fit inside them, since the SDK renews credentials well before they expire).
pub struct SessionPostSigner {
    pub form: PostForm,
    pub credentials: SharedCredentialsProvider,
    pub blocking: Blocking,
}

impl UploadSigner for SessionPostSigner {
    fn presign(&self, key: &str, user_id: &str, now: SystemTime) -> Result<(PresignedPost, SystemTime), ApiError> {
        let credentials = self
            .blocking
            .wait(self.credentials.provide_credentials())
            .map_err(|e| ApiError::internal(format!("no credentials to sign the upload with: {e}")))?;
        let credentials = Credentials {
            access_key_id: credentials.access_key_id().to_owned(),
            secret_access_key: credentials.secret_access_key().to_owned(),
            session_token: credentials.session_token().map(str::to_owned),
        };
        Ok(self.form.sign(&credentials, key, user_id, now))
    }

    fn max_bytes(&self) -> u64 {
        self.form.max_bytes
    }
}

/// The API router configured from the environment (see [`crate::config`]).
pub async fn router() -> Result<Router, ConfigError> {
    let sdk = vodpipe_aws::sdk_config(None).await;
    let Storage {
        store,
        repository,
        blocking,
        ..
    } = storage(&sdk)?;
    let region = sdk
        .region()
        .map(ToString::to_string)
        .ok_or_else(|| ConfigError("AWS_REGION is not set".into()))?;
    let pool = var("VODPIPE_COGNITO_USER_POOL_ID", "the Cognito user pool")?;
    let mut cognito = CognitoConfig::for_user_pool(
        &region,
        &pool,
        var("VODPIPE_COGNITO_CLIENT_ID", "the user pool's app client")?,
        TokenUse::Access,
    );
    if let Some(issuer) = optional("VODPIPE_COGNITO_ISSUER") {
        cognito.issuer = issuer;
    }
    cognito.jwks_url = optional("VODPIPE_COGNITO_JWKS_URL");
    let authenticator = CognitoAuthenticator::new(cognito).map_err(|e| ConfigError(e.to_string()))?;
    let bucket = store.uploads_bucket().to_owned();
    let max_bytes = match optional("VODPIPE_MAX_UPLOAD_BYTES") {
        Some(text) => text
            .parse()
            .map_err(|_| ConfigError(format!("VODPIPE_MAX_UPLOAD_BYTES is not a byte count: {text}")))?,
        None => MAX_UPLOAD_BYTES,
    };
    let signer = SessionPostSigner {
        form: PostForm {
            url: optional("VODPIPE_UPLOAD_URL")
                .unwrap_or_else(|| format!("https://{bucket}.s3.{region}.amazonaws.com/")),
            bucket,
            region,
            max_bytes,
            expires_in: UPLOAD_EXPIRY,
        },
        credentials: sdk
            .credentials_provider()
            .ok_or_else(|| ConfigError("no AWS credentials provider".into()))?,
        blocking,
    };
    let media_base = var("VODPIPE_MEDIA_BASE_URL", "where media are served (the CDN URL)")?;
    let state = ApiState {
        videos: Arc::new(repository),
        objects: Arc::new(store),
        authenticator: Arc::new(authenticator),
        uploads: Arc::new(signer),
        accounts: None,
        media_base: media_base.trim_end_matches('/').to_owned(),
        ids: Arc::new(UlidIds),
        clock: Arc::new(SystemClock),
        public_pages: Arc::new(vodpipe_api::cache::PageCache::new(Duration::from_secs(1))),
    };
    Ok(vodpipe_api::router(state))
}
