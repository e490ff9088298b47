//! The `vodpipe` binary end to end: real ffmpeg-made sources probed by real ffprobe, the
//! built-in and on-disk bundles, and the MediaConvert document checked against botocore's
//! service model.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::{cache_dir, ok, vodpipe};
use serde_json::Value;

fn fails(args: &[&str]) -> String {
    let out = vodpipe(args);
    assert!(
        !out.status.success(),
        "vodpipe {args:?} succeeded:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn plan_json(args: &[&str]) -> Value {
    let mut all = vec!["plan", "--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&ok(&all)).expect("plan --json prints JSON")
}

fn sizes(plan: &Value) -> Vec<(u64, u64)> {
    plan["renditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["width"].as_u64().unwrap(), r["height"].as_u64().unwrap()))
        .collect()
}

/// Sources made once per test run with ffmpeg's test patterns.
fn samples() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("samples");
        std::fs::create_dir_all(&dir).unwrap();
        let make = |name: &str, (width, height): (u32, u32), audio: bool| {
            let path = dir.join(name);
            if !path.exists() {
                vodpipe_embedded::ffmpeg::test_pattern(&path, width, height, 1, audio).unwrap();
            }
        };
        make("720p.mp4", (1280, 720), true);
        make("370p.mp4", (658, 370), true);
        make("portrait.mp4", (720, 1280), true);
        make("silent.mp4", (640, 360), false);
        // A phone video: stored landscape, displayed portrait through the display matrix
        // (ffmpeg writes the matrix from the `rotate` tag when remuxing).
        let phone = dir.join("phone.mov");
        if !phone.exists() {
            let out = Command::new("ffmpeg")
                .args(["-v", "error", "-y", "-i"])
                .arg(dir.join("720p.mp4"))
                .args(["-c", "copy", "-metadata:s:v:0", "rotate=90"])
                .arg(&phone)
                .output()
                .unwrap();
            assert!(out.status.success(), "ffmpeg: {}", String::from_utf8_lossy(&out.stderr));
        }
        std::fs::write(dir.join("notes.txt"), "this is not a video\n").unwrap();
        std::fs::write(dir.join("empty.mp4"), b"").unwrap();
        let whole = std::fs::read(dir.join("720p.mp4")).unwrap();
        std::fs::write(dir.join("truncated.mp4"), &whole[..whole.len() / 3]).unwrap();
        dir
    })
}

fn sample(name: &str) -> String {
    samples().join(name).display().to_string()
}

