//! Every built-in preset's output, held to the HLS authoring rules and read back as a strict
//! player would (`vodpipe_test_support::conformance`): an 8 s 720p upload with an English AAC
//! track through the embedded pipeline with each preset active, MPEG-TS and CMAF alike.

#[allow(dead_code)]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use vodpipe_core::VideoStatus;
use vodpipe_core::pipeline::Pipeline;
use vodpipe_core::ports::{SystemClock, VideoRepository};
use vodpipe_embedded::disk::DiskStore;
use vodpipe_embedded::sqlite::Database;
use vodpipe_embedded::worker::{QueueTranscoder, Worker, WorkerConfig, upload_event};
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

#[test]
fn every_built_in_presets_output_is_conformant() {
    let dir = tempfile::tempdir().unwrap();
    let input = source(dir.path());
    let mut checked = Vec::new();
    for (preset, _) in LADDERS {
        let data = dir.path().join(preset);
        let store = DiskStore::open(&data).unwrap();
        let database = Database::open(&data.join("vodpipe.db"), Box::new(SystemClock)).unwrap();
        let policy = common::policy_with_preset(preset);
        store.put_upload(KEY, &input, None).unwrap();
        upload_event(&database, KEY).unwrap();
        let transcoder = QueueTranscoder { queue: &database };
        let worker = Worker {
            queue: &database,
            pipeline: Pipeline {
                store: &store,
                repository: &database,
                transcoder: &transcoder,
                policy: &policy,
                clock: &SystemClock,
                role: String::new(),
                queue: None,
            },
            config: WorkerConfig::default(),
        };
        while worker.run_once(&mut |_| {}).unwrap() {}
        let record = database.get(KEY).unwrap().expect("a video record");
        assert_eq!(
            record.status,
            VideoStatus::Done,
            "{preset}: {:?}",
            record.failure_reason
        );
        let master = store.media_dir(KEY).join(record.playback_path.as_deref().unwrap());
        conformance::assert_conformant(&master);
        checked.push(*preset);
    }
    assert!(checked.contains(&"cmaf") && checked.len() >= 6, "{checked:?}");
}
