//! Every built-in preset's output, held to the HLS authoring rules and read back as a strict
//! player would (`vodpipe_test_support::conformance`): an 8 s 720p upload with an English AAC
//! track through the embedded pipeline with each preset active, MPEG-TS and CMAF alike.

#[allow(dead_code)]
mod common;
#[path = "real_world/inputs.rs"]
#[allow(dead_code)]
mod inputs;

use std::path::{Path, PathBuf};
use std::process::Command;

use vodpipe_core::VideoStatus;
use vodpipe_core::ports::{SystemClock, VideoRepository};
use vodpipe_embedded::disk::DiskStore;
use vodpipe_embedded::sqlite::Database;
use vodpipe_embedded::worker::{WorkerConfig, upload_event};
use vodpipe_plugin_artifacts::LADDERS;
use vodpipe_test_support::conformance;

const KEY: &str = "01JPRESETS000000000000000";

/// 8 s of a moving test pattern at 1280x720, 30 fps, with a tone tagged English: two
/// segments at 6 s (4 s: mobile-first), enough to see them aligned.
fn source(dir: &Path) -> PathBuf {
    let path = dir.join("source.mp4");
    let status = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-nostdin",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=1280x720:r=30:d=8",
        ])
        .args([
            "-f",
            "lavfi",
            "-i",
            "sine=f=440:d=8",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
        ])
        .args(["-c:a", "aac", "-metadata:s:a:0", "language=eng", "-shortest"])
        .arg(&path)
        .status()
        .expect("ffmpeg on PATH");
    assert!(status.success());
    path
}

/// Processes `input` with `preset` active and returns the master playlist's path, once done.
fn publish(dir: &Path, preset: &str, input: &Path) -> PathBuf {
    publish_with(dir, preset, &common::policy_with_preset(preset), input)
}

fn publish_with(dir: &Path, preset: &str, policy: &vodpipe_runtime::LoadedPolicy, input: &Path) -> PathBuf {
    let data = dir.join(preset);
    let store = DiskStore::open(&data).unwrap();
    let database = Database::open(&data.join("vodpipe.db"), Box::new(SystemClock)).unwrap();
    store.put_upload(KEY, input, None).unwrap();
    upload_event(&database, KEY).unwrap();
    common::work_until_idle(&store, &database, policy, WorkerConfig::default());
    let record = database.get(KEY).unwrap().expect("a video record");
    assert_eq!(
        record.status,
        VideoStatus::Done,
        "{preset}, {}: {:?}",
        input.display(),
        record.failure_reason
    );
    store.media_dir(KEY).join(record.playback_path.as_deref().unwrap())
}

#[test]
fn every_built_in_presets_output_is_conformant() {
    let dir = tempfile::tempdir().unwrap();
    let input = source(dir.path());
    for (preset, _) in LADDERS {
        conformance::assert_conformant(&publish(dir.path(), preset, &input));
    }
    assert!(LADDERS.iter().any(|(name, _)| *name == "av1") && LADDERS.len() >= 7);
}

