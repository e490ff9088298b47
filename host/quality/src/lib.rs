//! Measures an encode against its source: what `vodpipe quality` and `vodpipe policy diff
//! --encode` report for every rendition.
//!
//! - Bits: average and peak bitrate over the rendition's segments, as HLS's
//!   AVERAGE-BANDWIDTH and BANDWIDTH state them.
//! - Quality: VMAF (libvmaf's `vmaf` tool, model [`vmaf::MODEL`]), luma SSIM (dB) and luma
//!   PSNR (dB) from ffmpeg, each against the source scaled to the rendition's size with one fixed
//!   scaler ([`REFERENCE_SCALER`]), read through the same filters as the job reads it, frames
//!   aligned by timestamp at the rendition's frame rate.
//!
//! All renditions are compared in one ffmpeg process that decodes the source once: it
//! scores SSIM and PSNR itself and hands each pair of pictures, stacked, to one `vmaf`
//! process per rendition ([`y4m`]). Pictures are sampled ([`sampling`]): one in
//! [`sampling::DEFAULT`] by default, each scored picture with its predecessor for VMAF's
//! motion feature; the scaling and every score run on those pictures only.

pub mod chart;
pub mod sampling;
pub mod stats;
pub mod vmaf;
pub mod y4m;

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use serde::Serialize;
use vodpipe_embedded::child;

pub use sampling::Sampling;

/// The scaler that brings the source to each rendition's size: the reference must not vary
/// with the job's own scaler, or a better encoder scaler would look like worse quality.
pub const REFERENCE_SCALER: &str = "lanczos+accurate_rnd";

/// One rendition to measure.
#[derive(Debug, Clone)]
pub struct Rendition {
    pub name: String,
    pub width: u32,
    pub height: u32,
    /// Its media playlist.
    pub playlist: PathBuf,
}

/// A rendition's bits and quality.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scores {
    pub name: String,
    pub width: u32,
    pub height: u32,
    /// Mean bitrate over the segments (audio and container included), kb/s.
    pub avg_kbps: f64,
    /// The highest segment's bitrate, kb/s.
    pub peak_kbps: f64,
    pub vmaf: Option<f64>,
    pub ssim_db: Option<f64>,
    pub psnr_db: Option<f64>,
    /// Pictures compared (with sampling, the scored ones and their predecessors).
    pub frames: u64,
}

