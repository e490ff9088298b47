//! Enforcing a POST policy: the embedded upload endpoint's stand-in for S3's own checks.
//!
//! The endpoint must accept exactly the forms S3 accepts and refuse the others with S3's
//! answers, so browser code written against S3 works unchanged. The checks run in the order
//! S3's recorded answers imply: required fields, then the credential, then the signature
//! over the policy text as sent (so a tampered policy is `SignatureDoesNotMatch`, not
//! `InvalidPolicyDocument`), then the policy's own contents.

use std::collections::BTreeMap;
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::conditions::{Outcome, Policy};
use crate::dates;
use crate::error::PostError;
use crate::policy::{ALGORITHM, META_PREFIX, SERVICE, TERMINATOR, sign_policy};

/// An upload the policy allows. The caller stores the file under `key` and enforces
/// `content_length` while streaming it (see [`AcceptedPost::check_size`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedPost {
    /// The object key, as the form sent it.
    pub key: String,
    /// User metadata from the `x-amz-meta-*` fields: prefix stripped, names lowercased, as S3
    /// stores them.
    pub metadata: BTreeMap<String, String>,
    /// The `Content-Type` field, if the form had one.
    pub content_type: Option<String>,
    /// The policy's `content-length-range`, both ends inclusive; several ranges intersect.
    pub content_length: Option<(u64, u64)>,
    /// The access key the policy was signed with.
    pub access_key_id: String,
    /// The `x-amz-security-token` field, for a caller whose keys are temporary and must check
    /// the token too. The policy has already required it to be signed.
    pub security_token: Option<String>,
}

impl AcceptedPost {
    /// Checks the bytes received so far against the maximum, so a file that is too large is
    /// refused while it streams rather than after.
    pub fn check_partial_size(&self, received: u64) -> Result<(), PostError> {
        match self.content_length {
            Some((_, max)) if received > max => Err(PostError::EntityTooLarge {
                proposed_size: received,
                max_size_allowed: max,
            }),
            _ => Ok(()),
        }
    }

    /// Checks the complete file's size against the range, as S3 does.
    pub fn check_size(&self, size: u64) -> Result<(), PostError> {
        self.check_partial_size(size)?;
        match self.content_length {
            Some((min, _)) if size < min => Err(PostError::EntityTooSmall {
                proposed_size: size,
                min_size_allowed: min,
            }),
            _ => Ok(()),
        }
    }
}

/// Replaces every `${filename}` in a field value (normally `key`) with the name of the
/// uploaded file, as S3 does before it checks the policy; call it before [`verify_post`]. Only
/// the part after the last `/` or `\` of the browser-supplied name is used.
pub fn substitute_filename(value: &str, filename: &str) -> String {
    let base = filename.rsplit(['/', '\\']).next().unwrap_or(filename);
    value.replace("${filename}", base)
}

