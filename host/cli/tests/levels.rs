//! H.264 levels and thumbnail times, end to end through the `vodpipe` binary: sources made by
//! ffmpeg at the frame rates phones and films use, planned, processed to HLS by the embedded
//! pipeline, and read back with ffprobe.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{json, ok};
use serde_json::Value;
use vodpipe_ladder_math::h264::{self, Level, Profile, Stream};

/// A test pattern with a tone, `seconds` long at `rate` frames per second (`"60"`,
/// `"24000/1001"`).
fn clip(dir: &Path, size: &str, rate: &str, seconds: &str) -> PathBuf {
    let name = format!("{size}-{}.mp4", rate.replace('/', "-"));
    vodpipe_test_support::media::clip(dir, &name, size, rate, seconds)
}

fn ffprobe_stream(media: &Path) -> Value {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-print_format",
            "json",
            "-show_streams",
        ])
        .arg(media)
        .output()
        .expect("run ffprobe");
    assert!(
        out.status.success(),
        "ffprobe {}: {}",
        media.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let probe: Value = serde_json::from_slice(&out.stdout).unwrap();
    probe["streams"][0].clone()
}

/// The master playlist's variants: (URI, CODECS).
fn variants(master: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(master).unwrap();
    let mut variants = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some(attributes) = line.strip_prefix("#EXT-X-STREAM-INF:") {
            let codecs = attributes
                .split("CODECS=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_else(|| panic!("no CODECS in {line}"));
            variants.push((lines.next().unwrap().to_owned(), codecs.to_owned()));
        }
    }
    variants
}

fn rate(text: &str) -> f64 {
    let (n, d) = text.split_once('/').unwrap_or((text, "1"));
    n.parse::<f64>().unwrap() / d.parse::<f64>().unwrap()
}

