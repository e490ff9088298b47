//! Compiled plugins, cached by content hash in memory and as precompiled artifacts on disk,
//! so a cold process does not run Cranelift for a plugin it has seen before.
//!
//! An artifact on disk is checked before use: its header must name the plugin's sha256 and
//! carry the sha256 of the artifact body, and wasmtime itself refuses artifacts of another
//! version or configuration. Anything that fails is recompiled and rewritten. Those checks
//! catch corruption and mix-ups, not intent: an artifact is native code that wasmtime runs
//! as it is, so whoever can write the cache directory (or, in the Lambda functions, the
//! policy bucket's `precompiled/` prefix) can run code in this process. Keep both writable
//! only by those trusted to deploy.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use vodpipe_policy::bundle::sha256_hex;
use wasmtime::Engine;
use wasmtime::component::Component;

const MAGIC: &[u8; 8] = b"VPCWASM1";
const HEADER_LEN: usize = 8 + 64 + 64;

pub struct ArtifactCache {
    dir: Option<PathBuf>,
    /// Hash of everything that makes an artifact loadable by this engine.
    engine_key: String,
    memory: Mutex<HashMap<String, Component>>,
    stats: [AtomicUsize; 3],
}

/// Where compiled plugins came from, since this runtime started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    pub from_memory: usize,
    pub from_disk: usize,
    /// Ran Cranelift.
    pub compiled: usize,
}

impl ArtifactCache {
    pub fn new(dir: Option<PathBuf>, engine: &Engine) -> Self {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Self {
            dir,
            engine_key: format!("{:016x}", hasher.finish()),
            memory: Mutex::new(HashMap::new()),
            stats: Default::default(),
        }
    }

    /// The file name of the artifact of a plugin with this sha256 for this engine: the same
    /// for every engine with the same version, settings and target.
    pub fn artifact_name(&self, sha256: &str) -> String {
        format!("{sha256}-{}.cwasm", self.engine_key)
    }

    /// Path of the artifact for a plugin with this sha256.
    pub fn artifact_path(&self, sha256: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(self.artifact_name(sha256)))
    }

    /// Puts an artifact made elsewhere (by [`precompile`] on another machine) into the disk
    /// cache, after checking it is one and is of this plugin. Whether this engine can run it
    /// is wasmtime's to say when it is loaded; a refusal there recompiles.
    pub fn install(&self, sha256: &str, artifact: &[u8]) -> Result<PathBuf, String> {
        let path = self
            .artifact_path(sha256)
            .ok_or("this plugin runtime has no disk cache")?;
        verify(artifact, sha256)?;
        write_atomically(&path, artifact).map_err(|e| format!("writing {}: {e}", path.display()))?;
        Ok(path)
    }

    pub fn stats(&self) -> CacheStats {
        let [from_memory, from_disk, compiled] = self.stats.each_ref().map(|s| s.load(Ordering::Relaxed));
        CacheStats {
            from_memory,
            from_disk,
            compiled,
        }
    }

    pub fn clear_memory(&self) {
        self.memory.lock().unwrap().clear();
    }

    fn count(&self, which: usize) {
        self.stats[which].fetch_add(1, Ordering::Relaxed);
    }

    pub fn component(&self, engine: &Engine, wasm: &[u8], sha256: &str) -> Result<Component, String> {
        if let Some(component) = self.memory.lock().unwrap().get(sha256) {
            self.count(0);
            return Ok(component.clone());
        }
        let cached = self
            .artifact_path(sha256)
            .and_then(|path| self.load_verified(engine, &path, sha256));
        let component = match cached {
            Some(component) => {
                self.count(1);
                component
            }
            None => {
                self.count(2);
                match self.artifact_path(sha256) {
                    Some(path) => self.compile_to_disk(engine, wasm, sha256, &path)?,
                    None => Component::new(engine, wasm).map_err(|e| format!("not a valid plugin component: {e:#}"))?,
                }
            }
        };
        self.memory.lock().unwrap().insert(sha256.to_owned(), component.clone());
        Ok(component)
    }

    fn load_verified(&self, engine: &Engine, path: &Path, sha256: &str) -> Option<Component> {
        let bytes = std::fs::read(path).ok()?;
        let body = match verify(&bytes, sha256) {
            Ok(body) => body,
            Err(why) => {
                tracing::warn!(path = %path.display(), "precompiled plugin refused ({why}); recompiling");
                return None;
            }
        };
        // SAFETY: wasmtime requires `body` to be what `Engine::precompile_component` wrote.
        // The header's hashes rule out corruption and another plugin's artifact, and wasmtime
        // checks version and configuration; that it was written by a trusted compiler rests on
        // who can write the cache (see the module docs), which no check here can prove.
        match unsafe { Component::deserialize(engine, body) } {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::warn!(path = %path.display(), "precompiled plugin is foreign or stale ({e}); recompiling");
                None
            }
        }
    }

    fn compile_to_disk(&self, engine: &Engine, wasm: &[u8], sha256: &str, path: &Path) -> Result<Component, String> {
        let file = precompile(engine, wasm, sha256)?;
        if let Err(e) = write_atomically(path, &file) {
            // A read-only or full cache costs a recompile next time, nothing more.
            tracing::warn!(path = %path.display(), "cannot write precompiled plugin: {e}");
        }
        // SAFETY: produced just above by this engine.
        unsafe { Component::deserialize(engine, &file[HEADER_LEN..]) }.map_err(|e| format!("{e:#}"))
    }
}

/// Compiles a plugin with `engine` into an artifact: a header naming the plugin's sha256 and
/// the body's own sha256, then what wasmtime wrote.
pub fn precompile(engine: &Engine, wasm: &[u8], sha256: &str) -> Result<Vec<u8>, String> {
    let body = engine
        .precompile_component(wasm)
        .map_err(|e| format!("not a valid plugin component: {e:#}"))?;
    let mut file = Vec::with_capacity(HEADER_LEN + body.len());
    file.extend_from_slice(MAGIC);
    file.extend_from_slice(sha256.as_bytes());
    file.extend_from_slice(sha256_hex(&body).as_bytes());
    file.extend_from_slice(&body);
    Ok(file)
}

/// The artifact body when the header matches the plugin and the body's own hash.
fn verify<'a>(bytes: &'a [u8], sha256: &str) -> Result<&'a [u8], &'static str> {
    if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
        return Err("not a vodpipe artifact");
    }
    if &bytes[8..72] != sha256.as_bytes() {
        return Err("built from another plugin");
    }
    let body = &bytes[HEADER_LEN..];
    if bytes[72..136] != *sha256_hex(body).as_bytes() {
        return Err("body does not match its hash");
    }
    Ok(body)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
