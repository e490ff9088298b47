//! The embedded pipeline end to end: disk store, SQLite videos and queue, the worker, real
//! ffmpeg and the shipped plugins. Duplicates, crashes and poison messages included.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use vodpipe_core::pipeline::{JobStateOutcome, Pipeline, UploadOutcome};
use vodpipe_core::ports::{Clock, MessageQueue, ObjectStore, VideoRepository};
use vodpipe_core::{JobResult, JobStatus, VideoStatus};
use vodpipe_embedded::analysis::SampleAnalyser;
use vodpipe_embedded::disk::DiskStore;
use vodpipe_embedded::ffmpeg::test_pattern;
use vodpipe_embedded::job_lock::JobLock;
use vodpipe_embedded::sqlite::Database;
use vodpipe_embedded::work::WorkMessage;
use vodpipe_embedded::worker::{QueueTranscoder, Worker, WorkerConfig, upload_event};
use vodpipe_runtime::LoadedPolicy;

fn sample(dir: &Path, size: &str) -> PathBuf {
    let path = dir.join(format!("{size}.mp4"));
    let (width, height) = size.split_once('x').unwrap();
    test_pattern(&path, width.parse().unwrap(), height.parse().unwrap(), 2, true).unwrap();
    path
}

/// A clock tests move by hand, so visibility timeouts pass without waiting.
#[derive(Clone, Default)]
struct TestClock(Arc<AtomicU64>);

impl Clock for TestClock {
    fn now_ms(&self) -> u64 {
        1_000_000 + self.0.load(Ordering::SeqCst)
    }
}

impl TestClock {
    fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    root: PathBuf,
    store: DiskStore,
    database: Database,
    policy: LoadedPolicy,
    clock: TestClock,
}

fn setup() -> Setup {
    setup_with(None, SampleAnalyser::default())
}

fn setup_with(preset: Option<&str>, analyser: SampleAnalyser) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_owned();
    let clock = TestClock::default();
    Setup {
        store: DiskStore::open(&root.join("data")).unwrap().with_analyser(analyser),
        database: Database::open(&root.join("data/vodpipe.db"), Box::new(clock.clone())).unwrap(),
        policy: preset.map_or_else(common::policy, common::policy_with_preset),
        clock,
        root,
        _dir: dir,
    }
}

fn config() -> WorkerConfig {
    WorkerConfig {
        visibility: Duration::from_secs(60),
        max_receives: 3,
        backoff: Duration::from_millis(1),
        locked_retry: LOCKED_RETRY,
    }
}

const LOCKED_RETRY: Duration = Duration::from_secs(15);

macro_rules! worker {
    ($s:expr, $transcoder:ident) => {{
        Worker {
            queue: &$s.database,
            pipeline: Pipeline {
                store: &$s.store,
                repository: &$s.database,
                transcoder: &$transcoder,
                policy: &$s.policy,
                clock: &$s.clock,
                role: String::new(),
                queue: None,
            },
            config: config(),
        }
    }};
}

fn drain(worker: &Worker) {
    while worker.run_once(&mut |_| {}).unwrap() {}
}

