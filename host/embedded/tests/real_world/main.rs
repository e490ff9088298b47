//! The uploads of the real world through the embedded pipeline, as `vodpipe process` runs
//! it: disk store, SQLite queue, the worker, the built-in plugins, real ffprobe and ffmpeg.
//!
//! Every input is made by ffmpeg at test time (`inputs.rs`). A good one must end `done`
//! with HLS a strict player accepts, read back with ffprobe: H.264 in 8-bit 4:2:0,
//! progressive, square pixels, the display's aspect ratio and orientation, a keyframe at
//! every segment start, segments aligned across renditions, a constant frame rate, levels
//! conformant to H.264 Table A-1 and equal to `CODECS`, stereo AAC when there is sound,
//! `BANDWIDTH` at least the peak segment bitrate, and a thumbnail; and every rule of the
//! conformance checker (`vodpipe_test_support::conformance`). A bad one must end
//! `failed` on its first delivery (no retry, no transcode) with a reason a person
//! understands, leaving no upload, no media and no message behind.
//!
//! The built-in policy runs with 2-second segments instead of its 6, so that 2–3 s clips
//! have several segments whose alignment can be checked.

#[path = "../common/mod.rs"]
#[allow(dead_code)]
mod common;
mod h264_levels;
mod hls;
mod inputs;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use vodpipe_core::ports::{ObjectStore, Policy, SystemClock, VideoRepository};
use vodpipe_core::{VideoRecord, VideoStatus};
use vodpipe_embedded::disk::DiskStore;
use vodpipe_embedded::sqlite::Database;
use vodpipe_embedded::worker::{WorkerConfig, upload_event};
use vodpipe_plugin_artifacts::builtin_files;
use vodpipe_runtime::reload::load;
use vodpipe_runtime::{Limits, LoadedPolicy, PluginRuntime};

use h264_levels::Stream;
use hls::{Variant, ffprobe, streams};

const KEY: &str = "01JREALWORLD0000000000000";

/// The built-in bundle with its default preset's segments shortened to 2 s (its GOP is 2 s).
fn policy() -> &'static LoadedPolicy {
    static POLICY: OnceLock<LoadedPolicy> = OnceLock::new();
    POLICY.get_or_init(|| {
        let mut files = builtin_files();
        let preset = files
            .files
            .get_mut("ladders/default.toml")
            .expect("the built-in bundle has ladders/default.toml");
        let text = String::from_utf8(preset.clone()).unwrap();
        assert!(text.contains("segment_seconds = 6"), "{text}");
        *preset = text.replace("segment_seconds = 6", "segment_seconds = 2").into_bytes();
        let runtime = PluginRuntime::new(None, Limits::default()).unwrap();
        load(&runtime, &files, None).unwrap()
    })
}

/// One upload, processed until its queue is empty.
struct Processed {
    _dir: tempfile::TempDir,
    input: PathBuf,
    data: PathBuf,
    store: DiskStore,
    database: Database,
    record: VideoRecord,
    /// Messages the worker handled: the upload event, then the transcode and its job-state
    /// event if a job ran.
    handled: usize,
}

fn process(make: impl FnOnce(&Path) -> PathBuf) -> Processed {
    let dir = tempfile::tempdir().unwrap();
    let input = make(dir.path());
    let data = dir.path().join("data");
    let store = DiskStore::open(&data).unwrap();
    let database = Database::open(&data.join("vodpipe.db"), Box::new(SystemClock)).unwrap();
    store.put_upload(KEY, &input, None).unwrap();
    upload_event(&database, KEY).unwrap();
    let started = Instant::now();
    let handled = common::work_until_idle(
        &store,
        &database,
        policy(),
        WorkerConfig {
            visibility: Duration::from_secs(120),
            ..WorkerConfig::default()
        },
    );
    let record = database.get(KEY).unwrap().expect("a video record");
    eprintln!(
        "{}: {:?} after {handled} messages in {:.1} s{}",
        input.file_name().unwrap().to_string_lossy(),
        record.status,
        started.elapsed().as_secs_f64(),
        record
            .failure_reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default()
    );
    Processed {
        _dir: dir,
        input,
        data,
        store,
        database,
        record,
        handled,
    }
}