/// Checks a POST form the way S3 does and returns the upload it allows.
///
/// `fields` holds every field before the file (S3 ignores those after it), names compared
/// case-insensitively; `bucket` and `region` are the endpoint's; `lookup_secret` gives the
/// secret of an access key, or `None` for a key nobody issued; `now` decides expiry.
///
/// Refused, with S3's answer, are: a form without `key`; a form without SigV4 fields
/// (anonymous, and the bucket is not public) or with only some of them; a malformed date or
/// credential, or one scoped to another region or service; an unknown access key; a
/// signature that is not the policy's; a policy that is not base64 JSON with `expiration` and
/// `conditions`; an expired policy; a condition that does not hold; and a field no condition
/// covers, except `policy`, `x-amz-signature`, `file` and `x-ignore-*`.
pub fn verify_post(
    fields: &BTreeMap<String, String>,
    bucket: &str,
    region: &str,
    lookup_secret: impl Fn(&str) -> Option<String>,
    now: SystemTime,
) -> Result<AcceptedPost, PostError> {
    let form = Form::new(fields);
    let key = form.required("key", "key")?;

    let signing_fields = ["x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"];
    if signing_fields
        .iter()
        .all(|name| form.value(name).is_none_or(str::is_empty))
    {
        // A SigV2 form, which S3 no longer takes in newer regions.
        if form.value("awsaccesskeyid").is_some() || form.value("signature").is_some() {
            return Err(unsupported_mechanism());
        }
        // Anonymous: S3 would take it only for a publicly writable bucket.
        return Err(PostError::AccessDenied {
            message: "Access Denied".to_owned(),
        });
    }
    let algorithm = form.required("x-amz-algorithm", "X-Amz-Algorithm")?;
    let credential = form.required("x-amz-credential", "X-Amz-Credential")?;
    let amz_date = form.required("x-amz-date", "X-Amz-Date")?;
    let signature = form.required("x-amz-signature", "X-Amz-Signature")?;
    let policy_base64 = form.required("policy", "Policy")?;

    if algorithm != ALGORITHM {
        return Err(unsupported_mechanism());
    }
    if dates::parse_amz_date(amz_date).is_none() {
        return Err(PostError::InvalidArgument {
            // S3's spelling.
            message: "X-Amz-Date must be formated via ISO8601 Long format".to_owned(),
            argument_name: "X-Amz-Date".to_owned(),
            argument_value: amz_date.to_owned(),
            region: None,
        });
    }
    let scope = Scope::parse(credential, amz_date, region)?;
    let secret = lookup_secret(scope.access_key_id).ok_or_else(|| PostError::InvalidAccessKeyId {
        access_key_id: scope.access_key_id.to_owned(),
    })?;
    let expected = sign_policy(policy_base64, &secret, scope.date, region);
    if !constant_time_eq(expected.as_bytes(), signature.as_bytes()) {
        return Err(PostError::SignatureDoesNotMatch {
            access_key_id: scope.access_key_id.to_owned(),
            string_to_sign: policy_base64.to_owned(),
            signature_provided: signature.to_owned(),
        });
    }

    let json = STANDARD
        .decode(policy_base64)
        .map_err(|_| PostError::invalid_policy("invalid Base64 encoding."))?;
    let policy = Policy::parse(&json)?;
    // The policy is "not valid after" its expiration: the instant itself still is.
    if now > policy.expiration {
        return Err(PostError::according_to_policy("Policy expired."));
    }

    let mut covered = Vec::new();
    let mut content_length: Option<(u64, u64)> = None;
    for condition in &policy.conditions {
        match condition.check(|name| form.value(name), bucket) {
            Outcome::Covers(name) => covered.push(name),
            Outcome::Size(min, max) => {
                content_length = Some(content_length.map_or((min, max), |(lo, hi)| (lo.max(min), hi.min(max))));
            }
            Outcome::Fails => return Err(condition.failed()),
        }
    }
    let extra: Vec<&str> = form
        .fields
        .iter()
        .filter(|(name, _)| !is_exempt(name) && !covered.contains(&name.as_str()))
        .map(|(_, field)| field.name)
        .collect();
    if !extra.is_empty() {
        return Err(PostError::according_to_policy(format_args!(
            "Extra input fields: {}",
            extra.join(", ")
        )));
    }

    Ok(AcceptedPost {
        key: key.to_owned(),
        metadata: form
            .fields
            .iter()
            .filter_map(|(name, field)| Some((name.strip_prefix(META_PREFIX)?, field)))
            .filter(|(name, _)| !name.is_empty())
            .map(|(name, field)| (name.to_owned(), field.value.clone()))
            .collect(),
        content_type: form.value("content-type").map(str::to_owned),
        content_length,
        access_key_id: scope.access_key_id.to_owned(),
        security_token: form.value("x-amz-security-token").map(str::to_owned),
    })
}

/// The form fields, by lowercase name.
struct Form<'a> {
    fields: BTreeMap<String, Field<'a>>,
}

struct Field<'a> {
    /// The name as sent, for messages.
    name: &'a str,
    value: String,
}

impl<'a> Form<'a> {
    /// Names that differ only in case are one field; S3 joins repeated fields' values with
    /// commas (in the map's order here, as the form's order is gone).
    fn new(fields: &'a BTreeMap<String, String>) -> Self {
        let mut form: BTreeMap<String, Field<'a>> = BTreeMap::new();
        for (name, value) in fields {
            form.entry(name.to_lowercase())
                .and_modify(|field| {
                    field.value.push(',');
                    field.value.push_str(value);
                })
                .or_insert_with(|| Field {
                    name,
                    value: value.clone(),
                });
        }
        Form { fields: form }
    }

    fn value(&self, lowercase_name: &str) -> Option<&str> {
        self.fields.get(lowercase_name).map(|field| field.value.as_str())
    }

    /// A field S3 requires; absent and empty are both missing. `s3_name` is how S3 names it.
    fn required(&self, lowercase_name: &str, s3_name: &str) -> Result<&str, PostError> {
        self.value(lowercase_name)
            .filter(|value| !value.is_empty())
            .ok_or_else(|| PostError::missing_field(s3_name))
    }
}

/// Fields S3 does not require a condition for.
fn is_exempt(lowercase_name: &str) -> bool {
    matches!(lowercase_name, "policy" | "x-amz-signature" | "file") || lowercase_name.starts_with("x-ignore-")
}

/// `x-amz-credential`: `<access key>/<yyyymmdd>/<region>/s3/aws4_request`.
struct Scope<'a> {
    access_key_id: &'a str,
    /// Midnight UTC of the scope's day, which the signing key is derived from.
    date: SystemTime,
}

