//! What the embedded tests share: the built-in policy, loaded for real.

use vodpipe_plugin_artifacts::builtin_files;
use vodpipe_runtime::reload::load;
use vodpipe_runtime::{Limits, LoadedPolicy, PluginRuntime};

pub fn policy() -> LoadedPolicy {
    let runtime = PluginRuntime::new(None, Limits::default()).unwrap();
    load(&runtime, &builtin_files(), None).unwrap()
}

/// The built-in bundle with another of its presets active.
#[allow(dead_code)]
pub fn policy_with_preset(preset: &str) -> LoadedPolicy {
    let runtime = PluginRuntime::new(None, Limits::default()).unwrap();
    load(&runtime, &builtin_files(), Some(preset)).unwrap()
}
