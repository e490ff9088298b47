//! Policy bundles in S3, so a new ladder or plugin reaches the next job without a redeploy.
//!
//! Under the policy prefix:
//! - `bundles/<content hash>/…`: a published bundle (`bundle.toml`, `ladders/*.toml`, the
//!   plugins and the cost model it names), never changed once written; the manifest is
//!   written last, so a bundle without one is an interrupted publish.
//! - `active.json`: which bundle runs, when it was activated, and the bundles active before
//!   it (newest first) for rollback. Written with S3's conditional writes, so two people
//!   activating at once cannot lose each other's change.
//!
//! - `precompiled/<artifact name>`: plugins compiled for the Lambda functions' target by
//!   `vodpipe policy publish`, named by the plugin's sha256 and the compiling engine (wasmtime
//!   version, settings, target), so a cold function loads them instead of compiling. Shared by
//!   every bundle with that plugin. A function checks each before use and recompiles a misfit.
//!   These are native code: writing this prefix is running code in the functions (unless
//!   they are deployed with `load_precompiled_plugins = false`).
//!
//! Hosts poll `active.json` with `If-None-Match` (a 304 costs one small request) and download
//! a bundle only when the pointer moves; the download is checked against its hash.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_s3::Client;
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use serde::{Deserialize, Serialize};
use vodpipe_policy::bundle::MANIFEST;
use vodpipe_policy::{Bundle, BundleFiles, MemoryFiles};

pub const ACTIVE: &str = "active.json";
/// How many earlier bundles `active.json` remembers for rollback.
pub const HISTORY: usize = 20;

/// What `active.json` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivePointer {
    /// The content hash of the active bundle.
    pub bundle: String,
    pub name: String,
    pub activated_at_ms: u64,
    /// Earlier active bundles, newest first.
    #[serde(default)]
    pub history: Vec<String>,
}

/// A published bundle, as `vodpipe policy list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedBundle {
    pub hash: String,
    pub name: String,
    pub published_at_ms: u64,
    pub active: bool,
}

/// What a poll of the pointer found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    /// The pointer's ETag is the one the caller has.
    Unchanged,
    Changed {
        pointer: ActivePointer,
        etag: String,
    },
    /// Nothing was ever activated under this prefix.
    NothingActive,
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyStoreError {
    #[error("s3: {0}")]
    Unavailable(String),
    #[error("{0}")]
    Invalid(String),
    #[error("no published bundle {0} (see `vodpipe policy list`)")]
    UnknownBundle(String),
    #[error("nothing to roll back to: no bundle was active before {0}")]
    NoHistory(String),
    #[error("someone else changed the active bundle at the same time; nothing was changed, try again")]
    Conflict,
}

fn unavailable<E: std::error::Error + 'static, R: std::fmt::Debug>(e: SdkError<E, R>) -> PolicyStoreError {
    PolicyStoreError::Unavailable(DisplayErrorContext(&e).to_string())
}

/// Bundles and the active pointer under one bucket and prefix.
#[derive(Clone)]
pub struct S3PolicyStore {
    client: Client,
    bucket: String,
    /// Empty, or ending in '/'.
    prefix: String,
}

impl S3PolicyStore {
    pub fn new(client: Client, bucket: impl Into<String>, prefix: &str) -> Self {
        let prefix = prefix.trim_matches('/');
        Self {
            client,
            bucket: bucket.into(),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
        }
    }

    /// `s3://bucket/prefix`, for messages.
    pub fn location(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }

    fn bundle_key(&self, hash: &str, rel: &str) -> String {
        format!("{}bundles/{hash}/{rel}", self.prefix)
    }

