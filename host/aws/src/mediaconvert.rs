//! Submits transcode jobs to AWS Elemental MediaConvert.
//!
//! The job builder plugin writes a whole `CreateJob` request (member names as in the API
//! reference). The SDK's typed builders cannot take a document, so the request goes through
//! the SDK as an operation with empty settings, and an interceptor puts the document on the
//! wire in its place before signing: endpoint resolution, credentials, SigV4, retries and
//! error parsing stay the SDK's. On the wire MediaConvert's REST-JSON protocol names members
//! in lowerCamelCase, and map keys (user metadata, selector names) are data, kept as they are.
//!
//! `ClientRequestToken` is the job id derived from the video id, so a resubmission (a
//! redelivered upload event) is the same job to MediaConvert; `UserMetadata.video_id` names
//! the video in the job-state event that comes back.
//!
//! A failed `CreateJob` is [`PortError::Rejected`] when MediaConvert refused this job and
//! would refuse it again (bad request, or another 4xx it names), and
//! [`PortError::Unavailable`] when asking later may work, after the SDK's own retries:
//! throttling and timeouts (the SDK's error codes, whatever 4xx carries them, and 408), an
//! expired request or credentials, a full quota, a conflict on the job's token, forbidden or
//! not found (the deployment's role or queue, mended by an operator; see [`classify`]), 5xx,
//! no connection, an unreadable answer.

use std::borrow::Cow;

use aws_sdk_mediaconvert::Client;
use aws_sdk_mediaconvert::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_mediaconvert::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_mediaconvert::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_mediaconvert::operation::create_job::CreateJobError;
use aws_sdk_mediaconvert::types::JobSettings;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::error::ErrorMetadata;
use serde_json::{Map, Value};
use vodpipe_core::JobDocument;
use vodpipe_core::ports::{PortError, Transcoder};

use crate::Blocking;
use crate::error::{is_retryable_code, is_retryable_status};

/// Members whose values are maps: their keys are names chosen by the job's author.
const MAP_MEMBERS: &[&str] = &[
    "UserMetadata",
    "Tags",
    "AudioSelectors",
    "AudioSelectorGroups",
    "CaptionSelectors",
    "DynamicAudioSelectors",
];

pub struct MediaConvertTranscoder {
    client: Client,
    blocking: Blocking,
}

impl MediaConvertTranscoder {
    /// `client` points at the account's MediaConvert endpoint (the SDK resolves it, or the
    /// configuration names it).
    pub fn new(client: Client, blocking: Blocking) -> Self {
        Self { client, blocking }
    }
}

/// The request body MediaConvert receives for `job`: wire names, the idempotency token and
/// the video id in the user metadata.
pub fn wire_body(job: &JobDocument, job_id: &str, video_id: &str) -> Result<Vec<u8>, String> {
    let mut document: Value =
        serde_json::from_str(job.create_job.get()).map_err(|e| format!("the job document is not JSON: {e}"))?;
    let object = document.as_object_mut().ok_or("the job document is not an object")?;
    object.insert("ClientRequestToken".into(), Value::String(job_id.to_owned()));
    let metadata = object
        .entry("UserMetadata")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or("UserMetadata is not an object")?;
    metadata.insert("video_id".into(), Value::String(video_id.to_owned()));
    serde_json::to_vec(&to_wire(document, false)).map_err(|e| e.to_string())
}

fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn to_wire(value: Value, is_map: bool) -> Value {
    match value {
        Value::Object(members) => Value::Object(
            members
                .into_iter()
                .map(|(name, value)| {
                    if is_map {
                        (name, to_wire(value, false))
                    } else {
                        let map = MAP_MEMBERS.contains(&name.as_str());
                        (lower_first(&name), to_wire(value, map))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(|v| to_wire(v, false)).collect()),
        other => other,
    }
}

/// Puts the job document on the wire in place of the SDK's (empty) serialisation.
#[derive(Debug)]
struct DocumentBody(Vec<u8>);

impl Intercept for DocumentBody {
    fn name(&self) -> &'static str {
        "vodpipe job document"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        request.headers_mut().insert("content-length", self.0.len().to_string());
        *request.body_mut() = SdkBody::from(self.0.clone());
        Ok(())
    }
}

impl Transcoder for MediaConvertTranscoder {
    fn submit(&self, job_id: &str, video_id: &str, job: &JobDocument) -> Result<(), PortError> {
        let body = wire_body(job, job_id, video_id)
            .map_err(|why| PortError::Rejected(format!("the job document cannot be sent: {why}")))?;
        let result = self.blocking.wait(
            self.client
                .create_job()
                .role("set by the job document")
                .settings(JobSettings::builder().build())
                .client_request_token(job_id)
                .customize()
                .interceptor(DocumentBody(body))
                .send(),
        );
        match result {
            Ok(output) => {
                tracing::info!(
                    video_id,
                    job_id,
                    mediaconvert_job = output.job().and_then(|j| j.id()),
                    "job submitted"
                );
                Ok(())
            }
            Err(e) => Err(classify(e)),
        }
    }
}

/// Whether MediaConvert refused the job for good, or could not take it now.
fn classify(error: SdkError<CreateJobError, HttpResponse>) -> PortError {
    let SdkError::ServiceError(context) = &error else {
        // No answer was read: a timeout, no connection, a malformed response.
        return PortError::Unavailable(format!("MediaConvert: {}", DisplayErrorContext(&error)));
    };
    let (refusal, status) = (context.err(), context.raw().status().as_u16());
    let what = format!(
        "MediaConvert {} (HTTP {status}): {}",
        refusal.code().unwrap_or("error"),
        message(refusal, context.raw())
    );
    match refusal {
        // Throttling, a timeout or expired credentials, whatever 4xx status carries them.
        _ if refusal.code().is_some_and(is_retryable_code) => PortError::Unavailable(what),
        CreateJobError::BadRequestException(_) => PortError::Rejected(what),
        // The deployment, not this job: a role MediaConvert may not pass, a queue that is not
        // there. Every job fails the same way until an operator mends it, after which the same
        // request succeeds.
        CreateJobError::ForbiddenException(_) | CreateJobError::NotFoundException(_) => PortError::Unavailable(what),
        // The job's token (ClientRequestToken, derived from the video id) is taken by a job
        // with another document: an earlier attempt that timed out after MediaConvert made
        // the job, the document since rebuilt (a policy reload). That job runs and its state
        // event finishes the video, after which a redelivery finds the video final and stops;
        // failing the video now would throw that job's result away. The queue's receive limit
        // bounds the retries.
        CreateJobError::ConflictException(_) => PortError::Unavailable(what),
        // A full quota (jobs in the account's queues) frees up as jobs finish.
        CreateJobError::TooManyRequestsException(_)
        | CreateJobError::InternalServerErrorException(_)
        | CreateJobError::ServiceQuotaExceededException(_) => PortError::Unavailable(what),
        // An error code this SDK does not know: its status tells. 408 is a request timeout.
        _ if is_retryable_status(status) => PortError::Unavailable(what),
        _ if (400..500).contains(&status) => PortError::Rejected(what),
        _ => PortError::Unavailable(what),
    }
}

/// The message of a refusal. The SDK keeps it on the error, except for an answer without an
/// error type, where it is on the error's source; failing both, the start of the body.
fn message<'a>(refusal: &'a CreateJobError, response: &'a HttpResponse) -> Cow<'a, str> {
    let on_source = || {
        std::error::Error::source(refusal)
            .and_then(|source| source.downcast_ref::<ErrorMetadata>())
            .and_then(ErrorMetadata::message)
    };
    if let Some(message) = refusal.message().or_else(on_source) {
        return Cow::Borrowed(message);
    }
    let body = String::from_utf8_lossy(response.body().bytes().unwrap_or_default());
    match body.trim() {
        "" => Cow::Borrowed("no message"),
        text => Cow::Owned(text.chars().take(200).collect()),
    }
}
