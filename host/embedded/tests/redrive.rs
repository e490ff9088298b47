//! Dead letters put back in the queue: the real database, worker, ffprobe, ffmpeg and built-in
//! plugins, with a hand-moved clock.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use vodpipe_core::pipeline::Pipeline;
use vodpipe_core::ports::{Clock, MessageQueue, Policy, VideoRepository};
use vodpipe_core::{JobResult, JobStatus, Outcome, Probe, VideoRecord, VideoStatus};
use vodpipe_embedded::disk::DiskStore;
use vodpipe_embedded::ffmpeg::test_pattern;
use vodpipe_embedded::ffprobe::FfprobeProber;
use vodpipe_embedded::message::{KeptFailed, MessageKind};
use vodpipe_embedded::sqlite::{Database, RedriveError};
use vodpipe_embedded::work::{WorkMessage, result_dedupe_id};
use vodpipe_embedded::worker::{QueueTranscoder, Worker, WorkerConfig, upload_event};
use vodpipe_runtime::LoadedPolicy;

#[derive(Clone, Default)]
struct TestClock(Arc<AtomicU64>);

impl Clock for TestClock {
    fn now_ms(&self) -> u64 {
        1_000_000 + self.0.load(Ordering::SeqCst)
    }
}

const MAX_RECEIVES: u32 = 3;

/// Works the queue until it is empty, moving the clock past every backoff.
fn work(database: &Database, store: &DiskStore, policy: &LoadedPolicy, clock: &TestClock) {
    let transcoder = QueueTranscoder { queue: database };
    let worker = Worker {
        queue: database,
        pipeline: Pipeline {
            store,
            repository: database,
            transcoder: &transcoder,
            policy,
            clock,
            role: String::new(),
            queue: None,
        },
        config: WorkerConfig {
            visibility: Duration::from_secs(60),
            max_receives: MAX_RECEIVES,
            backoff: Duration::from_millis(1),
            ..WorkerConfig::default()
        },
    };
    for _ in 0..50 {
        if !worker.run_once(&mut |_| {}).unwrap() && database.queued().unwrap() == 0 {
            return;
        }
        clock.0.fetch_add(1_000, Ordering::SeqCst);
    }
    panic!("the queue never emptied");
}

fn sample(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("640x360.mp4");
    test_pattern(&path, 640, 360, 1, true).unwrap();
    path
}

#[test]
fn an_upload_that_died_for_want_of_ffprobe_is_processed_after_a_redrive() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let clock = TestClock::default();
    let broken = DiskStore::open(&data).unwrap().with_prober(FfprobeProber {
        binary: "/nonexistent/ffprobe".into(),
    });
    let database = Database::open(&data.join("vodpipe.db"), Box::new(clock.clone())).unwrap();
    let policy = common::policy();
    broken.put_upload("01NOPROBE", &sample(dir.path()), None).unwrap();
    upload_event(&database, "01NOPROBE").unwrap();
    work(&database, &broken, &policy, &clock);

    let dead = database.dead_letters().unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    let letter = &dead[0];
    assert_eq!(letter.receive_count, MAX_RECEIVES);
    assert!(
        letter
            .last_error
            .as_deref()
            .unwrap()
            .starts_with("cannot run `/nonexistent/ffprobe`"),
        "{letter:?}"
    );
    // Moved by the delivery that gave up, not by a later receive (the loop's clock ticked
    // once more before it found the queue empty).
    assert_eq!(letter.moved_at_ms, clock.now_ms() - 1_000, "moved when it gave up");
    assert_eq!(letter.subject().kind, MessageKind::Upload);
    assert_eq!(letter.subject().video_id.as_deref(), Some("01NOPROBE"));
    let failed = database.get("01NOPROBE").unwrap().unwrap();
    assert_eq!(failed.status, VideoStatus::Failed);

    // ffprobe is back: the redrive resets the video and queues the message afresh.
    let redriven = database.redrive(&[letter.id]).unwrap();
    assert_eq!(redriven.len(), 1);
    assert_eq!(redriven[0].dead_letter, letter.id);
    assert!(redriven[0].video_reset);
    assert_eq!(redriven[0].cleared_reason, failed.failure_reason);
    let reset = database.get("01NOPROBE").unwrap().unwrap();
    assert_eq!((reset.status, reset.failure_reason), (VideoStatus::Processing, None));
    assert_eq!(database.dead_letters().unwrap(), vec![]);
    let message = database.receive(60_000, MAX_RECEIVES).unwrap().unwrap();
    assert_eq!(message.id, redriven[0].message_id.to_string());
    assert_eq!(message.receive_count, 1, "a fresh receive count");
    clock.0.fetch_add(61_000, Ordering::SeqCst); // past the visibility of that look

    let fixed = DiskStore::open(&data).unwrap();
    work(&database, &fixed, &policy, &clock);
    let video = database.get("01NOPROBE").unwrap().unwrap();
    assert_eq!(video.status, VideoStatus::Done, "{video:?}");
    assert_eq!(video.renditions.len(), 2);
    assert_eq!(database.dead_letters().unwrap(), vec![]);
}

