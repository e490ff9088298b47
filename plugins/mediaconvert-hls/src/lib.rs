//! Job builder: turns a plan into an AWS Elemental MediaConvert `CreateJob` request with one
//! HLS output group (one H.264 + AAC output per rendition, told apart by `NameModifier`) and
//! one frame-capture output group for the thumbnail. The embedded ffmpeg transcoder runs the
//! same document.
//!
//! Config (`[job_builder.config]` of the bundle):
//! - `gop_seconds` (default 2): keyframe interval; the segment length must be a multiple of it
//!   so every segment of every rendition starts on an aligned keyframe;
//! - `manifest_name` (default "index"): master playlist is `<output prefix><manifest_name>.m3u8`;
//! - `thumbnail_quality` (default 80): JPEG quality 1..=100.

use serde::Serialize;
use vodpipe_plugin_sdk::job_builder::{Config, JobBuilder, JobContext, JobDocument, Plan, Reader, Rendition};

struct MediaConvertHls;

struct Settings {
    gop_seconds: f64,
    manifest_name: String,
    thumbnail_quality: f64,
}

impl Config for Settings {
    fn read(reader: &mut Reader) -> Self {
        let settings = Settings {
            gop_seconds: reader.number("gop_seconds", 2.0, 0.5, 10.0),
            manifest_name: reader.string("manifest_name", "index", &[]),
            thumbnail_quality: reader.number("thumbnail_quality", 80.0, 1.0, 100.0),
        };
        let name = &settings.manifest_name;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            reader.problem("manifest_name", format!("`{name}` must be letters, digits, '-' or '_'"));
        }
        settings
    }
}

impl JobBuilder for MediaConvertHls {
    type Config = Settings;

    fn build(plan: Plan, context: JobContext, settings: Settings) -> Result<JobDocument, String> {
        if plan.renditions.is_empty() {
            return Err("the plan has no renditions".into());
        }
        let segments = f64::from(plan.segment_seconds);
        if segments % settings.gop_seconds != 0.0 {
            return Err(format!(
                "segment length {segments}s is not a multiple of the {}s GOP: segments would not start on keyframes",
                settings.gop_seconds
            ));
        }
        let prefix = &context.output_prefix;
        if !prefix.ends_with('/') {
            return Err(format!("output prefix `{prefix}` must end with '/'"));
        }
        let has_audio = plan.renditions.iter().any(|r| r.audio_bitrate.is_some());

        let outputs = plan
            .renditions
            .iter()
            .map(|r| hls_output(r, &settings))
            .collect::<Result<_, _>>()?;
        let mut output_groups = vec![OutputGroup {
            name: "HLS",
            output_group_settings: OutputGroupSettings {
                kind: "HLS_GROUP_SETTINGS",
                hls_group_settings: Some(HlsGroupSettings {
                    destination: format!("{prefix}{}", settings.manifest_name),
                    segment_length: plan.segment_seconds,
                    min_segment_length: 0,
                    segment_control: "SEGMENTED_FILES",
                    segment_length_control: "GOP_MULTIPLE",
                    output_selection: "MANIFESTS_AND_SEGMENTS",
                    directory_structure: "SINGLE_DIRECTORY",
                    manifest_duration_format: "FLOATING_POINT",
                    stream_inf_resolution: "INCLUDE",
                    codec_specification: "RFC_4281",
                    client_cache: "ENABLED",
                    program_date_time: "EXCLUDE",
                    manifest_compression: "NONE",
                }),
                file_group_settings: None,
            },
            outputs,
        }];

        let mut metadata = vec![
            ("video_id".to_owned(), context.video_id.clone()),
            ("master_playlist".to_owned(), format!("{}.m3u8", settings.manifest_name)),
        ];
        if let Some(thumb) = &plan.thumbnail {
            let capture = FrameCapture::at(thumb.at_seconds);
            output_groups.push(OutputGroup {
                name: "Thumbnails",
                output_group_settings: OutputGroupSettings {
                    kind: "FILE_GROUP_SETTINGS",
                    hls_group_settings: None,
                    file_group_settings: Some(FileGroupSettings {
                        destination: format!("{prefix}thumbnails/thumb"),
                    }),
                },
                outputs: vec![Output {
                    name_modifier: "_poster".into(),
                    container_settings: ContainerSettings {
                        container: "RAW",
                        m3u8_settings: None,
                    },
                    output_settings: None,
                    video_description: VideoDescription {
                        width: thumb.width,
                        height: thumb.height,
                        scaling_behavior: "DEFAULT",
                        codec_settings: VideoCodecSettings {
                            codec: "FRAME_CAPTURE",
                            h264_settings: None,
                            frame_capture_settings: Some(FrameCaptureSettings {
                                framerate_numerator: capture.numerator,
                                framerate_denominator: capture.denominator,
                                max_captures: capture.index + 1,
                                quality: settings.thumbnail_quality as u32,
                            }),
                        },
                    },
                    audio_descriptions: None,
                }],
            });
            metadata.push((
                "thumbnail".to_owned(),
                format!("thumbnails/thumb_poster.{:07}.jpg", capture.index),
            ));
        }

        let create_job = CreateJob {
            role: &context.role,
            queue: context.queue.as_deref(),
            user_metadata: UserMetadata {
                video_id: &context.video_id,
            },
            status_update_interval: "SECONDS_10",
            settings: JobSettings {
                timecode_config: TimecodeConfig { source: "ZEROBASED" },
                inputs: [Input {
                    file_input: &context.input_uri,
                    timecode_source: "ZEROBASED",
                    video_selector: VideoSelector { rotate: "AUTO" },
                    audio_selectors: has_audio.then_some(AudioSelectors {
                        selector_1: AudioSelector {
                            default_selection: "DEFAULT",
                        },
                    }),
                }],
                output_groups,
            },
        };
        let mut json = Vec::with_capacity(8 << 10);
        serde_json::to_writer(&mut json, &create_job).map_err(|e| e.to_string())?;
        let create_job = String::from_utf8(json).map_err(|e| e.to_string())?;
        Ok(JobDocument { create_job, metadata })
    }
}

