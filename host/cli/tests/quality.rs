//! `vodpipe quality` and `vodpipe policy diff` run as a product team runs them: real encodes
//! of a small clip with the pipeline's executor, measured with ffmpeg and libvmaf's vmaf
//! tool (built by ./scripts/test's set-up), bundles written by `policy init` and edited.

mod common;

use std::path::{Path, PathBuf};

use common::{json, ok, vodpipe};
use serde_json::Value;

/// A 2 s 640x360 clip at 25 fps with a tone: the default preset plans 360p and 240p for it.
fn clip(dir: &Path) -> PathBuf {
    clip_of(dir, "clip.mp4", "640x360")
}

/// 2 s of the test pattern with a tone at 25 fps.
fn clip_of(dir: &Path, name: &str, size: &str) -> PathBuf {
    vodpipe_test_support::media::clip(dir, name, size, "25", "2")
}

fn require_vmaf() {
    let found = std::env::var_os("VODPIPE_VMAF").is_some_and(|p| Path::new(&p).is_file());
    assert!(
        found,
        "VODPIPE_VMAF must name libvmaf's vmaf tool: run the tests with ./scripts/test, which builds it"
    );
}

/// `vodpipe policy init` into `dir/name`, with `edit` applied to its default preset.
fn bundle(dir: &Path, name: &str, edit: impl Fn(&str) -> String) -> PathBuf {
    let path = dir.join(name);
    ok(&["policy", "init", path.to_str().unwrap()]);
    let preset = path.join("ladders/default.toml");
    let text = std::fs::read_to_string(&preset).unwrap();
    std::fs::write(&preset, edit(&text)).unwrap();
    path
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn quality_reports_bits_quality_time_and_cost_of_every_rendition() {
    require_vmaf();
    let dir = tempfile::tempdir().unwrap();
    let clip = clip(dir.path());
    let out = dir.path().join("out");
    let report = json(&["quality", s(&clip), "--json", "--out", s(&out)]);

    assert_eq!(report["preset"], "default");
    // Sampled by default: the pictures compared are the ones the sampling names.
    let sampling = vodpipe_quality::sampling::DEFAULT;
    assert_eq!(report["sample_one_in"], sampling.n());
    let compared = (0..50).filter(|&i| sampling.compares(i)).count();
    assert!((10..50).contains(&compared), "{compared}");
    assert_eq!(report["source"]["width"], 640);
    let renditions = report["renditions"].as_array().unwrap();
    let names: Vec<&str> = renditions.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["360p", "240p"]);
    for r in renditions {
        let figure = |key: &str| r[key].as_f64().unwrap_or_else(|| panic!("{key} in {r}"));
        assert!(
            figure("avg_kbps") > 50.0 && figure("peak_kbps") >= figure("avg_kbps"),
            "{r}"
        );
        assert!((60.0..=100.0).contains(&figure("vmaf")), "{r}");
        assert!(figure("ssim_db") > 10.0 && figure("psnr_db") > 28.0, "{r}");
        assert_eq!(r["frames"], compared, "{r}");
    }
    assert!(report["encode_seconds"].as_f64().unwrap() > 0.0);
    assert!(report["encode_cpu_seconds"].as_f64().unwrap() > 0.0);
    assert!(report["measure_seconds"].as_f64().unwrap() > 0.0);
    assert_eq!(report["vmaf_model"], "vmaf_v0.6.1");
    assert_eq!(report["vmaf_unavailable"], Value::Null);
    // Two SD renditions of a 2 s source: priced, and said to be an estimate.
    let cost = &report["cost"];
    assert!(
        cost["mediaconvert_usd_per_source_minute"].as_f64().unwrap() > 0.0,
        "{cost}"
    );
    assert!(
        cost["storage_usd_per_month_per_content_hour"].as_f64().unwrap() > 0.0,
        "{cost}"
    );
    assert!(!cost["assumptions"].as_array().unwrap().is_empty(), "{cost}");

    let chart = std::fs::read_to_string(out.join("clip.svg")).unwrap();
    assert!(
        chart.contains("<polyline") && chart.contains(">default</text>"),
        "{chart}"
    );
    assert_eq!(report["chart"], s(&out.join("clip.svg")));
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(out.join("clip.json")).unwrap()).unwrap();
    assert_eq!(saved["renditions"], report["renditions"]);
    assert!(
        !out.join("clip/default/data").exists(),
        "the encodes are removed after measuring"
    );

    // A person's view: the table and where the report and chart are.
    let text = ok(&["quality", s(&clip), "--out", s(&out), "--preset", "mobile-first"]);
    assert!(text.contains("preset `mobile-first`"), "{text}");
    assert!(text.contains("avg kb/s") && text.contains("VMAF"), "{text}");
    assert!(text.contains("cost (estimate)"), "{text}");
    assert!(
        text.contains(&format!("chart:  {}", out.join("clip.svg").display())),
        "{text}"
    );
}

