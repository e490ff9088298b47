//! Reading a job document: the `CreateJob` request a job builder wrote, read strictly as
//! `vodpipe-job-document` describes it (every unknown key, or the first value outside what
//! vodpipe speaks, by its path), then held to what the embedded transcoder can do (every
//! setting it cannot honour, by its path) into an [`HlsJob`].

use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value;
pub use vodpipe_job_document::Problem;
use vodpipe_job_document::h264::{CodecLevel, Level, Profile};
use vodpipe_job_document::qvbr;
use vodpipe_job_document::{
    CodingMode, Container, CreateJob, FileGroupSettings, FramerateControl, GopSizeUnits, H264QvbrSettings,
    H264Settings, HlsGroupSettings, ManifestDurationFormat, Output, OutputGroupType, RateControlMode, ScalingBehavior,
    VideoCodec,
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
    pub thumbnail: Option<ThumbnailJob>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// `_720p`: files are `<manifest><modifier>.m3u8` and `<manifest><modifier>_00001.ts`.
    pub modifier: String,
    pub width: u64,
    pub height: u64,
    pub rate: Rate,
    /// Peak bit/s: x264's VBV maximum.
    pub max_bitrate: u64,
    pub profile: Profile,
    /// None for AUTO: x264 chooses.
    pub level: Option<Level>,
    pub gop_seconds: f64,
    /// STRETCH_TO_OUTPUT; otherwise (DEFAULT) the picture keeps its aspect ratio and is
    /// letterboxed or pillarboxed to the output size.
    pub stretch: bool,
    /// Output frame rate as numerator/denominator; none keeps the source's.
    pub frame_rate: Option<(u64, u64)>,
    pub audio: Option<Audio>,
}

/// How a rendition spends its bits, under its peak.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    /// `VBR`: this average, in bit/s.
    Average(u64),
    /// `QVBR`: x264's constant rate factor for the quality level ([`qvbr::crf_for_level`]).
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

    let (mut hls, mut thumbnail) = (None, None);
    let (mut seen_hls, mut seen_file) = (false, false);
    for (g, group) in settings.output_groups.iter().enumerate() {
        let at = format!("Settings.OutputGroups[{g}]");
        let group_settings = &group.output_group_settings;
        let settings_at = format!("{at}.OutputGroupSettings");
        let seen = match group_settings.kind {
            OutputGroupType::HlsGroupSettings => &mut seen_hls,
            OutputGroupType::FileGroupSettings => &mut seen_file,
        };
        if std::mem::replace(seen, true) {
            p.push(Problem::new(
                format!("{settings_at}.Type"),
                "only one HLS group and one frame-capture group are supported",
            ));
            continue;
        }
        match group_settings.kind {
            OutputGroupType::HlsGroupSettings => {
                not_with(
                    &group_settings.file_group_settings,
                    &settings_at,
                    "FileGroupSettings",
                    "Type",
                    p,
                );
                match &group_settings.hls_group_settings {
                    Some(hls_settings) => {
                        hls = read_hls_group(&at, hls_settings, &group.outputs, &audio_selectors, p);
                    }
                    None => p.push(Problem::new(format!("{settings_at}.HlsGroupSettings"), "is required")),
                }
            }
            OutputGroupType::FileGroupSettings => {
                not_with(
                    &group_settings.hls_group_settings,
                    &settings_at,
                    "HlsGroupSettings",
                    "Type",
                    p,
                );
                match &group_settings.file_group_settings {
                    Some(file_settings) => thumbnail = read_frame_capture_group(&at, file_settings, &group.outputs, p),
                    None => p.push(Problem::new(format!("{settings_at}.FileGroupSettings"), "is required")),
                }
            }
        }
    }
    if !seen_hls {
        p.push(Problem::new("Settings.OutputGroups", "needs an HLS output group"));
    }
    let (output_dir, manifest, segment_seconds, integer_durations, variants) = hls?;
    Some(HlsJob {
        input: input_path?,
        output_dir,
        manifest,
        segment_seconds,
        integer_durations,
        variants,
        thumbnail,
    })
}

