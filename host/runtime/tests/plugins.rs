//! The shipped plugins through the real runtime: ladder rules, plugin swap by configuration,
//! config validation, job documents and post-processing.

mod common;

use common::{Spec, context, runtime, source};
use vodpipe_core::ports::Policy;
use vodpipe_core::{Action, JobOutput, JobResult, JobStatus, PluginFailure, Stage, Video, VideoStatus};
use vodpipe_runtime::reload::{LoadError, load};

fn sizes(policy: &dyn Policy, probe: &vodpipe_core::Probe) -> Vec<(u32, u32)> {
    policy
        .plan(probe)
        .unwrap()
        .renditions
        .iter()
        .map(|r| (r.width, r.height))
        .collect()
}

#[test]
fn default_ladder_reproduces_the_original_rule() {
    let runtime = runtime();
    let policy = Spec::default().load(&runtime);
    assert_eq!(
        sizes(&policy, &source(1280, 720)),
        [(1280, 720), (854, 480), (640, 360), (426, 240)]
    );
    assert_eq!(sizes(&policy, &source(658, 370)), [(640, 360), (426, 240)]);
    assert_eq!(
        sizes(&policy, &source(1920, 1080)),
        [(1920, 1080), (1280, 720), (854, 480), (640, 360), (426, 240)]
    );
    // Huge sources stop at the top rung.
    assert_eq!(sizes(&policy, &source(7680, 4320))[0], (1920, 1080));
}

#[test]
fn portrait_and_rotated_sources_use_short_side_rungs() {
    let runtime = runtime();
    let policy = Spec::default().load(&runtime);
    let portrait = [(720, 1280), (480, 854), (360, 640), (240, 426)];
    assert_eq!(sizes(&policy, &source(720, 1280)), portrait);
    // A phone video stored as 1280x720 with a 90° display rotation is portrait.
    let mut phone = source(1280, 720);
    phone.rotation = 90;
    assert_eq!(sizes(&policy, &phone), portrait);
}

#[test]
fn tiny_source_gets_one_rendition_at_its_own_even_size() {
    let runtime = runtime();
    let policy = Spec::default().load(&runtime);
    let plan = policy.plan(&source(177, 99)).unwrap();
    assert_eq!(plan.renditions.len(), 1);
    assert_eq!((plan.renditions[0].width, plan.renditions[0].height), (176, 98));
}

#[test]
fn silent_source_plans_no_audio_and_the_job_has_no_audio_selector() {
    let runtime = runtime();
    let policy = Spec::default().load(&runtime);
    let mut silent = source(1280, 720);
    silent.has_audio = false;
    let plan = policy.plan(&silent).unwrap();
    assert!(plan.renditions.iter().all(|r| r.audio_bitrate.is_none()));
    let job = policy.build_job(&plan, &context()).unwrap();
    let text = job.create_job.get();
    assert!(
        !text.contains("AudioSelectors") && !text.contains("AudioDescriptions"),
        "{text}"
    );
}

