//! The messages the embedded queue carries: one typed enum, stored as JSON with a `kind` tag.
//!
//! They stand where AWS mode has S3 notifications, MediaConvert submissions and EventBridge
//! events, but say only what the worker needs; AWS's wire formats are the Lambda crate's.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use vodpipe_core::JobResult;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum WorkMessage {
    /// An upload was stored; its key is the video's id.
    Upload { key: String },
    /// A job to run: the CreateJob document the job builder made.
    Transcode {
        video_id: String,
        job_id: String,
        job: Value,
    },
    /// A job's result, paths relative to the video's output prefix.
    JobResult { video_id: String, result: JobResult },
}

impl WorkMessage {
    /// Reads a queued body; `Err` says what is wrong with it.
    pub fn parse(body: &str) -> Result<Self, String> {
        serde_json::from_str(body).map_err(|e| format!("not a work message: {e}"))
    }

    pub fn to_body(&self) -> String {
        serde_json::to_string(self).expect("a work message is always JSON")
    }

    /// The id it is sent with: each upload, job and result is queued once.
    pub fn dedupe_id(&self) -> String {
        match self {
            Self::Upload { key } => format!("upload:{key}"),
            Self::Transcode { job_id, .. } => format!("transcode:{job_id}"),
            Self::JobResult { result, .. } => result_dedupe_id(&result.job_id),
        }
    }

    /// The video it is about: the one the worker fails when it gives up on the message.
    pub fn video_id(&self) -> &str {
        match self {
            Self::Upload { key } => key,
            Self::Transcode { video_id, .. } | Self::JobResult { video_id, .. } => video_id,
        }
    }

    /// The job it runs or reports.
    pub fn job_id(&self) -> Option<&str> {
        match self {
            Self::Upload { .. } => None,
            Self::Transcode { job_id, .. } => Some(job_id),
            Self::JobResult { result, .. } => Some(&result.job_id),
        }
    }
}

/// The dedupe id a job's result is queued with: sent once per job, and the record that the
/// job ran.
pub fn result_dedupe_id(job_id: &str) -> String {
    format!("state:{job_id}")
}

#[cfg(test)]
mod tests {
    use vodpipe_core::{JobOutput, JobStatus};

    use super::*;

    #[test]
    fn each_kind_round_trips_with_its_tag() {
        let result = JobResult {
            job_id: "01A-hls".into(),
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
            thumbnail_path: None,
            dash_manifest_path: None,
        };
        let messages = [
            (WorkMessage::Upload { key: "01A".into() }, "upload", "upload:01A"),
            (
                WorkMessage::Transcode {
                    video_id: "01A".into(),
                    job_id: "01A-hls".into(),
                    job: serde_json::json!({"Settings": {}}),
                },
                "transcode",
                "transcode:01A-hls",
            ),
            (
                WorkMessage::JobResult {
                    video_id: "01A".into(),
                    result,
                },
                "job-result",
                "state:01A-hls",
            ),
        ];
        for (message, kind, dedupe) in messages {
            let body = message.to_body();
            assert!(body.starts_with(&format!(r#"{{"kind":"{kind}""#)), "{body}");
            assert_eq!(WorkMessage::parse(&body).unwrap(), message);
            assert_eq!(message.dedupe_id(), dedupe);
            assert_eq!(message.video_id(), "01A");
        }
    }

    #[test]
    fn a_body_that_is_not_a_work_message_says_why() {
        let error = WorkMessage::parse(r#"{"kind": "resize", "key": "01A"}"#).unwrap_err();
        assert!(error.contains("unknown variant `resize`"), "{error}");
        let error = WorkMessage::parse(r#"{"kind": "upload"}"#).unwrap_err();
        assert!(error.contains("missing field `key`"), "{error}");
        assert!(WorkMessage::parse("not json").is_err());
    }
}
