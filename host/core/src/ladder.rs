use serde::{Deserialize, Serialize};

/// A rendition ladder preset, as read from `ladders/<name>.toml` and checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LadderPreset {
    pub name: String,
    pub description: String,
    pub segment_seconds: u32,
    pub frame_rate_cap: f64,
    pub allow_upscale: bool,
    pub thumbnail_at_seconds: Option<f64>,
    pub thumbnail_width: u32,
    pub rungs: Vec<Rung>,
    /// Whether the content is analysed before planning (`analyse_content`; costs a few sample
    /// encodes, for planners that use it).
    #[serde(default)]
    pub analyse_content: bool,
    /// The planner the preset is written for (`planner`, a plugin the bundle pins); `None`
    /// for the bundle's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planner: Option<String>,
    /// The preset's free-form `[plugin]` table, as JSON, for the planner plugin.
    pub plugin_config: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rung {
    pub name: String,
    /// Short side in pixels (720 = 1280x720 landscape or 720x1280 portrait).
    pub short_side: u32,
    /// Bits per second.
    pub video_bitrate: u64,
    pub max_bitrate: u64,
    /// "baseline", "main" or "high".
    pub profile: String,
    /// "3.0", "3.1", "4.0", ... or "auto".
    pub level: String,
    pub audio_bitrate: u64,
}

/// Limits a preset must respect; also what a plan from any planner is held to.
pub mod limits {
    use vodpipe_job_document::h264::{CodecLevel, Level, Profile};

    pub const MAX_SHORT_SIDE: u32 = 2160;
    pub const MIN_SHORT_SIDE: u32 = 96;
    pub const MAX_RUNGS: usize = 12;
    pub const MIN_VIDEO_BITRATE: u64 = 50_000;
    pub const MAX_VIDEO_BITRATE: u64 = 60_000_000;
    pub const MIN_AUDIO_BITRATE: u64 = 16_000;
    pub const MAX_AUDIO_BITRATE: u64 = 512_000;
    pub const MIN_SEGMENT_SECONDS: u32 = 1;
    pub const MAX_SEGMENT_SECONDS: u32 = 30;
    pub const MAX_FRAME_RATE: f64 = 120.0;
    pub const MAX_DIMENSION: u32 = 8192;

    /// An H.264 profile a rung may name: "baseline", "main" or "high".
    pub fn valid_profile(profile: &str) -> bool {
        Profile::parse(profile).is_some()
    }

    /// An H.264 level a rung may name: "auto" or a level of Table A-1 up to the highest
    /// MediaConvert writes; "4.0" is the same as "4".
    pub fn valid_level(level: &str) -> bool {
        CodecLevel::from_plan(level).is_some()
    }

    /// "baseline, main, high", for messages.
    pub fn profiles() -> String {
        [Profile::Baseline, Profile::Main, Profile::High]
            .map(Profile::name)
            .join(", ")
    }

    /// "auto, 1, 1.1, …, 5.2", for messages.
    pub fn levels() -> String {
        std::iter::once("auto".to_owned())
            .chain(Level::in_a_plan().map(|level| level.to_string().trim_end_matches(".0").to_owned()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
