//! The content analysis before planning, with ffmpeg: a few windows of the source, scaled to
//! two sizes (360 and 720 on the short side, or the source's own) and encoded with x264 as
//! the transcoder encodes (veryfast, High, 2 s GOPs, no scene cuts) at two constant rate
//! factors; the size of each encode is the bitrate that quality costs this content at that
//! size. A planner scales it to each rung (docs/ladders.md, `ladder-content-aware`).

use std::path::Path;

use vodpipe_core::{Analysis, ContentAnalysis, Probe, RatePoint, SizeSample};

/// How the analysis samples a source.
#[derive(Debug, Clone)]
pub struct SampleAnalyser {
    /// The ffmpeg binary (from PATH unless a path).
    pub ffmpeg: String,
    /// Short sides the windows are encoded at, smallest first (none above the source's own;
    /// a source smaller than the first is sampled at its own size only).
    pub short_sides: Vec<u32>,
    /// The constant rate factors measured, lowest first.
    pub crfs: Vec<f64>,
    /// At most this many windows, spread over the video.
    pub windows: u32,
    /// Every window is whole GOPs of this length (the transcoder's keyframe interval): a
    /// window shorter than a GOP would be mostly keyframe, and cost more per second than the
    /// encode it predicts.
    pub gop_seconds: f64,
    /// Share of the video sampled, at most `max_seconds` in all, and at least one GOP.
    pub share: f64,
    pub max_seconds: f64,
}

impl Default for SampleAnalyser {
    fn default() -> Self {
        Self {
            ffmpeg: "ffmpeg".into(),
            short_sides: vec![360, 720],
            crfs: vec![18.0, 28.0],
            windows: 3,
            gop_seconds: 2.0,
            share: 0.10,
            max_seconds: 12.0,
        }
    }
}

impl SampleAnalyser {
    /// [`SampleAnalyser::analyse`] as a planner gets it: measured, or failed with the reason,
    /// which is logged as a warning (the plan falls back to the preset's bitrates).
    pub fn outcome(&self, source: &Path, probe: &Probe, frame_rate_cap: f64) -> Analysis {
        match self.analyse(source, probe, frame_rate_cap) {
            Ok(measured) => Analysis::Measured(measured),
            Err(reason) => {
                tracing::warn!(
                    source = %source.display(),
                    %reason,
                    "content analysis failed; the plan falls back to the preset's bitrates"
                );
                Analysis::Failed { reason }
            }
        }
    }

