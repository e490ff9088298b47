//! vodpipe's HTTP API: one axum [`Router`] over the core's ports. `vodpipe serve` mounts it
//! next to the embedded upload endpoint and media; in AWS mode a Lambda serves the same
//! Router behind API Gateway. Handlers only translate HTTP; decisions live in the core and
//! the adapters behind [`ApiState`].

pub mod accounts;
pub mod cache;
pub mod error;
pub mod extract;
pub mod limits;
pub mod openapi;
pub mod uploads;
pub mod videos;
pub mod views;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, header};
use axum::routing::{get, post};
use tower_http::cors::{Any, CorsLayer};
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use vodpipe_core::auth::Authenticator;
use vodpipe_core::ports::{Clock, IdGenerator, ObjectStore, PortError, VideoRepository};

pub use accounts::LocalAuth;
pub use error::ApiError;
pub use uploads::{PostSigner, UploadSigner};

/// JSON bodies are small: a title and a description at most.
pub const MAX_JSON_BYTES: usize = 64 * 1024;

/// Everything the handlers use, shared by all requests.
#[derive(Clone)]
pub struct ApiState {
    pub videos: Arc<dyn VideoRepository>,
    pub objects: Arc<dyn ObjectStore>,
    pub authenticator: Arc<dyn Authenticator>,
    pub uploads: Arc<dyn UploadSigner>,
    /// Local accounts and their rate limits (embedded mode); `None` where a user pool
    /// (Cognito) signs users in.
    pub accounts: Option<LocalAuth>,
    /// Where video media prefixes are served from: `/media`, or a CDN origin.
    pub media_base: String,
    pub ids: Arc<dyn IdGenerator>,
    pub clock: Arc<dyn Clock>,
    /// The public listing's first pages, rendered ([`cache::PageCache`]).
    pub public_pages: Arc<cache::PageCache>,
}

/// Video ids are ULIDs: unique, and sortable by creation time.
pub struct UlidIds;

impl IdGenerator for UlidIds {
    fn new_id(&self) -> String {
        ulid::Ulid::generate().to_string()
    }
}

pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Request ids are ULIDs: unique, and sortable like the logs they tag.
#[derive(Clone, Copy, Default)]
struct UlidRequestIds;

impl MakeRequestId for UlidRequestIds {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        ulid::Ulid::generate().to_string().parse().ok().map(RequestId::new)
    }
}

/// The API routes, `/openapi.json` and `/healthz`, with request ids, tracing, CORS and body
/// limits.
pub fn router(state: ApiState) -> Router {
    with_request_layers(routes(state))
}

/// The routes alone, to merge with others before [`with_request_layers`] wraps them all.
pub fn routes(state: ApiState) -> Router {
    Router::new()
        .route("/api/uploads", post(uploads::create_upload))
        .route("/api/videos", get(videos::list_videos).post(videos::create_video))
        .route("/api/videos/{id}", get(videos::get_video).delete(videos::delete_video))
        .route("/api/me", get(accounts::me))
        .route("/api/me/videos", get(videos::list_my_videos))
        .route("/api/auth/signup", post(accounts::sign_up))
        .route("/api/auth/signin", post(accounts::sign_in))
        .route("/api/auth/refresh", post(accounts::refresh))
        .route("/api/auth/signout", post(accounts::sign_out))
        .route("/healthz", get(health))
        .route("/openapi.json", get(openapi::document))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_JSON_BYTES))
        .with_state(state)
}

/// Request ids (kept from the caller's `x-request-id` or made), a tracing span per request
/// carrying it, and CORS. Bearer tokens are not cookies, so any origin may call (and media
/// players on any origin may fetch ranges).
pub fn with_request_layers(router: Router) -> Router {
    router
        .layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods(Any)
                .allow_headers([
                    header::AUTHORIZATION,
                    header::CONTENT_TYPE,
                    header::RANGE,
                    REQUEST_ID.clone(),
                ])
                .expose_headers([
                    REQUEST_ID.clone(),
                    header::RETRY_AFTER,
                    header::CONTENT_RANGE,
                    header::CONTENT_LENGTH,
                    header::ACCEPT_RANGES,
                ])
                .max_age(Duration::from_secs(3600)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let id = request
                .headers()
                .get(&REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.uri().path())
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), UlidRequestIds))
}

#[utoipa::path(get, path = "/healthz", tag = "service", responses((status = 200, body = views::Health)))]
pub async fn health() -> axum::Json<views::Health> {
    axum::Json(views::Health { status: "ok".into() })
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

/// Runs a storage call off the async executor: the ports are synchronous and may wait on
/// disk or a lock.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("a storage task failed: {e}")))?
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::internal(format!("a task failed: {e}"))
    }
}

/// Shorthand for storage results inside [`blocking`].
pub(crate) fn stored<T>(result: Result<T, PortError>) -> Result<T, ApiError> {
    result.map_err(ApiError::from)
}