#[test]
fn an_upload_is_processed_to_done_and_repeated_events_change_nothing() {
    let s = setup();
    let transcoder = QueueTranscoder { queue: &s.database };
    let worker = worker!(s, transcoder);
    s.store
        .put_upload("01VIDEO", &sample(&s.root, "1280x720"), Some("user-1"))
        .unwrap();
    upload_event(&s.database, "01VIDEO").unwrap();
    drain(&worker);

    let video = s.database.get("01VIDEO").unwrap().unwrap();
    assert_eq!(video.status, VideoStatus::Done, "{video:?}");
    assert_eq!(video.user_id.as_deref(), Some("user-1"));
    let sizes: Vec<(u32, u32)> = video.renditions.iter().map(|r| (r.width, r.height)).collect();
    assert_eq!(sizes, [(1280, 720), (854, 480), (640, 360), (426, 240)]);
    assert_eq!(video.dash_path, None, "MPEG-TS has no DASH manifest");
    assert!(
        s.store
            .media_dir("01VIDEO")
            .join(video.playback_path.as_deref().unwrap())
            .is_file()
    );
    assert!(
        s.store.head("01VIDEO").unwrap().is_none(),
        "the raw upload is deleted once published"
    );

    // The same upload event again: nothing is queued, nothing changes.
    upload_event(&s.database, "01VIDEO").unwrap();
    assert_eq!(s.database.queued().unwrap(), 0);
    assert_eq!(
        worker.pipeline.on_upload("01VIDEO").unwrap(),
        UploadOutcome::NoSuchObject
    );
    // A late ERROR for the same job cannot undo done.
    let late = JobResult {
        job_id: video.job_id.clone().unwrap(),
        status: JobStatus::Error,
        error_code: Some(1999),
        error_message: Some("late".into()),
        playlist_path: None,
        outputs: vec![],
        thumbnail_path: None,
        dash_manifest_path: None,
    };
    let late = WorkMessage::JobResult {
        video_id: "01VIDEO".into(),
        result: late,
    };
    s.database.send(&late.to_body(), None).unwrap();
    drain(&worker);
    assert_eq!(s.database.get("01VIDEO").unwrap().unwrap().status, VideoStatus::Done);
}

/// A 1280x720 test pattern uploaded as `01VIDEO` and worked through: its record.
fn process_a_720p_upload(s: &Setup) -> vodpipe_core::VideoRecord {
    let transcoder = QueueTranscoder { queue: &s.database };
    let worker = worker!(s, transcoder);
    s.store
        .put_upload("01VIDEO", &sample(&s.root, "1280x720"), None)
        .unwrap();
    upload_event(&s.database, "01VIDEO").unwrap();
    drain(&worker);
    s.database.get("01VIDEO").unwrap().unwrap()
}

#[test]
fn a_cmaf_upload_gets_one_shared_audio_track_i_frame_playlists_and_a_dash_manifest() {
    let s = setup_with(Some("cmaf"), SampleAnalyser::default());
    let video = process_a_720p_upload(&s);
    assert_eq!(video.status, VideoStatus::Done, "{video:?}");
    let media = s.store.media_dir("01VIDEO");
    let master_path = media.join(video.playback_path.as_deref().unwrap());
    let master = std::fs::read_to_string(&master_path).unwrap();
    // One audio track for the four renditions (the preset gives every rung 128 kb/s), stored
    // once; the video tracks carry none.
    let lines = |tag: &str| master.lines().filter(|l| l.starts_with(tag)).count();
    assert_eq!(lines("#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio-128k\""), 1, "{master}");
    assert_eq!(lines("#EXT-X-STREAM-INF:"), 4, "{master}");
    assert_eq!(
        master.matches("CODECS=\"avc1.").count(),
        8,
        "four variants and four I-frame streams: {master}"
    );
    assert_eq!(master.matches(",AUDIO=\"audio-128k\"").count(), 4, "{master}");
    let files: Vec<String> = media
        .read_dir()
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(files.iter().all(|f| !f.ends_with(".ts")), "{files:?}");
    let audio_segments = files.iter().filter(|f| f.starts_with("index_audio_128k_0")).count();
    assert_eq!(
        audio_segments, 1,
        "a 2 s clip is one segment of one audio track: {files:?}"
    );
    assert!(files.contains(&"index.mpd".to_owned()) && files.contains(&"index_720p_iframes.m3u8".to_owned()));
    // The post-processor recorded the DASH manifest beside the master playlist.
    assert_eq!(video.dash_path.as_deref(), Some("index.mpd"));
    // Everything else a strict player checks, the DASH manifest and the I-frame ranges included.
    vodpipe_test_support::conformance::assert_conformant(&master_path);
}

