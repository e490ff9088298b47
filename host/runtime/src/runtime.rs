//! The shared engine, linker and limits, and the one place a plugin call is made.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use vodpipe_core::{PluginError, PluginFailure, Stage};
use wasmtime::component::{Component, HasSelf, InstancePre, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap};

use crate::bindings;
use crate::cache::{ArtifactCache, CacheStats};
use crate::host::HostState;

/// Per-call limits. The defaults fit every shipped plugin with a wide margin.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Linear memory a plugin instance may grow to.
    pub memory_bytes: usize,
    /// Wall-clock budget of one call (epoch ticks, so accurate to about 5 ms).
    pub deadline: Duration,
    /// Total size of what a call may return (strings and lists, summed).
    pub output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: 64 << 20,
            deadline: Duration::from_millis(500),
            output_bytes: 1 << 20,
        }
    }
}

/// Plugin calls that may be in flight at once (pool slots); one more fails at once with a
/// trap error rather than taking more memory.
const MAX_CONCURRENT_CALLS: u32 = 64;

/// How often the epoch ticks; deadlines are whole ticks.
const EPOCH_TICK: Duration = Duration::from_millis(5);

/// The machine the Lambda functions run on (`architectures` in infra/lambda.tf). Their plugin
/// runtime compiles for it without the host's optional CPU features, so an artifact compiled by
/// `vodpipe policy publish` on any x86-64 machine is one a function can load.
pub const LAMBDA_TARGET: &str = "x86_64-unknown-linux-gnu";

/// Compiles, caches and calls plugins. Cheap to share: clone the `Arc`.
pub struct PluginRuntime {
    engine: Engine,
    linker: Linker<HostState>,
    cache: ArtifactCache,
    pub limits: Limits,
    ticker_stop: Arc<AtomicBool>,
}

impl PluginRuntime {
    /// `cache_dir` holds precompiled artifacts across processes; `None` keeps them in memory only.
    pub fn new(cache_dir: Option<PathBuf>, limits: Limits) -> wasmtime::Result<Arc<Self>> {
        Self::build(cache_dir, limits, None)
    }

    /// A runtime that compiles for `target` (a target triple) with that target's baseline
    /// features only, rather than for this machine with every feature it has: two such
    /// runtimes on different machines make the same artifacts. Running them needs a machine
    /// of that target.
    pub fn for_target(cache_dir: Option<PathBuf>, limits: Limits, target: &str) -> wasmtime::Result<Arc<Self>> {
        Self::build(cache_dir, limits, Some(target))
    }

    fn build(cache_dir: Option<PathBuf>, limits: Limits, target: Option<&str>) -> wasmtime::Result<Arc<Self>> {
        let mut config = Config::new();
        config.wasm_component_model(true).epoch_interruption(true);
        if let Some(target) = target {
            config.target(target)?;
        }
        // Every call instantiates afresh; a pool of pre-reserved slots makes that cheap. Memory
        // up to a plugin's usual size stays resident and, where the kernel can say which pages
        // a call dirtied (PAGEMAP_SCAN), only those are reset: no page faults or TLB
        // shootdowns per call. The pool bounds how many plugin calls run at once.
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(MAX_CONCURRENT_CALLS)
            .total_core_instances(MAX_CONCURRENT_CALLS * 8)
            .total_memories(MAX_CONCURRENT_CALLS * 2)
            .total_tables(MAX_CONCURRENT_CALLS * 8)
            .max_memory_size(limits.memory_bytes)
            .linear_memory_keep_resident(2 << 20)
            .table_keep_resident(64 << 10)
            .pagemap_scan(Enabled::Auto)
            .decommit_batch_size(16);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config)?;

        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        // Every contract version, so plugins built for any of them link.
        bindings::v0_1::types::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
        bindings::v0_1::log::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
        bindings::v0_2::types::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
        bindings::v0_2::log::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
        bindings::v0_3::types::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
        bindings::v0_3::log::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;

