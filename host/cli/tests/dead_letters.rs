//! `vodpipe queue dead-letters` end to end: messages killed by a real `vodpipe worker` that
//! cannot find ffprobe, listed, redriven once ffprobe is back, and taken up by a worker —
//! also by one that is running during the redrive.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use vodpipe_core::ports::{MessageQueue, SystemClock, VideoRepository};
use vodpipe_core::{Outcome, VideoRecord, VideoStatus};
use vodpipe_embedded::disk::DiskStore;
use vodpipe_embedded::sqlite::Database;
use vodpipe_embedded::worker::upload_event;

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vodpipe"));
    command.args(args).env(
        "VODPIPE_CACHE_DIR",
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugin-cache"),
    );
    command
}

fn run(args: &[&str]) -> Output {
    command(args).output().expect("run vodpipe")
}

fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "vodpipe {args:?} failed\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&ok(args)).expect("JSON")
}

struct Data {
    _dir: tempfile::TempDir,
    root: PathBuf,
    path: PathBuf,
    database: Database,
}

impl Data {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_owned();
        let path = root.join("data");
        std::fs::create_dir_all(&path).unwrap();
        let database = Database::open(&path.join("vodpipe.db"), Box::new(SystemClock)).unwrap();
        Self {
            _dir: dir,
            root,
            path,
            database,
        }
    }

    fn dir(&self) -> &str {
        self.path.to_str().unwrap()
    }

    /// A one-second 640x360 video, made once.
    fn source(&self) -> PathBuf {
        let source = self.root.join("640x360.mp4");
        if !source.exists() {
            vodpipe_embedded::ffmpeg::test_pattern(&source, 640, 360, 1, true).unwrap();
        }
        source
    }

    /// Stores an upload and queues its event, as the upload endpoint does.
    fn upload(&self, id: &str) {
        DiskStore::open(&self.path)
            .unwrap()
            .put_upload(id, &self.source(), Some("user-1"))
            .unwrap();
        upload_event(&self.database, id).unwrap();
    }

    fn status(&self, id: &str) -> VideoStatus {
        self.database.get(id).unwrap().unwrap().status
    }

    /// A `vodpipe worker` on a PATH with ffmpeg but no ffprobe, until every queued message
    /// has failed on each of its 5 deliveries (backoffs of 0.5 to 4 s, under the idle time)
    /// and moved to the dead letters.
    fn work_without_ffprobe(&self) {
        let bin = self.root.join("bin-without-ffprobe");
        if !bin.exists() {
            std::fs::create_dir(&bin).unwrap();
            std::os::unix::fs::symlink(on_path("ffmpeg"), bin.join("ffmpeg")).unwrap();
        }
        let out = command(&["worker", "--out", self.dir(), "--until-idle", "6"])
            .env("PATH", &bin)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(self.database.queued().unwrap(), 0);
    }

    fn letters(&self) -> Vec<Value> {
        match json(&["queue", "dead-letters", "--data", self.dir(), "--json"]) {
            Value::Array(letters) => letters,
            other => panic!("not a list: {other}"),
        }
    }
}

fn on_path(program: &str) -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("{program} is not on PATH"))
}

fn id_of(letter: &Value) -> String {
    letter["id"].as_i64().unwrap().to_string()
}