#[test]
fn a_content_aware_upload_is_analysed_and_encoded_at_constant_quality() {
    let s = setup_with(Some("content-aware"), SampleAnalyser::default());
    let video = process_a_720p_upload(&s);
    assert_eq!(video.status, VideoStatus::Done, "{video:?}");
    let plan = video.plan.unwrap();
    for r in &plan.renditions {
        let level = r
            .quality_level
            .unwrap_or_else(|| panic!("{} is constant quality", r.name));
        assert!((5.0..=9.0).contains(&level), "{}: {level}", r.name);
        assert!(r.video_bitrate <= r.max_bitrate);
    }
}

#[test]
fn a_failed_content_analysis_never_fails_the_video_it_plans_the_presets_bitrates() {
    let broken = SampleAnalyser {
        ffmpeg: "/nonexistent/ffmpeg".into(),
        ..SampleAnalyser::default()
    };
    let s = setup_with(Some("content-aware"), broken);
    let video = process_a_720p_upload(&s);
    assert_eq!(video.status, VideoStatus::Done, "{video:?}");
    let rates: Vec<(Option<f64>, u64)> = video
        .plan
        .unwrap()
        .renditions
        .iter()
        .map(|r| (r.quality_level, r.video_bitrate))
        .collect();
    // The test pattern's own bitrate caps the default rungs; each is an average, not a quality.
    assert!(rates.iter().all(|(level, _)| level.is_none()), "{rates:?}");
    assert_eq!(rates.len(), 4);
}

#[test]
fn duplicate_upload_deliveries_start_one_job() {
    let s = setup();
    let transcoder = QueueTranscoder { queue: &s.database };
    let worker = worker!(s, transcoder);
    s.store
        .put_upload("01TWICE", &sample(&s.root, "658x370"), None)
        .unwrap();
    // Two deliveries of the upload event before any transcode has run.
    for _ in 0..2 {
        assert_eq!(
            worker.pipeline.on_upload("01TWICE").unwrap(),
            UploadOutcome::Submitted {
                job_id: "01TWICE-hls".into()
            }
        );
    }
    assert_eq!(s.database.queued().unwrap(), 1, "one transcode message");
    drain(&worker);
    let video = s.database.get("01TWICE").unwrap().unwrap();
    assert_eq!((video.status, video.renditions.len()), (VideoStatus::Done, 2));
}

#[test]
fn an_event_for_another_job_is_ignored() {
    let s = setup();
    let transcoder = QueueTranscoder { queue: &s.database };
    let worker = worker!(s, transcoder);
    s.store
        .put_upload("01ORDER", &sample(&s.root, "640x360"), None)
        .unwrap();
    worker.pipeline.on_upload("01ORDER").unwrap();
    let change = vodpipe_core::JobStateChange {
        video_id: "01ORDER".into(),
        result: JobResult {
            job_id: "someone-elses-job".into(),
            status: JobStatus::Error,
            error_code: None,
            error_message: None,
            playlist_path: None,
            outputs: vec![],
            thumbnail_path: None,
            dash_manifest_path: None,
        },
    };
    assert_eq!(
        worker.pipeline.on_job_state(&change).unwrap(),
        JobStateOutcome::Ignored("the event is for another job")
    );
    assert_eq!(
        s.database.get("01ORDER").unwrap().unwrap().status,
        VideoStatus::Processing
    );
}

#[test]
fn a_file_that_is_not_a_video_fails_with_a_reason_and_its_upload_is_deleted() {
    let s = setup();
    let transcoder = QueueTranscoder { queue: &s.database };
    let worker = worker!(s, transcoder);
    let notes = s.root.join("notes.txt");
    std::fs::write(&notes, "not a video").unwrap();
    s.store.put_upload("01NOTES", &notes, None).unwrap();
    upload_event(&s.database, "01NOTES").unwrap();
    drain(&worker);
    let video = s.database.get("01NOTES").unwrap().unwrap();
    assert_eq!(video.status, VideoStatus::Failed);
    assert!(video.failure_reason.unwrap().contains("could not be read as a video"));
    assert!(
        s.store.head("01NOTES").unwrap().is_none(),
        "nothing can be made of it: not kept"
    );
}

