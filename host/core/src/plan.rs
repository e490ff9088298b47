use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::ladder::{LadderPreset, Packaging, VideoCodec, limits};
use crate::probe::Probe;

/// What a planner decided: the renditions to encode, the segment length, the thumbnail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub renditions: Vec<Rendition>,
    pub segment_seconds: u32,
    pub thumbnail: Option<Thumbnail>,
    /// The preset's.
    #[serde(default)]
    pub packaging: Packaging,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rendition {
    pub name: String,
    pub width: u32,
    pub height: u32,
    /// The average bitrate (VBR), or with `quality_level` the average the planner expects the
    /// quality to cost (for estimates; the encoder does not aim at it).
    pub video_bitrate: u64,
    pub max_bitrate: u64,
    /// Constant quality under `max_bitrate` (QVBR: 1 to 10, in thirds) instead of an average.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality_level: Option<f64>,
    #[serde(default)]
    pub codec: VideoCodec,
    /// 8 or 10 (HEVC and AV1).
    #[serde(default = "crate::ladder::eight_bits")]
    pub bit_depth: u8,
    /// H.264's; "main" for HEVC and AV1.
    pub profile: String,
    /// H.264's; "auto" for HEVC and AV1.
    pub level: String,
    pub frame_rate_cap: f64,
    pub audio_bitrate: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thumbnail {
    pub at_seconds: f64,
    pub width: u32,
    pub height: u32,
}

impl Plan {
    /// Checks a plan from any planner before the host uses it. Returns every problem.
    ///
    /// A planner may pick sizes and bitrates freely within these bounds; it may not upscale
    /// unless the preset allows it, and every size must be even (H.264 4:2:0).
    pub fn check(&self, source: &Probe, preset: &LadderPreset) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        if self.renditions.is_empty() {
            problems.push("the plan has no renditions".to_owned());
        }
        if self.renditions.len() > limits::MAX_RUNGS {
            problems.push(format!(
                "the plan has {} renditions; at most {} are allowed",
                self.renditions.len(),
                limits::MAX_RUNGS
            ));
            // Describing each of thousands of renditions helps nobody.
            return Err(problems);
        }
        if !(limits::MIN_SEGMENT_SECONDS..=limits::MAX_SEGMENT_SECONDS).contains(&self.segment_seconds) {
            problems.push(format!(
                "segment_seconds {} is out of range ({}..={})",
                self.segment_seconds,
                limits::MIN_SEGMENT_SECONDS,
                limits::MAX_SEGMENT_SECONDS
            ));
        }
        let (source_w, source_h) = source.display_size();
        let source_short = source_w.min(source_h);
        let mut names = HashSet::new();
        for (i, r) in self.renditions.iter().enumerate() {
            let at = format!("renditions[{i}] ({})", r.name);
            if !valid_rendition_name(&r.name) {
                problems.push(format!("{at}: name must be 1-32 letters, digits or '-'"));
            }
            if !names.insert(r.name.as_str()) {
                problems.push(format!("{at}: name is used twice"));
            }
            if r.width < 2 || r.height < 2 || r.width > limits::MAX_DIMENSION || r.height > limits::MAX_DIMENSION {
                problems.push(format!("{at}: size {}x{} is out of range", r.width, r.height));
            }
            if r.width % 2 != 0 || r.height % 2 != 0 {
                problems.push(format!("{at}: size {}x{} is not even", r.width, r.height));
            }
            if !preset.allow_upscale && source_short > 0 && r.width.min(r.height) > source_short {
                problems.push(format!(
                    "{at}: {}x{} upscales a {source_w}x{source_h} source and the preset does not allow it",
                    r.width, r.height
                ));
            }
            if !(limits::MIN_VIDEO_BITRATE..=limits::MAX_VIDEO_BITRATE).contains(&r.video_bitrate) {
                problems.push(format!("{at}: video_bitrate {} is out of range", r.video_bitrate));
            }
            if r.max_bitrate < r.video_bitrate || r.max_bitrate > limits::MAX_VIDEO_BITRATE {
                problems.push(format!(
                    "{at}: max_bitrate {} must be between video_bitrate {} and {}",
                    r.max_bitrate,
                    r.video_bitrate,
                    limits::MAX_VIDEO_BITRATE
                ));
            }
            if let Some(level) = r.quality_level
                && !(1.0..=10.0).contains(&level)
            {
                problems.push(format!("{at}: quality_level {level} is out of range (1..=10)"));
            }
            if r.codec == VideoCodec::H264 {
                if !limits::valid_profile(&r.profile) {
                    problems.push(format!("{at}: unknown profile `{}`", r.profile));
                }
                if !limits::valid_level(&r.level) {
                    problems.push(format!("{at}: unknown level `{}`", r.level));
                }
            } else if (r.profile.as_str(), r.level.as_str()) != ("main", "auto") {
                problems.push(format!(
                    "{at}: {} takes profile `main` and level `auto` (its encoder chooses), not `{}` and `{}`",
                    r.codec.name(),
                    r.profile,
                    r.level
                ));
            }
            if !r.codec.bit_depths().contains(&r.bit_depth) {
                problems.push(format!(
                    "{at}: {} is encoded at {} bits, not {}",
                    r.codec.name(),
                    r.codec.bit_depths_text(),
                    r.bit_depth
                ));
            }
            if !r.codec.in_ts() && self.packaging == Packaging::Ts {
                problems.push(format!("{at}: {} needs packaging `cmaf`", r.codec.name()));
            }
            if !(r.frame_rate_cap > 0.0 && r.frame_rate_cap <= limits::MAX_FRAME_RATE) {
                problems.push(format!("{at}: frame_rate_cap {} is out of range", r.frame_rate_cap));
            }
            if let Some(audio) = r.audio_bitrate
                && !(limits::MIN_AUDIO_BITRATE..=limits::MAX_AUDIO_BITRATE).contains(&audio)
            {
                problems.push(format!("{at}: audio_bitrate {audio} is out of range"));
            }
        }
        if let Some(t) = &self.thumbnail
            && (t.width < 2
                || t.height < 2
                || t.width % 2 != 0
                || t.height % 2 != 0
                || t.at_seconds.is_nan()
                || t.at_seconds < 0.0)
        {
            problems.push(format!(
                "thumbnail: {}x{} at {}s is not a valid capture",
                t.width, t.height, t.at_seconds
            ));
        }
        if self.packaging != preset.packaging {
            problems.push(format!(
                "packaging `{}` is not the preset's `{}`",
                self.packaging.name(),
                preset.packaging.name()
            ));
        }
        if problems.is_empty() { Ok(()) } else { Err(problems) }
    }
}

/// Rendition names become HLS name modifiers (`index_<name>.m3u8`), where '_' separates them
/// from the manifest name, so they may not contain one.
pub fn valid_rendition_name(name: &str) -> bool {
    valid_name(name) && !name.contains('_')
}

/// Names of presets and bundles: they become file names.
pub fn valid_name(name: &str) -> bool {
    (1..=32).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}
