//! Where the handlers' policy comes from: fixed (tests, the built-in bundle) or the active
//! bundle in S3, checked before every message so an activation reaches the next job.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use vodpipe_aws::policy::{PolicyStoreError, Poll};
use vodpipe_aws::{Blocking, S3PolicyStore};
use vodpipe_core::ports::{Policy, PortError};
use vodpipe_policy::Bundle;
use vodpipe_runtime::PluginRuntime;
use vodpipe_runtime::policy::LoadedPolicy;
use vodpipe_runtime::reload::LoadError;

/// The policy to run the next message with.
pub trait PolicySource: Send + Sync {
    fn current(&self) -> Result<Arc<dyn Policy>, PortError>;
}

/// One policy for the instance's life.
pub struct FixedPolicy(pub Arc<dyn Policy>);

impl PolicySource for FixedPolicy {
    fn current(&self) -> Result<Arc<dyn Policy>, PortError> {
        Ok(self.0.clone())
    }
}

/// The active bundle of an [`S3PolicyStore`]. The pointer is re-read with its ETag per
/// message (a 304 when nothing moved); a new bundle is downloaded, checked against its hash,
/// compiled (artifacts cached on disk by the plugin runtime, under /tmp in Lambda) and used.
/// A bundle that does not load is refused and the last good one stays active.
pub struct S3Policy {
    store: S3PolicyStore,
    runtime: Arc<PluginRuntime>,
    blocking: Blocking,
    state: Mutex<Option<Active>>,
    /// Whether artifacts `vodpipe policy publish` precompiled are loaded (native code: see
    /// [`S3Policy::load_precompiled`]).
    precompiled: bool,
}

struct Active {
    /// The pointer's ETag when last read (also after refusing what it named).
    etag: String,
    policy: Arc<LoadedPolicy>,
}

impl S3Policy {
    pub fn new(store: S3PolicyStore, runtime: Arc<PluginRuntime>, blocking: Blocking) -> Self {
        Self {
            store,
            runtime,
            blocking,
            state: Mutex::new(None),
            precompiled: true,
        }
    }

    /// Whether to load the plugins' precompiled artifacts from the policy bucket (default) or
    /// always compile. An artifact is native code that wasmtime runs as it is: its checks
    /// (header hashes, engine fit) catch corruption and mix-ups, not intent. Loading them
    /// extends to whoever can write the policy bucket the trust of whoever deploys the
    /// functions; with `false`, publishers can change policy only inside the sandbox.
    pub fn load_precompiled(self, load: bool) -> Self {
        Self {
            precompiled: load,
            ..self
        }
    }

    fn load(&self, hash: &str) -> Result<LoadedPolicy, String> {
        let bundle = self
            .blocking
            .wait(self.store.download(hash))
            .map_err(|e| e.to_string())?;
        self.fetch_precompiled(&bundle);
        let before = self.runtime.cache_stats();
        let started = Instant::now();
        let policy = LoadedPolicy::load(&self.runtime, &bundle)
            .map_err(|errors| format!("{}: {}", self.store.location(), LoadError::Plugins(errors)))?;
        let after = self.runtime.cache_stats();
        tracing::info!(
            load_ms = started.elapsed().as_secs_f64() * 1000.0,
            precompiled = after.from_disk - before.from_disk,
            compiled = after.compiled - before.compiled,
            "plugins loaded"
        );
        Ok(policy)
    }

    /// Brings the artifacts `vodpipe policy publish` compiled for this target into the disk
    /// cache, where loading finds them: a cold instance then runs no Cranelift. Each is checked
    /// (plugin and body hashes here, engine fit by wasmtime when loaded); a missing, unreadable
    /// or misfit artifact only costs a compile.
    fn fetch_precompiled(&self, bundle: &Bundle) {
        if !self.precompiled {
            return;
        }
        for plugin in bundle.stages() {
            let cached = self.runtime.artifact_path(&plugin.sha256);
            if cached.as_deref().is_none_or(std::path::Path::exists) {
                continue;
            }
            let name = self.runtime.artifact_name(&plugin.sha256);
            let installed = match self.blocking.wait(self.store.precompiled(&name)) {
                Ok(Some(artifact)) => self.runtime.install_artifact(&plugin.sha256, &artifact),
                Ok(None) => Err("none was published".into()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(why) = installed {
                tracing::warn!(
                    plugin = plugin.path,
                    artifact = name,
                    "compiling the plugin: no precompiled artifact ({why})"
                );
            }
        }
    }
}

impl PolicySource for S3Policy {
    fn current(&self) -> Result<Arc<dyn Policy>, PortError> {
        // One poll at a time: concurrent messages wait for one download, not start several.
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let known = state.as_ref().map(|a| a.etag.clone());
        match self.blocking.wait(self.store.poll(known.as_deref())) {
            Ok(Poll::Unchanged) => {}
            Ok(Poll::Changed { pointer, etag }) => match &mut *state {
                Some(active) if active.policy.content_hash == pointer.bundle => active.etag = etag,
                _ => match self.load(&pointer.bundle) {
                    Ok(policy) => {
                        tracing::info!(bundle = pointer.name, hash = pointer.bundle, "policy bundle activated");
                        *state = Some(Active {
                            etag,
                            policy: Arc::new(policy),
                        });
                    }
                    Err(why) => match &mut *state {
                        Some(active) => {
                            tracing::error!(
                                hash = pointer.bundle,
                                "policy bundle refused, the last good one stays active: {why}"
                            );
                            // Not downloaded again until the pointer moves.
                            active.etag = etag;
                        }
                        None => {
                            return Err(PortError::Unavailable(format!(
                                "the active policy bundle does not load: {why}"
                            )));
                        }
                    },
                },
            },
            Ok(Poll::NothingActive) if state.is_none() => {
                return Err(PortError::Unavailable(format!(
                    "no policy bundle is active at {} (publish one: vodpipe policy publish --activate)",
                    self.store.location()
                )));
            }
            Ok(Poll::NothingActive) => tracing::warn!("the policy pointer is gone; the last bundle stays active"),
            Err(PolicyStoreError::Unavailable(why)) if state.is_some() => {
                tracing::warn!("policy pointer unreadable, the last bundle stays active: {why}")
            }
            Err(e) => return Err(PortError::Unavailable(format!("policy: {e}"))),
        }
        let active = state.as_ref().expect("set above or returned");
        Ok(active.policy.clone())
    }
}