/// Every codec at both bit depths in one CMAF ladder: each rendition's CODECS is the stream's
/// own (profile, tier, level and bit depth read from what the encoder wrote), and players see a
/// conformant whole.
#[test]
fn every_codec_and_bit_depth_is_encoded_and_named_as_written() {
    const EVERY_CODEC: &str = r#"
schema = 1
name = "every-codec"
segment_seconds = 4
packaging = "cmaf"

[[rungs]]
name = "360p"
short_side = 360
video_kbps = 800
profile = "high"

[[rungs]]
name = "360p-hevc"
short_side = 360
video_kbps = 600
codec = "hevc"

[[rungs]]
name = "288p-hevc10"
short_side = 288
video_kbps = 400
codec = "hevc"
bit_depth = 10

[[rungs]]
name = "360p-av1"
short_side = 360
video_kbps = 500
codec = "av1"

[[rungs]]
name = "288p-av1-10"
short_side = 288
video_kbps = 300
codec = "av1"
bit_depth = 10
"#;
    let dir = tempfile::tempdir().unwrap();
    let input = source(dir.path());
    let policy = common::policy_with_ladder("every-codec", EVERY_CODEC);
    let master = publish_with(dir.path(), "every-codec", &policy, &input);
    conformance::assert_conformant(&master);

    let text = std::fs::read_to_string(&master).unwrap();
    let codecs_of = |playlist: &str| -> String {
        let at = text
            .find(&format!("\n{playlist}\n"))
            .unwrap_or_else(|| panic!("{playlist} in {text}"));
        let line = text[..at].lines().last().unwrap();
        line.split("CODECS=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned()
    };
    // H.264 High; HEVC Main / Main 10, Main tier; AV1 Main at 8 / 10 bits. The levels are the
    // encoders' (360p and 288p at 30 fps: H.264 3.0, HEVC 3.0 or lower, AV1 3.0 or lower).
    let expected = [
        ("index_360p.m3u8", "avc1.6400"),
        ("index_360p-hevc.m3u8", "hvc1.1.6.L"),
        ("index_288p-hevc10.m3u8", "hvc1.2.4.L"),
        ("index_360p-av1.m3u8", "av01.0."),
        ("index_288p-av1-10.m3u8", "av01.0."),
    ];
    for (playlist, start) in expected {
        let codecs = codecs_of(playlist);
        assert!(codecs.starts_with(start), "{playlist}: {codecs}");
        assert!(codecs.ends_with(",mp4a.40.2"), "{playlist}: {codecs}");
    }
    assert!(codecs_of("index_360p-av1.m3u8").contains("M.08,"), "{text}");
    assert!(codecs_of("index_288p-av1-10.m3u8").contains("M.10,"), "{text}");

    // What ffprobe reads back from each track's init segment: the codec, its tag and bit depth.
    let media = master.parent().unwrap();
    for (modifier, codec, pixel_format) in [
        ("_360p-hevc", "hevc", "yuv420p"),
        ("_288p-hevc10", "hevc", "yuv420p10le"),
        ("_360p-av1", "av1", "yuv420p"),
        ("_288p-av1-10", "av1", "yuv420p10le"),
    ] {
        let init = media.join(format!("index{modifier}_init.mp4"));
        let output = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-select_streams",
                "v:0",
                "-show_entries",
                "stream=codec_name,pix_fmt,codec_tag_string",
            ])
            .args(["-of", "csv=p=0"])
            .arg(&init)
            .output()
            .unwrap();
        let read = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        let tag = if codec == "hevc" { "hvc1" } else { "av01" };
        assert_eq!(read, format!("{codec},{tag},{pixel_format}"), "{modifier}");
    }
}

/// Makes an upload in a directory.
type MakeInput = fn(&Path) -> PathBuf;

/// The awkward uploads of the real world in CMAF: no audio (no audio group), one frame, a
/// turned phone video, a variable and an NTSC frame rate, surround sound, HEVC and Opus in
/// Matroska.
#[test]
fn awkward_uploads_in_cmaf_are_conformant_too() {
    let dir = tempfile::tempdir().unwrap();
    let makers: [(&str, MakeInput); 7] = [
        ("silent", inputs::vp9_webm_silent),
        ("one-frame", inputs::one_frame),
        ("rotated", |d| inputs::rotated(d, 90)),
        ("vfr", inputs::variable_frame_rate),
        ("ntsc", |d| {
            inputs::frame_rate(d, "ntsc.mp4", "320x240", "24000/1001", "2")
        }),
        ("surround", inputs::surround),
        ("hevc-opus", inputs::hevc_opus_matroska),
    ];
    for (name, make) in makers {
        let case = dir.path().join(name);
        std::fs::create_dir_all(&case).unwrap();
        let input = make(&case);
        let master = publish(&case, "cmaf", &input);
        conformance::assert_conformant(&master);
        // AV1 rungs with their H.264 fallback, where the odd timing matters most: SVT-AV1
        // places keyframes by frame count.
        if ["vfr", "ntsc", "rotated"].contains(&name) {
            conformance::assert_conformant(&publish(&case, "av1", &input));
        }
        let text = std::fs::read_to_string(&master).unwrap();
        assert_eq!(
            text.contains("#EXT-X-MEDIA:TYPE=AUDIO"),
            has_audio(&input),
            "{name}: an audio group exactly when there is sound: {text}"
        );
    }
}

fn has_audio(input: &Path) -> bool {
    let output = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "a",
            "-show_entries",
            "stream=index",
            "-of",
            "csv=p=0",
        ])
        .arg(input)
        .output()
        .expect("ffprobe on PATH");
    !String::from_utf8_lossy(&output.stdout).trim().is_empty()
}
