//! The POST policy document: parsing it the way S3 does, and testing its conditions.
//!
//! S3 tells a policy it cannot read (400 `InvalidPolicyDocument`) apart from a form the
//! policy does not allow (403 `AccessDenied`), and its messages quote the failed condition;
//! both are reproduced here. Where no recording of S3 exists, the messages are those of
//! versitygw, which models S3's.

use std::time::SystemTime;

use serde_json::{Map, Value};

use crate::dates;
use crate::error::PostError;

/// A decoded policy document.
#[derive(Debug)]
pub(crate) struct Policy {
    pub expiration: SystemTime,
    pub conditions: Vec<Condition>,
}

/// One entry of `conditions`.
#[derive(Debug)]
pub(crate) struct Condition {
    test: Test,
    /// The condition as S3 quotes it when it fails: `["eq", "$key", "value"]`, with the field
    /// as the policy spells it.
    rendered: String,
}

#[derive(Debug)]
enum Test {
    /// `{"field": "value"}` and `["eq", "$field", "value"]`.
    Equals { field: Option<String>, value: String },
    /// `["starts-with", "$field", "prefix"]`.
    StartsWith { field: Option<String>, prefix: String },
    /// `["content-length-range", min, max]`; `None` for a bound S3 cannot read as a size,
    /// which makes the condition fail.
    ContentLengthRange { min: Option<u64>, max: Option<u64> },
}

/// What a form must look like for one condition to hold.
pub(crate) enum Outcome<'a> {
    /// The condition holds and constrains the named (lowercase) form field.
    Covers(&'a str),
    /// The condition holds and bounds the file size, both ends inclusive.
    Size(u64, u64),
    /// The condition does not hold.
    Fails,
}

impl Policy {
    /// Parses the decoded policy text.
    pub fn parse(json: &[u8]) -> Result<Policy, PostError> {
        let Ok(Value::Object(document)) = serde_json::from_slice::<Value>(json) else {
            return Err(invalid_json());
        };
        if let Some(unexpected) = document
            .keys()
            .find(|name| !matches!(name.as_str(), "expiration" | "conditions"))
        {
            return Err(PostError::invalid_policy(format!(
                "Unexpected: '{}'",
                unexpected.to_lowercase()
            )));
        }
        let expiration = match document.get("expiration") {
            None => return Err(PostError::invalid_policy("Policy missing expiration.")),
            Some(Value::String(text)) => dates::parse_expiration(text)
                .ok_or_else(|| PostError::invalid_policy(format!("Invalid 'expiration' value: '{text}'")))?,
            Some(_) => return Err(invalid_json()),
        };
        let conditions = match document.get("conditions") {
            None => return Err(PostError::invalid_policy("Policy missing conditions.")),
            Some(Value::Array(conditions)) => conditions.iter().map(Condition::parse).collect::<Result<_, _>>()?,
            Some(_) => return Err(PostError::invalid_policy("Invalid 'conditions' value: must be a List.")),
        };
        Ok(Policy { expiration, conditions })
    }
}

impl Condition {
    fn parse(condition: &Value) -> Result<Condition, PostError> {
        match condition {
            Value::Object(simple) => Self::parse_simple(simple),
            Value::Array(items) => Self::parse_list(items),
            _ => Err(PostError::invalid_policy(
                "Invalid condition test: must be a List or Object.",
            )),
        }
    }

    /// `{"field": "value"}`: exactly one property, its value a string.
    fn parse_simple(simple: &Map<String, Value>) -> Result<Condition, PostError> {
        let mut properties = simple.iter();
        let (Some((field, value)), None) = (properties.next(), properties.next()) else {
            return Err(PostError::invalid_policy(
                "Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.",
            ));
        };
        let value = match value {
            Value::String(value) => value,
            Value::Null => return Err(invalid_json()),
            _ => {
                return Err(PostError::invalid_policy(
                    "Invalid Simple-Condition: value must be a string.",
                ));
            }
        };
        // S3 quotes a simple condition as the `eq` it stands for.
        let rendered = render(&[
            Value::from("eq"),
            Value::from(format!("${field}")),
            Value::from(value.as_str()),
        ]);
        Ok(Condition {
            test: Test::Equals {
                field: Some(field.to_lowercase()),
                value: value.clone(),
            },
            rendered,
        })
    }

