//! Running ffmpeg for a job: clearing what a killed run left, progress, telling a failure of
//! the machine (retried) from a failure of the job (its ERROR result), the last-frame
//! thumbnail fallback.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;

use vodpipe_core::{JobResult, JobStatus, Packaging, Probe};

use super::args::{arguments, last_frame_arguments};
use super::job::{HlsJob, ThumbnailJob};
use super::playlists::{finish, relative};
use crate::child;
use crate::job_lock::JobLock;

/// An `ERROR` result.
pub fn error_result(job_id: &str, code: i32, message: String) -> JobResult {
    JobResult {
        job_id: job_id.to_owned(),
        status: JobStatus::Error,
        error_code: Some(code),
        error_message: Some(message),
        playlist_path: None,
        outputs: Vec::new(),
        thumbnail_path: None,
        dash_manifest_path: None,
    }
}

/// A run that the machine failed, not the job: a full disk, no memory or file handles, ffmpeg
/// killed or not runnable. Nothing is wrong with the upload, so the job is tried again later
/// instead of ending `ERROR` (the worker gives up only after its last allowed delivery).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineFailure(pub String);

impl std::fmt::Display for MachineFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Runs a job to completion as the only writer of its outputs, which `lock` (the job's own
/// [`JobLock`], taken by the caller) proves. The job's own failures are an `ERROR` result;
/// the machine's are a [`MachineFailure`]. `progress` gets the fraction done (0.0..=1.0) as
/// ffmpeg reports it; `source` (the probe of the input, when known) gives the duration for
/// that fraction and the display size for [`arguments`].
pub fn run(
    job: &HlsJob,
    lock: &JobLock,
    job_id: &str,
    source: Option<&Probe>,
    mut progress: impl FnMut(f64),
) -> Result<JobResult, MachineFailure> {
    assert_eq!(
        lock.path(),
        JobLock::path_for(&job.output_dir),
        "a job runs under the lock of its own output directory"
    );
    let duration_ms = source.map_or(0, |p| p.duration_ms);
    let failed = |code, message: String| Ok(error_result(job_id, code, message));
    let machine = |message: String| Err(MachineFailure(message));
    let mut dirs = vec![job.output_dir.clone()];
    dirs.extend(job.thumbnail.as_ref().and_then(|t| t.path.parent().map(Path::to_owned)));
    for dir in dirs {
        if let Err(e) = std::fs::create_dir_all(&dir) {
            return machine(format!("cannot create {}: {e}", dir.display()));
        }
    }
    // A run that was killed may have left segments, playlists or a thumbnail; the read-back
    // must see only this run's files.
    if let Err(e) = clear_previous_outputs(job) {
        return machine(format!("cannot clear an earlier run's outputs: {e}"));
    }
    // The child holds the lock too, so it outlasts a killed worker until ffmpeg is gone.
    let child = child::command_holding("ffmpeg", lock)
        .args(arguments(job, source.map(Probe::display_size)))
        // SVT-AV1 writes its banner to stderr whatever ffmpeg's log level: errors only, so a
        // failure's last line is the failure.
        .env("SVT_LOG", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => return machine(format!("cannot run ffmpeg: {e}")),
    };
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(us) = line.strip_prefix("out_time_us=").and_then(|v| v.parse::<u64>().ok())
                && duration_ms > 0
            {
                progress((us as f64 / 1000.0 / duration_ms as f64).min(1.0));
            }
        }
    }
    let output = match child.wait_with_output() {
        Ok(output) => output,
        Err(e) => return machine(format!("ffmpeg did not finish: {e}")),
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no message")
            .trim();
        return match output.status.code() {
            None => machine(format!("ffmpeg was killed: {last}")),
            Some(code) if crate::child::machine_error(&stderr).is_some() => {
                machine(format!("ffmpeg exited with {code}: {last}"))
            }
            Some(code) => failed(1030, format!("ffmpeg exited with {code}: {last}")),
        };
    }
    // ffmpeg's HLS muxer can log a failed write and still exit 0.
    let stderr = String::from_utf8_lossy(&output.stderr);
    if let Some(error) = crate::child::machine_error(&stderr) {
        let line = stderr.lines().find(|l| l.contains(error)).unwrap_or(error);
        return machine(format!("ffmpeg could not write the outputs: {}", line.trim()));
    }
    if let Some(t) = &job.thumbnail
        && !t.path.is_file()
        && let Err(why) = capture_last_frame(job, t, lock)
    {
        return match crate::child::machine_error(&why) {
            Some(_) => machine(why),
            None => failed(1999, why),
        };
    }
    progress(1.0);
    match finish(job) {
        Ok((outputs, master)) => Ok(JobResult {
            job_id: job_id.to_owned(),
            status: JobStatus::Complete,
            error_code: None,
            error_message: None,
            playlist_path: Some(master),
            outputs,
            thumbnail_path: job.thumbnail.as_ref().and_then(|t| relative(&job.output_dir, &t.path)),
            // `finish` wrote it beside the master playlist.
            dash_manifest_path: (job.packaging == Packaging::Cmaf).then(|| format!("{}.mpd", job.manifest)),
        }),
        // A segment written empty, or missing from a playlist on a full disk, is a write the
        // disk refused (ffmpeg's HLS muxer does not always say so).
        Err(why)
            if why.contains("written empty")
                || crate::child::machine_error(&why).is_some()
                || disk_full(&job.output_dir) =>
        {
            machine(format!("{why} (the disk is full)"))
        }
        Err(why) => failed(1999, why),
    }
}

