//! What a queued message is about, read from its body without handling it: its kind, the
//! video it concerns and the job it is about. Dead-letter listings, redrives and the worker's
//! give-up use it.

use std::fmt;

use serde_json::Value;

use crate::work::WorkMessage;

/// The three kinds of [`WorkMessage`], or a body the worker cannot handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// An upload was stored.
    Upload,
    /// A job to run.
    Transcode,
    /// A job's result.
    JobResult,
    /// Not a work message (not JSON, or no kind this version knows).
    Unknown,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Upload => "upload",
            MessageKind::Transcode => "transcode",
            MessageKind::JobResult => "job-result",
            MessageKind::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub kind: MessageKind,
    /// [`WorkMessage::video_id`]: the video the worker fails when it gives up on the
    /// message. A body that is not a work message still names its video by a top-level
    /// `video_id` or `key`, when it has one.
    pub video_id: Option<String>,
    /// [`WorkMessage::job_id`]: the job whose result the message is or makes.
    pub job_id: Option<String>,
}

/// Why a redrive leaves a failed video `failed`: handling the message again could not bring
/// the video to an end, so putting it back to `processing` would leave it there for ever.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeptFailed {
    /// A transcode or job-state event of a job that is not the one the video records (or the
    /// video records none): the pipeline ignores that job's result for this video.
    OtherJob {
        message_job: String,
        video_job: Option<String>,
    },
    /// A message the worker cannot handle (no kind it knows, no job named): it would fail
    /// again, and the worker fail the video again.
    Unhandled,
    /// A transcode whose job already ran to a result: the worker would not run it again, so
    /// it cannot change the video (the result's own message decides it).
    ResultQueued { job: String },
}

impl fmt::Display for KeptFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeptFailed::OtherJob {
                message_job,
                video_job: Some(video_job),
            } => write!(
                f,
                "the message is about job {message_job}, not the video's job {video_job}, whose result alone can finish it"
            ),
            KeptFailed::OtherJob {
                message_job,
                video_job: None,
            } => write!(
                f,
                "the message is about job {message_job}, and the video has no job whose result could finish it"
            ),
            KeptFailed::Unhandled => write!(f, "the worker cannot handle the message; it would only fail again"),
            KeptFailed::ResultQueued { job } => write!(
                f,
                "job {job} already ran to a result, so its transcode would not run again"
            ),
        }
    }
}

impl Subject {
    /// Whether handling this message again can take its video, once `failed` and put back
    /// to `processing`, to `done` or `failed` again; `video_job` is the job the video
    /// records. An upload starts (or resumes) the video's own job. A transcode runs one job
    /// and a job-state event reports one, and the pipeline takes only the result of the job
    /// the video records.
    pub fn can_finish(&self, video_job: Option<&str>) -> Result<(), KeptFailed> {
        match (self.kind, &self.job_id) {
            (MessageKind::Upload, _) => Ok(()),
            (MessageKind::Transcode | MessageKind::JobResult, Some(job)) if video_job == Some(job.as_str()) => Ok(()),
            (MessageKind::Transcode | MessageKind::JobResult, Some(job)) => Err(KeptFailed::OtherJob {
                message_job: job.clone(),
                video_job: video_job.map(str::to_owned),
            }),
            (MessageKind::Transcode | MessageKind::JobResult, None) | (MessageKind::Unknown, _) => {
                Err(KeptFailed::Unhandled)
            }
        }
    }
}

pub fn subject(body: &str) -> Subject {
    match WorkMessage::parse(body) {
        Ok(message) => Subject {
            kind: match message {
                WorkMessage::Upload { .. } => MessageKind::Upload,
                WorkMessage::Transcode { .. } => MessageKind::Transcode,
                WorkMessage::JobResult { .. } => MessageKind::JobResult,
            },
            video_id: Some(message.video_id().to_owned()),
            job_id: message.job_id().map(str::to_owned),
        },
        Err(_) => {
            let body = serde_json::from_str::<Value>(body).unwrap_or_default();
            Subject {
                kind: MessageKind::Unknown,
                video_id: body["video_id"].as_str().or(body["key"].as_str()).map(str::to_owned),
                job_id: None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_names_its_video_and_job() {
        let result = r#"{"kind": "job-result", "video_id": "01C", "result": {"job_id": "01C-hls", "status": "ERROR",
            "error_code": 1999, "error_message": "broke", "playlist_path": null, "outputs": [], "thumbnail_path": null}}"#;
        let cases = [
            (
                r#"{"kind": "upload", "key": "01A"}"#,
                MessageKind::Upload,
                Some("01A"),
                None,
            ),
            (
                r#"{"kind": "transcode", "video_id": "01B", "job_id": "01B-hls", "job": {}}"#,
                MessageKind::Transcode,
                Some("01B"),
                Some("01B-hls"),
            ),
            (result, MessageKind::JobResult, Some("01C"), Some("01C-hls")),
            (r#"{"kind": "upload"}"#, MessageKind::Unknown, None, None),
            (
                r#"{"kind": "resize", "key": "01D", "job_id": "01D-hls"}"#,
                MessageKind::Unknown,
                Some("01D"),
                None,
            ),
            ("{ not json", MessageKind::Unknown, None, None),
            ("[1, 2]", MessageKind::Unknown, None, None),
        ];
        for (body, kind, video, job) in cases {
            let found = subject(body);
            assert_eq!(found.kind, kind, "{body}");
            assert_eq!(found.video_id.as_deref(), video, "{body}");
            assert_eq!(found.job_id.as_deref(), job, "{body}");
        }
    }

    #[test]
    fn only_a_message_about_the_videos_own_job_can_finish_it() {
        let upload = subject(r#"{"kind": "upload", "key": "01A"}"#);
        assert_eq!(upload.can_finish(None), Ok(()));
        assert_eq!(upload.can_finish(Some("01A-hls")), Ok(()));
        for body in [
            r#"{"kind": "transcode", "video_id": "01A", "job_id": "01A-hls", "job": {}}"#,
            r#"{"kind": "job-result", "video_id": "01A", "result": {"job_id": "01A-hls", "status": "COMPLETE",
                "error_code": null, "error_message": null, "playlist_path": "index.m3u8", "outputs": [],
                "thumbnail_path": null}}"#,
        ] {
            let message = subject(body);
            assert_eq!(message.can_finish(Some("01A-hls")), Ok(()), "{body}");
            assert_eq!(
                message.can_finish(Some("01A-old")),
                Err(KeptFailed::OtherJob {
                    message_job: "01A-hls".into(),
                    video_job: Some("01A-old".into())
                }),
                "{body}"
            );
            assert_eq!(
                message.can_finish(None),
                Err(KeptFailed::OtherJob {
                    message_job: "01A-hls".into(),
                    video_job: None
                }),
                "{body}"
            );
        }
        assert_eq!(
            subject(r#"{"kind": "resize", "key": "01A", "job_id": "01A-hls"}"#).can_finish(Some("01A-hls")),
            Err(KeptFailed::Unhandled)
        );
    }
}
