//! The embedded transcoder runs the job document the shipped plugins write, with real
//! ffmpeg, and what it writes is read back with ffprobe.

mod common;

use std::path::{Path, PathBuf};

use vodpipe_core::ports::{Policy, Prober};
use vodpipe_core::{Action, JobContext, JobStatus, Video, VideoStatus};
use vodpipe_embedded::ffmpeg::{Rate, bandwidth, run, test_pattern, translate};
use vodpipe_embedded::ffprobe::FfprobeProber;
use vodpipe_embedded::job_lock::JobLock;
use vodpipe_job_document::qvbr;
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
    let context = file_context("video-1", source, &out);
    let job = policy.build_job(&plan, &context).unwrap();
    let hls = translate(&job.to_value()).unwrap_or_else(|e| panic!("{e:?}"));
    let mut fractions = Vec::new();
    let lock = JobLock::try_acquire(&hls.output_dir).unwrap().expect("no other writer");
    let result = run(&hls, &lock, "job-1", Some(&probe), |f| fractions.push(f)).expect("the machine works");
    assert_eq!(result.status, JobStatus::Complete, "{result:?}");
    assert_eq!(fractions.last(), Some(&1.0), "progress ends at 100%");
    Transcoded { out, result, policy }
}

/// A job reading `source` and writing under `out`, both on disk.
fn file_context(video_id: &str, source: &Path, out: &Path) -> JobContext {
    JobContext {
        video_id: video_id.into(),
        input_uri: format!("file://{}", source.display()),
        output_prefix: format!("file://{}/", out.display()),
        role: String::new(),
        queue: None,
    }
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
        master.contains("RESOLUTION=426x240,CODECS=\"avc1.42c015,mp4a.40.2\""),
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
    // Read with ffprobe itself: vodpipe's prober refuses a still image as an upload.
    let size = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0"])
        .arg(out.join(&thumbnail))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&size.stdout).trim(), "640,360", "{thumbnail}");

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
    let build = || policy.build_job(&plan, &context).unwrap().to_value();
    let at = "Settings.OutputGroups[0].Outputs[1].VideoDescription.CodecSettings.H264Settings";
    let problems = |doc: &serde_json::Value| -> Vec<String> {
        translate(doc).unwrap_err().iter().map(ToString::to_string).collect()
    };

    // A value outside what vodpipe's job documents speak stops the reading where it stands.
    let mut doc = build();
    doc["Settings"]["OutputGroups"][0]["Outputs"][1]["VideoDescription"]["CodecSettings"]["H264Settings"]["RateControlMode"] =
        "CBR".into();
    assert_eq!(
        problems(&doc),
        [format!(
            "{at}.RateControlMode: unknown variant `CBR`, expected `VBR` or `QVBR`"
        )]
    );

    // Otherwise every unknown key and every setting the transcoder cannot honour, at once.
    let mut doc = build();
    doc["Settings"]["OutputGroups"][0]["Outputs"][1]["VideoDescription"]["CodecSettings"]["H264Settings"]["QvbrQuality"] =
        serde_json::json!({ "QvbrQualityLevel": 7 });
    doc["Settings"]["OutputGroups"][0]["Outputs"][0]["NameModifier"] = "_7 20p".into();
    let problems = problems(&doc);
    let all = problems.join("\n");
    assert!(
        all.contains(&format!(
            "{at}.QvbrQuality: is not a setting vodpipe's job documents have"
        )),
        "{all}"
    );
    assert!(
        all.contains("Settings.OutputGroups[0].Outputs[0].NameModifier: must be letters, digits, '_' or '-'"),
        "{all}"
    );
    assert!(all.contains("Settings.Inputs[0].FileInput: `s3://uploads/v`: the embedded transcoder reads and writes absolute file:// URIs only"), "{all}");
    assert_eq!(problems.len(), 3, "{all}");
}