#[test]
fn poison_messages_reach_the_dead_letter_table_at_once_and_the_worker_goes_on() {
    let s = setup();
    let transcoder = QueueTranscoder { queue: &s.database };
    let worker = worker!(s, transcoder);
    s.database.send("{ not json", None).unwrap();
    s.database.send(r#"{"kind": "upload"}"#, None).unwrap();
    // Unreadable, but it names its video: that video must not stay `processing` for ever.
    s.database
        .create_if_absent(&vodpipe_core::VideoRecord::new("01POISON", None, 1))
        .unwrap();
    s.database
        .send(r#"{"kind": "transcode", "video_id": "01POISON"}"#, None)
        .unwrap();
    for _ in 0..3 {
        worker.run_once(&mut |_| {}).unwrap();
    }
    // Unreadable now is unreadable on every delivery: no retries, no backoff.
    let dead = s.database.dead_letters().unwrap();
    assert_eq!(dead.len(), 3, "{dead:?}");
    assert!(dead.iter().all(|d| d.receive_count == 1), "{dead:?}");
    let error = dead[0].last_error.as_deref().unwrap();
    assert!(
        error.starts_with("not a work message: ") && error.contains("at line 1 column"),
        "{error}"
    );
    let poisoned = s.database.get("01POISON").unwrap().unwrap();
    assert_eq!(poisoned.status, VideoStatus::Failed);
    let reason = poisoned.failure_reason.unwrap();
    assert!(
        reason.starts_with("processing gave up after 1 attempt: not a work message: "),
        "{reason}"
    );
    assert_eq!(s.database.queued().unwrap(), 0);

    // And a good upload after them is processed.
    s.store
        .put_upload("01AFTER", &sample(&s.root, "640x360"), None)
        .unwrap();
    upload_event(&s.database, "01AFTER").unwrap();
    drain(&worker);
    assert_eq!(s.database.get("01AFTER").unwrap().unwrap().status, VideoStatus::Done);
}

#[test]
fn a_message_of_a_worker_that_died_comes_back_after_the_visibility_timeout() {
    let s = setup();
    let transcoder = QueueTranscoder { queue: &s.database };
    let worker = worker!(s, transcoder);
    s.store
        .put_upload("01CRASH", &sample(&s.root, "640x360"), None)
        .unwrap();
    upload_event(&s.database, "01CRASH").unwrap();
    // The first worker takes the message and dies without deleting it.
    let taken = s.database.receive(60_000, 3).unwrap().unwrap();
    assert!(
        !worker.run_once(&mut |_| {}).unwrap(),
        "invisible while the first worker owns it"
    );
    s.clock.advance(Duration::from_secs(61));
    drain(&worker);
    assert_eq!(s.database.get("01CRASH").unwrap().unwrap().status, VideoStatus::Done);
    // The dead worker's late delete does nothing.
    assert!(!s.database.delete(&taken).unwrap());
}

fn make(dir: &Path, name: &str, (width, height): (u32, u32), seconds: u32, audio: bool) -> PathBuf {
    let path = dir.join(name);
    test_pattern(&path, width, height, seconds, audio).unwrap();
    path
}

#[test]
fn awkward_sources_end_done_with_the_right_ladder_or_failed_with_a_reason() {
    let s = setup();
    let transcoder = QueueTranscoder { queue: &s.database };
    let worker = worker!(s, transcoder);
    let dir = &s.root;
    let silent = make(dir, "silent.mp4", (640, 360), 2, false);
    let huge = make(dir, "huge.mp4", (3840, 2160), 1, false);
    let landscape = make(dir, "phone-raw.mp4", (1280, 720), 2, false);
    // A phone video: stored landscape, displayed portrait through its rotation matrix.
    let phone = dir.join("phone.mov");
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&landscape)
        .args(["-c", "copy", "-metadata:s:v:0", "rotate=90"])
        .arg(&phone)
        .output()
        .unwrap();
    assert!(out.status.success());
    let whole = std::fs::read(&silent).unwrap();
    let truncated = dir.join("truncated.mp4");
    std::fs::write(&truncated, &whole[..whole.len() / 3]).unwrap();
    let empty = dir.join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();

    let cases: [(&str, &PathBuf); 5] = [
        ("01SILENT", &silent),
        ("01HUGE", &huge),
        ("01PHONE", &phone),
        ("01TRUNC", &truncated),
        ("01EMPTY", &empty),
    ];
    for (id, file) in cases {
        s.store.put_upload(id, file, None).unwrap();
        upload_event(&s.database, id).unwrap();
    }
    drain(&worker);

    let sizes = |id: &str| -> Vec<(u32, u32)> {
        let video = s.database.get(id).unwrap().unwrap();
        assert_eq!(video.status, VideoStatus::Done, "{id}: {video:?}");
        video.renditions.iter().map(|r| (r.width, r.height)).collect()
    };
    assert_eq!(sizes("01SILENT"), [(640, 360), (426, 240)]);
    assert_eq!(
        sizes("01HUGE"),
        [(1920, 1080), (1280, 720), (854, 480), (640, 360), (426, 240)]
    );
    assert_eq!(sizes("01PHONE"), [(720, 1280), (480, 854), (360, 640), (240, 426)]);
    for id in ["01TRUNC", "01EMPTY"] {
        let video = s.database.get(id).unwrap().unwrap();
        assert_eq!(video.status, VideoStatus::Failed, "{id}: {video:?}");
        let reason = video.failure_reason.unwrap();
        assert!(
            reason.contains("could not be read as a video") || reason.contains("ffmpeg"),
            "{id}: {reason}"
        );
    }
    assert_eq!(
        s.database.dead_letters().unwrap(),
        vec![],
        "nothing looped into the dead-letter table"
    );
}

/// Works the queue to the end, waiting out retry backoffs on the test clock.
fn drain_retrying(s: &Setup, worker: &Worker) {
    for _ in 0..20 {
        drain(worker);
        if s.database.queued().unwrap() == 0 {
            return;
        }
        s.clock.advance(Duration::from_secs(1));
    }
    panic!("the queue did not empty");
}

/// An upload of 640x360 whose 360p rendition's first segment is written to a full device.
fn upload_to_a_full_disk(s: &Setup, id: &str) -> std::path::PathBuf {
    s.store.put_upload(id, &sample(&s.root, "640x360"), None).unwrap();
    let media = s.store.media_dir(id);
    std::fs::create_dir_all(&media).unwrap();
    let full = media.join("index_360p_00001.ts");
    std::os::unix::fs::symlink("/dev/full", &full).unwrap();
    upload_event(&s.database, id).unwrap();
    full
}

#[test]
fn a_disk_that_stays_full_fails_the_video_on_its_last_delivery_and_keeps_the_upload() {
    let s = setup();
    let transcoder = QueueTranscoder { queue: &s.database };
    let worker = worker!(s, transcoder);
    upload_to_a_full_disk(&s, "01FULL");
    drain_retrying(&s, &worker);
    let video = s.database.get("01FULL").unwrap().unwrap();
    assert_eq!(video.status, VideoStatus::Failed, "{video:?}");
    let reason = video.failure_reason.unwrap();
    // A full disk is the machine's failure, not the upload's: retried, then given up.
    assert!(
        reason.starts_with("processing gave up after 3 attempts")
            && (reason.contains("No space left on device") || reason.contains("is the disk full?")),
        "{reason}"
    );
    assert!(
        s.store.head("01FULL").unwrap().is_some(),
        "the upload is kept for a retry"
    );
}

#[test]
fn a_disk_full_for_a_while_delays_the_video_and_loses_nothing() {
    let s = setup();
    let transcoder = QueueTranscoder { queue: &s.database };
    let worker = worker!(s, transcoder);
    let full = upload_to_a_full_disk(&s, "01FULL");
    // The upload, then the first transcode: it fails on the full disk and is queued again
    // (no job result: the job did nothing wrong).
    assert!(worker.run_once(&mut |_| {}).unwrap());
    assert!(worker.run_once(&mut |_| {}).unwrap());
    let video = s.database.get("01FULL").unwrap().unwrap();
    assert_eq!(video.status, VideoStatus::Processing, "{video:?}");
    assert_eq!(s.database.queued().unwrap(), 1, "the transcode waits for its retry");
    assert_eq!(s.database.dead_letters().unwrap(), vec![]);

    // Space comes back: the next delivery makes the video, whole.
    std::fs::remove_file(&full).unwrap();
    drain_retrying(&s, &worker);
    let video = s.database.get("01FULL").unwrap().unwrap();
    assert_eq!(video.status, VideoStatus::Done, "{video:?}");
    let segment = std::fs::metadata(s.store.media_dir("01FULL").join("index_360p_00001.ts")).unwrap();
    assert!(segment.is_file() && segment.len() > 0);
}

#[test]
fn a_video_whose_messages_keep_failing_ends_failed_not_processing_for_ever() {
    let mut s = setup();
    // ffprobe cannot run: every attempt fails for a reason that is not the video's fault.
    s.store = DiskStore::open(&s.root.join("data"))
        .unwrap()
        .with_prober(vodpipe_embedded::ffprobe::FfprobeProber {
            binary: "/nonexistent/ffprobe".into(),
        });
    let transcoder = QueueTranscoder { queue: &s.database };
    let worker = worker!(s, transcoder);
    s.store
        .put_upload("01STUCK", &sample(&s.root, "640x360"), None)
        .unwrap();
    upload_event(&s.database, "01STUCK").unwrap();
    for _ in 0..10 {
        worker.run_once(&mut |_| {}).unwrap();
        s.clock.advance(Duration::from_secs(1));
    }
    let video = s.database.get("01STUCK").unwrap().unwrap();
    assert_eq!(video.status, VideoStatus::Failed);
    let reason = video.failure_reason.unwrap();
    assert!(
        reason.starts_with("processing gave up after 3 attempts: cannot run `/nonexistent/ffprobe`"),
        "{reason}"
    );
    assert_eq!(s.database.dead_letters().unwrap().len(), 1);
}

/// Every file under `dir` with what identifies one write of it: inode, modification time and
/// content. A rerun deletes and rewrites them, which changes all three.
fn snapshot(dir: &Path) -> Vec<(PathBuf, u64, std::time::SystemTime, Vec<u8>)> {
    use std::os::unix::fs::MetadataExt as _;
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::metadata(&path).unwrap();
            if meta.is_dir() {
                dirs.push(path);
            } else {
                let content = std::fs::read(&path).unwrap();
                files.push((path, meta.ino(), meta.modified().unwrap(), content));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn a_transcode_delivered_again_after_its_result_was_queued_runs_nothing_and_clears_nothing() {
    let s = setup();
    let transcoder = QueueTranscoder { queue: &s.database };
    let worker = worker!(s, transcoder);
    s.store
        .put_upload("01AGAIN", &sample(&s.root, "640x360"), None)
        .unwrap();
    upload_event(&s.database, "01AGAIN").unwrap();
    assert!(worker.run_once(&mut |_| {}).unwrap(), "the upload");
    // A worker takes the transcode and dies before starting it; its body is what a later
    // delivery carries.
    let transcode = s.database.receive(60_000, 3).unwrap().unwrap();
    assert!(transcode.body.contains(r#""kind":"transcode""#), "{}", transcode.body);
    s.clock.advance(Duration::from_secs(61));
    let mut ran = false;
    assert!(worker.run_once(&mut |_| ran = true).unwrap(), "the transcode");
    assert!(ran, "ffmpeg ran once");
    // The result is queued; the transcode comes back as if the worker had died before
    // deleting it. The result is not handled yet (another worker holds it), so the video is
    // still `processing`.
    s.database.send(&transcode.body, None).unwrap();
    let result = s.database.receive(60_000, 3).unwrap().unwrap();
    assert!(result.body.contains(r#""kind":"job-result""#), "{}", result.body);
    assert_eq!(
        s.database.get("01AGAIN").unwrap().unwrap().status,
        VideoStatus::Processing
    );
    let media = s.store.media_dir("01AGAIN");
    let published = snapshot(&media);
    assert!(published.iter().any(|(path, ..)| path.ends_with("index.m3u8")));
    assert!(
        published
            .iter()
            .any(|(path, ..)| path.extension() == Some("ts".as_ref()))
    );

    let mut ran_again = false;
    assert!(
        worker.run_once(&mut |_| ran_again = true).unwrap(),
        "the second delivery"
    );
    assert!(!ran_again, "ffmpeg did not run again");
    assert_eq!(
        s.database.queued().unwrap(),
        1,
        "the delivery was deleted; the result stays"
    );
    assert!(snapshot(&media) == published, "the outputs are untouched");

    // The result, handled, publishes exactly those outputs.
    s.clock.advance(Duration::from_secs(61));
    drain(&worker);
    let video = s.database.get("01AGAIN").unwrap().unwrap();
    assert_eq!(video.status, VideoStatus::Done, "{video:?}");
    assert!(media.join(video.playback_path.unwrap()).is_file());
    assert!(snapshot(&media) == published);
    assert_eq!(s.database.dead_letters().unwrap(), vec![]);
}

#[test]
fn a_worker_whose_job_another_process_holds_goes_on_with_other_uploads() {
    let s = setup();
    let transcoder = QueueTranscoder { queue: &s.database };
    let worker = worker!(s, transcoder);
    s.store.put_upload("01HELD", &sample(&s.root, "640x360"), None).unwrap();
    upload_event(&s.database, "01HELD").unwrap();
    assert!(worker.run_once(&mut |_| {}).unwrap(), "the upload");
    // Another process writes that job.
    let held = JobLock::try_acquire(&s.store.media_dir("01HELD")).unwrap().unwrap();
    s.store
        .put_upload("01OTHER", &sample(&s.root, "426x240"), None)
        .unwrap();
    upload_event(&s.database, "01OTHER").unwrap();

    // The held job's transcode is handed back; the other upload is processed meanwhile.
    let mut ran = false;
    assert!(worker.run_once(&mut |_| ran = true).unwrap(), "the held transcode");
    assert!(!ran, "nothing ran for the held job");
    drain(&worker);
    assert_eq!(s.database.get("01OTHER").unwrap().unwrap().status, VideoStatus::Done);
    assert_eq!(
        s.database.get("01HELD").unwrap().unwrap().status,
        VideoStatus::Processing
    );
    assert_eq!(s.database.queued().unwrap(), 1, "the held transcode waits in the queue");

    // However long the holder goes on, each try is handed back, more times than a message
    // may be received, and none counts: nothing reaches the dead letters.
    for _ in 0..2 * config().max_receives {
        s.clock.advance(LOCKED_RETRY);
        let mut ran = false;
        assert!(worker.run_once(&mut |_| ran = true).unwrap(), "tried again");
        assert!(!ran);
        assert!(!worker.run_once(&mut |_| {}).unwrap(), "away until the next try");
    }
    assert_eq!(s.database.dead_letters().unwrap(), vec![]);
    let media = s.store.media_dir("01HELD");
    assert!(
        !media.exists() || std::fs::read_dir(&media).unwrap().next().is_none(),
        "the held job's outputs were not touched"
    );

    // The holder died without a result: the next try runs the job.
    drop(held);
    s.clock.advance(LOCKED_RETRY);
    drain(&worker);
    assert_eq!(s.database.get("01HELD").unwrap().unwrap().status, VideoStatus::Done);
    assert_eq!(s.database.dead_letters().unwrap(), vec![]);
}
