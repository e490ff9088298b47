//! What a finished job wrote, read back: each rendition's playlist checked and measured, and
//! the HLS master playlist written from it (BANDWIDTH, AVERAGE-BANDWIDTH, CODECS true to the
//! stream).

use std::fmt::Write as _;
use std::path::Path;

use vodpipe_core::JobOutput;

use super::job::HlsJob;
use crate::child;
use crate::ffprobe::FfprobeProber;
use vodpipe_core::ports::Prober;

/// Reads back what ffmpeg wrote and writes the master playlist with the attributes players
/// use to choose a variant: BANDWIDTH (peak segment bitrate), AVERAGE-BANDWIDTH, RESOLUTION,
/// CODECS and FRAME-RATE.
pub(super) fn finish(job: &HlsJob) -> Result<(Vec<JobOutput>, String), String> {
    let prober = FfprobeProber::default();
    let mut outputs = Vec::new();
    let mut master = String::from("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    for v in &job.variants {
        let name = format!("{}{}.m3u8", job.manifest, v.modifier);
        let playlist = job.output_dir.join(&name);
        let (peak, average, duration_ms) = bandwidth(&playlist)?;
        // The job fixed size and frame rate; only a frame rate kept from the source needs a look.
        let frame_rate = match v.frame_rate {
            Some((num, den)) => num as f64 / den as f64,
            None => prober.probe(&playlist).map_err(|e| format!("{name}: {e}"))?.frame_rate,
        };
        // The level the job asked for is the one x264 wrote; with AUTO, x264 chose: read it.
        let level_idc = match v.level {
            Some(level) => level.idc(),
            None => stream_level_idc(&playlist).map_err(|e| format!("{name}: {e}"))?,
        };
        let codecs = match &v.audio {
            Some(_) => format!("{},mp4a.40.2", v.profile.avc1(level_idc)),
            None => v.profile.avc1(level_idc),
        };
        writeln!(
            master,
            "#EXT-X-STREAM-INF:BANDWIDTH={peak},AVERAGE-BANDWIDTH={average},RESOLUTION={}x{},CODECS=\"{codecs}\",FRAME-RATE={:.3}",
            v.width, v.height, frame_rate
        )
        .unwrap();
        writeln!(master, "{name}").unwrap();
        outputs.push(JobOutput {
            path: name,
            width: v.width as u32,
            height: v.height as u32,
            duration_ms,
        });
    }
    let master_name = format!("{}.m3u8", job.manifest);
    let tmp = job.output_dir.join(format!(".{master_name}.tmp"));
    std::fs::write(&tmp, master)
        .and_then(|_| std::fs::rename(&tmp, job.output_dir.join(&master_name)))
        .map_err(|e| format!("cannot write {master_name}: {e}"))?;
    if let Some(t) = &job.thumbnail
        && !t.path.is_file()
    {
        return Err(format!("no thumbnail was captured at {:.1} s", t.at_seconds));
    }
    Ok((outputs, master_name))
}

/// Peak and average bits per second over a media playlist's segments, and its duration in
/// milliseconds: what BANDWIDTH and AVERAGE-BANDWIDTH state.
pub fn bandwidth(playlist: &Path) -> Result<(u64, u64, u64), String> {
    let text = std::fs::read_to_string(playlist).map_err(|e| format!("{}: {e}", playlist.display()))?;
    let dir = playlist.parent().unwrap_or(Path::new("."));
    let (mut peak, mut bits, mut seconds) = (0f64, 0f64, 0f64);
    let mut duration = None;
    for line in text.lines() {
        if let Some(d) = line.strip_prefix("#EXTINF:") {
            duration = d
                .trim_end_matches(',')
                .split(',')
                .next()
                .and_then(|d| d.parse::<f64>().ok());
        } else if !line.starts_with('#') && !line.trim().is_empty() {
            let size = std::fs::metadata(dir.join(line.trim()))
                .map_err(|e| format!("segment {line}: {e}"))?
                .len();
            if size == 0 {
                return Err(format!("segment {line} was written empty (is the disk full?)"));
            }
            let d = duration.take().ok_or(format!("segment {line} has no duration"))?;
            bits += size as f64 * 8.0;
            seconds += d;
            // Whole-second durations can round a short last segment to 0: no rate from it.
            if d > 0.0 {
                peak = peak.max(size as f64 * 8.0 / d);
            }
        }
    }
    if seconds == 0.0 {
        return Err(format!("{} lists no segments", playlist.display()));
    }
    Ok((
        peak.round() as u64,
        (bits / seconds).round() as u64,
        (seconds * 1000.0).round() as u64,
    ))
}

/// The `level_idc` in the first video stream's SPS, as ffprobe reads it.
fn stream_level_idc(playlist: &Path) -> Result<u8, String> {
    let output = child::command("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=level"])
        .args(["-of", "default=noprint_wrappers=1:nokey=1"])
        .arg(playlist)
        .output()
        .map_err(|e| format!("cannot run ffprobe: {e}"))?;
    // A playlist's stream is printed once per program it is in, too: the first line is it.
    let text = String::from_utf8_lossy(&output.stdout);
    match text.lines().next().unwrap_or_default().trim().parse::<u8>() {
        Ok(idc) if output.status.success() && idc > 0 => Ok(idc),
        _ => Err(format!(
            "ffprobe read no H.264 level ({})",
            String::from_utf8_lossy(&output.stderr).trim()
        )),
    }
}

pub(super) fn relative(base: &Path, path: &Path) -> Option<String> {
    path.strip_prefix(base).ok().map(|p| p.display().to_string())
}
