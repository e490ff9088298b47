//! The errors an S3 POST upload is refused with, in S3's codes, statuses, messages and XML.
//!
//! Browser upload code (and SDKs) branch on S3's exact answers, so the embedded endpoint
//! answers with the same code, status, message and extra elements S3 sends, as recorded
//! against S3 by others (LocalStack's validated snapshots, issue-tracker captures).

use std::fmt::Write as _;

/// Why a POST upload was refused. Each variant is one S3 error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostError {
    /// 403: an anonymous form, an expired policy, a failed condition or a field no condition
    /// covers ("Invalid according to Policy: …").
    #[error("{message}")]
    AccessDenied { message: String },
    /// 403: the signature is not the HMAC of the policy field under the credential's key.
    #[error(
        "The request signature we calculated does not match the signature you provided. Check your key and signing \
         method."
    )]
    SignatureDoesNotMatch {
        access_key_id: String,
        string_to_sign: String,
        signature_provided: String,
    },
    /// 403: the credential names an access key nobody issued.
    #[error("The AWS Access Key Id you provided does not exist in our records.")]
    InvalidAccessKeyId { access_key_id: String },
    /// 400: the policy does not decode or is not a policy document ("Invalid Policy: …").
    #[error("{message}")]
    InvalidPolicyDocument { message: String },
    /// 400: a required field is missing or a signing field is malformed.
    #[error("{message}")]
    InvalidArgument {
        message: String,
        argument_name: String,
        argument_value: String,
        /// The region S3 expects, when the credential names another one.
        region: Option<String>,
    },
    /// 400: an authentication mechanism other than SigV4.
    #[error("{message}")]
    InvalidRequest { message: String },
    /// 400: the file is larger than the policy's `content-length-range` allows.
    #[error("Your proposed upload exceeds the maximum allowed size")]
    EntityTooLarge { proposed_size: u64, max_size_allowed: u64 },
    /// 400: the file is smaller than the policy's `content-length-range` allows.
    #[error("Your proposed upload is smaller than the minimum allowed size")]
    EntityTooSmall { proposed_size: u64, min_size_allowed: u64 },
    /// 400: the body ended before the upload was complete.
    #[error("You did not provide the number of bytes specified by the Content-Length HTTP header")]
    IncompleteBody,
}

