//! The embedded transcoder: runs the MediaConvert job document a job-builder plugin wrote,
//! with one ffmpeg process that decodes the source once and encodes every rendition
//! (split + scale), then writes the HLS master playlist itself from what was produced.
//!
//! Only the subset of MediaConvert settings listed in [`translate`] is understood; any other
//! setting, or a value ffmpeg cannot honour, refuses the job with the field's path.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;
use vodpipe_core::{JobOutput, JobResult, JobStatus, Probe};

use crate::child;
use crate::ffprobe::FfprobeProber;
use crate::job_lock::JobLock;
use crate::job_reader::{Obj, Unsupported};
use vodpipe_core::ports::Prober;

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

/// What every output needs from the source, done once before the split. `0:V:0` is the first
/// video stream that is not an attached picture (a cover or poster frame). ffmpeg has already
/// turned the picture by its display matrix. Then: frames flagged interlaced are deinterlaced
/// (bwdif, one frame per frame; progressive frames pass untouched); non-square pixels are
/// stretched to square ones, so the display aspect ratio is what the scaling below keeps (the
/// prober planned on that size).
///
/// Both ffmpeg runs that read the source, the job's and the thumbnail fallback's
/// ([`capture_last_frame`]), start with this chain, so a thumbnail is read from the source as
/// the video is; `vodpipe quality` reads its reference through it too.
pub fn source_filters() -> &'static str {
    "[0:V:0]bwdif=mode=send_frame:parity=auto:deint=interlaced,scale=iw*sar:ih,setsar=1"
}

/// The ffmpeg arguments for a job: one process, the source decoded once. `source_size` is
/// the source's display size when known: a letterbox that would be 0 px wide is skipped.
pub fn arguments(job: &HlsJob, source_size: Option<(u32, u32)>) -> Vec<String> {
    let n = job.variants.len();
    let branches = n + usize::from(job.thumbnail.is_some());
    let mut filter = format!("{},split={branches}", source_filters());
    for i in 0..branches {
        write!(filter, "[s{i}]").unwrap();
    }
    for (i, v) in job.variants.iter().enumerate() {
        write!(
            filter,
            ";[s{i}]{}",
            fit(source_size, (v.width, v.height), v.stretch, None)
        )
        .unwrap();
        if let Some((num, den)) = v.frame_rate {
            write!(filter, ",fps={num}/{den}").unwrap();
        }
        write!(filter, "[v{i}]").unwrap();
    }
    if let Some(t) = &job.thumbnail {
        write!(
            filter,
            ";[s{n}]select='gte(t\\,{:.3})',{}[thumb]",
            t.at_seconds,
            thumbnail_scale(t)
        )
        .unwrap();
    }

    let mut args: Vec<String> = [
        "-hide_banner",
        "-nostdin",
        "-y",
        "-loglevel",
        "error",
        "-nostats",
        "-progress",
        "pipe:1",
        "-i",
    ]
    .map(String::from)
    .to_vec();
    args.push(job.input.display().to_string());
    args.extend(["-filter_complex".into(), filter]);
    let mut stream_map = Vec::new();
    let mut audio_index = 0;
    for (i, v) in job.variants.iter().enumerate() {
        args.extend(["-map".into(), format!("[v{i}]")]);
        let mut entry = format!("v:{i}");
        if let Some(a) = &v.audio {
            args.extend(["-map".into(), "0:a:0".into()]);
            args.extend([
                format!("-c:a:{audio_index}"),
                "aac".into(),
                format!("-b:a:{audio_index}"),
                a.bitrate.to_string(),
                format!("-ar:a:{audio_index}"),
                a.sample_rate.to_string(),
                format!("-ac:a:{audio_index}"),
                a.channels.to_string(),
            ]);
            write!(entry, ",a:{audio_index}").unwrap();
            audio_index += 1;
        }
        write!(entry, ",name:{}", v.modifier).unwrap();
        stream_map.push(entry);
        let gop_frames = v.frame_rate.map_or(250, |(num, den)| {
            ((v.gop_seconds * num as f64 / den as f64).round() as u64).max(1)
        });
        args.extend([
            format!("-c:v:{i}"),
            "libx264".into(),
            format!("-preset:v:{i}"),
            "veryfast".into(),
            format!("-b:v:{i}"),
            v.bitrate.to_string(),
            format!("-maxrate:v:{i}"),
            v.max_bitrate.to_string(),
            format!("-bufsize:v:{i}"),
            (v.max_bitrate * 2).to_string(),
            format!("-profile:v:{i}"),
            v.profile.into(),
            format!("-pix_fmt:v:{i}"),
            "yuv420p".into(),
            format!("-g:v:{i}"),
            gop_frames.to_string(),
            format!("-keyint_min:v:{i}"),
            gop_frames.to_string(),
            format!("-sc_threshold:v:{i}"),
            "0".into(),
            // Keyframes at the same instants in every rendition, so segments align.
            format!("-force_key_frames:v:{i}"),
            format!("expr:gte(t,n_forced*{})", v.gop_seconds),
        ]);
        if let Some(level) = &v.level {
            args.extend([format!("-level:v:{i}"), level.clone()]);
        }
    }
    let dir = job.output_dir.display();
    args.extend([
        "-f".into(),
        "hls".into(),
        "-hls_time".into(),
        job.segment_seconds.to_string(),
        "-hls_playlist_type".into(),
        "vod".into(),
        "-hls_flags".into(),
        if job.integer_durations {
            "independent_segments+round_durations"
        } else {
            "independent_segments"
        }
        .into(),
        "-hls_segment_type".into(),
        "mpegts".into(),
        // MediaConvert numbers segments from 1.
        "-start_number".into(),
        "1".into(),
        "-hls_segment_filename".into(),
        format!("{dir}/{}%v_%05d.ts", job.manifest),
        "-var_stream_map".into(),
        stream_map.join(" "),
        format!("{dir}/{}%v.m3u8", job.manifest),
    ]);
    if let Some(t) = &job.thumbnail {
        args.extend([
            "-map".into(),
            "[thumb]".into(),
            "-frames:v".into(),
            "1".into(),
            "-q:v".into(),
            jpeg_qscale(t.quality).to_string(),
            "-update".into(),
            "1".into(),
            t.path.display().to_string(),
        ]);
    }
    args
}