/// Moves every queued message to the dead letters with `error`, as `MAX_RECEIVES` failed
/// deliveries would.
fn kill_every_message(database: &Database, error: &str) {
    for _ in 0..MAX_RECEIVES {
        let mut taken = Vec::new();
        while let Some(message) = database.receive(60_000, MAX_RECEIVES).unwrap() {
            taken.push(message);
        }
        for message in &taken {
            database.retry(message, 0, error).unwrap();
        }
    }
    assert_eq!(database.receive(60_000, MAX_RECEIVES).unwrap(), None);
    assert_eq!(database.queued().unwrap(), 0);
}

fn record(database: &Database, id: &str, outcome: Option<Outcome>) {
    database.create_if_absent(&VideoRecord::new(id, None, 1)).unwrap();
    if let Some(outcome) = outcome {
        assert!(database.finish(id, &outcome).unwrap());
    }
}

#[test]
fn a_redrive_resets_only_failed_videos_and_an_unknown_id_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::default();
    let database = Database::open(&dir.path().join("vodpipe.db"), Box::new(clock.clone())).unwrap();
    record(&database, "01DONE", Some(Outcome::default()));
    record(&database, "01PROC", None);
    record(
        &database,
        "01FAIL",
        Some(Outcome::failed("processing gave up after 3 attempts: boom")),
    );
    for body in [
        r#"{"kind": "upload", "key": "01DONE"}"#,
        r#"{"kind": "transcode", "video_id": "01PROC", "job_id": "01PROC-hls", "job": {}}"#,
        r#"{"kind": "upload", "key": "01FAIL"}"#,
        r#"{"kind": "upload", "key": "01NORECORD"}"#,
        "{ not json",
    ] {
        database.send(body, None).unwrap();
    }
    kill_every_message(&database, "boom");
    let dead = database.dead_letters().unwrap();
    assert_eq!(dead.len(), 5);
    assert!(dead.iter().all(|d| d.last_error.as_deref() == Some("boom")));
    let ids: Vec<i64> = dead.iter().map(|d| d.id).collect();

    // One unknown id among known ones: refused whole.
    let unknown = ids.iter().max().unwrap() + 100;
    match database.redrive(&[ids[0], ids[2], unknown]) {
        Err(RedriveError::NoSuchDeadLetter(id)) => assert_eq!(id, unknown),
        other => panic!("{other:?}"),
    }
    assert_eq!(database.dead_letters().unwrap(), dead, "nothing redriven");
    assert_eq!(database.queued().unwrap(), 0);
    assert_eq!(database.get("01FAIL").unwrap().unwrap().status, VideoStatus::Failed);

    let redriven = database.redrive_all().unwrap();
    assert_eq!(redriven.iter().map(|r| r.dead_letter).collect::<Vec<_>>(), ids);
    let resets: Vec<(Option<&str>, bool)> = redriven
        .iter()
        .map(|r| (r.subject.video_id.as_deref(), r.video_reset))
        .collect();
    assert_eq!(
        resets,
        [
            (Some("01DONE"), false),
            (Some("01PROC"), false),
            (Some("01FAIL"), true),
            (Some("01NORECORD"), false),
            (None, false),
        ]
    );
    assert_eq!(
        redriven[2].cleared_reason.as_deref(),
        Some("processing gave up after 3 attempts: boom")
    );
    assert_eq!(database.get("01DONE").unwrap().unwrap().status, VideoStatus::Done);
    assert_eq!(database.get("01PROC").unwrap().unwrap().status, VideoStatus::Processing);
    let reset = database.get("01FAIL").unwrap().unwrap();
    assert_eq!((reset.status, reset.failure_reason), (VideoStatus::Processing, None));
    assert_eq!(database.get("01NORECORD").unwrap(), None, "no record made up");
    assert_eq!(database.dead_letters().unwrap(), vec![]);
    assert_eq!(database.queued().unwrap(), 5);
    // Back in their order, each with its body and no receives.
    for letter in &dead {
        let message = database.receive(60_000, MAX_RECEIVES).unwrap().unwrap();
        assert_eq!(
            (message.body.as_str(), message.receive_count),
            (letter.body.as_str(), 1)
        );
    }
    assert_eq!(database.redrive_all().unwrap(), vec![], "nothing left to redrive");
}

