//! The embedded server's `POST /upload` endpoint over untrusted multipart bodies (the
//! `upload_multipart` target): the real axum handler with a real disk store and SQLite queue,
//! on a current-thread runtime. Also replayed by `host/server/tests/fuzz_corpus.rs`.
//!
//! An input is the request body; the request's content type names [`BOUNDARY`]. The endpoint's
//! clock stands at [`vodpipe_presign`]'s fixed signing instant used by the seeds, so forms signed
//! for it verify and their files stream to disk.

use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt as _;
use vodpipe_core::ports::{Clock, MessageQueue};
use vodpipe_embedded::disk::DiskStore;
use vodpipe_embedded::sqlite::Database;
use vodpipe_server::upload::{UploadEndpoint, router};

pub const BOUNDARY: &str = "vodpipe-fuzz-boundary";
pub const ACCESS_KEY_ID: &str = "AKIAFUZZUPLOAD";
pub const SECRET: &str = "fuzz-upload-secret";
/// 2026-01-01T00:00:00Z, in milliseconds.
pub const NOW_MS: u64 = 1_767_225_600_000;
/// Bounds what a body can make the harness read back.
const MAX_RESPONSE_BYTES: usize = 1 << 20;

struct FixedClock;

impl Clock for FixedClock {
    fn now_ms(&self) -> u64 {
        NOW_MS
    }
}

/// One upload endpoint over a data directory of its own.
pub struct Endpoint {
    router: axum::Router,
    runtime: tokio::runtime::Runtime,
    _data: tempfile::TempDir,
}

impl Endpoint {
    pub fn new() -> Self {
        // Every accepted form syncs its file: a RAM-backed directory, where there is one,
        // keeps that from dominating the run.
        let shm = Path::new("/dev/shm");
        let data = if shm.is_dir() {
            tempfile::tempdir_in(shm)
        } else {
            tempfile::tempdir()
        }
        .expect("a temporary data directory");
        let store = DiskStore::open(data.path()).expect("the disk store");
        let queue: Arc<dyn MessageQueue> =
            Arc::new(Database::open(&data.path().join("vodpipe.db"), Box::new(FixedClock)).expect("the database"));
        let router = router(UploadEndpoint {
            store: Arc::new(store),
            queue,
            clock: Arc::new(FixedClock),
            access_key_id: ACCESS_KEY_ID.to_owned(),
            secret_access_key: SECRET.to_owned(),
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        Endpoint {
            router,
            runtime,
            _data: data,
        }
    }

    /// Posts `body` as a multipart form; returns the status and the response body.
    pub fn post(&self, body: &[u8]) -> (StatusCode, String) {
        let request = Request::post("/upload")
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(Body::from(body.to_vec()))
            .expect("a request");
        let response = self
            .runtime
            .block_on(self.router.clone().oneshot(request))
            .expect("the router is infallible");
        let status = response.status();
        let text = self
            .runtime
            .block_on(axum::body::to_bytes(response.into_body(), MAX_RESPONSE_BYTES))
            .expect("a response body");
        (status, String::from_utf8_lossy(&text).into_owned())
    }

    /// Posts `body` and checks that the answer is a success or an S3 refusal in XML, never a
    /// panic or a server error.
    pub fn check(&self, body: &[u8]) {
        match self.post(body) {
            (StatusCode::OK | StatusCode::CREATED | StatusCode::NO_CONTENT, _) => {}
            (status, text) if status.is_client_error() => {
                assert!(
                    text.contains("<Code>"),
                    "a {status} refusal without an S3 error: {text}"
                );
            }
            (status, text) => panic!("status {status}: {text}"),
        }
    }
}

impl Default for Endpoint {
    fn default() -> Self {
        Self::new()
    }
}
