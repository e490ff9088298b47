//! The Lambda functions' configuration: environment variables set by Terraform (`infra/`),
//! read once per instance, with clients built once and shared by every invocation.
//!
//! | variable | used by | meaning |
//! |---|---|---|
//! | `VODPIPE_TABLE` | all | DynamoDB table of videos |
//! | `VODPIPE_UPLOADS_BUCKET` | all | raw uploads, keyed by video id |
//! | `VODPIPE_MEDIA_BUCKET` | all | published HLS, under `<video id>/` |
//! | `VODPIPE_POLICY_BUCKET` | on-upload, on-job-state | policy bundles and `active.json` |
//! | `VODPIPE_POLICY_PREFIX` | on-upload, on-job-state | prefix in that bucket (default `policy`) |
//! | `VODPIPE_PLUGIN_CACHE` | on-upload, on-job-state | compiled plugins (default `/tmp/vodpipe-plugins`) |
//! | `VODPIPE_PRECOMPILED_PLUGINS` | on-upload, on-job-state | `load` (default): load the artifacts `vodpipe policy publish` precompiled; `off`: always compile (publishers then stay inside the sandbox) |
//! | `VODPIPE_MAX_RECEIVES` | on-upload, on-job-state | the `maxReceiveCount` of the function's queue: a failure on that delivery gives up |
//! | `VODPIPE_MEDIACONVERT_ROLE` | on-upload | ARN of the role MediaConvert jobs run as |
//! | `VODPIPE_MEDIACONVERT_QUEUE` | on-upload | optional MediaConvert queue ARN |
//! | `VODPIPE_MEDIACONVERT_ENDPOINT` | on-upload | optional account endpoint URL |
//! | `VODPIPE_COGNITO_USER_POOL_ID` | api | user pool whose access tokens are accepted |
//! | `VODPIPE_COGNITO_CLIENT_ID` | api | its app client |
//! | `VODPIPE_COGNITO_ISSUER` | api | optional; default `https://cognito-idp.<region>.amazonaws.com/<pool>` |
//! | `VODPIPE_COGNITO_JWKS_URL` | api | optional; default `<issuer>/.well-known/jwks.json` |
//! | `VODPIPE_MEDIA_BASE_URL` | api | where media are served (the CloudFront URL) |
//! | `VODPIPE_UPLOAD_URL` | api | optional form URL; default the uploads bucket's virtual-hosted URL |
//! | `VODPIPE_MAX_UPLOAD_BYTES` | api | optional upload limit (default 100 MB) |
//!
//! `AWS_REGION` and the credentials come from the Lambda environment (the default chain);
//! `AWS_ENDPOINT_URL` points every client at a local peer in tests.

use std::sync::Arc;

use aws_config::SdkConfig;
use vodpipe_aws::{Blocking, DynamoRepository, MediaConvertTranscoder, S3PolicyStore, S3Store};
use vodpipe_core::ports::SystemClock;
use vodpipe_runtime::{LAMBDA_TARGET, Limits, PluginRuntime};

use crate::Handlers;
use crate::policy::S3Policy;

/// A missing or malformed variable, named.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

pub fn var(name: &str, what: &str) -> Result<String, ConfigError> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value.trim().to_owned()),
        _ => Err(ConfigError(format!("{name} is not set: it names {what}"))),
    }
}

