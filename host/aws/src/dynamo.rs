//! Video records in one DynamoDB table.
//!
//! Keys: `id` (hash). Two sparse global secondary indexes serve the listings, both sorted by
//! `created` (`<created_at_ms, 15 digits>#<id>`, so string order is time order with ties
//! broken by id):
//! - `listed-newest`: hash `listed` = `"done"`, present only on done videos that have a title
//!   (the public list);
//! - `owner-newest`: hash `user_id` (a user's videos).
//!
//! An item is one serde type (`StoredVideo`) mapped by `serde_dynamo`, in the format the table
//! has always had (plan and renditions as JSON text): items written by earlier versions read
//! unchanged; one that does not read is an error naming the video and the attribute, and is
//! left out of listings.
//!
//! Every change is a conditional write, so no update is lost and no status goes backwards;
//! a lost race is read again and decided on what is stored.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use serde::{Deserialize, Serialize};
use vodpipe_core::ports::{PortError, VideoRepository};
use vodpipe_core::{Cursor, Described, Details, Outcome, Page, Plan, Rendered, VideoRecord, VideoStatus};

use crate::Blocking;
use crate::error::port_error;

pub const PUBLIC_INDEX: &str = "listed-newest";
pub const OWNER_INDEX: &str = "owner-newest";

type Item = HashMap<String, AttributeValue>;

pub struct DynamoRepository {
    client: Client,
    table: String,
    blocking: Blocking,
}

fn dynamo_error<E: ProvideErrorMetadata + std::error::Error + 'static>(e: SdkError<E, HttpResponse>) -> PortError {
    port_error("dynamodb", e)
}

/// A condition expression that did not hold: a lost race or a forbidden change, decided by
/// the caller; not an outage.
fn is_conditional_failure<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.code() == Some("ConditionalCheckFailedException")
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn status_text(status: VideoStatus) -> &'static str {
    match status {
        VideoStatus::Processing => "processing",
        VideoStatus::Done => "done",
        VideoStatus::Failed => "failed",
    }
}

/// `created`: the listings' sort key.
fn sort_key(created_at_ms: u64, id: &str) -> String {
    format!("{created_at_ms:015}#{id}")
}

/// A video record as a table item: the attribute names and types the table has always had
/// (numbers as `N`, plan and renditions as JSON text in `S`, absent attributes for absent
/// values), so items written by earlier versions read as before. `created` is the listings'
/// sort key; `listed` marks a done video with a title, the public listing's index key.
#[derive(Serialize, Deserialize)]
struct StoredVideo {
    id: String,
    status: VideoStatus,
    created_at_ms: u64,
    created: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    failure_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    job_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "json_text")]
    plan: Option<Plan>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "json_text")]
    renditions: Vec<Rendered>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    playback_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dash_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    thumbnail_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    listed: Option<String>,
}

/// A value stored as its JSON text (one string attribute rather than a nested map).
mod json_text {
    use serde::de::{DeserializeOwned, Error as _};
    use serde::ser::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&serde_json::to_string(value).map_err(S::Error::custom)?)
    }

    pub fn deserialize<'de, T: DeserializeOwned, D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error> {
        let text = String::deserialize(deserializer)?;
        serde_json::from_str(&text).map_err(D::Error::custom)
    }
}

/// One attribute of JSON text, as [`StoredVideo`] keeps the plan and renditions, for the
/// updates that set only those.
fn json_attribute<T: Serialize>(value: &T) -> Result<AttributeValue, PortError> {
    serde_json::to_string(value)
        .map(AttributeValue::S)
        .map_err(|e| PortError::Rejected(format!("dynamodb: encoding an attribute: {e}")))
}

