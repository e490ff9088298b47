//! The header prober against ffprobe on real files made by ffmpeg, and how little it reads.

mod common;

use std::path::{Path, PathBuf};

use common::{Fixtures, H264, av_source, ffmpeg, ffprobe};
use vodpipe_probe_header::{Counted, FileSource, MAX_READS, Probe, probe};

const ONE_MB: u64 = 1_000_000;

struct Probed {
    probe: Probe,
    bytes_read: u64,
    reads: u64,
}

fn probe_file(path: &Path) -> Probed {
    let source = Counted::new(FileSource::open(path).unwrap());
    let probe = probe(&source).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    eprintln!(
        "{}: {} bytes, read {} bytes in {} reads: {probe:?}",
        path.file_name().unwrap().to_string_lossy(),
        std::fs::metadata(path).unwrap().len(),
        source.bytes_read(),
        source.reads()
    );
    Probed {
        probe,
        bytes_read: source.bytes_read(),
        reads: source.reads(),
    }
}

/// Probes `path` and checks every field against ffprobe.
fn agrees_with_ffprobe(path: &Path) -> Probed {
    let probed = probe_file(path);
    let (p, ff) = (&probed.probe, ffprobe(path));
    assert_eq!((p.width, p.height), (ff.width, ff.height), "size: {ff:?}");
    assert_eq!(p.rotation, ff.rotation, "rotation: {ff:?}");
    assert!(
        (p.duration_ms as f64 - ff.duration_ms).abs() <= 50.0,
        "duration {} vs ffprobe {}",
        p.duration_ms,
        ff.duration_ms
    );
    let fps = ff.avg_frame_rate;
    assert!(
        (p.frame_rate - fps).abs() <= 0.1,
        "frame rate {} vs {fps}",
        p.frame_rate
    );
    assert_eq!(p.has_audio, ff.has_audio);
    assert_eq!(p.container, ff.container);
    assert_eq!(p.video_codec, ff.video_codec);
    if let Some(expected) = ff.video_bitrate {
        let got = p.video_bitrate.expect("a video bitrate") as f64;
        assert!(
            (got - expected).abs() <= expected * 0.02,
            "video bitrate {got} vs ffprobe {expected}"
        );
    }
    let expected = ff.total_bitrate.expect("ffprobe's total bitrate");
    let got = p.total_bitrate.expect("a total bitrate") as f64;
    assert!(
        (got - expected).abs() <= expected * 0.02,
        "total bitrate {got} vs ffprobe {expected}"
    );
    assert!(probed.bytes_read <= ONE_MB, "read {} bytes", probed.bytes_read);
    probed
}

fn hd_with_audio(fixtures: &Fixtures, name: &str, extra: &[&str]) -> PathBuf {
    fixtures.make(name, |out| {
        let mut args = av_source("1280x720", "30", "3");
        args.extend(H264.map(String::from));
        args.extend(["-c:a", "aac"].map(String::from));
        args.extend(extra.iter().map(|s| s.to_string()));
        ffmpeg(&args.iter().map(String::as_str).collect::<Vec<_>>(), out);
    })
}

#[test]
fn mp4_with_moov_at_the_end() {
    let fixtures = Fixtures::new();
    let probed = agrees_with_ffprobe(&hd_with_audio(&fixtures, "moov-end.mp4", &[]));
    let p = &probed.probe;
    assert_eq!((p.width, p.height, p.rotation, p.duration_ms), (1280, 720, 0, 3000));
    assert!((p.frame_rate - 30.0).abs() < 1e-9 && p.has_audio);
    assert_eq!(
        (p.container.as_str(), p.video_codec.as_str()),
        ("mov,mp4,m4a,3gp,3g2,mj2", "h264")
    );
    // The head, then the rest of the file after `mdat`, which is `moov`.
    assert_eq!(probed.reads, 2);
}