#[test]
fn a_message_that_died_is_listed_with_its_error_and_redriven_once_the_cause_is_fixed() {
    let data = Data::new();
    data.upload("01NOFFPROBE");
    data.database.send("{ not json", None).unwrap();
    assert_eq!(
        ok(&["queue", "dead-letters", "--data", data.dir()]),
        format!("no dead letters in {}\n", data.dir())
    );
    data.work_without_ffprobe();

    let table = ok(&["queue", "dead-letters", "--data", data.dir()]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("ID  KIND     VIDEO        RECEIVES  DEAD SINCE"),
        "{table}"
    );
    assert!(lines[0].ends_with("VIDEO STATUS  LAST ERROR"), "{table}");
    let upload_row = lines.iter().find(|l| l.contains("01NOFFPROBE")).expect(&table);
    for part in [
        " upload ",
        " 5 ",
        " failed ",
        "cannot run `ffprobe`: No such file or directory",
    ] {
        assert!(upload_row.contains(part), "{part:?} not in {upload_row:?}");
    }
    let poison_row = lines.iter().find(|l| l.contains(" unknown ")).expect(&table);
    assert!(poison_row.contains("not a work message"), "{poison_row}");
    assert!(table.ends_with("2 dead letters; `--redrive ID` or `--redrive-all` puts them back in the queue\n"));

    let letters = data.letters();
    assert_eq!(letters.len(), 2, "{letters:?}");
    let upload = letters.iter().find(|l| l["kind"] == "upload").unwrap();
    assert_eq!(upload["video_id"], "01NOFFPROBE");
    assert_eq!(upload["receive_count"], 5);
    assert_eq!(upload["video_status"], "failed");
    assert!(
        upload["last_error"]
            .as_str()
            .unwrap()
            .starts_with("cannot run `ffprobe`")
    );
    assert!(
        upload["failure_reason"]
            .as_str()
            .unwrap()
            .starts_with("processing gave up after 5 attempts: cannot run `ffprobe`"),
        "{upload}"
    );
    assert!(upload["dead_since"].as_str().unwrap().ends_with('Z'));
    assert_eq!(upload["body"], r#"{"kind":"upload","key":"01NOFFPROBE"}"#);
    let poison = letters.iter().find(|l| l["kind"] == "unknown").unwrap();
    assert_eq!(
        (&poison["video_id"], &poison["video_status"]),
        (&Value::Null, &Value::Null)
    );

    // ffprobe is on the PATH again: redrive the upload, not the poison.
    let said = ok(&[
        "queue",
        "dead-letters",
        "--data",
        data.dir(),
        "--redrive",
        &id_of(upload),
    ]);
    assert!(
        said.starts_with(&format!(
            "dead letter {}: upload message for video 01NOFFPROBE, queued again as message ",
            id_of(upload)
        )),
        "{said}"
    );
    assert!(
        said.contains("  video 01NOFFPROBE: failed -> processing (cleared: processing gave up after 5 attempts"),
        "{said}"
    );
    let reset = data.database.get("01NOFFPROBE").unwrap().unwrap();
    assert_eq!((reset.status, reset.failure_reason), (VideoStatus::Processing, None));
    ok(&["worker", "--out", data.dir(), "--until-idle", "2"]);
    let video = data.database.get("01NOFFPROBE").unwrap().unwrap();
    assert_eq!(video.status, VideoStatus::Done, "{video:?}");
    assert_eq!(video.renditions.len(), 2);
    let left = data.letters();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0], *poison, "the poison stays as it was");
}