/// Whether the filesystem holding `dir` has no room left for another segment (under 1 MiB
/// available to vodpipe).
#[cfg(not(unix))]
fn disk_full(_dir: &Path) -> bool {
    false
}

/// Whether the filesystem holding `dir` has no room left for another segment (under 1 MiB
/// available to vodpipe).
#[cfg(unix)]
fn disk_full(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt as _;
    let Ok(path) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `path` is a valid NUL-terminated string and `stats` a plain C struct that
    // statvfs fills in; nothing is kept past the call.
    let mut stats: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(path.as_ptr(), &mut stats) } != 0 {
        return false;
    }
    (stats.f_bavail as u64).saturating_mul(stats.f_frsize as u64) < 1 << 20
}

/// Removes the files an earlier, interrupted run of `job` may have left: its media playlists
/// and their temporary files, its segments, the master playlist and the thumbnail. Only
/// regular files with the job's own names go: the output directory comes from the job
/// document and may hold anything else.
fn clear_previous_outputs(job: &HlsJob) -> std::io::Result<()> {
    let stems: Vec<String> = job
        .variants
        .iter()
        .map(|v| &v.modifier)
        .chain(job.audio_renditions.iter().map(|a| &a.modifier))
        .map(|modifier| format!("{}{modifier}", job.manifest))
        .collect();
    let master = format!("{}.m3u8", job.manifest);
    let master_tmp = format!(".{master}.tmp");
    let (mpd, mpd_tmp) = (format!("{}.mpd", job.manifest), format!(".{}.mpd.tmp", job.manifest));
    for entry in std::fs::read_dir(&job.output_dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let written_by_a_run = [&master, &master_tmp, &mpd, &mpd_tmp].iter().any(|own| **own == *name)
            || stems.iter().any(|stem| {
                name.strip_prefix(stem.as_str()).is_some_and(|rest| {
                    [".m3u8", ".m3u8.tmp", "_init.mp4", "_iframes.m3u8"].contains(&rest)
                        || (rest.starts_with('_') && (rest.ends_with(".ts") || rest.ends_with(".m4s")))
                })
            });
        if written_by_a_run && entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
        }
    }
    if let Some(t) = &job.thumbnail
        && std::fs::symlink_metadata(&t.path).is_ok_and(|m| m.is_file())
    {
        std::fs::remove_file(&t.path)?;
    }
    Ok(())
}

/// Writes the source's last frame as the thumbnail. The thumbnail branch keeps the first frame
/// at or after the thumbnail time, and a clip can end before it: one exactly as long as the
/// thumbnail time (its last frame starts a frame earlier), or one whose duration the planner
/// did not know. Only the last seconds are decoded, through the job's [`source_filters`](super::source_filters);
/// every frame overwrites the file (`-update 1`), so the last one stays.
fn capture_last_frame(job: &HlsJob, t: &ThumbnailJob, lock: &JobLock) -> Result<(), String> {
    let output = child::command_holding("ffmpeg", lock)
        .args(last_frame_arguments(job, t))
        .stdout(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run ffmpeg: {e}"))?;
    if output.status.success() && t.path.is_file() {
        tracing::info!(
            thumbnail = %t.path.display(),
            "the video ends before {:.3} s: its last frame is the thumbnail",
            t.at_seconds
        );
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no message");
    Err(format!(
        "no thumbnail was captured: the video ends before {:.1} s and its last frame could not be read ({})",
        t.at_seconds,
        last.trim()
    ))
}

/// Writes a test-pattern video (ffmpeg's `testsrc2` at 30 fps, H.264, plus a 440 Hz tone in
/// AAC when `audio`): the sample of the demo and the tests.
pub fn test_pattern(path: &Path, width: u32, height: u32, seconds: u32, audio: bool) -> Result<(), String> {
    let mut command = child::command("ffmpeg");
    command.args(["-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i"]);
    command.arg(format!("testsrc2=size={width}x{height}:rate=30:duration={seconds}"));
    if audio {
        command
            .args(["-f", "lavfi", "-i"])
            .arg(format!("sine=frequency=440:duration={seconds}"));
        command.args(["-c:a", "aac"]);
    }
    command
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"])
        .arg(path);
    let output = command.output().map_err(|e| format!("cannot run ffmpeg: {e}"))?;
    if !output.status.success() {
        return Err(format!("ffmpeg: {}", String::from_utf8_lossy(&output.stderr).trim()));
    }
    Ok(())
}
