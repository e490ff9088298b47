//! Replays the `post_policy` fuzz corpus (`host/fuzz/corpus/post_policy`) with the fuzz
//! target's own checks, so every input the fuzzer kept, and every crash it found, stays handled
//! on stable.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use vodpipe_presign::verify_post;

#[path = "../../fuzz/src/presign.rs"]
mod harness;

#[test]
fn post_policy_corpus() {
    vodpipe_test_support::corpus::replay("post_policy", harness::check);
}

fn verify(input: &str) -> Result<vodpipe_presign::AcceptedPost, vodpipe_presign::PostError> {
    let fields: BTreeMap<String, String> = harness::form(input);
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(harness::SIGNED_AT_SECS);
    verify_post(
        &fields,
        harness::BUCKET,
        harness::REGION,
        |key| (key == harness::ACCESS_KEY_ID).then(|| harness::SECRET.to_owned()),
        now,
    )
}

/// The harness signs forms as the seeds expect, so the fuzzer starts from accepted uploads.
#[test]
fn the_harness_signs_a_form_the_verifier_accepts() {
    let seed = std::fs::read_to_string(vodpipe_test_support::corpus::corpus_dir("post_policy").join("vodpipe-form"));
    let policy = r#"{"expiration":"2026-01-01T01:00:00.000Z","conditions":[{"bucket":"uploads"},["eq","$key","uploads/video"],["content-length-range",1,10],{"x-amz-algorithm":"AWS4-HMAC-SHA256"},{"x-amz-credential":"AKIAFUZZ/20260101/local/s3/aws4_request"},{"x-amz-date":"20260101T000000Z"}]}"#;
    let accepted = verify(&format!("{policy}{}key=uploads/video\n", harness::FORM_SEPARATOR)).unwrap();
    assert_eq!(
        (accepted.key.as_str(), accepted.content_length),
        ("uploads/video", Some((1, 10)))
    );
    // The seed of the corpus, if cmin kept it, is accepted the same way.
    if let Ok(seed) = seed {
        assert_eq!(verify(&seed).unwrap().key, "uploads/video");
    }
    let tampered = verify(&format!(
        "{policy}{}key=uploads/video\nx-amz-signature=00\n",
        harness::FORM_SEPARATOR
    ));
    assert_eq!(tampered.unwrap_err().code(), "SignatureDoesNotMatch");
}
