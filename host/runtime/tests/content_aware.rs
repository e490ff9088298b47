//! The content-aware planner and the two contract versions side by side: plugins built for
//! vodpipe:plugin@0.1.0 keep loading beside 0.2.0 ones, and constant-quality plans reach the
//! job document as QVBR.

mod common;

use common::{Spec, context, runtime, source};
use vodpipe_core::ports::Policy;
use vodpipe_core::{Analysis, ContentAnalysis, Probe, RatePoint, SizeSample};

fn content_aware() -> Spec<'static> {
    Spec {
        planner: "ladder-content-aware",
        preset: "content-aware",
        ..Spec::default()
    }
}

/// A 1080p30 source whose sampled windows cost `at_18` kb/s at CRF 18 and `at_28` at CRF
/// 28, encoded at 640x360.
fn measured(at_18: u64, at_28: u64) -> Probe {
    let mut probe = source(1920, 1080);
    probe.video_bitrate = Some(20_000_000);
    probe.analysis = Analysis::Measured(ContentAnalysis {
        frame_rate: 30.0,
        sampled_ms: 4_500,
        samples: vec![SizeSample {
            width: 640,
            height: 360,
            points: vec![
                RatePoint {
                    crf: 18.0,
                    bitrate: at_18 * 1000,
                },
                RatePoint {
                    crf: 28.0,
                    bitrate: at_28 * 1000,
                },
            ],
        }],
    });
    probe
}

#[test]
fn a_planner_built_for_0_1_0_still_loads_and_plans_beside_0_2_0_plugins() {
    let runtime = runtime();
    let legacy = Spec {
        planner: "legacy-planner",
        ..Spec::default()
    }
    .load(&runtime);
    let plan = legacy.plan(&source(1280, 720)).unwrap();
    let sizes: Vec<(u32, u32)> = plan.renditions.iter().map(|r| (r.width, r.height)).collect();
    assert_eq!(sizes, [(1280, 720), (854, 480), (640, 360), (426, 240)]);
    assert!(plan.renditions.iter().all(|r| r.quality_level.is_none()));
    assert_eq!(plan.renditions[1].video_bitrate, 1_400_000);
    // Its plan goes on to the 0.2.0 job builder and post-processor as any other.
    let job = legacy.build_job(&plan, &context()).unwrap();
    let h264 = &job.to_value()["Settings"]["OutputGroups"][0]["Outputs"][1]["VideoDescription"]["CodecSettings"]["H264Settings"];
    assert_eq!(
        (&h264["RateControlMode"], &h264["Bitrate"]),
        (&"VBR".into(), &1_400_000.into())
    );
    // The built-in 0.2.0 planner beside it in the same runtime.
    let current = Spec::default().load(&runtime);
    assert_eq!(current.plan(&source(1280, 720)).unwrap().renditions.len(), 4);
}

#[test]
fn simple_content_gets_the_ceiling_level_for_a_fraction_of_the_budget() {
    let policy = content_aware().load(&runtime());
    let plan = policy.plan(&measured(300, 100)).unwrap();
    let names: Vec<&str> = plan.renditions.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["1080p", "720p", "480p", "360p", "240p"]);
    for r in &plan.renditions {
        assert_eq!(r.quality_level, Some(9.0), "{}", r.name);
    }
    let top = &plan.renditions[0];
    assert!(
        top.video_bitrate < 2_500_000,
        "expected {} of a 5 Mb/s budget",
        top.video_bitrate
    );
    assert_eq!(top.max_bitrate, 5_000_000, "the budget is the peak");

    // The job builder writes QVBR: no Bitrate, the level, the peak.
    let job = policy.build_job(&plan, &context()).unwrap();
    let h264 = &job.to_value()["Settings"]["OutputGroups"][0]["Outputs"][0]["VideoDescription"]["CodecSettings"]["H264Settings"];
    assert_eq!(h264["RateControlMode"], "QVBR");
    assert_eq!(h264["QvbrSettings"]["QvbrQualityLevel"], 9);
    assert!(h264["QvbrSettings"].get("QvbrQualityLevelFineTune").is_none());
    assert_eq!(h264["MaxBitrate"], 5_000_000);
    assert!(h264.get("Bitrate").is_none());
}

#[test]
fn costly_content_gets_the_highest_level_its_budget_affords_in_thirds() {
    let policy = content_aware().load(&runtime());
    let plan = policy.plan(&measured(2_000, 500)).unwrap();
    let top = &plan.renditions[0];
    let level = top.quality_level.unwrap();
    assert!((5.0..9.0).contains(&level), "{level}");
    assert!(
        ((level * 3.0).round() - level * 3.0).abs() < 1e-9,
        "{level} is in thirds"
    );
    assert!(
        (3_000_000..=4_500_000).contains(&top.video_bitrate),
        "expected {} within 90% of the 5 Mb/s budget",
        top.video_bitrate
    );
    assert_eq!(top.max_bitrate, 5_000_000, "the budget is the peak");
    let job = policy.build_job(&plan, &context()).unwrap();
    let qvbr = &job.to_value()["Settings"]["OutputGroups"][0]["Outputs"][0]["VideoDescription"]["CodecSettings"]["H264Settings"]
        ["QvbrSettings"];
    let written = qvbr["QvbrQualityLevel"].as_f64().unwrap() + qvbr["QvbrQualityLevelFineTune"].as_f64().unwrap_or(0.0);
    assert!((written - level).abs() < 0.001, "{qvbr} for level {level}");
}