/// Every rendition's scores, and why VMAF is missing when it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measurement {
    pub renditions: Vec<Scores>,
    pub vmaf_unavailable: Option<String>,
    pub sampling: Sampling,
    /// Wall time of the measurement.
    pub seconds: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum MeasureError {
    #[error("{ffmpeg} has no `{filter}` filter, which measuring needs (ffmpeg -filters lists what it has)")]
    MissingFilter { ffmpeg: String, filter: &'static str },
    #[error("{path}: cannot be read as video: {message}", path = path.display())]
    Source { path: PathBuf, message: String },
    #[error("rendition {name}: {message}")]
    Rendition { name: String, message: String },
    #[error("measuring failed: {0}")]
    Failed(String),
}

/// The tools a measurement runs.
#[derive(Debug, Clone)]
pub struct Measurer {
    pub ffmpeg: PathBuf,
    pub ffprobe: PathBuf,
    /// The `vmaf` tool, or why there is none.
    pub vmaf: Result<PathBuf, String>,
    /// Which pictures VMAF, SSIM and PSNR score.
    pub sampling: Sampling,
}

impl Default for Measurer {
    /// ffmpeg and ffprobe from the `PATH`, and whatever `vmaf` [`vmaf::find`] finds.
    fn default() -> Self {
        Self {
            ffmpeg: "ffmpeg".into(),
            ffprobe: "ffprobe".into(),
            vmaf: vmaf::find(),
            sampling: sampling::DEFAULT,
        }
    }
}

/// What every measurement asks of ffmpeg (and `vstack` with the vmaf tool).
const FILTERS: [&str; 10] = [
    "bwdif", "scale", "pad", "setsar", "setpts", "split", "fps", "format", "ssim", "psnr",
];

impl Measurer {
    /// Measures `renditions` of `source`, whose display size (square pixels, turned) is
    /// `source_size` when known. `work` holds the statistics files.
    pub fn measure(
        &self,
        source: &Path,
        source_size: Option<(u32, u32)>,
        renditions: &[Rendition],
        work: &Path,
    ) -> Result<Measurement, MeasureError> {
        let started = Instant::now();
        if work.to_string_lossy().contains(['\'', '\\']) {
            return Err(MeasureError::Failed(format!(
                "{}: the work directory's path may not hold quotes or backslashes (ffmpeg's filter syntax)",
                work.display()
            )));
        }
        self.check_filters()?;
        self.frame_rate(source).map_err(|message| MeasureError::Source {
            path: source.to_owned(),
            message,
        })?;
        let mut rates = Vec::new();
        for r in renditions {
            let rate = self
                .frame_rate(&r.playlist)
                .map_err(|message| MeasureError::Rendition {
                    name: r.name.clone(),
                    message,
                })?;
            rates.push(rate);
        }

        let vmaf = self.vmaf.as_ref().ok();
        let plan = Graph {
            source_size,
            renditions,
            rates: &rates,
            work,
            vmaf: vmaf.is_some(),
            sampling: self.sampling,
        };
        let vmaf_scores = match vmaf {
            Some(tool) => Some(self.run_with_vmaf(tool, source, &plan)?),
            None => {
                self.run_ffmpeg(source, &plan, Vec::new())?;
                None
            }
        };

        let mut scores = Vec::new();
        for (k, r) in renditions.iter().enumerate() {
            let failed = |message: String| MeasureError::Rendition {
                name: r.name.clone(),
                message,
            };
            let (peak, average, _) = vodpipe_embedded::ffmpeg::bandwidth(&r.playlist).map_err(failed)?;
            let ssim = stats::ssim_db(&plan.ssim_log(k)).map_err(failed)?;
            let psnr = stats::psnr_y_db(&plan.psnr_log(k)).map_err(failed)?;
            let vmaf = vmaf_scores.as_ref().map(|all| all[k].0.vmaf);
            if let Some((_, frames)) = vmaf_scores.as_ref().map(|all| all[k])
                && frames != ssim.frames
            {
                return Err(failed(format!(
                    "vmaf was handed {frames} pictures where ssim compared {}",
                    ssim.frames
                )));
            }
            let (ssim_db, psnr_db, frames) = (ssim.db, psnr.db, ssim.frames);
            scores.push(Scores {
                name: r.name.clone(),
                width: r.width,
                height: r.height,
                avg_kbps: average as f64 / 1000.0,
                peak_kbps: peak as f64 / 1000.0,
                vmaf,
                ssim_db: Some(ssim_db),
                psnr_db: Some(psnr_db),
                frames,
            });
        }
        Ok(Measurement {
            renditions: scores,
            vmaf_unavailable: self.vmaf.as_ref().err().cloned(),
            sampling: self.sampling,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    fn check_filters(&self) -> Result<(), MeasureError> {
        let output = child::command(&self.ffmpeg)
            .args(["-hide_banner", "-filters"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| MeasureError::Failed(format!("cannot run {}: {e}", self.ffmpeg.display())))?;
        let listing = String::from_utf8_lossy(&output.stdout);
        let have: Vec<&str> = listing
            .lines()
            .filter_map(|line| line.split_whitespace().nth(1))
            .collect();
        let mut needed = FILTERS.to_vec();
        if self.vmaf.is_ok() {
            needed.push("vstack");
        }
        match needed.into_iter().find(|f| !have.contains(f)) {
            Some(filter) => Err(MeasureError::MissingFilter {
                ffmpeg: self.ffmpeg.display().to_string(),
                filter,
            }),
            None => Ok(()),
        }
    }

    /// The video's frame rate as ffmpeg's rational (`30000/1001`).
    fn frame_rate(&self, path: &Path) -> Result<String, String> {
        let output = child::command(&self.ffprobe)
            .args(["-v", "error", "-select_streams", "V:0", "-show_entries"])
            .args([
                "stream=avg_frame_rate,r_frame_rate",
                "-of",
                "default=noprint_wrappers=1",
            ])
            .arg(path)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.ffprobe.display()))?;
        let text = String::from_utf8_lossy(&output.stdout);
        let field = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key))
                .map(str::trim)
                .filter(|rate| !rate.is_empty() && !rate.starts_with('0'))
                .map(str::to_owned)
        };
        if !output.status.success() || !text.contains("frame_rate=") {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let reason = stderr.lines().last().unwrap_or("it has no video stream").trim();
            return Err(reason.to_owned());
        }
        field("avg_frame_rate=")
            .or_else(|| field("r_frame_rate="))
            .ok_or_else(|| "its video stream has no frame rate".to_owned())
    }

    /// Runs ffmpeg with `outputs` (the write ends of pipes) as its fds 3, 4, ...
    fn run_ffmpeg(&self, source: &Path, plan: &Graph, outputs: Vec<std::io::PipeWriter>) -> Result<(), MeasureError> {
        let stderr_path = plan.work.join("ffmpeg.log");
        let stderr =
            File::create(&stderr_path).map_err(|e| MeasureError::Failed(format!("{}: {e}", stderr_path.display())))?;
        let mut command = child::command(&self.ffmpeg);
        command.args(["-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-i"]);
        command.arg(source);
        for r in plan.renditions {
            command.arg("-i").arg(&r.playlist);
        }
        command.arg("-filter_complex").arg(plan.filter());
        if plan.vmaf {
            for k in 0..plan.renditions.len() {
                // Passthrough: a y4m stream is otherwise made constant-rate, with the gaps
                // between sampled pictures filled by copies.
                command.args([
                    "-map",
                    &format!("[pair{k}]"),
                    "-fps_mode",
                    "passthrough",
                    "-f",
                    "yuv4mpegpipe",
                    &format!("pipe:{}", 3 + k),
                ]);
            }
        } else {
            for k in 0..plan.renditions.len() {
                command.args(["-map", &format!("[out{k}]")]);
            }
            command.args(["-f", "null", "-"]);
        }
        command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(stderr);
        fds::pass(&mut command, &outputs);
        let mut process = command
            .spawn()
            .map_err(|e| MeasureError::Failed(format!("cannot run {}: {e}", self.ffmpeg.display())))?;
        drop(outputs);
        let status = process.wait().map_err(|e| MeasureError::Failed(e.to_string()))?;
        if !status.success() {
            let log = std::fs::read_to_string(&stderr_path).unwrap_or_default();
            return Err(MeasureError::Failed(format!(
                "ffmpeg ended with {status}: {}",
                log.trim().lines().rev().take(5).collect::<Vec<_>>().join(" / ")
            )));
        }
        Ok(())
    }

    /// Runs ffmpeg and one `vmaf` per rendition; returns each rendition's scores and the
    /// pictures compared.
    fn run_with_vmaf(
        &self,
        tool: &Path,
        source: &Path,
        plan: &Graph,
    ) -> Result<Vec<(vmaf::Scored, u64)>, MeasureError> {
        let io = |e: std::io::Error| MeasureError::Failed(e.to_string());
        let mut scorers = Vec::new();
        let mut relays = Vec::new();
        let mut ffmpeg_outputs = Vec::new();
        for (k, r) in plan.renditions.iter().enumerate() {
            let (stacked_in, stacked_out) = std::io::pipe().map_err(io)?;
            let (ref_in, ref_out) = std::io::pipe().map_err(io)?;
            let (dist_in, dist_out) = std::io::pipe().map_err(io)?;
            let log = File::create(plan.vmaf_log(k)).map_err(io)?;
            let mut command = child::command(tool);
            command
                .args(vmaf::arguments(
                    r.width,
                    r.height,
                    self.sampling.vmaf_subsample(),
                    &plan.vmaf_json(k),
                ))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log);
            // The read ends stay open until the child has its copies.
            let inputs = [ref_in, dist_in];
            fds::pass(&mut command, &inputs);
            let process = command
                .spawn()
                .map_err(|e| MeasureError::Failed(format!("cannot run {}: {e}", tool.display())))?;
            drop(inputs);
            scorers.push(process);
            ffmpeg_outputs.push(stacked_out);
            relays.push((stacked_in, ref_out, dist_out));
        }
        // Children are started and waited for on this thread (their parent-death signal is
        // tied to it); the threads only move pictures.
        let ran = std::thread::scope(|scope| {
            let handles: Vec<_> = relays
                .into_iter()
                .map(|(stacked, reference, distorted)| {
                    scope.spawn(move || y4m::split_pairs(stacked, reference, distorted))
                })
                .collect();
            let ffmpeg = self.run_ffmpeg(source, plan, ffmpeg_outputs);
            let relayed: Vec<_> = handles.into_iter().map(|h| h.join()).collect();
            (ffmpeg, relayed)
        });
        let mut statuses = Vec::new();
        for process in &mut scorers {
            statuses.push(process.wait().map_err(io)?);
        }
        if let Err(e) = ran.0 {
            // A relay that stopped first is the cause of ffmpeg's broken pipe: say both.
            let relays: Vec<String> = ran
                .1
                .iter()
                .enumerate()
                .filter_map(|(k, r)| match r {
                    Ok(Err(message)) => Some(format!("{}: {message}", plan.renditions[k].name)),
                    _ => None,
                })
                .collect();
            return Err(if relays.is_empty() {
                e
            } else {
                MeasureError::Failed(format!("{e} (pictures to vmaf: {})", relays.join("; ")))
            });
        }
        let mut means = Vec::new();
        for (k, (relayed, status)) in ran.1.into_iter().zip(statuses).enumerate() {
            let name = &plan.renditions[k].name;
            let failed = |message: String| MeasureError::Rendition {
                name: name.clone(),
                message,
            };
            if !status.success() {
                let log = std::fs::read_to_string(plan.vmaf_log(k)).unwrap_or_default();
                return Err(failed(format!("vmaf ended with {status}: {}", log.trim())));
            }
            let frames = relayed
                .map_err(|_| failed("the picture relay panicked".into()))?
                .map_err(failed)?;
            let json = std::fs::read_to_string(plan.vmaf_json(k)).map_err(|e| failed(e.to_string()))?;
            let report = serde_json::from_str(&json).map_err(|e| failed(format!("vmaf report: {e}")))?;
            let scored = vmaf::scores(&report).map_err(failed)?;
            // vmaf ends quietly (and successfully) when one side is shorter: the count shows it.
            // With sampling, what vmaf reads alternates predecessor and scored picture,
            // after a first picture that is scored alone: every other one is scored.
            let subsample = self.sampling.vmaf_subsample();
            if scored.pictures != frames.div_ceil(subsample.into()) {
                return Err(failed(format!(
                    "vmaf scored {} of the {frames} pictures it read, not one in {subsample}",
                    scored.pictures
                )));
            }
            means.push((scored, frames));
        }
        Ok(means)
    }
}