pub fn optional(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// `VODPIPE_PRECOMPILED_PLUGINS`: `load` (the default) or `off`.
fn precompiled_plugins() -> Result<bool, ConfigError> {
    match optional("VODPIPE_PRECOMPILED_PLUGINS").as_deref() {
        None | Some("load") => Ok(true),
        Some("off") => Ok(false),
        Some(other) => Err(ConfigError(format!(
            "VODPIPE_PRECOMPILED_PLUGINS is `{other}`: `load` or `off`"
        ))),
    }
}

/// The adapters every function shares.
pub struct Storage {
    pub store: S3Store,
    pub repository: DynamoRepository,
    pub s3: aws_sdk_s3::Client,
    pub blocking: Blocking,
}

pub fn storage(sdk: &SdkConfig) -> Result<Storage, ConfigError> {
    let blocking = Blocking::new(tokio::runtime::Handle::current());
    let s3 = vodpipe_aws::s3_client(sdk);
    Ok(Storage {
        store: S3Store::new(
            s3.clone(),
            var("VODPIPE_UPLOADS_BUCKET", "the uploads bucket")?,
            var("VODPIPE_MEDIA_BUCKET", "the media bucket")?,
            blocking.clone(),
        ),
        repository: DynamoRepository::new(
            aws_sdk_dynamodb::Client::new(sdk),
            var("VODPIPE_TABLE", "the DynamoDB table of videos")?,
            blocking.clone(),
        ),
        s3,
        blocking,
    })
}

/// The SQS handlers (`on-upload`, `on-job-state`), with the policy from the policy bucket.
/// `needs_role`: only submitting jobs needs the MediaConvert role.
pub async fn handlers(needs_role: bool) -> Result<Arc<Handlers>, ConfigError> {
    let sdk = vodpipe_aws::sdk_config(None).await;
    let Storage {
        store,
        repository,
        s3,
        blocking,
    } = storage(&sdk)?;
    let mut mediaconvert = aws_sdk_mediaconvert::config::Builder::from(&sdk);
    if let Some(endpoint) = optional("VODPIPE_MEDIACONVERT_ENDPOINT") {
        mediaconvert = mediaconvert.endpoint_url(endpoint);
    }
    let policy_store = S3PolicyStore::new(
        s3,
        var("VODPIPE_POLICY_BUCKET", "the policy bucket")?,
        &optional("VODPIPE_POLICY_PREFIX").unwrap_or_else(|| "policy".into()),
    );
    let cache = optional("VODPIPE_PLUGIN_CACHE").unwrap_or_else(|| "/tmp/vodpipe-plugins".into());
    // For the target `vodpipe policy publish` precompiles for, so its artifacts fit.
    let plugins = PluginRuntime::for_target(Some(cache.into()), Limits::default(), LAMBDA_TARGET)
        .map_err(|e| ConfigError(format!("starting the plugin runtime: {e}")))?;
    Ok(Arc::new(Handlers {
        store,
        repository,
        transcoder: MediaConvertTranscoder::new(
            aws_sdk_mediaconvert::Client::from_conf(mediaconvert.build()),
            blocking.clone(),
        ),
        policy: Arc::new(S3Policy::new(policy_store, plugins, blocking).load_precompiled(precompiled_plugins()?)),
        clock: Arc::new(SystemClock),
        role: if needs_role {
            var("VODPIPE_MEDIACONVERT_ROLE", "the role MediaConvert jobs run as")?
        } else {
            String::new()
        },
        queue: optional("VODPIPE_MEDIACONVERT_QUEUE"),
        max_receives: max_receives(&var(
            "VODPIPE_MAX_RECEIVES",
            "the maxReceiveCount of the function's queue (its redrive policy)",
        )?)?,
    }))
}

/// `VODPIPE_MAX_RECEIVES`: a whole number of deliveries, at least 1.
fn max_receives(text: &str) -> Result<u32, ConfigError> {
    text.parse().ok().filter(|&n| n >= 1).ok_or_else(|| {
        ConfigError(format!(
            "VODPIPE_MAX_RECEIVES is {text:?}: it must be the queue's maxReceiveCount, a whole number of at least 1"
        ))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn max_receives_is_a_count_of_at_least_one() {
        assert_eq!(super::max_receives("5").unwrap(), 5);
        for bad in ["0", "-1", "five", "2.5", ""] {
            let error = super::max_receives(bad).unwrap_err().to_string();
            assert!(
                error.starts_with(&format!("VODPIPE_MAX_RECEIVES is {bad:?}")),
                "{error}"
            );
        }
    }
}
