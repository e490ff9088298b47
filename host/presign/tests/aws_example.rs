//! AWS's published SigV4 POST example ("Example: Browser-Based Upload using HTTP POST (Using
//! AWS Signature Version 4)", S3 API reference, sigv4-post-example) as a test vector.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use vodpipe_presign::dates::{parse_amz_date, parse_expiration};
use vodpipe_presign::{PostError, sign_policy, substitute_filename, verify_post};

const ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const BUCKET: &str = "sigv4examplebucket";
const REGION: &str = "us-east-1";
/// The page's base64 policy, the string to sign.
const POLICY: &str = "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";
/// The page's signature of that policy.
const SIGNATURE: &str = "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e";

fn time(amz_date: &str) -> SystemTime {
    parse_amz_date(amz_date).expect("valid x-amz-date")
}

/// The example form's fields before the file, named and spelled as the page's form has them.
fn example_form(key: &str) -> BTreeMap<String, String> {
    [
        ("key", key),
        ("acl", "public-read"),
        (
            "success_action_redirect",
            "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html",
        ),
        ("Content-Type", "image/jpeg"),
        ("x-amz-meta-uuid", "14365123651274"),
        ("x-amz-server-side-encryption", "AES256"),
        (
            "X-Amz-Credential",
            "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request",
        ),
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
        ("X-Amz-Date", "20151229T000000Z"),
        ("x-amz-meta-tag", ""),
        ("Policy", POLICY),
        ("X-Amz-Signature", SIGNATURE),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect()
}

fn lookup(access_key_id: &str) -> Option<String> {
    (access_key_id == ACCESS_KEY_ID).then(|| SECRET.to_owned())
}

#[test]
fn the_published_policy_is_the_published_json() {
    // The page shows the policy with CRLF line ends; its base64 encodes exactly these bytes.
    let json = "{ \"expiration\": \"2015-12-30T12:00:00.000Z\",\r\n  \"conditions\": [\r\n    {\"bucket\": \
                \"sigv4examplebucket\"},\r\n    [\"starts-with\", \"$key\", \"user/user1/\"],\r\n    {\"acl\": \
                \"public-read\"},\r\n    {\"success_action_redirect\": \
                \"http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html\"},\r\n    [\"starts-with\", \
                \"$Content-Type\", \"image/\"],\r\n    {\"x-amz-meta-uuid\": \"14365123651274\"},\r\n    \
                {\"x-amz-server-side-encryption\": \"AES256\"},\r\n    [\"starts-with\", \"$x-amz-meta-tag\", \
                \"\"],\r\n\r\n    {\"x-amz-credential\": \
                \"AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request\"},\r\n    {\"x-amz-algorithm\": \
                \"AWS4-HMAC-SHA256\"},\r\n    {\"x-amz-date\": \"20151229T000000Z\" }\r\n  ]\r\n}";
    assert_eq!(STANDARD.encode(json), POLICY);
}

#[test]
fn signs_the_published_policy_to_the_published_signature() {
    assert_eq!(sign_policy(POLICY, SECRET, time("20151229T000000Z"), REGION), SIGNATURE);
    // Only the date of the signing time matters.
    assert_eq!(sign_policy(POLICY, SECRET, time("20151229T235959Z"), REGION), SIGNATURE);
    assert_ne!(sign_policy(POLICY, SECRET, time("20151230T000000Z"), REGION), SIGNATURE);
    assert_ne!(
        sign_policy(POLICY, SECRET, time("20151229T000000Z"), "us-west-2"),
        SIGNATURE
    );
}

#[test]
fn accepts_the_example_form_before_it_expires() {
    let key = substitute_filename("user/user1/${filename}", "MyPhoto.jpg");
    for now in ["20151229T000000Z", "20151230T115959Z", "20151230T120000Z"] {
        let accepted = verify_post(&example_form(&key), BUCKET, REGION, lookup, time(now))
            .unwrap_or_else(|error| panic!("refused at {now}: {error:?}"));
        assert_eq!(accepted.key, "user/user1/MyPhoto.jpg");
        assert_eq!(
            accepted.metadata,
            BTreeMap::from([
                ("tag".to_owned(), String::new()),
                ("uuid".to_owned(), "14365123651274".to_owned())
            ])
        );
        assert_eq!(accepted.content_type.as_deref(), Some("image/jpeg"));
        assert_eq!(accepted.content_length, None);
        assert_eq!(accepted.access_key_id, ACCESS_KEY_ID);
        assert_eq!(accepted.security_token, None);
    }
    // The literal `${filename}` also starts with the prefix.
    assert!(
        verify_post(
            &example_form("user/user1/${filename}"),
            BUCKET,
            REGION,
            lookup,
            time("20151229T120000Z")
        )
        .is_ok()
    );
}

#[test]
fn refuses_the_example_form_after_it_expires() {
    let expired = |now: SystemTime| {
        let error = verify_post(&example_form("user/user1/a.jpg"), BUCKET, REGION, lookup, now).expect_err("expired");
        assert_eq!(
            error,
            PostError::AccessDenied {
                message: "Invalid according to Policy: Policy expired.".to_owned()
            }
        );
        assert_eq!((error.code(), error.status()), ("AccessDenied", 403));
    };
    let expiration = parse_expiration("2015-12-30T12:00:00.000Z").expect("valid");
    expired(expiration + Duration::from_millis(1));
    expired(time("20151230T120001Z"));
    expired(time("20250101T000000Z"));
}

#[test]
fn refuses_what_the_example_policy_does_not_allow() {
    let now = time("20151229T120000Z");
    let refuse = |change: &dyn Fn(&mut BTreeMap<String, String>)| {
        let mut form = example_form("user/user1/a.jpg");
        change(&mut form);
        verify_post(&form, BUCKET, REGION, lookup, now)
            .expect_err("refused")
            .message()
    };
    assert_eq!(
        refuse(&|form| {
            form.insert("key".into(), "user/user2/a.jpg".into());
        }),
        r#"Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "user/user1/"]"#
    );
    assert_eq!(
        refuse(&|form| {
            form.insert("Content-Type".into(), "image/jpeg,text/html".into());
        }),
        r#"Invalid according to Policy: Policy Condition failed: ["starts-with", "$Content-Type", "image/"]"#
    );
    assert_eq!(
        refuse(&|form| {
            form.remove("x-amz-meta-tag");
        }),
        r#"Invalid according to Policy: Policy Condition failed: ["starts-with", "$x-amz-meta-tag", ""]"#
    );
    assert_eq!(
        refuse(&|form| {
            form.insert("acl".into(), "public-read-write".into());
        }),
        r#"Invalid according to Policy: Policy Condition failed: ["eq", "$acl", "public-read"]"#
    );
    // The submit button comes after the file, so a form that sent it before would be refused,
    // unless it is named x-ignore-*.
    assert_eq!(
        refuse(&|form| {
            form.insert("submit".into(), "Upload to Amazon S3".into());
        }),
        "Invalid according to Policy: Extra input fields: submit"
    );
    let mut ignored = example_form("user/user1/a.jpg");
    ignored.insert("x-ignore-submit".into(), "Upload to Amazon S3".into());
    assert!(verify_post(&ignored, BUCKET, REGION, lookup, now).is_ok());
}

#[test]
fn the_example_is_valid_only_for_its_bucket_and_region() {
    let now = time("20151229T120000Z");
    let form = example_form("user/user1/a.jpg");
    assert_eq!(
        verify_post(&form, "otherbucket", REGION, lookup, now)
            .expect_err("wrong bucket")
            .message(),
        r#"Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "sigv4examplebucket"]"#
    );
    assert_eq!(
        verify_post(&form, BUCKET, "us-west-1", lookup, now).expect_err("wrong region"),
        PostError::InvalidArgument {
            message: "the region 'us-east-1' is wrong; expecting 'us-west-1'".to_owned(),
            argument_name: "X-Amz-Credential".to_owned(),
            argument_value: "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request".to_owned(),
            region: Some("us-west-1".to_owned()),
        }
    );
}
