//! `vodpipe`: the command line. Each subcommand lives in its own module; this file only
//! parses arguments and sets up logging.

mod cost;
mod diff;
mod plan;
mod policy;
mod process;
mod quality;
mod queue;
mod scaffold;
mod serve;
mod worker;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc rather than glibc's malloc: under API load glibc spent about a fifth of the
/// server's time allocating and freeing across threads (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_arena_eager_commit` in mimalloc 3's `mimalloc.h` (the bindings do not name it).
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

/// Arenas commit memory as they use it: committed up front, a 100 MB upload grew the server's
/// peak RSS by 14–16 MiB instead of 1–3, and its resting RSS doubled, for no measurable gain
/// in throughput (docs/performance.md). Set before anything allocates (mimalloc reserves its
/// first arena on the first allocation, before `main`), so from the ELF initialisers.
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static COMMIT_MEMORY_AS_USED: extern "C" fn() = {
    extern "C" fn commit_memory_as_used() {
        // SAFETY: sets a process-wide option before mimalloc reads it.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0) };
    }
    commit_memory_as_used
};

#[derive(Parser)]
#[command(
    name = "vodpipe",
    version,
    about = "Video-on-demand pipeline: uploads in, HLS ladders out, policy in WASM plugins"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show the rendition ladder and MediaConvert job the active policy makes for a source.
    Plan(plan::PlanArgs),
    /// Process a video file end to end: probe, plan, transcode to HLS, publish.
    Process(process::ProcessArgs),
    /// Encode a file with the policy and measure what it delivers: bits, VMAF, SSIM, PSNR
    /// per rendition, encode and measure time, estimated cost; writes a report and a chart.
    Quality(quality::QualityArgs),
    /// Work the queue of a data directory: resume what a stopped process left, process new uploads.
    Worker(worker::WorkerArgs),
    /// Serve the API, uploads and media, and process uploads as they arrive.
    Serve(serve::ServeArgs),
    /// Check or create policy bundles.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Inspect a data directory's queue: list dead letters, redrive them.
    #[command(subcommand)]
    Queue(queue::QueueCommand),
    /// Start a new plugin.
    #[command(subcommand)]
    Plugin(scaffold::PluginCommand),
}

/// Where compiled plugins are cached across runs.
pub fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("VODPIPE_CACHE_DIR") {
        return (!dir.is_empty()).then(|| dir.into());
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("vodpipe/plugins"))
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("VODPIPE_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        // Colour codes only for people; logs piped to files or collectors stay plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let result = match Cli::parse().command {
        Command::Plan(args) => plan::run(args),
        Command::Policy(command) => policy::run(command),
        Command::Process(args) => process::run(args),
        Command::Quality(args) => quality::run(args),
        Command::Worker(args) => worker::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Queue(command) => queue::run(command),
        Command::Plugin(command) => scaffold::run(command),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
