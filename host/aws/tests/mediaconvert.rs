//! The MediaConvert transcoder: the SDK's real CreateJob request, captured by an endpoint the
//! test starts, checked against botocore's MediaConvert service model (moto has no
//! MediaConvert); and MediaConvert's refusals, answered by that endpoint, told apart from
//! failures worth retrying.

use std::process::Command;
use std::time::Duration;

use aws_sdk_mediaconvert::config::retry::RetryConfig;
use aws_sdk_mediaconvert::config::timeout::TimeoutConfig;
use vodpipe_aws::{Blocking, MediaConvertTranscoder};
use vodpipe_core::ports::{Policy, PortError, Transcoder};
use vodpipe_core::{JobContext, JobDocument, Probe};
use vodpipe_runtime::{Limits, PluginRuntime};
use vodpipe_test_support::capture::{Captured, Refusal, capture_endpoint};

#[test]
fn the_job_document_goes_out_as_a_valid_create_job_request() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let captured = Captured::default();
    let endpoint = runtime.block_on(capture_endpoint(captured.clone()));
    let config = runtime.block_on(
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_mediaconvert::config::Credentials::new(
                "AKID", "secret", None, None, "test",
            ))
            .load(),
    );
    let transcoder = MediaConvertTranscoder::new(
        aws_sdk_mediaconvert::Client::new(&config),
        Blocking::new(runtime.handle().clone()),
    );

    let plugins = PluginRuntime::new(None, Limits::default()).unwrap();
    let policy = vodpipe_runtime::reload::load(&plugins, &vodpipe_plugin_artifacts::builtin_files(), None).unwrap();
    let plan = policy.plan(&Probe::from_size(1280, 720)).unwrap();
    let context = JobContext {
        video_id: "01KBVIDEO00000000000000000".into(),
        input_uri: "s3://uploads/01KBVIDEO00000000000000000".into(),
        output_prefix: "s3://media/01KBVIDEO00000000000000000/".into(),
        role: "arn:aws:iam::123456789012:role/vodpipe-mediaconvert".into(),
        queue: None,
    };
    let job = policy.build_job(&plan, &context).unwrap();
    transcoder
        .submit("01KBVIDEO00000000000000000-hls", &context.video_id, &job)
        .unwrap();
    // Submitting again (a redelivered event) sends the same token: MediaConvert makes one job.
    transcoder
        .submit("01KBVIDEO00000000000000000-hls", &context.video_id, &job)
        .unwrap();

    let requests = captured.0.lock().unwrap().clone();
    assert_eq!(requests.len(), 2);
    let (request_line, headers, body) = &requests[0];
    assert!(request_line.starts_with("POST /2017-08-29/jobs"), "{request_line}");
    assert!(
        headers.iter().any(|h| h
            .to_ascii_lowercase()
            .starts_with("authorization: aws4-hmac-sha256 credential=akid/")),
        "{headers:?}"
    );
    assert_eq!(body, &requests[1].2, "the same request both times");
    let wire: serde_json::Value = serde_json::from_slice(body).unwrap();
    assert_eq!(wire["clientRequestToken"], "01KBVIDEO00000000000000000-hls");
    assert_eq!(wire["userMetadata"]["video_id"], "01KBVIDEO00000000000000000");
    assert_eq!(wire["role"], "arn:aws:iam::123456789012:role/vodpipe-mediaconvert");
    assert!(
        wire["settings"]["outputGroups"]
            .as_array()
            .is_some_and(|g| !g.is_empty()),
        "{wire}"
    );

    // botocore's model of the wire: every key a member, every value valid.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("body.json");
    std::fs::write(&path, body).unwrap();
    let python = vodpipe_test_support::moto::venv().join("bin/python");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/wire_createjob.py");
    let out = Command::new(&python).arg(script).arg(&path).output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{report}{}", String::from_utf8_lossy(&out.stderr));

    // And the check can fail: a PascalCase key is not a wire member.
    let mut wrong = wire.clone();
    wrong["Settings"] = wrong["settings"].take();
    std::fs::write(&path, serde_json::to_vec(&wrong).unwrap()).unwrap();
    let out = Command::new(&python).arg(script).arg(&path).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("'Settings' is not a member on the wire"));
}

/// A transcoder whose SDK client makes one attempt per submit (so each answer is seen as
/// is) and gives up on an attempt after 2 s.
fn single_attempt_transcoder(runtime: &tokio::runtime::Runtime, endpoint: &str) -> MediaConvertTranscoder {
    let config = runtime.block_on(
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_mediaconvert::config::Credentials::new(
                "AKID", "secret", None, None, "test",
            ))
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_attempt_timeout(Duration::from_secs(2))
                    .build(),
            )
            .load(),
    );
    MediaConvertTranscoder::new(
        aws_sdk_mediaconvert::Client::new(&config),
        Blocking::new(runtime.handle().clone()),
    )
}

fn job() -> JobDocument {
    let plugins = PluginRuntime::new(None, Limits::default()).unwrap();
    let policy = vodpipe_runtime::reload::load(&plugins, &vodpipe_plugin_artifacts::builtin_files(), None).unwrap();
    let plan = policy.plan(&Probe::from_size(640, 360)).unwrap();
    let context = JobContext {
        video_id: "01KBVIDEO00000000000000000".into(),
        input_uri: "s3://uploads/01KBVIDEO00000000000000000".into(),
        output_prefix: "s3://media/01KBVIDEO00000000000000000/".into(),
        role: "arn:aws:iam::123456789012:role/vodpipe-mediaconvert".into(),
        queue: None,
    };
    policy.build_job(&plan, &context).unwrap()
}