#[test]
fn without_an_analysis_every_rung_holds_the_ceiling_under_its_budget() {
    let policy = content_aware().load(&runtime());
    let plan = policy.plan(&source(1280, 720)).unwrap();
    for r in &plan.renditions {
        assert_eq!(r.quality_level, Some(9.0));
        assert_eq!(r.max_bitrate, r.video_bitrate, "{}: the budget is the peak", r.name);
    }
    assert_eq!(plan.renditions[0].max_bitrate, 3_000_000);
}

#[test]
fn a_failed_analysis_plans_the_presets_bitrates() {
    let policy = content_aware().load(&runtime());
    let default = Spec::default().load(&runtime());
    let mut probe = source(1280, 720);
    probe.analysis = Analysis::Failed {
        reason: "ffmpeg failed on the window at 1.0 s".into(),
    };
    let plan = policy.plan(&probe).unwrap();
    assert!(plan.renditions.iter().all(|r| r.quality_level.is_none()));
    let rates = |plan: &vodpipe_core::Plan| -> Vec<(u64, u64)> {
        plan.renditions
            .iter()
            .map(|r| (r.video_bitrate, r.max_bitrate))
            .collect()
    };
    assert_eq!(rates(&plan), rates(&default.plan(&source(1280, 720)).unwrap()));
}

#[test]
fn a_low_bitrate_source_never_gets_a_rendition_above_what_it_has() {
    let policy = content_aware().load(&runtime());
    for analysis in [
        measured(3_000, 800).analysis,
        measured(100, 30).analysis,
        Analysis::NotRun,
    ] {
        let mut probe = source(1280, 720);
        probe.video_bitrate = Some(500_000);
        probe.analysis = analysis;
        let plan = policy.plan(&probe).unwrap();
        for r in &plan.renditions {
            assert!(r.video_bitrate <= 500_000, "{r:?}");
            // A constant quality's average is bounded by its peak alone.
            if r.quality_level.is_some() {
                assert!(r.max_bitrate <= 500_000, "{r:?}");
            }
        }
        assert!(plan.renditions[0].video_bitrate <= 500_000);
    }
}

#[test]
fn a_preset_for_a_planner_the_bundle_does_not_pin_is_refused_with_its_name() {
    let runtime = runtime();
    let files = Spec {
        preset: "content-aware",
        ..Spec::default()
    }
    .files();
    let error = vodpipe_runtime::reload::load(&runtime, &files, None)
        .err()
        .expect("refused");
    let report = error.report(&files, None);
    assert!(
        report.contains("written for planner `ladder-content-aware`")
            && report.contains("[planners.ladder-content-aware]"),
        "{report}"
    );
}

#[test]
fn the_builtin_bundle_runs_each_preset_with_its_planner() {
    let runtime = runtime();
    let files = vodpipe_plugin_artifacts::builtin_files();
    for (preset, planner) in [
        ("default", "ladder-table"),
        ("per-title", "ladder-per-title"),
        ("content-aware", "ladder-content-aware"),
    ] {
        let policy = vodpipe_runtime::reload::load(&runtime, &files, Some(preset)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(policy.plugin_names()[0].0, planner, "{preset}");
    }
}

#[test]
fn the_planners_settings_are_checked_with_every_problem_named() {
    let runtime = runtime();
    let mut files = content_aware().files();
    let preset = files.files.get_mut("ladders/content-aware.toml").unwrap();
    *preset = String::from_utf8_lossy(preset)
        .replace("quality_level = 9", "quality_level = 11")
        .replace("min_step = 1.4", "min_step = 0.5\nceiling = 9")
        .into_bytes();
    let error = vodpipe_runtime::reload::load(&runtime, &files, None)
        .err()
        .expect("refused");
    let report = error.report(&files, None);
    for expected in ["quality_level", "min_step", "ceiling"] {
        assert!(report.contains(expected), "{expected} in {report}");
    }

    let mut files = content_aware().files();
    let preset = files.files.get_mut("ladders/content-aware.toml").unwrap();
    *preset = String::from_utf8_lossy(preset)
        .replace("quality_level = 9", "quality_level = 4")
        .into_bytes();
    let report = vodpipe_runtime::reload::load(&runtime, &files, None)
        .err()
        .expect("refused")
        .report(&files, None);
    assert!(
        report.contains("min_quality_level") && report.contains("5 is above quality_level 4"),
        "{report}"
    );
}
