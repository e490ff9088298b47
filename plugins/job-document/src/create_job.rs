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

/// `Type` says which of the settings applies; the others are absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OutputGroupSettings {
    #[serde(rename = "Type")]
    pub kind: OutputGroupType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hls_group_settings: Option<HlsGroupSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmaf_group_settings: Option<CmafGroupSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_group_settings: Option<FileGroupSettings>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OutputGroupType {
    /// MPEG-TS segments and HLS playlists.
    HlsGroupSettings,
    /// Fragmented MP4 segments, HLS playlists and a DASH MPD over them.
    CmafGroupSettings,
    /// Frame captures (the thumbnail).
    FileGroupSettings,
}

/// A CMAF group: every output its own track (video renditions, audio renditions), one
/// destination for both manifests (`<destination>.m3u8`, `<destination>.mpd`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CmafGroupSettings {
    /// The manifests without their extension: `<prefix><manifest name>`.
    pub destination: String,
    /// Seconds.
    pub segment_length: u32,
    /// Seconds; vodpipe writes one fragment per segment (default 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fragment_length: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment_control: Option<SegmentControl>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment_length_control: Option<SegmentLengthControl>,
    /// Default `ENABLED`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_hls_manifest: Option<Switch>,
    /// Default `ENABLED`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_dash_manifest: Option<Switch>,
    /// `ENABLED`: the MPD lists every segment's time and duration (a SegmentTimeline).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_segment_timeline_in_representation: Option<Switch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mpd_profile: Option<MpdProfile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_duration_format: Option<ManifestDurationFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_inf_resolution: Option<StreamInfResolution>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codec_specification: Option<CodecSpecification>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_cache: Option<ClientCache>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_compression: Option<ManifestCompression>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Switch {
    Enabled,
    Disabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MpdProfile {
    /// `urn:mpeg:dash:profile:isoff-live:2011` style: a segment per file.
    MainProfile,
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
    /// The CMAF group's spelling of the same.
    #[serde(rename = "RFC_6381")]
    Rfc6381,
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
    /// Absent for an audio rendition of a CMAF group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video_description: Option<VideoDescription>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audio_descriptions: Vec<AudioDescription>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerSettings {
    pub container: Container,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub m3u8_settings: Option<M3u8Settings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmfc_settings: Option<CmfcSettings>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Container {
    /// MPEG-TS segments of an HLS rendition.
    M3u8,
    /// A CMAF track: fragmented MP4 segments.
    Cmfc,
    /// A frame capture's JPEG.
    Raw,
}

/// A CMAF track's part in the manifests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CmfcSettings {
    /// An audio track: the HLS audio group it belongs to (`EXT-X-MEDIA GROUP-ID`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio_group_id: Option<String>,
    /// A video track: the audio groups it plays with (`EXT-X-STREAM-INF AUDIO`), comma
    /// separated; vodpipe writes one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio_rendition_sets: Option<String>,
    /// An audio track: `DEFAULT`/`AUTOSELECT` in the HLS master playlist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio_track_type: Option<AudioTrackType>,
    /// A video track: `INCLUDE` writes its I-frame playlist (`EXT-X-I-FRAME-STREAM-INF`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub i_frame_only_manifest: Option<IFrameOnlyManifest>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AudioTrackType {
    /// `DEFAULT=YES,AUTOSELECT=YES`.
    AlternateAudioAutoSelectDefault,
    /// `DEFAULT=NO,AUTOSELECT=YES`.
    AlternateAudioAutoSelect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IFrameOnlyManifest {
    Include,
    Exclude,
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

/// An HLS rendition's part in the master playlist.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HlsSettings {
    /// `INCLUDE` writes its I-frame playlist (`EXT-X-I-FRAME-STREAM-INF`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub i_frame_only_manifest: Option<IFrameOnlyManifest>,
}

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

/// `Codec` says which of the settings applies; the others are absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VideoCodecSettings {
    pub codec: VideoCodec,
    #[serde(rename = "H264Settings", skip_serializing_if = "Option::is_none")]
    pub h264_settings: Option<H264Settings>,
    #[serde(rename = "H265Settings", skip_serializing_if = "Option::is_none")]
    pub h265_settings: Option<H265Settings>,
    #[serde(rename = "Av1Settings", skip_serializing_if = "Option::is_none")]
    pub av1_settings: Option<Av1Settings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame_capture_settings: Option<FrameCaptureSettings>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VideoCodec {
    #[serde(rename = "H_264")]
    H264,
    /// HEVC; vodpipe writes it in CMAF groups only.
    #[serde(rename = "H_265")]
    H265,
    /// AV1; vodpipe writes it in CMAF groups only.
    #[serde(rename = "AV1")]
    Av1,
    #[serde(rename = "FRAME_CAPTURE")]
    FrameCapture,
}

/// HEVC as vodpipe writes it: the same rate control and GOP as H.264, the profile by bit
/// depth, the level left to the encoder, `hvc1` sample entries (what Apple's players need).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct H265Settings {
    pub rate_control_mode: RateControlMode,
    /// Average bit/s: required with `VBR`, not used with `QVBR`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bitrate: Option<u64>,
    /// Peak bit/s: with `VBR` default the average; required with `QVBR`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_bitrate: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qvbr_settings: Option<H264QvbrSettings>,
    /// Default `MAIN_MAIN`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codec_profile: Option<H265Profile>,
    /// `AUTO` only: the encoder chooses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codec_level: Option<AutoLevel>,
    /// Default 2 (in `GopSizeUnits`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gop_size: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gop_size_units: Option<GopSizeUnits>,
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
    /// Default `HVC1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_mp4_packaging_type: Option<Mp4PackagingType>,
}

/// HEVC's profile and tier as MediaConvert names them together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum H265Profile {
    /// Main profile, Main tier: 8 bits.
    MainMain,
    /// Main 10 profile, Main tier.
    Main10Main,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AutoLevel {
    Auto,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Mp4PackagingType {
    /// Parameter sets in the sample entry only.
    Hvc1,
}

/// AV1 as MediaConvert encodes it: QVBR only, the GOP in frames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Av1Settings {
    /// `QVBR` is the only mode MediaConvert has for AV1.
    pub rate_control_mode: Av1RateControlMode,
    pub max_bitrate: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qvbr_settings: Option<H264QvbrSettings>,
    /// Default `BIT_8`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bit_depth: Option<Av1BitDepth>,
    /// Frames (AV1 takes no seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gop_size: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub framerate_control: Option<FramerateControl>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub framerate_numerator: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub framerate_denominator: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Av1RateControlMode {
    Qvbr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Av1BitDepth {
    #[serde(rename = "BIT_8")]
    Bit8,
    #[serde(rename = "BIT_10")]
    Bit10,
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
    /// `FOLLOW_INPUT`: the track's language is the source's (when it has one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language_code_control: Option<LanguageCodeControl>,
    pub codec_settings: AudioCodecSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LanguageCodeControl {
    FollowInput,
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