#[test]
fn a_refused_job_is_rejected_and_a_failure_worth_retrying_is_unavailable() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let captured = Captured::default();
    let endpoint = runtime.block_on(capture_endpoint(captured.clone()));
    let transcoder = single_attempt_transcoder(&runtime, &endpoint);
    let job = job();
    let submit = || transcoder.submit("01KBVIDEO00000000000000000-hls", "01KBVIDEO00000000000000000", &job);

    let bad_request = "/outputGroups/0/outputs/0/videoDescription/width: Should be greater than or equal to 32";
    let refusals = [
        (400, Some("BadRequestException"), bad_request, true),
        // The deployment, not the job: a role without PassRole, a queue that is not there.
        // Asked again until an operator mends it (the queue's receive limit bounds it).
        (
            403,
            Some("ForbiddenException"),
            "User is not authorized to perform iam:PassRole",
            false,
        ),
        (404, Some("NotFoundException"), "Queue not found", false),
        // A 4xx whose error type this SDK does not model is still this request's fault.
        (422, Some("UnprocessableJobException"), "no such thing", true),
        (429, Some("TooManyRequestsException"), "Too Many Requests", false),
        (
            402,
            Some("ServiceQuotaExceededException"),
            "too many jobs in the queue",
            false,
        ),
        (500, Some("InternalServerErrorException"), "internal failure", false),
        // AWS's throttling and timeout codes (the SDK's retry lists), whatever 4xx carries them.
        (400, Some("ThrottlingException"), "Rate exceeded", false),
        (400, Some("Throttling"), "Rate exceeded", false),
        (400, Some("RequestLimitExceeded"), "Request limit exceeded.", false),
        (
            400,
            Some("PriorRequestNotComplete"),
            "prior request not complete",
            false,
        ),
        (400, Some("RequestTimeoutException"), "request timed out", false),
        // A request signed by a clock that is off, and a role session that ran out.
        (400, Some("RequestExpired"), "Request has expired.", false),
        (
            403,
            Some("ExpiredTokenException"),
            "The security token included in the request is expired",
            false,
        ),
        (400, Some("ExpiredToken"), "The provided token has expired.", false),
        // A request timeout without an error type.
        (408, None, "Request Timeout", false),
        // The job's token taken by a job made by an earlier, timed-out attempt: that job
        // finishes the video, so this is asked again, not failed.
        (
            409,
            Some("ConflictException"),
            "idempotency token reused with other parameters",
            false,
        ),
        // A bare 503, with no MediaConvert error type.
        (503, None, "Service Unavailable", false),
    ];
    for (status, error_type, message, rejected) in refusals {
        captured.refuse(Some(Refusal {
            status,
            error_type,
            message,
            json: true,
        }));
        let sent = captured.count();
        match (submit(), rejected) {
            (Err(PortError::Rejected(why)), true) | (Err(PortError::Unavailable(why)), false) => {
                assert!(why.contains(message), "{status}: {why}");
                assert!(why.contains(&format!("HTTP {status}")), "{status}: {why}");
                if let Some(error_type) = error_type {
                    assert!(why.contains(error_type), "{status}: {why}");
                }
            }
            (other, _) => panic!("HTTP {status} {error_type:?}: expected rejected = {rejected}, got {other:?}"),
        }
        assert_eq!(captured.count(), sent + 1, "{status}: one attempt");
    }
    // A proxy's page instead of MediaConvert's JSON: its text is the message.
    captured.refuse(Some(Refusal {
        status: 502,
        error_type: None,
        message: "<html><body>502 Bad Gateway</body></html>",
        json: false,
    }));
    match submit() {
        Err(PortError::Unavailable(why)) => assert_eq!(
            why,
            "MediaConvert error (HTTP 502): <html><body>502 Bad Gateway</body></html>"
        ),
        other => panic!("a proxy's 502: {other:?}"),
    }
    captured.refuse(None);
    submit().unwrap();

    // Nothing listening: no connection, worth retrying.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = closed.local_addr().unwrap();
    drop(closed);
    let transcoder = single_attempt_transcoder(&runtime, &format!("http://{address}"));
    match transcoder.submit("01KBVIDEO00000000000000000-hls", "01KBVIDEO00000000000000000", &job) {
        Err(PortError::Unavailable(why)) => assert!(why.starts_with("MediaConvert: dispatch failure"), "{why}"),
        other => panic!("no connection: {other:?}"),
    }

    // An endpoint that accepts the connection and never answers: a timeout, worth retrying.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let transcoder = single_attempt_transcoder(&runtime, &format!("http://{}", silent.local_addr().unwrap()));
    match transcoder.submit("01KBVIDEO00000000000000000-hls", "01KBVIDEO00000000000000000", &job) {
        Err(PortError::Unavailable(why)) => assert!(why.contains("timed out"), "{why}"),
        other => panic!("no answer: {other:?}"),
    }
    drop(silent);
}
