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
    /// How the renditions are packaged (`packaging`): MPEG-TS HLS or CMAF (HLS and DASH).
    #[serde(default)]
    pub packaging: Packaging,
    /// The preset's free-form `[plugin]` table, as JSON, for the planner plugin.
    pub plugin_config: serde_json::Value,
}

/// How renditions are cut into segments and listed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Packaging {
    /// MPEG-TS segments carrying their rendition's audio; an HLS master playlist.
    #[default]
    Ts,
    /// Fragmented MP4 (CMAF) segments, the audio a rendition of its own; an HLS master
    /// playlist and a DASH MPD over the same segments.
    Cmaf,
}

impl Packaging {
    pub const ALL: [Packaging; 2] = [Packaging::Ts, Packaging::Cmaf];

    pub fn name(self) -> &'static str {
        match self {
            Self::Ts => "ts",
            Self::Cmaf => "cmaf",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// A rung's or rendition's video codec.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VideoCodec {
    #[default]
    H264,
    /// HEVC (H.265): CMAF packaging only.
    Hevc,
    /// AV1: CMAF packaging only.
    Av1,
}

impl VideoCodec {
    pub const ALL: [VideoCodec; 3] = [VideoCodec::H264, VideoCodec::Hevc, VideoCodec::Av1];

    pub fn name(self) -> &'static str {
        match self {
            Self::H264 => "h264",
            Self::Hevc => "hevc",
            Self::Av1 => "av1",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The bit depths the codec is encoded at: H.264 at 8 only (its High 10 profile plays
    /// almost nowhere), HEVC and AV1 at 8 or 10.
    pub fn bit_depths(self) -> &'static [u8] {
        match self {
            Self::H264 => &[8],
            Self::Hevc | Self::Av1 => &[8, 10],
        }
    }

    /// "8", "8 or 10": the bit depths, for messages.
    pub fn bit_depths_text(self) -> String {
        let depths: Vec<String> = self.bit_depths().iter().map(u8::to_string).collect();
        depths.join(" or ")
    }

    /// Whether MPEG-TS segments can carry it (vodpipe writes HEVC and AV1 in CMAF only).
    pub fn in_ts(self) -> bool {
        self == Self::H264
    }
}

pub(crate) fn eight_bits() -> u8 {
    8
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rung {
    pub name: String,
    /// Short side in pixels (720 = 1280x720 landscape or 720x1280 portrait).
    pub short_side: u32,
    /// Bits per second.
    pub video_bitrate: u64,
    pub max_bitrate: u64,
    #[serde(default)]
    pub codec: VideoCodec,
    /// 8 or 10 (HEVC and AV1).
    #[serde(default = "eight_bits")]
    pub bit_depth: u8,
    /// H.264's "baseline", "main" or "high"; "main" for HEVC and AV1 (their profile follows
    /// the bit depth).
    pub profile: String,
    /// H.264's "3.0", "3.1", "4.0", ... or "auto"; "auto" for HEVC and AV1 (their encoders
    /// choose).
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