const GAVE_UP: &str = "processing gave up after 3 attempts: boom";

/// A video failed after its job `job` (if any) was claimed, as giving up leaves it.
fn failed_video(database: &Database, policy: &LoadedPolicy, id: &str, job: Option<&str>) {
    database.create_if_absent(&VideoRecord::new(id, None, 1)).unwrap();
    if let Some(job) = job {
        let plan = policy.plan(&Probe::from_size(640, 360)).unwrap();
        assert!(database.claim_job(id, job, &plan).unwrap());
    }
    assert!(database.finish(id, &Outcome::failed(GAVE_UP)).unwrap());
}

/// The result of `job` ending in an error, as the worker queues it.
fn job_error_event(video: &str, job: &str) -> String {
    let result = JobResult {
        job_id: job.into(),
        status: JobStatus::Error,
        error_code: Some(1999),
        error_message: Some(format!("job {job} broke")),
        playlist_path: None,
        outputs: vec![],
        thumbnail_path: None,
        dash_manifest_path: None,
    };
    WorkMessage::JobResult {
        video_id: video.into(),
        result,
    }
    .to_body()
}

#[test]
fn a_failed_video_goes_back_to_processing_only_for_a_message_that_can_finish_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let clock = TestClock::default();
    let store = DiskStore::open(&data).unwrap();
    let database = Database::open(&data.join("vodpipe.db"), Box::new(clock.clone())).unwrap();
    let policy = common::policy();
    failed_video(&database, &policy, "01OWNJOB", Some("01OWNJOB-hls"));
    failed_video(&database, &policy, "01OTHERJOB", Some("01OTHERJOB-hls"));
    failed_video(&database, &policy, "01NOJOB", None);
    failed_video(&database, &policy, "01ODD", Some("01ODD-hls"));
    for body in [
        job_error_event("01OWNJOB", "01OWNJOB-hls"),
        // The result of a job the video does not record: the pipeline ignores it.
        job_error_event("01OTHERJOB", "01OTHERJOB-old"),
        // A transcode for a video that never claimed a job: its result would be ignored too.
        r#"{"kind": "transcode", "video_id": "01NOJOB", "job_id": "01NOJOB-hls", "job": {}}"#.into(),
        r#"{"kind": "resize", "key": "01ODD"}"#.into(),
    ] {
        database.send(&body, None).unwrap();
    }
    kill_every_message(&database, "boom");

    let redriven = database.redrive_all().unwrap();
    let summary: Vec<(&str, bool, Option<KeptFailed>)> = redriven
        .iter()
        .map(|r| {
            (
                r.subject.video_id.as_deref().unwrap(),
                r.video_reset,
                r.kept_failed.clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("01OWNJOB", true, None),
            (
                "01OTHERJOB",
                false,
                Some(KeptFailed::OtherJob {
                    message_job: "01OTHERJOB-old".into(),
                    video_job: Some("01OTHERJOB-hls".into())
                })
            ),
            (
                "01NOJOB",
                false,
                Some(KeptFailed::OtherJob {
                    message_job: "01NOJOB-hls".into(),
                    video_job: None
                })
            ),
            ("01ODD", false, Some(KeptFailed::Unhandled)),
        ]
    );
    assert_eq!(redriven[0].cleared_reason.as_deref(), Some(GAVE_UP));
    assert!(redriven[1..].iter().all(|r| r.cleared_reason.is_none()));
    assert_eq!(
        redriven[1].kept_failed.as_ref().unwrap().to_string(),
        "the message is about job 01OTHERJOB-old, not the video's job 01OTHERJOB-hls, whose result alone can finish it"
    );
    let status = |id: &str| {
        let video = database.get(id).unwrap().unwrap();
        (video.status, video.failure_reason)
    };
    assert_eq!(status("01OWNJOB"), (VideoStatus::Processing, None));
    for kept in ["01OTHERJOB", "01NOJOB", "01ODD"] {
        assert_eq!(status(kept), (VideoStatus::Failed, Some(GAVE_UP.into())), "{kept}");
    }
    // Every letter is back in the queue all the same.
    assert_eq!(database.dead_letters().unwrap(), vec![]);
    assert_eq!(database.queued().unwrap(), 4);

    // The worker takes them up and no video is left processing: the video's own job's
    // result finishes it; the others change nothing; the unknown message dies again.
    work(&database, &store, &policy, &clock);
    assert_eq!(
        status("01OWNJOB"),
        (
            VideoStatus::Failed,
            Some("processing failed: job 01OWNJOB-hls broke".into())
        )
    );
    for kept in ["01OTHERJOB", "01NOJOB", "01ODD"] {
        assert_eq!(status(kept), (VideoStatus::Failed, Some(GAVE_UP.into())), "{kept}");
    }
    let dead = database.dead_letters().unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].subject().video_id.as_deref(), Some("01ODD"));
}

