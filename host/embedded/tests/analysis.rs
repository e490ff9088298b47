//! The content analysis with a real ffmpeg: what it measures, and how it fails.

use std::path::Path;
use std::process::Command;

use vodpipe_core::ports::Prober;
use vodpipe_embedded::analysis::SampleAnalyser;
use vodpipe_embedded::ffmpeg::test_pattern;
use vodpipe_embedded::ffprobe::FfprobeProber;

/// `seconds` of ffmpeg's `source` (a lavfi graph) as H.264 in MP4.
fn clip(path: &Path, source: &str) {
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", source])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "10",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn busier_content_costs_more_at_every_crf_and_lower_crfs_cost_more() {
    let dir = tempfile::tempdir().unwrap();
    let (flat, noisy) = (dir.path().join("flat.mp4"), dir.path().join("noisy.mp4"));
    clip(
        &flat,
        "color=c=0x336699:size=854x480:rate=30:duration=4,drawbox=x=t*100:y=200:w=200:h=200:c=white:t=fill",
    );
    clip(&noisy, "testsrc2=size=854x480:rate=30:duration=4,noise=alls=40:allf=t");
    let analyser = SampleAnalyser::default();
    let measure = |path: &Path| {
        let probe = FfprobeProber::default().probe(path).unwrap();
        analyser.analyse(path, &probe, 60.0).unwrap()
    };
    let (flat, noisy) = (measure(&flat), measure(&noisy));
    for analysis in [&flat, &noisy] {
        let sizes: Vec<(u32, u32)> = analysis.samples.iter().map(|s| (s.width, s.height)).collect();
        assert_eq!(
            sizes,
            [(640, 360), (854, 480)],
            "360p, and the source's own size under 720p"
        );
        assert_eq!(analysis.frame_rate, 30.0);
        assert_eq!(analysis.sampled_ms, 2_000, "10% of 4 s is under one GOP: one GOP");
        for sample in &analysis.samples {
            assert_eq!(sample.points.len(), 2);
            assert!(sample.points[0].bitrate > sample.points[1].bitrate, "{analysis:?}");
        }
        assert!(
            analysis.samples[1].points[0].bitrate > analysis.samples[0].points[0].bitrate,
            "more pixels cost more: {analysis:?}"
        );
    }
    for (f, n) in flat.samples[0].points.iter().zip(&noisy.samples[0].points) {
        assert!(n.bitrate > 5 * f.bitrate, "noise costs far more: {flat:?} {noisy:?}");
    }
}

#[test]
fn a_small_portrait_source_is_sampled_at_its_own_size_and_frame_rate_cap() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("portrait.mp4");
    test_pattern(&path, 240, 426, 2, false).unwrap();
    let probe = FfprobeProber::default().probe(&path).unwrap();
    let analysis = SampleAnalyser::default().analyse(&path, &probe, 24.0).unwrap();
    let sizes: Vec<(u32, u32)> = analysis.samples.iter().map(|s| (s.width, s.height)).collect();
    assert_eq!(sizes, [(240, 426)], "one size: the source's own");
    assert_eq!(analysis.frame_rate, 24.0);
    assert_eq!(analysis.sampled_ms, 2_000, "a 2 s clip is taken whole");
}

#[test]
fn an_analysis_that_cannot_run_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clip.mp4");
    test_pattern(&path, 320, 240, 2, false).unwrap();
    let probe = FfprobeProber::default().probe(&path).unwrap();

    let missing = SampleAnalyser {
        ffmpeg: "/nonexistent/ffmpeg".into(),
        ..SampleAnalyser::default()
    };
    let error = missing.analyse(&path, &probe, 30.0).unwrap_err();
    assert!(error.starts_with("cannot run `/nonexistent/ffmpeg`"), "{error}");

    std::fs::write(&path, b"not a video any more").unwrap();
    let error = SampleAnalyser::default().analyse(&path, &probe, 30.0).unwrap_err();
    // 2 s: no longer than a GOP, taken whole.
    assert!(error.starts_with("ffmpeg failed on the window at 0.0 s"), "{error}");
    assert!(error.ends_with("Invalid data found when processing input"), "{error}");

    let mut unknown = probe.clone();
    unknown.duration_ms = 0;
    assert_eq!(
        SampleAnalyser::default().analyse(&path, &unknown, 30.0).unwrap_err(),
        "the source's duration is unknown"
    );
}
