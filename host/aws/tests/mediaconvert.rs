//! The MediaConvert transcoder: the SDK's real CreateJob request, captured by an endpoint the
//! test starts, checked against botocore's MediaConvert service model (moto has no
//! MediaConvert).

mod common;

use std::process::Command;

use common::capture::{Captured, capture_endpoint};
use vodpipe_aws::{Blocking, MediaConvertTranscoder};
use vodpipe_core::ports::{Policy, Transcoder};
use vodpipe_core::{JobContext, Probe};
use vodpipe_runtime::{Limits, PluginRuntime};

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
    let python = common::venv().join("bin/python");
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
