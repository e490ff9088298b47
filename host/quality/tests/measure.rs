//! The measurement on known cases, with the real ffmpeg and libvmaf's vmaf tool: a source
//! against a lossless copy of itself scores as identical, a degraded copy scores lower by the
//! expected order; and each failure names its cause.

use std::path::{Path, PathBuf};
use std::process::Command;

use vodpipe_quality::{MeasureError, Measurer, Rendition, stats};

fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("run ffmpeg");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A 2 s, 320x180, 25 fps source with motion and detail.
fn source(dir: &Path) -> PathBuf {
    let path = dir.join("source.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x180:rate=25:duration=2",
        "-c:v",
        "libx264",
        "-qp",
        "0",
        "-pix_fmt",
        "yuv420p",
        path.to_str().unwrap(),
    ]);
    path
}

/// `source` encoded as an HLS rendition of `size` with extra x264 options.
fn rendition(dir: &Path, source: &Path, name: &str, size: &str, codec: &[&str]) -> Rendition {
    let out = dir.join(name);
    std::fs::create_dir_all(&out).unwrap();
    let playlist = out.join("index.m3u8");
    let mut args = vec!["-i", source.to_str().unwrap(), "-vf"];
    let scale = format!("scale={size}:flags=bicubic");
    args.push(&scale);
    args.extend(["-c:v", "libx264", "-pix_fmt", "yuv420p"]);
    args.extend(codec);
    args.extend(["-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod"]);
    args.push(playlist.to_str().unwrap());
    ffmpeg(&args);
    let (w, h) = size.split_once(':').unwrap();
    Rendition {
        name: name.into(),
        width: w.parse().unwrap(),
        height: h.parse().unwrap(),
        playlist,
    }
}

/// The real tools; VMAF is required here (./scripts/test builds the tool).
fn measurer() -> Measurer {
    let measurer = Measurer::default();
    if let Err(reason) = &measurer.vmaf {
        panic!("these tests need libvmaf's vmaf tool (run them with ./scripts/test, which builds it): {reason}");
    }
    measurer
}

#[test]
fn a_lossless_copy_is_identical_and_a_degraded_one_scores_lower_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let source = source(dir.path());
    let renditions = [
        rendition(dir.path(), &source, "same", "320:180", &["-qp", "0"]),
        rendition(dir.path(), &source, "good", "320:180", &["-crf", "23"]),
        rendition(dir.path(), &source, "bad", "320:180", &["-crf", "45"]),
        rendition(dir.path(), &source, "small", "160:90", &["-crf", "23"]),
    ];
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let m = measurer()
        .measure(&source, Some((320, 180)), &renditions, &work)
        .unwrap();
    let [same, good, bad, small] = &m.renditions[..] else {
        panic!("{m:?}")
    };
    assert_eq!(m.vmaf_unavailable, None);
    for s in &m.renditions {
        assert_eq!(s.frames, 50, "{s:?}: every picture compared, aligned");
        assert!(s.avg_kbps > 0.0 && s.peak_kbps >= s.avg_kbps, "{s:?}");
    }
    // Identical pictures: the dB metrics at their cap, VMAF at its top.
    assert!((same.psnr_db.unwrap() - stats::MAX_PSNR_DB).abs() < 1e-9, "{same:?}");
    assert_eq!(same.ssim_db, Some(stats::MAX_SSIM_DB), "{same:?}");
    assert!(same.vmaf.unwrap() > 97.0, "{same:?}");
    // Degraded: strictly in order, by clear margins.
    assert!(good.psnr_db.unwrap() > bad.psnr_db.unwrap() + 5.0, "{good:?} {bad:?}");
    assert!(good.ssim_db.unwrap() > bad.ssim_db.unwrap() + 3.0, "{good:?} {bad:?}");
    assert!(good.vmaf.unwrap() > bad.vmaf.unwrap() + 20.0, "{good:?} {bad:?}");
    assert!(bad.vmaf.unwrap() < 70.0 && bad.psnr_db.unwrap() < 35.0, "{bad:?}");
    assert!(same.avg_kbps > good.avg_kbps && good.avg_kbps > bad.avg_kbps);
    // A smaller rendition is compared with the source scaled to its own size.
    assert_eq!((small.width, small.height), (160, 90));
    assert!(small.psnr_db.unwrap() > 25.0, "{small:?}");
}

#[test]
fn without_the_vmaf_tool_vmaf_is_null_with_the_reason_and_the_rest_is_measured() {
    let dir = tempfile::tempdir().unwrap();
    let source = source(dir.path());
    let renditions = [rendition(dir.path(), &source, "r", "320:180", &["-crf", "30"])];
    let measurer = Measurer {
        vmaf: Err("libvmaf's vmaf tool was not found".into()),
        ..Measurer::default()
    };
    let m = measurer.measure(&source, None, &renditions, dir.path()).unwrap();
    assert_eq!(m.vmaf_unavailable.as_deref(), Some("libvmaf's vmaf tool was not found"));
    let r = &m.renditions[0];
    assert_eq!(r.vmaf, None);
    assert!(r.psnr_db.unwrap() > 25.0 && r.ssim_db.unwrap() > 8.0, "{r:?}");
}

#[test]
fn an_ffmpeg_without_a_needed_filter_is_named() {
    let dir = tempfile::tempdir().unwrap();
    // An ffmpeg built without the ssim filter: the real one, with `ssim` gone from its list.
    let wrapper = dir.path().join("ffmpeg");
    std::fs::write(
        &wrapper,
        "#!/bin/sh\nif [ \"$2\" = -filters ]; then ffmpeg \"$@\" | grep -v ' ssim '; else exec ffmpeg \"$@\"; fi\n",
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let source = source(dir.path());
    let renditions = [rendition(dir.path(), &source, "r", "320:180", &["-crf", "30"])];
    let measurer = Measurer {
        ffmpeg: wrapper.clone(),
        ..Measurer::default()
    };
    let error = measurer.measure(&source, None, &renditions, dir.path()).unwrap_err();
    assert!(
        matches!(error, MeasureError::MissingFilter { filter: "ssim", .. }),
        "{error}"
    );
    assert!(error.to_string().contains("has no `ssim` filter"), "{error}");
}

#[test]
fn an_unreadable_source_or_rendition_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let source = source(dir.path());
    let renditions = [rendition(dir.path(), &source, "r", "320:180", &["-crf", "30"])];
    let garbage = dir.path().join("garbage.mp4");
    std::fs::write(&garbage, [0x5au8; 4096]).unwrap();
    let error = measurer().measure(&garbage, None, &renditions, dir.path()).unwrap_err();
    assert!(matches!(error, MeasureError::Source { .. }), "{error}");
    assert!(
        error
            .to_string()
            .starts_with(&format!("{}: cannot be read as video", garbage.display()))
    );

    let missing = Rendition {
        playlist: dir.path().join("gone.m3u8"),
        ..renditions[0].clone()
    };
    let error = measurer().measure(&source, None, &[missing], dir.path()).unwrap_err();
    assert!(error.to_string().starts_with("rendition r: "), "{error}");
}