#[test]
fn swapping_the_planner_is_configuration_only() {
    let runtime = runtime();
    let table = Spec {
        preset: "per-title",
        ..Default::default()
    };
    // ladder-table takes no config, so the per-title preset's [plugin] table is refused
    // (once the preset no longer names the planner it is written for)...
    let mut files = table.files();
    let preset = files.files.get_mut("ladders/per-title.toml").unwrap();
    *preset = String::from_utf8_lossy(preset)
        .replace("planner = \"ladder-per-title\"\n", "")
        .into_bytes();
    let Err(LoadError::Plugins(errors)) = load(&runtime, &files, None) else {
        panic!("accepted")
    };
    let message = errors[0].to_string();
    assert!(
        message.contains("reference_bpp: unknown key (this plugin takes no config)"),
        "{message}"
    );

    // ...and ladder-per-title reads it: same sizes, bitrates shifted by the source's detail.
    let per_title_spec = Spec {
        planner: "ladder-per-title",
        preset: "per-title",
        ..Default::default()
    };
    let per_title = per_title_spec.load(&runtime);
    let plain = Spec::default().load(&runtime);
    let mut simple = source(1280, 720);
    simple.video_bitrate = Some(500_000); // ~0.018 bits per pixel: flat content
    let mut busy = source(1280, 720);
    busy.video_bitrate = Some(12_000_000); // ~0.43 bits per pixel: busy content

    let base = plain.plan(&simple).unwrap();
    let low = per_title.plan(&simple).unwrap();
    let high = per_title.plan(&busy).unwrap();
    assert_eq!(sizes(&per_title, &simple), sizes(&plain, &simple));
    let top = |p: &vodpipe_core::Plan| p.renditions[0].video_bitrate;
    assert_eq!(top(&high), top(&base) * 14 / 10, "clamped at max_factor 1.4");
    // min_factor 0.6 would give the simple source's 720p 1.8 Mb/s: more than the 500 kb/s it
    // has, so it gets what it has, and each lower rung that share of it.
    assert_eq!(top(&low), 500_000, "capped at the source's own bitrate");
    assert!(
        low.renditions.iter().all(|r| r.video_bitrate <= 500_000),
        "{:?}",
        low.renditions
    );
    let mut uncapped = per_title_spec.files();
    let preset = uncapped.files.get_mut("ladders/per-title.toml").unwrap();
    *preset = String::from_utf8_lossy(preset)
        .replace("max_factor = 1.4", "max_factor = 1.4\ncap_to_source = false")
        .into_bytes();
    let uncapped = load(&runtime, &uncapped, None).unwrap();
    assert_eq!(
        top(&uncapped.plan(&simple).unwrap()),
        top(&base) * 6 / 10,
        "clamped at min_factor 0.6"
    );
}

#[test]
fn plugin_config_problems_name_their_keys() {
    let runtime = runtime();
    let spec = Spec {
        planner: "ladder-per-title",
        preset: "per-title",
        job_builder_config: "{ gop_seconds = 4, manifest_name = \"no spaces\", colour = \"red\" }",
        post_processor_config: "{ delete_source = \"yes\" }",
        ..Default::default()
    };
    let mut files = spec.files();
    let preset = files.files.get_mut("ladders/per-title.toml").unwrap();
    *preset = String::from_utf8_lossy(preset)
        .replace("min_factor = 0.6", "min_factor = 5")
        .into_bytes();
    let Err(LoadError::Plugins(errors)) = load(&runtime, &files, None) else {
        panic!("accepted")
    };
    let described: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let all = described.join("\n");
    assert_eq!(errors.len(), 3, "{all}");
    assert!(
        all.contains("`ladder-per-title` (planner): found problems in its config: min_factor: 5 is out of range"),
        "{all}"
    );
    assert!(all.contains("manifest_name: `no spaces` must be letters"), "{all}");
    assert!(all.contains("colour: unknown key"), "{all}");
    assert!(
        all.contains(
            "`post-default` (post-processor): found problems in its config: delete_source: expected a boolean"
        ),
        "{all}"
    );
    assert!(errors.iter().map(|e| e.stage).eq(Stage::ALL));

    // For people, each problem is placed at its key, in the file it was written in.
    let report = LoadError::Plugins(errors).report(&files, None);
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines.len(), 5, "{report}");
    assert!(
        lines[0].starts_with("test-bundle/ladders/per-title.toml:")
            && lines[0]
                .ends_with(": plugin.min_factor: 5 is out of range (0.1..=1) (plugin `ladder-per-title`, planner)"),
        "{report}"
    );
    assert!(
        report.contains(": job_builder.config.colour: unknown key (expected one of: gop_seconds, manifest_name, thumbnail_quality) (plugin `mediaconvert-hls`, job-builder)"),
        "{report}"
    );
    assert_eq!(lines[4], "4 problems", "{report}");
}

