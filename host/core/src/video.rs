use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoStatus {
    Processing,
    Done,
    Failed,
}

/// The part of a video record a post-processor sees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Video {
    pub id: String,
    pub user_id: String,
    pub title: String,
    pub status: VideoStatus,
    /// Object key of the raw upload.
    pub source_key: String,
}

/// Everything vodpipe stores about a video.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoRecord {
    /// A ULID; also the object key of the raw upload.
    pub id: String,
    pub user_id: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub status: VideoStatus,
    pub failure_reason: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub created_at_ms: u64,
    pub job_id: Option<String>,
    pub plan: Option<crate::Plan>,
    pub renditions: Vec<crate::Rendered>,
    /// Master playlist, relative to the video's output prefix.
    pub playback_path: Option<String>,
    pub thumbnail_path: Option<String>,
    pub duration_ms: Option<u64>,
}

impl VideoRecord {
    pub fn new(id: &str, user_id: Option<String>, created_at_ms: u64) -> Self {
        Self {
            id: id.to_owned(),
            user_id,
            title: None,
            description: None,
            status: VideoStatus::Processing,
            failure_reason: None,
            created_at_ms,
            job_id: None,
            plan: None,
            renditions: Vec::new(),
            playback_path: None,
            thumbnail_path: None,
            duration_ms: None,
        }
    }

    /// What the post-processor sees.
    pub fn summary(&self) -> Video {
        Video {
            id: self.id.clone(),
            user_id: self.user_id.clone().unwrap_or_default(),
            title: self.title.clone().unwrap_or_default(),
            status: self.status,
            source_key: self.id.clone(),
        }
    }
}

/// The final state of a video, applied at once.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    pub failure_reason: Option<String>,
    pub renditions: Vec<crate::Rendered>,
    pub playback_path: Option<String>,
    pub thumbnail_path: Option<String>,
    pub duration_ms: Option<u64>,
}

impl Outcome {
    pub fn failed(reason: impl Into<String>) -> Self {
        Self {
            failure_reason: Some(reason.into()),
            ..Default::default()
        }
    }

    pub fn status(&self) -> VideoStatus {
        if self.failure_reason.is_some() {
            VideoStatus::Failed
        } else {
            VideoStatus::Done
        }
    }
}