#[test]
fn plans_a_720p_file_into_four_renditions() {
    let plan = plan_json(&[&sample("720p.mp4")]);
    assert_eq!(sizes(&plan), [(1280, 720), (854, 480), (640, 360), (426, 240)]);
    let names: Vec<&str> = plan["renditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["720p", "480p", "360p", "240p"]);
    assert!(plan["renditions"][0]["video_bitrate"].as_u64().unwrap() > 0);
    assert_eq!(plan["source"]["duration_ms"], 1000);
    assert_eq!(
        plan["job"]["Settings"]["OutputGroups"][0]["Outputs"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
}

#[test]
fn plans_a_370_line_file_into_two_renditions() {
    assert_eq!(sizes(&plan_json(&[&sample("370p.mp4")])), [(640, 360), (426, 240)]);
}

#[test]
fn portrait_and_rotated_phone_videos_get_short_side_rungs() {
    let portrait = [(720, 1280), (480, 854), (360, 640), (240, 426)];
    assert_eq!(sizes(&plan_json(&[&sample("portrait.mp4")])), portrait);
    let phone = plan_json(&[&sample("phone.mov")]);
    let rotation = phone["source"]["rotation"].as_u64().unwrap();
    assert!(rotation == 90 || rotation == 270, "{}", phone["source"]);
    assert_eq!(sizes(&phone), portrait);
}

#[test]
fn a_silent_video_plans_without_audio() {
    let plan = plan_json(&[&sample("silent.mp4")]);
    assert_eq!(sizes(&plan), [(640, 360), (426, 240)]);
    assert!(
        plan["renditions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["audio_bitrate"].is_null())
    );
}

#[test]
fn files_that_are_not_videos_are_refused_with_a_reason() {
    for name in ["notes.txt", "empty.mp4", "truncated.mp4"] {
        let message = fails(&["plan", &sample(name)]);
        assert!(message.contains("could not be read as a video"), "{name}: {message}");
        assert!(message.contains(name), "{name}: the message names the file: {message}");
    }
}

#[test]
fn plans_from_a_size_with_a_readable_table() {
    let table = ok(&["plan", "--width", "1280", "--height", "720"]);
    assert!(table.contains("preset `default`, planner `ladder-table`"), "{table}");
    assert!(table.contains("854x480"), "{table}");
    let json = plan_json(&["--width", "658", "--height", "370"]);
    assert_eq!(sizes(&json), [(640, 360), (426, 240)]);
    let preset = plan_json(&["--width", "1920", "--height", "1080", "--preset", "mobile-first"]);
    assert_eq!(sizes(&preset)[0], (1280, 720));
    let message = fails(&["plan", "--width", "1280", "--height", "720", "--preset", "nope"]);
    assert!(message.contains("no preset `nope`"), "{message}");
}

#[test]
fn policy_check_passes_the_built_in_bundle_and_an_initialised_one() {
    assert!(ok(&["policy", "check"]).starts_with("ok: bundle `builtin`"));
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("policy");
    let bundle = bundle.to_str().unwrap();
    ok(&["policy", "init", bundle]);
    assert!(fails(&["policy", "init", bundle]).contains("already holds a bundle"));
    assert!(ok(&["policy", "check", bundle]).contains("planner"));
}

#[test]
fn policy_check_reports_every_problem_with_its_position_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().to_str().unwrap();
    ok(&["policy", "init", bundle]);
    let manifest = dir.path().join("bundle.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace("gop_seconds = 2", "gop_seconds = 2\ncolour = \"red\""),
    )
    .unwrap();
    let ladder = dir.path().join("ladders/mobile-first.toml");
    let text = std::fs::read_to_string(&ladder).unwrap();
    std::fs::write(&ladder, text.replace("video_kbps = 1800", "video_kbps = 1800000")).unwrap();

    let colour_line = std::fs::read_to_string(&manifest)
        .unwrap()
        .lines()
        .position(|l| l == "colour = \"red\"")
        .unwrap()
        + 1;

    let report = fails(&["policy", "check", bundle]);
    assert!(
        report.contains("ladders/mobile-first.toml:17:14: rungs[0].video_kbps: 1800000 kbps is out of range"),
        "{report}"
    );
    // A problem the plugin finds in its config is placed where it was written.
    assert!(
        report.contains(&format!(
            "bundle.toml:{colour_line}:10: job_builder.config.colour: unknown key (expected one of: gop_seconds, \
             manifest_name, thumbnail_quality) (plugin `mediaconvert-hls`, job-builder)"
        )),
        "{report}"
    );
    assert!(report.contains("policy check failed: 2 problems"), "{report}");
    // The broken bundle is not used by plan either; the message says why.
    let message = fails(&["plan", "--width", "1280", "--height", "720", "--policy", bundle]);
    assert!(message.contains("colour: unknown key"), "{message}");
}

#[test]
fn policy_check_reports_the_cost_model_and_its_problems() {
    let report = ok(&["policy", "check"]);
    assert!(report.contains("cost model      USD prices for us-east-1"), "{report}");
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().to_str().unwrap();
    ok(&["policy", "init", bundle]);
    let pricing = dir.path().join("pricing/aws.toml");
    let text = std::fs::read_to_string(&pricing).unwrap();
    let hd = text.lines().find(|l| l.starts_with("hd = ")).unwrap();
    let broken = text
        .replace(&format!("{hd}\n"), "")
        .replace("egress_usd_per_gb = 0.085", "egress_usd_per_gb = -0.085");
    std::fs::write(&pricing, broken).unwrap();

    let report = fails(&["policy", "check", bundle]);
    assert!(
        report.contains("pricing/aws.toml:")
            && report.contains(": mediaconvert.basic.h264.single_pass.hd: missing required key"),
        "{report}"
    );
    assert!(
        report.contains(": cloudfront.egress_usd_per_gb: -0.085 is negative"),
        "{report}"
    );
    assert!(report.contains("policy check failed: 2 problems"), "{report}");
    // Without `[cost]`, the bundle is fine and says it gives no estimate.
    let manifest = dir.path().join("bundle.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("[cost]\nmodel = \"pricing/aws.toml\"\n", "")).unwrap();
    let report = ok(&["policy", "check", bundle]);
    assert!(report.contains("cost model      none"), "{report}");
}

#[test]
fn swapping_the_planner_in_a_bundle_changes_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().to_str().unwrap();
    ok(&["policy", "init", bundle]);
    let per_title = std::fs::read(dir.path().join("plugins/ladder-per-title.wasm")).unwrap();
    let sha = vodpipe_plugin_artifacts::sha256_hex(&per_title);
    let manifest = dir.path().join("bundle.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let table_sha =
        vodpipe_plugin_artifacts::sha256_hex(&std::fs::read(dir.path().join("plugins/ladder-table.wasm")).unwrap());
    let swapped = text
        .replace("plugins/ladder-table.wasm", "plugins/ladder-per-title.wasm")
        .replace(&table_sha, &sha)
        .replace("preset = \"default\"", "preset = \"per-title\"");
    std::fs::write(&manifest, swapped).unwrap();
    let plan = plan_json(&[&sample("720p.mp4"), "--policy", bundle]);
    assert_eq!(plan["policy"]["plugins"][0]["plugin"], "ladder-per-title");
    assert_eq!(sizes(&plan), [(1280, 720), (854, 480), (640, 360), (426, 240)]);
}

#[test]
fn policy_pin_pins_a_swapped_planner_and_refuses_a_missing_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().to_str().unwrap();
    ok(&["policy", "init", bundle]);
    let manifest = dir.path().join("bundle.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let sha = |name: &str| {
        vodpipe_plugin_artifacts::sha256_hex(&std::fs::read(dir.path().join(format!("plugins/{name}.wasm"))).unwrap())
    };
    let (table, per_title, post) = (sha("ladder-table"), sha("ladder-per-title"), sha("post-default"));
    // The author swaps the planner with a placeholder pin and drops the post-processor's.
    let swapped = text
        .replace("plugins/ladder-table.wasm", "plugins/ladder-per-title.wasm")
        .replace(&table, &"0".repeat(64))
        .replace(&format!("sha256 = \"{post}\"\n"), "")
        .replace("preset = \"default\"", "preset = \"per-title\"");
    std::fs::write(&manifest, &swapped).unwrap();
    assert!(fails(&["policy", "check", bundle]).contains("sha256 mismatch"));

    let report = ok(&["policy", "pin", bundle]);
    let zeros = "0".repeat(64);
    assert!(
        report.contains(&format!(
            "planner plugins/ladder-per-title.wasm: {zeros} -> {per_title}\n"
        )),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "post-processor plugins/post-default.wasm: nothing -> {post}\n"
        )),
        "{report}"
    );
    assert!(!report.contains("job-builder"), "{report}");
    let pinned = std::fs::read_to_string(&manifest).unwrap();
    assert_eq!(
        pinned,
        swapped.replace(&zeros, &per_title).replace(
            "plugin = \"plugins/post-default.wasm\"\n",
            &format!("plugin = \"plugins/post-default.wasm\"\nsha256 = \"{post}\"\n")
        ),
        "only the pins change, comments and layout stay"
    );
    assert!(ok(&["policy", "check", bundle]).starts_with("ok: bundle"));
    assert!(ok(&["policy", "pin", bundle]).contains("every plugin is already pinned"));

    std::fs::remove_file(dir.path().join("plugins/post-default.wasm")).unwrap();
    let report = fails(&["policy", "pin", bundle]);
    let missing = dir.path().join("plugins/post-default.wasm");
    assert!(
        report.contains(&format!(
            "post_processor.plugin: missing plugin: `{}` does not exist",
            missing.display()
        )),
        "{report}"
    );
    assert!(report.contains("policy pin failed: 1 problem;"), "{report}");
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), pinned);
}