type Hls = (PathBuf, String, u64, bool, Vec<Variant>);

fn read_hls_group(
    at: &str,
    settings: &HlsGroupSettings,
    outputs: &[Output],
    audio_selectors: &[&str],
    p: &mut Vec<Problem>,
) -> Option<Hls> {
    let settings_at = format!("{at}.OutputGroupSettings.HlsGroupSettings");
    let destination = file_path(&settings.destination, &format!("{settings_at}.Destination"), p);
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
        .filter_map(|(o, output)| read_hls_output(&format!("{at}.Outputs[{o}]"), output, audio_selectors, p))
        .collect();
    if variants.is_empty() {
        p.push(Problem::new(
            format!("{at}.Outputs"),
            "the HLS group has no usable outputs",
        ));
    }
    let destination = destination?;
    let (Some(manifest), Some(output_dir)) = (destination.file_name(), destination.parent()) else {
        p.push(Problem::new(
            format!("{settings_at}.Destination"),
            "must name the master playlist's file, e.g. `file:///media/<id>/index`",
        ));
        return None;
    };
    let (manifest, output_dir) = (manifest.to_string_lossy().into_owned(), output_dir.to_owned());
    Some((
        output_dir,
        manifest,
        u64::from(settings.segment_length.max(1)),
        integer_durations,
        variants,
    ))
}