fn to_item(record: &VideoRecord) -> Result<Item, PortError> {
    let stored = StoredVideo {
        id: record.id.clone(),
        status: record.status,
        created_at_ms: record.created_at_ms,
        created: sort_key(record.created_at_ms, &record.id),
        user_id: record.user_id.clone(),
        title: record.title.clone(),
        description: record.description.clone(),
        failure_reason: record.failure_reason.clone(),
        job_id: record.job_id.clone(),
        plan: record.plan.clone(),
        renditions: record.renditions.clone(),
        playback_path: record.playback_path.clone(),
        dash_path: record.dash_path.clone(),
        thumbnail_path: record.thumbnail_path.clone(),
        duration_ms: record.duration_ms,
        listed: (record.status == VideoStatus::Done && record.title.is_some()).then(|| "done".to_owned()),
    };
    // Every field is a string, a number or text: nothing here can fail but a defect.
    serde_dynamo::to_item(stored)
        .map_err(|e| PortError::Rejected(format!("dynamodb: encoding video {}: {e}", record.id)))
}

/// An item read back; one that does not read (a corrupt attribute, a format this version does
/// not know) is an error naming the video and the attribute, rather than read as something it
/// is not. Unavailable, not Rejected: the message about it is retried and then dead-lettered,
/// for an operator to mend the item and redrive, instead of failing a video whose job may
/// have finished.
fn from_item(item: &Item) -> Result<VideoRecord, PortError> {
    let id = item.get("id").and_then(|v| v.as_s().ok()).map_or("?", String::as_str);
    let item: serde_dynamo::Item = item.clone().into();
    let attributes = serde_dynamo::Deserializer::from_attribute_value(serde_dynamo::AttributeValue::M(item.into()));
    let stored: StoredVideo = serde_path_to_error::deserialize(attributes).map_err(|e| {
        PortError::Unavailable(format!(
            "dynamodb: video {id} does not read: {}: {}",
            e.path(),
            e.inner()
        ))
    })?;
    Ok(VideoRecord {
        id: stored.id,
        user_id: stored.user_id,
        title: stored.title,
        description: stored.description,
        status: stored.status,
        failure_reason: stored.failure_reason,
        created_at_ms: stored.created_at_ms,
        job_id: stored.job_id,
        plan: stored.plan,
        renditions: stored.renditions,
        playback_path: stored.playback_path,
        dash_path: stored.dash_path,
        thumbnail_path: stored.thumbnail_path,
        duration_ms: stored.duration_ms,
    })
}

impl DynamoRepository {
    pub fn new(client: Client, table: impl Into<String>, blocking: Blocking) -> Self {
        Self {
            client,
            table: table.into(),
            blocking,
        }
    }

    fn key(id: &str) -> Item {
        HashMap::from([("id".to_owned(), s(id))])
    }

    /// Marks a done, titled video as publicly listed (idempotent; only ever adds it).
    fn list_publicly(&self, id: &str) -> Result<(), PortError> {
        let result = self.blocking.wait(
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(Self::key(id)))
                .update_expression("SET listed = :done")
                .condition_expression("#status = :done AND attribute_exists(title)")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":done", s("done"))
                .send(),
        );
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_conditional_failure(&e) => Ok(()),
            Err(e) => Err(dynamo_error(e)),
        }
    }

    fn query(&self, index: &str, hash: (&str, &str), after: Option<&Cursor>, limit: usize) -> Result<Page, PortError> {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#hash = :value")
            .expression_attribute_names("#hash", hash.0)
            .expression_attribute_values(":value", s(hash.1))
            .scan_index_forward(false)
            .limit((limit + 1).min(1000) as i32);
        if let Some(cursor) = after {
            let start = HashMap::from([
                ("id".to_owned(), s(&cursor.id)),
                (hash.0.to_owned(), s(hash.1)),
                ("created".to_owned(), s(sort_key(cursor.created_at_ms, &cursor.id))),
            ]);
            query = query.set_exclusive_start_key(Some(start));
        }
        let output = self.blocking.wait(query.send()).map_err(dynamo_error)?;
        let more = output.items().len() > limit;
        // One item that does not read must not take the listing down for everyone: it is
        // left out and logged (a `get` of it still says what is wrong).
        let mut videos: Vec<VideoRecord> = output
            .items()
            .iter()
            .filter_map(|item| {
                from_item(item)
                    .inspect_err(|e| tracing::error!("left out of a listing: {e}"))
                    .ok()
            })
            .collect();
        videos.truncate(limit);
        let next = if more { videos.last().map(Cursor::after) } else { None };
        Ok(Page { videos, next })
    }
}