/// What a good input must come out as.
#[derive(Debug, Clone, Copy)]
struct Expected {
    /// The source's size as displayed: rotation applied, pixels made square.
    display: (u32, u32),
    /// Frames per second of every rendition; none checks only that the rate is constant.
    frame_rate: Option<f64>,
    audio: bool,
}

fn good(make: impl FnOnce(&Path) -> PathBuf, expected: Expected) -> Processed {
    let p = process(make);
    let record = &p.record;
    assert_eq!(
        record.status,
        VideoStatus::Done,
        "{}: {:?}",
        p.input.display(),
        record.failure_reason
    );
    let media = p.store.media_dir(KEY);
    let plan = record.plan.as_ref().expect("a done video keeps its plan");
    let variants = hls::master_playlist(&media.join(record.playback_path.as_deref().unwrap()));
    assert_eq!(variants.len(), plan.renditions.len(), "{variants:?}");
    assert_eq!(record.renditions.len(), plan.renditions.len());

    let mut ladder = Vec::new();
    for (variant, rendition) in variants.iter().zip(&plan.renditions) {
        let checked = check_variant(&media, variant, rendition, expected);
        ladder.push((variant.uri.clone(), checked));
    }
    // Aligned: every rendition cut at the same instants, listed with the same durations.
    let (first_uri, first) = &ladder[0];
    for (uri, checked) in &ladder[1..] {
        assert_eq!(checked.durations, first.durations, "EXTINF of {uri} vs {first_uri}");
        for (i, (a, b)) in checked.starts.iter().zip(&first.starts).enumerate() {
            assert!(
                (a - b).abs() < 0.002,
                "segment {} starts at {a} s in {uri} but {b} s in {first_uri}",
                i + 1
            );
        }
    }
    let rendered: Vec<(u32, u32)> = record.renditions.iter().map(|r| (r.width, r.height)).collect();
    let listed: Vec<(u32, u32)> = ladder.iter().map(|(_, c)| c.size).collect();
    assert_eq!(rendered, listed, "the record's renditions are the ones published");

    // And everything the authoring rules ask, I-frame playlists included.
    vodpipe_test_support::conformance::assert_conformant(&media.join(record.playback_path.as_deref().unwrap()));

    let thumbnail = media.join(record.thumbnail_path.as_deref().expect("a thumbnail path"));
    let jpeg = std::fs::read(&thumbnail).unwrap_or_else(|e| panic!("{}: {e}", thumbnail.display()));
    assert!(
        jpeg.starts_with(&[0xff, 0xd8, 0xff]),
        "{} is not a JPEG",
        thumbnail.display()
    );
    assert_eq!(p.store.head(KEY).unwrap(), None, "the upload is deleted once published");
    assert_eq!(p.database.queued().unwrap(), 0);
    assert!(p.database.dead_letters().unwrap().is_empty());
    p
}

/// What one variant turned out to be, for the comparisons across the ladder.
struct Checked {
    size: (u32, u32),
    durations: Vec<f64>,
    starts: Vec<f64>,
}