    /// `[operation, …]`: `eq` and `starts-with` take a `$field` and a string,
    /// `content-length-range` two sizes.
    fn parse_list(items: &[Value]) -> Result<Condition, PostError> {
        let Some(Value::String(operation)) = items.first() else {
            return Err(PostError::invalid_policy(
                "Invalid Condition: missing operation identifier.",
            ));
        };
        let operation_name = operation.to_lowercase();
        let test = match operation_name.as_str() {
            "eq" | "starts-with" => {
                let [_, Value::String(field), Value::String(value)] = items else {
                    return Err(wrong_arity(&operation_name, items).unwrap_or_else(invalid_json));
                };
                // Without the `$` the condition names no field, and fails.
                let field = field.strip_prefix('$').map(str::to_lowercase);
                let value = value.clone();
                if operation_name == "eq" {
                    Test::Equals { field, value }
                } else {
                    Test::StartsWith { field, prefix: value }
                }
            }
            "content-length-range" => {
                let [_, min, max] = items else {
                    return Err(wrong_arity(&operation_name, items).unwrap_or_else(invalid_json));
                };
                Test::ContentLengthRange {
                    min: size_bound(min)?,
                    max: size_bound(max)?,
                }
            }
            _ => {
                return Err(PostError::invalid_policy(format!(
                    "Invalid Condition: unknown operation '{operation}'."
                )));
            }
        };
        Ok(Condition {
            test,
            rendered: render(items),
        })
    }

    /// Tests the condition against the form. `field` looks a form field up by lowercase
    /// name; `bucket` is the bucket the form was posted to, which `bucket` conditions compare
    /// with (the form's own `bucket` field does not choose the bucket).
    pub fn check<'a>(&'a self, field: impl Fn(&str) -> Option<&'a str>, bucket: &'a str) -> Outcome<'a> {
        let value_of = |name: &'a str| if name == "bucket" { Some(bucket) } else { field(name) };
        let holds = |name: &'a Option<String>, test: &dyn Fn(&str) -> bool| match name.as_deref() {
            Some(name) if value_of(name).is_some_and(test) => Outcome::Covers(name),
            _ => Outcome::Fails,
        };
        match &self.test {
            Test::Equals { field, value } => holds(field, &|actual| actual == value),
            Test::StartsWith { field, prefix } => holds(field, &|actual| {
                // S3 reads a Content-Type with commas as a list: every item must match.
                if field.as_deref() == Some("content-type") {
                    actual
                        .split(',')
                        .all(|item| item.trim_start().starts_with(prefix.as_str()))
                } else {
                    actual.starts_with(prefix.as_str())
                }
            }),
            Test::ContentLengthRange {
                min: Some(min),
                max: Some(max),
            } => Outcome::Size(*min, *max),
            Test::ContentLengthRange { .. } => Outcome::Fails,
        }
    }

    /// S3's refusal when this condition does not hold.
    pub fn failed(&self) -> PostError {
        PostError::according_to_policy(format_args!("Policy Condition failed: {}", self.rendered))
    }
}

/// A `content-length-range` bound: a JSON integer or a string of digits. Other strings and
/// negative numbers are read but fail the condition (S3 answers 403 for `"test"`); a
/// fraction or a non-scalar is not JSON S3 accepts there.
fn size_bound(bound: &Value) -> Result<Option<u64>, PostError> {
    match bound {
        Value::Number(number) if number.is_u64() => Ok(number.as_u64()),
        Value::Number(number) if number.is_i64() => Ok(None),
        Value::String(text) => Ok(text.parse().ok()),
        _ => Err(invalid_json()),
    }
}

/// The error for an `eq`, `starts-with` or `content-length-range` of the wrong length, or
/// `None` when the length is right (and an operand has the wrong type instead).
fn wrong_arity(operation: &str, items: &[Value]) -> Option<PostError> {
    (items.len() != 3).then(|| PostError::invalid_policy(format!("Invalid {operation}: wrong number of arguments.")))
}