impl PostError {
    /// S3's error code, the `<Code>` element.
    pub fn code(&self) -> &'static str {
        match self {
            PostError::AccessDenied { .. } => "AccessDenied",
            PostError::SignatureDoesNotMatch { .. } => "SignatureDoesNotMatch",
            PostError::InvalidAccessKeyId { .. } => "InvalidAccessKeyId",
            PostError::InvalidPolicyDocument { .. } => "InvalidPolicyDocument",
            PostError::InvalidArgument { .. } => "InvalidArgument",
            PostError::InvalidRequest { .. } => "InvalidRequest",
            PostError::EntityTooLarge { .. } => "EntityTooLarge",
            PostError::EntityTooSmall { .. } => "EntityTooSmall",
            PostError::IncompleteBody => "IncompleteBody",
        }
    }

    /// The HTTP status S3 answers with.
    pub fn status(&self) -> u16 {
        match self {
            PostError::AccessDenied { .. }
            | PostError::SignatureDoesNotMatch { .. }
            | PostError::InvalidAccessKeyId { .. } => 403,
            PostError::InvalidPolicyDocument { .. }
            | PostError::InvalidArgument { .. }
            | PostError::InvalidRequest { .. }
            | PostError::EntityTooLarge { .. }
            | PostError::EntityTooSmall { .. }
            | PostError::IncompleteBody => 400,
        }
    }

    /// S3's message, the `<Message>` element.
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// The elements S3 adds after `<Message>`, in S3's order.
    pub fn details(&self) -> Vec<(&'static str, String)> {
        match self {
            PostError::SignatureDoesNotMatch {
                access_key_id,
                string_to_sign,
                signature_provided,
            } => vec![
                ("AWSAccessKeyId", access_key_id.clone()),
                ("StringToSign", string_to_sign.clone()),
                ("SignatureProvided", signature_provided.clone()),
                ("StringToSignBytes", hex_bytes(string_to_sign)),
            ],
            PostError::InvalidAccessKeyId { access_key_id } => vec![("AWSAccessKeyId", access_key_id.clone())],
            PostError::InvalidArgument {
                argument_name,
                argument_value,
                region,
                ..
            } => {
                let mut details = vec![
                    ("ArgumentName", argument_name.clone()),
                    ("ArgumentValue", argument_value.clone()),
                ];
                details.extend(region.iter().map(|region| ("Region", region.clone())));
                details
            }
            PostError::EntityTooLarge {
                proposed_size,
                max_size_allowed,
            } => vec![
                ("ProposedSize", proposed_size.to_string()),
                ("MaxSizeAllowed", max_size_allowed.to_string()),
            ],
            PostError::EntityTooSmall {
                proposed_size,
                min_size_allowed,
            } => vec![
                ("ProposedSize", proposed_size.to_string()),
                ("MinSizeAllowed", min_size_allowed.to_string()),
            ],
            PostError::AccessDenied { .. }
            | PostError::InvalidPolicyDocument { .. }
            | PostError::InvalidRequest { .. }
            | PostError::IncompleteBody => Vec::new(),
        }
    }

    /// The response body S3 sends: `<Error>` with code, message, the extra elements and the
    /// request id, every text escaped.
    pub fn to_xml(&self, request_id: &str) -> String {
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
        push_element(&mut xml, "Code", self.code());
        push_element(&mut xml, "Message", &self.message());
        for (name, value) in self.details() {
            push_element(&mut xml, name, &value);
        }
        push_element(&mut xml, "RequestId", request_id);
        xml.push_str("</Error>");
        xml
    }

    /// A refusal "according to Policy", S3's 403 for expired policies and unmet conditions.
    pub(crate) fn according_to_policy(reason: impl std::fmt::Display) -> Self {
        PostError::AccessDenied {
            message: format!("Invalid according to Policy: {reason}"),
        }
    }

    /// A policy S3 cannot read, S3's 400 "Invalid Policy: …".
    pub(crate) fn invalid_policy(reason: impl std::fmt::Display) -> Self {
        PostError::InvalidPolicyDocument {
            message: format!("Invalid Policy: {reason}"),
        }
    }

    /// A required form field that is absent or empty, named as S3 names it.
    pub(crate) fn missing_field(name: &str) -> Self {
        PostError::InvalidArgument {
            message: format!(
                "Bucket POST must contain a field named '{name}'.  If it is specified, please check the order of the fields."
            ),
            argument_name: name.to_owned(),
            argument_value: String::new(),
            region: None,
        }
    }
}

/// The bytes of `text` as S3 shows them in `StringToSignBytes`: two lowercase hex digits a
/// byte, separated by single spaces.
fn hex_bytes(text: &str) -> String {
    let mut hex = String::with_capacity(text.len() * 3);
    for (i, byte) in text.bytes().enumerate() {
        if i > 0 {
            hex.push(' ');
        }
        // Writing to a String cannot fail.
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

fn push_element(xml: &mut String, name: &str, text: &str) {
    xml.push('<');
    xml.push_str(name);
    xml.push('>');
    push_escaped(xml, text);
    xml.push_str("</");
    xml.push_str(name);
    xml.push('>');
}

/// Appends `text` as XML character data. `&`, `<` and `>` become entities; quotes stay as
/// they are, as in S3's bodies (`Policy Condition failed: ["eq", …]`). A carriage return
/// becomes `&#13;` (parsers would turn a raw one into a line feed), and characters XML 1.0
/// cannot carry at all become U+FFFD, so any user-supplied text yields a well-formed document.
fn push_escaped(xml: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => xml.push_str("&amp;"),
            '<' => xml.push_str("&lt;"),
            '>' => xml.push_str("&gt;"),
            '\r' => xml.push_str("&#13;"),
            '\t' | '\n' => xml.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => xml.push('\u{FFFD}'),
            c => xml.push(c),
        }
    }
}
