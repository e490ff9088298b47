//! The AWS wire formats the functions read, in `aws_lambda_events`' types: S3 event
//! notifications (ObjectCreated, as SQS delivers them) and EventBridge's "MediaConvert Job
//! State Change" events, whose `detail` is typed here after the MediaConvert user guide's
//! event examples.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::s3::S3Entity;
use percent_encoding::percent_decode_str;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use vodpipe_core::{JobOutput, JobResult, JobStateChange, JobStatus};

pub const DETAIL_TYPE: &str = "MediaConvert Job State Change";
pub const SOURCE: &str = "aws.mediaconvert";

/// What an S3 notification says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    /// The event S3 sends when a notification is configured: nothing to do.
    Test,
    /// The object keys, decoded, of each record for `bucket`; records for other buckets are
    /// left out (and logged).
    Uploads(Vec<String>),
}

/// An S3 event notification's records, reading only their `s3` entity: `aws_lambda_events`'
/// `S3Event` also requires `userIdentity`, `requestParameters` and `responseElements`, which
/// S3 sends but S3-compatible stores (moto among them) leave out, and vodpipe does not read.
#[derive(Deserialize)]
struct S3Notification {
    #[serde(rename = "Records")]
    records: Vec<S3Record>,
}

#[derive(Deserialize)]
struct S3Record {
    s3: S3Entity,
}

/// Reads an S3 notification; `Err` says why it is not one.
pub fn s3_notification(body: &str, bucket: &str) -> Result<Notification, String> {
    let value: Value = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
    if value["Event"] == "s3:TestEvent" {
        return Ok(Notification::Test);
    }
    let event: S3Notification =
        serde_json::from_value(value).map_err(|e| format!("not an S3 event notification: {e}"))?;
    let mut keys = Vec::with_capacity(event.records.len());
    for record in event.records {
        let in_bucket = record.s3.bucket.name.as_deref().unwrap_or_default();
        if in_bucket != bucket {
            tracing::warn!(bucket = in_bucket, "an event for another bucket, ignored");
            continue;
        }
        let key = record.s3.object.key.ok_or("an S3 record without an object key")?;
        keys.push(decode_key(&key)?);
    }
    Ok(Notification::Uploads(keys))
}

/// S3 notifications carry keys URL-encoded, with spaces as '+'.
fn decode_key(key: &str) -> Result<String, String> {
    percent_decode_str(&key.replace('+', " "))
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|_| format!("the object key {key:?} does not decode to UTF-8"))
}