    /// Uploads the bundle in `files` (checked first; the plugins are not run here, the caller
    /// checks them with the plugin runtime) and returns its content hash. Publishing the same
    /// bundle again uploads nothing.
    pub async fn publish(&self, files: &dyn BundleFiles) -> Result<String, PolicyStoreError> {
        let bundle = Bundle::load(files, None).map_err(|d| PolicyStoreError::Invalid(d.to_string()))?;
        let hash = bundle.content_hash.clone();
        if self.exists(&self.bundle_key(&hash, MANIFEST)).await? {
            return Ok(hash);
        }
        let mut paths: Vec<String> = files
            .list("ladders")
            .into_iter()
            .filter(|p| p.ends_with(".toml"))
            .collect();
        paths.extend(bundle.plugins().iter().map(|s| s.path.clone()));
        paths.extend(bundle.cost_model_file.clone());
        paths.sort();
        paths.dedup();
        // The manifest last: its presence says the bundle is complete.
        paths.push(MANIFEST.to_owned());
        for rel in paths {
            let bytes = files
                .read(&rel)
                .map_err(|e| PolicyStoreError::Invalid(format!("{}: {e}", files.describe(&rel))))?
                .ok_or_else(|| PolicyStoreError::Invalid(format!("{} disappeared", files.describe(&rel))))?;
            self.client
                .put_object()
                .bucket(&self.bucket)
                .key(self.bundle_key(&hash, &rel))
                .body(ByteStream::from(bytes))
                .send()
                .await
                .map_err(unavailable)?;
        }
        Ok(hash)
    }

    async fn exists(&self, key: &str) -> Result<bool, PolicyStoreError> {
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Every object under `prefix`, with when it was last written (epoch ms).
    async fn objects(&self, prefix: &str) -> Result<Vec<(String, u64)>, PolicyStoreError> {
        let mut found = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for object in page.map_err(unavailable)?.contents() {
                let Some(key) = object.key() else { continue };
                let modified_ms = object
                    .last_modified()
                    .and_then(|t| t.to_millis().ok())
                    .map_or(0, |ms| ms.max(0) as u64);
                found.push((key.to_owned(), modified_ms));
            }
        }
        Ok(found)
    }