#[test]
fn mp4_with_moov_at_the_start() {
    let fixtures = Fixtures::new();
    let probed = agrees_with_ffprobe(&hd_with_audio(&fixtures, "faststart.mp4", &["-movflags", "+faststart"]));
    assert_eq!(probed.reads, 1, "moov fits in the first 64 KiB");
}

/// ffmpeg 5.1 has no `-display_rotation`; a `rotate` tag on a stream copy becomes the display
/// matrix (ffmpeg takes the tag as counter-clockwise here, so `rotate=90` shows 270° clockwise).
fn rotated(fixtures: &Fixtures, degrees_tag: u32) -> PathBuf {
    let source = hd_with_audio(fixtures, "moov-end.mp4", &[]);
    fixtures.make(&format!("rotate-{degrees_tag}.mp4"), |out| {
        let tag = format!("rotate={degrees_tag}");
        let args = ["-i", source.to_str().unwrap(), "-c", "copy", "-metadata:s:v:0", &tag];
        ffmpeg(&args, out);
    })
}

#[test]
fn rotated_phone_videos() {
    let fixtures = Fixtures::new();
    for (tag, clockwise) in [(90, 270), (180, 180), (270, 90)] {
        let path = rotated(&fixtures, tag);
        assert_eq!(ffprobe(&path).rotation, clockwise, "the fixture carries its rotation");
        let probed = agrees_with_ffprobe(&path);
        assert_eq!(
            (probed.probe.width, probed.probe.height),
            (1280, 720),
            "coded size, not rotated"
        );
        assert_eq!(probed.probe.rotation, clockwise);
    }
    // Portrait as the viewer sees it.
    assert_eq!(probe_file(&rotated(&fixtures, 270)).probe.display_size(), (720, 1280));
}

#[test]
fn silent_video() {
    let fixtures = Fixtures::new();
    let path = fixtures.make("silent.mp4", |out| {
        let mut args = vec!["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-t", "2"];
        args.extend(H264);
        ffmpeg(&args, out);
    });
    let probed = agrees_with_ffprobe(&path);
    assert!(!probed.probe.has_audio);
    assert_eq!((probed.probe.duration_ms, probed.probe.frame_rate), (2000, 25.0));
}

#[test]
fn quicktime_mov_at_ntsc_rate() {
    let fixtures = Fixtures::new();
    let path = fixtures.make("ntsc.mov", |out| {
        let mut args = av_source("640x480", "24000/1001", "2");
        args.extend(H264.map(String::from));
        args.extend(["-c:a", "aac"].map(String::from));
        ffmpeg(&args.iter().map(String::as_str).collect::<Vec<_>>(), out);
    });
    let probed = agrees_with_ffprobe(&path);
    assert!(
        (probed.probe.frame_rate - 23.976).abs() < 0.001,
        "{}",
        probed.probe.frame_rate
    );
}

#[test]
fn hevc_mp4() {
    let fixtures = Fixtures::new();
    let path = fixtures.make("hevc.mp4", |out| {
        let args = [
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=30",
            "-t",
            "1",
            "-c:v",
            "libx265",
            "-preset",
            "ultrafast",
            "-x265-params",
            "log-level=error",
            "-tag:v",
            "hvc1",
        ];
        ffmpeg(&args, out);
    });
    assert_eq!(agrees_with_ffprobe(&path).probe.video_codec, "hevc");
}

/// ffmpeg stretches the first video sample of this 25 fps file to cover the audio's start, so
/// the average frame rate the fragments give, like ffprobe's, is 24.8.
#[test]
fn fragmented_mp4() {
    let fixtures = Fixtures::new();
    let path = fixtures.make("fragmented.mp4", |out| {
        let mut args = av_source("640x360", "25", "3");
        args.extend(H264.map(String::from));
        args.extend(["-g", "25", "-c:a", "aac", "-movflags", "frag_keyframe+empty_moov"].map(String::from));
        ffmpeg(&args.iter().map(String::as_str).collect::<Vec<_>>(), out);
    });
    let probed = agrees_with_ffprobe(&path);
    assert!(probed.reads <= 4, "head, then a moof and its mdat header per fragment");
}