/// The filter graph of one measurement.
struct Graph<'a> {
    source_size: Option<(u32, u32)>,
    renditions: &'a [Rendition],
    /// Each rendition's frame rate; its reference is brought to it.
    rates: &'a [String],
    work: &'a Path,
    vmaf: bool,
    sampling: Sampling,
}

impl Graph<'_> {
    fn ssim_log(&self, k: usize) -> PathBuf {
        self.work.join(format!("ssim{k}.log"))
    }

    fn psnr_log(&self, k: usize) -> PathBuf {
        self.work.join(format!("psnr{k}.log"))
    }

    fn vmaf_json(&self, k: usize) -> PathBuf {
        self.work.join(format!("vmaf{k}.json"))
    }

    fn vmaf_log(&self, k: usize) -> PathBuf {
        self.work.join(format!("vmaf{k}.log"))
    }

    /// Source decoded once, read as the job reads it, split per rendition; each branch is
    /// timed to its rendition, sampled, scaled to it and compared with it (sampled alike):
    /// SSIM, then PSNR on the same pictures, then (for VMAF) stacked over it for the `vmaf`
    /// tool. Sampling comes before the scaler, the costliest filter.
    fn filter(&self) -> String {
        let n = self.renditions.len();
        let mut graph = format!(
            "{},setpts=PTS-STARTPTS,split={n}",
            vodpipe_embedded::ffmpeg::source_filters()
        );
        for k in 0..n {
            write!(graph, "[src{k}]").unwrap();
        }
        let copies = if self.vmaf { 3 } else { 2 };
        for (k, r) in self.renditions.iter().enumerate() {
            let fit = vodpipe_embedded::ffmpeg::fit(
                self.source_size,
                (r.width.into(), r.height.into()),
                false,
                Some(REFERENCE_SCALER),
            );
            let select = self
                .sampling
                .select_filter(&self.rates[k])
                .map(|s| s + ",")
                .unwrap_or_default();
            write!(
                graph,
                ";[src{k}]fps={},{select}{fit},format=yuv420p,split={copies}[ssimref{k}][psnrref{k}]",
                self.rates[k]
            )
            .unwrap();
            if self.vmaf {
                write!(graph, "[vmafref{k}]").unwrap();
            }
            write!(
                graph,
                ";[{}:v:0]setpts=PTS-STARTPTS,{select}format=yuv420p,setsar=1[dist{k}]\
                 ;[dist{k}][ssimref{k}]ssim=stats_file='{}':shortest=1[ssimed{k}]\
                 ;[ssimed{k}][psnrref{k}]psnr=stats_file='{}':shortest=1[out{k}]",
                k + 1,
                self.ssim_log(k).display(),
                self.psnr_log(k).display(),
            )
            .unwrap();
            if self.vmaf {
                write!(graph, ";[vmafref{k}][out{k}]vstack=shortest=1[pair{k}]").unwrap();
            }
        }
        graph
    }
}

