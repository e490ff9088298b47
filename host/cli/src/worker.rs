//! `vodpipe worker`: works the durable queue of a data directory — resuming whatever a
//! stopped process left — with the policy bundle hot-reloaded when `--policy` is given.

use std::path::PathBuf;
use std::process::ExitCode;
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
}

pub fn run(args: WorkerArgs) -> anyhow::Result<ExitCode> {
    let runtime = PluginRuntime::new(crate::cache_dir(), Limits::default()).map_err(|e| anyhow!("{e}"))?;
    let handle = match &args.policy {
        Some(dir) => PolicyHandle::from_dir(runtime, dir)?,
        None => {
            let builtin = load(&runtime, crate::policy::files(None).as_ref(), None)?;
            PolicyHandle::fixed(runtime, builtin)
        }
    };
    let _watch = handle.watch(Duration::from_millis(500));
    let store = DiskStore::open(&args.out).with_context(|| format!("opening {}", args.out.display()))?;
    let database = Database::open(&args.out.join("vodpipe.db"), Box::new(SystemClock)).map_err(|e| anyhow!("{e}"))?;
    let transcoder = QueueTranscoder { queue: &database };
    let config = WorkerConfig {
        visibility: Duration::from_secs(args.visibility.max(1)),
        ..WorkerConfig::default()
    };
    eprintln!(
        "worker: {} ({} queued)",
        args.out.display(),
        database.queued().map_err(|e| anyhow!("{e}"))?
    );

    let mut idle_since = Instant::now();
    loop {
        // One policy snapshot per message: a reload never changes a message half-way (a
        // video's later messages may see the newer bundle).
        let policy = handle.current();
        let worker = crate::process::embedded_worker(&database, &store, &transcoder, &*policy, config);
        if worker.run_once(&mut |_| {}).map_err(|e| anyhow!("{e}"))? {
            idle_since = Instant::now();
            continue;
        }
        if args
            .until_idle
            .is_some_and(|idle| idle_since.elapsed() >= Duration::from_secs(idle))
        {
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
