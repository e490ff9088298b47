//! The web front end (`web/`, a static export) at `/`, and the `/config.json` it reads to know
//! it talks to this server (embedded mode) rather than to AWS.

use std::path::Path;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};
use vodpipe_api::ApiError;

/// `/config.json` for the front end: same-origin API, local accounts.
pub fn config_router(max_upload_bytes: u64) -> Router {
    let config = json!({ "mode": "embedded", "apiBaseUrl": "", "maxUploadBytes": max_upload_bytes });
    Router::new().route(
        "/config.json",
        get(move || {
            let config = config.clone();
            async move { ([(header::CACHE_CONTROL, "no-cache")], axum::Json(config)) }
        }),
    )
}

/// Serves the static export in `dir` for every path no other route takes: `/upload/` is
/// `upload/index.html`; unknown pages get `404.html` with a 404. Unknown `/api/` paths stay
/// JSON errors.
pub fn with_site(router: Router, dir: &Path) -> Router {
    let files = ServeDir::new(dir)
        .append_index_html_on_directories(true)
        .not_found_service(ServeFile::new(dir.join("404.html")));
    router
        // POST /upload is the S3-compatible upload endpoint; a browser typing /upload means
        // the page.
        .route(
            "/upload",
            get(|| async { axum::response::Redirect::permanent("/upload/") }),
        )
        .fallback(move |request: Request| {
            let files = files.clone();
            async move {
                let path = request.uri().path().to_owned();
                if path.starts_with("/api/") || path == "/api" {
                    return ApiError::not_found("no such route").into_response();
                }
                let mut response = match files.oneshot(request).await {
                    Ok(response) => response.into_response(),
                    Err(never) => match never {},
                };
                site_headers(&path, &mut response);
                response
            }
        })
}

/// Next.js's hashed assets never change; pages and everything else are revalidated.
fn site_headers(path: &str, response: &mut Response) {
    let cache = if path.starts_with("/_next/static/") && response.status() == StatusCode::OK {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Method, Request, StatusCode, header};
    use tower::ServiceExt;

    /// A site with a home page and an upload page, next to a POST-only `/upload` and an API
    /// route, as the embedded server mounts them.
    async fn get(method: Method, path: &str) -> (StatusCode, String, String) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "home").unwrap();
        std::fs::write(dir.path().join("404.html"), "missing").unwrap();
        std::fs::create_dir(dir.path().join("upload")).unwrap();
        std::fs::write(dir.path().join("upload/index.html"), "upload page").unwrap();
        let routes = axum::Router::new()
            .route("/upload", axum::routing::post(|| async { "upload endpoint" }))
            .route("/api/videos", axum::routing::get(|| async { "videos" }))
            .merge(super::config_router(100));
        let app = super::with_site(routes, dir.path());
        let request = Request::builder().method(method).uri(path).body(Body::empty()).unwrap();
        let response = app.oneshot(request).await.unwrap();
        let status = response.status();
        let extra = response
            .headers()
            .get(header::LOCATION)
            .or(response.headers().get(header::CACHE_CONTROL))
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, String::from_utf8_lossy(&body).into_owned(), extra)
    }

    #[tokio::test]
    async fn pages_api_and_the_upload_endpoint_share_the_paths() {
        assert_eq!(get(Method::GET, "/").await.1, "home");
        assert_eq!(get(Method::GET, "/upload/").await.1, "upload page");
        let (status, _, location) = get(Method::GET, "/upload").await;
        assert_eq!(
            (status, location.as_str()),
            (StatusCode::PERMANENT_REDIRECT, "/upload/")
        );
        assert_eq!(get(Method::POST, "/upload").await.1, "upload endpoint");
        assert_eq!(get(Method::GET, "/api/videos").await.1, "videos");
        let (status, body, _) = get(Method::GET, "/api/nope").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body.contains("\"error\""), "unknown API paths stay JSON: {body}");
        let (status, body, cache) = get(Method::GET, "/nope/").await;
        assert_eq!(
            (status, body.as_str(), cache.as_str()),
            (StatusCode::NOT_FOUND, "missing", "no-cache")
        );
        let (status, body, cache) = get(Method::GET, "/config.json").await;
        assert_eq!((status, cache.as_str()), (StatusCode::OK, "no-cache"));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&body).unwrap(),
            serde_json::json!({"mode": "embedded", "apiBaseUrl": "", "maxUploadBytes": 100})
        );
    }
}