fn check_variant(media: &Path, variant: &Variant, rendition: &vodpipe_core::Rendition, expected: Expected) -> Checked {
    let uri = &variant.uri;
    let playlist_path = media.join(uri);
    let playlist = hls::media_playlist(&playlist_path);

    // The stream as a player's demuxer sees it.
    let (first_segment, _) = &playlist.segments[0];
    let probe = ffprobe(first_segment, &[]);
    let videos = streams(&probe, "video");
    assert_eq!(videos.len(), 1, "{uri}: video streams: {videos:?}");
    let video = videos[0];
    let field = |name: &str| video[name].as_str().unwrap_or_default().to_owned();
    assert_eq!(field("codec_name"), "h264", "{uri}");
    assert_eq!(field("pix_fmt"), "yuv420p", "{uri}: 8-bit 4:2:0");
    assert_eq!(field("sample_aspect_ratio"), "1:1", "{uri}: square pixels");
    assert_eq!(field("field_order"), "progressive", "{uri}");
    let width = video["width"].as_u64().unwrap() as u32;
    let height = video["height"].as_u64().unwrap() as u32;
    assert_eq!(
        variant.attribute("RESOLUTION"),
        format!("{width}x{height}"),
        "{uri}: RESOLUTION"
    );
    assert_eq!(
        (width, height),
        (rendition.width, rendition.height),
        "{uri}: planned size"
    );
    // The display's aspect ratio, to the even rounding of the planner.
    let (dw, dh) = expected.display;
    let ideal_width = height as f64 * dw as f64 / dh as f64;
    assert!(
        (width as f64 - ideal_width).abs() <= 2.0,
        "{uri}: {width}x{height} does not have the aspect ratio of the {dw}x{dh} display"
    );

    // Frame rate: constant, as declared, as expected.
    let frame_rate = rate(&field("r_frame_rate"));
    // A single frame has no average rate (0/0); the frame steps below check the rest.
    let average_rate = field("avg_frame_rate");
    assert!(
        average_rate == "0/0" || (frame_rate - rate(&average_rate)).abs() < 0.01,
        "{uri}: r_frame_rate {} vs avg_frame_rate {}",
        field("r_frame_rate"),
        average_rate
    );
    assert!(
        (variant.number("FRAME-RATE") - frame_rate).abs() < 0.001,
        "{uri}: FRAME-RATE {} vs the stream's {frame_rate}",
        variant.attribute("FRAME-RATE")
    );
    if let Some(fps) = expected.frame_rate {
        assert!(
            (frame_rate - fps).abs() < 0.001,
            "{uri}: {frame_rate} fps, expected {fps}"
        );
    }

    // CODECS: avc1.PPCCLL true to the stream, mp4a.40.2 exactly when there is sound.
    let codecs: Vec<&str> = variant.attribute("CODECS").split(',').collect();
    let avc1 = codecs[0]
        .strip_prefix("avc1.")
        .filter(|hex| hex.len() == 6)
        .unwrap_or_else(|| panic!("{uri}: CODECS {codecs:?}"));
    let codecs_profile = u32::from_str_radix(&avc1[..2], 16).unwrap();
    let codecs_level = u32::from_str_radix(&avc1[4..], 16).unwrap();
    let profile_idc = match field("profile").as_str() {
        "Baseline" | "Constrained Baseline" => 66,
        "Main" => 77,
        "High" => 100,
        other => panic!("{uri}: profile {other}"),
    };
    assert_eq!(
        codecs_profile,
        profile_idc,
        "{uri}: CODECS profile vs the stream's {}",
        field("profile")
    );
    let level_idc = video["level"].as_u64().unwrap() as u32;
    assert_eq!(
        codecs_level,
        level_idc,
        "{uri}: CODECS level {} vs the stream's {}",
        h264_levels::display(codecs_level),
        h264_levels::display(level_idc)
    );
    let stream = Stream {
        profile_idc,
        width,
        height,
        frames_per_second: frame_rate,
        max_bitrate: rendition.max_bitrate,
    };
    if let Err(why) = h264_levels::check(level_idc, stream) {
        panic!(
            "{uri}: {width}x{height} at {frame_rate:.3} fps, up to {} b/s, is not conformant to its {why}; it needs level {}",
            rendition.max_bitrate,
            h264_levels::smallest(stream).unwrap_or_else(|| "above 5.2".into())
        );
    }
    let audios = streams(&probe, "audio");
    if expected.audio {
        assert_eq!(codecs.get(1..), Some(&["mp4a.40.2"][..]), "{uri}: CODECS");
        assert_eq!(audios.len(), 1, "{uri}: audio streams {audios:?}");
        assert_eq!(audios[0]["codec_name"], "aac", "{uri}");
        assert_eq!(audios[0]["profile"], "LC", "{uri}");
        assert_eq!(audios[0]["channels"], 2, "{uri}: stereo");
    } else {
        assert_eq!(codecs.len(), 1, "{uri}: CODECS {codecs:?} for a silent source");
        assert!(audios.is_empty(), "{uri}: audio streams {audios:?}");
    }

    // Segments: each starts on a keyframe; frames evenly spaced throughout.
    let mut frames = Vec::new();
    let mut starts = Vec::new();
    for (segment, _) in &playlist.segments {
        let segment_frames = hls::video_frames(segment);
        let (start, key) = *segment_frames
            .first()
            .unwrap_or_else(|| panic!("{}: no video frame", segment.display()));
        assert!(key, "{}: does not start with a keyframe", segment.display());
        starts.push(start);
        frames.extend(segment_frames.into_iter().map(|(pts, _)| pts));
    }
    for pair in frames.windows(2) {
        let step = pair[1] - pair[0];
        assert!(
            (step * frame_rate - 1.0).abs() < 0.02,
            "{uri}: frames at {} s and {} s, {frame_rate} fps is not constant",
            pair[0],
            pair[1]
        );
    }
    // BANDWIDTH and AVERAGE-BANDWIDTH against the measured rates: the conformance checker.

    Checked {
        size: (width, height),
        durations: playlist.segments.iter().map(|(_, d)| *d).collect(),
        starts,
    }
}

