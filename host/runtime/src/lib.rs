//! Runs vodpipe's policy plugins: WebAssembly components, sandboxed by wasmtime.
//!
//! - One shared [`wasmtime::Engine`]; one `InstancePre` per plugin; a fresh `Store` per call,
//!   so no state leaks from one video to the next.
//! - Sandbox: an empty WASI context (no files, network, environment, clock-based tricks
//!   aside, or inherited stdio). Plugins log through the `log` import only.
//! - Limits per call: memory, a CPU deadline (epoch interruption) and an output size cap. Any
//!   failure becomes a [`vodpipe_core::PluginError`] naming plugin, stage and cause.
//! - Compiled artifacts are cached by content hash in memory and on disk.
//! - [`reload::PolicyHandle`] swaps in a changed bundle without a restart and keeps the last
//!   good one when the new one is refused.

mod bindings;
mod cache;
mod convert;
mod host;
pub mod policy;
pub mod reload;
mod runtime;

pub use cache::CacheStats;
pub use policy::LoadedPolicy;
pub use reload::PolicyHandle;
pub use runtime::{LAMBDA_TARGET, Limits, PluginRuntime};
