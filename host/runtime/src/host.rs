//! What a plugin's store holds: an empty WASI context, the memory limiter, and the log sink.

use vodpipe_core::Stage;
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::{v0_1, v0_2, v0_3};

/// Log lines a plugin may write per call; the rest are counted and dropped.
const MAX_LOG_LINES: usize = 200;
const MAX_LOG_LINE_CHARS: usize = 2_000;
/// How the SDK's panic hook starts the error-level line it writes just before a panic
/// aborts (`vodpipe_plugin_sdk::panic`): `panicked at FILE:LINE:COLUMN: MESSAGE`.
const PANIC_LINE_PREFIX: &str = "panicked at ";

pub struct HostState {
    pub plugin: String,
    pub stage: Stage,
    wasi: WasiCtx,
    table: ResourceTable,
    memory_limit: usize,
    /// Set when the plugin asked for more memory than allowed; a trap that follows is
    /// reported as a memory limit, not as the allocator's abort.
    pub memory_exceeded: bool,
    log_lines: usize,
    pub dropped_log_lines: usize,
    /// The SDK's panic line, if the plugin wrote one: the cause a trap that follows is
    /// reported with.
    pub panic_line: Option<String>,
}

impl HostState {
    pub fn new(plugin: &str, stage: Stage, memory_limit: usize) -> Self {
        Self {
            plugin: plugin.to_owned(),
            stage,
            // Nothing inherited: no args, env, preopened dirs, stdio or network.
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            memory_limit,
            memory_exceeded: false,
            log_lines: 0,
            dropped_log_lines: 0,
            panic_line: None,
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl ResourceLimiter for HostState {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.memory_limit {
            self.memory_exceeded = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

impl v0_1::types::Host for HostState {}
impl v0_2::types::Host for HostState {}
impl v0_3::types::Host for HostState {}

/// The log interface is the same in every contract version.
impl v0_1::log::Host for HostState {
    fn write(&mut self, level: v0_1::log::Level, message: String) {
        use v0_1::log::Level;
        let level = match level {
            Level::Trace => v0_2::log::Level::Trace,
            Level::Debug => v0_2::log::Level::Debug,
            Level::Info => v0_2::log::Level::Info,
            Level::Warn => v0_2::log::Level::Warn,
            Level::Error => v0_2::log::Level::Error,
        };
        v0_2::log::Host::write(self, level, message);
    }
}

impl v0_2::log::Host for HostState {
    fn write(&mut self, level: v0_2::log::Level, message: String) {
        use v0_2::log::Level;
        let level = match level {
            Level::Trace => v0_3::log::Level::Trace,
            Level::Debug => v0_3::log::Level::Debug,
            Level::Info => v0_3::log::Level::Info,
            Level::Warn => v0_3::log::Level::Warn,
            Level::Error => v0_3::log::Level::Error,
        };
        v0_3::log::Host::write(self, level, message);
    }
}

impl v0_3::log::Host for HostState {
    fn write(&mut self, level: v0_3::log::Level, message: String) {
        use v0_3::log;
        if matches!(level, log::Level::Error) && message.starts_with(PANIC_LINE_PREFIX) {
            // Kept even past the line limit: a plugin that floods its log and then panics
            // still says why it stopped. It is the cause of the trap that follows, which
            // whoever gets the failure reports; an error line here would say it twice.
            let line: String = message.chars().take(MAX_LOG_LINE_CHARS).collect();
            let (plugin, stage) = (self.plugin.as_str(), self.stage.world());
            tracing::debug!(plugin, stage, "{line}");
            self.panic_line.get_or_insert(line);
            return;
        }
        if self.log_lines >= MAX_LOG_LINES {
            self.dropped_log_lines += 1;
            return;
        }
        self.log_lines += 1;
        let message: String = message.chars().take(MAX_LOG_LINE_CHARS).collect();
        let (plugin, stage) = (self.plugin.as_str(), self.stage.world());
        match level {
            log::Level::Trace => tracing::trace!(plugin, stage, "{message}"),
            log::Level::Debug => tracing::debug!(plugin, stage, "{message}"),
            log::Level::Info => tracing::info!(plugin, stage, "{message}"),
            log::Level::Warn => tracing::warn!(plugin, stage, "{message}"),
            log::Level::Error => tracing::error!(plugin, stage, "{message}"),
        }
    }
}
