//! The `CreateJob` request, field for field as MediaConvert spells it (PascalCase), for the
//! settings vodpipe writes and the embedded transcoder honours. A field MediaConvert has and
//! vodpipe does not speak is not here: reading refuses it by its path. Choices are enums of
//! the values vodpipe speaks, so a value outside them is refused where it stands, too.
//!
//! Optional fields are the model's optional fields that vodpipe's reader gives a default (the
//! default is MediaConvert's, said on each); the job builder writes them all.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::h264::{CodecLevel, Profile};

/// The request: where the job runs and who is told, and its settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateJob {
    /// The IAM role MediaConvert assumes; the embedded transcoder has no use for it.
    #[serde(default)]
    pub role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub user_metadata: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_request_token: Option<String>,
    /// `SECONDS_10` …: how often MediaConvert reports progress (the embedded transcoder
    /// reports as ffmpeg does).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_update_interval: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<i32>,
    pub settings: JobSettings,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct JobSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timecode_config: Option<TimecodeConfig>,
    pub inputs: Vec<Input>,
    pub output_groups: Vec<OutputGroup>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TimecodeConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<TimecodeSource>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TimecodeSource {
    Zerobased,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Input {
    /// `s3://bucket/key` for MediaConvert, `file:///abs/path` for the embedded transcoder.
    pub file_input: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timecode_source: Option<TimecodeSource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video_selector: Option<VideoSelector>,
    /// By name (`Audio Selector 1`), as outputs' `AudioSourceName` refers to them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub audio_selectors: BTreeMap<String, AudioSelector>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VideoSelector {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotate: Option<Rotate>,
}

/// `AUTO`: rotate by the source's display matrix, as players show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Rotate {
    Auto,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AudioSelector {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_selection: Option<DefaultSelection>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DefaultSelection {
    Default,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OutputGroup {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub output_group_settings: OutputGroupSettings,
    pub outputs: Vec<Output>,
}

/// `Type` says which of the settings applies; the other is absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OutputGroupSettings {
    #[serde(rename = "Type")]
    pub kind: OutputGroupType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hls_group_settings: Option<HlsGroupSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_group_settings: Option<FileGroupSettings>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OutputGroupType {
    HlsGroupSettings,
    /// Frame captures (the thumbnail).
    FileGroupSettings,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HlsGroupSettings {
    /// The master playlist without `.m3u8`: `<prefix><manifest name>`.
    pub destination: String,
    /// Seconds.
    pub segment_length: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_segment_length: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment_control: Option<SegmentControl>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment_length_control: Option<SegmentLengthControl>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_selection: Option<OutputSelection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub directory_structure: Option<DirectoryStructure>,
    /// Default `INTEGER`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_duration_format: Option<ManifestDurationFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_inf_resolution: Option<StreamInfResolution>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codec_specification: Option<CodecSpecification>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_cache: Option<ClientCache>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub program_date_time: Option<ProgramDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_compression: Option<ManifestCompression>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SegmentControl {
    SegmentedFiles,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SegmentLengthControl {
    /// Segments end on the GOP boundary nearest the segment length.
    GopMultiple,
    Exact,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OutputSelection {
    ManifestsAndSegments,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DirectoryStructure {
    SingleDirectory,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ManifestDurationFormat {
    /// `#EXTINF` durations rounded to whole seconds.
    Integer,
    FloatingPoint,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StreamInfResolution {
    Include,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CodecSpecification {
    /// `CODECS` as RFC 4281 (6381) strings: `avc1.64001f,mp4a.40.2`.
    #[serde(rename = "RFC_4281")]
    Rfc4281,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ClientCache {
    Enabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProgramDateTime {
    Exclude,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ManifestCompression {
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FileGroupSettings {
    /// Files are `<destination><name modifier>.<capture number, 7 digits>.jpg`.
    pub destination: String,
}

/// One output: a rendition of the HLS group, or the frame capture of the file group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Output {
    /// Appended to the group's destination: `index_720p.m3u8`, `thumb_poster.0000001.jpg`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_modifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_settings: Option<ContainerSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_settings: Option<OutputSettings>,
    pub video_description: VideoDescription,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audio_descriptions: Vec<AudioDescription>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerSettings {
    pub container: Container,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub m3u8_settings: Option<M3u8Settings>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Container {
    /// MPEG-TS segments of an HLS rendition.
    M3u8,
    /// A frame capture's JPEG.
    Raw,
}

/// MediaConvert's defaults; written as `{}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct M3u8Settings {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OutputSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hls_settings: Option<HlsSettings>,
}

/// MediaConvert's defaults; written as `{}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HlsSettings {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VideoDescription {
    pub width: u32,
    pub height: u32,
    /// Default `DEFAULT`: keep the picture's aspect ratio, letterboxed or pillarboxed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaling_behavior: Option<ScalingBehavior>,
    pub codec_settings: VideoCodecSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ScalingBehavior {
    Default,
    StretchToOutput,
}

/// `Codec` says which of the settings applies; the other is absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VideoCodecSettings {
    pub codec: VideoCodec,
    #[serde(rename = "H264Settings", skip_serializing_if = "Option::is_none")]
    pub h264_settings: Option<H264Settings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame_capture_settings: Option<FrameCaptureSettings>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VideoCodec {
    #[serde(rename = "H_264")]
    H264,
    #[serde(rename = "FRAME_CAPTURE")]
    FrameCapture,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct H264Settings {
    pub rate_control_mode: RateControlMode,
    /// Average bit/s: required with `VBR`, not used with `QVBR`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bitrate: Option<u64>,
    /// Peak bit/s (the VBV maximum): with `VBR` default the average; required with `QVBR`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_bitrate: Option<u64>,
    /// With `QVBR`: the quality to hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qvbr_settings: Option<H264QvbrSettings>,
    /// Default `MAIN`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codec_profile: Option<Profile>,
    /// Default `AUTO`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codec_level: Option<CodecLevel>,
    /// Default 2 (in `GopSizeUnits`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gop_size: Option<f64>,
    /// Default `SECONDS`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gop_size_units: Option<GopSizeUnits>,
    /// 1: every GOP closed, which is what x264 writes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gop_closed_cadence: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scene_change_detect: Option<SceneChangeDetect>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub framerate_control: Option<FramerateControl>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub framerate_numerator: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub framerate_denominator: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RateControlMode {
    /// A target average bitrate under a peak.
    Vbr,
    /// Quality-defined: as many bits as the content needs for a quality level, under a peak
    /// (`MaxBitrate`).
    Qvbr,
}

/// MediaConvert's quality level for `QVBR`: 1 to 10 (10 nearly lossless; broadcast mostly
/// 6 to 9), to a third with the fine tune; absent, MediaConvert chooses (AUTO).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct H264QvbrSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qvbr_quality_level: Option<u32>,
    /// 0 to 1 added to the level; MediaConvert rounds the sum to the nearest third.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qvbr_quality_level_fine_tune: Option<f64>,
}

impl H264QvbrSettings {
    /// The level asked for, rounded to the nearest third as MediaConvert does; none for AUTO.
    pub fn quality_level(&self) -> Option<f64> {
        let level = f64::from(self.qvbr_quality_level?) + self.qvbr_quality_level_fine_tune.unwrap_or(0.0);
        Some((level * 3.0).round() / 3.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GopSizeUnits {
    Seconds,
    Frames,
}

/// `DISABLED`: a keyframe only every GOP, so every rendition's segments start together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SceneChangeDetect {
    Disabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FramerateControl {
    /// `FramerateNumerator / FramerateDenominator`.
    Specified,
    InitializeFromSource,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FrameCaptureSettings {
    /// One capture every `denominator / numerator` seconds, the first at 0.
    pub framerate_numerator: u32,
    pub framerate_denominator: u32,
    /// Default 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_captures: Option<u32>,
    /// JPEG quality 1–100; default 80.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AudioDescription {
    /// The name of one of the input's audio selectors.
    pub audio_source_name: String,
    pub codec_settings: AudioCodecSettings,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AudioCodecSettings {
    pub codec: AudioCodec,
    pub aac_settings: AacSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AudioCodec {
    Aac,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AacSettings {
    pub bitrate: u64,
    /// Default `CODING_MODE_2_0`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coding_mode: Option<CodingMode>,
    /// Default 48000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codec_profile: Option<AacProfile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_control_mode: Option<AacRateControlMode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CodingMode {
    #[serde(rename = "CODING_MODE_1_0")]
    Mono,
    #[serde(rename = "CODING_MODE_2_0")]
    Stereo,
}

impl CodingMode {
    pub fn channels(self) -> u32 {
        match self {
            Self::Mono => 1,
            Self::Stereo => 2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AacProfile {
    Lc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AacRateControlMode {
    Cbr,
}
