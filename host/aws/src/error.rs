//! How a failed SDK call reads as a [`PortError`]: the one classification the storage adapters
//! share, and the error codes MediaConvert's own classification builds on.
//!
//! - `Unavailable` (asking again later may work): no answer (timeout, no connection, an
//!   unreadable response), throttling and transient codes (the SDK's own lists), an expired
//!   request or credentials, a conflicting operation in progress, 408, 429 and 5xx; and what an
//!   operator fixes without touching the request: a bucket, table or queue of the deployment
//!   that is missing, access denied (a role's policy), credentials AWS does not take.
//! - `NotFound`: the object or item named does not exist (S3's `NoSuchKey`, a bare 404).
//! - `Rejected`: any other 4xx that names its error: the request itself is wrong (a validation
//!   error, an item too large), and sending it again changes nothing. A 4xx without a code
//!   (S3's answers to HEAD have no body) is `Unavailable`: too little to fail a video on.

use aws_runtime::retries::classifiers::{THROTTLING_ERRORS, TRANSIENT_ERRORS};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use vodpipe_core::ports::PortError;

/// Error codes AWS answers with a 4xx that mean "not now" rather than "never", beyond the SDK's
/// own throttling and transient lists: a request signed too long ago or by a clock that is off
/// (a stalled or skewed host), and credentials that expired (a Lambda's role session) and are
/// renewed before the next attempt.
const EXPIRY_ERRORS: &[&str] = &[
    "RequestExpired",
    "RequestTimeTooSkewed",
    "ExpiredToken",
    "ExpiredTokenException",
    // S3: a conflicting operation on the same bucket or object is in progress.
    "OperationAborted",
];

/// A resource of the deployment itself, not of one request, is missing or closed to us: every
/// request fails until an operator restores it, after which the same request succeeds.
const DEPLOYMENT_ERRORS: &[&str] = &[
    "NoSuchBucket",
    "ResourceNotFoundException",
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
    "AccessDenied",
    "AccessDeniedException",
    // Credentials the deployment gave the function that AWS does not take.
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
];

/// The object or item a request named does not exist.
const NOT_FOUND_ERRORS: &[&str] = &["NoSuchKey", "NotFound"];

/// Whether an AWS error code says asking again later may work.
pub(crate) fn is_retryable_code(code: &str) -> bool {
    THROTTLING_ERRORS.contains(&code) || TRANSIENT_ERRORS.contains(&code) || EXPIRY_ERRORS.contains(&code)
}

/// Whether an HTTP status without a known code says asking again later may work (408 is a
/// request timeout).
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429) || status >= 500
}

/// A storage call's failure, `service` naming it in the message ("s3", "dynamodb").
pub(crate) fn port_error<E>(service: &str, error: SdkError<E, HttpResponse>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let what = format!("{service}: {}", DisplayErrorContext(&error));
    let SdkError::ServiceError(context) = &error else {
        return PortError::Unavailable(what);
    };
    let status = context.raw().status().as_u16();
    match context.err().code() {
        Some(code) if is_retryable_code(code) || DEPLOYMENT_ERRORS.contains(&code) => PortError::Unavailable(what),
        Some(code) if NOT_FOUND_ERRORS.contains(&code) => PortError::NotFound(what),
        _ if is_retryable_status(status) || status == 403 => PortError::Unavailable(what),
        _ if status == 404 => PortError::NotFound(what),
        // A 4xx that names what was wrong with the request.
        Some(_) if (400..500).contains(&status) => PortError::Rejected(what),
        // No code to go by (S3 answers a HEAD with no body, so an expired token there is a
        // bare 400): not enough to fail a video on.
        _ => PortError::Unavailable(what),
    }
}
