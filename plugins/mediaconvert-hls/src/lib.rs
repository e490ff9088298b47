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

use serde_json::{Value, json};
use vodpipe_plugin_sdk::config::{Problem, Reader};
use vodpipe_plugin_sdk::job_builder::{ConfigProblem, JobBuilder, JobContext, JobDocument, Plan, Rendition};

struct MediaConvertHls;

struct Settings {
    gop_seconds: f64,
    manifest_name: String,
    thumbnail_quality: f64,
}

fn settings(config: &str) -> Result<Settings, Vec<Problem>> {
    let mut reader = Reader::parse(config)?;
    let settings = Settings {
        gop_seconds: reader.number("gop_seconds", 2.0, 0.5, 10.0),
        manifest_name: reader.string("manifest_name", "index", &[]),
        thumbnail_quality: reader.number("thumbnail_quality", 80.0, 1.0, 100.0),
    };
    let name = &settings.manifest_name;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        reader.problem("manifest_name", format!("`{name}` must be letters, digits, '-' or '_'"));
    }
    reader.finish()?;
    Ok(settings)
}

impl JobBuilder for MediaConvertHls {
    fn validate_config(config: &str) -> Result<(), Vec<ConfigProblem>> {
        settings(config)
            .map(|_| ())
            .map_err(|p| p.into_iter().map(Into::into).collect())
    }

    fn build(plan: Plan, context: JobContext, config: &str) -> Result<JobDocument, String> {
        let settings = settings(config).map_err(|p| format!("invalid config: {}: {}", p[0].key, p[0].message))?;
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

        let mut input = json!({
            "FileInput": context.input_uri,
            "TimecodeSource": "ZEROBASED",
            "VideoSelector": { "Rotate": "AUTO" },
        });
        if has_audio {
            input["AudioSelectors"] = json!({ "Audio Selector 1": { "DefaultSelection": "DEFAULT" } });
        }

        let outputs: Vec<Value> = plan
            .renditions
            .iter()
            .map(|r| hls_output(r, &settings))
            .collect::<Result<_, _>>()?;
        let mut output_groups = vec![json!({
            "Name": "HLS",
            "OutputGroupSettings": {
                "Type": "HLS_GROUP_SETTINGS",
                "HlsGroupSettings": {
                    "Destination": format!("{prefix}{}", settings.manifest_name),
                    "SegmentLength": plan.segment_seconds,
                    "MinSegmentLength": 0,
                    "SegmentControl": "SEGMENTED_FILES",
                    "SegmentLengthControl": "GOP_MULTIPLE",
                    "OutputSelection": "MANIFESTS_AND_SEGMENTS",
                    "DirectoryStructure": "SINGLE_DIRECTORY",
                    "ManifestDurationFormat": "INTEGER",
                    "StreamInfResolution": "INCLUDE",
                    "CodecSpecification": "RFC_4281",
                    "ClientCache": "ENABLED",
                    "ProgramDateTime": "EXCLUDE",
                    "ManifestCompression": "NONE",
                },
            },
            "Outputs": outputs,
        })];

        let mut metadata = vec![
            ("video_id".to_owned(), context.video_id.clone()),
            ("master_playlist".to_owned(), format!("{}.m3u8", settings.manifest_name)),
        ];
        if let Some(thumb) = &plan.thumbnail {
            // Frame capture starts at 0s and repeats every `at_seconds`: the second capture
            // is the frame at `at_seconds`.
            let every = thumb.at_seconds.max(0.001);
            let (numerator, denominator) = rational(1.0 / every);
            output_groups.push(json!({
                "Name": "Thumbnails",
                "OutputGroupSettings": {
                    "Type": "FILE_GROUP_SETTINGS",
                    "FileGroupSettings": { "Destination": format!("{prefix}thumbnails/thumb") },
                },
                "Outputs": [{
                    "NameModifier": "_poster",
                    "ContainerSettings": { "Container": "RAW" },
                    "VideoDescription": {
                        "Width": thumb.width,
                        "Height": thumb.height,
                        "ScalingBehavior": "DEFAULT",
                        "CodecSettings": {
                            "Codec": "FRAME_CAPTURE",
                            "FrameCaptureSettings": {
                                "FramerateNumerator": numerator,
                                "FramerateDenominator": denominator,
                                "MaxCaptures": 2,
                                "Quality": settings.thumbnail_quality as u32,
                            },
                        },
                    },
                }],
            }));
            metadata.push(("thumbnail".to_owned(), "thumbnails/thumb_poster.0000001.jpg".to_owned()));
        }

        let mut create_job = json!({
            "Role": context.role,
            "UserMetadata": { "video_id": context.video_id },
            "StatusUpdateInterval": "SECONDS_10",
            "Settings": {
                "TimecodeConfig": { "Source": "ZEROBASED" },
                "Inputs": [input],
                "OutputGroups": output_groups,
            },
        });
        if let Some(queue) = &context.queue {
            create_job["Queue"] = json!(queue);
        }
        Ok(JobDocument {
            create_job: create_job.to_string(),
            metadata,
        })
    }
}

fn hls_output(r: &Rendition, settings: &Settings) -> Result<Value, String> {
    let (fr_num, fr_den) = rational(r.frame_rate_cap);
    let mut output = json!({
        "NameModifier": format!("_{}", r.name),
        "ContainerSettings": { "Container": "M3U8", "M3u8Settings": {} },
        "OutputSettings": { "HlsSettings": {} },
        "VideoDescription": {
            "Width": r.width,
            "Height": r.height,
            "ScalingBehavior": "DEFAULT",
            "CodecSettings": {
                "Codec": "H_264",
                "H264Settings": {
                    "RateControlMode": "VBR",
                    "Bitrate": r.video_bitrate,
                    "MaxBitrate": r.max_bitrate,
                    "CodecProfile": profile(&r.profile)?,
                    "CodecLevel": level(&r.level)?,
                    "GopSize": settings.gop_seconds,
                    "GopSizeUnits": "SECONDS",
                    "GopClosedCadence": 1,
                    // Scene-change keyframes would break alignment across renditions.
                    "SceneChangeDetect": "DISABLED",
                    "FramerateControl": "SPECIFIED",
                    "FramerateNumerator": fr_num,
                    "FramerateDenominator": fr_den,
                },
            },
        },
    });
    if let Some(audio) = r.audio_bitrate {
        output["AudioDescriptions"] = json!([{
            "AudioSourceName": "Audio Selector 1",
            "CodecSettings": {
                "Codec": "AAC",
                "AacSettings": {
                    "Bitrate": audio,
                    "CodingMode": "CODING_MODE_2_0",
                    "SampleRate": 48000,
                    "CodecProfile": "LC",
                    "RateControlMode": "CBR",
                },
            },
        }]);
    }
    Ok(output)
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