#[test]
fn redrive_all_puts_back_every_dead_letter_and_never_touches_a_done_video() {
    let data = Data::new();
    let published = json(&[
        "process",
        data.source().to_str().unwrap(),
        "--out",
        data.dir(),
        "--json",
    ]);
    let published_id = published["id"].as_str().unwrap().to_owned();
    assert_eq!(data.status(&published_id), VideoStatus::Done);
    data.upload("01ALLA");
    data.upload("01ALLB");
    // A job result for the published video that no worker can read (it has no result): it
    // dies too, on its first delivery (unreadable is unreadable on every delivery), so it is
    // the first dead letter.
    data.database
        .send(
            &format!(r#"{{"kind": "job-result", "video_id": "{published_id}"}}"#),
            None,
        )
        .unwrap();
    data.work_without_ffprobe();
    let letters = data.letters();
    assert_eq!(letters.len(), 3, "{letters:?}");
    assert_eq!(data.status("01ALLA"), VideoStatus::Failed);
    assert_eq!(data.status("01ALLB"), VideoStatus::Failed);
    let before = data.database.get(&published_id).unwrap().unwrap();
    assert_eq!(before.status, VideoStatus::Done);

    // The issue's spelling, `--all`.
    let redriven = json(&["queue", "dead-letters", "--data", data.dir(), "--all", "--json"]);
    let rows = redriven["redriven"].as_array().unwrap();
    let summary: Vec<(&str, &str, bool)> = rows
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap(),
                r["video_id"].as_str().unwrap(),
                r["video_reset"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("unknown", published_id.as_str(), false),
            ("upload", "01ALLA", true),
            ("upload", "01ALLB", true),
        ]
    );
    assert!(rows[0]["cleared_reason"].is_null());
    assert_eq!(data.letters(), Vec::<Value>::new());
    assert_eq!(data.database.queued().unwrap(), 3);
    assert_eq!(data.database.get(&published_id).unwrap().unwrap(), before);

    // A worker with ffprobe: the uploads are published; the unreadable event dies again on
    // its first fresh delivery and the published video is unchanged.
    ok(&["worker", "--out", data.dir(), "--until-idle", "6"]);
    assert_eq!(data.status("01ALLA"), VideoStatus::Done);
    assert_eq!(data.status("01ALLB"), VideoStatus::Done);
    assert_eq!(data.database.get(&published_id).unwrap().unwrap(), before);
    let again = data.letters();
    assert_eq!(again.len(), 1);
    assert_eq!(
        (&again[0]["kind"], &again[0]["receive_count"]),
        (&"unknown".into(), &1.into())
    );
}

