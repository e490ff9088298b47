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
    let data = dir.join(preset);
    let store = DiskStore::open(&data).unwrap();
    let database = Database::open(&data.join("vodpipe.db"), Box::new(SystemClock)).unwrap();
    let policy = common::policy_with_preset(preset);
    store.put_upload(KEY, input, None).unwrap();
    upload_event(&database, KEY).unwrap();
    common::work_until_idle(&store, &database, &policy, WorkerConfig::default());
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
    assert!(LADDERS.iter().any(|(name, _)| *name == "cmaf") && LADDERS.len() >= 6);
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