/// More fragments than the prober walks: the `mfra` index at the end gives the last one.
#[test]
fn fragmented_mp4_with_a_fragment_per_frame() {
    let fixtures = Fixtures::new();
    let path = fixtures.make("fragment-per-frame.mp4", |out| {
        let mut args = vec!["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-t", "10"];
        args.extend(H264);
        args.extend(["-movflags", "frag_every_frame+empty_moov"]);
        ffmpeg(&args, out);
    });
    let ff = ffprobe(&path);
    let probed = probe_file(&path);
    let p = &probed.probe;
    assert_eq!((p.width, p.height, p.video_codec.as_str()), (320, 180, "h264"));
    assert!(
        (p.duration_ms as f64 - ff.duration_ms).abs() <= 50.0,
        "{} vs {}",
        p.duration_ms,
        ff.duration_ms
    );
    assert!((p.frame_rate - 30.0).abs() < 0.1, "{}", p.frame_rate);
    assert!(probed.reads <= u64::from(MAX_READS) && probed.bytes_read <= ONE_MB);
}

#[test]
fn webm_vp9_with_opus() {
    let fixtures = Fixtures::new();
    let path = fixtures.make("vp9.webm", |out| {
        let mut args = av_source("640x360", "25", "3");
        args.extend(common::VP9_OPUS.map(String::from));
        ffmpeg(&args.iter().map(String::as_str).collect::<Vec<_>>(), out);
    });
    let probed = agrees_with_ffprobe(&path);
    assert_eq!(probed.probe.container, "matroska,webm");
    assert_eq!(probed.reads, 1);
}

#[test]
fn matroska_h264_with_aac() {
    let fixtures = Fixtures::new();
    let path = fixtures.make("h264.mkv", |out| {
        let mut args = av_source("1280x720", "30", "2");
        args.extend(H264.map(String::from));
        args.extend(["-c:a", "aac"].map(String::from));
        ffmpeg(&args.iter().map(String::as_str).collect::<Vec<_>>(), out);
    });
    assert_eq!(agrees_with_ffprobe(&path).probe.video_codec, "h264");
}

/// About 100 MB of real H.264: lossless noise is incompressible, so 20 frames of 1080p make it.
fn hundred_megabytes(fixtures: &Fixtures, name: &str, extra: &[&str]) -> PathBuf {
    let moov_at_end = fixtures.make("100mb.mp4", |out| {
        let args = [
            "-f",
            "lavfi",
            "-i",
            "nullsrc=s=1920x1080:r=10,geq=lum='random(1)*255':cb='random(2)*255':cr='random(3)*255'",
            "-f",
            "lavfi",
            "-i",
            "sine=sample_rate=48000",
            "-frames:v",
            "20",
            "-t",
            "2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-qp",
            "0",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
        ];
        ffmpeg(&args, out);
    });
    if extra.is_empty() {
        return moov_at_end;
    }
    fixtures.make(name, |out| {
        let mut args = vec!["-i", moov_at_end.to_str().unwrap(), "-c", "copy"];
        args.extend(extra);
        ffmpeg(&args, out);
    })
}

#[test]
fn a_100_mb_file_costs_under_1_mb_of_reads() {
    let fixtures = Fixtures::new();
    for path in [
        hundred_megabytes(&fixtures, "100mb.mp4", &[]),
        hundred_megabytes(&fixtures, "100mb-faststart.mp4", &["-movflags", "+faststart"]),
    ] {
        let size = std::fs::metadata(&path).unwrap().len();
        assert!(size >= 95_000_000, "the fixture is {size} bytes");
        let probed = agrees_with_ffprobe(&path);
        assert!(probed.bytes_read <= ONE_MB && probed.reads <= 3);
        eprintln!(
            "100 MB figure: {}: read {} of {size} bytes in {} reads",
            path.file_name().unwrap().to_string_lossy(),
            probed.bytes_read,
            probed.reads
        );
    }
}
