//! Reading a job document: the `CreateJob` request a job builder wrote, read strictly as
//! `vodpipe-job-document` describes it (every unknown key, or the first value outside what
//! vodpipe speaks, by its path), then held to what the embedded transcoder can do (every
//! setting it cannot honour, by its path) into an [`HlsJob`].

use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value;
use vodpipe_core::Packaging;
pub use vodpipe_job_document::Problem;
use vodpipe_job_document::h264::{CodecLevel, Level, Profile};
use vodpipe_job_document::qvbr;
use vodpipe_job_document::{
    Av1BitDepth, CmafGroupSettings, CodingMode, Container, CreateJob, FileGroupSettings, FramerateControl,
    GopSizeUnits, H264QvbrSettings, H265Profile, HlsGroupSettings, IFrameOnlyManifest, ManifestDurationFormat, Output,
    OutputGroupType, RateControlMode, ScalingBehavior, Switch, VideoCodec, VideoCodecSettings,
};

/// What the embedded transcoder will do for a job document.
#[derive(Debug, Clone, PartialEq)]
pub struct HlsJob {
    pub input: PathBuf,
    pub output_dir: PathBuf,
    /// Master playlist stem: `<output_dir>/<manifest>.m3u8`.
    pub manifest: String,
    pub segment_seconds: u64,
    /// `#EXTINF` durations rounded to whole seconds (ManifestDurationFormat INTEGER).
    pub integer_durations: bool,
    pub variants: Vec<Variant>,
    /// `Ts`: each variant carries its audio. `Cmaf`: fragmented MP4, the audio in
    /// [`HlsJob::audio_renditions`], and a DASH MPD beside the master playlist.
    pub packaging: Packaging,
    /// CMAF's audio tracks, one per audio group.
    pub audio_renditions: Vec<AudioRendition>,
    pub thumbnail: Option<ThumbnailJob>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// `_720p`: files are `<manifest><modifier>.m3u8` and `<manifest><modifier>_00001.ts`
    /// (`.m4s` and `<manifest><modifier>_init.mp4` in CMAF).
    pub modifier: String,
    pub width: u64,
    pub height: u64,
    pub rate: Rate,
    /// Peak bit/s: the encoder's VBV maximum.
    pub max_bitrate: u64,
    pub encoding: Encoding,
    pub gop_seconds: f64,
    /// STRETCH_TO_OUTPUT; otherwise (DEFAULT) the picture keeps its aspect ratio and is
    /// letterboxed or pillarboxed to the output size.
    pub stretch: bool,
    /// Output frame rate as numerator/denominator; none keeps the source's.
    pub frame_rate: Option<(u64, u64)>,
    /// MPEG-TS: the audio muxed with the video.
    pub audio: Option<Audio>,
    /// CMAF: the audio group it plays with.
    pub audio_group: Option<String>,
    /// Whether it gets an I-frame playlist (`IFrameOnlyManifest` `INCLUDE`).
    pub i_frame_playlist: bool,
}

/// The codec a rendition is encoded in and what the document fixed for it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Encoding {
    /// x264. The level is None for AUTO: x264 chooses.
    H264 { profile: Profile, level: Option<Level> },
    /// x265, Main (8 bits) or Main 10, Main tier, the level x265 chooses.
    Hevc { bit_depth: u8 },
    /// SVT-AV1, Main profile, 8 or 10 bits.
    Av1 { bit_depth: u8 },
}

impl Encoding {
    /// Whose CRF scale a quality level is read on.
    pub fn encoder(self) -> qvbr::Encoder {
        match self {
            Encoding::H264 { .. } => qvbr::Encoder::X264,
            Encoding::Hevc { .. } => qvbr::Encoder::X265,
            Encoding::Av1 { .. } => qvbr::Encoder::SvtAv1,
        }
    }
}

/// A CMAF audio track: `<manifest><modifier>.m3u8`, the rendition of its audio group.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioRendition {
    pub modifier: String,
    pub group: String,
    /// `DEFAULT=YES` (else `NO`); every one is AUTOSELECT.
    pub default: bool,
    pub audio: Audio,
}