    /// Measures `source` (as `probe` describes it) at frame rates up to `frame_rate_cap`.
    /// The error says what went wrong, for the log and the planner.
    pub fn analyse(&self, source: &Path, probe: &Probe, frame_rate_cap: f64) -> Result<ContentAnalysis, String> {
        let duration = probe.duration_ms as f64 / 1000.0;
        if duration <= 0.0 {
            return Err("the source's duration is unknown".into());
        }
        let (width, height) = probe.display_size();
        if width < 2 || height < 2 {
            return Err(format!("the source has no usable picture size ({width}x{height})"));
        }
        let short = width.min(height);
        let even = |x: f64| ((x / 2.0).round() as u32).max(1) * 2;
        let mut sides: Vec<u32> = self.short_sides.iter().map(|side| (*side).min(short)).collect();
        sides.dedup();
        let sizes: Vec<(u32, u32)> = sides
            .iter()
            .map(|side| {
                (
                    even(f64::from(width) * f64::from(*side) / f64::from(short)),
                    even(f64::from(height) * f64::from(*side) / f64::from(short)),
                )
            })
            .collect();
        let frame_rate = match probe.frame_rate {
            rate if rate > 0.0 => rate.min(frame_rate_cap),
            _ => frame_rate_cap.min(30.0),
        };
        let windows = self.windows(duration);
        let dir = tempfile::Builder::new()
            .prefix("vodpipe-analysis-")
            .tempdir()
            .map_err(|e| format!("cannot make a work directory: {e}"))?;
        // bits[size][crf], summed over the windows.
        let mut bits = vec![vec![0u64; self.crfs.len()]; sizes.len()];
        let mut seconds = 0.0;
        let gop = ((self.gop_seconds * frame_rate).round() as u64).max(1).to_string();
        for (index, (start, length)) in windows.iter().enumerate() {
            // Decoded once; each size scaled once; each encode its own output.
            let mut graph = format!("[0:v:0]fps={frame_rate},split={}", sizes.len());
            graph.extend((0..sizes.len()).map(|i| format!("[v{i}]")));
            for (i, (w, h)) in sizes.iter().enumerate() {
                graph.push_str(&format!(
                    ";[v{i}]scale={w}:{h},format=yuv420p,split={}",
                    self.crfs.len()
                ));
                graph.extend((0..self.crfs.len()).map(|c| format!("[e{i}_{c}]")));
            }
            let mut command = crate::child::command(&self.ffmpeg);
            command
                .args(["-nostdin", "-v", "error", "-y", "-ss"])
                .arg(format!("{start:.3}"))
                .arg("-t")
                .arg(format!("{length:.3}"))
                .arg("-i")
                .arg(source)
                .args(["-an", "-sn", "-dn", "-filter_complex"])
                .arg(&graph);
            let output_path = |i: usize, c: usize| dir.path().join(format!("w{index}-{i}-{c}.h264"));
            for i in 0..sizes.len() {
                for (c, crf) in self.crfs.iter().enumerate() {
                    command
                        .args(["-map", &format!("[e{i}_{c}]"), "-c:v", "libx264", "-preset", "veryfast"])
                        .args([
                            "-profile:v",
                            "high",
                            "-g",
                            &gop,
                            "-keyint_min",
                            &gop,
                            "-sc_threshold",
                            "0",
                        ])
                        .arg("-crf")
                        .arg(crf.to_string())
                        .args(["-f", "h264"])
                        .arg(output_path(i, c));
                }
            }
            let output = command
                .output()
                .map_err(|e| format!("cannot run `{}`: {e}", self.ffmpeg))?;
            if !output.status.success() {
                let stderr = String::from_utf8_lossy(&output.stderr);
                let why = stderr.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("no message");
                return Err(format!("ffmpeg failed on the window at {start:.1} s: {}", why.trim()));
            }
            for (i, row) in bits.iter_mut().enumerate() {
                for (c, sum) in row.iter_mut().enumerate() {
                    let size = std::fs::metadata(output_path(i, c))
                        .map_err(|e| format!("the window at {start:.1} s wrote no encode: {e}"))?
                        .len();
                    if size == 0 {
                        return Err(format!("the window at {start:.1} s decoded to no pictures"));
                    }
                    *sum += size * 8;
                }
            }
            seconds += length;
        }
        Ok(ContentAnalysis {
            frame_rate,
            sampled_ms: (seconds * 1000.0).round() as u64,
            samples: sizes
                .iter()
                .zip(bits)
                .map(|((width, height), row)| SizeSample {
                    width: *width,
                    height: *height,
                    points: self
                        .crfs
                        .iter()
                        .zip(row)
                        .map(|(crf, bits)| RatePoint {
                            crf: *crf,
                            bitrate: (bits as f64 / seconds).round() as u64,
                        })
                        .collect(),
                })
                .collect(),
        })
    }

    /// (start, length) in seconds of each window: `share` of the video (at most
    /// `max_seconds`) in whole GOPs, at least one, in up to `windows` windows of equal
    /// length, each centred in its part of the video; a video no longer than a GOP is
    /// taken whole.
    pub fn windows(&self, duration: f64) -> Vec<(f64, f64)> {
        if duration <= self.gop_seconds {
            return vec![(0.0, duration)];
        }
        let total = (duration * self.share).min(self.max_seconds);
        let gops = ((total / self.gop_seconds).floor() as u32).max(1);
        let count = self.windows.clamp(1, gops);
        let length = f64::from(gops / count) * self.gop_seconds;
        (0..count)
            .map(|i| {
                let centre = duration * (f64::from(i) + 0.5) / f64::from(count);
                ((centre - length / 2.0).clamp(0.0, duration - length), length)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_whole_gops_spread_over_a_share_of_the_video() {
        let analyser = SampleAnalyser::default();
        // 60 s: 10% is 6 s, three GOPs: three windows of one GOP centred at 10, 30, 50 s.
        assert_eq!(analyser.windows(60.0), [(9.0, 2.0), (29.0, 2.0), (49.0, 2.0)]);
        // 10 min: 12 s at most, six GOPs: three windows of two.
        let long = analyser.windows(600.0);
        assert_eq!(long.len(), 3);
        assert!(long.iter().all(|(_, length)| *length == 4.0), "{long:?}");
        // 8 s: one GOP, in the middle.
        assert_eq!(analyser.windows(8.0), [(3.0, 2.0)]);
        // 2.5 s: one GOP, inside the video.
        assert_eq!(analyser.windows(2.5), [(0.25, 2.0)]);
        // 1 s: the whole clip.
        assert_eq!(analyser.windows(1.0), [(0.0, 1.0)]);
    }
}