/// The thumbnail's size, stretched as MediaConvert's frame capture does.
fn thumbnail_scale(t: &ThumbnailJob) -> String {
    format!("scale={}:{},setsar=1", t.width, t.height)
}

/// A capture's `Quality` (1..=100) on ffmpeg's JPEG scale: 2 (best) to 31.
fn jpeg_qscale(quality: u64) -> u64 {
    (31 - (quality.min(100) * 29 / 100)).clamp(2, 31)
}

/// The filters that scale the (square-pixel) source picture to an output of `size`: stretched
/// when asked to or when keeping the aspect ratio fills it anyway, else letterboxed. `flags`
/// picks the scaler (ffmpeg's default, bicubic, when `None`).
pub fn fit(source_size: Option<(u32, u32)>, (w, h): (u64, u64), stretch: bool, flags: Option<&str>) -> String {
    let flags = flags.map(|f| format!(":flags={f}")).unwrap_or_default();
    if stretch || source_size.is_some_and(|source| fits_exactly(source, (w, h))) {
        format!("scale={w}:{h}{flags},setsar=1")
    } else {
        format!(
            "scale={w}:{h}:force_original_aspect_ratio=decrease:force_divisible_by=2{flags},pad={w}:{h}:(ow-iw)/2:(oh-ih)/2,setsar=1"
        )
    }
}

/// Whether scaling `source` into `output` keeping its aspect ratio fills `output` exactly
/// (to ffmpeg's even rounding), so letterboxing would add nothing.
fn fits_exactly((sw, sh): (u32, u32), (w, h): (u64, u64)) -> bool {
    if sw == 0 || sh == 0 {
        return false;
    }
    let even = |x: f64| ((x / 2.0).round() as u64) * 2;
    let (sw, sh) = (sw as f64, sh as f64);
    if w as f64 / h as f64 > sw / sh {
        even(h as f64 * sw / sh) == w
    } else {
        even(w as f64 * sh / sw) == h
    }
}

/// An `ERROR` result.
pub fn error_result(job_id: &str, code: i32, message: String) -> JobResult {
    JobResult {
        job_id: job_id.to_owned(),
        status: JobStatus::Error,
        error_code: Some(code),
        error_message: Some(message),
        playlist_path: None,
        outputs: Vec::new(),
        thumbnail_path: None,
    }
}

