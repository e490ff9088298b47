//! The measurement on known cases, with the real ffmpeg and libvmaf's vmaf tool: a source
//! against a lossless copy of itself scores as identical, a degraded copy scores lower by the
//! expected order; and each failure names its cause.

use std::path::{Path, PathBuf};

use vodpipe_quality::{MeasureError, Measurer, Rendition, Sampling, stats};

/// ffmpeg with `args`, the last of which is the output.
fn ffmpeg(args: &[&str]) {
    let (out, args) = args.split_last().expect("an output");
    vodpipe_test_support::media::ffmpeg(args, Path::new(out));
}

/// A 2 s, 320x180, 25 fps source with motion and detail.
fn source(dir: &Path) -> PathBuf {
    source_of(dir, "testsrc2=size=320x180:rate=25:duration=2")
}

fn source_of(dir: &Path, lavfi: &str) -> PathBuf {
    let path = dir.join("source.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        lavfi,
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
    filtered_rendition(dir, source, name, size, "null", codec)
}

/// [`rendition`], with `filter` after the scaler.
fn filtered_rendition(dir: &Path, source: &Path, name: &str, size: &str, filter: &str, codec: &[&str]) -> Rendition {
    let out = dir.join(name);
    std::fs::create_dir_all(&out).unwrap();
    let playlist = out.join("index.m3u8");
    let mut args = vec!["-i", source.to_str().unwrap(), "-vf"];
    let scale = format!("scale={size}:flags=bicubic,{filter}");
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

/// The real tools, scoring every picture; VMAF is required here (./scripts/test builds the
/// tool).
fn measurer() -> Measurer {
    let measurer = Measurer {
        sampling: Sampling::EVERY_PICTURE,
        ..Measurer::default()
    };
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
fn sampling_scores_what_every_picture_scores_where_a_fixed_period_would_alias() {
    // 12 s at 30000/1001 fps (ffmpeg's timestamps are not whole numbers of milliseconds),
    // and a rendition whose every fourth picture is blurred: the period of a mini-GOP.
    let dir = tempfile::tempdir().unwrap();
    let source = source_of(dir.path(), "testsrc2=size=320x180:rate=30000/1001:duration=12");
    let blurred = filtered_rendition(
        dir.path(),
        &source,
        "blurred",
        "320:180",
        "boxblur=2:1:enable='not(mod(n,4))'",
        &["-crf", "16"],
    );
    let work_all = dir.path().join("all");
    let work_sampled = dir.path().join("sampled");
    std::fs::create_dir_all(&work_all).unwrap();
    std::fs::create_dir_all(&work_sampled).unwrap();
    let all = measurer()
        .measure(&source, None, std::slice::from_ref(&blurred), &work_all)
        .unwrap();
    let sampling = Sampling::one_in(4).unwrap();
    let sampled = Measurer { sampling, ..measurer() }
        .measure(&source, None, std::slice::from_ref(&blurred), &work_sampled)
        .unwrap();
    let (all, sampled) = (&all.renditions[0], &sampled.renditions[0]);

    // ffmpeg's select kept exactly the pictures the sampling names.
    assert_eq!(all.frames, 360, "{all:?}");
    let chosen = (0..all.frames).filter(|&i| sampling.compares(i)).count() as u64;
    assert_eq!(sampled.frames, chosen, "{sampled:?}");
    assert!(chosen < 200, "{chosen}");

    let (vmaf_all, vmaf_sampled) = (all.vmaf.unwrap(), sampled.vmaf.unwrap());
    assert!(
        (vmaf_all - vmaf_sampled).abs() < 1.5,
        "VMAF {vmaf_all} vs {vmaf_sampled}"
    );
    let (psnr_all, psnr_sampled) = (all.psnr_db.unwrap(), sampled.psnr_db.unwrap());
    assert!(
        (psnr_all - psnr_sampled).abs() < 0.75,
        "PSNR {psnr_all} vs {psnr_sampled}"
    );

    // The control: one picture in 4 at a fixed period lands on the blurred ones alone.
    let log = std::fs::read_to_string(work_all.join("psnr0.log")).unwrap();
    let per_picture: Vec<f64> = log
        .lines()
        .map(|l| {
            l.split("psnr_y:")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let periodic: Vec<f64> = per_picture.iter().step_by(4).copied().collect();
    assert!(
        mean(&per_picture) - mean(&periodic) > 3.0,
        "the blur should show at a fixed period: {} vs {}",
        mean(&per_picture),
        mean(&periodic)
    );
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
