//! Upgrading the database: one made before schema versions were recorded (the tables of
//! version 1, and job results queued in EventBridge's shape) is brought to the current version
//! and its queued work handled; a version 2 database keeps its videos; a newer database is
//! refused; a failed step keeps the last good version.

mod common;

use std::path::Path;

use rusqlite::Connection;
use vodpipe_core::pipeline::Pipeline;
use vodpipe_core::ports::{SystemClock, VideoRepository};
use vodpipe_core::{JobStatus, Outcome, VideoStatus};
use vodpipe_embedded::disk::DiskStore;
use vodpipe_embedded::schema::VERSION;
use vodpipe_embedded::sqlite::Database;
use vodpipe_embedded::work::WorkMessage;
use vodpipe_embedded::worker::{QueueTranscoder, Worker, WorkerConfig};

/// The tables as vodpipe created them before it recorded schema versions.
const SCHEMA_BEFORE_VERSIONS: &str = "
CREATE TABLE videos (id TEXT PRIMARY KEY, user_id TEXT, title TEXT, description TEXT,
    status TEXT NOT NULL CHECK (status IN ('processing', 'done', 'failed')), failure_reason TEXT,
    created_at_ms INTEGER NOT NULL, job_id TEXT, plan TEXT, renditions TEXT NOT NULL DEFAULT '[]',
    playback_path TEXT, thumbnail_path TEXT, duration_ms INTEGER);
CREATE INDEX videos_done ON videos (created_at_ms DESC, id DESC) WHERE status = 'done' AND title IS NOT NULL;
CREATE INDEX videos_owned ON videos (user_id, created_at_ms DESC, id DESC);
CREATE TABLE accounts (user_id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL, created_at_ms INTEGER NOT NULL);
CREATE TABLE refresh_tokens (token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES accounts (user_id) ON DELETE CASCADE, expires_at_ms INTEGER NOT NULL);
CREATE TABLE queue (id INTEGER PRIMARY KEY, body TEXT NOT NULL, visible_at_ms INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0, receipt TEXT, last_error TEXT);
CREATE INDEX queue_visible ON queue (visible_at_ms);
CREATE TABLE sent (dedupe_id TEXT PRIMARY KEY);
CREATE TABLE dead_letters (id INTEGER PRIMARY KEY, body TEXT NOT NULL, receive_count INTEGER NOT NULL,
    last_error TEXT, moved_at_ms INTEGER NOT NULL);
";

/// A job's ERROR result as the worker queued it before version 2.
fn legacy_error_event(video: &str, job: &str) -> String {
    format!(
        r#"{{"version":"0","id":"{job}-ERROR","detail-type":"MediaConvert Job State Change","source":"aws.mediaconvert",
        "account":"000000000000","time":"2026-11-26T13:36:56.123Z","region":"local","resources":[],
        "detail":{{"timestamp":1795700216123,"accountId":"000000000000","queue":"embedded","jobId":"{job}",
        "status":"ERROR","userMetadata":{{"video_id":"{video}"}},"errorCode":1999,"errorMessage":"job {job} broke"}}}}"#
    )
}

/// A COMPLETE result as the worker queued it before version 2: full `file://` URIs.
fn legacy_complete_event(media: &Path, video: &str, job: &str) -> String {
    let prefix = format!("file://{}/{video}/", media.display());
    format!(
        r#"{{"version":"0","id":"{job}-COMPLETE","detail-type":"MediaConvert Job State Change","source":"aws.mediaconvert",
        "account":"000000000000","time":"2026-11-26T13:36:56.123Z","region":"local","resources":[],
        "detail":{{"timestamp":1795700216123,"accountId":"000000000000","queue":"embedded","jobId":"{job}",
        "status":"COMPLETE","userMetadata":{{"video_id":"{video}"}},
        "outputGroupDetails":[{{"outputDetails":[{{"outputFilePaths":["{prefix}index_720p.m3u8"],"durationInMs":5000,
        "videoDetails":{{"widthInPx":1280,"heightInPx":720}}}}],"playlistFilePaths":["{prefix}index.m3u8"],"type":"HLS_GROUP"}},
        {{"outputDetails":[{{"outputFilePaths":["{prefix}thumbnails/thumb_poster.0000001.jpg"]}}],"type":"FILE_GROUP"}}]}}}}"#
    )
}