/// A run that the machine failed, not the job: a full disk, no memory or file handles, ffmpeg
/// killed or not runnable. Nothing is wrong with the upload, so the job is tried again later
/// instead of ending `ERROR` (the worker gives up only after its last allowed delivery).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineFailure(pub String);

impl std::fmt::Display for MachineFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Runs a job to completion as the only writer of its outputs, which `lock` (the job's own
/// [`JobLock`], taken by the caller) proves. The job's own failures are an `ERROR` result;
/// the machine's are a [`MachineFailure`]. `progress` gets the fraction done (0.0..=1.0) as
/// ffmpeg reports it; `source` (the probe of the input, when known) gives the duration for
/// that fraction and the display size for [`arguments`].
pub fn run(
    job: &HlsJob,
    lock: &JobLock,
    job_id: &str,
    source: Option<&Probe>,
    mut progress: impl FnMut(f64),
) -> Result<JobResult, MachineFailure> {
    assert_eq!(
        lock.path(),
        JobLock::path_for(&job.output_dir),
        "a job runs under the lock of its own output directory"
    );
    let duration_ms = source.map_or(0, |p| p.duration_ms);
    let failed = |code, message: String| Ok(error_result(job_id, code, message));
    let machine = |message: String| Err(MachineFailure(message));
    let mut dirs = vec![job.output_dir.clone()];
    dirs.extend(job.thumbnail.as_ref().and_then(|t| t.path.parent().map(Path::to_owned)));
    for dir in dirs {
        if let Err(e) = std::fs::create_dir_all(&dir) {
            return machine(format!("cannot create {}: {e}", dir.display()));
        }
    }
    // A run that was killed may have left segments, playlists or a thumbnail; the read-back
    // must see only this run's files.
    if let Err(e) = clear_previous_outputs(job) {
        return machine(format!("cannot clear an earlier run's outputs: {e}"));
    }
    // The child holds the lock too, so it outlasts a killed worker until ffmpeg is gone.
    let child = child::command_holding("ffmpeg", lock)
        .args(arguments(job, source.map(Probe::display_size)))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => return machine(format!("cannot run ffmpeg: {e}")),
    };
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(us) = line.strip_prefix("out_time_us=").and_then(|v| v.parse::<u64>().ok())
                && duration_ms > 0
            {
                progress((us as f64 / 1000.0 / duration_ms as f64).min(1.0));
            }
        }
    }
    let output = match child.wait_with_output() {
        Ok(output) => output,
        Err(e) => return machine(format!("ffmpeg did not finish: {e}")),
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no message")
            .trim();
        return match output.status.code() {
            None => machine(format!("ffmpeg was killed: {last}")),
            Some(code) if crate::child::machine_error(&stderr).is_some() => {
                machine(format!("ffmpeg exited with {code}: {last}"))
            }
            Some(code) => failed(1030, format!("ffmpeg exited with {code}: {last}")),
        };
    }
    // ffmpeg's HLS muxer can log a failed write and still exit 0.
    let stderr = String::from_utf8_lossy(&output.stderr);
    if let Some(error) = crate::child::machine_error(&stderr) {
        let line = stderr.lines().find(|l| l.contains(error)).unwrap_or(error);
        return machine(format!("ffmpeg could not write the outputs: {}", line.trim()));
    }
    if let Some(t) = &job.thumbnail
        && !t.path.is_file()
        && let Err(why) = capture_last_frame(job, t, lock)
    {
        return match crate::child::machine_error(&why) {
            Some(_) => machine(why),
            None => failed(1999, why),
        };
    }
    progress(1.0);
    match finish(job) {
        Ok((outputs, master)) => Ok(JobResult {
            job_id: job_id.to_owned(),
            status: JobStatus::Complete,
            error_code: None,
            error_message: None,
            playlist_path: Some(master),
            outputs,
            thumbnail_path: job.thumbnail.as_ref().and_then(|t| relative(&job.output_dir, &t.path)),
        }),
        // A segment written empty, or missing from a playlist on a full disk, is a write the
        // disk refused (ffmpeg's HLS muxer does not always say so).
        Err(why)
            if why.contains("written empty")
                || crate::child::machine_error(&why).is_some()
                || disk_full(&job.output_dir) =>
        {
            machine(format!("{why} (the disk is full)"))
        }
        Err(why) => failed(1999, why),
    }
}

