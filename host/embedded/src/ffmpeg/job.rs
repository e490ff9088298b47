//! Reading a job document: the `CreateJob` request a job builder wrote, key by key
//! ([`crate::job_reader`]), into an [`HlsJob`]; any setting the embedded transcoder cannot
//! honour refuses the job with the field's path.

use std::path::PathBuf;

use serde_json::Value;

use crate::job_reader::{Obj, Unsupported};

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
    pub bitrate: u64,
    pub max_bitrate: u64,
    pub profile: &'static str,
    /// `3.1`; none for AUTO.
    pub level: Option<String>,
    pub gop_seconds: f64,
    /// STRETCH_TO_OUTPUT; otherwise (DEFAULT) the picture keeps its aspect ratio and is
    /// letterboxed or pillarboxed to the output size.
    pub stretch: bool,
    /// Output frame rate as numerator/denominator; none keeps the source's.
    pub frame_rate: Option<(u64, u64)>,
    pub audio: Option<Audio>,
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

/// Reads a `CreateJob` request into an [`HlsJob`], or says every setting it cannot honour.
pub fn translate(create_job: &Value) -> Result<HlsJob, Vec<Unsupported>> {
    let mut p = Vec::new();
    let job = read_job(create_job, &mut p);
    match job {
        Some(job) if p.is_empty() => Ok(job),
        _ => Err(p),
    }
}

