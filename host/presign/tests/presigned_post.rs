//! presign_post's forms, checked by verify_post: accepted as issued, refused as S3 refuses
//! them once anything is changed.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use vodpipe_presign::dates::parse_amz_date;
use vodpipe_presign::{
    AcceptedPost, Credentials, PostError, PresignedPost, UploadRules, presign_post, sign_policy, verify_post,
};

const ACCESS_KEY_ID: &str = "AKIDVODPIPE0001";
const SECRET: &str = "vodpipe/secret+key";
const BUCKET: &str = "vodpipe-uploads";
const REGION: &str = "eu-west-3";
const KEY: &str = "uploads/u1/01JABCDEF.mp4";
const URL: &str = "https://vodpipe-uploads.s3.eu-west-3.amazonaws.com/";

fn issued_at() -> SystemTime {
    parse_amz_date("20260301T100000Z").expect("valid")
}

fn rules() -> UploadRules {
    UploadRules {
        bucket: BUCKET.to_owned(),
        key: KEY.to_owned(),
        metadata: vec![("user-id".to_owned(), "u1".to_owned())],
        content_length: 1..=5_000_000_000,
        expires_in: Duration::from_secs(15 * 60),
        region: REGION.to_owned(),
    }
}

fn credentials(session_token: Option<&str>) -> Credentials {
    Credentials {
        access_key_id: ACCESS_KEY_ID.to_owned(),
        secret_access_key: SECRET.to_owned(),
        session_token: session_token.map(str::to_owned),
    }
}

fn presigned(session_token: Option<&str>) -> PresignedPost {
    presign_post(URL, &rules(), &credentials(session_token), issued_at())
}

fn lookup(access_key_id: &str) -> Option<String> {
    (access_key_id == ACCESS_KEY_ID).then(|| SECRET.to_owned())
}

fn verify_at(fields: &BTreeMap<String, String>, now: SystemTime) -> Result<AcceptedPost, PostError> {
    verify_post(fields, BUCKET, REGION, lookup, now)
}

fn verify(fields: &BTreeMap<String, String>) -> Result<AcceptedPost, PostError> {
    verify_at(fields, issued_at() + Duration::from_secs(60))
}

/// verify_post's answer to the issued form after `change`.
fn refusal(change: impl FnOnce(&mut BTreeMap<String, String>)) -> PostError {
    let mut fields = presigned(None).fields;
    change(&mut fields);
    verify(&fields).expect_err("refused")
}

fn set(fields: &mut BTreeMap<String, String>, name: &str, value: &str) {
    fields.insert(name.to_owned(), value.to_owned());
}

fn access_denied(message: &str) -> PostError {
    PostError::AccessDenied {
        message: message.to_owned(),
    }
}

fn decoded_policy(fields: &BTreeMap<String, String>) -> Value {
    let json = STANDARD.decode(&fields["policy"]).expect("base64");
    serde_json::from_slice(&json).expect("JSON")
}

