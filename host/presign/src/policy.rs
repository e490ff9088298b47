//! Building and signing SigV4 POST policies.
//!
//! aws-sdk-rust has no presigned POST, so the policy is written here and signed with
//! aws-sigv4's primitives: the SigV4 signing key for (date, region, "s3") and an HMAC-SHA256
//! of the base64 policy text, hex-encoded.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::RangeInclusive;
use std::time::{Duration, SystemTime};

use aws_sigv4::sign::v4::{calculate_signature, generate_signing_key};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::{Value, json};

use crate::dates;

/// The only signing algorithm S3 accepts for POST policies in SigV4.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The service in the credential scope.
pub(crate) const SERVICE: &str = "s3";
/// The credential scope's terminator.
pub(crate) const TERMINATOR: &str = "aws4_request";
/// The prefix of user metadata field names.
pub(crate) const META_PREFIX: &str = "x-amz-meta-";

/// The keys a policy is signed with.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Present for temporary (STS) credentials; S3 then requires it as a signed form field.
    pub session_token: Option<String>,
}

/// Keeps the secret and the token out of logs.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &self.session_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// What an upload may be: everything the policy pins down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRules {
    pub bucket: String,
    /// The exact object key.
    pub key: String,
    /// User metadata the form must send, names without the `x-amz-meta-` prefix, e.g.
    /// `("user-id", "u1")`. Names are lowercased, as S3 stores them; a repeated name keeps its
    /// last value.
    pub metadata: Vec<(String, String)>,
    /// Allowed file sizes in bytes, both ends inclusive, as S3's `content-length-range`.
    pub content_length: RangeInclusive<u64>,
    /// How long the form stays usable.
    pub expires_in: Duration,
    /// The bucket's region, part of the credential scope.
    pub region: String,
}

/// A form a browser can post to upload one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PresignedPost {
    /// The form's `action`.
    pub url: String,
    /// The fields to send, as named, before the `file` field (which must come last).
    pub fields: BTreeMap<String, String>,
}

/// Writes the policy for `rules`, signs it with `credentials` at `now`, and returns the form
/// fields that satisfy it exactly: `key`, the `x-amz-meta-*` fields, `policy`,
/// `x-amz-algorithm`, `x-amz-credential`, `x-amz-date`, `x-amz-signature` and, with a session
/// token, `x-amz-security-token`.
pub fn presign_post(url: &str, rules: &UploadRules, credentials: &Credentials, now: SystemTime) -> PresignedPost {
    let now = dates::clamp(now);
    let amz_date = dates::format_amz_date(now);
    let credential = format!(
        "{}/{}/{}/{SERVICE}/{TERMINATOR}",
        credentials.access_key_id,
        dates::format_date_stamp(now),
        rules.region
    );
    let metadata: BTreeMap<String, &str> = rules
        .metadata
        .iter()
        .map(|(name, value)| (format!("{META_PREFIX}{}", name.to_lowercase()), value.as_str()))
        .collect();

    let mut conditions = vec![json!({ "bucket": rules.bucket }), json!(["eq", "$key", rules.key])];
    conditions.extend(
        metadata
            .iter()
            .map(|(name, value)| json!(["eq", format!("${name}"), value])),
    );
    conditions.push(json!([
        "content-length-range",
        rules.content_length.start(),
        rules.content_length.end()
    ]));
    conditions.push(json!({ "x-amz-algorithm": ALGORITHM }));
    conditions.push(json!({ "x-amz-credential": credential }));
    conditions.push(json!({ "x-amz-date": amz_date }));
    if let Some(token) = &credentials.session_token {
        conditions.push(json!({ "x-amz-security-token": token }));
    }
    // Written by hand rather than as a JSON map so that `expiration` comes first, as in AWS's
    // examples; the values are serialized (and escaped) by serde_json.
    let expiration = dates::format_expiration(dates::add_clamped(now, rules.expires_in));
    let policy_json = format!(
        r#"{{"expiration":{},"conditions":{}}}"#,
        Value::from(expiration),
        Value::from(conditions)
    );
    let policy = STANDARD.encode(policy_json);
    let signature = sign_policy(&policy, &credentials.secret_access_key, now, &rules.region);

    let mut fields: BTreeMap<String, String> = metadata
        .into_iter()
        .map(|(name, value)| (name, value.to_owned()))
        .collect();
    fields.insert("key".to_owned(), rules.key.clone());
    fields.insert("policy".to_owned(), policy);
    fields.insert("x-amz-algorithm".to_owned(), ALGORITHM.to_owned());
    fields.insert("x-amz-credential".to_owned(), credential);
    fields.insert("x-amz-date".to_owned(), amz_date);
    fields.insert("x-amz-signature".to_owned(), signature);
    if let Some(token) = &credentials.session_token {
        fields.insert("x-amz-security-token".to_owned(), token.clone());
    }
    PresignedPost {
        url: url.to_owned(),
        fields,
    }
}

/// The SigV4 signature of a base64 policy: the signing key for (the UTC date of `time`,
/// `region`, "s3") applied as HMAC-SHA256 to the base64 text itself, hex-encoded.
pub fn sign_policy(policy_base64: &str, secret: &str, time: SystemTime, region: &str) -> String {
    let signing_key = generate_signing_key(secret, dates::clamp(time), region, SERVICE);
    calculate_signature(signing_key, policy_base64.as_bytes())
}
