//! `POST /upload`: vodpipe's stand-in for an S3 bucket's browser POST endpoint. It enforces
//! the presigned form exactly as S3 does (signature, expiry, every condition: key, owner
//! metadata, size) and answers refusals in S3's XML, so one client works against both. The
//! file streams to a temporary file and is published only when complete and within the
//! size range: nothing partial is ever stored. Then the upload event is queued, as S3 would
//! notify the upload queue.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::io::AsyncWriteExt;
use vodpipe_core::ports::{Clock, MessageQueue};
use vodpipe_embedded::disk::DiskStore;
use vodpipe_embedded::worker::upload_event;
use vodpipe_presign::{PostError, substitute_filename, verify_post};

/// The bucket name embedded forms are signed for.
pub const BUCKET: &str = "uploads";
/// The region embedded forms are signed for.
pub const REGION: &str = "local";

/// Form fields before the file are small (a policy, a signature): this bounds their memory.
const MAX_FIELD_BYTES: usize = 64 * 1024;
const MAX_FIELDS: usize = 32;

#[derive(Clone)]
pub struct UploadEndpoint {
    pub store: Arc<DiskStore>,
    pub queue: Arc<dyn MessageQueue>,
    pub clock: Arc<dyn Clock>,
    pub access_key_id: String,
    pub secret_access_key: String,
}

pub fn router(endpoint: UploadEndpoint) -> axum::Router {
    axum::Router::new()
        .route("/upload", axum::routing::post(upload))
        // The policy's content-length-range is the limit, enforced while streaming.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(endpoint)
}

/// An S3-shaped refusal.
struct S3Error(PostError, String);

impl IntoResponse for S3Error {
    fn into_response(self) -> Response {
        let S3Error(error, request_id) = self;
        tracing::info!(code = error.code(), "upload refused: {}", error.message());
        let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let mut response = (status, error.to_xml(&request_id)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
        response
    }
}

fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned()
}

fn malformed(why: impl std::fmt::Display) -> PostError {
    PostError::InvalidRequest {
        message: format!("The multipart form could not be read: {why}"),
    }
}

/// Removes a received file unless it was published, whatever way the request ends
/// (including the client going away, which drops this future).
struct Received(PathBuf, bool);

