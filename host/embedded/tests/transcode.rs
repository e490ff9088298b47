//! The embedded transcoder runs the job document the shipped plugins write, with real
//! ffmpeg, and what it writes is read back with ffprobe.

mod common;

use std::path::{Path, PathBuf};

use vodpipe_core::ports::{Policy, Prober};
use vodpipe_core::{Action, JobContext, JobStatus, Video, VideoStatus};
use vodpipe_embedded::ffmpeg::{run, test_pattern, translate};
use vodpipe_embedded::ffprobe::FfprobeProber;
use vodpipe_runtime::LoadedPolicy;

fn make_source(dir: &Path, size: &str, seconds: u32) -> PathBuf {
    let path = dir.join(format!("source-{size}.mp4"));
    let (width, height) = size.split_once('x').unwrap();
    test_pattern(&path, width.parse().unwrap(), height.parse().unwrap(), seconds, true).unwrap();
    path
}

struct Transcoded {
    out: PathBuf,
    result: vodpipe_core::JobResult,
    policy: LoadedPolicy,
}

fn transcode(dir: &Path, source: &Path) -> Transcoded {
    let policy = common::policy();
    let probe = FfprobeProber::default().probe(source).unwrap();
    let plan = policy.plan(&probe).unwrap();
    let out = dir.join("media/video-1");
    let context = JobContext {
        video_id: "video-1".into(),
        input_uri: format!("file://{}", source.display()),
        output_prefix: format!("file://{}/", out.display()),
        role: String::new(),
        queue: None,
    };
    let job = policy.build_job(&plan, &context).unwrap();
    let hls = translate(&job.to_value()).unwrap_or_else(|e| panic!("{e:?}"));
    let mut fractions = Vec::new();
    let result = run(&hls, "job-1", Some(&probe), |f| fractions.push(f));
    assert_eq!(result.status, JobStatus::Complete, "{result:?}");
    assert_eq!(fractions.last(), Some(&1.0), "progress ends at 100%");
    Transcoded { out, result, policy }
}