        let ticker_stop = Arc::new(AtomicBool::new(false));
        let (weak_engine, stop) = (engine.weak(), ticker_stop.clone());
        thread::Builder::new()
            .name("vodpipe-plugin-epoch".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    thread::sleep(EPOCH_TICK);
                    match weak_engine.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })?;

        Ok(Arc::new(Self {
            cache: ArtifactCache::new(cache_dir, &engine),
            engine,
            linker,
            limits,
            ticker_stop,
        }))
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn cache_stats(&self) -> CacheStats {
        self.cache.stats()
    }

    /// Where the precompiled artifact of the plugin with this sha256 lives, if on disk.
    pub fn artifact_path(&self, sha256: &str) -> Option<PathBuf> {
        self.cache.artifact_path(sha256)
    }

    /// The name a precompiled artifact of the plugin with this sha256 has for this runtime:
    /// equal for runtimes of the same wasmtime version, settings and target.
    pub fn artifact_name(&self, sha256: &str) -> String {
        self.cache.artifact_name(sha256)
    }

    /// Compiles a plugin into an artifact for this runtime's target, without caching it.
    pub fn precompile(&self, wasm: &[u8], sha256: &str) -> Result<Vec<u8>, String> {
        crate::cache::precompile(&self.engine, wasm, sha256)
    }

    /// Artifacts of a bundle's plugins (its stages and pinned planners) for this runtime's
    /// target, each with its name, or why it could not be compiled.
    pub fn precompile_bundle(&self, bundle: &vodpipe_policy::Bundle) -> Vec<(String, Result<Vec<u8>, String>)> {
        bundle
            .plugins()
            .iter()
            .map(|plugin| {
                (
                    self.artifact_name(&plugin.sha256),
                    self.precompile(&plugin.wasm, &plugin.sha256),
                )
            })
            .collect()
    }

    /// Puts an artifact compiled elsewhere into the disk cache once it proves to be one of this
    /// plugin; wasmtime checks it fits this engine when it is loaded, and a misfit is
    /// recompiled (never run).
    pub fn install_artifact(&self, sha256: &str, artifact: &[u8]) -> Result<PathBuf, String> {
        self.cache.install(sha256, artifact)
    }

    /// Forgets compiled plugins held in memory (the disk cache stays), as a new process would.
    pub fn clear_memory_cache(&self) {
        self.cache.clear_memory();
    }

    /// Compiles (or fetches from the cache) a plugin and links it, ready to instantiate.
    pub fn prepare(
        &self,
        name: &str,
        stage: Stage,
        wasm: &[u8],
        sha256: &str,
    ) -> Result<InstancePre<HostState>, PluginError> {
        let error = |failure| PluginError {
            plugin: name.to_owned(),
            stage,
            failure,
        };
        let component: Component = self
            .cache
            .component(&self.engine, wasm, sha256)
            .map_err(|e| error(PluginFailure::Load(e)))?;
        self.linker
            .instantiate_pre(&component)
            .map_err(|e| error(PluginFailure::Load(format!("{e:#}"))))
    }

    /// Runs `call` in a fresh store under the limits and turns every way it can go wrong
    /// into a [`PluginError`].
    pub(crate) fn call<R>(
        &self,
        plugin: &str,
        stage: Stage,
        call: impl FnOnce(&mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> Result<R, PluginError> {
        let mut store = Store::new(&self.engine, HostState::new(plugin, stage, self.limits.memory_bytes));
        store.limiter(|state| state);
        let ticks = self.limits.deadline.as_millis().div_ceil(EPOCH_TICK.as_millis()).max(1) as u64;
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();

        let result = call(&mut store);
        let state = store.data();
        if state.dropped_log_lines > 0 {
            tracing::warn!(
                plugin,
                stage = stage.world(),
                dropped = state.dropped_log_lines,
                "plugin log lines over the limit were dropped"
            );
        }
        result.map_err(|e| {
            let failure = if state.memory_exceeded {
                PluginFailure::MemoryLimit(self.limits.memory_bytes as u64)
            } else if e.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
                PluginFailure::Timeout(self.limits.deadline.as_millis() as u64)
            } else if let Some(panic_line) = &state.panic_line {
                // The panic is the cause; the `unreachable` trap it ends in says nothing more.
                PluginFailure::Trap(panic_line.clone())
            } else {
                PluginFailure::Trap(trap_message(&e))
            };
            PluginError {
                plugin: plugin.to_owned(),
                stage,
                failure,
            }
        })
    }
}

impl Drop for PluginRuntime {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

/// The trap code and the head of the guest's backtrace, each once. wasmtime attaches the
/// backtrace as context around the trap, so the chain is [backtrace, trap]; `to_string` of
/// both would print the trap twice and no frame.
fn trap_message(e: &wasmtime::Error) -> String {
    let trap = match e.downcast_ref::<Trap>() {
        Some(trap) => trap.to_string(),
        None => e.to_string(),
    };
    let frames: Vec<String> = e
        .chain()
        .map(|cause| cause.to_string())
        .filter(|cause| *cause != trap)
        .flat_map(|cause| cause.lines().map(str::trim).map(str::to_owned).collect::<Vec<_>>())
        .filter(|line| !line.is_empty())
        .take(4)
        .collect();
    if frames.is_empty() {
        trap
    } else {
        format!("{trap} ({})", frames.join("; "))
    }
}