/// Whether the filesystem holding `dir` has no room left for another segment (under 1 MiB
/// available to vodpipe).
#[cfg(not(unix))]
fn disk_full(_dir: &Path) -> bool {
    false
}

/// Whether the filesystem holding `dir` has no room left for another segment (under 1 MiB
/// available to vodpipe).
#[cfg(unix)]
fn disk_full(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt as _;
    let Ok(path) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `path` is a valid NUL-terminated string and `stats` a plain C struct that
    // statvfs fills in; nothing is kept past the call.
    let mut stats: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(path.as_ptr(), &mut stats) } != 0 {
        return false;
    }
    (stats.f_bavail as u64).saturating_mul(stats.f_frsize as u64) < 1 << 20
}

/// Removes the files an earlier, interrupted run of `job` may have left: its media playlists
/// and their temporary files, its segments, the master playlist and the thumbnail. Only
/// regular files with the job's own names go: the output directory comes from the job
/// document and may hold anything else.
fn clear_previous_outputs(job: &HlsJob) -> std::io::Result<()> {
    let stems: Vec<String> = job
        .variants
        .iter()
        .map(|v| format!("{}{}", job.manifest, v.modifier))
        .collect();
    let master = format!("{}.m3u8", job.manifest);
    let master_tmp = format!(".{master}.tmp");
    for entry in std::fs::read_dir(&job.output_dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let written_by_a_run = name == master
            || name == master_tmp
            || stems.iter().any(|stem| {
                name.strip_prefix(stem.as_str()).is_some_and(|rest| {
                    rest == ".m3u8" || rest == ".m3u8.tmp" || (rest.starts_with('_') && rest.ends_with(".ts"))
                })
            });
        if written_by_a_run && entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
        }
    }
    if let Some(t) = &job.thumbnail
        && std::fs::symlink_metadata(&t.path).is_ok_and(|m| m.is_file())
    {
        std::fs::remove_file(&t.path)?;
    }
    Ok(())
}