#[test]
fn a_60_fps_720p_upload_gets_conformant_levels_that_codecs_states() {
    let dir = tempfile::tempdir().unwrap();
    let source = clip(dir.path(), "1280x720", "60", "2");
    let source = source.to_str().unwrap();

    // The plan: the lowest conformant levels for 60 fps, and nothing to warn about.
    let plan = json(&["plan", "--json", source]);
    let planned: Vec<(&str, &str)> = plan["renditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].as_str().unwrap(), r["level"].as_str().unwrap()))
        .collect();
    assert_eq!(
        planned,
        [("720p", "3.2"), ("480p", "3.1"), ("360p", "3.1"), ("240p", "3.0")]
    );
    assert_eq!(plan["warnings"], serde_json::json!([]));
    let outputs = plan["job"]["Settings"]["OutputGroups"][0]["Outputs"]
        .as_array()
        .unwrap();
    let job_levels: Vec<&str> = outputs
        .iter()
        .map(|o| {
            o["VideoDescription"]["CodecSettings"]["H264Settings"]["CodecLevel"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(job_levels, ["LEVEL_3_2", "LEVEL_3_1", "LEVEL_3_1", "LEVEL_3"]);

    // The streams: the level in each SPS is the one planned, the one CODECS states, and it
    // conforms to Table A-1 for the stream's size, frame rate and max bitrate.
    let data = dir.path().join("data");
    let video = json(&["process", source, "--out", data.to_str().unwrap(), "--json"]);
    assert_eq!(video["status"], "done", "{video}");
    let master = PathBuf::from(video["master_playlist"].as_str().unwrap());
    let variants = variants(&master);
    assert_eq!(variants.len(), 4, "{variants:?}");
    for ((uri, codecs), rendition) in variants.iter().zip(plan["renditions"].as_array().unwrap()) {
        let stream = ffprobe_stream(&master.parent().unwrap().join(uri));
        let level_idc = stream["level"].as_u64().unwrap() as u8;
        let avc1 = codecs.split(',').next().unwrap();
        assert_eq!(
            u8::from_str_radix(&avc1[avc1.len() - 2..], 16).unwrap(),
            level_idc,
            "{uri}: CODECS {codecs} vs the stream's level_idc {level_idc}"
        );
        let level = Level::parse(&format!("{}.{}", level_idc / 10, level_idc % 10)).unwrap();
        assert_eq!(level.to_string(), rendition["level"].as_str().unwrap(), "{uri}");
        let stream = Stream {
            width: stream["width"].as_u64().unwrap() as u32,
            height: stream["height"].as_u64().unwrap() as u32,
            frame_rate: rate(stream["r_frame_rate"].as_str().unwrap()),
            max_bitrate: rendition["max_bitrate"].as_u64().unwrap(),
            profile: Profile::parse(rendition["profile"].as_str().unwrap()).unwrap(),
        };
        assert_eq!(stream.frame_rate, 60.0, "{uri}");
        assert_eq!(
            h264::exceeded(level, &stream),
            Vec::<String>::new(),
            "{uri}: level {level} does not conform for {stream}"
        );
    }
}

#[test]
fn clips_as_long_as_the_thumbnail_time_get_a_thumbnail_of_a_frame_they_have() {
    let dir = tempfile::tempdir().unwrap();
    for (rate, fps) in [("25", 25.0), ("24000/1001", 24_000.0 / 1001.0)] {
        let source = clip(dir.path(), "320x240", rate, "2");
        let source = source.to_str().unwrap();

        // The plan moves the thumbnail from 2.0 s (past the last frame) into the clip, and the
        // job names the capture at that time.
        let plan = json(&["plan", "--json", source]);
        let duration = plan["source"]["duration_ms"].as_f64().unwrap() / 1000.0;
        let last_frame = duration - 1.0 / fps;
        let at = plan["thumbnail"]["at_seconds"].as_f64().unwrap();
        assert!(
            at > 0.0 && at < last_frame,
            "{rate} fps: thumbnail at {at} s of {duration} s"
        );
        let capture = &plan["job"]["Settings"]["OutputGroups"][1]["Outputs"][0]["VideoDescription"]["CodecSettings"]["FrameCaptureSettings"];
        let every = capture["FramerateDenominator"].as_f64().unwrap() / capture["FramerateNumerator"].as_f64().unwrap();
        let named = plan["job_metadata"]["thumbnail"].as_str().unwrap();
        let index: u64 = named
            .strip_prefix("thumbnails/thumb_poster.")
            .and_then(|n| n.strip_suffix(".jpg"))
            .unwrap()
            .parse()
            .unwrap();
        assert!(index < capture["MaxCaptures"].as_u64().unwrap(), "{capture}, {named}");
        assert!(
            (index as f64 * every - at).abs() < 0.0005,
            "{rate} fps: capture {index} every {every} s is not the thumbnail at {at} s"
        );

        // Processed, it ends done with that thumbnail.
        let data = dir.path().join(format!("data-{}", rate.replace('/', "-")));
        let video = json(&["process", source, "--out", data.to_str().unwrap(), "--json"]);
        assert_eq!(video["status"], "done", "{rate} fps: {video}");
        let thumbnail = PathBuf::from(video["thumbnail"].as_str().unwrap());
        assert!(thumbnail.ends_with(named), "{}", thumbnail.display());
        let jpeg = std::fs::read(&thumbnail).unwrap();
        assert!(
            jpeg.starts_with(&[0xff, 0xd8, 0xff]),
            "{} is not a JPEG",
            thumbnail.display()
        );
    }
}

#[test]
fn a_level_too_low_is_raised_and_plan_and_policy_check_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().to_str().unwrap();
    ok(&["policy", "init", bundle]);
    let preset = dir.path().join("ladders/default.toml");
    let text = std::fs::read_to_string(&preset).unwrap();
    // The 480p rung (the third) asks for 3.0, too low for 854x480 at the 60 fps cap.
    let at = text.match_indices("level = \"auto\"").nth(2).unwrap().0;
    let edited = format!(
        "{}level = \"3.0\"{}",
        &text[..at],
        &text[at + "level = \"auto\"".len()..]
    );
    std::fs::write(&preset, &edited).unwrap();
    let line = edited[..at].lines().count() + 1;

    // policy check: still ok, with a warning at the level.
    let report = ok(&["policy", "check", bundle]);
    assert!(report.starts_with("ok: bundle `builtin`"), "{report}");
    let expected = format!(
        "warning: {bundle}/ladders/default.toml:{line}:9: rungs[2].level: level 3.0 is too low for a 16:9 source at \
         the frame_rate_cap (854x480 at 60 fps, max 2100 kb/s, main profile): plans raise it to 3.1"
    );
    assert!(report.contains(&expected), "expected\n{expected}\nin\n{report}");

    // plan: the level is raised, and the table and the JSON say so.
    let table = ok(&["plan", "--width", "1280", "--height", "720", "--policy", bundle]);
    let warning = "rendition `480p`: the preset's level 3.0 is too low for 854x480 at 60 fps, max 2100 kb/s, main \
                   profile; raised to 3.1";
    assert!(table.contains(&format!("\nwarning: {warning}\n")), "{table}");
    let plan = json(&[
        "plan", "--json", "--width", "1280", "--height", "720", "--policy", bundle,
    ]);
    assert_eq!(plan["warnings"], serde_json::json!([warning]));
    assert_eq!(plan["renditions"][1]["level"], "3.1");
    assert_eq!(
        plan["job"]["Settings"]["OutputGroups"][0]["Outputs"][1]["VideoDescription"]["CodecSettings"]["H264Settings"]["CodecLevel"],
        "LEVEL_3_1"
    );

    // At 30 fps, 3.0 is too low for 854x480 as well: the plan of a 30 fps file says so too.
    let source = clip(dir.path(), "1280x720", "30", "1");
    let plan = json(&["plan", "--json", source.to_str().unwrap(), "--policy", bundle]);
    assert_eq!(
        plan["warnings"],
        serde_json::json!([
            "rendition `480p`: the preset's level 3.0 is too low for 854x480 at 30 fps, max 2100 kb/s, main profile; \
             raised to 3.1"
        ])
    );
}