impl VideoRepository for DynamoRepository {
    fn get(&self, id: &str) -> Result<Option<VideoRecord>, PortError> {
        let output = self
            .blocking
            .wait(
                self.client
                    .get_item()
                    .table_name(&self.table)
                    .set_key(Some(Self::key(id)))
                    .consistent_read(true)
                    .send(),
            )
            .map_err(dynamo_error)?;
        output.item().map(from_item).transpose()
    }

    fn create_if_absent(&self, record: &VideoRecord) -> Result<VideoRecord, PortError> {
        let result = self.blocking.wait(
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(to_item(record)?))
                .condition_expression("attribute_not_exists(id)")
                .send(),
        );
        match result {
            Ok(_) => Ok(record.clone()),
            Err(e) if is_conditional_failure(&e) => self
                .get(&record.id)?
                .ok_or_else(|| PortError::Unavailable("the record vanished after a conflicting write".into())),
            Err(e) => Err(dynamo_error(e)),
        }
    }

    fn claim_job(&self, id: &str, job_id: &str, plan: &Plan) -> Result<bool, PortError> {
        let result = self.blocking.wait(
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(Self::key(id)))
                .update_expression("SET job_id = :job, #plan = :plan")
                .condition_expression("#status = :processing AND attribute_not_exists(job_id)")
                .expression_attribute_names("#status", "status")
                .expression_attribute_names("#plan", "plan")
                .expression_attribute_values(":job", s(job_id))
                .expression_attribute_values(":plan", json_attribute(plan)?)
                .expression_attribute_values(":processing", s("processing"))
                .send(),
        );
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(dynamo_error(e)),
        }
    }

    fn finish(&self, id: &str, outcome: &Outcome) -> Result<bool, PortError> {
        let mut sets = vec!["#status = :status"];
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(id)))
            .condition_expression("#status = :processing")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", s(status_text(outcome.status())))
            .expression_attribute_values(":processing", s("processing"))
            .return_values(ReturnValue::AllNew);
        let optional = [
            ("failure_reason", ":reason", outcome.failure_reason.clone()),
            ("playback_path", ":playback", outcome.playback_path.clone()),
            ("dash_path", ":dash", outcome.dash_path.clone()),
            ("thumbnail_path", ":thumbnail", outcome.thumbnail_path.clone()),
        ];
        for (name, placeholder, value) in optional {
            if let Some(value) = value {
                sets.push(match name {
                    "failure_reason" => "failure_reason = :reason",
                    "playback_path" => "playback_path = :playback",
                    "dash_path" => "dash_path = :dash",
                    _ => "thumbnail_path = :thumbnail",
                });
                update = update.expression_attribute_values(placeholder, s(value));
            }
        }
        if !outcome.renditions.is_empty() {
            sets.push("renditions = :renditions");
            update = update.expression_attribute_values(":renditions", json_attribute(&outcome.renditions)?);
        }
        if let Some(ms) = outcome.duration_ms {
            sets.push("duration_ms = :duration");
            update = update.expression_attribute_values(":duration", n(ms));
        }
        let expression = format!("SET {}", sets.join(", "));
        let result = self.blocking.wait(update.update_expression(expression).send());
        match result {
            Ok(output) => {
                // The update is stored: only what decides the listing is read back, so nothing
                // else in the item can turn a stored final state into an error.
                let attribute = |name: &str| {
                    output
                        .attributes()
                        .and_then(|a| a.get(name))
                        .and_then(|v| v.as_s().ok())
                };
                if attribute("status").is_some_and(|s| s == "done") && attribute("title").is_some() {
                    self.list_publicly(id)?;
                }
                Ok(true)
            }
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(dynamo_error(e)),
        }
    }

    fn describe(&self, id: &str, user_id: &str, details: &Details, created_at_ms: u64) -> Result<Described, PortError> {
        // Each lost race is read again; the upload event writes a record at most once, so
        // this ends after a few rounds at most.
        for _ in 0..5 {
            let Some(existing) = self.get(id)? else {
                let mut record = VideoRecord::new(id, Some(user_id.to_owned()), created_at_ms);
                record.title = Some(details.title.clone());
                record.description = Some(details.description.clone());
                let result = self.blocking.wait(
                    self.client
                        .put_item()
                        .table_name(&self.table)
                        .set_item(Some(to_item(&record)?))
                        .condition_expression("attribute_not_exists(id)")
                        .send(),
                );
                match result {
                    Ok(_) => return Ok(Described::Created(record)),
                    Err(e) if is_conditional_failure(&e) => continue,
                    Err(e) => return Err(dynamo_error(e)),
                }
            };
            if existing.user_id.as_deref() != Some(user_id) {
                return Ok(Described::NotOwner);
            }
            if existing.title.is_some() {
                return Ok(Described::AlreadyDescribed);
            }
            let result = self.blocking.wait(
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(Self::key(id)))
                    .update_expression("SET title = :title, description = :description")
                    .condition_expression("user_id = :user AND attribute_not_exists(title)")
                    .expression_attribute_values(":title", s(&details.title))
                    .expression_attribute_values(":description", s(&details.description))
                    .expression_attribute_values(":user", s(user_id))
                    .return_values(ReturnValue::AllNew)
                    .send(),
            );
            match result {
                Ok(output) => {
                    let record = output
                        .attributes()
                        .map(from_item)
                        .transpose()?
                        .ok_or_else(|| PortError::Unavailable("dynamodb returned no attributes".into()))?;
                    if record.status == VideoStatus::Done {
                        self.list_publicly(id)?;
                    }
                    return Ok(Described::Completed(record));
                }
                Err(e) if is_conditional_failure(&e) => continue,
                Err(e) => return Err(dynamo_error(e)),
            }
        }
        Err(PortError::Unavailable(format!(
            "video {id} kept changing while its details were written"
        )))
    }

    fn list_done(&self, after: Option<&Cursor>, limit: usize) -> Result<Page, PortError> {
        self.query(PUBLIC_INDEX, ("listed", "done"), after, limit)
    }

    fn list_owned(&self, user_id: &str, after: Option<&Cursor>, limit: usize) -> Result<Page, PortError> {
        self.query(OWNER_INDEX, ("user_id", user_id), after, limit)
    }

    fn delete_video(&self, id: &str) -> Result<bool, PortError> {
        let output = self
            .blocking
            .wait(
                self.client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(Self::key(id)))
                    .return_values(ReturnValue::AllOld)
                    .send(),
            )
            .map_err(dynamo_error)?;
        Ok(output.attributes().is_some())
    }
}