fn rate(text: &str) -> f64 {
    let (n, d) = text.split_once('/').unwrap_or((text, "1"));
    n.parse::<f64>().unwrap() / d.parse::<f64>().unwrap()
}

/// Every rendition's first frame looks like the source's, as displayed.
fn looks_like_the_source(p: &Processed) {
    let source = hls::first_frame_grid(&p.input);
    let media = p.store.media_dir(KEY);
    for variant in hls::master_playlist(&media.join(p.record.playback_path.as_deref().unwrap())) {
        let rendition = hls::first_frame_grid(&media.join(&variant.uri));
        let difference = source
            .iter()
            .zip(&rendition)
            .map(|(a, b)| a.abs_diff(*b) as f64)
            .sum::<f64>()
            / source.len() as f64;
        assert!(
            difference < 12.0,
            "{}: the picture differs from the source's by {difference:.1} grey levels per cell \
             (letterboxed, squeezed or turned?)\nsource    {source:?}\nrendition {rendition:?}",
            variant.uri
        );
    }
}

fn top_rendition(p: &Processed) -> PathBuf {
    p.store
        .media_dir(KEY)
        .join(&p.record.renditions.first().expect("renditions").playlist_path)
}

fn landscape(audio: bool) -> Expected {
    Expected {
        display: (320, 240),
        frame_rate: Some(30.0),
        audio,
    }
}

#[test]
fn ten_bit_h264_becomes_eight_bit() {
    looks_like_the_source(&good(inputs::h264_10_bit, landscape(true)));
}

#[test]
fn hevc_in_matroska_with_opus() {
    looks_like_the_source(&good(inputs::hevc_opus_matroska, landscape(true)));
}

#[test]
fn vp9_in_webm_without_audio() {
    looks_like_the_source(&good(inputs::vp9_webm_silent, landscape(false)));
}

#[test]
fn av1_in_mp4() {
    looks_like_the_source(&good(inputs::av1_mp4, landscape(true)));
}

#[test]
fn rotated_by_the_display_matrix_90_180_270() {
    for (degrees, display) in [(90, (240, 320)), (180, (320, 240)), (270, (240, 320))] {
        let p = good(
            |dir| inputs::rotated(dir, degrees),
            Expected {
                display,
                ..landscape(true)
            },
        );
        looks_like_the_source(&p);
    }
}

#[test]
fn variable_frame_rate_comes_out_constant() {
    let p = good(
        inputs::variable_frame_rate,
        Expected {
            frame_rate: None,
            ..landscape(true)
        },
    );
    looks_like_the_source(&p);
}

#[test]
fn odd_size_1279x719() {
    let p = good(
        inputs::odd_size,
        Expected {
            display: (1279, 719),
            ..landscape(true)
        },
    );
    looks_like_the_source(&p);
}

#[test]
fn film_and_ntsc_rates_23_976_and_59_94() {
    for (rate, fps) in [("24000/1001", 24_000.0 / 1001.0), ("60000/1001", 60_000.0 / 1001.0)] {
        good(
            |dir| inputs::frame_rate(dir, "ntsc.mp4", "320x240", rate, "2"),
            Expected {
                frame_rate: Some(fps),
                ..landscape(true)
            },
        );
    }
}

#[test]
fn sixty_fps_at_720p() {
    let p = good(
        |dir| inputs::frame_rate(dir, "720p60.mp4", "1280x720", "60", "2"),
        Expected {
            display: (1280, 720),
            frame_rate: Some(60.0),
            audio: true,
        },
    );
    assert_eq!(p.record.renditions[0].height, 720);
}

