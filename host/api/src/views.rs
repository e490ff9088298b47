//! What the API says about videos: request and response bodies, with their OpenAPI schemas.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vodpipe_core::{VideoRecord, VideoStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Processing,
    Done,
    Failed,
}

impl From<VideoStatus> for Status {
    fn from(status: VideoStatus) -> Self {
        match status {
            VideoStatus::Processing => Self::Processing,
            VideoStatus::Done => Self::Done,
            VideoStatus::Failed => Self::Failed,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RenditionView {
    pub name: String,
    pub width: u32,
    pub height: u32,
    /// The rendition's media playlist.
    pub playlist_url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VideoView {
    /// A ULID: also the upload's object key.
    pub id: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub status: Status,
    /// Why processing failed, for people.
    pub failure_reason: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// The HLS master playlist, once `done`.
    pub playback_url: Option<String>,
    /// The DASH manifest (MPD) over the same media, once `done`, when the video was packaged
    /// as CMAF; null for MPEG-TS.
    pub dash_url: Option<String>,
    pub thumbnail_url: Option<String>,
    pub renditions: Vec<RenditionView>,
    pub duration_ms: Option<u64>,
}

impl VideoView {
    /// `media_base` is where a video's media prefix is served (`/media`, a CDN origin).
    pub fn new(record: &VideoRecord, media_base: &str) -> Self {
        Self::from_record(record.clone(), media_base)
    }

    /// As [`VideoView::new`], keeping the record's strings instead of copying them (a page
    /// of listings makes twenty of these).
    pub fn from_record(record: VideoRecord, media_base: &str) -> Self {
        let prefix = format!("{media_base}/{}/", record.id);
        let url = |path: &str| {
            let mut url = String::with_capacity(prefix.len() + path.len());
            url.push_str(&prefix);
            url.push_str(path);
            url
        };
        Self {
            playback_url: record.playback_path.as_deref().map(url),
            dash_url: record.dash_path.as_deref().map(url),
            thumbnail_url: record.thumbnail_path.as_deref().map(url),
            renditions: record
                .renditions
                .into_iter()
                .map(|r| RenditionView {
                    playlist_url: url(&r.playlist_path),
                    name: r.name,
                    width: r.width,
                    height: r.height,
                })
                .collect(),
            id: record.id,
            title: record.title,
            description: record.description,
            status: record.status.into(),
            failure_reason: record.failure_reason,
            created_at: vodpipe_core::time::rfc3339(record.created_at_ms),
            duration_ms: record.duration_ms,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VideoList {
    pub videos: Vec<VideoView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `next_cursor` of the previous page: the position after which the page starts
    /// (`<created_at_ms>.<id>`; any such position is a valid start).
    #[param(pattern = r"^[0-9]{1,19}\.[A-Za-z0-9_-]{1,64}$")]
    pub cursor: Option<String>,
    /// Videos per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVideo {
    /// The `video_id` `POST /api/uploads` returned, after the upload succeeded.
    #[schema(min_length = 1, max_length = 64, pattern = r"^[A-Za-z0-9_-]+$")]
    pub video_id: String,
    /// 1 to 200 characters once leading and trailing white space is trimmed, no control
    /// characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub title: String,
    /// Up to 5000 characters; line breaks and tabs allowed, no other control characters.
    #[serde(default)]
    #[schema(
        max_length = 5000,
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub description: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UploadTicket {
    /// The new video's id: upload it, then `POST /api/videos` with it.
    pub video_id: String,
    /// Where to POST the multipart form.
    pub url: String,
    /// Form fields to send, in this order, before the `file` field.
    pub fields: std::collections::BTreeMap<String, String>,
    /// The largest file accepted, in bytes.
    pub max_bytes: u64,
    /// When the form stops being accepted (RFC 3339).
    pub expires_at: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// 3 to 32 letters, digits, '.', '_' and '-' (compared without case).
    #[schema(min_length = 3, max_length = 32, pattern = r"^[A-Za-z0-9._-]+$")]
    pub username: String,
    /// 8 to 128 characters.
    #[schema(min_length = 8, max_length = 128)]
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokensView {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: String,
    /// Seconds the access token is valid for.
    pub expires_in: u64,
    pub user_id: String,
    pub username: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub user_id: String,
    pub username: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub status: String,
}

pub const TITLE_CHARS: std::ops::RangeInclusive<usize> = 1..=200;
pub const DESCRIPTION_CHARS: usize = 5000;

/// Checks a title and description; returns them as stored (title trimmed).
pub fn check_details(video: &NewVideo) -> Result<vodpipe_core::Details, String> {
    let title = video.title.trim();
    let count = title.chars().count();
    if !TITLE_CHARS.contains(&count) {
        return Err(format!(
            "title: must have {} to {} characters (has {count})",
            TITLE_CHARS.start(),
            TITLE_CHARS.end()
        ));
    }
    if let Some((at, c)) = title.chars().enumerate().find(|(_, c)| c.is_control()) {
        return Err(format!("title: control character {c:?} at position {}", at + 1));
    }
    let count = video.description.chars().count();
    if count > DESCRIPTION_CHARS {
        return Err(format!(
            "description: must have at most {DESCRIPTION_CHARS} characters (has {count})"
        ));
    }
    if let Some((at, c)) = video
        .description
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
    {
        return Err(format!("description: control character {c:?} at position {}", at + 1));
    }
    Ok(vodpipe_core::Details {
        title: title.to_owned(),
        description: video.description.clone(),
    })
}

#[cfg(test)]
mod tests {
    use vodpipe_core::{VideoRecord, VideoStatus};

    use super::VideoView;

    fn done(dash_path: Option<&str>) -> serde_json::Value {
        let mut record = VideoRecord::new("01V", Some("alice".into()), 0);
        record.status = VideoStatus::Done;
        record.playback_path = Some("index.m3u8".into());
        record.dash_path = dash_path.map(Into::into);
        serde_json::to_value(VideoView::new(&record, "/media")).unwrap()
    }

    #[test]
    fn a_cmaf_video_has_a_dash_url_beside_its_playback_url() {
        let view = done(Some("index.mpd"));
        assert_eq!(view["playback_url"], "/media/01V/index.m3u8");
        assert_eq!(view["dash_url"], "/media/01V/index.mpd");
        let ts = done(None);
        assert_eq!(ts["playback_url"], "/media/01V/index.m3u8");
        assert_eq!(
            ts.get("dash_url"),
            Some(&serde_json::Value::Null),
            "present, and null: {ts}"
        );
    }
}