fn hls_output(r: &Rendition, settings: &Settings) -> Result<Output, String> {
    let (framerate_numerator, framerate_denominator) = rational(r.frame_rate_cap);
    Ok(Output {
        name_modifier: format!("_{}", r.name),
        container_settings: ContainerSettings {
            container: "M3U8",
            m3u8_settings: Some(Empty {}),
        },
        output_settings: Some(OutputSettings { hls_settings: Empty {} }),
        video_description: VideoDescription {
            width: r.width,
            height: r.height,
            scaling_behavior: "DEFAULT",
            codec_settings: VideoCodecSettings {
                codec: "H_264",
                h264_settings: Some(H264Settings {
                    rate_control_mode: "VBR",
                    bitrate: r.video_bitrate,
                    max_bitrate: r.max_bitrate,
                    codec_profile: profile(&r.profile)?,
                    codec_level: level(&r.level)?,
                    gop_size: settings.gop_seconds,
                    gop_size_units: "SECONDS",
                    gop_closed_cadence: 1,
                    // Scene-change keyframes would break alignment across renditions.
                    scene_change_detect: "DISABLED",
                    framerate_control: "SPECIFIED",
                    framerate_numerator,
                    framerate_denominator,
                }),
                frame_capture_settings: None,
            },
        },
        audio_descriptions: r.audio_bitrate.map(|bitrate| {
            [AudioDescription {
                audio_source_name: "Audio Selector 1",
                codec_settings: AudioCodecSettings {
                    codec: "AAC",
                    aac_settings: AacSettings {
                        bitrate,
                        coding_mode: "CODING_MODE_2_0",
                        sample_rate: 48000,
                        codec_profile: "LC",
                        rate_control_mode: "CBR",
                    },
                },
            }]
        }),
    })
}

fn profile(profile: &str) -> Result<&'static str, String> {
    Ok(match profile {
        "baseline" => "BASELINE",
        "main" => "MAIN",
        "high" => "HIGH",
        other => return Err(format!("unsupported H.264 profile `{other}`")),
    })
}

fn level(level: &str) -> Result<String, String> {
    const LEVELS: [&str; 16] = [
        "1", "1.1", "1.2", "1.3", "2", "2.1", "2.2", "3", "3.1", "3.2", "4", "4.1", "4.2", "5", "5.1", "5.2",
    ];
    if level == "auto" {
        return Ok("AUTO".into());
    }
    // "3.0" and "3" are the same level.
    let level = level.strip_suffix(".0").unwrap_or(level);
    if !LEVELS.contains(&level) {
        return Err(format!("unsupported H.264 level `{level}`"));
    }
    Ok(format!("LEVEL_{}", level.replace('.', "_")))
}

/// The frame capture that takes the thumbnail. MediaConvert captures the first frame, then one
/// every `denominator / numerator` seconds, and numbers the files from 0: the capture at
/// `at_seconds` is number 1 with that interval, or number 0 at 0 s.
#[derive(Debug, PartialEq)]
struct FrameCapture {
    numerator: u32,
    denominator: u32,
    /// The capture the metadata names; the job asks for no more than that one.
    index: u32,
}