/// How a rendition spends its bits, under its peak.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    /// `VBR`: this average, in bit/s.
    Average(u64),
    /// `QVBR`: the encoder's constant rate factor for the quality level
    /// ([`qvbr::Encoder::crf_for_level`]).
    ConstantQuality { crf: f64 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    pub bitrate: u64,
    pub sample_rate: u64,
    pub channels: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ThumbnailJob {
    /// Full path of the JPEG to write (MediaConvert's name for that capture).
    pub path: PathBuf,
    pub width: u64,
    pub height: u64,
    pub at_seconds: f64,
    pub quality: u64,
}

/// Reads a `CreateJob` request into an [`HlsJob`], or says what it cannot honour: every
/// unknown key, the first value the document cannot hold, and (when every value fits) every
/// setting the embedded transcoder cannot honour.
pub fn translate(create_job: &Value) -> Result<HlsJob, Vec<Problem>> {
    let (job, mut problems) = CreateJob::read_all(create_job);
    match job.and_then(|job| read_job(&job, &mut problems)) {
        Some(job) if problems.is_empty() => Ok(job),
        _ if problems.is_empty() => Err(vec![Problem::new("(document)", "cannot be run (no reason found)")]),
        _ => Err(problems),
    }
}

fn read_job(job: &CreateJob, p: &mut Vec<Problem>) -> Option<HlsJob> {
    let settings = &job.settings;
    if settings.inputs.len() != 1 {
        p.push(Problem::new("Settings.Inputs", "must hold exactly one input"));
    }
    let input = settings.inputs.first();
    let input_path = input.and_then(|input| file_path(&input.file_input, "Settings.Inputs[0].FileInput", p));
    let audio_selectors: Vec<&str> = input
        .map(|input| input.audio_selectors.keys().map(String::as_str).collect())
        .unwrap_or_default();

    let (mut media, mut thumbnail) = (None, None);
    let (mut seen_media, mut seen_file) = (false, false);
    for (g, group) in settings.output_groups.iter().enumerate() {
        let at = format!("Settings.OutputGroups[{g}]");
        let group_settings = &group.output_group_settings;
        let settings_at = format!("{at}.OutputGroupSettings");
        let seen = match group_settings.kind {
            OutputGroupType::HlsGroupSettings | OutputGroupType::CmafGroupSettings => &mut seen_media,
            OutputGroupType::FileGroupSettings => &mut seen_file,
        };
        if std::mem::replace(seen, true) {
            p.push(Problem::new(
                format!("{settings_at}.Type"),
                "only one HLS or CMAF group and one frame-capture group are supported",
            ));
            continue;
        }
        let kind = group_settings.kind;
        // The settings of the other kinds are absent.
        if kind != OutputGroupType::HlsGroupSettings {
            not_with(
                &group_settings.hls_group_settings,
                &settings_at,
                "HlsGroupSettings",
                "Type",
                p,
            );
        }
        if kind != OutputGroupType::CmafGroupSettings {
            not_with(
                &group_settings.cmaf_group_settings,
                &settings_at,
                "CmafGroupSettings",
                "Type",
                p,
            );
        }
        if kind != OutputGroupType::FileGroupSettings {
            not_with(
                &group_settings.file_group_settings,
                &settings_at,
                "FileGroupSettings",
                "Type",
                p,
            );
        }
        match kind {
            OutputGroupType::HlsGroupSettings => match &group_settings.hls_group_settings {
                Some(hls_settings) => media = read_hls_group(&at, hls_settings, &group.outputs, &audio_selectors, p),
                None => p.push(Problem::new(format!("{settings_at}.HlsGroupSettings"), "is required")),
            },
            OutputGroupType::CmafGroupSettings => match &group_settings.cmaf_group_settings {
                Some(cmaf_settings) => {
                    media = read_cmaf_group(&at, cmaf_settings, &group.outputs, &audio_selectors, p);
                }
                None => p.push(Problem::new(format!("{settings_at}.CmafGroupSettings"), "is required")),
            },
            OutputGroupType::FileGroupSettings => match &group_settings.file_group_settings {
                Some(file_settings) => thumbnail = read_frame_capture_group(&at, file_settings, &group.outputs, p),
                None => p.push(Problem::new(format!("{settings_at}.FileGroupSettings"), "is required")),
            },
        }
    }
    if !seen_media {
        p.push(Problem::new(
            "Settings.OutputGroups",
            "needs an HLS or CMAF output group",
        ));
    }
    let media = media?;
    Some(HlsJob {
        input: input_path?,
        output_dir: media.output_dir,
        manifest: media.manifest,
        segment_seconds: media.segment_seconds,
        integer_durations: media.integer_durations,
        variants: media.variants,
        packaging: media.packaging,
        audio_renditions: media.audio_renditions,
        thumbnail,
    })
}

/// What the HLS or CMAF group says.
struct MediaGroup {
    output_dir: PathBuf,
    manifest: String,
    segment_seconds: u64,
    integer_durations: bool,
    variants: Vec<Variant>,
    packaging: Packaging,
    audio_renditions: Vec<AudioRendition>,
}

/// The directory and manifest stem of a group's `Destination`.
fn destination(uri: &str, at: &str, p: &mut Vec<Problem>) -> Option<(PathBuf, String)> {
    let destination = file_path(uri, at, p)?;
    let (Some(manifest), Some(output_dir)) = (destination.file_name(), destination.parent()) else {
        p.push(Problem::new(
            at,
            "must name the master playlist's file, e.g. `file:///media/<id>/index`",
        ));
        return None;
    };
    Some((output_dir.to_owned(), manifest.to_string_lossy().into_owned()))
}

fn read_cmaf_group(
    at: &str,
    settings: &CmafGroupSettings,
    outputs: &[Output],
    audio_selectors: &[&str],
    p: &mut Vec<Problem>,
) -> Option<MediaGroup> {
    let settings_at = format!("{at}.OutputGroupSettings.CmafGroupSettings");
    let destination = destination(&settings.destination, &format!("{settings_at}.Destination"), p);
    if settings.segment_length == 0 {
        p.push(Problem::new(
            format!("{settings_at}.SegmentLength"),
            "must be at least 1",
        ));
    }
    // ffmpeg writes each segment as one fragment.
    if let Some(fragment) = settings.fragment_length.filter(|f| *f != settings.segment_length) {
        p.push(Problem::new(
            format!("{settings_at}.FragmentLength"),
            format!(
                "{fragment}: only the segment length ({}) is supported (one fragment per segment)",
                settings.segment_length
            ),
        ));
    }
    if settings.write_hls_manifest == Some(Switch::Disabled) {
        p.push(Problem::new(
            format!("{settings_at}.WriteHlsManifest"),
            "DISABLED: the embedded transcoder always writes the HLS playlists (players and the post-processor use them)",
        ));
    }
    let integer_durations = settings.manifest_duration_format != Some(ManifestDurationFormat::FloatingPoint);
    let mut variants = Vec::new();
    let mut audio_renditions: Vec<AudioRendition> = Vec::new();
    for (o, output) in outputs.iter().enumerate() {
        let output_at = format!("{at}.Outputs[{o}]");
        let cmfc = output.container_settings.as_ref().and_then(|c| c.cmfc_settings.clone());
        match output.container_settings.as_ref().map(|c| c.container) {
            Some(Container::Cmfc) => {}
            Some(other) => p.push(unsupported(
                format!("{output_at}.ContainerSettings.Container"),
                &other,
                "CMFC",
            )),
            None => p.push(Problem::new(
                format!("{output_at}.ContainerSettings"),
                "is required (CMFC)",
            )),
        }
        let cmfc = cmfc.unwrap_or_default();
        let cmfc_at = format!("{output_at}.ContainerSettings.CmfcSettings");
        if output.video_description.is_some() {
            if cmfc.audio_group_id.is_some() {
                p.push(Problem::new(
                    format!("{cmfc_at}.AudioGroupId"),
                    "belongs to an audio track",
                ));
            }
            if !output.audio_descriptions.is_empty() {
                p.push(Problem::new(
                    format!("{output_at}.AudioDescriptions"),
                    "a CMAF video track has no audio: give the audio its own output",
                ));
            }
            if let Some(mut variant) = read_video_output(&output_at, output, audio_selectors, Container::Cmfc, p) {
                variant.audio_group = cmfc.audio_rendition_sets.clone();
                variant.i_frame_playlist = cmfc.i_frame_only_manifest == Some(IFrameOnlyManifest::Include);
                if let Some(sets) = &variant.audio_group
                    && sets.contains(',')
                {
                    p.push(Problem::new(
                        format!("{cmfc_at}.AudioRenditionSets"),
                        format!("`{sets}`: one audio group per video track is supported"),
                    ));
                }
                variants.push((o, variant));
            }
        } else {
            let modifier = read_modifier(&output_at, output, p);
            let audio = match output.audio_descriptions.as_slice() {
                [description] => Some(read_audio(
                    &format!("{output_at}.AudioDescriptions[0]"),
                    description,
                    audio_selectors,
                    p,
                )),
                _ => {
                    p.push(Problem::new(
                        format!("{output_at}.AudioDescriptions"),
                        "a CMAF audio track has exactly one audio description",
                    ));
                    None
                }
            };
            let group = cmfc.audio_group_id.clone();
            if group.is_none() {
                p.push(Problem::new(
                    format!("{cmfc_at}.AudioGroupId"),
                    "is required for an audio track",
                ));
            }
            if let (Some(modifier), Some(audio), Some(group)) = (modifier, audio, group) {
                let default = cmfc
                    .audio_track_type
                    .is_none_or(|t| t == vodpipe_job_document::AudioTrackType::AlternateAudioAutoSelectDefault);
                audio_renditions.push(AudioRendition {
                    modifier,
                    group,
                    default,
                    audio,
                });
            }
        }
    }
    for (o, variant) in &variants {
        if let Some(group) = &variant.audio_group
            && !audio_renditions.iter().any(|a| &a.group == group)
        {
            p.push(Problem::new(
                format!("{at}.Outputs[{o}].ContainerSettings.CmfcSettings.AudioRenditionSets"),
                format!("`{group}`: no audio track of the group has that AudioGroupId"),
            ));
        }
    }
    if variants.is_empty() {
        p.push(Problem::new(
            format!("{at}.Outputs"),
            "the CMAF group has no usable video outputs",
        ));
    }
    let (output_dir, manifest) = destination?;
    Some(MediaGroup {
        output_dir,
        manifest,
        segment_seconds: u64::from(settings.segment_length.max(1)),
        integer_durations,
        variants: variants.into_iter().map(|(_, variant)| variant).collect(),
        packaging: Packaging::Cmaf,
        audio_renditions,
    })
}

fn read_hls_group(
    at: &str,
    settings: &HlsGroupSettings,
    outputs: &[Output],
    audio_selectors: &[&str],
    p: &mut Vec<Problem>,
) -> Option<MediaGroup> {
    let settings_at = format!("{at}.OutputGroupSettings.HlsGroupSettings");
    let destination = destination(&settings.destination, &format!("{settings_at}.Destination"), p);
    if settings.segment_length == 0 {
        p.push(Problem::new(
            format!("{settings_at}.SegmentLength"),
            "must be at least 1",
        ));
    }
    if let Some(min) = settings.min_segment_length.filter(|min| *min != 0) {
        p.push(Problem::new(
            format!("{settings_at}.MinSegmentLength"),
            format!("{min}: only 0 is supported"),
        ));
    }
    let integer_durations = settings.manifest_duration_format != Some(ManifestDurationFormat::FloatingPoint);
    let variants: Vec<Variant> = outputs
        .iter()
        .enumerate()
        .filter_map(|(o, output)| {
            let mut variant = read_video_output(
                &format!("{at}.Outputs[{o}]"),
                output,
                audio_selectors,
                Container::M3u8,
                p,
            )?;
            variant.i_frame_playlist = output
                .output_settings
                .as_ref()
                .and_then(|o| o.hls_settings.as_ref())
                .and_then(|h| h.i_frame_only_manifest)
                == Some(IFrameOnlyManifest::Include);
            Some(variant)
        })
        .collect();
    if variants.is_empty() {
        p.push(Problem::new(
            format!("{at}.Outputs"),
            "the HLS group has no usable outputs",
        ));
    }
    let (output_dir, manifest) = destination?;
    Some(MediaGroup {
        output_dir,
        manifest,
        segment_seconds: u64::from(settings.segment_length.max(1)),
        integer_durations,
        variants,
        packaging: Packaging::Ts,
        audio_renditions: Vec::new(),
    })
}

/// An output's `NameModifier`, which names its files.
fn read_modifier(at: &str, output: &Output, p: &mut Vec<Problem>) -> Option<String> {
    let modifier = output.name_modifier.clone();
    match &modifier {
        None => p.push(Problem::new(format!("{at}.NameModifier"), "is required")),
        Some(m) if m.is_empty() || !plain_name(m) => {
            p.push(Problem::new(
                format!("{at}.NameModifier"),
                "must be letters, digits, '_' or '-'",
            ));
            return None;
        }
        Some(_) => {}
    }
    modifier
}

/// A video rendition of an HLS group (in `M3U8`, its audio muxed) or a CMAF group (in `CMFC`).
fn read_video_output(
    at: &str,
    output: &Output,
    audio_selectors: &[&str],
    container: Container,
    p: &mut Vec<Problem>,
) -> Option<Variant> {
    let modifier = read_modifier(at, output, p);
    if container == Container::M3u8
        && let Some(settings) = &output.container_settings
    {
        if settings.container != Container::M3u8 {
            p.push(unsupported(
                format!("{at}.ContainerSettings.Container"),
                &settings.container,
                "M3U8",
            ));
        }
        not_with(
            &settings.cmfc_settings,
            &format!("{at}.ContainerSettings"),
            "CmfcSettings",
            "Container",
            p,
        );
    }
    let Some(video) = &output.video_description else {
        p.push(Problem::new(format!("{at}.VideoDescription"), "is required"));
        return None;
    };
    let stretch = video.scaling_behavior == Some(ScalingBehavior::StretchToOutput);
    let coding = read_codec(
        &format!("{at}.VideoDescription.CodecSettings"),
        &video.codec_settings,
        container,
        p,
    )?;
    let settings_at = &coding.at;
    let rate = read_rate(&coding, p);
    // Every encoder here closes every GOP, which is cadence 1.
    if let Some(cadence) = coding.gop_closed_cadence.filter(|cadence| *cadence != 1) {
        p.push(Problem::new(
            format!("{settings_at}.GopClosedCadence"),
            format!("{cadence}: only 1 (every GOP closed) is supported"),
        ));
    }
    // The frame rate is used only when both parts are above 0 (else the source's is kept).
    let frame_rate = match coding.framerate_control {
        Some(FramerateControl::Specified) => {
            let mut part = |value: Option<u32>, key: &str| {
                if value.is_none() {
                    p.push(Problem::new(
                        format!("{settings_at}.{key}"),
                        "is required with FramerateControl SPECIFIED",
                    ));
                }
                value.filter(|n| *n > 0).map(u64::from)
            };
            let numerator = part(coding.framerate_numerator, "FramerateNumerator");
            let denominator = part(coding.framerate_denominator, "FramerateDenominator");
            numerator.zip(denominator)
        }
        Some(FramerateControl::InitializeFromSource) | None => None,
    };
    // SVT-AV1 places keyframes by frame count only: without a fixed rate, renditions' GOPs
    // would not last the same time.
    if matches!(coding.encoding, Encoding::Av1 { .. }) && frame_rate.is_none() {
        p.push(Problem::new(
            format!("{settings_at}.FramerateControl"),
            "AV1 needs a SPECIFIED frame rate here (its keyframes are placed by frame count)",
        ));
    }
    // No size: MediaConvert's 2 s, whatever the units.
    let (gop, gop_units) = match coding.gop_size {
        Some(size) => (size, coding.gop_size_units),
        None => (2.0, GopSizeUnits::Seconds),
    };
    if !(gop > 0.0 && gop.is_finite()) {
        p.push(Problem::new(
            format!("{settings_at}.GopSize"),
            format!("{gop}: must be above 0"),
        ));
    }
    let gop_seconds = match (gop_units, frame_rate) {
        (GopSizeUnits::Frames, Some((n, d))) => gop * d as f64 / n as f64,
        (GopSizeUnits::Frames, None) => {
            p.push(Problem::new(
                format!("{settings_at}.{}", coding.gop_units_key),
                "a GOP in FRAMES needs a SPECIFIED frame rate",
            ));
            gop / 30.0
        }
        (GopSizeUnits::Seconds, _) => gop,
    };

    if output.audio_descriptions.len() > 1 {
        p.push(Problem::new(
            format!("{at}.AudioDescriptions"),
            "at most one audio track per output",
        ));
    }
    let mut audio = None;
    for (a, description) in output.audio_descriptions.iter().enumerate() {
        audio = Some(read_audio(
            &format!("{at}.AudioDescriptions[{a}]"),
            description,
            audio_selectors,
            p,
        ));
    }

    Some(Variant {
        modifier: modifier?,
        width: u64::from(video.width),
        height: u64::from(video.height),
        rate: rate?,
        max_bitrate: match rate? {
            Rate::Average(bitrate) => coding.max_bitrate.unwrap_or(bitrate),
            Rate::ConstantQuality { .. } => coding.max_bitrate?,
        },
        encoding: coding.encoding,
        gop_seconds,
        stretch,
        frame_rate,
        audio,
        audio_group: None,
        i_frame_playlist: false,
    })
}

fn read_audio(
    at: &str,
    description: &vodpipe_job_document::AudioDescription,
    audio_selectors: &[&str],
    p: &mut Vec<Problem>,
) -> Audio {
    let source = &description.audio_source_name;
    if !audio_selectors.contains(&source.as_str()) {
        p.push(Problem::new(
            format!("{at}.AudioSourceName"),
            format!("`{source}`: no such audio selector in the input"),
        ));
    }
    let aac = &description.codec_settings.aac_settings;
    Audio {
        bitrate: aac.bitrate,
        sample_rate: u64::from(aac.sample_rate.unwrap_or(48_000)),
        channels: aac.coding_mode.unwrap_or(CodingMode::Stereo).channels(),
    }
}

/// What the embedded transcoder reads of a video codec's settings, whichever codec: the
/// three codecs' settings share these keys (AV1 has QVBR only and its GOP in frames).
struct Coding<'a> {
    /// `….CodecSettings.H264Settings` (or `H265Settings`, `Av1Settings`).
    at: String,
    encoding: Encoding,
    rate_control_mode: RateControlMode,
    bitrate: Option<u64>,
    max_bitrate: Option<u64>,
    qvbr_settings: Option<&'a H264QvbrSettings>,
    gop_size: Option<f64>,
    gop_size_units: GopSizeUnits,
    /// Where a GOP in frames is wrong without a frame rate: `GopSizeUnits`, or AV1's `GopSize`.
    gop_units_key: &'static str,
    gop_closed_cadence: Option<u32>,
    framerate_control: Option<FramerateControl>,
    framerate_numerator: Option<u32>,
    framerate_denominator: Option<u32>,
}