impl<'a> Scope<'a> {
    /// Parses the credential and checks it against `x-amz-date` (already validated) and the
    /// endpoint's region, with the messages S3 gives presigned URLs, minus their "Error
    /// parsing the X-Amz-Credential parameter; " prefix, as its POST answers drop it.
    fn parse(credential: &'a str, amz_date: &str, region: &str) -> Result<Self, PostError> {
        let invalid = |message: String, region: Option<&str>| PostError::InvalidArgument {
            message,
            argument_name: "X-Amz-Credential".to_owned(),
            argument_value: credential.to_owned(),
            region: region.map(str::to_owned),
        };
        let parts: Vec<&str> = credential.split('/').collect();
        let [access_key_id, day, scope_region, service, terminator] = parts.as_slice() else {
            return Err(invalid(
                r#"the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request"."#
                    .to_owned(),
                None,
            ));
        };
        if access_key_id.is_empty() {
            return Err(invalid(
                "a non-empty Access Key (AKID) must be provided in the credential.".to_owned(),
                None,
            ));
        }
        let Some(date) = dates::parse_date_stamp(day) else {
            return Err(invalid(
                format!(
                    r#"incorrect date format "{day}". This date in the credential must be in the format "yyyyMMdd"."#
                ),
                None,
            ));
        };
        let amz_day = amz_date.get(..8).unwrap_or(amz_date);
        if *day != amz_day {
            return Err(invalid(
                format!(r#"Invalid credential date "{day}". This date is not the same as X-Amz-Date: "{amz_day}"."#),
                None,
            ));
        }
        if *scope_region != region {
            return Err(invalid(
                format!("the region '{scope_region}' is wrong; expecting '{region}'"),
                Some(region),
            ));
        }
        if *service != SERVICE {
            return Err(invalid(
                format!(r#"incorrect service "{service}". This endpoint belongs to "{SERVICE}"."#),
                None,
            ));
        }
        if *terminator != TERMINATOR {
            return Err(invalid(
                format!(r#"incorrect terminal "{terminator}". This endpoint uses "{TERMINATOR}"."#),
                None,
            ));
        }
        Ok(Scope { access_key_id, date })
    }
}

fn unsupported_mechanism() -> PostError {
    PostError::InvalidRequest {
        message: "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."
            .to_owned(),
    }
}

/// Compares without an early exit, so the time taken does not reveal how much of a guessed
/// signature was right. (The length is public: a SigV4 signature is always 64 hex digits.)
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |difference, (x, y)| difference | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_compares_everything() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn filename_substitution_keeps_only_the_base_name() {
        assert_eq!(
            substitute_filename("user/user1/${filename}", "MyPhoto.jpg"),
            "user/user1/MyPhoto.jpg"
        );
        assert_eq!(
            substitute_filename("${filename}", r"C:\Program Files\directory1\file.txt"),
            "file.txt"
        );
        assert_eq!(substitute_filename("a/${filename}/${filename}", "dir/b"), "a/b/b");
        assert_eq!(substitute_filename("fixed", "x"), "fixed");
        assert_eq!(substitute_filename("k-${filename}", ""), "k-");
    }

    #[test]
    fn case_variants_of_a_name_are_one_field() {
        let fields: BTreeMap<String, String> = [("X-Amz-Meta-Tag", "a"), ("x-amz-meta-tag", "b")]
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .into();
        let form = Form::new(&fields);
        assert_eq!(form.value("x-amz-meta-tag"), Some("a,b"));
        assert_eq!(form.fields.len(), 1);
    }

    #[test]
    fn size_checks_are_inclusive() {
        let accepted = AcceptedPost {
            key: "k".into(),
            metadata: BTreeMap::new(),
            content_type: None,
            content_length: Some((5, 10)),
            access_key_id: "AKID".into(),
            security_token: None,
        };
        assert_eq!(accepted.check_size(5), Ok(()));
        assert_eq!(accepted.check_size(10), Ok(()));
        assert_eq!(accepted.check_partial_size(1), Ok(()));
        assert_eq!(
            accepted.check_size(11),
            Err(PostError::EntityTooLarge {
                proposed_size: 11,
                max_size_allowed: 10
            })
        );
        assert_eq!(
            accepted.check_partial_size(11),
            Err(PostError::EntityTooLarge {
                proposed_size: 11,
                max_size_allowed: 10
            })
        );
        assert_eq!(
            accepted.check_size(4),
            Err(PostError::EntityTooSmall {
                proposed_size: 4,
                min_size_allowed: 5
            })
        );
        let unbounded = AcceptedPost {
            content_length: None,
            ..accepted
        };
        assert_eq!(unbounded.check_size(u64::MAX), Ok(()));
    }
}