/// The `detail` of a MediaConvert job-state event: the part vodpipe reads, and writes in tests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobStateDetail {
    pub timestamp: Option<i64>,
    pub account_id: Option<String>,
    pub queue: Option<String>,
    pub job_id: String,
    pub status: String,
    #[serde(default)]
    pub user_metadata: UserMetadata,
    pub error_code: Option<i32>,
    pub error_message: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_group_details: Vec<OutputGroupDetail>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserMetadata {
    pub video_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputGroupDetail {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub output_details: Vec<OutputDetail>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub playlist_file_paths: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputDetail {
    #[serde(default)]
    pub output_file_paths: Vec<String>,
    pub duration_in_ms: Option<u64>,
    pub video_details: Option<VideoDetails>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoDetails {
    pub width_in_px: u32,
    pub height_in_px: u32,
}

/// Reads a job-state event, with output paths made relative to `output_prefix` of its
/// video; `Err` says why it is not one vodpipe can use.
pub fn job_state_change(body: &str, output_prefix: impl Fn(&str) -> String) -> Result<JobStateChange, String> {
    let event: EventBridgeEvent<JobStateDetail> =
        serde_json::from_str(body).map_err(|e| format!("not a MediaConvert job state change: {e}"))?;
    if event.detail_type != DETAIL_TYPE || event.source != SOURCE {
        return Err(format!(
            "not a MediaConvert job state change: {} from {}",
            event.detail_type, event.source
        ));
    }
    let detail = event.detail;
    let video_id = detail
        .user_metadata
        .video_id
        .ok_or("the job has no video_id in its user metadata")?;
    let status = match detail.status.as_str() {
        "COMPLETE" => JobStatus::Complete,
        "ERROR" => JobStatus::Error,
        other => return Err(format!("status {other:?} is not final")),
    };
    let prefix = output_prefix(&video_id);
    let relative = |uri: &String| uri.strip_prefix(prefix.as_str()).unwrap_or(uri).to_owned();
    let group = |kind: &str| detail.output_group_details.iter().find(|g| g.kind == kind);
    // A CMAF group lists both manifests and its audio tracks among its outputs: the master
    // playlist is its `.m3u8`, the renditions are the outputs with a picture.
    let hls = group("HLS_GROUP").or_else(|| group("CMAF_GROUP"));
    let cmaf = hls.is_some_and(|g| g.kind == "CMAF_GROUP");
    let outputs = hls
        .map(|g| {
            g.output_details
                .iter()
                .filter(|o| !cmaf || o.video_details.is_some())
                .filter_map(|o| {
                    let size = o.video_details.as_ref();
                    Some(JobOutput {
                        path: relative(o.output_file_paths.first()?),
                        width: size.map_or(0, |d| d.width_in_px),
                        height: size.map_or(0, |d| d.height_in_px),
                        duration_ms: o.duration_in_ms.unwrap_or(0),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let playlist = hls.and_then(|g| g.playlist_file_paths.iter().find(|p| p.ends_with(".m3u8")));
    // The CMAF group lists its MPD among its playlists; were it left out, it is the one the
    // job wrote beside the master playlist (the job builder names both after one manifest).
    let dash_manifest = hls.filter(|_| cmaf).and_then(|g| {
        g.playlist_file_paths
            .iter()
            .find(|p| p.ends_with(".mpd"))
            .cloned()
            .or_else(|| playlist.map(|p| format!("{}.mpd", p.trim_end_matches(".m3u8"))))
    });
    let result = JobResult {
        job_id: detail.job_id,
        status,
        error_code: detail.error_code,
        error_message: detail.error_message,
        playlist_path: playlist.map(relative),
        outputs,
        thumbnail_path: group("FILE_GROUP")
            .and_then(|g| g.output_details.first())
            .and_then(|o| o.output_file_paths.first())
            .map(relative),
        dash_manifest_path: dash_manifest.as_ref().map(relative),
    };
    Ok(JobStateChange { video_id, result })
}

/// The event MediaConvert sends through EventBridge when `result`'s job ends, paths as full
/// URIs under `output_prefix`: what the tests deliver to the functions.
pub fn job_state_event(video_id: &str, output_prefix: &str, result: &JobResult, time_ms: u64) -> Value {
    let status = match result.status {
        JobStatus::Complete => "COMPLETE",
        JobStatus::Error => "ERROR",
    };
    let full = |path: &str| format!("{output_prefix}{path}");
    let mut detail = JobStateDetail {
        timestamp: Some(time_ms as i64),
        account_id: Some("000000000000".into()),
        queue: None,
        job_id: result.job_id.clone(),
        status: status.into(),
        user_metadata: UserMetadata {
            video_id: Some(video_id.into()),
        },
        ..JobStateDetail::default()
    };
    match result.status {
        JobStatus::Error => {
            detail.error_code = Some(result.error_code.unwrap_or(1999));
            detail.error_message = Some(result.error_message.clone().unwrap_or_default());
        }
        JobStatus::Complete => {
            // MediaConvert writes a DASH manifest only in a CMAF group.
            let kind = match result.dash_manifest_path {
                Some(_) => "CMAF_GROUP",
                None => "HLS_GROUP",
            };
            detail.output_group_details.push(OutputGroupDetail {
                kind: kind.into(),
                output_details: result
                    .outputs
                    .iter()
                    .map(|o| OutputDetail {
                        output_file_paths: vec![full(&o.path)],
                        duration_in_ms: Some(o.duration_ms),
                        video_details: Some(VideoDetails {
                            width_in_px: o.width,
                            height_in_px: o.height,
                        }),
                    })
                    .collect(),
                playlist_file_paths: result
                    .dash_manifest_path
                    .iter()
                    .chain(&result.playlist_path)
                    .map(|p| full(p))
                    .collect(),
            });
            if let Some(thumbnail) = &result.thumbnail_path {
                detail.output_group_details.push(OutputGroupDetail {
                    kind: "FILE_GROUP".into(),
                    output_details: vec![OutputDetail {
                        output_file_paths: vec![full(thumbnail)],
                        ..OutputDetail::default()
                    }],
                    playlist_file_paths: Vec::new(),
                });
            }
        }
    }
    let mut event = EventBridgeEvent::<JobStateDetail>::default();
    event.version = Some("0".into());
    event.id = Some(format!("{}-{status}", result.job_id));
    event.detail_type = DETAIL_TYPE.into();
    event.source = SOURCE.into();
    event.account = Some("000000000000".into());
    event.time = chrono::DateTime::from_timestamp_millis(time_ms as i64);
    event.region = Some("us-east-1".into());
    event.resources = Some(Vec::new());
    event.detail = detail;
    serde_json::to_value(event).expect("an event is always JSON")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result() -> JobResult {
        JobResult {
            job_id: "j".into(),
            status: JobStatus::Complete,
            error_code: None,
            error_message: None,
            playlist_path: Some("index.m3u8".into()),
            outputs: vec![JobOutput {
                path: "index_720p.m3u8".into(),
                width: 1280,
                height: 720,
                duration_ms: 5000,
            }],
            thumbnail_path: Some("thumbnails/thumb_poster.0000001.jpg".into()),
            dash_manifest_path: None,
        }
    }

    #[test]
    fn a_complete_event_round_trips() {
        let event = job_state_event("v1", "s3://media/v1/", &result(), 1_795_700_216_123);
        assert_eq!(event["time"], "2026-11-26T13:36:56.123Z");
        let change = job_state_change(&event.to_string(), |id| format!("s3://media/{id}/")).unwrap();
        assert_eq!(
            change,
            JobStateChange {
                video_id: "v1".into(),
                result: result()
            }
        );
    }

    fn cmaf_result() -> JobResult {
        JobResult {
            dash_manifest_path: Some("index.mpd".into()),
            ..result()
        }
    }

    #[test]
    fn a_cmaf_job_plays_from_its_hls_manifest_and_its_audio_tracks_are_no_renditions() {
        let mut event = job_state_event("v1", "s3://media/v1/", &cmaf_result(), 0);
        let group = &mut event["detail"]["outputGroupDetails"][0];
        assert_eq!(group["type"], "CMAF_GROUP");
        assert_eq!(
            group["playlistFilePaths"],
            serde_json::json!(["s3://media/v1/index.mpd", "s3://media/v1/index.m3u8"])
        );
        group["outputDetails"].as_array_mut().unwrap().push(
            serde_json::json!({ "outputFilePaths": ["s3://media/v1/index_audio_128k.m3u8"], "durationInMs": 5000 }),
        );
        let change = job_state_change(&event.to_string(), |id| format!("s3://media/{id}/")).unwrap();
        assert_eq!(change.result, cmaf_result());
    }

    #[test]
    fn a_cmaf_job_whose_event_lists_no_mpd_has_it_beside_its_master_playlist() {
        let mut event = job_state_event("v1", "s3://media/v1/", &cmaf_result(), 0);
        event["detail"]["outputGroupDetails"][0]["playlistFilePaths"] = serde_json::json!(["s3://media/v1/index.m3u8"]);
        let change = job_state_change(&event.to_string(), |id| format!("s3://media/{id}/")).unwrap();
        assert_eq!(change.result.dash_manifest_path.as_deref(), Some("index.mpd"));
        // An HLS group has none.
        let event = job_state_event("v1", "s3://media/v1/", &result(), 0);
        let change = job_state_change(&event.to_string(), |id| format!("s3://media/{id}/")).unwrap();
        assert_eq!(change.result.dash_manifest_path, None);
    }

    #[test]
    fn other_events_and_unfinished_jobs_are_refused() {
        let error = job_state_change(r#"{"detail-type": "Object Created"}"#, |_| String::new()).unwrap_err();
        assert!(error.starts_with("not a MediaConvert job state change"), "{error}");
        let mut event = job_state_event("v1", "s3://media/v1/", &result(), 0);
        event["detail"]["status"] = "PROGRESSING".into();
        let error = job_state_change(&event.to_string(), |_| String::new()).unwrap_err();
        assert_eq!(error, r#"status "PROGRESSING" is not final"#);
        event["detail"]["userMetadata"] = serde_json::json!({});
        let error = job_state_change(&event.to_string(), |_| String::new()).unwrap_err();
        assert!(error.contains("no video_id"), "{error}");
    }

    #[test]
    fn keys_are_url_decoded() {
        assert_eq!(decode_key("01ABC").unwrap(), "01ABC");
        assert_eq!(decode_key("a+b%2Fc").unwrap(), "a b/c");
        assert_eq!(decode_key("bad%zz%").unwrap(), "bad%zz%");
        assert_eq!(decode_key("%4").unwrap(), "%4");
        assert!(decode_key("%ff%fe").unwrap_err().contains("UTF-8"));
    }

    #[test]
    fn a_notification_names_the_uploads_in_its_bucket() {
        let record = |bucket: &str, key: &str| {
            serde_json::json!({
                "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                "eventTime": "2026-11-26T13:36:56.123Z", "eventName": "ObjectCreated:Post",
                "userIdentity": {"principalId": "AWS:X"}, "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {}, "s3": {"s3SchemaVersion": "1.0", "configurationId": "uploads",
                "bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
                "object": {"key": key, "size": 3, "eTag": "x", "sequencer": "0"}}
            })
        };
        let body = serde_json::json!({"Records": [record("uploads", "01A"), record("other", "01B"), record("uploads", "01%2BC+D")]});
        assert_eq!(
            s3_notification(&body.to_string(), "uploads").unwrap(),
            Notification::Uploads(vec!["01A".into(), "01+C D".into()])
        );
        let test_event = r#"{"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "uploads"}"#;
        assert_eq!(s3_notification(test_event, "uploads").unwrap(), Notification::Test);
        let minimal = r#"{"Records": [{"s3": {"bucket": {"name": "uploads"}, "object": {"key": "01E"}}}]}"#;
        assert_eq!(
            s3_notification(minimal, "uploads").unwrap(),
            Notification::Uploads(vec!["01E".into()])
        );
        let error = s3_notification(r#"{"Records": [{"s3": {}}]}"#, "uploads").unwrap_err();
        assert!(error.starts_with("not an S3 event notification"), "{error}");
    }
}
