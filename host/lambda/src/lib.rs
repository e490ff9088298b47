//! vodpipe's Lambda handlers: the core pipeline over the AWS adapters, fed by SQS.
//!
//! - [`Handlers::on_upload`]: SQS batches of S3 `ObjectCreated` notifications → probe, plan,
//!   submit the MediaConvert job.
//! - [`Handlers::on_job_state`]: SQS batches of EventBridge "MediaConvert Job State Change"
//!   events → post-processor actions; the video is `done` or `failed`, the raw upload deleted.
//!
//! Each message is handled on its own; the ones that fail are returned as
//! `batchItemFailures`, so SQS redelivers only those and moves a message that keeps failing
//! to the queue's dead-letter queue (its redrive policy). Both pipeline steps are safe to
//! repeat, so redelivery never starts a second job or undoes a final state.

pub mod api;
pub mod config;
pub mod policy;

use std::sync::Arc;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use serde_json::Value;
use vodpipe_aws::{DynamoRepository, MediaConvertTranscoder, S3Store};
use vodpipe_core::event::parse_job_state_event;
use vodpipe_core::pipeline::{JobStateOutcome, Pipeline, UploadOutcome};
use vodpipe_core::ports::{Clock, ObjectStore, Policy};

pub use policy::{FixedPolicy, PolicySource, S3Policy};

/// Log lines to stdout (CloudWatch Logs in Lambda), without colours; `RUST_LOG` filters
/// (default `info`).
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_ansi(false)
        .without_time()
        .init();
}

/// Everything the handlers use; built once per Lambda instance, shared by invocations.
pub struct Handlers {
    pub store: S3Store,
    pub repository: DynamoRepository,
    pub transcoder: MediaConvertTranscoder,
    /// Asked once per message, so a newly activated bundle runs the next job.
    pub policy: Arc<dyn PolicySource>,
    pub clock: Arc<dyn Clock>,
    /// The MediaConvert service role jobs run as.
    pub role: String,
    pub queue: Option<String>,
}

impl Handlers {
    fn pipeline<'a>(&'a self, policy: &'a dyn Policy) -> Pipeline<'a> {
        Pipeline {
            store: &self.store,
            repository: &self.repository,
            transcoder: &self.transcoder,
            policy,
            clock: &*self.clock,
            role: self.role.clone(),
            queue: self.queue.clone(),
        }
    }

    pub async fn on_upload(self: &Arc<Self>, event: SqsEvent) -> SqsBatchResponse {
        each_message(self, event, Self::upload_message).await
    }

    pub async fn on_job_state(self: &Arc<Self>, event: SqsEvent) -> SqsBatchResponse {
        each_message(self, event, Self::job_state_message).await
    }

    /// One S3 notification (or S3's test event, which says nothing).
    pub fn upload_message(&self, body: &str) -> Result<(), String> {
        let notification: Value = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
        if notification["Event"] == "s3:TestEvent" {
            return Ok(());
        }
        let records = notification["Records"]
            .as_array()
            .ok_or("not an S3 event notification (no Records)")?;
        let policy = self.policy.current().map_err(|e| e.to_string())?;
        for record in records {
            let bucket = record["s3"]["bucket"]["name"].as_str().unwrap_or_default();
            if bucket != self.store.uploads_bucket() {
                tracing::warn!(bucket, "an event for another bucket, ignored");
                continue;
            }
            let key = record["s3"]["object"]["key"]
                .as_str()
                .map(decode_key)
                .ok_or("an S3 record without an object key")?;
            match self.pipeline(&*policy).on_upload(&key).map_err(|e| e.to_string())? {
                UploadOutcome::Submitted { job_id } => tracing::info!(key, job_id, "job submitted"),
                UploadOutcome::Failed(why) => tracing::info!(key, "video failed: {why}"),
                other => tracing::info!(key, "nothing to do: {other:?}"),
            }
        }
        Ok(())
    }

    /// One EventBridge event for a MediaConvert job.
    pub fn job_state_message(&self, body: &str) -> Result<(), String> {
        let event: Value = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
        let change = parse_job_state_event(&event, |video_id| self.store.output_prefix(video_id))?;
        let policy = self.policy.current().map_err(|e| e.to_string())?;
        match self
            .pipeline(&*policy)
            .on_job_state(&change)
            .map_err(|e| e.to_string())?
        {
            JobStateOutcome::Finished(status) => tracing::info!(video_id = change.video_id, ?status, "video finished"),
            JobStateOutcome::Ignored(why) => tracing::info!(video_id = change.video_id, "event ignored: {why}"),
        }
        Ok(())
    }
}

/// Runs `handle` on each message off the async executor (the ports are synchronous) and
/// reports the failures.
async fn each_message(
    handlers: &Arc<Handlers>,
    event: SqsEvent,
    handle: fn(&Handlers, &str) -> Result<(), String>,
) -> SqsBatchResponse {
    let mut failures = Vec::new();
    for message in event.records {
        let SqsMessage { message_id, body, .. } = message;
        let id = message_id.unwrap_or_default();
        let shared = handlers.clone();
        let result = tokio::task::spawn_blocking(move || handle(&shared, body.as_deref().unwrap_or_default()))
            .await
            .unwrap_or_else(|e| Err(format!("the handler panicked: {e}")));
        if let Err(why) = result {
            tracing::warn!(message_id = id, "message failed, SQS will redeliver it: {why}");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failures.push(failure);
        }
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures;
    response
}

/// S3 notifications carry keys URL-encoded, spaces as '+'.
fn decode_key(key: &str) -> String {
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_are_url_decoded() {
        assert_eq!(super::decode_key("01ABC"), "01ABC");
        assert_eq!(super::decode_key("a+b%2Fc"), "a b/c");
        assert_eq!(super::decode_key("bad%zz%"), "bad%zz%");
        assert_eq!(super::decode_key("%4"), "%4");
    }
}
