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
    /// DASH MPD over the same segments (CMAF packaging), relative to the output prefix.
    pub dash_path: Option<String>,
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
            dash_path: None,
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
    pub dash_path: Option<String>,
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

/// The creation time a ULID carries (its first 10 characters, milliseconds since the Unix
/// epoch). Video ids are ULIDs minted when the upload is requested, so every path that
/// creates a record (the upload event, the API) agrees on `created_at_ms`.
pub fn ulid_time_ms(id: &str) -> Option<u64> {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    if id.len() != 26 {
        return None;
    }
    let mut ms: u64 = 0;
    for c in id[..10].bytes() {
        let digit = ALPHABET.iter().position(|&a| a == c.to_ascii_uppercase())? as u64;
        ms = ms.checked_mul(32)?.checked_add(digit)?;
    }
    // 10 base-32 digits carry 50 bits; a ULID's time is 48.
    (ms < 1 << 48).then_some(ms)
}

/// Where a listing goes on from: the last video of the previous page. Listings are
/// newest first, ordered by (created_at_ms, id) descending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub created_at_ms: u64,
    pub id: String,
}

impl Cursor {
    pub fn after(record: &VideoRecord) -> Self {
        Self {
            created_at_ms: record.created_at_ms,
            id: record.id.clone(),
        }
    }

    /// An opaque token for clients: `<created_at_ms>.<id>`.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.created_at_ms, self.id)
    }

    pub fn decode(token: &str) -> Option<Self> {
        let (ms, id) = token.split_once('.')?;
        let valid_id =
            (1..=64).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        Some(Self {
            created_at_ms: ms.parse().ok()?,
            id: valid_id.then(|| id.to_owned())?,
        })
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    pub videos: Vec<VideoRecord>,
    /// Present when more videos follow.
    pub next: Option<Cursor>,
}

/// What the uploader says about a video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Details {
    pub title: String,
    pub description: String,
}

/// What [`crate::ports::VideoRepository::describe`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Described {
    /// No record existed: it was created, `processing`.
    Created(VideoRecord),
    /// The upload event had created the record: the details were added.
    Completed(VideoRecord),
    /// The video already has its details.
    AlreadyDescribed,
    /// The record belongs to someone else.
    NotOwner,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulid_time_is_read_from_the_first_ten_characters() {
        assert_eq!(ulid_time_ms("01ARZ3NDEKTSV4RRFFQ69G5FAV"), Some(1_469_922_850_259));
        assert_eq!(ulid_time_ms("00000000000000000000000000"), Some(0));
        assert_eq!(ulid_time_ms("7ZZZZZZZZZZZZZZZZZZZZZZZZZ"), Some((1 << 48) - 1));
        assert_eq!(ulid_time_ms("80000000000000000000000000"), None, "overflows 48 bits");
        assert_eq!(ulid_time_ms("01ARZ3NDEKTSV4RRFFQ69G5FA"), None, "too short");
        assert_eq!(
            ulid_time_ms("01ARZ3NDEUTSV4RRFFQ69G5FAV"),
            None,
            "U is not Crockford base 32"
        );
        assert_eq!(ulid_time_ms("video-1"), None);
    }

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let cursor = Cursor {
            created_at_ms: 42,
            id: "01ARZ3NDEKTSV4RRFFQ69G5FAV".into(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        for bad in ["", "42", ".x", "x.y", "42.", "42.a/b", "-1.x", "42.a b"] {
            assert_eq!(Cursor::decode(bad), None, "{bad:?}");
        }
    }
}