impl FrameCapture {
    /// Times are whole milliseconds (a plan's time rounded), so the interval is exact and the
    /// embedded transcoder, which reads the time back from the interval, agrees to the frame.
    fn at(at_seconds: f64) -> Self {
        let milliseconds = (at_seconds * 1000.0).round() as u32;
        if milliseconds == 0 {
            return Self {
                numerator: 1,
                denominator: 1,
                index: 0,
            };
        }
        let divisor = gcd(1000, milliseconds);
        Self {
            numerator: 1000 / divisor,
            denominator: milliseconds / divisor,
            index: 1,
        }
    }
}

/// A frame rate as numerator/denominator, recognising the NTSC rates (29.97 = 30000/1001).
fn rational(rate: f64) -> (u32, u32) {
    let ntsc = rate * 1001.0 / 1000.0;
    if (ntsc - ntsc.round()).abs() < 0.005 && (rate - rate.round()).abs() > 0.005 {
        return (ntsc.round() as u32 * 1000, 1001);
    }
    if (rate - rate.round()).abs() < 0.0005 {
        return ((rate.round() as u32).max(1), 1);
    }
    let numerator = (rate * 1000.0).round() as u32;
    let divisor = gcd(numerator, 1000);
    (numerator / divisor, 1000 / divisor)
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a.max(1) } else { gcd(b, a % b) }
}

// The subset of MediaConvert's CreateJob request this builder writes, field for field
// (PascalCase, as the API spells it). Typed, so serialising allocates one string.

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CreateJob<'a> {
    role: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    queue: Option<&'a str>,
    user_metadata: UserMetadata<'a>,
    status_update_interval: &'static str,
    settings: JobSettings<'a>,
}

#[derive(Serialize)]
struct UserMetadata<'a> {
    video_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct JobSettings<'a> {
    timecode_config: TimecodeConfig,
    inputs: [Input<'a>; 1],
    output_groups: Vec<OutputGroup>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TimecodeConfig {
    source: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Input<'a> {
    file_input: &'a str,
    timecode_source: &'static str,
    video_selector: VideoSelector,
    #[serde(skip_serializing_if = "Option::is_none")]
    audio_selectors: Option<AudioSelectors>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct VideoSelector {
    rotate: &'static str,
}

#[derive(Serialize)]
struct AudioSelectors {
    #[serde(rename = "Audio Selector 1")]
    selector_1: AudioSelector,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AudioSelector {
    default_selection: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct OutputGroup {
    name: &'static str,
    output_group_settings: OutputGroupSettings,
    outputs: Vec<Output>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct OutputGroupSettings {
    #[serde(rename = "Type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    hls_group_settings: Option<HlsGroupSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file_group_settings: Option<FileGroupSettings>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct HlsGroupSettings {
    destination: String,
    segment_length: u32,
    min_segment_length: u32,
    segment_control: &'static str,
    segment_length_control: &'static str,
    output_selection: &'static str,
    directory_structure: &'static str,
    manifest_duration_format: &'static str,
    stream_inf_resolution: &'static str,
    codec_specification: &'static str,
    client_cache: &'static str,
    program_date_time: &'static str,
    manifest_compression: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct FileGroupSettings {
    destination: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Output {
    name_modifier: String,
    container_settings: ContainerSettings,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_settings: Option<OutputSettings>,
    video_description: VideoDescription,
    #[serde(skip_serializing_if = "Option::is_none")]
    audio_descriptions: Option<[AudioDescription; 1]>,
}

/// Serialises as `{}`.
#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ContainerSettings {
    container: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    m3u8_settings: Option<Empty>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct OutputSettings {
    hls_settings: Empty,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct VideoDescription {
    width: u32,
    height: u32,
    scaling_behavior: &'static str,
    codec_settings: VideoCodecSettings,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct VideoCodecSettings {
    codec: &'static str,
    #[serde(rename = "H264Settings", skip_serializing_if = "Option::is_none")]
    h264_settings: Option<H264Settings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    frame_capture_settings: Option<FrameCaptureSettings>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct H264Settings {
    rate_control_mode: &'static str,
    bitrate: u64,
    max_bitrate: u64,
    codec_profile: &'static str,
    codec_level: String,
    gop_size: f64,
    gop_size_units: &'static str,
    gop_closed_cadence: u32,
    scene_change_detect: &'static str,
    framerate_control: &'static str,
    framerate_numerator: u32,
    framerate_denominator: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct FrameCaptureSettings {
    framerate_numerator: u32,
    framerate_denominator: u32,
    max_captures: u32,
    quality: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AudioDescription {
    audio_source_name: &'static str,
    codec_settings: AudioCodecSettings,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AudioCodecSettings {
    codec: &'static str,
    aac_settings: AacSettings,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AacSettings {
    bitrate: u64,
    coding_mode: &'static str,
    sample_rate: u32,
    codec_profile: &'static str,
    rate_control_mode: &'static str,
}

vodpipe_plugin_sdk::export_job_builder!(MediaConvertHls);
