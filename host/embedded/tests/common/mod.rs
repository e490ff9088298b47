//! What the embedded tests share: the built-in policy, loaded for real, and a worker run
//! until its queue is idle.

use vodpipe_core::pipeline::Pipeline;
use vodpipe_core::ports::SystemClock;
use vodpipe_embedded::disk::DiskStore;
use vodpipe_embedded::sqlite::Database;
use vodpipe_embedded::worker::{QueueTranscoder, Worker, WorkerConfig};
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

/// The built-in bundle with one more preset, `ladders/<name>.toml` of `text`, active.
#[allow(dead_code)]
pub fn policy_with_ladder(name: &str, text: &str) -> LoadedPolicy {
    let runtime = PluginRuntime::new(None, Limits::default()).unwrap();
    let mut files = builtin_files();
    files
        .files
        .insert(format!("ladders/{name}.toml"), text.as_bytes().to_vec());
    load(&runtime, &files, Some(name)).unwrap()
}

/// Works the data directory's queue with the embedded pipeline until no message is left, as
/// `vodpipe process` does; the number of messages handled.
#[allow(dead_code)]
pub fn work_until_idle(store: &DiskStore, database: &Database, policy: &LoadedPolicy, config: WorkerConfig) -> usize {
    let transcoder = QueueTranscoder { queue: database };
    let worker = Worker {
        queue: database,
        pipeline: Pipeline {
            store,
            repository: database,
            transcoder: &transcoder,
            policy,
            clock: &SystemClock,
            role: String::new(),
            queue: None,
        },
        config,
    };
    let mut handled = 0;
    while worker.run_once(&mut |_| {}).unwrap() {
        handled += 1;
    }
    handled
}
