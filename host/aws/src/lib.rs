//! vodpipe's AWS adapters: the core's ports on the official AWS SDK for Rust. The ports are
//! synchronous (the core does no I/O of its own); the SDK is async, so each adapter waits on
//! the Tokio runtime through [`Blocking`], from a thread that is not running async tasks
//! (the API runs storage calls on the blocking pool; the Lambda handlers do the same).

pub mod dynamo;
mod error;
pub mod mediaconvert;
pub mod policy;
pub mod s3;

use std::future::Future;

pub use dynamo::DynamoRepository;
pub use mediaconvert::MediaConvertTranscoder;
pub use policy::S3PolicyStore;
pub use s3::S3Store;

/// Waits for SDK futures from synchronous code.
#[derive(Clone)]
pub struct Blocking {
    handle: tokio::runtime::Handle,
}

impl Blocking {
    pub fn new(handle: tokio::runtime::Handle) -> Self {
        Self { handle }
    }

    /// Runs `future` to completion on the runtime. Must not be called from inside an async
    /// task (Tokio forbids blocking a worker thread this way).
    pub fn wait<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }
}

/// An SDK configuration: the default credential chain and region, or a local endpoint (tests,
/// moto) when `endpoint` is given.
pub async fn sdk_config(endpoint: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    loader.load().await
}

/// An S3 client for `sdk`; path-style addressing when `AWS_ENDPOINT_URL` (or
/// `AWS_ENDPOINT_URL_S3`) points at a local peer, which has no per-bucket host names.
pub fn s3_client(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    let local = set("AWS_ENDPOINT_URL") || set("AWS_ENDPOINT_URL_S3");
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).force_path_style(local).build())
}