#[test]
fn an_unknown_id_is_refused_and_nothing_changes() {
    let data = Data::new();
    // One dead letter, killed by hand through the queue: received and failed once, with
    // one receive allowed.
    data.database.send(r#"{"kind": "upload"}"#, None).unwrap();
    let message = data.database.receive(60_000, 1).unwrap().unwrap();
    data.database.retry(&message, 0, "upload event without a key").unwrap();
    assert_eq!(data.database.receive(60_000, 1).unwrap(), None);
    let letters = data.letters();
    assert_eq!(letters.len(), 1);
    let known = id_of(&letters[0]);

    let out = run(&[
        "queue",
        "dead-letters",
        "--data",
        data.dir(),
        "--redrive",
        &known,
        "--redrive",
        "999",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(out.stdout, b"");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "error: redriving in {}: no dead letter has the id 999",
            data.dir()
        )),
        "{stderr}"
    );
    assert_eq!(data.letters(), letters, "the known one was not redriven either");
    assert_eq!(data.database.queued().unwrap(), 0);

    // Both ways of choosing at once is a usage error (clap's exit status 2).
    let out = run(&[
        "queue",
        "dead-letters",
        "--data",
        data.dir(),
        "--redrive",
        &known,
        "--all",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(data.letters(), letters);

    // A mistyped data directory is not made into an empty queue.
    let typo = data.root.join("dtaa");
    let out = run(&["queue", "dead-letters", "--data", typo.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a vodpipe data directory (no vodpipe.db)"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!typo.exists());
}

#[test]
fn dead_letters_redriven_while_a_worker_runs_are_taken_up_and_none_twice() {
    let data = Data::new();
    let ids = ["01RUNA", "01RUNB", "01RUNC"];
    for id in ids {
        data.upload(id);
    }
    data.work_without_ffprobe();
    let letters = data.letters();
    assert_eq!(letters.len(), 3);

    let mut worker = command(&["worker", "--out", data.dir()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Each dead letter redriven by two commands at once, while the worker receives and
    // transcodes what the earlier ones put back: one of the two wins, the other finds
    // nothing to redrive.
    for letter in &letters {
        let id = id_of(letter);
        let args = ["queue", "dead-letters", "--data", data.dir(), "--redrive", &id];
        let racing: Vec<_> = (0..2)
            .map(|_| {
                command(&args)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outcomes: Vec<Output> = racing.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
        let won = outcomes.iter().filter(|o| o.status.success()).count();
        assert_eq!(won, 1, "{outcomes:?}");
        let lost = outcomes.iter().find(|o| !o.status.success()).unwrap();
        assert!(
            String::from_utf8_lossy(&lost.stderr).contains(&format!("no dead letter has the id {id}")),
            "{lost:?}"
        );
    }
    let deadline = Instant::now() + Duration::from_secs(180);
    // Done, and the last job-result message deleted.
    while ids.iter().any(|id| data.status(id) != VideoStatus::Done) || data.database.queued().unwrap() > 0 {
        assert!(
            Instant::now() < deadline,
            "not done: {:?}",
            ids.map(|id| data.status(id))
        );
        assert!(worker.try_wait().unwrap().is_none(), "the worker stopped");
        std::thread::sleep(Duration::from_millis(200));
    }
    worker.kill().unwrap();
    worker.wait().unwrap();
    for id in ids {
        assert_eq!(data.database.get(id).unwrap().unwrap().renditions.len(), 2);
    }
    assert_eq!(data.letters(), Vec::<Value>::new());
}

#[test]
fn a_failed_video_its_message_cannot_finish_stays_failed_and_the_redrive_says_why() {
    let data = Data::new();
    let gave_up = "processing gave up after 5 attempts: status Some(\"PROGRESSING\") is not final";
    data.database
        .create_if_absent(&VideoRecord::new("01KEPT", None, 1))
        .unwrap();
    assert!(data.database.finish("01KEPT", &Outcome::failed(gave_up)).unwrap());
    // Two results of a job the video never claimed, killed by hand (one receive allowed).
    // Reset, the video would wait for that job's result for ever: the pipeline takes only
    // its own job's.
    let event = r#"{"kind": "job-result", "video_id": "01KEPT", "result": {"job_id": "01KEPT-hls", "status": "ERROR",
        "error_code": 1999, "error_message": "broke", "playlist_path": null, "outputs": [], "thumbnail_path": null}}"#;
    for _ in 0..2 {
        data.database.send(event, None).unwrap();
    }
    while let Some(message) = data.database.receive(60_000, 1).unwrap() {
        data.database
            .retry(&message, 0, "status Some(\"PROGRESSING\") is not final")
            .unwrap();
    }
    let letters = data.letters();
    assert_eq!(letters.len(), 2, "{letters:?}");
    let why = "the message is about job 01KEPT-hls, and the video has no job whose result could finish it";

    let said = ok(&[
        "queue",
        "dead-letters",
        "--data",
        data.dir(),
        "--redrive",
        &id_of(&letters[0]),
    ]);
    assert!(
        said.contains(&format!("\n  video 01KEPT: stays failed, not reset: {why}\n")),
        "{said}"
    );
    assert!(!said.contains("failed -> processing"), "{said}");
    let video = data.database.get("01KEPT").unwrap().unwrap();
    assert_eq!(
        (video.status, video.failure_reason.as_deref()),
        (VideoStatus::Failed, Some(gave_up))
    );

    let redriven = json(&[
        "queue",
        "dead-letters",
        "--data",
        data.dir(),
        "--redrive",
        &id_of(&letters[1]),
        "--json",
    ]);
    let row = &redriven["redriven"][0];
    assert_eq!(
        (
            &row["kind"],
            &row["video_reset"],
            &row["cleared_reason"],
            &row["kept_failed"]
        ),
        (&"job-result".into(), &false.into(), &Value::Null, &why.into())
    );
    assert_eq!(data.status("01KEPT"), VideoStatus::Failed);
    // Both are back in the queue all the same.
    assert_eq!(data.database.queued().unwrap(), 2);
    assert_eq!(data.letters(), Vec::<Value>::new());
}