/// A Python with botocore, in a venv this test makes (and reuses) under the target dir.
fn botocore_python() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("botocore-venv");
    let python = venv.join("bin/python");
    let ready = |python: &Path| {
        Command::new(python)
            .args(["-c", "import botocore"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !ready(&python) {
        let status = Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv)
            .status()
            .expect("python3");
        assert!(status.success(), "python3 -m venv failed");
        let status = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", "botocore==1.44.8"])
            .status()
            .expect("pip");
        assert!(status.success(), "pip install botocore failed");
    }
    python
}

#[test]
fn job_documents_validate_against_the_mediaconvert_api_model() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let silent = sample("silent.mp4");
    // A ladder of three codecs in CMAF: AV1 and HEVC rungs beside the H.264 ones.
    let bundle = dir.path().join("bundle");
    let bundle = bundle.to_str().unwrap();
    ok(&["policy", "init", bundle]);
    std::fs::write(
        dir.path().join("bundle/ladders/codecs.toml"),
        "schema = 1\nname = \"codecs\"\nsegment_seconds = 6\npackaging = \"cmaf\"\n\
         [[rungs]]\nname = \"1080p-av1\"\nshort_side = 1080\nvideo_kbps = 3000\ncodec = \"av1\"\nbit_depth = 10\n\
         [[rungs]]\nname = \"720p-hevc\"\nshort_side = 720\nvideo_kbps = 2000\ncodec = \"hevc\"\nbit_depth = 10\n\
         [[rungs]]\nname = \"720p\"\nshort_side = 720\nvideo_kbps = 3000\nprofile = \"high\"\naudio_kbps = 96\n",
    )
    .unwrap();
    let cases: [&[&str]; 9] = [
        &["--width", "1280", "--height", "720"],
        &["--width", "1920", "--height", "1080", "--preset", "high-quality"],
        &["--width", "720", "--height", "1280", "--preset", "mobile-first"],
        &["--width", "160", "--height", "90"],
        &[&silent],
        // QVBR: without an analysis (every rung at the ceiling level), and with one (levels
        // in thirds: a whole level and its fine tune).
        &["--width", "1920", "--height", "1080", "--preset", "content-aware"],
        &[&silent, "--preset", "content-aware"],
        // CMAF: video tracks, one audio track per audio bitrate, I-frame playlists.
        &["--width", "1280", "--height", "720", "--preset", "cmaf"],
        &[
            "--width", "1920", "--height", "1080", "--policy", bundle, "--preset", "codecs",
        ],
    ];
    for (i, case) in cases.iter().enumerate() {
        let args: Vec<&str> = case.to_vec();
        let plan = plan_json(&args);
        let mut job = plan["job"].clone();
        // What the AWS adapter adds at submit time.
        job["ClientRequestToken"] = "01JDVP6Q7Z8X9Y0A1B2C3D4E5F".into();
        job["Role"] = "arn:aws:iam::123456789012:role/vodpipe-mediaconvert".into();
        let path = dir.path().join(format!("job-{i}.json"));
        std::fs::write(&path, job.to_string()).unwrap();
        files.push(path);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validate_mediaconvert.py");
    let out = Command::new(botocore_python())
        .arg(script)
        .args(&files)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{report}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        report.matches("valid CreateJob request").count(),
        cases.len(),
        "{report}"
    );

    for qvbr in &files[5..7] {
        let job: Value = serde_json::from_str(&std::fs::read_to_string(qvbr).unwrap()).unwrap();
        for output in job["Settings"]["OutputGroups"][0]["Outputs"].as_array().unwrap() {
            let h264 = &output["VideoDescription"]["CodecSettings"]["H264Settings"];
            assert_eq!(h264["RateControlMode"], "QVBR", "{h264}");
            assert!(h264["QvbrSettings"]["QvbrQualityLevel"].is_u64() && h264.get("Bitrate").is_none());
        }
    }

    let codecs: Value = serde_json::from_str(&std::fs::read_to_string(&files[8]).unwrap()).unwrap();
    let group = &codecs["Settings"]["OutputGroups"][0];
    assert_eq!(group["OutputGroupSettings"]["Type"], "CMAF_GROUP_SETTINGS");
    let outputs = group["Outputs"].as_array().unwrap();
    let codec = |o: &Value| {
        o["VideoDescription"]["CodecSettings"]["Codec"]
            .as_str()
            .map(str::to_owned)
    };
    assert_eq!(
        outputs.iter().map(codec).collect::<Vec<_>>(),
        [
            Some("AV1".into()),
            Some("H_265".into()),
            Some("H_264".into()),
            None,
            None
        ],
        "three video tracks, then the audio tracks at 128 and 96 kb/s"
    );
    let settings = &outputs[0]["VideoDescription"]["CodecSettings"];
    assert_eq!(
        (
            &settings["Av1Settings"]["RateControlMode"],
            &settings["Av1Settings"]["BitDepth"]
        ),
        (&Value::from("QVBR"), &Value::from("BIT_10"))
    );
    let hevc = &outputs[1]["VideoDescription"]["CodecSettings"]["H265Settings"];
    assert_eq!(
        (&hevc["CodecProfile"], &hevc["WriteMp4PackagingType"]),
        (&Value::from("MAIN10_MAIN"), &Value::from("HVC1"))
    );
    assert_eq!(
        outputs[2]["ContainerSettings"]["CmfcSettings"],
        serde_json::json!({ "AudioRenditionSets": "audio-96k", "IFrameOnlyManifest": "INCLUDE" })
    );
    assert_eq!(
        outputs[3]["ContainerSettings"]["CmfcSettings"]["AudioGroupId"],
        "audio-128k"
    );

    // The validator is not a rubber stamp: a broken document is refused.
    let mut broken: Value = serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    broken["Settings"]["OutputGroups"][0]["Outputs"][0]["VideoDescription"]["CodecSettings"]["H264Settings"]["CodecLevel"] =
        "LEVEL_9".into();
    broken["Settings"]["OutputGroups"][0]["OutputGroupSettings"]["HlsGroupSettings"]["SegmentLenght"] = 6.into();
    let path = dir.path().join("broken.json");
    std::fs::write(&path, broken.to_string()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validate_mediaconvert.py");
    let out = Command::new(botocore_python()).arg(script).arg(&path).output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{report}");
    assert!(
        report.contains("SegmentLenght") && report.contains("LEVEL_9"),
        "{report}"
    );
}

#[test]
fn plan_watch_replans_on_every_good_edit_and_reports_broken_ones() {
    use std::io::{BufRead, BufReader};
    use std::sync::mpsc;
    use std::time::Duration;

    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().to_str().unwrap();
    ok(&["policy", "init", bundle]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_vodpipe"))
        .args([
            "plan", "--width", "1920", "--height", "1080", "--policy", bundle, "--watch",
        ])
        .env("VODPIPE_CACHE_DIR", cache_dir())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    // Lines until every marker has been seen (stdout and stderr interleave in any order).
    let read_until_all = |markers: &[&str]| -> String {
        let mut seen = String::new();
        while !markers.iter().all(|m| seen.contains(m)) {
            let line = rx
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no {markers:?} in:\n{seen}"));
            seen.push_str(&line);
            seen.push('\n');
        }
        seen
    };
    let read_until = |marker: &str| read_until_all(&[marker]);
    let first = read_until_all(&["watching", "segments:"]);
    let top = first
        .lines()
        .find(|l| l.trim_start().starts_with("1080p"))
        .unwrap_or_default();
    assert!(top.contains("1920x1080"), "{first}");

    let ladder = dir.path().join("ladders/default.toml");
    let text = std::fs::read_to_string(&ladder).unwrap();
    std::fs::write(&ladder, text.replace("short_side = 1080", "short_side = 1000")).unwrap();
    let second = read_until("segments:");
    let top = second
        .lines()
        .find(|l| l.trim_start().starts_with("1080p"))
        .unwrap_or_default();
    assert!(top.contains("1778x1000"), "{second}");

    std::fs::write(&ladder, text.replace("short_side = 1080", "short_side = 1081")).unwrap();
    let refused = read_until("problem");
    assert!(
        refused.contains("refused, the last good bundle stays active"),
        "{refused}"
    );
    assert!(refused.contains("rungs[0].short_side: 1081 is odd"), "{refused}");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn process_turns_a_file_into_a_published_hls_ladder() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = ok(&[
        "process",
        &sample("720p.mp4"),
        "--out",
        data.to_str().unwrap(),
        "--json",
    ]);
    let video: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(video["status"], "done", "{video}");
    assert_eq!(video["renditions"].as_array().unwrap().len(), 4);
    let master = Path::new(video["master_playlist"].as_str().unwrap());
    assert!(std::fs::read_to_string(master).unwrap().contains("#EXT-X-STREAM-INF"));
    assert!(Path::new(video["thumbnail"].as_str().unwrap()).is_file());

    // A file that is not a video ends as failed, with the reason, and a non-zero exit.
    let out = vodpipe(&[
        "process",
        &sample("notes.txt"),
        "--out",
        data.to_str().unwrap(),
        "--json",
    ]);
    assert!(!out.status.success());
    let video: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(video["status"], "failed");
    assert!(
        video["failure_reason"]
            .as_str()
            .unwrap()
            .contains("could not be read as a video"),
        "{video}"
    );
}

#[test]
fn a_worker_killed_mid_transcode_is_resumed_by_the_next_one() {
    use std::io::Read;
    use vodpipe_core::ports::{SystemClock, VideoRepository};

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Long enough that the kill lands while ffmpeg is encoding.
    let source = dir.path().join("long.mp4");
    vodpipe_embedded::ffmpeg::test_pattern(&source, 1280, 720, 20, true).unwrap();

    let mut first = Command::new(env!("CARGO_BIN_EXE_vodpipe"))
        .args([
            "process",
            source.to_str().unwrap(),
            "--out",
            data.to_str().unwrap(),
            "--visibility",
            "2",
        ])
        .env("VODPIPE_CACHE_DIR", cache_dir())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the progress bar, then kill the process (and so its ffmpeg) without warning.
    let mut stderr = first.stderr.take().unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 256];
    while !seen.contains("transcoding [") {
        let n = stderr.read(&mut buf).unwrap();
        assert!(n > 0, "process ended before transcoding: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    first.kill().unwrap();
    first.wait().unwrap();
    let video_id = seen.split_whitespace().nth(1).unwrap().trim_end_matches(':').to_owned();

    let database = vodpipe_embedded::sqlite::Database::open(&data.join("vodpipe.db"), Box::new(SystemClock)).unwrap();
    assert_eq!(
        database.get(&video_id).unwrap().unwrap().status,
        vodpipe_core::VideoStatus::Processing
    );
    // The next worker waits out the visibility timeout, then finishes the video.
    ok(&["worker", "--out", data.to_str().unwrap(), "--until-idle", "6"]);
    let video = database.get(&video_id).unwrap().unwrap();
    assert_eq!(video.status, vodpipe_core::VideoStatus::Done, "{video:?}");
    assert_eq!(video.renditions.len(), 4);
    assert_eq!(database.dead_letters().unwrap(), vec![]);
}
