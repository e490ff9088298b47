//! Raw uploads and published media in S3. The upload's owner is its `x-amz-meta-user-id`
//! (`user-id` metadata); media live under `<video id>/` in the media bucket. Sources are
//! probed from their container headers with ranged GETs (no ffprobe in Lambda).

use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use vodpipe_core::Probe;
use vodpipe_core::ports::{ObjectMeta, ObjectStore, PortError};
use vodpipe_probe_header::{Counted, RangeSource};

use crate::Blocking;
use crate::error::port_error;

pub struct S3Store {
    client: Client,
    uploads: String,
    media: String,
    blocking: Blocking,
}

fn s3_error<E: ProvideErrorMetadata + std::error::Error + 'static>(e: SdkError<E, HttpResponse>) -> PortError {
    port_error("s3", e)
}

impl S3Store {
    /// `uploads` holds raw uploads (keys are video ids); `media` the published HLS.
    pub fn new(client: Client, uploads: impl Into<String>, media: impl Into<String>, blocking: Blocking) -> Self {
        Self {
            client,
            uploads: uploads.into(),
            media: media.into(),
            blocking,
        }
    }

    pub fn uploads_bucket(&self) -> &str {
        &self.uploads
    }

    pub fn media_bucket(&self) -> &str {
        &self.media
    }
}

impl ObjectStore for S3Store {
    fn head(&self, key: &str) -> Result<Option<ObjectMeta>, PortError> {
        let result = self
            .blocking
            .wait(self.client.head_object().bucket(&self.uploads).key(key).send());
        match result {
            Ok(head) => Ok(Some(ObjectMeta {
                size: head.content_length().unwrap_or(0).max(0) as u64,
                user_id: head.metadata().and_then(|m| m.get("user-id")).cloned(),
            })),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(s3_error(e)),
        }
    }

    fn source_uri(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.uploads)
    }

    fn output_prefix(&self, video_id: &str) -> String {
        format!("s3://{}/{video_id}/", self.media)
    }

    fn probe(&self, key: &str) -> Result<Probe, PortError> {
        let source = Counted::new(S3Range { store: self, key });
        let probe = vodpipe_probe_header::probe(&source);
        tracing::info!(
            key,
            bytes = source.bytes_read(),
            reads = source.reads(),
            "probed from the container header"
        );
        probe
    }

    fn delete_source(&self, key: &str) -> Result<(), PortError> {
        self.blocking
            .wait(self.client.delete_object().bucket(&self.uploads).key(key).send())
            .map_err(s3_error)?;
        Ok(())
    }

    fn delete_media(&self, video_id: &str) -> Result<(), PortError> {
        let prefix = format!("{video_id}/");
        loop {
            let listed = self
                .blocking
                .wait(self.client.list_objects_v2().bucket(&self.media).prefix(&prefix).send())
                .map_err(s3_error)?;
            let keys: Vec<ObjectIdentifier> = listed
                .contents()
                .iter()
                .filter_map(|o| o.key())
                .filter_map(|k| ObjectIdentifier::builder().key(k).build().ok())
                .collect();
            if keys.is_empty() {
                return Ok(());
            }
            let delete = Delete::builder()
                .set_objects(Some(keys))
                .quiet(true)
                .build()
                .map_err(|e| PortError::Unavailable(format!("s3: {e}")))?;
            self.blocking
                .wait(self.client.delete_objects().bucket(&self.media).delete(delete).send())
                .map_err(s3_error)?;
        }
    }
}

/// Ranged GETs of one upload.
struct S3Range<'a> {
    store: &'a S3Store,
    key: &'a str,
}

/// A failed read of the upload. Only the probe may call the upload not a video (`Rejected`,
/// which fails the video and deletes the upload), so S3 refusing our read is retried instead.
fn read_error<E: ProvideErrorMetadata + std::error::Error + 'static>(e: SdkError<E, HttpResponse>) -> PortError {
    match port_error("s3", e) {
        PortError::Rejected(why) => PortError::Unavailable(why),
        other => other,
    }
}

impl RangeSource for S3Range<'_> {
    fn len(&self) -> Result<u64, PortError> {
        let head = self
            .store
            .blocking
            .wait(
                self.store
                    .client
                    .head_object()
                    .bucket(&self.store.uploads)
                    .key(self.key)
                    .send(),
            )
            .map_err(read_error)?;
        Ok(head.content_length().unwrap_or(0).max(0) as u64)
    }

    fn read_at(&self, offset: u64, len: u64) -> Result<Vec<u8>, PortError> {
        if len == 0 {
            return Ok(Vec::new());
        }
        let range = format!("bytes={offset}-{}", offset + len - 1);
        let store = self.store;
        store.blocking.wait(async {
            let object = store
                .client
                .get_object()
                .bucket(&store.uploads)
                .key(self.key)
                .range(range)
                .send()
                .await
                .map_err(read_error)?;
            let body = object
                .body
                .collect()
                .await
                .map_err(|e| PortError::Unavailable(format!("s3: reading the body: {e}")))?;
            Ok(body.into_bytes().to_vec())
        })
    }
}