/// The codec's own settings, the codec's only (the others' are refused): H.264 in either
/// group, HEVC and AV1 in CMAF groups only (as presets allow).
fn read_codec<'a>(
    codec_at: &str,
    codec: &'a VideoCodecSettings,
    container: Container,
    p: &mut Vec<Problem>,
) -> Option<Coding<'a>> {
    let supported = match container {
        Container::M3u8 => "H_264; H_265 and AV1 in CMAF groups",
        _ => "H_264, H_265, AV1",
    };
    if codec.codec == VideoCodec::FrameCapture || (container == Container::M3u8 && codec.codec != VideoCodec::H264) {
        // Its settings are the codec's own; what is wrong is the codec.
        p.push(unsupported(format!("{codec_at}.Codec"), &codec.codec, supported));
        return None;
    }
    let is = |c: VideoCodec| codec.codec == c;
    if !is(VideoCodec::H264) {
        not_with(&codec.h264_settings, codec_at, "H264Settings", "Codec", p);
    }
    if !is(VideoCodec::H265) {
        not_with(&codec.h265_settings, codec_at, "H265Settings", "Codec", p);
    }
    if !is(VideoCodec::Av1) {
        not_with(&codec.av1_settings, codec_at, "Av1Settings", "Codec", p);
    }
    not_with(
        &codec.frame_capture_settings,
        codec_at,
        "FrameCaptureSettings",
        "Codec",
        p,
    );
    let required = |key: &str, p: &mut Vec<Problem>| p.push(Problem::new(format!("{codec_at}.{key}"), "is required"));
    match codec.codec {
        VideoCodec::H264 => {
            let Some(h264) = &codec.h264_settings else {
                required("H264Settings", p);
                return None;
            };
            Some(Coding {
                at: format!("{codec_at}.H264Settings"),
                encoding: Encoding::H264 {
                    profile: h264.codec_profile.unwrap_or(Profile::Main),
                    level: match h264.codec_level {
                        Some(CodecLevel::Level(level)) => Some(level),
                        Some(CodecLevel::Auto) | None => None,
                    },
                },
                rate_control_mode: h264.rate_control_mode,
                bitrate: h264.bitrate,
                max_bitrate: h264.max_bitrate,
                qvbr_settings: h264.qvbr_settings.as_ref(),
                gop_size: h264.gop_size,
                gop_size_units: h264.gop_size_units.unwrap_or(GopSizeUnits::Seconds),
                gop_units_key: "GopSizeUnits",
                gop_closed_cadence: h264.gop_closed_cadence,
                framerate_control: h264.framerate_control,
                framerate_numerator: h264.framerate_numerator,
                framerate_denominator: h264.framerate_denominator,
            })
        }
        VideoCodec::H265 => {
            let Some(h265) = &codec.h265_settings else {
                required("H265Settings", p);
                return None;
            };
            Some(Coding {
                at: format!("{codec_at}.H265Settings"),
                encoding: Encoding::Hevc {
                    bit_depth: match h265.codec_profile.unwrap_or(H265Profile::MainMain) {
                        H265Profile::MainMain => 8,
                        H265Profile::Main10Main => 10,
                    },
                },
                rate_control_mode: h265.rate_control_mode,
                bitrate: h265.bitrate,
                max_bitrate: h265.max_bitrate,
                qvbr_settings: h265.qvbr_settings.as_ref(),
                gop_size: h265.gop_size,
                gop_size_units: h265.gop_size_units.unwrap_or(GopSizeUnits::Seconds),
                gop_units_key: "GopSizeUnits",
                gop_closed_cadence: h265.gop_closed_cadence,
                framerate_control: h265.framerate_control,
                framerate_numerator: h265.framerate_numerator,
                framerate_denominator: h265.framerate_denominator,
            })
        }
        VideoCodec::Av1 => {
            let Some(av1) = &codec.av1_settings else {
                required("Av1Settings", p);
                return None;
            };
            Some(Coding {
                at: format!("{codec_at}.Av1Settings"),
                encoding: Encoding::Av1 {
                    bit_depth: match av1.bit_depth.unwrap_or(Av1BitDepth::Bit8) {
                        Av1BitDepth::Bit8 => 8,
                        Av1BitDepth::Bit10 => 10,
                    },
                },
                rate_control_mode: RateControlMode::Qvbr,
                bitrate: None,
                max_bitrate: Some(av1.max_bitrate),
                qvbr_settings: av1.qvbr_settings.as_ref(),
                gop_size: av1.gop_size,
                gop_size_units: GopSizeUnits::Frames,
                gop_units_key: "FramerateControl",
                gop_closed_cadence: None,
                framerate_control: av1.framerate_control,
                framerate_numerator: av1.framerate_numerator,
                framerate_denominator: av1.framerate_denominator,
            })
        }
        VideoCodec::FrameCapture => None,
    }
}

