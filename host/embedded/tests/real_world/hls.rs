//! Reading a published HLS ladder back as a strict player would: the master playlist's
//! attributes, each media playlist, and every segment through ffprobe.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// One `#EXT-X-STREAM-INF` line and the URI after it.
#[derive(Debug)]
pub struct Variant {
    pub uri: String,
    pub attributes: BTreeMap<String, String>,
}

impl Variant {
    pub fn attribute(&self, name: &str) -> &str {
        self.attributes
            .get(name)
            .unwrap_or_else(|| panic!("{}: no {name} in {:?}", self.uri, self.attributes))
    }

    pub fn number(&self, name: &str) -> f64 {
        let text = self.attribute(name);
        text.parse()
            .unwrap_or_else(|_| panic!("{}: {name}={text} is not a number", self.uri))
    }
}

/// The variants of a master playlist, in order. Panics on anything RFC 8216 does not allow
/// in one (no `#EXTM3U` first, a STREAM-INF without a URI, a quoted value left open).
pub fn master_playlist(path: &Path) -> Vec<Variant> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("#EXTM3U"), "{}: first line", path.display());
    let mut variants = Vec::new();
    while let Some(line) = lines.next() {
        if let Some(list) = line.strip_prefix("#EXT-X-STREAM-INF:") {
            let uri = lines
                .next()
                .filter(|u| !u.is_empty() && !u.starts_with('#'))
                .unwrap_or_else(|| panic!("{}: STREAM-INF without a URI: {line}", path.display()));
            variants.push(Variant {
                uri: uri.to_owned(),
                attributes: attribute_list(list),
            });
        }
    }
    variants
}

/// RFC 8216 4.2 attribute list: `NAME=value` pairs separated by commas outside quotes.
fn attribute_list(list: &str) -> BTreeMap<String, String> {
    let mut attributes = BTreeMap::new();
    let mut rest = list;
    while !rest.is_empty() {
        let (name, after) = rest
            .split_once('=')
            .unwrap_or_else(|| panic!("attribute without '=': {rest}"));
        let (value, after) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted
                .find('"')
                .unwrap_or_else(|| panic!("unterminated quoted value: {after}"));
            (&quoted[..end], &quoted[end + 1..])
        } else {
            after.split_once(',').map_or((after, ""), |(v, a)| (v, a))
        };
        attributes.insert(name.to_owned(), value.to_owned());
        rest = after.strip_prefix(',').unwrap_or(after);
    }
    attributes
}

/// A media playlist's segments, with their `#EXTINF` durations.
#[derive(Debug)]
pub struct MediaPlaylist {
    pub segments: Vec<(PathBuf, f64)>,
}

pub fn media_playlist(path: &Path) -> MediaPlaylist {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = path.display();
    assert!(text.starts_with("#EXTM3U"), "{name}: not a playlist");
    assert!(text.contains("#EXT-X-PLAYLIST-TYPE:VOD"), "{name}: not a VOD playlist");
    assert!(text.trim_end().ends_with("#EXT-X-ENDLIST"), "{name}: no ENDLIST");
    let dir = path.parent().unwrap();
    let mut target_duration = None;
    let mut segments = Vec::new();
    let mut duration = None;
    for line in text.lines() {
        if let Some(t) = line.strip_prefix("#EXT-X-TARGETDURATION:") {
            target_duration = Some(
                t.parse::<u64>()
                    .unwrap_or_else(|_| panic!("{name}: TARGETDURATION {t}")),
            );
        } else if let Some(d) = line.strip_prefix("#EXTINF:") {
            let seconds: f64 = d.split(',').next().unwrap().parse().unwrap();
            duration = Some(seconds);
        } else if !line.starts_with('#') && !line.is_empty() {
            let seconds = duration
                .take()
                .unwrap_or_else(|| panic!("{name}: {line} has no EXTINF"));
            segments.push((dir.join(line), seconds));
        }
    }
    let target_duration = target_duration.unwrap_or_else(|| panic!("{name}: no TARGETDURATION"));
    assert!(!segments.is_empty(), "{name}: no segments");
    for (segment, seconds) in &segments {
        assert!(*seconds > 0.0, "{name}: {} has EXTINF {seconds}", segment.display());
        // RFC 8216 4.3.3.1: every EXTINF, rounded, is at most the target duration.
        assert!(
            seconds.round() <= target_duration as f64,
            "{name}: {} lasts {seconds} s, over the target duration {target_duration}",
            segment.display()
        );
    }
    MediaPlaylist { segments }
}