/// HEVC and AV1 renditions are measured as H.264 ones are: the built-in `av1` preset (AV1
/// rungs and an H.264 fallback) and a bundle whose default preset gains an HEVC Main 10 rung.
#[test]
fn quality_measures_hevc_and_av1_renditions_beside_h264() {
    require_vmaf();
    let dir = tempfile::tempdir().unwrap();
    let clip = clip(dir.path());
    let scored = |report: &Value| -> Vec<(String, f64, f64)> {
        report["renditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let (kbps, vmaf) = (r["avg_kbps"].as_f64().unwrap(), r["vmaf"].as_f64().unwrap());
                assert!(kbps > 10.0 && (60.0..=100.0).contains(&vmaf), "{r}");
                (r["name"].as_str().unwrap().to_owned(), kbps, vmaf)
            })
            .collect()
    };

    let out = dir.path().join("av1");
    let report = json(&["quality", s(&clip), "--preset", "av1", "--json", "--out", s(&out)]);
    let names: Vec<String> = scored(&report).into_iter().map(|(name, ..)| name).collect();
    assert_eq!(names, ["360p-av1", "360p", "240p"]);

    let policy = bundle(dir.path(), "hevc", |text| {
        text.replace("allow_upscale = false", "allow_upscale = false\npackaging = \"cmaf\"")
            + "\n[[rungs]]\nname = \"360p-hevc\"\nshort_side = 360\nvideo_kbps = 500\ncodec = \"hevc\"\nbit_depth = 10\n"
    });
    let out = dir.path().join("hevc");
    let report = json(&["quality", s(&clip), "--policy", s(&policy), "--json", "--out", s(&out)]);
    let hevc: Vec<(String, f64, f64)> = scored(&report)
        .into_iter()
        .filter(|(name, ..)| name == "360p-hevc")
        .collect();
    assert_eq!(hevc.len(), 1, "{report}");
}

