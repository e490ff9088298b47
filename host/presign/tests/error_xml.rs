//! The error bodies, byte for byte, in S3's shape.

use std::collections::BTreeMap;

use vodpipe_presign::PostError;
use vodpipe_presign::verify_post;

const PROLOG: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

#[test]
fn access_denied_with_escaped_text_and_raw_quotes_as_s3() {
    let error = PostError::AccessDenied {
        message: r#"Invalid according to Policy: Policy Condition failed: ["eq", "$key", "a<b>&'c'"]"#.to_owned(),
    };
    assert_eq!(
        error.to_xml("4442587FB7D0A2F9"),
        format!(
            "{PROLOG}<Error><Code>AccessDenied</Code><Message>Invalid according to Policy: Policy Condition failed: \
             [\"eq\", \"$key\", \"a&lt;b&gt;&amp;'c'\"]</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>"
        )
    );
    assert_eq!(
        error.to_xml("<id>"),
        format!(
            "{PROLOG}<Error><Code>AccessDenied</Code><Message>Invalid according to Policy: Policy Condition failed: \
             [\"eq\", \"$key\", \"a&lt;b&gt;&amp;'c'\"]</Message><RequestId>&lt;id&gt;</RequestId></Error>"
        )
    );
}

#[test]
fn missing_key_names_the_argument() {
    let fields = BTreeMap::from([("x-amz-meta-a".to_owned(), "1".to_owned())]);
    let error =
        verify_post(&fields, "b", "us-east-1", |_| None, std::time::SystemTime::UNIX_EPOCH).expect_err("refused");
    assert_eq!((error.code(), error.status()), ("InvalidArgument", 400));
    assert_eq!(
        error.to_xml("R1"),
        format!(
            "{PROLOG}<Error><Code>InvalidArgument</Code><Message>Bucket POST must contain a field named 'key'.  If it \
             is specified, please check the order of the fields.</Message><ArgumentName>key</ArgumentName>\
             <ArgumentValue></ArgumentValue><RequestId>R1</RequestId></Error>"
        )
    );
}

#[test]
fn wrong_region_adds_the_expected_region() {
    let error = PostError::InvalidArgument {
        message: "the region 'us-east-1' is wrong; expecting 'us-west-1'".to_owned(),
        argument_name: "X-Amz-Credential".to_owned(),
        argument_value: "AKID/20151229/us-east-1/s3/aws4_request".to_owned(),
        region: Some("us-west-1".to_owned()),
    };
    assert_eq!(
        error.to_xml("R2"),
        format!(
            "{PROLOG}<Error><Code>InvalidArgument</Code><Message>the region 'us-east-1' is wrong; expecting 'us-west-1'\
             </Message><ArgumentName>X-Amz-Credential</ArgumentName>\
             <ArgumentValue>AKID/20151229/us-east-1/s3/aws4_request</ArgumentValue><Region>us-west-1</Region>\
             <RequestId>R2</RequestId></Error>"
        )
    );
}

#[test]
fn signature_mismatch_shows_the_string_to_sign() {
    let error = PostError::SignatureDoesNotMatch {
        access_key_id: "AKID".to_owned(),
        string_to_sign: "eyJ9".to_owned(),
        signature_provided: "00ff".to_owned(),
    };
    assert_eq!(error.status(), 403);
    assert_eq!(
        error.to_xml("R3"),
        format!(
            "{PROLOG}<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not \
             match the signature you provided. Check your key and signing method.</Message>\
             <AWSAccessKeyId>AKID</AWSAccessKeyId><StringToSign>eyJ9</StringToSign>\
             <SignatureProvided>00ff</SignatureProvided><StringToSignBytes>65 79 4a 39</StringToSignBytes>\
             <RequestId>R3</RequestId></Error>"
        )
    );
}

#[test]
fn size_errors_carry_the_sizes() {
    assert_eq!(
        PostError::EntityTooLarge {
            proposed_size: 12,
            max_size_allowed: 10
        }
        .to_xml("R4"),
        format!(
            "{PROLOG}<Error><Code>EntityTooLarge</Code><Message>Your proposed upload exceeds the maximum allowed \
             size</Message><ProposedSize>12</ProposedSize><MaxSizeAllowed>10</MaxSizeAllowed>\
             <RequestId>R4</RequestId></Error>"
        )
    );
    assert_eq!(
        PostError::EntityTooSmall {
            proposed_size: 1,
            min_size_allowed: 5
        }
        .to_xml("R5"),
        format!(
            "{PROLOG}<Error><Code>EntityTooSmall</Code><Message>Your proposed upload is smaller than the minimum \
             allowed size</Message><ProposedSize>1</ProposedSize><MinSizeAllowed>5</MinSizeAllowed>\
             <RequestId>R5</RequestId></Error>"
        )
    );
    assert_eq!(
        PostError::IncompleteBody.to_xml("R6"),
        format!(
            "{PROLOG}<Error><Code>IncompleteBody</Code><Message>You did not provide the number of bytes specified by \
             the Content-Length HTTP header</Message><RequestId>R6</RequestId></Error>"
        )
    );
}

#[test]
fn text_xml_cannot_carry_is_replaced() {
    let error = PostError::InvalidAccessKeyId {
        access_key_id: "a\u{0}b\rc\td\ne\u{FFFF}".to_owned(),
    };
    assert_eq!(
        error.to_xml("R7"),
        format!(
            "{PROLOG}<Error><Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided does not exist \
             in our records.</Message><AWSAccessKeyId>a\u{FFFD}b&#13;c\td\ne\u{FFFD}</AWSAccessKeyId>\
             <RequestId>R7</RequestId></Error>"
        )
    );
}

#[test]
fn codes_and_statuses() {
    let message = || "m".to_owned();
    let cases = [
        (PostError::AccessDenied { message: message() }, "AccessDenied", 403),
        (
            PostError::SignatureDoesNotMatch {
                access_key_id: message(),
                string_to_sign: message(),
                signature_provided: message(),
            },
            "SignatureDoesNotMatch",
            403,
        ),
        (
            PostError::InvalidAccessKeyId {
                access_key_id: message(),
            },
            "InvalidAccessKeyId",
            403,
        ),
        (
            PostError::InvalidPolicyDocument { message: message() },
            "InvalidPolicyDocument",
            400,
        ),
        (
            PostError::InvalidArgument {
                message: message(),
                argument_name: message(),
                argument_value: message(),
                region: None,
            },
            "InvalidArgument",
            400,
        ),
        (PostError::InvalidRequest { message: message() }, "InvalidRequest", 400),
        (
            PostError::EntityTooLarge {
                proposed_size: 2,
                max_size_allowed: 1,
            },
            "EntityTooLarge",
            400,
        ),
        (
            PostError::EntityTooSmall {
                proposed_size: 1,
                min_size_allowed: 2,
            },
            "EntityTooSmall",
            400,
        ),
        (PostError::IncompleteBody, "IncompleteBody", 400),
    ];
    for (error, code, status) in cases {
        assert_eq!((error.code(), error.status()), (code, status), "{error:?}");
        assert!(error.to_xml("r").contains(&format!("<Code>{code}</Code>")));
    }
}