/// Creates the table as the repository expects it (keys and both indexes, on-demand
/// capacity). Terraform creates the same table in `infra/`; tests create it on moto.
pub async fn create_table(client: &Client, table: &str) -> Result<(), PortError> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
        ScalarAttributeType,
    };
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
    };
    let key = |name: &str, kind: KeyType| KeySchemaElement::builder().attribute_name(name).key_type(kind).build();
    let index = |name: &str, hash: &str| {
        GlobalSecondaryIndex::builder()
            .index_name(name)
            .key_schema(key(hash, KeyType::Hash)?)
            .key_schema(key("created", KeyType::Range)?)
            .projection(Projection::builder().projection_type(ProjectionType::All).build())
            .build()
    };
    let build = || -> Result<_, aws_sdk_dynamodb::error::BuildError> {
        Ok(client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attribute("id")?)
            .attribute_definitions(attribute("created")?)
            .attribute_definitions(attribute("listed")?)
            .attribute_definitions(attribute("user_id")?)
            .key_schema(key("id", KeyType::Hash)?)
            .global_secondary_indexes(index(PUBLIC_INDEX, "listed")?)
            .global_secondary_indexes(index(OWNER_INDEX, "user_id")?))
    };
    build()
        .map_err(|e| PortError::Unavailable(format!("dynamodb: {e}")))?
        .send()
        .await
        .map_err(dynamo_error)?;
    Ok(())
}
