//! POST policy parsing and form verification (the `post_policy` target). Also replayed by
//! `host/presign/tests/fuzz_corpus.rs`.
//!
//! An input is a policy document, optionally followed by a line `--form--` and form fields,
//! one `name=value` per line. The harness signs the policy with a known key, as a real form
//! would be, so mutations reach the policy parser and the conditions rather than stopping at
//! the signature; a `policy` or `x-amz-signature` line replaces what the harness made.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use vodpipe_presign::{ALGORITHM, PostError, sign_policy, verify_post};

pub const ACCESS_KEY_ID: &str = "AKIAFUZZ";
pub const SECRET: &str = "fuzz-secret";
pub const BUCKET: &str = "uploads";
pub const REGION: &str = "local";
/// 2026-01-01T00:00:00Z: the instant every form is signed and checked at.
pub const SIGNED_AT_SECS: u64 = 1_767_225_600;
pub const FORM_SEPARATOR: &str = "\n--form--\n";

/// The form `input` describes, signed as the input asks.
pub fn form(input: &str) -> BTreeMap<String, String> {
    let (policy, lines) = input.split_once(FORM_SEPARATOR).unwrap_or((input, "key=uploads/video"));
    let signed_at = SystemTime::UNIX_EPOCH + Duration::from_secs(SIGNED_AT_SECS);
    let mut fields = BTreeMap::from([
        ("x-amz-algorithm".to_owned(), ALGORITHM.to_owned()),
        (
            "x-amz-credential".to_owned(),
            format!("{ACCESS_KEY_ID}/20260101/{REGION}/s3/aws4_request"),
        ),
        ("x-amz-date".to_owned(), "20260101T000000Z".to_owned()),
        ("policy".to_owned(), STANDARD.encode(policy)),
    ]);
    let mut signature = None;
    for line in lines.lines() {
        let (name, value) = line.split_once('=').unwrap_or((line, ""));
        if name == "x-amz-signature" {
            signature = Some(value.to_owned());
        } else {
            fields.insert(name.to_owned(), value.to_owned());
        }
    }
    let signature = signature.unwrap_or_else(|| sign_policy(&fields["policy"], SECRET, signed_at, REGION));
    fields.insert("x-amz-signature".to_owned(), signature);
    fields
}

/// Verifies the form `data` describes and checks what the verifier promises: no panic, an
/// accepted upload that is the form's, and refusals S3 would send.
pub fn check(data: &[u8]) {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let fields = form(input);
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(SIGNED_AT_SECS);
    let lookup = |key: &str| (key == ACCESS_KEY_ID).then(|| SECRET.to_owned());
    match verify_post(&fields, BUCKET, REGION, lookup, now) {
        Ok(accepted) => {
            assert_eq!(accepted.access_key_id, ACCESS_KEY_ID);
            assert!(!accepted.key.is_empty(), "accepted without a key");
            if let Some((min, max)) = accepted.content_length {
                if min <= max {
                    assert_eq!(accepted.check_size(min), Ok(()), "the smallest allowed size is refused");
                    assert_eq!(accepted.check_size(max), Ok(()), "the largest allowed size is refused");
                }
                if let Some(over) = max.checked_add(1) {
                    assert!(
                        accepted.check_partial_size(over).is_err(),
                        "a size over the maximum is allowed"
                    );
                }
                if let Some(under) = min.checked_sub(1) {
                    assert!(
                        accepted.check_size(under).is_err(),
                        "a size under the minimum is allowed"
                    );
                }
            }
        }
        Err(error) => check_refusal(&error),
    }
}

/// A refusal carries an S3 code, a 4xx status and XML naming the code.
pub fn check_refusal(error: &PostError) {
    assert!(
        (400..500).contains(&error.status()),
        "status {} for {error:?}",
        error.status()
    );
    let xml = error.to_xml("fuzz");
    assert!(xml.contains(&format!("<Code>{}</Code>", error.code())), "{xml}");
}