fn user_version(path: &Path) -> i64 {
    Connection::open(path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_database_from_before_versions_is_upgraded_and_its_queued_results_handled() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = DiskStore::open(&data).unwrap();
    let db_path = data.join("vodpipe.db");
    {
        let old = Connection::open(&db_path).unwrap();
        old.execute_batch(SCHEMA_BEFORE_VERSIONS).unwrap();
        old.execute(
            "INSERT INTO videos (id, status, created_at_ms, job_id) VALUES ('01OLD', 'processing', 1, '01OLD-hls')",
            [],
        )
        .unwrap();
        old.execute(
            "INSERT INTO queue (body, visible_at_ms) VALUES (?1, 0)",
            [legacy_error_event("01OLD", "01OLD-hls")],
        )
        .unwrap();
        old.execute(
            "INSERT INTO dead_letters (body, receive_count, last_error, moved_at_ms) VALUES (?1, 5, 'boom', 1)",
            [legacy_complete_event(&data.join("media"), "01DEAD", "01DEAD-hls")],
        )
        .unwrap();
        old.execute(
            "INSERT INTO dead_letters (body, receive_count, last_error, moved_at_ms) VALUES ('{ not json', 5, 'bad', 1)",
            [],
        )
        .unwrap();
    }
    assert_eq!(user_version(&db_path), 0);

    let database = Database::open(&db_path, Box::new(SystemClock)).unwrap();
    assert_eq!(user_version(&db_path), VERSION as i64);
    assert_eq!(VERSION, 3);

    // The dead letter is a typed result now, its paths relative to the video's media; the
    // body that was never an event is kept as it was.
    let letters = database.dead_letters().unwrap();
    let WorkMessage::JobResult { video_id, result } = WorkMessage::parse(&letters[0].body).unwrap() else {
        panic!("{}", letters[0].body)
    };
    assert_eq!(video_id, "01DEAD");
    assert_eq!(result.status, JobStatus::Complete);
    assert_eq!(result.playlist_path.as_deref(), Some("index.m3u8"));
    assert_eq!(result.outputs[0].path, "index_720p.m3u8");
    assert_eq!((result.outputs[0].width, result.outputs[0].height), (1280, 720));
    assert_eq!(
        result.thumbnail_path.as_deref(),
        Some("thumbnails/thumb_poster.0000001.jpg")
    );
    assert_eq!(letters[1].body, "{ not json");

    // The queued result finishes its video as a new one would.
    let policy = common::policy();
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
    assert!(worker.run_once(&mut |_| {}).unwrap());
    let video = database.get("01OLD").unwrap().unwrap();
    assert_eq!(video.status, VideoStatus::Failed);
    assert_eq!(
        video.failure_reason.as_deref(),
        Some("processing failed: job 01OLD-hls broke")
    );
    assert_eq!(database.queued().unwrap(), 0);

    // Opening again changes nothing.
    drop(worker);
    drop(database);
    let database = Database::open(&db_path, Box::new(SystemClock)).unwrap();
    assert_eq!(user_version(&db_path), VERSION as i64);
    assert_eq!(database.dead_letters().unwrap().len(), 2);
}

#[test]
fn a_version_2_database_keeps_its_videos_and_records_dash_manifests_after() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("vodpipe.db");
    {
        // Version 2 had the tables of version 1.
        let old = Connection::open(&db_path).unwrap();
        old.execute_batch(SCHEMA_BEFORE_VERSIONS).unwrap();
        old.execute_batch(
            "PRAGMA user_version = 2;
             INSERT INTO videos (id, user_id, title, status, created_at_ms, job_id, renditions, playback_path,
                 thumbnail_path, duration_ms)
             VALUES ('01DONE', 'alice', 'Cats', 'done', 1, '01DONE-hls',
                 '[{\"name\":\"720p\",\"width\":1280,\"height\":720,\"playlist_path\":\"index_720p.m3u8\"}]',
                 'index.m3u8', 'thumbnails/thumb.jpg', 5000);
             INSERT INTO videos (id, user_id, status, created_at_ms) VALUES ('01BUSY', 'alice', 'processing', 2);",
        )
        .unwrap();
    }
    let database = Database::open(&db_path, Box::new(SystemClock)).unwrap();
    assert_eq!(user_version(&db_path), VERSION as i64);

    let done = database.get("01DONE").unwrap().unwrap();
    assert_eq!(done.status, VideoStatus::Done);
    assert_eq!(done.title.as_deref(), Some("Cats"));
    assert_eq!(done.playback_path.as_deref(), Some("index.m3u8"));
    assert_eq!(done.dash_path, None, "it had none");
    assert_eq!(done.thumbnail_path.as_deref(), Some("thumbnails/thumb.jpg"));
    assert_eq!((done.renditions.len(), done.duration_ms), (1, Some(5000)));
    let listed = database.list_done(None, 10).unwrap().videos;
    assert_eq!(
        (
            listed.len(),
            listed[0].playback_path.as_deref(),
            listed[0].dash_path.as_deref()
        ),
        (1, Some("index.m3u8"), None)
    );

    // The video still processing finishes with a DASH manifest.
    let outcome = Outcome {
        playback_path: Some("index.m3u8".into()),
        dash_path: Some("index.mpd".into()),
        ..Outcome::default()
    };
    assert!(database.finish("01BUSY", &outcome).unwrap());
    let finished = database.get("01BUSY").unwrap().unwrap();
    assert_eq!(finished.dash_path.as_deref(), Some("index.mpd"));
}

/// Makes a database with `sql`, then opens it as vodpipe does: the error, and the path.
fn refused(dir: &Path, sql: &str) -> (String, std::path::PathBuf) {
    let db_path = dir.join("vodpipe.db");
    Connection::open(&db_path).unwrap().execute_batch(sql).unwrap();
    let error = Database::open(&db_path, Box::new(SystemClock)).err().unwrap();
    (error.to_string(), db_path)
}

#[test]
fn a_database_newer_than_this_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (error, db_path) = refused(dir.path(), "PRAGMA user_version = 99;");
    assert!(
        error.contains(&format!(
            "the database is at schema version 99, newer than this vodpipe's {VERSION}"
        )),
        "{error}"
    );
    assert!(error.contains(&db_path.display().to_string()), "{error}");
    assert_eq!(user_version(&db_path), 99);
}

#[test]
fn a_step_that_fails_leaves_the_last_good_version() {
    let dir = tempfile::tempdir().unwrap();
    // A queue table without the body step 2 reads: step 1 keeps it, step 2 fails.
    let (error, db_path) = refused(
        dir.path(),
        "CREATE TABLE queue (id INTEGER PRIMARY KEY, visible_at_ms INTEGER, payload TEXT);",
    );
    assert!(
        error.contains("schema step 2 (rewrite queued job-state events as job-result messages) failed, the database stays at version 1"),
        "{error}"
    );
    assert_eq!(user_version(&db_path), 1);
}
