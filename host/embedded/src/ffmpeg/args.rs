//! An [`HlsJob`] as ffmpeg's arguments: one process that decodes the source once and encodes
//! every rendition (split + scale), plus the thumbnail.

use std::fmt::Write as _;

use vodpipe_core::Packaging;

use super::job::{Audio, Encoding, HlsJob, Rate, ThumbnailJob, Variant};

/// What every output needs from the source, done once before the split. `0:V:0` is the first
/// video stream that is not an attached picture (a cover or poster frame). ffmpeg has already
/// turned the picture by its display matrix. Then: frames flagged interlaced are deinterlaced
/// (bwdif, one frame per frame; progressive frames pass untouched); non-square pixels are
/// stretched to square ones, so the display aspect ratio is what the scaling below keeps (the
/// prober planned on that size).
///
/// Both ffmpeg runs that read the source, the job's and the thumbnail fallback's
/// (`process::capture_last_frame`), start with this chain, so a thumbnail is read from the source as
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
    let mut map_audio = |args: &mut Vec<String>, a: &Audio| {
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
        audio_index += 1;
        audio_index - 1
    };
    for (i, v) in job.variants.iter().enumerate() {
        args.extend(["-map".into(), format!("[v{i}]")]);
        let mut entry = format!("v:{i}");
        if let Some(a) = &v.audio {
            let index = map_audio(&mut args, a);
            write!(entry, ",a:{index}").unwrap();
        }
        write!(entry, ",name:{}", v.modifier).unwrap();
        stream_map.push(entry);
        args.extend(video_encoder_arguments(i, v));
    }
    // CMAF: each audio rendition a stream of its own, after the video ones.
    for a in &job.audio_renditions {
        let index = map_audio(&mut args, &a.audio);
        stream_map.push(format!("a:{index},name:{}", a.modifier));
    }
    let dir = job.output_dir.display();
    let (segment_type, extension) = match job.packaging {
        Packaging::Ts => ("mpegts", "ts"),
        Packaging::Cmaf => ("fmp4", "m4s"),
    };
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
        segment_type.into(),
        // MediaConvert numbers segments from 1.
        "-start_number".into(),
        "1".into(),
        "-hls_segment_filename".into(),
        format!("{dir}/{}%v_%05d.{extension}", job.manifest),
        "-var_stream_map".into(),
        stream_map.join(" "),
        format!("{dir}/{}%v.m3u8", job.manifest),
    ]);
    if job.packaging == Packaging::Cmaf {
        // ffmpeg fills in `%v` only when it writes several streams: one is named outright.
        let init = match (job.variants.as_slice(), job.audio_renditions.is_empty()) {
            ([only], true) => format!("{}{}_init.mp4", job.manifest, only.modifier),
            _ => format!("{}%v_init.mp4", job.manifest),
        };
        // Before the output it belongs to.
        let at = args.len() - 1;
        args.splice(at..at, ["-hls_fmp4_init_filename".into(), init]);
    }
    if let Some(t) = &job.thumbnail {
        args.extend(thumbnail_output(t, true));
    }
    args
}

/// x265's preset: the slowest whose 720p ladder encodes within 3x x264 veryfast's time on two
/// cores (docs/performance.md, "HEVC and AV1 encode time").
pub const X265_PRESET: &str = "ultrafast";
/// SVT-AV1's preset, chosen as [`X265_PRESET`] is.
pub const SVT_AV1_PRESET: &str = "10";

