//! `POST /api/uploads`: a new video id and a presigned POST form to upload it with. The
//! form pins the object key, the owner's `x-amz-meta-user-id` and the size; S3 (AWS mode) or
//! vodpipe's upload endpoint (embedded mode) enforce it.

use std::time::{Duration, SystemTime};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use vodpipe_presign::{Credentials, PresignedPost, UploadRules, presign_post};

use crate::ApiState;
use crate::error::ApiError;
use crate::extract::SignedIn;
use crate::views::UploadTicket;

/// The original's limit: 100 MB per video.
pub const MAX_UPLOAD_BYTES: u64 = 100 * 1024 * 1024;
/// Long enough to upload 100 MB on a slow line, short enough that a leaked form soon dies.
pub const UPLOAD_EXPIRY: Duration = Duration::from_secs(15 * 60);

/// Presigns upload forms.
pub trait UploadSigner: Send + Sync {
    /// A form that uploads exactly `key`, owned by `user_id`, signed at `now`.
    fn presign(&self, key: &str, user_id: &str, now: SystemTime) -> Result<(PresignedPost, SystemTime), ApiError>;
    fn max_bytes(&self) -> u64;
}

/// What every upload form of one bucket says: where it is posted, the bucket, its region,
/// the size limit and how long a form lasts.
#[derive(Debug, Clone)]
pub struct PostForm {
    /// Where the form is posted (the bucket's endpoint, or vodpipe's `/upload`).
    pub url: String,
    pub bucket: String,
    pub region: String,
    pub max_bytes: u64,
    pub expires_in: Duration,
}

impl PostForm {
    /// A form that uploads exactly `key`, owned by `user_id`, signed with `credentials` at
    /// `now`; and when it expires.
    pub fn sign(
        &self,
        credentials: &Credentials,
        key: &str,
        user_id: &str,
        now: SystemTime,
    ) -> (PresignedPost, SystemTime) {
        let rules = UploadRules {
            bucket: self.bucket.clone(),
            key: key.to_owned(),
            metadata: vec![("user-id".to_owned(), user_id.to_owned())],
            content_length: 1..=self.max_bytes,
            expires_in: self.expires_in,
            region: self.region.clone(),
        };
        (presign_post(&self.url, &rules, credentials, now), now + self.expires_in)
    }
}

/// Signs forms with one fixed set of credentials (embedded mode's upload keys).
pub struct PostSigner {
    pub form: PostForm,
    pub credentials: Credentials,
}

impl UploadSigner for PostSigner {
    fn presign(&self, key: &str, user_id: &str, now: SystemTime) -> Result<(PresignedPost, SystemTime), ApiError> {
        Ok(self.form.sign(&self.credentials, key, user_id, now))
    }

    fn max_bytes(&self) -> u64 {
        self.form.max_bytes
    }
}

/// Starts an upload: returns the new video's id and the form to upload it with.
#[utoipa::path(post, path = "/api/uploads", tag = "videos", security(("bearer" = [])),
    responses((status = 201, body = UploadTicket), (status = 401, body = crate::error::ErrorBody)))]
pub async fn create_upload(
    State(state): State<ApiState>,
    SignedIn(caller): SignedIn,
) -> Result<(StatusCode, Json<UploadTicket>), ApiError> {
    let video_id = state.ids.new_id();
    let now = SystemTime::UNIX_EPOCH + Duration::from_millis(state.clock.now_ms());
    // Off the executor: a signer may have to fetch fresh temporary credentials.
    let (post, expires) = {
        let (uploads, video_id, user_id) = (state.uploads.clone(), video_id.clone(), caller.user_id.clone());
        crate::blocking(move || uploads.presign(&video_id, &user_id, now)).await?
    };
    let expires_ms = expires
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    tracing::info!(video_id, user_id = caller.user_id, "upload presigned");
    Ok((
        StatusCode::CREATED,
        Json(UploadTicket {
            video_id,
            url: post.url,
            fields: post.fields,
            max_bytes: state.uploads.max_bytes(),
            expires_at: vodpipe_core::time::rfc3339(expires_ms),
        }),
    ))
}
