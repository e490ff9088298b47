//! Video records: create (after the upload), read, list, delete.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use vodpipe_core::pipeline::created_at_ms;
use vodpipe_core::{Cursor, Described, Page, VideoRecord, VideoStatus};

use crate::error::ApiError;
use crate::extract::{Body, Query, SignedIn};
use crate::views::{ListQuery, NewVideo, VideoList, VideoView, check_details};
use crate::{ApiState, blocking, stored};

const DEFAULT_PAGE: u32 = 20;
const MAX_PAGE: u32 = 100;

fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Records an uploaded video: its owner must be the caller (the upload's
/// `x-amz-meta-user-id`). Safe in either order with the upload event.
#[utoipa::path(post, path = "/api/videos", tag = "videos", security(("bearer" = [])), request_body = NewVideo,
    responses((status = 201, body = VideoView),
              (status = 400, body = crate::error::ErrorBody),
              (status = 403, description = "the upload belongs to someone else", body = crate::error::ErrorBody),
              (status = 404, description = "nothing was uploaded with this id", body = crate::error::ErrorBody),
              (status = 409, description = "the video was already recorded", body = crate::error::ErrorBody)))]
pub async fn create_video(
    State(state): State<ApiState>,
    SignedIn(caller): SignedIn,
    Body(video): Body<NewVideo>,
) -> Result<(StatusCode, Json<VideoView>), ApiError> {
    if !valid_id(&video.video_id) {
        return Err(ApiError::invalid("video_id: not a video id"));
    }
    let details = check_details(&video).map_err(ApiError::invalid)?;
    let media_base = state.media_base.clone();
    blocking(move || {
        let id = video.video_id.as_str();
        match stored(state.objects.head(id))? {
            Some(meta) if meta.user_id.as_deref() != Some(caller.user_id.as_str()) => {
                return Err(ApiError::forbidden("this upload belongs to someone else"));
            }
            Some(_) => {}
            // Processed uploads are deleted; their record (made by the upload event, with
            // the upload's owner) is what remains to check against.
            None if stored(state.videos.get(id))?.is_none() => {
                return Err(ApiError::not_found(format!("nothing was uploaded as {id}")));
            }
            None => {}
        }
        let created = created_at_ms(id, &*state.clock);
        match stored(state.videos.describe(id, &caller.user_id, &details, created))? {
            Described::Created(record) | Described::Completed(record) => {
                tracing::info!(video_id = id, "video recorded");
                // A video described after it was published joins the public list now.
                state.public_pages.clear();
                Ok((StatusCode::CREATED, Json(VideoView::new(&record, &media_base))))
            }
            Described::AlreadyDescribed => Err(ApiError::conflict(format!("video {id} is already recorded"))),
            Described::NotOwner => Err(ApiError::forbidden("this upload belongs to someone else")),
        }
    })
    .await
}

/// Published videos, newest first.
#[utoipa::path(get, path = "/api/videos", tag = "videos", params(ListQuery),
    responses((status = 200, body = VideoList), (status = 400, body = crate::error::ErrorBody)))]
pub async fn list_videos(State(state): State<ApiState>, Query(query): Query<ListQuery>) -> Result<Response, ApiError> {
    let (after, limit) = page_request(&query)?;
    let cache = after.is_none().then(|| state.public_pages.clone());
    if let Some(page) = cache.as_ref().and_then(|c| c.get(limit)) {
        return Ok(public(page, &state));
    }
    let videos = state.videos.clone();
    let page = listing(&state, move || stored(videos.list_done(after.as_ref(), limit))).await?;
    let page = Bytes::from(render(page, &state.media_base)?);
    if let Some(cache) = cache {
        cache.put(limit, page.clone());
    }
    Ok(public(page, &state))
}

/// The caller's videos in every status, newest first.
#[utoipa::path(get, path = "/api/me/videos", tag = "videos", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = VideoList), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list_my_videos(
    State(state): State<ApiState>,
    SignedIn(caller): SignedIn,
    Query(query): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let (after, limit) = page_request(&query)?;
    let videos = state.videos.clone();
    let page = listing(&state, move || {
        stored(videos.list_owned(&caller.user_id, after.as_ref(), limit))
    })
    .await?;
    let body = render(page, &state.media_base)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// A video: published ones for anyone, others for their owner only.