/// One video stream's encoder arguments (`-c:v:N` …): its codec, rate, peak and GOP. Every
/// encoder closes every GOP at the same instants in every rendition and never adds a keyframe
/// at a scene cut, so segments align across renditions and codecs.
fn video_encoder_arguments(i: usize, v: &Variant) -> Vec<String> {
    let gop_frames = v.frame_rate.map_or(250, |(num, den)| {
        ((v.gop_seconds * num as f64 / den as f64).round() as u64).max(1)
    });
    let pixel_format = |bit_depth: u8| if bit_depth > 8 { "yuv420p10le" } else { "yuv420p" };
    let mut args: Vec<String> = Vec::new();
    let mut set = |key: &str, value: String| args.extend([format!("-{key}:v:{i}"), value]);
    // Time-based keyframes for the encoders that take forced ones (a kept variable frame rate
    // has no fixed frame count per GOP).
    let forced_key_frames = format!("expr:gte(t,n_forced*{})", v.gop_seconds);
    match v.encoding {
        Encoding::H264 { profile, level } => {
            set("c", "libx264".into());
            set("preset", "veryfast".into());
            set("profile", profile.name().into());
            set("pix_fmt", "yuv420p".into());
            set("g", gop_frames.to_string());
            set("keyint_min", gop_frames.to_string());
            set("sc_threshold", "0".into());
            set("force_key_frames", forced_key_frames);
            if let Some(level) = level {
                set("level", level.to_string());
            }
        }
        Encoding::Hevc { bit_depth } => {
            set("c", "libx265".into());
            set("preset", X265_PRESET.into());
            set("profile", if bit_depth > 8 { "main10" } else { "main" }.into());
            set("pix_fmt", pixel_format(bit_depth).into());
            // Parameter sets in the sample entry (`hvc1`), as MediaConvert's HVC1 packaging.
            set("tag", "hvc1".into());
            // A closed GOP: x265's default open GOP starts segments with a CRA whose leading
            // pictures reference the previous segment.
            set(
                "x265-params",
                format!("keyint={gop_frames}:min-keyint={gop_frames}:scenecut=0:open-gop=0:log-level=error"),
            );
            // A forced keyframe is an IDR, not an I picture.
            set("forced-idr", "1".into());
            set("force_key_frames", forced_key_frames);
        }
        Encoding::Av1 { bit_depth } => {
            set("c", "libsvtav1".into());
            set("preset", SVT_AV1_PRESET.into());
            set("pix_fmt", pixel_format(bit_depth).into());
            // SVT-AV1 (as ffmpeg 5.1 drives it) ignores forced keyframes: a key frame every
            // GOP's frames, which the job's frame rate makes the GOP's seconds.
            set("g", gop_frames.to_string());
        }
    }
    set("maxrate", v.max_bitrate.to_string());
    set("bufsize", (v.max_bitrate * 2).to_string());
    match v.rate {
        Rate::Average(bitrate) => set("b", bitrate.to_string()),
        // Capped CRF: the quality of the level, under the peak (-maxrate, -bufsize above).
        Rate::ConstantQuality { crf } => set("crf", crf.to_string()),
    }
    args
}

/// The thumbnail output of either run: the `[thumb]` pad as one JPEG, rewritten in place by
/// each picture (`-update`); `first_only` stops at the first.
fn thumbnail_output(t: &ThumbnailJob, first_only: bool) -> Vec<String> {
    let mut args: Vec<String> = vec!["-map".into(), "[thumb]".into()];
    if first_only {
        args.extend(["-frames:v".into(), "1".into()]);
    }
    args.extend([
        "-q:v".into(),
        jpeg_qscale(t.quality).to_string(),
        "-update".into(),
        "1".into(),
        t.path.display().to_string(),
    ]);
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

/// The ffmpeg arguments of `process::capture_last_frame`.
pub(super) fn last_frame_arguments(job: &HlsJob, t: &ThumbnailJob) -> Vec<String> {
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
    ]);
    args.extend(thumbnail_output(t, false));
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use vodpipe_job_document::h264::Profile;

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
                rate: Rate::Average(800_000),
                max_bitrate: 1_200_000,
                encoding: Encoding::H264 {
                    profile: Profile::Main,
                    level: None,
                },
                gop_seconds: 2.0,
                stretch: false,
                frame_rate: None,
                audio: None,
                audio_group: None,
                i_frame_playlist: false,
            }],
            packaging: Packaging::Ts,
            audio_renditions: Vec::new(),
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
    fn a_rendition_gets_an_average_or_a_capped_crf() {
        let mut job = job_with_thumbnail();
        let pair = |args: &[String], flag: &str| args.iter().position(|a| a == flag).map(|at| args[at + 1].clone());
        let args = arguments(&job, None);
        assert_eq!(pair(&args, "-b:v:0").as_deref(), Some("800000"));
        assert_eq!(pair(&args, "-crf:v:0"), None);
        job.variants[0].rate = Rate::ConstantQuality { crf: 23.5 };
        let args = arguments(&job, None);
        assert_eq!(pair(&args, "-crf:v:0").as_deref(), Some("23.5"));
        assert_eq!(pair(&args, "-b:v:0"), None);
        assert_eq!(pair(&args, "-maxrate:v:0").as_deref(), Some("1200000"));
        assert_eq!(pair(&args, "-bufsize:v:0").as_deref(), Some("2400000"));
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