/// `VBR` needs `Bitrate`; `QVBR` needs `MaxBitrate` and takes its quality level (AUTO: 7,
/// which MediaLive recommends for PCs and tablets and sits mid-way in MediaConvert's
/// broadcast range of 6 to 9) as the encoder's constant rate factor for it.
fn read_rate(coding: &Coding, p: &mut Vec<Problem>) -> Option<Rate> {
    let at = &coding.at;
    let settings_apart = |p: &mut Vec<Problem>, key: &str, mode: &str| {
        p.push(Problem::new(
            format!("{at}.{key}"),
            format!("is not used with RateControlMode {mode}"),
        ));
    };
    match coding.rate_control_mode {
        RateControlMode::Vbr => {
            if coding.qvbr_settings.is_some() {
                settings_apart(p, "QvbrSettings", "VBR");
            }
            match coding.bitrate {
                Some(bitrate) => Some(Rate::Average(bitrate)),
                None => {
                    p.push(Problem::new(
                        format!("{at}.Bitrate"),
                        "is required with RateControlMode VBR",
                    ));
                    None
                }
            }
        }
        RateControlMode::Qvbr => {
            if coding.bitrate.is_some() {
                settings_apart(p, "Bitrate", "QVBR");
            }
            if coding.max_bitrate.is_none() {
                p.push(Problem::new(
                    format!("{at}.MaxBitrate"),
                    "is required with RateControlMode QVBR",
                ));
            }
            let level = coding.qvbr_settings.and_then(H264QvbrSettings::quality_level);
            match level.unwrap_or(qvbr::DEFAULT_QUALITY_LEVEL) {
                level if (1.0..=10.0).contains(&level) => Some(Rate::ConstantQuality {
                    crf: coding.encoding.encoder().crf_for_level(level),
                }),
                level => {
                    p.push(Problem::new(
                        format!("{at}.QvbrSettings.QvbrQualityLevel"),
                        format!("{level}: must be 1 to 10"),
                    ));
                    None
                }
            }
        }
    }
}

