//! `vodpipe worker`: works the durable queue of a data directory — resuming whatever a
//! stopped process left — with the policy bundle hot-reloaded when `--policy` is given.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use clap::Args;
use vodpipe_core::ports::SystemClock;
use vodpipe_embedded::disk::DiskStore;
use vodpipe_embedded::sqlite::Database;
use vodpipe_embedded::worker::{QueueTranscoder, WorkerConfig};
use vodpipe_runtime::reload::load;
use vodpipe_runtime::{Limits, PluginRuntime, PolicyHandle};

#[derive(Args)]
pub struct WorkerArgs {
    /// Data directory (as given to `vodpipe process --out`).
    #[arg(long, default_value = "vodpipe-data")]
    out: PathBuf,
    /// Policy bundle directory, reloaded when it changes; the built-in bundle when omitted.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Stop after the queue has been empty this many seconds (default: run until killed).
    #[arg(long)]
    until_idle: Option<u64>,
    /// Seconds a message stays hidden while being worked on.
    #[arg(long, default_value_t = 60)]
    visibility: u64,
    /// Seconds before a transcode whose job another process is writing is tried again (the
    /// worker goes on with other messages meanwhile).
    #[arg(long, default_value_t = WorkerConfig::default().locked_retry.as_secs())]
    locked_retry: u64,
}

pub fn run(args: WorkerArgs) -> anyhow::Result<ExitCode> {
    let handle = policy_handle(args.policy.as_deref())?;
    let _watch = handle.watch(Duration::from_millis(500));
    let store = DiskStore::open(&args.out).with_context(|| format!("opening {}", args.out.display()))?;
    let database = Database::open(&args.out.join("vodpipe.db"), Box::new(SystemClock)).map_err(|e| anyhow!("{e}"))?;
    let config = WorkerConfig {
        visibility: Duration::from_secs(args.visibility.max(1)),
        locked_retry: Duration::from_secs(args.locked_retry.max(1)),
        ..WorkerConfig::default()
    };
    eprintln!(
        "worker: {} ({} queued)",
        args.out.display(),
        database.queued().map_err(|e| anyhow!("{e}"))?
    );
    let until_idle = args.until_idle.map(Duration::from_secs);
    work(&database, &store, &handle, config, until_idle, &AtomicBool::new(false))?;
    Ok(ExitCode::SUCCESS)
}

/// The active policy: the bundle in `dir`, reloaded when it changes, or the built-in one.
pub fn policy_handle(dir: Option<&Path>) -> anyhow::Result<Arc<PolicyHandle>> {
    let runtime = PluginRuntime::new(crate::cache_dir(), Limits::default()).map_err(|e| anyhow!("{e}"))?;
    Ok(match dir {
        Some(dir) => PolicyHandle::from_dir(runtime, dir)?,
        None => {
            let builtin = load(&runtime, crate::policy::files(None).as_ref(), None)?;
            PolicyHandle::fixed(runtime, builtin)
        }
    })
}

/// Works the queue until `stop` is set, or until no message was visible for `until_idle`.
pub fn work(
    database: &Database,
    store: &DiskStore,
    handle: &PolicyHandle,
    config: WorkerConfig,
    until_idle: Option<Duration>,
    stop: &AtomicBool,
) -> anyhow::Result<()> {
    let transcoder = QueueTranscoder { queue: database };
    let mut idle_since = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        // One policy snapshot per message: a reload never changes a message half-way (a
        // video's later messages may see the newer bundle).
        let policy = handle.current();
        let worker = crate::process::embedded_worker(database, store, &transcoder, &*policy, config);
        match worker.run_once(&mut |_| {}) {
            Ok(true) => {
                idle_since = Instant::now();
                continue;
            }
            Ok(false) => {}
            // The database is busy or the disk is full: say so and keep going, the message
            // is still queued.
            Err(e) => tracing::error!("worker: {e}"),
        }
        if until_idle.is_some_and(|idle| idle_since.elapsed() >= idle) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}
