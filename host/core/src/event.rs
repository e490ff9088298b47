//! MediaConvert's "MediaConvert Job State Change" event, as EventBridge delivers it. The
//! embedded transcoder emits the same shape, so one handler serves both modes.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{JobOutput, JobResult, JobStatus};

pub const DETAIL_TYPE: &str = "MediaConvert Job State Change";
pub const SOURCE: &str = "aws.mediaconvert";

/// The event for a finished job. Paths in it are full URIs (`<output prefix><path>`).
pub fn job_state_event(video_id: &str, output_prefix: &str, result: &JobResult, time_ms: u64) -> Value {
    let time = rfc3339(time_ms);
    let mut detail = json!({
        "timestamp": time_ms,
        "accountId": "000000000000",
        "queue": "embedded",
        "jobId": result.job_id,
        "status": match result.status { JobStatus::Complete => "COMPLETE", JobStatus::Error => "ERROR" },
        "userMetadata": { "video_id": video_id },
    });
    match result.status {
        JobStatus::Error => {
            detail["errorCode"] = json!(result.error_code.unwrap_or(1999));
            detail["errorMessage"] = json!(result.error_message.clone().unwrap_or_default());
        }
        JobStatus::Complete => {
            let outputs: Vec<Value> = result
                .outputs
                .iter()
                .map(|o| {
                    json!({
                        "outputFilePaths": [format!("{output_prefix}{}", o.path)],
                        "durationInMs": o.duration_ms,
                        "videoDetails": { "widthInPx": o.width, "heightInPx": o.height },
                    })
                })
                .collect();
            let mut groups = vec![json!({
                "outputDetails": outputs,
                "playlistFilePaths": result.playlist_path.iter().map(|p| format!("{output_prefix}{p}")).collect::<Vec<_>>(),
                "type": "HLS_GROUP",
            })];
            if let Some(thumbnail) = &result.thumbnail_path {
                groups.push(json!({
                    "outputDetails": [{ "outputFilePaths": [format!("{output_prefix}{thumbnail}")] }],
                    "type": "FILE_GROUP",
                }));
            }
            detail["outputGroupDetails"] = json!(groups);
        }
    }
    json!({
        "version": "0",
        "id": format!("{}-{}", result.job_id, detail["status"].as_str().unwrap_or_default()),
        "detail-type": DETAIL_TYPE,
        "source": SOURCE,
        "account": "000000000000",
        "time": time,
        "region": "local",
        "resources": [],
        "detail": detail,
    })
}

/// `2026-11-26T13:36:56.123Z` for milliseconds since the Unix epoch (UTC).
pub fn rfc3339(ms: u64) -> String {
    let (days, rest) = ((ms / 86_400_000) as i64, ms % 86_400_000);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s, milli) = (rest / 3_600_000, rest / 60_000 % 60, rest / 1000 % 60, rest % 1000);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
}

/// What a job-state event says, with output paths made relative to `output_prefix`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobStateChange {
    pub video_id: String,
    pub result: JobResult,
}

/// Reads a job-state event; `Err` says why it is not one vodpipe can use.
pub fn parse_job_state_event(event: &Value, output_prefix: impl Fn(&str) -> String) -> Result<JobStateChange, String> {
    if event["detail-type"] != DETAIL_TYPE || event["source"] != SOURCE {
        return Err("not a MediaConvert job state change".into());
    }
    let detail = &event["detail"];
    let video_id = detail["userMetadata"]["video_id"]
        .as_str()
        .ok_or("the job has no video_id in its user metadata")?;
    let job_id = detail["jobId"].as_str().ok_or("no jobId")?.to_owned();
    let prefix = output_prefix(video_id);
    let relative = |uri: &str| uri.strip_prefix(prefix.as_str()).unwrap_or(uri).to_owned();
    let status = match detail["status"].as_str() {
        Some("COMPLETE") => JobStatus::Complete,
        Some("ERROR") => JobStatus::Error,
        other => return Err(format!("status {other:?} is not final")),
    };
    let groups = detail["outputGroupDetails"].as_array().cloned().unwrap_or_default();
    let hls = groups.iter().find(|g| g["type"] == "HLS_GROUP");
    let outputs = hls
        .and_then(|g| g["outputDetails"].as_array())
        .map(|outputs| {
            outputs
                .iter()
                .filter_map(|o| {
                    Some(JobOutput {
                        path: relative(o["outputFilePaths"][0].as_str()?),
                        width: o["videoDetails"]["widthInPx"].as_u64().unwrap_or(0) as u32,
                        height: o["videoDetails"]["heightInPx"].as_u64().unwrap_or(0) as u32,
                        duration_ms: o["durationInMs"].as_u64().unwrap_or(0),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let thumbnail_path = groups
        .iter()
        .find(|g| g["type"] == "FILE_GROUP")
        .and_then(|g| g["outputDetails"][0]["outputFilePaths"][0].as_str())
        .map(relative);
    Ok(JobStateChange {
        video_id: video_id.to_owned(),
        result: JobResult {
            job_id,
            status,
            error_code: detail["errorCode"].as_i64().map(|c| c as i32),
            error_message: detail["errorMessage"].as_str().map(str::to_owned),
            playlist_path: hls.and_then(|g| g["playlistFilePaths"][0].as_str()).map(relative),
            outputs,
            thumbnail_path,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_complete_event_round_trips() {
        let result = JobResult {
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
        };
        let event = job_state_event("v1", "file:///media/v1/", &result, 1_795_700_216_123);
        let parsed = parse_job_state_event(&event, |id| format!("file:///media/{id}/")).unwrap();
        assert_eq!(
            parsed,
            JobStateChange {
                video_id: "v1".into(),
                result
            }
        );
    }

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_795_700_216_123), "2026-11-26T13:36:56.123Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn other_events_are_refused() {
        assert!(parse_job_state_event(&json!({"detail-type": "Object Created"}), |_| String::new()).is_err());
    }
}
