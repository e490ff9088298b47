//! `/media/<video id>/…`: published HLS playlists, DASH manifests, segments and thumbnails,
//! with the content types players expect and byte ranges (CORS comes with the server's common
//! layers).

use std::path::Path;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::services::ServeDir;

/// The content type of a media file by its extension; HLS players are strict about these.
pub fn content_type(path: &str) -> Option<&'static str> {
    let extension = path.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match extension.as_str() {
        "m3u8" => "application/vnd.apple.mpegurl",
        "mpd" => "application/dash+xml",
        "ts" => "video/mp2t",
        "m4s" => "video/iso.segment",
        "mp4" => "video/mp4",
        "aac" => "audio/aac",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "vtt" => "text/vtt",
        _ => return None,
    })
}

/// Serves `dir` (the store's media root). Playlists and manifests are revalidated; everything
/// else is immutable once published (a video's files never change under the same id).
pub fn router(dir: &Path) -> Router {
    let files = ServeDir::new(dir).append_index_html_on_directories(false);
    Router::new()
        .fallback_service(files)
        .layer(axum::middleware::from_fn(media_headers))
}

async fn media_headers(request: Request, next: Next) -> Response {
    let kind = content_type(request.uri().path());
    let playlist = [".m3u8", ".mpd"].iter().any(|e| request.uri().path().ends_with(e));
    let mut response = next.run(request).await;
    if response.status().is_success() || response.status() == StatusCode::PARTIAL_CONTENT {
        let headers = response.headers_mut();
        if let Some(kind) = kind {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
        }
        let cache = if playlist {
            "no-cache"
        } else {
            "public, max-age=31536000, immutable"
        };
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    }
    response
}