#[test]
fn a_transcode_whose_job_already_ran_to_a_result_does_not_reset_its_video() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let database = Database::open(&data.join("vodpipe.db"), Box::new(TestClock::default())).unwrap();
    let policy = common::policy();
    failed_video(&database, &policy, "01RAN", Some("01RAN-hls"));
    // The job ran and its result was queued (the worker died before it was handled): a
    // transcode of it would run nothing, so it could never finish the video again.
    database
        .send(
            r#"{"kind": "transcode", "video_id": "01RAN", "job_id": "01RAN-hls", "job": {}}"#,
            None,
        )
        .unwrap();
    database
        .send(
            &job_error_event("01RAN", "01RAN-hls"),
            Some(&result_dedupe_id("01RAN-hls")),
        )
        .unwrap();
    kill_every_message(&database, "boom");
    let letters = database.dead_letters().unwrap();
    let letter = |kind| letters.iter().find(|l| l.subject().kind == kind).unwrap().id;

    let transcode = database.redrive(&[letter(MessageKind::Transcode)]).unwrap();
    assert_eq!(
        transcode[0].kept_failed,
        Some(KeptFailed::ResultQueued {
            job: "01RAN-hls".into()
        })
    );
    assert!(!transcode[0].video_reset);
    assert_eq!(database.get("01RAN").unwrap().unwrap().status, VideoStatus::Failed);

    // The job's result can finish it: that letter resets it.
    let result = database.redrive(&[letter(MessageKind::JobResult)]).unwrap();
    assert!(result[0].video_reset, "{:?}", result[0].kept_failed);
    assert_eq!(database.get("01RAN").unwrap().unwrap().status, VideoStatus::Processing);
}