fn read_frame_capture_group(
    at: &str,
    settings: &FileGroupSettings,
    outputs: &[Output],
    p: &mut Vec<Problem>,
) -> Option<ThumbnailJob> {
    let destination = file_path(
        &settings.destination,
        &format!("{at}.OutputGroupSettings.FileGroupSettings.Destination"),
        p,
    );
    if outputs.len() != 1 {
        p.push(Problem::new(
            format!("{at}.Outputs"),
            "a frame-capture group needs exactly one output",
        ));
    }
    let output = outputs.first()?;
    let at = format!("{at}.Outputs[0]");
    if let Some(container) = &output.container_settings {
        if container.container != Container::Raw {
            p.push(unsupported(
                format!("{at}.ContainerSettings.Container"),
                &container.container,
                "RAW",
            ));
        }
        not_with(
            &container.m3u8_settings,
            &format!("{at}.ContainerSettings"),
            "M3u8Settings",
            "Container",
            p,
        );
    }
    if output.output_settings.is_some() {
        p.push(Problem::new(
            format!("{at}.OutputSettings"),
            "a frame capture has no output settings",
        ));
    }
    let modifier = output.name_modifier.as_deref().unwrap_or_default();
    if !plain_name(modifier) {
        p.push(Problem::new(
            format!("{at}.NameModifier"),
            "must be letters, digits, '_' or '-'",
        ));
        return None;
    }
    if !output.audio_descriptions.is_empty() {
        p.push(Problem::new(
            format!("{at}.AudioDescriptions"),
            "a frame capture has no audio",
        ));
    }
    let Some(video) = &output.video_description else {
        p.push(Problem::new(format!("{at}.VideoDescription"), "is required"));
        return None;
    };
    let codec = &video.codec_settings;
    let codec_at = format!("{at}.VideoDescription.CodecSettings");
    if codec.codec != VideoCodec::FrameCapture {
        p.push(unsupported(format!("{codec_at}.Codec"), &codec.codec, "FRAME_CAPTURE"));
    }
    not_with(&codec.h264_settings, &codec_at, "H264Settings", "Codec", p);
    let Some(capture) = &codec.frame_capture_settings else {
        p.push(Problem::new(format!("{codec_at}.FrameCaptureSettings"), "is required"));
        return None;
    };
    if capture.framerate_numerator == 0 {
        return None; // no capture rate: no thumbnail
    }
    // Captures happen every denominator/numerator seconds from 0; vodpipe writes the second
    // one (the first is often black), as the job builder promised in its metadata.
    let index = capture.max_captures.unwrap_or(1).clamp(1, 2) - 1;
    let destination = destination?;
    let base = destination
        .file_name()
        .map(|b| b.to_string_lossy().into_owned())
        .unwrap_or_default();
    Some(ThumbnailJob {
        path: destination.with_file_name(format!("{base}{modifier}.{index:07}.jpg")),
        width: u64::from(video.width),
        height: u64::from(video.height),
        at_seconds: f64::from(index) * f64::from(capture.framerate_denominator)
            / f64::from(capture.framerate_numerator),
        quality: u64::from(capture.quality.unwrap_or(80)),
    })
}

