//! Fixtures made with ffmpeg, and ffprobe's answer about them.

#![allow(dead_code)] // Each test binary uses part of this.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// A test's own temporary directory of fixtures, removed when the test ends (a shared static one
/// would never be dropped, leaving hundreds of MB behind).
pub struct Fixtures(tempfile::TempDir);

impl Fixtures {
    pub fn new() -> Self {
        Self(tempfile::tempdir().expect("temp dir"))
    }

    /// `name` in this directory, made by `make(path)` the first time it is asked for.
    pub fn make(&self, name: &str, make: impl FnOnce(&Path)) -> PathBuf {
        let path = self.0.path().join(name);
        if !path.exists() {
            make(&path);
        }
        path
    }
}

pub use vodpipe_test_support::media::{H264, ffmpeg};

/// A test pattern with a tone: `size` like "1280x720", `rate` like "30" or "24000/1001".
pub fn av_source(size: &str, rate: &str, seconds: &str) -> Vec<String> {
    [
        "-f",
        "lavfi",
        "-i",
        &format!("testsrc2=size={size}:rate={rate}"),
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-t",
        seconds,
    ]
    .map(String::from)
    .to_vec()
}

/// A small H.264 + AAC MP4, `extra` arguments before the output.
pub fn small_mp4(fixtures: &Fixtures, name: &str, extra: &[&str]) -> PathBuf {
    fixtures.make(name, |out| {
        let mut args = av_source("320x240", "25", "1");
        args.extend(H264.map(String::from));
        args.extend(["-c:a", "aac"].map(String::from));
        args.extend(extra.iter().map(|s| s.to_string()));
        ffmpeg(&args.iter().map(String::as_str).collect::<Vec<_>>(), out);
    })
}

/// What ffprobe says, read the way vodpipe-embedded's ffprobe prober reads it.
#[derive(Debug)]
pub struct Ffprobe {
    pub width: u32,
    pub height: u32,
    pub rotation: u32,
    pub duration_ms: f64,
    pub avg_frame_rate: f64,
    pub r_frame_rate: f64,
    pub video_bitrate: Option<f64>,
    pub total_bitrate: Option<f64>,
    pub has_audio: bool,
    pub container: String,
    pub video_codec: String,
}

pub fn ffprobe(path: &Path) -> Ffprobe {
    let output = Command::new("ffprobe")
        .args(["-v", "error", "-print_format", "json", "-show_format", "-show_streams"])
        .arg(path)
        .output()
        .expect("ffprobe on PATH");
    assert!(
        output.status.success(),
        "ffprobe {path:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: Value = serde_json::from_slice(&output.stdout).expect("ffprobe JSON");
    let streams = json["streams"].as_array().expect("streams");
    let video = streams
        .iter()
        .find(|s| s["codec_type"] == "video" && s["disposition"]["attached_pic"] != 1)
        .expect("a video stream");
    let number = |v: &Value| v.as_f64().or_else(|| v.as_str()?.parse().ok());
    let ratio = |v: &Value| {
        let (n, d) = v.as_str()?.split_once('/')?;
        let (n, d): (f64, f64) = (n.parse().ok()?, d.parse().ok()?);
        (d > 0.0).then(|| n / d)
    };
    // ffprobe reports the display matrix counter-clockwise; vodpipe stores clockwise.
    let ccw = video["side_data_list"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|d| d["rotation"].as_f64())
        .unwrap_or(0.0);
    let format = &json["format"];
    Ffprobe {
        width: video["width"].as_u64().unwrap() as u32,
        height: video["height"].as_u64().unwrap() as u32,
        rotation: ((-ccw / 90.0).round() as i64).rem_euclid(4) as u32 * 90,
        duration_ms: number(&format["duration"])
            .or_else(|| number(&video["duration"]))
            .unwrap_or(0.0)
            * 1000.0,
        avg_frame_rate: ratio(&video["avg_frame_rate"]).unwrap_or(0.0),
        r_frame_rate: ratio(&video["r_frame_rate"]).unwrap_or(0.0),
        video_bitrate: number(&video["bit_rate"]),
        total_bitrate: number(&format["bit_rate"]),
        has_audio: streams.iter().any(|s| s["codec_type"] == "audio"),
        container: format["format_name"].as_str().unwrap_or_default().to_owned(),
        video_codec: video["codec_name"].as_str().unwrap_or_default().to_owned(),
    }
}

/// Deterministic bytes for fuzzing without a dependency.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Encoder arguments for a WebM with VP9 video and Opus audio, fast enough for tests.
pub const VP9_OPUS: [&str; 8] = [
    "-c:v",
    "libvpx-vp9",
    "-deadline",
    "realtime",
    "-cpu-used",
    "8",
    "-c:a",
    "libopus",
];