/// A QVBR job (what MediaConvert would run at a quality level under each rendition's peak)
/// runs as capped CRF: x264 says so in the stream (its settings SEI: constant rate factor
/// of the level, VBV maximum of the peak), and no rendition averages over its peak.
#[test]
fn a_qvbr_job_runs_as_capped_crf_under_its_peak() {
    let dir = tempfile::tempdir().unwrap();
    let source = make_source(dir.path(), "1280x720", 4);
    let policy = common::policy();
    let probe = FfprobeProber::default().probe(&source).unwrap();
    let plan = policy.plan(&probe).unwrap();
    let out = dir.path().join("media/video-1");
    let context = file_context("video-1", &source, &out);
    let mut doc = policy.build_job(&plan, &context).unwrap().to_value();
    for output in doc["Settings"]["OutputGroups"][0]["Outputs"].as_array_mut().unwrap() {
        let h264 = output["VideoDescription"]["CodecSettings"]["H264Settings"]
            .as_object_mut()
            .unwrap();
        h264.remove("Bitrate");
        h264.insert("RateControlMode".into(), "QVBR".into());
        h264.insert("QvbrSettings".into(), serde_json::json!({}));
    }
    let hls = translate(&doc).unwrap_or_else(|e| panic!("{e:?}"));
    let crf = qvbr::crf_for_level(qvbr::DEFAULT_QUALITY_LEVEL);
    assert!(
        hls.variants.iter().all(|v| v.rate == Rate::ConstantQuality { crf }),
        "{:?}",
        hls.variants
    );
    let lock = JobLock::try_acquire(&hls.output_dir).unwrap().expect("no other writer");
    let result = run(&hls, &lock, "job-1", Some(&probe), |_| {}).expect("the machine works");
    assert_eq!(result.status, JobStatus::Complete, "{result:?}");
    for variant in &hls.variants {
        let name = format!("index{}", variant.modifier);
        let (_, average, _) = bandwidth(&out.join(format!("{name}.m3u8"))).unwrap();
        assert!(
            average <= variant.max_bitrate,
            "{name}: {average} b/s over its peak {}",
            variant.max_bitrate
        );
        // The raw H.264 stream: in the segment, x264's settings string is cut by TS packets.
        let raw = dir.path().join(format!("{name}.h264"));
        let copied = std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-i"])
            .arg(out.join(format!("{name}_00001.ts")))
            .args(["-map", "0:v", "-c", "copy", "-f", "h264"])
            .arg(&raw)
            .status()
            .unwrap();
        assert!(copied.success());
        let settings = String::from_utf8_lossy(&std::fs::read(&raw).unwrap()).into_owned();
        for said in [
            "rc=crf".to_owned(),
            format!("crf={crf:.1}"),
            format!("vbv_maxrate={}", variant.max_bitrate / 1000),
        ] {
            assert!(settings.contains(&said), "{name}: x264's settings do not say {said}");
        }
    }

    // Without its peak, or with VBR's average, QVBR is refused by path.
    let at = "Settings.OutputGroups[0].Outputs[0].VideoDescription.CodecSettings.H264Settings";
    let h264 =
        &mut doc["Settings"]["OutputGroups"][0]["Outputs"][0]["VideoDescription"]["CodecSettings"]["H264Settings"];
    h264.as_object_mut().unwrap().remove("MaxBitrate");
    h264["Bitrate"] = 1_000_000.into();
    h264["QvbrSettings"] = serde_json::json!({ "QvbrQualityLevel": 11 });
    let problems: Vec<String> = translate(&doc).unwrap_err().iter().map(ToString::to_string).collect();
    assert_eq!(
        problems,
        [
            format!("{at}.Bitrate: is not used with RateControlMode QVBR"),
            format!("{at}.MaxBitrate: is required with RateControlMode QVBR"),
            format!("{at}.QvbrSettings.QvbrQualityLevel: 11: must be 1 to 10"),
        ]
    );
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
    let context = file_context("v", &broken, &dir.path().join("out"));
    let job = translate(&policy.build_job(&plan, &context).unwrap().to_value()).unwrap();
    let lock = JobLock::try_acquire(&job.output_dir).unwrap().expect("no other writer");
    let result = run(&job, &lock, "job-2", None, |_| {}).expect("the machine works");
    assert_eq!(result.status, JobStatus::Error);
    let message = result.error_message.unwrap();
    assert!(message.starts_with("ffmpeg exited with"), "{message}");
}

