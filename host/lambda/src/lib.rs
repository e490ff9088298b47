//! vodpipe's Lambda handlers: the core pipeline over the AWS adapters, fed by SQS.
//!
//! - [`Handlers::on_upload`]: SQS batches of S3 `ObjectCreated` notifications → probe, plan,
//!   submit the MediaConvert job.
//! - [`Handlers::on_job_state`]: SQS batches of EventBridge "MediaConvert Job State Change"
//!   events → post-processor actions; the video is `done` or `failed`, the raw upload deleted.
//!
//! Each message is handled on its own; the ones that fail are returned as
//! `batchItemFailures`, so SQS redelivers only those. Both pipeline steps are safe to repeat,
//! so redelivery never starts a second job or undoes a final state. A failure is given up on
//! by core's one rule ([`vodpipe_core::pipeline::next_step`]): when a service refused the
//! request (asking again cannot help), or on a message's last allowed delivery (its
//! `ApproximateReceiveCount` reaching the queue's `maxReceiveCount`, [`Handlers::max_receives`]),
//! the video ends `failed` with the error ([`vodpipe_core::pipeline::give_up`]); once every
//! video a message is about is settled so, the message counts as handled. A message that names
//! no video, or whose give-up could not be recorded, is reported as failed and SQS moves it to
//! the queue's dead-letter queue (its redrive policy).

pub mod api;
pub mod config;
pub mod events;
pub mod policy;

use std::fmt;
use std::sync::Arc;

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use vodpipe_aws::{DynamoRepository, MediaConvertTranscoder, S3Store};
use vodpipe_core::pipeline::{GaveUp, JobStateOutcome, NextStep, Pipeline, UploadOutcome, give_up, next_step};
use vodpipe_core::ports::{Clock, Delivery, ObjectStore, Policy, PortError};

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
    /// The `maxReceiveCount` of the queue the function reads: a failure on that delivery gives
    /// up.
    pub max_receives: u32,
}

/// Why a message failed, and which videos each error concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageFailure {
    /// Not an event vodpipe can read, so it names no video to give up on.
    Unreadable(String),
    /// The videos whose processing failed, each with its error.
    Videos(Vec<(String, PortError)>),
}

impl fmt::Display for MessageFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreadable(why) => f.write_str(why),
            Self::Videos(failed) => {
                let each: Vec<String> = failed.iter().map(|(video, why)| format!("{video}: {why}")).collect();
                f.write_str(&each.join("; "))
            }
        }
    }
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

    /// One S3 notification (or S3's test event, which says nothing). Every upload it names is
    /// handled, even after one fails.
    pub fn upload_message(&self, body: &str) -> Result<(), MessageFailure> {
        let keys =
            match events::s3_notification(body, self.store.uploads_bucket()).map_err(MessageFailure::Unreadable)? {
                events::Notification::Test => return Ok(()),
                events::Notification::Uploads(keys) if keys.is_empty() => return Ok(()),
                events::Notification::Uploads(keys) => keys,
            };
        let policy = self
            .policy
            .current()
            .map_err(|e| MessageFailure::Videos(keys.iter().map(|key| (key.clone(), e.clone())).collect()))?;
        let mut failed = Vec::new();
        for key in keys {
            match self.pipeline(&*policy).on_upload(&key) {
                Ok(UploadOutcome::Submitted { job_id }) => tracing::info!(key, job_id, "job submitted"),
                Ok(UploadOutcome::Failed(why)) => tracing::info!(key, "video failed: {why}"),
                Ok(other) => tracing::info!(key, "nothing to do: {other:?}"),
                Err(e) => failed.push((key, e)),
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(MessageFailure::Videos(failed))
        }
    }

    /// One EventBridge event for a MediaConvert job.
    pub fn job_state_message(&self, body: &str) -> Result<(), MessageFailure> {
        let change = events::job_state_change(body, |video_id| self.store.output_prefix(video_id))
            .map_err(MessageFailure::Unreadable)?;
        let failed = |e: PortError| MessageFailure::Videos(vec![(change.video_id.clone(), e)]);
        let policy = self.policy.current().map_err(failed)?;
        match self.pipeline(&*policy).on_job_state(&change).map_err(failed)? {
            JobStateOutcome::Finished(status) => tracing::info!(video_id = change.video_id, ?status, "video finished"),
            JobStateOutcome::Ignored(why) => tracing::info!(video_id = change.video_id, "event ignored: {why}"),
        }
        Ok(())
    }

    /// What becomes of a failed message. Each video it is about is given up on or not by
    /// [`next_step`]; given up, it is now `failed` with its error. The message counts as
    /// handled (`Ok`) when every video is settled so; otherwise (a video to retry, no video
    /// named, a video already final or without a record, the give-up write failing) it stays
    /// failed (`Err`): SQS redelivers it, or after its last delivery moves it to the
    /// dead-letter queue. A redelivery finds the failed videos final and leaves them.
    fn settle(&self, failure: MessageFailure, delivery: Delivery) -> Result<(), String> {
        let failed = match failure {
            MessageFailure::Videos(failed) => failed,
            other => return Err(other.to_string()),
        };
        let mut unsettled = Vec::new();
        for (video, error) in &failed {
            if next_step(error, delivery) == NextStep::Retry {
                unsettled.push(format!("{video}: {error}"));
                continue;
            }
            match give_up(&self.repository, video, delivery.receive_count, &error.to_string()) {
                Ok(GaveUp::Failed(reason)) => tracing::error!(video, "gave up: {reason}"),
                Ok(other) => unsettled.push(format!("{video}: {error} (nothing to record: {other:?})")),
                Err(e) => unsettled.push(format!("{video}: {error} (and recording the failure failed: {e})")),
            }
        }
        if unsettled.is_empty() {
            Ok(())
        } else {
            Err(unsettled.join("; "))
        }
    }
}

/// The message's `ApproximateReceiveCount` (1 on the first delivery). Lambda's SQS poller
/// always sets it; without it the message is taken as a first delivery, so it is retried and
/// never given up on.
fn receive_count(message: &SqsMessage) -> u32 {
    match message.attributes.get("ApproximateReceiveCount").map(|c| c.parse()) {
        Some(Ok(count)) => count,
        other => {
            tracing::warn!(
                message_id = message.message_id,
                "no usable ApproximateReceiveCount: {other:?}"
            );
            1
        }
    }
}

/// Runs `handle` on each message off the async executor (the ports are synchronous) and
/// reports the failures.
async fn each_message(
    handlers: &Arc<Handlers>,
    event: SqsEvent,
    handle: fn(&Handlers, &str) -> Result<(), MessageFailure>,
) -> SqsBatchResponse {
    let mut failures = Vec::new();
    for message in event.records {
        let delivery = Delivery {
            receive_count: receive_count(&message),
            max_receives: handlers.max_receives,
        };
        let SqsMessage { message_id, body, .. } = message;
        let id = message_id.unwrap_or_default();
        let shared = handlers.clone();
        let result = tokio::task::spawn_blocking(move || {
            handle(&shared, body.as_deref().unwrap_or_default()).or_else(|failure| shared.settle(failure, delivery))
        })
        .await
        .unwrap_or_else(|e| Err(format!("the handler panicked: {e}")));
        if let Err(why) = result {
            let next = if delivery.is_last() {
                "SQS moves it to the dead-letter queue"
            } else {
                "SQS will redeliver it"
            };
            tracing::warn!(
                message_id = id,
                receives = delivery.receive_count,
                "message failed, {next}: {why}"
            );
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failures.push(failure);
        }
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures;
    response
}