#[utoipa::path(get, path = "/api/videos/{id}", tag = "videos", params(("id" = String, Path)),
    responses((status = 200, body = VideoView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_video(
    State(state): State<ApiState>,
    caller: Option<SignedIn>,
    Path(id): Path<String>,
) -> Result<Json<VideoView>, ApiError> {
    let record = find(&state, id).await?;
    let owner = caller.is_some_and(|SignedIn(c)| record.user_id.as_deref() == Some(c.user_id.as_str()));
    if record.status != VideoStatus::Done && !owner {
        // Not published: to anyone but its owner it does not exist.
        return Err(ApiError::not_found(format!("no video {}", record.id)));
    }
    Ok(Json(VideoView::new(&record, &state.media_base)))
}

/// Deletes a video, its media and any upload left: owner only.
#[utoipa::path(delete, path = "/api/videos/{id}", tag = "videos", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204, description = "deleted"), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete_video(
    State(state): State<ApiState>,
    SignedIn(caller): SignedIn,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let record = find(&state, id).await?;
    if record.user_id.as_deref() != Some(caller.user_id.as_str()) {
        return Err(if record.status == VideoStatus::Done {
            ApiError::forbidden("only the owner can delete a video")
        } else {
            ApiError::not_found(format!("no video {}", record.id))
        });
    }
    blocking(move || {
        // The upload first, so no redelivered upload event can bring the record back; the
        // record next, so a transcode still running publishes nothing; the media last.
        stored(state.objects.delete_source(&record.id))?;
        stored(state.videos.delete_video(&record.id))?;
        stored(state.objects.delete_media(&record.id))?;
        state.public_pages.clear();
        tracing::info!(video_id = record.id, "video deleted");
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

async fn find(state: &ApiState, id: String) -> Result<VideoRecord, ApiError> {
    if !valid_id(&id) {
        return Err(ApiError::not_found(format!("no video {id}")));
    }
    let state = state.clone();
    blocking(move || stored(state.videos.get(&id))?.ok_or_else(|| ApiError::not_found(format!("no video {id}")))).await
}

/// Runs a listing where the handler is when the store answers listings without waiting
/// (measured: a third more pages a second than handing each to the blocking pool), otherwise
/// on the blocking pool.
async fn listing(
    state: &ApiState,
    list: impl FnOnce() -> Result<Page, ApiError> + Send + 'static,
) -> Result<Page, ApiError> {
    if state.videos.lists_without_waiting() {
        list()
    } else {
        blocking(list).await
    }
}

fn page_request(query: &ListQuery) -> Result<(Option<Cursor>, usize), ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid(format!(
            "limit: must be 1 to {MAX_PAGE} (got {limit})"
        )));
    }
    let after = match &query.cursor {
        Some(token) => {
            Some(Cursor::decode(token).ok_or_else(|| ApiError::invalid("cursor: not a cursor this API gave out"))?)
        }
        None => None,
    };
    Ok((after, limit as usize))
}

/// A page as JSON, written into a buffer sized for it up front (a video is about 1 KB of
/// JSON; growing from empty would copy the page several times).
fn render(page: Page, media_base: &str) -> Result<Vec<u8>, ApiError> {
    let list = VideoList {
        videos: page
            .videos
            .into_iter()
            .map(|r| VideoView::from_record(r, media_base))
            .collect(),
        next_cursor: page.next.map(|c| c.encode()),
    };
    let mut body = Vec::with_capacity(256 + 1024 * list.videos.len());
    serde_json::to_writer(&mut body, &list).map_err(|e| ApiError::internal(format!("writing the listing: {e}")))?;
    Ok(body)
}

/// The public listing, cacheable by browsers and CDNs as long as the server caches it.
fn public(page: Bytes, state: &ApiState) -> Response {
    let cache_control = format!("public, max-age={}", state.public_pages.ttl().as_secs());
    (
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::CACHE_CONTROL, cache_control),
        ],
        page,
    )
        .into_response()
}