/// Handing pipe ends to a child as fixed descriptor numbers.
mod fds {
    use std::os::fd::{AsRawFd, RawFd};
    use std::os::unix::process::CommandExt as _;
    use std::process::Command;

    /// The most descriptors one child gets (one per rendition at most).
    const MAX: usize = 32;

    /// `files[i]` becomes the child's descriptor `3 + i`. The caller keeps `files` open until
    /// the spawn has returned: the child copies them by number.
    pub fn pass(command: &mut Command, files: &[impl AsRawFd]) {
        assert!(files.len() <= MAX, "at most {MAX} descriptors");
        let mut sources = [-1 as RawFd; MAX];
        for (slot, file) in sources.iter_mut().zip(files) {
            *slot = file.as_raw_fd();
        }
        let n = files.len();
        // SAFETY: between fork and exec, only fcntl and dup2 on descriptors the caller keeps
        // open until the spawn returns; no allocation (fixed arrays on the stack).
        unsafe {
            command.pre_exec(move || {
                // First above every target, so that no dup2 onto a target closes a source
                // that is still to be moved.
                let mut high = [-1 as RawFd; MAX];
                for i in 0..n {
                    high[i] = libc::fcntl(sources[i], libc::F_DUPFD_CLOEXEC, (3 + MAX) as RawFd);
                    if high[i] == -1 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                for (i, &fd) in high.iter().enumerate().take(n) {
                    if libc::dup2(fd, 3 + i as RawFd) == -1 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
    }
}

/// CPU seconds (user + system) of this process's children that have ended and been waited
/// for: an encode's CPU time is the difference around it.
pub fn children_cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_graph_decodes_the_source_once_and_compares_each_rendition() {
        let renditions = [
            Rendition {
                name: "720p".into(),
                width: 1280,
                height: 720,
                playlist: "a/720p.m3u8".into(),
            },
            Rendition {
                name: "360p".into(),
                width: 640,
                height: 360,
                playlist: "a/360p.m3u8".into(),
            },
        ];
        let rates = ["30/1".to_owned(), "30/1".to_owned()];
        let graph = Graph {
            source_size: Some((1920, 1080)),
            renditions: &renditions,
            rates: &rates,
            work: Path::new("w"),
            vmaf: true,
            sampling: Sampling::EVERY_PICTURE,
        };
        let filter = graph.filter();
        assert_eq!(filter.matches("[0:V:0]").count(), 1, "{filter}");
        assert!(filter.contains("split=2[src0][src1]"), "{filter}");
        assert!(filter.contains(&format!(
            "[src1]fps=30/1,scale=640:360:flags={REFERENCE_SCALER},setsar=1"
        )));
        assert!(filter.contains("[2:v:0]setpts=PTS-STARTPTS"), "{filter}");
        assert!(filter.contains("ssim=stats_file='w/ssim1.log'"), "{filter}");
        assert!(
            filter.contains("psnr=stats_file='w/psnr1.log':shortest=1[out1]"),
            "{filter}"
        );
        assert!(filter.contains("[vmafref1][out1]vstack=shortest=1[pair1]"), "{filter}");

        let without_vmaf = Graph { vmaf: false, ..graph }.filter();
        assert!(!without_vmaf.contains("vstack"), "{without_vmaf}");

        // Both sides are sampled alike, the reference before its scaler.
        let sampling = Sampling::one_in(8).unwrap();
        let select = sampling.select_filter("30/1").unwrap();
        let sampled = Graph { sampling, ..graph }.filter();
        assert!(
            sampled.contains(&format!("[src1]fps=30/1,{select},scale=640:360")),
            "{sampled}"
        );
        assert!(
            sampled.contains(&format!("[2:v:0]setpts=PTS-STARTPTS,{select},format=yuv420p")),
            "{sampled}"
        );
    }
}