    async fn read(&self, key: &str) -> Result<Vec<u8>, PolicyStoreError> {
        let object = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(unavailable)?;
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|e| PolicyStoreError::Unavailable(format!("reading {key}: {e}")))?;
        Ok(bytes.into_bytes().to_vec())
    }

    /// Uploads a precompiled plugin under its artifact name unless those very bytes are there
    /// (the publisher's own compile is the reference: anything else under the name, corrupt or
    /// planted, is replaced); `true` when it wrote.
    pub async fn put_precompiled(&self, name: &str, artifact: Vec<u8>) -> Result<bool, PolicyStoreError> {
        let key = format!("{}precompiled/{name}", self.prefix);
        if self.precompiled(name).await?.is_some_and(|there| there == artifact) {
            return Ok(false);
        }
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(artifact))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(true)
    }

    /// A precompiled plugin by artifact name; `None` when none was published.
    pub async fn precompiled(&self, name: &str) -> Result<Option<Vec<u8>>, PolicyStoreError> {
        let key = format!("{}precompiled/{name}", self.prefix);
        match self.client.get_object().bucket(&self.bucket).key(&key).send().await {
            Ok(object) => {
                let bytes = object
                    .body
                    .collect()
                    .await
                    .map_err(|e| PolicyStoreError::Unavailable(format!("reading {key}: {e}")))?;
                Ok(Some(bytes.into_bytes().to_vec()))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Downloads a published bundle, checked and hashing to `hash`.
    pub async fn download(&self, hash: &str) -> Result<Bundle, PolicyStoreError> {
        let root = self.bundle_key(hash, "");
        let mut files = BTreeMap::new();
        for (key, _) in self.objects(&root).await? {
            files.insert(key[root.len()..].to_owned(), self.read(&key).await?);
        }
        if !files.contains_key(MANIFEST) {
            return Err(PolicyStoreError::UnknownBundle(hash.to_owned()));
        }
        let files = MemoryFiles {
            label: format!("s3://{}/{root}", self.bucket).trim_end_matches('/').to_owned(),
            files,
        };
        let bundle = Bundle::load(&files, None).map_err(|d| PolicyStoreError::Invalid(d.to_string()))?;
        if bundle.content_hash != hash {
            return Err(PolicyStoreError::Invalid(format!(
                "{} hashes to {}, not to its name: it was changed after publishing",
                files.label, bundle.content_hash
            )));
        }
        Ok(bundle)
    }

    /// Reads the pointer unless its ETag is still `known_etag`.
    pub async fn poll(&self, known_etag: Option<&str>) -> Result<Poll, PolicyStoreError> {
        let key = format!("{}{ACTIVE}", self.prefix);
        let result = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&key)
            .set_if_none_match(known_etag.map(str::to_owned))
            .send()
            .await;
        let object = match result {
            Ok(object) => object,
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 304) => return Ok(Poll::Unchanged),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(Poll::NothingActive),
            Err(e) => return Err(unavailable(e)),
        };
        let etag = object.e_tag().unwrap_or_default().to_owned();
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|e| PolicyStoreError::Unavailable(format!("reading {key}: {e}")))?;
        let pointer = serde_json::from_slice(&bytes.into_bytes())
            .map_err(|e| PolicyStoreError::Invalid(format!("s3://{}/{key}: {e}", self.bucket)))?;
        Ok(Poll::Changed { pointer, etag })
    }

    /// The active pointer, if any.
    pub async fn active(&self) -> Result<Option<(ActivePointer, String)>, PolicyStoreError> {
        Ok(match self.poll(None).await? {
            Poll::Changed { pointer, etag } => Some((pointer, etag)),
            _ => None,
        })
    }

    /// Makes the published bundle `hash` the active one; the previous one goes on the history.
    pub async fn activate(&self, hash: &str) -> Result<ActivePointer, PolicyStoreError> {
        let name = self.download(hash).await?.name;
        let current = self.active().await?;
        let history = match &current {
            Some((pointer, _)) if pointer.bundle == hash => return Ok(pointer.clone()),
            Some((pointer, _)) => {
                let mut history = vec![pointer.bundle.clone()];
                history.extend(pointer.history.iter().filter(|h| *h != hash).cloned());
                history.truncate(HISTORY);
                history
            }
            None => Vec::new(),
        };
        let pointer = ActivePointer {
            bundle: hash.to_owned(),
            name,
            activated_at_ms: now_ms(),
            history,
        };
        self.write_pointer(&pointer, current.as_ref().map(|(_, etag)| etag.as_str()))
            .await?;
        Ok(pointer)
    }

    /// Goes back to the bundle that was active before the current one.
    pub async fn rollback(&self) -> Result<ActivePointer, PolicyStoreError> {
        let Some((current, etag)) = self.active().await? else {
            return Err(PolicyStoreError::NoHistory("anything (nothing is active)".into()));
        };
        let Some(previous) = current.history.first().cloned() else {
            return Err(PolicyStoreError::NoHistory(current.bundle));
        };
        let name = self.download(&previous).await?.name;
        let pointer = ActivePointer {
            bundle: previous,
            name,
            activated_at_ms: now_ms(),
            history: current.history[1..].to_vec(),
        };
        self.write_pointer(&pointer, Some(&etag)).await?;
        Ok(pointer)
    }

    /// Writes the pointer only if it is still what was read (`If-Match`), or still absent
    /// (`If-None-Match: *`).
    async fn write_pointer(
        &self,
        pointer: &ActivePointer,
        expected_etag: Option<&str>,
    ) -> Result<(), PolicyStoreError> {
        let body = serde_json::to_vec_pretty(pointer).map_err(|e| PolicyStoreError::Invalid(e.to_string()))?;
        let mut put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(format!("{}{ACTIVE}", self.prefix))
            .content_type("application/json")
            .body(ByteStream::from(body));
        put = match expected_etag {
            Some(etag) => put.if_match(etag),
            None => put.if_none_match("*"),
        };
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.raw_response()
                    .is_some_and(|r| matches!(r.status().as_u16(), 409 | 412)) =>
            {
                Err(PolicyStoreError::Conflict)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Every complete published bundle, newest first.
    pub async fn list(&self) -> Result<Vec<PublishedBundle>, PolicyStoreError> {
        let active = self.active().await?.map(|(p, _)| p.bundle);
        let root = format!("{}bundles/", self.prefix);
        let mut found = Vec::new();
        for (key, modified_ms) in self.objects(&root).await? {
            let Some(hash) = key[root.len()..].strip_suffix(&format!("/{MANIFEST}")) else {
                continue;
            };
            let manifest = self.read(&key).await?;
            found.push(PublishedBundle {
                hash: hash.to_owned(),
                name: manifest_name(&manifest).unwrap_or_else(|| "?".into()),
                published_at_ms: modified_ms,
                active: active.as_deref() == Some(hash),
            });
        }
        found.sort_by(|a, b| b.published_at_ms.cmp(&a.published_at_ms).then(a.hash.cmp(&b.hash)));
        Ok(found)
    }
}

/// The `name` of a manifest, read without checking the rest of the bundle.
fn manifest_name(bytes: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?;
    let document = toml_edit::Document::parse(text).ok()?;
    document.get("name")?.as_str().map(str::to_owned)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
