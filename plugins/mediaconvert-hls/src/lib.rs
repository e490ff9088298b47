//! Job builder: turns a plan into an AWS Elemental MediaConvert `CreateJob` request with one
//! output group of the plan's packaging and one frame-capture output group for the thumbnail.
//! The embedded ffmpeg transcoder runs the same document; both read it as
//! `vodpipe-job-document` describes it.
//!
//! - `ts`: an HLS group, one H.264 + AAC output per rendition, told apart by `NameModifier`.
//! - `cmaf`: a CMAF group (HLS and DASH manifests), one video output per rendition (H.264,
//!   HEVC or AV1) with its I-frame playlist, and one audio output per distinct audio bitrate
//!   (`_audio_128k`), each its own audio group (`audio-128k`) that the renditions of that
//!   bitrate play with: the audio is stored once, not once per rendition.
//!
//! Config (`[job_builder.config]` of the bundle):
//! - `gop_seconds` (default 2): keyframe interval; the segment length must be a multiple of it
//!   so every segment of every rendition starts on an aligned keyframe;
//! - `manifest_name` (default "index"): master playlist is `<output prefix><manifest_name>.m3u8`;
//! - `thumbnail_quality` (default 80): JPEG quality 1..=100.

use std::collections::BTreeMap;

use vodpipe_job_document::h264::{CodecLevel, Profile};
use vodpipe_job_document::qvbr;
use vodpipe_job_document::{
    AacProfile, AacRateControlMode, AacSettings, AudioCodec, AudioCodecSettings, AudioDescription, AudioSelector,
    AudioTrackType, AutoLevel, Av1BitDepth, Av1RateControlMode, Av1Settings, ClientCache, CmafGroupSettings,
    CmfcSettings, CodecSpecification, CodingMode, Container, ContainerSettings, CreateJob, DefaultSelection,
    DirectoryStructure, FileGroupSettings, FrameCaptureSettings, FramerateControl, GopSizeUnits, H264QvbrSettings,
    H264Settings, H265Profile, H265Settings, HlsGroupSettings, HlsSettings, IFrameOnlyManifest, Input, JobSettings,
    LanguageCodeControl, M3u8Settings, ManifestCompression, ManifestDurationFormat, Mp4PackagingType, MpdProfile,
    Output, OutputGroup, OutputGroupSettings, OutputGroupType, OutputSelection, OutputSettings, ProgramDateTime,
    RateControlMode, Rotate, ScalingBehavior, SceneChangeDetect, SegmentControl, SegmentLengthControl,
    StreamInfResolution, Switch, TimecodeConfig, TimecodeSource, VideoCodec, VideoCodecSettings, VideoDescription,
    VideoSelector,
};
use vodpipe_plugin_sdk::job_builder::{
    BitDepth, Config, JobBuilder, JobContext, JobDocument, Packaging, Plan, RateControl, Reader, Rendition,
    VideoCodec as PlannedCodec,
};

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
        let destination = format!("{prefix}{}", settings.manifest_name);
        let mut output_groups = vec![match plan.packaging {
            Packaging::Ts => hls_group(&plan, destination, &settings)?,
            Packaging::Cmaf => cmaf_group(&plan, destination, &settings)?,
        }];

        let mut metadata = vec![
            ("video_id".to_owned(), context.video_id.clone()),
            ("master_playlist".to_owned(), format!("{}.m3u8", settings.manifest_name)),
        ];
        if plan.packaging == Packaging::Cmaf {
            metadata.push(("dash_manifest".to_owned(), format!("{}.mpd", settings.manifest_name)));
        }
        if let Some(thumb) = &plan.thumbnail {
            let capture = FrameCapture::at(thumb.at_seconds);
            output_groups.push(OutputGroup {
                name: Some("Thumbnails".into()),
                output_group_settings: OutputGroupSettings {
                    kind: OutputGroupType::FileGroupSettings,
                    hls_group_settings: None,
                    cmaf_group_settings: None,
                    file_group_settings: Some(FileGroupSettings {
                        destination: format!("{prefix}thumbnails/thumb"),
                    }),
                },
                outputs: vec![Output {
                    name_modifier: Some("_poster".into()),
                    container_settings: Some(ContainerSettings {
                        container: Container::Raw,
                        m3u8_settings: None,
                        cmfc_settings: None,
                    }),
                    output_settings: None,
                    video_description: Some(VideoDescription {
                        width: thumb.width,
                        height: thumb.height,
                        scaling_behavior: Some(ScalingBehavior::Default),
                        codec_settings: VideoCodecSettings {
                            codec: VideoCodec::FrameCapture,
                            h264_settings: None,
                            h265_settings: None,
                            av1_settings: None,
                            frame_capture_settings: Some(FrameCaptureSettings {
                                framerate_numerator: capture.numerator,
                                framerate_denominator: capture.denominator,
                                max_captures: Some(capture.index + 1),
                                quality: Some(settings.thumbnail_quality as u32),
                            }),
                        },
                    }),
                    audio_descriptions: Vec::new(),
                }],
            });
            metadata.push((
                "thumbnail".to_owned(),
                format!("thumbnails/thumb_poster.{:07}.jpg", capture.index),
            ));
        }

        let create_job = CreateJob {
            role: context.role,
            queue: context.queue,
            user_metadata: BTreeMap::from([("video_id".to_owned(), context.video_id)]),
            client_request_token: None,
            status_update_interval: Some("SECONDS_10".into()),
            priority: None,
            settings: JobSettings {
                timecode_config: Some(TimecodeConfig {
                    source: Some(TimecodeSource::Zerobased),
                }),
                inputs: vec![Input {
                    file_input: context.input_uri,
                    timecode_source: Some(TimecodeSource::Zerobased),
                    video_selector: Some(VideoSelector {
                        rotate: Some(Rotate::Auto),
                    }),
                    audio_selectors: if has_audio {
                        BTreeMap::from([(
                            AUDIO_SELECTOR.to_owned(),
                            AudioSelector {
                                default_selection: Some(DefaultSelection::Default),
                            },
                        )])
                    } else {
                        BTreeMap::new()
                    },
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

const AUDIO_SELECTOR: &str = "Audio Selector 1";

/// A quality level in MediaConvert's two fields: the whole level, and the thirds above it as
/// the fine tune (0 to 1, left out when 0).
fn qvbr_settings(level: f64) -> H264QvbrSettings {
    let level = qvbr::round_to_thirds(level.clamp(1.0, 10.0));
    let whole = level.floor();
    let fine_tune = ((level - whole) * 1000.0).round() / 1000.0;
    H264QvbrSettings {
        qvbr_quality_level: Some(whole as u32),
        qvbr_quality_level_fine_tune: (fine_tune > 0.0).then_some(fine_tune),
    }
}

/// The MPEG-TS HLS group: each rendition's output carries its own audio.
fn hls_group(plan: &Plan, destination: String, settings: &Settings) -> Result<OutputGroup, String> {
    let outputs = plan
        .renditions
        .iter()
        .map(|r| {
            if !matches!(r.codec, PlannedCodec::H264(_)) {
                return Err(format!(
                    "rendition `{}`: {} needs packaging `cmaf` (MPEG-TS carries H.264 here)",
                    r.name,
                    r.codec.name()
                ));
            }
            Ok(Output {
                name_modifier: Some(format!("_{}", r.name)),
                container_settings: Some(ContainerSettings {
                    container: Container::M3u8,
                    m3u8_settings: Some(M3u8Settings {}),
                    cmfc_settings: None,
                }),
                output_settings: Some(OutputSettings {
                    hls_settings: Some(HlsSettings {
                        i_frame_only_manifest: Some(IFrameOnlyManifest::Include),
                    }),
                }),
                video_description: Some(video_description(r, settings)?),
                audio_descriptions: r.audio_bitrate.map(aac).into_iter().collect(),
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(OutputGroup {
        name: Some("HLS".into()),
        output_group_settings: OutputGroupSettings {
            kind: OutputGroupType::HlsGroupSettings,
            hls_group_settings: Some(HlsGroupSettings {
                destination,
                segment_length: plan.segment_seconds,
                min_segment_length: Some(0),
                segment_control: Some(SegmentControl::SegmentedFiles),
                segment_length_control: Some(SegmentLengthControl::GopMultiple),
                output_selection: Some(OutputSelection::ManifestsAndSegments),
                directory_structure: Some(DirectoryStructure::SingleDirectory),
                manifest_duration_format: Some(ManifestDurationFormat::FloatingPoint),
                stream_inf_resolution: Some(StreamInfResolution::Include),
                codec_specification: Some(CodecSpecification::Rfc4281),
                client_cache: Some(ClientCache::Enabled),
                program_date_time: Some(ProgramDateTime::Exclude),
                manifest_compression: Some(ManifestCompression::None),
            }),
            cmaf_group_settings: None,
            file_group_settings: None,
        },
        outputs,
    })
}

/// The audio group of a bitrate: `audio-128k`.
fn audio_group(bitrate: u64) -> String {
    format!("audio-{}k", bitrate / 1000)
}

/// The CMAF group: a video track per rendition with its I-frame playlist, then an audio track
/// per distinct audio bitrate (highest first), each the one rendition of its audio group.
fn cmaf_group(plan: &Plan, destination: String, settings: &Settings) -> Result<OutputGroup, String> {
    let mut outputs = plan
        .renditions
        .iter()
        .map(|r| {
            Ok(Output {
                name_modifier: Some(format!("_{}", r.name)),
                container_settings: Some(ContainerSettings {
                    container: Container::Cmfc,
                    m3u8_settings: None,
                    cmfc_settings: Some(CmfcSettings {
                        audio_rendition_sets: r.audio_bitrate.map(audio_group),
                        i_frame_only_manifest: Some(IFrameOnlyManifest::Include),
                        ..CmfcSettings::default()
                    }),
                }),
                output_settings: None,
                video_description: Some(video_description(r, settings)?),
                audio_descriptions: Vec::new(),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let mut audio_bitrates: Vec<u64> = plan.renditions.iter().filter_map(|r| r.audio_bitrate).collect();
    audio_bitrates.sort_unstable_by(|a, b| b.cmp(a));
    audio_bitrates.dedup();
    outputs.extend(audio_bitrates.into_iter().map(|bitrate| Output {
        // Rendition names have no '_', so this never names a video track.
        name_modifier: Some(format!("_audio_{}k", bitrate / 1000)),
        container_settings: Some(ContainerSettings {
            container: Container::Cmfc,
            m3u8_settings: None,
            cmfc_settings: Some(CmfcSettings {
                audio_group_id: Some(audio_group(bitrate)),
                audio_track_type: Some(AudioTrackType::AlternateAudioAutoSelectDefault),
                ..CmfcSettings::default()
            }),
        }),
        output_settings: None,
        video_description: None,
        audio_descriptions: vec![aac(bitrate)],
    }));
    Ok(OutputGroup {
        name: Some("CMAF".into()),
        output_group_settings: OutputGroupSettings {
            kind: OutputGroupType::CmafGroupSettings,
            hls_group_settings: None,
            cmaf_group_settings: Some(CmafGroupSettings {
                destination,
                segment_length: plan.segment_seconds,
                // One fragment per segment, as the embedded transcoder writes them.
                fragment_length: Some(plan.segment_seconds),
                segment_control: Some(SegmentControl::SegmentedFiles),
                segment_length_control: Some(SegmentLengthControl::GopMultiple),
                write_hls_manifest: Some(Switch::Enabled),
                write_dash_manifest: Some(Switch::Enabled),
                write_segment_timeline_in_representation: Some(Switch::Enabled),
                mpd_profile: Some(MpdProfile::MainProfile),
                manifest_duration_format: Some(ManifestDurationFormat::FloatingPoint),
                stream_inf_resolution: Some(StreamInfResolution::Include),
                codec_specification: Some(CodecSpecification::Rfc6381),
                client_cache: Some(ClientCache::Enabled),
                manifest_compression: Some(ManifestCompression::None),
            }),
            file_group_settings: None,
        },
        outputs,
    })
}

fn aac(bitrate: u64) -> AudioDescription {
    AudioDescription {
        audio_source_name: AUDIO_SELECTOR.to_owned(),
        language_code_control: Some(LanguageCodeControl::FollowInput),
        codec_settings: AudioCodecSettings {
            codec: AudioCodec::Aac,
            aac_settings: AacSettings {
                bitrate,
                coding_mode: Some(CodingMode::Stereo),
                sample_rate: Some(48_000),
                codec_profile: Some(AacProfile::Lc),
                rate_control_mode: Some(AacRateControlMode::Cbr),
            },
        },
    }
}

/// A rendition's picture: its size and its codec's settings, keyframes every `gop_seconds`
/// at the rendition's frame rate in every codec, so segments align across the ladder.
fn video_description(r: &Rendition, settings: &Settings) -> Result<VideoDescription, String> {
    let (framerate_numerator, framerate_denominator) = rational(r.frame_rate_cap);
    let (rate_control_mode, bitrate, qvbr) = match &r.rate {
        RateControl::Vbr(vbr) => (RateControlMode::Vbr, Some(vbr.bitrate), None),
        RateControl::Qvbr(qvbr) => (RateControlMode::Qvbr, None, Some(qvbr_settings(qvbr.quality_level))),
    };
    let max_bitrate = r.rate.max_bitrate();
    let (codec, mut codec_settings) = (
        r.codec,
        VideoCodecSettings {
            codec: VideoCodec::H264,
            h264_settings: None,
            h265_settings: None,
            av1_settings: None,
            frame_capture_settings: None,
        },
    );
    match codec {
        PlannedCodec::H264(h264) => {
            let (profile, level) = (h264.profile.name(), h264.level.name());
            let codec_profile =
                Profile::parse(profile).ok_or_else(|| format!("unsupported H.264 profile `{profile}`"))?;
            let codec_level =
                CodecLevel::from_plan(level).ok_or_else(|| format!("unsupported H.264 level `{level}`"))?;
            codec_settings.h264_settings = Some(H264Settings {
                rate_control_mode,
                bitrate,
                max_bitrate: Some(max_bitrate),
                qvbr_settings: qvbr,
                codec_profile: Some(codec_profile),
                codec_level: Some(codec_level),
                gop_size: Some(settings.gop_seconds),
                gop_size_units: Some(GopSizeUnits::Seconds),
                gop_closed_cadence: Some(1),
                // Scene-change keyframes would break alignment across renditions.
                scene_change_detect: Some(SceneChangeDetect::Disabled),
                framerate_control: Some(FramerateControl::Specified),
                framerate_numerator: Some(framerate_numerator),
                framerate_denominator: Some(framerate_denominator),
            });
        }
        PlannedCodec::Hevc(depth) => {
            codec_settings.codec = VideoCodec::H265;
            codec_settings.h265_settings = Some(H265Settings {
                rate_control_mode,
                bitrate,
                max_bitrate: Some(max_bitrate),
                qvbr_settings: qvbr,
                codec_profile: Some(match depth {
                    BitDepth::Eight => H265Profile::MainMain,
                    BitDepth::Ten => H265Profile::Main10Main,
                }),
                codec_level: Some(AutoLevel::Auto),
                gop_size: Some(settings.gop_seconds),
                gop_size_units: Some(GopSizeUnits::Seconds),
                gop_closed_cadence: Some(1),
                scene_change_detect: Some(SceneChangeDetect::Disabled),
                framerate_control: Some(FramerateControl::Specified),
                framerate_numerator: Some(framerate_numerator),
                framerate_denominator: Some(framerate_denominator),
                write_mp4_packaging_type: Some(Mp4PackagingType::Hvc1),
            });
        }
        PlannedCodec::Av1(depth) => {
            codec_settings.codec = VideoCodec::Av1;
            // MediaConvert encodes AV1 in QVBR only: a VBR rung is its peak at MediaConvert's
            // own level (AUTO).
            codec_settings.av1_settings = Some(Av1Settings {
                rate_control_mode: Av1RateControlMode::Qvbr,
                max_bitrate,
                qvbr_settings: qvbr,
                bit_depth: Some(match depth {
                    BitDepth::Eight => Av1BitDepth::Bit8,
                    BitDepth::Ten => Av1BitDepth::Bit10,
                }),
                // AV1's GOP is in frames: the GOP's seconds at the rendition's rate.
                gop_size: Some(
                    (settings.gop_seconds * f64::from(framerate_numerator) / f64::from(framerate_denominator)).round(),
                ),
                framerate_control: Some(FramerateControl::Specified),
                framerate_numerator: Some(framerate_numerator),
                framerate_denominator: Some(framerate_denominator),
            });
        }
    }
    Ok(VideoDescription {
        width: r.width,
        height: r.height,
        scaling_behavior: Some(ScalingBehavior::Default),
        codec_settings,
    })
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

vodpipe_plugin_sdk::export_job_builder!(MediaConvertHls);