#[test]
fn sixty_fps_at_1080p() {
    let p = good(
        |dir| inputs::frame_rate(dir, "1080p60.mp4", "1920x1080", "60", "1"),
        Expected {
            display: (1920, 1080),
            frame_rate: Some(60.0),
            audio: true,
        },
    );
    assert_eq!(p.record.renditions[0].height, 1080);
}

#[test]
fn anamorphic_follows_the_display_aspect() {
    let p = good(
        inputs::anamorphic,
        Expected {
            display: (1024, 576),
            frame_rate: Some(25.0),
            audio: true,
        },
    );
    let sizes: Vec<(u32, u32)> = p.record.renditions.iter().map(|r| (r.width, r.height)).collect();
    assert_eq!(sizes, [(854, 480), (640, 360), (426, 240)]);
    looks_like_the_source(&p);
}

#[test]
fn interlaced_is_deinterlaced() {
    let p = good(
        inputs::interlaced,
        Expected {
            display: (640, 480),
            frame_rate: Some(30_000.0 / 1001.0),
            audio: true,
        },
    );
    // 480 lines, as many as the source: the top rendition is not scaled vertically, so
    // combs would survive into it.
    assert_eq!(p.record.renditions[0].height, 480);
    let (combed, progressive) = hls::interlacing(&top_rendition(&p));
    assert!(
        combed * 10 < progressive,
        "{combed} frames still look interlaced, {progressive} progressive"
    );
}

#[test]
fn a_clip_exactly_as_long_as_the_thumbnail_time() {
    let p = good(inputs::as_long_as_the_thumbnail_time, landscape(true));
    assert_eq!(policy().preset().thumbnail_at_seconds, Some(2.0));
    assert!(p.record.duration_ms.is_some());
}

#[test]
fn a_one_frame_clip() {
    good(inputs::one_frame, landscape(false));
}

#[test]
fn two_audio_tracks_take_the_first() {
    let p = good(inputs::two_audio_tracks, landscape(true));
    // The first track is a tone, the second silence.
    let volume = hls::mean_volume(&top_rendition(&p));
    assert!(
        volume > -40.0,
        "the published audio is silent ({volume} dB): the second track?"
    );
}

#[test]
fn surround_is_downmixed_to_stereo() {
    let p = good(inputs::surround, landscape(true));
    let volume = hls::mean_volume(&top_rendition(&p));
    assert!(volume > -40.0, "the downmix is silent ({volume} dB)");
}

/// A bad input fails on its first delivery, says why, and leaves nothing behind.
fn bad(make: impl FnOnce(&Path) -> PathBuf, reason: &str) {
    let p = process(make);
    assert_eq!(p.record.status, VideoStatus::Failed, "{}", p.input.display());
    let why = p.record.failure_reason.as_deref().unwrap_or_default();
    assert!(
        why.contains(reason),
        "{}: reason {why:?}, expected {reason:?}",
        p.input.display()
    );
    assert_eq!(
        p.handled,
        1,
        "{}: failed by the upload event alone, no retry and no transcode",
        p.input.display()
    );
    assert!(!p.store.media_dir(KEY).exists(), "a media directory was left behind");
    let uploads: Vec<_> = std::fs::read_dir(p.data.join("uploads"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(uploads.is_empty(), "left in uploads/: {uploads:?}");
    assert_eq!(p.database.queued().unwrap(), 0, "a message was left queued");
    assert!(p.database.dead_letters().unwrap().is_empty());
}

#[test]
fn audio_only_is_refused() {
    bad(inputs::audio_only, "the file has no video stream (it holds only audio)");
}

#[test]
fn a_still_image_named_mp4_is_refused() {
    bad(
        inputs::still_image,
        "the file is not a video: it is a still image (jpeg)",
    );
}

#[test]
fn an_mp3_with_cover_art_is_refused() {
    bad(
        inputs::mp3_with_cover_art,
        "the file has no video stream (it holds only audio and a cover picture)",
    );
}

#[test]
fn random_bytes_are_refused() {
    bad(
        inputs::random_bytes,
        "the file could not be read as a video (Invalid data found when processing input)",
    );
}

#[test]
fn a_truncated_file_is_refused() {
    bad(inputs::truncated, "the file could not be read as a video");
}
