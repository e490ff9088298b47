//! Replays the `upload_multipart` fuzz corpus (`host/fuzz/corpus/upload_multipart`) through the
//! real `POST /upload` handler with the fuzz target's own checks, so every body the fuzzer kept,
//! and every crash it found, stays handled on stable.

#[path = "../../fuzz/src/upload.rs"]
mod harness;

#[test]
fn upload_multipart_corpus() {
    let endpoint = harness::Endpoint::new();
    vodpipe_test_support::corpus::replay("upload_multipart", |body| endpoint.check(body));
}

/// The harness's endpoint takes a form signed for its key at its instant, as the seeds are, so
/// the fuzzer starts from bodies that reach the file.
#[test]
fn the_harness_endpoint_accepts_a_signed_form_once() {
    use std::time::{Duration, SystemTime};
    use vodpipe_presign::{Credentials, UploadRules, presign_post};

    let endpoint = harness::Endpoint::new();
    let form = presign_post(
        "/upload",
        &UploadRules {
            bucket: "uploads".into(),
            key: "01JFUZZVIDEO".into(),
            metadata: vec![("user-id".into(), "u1".into())],
            content_length: 1..=100,
            expires_in: Duration::from_secs(3600),
            region: "local".into(),
        },
        &Credentials {
            access_key_id: harness::ACCESS_KEY_ID.into(),
            secret_access_key: harness::SECRET.into(),
            session_token: None,
        },
        SystemTime::UNIX_EPOCH + Duration::from_millis(harness::NOW_MS),
    );
    let boundary = harness::BOUNDARY;
    let mut body = String::new();
    for (name, value) in &form.fields {
        body += &format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n");
    }
    body += &format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"clip.mp4\"\r\n\r\nvideo bytes\r\n--{boundary}--\r\n"
    );
    let (status, first) = endpoint.post(body.as_bytes());
    assert_eq!(status.as_u16(), 204, "{first}");
    let (status, again) = endpoint.post(body.as_bytes());
    assert_eq!(status.as_u16(), 403, "{again}");
    assert!(again.contains("<Code>AccessDenied</Code>"), "{again}");
}