#[test]
fn quality_errors_name_the_source_and_the_preset() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("random.mp4");
    std::fs::write(
        &garbage,
        (0..50_000u32).map(|i| (i * 7919 % 251) as u8).collect::<Vec<_>>(),
    )
    .unwrap();
    let out = vodpipe(&["quality", s(&garbage), "--out", s(&dir.path().join("out"))]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains(&format!("error: {}:", garbage.display())), "{stderr}");

    let clip = clip(dir.path());
    let out = vodpipe(&["quality", s(&clip), "--sample", "2"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("one picture in 2 cannot be sampled: use 1 (every picture) or 3 to 1000"),
        "{stderr}"
    );

    let out = vodpipe(&["quality", s(&clip), "--preset", "no-such-preset"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("no-such-preset"), "{stderr}");

    // A preset that loads but cannot plan this source: upscaled to its only rung, an 8:1
    // source would be wider than any picture a plan may have.
    let policy = bundle(dir.path(), "huge", |text| {
        let head = &text[..text.find("[[rungs]]").unwrap()];
        head.replace("allow_upscale = false", "allow_upscale = true")
            + "[[rungs]]\nname = \"huge\"\nshort_side = 2160\nvideo_kbps = 40000\nmax_kbps = 60000\n\
               profile = \"high\"\nlevel = \"auto\"\naudio_kbps = 128\n"
    });
    let wide = clip_of(dir.path(), "wide.mp4", "1600x200");
    let out = vodpipe(&[
        "quality",
        s(&wide),
        "--policy",
        s(&policy),
        "--out",
        s(&dir.path().join("o2")),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("preset `default` cannot plan"), "{stderr}");
}

/// Two bundles a product team might compare: the 360p rung cheaper, the 240p rung gone, and
/// 4 s segments.
fn edited_bundles(dir: &Path) -> (PathBuf, PathBuf) {
    let old = bundle(dir, "old", str::to_owned);
    let new = bundle(dir, "new", |text| {
        let cut = text.rfind("[[rungs]]").unwrap();
        text[..cut]
            .replace("segment_seconds = 6", "segment_seconds = 4")
            .replace("video_kbps = 800\nmax_kbps = 1200", "video_kbps = 400\nmax_kbps = 600")
    });
    (old, new)
}

#[test]
fn policy_diff_shows_changed_removed_rungs_segment_length_and_cost() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = edited_bundles(dir.path());
    let clip = clip(dir.path());
    let diff = json(&["policy", "diff", s(&old), s(&new), s(&clip), "--json"]);
    assert_eq!(diff["passed"], true);
    let source = &diff["sources"][0];
    let plan = &source["plan"];
    assert_eq!(plan["removed"][0]["name"], "240p", "{plan}");
    assert_eq!(plan["changed"][0]["name"], "360p", "{plan}");
    assert_eq!(plan["changed"][0]["fields"][0]["field"], "video_bitrate", "{plan}");
    assert_eq!(plan["changed"][0]["fields"][0]["old"], "800 kb/s");
    assert_eq!(plan["changed"][0]["fields"][0]["new"], "400 kb/s");
    assert_eq!(plan["segment_seconds"]["new"], "4 s", "{plan}");
    let storage = |side: &str| {
        source["cost"][side]["estimate"]["storage_usd_per_month_per_content_hour"]
            .as_f64()
            .unwrap()
    };
    assert!(storage("new") < storage("old"), "{}", source["cost"]);

    // Without files: sample sources of common shapes; preset names of the built-in bundle.
    let text = ok(&["policy", "diff", "default", "mobile-first"]);
    assert!(text.contains("sample 1920x1080 30 fps"), "{text}");
    assert!(text.contains("MediaConvert per source minute"), "{text}");

    // The same bundle twice: nothing changes.
    let same = json(&["policy", "diff", s(&old), s(&old), "--json"]);
    for source in same["sources"].as_array().unwrap() {
        assert_eq!(source["plan"]["changed"], Value::Array(vec![]), "{source}");
        assert_eq!(source["plan"]["added"], Value::Array(vec![]), "{source}");
    }
}

#[test]
fn policy_diff_gates_set_the_exit_status() {
    require_vmaf();
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = edited_bundles(dir.path());
    let clip = clip(dir.path());
    let status = |args: &[&str]| {
        let out = vodpipe(args);
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };

    // Cost: old -> new lowers it (passes any limit), new -> old raises it.
    let (code, text) = status(&["policy", "diff", s(&old), s(&new), "--max-cost-increase", "0"]);
    assert_eq!(code, Some(0), "{text}");
    let (code, text) = status(&["policy", "diff", s(&new), s(&old), "--max-cost-increase", "5"]);
    assert_eq!(code, Some(3), "{text}");
    assert!(text.contains("gate max-cost-increase: FAILED"), "{text}");

    // Quality: halving the 360p rung's bits loses SSIM; a limit of 0 dB fails, 50 dB passes.
    let out = dir.path().join("out");
    let args = |limit: &'static str| {
        vec![
            "policy".to_owned(),
            "diff".into(),
            s(&old).into(),
            s(&new).into(),
            s(&clip).into(),
            "--encode".into(),
            "--json".into(),
            "--out".into(),
            s(&out).into(),
            "--max-quality-drop".into(),
            limit.into(),
        ]
    };
    let run = |limit| {
        let args = args(limit);
        let out = vodpipe(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let value: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
        });
        (out.status.code(), value)
    };
    let (code, report) = run("0");
    assert_eq!(code, Some(3), "{report}");
    let rungs = report["sources"][0]["encode"]["rungs"].as_array().unwrap();
    let r360 = rungs.iter().find(|r| r["name"] == "360p").unwrap();
    let kbps = |side: &str| r360[side]["avg_kbps"].as_f64().unwrap();
    assert!(kbps("new") < kbps("old") * 0.8, "{r360}");
    let vmaf = |side: &str| r360[side]["vmaf"].as_f64().unwrap();
    assert!(vmaf("new") < vmaf("old"), "{r360}");
    assert!(
        rungs.iter().any(|r| r["name"] == "240p" && r["new"].is_null()),
        "{rungs:?}"
    );
    let totals = &report["totals"];
    assert!(totals["new_megabits"].as_f64().unwrap() < totals["old_megabits"].as_f64().unwrap());
    assert_eq!(totals["worst"]["rung"], "360p", "{totals}");
    assert_eq!(report["gates"][0]["passed"], false);
    let (code, report) = run("50");
    assert_eq!(code, Some(0), "{}", report["gates"]);
    assert!(out.join("clip.diff.svg").is_file());
}

#[test]
fn a_relative_data_directory_with_dot_dot_works() {
    let dir = tempfile::tempdir().unwrap();
    let clip = clip(dir.path());
    let out = dir.path().join("elsewhere/../data");
    let record = json(&["process", s(&clip), "--out", s(&out), "--json"]);
    assert_eq!(record["status"], "done", "{record}");
}
