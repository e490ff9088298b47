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