/// Letters, digits, '_' and '-' only: a name modifier becomes part of a file name.
fn plain_name(name: &str) -> bool {
    name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A problem for settings that only belong with another value of `chosen_by` (`Codec`, `Type`).
fn not_with<T>(settings: &Option<T>, at: &str, key: &str, chosen_by: &str, p: &mut Vec<Problem>) {
    if settings.is_some() {
        p.push(Problem::new(
            format!("{at}.{key}"),
            format!("does not go with this {chosen_by}"),
        ));
    }
}

/// `` `RAW` is not supported here (supported: M3U8) ``, naming a value as the document spells it.
fn unsupported(path: String, value: &impl Serialize, supported: &str) -> Problem {
    let spelled = serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    Problem::new(
        path,
        format!("`{spelled}` is not supported by the embedded transcoder here (supported: {supported})"),
    )
}

/// `file:///abs/path` → `/abs/path`; anything else is refused.
fn file_path(uri: &str, path: &str, p: &mut Vec<Problem>) -> Option<PathBuf> {
    match uri.strip_prefix("file://") {
        Some(local) if local.starts_with('/') && !local.split('/').any(|part| part == "..") => {
            Some(PathBuf::from(local))
        }
        _ => {
            p.push(Problem::new(
                path,
                format!("`{uri}`: the embedded transcoder reads and writes absolute file:// URIs only"),
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn job() -> Value {
        json!({
            "Settings": {
                "Inputs": [{ "FileInput": "file:///uploads/v", "AudioSelectors": { "Audio Selector 1": {} } }],
                "OutputGroups": [
                    {
                        "OutputGroupSettings": {
                            "Type": "HLS_GROUP_SETTINGS",
                            "HlsGroupSettings": { "Destination": "file:///media/v/index", "SegmentLength": 6 }
                        },
                        "Outputs": [{
                            "NameModifier": "_360p",
                            "VideoDescription": {
                                "Width": 640, "Height": 360,
                                "CodecSettings": { "Codec": "H_264", "H264Settings": { "RateControlMode": "VBR", "Bitrate": 800000 } }
                            },
                            "AudioDescriptions": [{
                                "AudioSourceName": "Audio Selector 1",
                                "CodecSettings": { "Codec": "AAC", "AacSettings": { "Bitrate": 96000, "CodingMode": "CODING_MODE_1_0" } }
                            }]
                        }]
                    },
                    {
                        "OutputGroupSettings": {
                            "Type": "FILE_GROUP_SETTINGS",
                            "FileGroupSettings": { "Destination": "file:///media/v/thumbnails/thumb" }
                        },
                        "Outputs": [{
                            "NameModifier": "_poster",
                            "VideoDescription": {
                                "Width": 320, "Height": 180,
                                "CodecSettings": {
                                    "Codec": "FRAME_CAPTURE",
                                    "FrameCaptureSettings": { "FramerateNumerator": 1, "FramerateDenominator": 3, "MaxCaptures": 2 }
                                }
                            }
                        }]
                    }
                ]
            }
        })
    }

    fn problems(document: &Value) -> Vec<String> {
        translate(document)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn defaults_are_mediaconverts() {
        let job = translate(&job()).unwrap();
        let variant = &job.variants[0];
        assert_eq!(
            (variant.max_bitrate, variant.encoding),
            (
                800_000,
                Encoding::H264 {
                    profile: Profile::Main,
                    level: None
                }
            )
        );
        assert_eq!(
            (variant.gop_seconds, variant.frame_rate, variant.stretch),
            (2.0, None, false)
        );
        assert_eq!(
            variant.audio,
            Some(Audio {
                bitrate: 96_000,
                sample_rate: 48_000,
                channels: 1
            })
        );
        assert!(job.integer_durations);
        let thumbnail = job.thumbnail.unwrap();
        assert_eq!(
            thumbnail.path,
            PathBuf::from("/media/v/thumbnails/thumb_poster.0000001.jpg")
        );
        assert_eq!((thumbnail.at_seconds, thumbnail.quality), (3.0, 80));
    }

    #[test]
    fn settings_of_the_other_codec_or_group_type_and_a_second_group_are_refused() {
        let mut document = job();
        let groups = &mut document["Settings"]["OutputGroups"];
        groups[1]["Outputs"][0]["VideoDescription"]["CodecSettings"]["H264Settings"] =
            json!({ "RateControlMode": "VBR", "Bitrate": 1 });
        groups[0]["OutputGroupSettings"]["FileGroupSettings"] = json!({ "Destination": "file:///x" });
        let second = groups[0].clone();
        groups.as_array_mut().unwrap().push(second);
        let found = problems(&document);
        assert_eq!(
            found,
            [
                "Settings.OutputGroups[0].OutputGroupSettings.FileGroupSettings: does not go with this Type",
                "Settings.OutputGroups[1].Outputs[0].VideoDescription.CodecSettings.H264Settings: does not go with this Codec",
                "Settings.OutputGroups[2].OutputGroupSettings.Type: only one HLS or CMAF group and one frame-capture group are supported",
            ]
        );
    }

    #[test]
    fn vbr_needs_its_average_and_takes_no_quality_level() {
        let mut document = job();
        let h264 = &mut document["Settings"]["OutputGroups"][0]["Outputs"][0]["VideoDescription"]["CodecSettings"]["H264Settings"];
        h264.as_object_mut().unwrap().remove("Bitrate");
        h264["QvbrSettings"] = json!({ "QvbrQualityLevel": 7 });
        let at = "Settings.OutputGroups[0].Outputs[0].VideoDescription.CodecSettings.H264Settings";
        assert_eq!(
            problems(&document),
            [
                format!("{at}.QvbrSettings: is not used with RateControlMode VBR"),
                format!("{at}.Bitrate: is required with RateControlMode VBR"),
                "Settings.OutputGroups[0].Outputs: the HLS group has no usable outputs".to_owned(),
            ]
        );
    }

    #[test]
    fn a_destination_that_names_no_file_is_refused_with_a_reason() {
        let mut document = job();
        document["Settings"]["OutputGroups"][0]["OutputGroupSettings"]["HlsGroupSettings"]["Destination"] =
            "file:///".into();
        assert_eq!(
            problems(&document),
            [
                "Settings.OutputGroups[0].OutputGroupSettings.HlsGroupSettings.Destination: must name the master \
                 playlist's file, e.g. `file:///media/<id>/index`"
            ]
        );
    }

    #[test]
    fn a_frame_capture_takes_no_hls_settings_and_a_modifier_stays_in_its_folder() {
        let mut document = job();
        let capture = &mut document["Settings"]["OutputGroups"][1]["Outputs"][0];
        capture["ContainerSettings"] = json!({ "Container": "RAW", "M3u8Settings": {} });
        capture["OutputSettings"] = json!({ "HlsSettings": {} });
        capture["NameModifier"] = "/../../etc/x".into();
        let at = "Settings.OutputGroups[1].Outputs[0]";
        assert_eq!(
            problems(&document),
            [
                format!("{at}.ContainerSettings.M3u8Settings: does not go with this Container"),
                format!("{at}.OutputSettings: a frame capture has no output settings"),
                format!("{at}.NameModifier: must be letters, digits, '_' or '-'"),
            ]
        );
    }

    #[test]
    fn values_the_transcoder_cannot_honour_are_all_named() {
        let mut document = job();
        let output = &mut document["Settings"]["OutputGroups"][0]["Outputs"][0];
        output["ContainerSettings"] = json!({ "Container": "RAW" });
        output["AudioDescriptions"][0]["AudioSourceName"] = "Audio Selector 2".into();
        let h264 = &mut output["VideoDescription"]["CodecSettings"]["H264Settings"];
        h264["GopSize"] = 0.into();
        h264["GopClosedCadence"] = 2.into();
        h264["GopSizeUnits"] = "FRAMES".into();
        let at = "Settings.OutputGroups[0].Outputs[0]";
        let h264_at = format!("{at}.VideoDescription.CodecSettings.H264Settings");
        assert_eq!(
            problems(&document),
            [
                format!(
                    "{at}.ContainerSettings.Container: `RAW` is not supported by the embedded transcoder here \
                     (supported: M3U8)"
                ),
                format!("{h264_at}.GopClosedCadence: 2: only 1 (every GOP closed) is supported"),
                format!("{h264_at}.GopSize: 0: must be above 0"),
                format!("{h264_at}.GopSizeUnits: a GOP in FRAMES needs a SPECIFIED frame rate"),
                format!(
                    "{at}.AudioDescriptions[0].AudioSourceName: `Audio Selector 2`: no such audio selector in the input"
                ),
            ]
        );
    }

    /// The job builder's CMAF document for one video track and its audio track.
    fn cmaf_job() -> Value {
        let mut document = job();
        let group = &mut document["Settings"]["OutputGroups"][0];
        group["OutputGroupSettings"] = json!({
            "Type": "CMAF_GROUP_SETTINGS",
            "CmafGroupSettings": {
                "Destination": "file:///media/v/index", "SegmentLength": 6, "FragmentLength": 6,
                "WriteHlsManifest": "ENABLED", "WriteDashManifest": "ENABLED"
            }
        });
        let audio = group["Outputs"][0]["AudioDescriptions"].clone();
        let video = &mut group["Outputs"][0];
        video.as_object_mut().unwrap().remove("AudioDescriptions");
        video["ContainerSettings"] = json!({
            "Container": "CMFC",
            "CmfcSettings": { "AudioRenditionSets": "audio-96k", "IFrameOnlyManifest": "INCLUDE" }
        });
        group["Outputs"].as_array_mut().unwrap().push(json!({
            "NameModifier": "_audio_96k",
            "ContainerSettings": {
                "Container": "CMFC",
                "CmfcSettings": { "AudioGroupId": "audio-96k", "AudioTrackType": "ALTERNATE_AUDIO_AUTO_SELECT_DEFAULT" }
            },
            "AudioDescriptions": audio
        }));
        document
    }

    #[test]
    fn a_cmaf_group_is_video_tracks_with_their_audio_group_and_audio_tracks() {
        let job = translate(&cmaf_job()).unwrap();
        assert_eq!(job.packaging, Packaging::Cmaf);
        let variant = &job.variants[0];
        assert_eq!(
            (
                variant.audio.as_ref(),
                variant.audio_group.as_deref(),
                variant.i_frame_playlist
            ),
            (None, Some("audio-96k"), true)
        );
        let audio = &job.audio_renditions[0];
        assert_eq!(
            (
                audio.modifier.as_str(),
                audio.group.as_str(),
                audio.default,
                audio.audio.bitrate
            ),
            ("_audio_96k", "audio-96k", true, 96_000)
        );
    }

    #[test]
    fn hevc_and_av1_tracks_are_read_with_their_encoders_scale_and_only_in_cmaf() {
        let mut document = cmaf_job();
        let outputs = &mut document["Settings"]["OutputGroups"][0]["Outputs"];
        let mut hevc = outputs[0].clone();
        hevc["NameModifier"] = "_360p-hevc".into();
        hevc["VideoDescription"]["CodecSettings"] = json!({
            "Codec": "H_265",
            "H265Settings": {
                "RateControlMode": "QVBR", "MaxBitrate": 1200000, "QvbrSettings": { "QvbrQualityLevel": 7 },
                "CodecProfile": "MAIN10_MAIN", "CodecLevel": "AUTO", "WriteMp4PackagingType": "HVC1",
                "GopSize": 2, "GopSizeUnits": "SECONDS",
                "FramerateControl": "SPECIFIED", "FramerateNumerator": 30, "FramerateDenominator": 1
            }
        });
        let mut av1 = outputs[0].clone();
        av1["NameModifier"] = "_360p-av1".into();
        av1["VideoDescription"]["CodecSettings"] = json!({
            "Codec": "AV1",
            "Av1Settings": {
                "RateControlMode": "QVBR", "MaxBitrate": 900000, "BitDepth": "BIT_8", "GopSize": 60,
                "FramerateControl": "SPECIFIED", "FramerateNumerator": 30, "FramerateDenominator": 1
            }
        });
        outputs.as_array_mut().unwrap().extend([hevc, av1]);
        let hls_job = translate(&document).unwrap();
        let read: Vec<_> = hls_job
            .variants
            .iter()
            .map(|v| (v.modifier.as_str(), v.encoding, v.rate, v.gop_seconds))
            .collect();
        assert_eq!(
            read[1..],
            [
                (
                    "_360p-hevc",
                    Encoding::Hevc { bit_depth: 10 },
                    Rate::ConstantQuality {
                        crf: qvbr::Encoder::X265.crf_for_level(7.0)
                    },
                    2.0
                ),
                (
                    "_360p-av1",
                    Encoding::Av1 { bit_depth: 8 },
                    // No level: QVBR's AUTO, on SVT-AV1's scale.
                    Rate::ConstantQuality {
                        crf: qvbr::Encoder::SvtAv1.crf_for_level(qvbr::DEFAULT_QUALITY_LEVEL)
                    },
                    2.0
                ),
            ]
        );

        // AV1 keyframes go by frame count: a rate kept from the source is refused.
        let codec = &mut document["Settings"]["OutputGroups"][0]["Outputs"][3]["VideoDescription"]["CodecSettings"];
        codec["Av1Settings"]["FramerateControl"] = "INITIALIZE_FROM_SOURCE".into();
        let av1_at = "Settings.OutputGroups[0].Outputs[3].VideoDescription.CodecSettings.Av1Settings";
        assert_eq!(
            problems(&document),
            [
                format!(
                    "{av1_at}.FramerateControl: AV1 needs a SPECIFIED frame rate here (its keyframes are placed by \
                     frame count)"
                ),
                format!("{av1_at}.FramerateControl: a GOP in FRAMES needs a SPECIFIED frame rate"),
            ]
        );

        // In an HLS (MPEG-TS) group, H.264 only.
        let mut document = job();
        document["Settings"]["OutputGroups"][0]["Outputs"][0]["VideoDescription"]["CodecSettings"] = json!({
            "Codec": "AV1", "Av1Settings": { "RateControlMode": "QVBR", "MaxBitrate": 900000 }
        });
        assert_eq!(
            problems(&document),
            [
                "Settings.OutputGroups[0].Outputs[0].VideoDescription.CodecSettings.Codec: `AV1` is not supported by \
                 the embedded transcoder here (supported: H_264; H_265 and AV1 in CMAF groups)",
                "Settings.OutputGroups[0].Outputs: the HLS group has no usable outputs",
            ]
        );
    }

    #[test]
    fn a_cmaf_group_the_transcoder_cannot_write_is_refused_by_path() {
        let mut document = cmaf_job();
        let group = &mut document["Settings"]["OutputGroups"][0];
        group["OutputGroupSettings"]["CmafGroupSettings"]["FragmentLength"] = 2.into();
        group["OutputGroupSettings"]["CmafGroupSettings"]["WriteHlsManifest"] = "DISABLED".into();
        let audio = group["Outputs"][1]["AudioDescriptions"].clone();
        group["Outputs"][0]["AudioDescriptions"] = audio;
        group["Outputs"][1]["ContainerSettings"]["CmfcSettings"]
            .as_object_mut()
            .unwrap()
            .remove("AudioGroupId");
        group["Outputs"][0]["VideoDescription"]["CodecSettings"] = json!({
            "Codec": "H_265",
            "H265Settings": { "RateControlMode": "VBR", "MaxBitrate": 800000 }
        });
        let at = "Settings.OutputGroups[0]";
        let settings_at = format!("{at}.OutputGroupSettings.CmafGroupSettings");
        assert_eq!(
            problems(&document),
            [
                format!(
                    "{settings_at}.FragmentLength: 2: only the segment length (6) is supported (one fragment per segment)"
                ),
                format!(
                    "{settings_at}.WriteHlsManifest: DISABLED: the embedded transcoder always writes the HLS playlists \
                     (players and the post-processor use them)"
                ),
                format!(
                    "{at}.Outputs[0].AudioDescriptions: a CMAF video track has no audio: give the audio its own output"
                ),
                format!(
                    "{at}.Outputs[0].VideoDescription.CodecSettings.H265Settings.Bitrate: is required with \
                     RateControlMode VBR"
                ),
                format!("{at}.Outputs[1].ContainerSettings.CmfcSettings.AudioGroupId: is required for an audio track"),
                format!("{at}.Outputs: the CMAF group has no usable video outputs"),
            ]
        );

        // A video track that plays with an audio group no audio track is in.
        let mut document = cmaf_job();
        document["Settings"]["OutputGroups"][0]["Outputs"][0]["ContainerSettings"]["CmfcSettings"]["AudioRenditionSets"] =
            "audio-64k".into();
        assert_eq!(
            problems(&document),
            [format!(
                "{at}.Outputs[0].ContainerSettings.CmfcSettings.AudioRenditionSets: `audio-64k`: no audio track of the \
                 group has that AudioGroupId"
            )]
        );
    }
}
