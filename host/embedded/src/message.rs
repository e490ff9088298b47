//! What a queued message is about, read from its body without handling it: its kind and the
//! video it concerns. Dead-letter listings and redrives use it; the worker's handlers parse
//! each kind in full.

use serde_json::Value;

/// The three kinds of message the embedded queue carries (see the worker), or a body the
/// worker cannot handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// `{"kind": "upload", "key": …}`: an upload was stored.
    Upload,
    /// `{"kind": "transcode", "video_id": …, …}`: a job to run.
    Transcode,
    /// A MediaConvert "Job State Change" event: a job's result.
    JobState,
    /// Not JSON, or no kind the worker knows.
    Unknown,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Upload => "upload",
            MessageKind::Transcode => "transcode",
            MessageKind::JobState => "job-state",
            MessageKind::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub kind: MessageKind,
    /// The upload's `key`, a transcode's `video_id` or a job-state event's
    /// `detail.userMetadata.video_id`, whichever the body has first — the video the worker
    /// fails when it gives up on the message.
    pub video_id: Option<String>,
}

pub fn subject(body: &str) -> Subject {
    let Ok(body) = serde_json::from_str::<Value>(body) else {
        return Subject {
            kind: MessageKind::Unknown,
            video_id: None,
        };
    };
    let kind = match body["kind"].as_str() {
        Some("upload") => MessageKind::Upload,
        Some("transcode") => MessageKind::Transcode,
        _ if body["detail-type"].is_string() => MessageKind::JobState,
        _ => MessageKind::Unknown,
    };
    let video_id = body["key"]
        .as_str()
        .or(body["video_id"].as_str())
        .or(body["detail"]["userMetadata"]["video_id"].as_str())
        .map(str::to_owned);
    Subject { kind, video_id }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_names_its_video() {
        let cases = [
            (r#"{"kind": "upload", "key": "01A"}"#, MessageKind::Upload, Some("01A")),
            (
                r#"{"kind": "transcode", "video_id": "01B", "job_id": "01B-hls", "job": {}}"#,
                MessageKind::Transcode,
                Some("01B"),
            ),
            (
                r#"{"detail-type": "MediaConvert Job State Change", "detail": {"userMetadata": {"video_id": "01C"}}}"#,
                MessageKind::JobState,
                Some("01C"),
            ),
            (r#"{"kind": "upload"}"#, MessageKind::Upload, None),
            (r#"{"kind": "resize", "key": "01D"}"#, MessageKind::Unknown, Some("01D")),
            ("{ not json", MessageKind::Unknown, None),
            ("[1, 2]", MessageKind::Unknown, None),
        ];
        for (body, kind, video) in cases {
            let found = subject(body);
            assert_eq!(found.kind, kind, "{body}");
            assert_eq!(found.video_id.as_deref(), video, "{body}");
        }
    }
}