/// The colour of a JPEG's middle pixel, as ffmpeg decodes it.
fn middle_pixel(jpeg: &Path) -> [u8; 3] {
    let output = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(jpeg)
        .args(["-vf", "crop=2:2,scale=1:1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    output.stdout[..3].try_into().unwrap()
}

#[test]
fn a_clip_that_ends_before_the_thumbnail_time_gets_its_last_frame_and_leftovers_are_cleared() {
    let dir = tempfile::tempdir().unwrap();
    // 2.0 s at 25 fps: blue, then one red frame at 1.96 s. No frame starts at or after 2.0 s.
    let source = dir.path().join("ends-red.mp4");
    let made = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i"])
        .arg("color=c=blue:s=320x240:r=25:d=1.96[a];color=c=red:s=320x240:r=25:d=0.04[b];[a][b]concat")
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"])
        .arg(&source)
        .status()
        .unwrap();
    assert!(made.success());
    let policy = common::policy();
    let probe = FfprobeProber::default().probe(&source).unwrap();
    assert_eq!(probe.duration_ms, 2000);
    let out = dir.path().join("media/v");
    let context = file_context("v", &source, &out);
    let doc = policy.build_job(&policy.plan(&probe).unwrap(), &context).unwrap();
    let mut job = translate(&doc.to_value()).unwrap();
    // The executor must cope whatever the planner chose: here, exactly the clip's length.
    let thumbnail = job.thumbnail.as_mut().expect("the built-in job captures a thumbnail");
    thumbnail.at_seconds = 2.0;
    let thumbnail = thumbnail.path.clone();

    // What a killed run leaves: a stale thumbnail (which would hide a missing capture), a
    // segment this run will not write, a master playlist. Other files are not the job's.
    std::fs::create_dir_all(thumbnail.parent().unwrap()).unwrap();
    std::fs::write(&thumbnail, "stale").unwrap();
    let stale_segment = out.join(format!("{}{}_09999.ts", job.manifest, job.variants[0].modifier));
    std::fs::write(&stale_segment, "stale").unwrap();
    std::fs::write(out.join("index.m3u8"), "stale").unwrap();
    std::fs::write(out.join("notes.txt"), "kept").unwrap();

    let lock = JobLock::try_acquire(&job.output_dir).unwrap().expect("no other writer");
    let result = run(&job, &lock, "v-hls", Some(&probe), |_| {}).expect("the machine works");
    assert_eq!(result.status, JobStatus::Complete, "{result:?}");
    assert_eq!(
        result.thumbnail_path.as_deref(),
        Some("thumbnails/thumb_poster.0000001.jpg")
    );
    let [red, green, blue] = middle_pixel(&thumbnail);
    assert!(
        red > 200 && green < 60 && blue < 60,
        "the last frame is red: {:?}",
        [red, green, blue]
    );
    assert!(!stale_segment.exists(), "the killed run's extra segment is gone");
    assert!(
        std::fs::read_to_string(out.join("index.m3u8"))
            .unwrap()
            .contains("#EXT-X-STREAM-INF")
    );
    assert_eq!(std::fs::read_to_string(out.join("notes.txt")).unwrap(), "kept");

    // With the frame there, the thumbnail is the one at the time asked for (blue at 1.0 s).
    job.thumbnail.as_mut().unwrap().at_seconds = 1.0;
    drop(lock);
    let lock = JobLock::try_acquire(&job.output_dir).unwrap().expect("no other writer");
    let result = run(&job, &lock, "v-hls", Some(&probe), |_| {}).expect("the machine works");
    assert_eq!(result.status, JobStatus::Complete, "{result:?}");
    let [red, _, blue] = middle_pixel(&thumbnail);
    assert!(blue > 200 && red < 60, "the frame at 1.0 s is blue");
}

#[test]
fn a_source_without_a_readable_last_frame_fails_with_both_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let source = make_source(dir.path(), "320x240", 1);
    let probe = FfprobeProber::default().probe(&source).unwrap();
    let policy = common::policy();
    let out = dir.path().join("media/v");
    let context = file_context("v", &source, &out);
    let doc = policy.build_job(&policy.plan(&probe).unwrap(), &context).unwrap();
    let mut job = translate(&doc.to_value()).unwrap();
    let thumbnail = job.thumbnail.as_mut().unwrap();
    thumbnail.at_seconds = 5.0;
    // A directory where the JPEG should go: neither capture can write it.
    std::fs::create_dir_all(&thumbnail.path).unwrap();
    let lock = JobLock::try_acquire(&job.output_dir).unwrap().expect("no other writer");
    // ffmpeg cannot write there ("Input/output error"): a write the machine refused, which
    // the worker tries again (and gives up on at the last delivery) with both reasons.
    let message = run(&job, &lock, "v-hls", Some(&probe), |_| {})
        .expect_err("a refused write is the machine's failure")
        .to_string();
    assert!(
        message.starts_with(
            "no thumbnail was captured: the video ends before 5.0 s and its last frame could not be read ("
        ),
        "{message}"
    );
}