fn segment_durations(playlist: &Path) -> Vec<String> {
    std::fs::read_to_string(playlist)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("#EXTINF"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_720p_source_becomes_four_aligned_hls_variants_and_a_thumbnail() {
    let dir = tempfile::tempdir().unwrap();
    let source = make_source(dir.path(), "1280x720", 7);
    let Transcoded { out, result, policy } = transcode(dir.path(), &source);

    let prober = FfprobeProber::default();
    let sizes: Vec<(u32, u32)> = result
        .outputs
        .iter()
        .map(|o| {
            let probe = prober.probe(&out.join(&o.path)).unwrap();
            (probe.width, probe.height)
        })
        .collect();
    assert_eq!(sizes, [(1280, 720), (854, 480), (640, 360), (426, 240)]);
    let names: Vec<&str> = result.outputs.iter().map(|o| o.path.as_str()).collect();
    assert_eq!(
        names,
        [
            "index_720p.m3u8",
            "index_480p.m3u8",
            "index_360p.m3u8",
            "index_240p.m3u8"
        ]
    );

    let master = std::fs::read_to_string(out.join("index.m3u8")).unwrap();
    assert_eq!(master.matches("#EXT-X-STREAM-INF:").count(), 4, "{master}");
    for attribute in [
        "BANDWIDTH=",
        "AVERAGE-BANDWIDTH=",
        "RESOLUTION=1280x720",
        "CODECS=\"avc1.64001f,mp4a.40.2\"",
        "FRAME-RATE=30.000",
    ] {
        assert!(master.contains(attribute), "{attribute} missing in\n{master}");
    }
    // 426x240 at 30 fps in baseline: level 2.1 (0x15), the lowest conformant.
    assert!(
        master.contains("RESOLUTION=426x240,CODECS=\"avc1.42e015,mp4a.40.2\""),
        "{master}"
    );

    // Segments start on keyframes at the same instants in every rendition.
    let first = segment_durations(&out.join("index_720p.m3u8"));
    assert!(first.len() >= 2, "{first:?}");
    for o in &result.outputs {
        let playlist = std::fs::read_to_string(out.join(&o.path)).unwrap();
        assert!(
            playlist.contains("#EXT-X-PLAYLIST-TYPE:VOD") && playlist.contains("#EXT-X-INDEPENDENT-SEGMENTS"),
            "{playlist}"
        );
        assert_eq!(
            segment_durations(&out.join(&o.path)),
            first,
            "{} is not aligned",
            o.path
        );
    }

    let thumbnail = result.thumbnail_path.clone().expect("a thumbnail");
    let jpeg = std::fs::read(out.join(&thumbnail)).unwrap();
    assert_eq!(&jpeg[..3], &[0xff, 0xd8, 0xff], "{thumbnail} is a JPEG");
    assert_eq!(
        prober.probe(&out.join(&thumbnail)).map(|p| (p.width, p.height)).ok(),
        Some((640, 360))
    );

    // The post-processor turns the result into the video's final state.
    let video = Video {
        id: "video-1".into(),
        user_id: "u".into(),
        title: "t".into(),
        status: VideoStatus::Processing,
        source_key: "video-1".into(),
    };
    let actions = policy.post_process(&video, &result).unwrap();
    assert!(actions.contains(&Action::SetDone) && actions.contains(&Action::RecordPlayback("index.m3u8".into())));
}

#[test]
fn a_370_line_source_becomes_two_variants() {
    let dir = tempfile::tempdir().unwrap();
    let source = make_source(dir.path(), "658x370", 3);
    let Transcoded { result, .. } = transcode(dir.path(), &source);
    let sizes: Vec<(u32, u32)> = result.outputs.iter().map(|o| (o.width, o.height)).collect();
    assert_eq!(sizes, [(640, 360), (426, 240)]);
}

#[test]
fn unsupported_settings_are_refused_with_their_paths() {
    let policy = common::policy();
    let plan = policy.plan(&vodpipe_core::Probe::from_size(1280, 720)).unwrap();
    let context = JobContext {
        video_id: "v".into(),
        input_uri: "s3://uploads/v".into(),
        output_prefix: "file:///media/v/".into(),
        role: String::new(),
        queue: None,
    };
    let mut doc = policy.build_job(&plan, &context).unwrap().to_value();
    let h264 =
        &mut doc["Settings"]["OutputGroups"][0]["Outputs"][1]["VideoDescription"]["CodecSettings"]["H264Settings"];
    h264["RateControlMode"] = "QVBR".into();
    h264["QvbrSettings"] = serde_json::json!({ "QvbrQualityLevel": 7 });
    let problems: Vec<String> = translate(&doc).unwrap_err().iter().map(ToString::to_string).collect();
    let all = problems.join("\n");
    let at = "Settings.OutputGroups[0].Outputs[1].VideoDescription.CodecSettings.H264Settings";
    assert!(
        all.contains(&format!(
            "{at}.RateControlMode: `QVBR` is not supported by the embedded transcoder"
        )),
        "{all}"
    );
    assert!(
        all.contains(&format!(
            "{at}.QvbrSettings: is not supported by the embedded transcoder"
        )),
        "{all}"
    );
    assert!(all.contains("Settings.Inputs[0].FileInput: `s3://uploads/v`: the embedded transcoder reads and writes absolute file:// URIs only"), "{all}");
    assert_eq!(problems.len(), 3, "{all}");
}

#[test]
fn a_source_ffmpeg_cannot_decode_fails_the_job_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let source = make_source(dir.path(), "640x360", 2);
    let policy = common::policy();
    let plan = policy.plan(&vodpipe_core::Probe::from_size(640, 360)).unwrap();
    let broken = dir.path().join("broken.mp4");
    let bytes = std::fs::read(&source).unwrap();
    std::fs::write(&broken, &bytes[..bytes.len() / 4]).unwrap();
    let context = JobContext {
        video_id: "v".into(),
        input_uri: format!("file://{}", broken.display()),
        output_prefix: format!("file://{}/out/", dir.path().display()),
        role: String::new(),
        queue: None,
    };
    let job = translate(&policy.build_job(&plan, &context).unwrap().to_value()).unwrap();
    let result = run(&job, "job-2", None, |_| {});
    assert_eq!(result.status, JobStatus::Error);
    let message = result.error_message.unwrap();
    assert!(message.starts_with("ffmpeg exited with"), "{message}");
}
