//! `CODECS` in the master playlist states the H.264 level that is in each stream, whether the
//! job names the level or leaves it to the encoder (`AUTO`).

mod common;

use std::path::Path;
use std::process::Command;

use vodpipe_core::ports::{Policy, Prober};
use vodpipe_core::{JobContext, JobStatus};
use vodpipe_embedded::ffmpeg::{run, test_pattern, translate};
use vodpipe_embedded::ffprobe::FfprobeProber;
use vodpipe_embedded::job_lock::JobLock;

/// `level_idc` of the first video stream of a media playlist, as ffprobe reads it.
fn stream_level(playlist: &Path) -> u32 {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=level"])
        .args(["-of", "default=noprint_wrappers=1:nokey=1"])
        .arg(playlist)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Printed once for the program and once for the stream.
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().next().unwrap().trim().parse().unwrap()
}

/// Every variant of a master playlist: its URI and the level byte of its `avc1` codec.
fn codecs_levels(master: &Path) -> Vec<(String, u32)> {
    let text = std::fs::read_to_string(master).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    lines
        .windows(2)
        .filter(|pair| pair[0].starts_with("#EXT-X-STREAM-INF:"))
        .map(|pair| {
            let avc1 = pair[0].split("CODECS=\"avc1.").nth(1).unwrap();
            (pair[1].to_owned(), u32::from_str_radix(&avc1[4..6], 16).unwrap())
        })
        .collect()
}

#[test]
fn codecs_states_the_streams_level_for_named_and_auto_levels() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.mp4");
    test_pattern(&source, 1280, 720, 2, true).unwrap();
    let policy = common::policy();
    let probe = FfprobeProber::default().probe(&source).unwrap();
    let plan = policy.plan(&probe).unwrap();

    for auto in [false, true] {
        let out = dir.path().join(if auto { "auto" } else { "named" });
        let context = JobContext {
            video_id: "video-1".into(),
            input_uri: format!("file://{}", source.display()),
            output_prefix: format!("file://{}/", out.display()),
            role: String::new(),
            queue: None,
        };
        let mut job = policy.build_job(&plan, &context).unwrap().to_value();
        let outputs = job["Settings"]["OutputGroups"][0]["Outputs"].as_array_mut().unwrap();
        let mut named = Vec::new();
        for output in outputs {
            let level = &mut output["VideoDescription"]["CodecSettings"]["H264Settings"]["CodecLevel"];
            named.push(level.as_str().unwrap().to_owned());
            if auto {
                *level = "AUTO".into();
            }
        }
        let hls = translate(&job).unwrap_or_else(|e| panic!("{e:?}"));
        let lock = JobLock::try_acquire(&hls.output_dir).unwrap().expect("no other writer");
        let result = run(&hls, &lock, "job-1", Some(&probe), |_| {}).expect("the machine works");
        assert_eq!(result.status, JobStatus::Complete, "{result:?}");

        let variants = codecs_levels(&out.join("index.m3u8"));
        assert_eq!(variants.len(), named.len());
        for ((uri, codecs_level), named) in variants.iter().zip(&named) {
            let in_stream = stream_level(&out.join(uri));
            assert_eq!(*codecs_level, in_stream, "{uri} (job level {named}, AUTO: {auto})");
            if !auto {
                let asked = named.trim_start_matches("LEVEL_").replace('_', "");
                let asked: u32 = if asked.len() == 1 {
                    asked.parse::<u32>().unwrap() * 10
                } else {
                    asked.parse().unwrap()
                };
                assert_eq!(in_stream, asked, "{uri}: the stream has the level the job named");
            }
        }
    }
}
