//! `vodpipe process`: the whole pipeline for one file, through the durable queue and the
//! worker, as an upload would go.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use clap::Args;
use serde_json::json;
use vodpipe_api::UlidIds;
use vodpipe_core::pipeline::Pipeline;
use vodpipe_core::ports::{IdGenerator, Policy, SystemClock, VideoRepository};
use vodpipe_core::{VideoRecord, VideoStatus};
use vodpipe_embedded::disk::DiskStore;
use vodpipe_embedded::sqlite::Database;
use vodpipe_embedded::worker::{QueueTranscoder, Worker, WorkerConfig, upload_event};
use vodpipe_runtime::reload::load;
use vodpipe_runtime::{Limits, PluginRuntime};

#[derive(Args)]
pub struct ProcessArgs {
    /// The video to process.
    file: PathBuf,
    /// Policy bundle directory; the built-in bundle when omitted.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Data directory: uploads, media and the database (created if missing).
    #[arg(long, default_value = "vodpipe-data")]
    out: PathBuf,
    /// Use this preset of the bundle instead of its active one.
    #[arg(long)]
    preset: Option<String>,
    /// Print the video record as JSON instead of a summary.
    #[arg(long)]
    json: bool,
    /// Seconds a queued message stays hidden while being worked on; if this process dies,
    /// `vodpipe worker` picks the work up after this long.
    #[arg(long, default_value_t = 60)]
    visibility: u64,
}

pub fn run(args: ProcessArgs) -> anyhow::Result<ExitCode> {
    let runtime = PluginRuntime::new(crate::cache_dir(), Limits::default()).map_err(|e| anyhow!("{e}"))?;
    let files = crate::policy::files(args.policy.as_deref());
    let policy = load(&runtime, files.as_ref(), args.preset.as_deref())?;
    let show_progress = !args.json;
    let processed = process_file(&args.file, &policy, &args.out, args.visibility, show_progress)?;
    let (record, video_id) = (processed.record, processed.video_id);
    let media = processed.media_dir;
    let master = record.playback_path.as_ref().map(|p| media.join(p));
    let dash = record.dash_path.as_ref().map(|p| media.join(p));
    let thumbnail = record.thumbnail_path.as_ref().map(|p| media.join(p));
    if args.json {
        let mut value = serde_json::to_value(&record)?;
        value["master_playlist"] = json!(master.as_ref().map(|p| p.display().to_string()));
        value["dash_manifest"] = json!(dash.as_ref().map(|p| p.display().to_string()));
        value["thumbnail"] = json!(thumbnail.as_ref().map(|p| p.display().to_string()));
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        match record.status {
            VideoStatus::Done => {
                println!("video {video_id}: done, {} renditions", record.renditions.len());
                for r in &record.renditions {
                    println!("  {:<6} {}x{}", r.name, r.width, r.height);
                }
                if let Some(master) = &master {
                    println!("master playlist: {}", master.display());
                }
                if let Some(dash) = &dash {
                    println!("DASH manifest:   {}", dash.display());
                }
                if let Some(thumbnail) = &thumbnail {
                    println!("thumbnail:       {}", thumbnail.display());
                }
            }
            VideoStatus::Failed => {
                println!(
                    "video {video_id}: failed: {}",
                    record.failure_reason.as_deref().unwrap_or("no reason given")
                )
            }
            VideoStatus::Processing => println!("video {video_id}: still processing (see {})", args.out.display()),
        }
    }
    Ok(match record.status {
        VideoStatus::Done => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    })
}

/// One file processed through a data directory.
pub struct Processed {
    pub video_id: String,
    pub record: VideoRecord,
    /// Where the video's media (playlists, segments, thumbnail) are.
    pub media_dir: PathBuf,
}

/// Stores `file` as an upload in the data directory `out`, queues it and works the queue
/// until the video is done or failed: what an upload goes through.
pub fn process_file(
    file: &Path,
    policy: &dyn Policy,
    out: &Path,
    visibility_seconds: u64,
    show_progress: bool,
) -> anyhow::Result<Processed> {
    if !file.is_file() {
        bail!("{}: no such file", file.display());
    }
    let store = DiskStore::open(out).with_context(|| format!("opening {}", out.display()))?;
    let database = Database::open(&out.join("vodpipe.db"), Box::new(SystemClock)).map_err(|e| anyhow!("{e}"))?;

    let video_id = UlidIds.new_id();
    store
        .put_upload(&video_id, file, None)
        .with_context(|| format!("storing {}", file.display()))?;
    upload_event(&database, &video_id).map_err(|e| anyhow!("{e}"))?;
    eprintln!("video {video_id}: stored in {}, processing", out.display());

    let transcoder = QueueTranscoder { queue: &database };
    let config = WorkerConfig {
        visibility: Duration::from_secs(visibility_seconds.max(1)),
        ..WorkerConfig::default()
    };
    let worker = embedded_worker(&database, &store, &transcoder, policy, config);
    let mut progress = |fraction: f64| {
        if show_progress {
            let filled = (fraction * 30.0).round() as usize;
            eprint!(
                "\rtranscoding [{}{}] {:>3.0}%",
                "#".repeat(filled),
                " ".repeat(30 - filled),
                fraction * 100.0
            );
            let _ = std::io::stderr().flush();
        }
    };
    let finished = || {
        database
            .get(&video_id)
            .ok()
            .flatten()
            .is_some_and(|v: VideoRecord| v.status != VideoStatus::Processing)
    };
    worker
        .run_until(Duration::from_secs(30), &mut progress, finished)
        .map_err(|e| anyhow!("{e}"))?;
    if show_progress {
        eprintln!();
    }
    let record = database
        .get(&video_id)
        .map_err(|e| anyhow!("{e}"))?
        .context("the video record is missing")?;
    Ok(Processed {
        media_dir: store.media_dir(&video_id),
        video_id,
        record,
    })
}

/// A worker over one data directory's store and database, with the given policy.
pub fn embedded_worker<'a>(
    database: &'a Database,
    store: &'a DiskStore,
    transcoder: &'a QueueTranscoder<'a>,
    policy: &'a dyn Policy,
    config: WorkerConfig,
) -> Worker<'a> {
    Worker {
        queue: database,
        pipeline: Pipeline {
            store,
            repository: database,
            transcoder,
            policy,
            clock: &SystemClock,
            role: String::new(),
            queue: None,
        },
        config,
    }
}