fn read_job(doc: &Value, p: &mut Vec<Unsupported>) -> Option<HlsJob> {
    let mut root = Obj::root(doc, p)?;
    for key in [
        "Role",
        "Queue",
        "UserMetadata",
        "ClientRequestToken",
        "StatusUpdateInterval",
        "Priority",
    ] {
        root.ignore(key); // where the job runs and who is told, not what is encoded
    }
    let mut settings = root.object("Settings", true, p);
    root.finish(p);
    let settings_obj = settings.as_mut()?;

    if let Some(mut timecode) = settings_obj.object("TimecodeConfig", false, p) {
        timecode.choice("Source", false, &["ZEROBASED"], p);
        timecode.finish(p);
    }
    let mut inputs = settings_obj.objects("Inputs", true, p);
    if inputs.len() != 1 {
        p.push(Unsupported {
            path: "Settings.Inputs".into(),
            message: "must hold exactly one input".into(),
        });
    }
    let mut input_path = None;
    let mut has_audio_selector = false;
    if let Some(input) = inputs.first_mut() {
        input_path = input
            .string("FileInput", true, p)
            .and_then(|uri| file_path(uri, &input.path("FileInput"), p));
        input.choice("TimecodeSource", false, &["ZEROBASED"], p);
        if let Some(mut selector) = input.object("VideoSelector", false, p) {
            selector.choice("Rotate", false, &["AUTO"], p);
            selector.finish(p);
        }
        for (_, mut selector) in input.entries("AudioSelectors", p) {
            has_audio_selector = true;
            selector.choice("DefaultSelection", false, &["DEFAULT"], p);
            selector.finish(p);
        }
    }
    for input in inputs {
        input.finish(p);
    }

    let mut hls = None;
    let mut thumbnail = None;
    for mut group in settings_obj.objects("OutputGroups", true, p) {
        group.ignore("Name");
        let Some(mut group_settings) = group.object("OutputGroupSettings", true, p) else {
            group.finish(p);
            continue;
        };
        let kind = group_settings.choice("Type", true, &["HLS_GROUP_SETTINGS", "FILE_GROUP_SETTINGS"], p);
        let outputs = group.objects("Outputs", true, p);
        match kind {
            Some("HLS_GROUP_SETTINGS") if hls.is_none() => {
                hls = read_hls_group(&mut group_settings, outputs, has_audio_selector, p);
            }
            Some("FILE_GROUP_SETTINGS") if thumbnail.is_none() => {
                thumbnail = read_frame_capture_group(&mut group_settings, outputs, p);
            }
            Some(_) => p.push(Unsupported {
                path: group.path("OutputGroupSettings.Type"),
                message: "only one HLS group and one frame-capture group are supported".into(),
            }),
            None => {}
        }
        group_settings.finish(p);
        group.finish(p);
    }
    if let Some(settings) = settings {
        settings.finish(p);
    }
    let Some((output_dir, manifest, segment_seconds, integer_durations, variants)) = hls else {
        if p.is_empty() {
            p.push(Unsupported {
                path: "Settings.OutputGroups".into(),
                message: "needs an HLS output group".into(),
            });
        }
        return None;
    };
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

fn read_hls_group(group: &mut Obj, outputs: Vec<Obj>, audio_selector: bool, p: &mut Vec<Unsupported>) -> Option<Hls> {
    let mut settings = group.object("HlsGroupSettings", true, p)?;
    let destination = settings.string("Destination", true, p);
    let destination = destination.and_then(|d| file_path(d, &settings.path("Destination"), p));
    let segment_seconds = settings.integer("SegmentLength", true, p);
    if segment_seconds == Some(0) {
        p.push(Unsupported {
            path: settings.path("SegmentLength"),
            message: "must be at least 1".into(),
        });
    }
    if let Some(min) = settings.integer("MinSegmentLength", false, p)
        && min != 0
    {
        p.push(Unsupported {
            path: settings.path("MinSegmentLength"),
            message: format!("{min}: only 0 is supported"),
        });
    }
    settings.choice("SegmentControl", false, &["SEGMENTED_FILES"], p);
    settings.choice("SegmentLengthControl", false, &["GOP_MULTIPLE", "EXACT"], p);
    settings.choice("OutputSelection", false, &["MANIFESTS_AND_SEGMENTS"], p);
    settings.choice("DirectoryStructure", false, &["SINGLE_DIRECTORY"], p);
    let integer_durations =
        settings.choice("ManifestDurationFormat", false, &["INTEGER", "FLOATING_POINT"], p) != Some("FLOATING_POINT");
    settings.choice("StreamInfResolution", false, &["INCLUDE"], p);
    settings.choice("CodecSpecification", false, &["RFC_4281"], p);
    settings.choice("ClientCache", false, &["ENABLED"], p);
    settings.choice("ProgramDateTime", false, &["EXCLUDE"], p);
    settings.choice("ManifestCompression", false, &["NONE"], p);
    settings.finish(p);

    let mut variants = Vec::new();
    for mut output in outputs {
        if let Some(variant) = read_hls_output(&mut output, audio_selector, p) {
            variants.push(variant);
        }
        output.finish(p);
    }
    if variants.is_empty() {
        p.push(Unsupported {
            path: group.path("Outputs"),
            message: "the HLS group has no usable outputs".into(),
        });
    }
    let destination = destination?;
    let manifest = destination.file_name()?.to_string_lossy().into_owned();
    let output_dir = destination.parent()?.to_owned();
    Some((
        output_dir,
        manifest,
        segment_seconds?.max(1),
        integer_durations,
        variants,
    ))
}

fn read_hls_output(output: &mut Obj, audio_selector: bool, p: &mut Vec<Unsupported>) -> Option<Variant> {
    let modifier = output.string("NameModifier", true, p).map(str::to_owned);
    if let Some(m) = &modifier
        && (m.is_empty() || !m.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    {
        p.push(Unsupported {
            path: output.path("NameModifier"),
            message: "must be letters, digits, '_' or '-'".into(),
        });
    }
    if let Some(mut container) = output.object("ContainerSettings", false, p) {
        container.choice("Container", true, &["M3U8"], p);
        if let Some(m3u8) = container.object("M3u8Settings", false, p) {
            m3u8.finish(p);
        }
        container.finish(p);
    }
    if let Some(mut settings) = output.object("OutputSettings", false, p) {
        if let Some(hls) = settings.object("HlsSettings", false, p) {
            hls.finish(p);
        }
        settings.finish(p);
    }
    let mut video = output.object("VideoDescription", true, p)?;
    let (width, height) = (video.integer("Width", true, p), video.integer("Height", true, p));
    let stretch =
        video.choice("ScalingBehavior", false, &["DEFAULT", "STRETCH_TO_OUTPUT"], p) == Some("STRETCH_TO_OUTPUT");
    let mut codec = video.object("CodecSettings", true, p)?;
    codec.choice("Codec", true, &["H_264"], p);
    let mut h264 = codec.object("H264Settings", true, p)?;
    h264.choice("RateControlMode", true, &["VBR"], p);
    let bitrate = h264.integer("Bitrate", true, p);
    let max_bitrate = h264.integer("MaxBitrate", false, p);
    let profile = h264
        .choice("CodecProfile", false, &["BASELINE", "MAIN", "HIGH"], p)
        .unwrap_or("MAIN");
    let level = h264
        .choice(
            "CodecLevel",
            false,
            &[
                "AUTO",
                "LEVEL_1",
                "LEVEL_1_1",
                "LEVEL_1_2",
                "LEVEL_1_3",
                "LEVEL_2",
                "LEVEL_2_1",
                "LEVEL_2_2",
                "LEVEL_3",
                "LEVEL_3_1",
                "LEVEL_3_2",
                "LEVEL_4",
                "LEVEL_4_1",
                "LEVEL_4_2",
                "LEVEL_5",
                "LEVEL_5_1",
                "LEVEL_5_2",
            ],
            p,
        )
        .filter(|l| *l != "AUTO")
        .map(|l| l.trim_start_matches("LEVEL_").replace('_', "."));
    let gop = h264.number("GopSize", false, p).unwrap_or(2.0);
    let units = h264
        .choice("GopSizeUnits", false, &["SECONDS", "FRAMES"], p)
        .unwrap_or("SECONDS");
    // x264 closes every GOP, which is cadence 1.
    if let Some(cadence) = h264.integer("GopClosedCadence", false, p)
        && cadence != 1
    {
        p.push(Unsupported {
            path: h264.path("GopClosedCadence"),
            message: format!("{cadence}: only 1 (every GOP closed) is supported"),
        });
    }
    h264.choice("SceneChangeDetect", false, &["DISABLED"], p);
    let control = h264.choice("FramerateControl", false, &["SPECIFIED", "INITIALIZE_FROM_SOURCE"], p);
    let numerator = h264.integer("FramerateNumerator", control == Some("SPECIFIED"), p);
    let denominator = h264.integer("FramerateDenominator", control == Some("SPECIFIED"), p);
    let frame_rate = match (control, numerator, denominator) {
        (Some("SPECIFIED"), Some(n), Some(d)) if n > 0 && d > 0 => Some((n, d)),
        _ => None,
    };
    let gop_seconds = match (units, frame_rate) {
        ("FRAMES", Some((n, d))) => gop * d as f64 / n as f64,
        ("FRAMES", None) => {
            p.push(Unsupported {
                path: h264.path("GopSizeUnits"),
                message: "FRAMES needs a SPECIFIED frame rate".into(),
            });
            gop / 30.0
        }
        _ => gop,
    };
    h264.finish(p);
    codec.finish(p);
    video.finish(p);

    let mut audio = None;
    let descriptions = output.objects("AudioDescriptions", false, p);
    if descriptions.len() > 1 {
        p.push(Unsupported {
            path: output.path("AudioDescriptions"),
            message: "at most one audio track per output".into(),
        });
    }
    for mut description in descriptions {
        description.choice("AudioSourceName", true, &["Audio Selector 1"], p);
        if !audio_selector {
            p.push(Unsupported {
                path: description.path("AudioSourceName"),
                message: "no such audio selector in the input".into(),
            });
        }
        if let Some(mut codec) = description.object("CodecSettings", true, p) {
            codec.choice("Codec", true, &["AAC"], p);
            if let Some(mut aac) = codec.object("AacSettings", true, p) {
                let bitrate = aac.integer("Bitrate", true, p);
                let mode = aac.choice("CodingMode", false, &["CODING_MODE_2_0", "CODING_MODE_1_0"], p);
                let sample_rate = aac.integer("SampleRate", false, p).unwrap_or(48_000);
                aac.choice("CodecProfile", false, &["LC"], p);
                aac.choice("RateControlMode", false, &["CBR"], p);
                aac.finish(p);
                let channels = if mode == Some("CODING_MODE_1_0") { 1 } else { 2 };
                audio = bitrate.map(|bitrate| Audio {
                    bitrate,
                    sample_rate,
                    channels,
                });
            }
            codec.finish(p);
        }
        description.finish(p);
    }

    let bitrate = bitrate?;
    Some(Variant {
        modifier: modifier?,
        width: width?,
        height: height?,
        bitrate,
        max_bitrate: max_bitrate.unwrap_or(bitrate),
        profile: match profile {
            "BASELINE" => "baseline",
            "HIGH" => "high",
            _ => "main",
        },
        level,
        gop_seconds,
        stretch,
        frame_rate,
        audio,
    })
}

fn read_frame_capture_group(group: &mut Obj, outputs: Vec<Obj>, p: &mut Vec<Unsupported>) -> Option<ThumbnailJob> {
    let mut settings = group.object("FileGroupSettings", true, p)?;
    let destination = settings.string("Destination", true, p);
    let destination = destination.and_then(|d| file_path(d, &settings.path("Destination"), p));
    settings.finish(p);
    if outputs.len() != 1 {
        p.push(Unsupported {
            path: group.path("Outputs"),
            message: "a frame-capture group needs exactly one output".into(),
        });
    }
    let mut thumbnail = None;
    for mut output in outputs {
        let modifier = output.string("NameModifier", false, p).unwrap_or_default().to_owned();
        if let Some(mut container) = output.object("ContainerSettings", false, p) {
            container.choice("Container", true, &["RAW"], p);
            container.finish(p);
        }
        if let Some(mut video) = output.object("VideoDescription", true, p) {
            let (width, height) = (video.integer("Width", true, p), video.integer("Height", true, p));
            video.choice("ScalingBehavior", false, &["DEFAULT", "STRETCH_TO_OUTPUT"], p);
            if let Some(mut codec) = video.object("CodecSettings", true, p) {
                codec.choice("Codec", true, &["FRAME_CAPTURE"], p);
                if let Some(mut capture) = codec.object("FrameCaptureSettings", true, p) {
                    let numerator = capture.integer("FramerateNumerator", true, p).filter(|n| *n > 0);
                    let denominator = capture.integer("FramerateDenominator", true, p);
                    let max_captures = capture.integer("MaxCaptures", false, p).unwrap_or(1).max(1);
                    let quality = capture.integer("Quality", false, p).unwrap_or(80);
                    capture.finish(p);
                    // Captures happen every denominator/numerator seconds from 0; vodpipe
                    // writes the second one (the first is often black), as the job builder
                    // promised in its metadata.
                    let index = (max_captures - 1).min(1);
                    if let (Some(dir), Some(n), Some(d), Some(w), Some(h)) =
                        (&destination, numerator, denominator, width, height)
                    {
                        let base = dir
                            .file_name()
                            .map(|b| b.to_string_lossy().into_owned())
                            .unwrap_or_default();
                        let path = dir.with_file_name(format!("{base}{modifier}.{index:07}.jpg"));
                        let at_seconds = index as f64 * d as f64 / n as f64;
                        thumbnail = Some(ThumbnailJob {
                            path,
                            width: w,
                            height: h,
                            at_seconds,
                            quality,
                        });
                    }
                }
                codec.finish(p);
            }
            video.finish(p);
        }
        output.finish(p);
    }
    thumbnail
}

/// `file:///abs/path` → `/abs/path`; anything else is refused.
fn file_path(uri: &str, path: &str, p: &mut Vec<Unsupported>) -> Option<PathBuf> {
    match uri.strip_prefix("file://") {
        Some(local) if local.starts_with('/') && !local.split('/').any(|part| part == "..") => {
            Some(PathBuf::from(local))
        }
        _ => {
            p.push(Unsupported {
                path: path.to_owned(),
                message: format!("`{uri}`: the embedded transcoder reads and writes absolute file:// URIs only"),
            });
            None
        }
    }
}