fn invalid_json() -> PostError {
    PostError::invalid_policy("Invalid JSON.")
}

/// A condition as S3 quotes it: JSON items separated by `", "`.
fn render(items: &[Value]) -> String {
    let items: Vec<String> = items.iter().map(Value::to_string).collect();
    format!("[{}]", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Policy, PostError> {
        Policy::parse(json.as_bytes())
    }

    fn message(json: &str) -> String {
        match parse(json) {
            Ok(policy) => panic!("parsed: {policy:?}"),
            Err(error) => {
                assert_eq!(
                    (error.code(), error.status()),
                    ("InvalidPolicyDocument", 400),
                    "{error}"
                );
                error.message()
            }
        }
    }

    const EXPIRATION: &str = r#""expiration": "2015-12-30T12:00:00.000Z""#;

    #[test]
    fn refuses_documents_s3_cannot_read() {
        assert_eq!(message(""), "Invalid Policy: Invalid JSON.");
        assert_eq!(message("[]"), "Invalid Policy: Invalid JSON.");
        assert_eq!(message("{"), "Invalid Policy: Invalid JSON.");
        assert_eq!(
            message(r#"{"conditions": []}"#),
            "Invalid Policy: Policy missing expiration."
        );
        assert_eq!(
            message(&format!("{{{EXPIRATION}}}")),
            "Invalid Policy: Policy missing conditions."
        );
        assert_eq!(
            message(r#"{"expiration": true, "conditions": []}"#),
            "Invalid Policy: Invalid JSON."
        );
        assert_eq!(
            message(r#"{"expiration": "2015-12-30 12:00:00", "conditions": []}"#),
            "Invalid Policy: Invalid 'expiration' value: '2015-12-30 12:00:00'"
        );
        assert_eq!(
            message(&format!(r#"{{{EXPIRATION}, "conditions": true}}"#)),
            "Invalid Policy: Invalid 'conditions' value: must be a List."
        );
        assert_eq!(
            message(&format!(r#"{{{EXPIRATION}, "conditions": [], "Statement": []}}"#)),
            "Invalid Policy: Unexpected: 'statement'"
        );
    }

    #[test]
    fn refuses_conditions_s3_cannot_read() {
        let conditions = |c: &str| message(&format!(r#"{{{EXPIRATION}, "conditions": [{c}]}}"#));
        assert_eq!(
            conditions("true"),
            "Invalid Policy: Invalid condition test: must be a List or Object."
        );
        assert_eq!(
            conditions("[]"),
            "Invalid Policy: Invalid Condition: missing operation identifier."
        );
        assert_eq!(
            conditions("[1, 2]"),
            "Invalid Policy: Invalid Condition: missing operation identifier."
        );
        assert_eq!(
            conditions(r#"["in", "$key", "a"]"#),
            "Invalid Policy: Invalid Condition: unknown operation 'in'."
        );
        assert_eq!(
            conditions(r#"["eq", "$key"]"#),
            "Invalid Policy: Invalid eq: wrong number of arguments."
        );
        assert_eq!(
            conditions(r#"["content-length-range", 0]"#),
            "Invalid Policy: Invalid content-length-range: wrong number of arguments."
        );
        assert_eq!(conditions(r#"["eq", false, "a"]"#), "Invalid Policy: Invalid JSON.");
        assert_eq!(conditions(r#"["eq", "$key", true]"#), "Invalid Policy: Invalid JSON.");
        assert_eq!(
            conditions(r#"["content-length-range", 0, 512.0]"#),
            "Invalid Policy: Invalid JSON."
        );
        assert_eq!(
            conditions(r#"["content-length-range", 12, false]"#),
            "Invalid Policy: Invalid JSON."
        );
        let one_property = "Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have exactly one property \
                            specified.";
        assert_eq!(conditions("{}"), one_property);
        assert_eq!(conditions(r#"{"acl": "private", "key": "a"}"#), one_property);
        assert_eq!(
            conditions(r#"{"Content-Length": 6199034}"#),
            "Invalid Policy: Invalid Simple-Condition: value must be a string."
        );
        assert_eq!(
            conditions(r#"{"success_action_redirect": null}"#),
            "Invalid Policy: Invalid JSON."
        );
    }

    fn check(condition: &str, form: &[(&str, &str)]) -> Result<Option<(u64, u64)>, String> {
        let policy = parse(&format!(r#"{{{EXPIRATION}, "conditions": [{condition}]}}"#)).expect("parses");
        let [condition] = policy.conditions.as_slice() else {
            panic!("one condition")
        };
        let field = |name: &str| form.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        match condition.check(field, "the-bucket") {
            Outcome::Covers(_) => Ok(None),
            Outcome::Size(min, max) => Ok(Some((min, max))),
            Outcome::Fails => Err(condition.failed().message()),
        }
    }

    #[test]
    fn field_names_are_case_insensitive_and_values_exact() {
        assert_eq!(
            check(r#"{"Content-Type": "image/png"}"#, &[("content-type", "image/png")]),
            Ok(None)
        );
        assert_eq!(
            check(
                r#"["EQ", "$Content-Type", "image/png"]"#,
                &[("content-type", "image/png")]
            ),
            Ok(None)
        );
        assert_eq!(
            check(r#"{"Content-Type": "image/png"}"#, &[("content-type", "IMAGE/PNG")]),
            Err(r#"Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", "image/png"]"#.into())
        );
        // An absent field fails even an empty prefix.
        assert_eq!(
            check(r#"["starts-with","$x-amz-meta-tag",""]"#, &[]),
            Err(
                r#"Invalid according to Policy: Policy Condition failed: ["starts-with", "$x-amz-meta-tag", ""]"#
                    .into()
            )
        );
        // Without `$` nothing matches.
        assert_eq!(
            check(r#"["eq", "key", "a"]"#, &[("key", "a")]),
            Err(r#"Invalid according to Policy: Policy Condition failed: ["eq", "key", "a"]"#.into())
        );
        // Quotes in values are quoted back escaped.
        assert_eq!(
            check(r#"["eq", "$Content-Disposition", "filename=\"a.png\""]"#, &[("content-disposition", "x")]),
            Err(r#"Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Disposition", "filename=\"a.png\""]"#.into())
        );
    }

    #[test]
    fn bucket_conditions_compare_the_posted_bucket() {
        assert_eq!(check(r#"{"bucket": "the-bucket"}"#, &[("bucket", "other")]), Ok(None));
        assert!(check(r#"["eq", "$bucket", "other"]"#, &[("bucket", "other")]).is_err());
        assert_eq!(check(r#"["starts-with", "$bucket", "the-"]"#, &[]), Ok(None));
    }

    #[test]
    fn starts_with_reads_content_type_as_a_list() {
        let images = r#"["starts-with", "$Content-Type", "image/"]"#;
        assert_eq!(
            check(images, &[("content-type", "image/jpg,image/png, image/gif")]),
            Ok(None)
        );
        assert!(check(images, &[("content-type", "image/jpg,text/plain")]).is_err());
        let keys = r#"["starts-with", "$key", "user/"]"#;
        assert_eq!(check(keys, &[("key", "user/a,b")]), Ok(None));
        assert!(check(keys, &[("key", "User/a")]).is_err());
    }

    #[test]
    fn content_length_range_bounds() {
        assert_eq!(check(r#"["content-length-range", 5, 10]"#, &[]), Ok(Some((5, 10))));
        assert_eq!(check(r#"["content-length-range", "5", "10"]"#, &[]), Ok(Some((5, 10))));
        assert_eq!(
            check(r#"["content-length-range", "test", "10"]"#, &[]),
            Err(
                r#"Invalid according to Policy: Policy Condition failed: ["content-length-range", "test", "10"]"#
                    .into()
            )
        );
        assert!(check(r#"["content-length-range", -1, 10]"#, &[]).is_err());
    }
}