#[test]
fn issues_the_fields_and_policy_s3_expects() {
    let post = presigned(None);
    assert_eq!(post.url, URL);
    let names: Vec<&str> = post.fields.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "key",
            "policy",
            "x-amz-algorithm",
            "x-amz-credential",
            "x-amz-date",
            "x-amz-meta-user-id",
            "x-amz-signature"
        ]
    );
    assert_eq!(post.fields["key"], KEY);
    assert_eq!(post.fields["x-amz-meta-user-id"], "u1");
    assert_eq!(post.fields["x-amz-algorithm"], "AWS4-HMAC-SHA256");
    assert_eq!(
        post.fields["x-amz-credential"],
        "AKIDVODPIPE0001/20260301/eu-west-3/s3/aws4_request"
    );
    assert_eq!(post.fields["x-amz-date"], "20260301T100000Z");
    assert_eq!(
        post.fields["x-amz-signature"],
        sign_policy(&post.fields["policy"], SECRET, issued_at(), REGION)
    );
    assert_eq!(
        decoded_policy(&post.fields),
        json!({
            "expiration": "2026-03-01T10:15:00.000Z",
            "conditions": [
                {"bucket": BUCKET},
                ["eq", "$key", KEY],
                ["eq", "$x-amz-meta-user-id", "u1"],
                ["content-length-range", 1, 5_000_000_000u64],
                {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
                {"x-amz-credential": "AKIDVODPIPE0001/20260301/eu-west-3/s3/aws4_request"},
                {"x-amz-date": "20260301T100000Z"},
            ],
        })
    );
    // `expiration` leads, as in AWS's examples.
    let json = String::from_utf8(STANDARD.decode(&post.fields["policy"]).expect("base64")).expect("UTF-8");
    assert!(
        json.starts_with(r#"{"expiration":"2026-03-01T10:15:00.000Z","conditions":["#),
        "{json}"
    );
}

#[test]
fn a_presigned_form_round_trips() {
    let accepted = verify(&presigned(None).fields).expect("accepted");
    assert_eq!(
        accepted,
        AcceptedPost {
            key: KEY.to_owned(),
            metadata: BTreeMap::from([("user-id".to_owned(), "u1".to_owned())]),
            content_type: None,
            content_length: Some((1, 5_000_000_000)),
            access_key_id: ACCESS_KEY_ID.to_owned(),
            security_token: None,
        }
    );
    assert_eq!(accepted.check_size(5_000_000_000), Ok(()));
    assert_eq!(
        accepted.check_partial_size(5_000_000_001),
        Err(PostError::EntityTooLarge {
            proposed_size: 5_000_000_001,
            max_size_allowed: 5_000_000_000
        })
    );
    assert_eq!(
        accepted.check_size(0),
        Err(PostError::EntityTooSmall {
            proposed_size: 0,
            min_size_allowed: 1
        })
    );
}

#[test]
fn field_names_are_case_insensitive() {
    let fields: BTreeMap<String, String> = presigned(None)
        .fields
        .into_iter()
        .map(|(name, value)| (name.to_uppercase(), value))
        .collect();
    let accepted = verify(&fields).expect("accepted");
    assert_eq!(accepted.key, KEY);
    assert_eq!(accepted.metadata["user-id"], "u1");
}

#[test]
fn valid_until_its_expiration_and_not_after() {
    let fields = presigned(None).fields;
    assert!(verify_at(&fields, issued_at()).is_ok());
    assert!(verify_at(&fields, issued_at() + Duration::from_secs(15 * 60)).is_ok());
    assert_eq!(
        verify_at(&fields, issued_at() + Duration::from_secs(15 * 60 + 1)),
        Err(access_denied("Invalid according to Policy: Policy expired."))
    );
}

#[test]
fn a_tampered_signature_does_not_match() {
    let post = presigned(None);
    let mut tampered = post.fields["x-amz-signature"].clone();
    let last = if tampered.ends_with('0') { "1" } else { "0" };
    tampered.replace_range(63.., last);
    let error = refusal(|fields| set(fields, "x-amz-signature", &tampered));
    assert_eq!(
        error,
        PostError::SignatureDoesNotMatch {
            access_key_id: ACCESS_KEY_ID.to_owned(),
            string_to_sign: post.fields["policy"].clone(),
            signature_provided: tampered,
        }
    );
    assert_eq!((error.code(), error.status()), ("SignatureDoesNotMatch", 403));
    // Uppercase hex is another string.
    let uppercase = post.fields["x-amz-signature"].to_uppercase();
    assert_eq!(
        refusal(|fields| set(fields, "x-amz-signature", &uppercase)).code(),
        "SignatureDoesNotMatch"
    );
}

#[test]
fn a_tampered_key_or_metadata_fails_its_condition() {
    let error = refusal(|fields| set(fields, "key", "uploads/u2/01JABCDEF.mp4"));
    assert_eq!(
        error,
        access_denied(
            r#"Invalid according to Policy: Policy Condition failed: ["eq", "$key", "uploads/u1/01JABCDEF.mp4"]"#
        )
    );
    assert_eq!(error.status(), 403);
    assert_eq!(
        refusal(|fields| set(fields, "x-amz-meta-user-id", "u2")),
        access_denied(r#"Invalid according to Policy: Policy Condition failed: ["eq", "$x-amz-meta-user-id", "u1"]"#)
    );
    assert_eq!(
        refusal(|fields| {
            fields.remove("x-amz-meta-user-id");
        }),
        access_denied(r#"Invalid according to Policy: Policy Condition failed: ["eq", "$x-amz-meta-user-id", "u1"]"#)
    );
}

#[test]
fn a_tampered_policy_does_not_match_its_signature() {
    let fields = presigned(None).fields;
    let mut policy = decoded_policy(&fields);
    policy["conditions"][1] = json!(["starts-with", "$key", "uploads/"]);
    let tampered = STANDARD.encode(policy.to_string());
    let error = refusal(|fields| set(fields, "policy", &tampered));
    assert_eq!(error.code(), "SignatureDoesNotMatch");
    // A truncated policy is a signature mismatch too: the signature is checked first.
    let truncated = &fields["policy"][..fields["policy"].len() - 2];
    assert_eq!(
        refusal(|fields| set(fields, "policy", truncated)).code(),
        "SignatureDoesNotMatch"
    );
}

#[test]
fn an_unsigned_field_is_an_extra_input_field() {
    assert_eq!(
        refusal(|fields| set(fields, "acl", "public-read")),
        access_denied("Invalid according to Policy: Extra input fields: acl")
    );
    assert_eq!(
        refusal(|fields| {
            set(fields, "Content-Type", "video/mp4");
            set(fields, "x-amz-meta-extra", "1");
        }),
        access_denied("Invalid according to Policy: Extra input fields: Content-Type, x-amz-meta-extra")
    );
    // Exempt fields, and a bucket field (as aws-sdk-js sends), which the bucket condition covers.
    let mut fields = presigned(None).fields;
    set(&mut fields, "bucket", BUCKET);
    set(&mut fields, "x-ignore-tracking", "anything");
    set(&mut fields, "file", "ignored");
    assert!(verify(&fields).is_ok());
}

#[test]
fn a_missing_field_is_named() {
    for (name, s3_name) in [
        ("key", "key"),
        ("x-amz-algorithm", "X-Amz-Algorithm"),
        ("x-amz-credential", "X-Amz-Credential"),
        ("x-amz-date", "X-Amz-Date"),
        ("x-amz-signature", "X-Amz-Signature"),
        ("policy", "Policy"),
    ] {
        let expected = PostError::InvalidArgument {
            message: format!(
                "Bucket POST must contain a field named '{s3_name}'.  If it is specified, please check the order of the \
                 fields."
            ),
            argument_name: s3_name.to_owned(),
            argument_value: String::new(),
            region: None,
        };
        assert_eq!(
            refusal(|fields| {
                fields.remove(name);
            }),
            expected
        );
        // Empty is missing.
        assert_eq!(refusal(|fields| set(fields, name, "")), expected);
        assert_eq!(expected.status(), 400);
    }
    // Algorithm is named before credential.
    let error = refusal(|fields| {
        fields.remove("x-amz-algorithm");
        fields.remove("x-amz-credential");
    });
    assert!(matches!(error, PostError::InvalidArgument { argument_name, .. } if argument_name == "X-Amz-Algorithm"));
}

#[test]
fn without_signing_fields_the_form_is_anonymous() {
    let anonymous = refusal(|fields| fields.retain(|name, _| name == "key" || name == "policy"));
    assert_eq!(anonymous, access_denied("Access Denied"));
    let emptied = refusal(|fields| {
        for name in ["x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"] {
            set(fields, name, "");
        }
    });
    assert_eq!(emptied, access_denied("Access Denied"));
    let sigv2 = refusal(|fields| {
        fields.retain(|name, _| name == "key" || name == "policy");
        set(fields, "AWSAccessKeyId", ACCESS_KEY_ID);
        set(fields, "signature", "c2lnbmF0dXJl");
    });
    assert_eq!(
        sigv2,
        PostError::InvalidRequest {
            message: "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."
                .to_owned()
        }
    );
    assert_eq!(
        refusal(|fields| set(fields, "x-amz-algorithm", "AWS4-HMAC-SHA512")),
        sigv2
    );
}

#[test]
fn an_unknown_access_key_is_refused() {
    let post = presign_post(
        URL,
        &rules(),
        &Credentials {
            access_key_id: "AKIDUNKNOWN".to_owned(),
            secret_access_key: SECRET.to_owned(),
            session_token: None,
        },
        issued_at(),
    );
    let error = verify(&post.fields).expect_err("refused");
    assert_eq!(
        error,
        PostError::InvalidAccessKeyId {
            access_key_id: "AKIDUNKNOWN".to_owned()
        }
    );
    assert_eq!((error.code(), error.status()), ("InvalidAccessKeyId", 403));
}

#[test]
fn malformed_signing_fields_are_invalid_arguments() {
    let credential_error = |credential: &str| {
        let error = refusal(|fields| set(fields, "x-amz-credential", credential));
        match error {
            PostError::InvalidArgument {
                message,
                argument_name,
                argument_value,
                region,
            } => {
                assert_eq!(
                    (argument_name.as_str(), argument_value.as_str()),
                    ("X-Amz-Credential", credential)
                );
                (message, region)
            }
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(
        credential_error("AKIDVODPIPE0001/20260301/eu-west-3/s3").0,
        r#"the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request"."#
    );
    assert_eq!(
        credential_error("/20260301/eu-west-3/s3/aws4_request").0,
        "a non-empty Access Key (AKID) must be provided in the credential."
    );
    assert_eq!(
        credential_error("AKIDVODPIPE0001/2026-03-01/eu-west-3/s3/aws4_request").0,
        r#"incorrect date format "2026-03-01". This date in the credential must be in the format "yyyyMMdd"."#
    );
    assert_eq!(
        credential_error("AKIDVODPIPE0001/20260302/eu-west-3/s3/aws4_request").0,
        r#"Invalid credential date "20260302". This date is not the same as X-Amz-Date: "20260301"."#
    );
    assert_eq!(
        credential_error("AKIDVODPIPE0001/20260301/us-east-1/s3/aws4_request"),
        (
            "the region 'us-east-1' is wrong; expecting 'eu-west-3'".to_owned(),
            Some(REGION.to_owned())
        )
    );
    assert_eq!(
        credential_error("AKIDVODPIPE0001/20260301/eu-west-3/ec2/aws4_request").0,
        r#"incorrect service "ec2". This endpoint belongs to "s3"."#
    );
    assert_eq!(
        credential_error("AKIDVODPIPE0001/20260301/eu-west-3/s3/aws4_reques").0,
        r#"incorrect terminal "aws4_reques". This endpoint uses "aws4_request"."#
    );
    assert_eq!(
        refusal(|fields| set(fields, "x-amz-date", "2026-03-01T10:00:00Z")),
        PostError::InvalidArgument {
            message: "X-Amz-Date must be formated via ISO8601 Long format".to_owned(),
            argument_name: "X-Amz-Date".to_owned(),
            argument_value: "2026-03-01T10:00:00Z".to_owned(),
            region: None,
        }
    );
}

/// A form for `policy_text`, signed properly, so only the policy's contents are at fault.
fn signed_form(policy_base64: &str) -> BTreeMap<String, String> {
    let mut fields = presigned(None).fields;
    set(&mut fields, "policy", policy_base64);
    set(
        &mut fields,
        "x-amz-signature",
        &sign_policy(policy_base64, SECRET, issued_at(), REGION),
    );
    fields
}

#[test]
fn a_signed_policy_that_is_not_base64_json_is_an_invalid_policy_document() {
    let invalid = |policy_base64: &str, message: &str| {
        let error = verify(&signed_form(policy_base64)).expect_err("refused");
        assert_eq!(
            error,
            PostError::InvalidPolicyDocument {
                message: message.to_owned()
            }
        );
        assert_eq!(error.status(), 400);
    };
    invalid("not base64!", "Invalid Policy: invalid Base64 encoding.");
    invalid(&STANDARD.encode("not json"), "Invalid Policy: Invalid JSON.");
    invalid(
        &STANDARD.encode([0xff, 0xfe, b'{', b'}']),
        "Invalid Policy: Invalid JSON.",
    );
    invalid(
        &STANDARD.encode(r#"{"conditions": []}"#),
        "Invalid Policy: Policy missing expiration.",
    );
    invalid(
        &STANDARD.encode(r#"{"expiration": "2026-03-01T10:15:00.000Z"}"#),
        "Invalid Policy: Policy missing conditions.",
    );
    // Garbage that is not signed is a signature mismatch.
    let mut unsigned = presigned(None).fields;
    set(&mut unsigned, "policy", "not base64!");
    assert_eq!(verify(&unsigned).expect_err("refused").code(), "SignatureDoesNotMatch");
}

#[test]
fn conditions_are_checked_before_extra_fields() {
    let policy = json!({
        "expiration": "2026-03-01T10:15:00.000Z",
        "conditions": [
            {"bucket": BUCKET},
            ["starts-with", "$key", "uploads/u1/"],
            ["starts-with", "$Content-Type", "video/"],
            ["content-length-range", 1, 100],
            ["content-length-range", "10", "1000"],
            {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
            {"x-amz-credential": "AKIDVODPIPE0001/20260301/eu-west-3/s3/aws4_request"},
            {"x-amz-date": "20260301T100000Z"},
        ],
    });
    let mut fields = signed_form(&STANDARD.encode(policy.to_string()));
    fields.remove("x-amz-meta-user-id");
    set(&mut fields, "Content-Type", "video/mp4,video/webm");
    let accepted = verify(&fields).expect("accepted");
    assert_eq!(accepted.content_type.as_deref(), Some("video/mp4,video/webm"));
    assert_eq!(accepted.content_length, Some((10, 100)), "ranges intersect");
    assert_eq!(accepted.metadata, BTreeMap::new());

    set(&mut fields, "x-amz-meta-user-id", "u1");
    set(&mut fields, "Content-Type", "video/mp4,text/html");
    assert_eq!(
        verify(&fields),
        Err(access_denied(
            r#"Invalid according to Policy: Policy Condition failed: ["starts-with", "$Content-Type", "video/"]"#
        ))
    );
}

#[test]
fn a_bucket_field_without_a_bucket_condition_is_extra() {
    let policy = json!({
        "expiration": "2026-03-01T10:15:00.000Z",
        "conditions": [
            ["eq", "$key", KEY],
            ["eq", "$x-amz-meta-user-id", "u1"],
            {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
            {"x-amz-credential": "AKIDVODPIPE0001/20260301/eu-west-3/s3/aws4_request"},
            {"x-amz-date": "20260301T100000Z"},
        ],
    });
    let mut fields = signed_form(&STANDARD.encode(policy.to_string()));
    assert!(
        verify(&fields).is_ok(),
        "no bucket condition is needed without a bucket field"
    );
    set(&mut fields, "bucket", BUCKET);
    assert_eq!(
        verify(&fields),
        Err(access_denied("Invalid according to Policy: Extra input fields: bucket"))
    );
}

#[test]
fn a_session_token_is_signed_and_required() {
    let post = presigned(Some("FwoGZXIvYXdzEXAMPLETOKEN=="));
    assert_eq!(post.fields["x-amz-security-token"], "FwoGZXIvYXdzEXAMPLETOKEN==");
    let conditions = decoded_policy(&post.fields)["conditions"].clone();
    assert!(
        conditions
            .as_array()
            .expect("list")
            .contains(&json!({"x-amz-security-token": "FwoGZXIvYXdzEXAMPLETOKEN=="})),
        "{conditions}"
    );
    let accepted = verify(&post.fields).expect("accepted");
    assert_eq!(accepted.security_token.as_deref(), Some("FwoGZXIvYXdzEXAMPLETOKEN=="));

    let token_condition_failed = access_denied(
        r#"Invalid according to Policy: Policy Condition failed: ["eq", "$x-amz-security-token", "FwoGZXIvYXdzEXAMPLETOKEN=="]"#,
    );
    let mut without = post.fields.clone();
    without.remove("x-amz-security-token");
    assert_eq!(verify(&without), Err(token_condition_failed.clone()));
    let mut other = post.fields.clone();
    set(&mut other, "x-amz-security-token", "another-token");
    assert_eq!(verify(&other), Err(token_condition_failed));

    // A token the policy does not sign is an extra input field.
    assert_eq!(
        refusal(|fields| set(fields, "x-amz-security-token", "FwoGZXIvYXdzEXAMPLETOKEN==")),
        access_denied("Invalid according to Policy: Extra input fields: x-amz-security-token")
    );
}

#[test]
fn presigning_never_panics_on_extreme_inputs() {
    let mut rules = rules();
    rules.expires_in = Duration::MAX;
    rules.content_length = std::ops::RangeInclusive::new(10, 1);
    rules.key = "quote\" backslash\\ <tag> ünïcödé \u{0}".to_owned();
    let post = presign_post(
        URL,
        &rules,
        &credentials(None),
        SystemTime::UNIX_EPOCH + Duration::from_secs(u64::MAX / 4),
    );
    assert_eq!(post.fields["x-amz-date"], "99991231T235959Z");
    let policy = decoded_policy(&post.fields);
    assert_eq!(policy["expiration"], "9999-12-31T23:59:59.000Z");
    assert_eq!(policy["conditions"][1], json!(["eq", "$key", rules.key]));
}

#[test]
fn verification_never_panics_on_odd_values() {
    let odd = [
        "",
        " ",
        "/",
        "////",
        "\u{0}",
        "ü",
        "20260301T100000Z",
        "2026030",
        "AKIDVODPIPE0001/ü/eu-west-3/s3/aws4_request",
        "ü/20260301/eu-west-3/s3/aws4_request",
        "=",
        "e30=",
        "W10=",
        "bnVsbA==",
        "eyJleHBpcmF0aW9uIjpudWxsLCJjb25kaXRpb25zIjpudWxsfQ==",
        "%%%%",
    ];
    let post = presigned(Some("token"));
    for name in post.fields.keys() {
        for value in odd {
            let mut fields = post.fields.clone();
            set(&mut fields, name, value);
            if post.fields[name] != value {
                assert!(verify(&fields).is_err(), "{name}={value:?}");
            }
            let mut signed = fields.clone();
            set(
                &mut signed,
                "x-amz-signature",
                &sign_policy(&fields["policy"], SECRET, issued_at(), REGION),
            );
            let _ = verify(&signed);
        }
    }
}