fn read_hls_output(at: &str, output: &Output, audio_selectors: &[&str], p: &mut Vec<Problem>) -> Option<Variant> {
    let modifier = output.name_modifier.clone();
    match &modifier {
        None => p.push(Problem::new(format!("{at}.NameModifier"), "is required")),
        Some(m) if m.is_empty() || !plain_name(m) => {
            p.push(Problem::new(
                format!("{at}.NameModifier"),
                "must be letters, digits, '_' or '-'",
            ));
        }
        Some(_) => {}
    }
    if let Some(container) = &output.container_settings
        && container.container != Container::M3u8
    {
        p.push(unsupported(
            format!("{at}.ContainerSettings.Container"),
            &container.container,
            "M3U8",
        ));
    }
    let video = &output.video_description;
    let video_at = format!("{at}.VideoDescription");
    let stretch = video.scaling_behavior == Some(ScalingBehavior::StretchToOutput);
    let codec = &video.codec_settings;
    let codec_at = format!("{video_at}.CodecSettings");
    if codec.codec != VideoCodec::H264 {
        p.push(unsupported(format!("{codec_at}.Codec"), &codec.codec, "H_264"));
    }
    not_with(
        &codec.frame_capture_settings,
        &codec_at,
        "FrameCaptureSettings",
        "Codec",
        p,
    );
    let Some(h264) = &codec.h264_settings else {
        p.push(Problem::new(format!("{codec_at}.H264Settings"), "is required"));
        return None;
    };
    let h264_at = format!("{codec_at}.H264Settings");
    let rate = read_rate(h264, &h264_at, p);
    // x264 closes every GOP, which is cadence 1.
    if let Some(cadence) = h264.gop_closed_cadence.filter(|cadence| *cadence != 1) {
        p.push(Problem::new(
            format!("{h264_at}.GopClosedCadence"),
            format!("{cadence}: only 1 (every GOP closed) is supported"),
        ));
    }
    // The frame rate is used only when both parts are above 0 (else the source's is kept).
    let frame_rate = match h264.framerate_control {
        Some(FramerateControl::Specified) => {
            let mut part = |value: Option<u32>, key: &str| {
                if value.is_none() {
                    p.push(Problem::new(
                        format!("{h264_at}.{key}"),
                        "is required with FramerateControl SPECIFIED",
                    ));
                }
                value.filter(|n| *n > 0).map(u64::from)
            };
            let numerator = part(h264.framerate_numerator, "FramerateNumerator");
            let denominator = part(h264.framerate_denominator, "FramerateDenominator");
            numerator.zip(denominator)
        }
        Some(FramerateControl::InitializeFromSource) | None => None,
    };
    let gop = h264.gop_size.unwrap_or(2.0);
    if !(gop > 0.0 && gop.is_finite()) {
        p.push(Problem::new(
            format!("{h264_at}.GopSize"),
            format!("{gop}: must be above 0"),
        ));
    }
    let gop_seconds = match (h264.gop_size_units.unwrap_or(GopSizeUnits::Seconds), frame_rate) {
        (GopSizeUnits::Frames, Some((n, d))) => gop * d as f64 / n as f64,
        (GopSizeUnits::Frames, None) => {
            p.push(Problem::new(
                format!("{h264_at}.GopSizeUnits"),
                "FRAMES needs a SPECIFIED frame rate",
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
        let source = &description.audio_source_name;
        if !audio_selectors.contains(&source.as_str()) {
            p.push(Problem::new(
                format!("{at}.AudioDescriptions[{a}].AudioSourceName"),
                format!("`{source}`: no such audio selector in the input"),
            ));
        }
        let aac = &description.codec_settings.aac_settings;
        audio = Some(Audio {
            bitrate: aac.bitrate,
            sample_rate: u64::from(aac.sample_rate.unwrap_or(48_000)),
            channels: aac.coding_mode.unwrap_or(CodingMode::Stereo).channels(),
        });
    }

    Some(Variant {
        modifier: modifier?,
        width: u64::from(video.width),
        height: u64::from(video.height),
        rate: rate?,
        max_bitrate: match rate? {
            Rate::Average(bitrate) => h264.max_bitrate.unwrap_or(bitrate),
            Rate::ConstantQuality { .. } => h264.max_bitrate?,
        },
        profile: h264.codec_profile.unwrap_or(Profile::Main),
        level: match h264.codec_level {
            Some(CodecLevel::Level(level)) => Some(level),
            Some(CodecLevel::Auto) | None => None,
        },
        gop_seconds,
        stretch,
        frame_rate,
        audio,
    })
}

/// `VBR` needs `Bitrate`; `QVBR` needs `MaxBitrate` and takes its quality level (AUTO: 7,
/// which MediaLive recommends for PCs and tablets and sits mid-way in MediaConvert's
/// broadcast range of 6 to 9) as a constant rate factor.
fn read_rate(h264: &H264Settings, at: &str, p: &mut Vec<Problem>) -> Option<Rate> {
    let settings_apart = |p: &mut Vec<Problem>, key: &str, mode: &str| {
        p.push(Problem::new(
            format!("{at}.{key}"),
            format!("is not used with RateControlMode {mode}"),
        ));
    };
    match h264.rate_control_mode {
        RateControlMode::Vbr => {
            if h264.qvbr_settings.is_some() {
                settings_apart(p, "QvbrSettings", "VBR");
            }
            match h264.bitrate {
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
            if h264.bitrate.is_some() {
                settings_apart(p, "Bitrate", "QVBR");
            }
            if h264.max_bitrate.is_none() {
                p.push(Problem::new(
                    format!("{at}.MaxBitrate"),
                    "is required with RateControlMode QVBR",
                ));
            }
            let level = h264.qvbr_settings.as_ref().and_then(H264QvbrSettings::quality_level);
            match level.unwrap_or(qvbr::DEFAULT_QUALITY_LEVEL) {
                level if (1.0..=10.0).contains(&level) => Some(Rate::ConstantQuality {
                    crf: qvbr::crf_for_level(level),
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
    let video = &output.video_description;
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
            (variant.max_bitrate, variant.profile, variant.level),
            (800_000, Profile::Main, None)
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
                "Settings.OutputGroups[2].OutputGroupSettings.Type: only one HLS group and one frame-capture group are supported",
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
                format!("{h264_at}.GopSizeUnits: FRAMES needs a SPECIFIED frame rate"),
                format!(
                    "{at}.AudioDescriptions[0].AudioSourceName: `Audio Selector 2`: no such audio selector in the input"
                ),
            ]
        );
    }
}