impl Drop for Received {
    fn drop(&mut self) {
        if !self.1 {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

async fn upload(State(endpoint): State<UploadEndpoint>, headers: HeaderMap, mut multipart: Multipart) -> Response {
    let id = request_id(&headers);
    match receive(&endpoint, &mut multipart).await {
        Ok((key, status)) => {
            tracing::info!(key, "upload stored");
            let location = format!("/{BUCKET}/{key}");
            let mut response = match status {
                201 => (
                    StatusCode::CREATED,
                    format!(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostResponse><Location>{location}</Location>\
                         <Bucket>{BUCKET}</Bucket><Key>{key}</Key></PostResponse>"
                    ),
                )
                    .into_response(),
                200 => StatusCode::OK.into_response(),
                _ => StatusCode::NO_CONTENT.into_response(),
            };
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            response
        }
        Err(error) => {
            let small = headers
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
                .is_some_and(|length| length <= DRAIN_LIMIT);
            if small {
                drain(&mut multipart).await;
            }
            S3Error(error, id).into_response()
        }
    }
}

/// The largest refused request whose body is read to its end before the answer: most clients
/// send the whole body before they read a response, and a connection closed under them loses
/// the answer. A larger body is not read for nothing: the connection is closed on it.
const DRAIN_LIMIT: usize = 8 << 20;

/// Reads what is left of the form (skipping a field also reads it).
async fn drain(multipart: &mut Multipart) {
    while let Ok(Some(mut field)) = multipart.next_field().await {
        while let Ok(Some(_)) = field.chunk().await {}
    }
}

/// Reads the form, checks it, stores the file; returns the key and the success status asked for.
async fn receive(endpoint: &UploadEndpoint, multipart: &mut Multipart) -> Result<(String, u16), PostError> {
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    loop {
        let Some(mut field) = multipart.next_field().await.map_err(malformed)? else {
            return Err(PostError::InvalidArgument {
                message: "POST requires exactly one file upload per request.".into(),
                argument_name: "file".into(),
                argument_value: "0".into(),
                region: None,
            });
        };
        let name = field.name().unwrap_or_default().to_ascii_lowercase();
        if name == "file" {
            let filename = field.file_name().unwrap_or_default().to_owned();
            if let Some(key) = fields.get_mut("key") {
                *key = substitute_filename(key, &filename);
            }
            let now = SystemTime::UNIX_EPOCH + Duration::from_millis(endpoint.clock.now_ms());
            let accepted = verify_post(
                &fields,
                BUCKET,
                REGION,
                |key_id| (key_id == endpoint.access_key_id).then(|| endpoint.secret_access_key.clone()),
                now,
            )?;
            let temp = endpoint
                .store
                .upload_temp_path(&accepted.key)
                .map_err(|e| PostError::InvalidArgument {
                    message: format!("The key is not valid here: {e}"),
                    argument_name: "key".into(),
                    argument_value: accepted.key.clone(),
                    region: None,
                })?;
            let mut received = Received(temp, false);
            let size = stream_to(&received.0, &mut field, |n| accepted.check_partial_size(n)).await?;
            accepted.check_size(size)?;
            let user_id = accepted.metadata.get("user-id").map(String::as_str);
            let store = endpoint.store.clone();
            let (key, path, owner) = (accepted.key.clone(), received.0.clone(), user_id.map(str::to_owned));
            tokio::task::spawn_blocking(move || store.commit_upload(&key, &path, owner.as_deref()))
                .await
                .map_err(malformed)?
                .map_err(|e| match e.kind() {
                    std::io::ErrorKind::AlreadyExists => PostError::AccessDenied {
                        message: "An object was already uploaded with this key: ask for a new upload form.".into(),
                    },
                    _ => storage_error(e),
                })?;
            received.1 = true;
            let queue = endpoint.queue.clone();
            let key = accepted.key.clone();
            tokio::task::spawn_blocking(move || upload_event(&*queue, &key))
                .await
                .map_err(malformed)?
                .map_err(|e| storage_error(std::io::Error::other(e)))?;
            let status = fields
                .get("success_action_status")
                .and_then(|s| s.parse().ok())
                .filter(|s| [200, 201, 204].contains(s))
                .unwrap_or(204);
            return Ok((accepted.key, status));
        }
        if fields.len() >= MAX_FIELDS {
            return Err(malformed(format!("more than {MAX_FIELDS} fields before the file")));
        }
        let mut value = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(malformed)? {
            if value.len() + chunk.len() > MAX_FIELD_BYTES {
                return Err(malformed(format!(
                    "field `{name}` is longer than {MAX_FIELD_BYTES} bytes"
                )));
            }
            value.extend_from_slice(&chunk);
        }
        let value = String::from_utf8(value).map_err(|_| malformed(format!("field `{name}` is not UTF-8")))?;
        fields.insert(name, value);
    }
}

/// Streams the file field into `path`, checking the running size as it goes.
async fn stream_to(
    path: &Path,
    field: &mut axum::extract::multipart::Field<'_>,
    check: impl Fn(u64) -> Result<(), PostError>,
) -> Result<u64, PostError> {
    // Locked while it is written: a restarting server removes only unlocked leftovers.
    let file = DiskStore::create_upload_temp(path).map_err(storage_error)?;
    let mut file = tokio::fs::File::from_std(file);
    let mut size = 0u64;
    while let Some(chunk) = field.chunk().await.map_err(|_| PostError::IncompleteBody)? {
        size += chunk.len() as u64;
        check(size)?;
        file.write_all(&chunk).await.map_err(storage_error)?;
    }
    file.sync_all().await.map_err(storage_error)?;
    Ok(size)
}

fn storage_error(e: std::io::Error) -> PostError {
    tracing::error!("upload storage failed: {e}");
    PostError::InvalidRequest {
        message: "The upload could not be stored; try again later.".into(),
    }
}