/// Writes the source's last frame as the thumbnail. The thumbnail branch keeps the first frame
/// at or after the thumbnail time, and a clip can end before it: one exactly as long as the
/// thumbnail time (its last frame starts a frame earlier), or one whose duration the planner
/// did not know. Only the last seconds are decoded, through the job's [`source_filters`];
/// every frame overwrites the file (`-update 1`), so the last one stays.
fn capture_last_frame(job: &HlsJob, t: &ThumbnailJob, lock: &JobLock) -> Result<(), String> {
    let output = child::command_holding("ffmpeg", lock)
        .args(last_frame_arguments(job, t))
        .stdout(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run ffmpeg: {e}"))?;
    if output.status.success() && t.path.is_file() {
        tracing::info!(
            thumbnail = %t.path.display(),
            "the video ends before {:.3} s: its last frame is the thumbnail",
            t.at_seconds
        );
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no message");
    Err(format!(
        "no thumbnail was captured: the video ends before {:.1} s and its last frame could not be read ({})",
        t.at_seconds,
        last.trim()
    ))
}

/// The ffmpeg arguments of [`capture_last_frame`].
fn last_frame_arguments(job: &HlsJob, t: &ThumbnailJob) -> Vec<String> {
    let mut args: Vec<String> = [
        "-hide_banner",
        "-nostdin",
        "-y",
        "-loglevel",
        "error",
        "-sseof",
        "-3",
        "-i",
    ]
    .map(String::from)
    .to_vec();
    args.push(job.input.display().to_string());
    args.extend([
        "-filter_complex".into(),
        format!("{},{}[thumb]", source_filters(), thumbnail_scale(t)),
        "-map".into(),
        "[thumb]".into(),
        "-q:v".into(),
        jpeg_qscale(t.quality).to_string(),
        "-update".into(),
        "1".into(),
        t.path.display().to_string(),
    ]);
    args
}

/// Reads back what ffmpeg wrote and writes the master playlist with the attributes players
/// use to choose a variant: BANDWIDTH (peak segment bitrate), AVERAGE-BANDWIDTH, RESOLUTION,
/// CODECS and FRAME-RATE.
fn finish(job: &HlsJob) -> Result<(Vec<JobOutput>, String), String> {
    let prober = FfprobeProber::default();
    let mut outputs = Vec::new();
    let mut master = String::from("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    for v in &job.variants {
        let name = format!("{}{}.m3u8", job.manifest, v.modifier);
        let playlist = job.output_dir.join(&name);
        let (peak, average, duration_ms) = bandwidth(&playlist)?;
        // The job fixed size and frame rate; only a frame rate kept from the source needs a look.
        let frame_rate = match v.frame_rate {
            Some((num, den)) => num as f64 / den as f64,
            None => prober.probe(&playlist).map_err(|e| format!("{name}: {e}"))?.frame_rate,
        };
        // The level the job asked for is the one x264 wrote; with AUTO, x264 chose: read it.
        let level_idc = match v.level.as_deref().and_then(level_idc) {
            Some(idc) => idc,
            None => stream_level_idc(&playlist).map_err(|e| format!("{name}: {e}"))?,
        };
        let codecs = match &v.audio {
            Some(_) => format!("{},mp4a.40.2", avc1(v.profile, level_idc)),
            None => avc1(v.profile, level_idc),
        };
        writeln!(
            master,
            "#EXT-X-STREAM-INF:BANDWIDTH={peak},AVERAGE-BANDWIDTH={average},RESOLUTION={}x{},CODECS=\"{codecs}\",FRAME-RATE={:.3}",
            v.width, v.height, frame_rate
        )
        .unwrap();
        writeln!(master, "{name}").unwrap();
        outputs.push(JobOutput {
            path: name,
            width: v.width as u32,
            height: v.height as u32,
            duration_ms,
        });
    }
    let master_name = format!("{}.m3u8", job.manifest);
    let tmp = job.output_dir.join(format!(".{master_name}.tmp"));
    std::fs::write(&tmp, master)
        .and_then(|_| std::fs::rename(&tmp, job.output_dir.join(&master_name)))
        .map_err(|e| format!("cannot write {master_name}: {e}"))?;
    if let Some(t) = &job.thumbnail
        && !t.path.is_file()
    {
        return Err(format!("no thumbnail was captured at {:.1} s", t.at_seconds));
    }
    Ok((outputs, master_name))
}

/// Peak and average bits per second over a media playlist's segments, and its duration in
/// milliseconds: what BANDWIDTH and AVERAGE-BANDWIDTH state.
pub fn bandwidth(playlist: &Path) -> Result<(u64, u64, u64), String> {
    let text = std::fs::read_to_string(playlist).map_err(|e| format!("{}: {e}", playlist.display()))?;
    let dir = playlist.parent().unwrap_or(Path::new("."));
    let (mut peak, mut bits, mut seconds) = (0f64, 0f64, 0f64);
    let mut duration = None;
    for line in text.lines() {
        if let Some(d) = line.strip_prefix("#EXTINF:") {
            duration = d
                .trim_end_matches(',')
                .split(',')
                .next()
                .and_then(|d| d.parse::<f64>().ok());
        } else if !line.starts_with('#') && !line.trim().is_empty() {
            let size = std::fs::metadata(dir.join(line.trim()))
                .map_err(|e| format!("segment {line}: {e}"))?
                .len();
            if size == 0 {
                return Err(format!("segment {line} was written empty (is the disk full?)"));
            }
            let d = duration.take().ok_or(format!("segment {line} has no duration"))?;
            bits += size as f64 * 8.0;
            seconds += d;
            // Whole-second durations can round a short last segment to 0: no rate from it.
            if d > 0.0 {
                peak = peak.max(size as f64 * 8.0 / d);
            }
        }
    }
    if seconds == 0.0 {
        return Err(format!("{} lists no segments", playlist.display()));
    }
    Ok((
        peak.round() as u64,
        (bits / seconds).round() as u64,
        (seconds * 1000.0).round() as u64,
    ))
}

/// RFC 6381 codec string for H.264: avc1.PPCCLL, profile_idc, constraint flags, level_idc.
/// The constraint flags are the ones libx264 writes: set0 for Baseline, set1 for Baseline
/// and Main (it never uses Baseline's extra tools), never set2 or set3.
fn avc1(profile: &str, level_idc: u32) -> String {
    let (profile, constraints) = match profile {
        "baseline" => (0x42, 0xc0),
        "high" => (0x64, 0x00),
        _ => (0x4d, 0x40),
    };
    format!("avc1.{profile:02x}{constraints:02x}{level_idc:02x}")
}

/// `3.1` → 31, `4` and `4.0` → 40: `level_idc`, ten times the level.
fn level_idc(level: &str) -> Option<u32> {
    let (major, minor) = level.split_once('.').unwrap_or((level, "0"));
    Some(major.parse::<u32>().ok()? * 10 + minor.parse::<u32>().ok()?)
}

/// The `level_idc` in the first video stream's SPS, as ffprobe reads it.
fn stream_level_idc(playlist: &Path) -> Result<u32, String> {
    let output = child::command("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=level"])
        .args(["-of", "default=noprint_wrappers=1:nokey=1"])
        .arg(playlist)
        .output()
        .map_err(|e| format!("cannot run ffprobe: {e}"))?;
    // A playlist's stream is printed once per program it is in, too: the first line is it.
    let text = String::from_utf8_lossy(&output.stdout);
    match text.lines().next().unwrap_or_default().trim().parse::<u32>() {
        Ok(idc) if output.status.success() && idc > 0 => Ok(idc),
        _ => Err(format!(
            "ffprobe read no H.264 level ({})",
            String::from_utf8_lossy(&output.stderr).trim()
        )),
    }
}

fn relative(base: &Path, path: &Path) -> Option<String> {
    path.strip_prefix(base).ok().map(|p| p.display().to_string())
}

/// Writes a test-pattern video (ffmpeg's `testsrc2` at 30 fps, H.264, plus a 440 Hz tone in
/// AAC when `audio`): the sample of the demo and the tests.
pub fn test_pattern(path: &Path, width: u32, height: u32, seconds: u32, audio: bool) -> Result<(), String> {
    let mut command = child::command("ffmpeg");
    command.args(["-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i"]);
    command.arg(format!("testsrc2=size={width}x{height}:rate=30:duration={seconds}"));
    if audio {
        command
            .args(["-f", "lavfi", "-i"])
            .arg(format!("sine=frequency=440:duration={seconds}"));
        command.args(["-c:a", "aac"]);
    }
    command
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"])
        .arg(path);
    let output = command.output().map_err(|e| format!("cannot run ffmpeg: {e}"))?;
    if !output.status.success() {
        return Err(format!("ffmpeg: {}", String::from_utf8_lossy(&output.stderr).trim()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job_with_thumbnail() -> HlsJob {
        HlsJob {
            input: "/uploads/interlaced-anamorphic.mov".into(),
            output_dir: "/media/v1".into(),
            manifest: "index".into(),
            segment_seconds: 6,
            integer_durations: true,
            variants: vec![Variant {
                modifier: "_360p".into(),
                width: 640,
                height: 360,
                bitrate: 800_000,
                max_bitrate: 1_200_000,
                profile: "main",
                level: None,
                gop_seconds: 2.0,
                stretch: false,
                frame_rate: None,
                audio: None,
            }],
            thumbnail: Some(ThumbnailJob {
                path: "/media/v1/thumbnails/thumb.0000001.jpg".into(),
                width: 320,
                height: 180,
                at_seconds: 2.0,
                quality: 80,
            }),
        }
    }

    fn filter_complex(args: &[String]) -> &str {
        let at = args
            .iter()
            .position(|a| a == "-filter_complex")
            .expect("a filter graph");
        &args[at + 1]
    }

    #[test]
    fn the_last_frame_fallback_reads_the_source_as_the_job_does() {
        let job = job_with_thumbnail();
        let thumbnail = job.thumbnail.as_ref().unwrap();
        let main = arguments(&job, None);
        let (source, branches) = filter_complex(&main).split_once(",split=").unwrap();
        assert!(branches.ends_with(",scale=320:180,setsar=1[thumb]"), "{branches}");

        let fallback = last_frame_arguments(&job, thumbnail);
        assert_eq!(
            filter_complex(&fallback),
            format!("{source},scale=320:180,setsar=1[thumb]")
        );
        // Never a cover picture, deinterlaced, square pixels: what the job's own run does.
        for step in ["[0:V:0]", "bwdif=", "scale=iw*sar:ih,setsar=1"] {
            assert!(filter_complex(&fallback).contains(step), "{fallback:?}");
        }
        let mapped: Vec<&String> = fallback.windows(2).filter(|w| w[0] == "-map").map(|w| &w[1]).collect();
        assert_eq!(mapped, ["[thumb]"]);
        assert_eq!(fallback.last().unwrap(), "/media/v1/thumbnails/thumb.0000001.jpg");
    }
}
