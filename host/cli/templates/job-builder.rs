//! PLUGIN_NAME: a vodpipe job builder. It turns a plan into an AWS Elemental MediaConvert
//! `CreateJob` request with one HLS output group: one H.264 output per rendition (named
//! `_<rendition name>`, as the host's post-processors expect) with AAC audio when the
//! rendition has audio, and the master playlist `index.m3u8`. The embedded ffmpeg
//! transcoder runs the same document (docs/embedded.md lists what it supports). It writes
//! MPEG-TS and H.264 only: a preset with `packaging = "cmaf"` or HEVC/AV1 rungs is refused
//! (the built-in `mediaconvert-hls` writes those).
//!
//! Config (the `[job_builder.config]` table of `bundle.toml`):
//! - `gop_seconds` (default 2, 0.5..=10): keyframe interval; segments must be a multiple of it.

use vodpipe_plugin_sdk::job_builder::{
    Config, H264Format, JobBuilder, JobContext, JobDocument, Packaging, Plan, RateControl, Reader, Rendition,
    VideoCodec,
};
use vodpipe_plugin_sdk::serde_json::{Value, json};

struct Settings {
    gop_seconds: f64,
}

impl Config for Settings {
    fn read(reader: &mut Reader) -> Self {
        Settings {
            gop_seconds: reader.number("gop_seconds", 2.0, 0.5, 10.0),
        }
    }
}

struct PluginName;

impl JobBuilder for PluginName {
    type Config = Settings;

    fn build(plan: Plan, context: JobContext, settings: Settings) -> Result<JobDocument, String> {
        if f64::from(plan.segment_seconds) % settings.gop_seconds != 0.0 {
            return Err(format!(
                "segment length {}s is not a multiple of the {}s GOP",
                plan.segment_seconds, settings.gop_seconds
            ));
        }
        if plan.packaging != Packaging::Ts {
            return Err("this job builder writes MPEG-TS only; the preset asks for CMAF".into());
        }
        let outputs = plan
            .renditions
            .iter()
            .map(|r| match r.codec {
                VideoCodec::H264(h264) => Ok(output(r, h264, &settings)),
                _ => Err(format!("rendition `{}`: this job builder writes H.264 only", r.name)),
            })
            .collect::<Result<Vec<Value>, String>>()?;
        let create_job = json!({
            "Role": context.role,
            "Settings": {
                "Inputs": [{
                    "FileInput": context.input_uri,
                    "AudioSelectors": { "Audio Selector 1": { "DefaultSelection": "DEFAULT" } },
                }],
                "OutputGroups": [{
                    "Name": "HLS",
                    "OutputGroupSettings": {
                        "Type": "HLS_GROUP_SETTINGS",
                        "HlsGroupSettings": {
                            "Destination": format!("{}index", context.output_prefix),
                            "SegmentLength": plan.segment_seconds,
                        },
                    },
                    "Outputs": outputs,
                }],
            },
        });
        Ok(JobDocument {
            create_job: create_job.to_string(),
            metadata: vec![("video_id".to_owned(), context.video_id)],
        })
    }
}

/// One HLS output: the rendition's size, rate control, profile and level.
fn output(rendition: &Rendition, format: H264Format, settings: &Settings) -> Value {
    let mut h264 = json!({
        "MaxBitrate": rendition.rate.max_bitrate(),
        "CodecProfile": format.profile.name().to_uppercase(),
        "CodecLevel": codec_level(format.level.name()),
        "GopSize": settings.gop_seconds,
        "GopSizeUnits": "SECONDS",
    });
    match &rendition.rate {
        RateControl::Vbr(vbr) => {
            h264["RateControlMode"] = json!("VBR");
            h264["Bitrate"] = json!(vbr.bitrate);
        }
        // A constant quality under the peak: the level's whole part, and its thirds as the fine tune.
        RateControl::Qvbr(qvbr) => {
            let whole = qvbr.quality_level.floor();
            h264["RateControlMode"] = json!("QVBR");
            h264["QvbrSettings"] = json!({
                "QvbrQualityLevel": whole as u32,
                "QvbrQualityLevelFineTune": ((qvbr.quality_level - whole) * 1000.0).round() / 1000.0,
            });
        }
    }
    let mut output = json!({
        "NameModifier": format!("_{}", rendition.name),
        "ContainerSettings": { "Container": "M3U8" },
        "VideoDescription": {
            "Width": rendition.width,
            "Height": rendition.height,
            "CodecSettings": {
                "Codec": "H_264",
                "H264Settings": h264,
            },
        },
    });
    if let Some(bitrate) = rendition.audio_bitrate {
        output["AudioDescriptions"] = json!([{
            "AudioSourceName": "Audio Selector 1",
            "CodecSettings": { "Codec": "AAC", "AacSettings": { "Bitrate": bitrate } },
        }]);
    }
    output
}

/// "auto" → "AUTO", "3.1" → "LEVEL_3_1", "4.0" → "LEVEL_4": MediaConvert's names.
fn codec_level(level: &str) -> String {
    if level == "auto" {
        return "AUTO".to_owned();
    }
    let level = level.strip_suffix(".0").unwrap_or(level);
    format!("LEVEL_{}", level.replace('.', "_"))
}

vodpipe_plugin_sdk::export_job_builder!(PluginName);