#[test]
fn job_document_is_a_mediaconvert_hls_job() {
    let runtime = runtime();
    let policy = Spec::default().load(&runtime);
    let plan = policy.plan(&source(1280, 720)).unwrap();
    let job = policy.build_job(&plan, &context()).unwrap();
    let doc = &job.to_value();
    assert_eq!(doc["Role"], "arn:aws:iam::123456789012:role/vodpipe-mediaconvert");
    assert_eq!(doc["UserMetadata"]["video_id"], "01JDVP6Q7Z8X9Y0A1B2C3D4E5F");
    let groups = doc["Settings"]["OutputGroups"].as_array().unwrap();
    let hls = &groups[0];
    assert_eq!(hls["OutputGroupSettings"]["Type"], "HLS_GROUP_SETTINGS");
    assert_eq!(hls["OutputGroupSettings"]["HlsGroupSettings"]["SegmentLength"], 6);
    assert_eq!(
        hls["OutputGroupSettings"]["HlsGroupSettings"]["Destination"],
        "s3://media/01JDVP6Q7Z8X9Y0A1B2C3D4E5F/index"
    );
    let modifiers: Vec<&str> = hls["Outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["NameModifier"].as_str().unwrap())
        .collect();
    assert_eq!(modifiers, ["_720p", "_480p", "_360p", "_240p"]);
    let h264 = &hls["Outputs"][1]["VideoDescription"]["CodecSettings"]["H264Settings"];
    assert_eq!(
        (
            &h264["Bitrate"],
            &h264["MaxBitrate"],
            &h264["CodecProfile"],
            &h264["CodecLevel"]
        ),
        // 854x480 at 30 fps is over level 3.0's macroblock rate: "auto" gives 3.1.
        (
            &1_400_000.into(),
            &2_100_000.into(),
            &"MAIN".into(),
            &"LEVEL_3_1".into()
        )
    );
    let levels: Vec<&str> = hls["Outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            o["VideoDescription"]["CodecSettings"]["H264Settings"]["CodecLevel"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(levels, ["LEVEL_3_1", "LEVEL_3_1", "LEVEL_3", "LEVEL_2_1"]);
    assert_eq!(
        hls["Outputs"][0]["AudioDescriptions"][0]["CodecSettings"]["Codec"],
        "AAC"
    );
    let thumbnail = &groups[1]["Outputs"][0]["VideoDescription"];
    assert_eq!(thumbnail["CodecSettings"]["Codec"], "FRAME_CAPTURE");
    assert_eq!((&thumbnail["Width"], &thumbnail["Height"]), (&640.into(), &360.into()));
    assert_eq!(job.metadata("master_playlist"), Some("index.m3u8"));
}

fn video() -> Video {
    Video {
        id: "01JDVP6Q7Z8X9Y0A1B2C3D4E5F".into(),
        user_id: "user-1".into(),
        title: "A title".into(),
        status: VideoStatus::Processing,
        source_key: "01JDVP6Q7Z8X9Y0A1B2C3D4E5F".into(),
    }
}

#[test]
fn post_processor_publishes_a_complete_job_and_deletes_the_source() {
    let runtime = runtime();
    let policy = Spec::default().load(&runtime);
    let output = |name: &str, width, height| JobOutput {
        path: format!("index_{name}.m3u8"),
        width,
        height,
        duration_ms: 10_000,
    };
    let result = JobResult {
        job_id: "job-1".into(),
        status: JobStatus::Complete,
        error_code: None,
        error_message: None,
        playlist_path: Some("index.m3u8".into()),
        outputs: vec![output("720p", 1280, 720), output("480p", 854, 480)],
        thumbnail_path: Some("thumbnails/thumb_poster.0000001.jpg".into()),
        dash_manifest_path: None,
    };
    let actions = policy.post_process(&video(), &result).unwrap();
    assert_eq!(actions[0], Action::RecordPlayback("index.m3u8".into()));
    assert!(actions.contains(&Action::SetDone) && actions.contains(&Action::DeleteSource));
    assert!(actions.contains(&Action::RecordDuration(10_000)));
    assert!(!actions.iter().any(|a| matches!(a, Action::RecordDashManifest(_))));
    let Some(Action::RecordRenditions(renditions)) = actions.iter().find(|a| matches!(a, Action::RecordRenditions(_)))
    else {
        panic!("no renditions in {actions:?}")
    };
    assert_eq!(renditions[1].name, "480p");

    // A CMAF job's DASH manifest is recorded beside its master playlist.
    let cmaf = JobResult {
        dash_manifest_path: Some("index.mpd".into()),
        ..result
    };
    let actions = policy.post_process(&video(), &cmaf).unwrap();
    assert_eq!(
        actions[..2],
        [
            Action::RecordPlayback("index.m3u8".into()),
            Action::RecordDashManifest("index.mpd".into())
        ]
    );
}

#[test]
fn post_processor_fails_an_errored_job_with_a_readable_reason_and_keeps_the_source() {
    let runtime = runtime();
    let policy = Spec::default().load(&runtime);
    let result = JobResult {
        job_id: "job-2".into(),
        status: JobStatus::Error,
        error_code: Some(1010),
        error_message: Some("Unable to open input file [s3://uploads/x]".into()),
        playlist_path: None,
        outputs: vec![],
        thumbnail_path: None,
        dash_manifest_path: None,
    };
    let actions = policy.post_process(&video(), &result).unwrap();
    assert_eq!(
        actions,
        [Action::SetFailed(
            "the upload could not be read as a video: Unable to open input file [s3://uploads/x]".into()
        )]
    );
}

#[test]
fn plugins_that_disagree_are_refused_at_activation() {
    // A 5 s segment cannot start on the job builder's 2 s keyframes: found by the dry run,
    // before any upload.
    let runtime = runtime();
    let mut files = Spec::default().files();
    let preset = files.files.get_mut("ladders/default.toml").unwrap();
    *preset = String::from_utf8_lossy(preset)
        .replace("segment_seconds = 6", "segment_seconds = 5")
        .into_bytes();
    let Err(LoadError::Plugins(errors)) = load(&runtime, &files, None) else {
        panic!("activated")
    };
    assert_eq!(
        errors[0].to_string(),
        "plugin `mediaconvert-hls` (job-builder): in the activation dry run (reference video 1920x1080, 30 fps, \
         60 s, 6 Mb/s, with audio): refused: segment length 5s is not a multiple of the 2s GOP: segments would \
         not start on keyframes"
    );
}

#[test]
fn the_documented_example_plugin_caps_the_ladder() {
    // plugins/examples/ladder-cap, shown whole in docs/plugins.md.
    let guide = include_str!("../../../docs/plugins.md");
    for file in [
        include_str!("../../../plugins/examples/ladder-cap/src/lib.rs"),
        include_str!("../../../plugins/examples/ladder-cap/Cargo.toml"),
    ] {
        assert!(
            guide.contains(file),
            "docs/plugins.md does not show this file as it is:\n{file}"
        );
    }
    let runtime = runtime();
    let keep = |extra: &'static str| Spec {
        planner: "ladder-cap",
        preset_extra: extra,
        ..Default::default()
    };
    let largest = keep("\n[plugin]\nmax_renditions = 2\n").load(&runtime);
    assert_eq!(sizes(&largest, &source(1280, 720)), [(1280, 720), (854, 480)]);
    let smallest = keep("\n[plugin]\nmax_renditions = 2\nkeep = \"smallest\"\n").load(&runtime);
    assert_eq!(sizes(&smallest, &source(1280, 720)), [(640, 360), (426, 240)]);
    // Every bad key is a problem of its own, from the SDK's typed config.
    let bad = keep("\n[plugin]\nmax_renditions = 2.5\nkeep = \"middle\"\ncolour = 1\n");
    let Err(LoadError::Plugins(errors)) = load(&runtime, &bad.files(), None) else {
        panic!("accepted a fractional cap")
    };
    let PluginFailure::Config(problems) = &errors[0].failure else {
        panic!("not a config problem: {}", errors[0]);
    };
    let found: Vec<(&str, &str)> = problems.iter().map(|p| (p.key.as_str(), p.message.as_str())).collect();
    assert_eq!(
        found,
        [
            ("max_renditions", "2.5 is not a whole number"),
            ("keep", "`middle` is not one of largest, smallest"),
            ("colour", "unknown key (expected one of: max_renditions, keep)"),
        ]
    );
}

/// The frame capture of a job: its interval in seconds, how many it takes, and the number of
/// the one the metadata names.
fn named_capture(job: &vodpipe_core::JobDocument) -> (f64, u64, u64) {
    let doc = job.to_value();
    let capture =
        &doc["Settings"]["OutputGroups"][1]["Outputs"][0]["VideoDescription"]["CodecSettings"]["FrameCaptureSettings"];
    let every = capture["FramerateDenominator"].as_f64().unwrap() / capture["FramerateNumerator"].as_f64().unwrap();
    let named = job.metadata("thumbnail").unwrap();
    let index = named
        .strip_prefix("thumbnails/thumb_poster.")
        .and_then(|n| n.strip_suffix(".jpg"))
        .unwrap_or_else(|| panic!("{named}"))
        .parse()
        .unwrap();
    (every, capture["MaxCaptures"].as_u64().unwrap(), index)
}

#[test]
fn thumbnails_are_captured_at_the_plans_time_whole_fractional_or_zero() {
    let runtime = runtime();
    let policy = Spec::default().load(&runtime);
    let mut plan = policy.plan(&source(1280, 720)).unwrap();
    // MediaConvert captures at 0 s, then every interval; the metadata names the capture at the
    // plan's time, and the job takes no more captures than that.
    for at_seconds in [0.001, 0.38, 0.5, 0.98, 2.0, 2.333, 4321.25, 86_400.0] {
        plan.thumbnail.as_mut().unwrap().at_seconds = at_seconds;
        let (every, max_captures, index) = named_capture(&policy.build_job(&plan, &context()).unwrap());
        assert_eq!((index, max_captures), (1, 2), "{at_seconds}");
        assert_eq!(every, at_seconds);
    }
    // At 0 s (or under half a millisecond) the first capture is the thumbnail.
    for at_seconds in [0.0, 0.0004] {
        plan.thumbnail.as_mut().unwrap().at_seconds = at_seconds;
        let (_, max_captures, index) = named_capture(&policy.build_job(&plan, &context()).unwrap());
        assert_eq!((index, max_captures), (0, 1), "{at_seconds}");
    }
}

#[test]
fn the_job_of_a_clip_as_long_as_the_thumbnail_time_names_a_capture_inside_it() {
    let runtime = runtime();
    let policy = Spec::default().load(&runtime);
    assert_eq!(policy.preset().thumbnail_at_seconds, Some(2.0));
    // 2.0 s at 25 fps ends with the frame at 1.96 s; at 23.976 fps, 48 frames end at 2.002 s
    // with the last at 1.961 s; one frame past 2.0 s still has none after 2.0 s to spare.
    for (duration_ms, fps) in [
        (2000, 25.0),
        (2002, 24_000.0 / 1001.0),
        (2040, 25.0),
        (1000, 30.0),
        (33, 30.0),
    ] {
        let mut clip = source(320, 240);
        (clip.duration_ms, clip.frame_rate) = (duration_ms, fps);
        let plan = policy.plan(&clip).unwrap();
        let (every, max_captures, index) = named_capture(&policy.build_job(&plan, &context()).unwrap());
        assert!(index < max_captures);
        let captured_at = index as f64 * every;
        let last_frame = duration_ms as f64 / 1000.0 - 1.0 / fps;
        assert!(
            captured_at <= last_frame.max(0.0),
            "{duration_ms} ms at {fps} fps: capture {index} at {captured_at} s, last frame at {last_frame} s"
        );
    }
    // A clip long enough keeps the preset's time.
    let mut clip = source(320, 240);
    (clip.duration_ms, clip.frame_rate) = (2080, 25.0);
    let plan = policy.plan(&clip).unwrap();
    assert_eq!(named_capture(&policy.build_job(&plan, &context()).unwrap()).0, 2.0);
}

#[test]
fn the_builtin_bundle_prices_its_own_jobs_as_single_pass() {
    let runtime = runtime();
    let policy = load(&runtime, &vodpipe_plugin_artifacts::builtin_files(), None).unwrap_or_else(|e| panic!("{e}"));
    let model = policy.cost_model().expect("the built-in bundle names its cost model");
    assert_eq!(model.region, "us-east-1");
    // The shipped job builder leaves QualityTuningLevel at MediaConvert's single-pass
    // default: the basic tier, which the model prices.
    let plan = policy.plan(&source(1920, 1080)).unwrap();
    let job = policy.build_job(&plan, &context()).unwrap();
    let passes = vodpipe_core::Passes::from_job(&job);
    assert_eq!(passes, vodpipe_core::Passes::SinglePass);
    let estimate = vodpipe_core::cost::estimate(model, &plan, &source(1920, 1080), passes);
    assert!(estimate.mediaconvert_usd_per_source_minute.is_some_and(|usd| usd > 0.0));
    // A bundle whose manifest names no cost model has none.
    assert!(Spec::default().load(&runtime).cost_model().is_none());
}