/// `ffprobe -show_streams` (and optionally more sections) as JSON.
pub fn ffprobe(path: &Path, extra: &[&str]) -> Value {
    let output = Command::new("ffprobe")
        .args(["-v", "error", "-print_format", "json", "-show_streams"])
        .args(extra)
        .arg(path)
        .output()
        .expect("ffprobe on PATH");
    assert!(
        output.status.success(),
        "ffprobe {}: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

pub fn streams<'a>(probe: &'a Value, kind: &str) -> Vec<&'a Value> {
    probe["streams"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["codec_type"] == kind)
        .collect()
}

/// The video frames of a segment, in presentation order: (pts in seconds, key frame).
pub fn video_frames(segment: &Path) -> Vec<(f64, bool)> {
    let probe = ffprobe(
        segment,
        &[
            "-select_streams",
            "v:0",
            "-show_entries",
            "frame=pts_time,key_frame,interlaced_frame",
        ],
    );
    let mut frames: Vec<(f64, bool)> = probe["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let pts = f["pts_time"].as_str().and_then(|t| t.parse().ok());
            let pts = pts.unwrap_or_else(|| panic!("{}: a frame without a pts: {f}", segment.display()));
            assert_eq!(
                f["interlaced_frame"],
                0,
                "{}: an interlaced frame at {pts} s",
                segment.display()
            );
            (pts, f["key_frame"] == 1)
        })
        .collect();
    frames.sort_by(|a, b| a.0.total_cmp(&b.0));
    frames
}

/// The first displayed frame, as ffmpeg shows it (rotation applied, pixels stretched to
/// the grid), reduced to an 8x8 grey grid: a fingerprint of what a viewer sees, which a
/// letterbox, a squeeze or a wrong turn changes.
pub fn first_frame_grid(path: &Path) -> Vec<u8> {
    let output = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-i"])
        .arg(path)
        .args([
            "-frames:v",
            "1",
            "-vf",
            "scale=8:8:flags=area,format=gray",
            "-f",
            "rawvideo",
            "-",
        ])
        .output()
        .expect("ffmpeg on PATH");
    assert!(
        output.status.success() && output.stdout.len() == 64,
        "{}: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// The mean volume in dB of the first audio stream (silence is about -91 dB).
pub fn mean_volume(path: &Path) -> f64 {
    let output = Command::new("ffmpeg")
        .args(["-v", "info", "-nostdin", "-i"])
        .arg(path)
        .args(["-map", "0:a:0", "-af", "volumedetect", "-f", "null", "-"])
        .output()
        .expect("ffmpeg on PATH");
    let stderr = String::from_utf8_lossy(&output.stderr);
    stderr
        .lines()
        .find_map(|l| l.split("mean_volume: ").nth(1))
        .and_then(|v| v.trim_end_matches(" dB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{}: no volume measured: {stderr}", path.display()))
}

/// ffmpeg's interlace detector over a whole stream: (frames that look interlaced, frames
/// that look progressive), from its multi-frame verdicts.
pub fn interlacing(path: &Path) -> (u64, u64) {
    let output = Command::new("ffmpeg")
        .args(["-v", "info", "-nostdin", "-i"])
        .arg(path)
        .args(["-map", "0:v:0", "-vf", "idet", "-f", "null", "-"])
        .output()
        .expect("ffmpeg on PATH");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stderr
        .lines()
        .find_map(|l| l.split("Multi frame detection: ").nth(1))
        .unwrap_or_else(|| panic!("{}: no idet verdict: {stderr}", path.display()));
    // "TFF:     0 BFF:     0 Progressive:    50 Undetermined:     0"
    let words: Vec<&str> = line.split_whitespace().collect();
    let count = |label: &str| -> u64 {
        let at = words
            .iter()
            .position(|w| *w == label)
            .unwrap_or_else(|| panic!("{label} in {line}"));
        words[at + 1].parse().unwrap()
    };
    (count("TFF:") + count("BFF:"), count("Progressive:"))
}
