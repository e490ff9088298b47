//! Crash safety with real processes: a killed or stopped `vodpipe worker` / `vodpipe serve`
//! leaves no ffmpeg behind, and one job never has two ffmpeg writers, even with two workers
//! on one data directory. ffmpeg processes are found in /proc by the data directory their
//! command line names.

#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use vodpipe_core::ports::{SystemClock, VideoRepository};
use vodpipe_core::{VideoRecord, VideoStatus};
use vodpipe_embedded::disk::DiskStore;
use vodpipe_embedded::sqlite::Database;

fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugin-cache")
}

/// A 20-second 720p source with audio: long enough that signals land while ffmpeg encodes.
fn long_source(dir: &Path) -> PathBuf {
    let path = dir.join("long.mp4");
    vodpipe_embedded::ffmpeg::test_pattern(&path, 1280, 720, 20, true).unwrap();
    path
}

/// Stores `source` as upload `key` and queues its upload event, as `vodpipe process` and the
/// upload endpoint do, so that a worker started next finds it.
fn queue_upload(data: &Path, source: &Path, key: &str) {
    let store = DiskStore::open(data).unwrap();
    store.put_upload(key, source, None).unwrap();
    let database = database(data);
    vodpipe_embedded::worker::upload_event(&database, key).unwrap();
}

fn database(data: &Path) -> Database {
    Database::open(&data.join("vodpipe.db"), Box::new(SystemClock)).unwrap()
}

/// `vodpipe ARGS`, its stderr in `log` (read on failure).
fn start(args: &[&str], log: &Path, env: &[(&str, &str)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_vodpipe"))
        .args(args)
        .env("VODPIPE_CACHE_DIR", cache_dir())
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap()
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name} {pid}");
}

#[derive(Debug, Clone, PartialEq)]
struct Ffmpeg {
    pid: u32,
    parent: u32,
}

/// Running (not zombie) ffmpeg processes whose command line names `data`.
fn ffmpegs_on(data: &Path) -> Vec<Ffmpeg> {
    let data = data.to_string_lossy();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let (Ok(cmdline), Ok(stat)) = (
            std::fs::read(entry.path().join("cmdline")),
            std::fs::read_to_string(entry.path().join("stat")),
        ) else {
            continue; // it ended while we looked
        };
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let is_ffmpeg = args
            .first()
            .is_some_and(|a| Path::new(a).file_name() == Some("ffmpeg".as_ref()));
        // proc(5): "pid (comm) state ppid ...", comm may hold spaces.
        let after_name: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
        let (state, parent) = (after_name[0], after_name[1].parse().unwrap());
        if is_ffmpeg && state != "Z" && args.iter().any(|a| a.contains(data.as_ref())) {
            found.push(Ffmpeg { pid, parent });
        }
    }
    found
}

/// Polls `condition` until it holds. The bound only keeps a broken build from hanging the
/// test run; nothing is asserted about how long it takes.
fn wait_for<T>(what: &str, mut condition: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        if let Some(value) = condition() {
            return value;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn record(data: &Path, key: &str) -> VideoRecord {
    database(data).get(key).unwrap().expect("the video has a record")
}

/// Every rendition's media playlist is complete: VOD end marker, every segment present and
/// not empty, the whole source's duration.
fn assert_complete(data: &Path, video: &VideoRecord) {
    let media = data.join("media").join(&video.id);
    assert!(!video.renditions.is_empty());
    for rendition in &video.renditions {
        let playlist_name = format!("index_{}.m3u8", rendition.name);
        let playlist = std::fs::read_to_string(media.join(&playlist_name)).unwrap();
        assert!(playlist.contains("#EXT-X-ENDLIST"), "{playlist_name}:\n{playlist}");
        let mut seconds = 0.0;
        for line in playlist.lines() {
            if let Some(duration) = line.strip_prefix("#EXTINF:") {
                seconds += duration.trim_end_matches(',').parse::<f64>().unwrap();
            } else if !line.starts_with('#') && !line.is_empty() {
                let size = std::fs::metadata(media.join(line)).unwrap().len();
                assert!(size > 0, "{line} is empty");
            }
        }
        assert!((19.0..=21.0).contains(&seconds), "{playlist_name} lasts {seconds} s");
    }
}

/// Kills whatever ffmpeg is left on a data directory when a test ends, failed or not, so a
/// broken build leaves no stopped ffmpeg behind.
struct NoFfmpegLeft<'a>(&'a Path);

impl Drop for NoFfmpegLeft<'_> {
    fn drop(&mut self) {
        for f in ffmpegs_on(self.0) {
            let _ = Command::new("kill").args(["-KILL", &f.pid.to_string()]).status();
        }
    }
}

fn log_of(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn a_worker_killed_mid_transcode_takes_its_ffmpeg_with_it_and_the_next_worker_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    queue_upload(&data, &long_source(dir.path()), "killed");
    let out = data.to_str().unwrap();

    let _cleanup = NoFfmpegLeft(&data);
    let log = dir.path().join("first.log");
    let mut first = start(&["worker", "--out", out, "--visibility", "2"], &log, &[]);
    let first_segment = data.join("media/killed/index_720p_00001.ts");
    let ffmpeg = wait_for("the worker's ffmpeg to write a segment", || {
        let ours: Vec<Ffmpeg> = ffmpegs_on(&data)
            .into_iter()
            .filter(|f| f.parent == first.id())
            .collect();
        (ours.len() == 1 && first_segment.exists()).then(|| ours[0].clone())
    });
    // Stopped, ffmpeg cannot notice its progress pipe break (it would exit at its next
    // write): only the parent-death signal (SIGKILL, which ends a stopped process) can end it.
    signal(ffmpeg.pid, "STOP");
    first.kill().unwrap(); // SIGKILL: no handler runs
    first.wait().unwrap();
    wait_for("the killed worker's ffmpeg to die", || {
        ffmpegs_on(&data).is_empty().then_some(())
    });
    assert_eq!(record(&data, "killed").status, VideoStatus::Processing);

    // The restarted worker waits out the visibility timeout, clears the partial outputs and
    // runs the job again, alone.
    let log = dir.path().join("second.log");
    let mut second = start(&["worker", "--out", out, "--until-idle", "6"], &log, &[]);
    assert!(second.wait().unwrap().success(), "{}", log_of(&log));
    let video = record(&data, "killed");
    assert_eq!(video.status, VideoStatus::Done, "{video:?}\n{}", log_of(&log));
    assert_eq!(video.renditions.len(), 4);
    assert_complete(&data, &video);
    assert_eq!(database(&data).dead_letters().unwrap(), vec![]);
}

#[test]
fn sigterm_stops_the_worker_and_serve_with_their_ffmpeg() {
    let dir = tempfile::tempdir().unwrap();
    let source = long_source(dir.path());
    for (name, command) in [("worker", "--out"), ("serve", "--data")] {
        let data = dir.path().join(name);
        queue_upload(&data, &source, name);
        let log = dir.path().join(format!("{name}.log"));
        let mut args = vec![name, command, data.to_str().unwrap()];
        if name == "serve" {
            args.extend(["--addr", "127.0.0.1:0"]);
        }
        let _cleanup = NoFfmpegLeft(&data);
        let mut process = start(&args, &log, &[]);
        let ffmpeg = wait_for("an ffmpeg to start", || {
            ffmpegs_on(&data).into_iter().find(|f| f.parent == process.id())
        });
        signal(ffmpeg.pid, "STOP"); // as above: only the parent-death signal can end it
        signal(process.id(), "TERM");
        let status = process.wait().unwrap();
        wait_for("ffmpeg to stop with vodpipe", || {
            ffmpegs_on(&data).is_empty().then_some(())
        });
        if name == "serve" {
            // The server shuts down gracefully; the transcode resumes at the next start.
            assert!(status.success(), "{status}: {}", log_of(&log));
            assert!(log_of(&log).contains("vodpipe serve: stopping"), "{}", log_of(&log));
        }
        assert_eq!(record(&data, name).status, VideoStatus::Processing, "{}", log_of(&log));
    }
}

#[test]
fn two_workers_on_one_data_directory_never_run_the_same_job_twice() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    queue_upload(&data, &long_source(dir.path()), "twice");
    let out = data.to_str().unwrap();
    let args = [
        "worker",
        "--out",
        out,
        "--visibility",
        "1",
        "--until-idle",
        "4",
        "--locked-retry",
        "1",
    ];
    let _cleanup = NoFfmpegLeft(&data);

    // Sample /proc while the workers run: how many ffmpegs at once, and whose children.
    let stop = Arc::new(AtomicBool::new(false));
    let seen: Arc<Mutex<(usize, Vec<Ffmpeg>)>> = Arc::default();
    let sampler = std::thread::spawn({
        let (data, stop, seen) = (data.clone(), stop.clone(), seen.clone());
        move || {
            while !stop.load(Ordering::Relaxed) {
                let now = ffmpegs_on(&data);
                let mut seen = seen.lock().unwrap();
                seen.0 = seen.0.max(now.len());
                for f in now {
                    if !seen.1.contains(&f) {
                        seen.1.push(f);
                    }
                }
                drop(seen);
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    });

    let first_log = dir.path().join("first.log");
    let mut first = start(&args, &first_log, &[]);
    wait_for("the first worker's ffmpeg", || {
        ffmpegs_on(&data).iter().any(|f| f.parent == first.id()).then_some(())
    });
    // Frozen, the first worker cannot keep its message hidden: the message comes back while
    // its ffmpeg still holds the job, and the second worker hands it back, again and again,
    // without waiting for the lock or running anything.
    signal(first.id(), "STOP");

    let second_log = dir.path().join("second.log");
    let mut second = Command::new(env!("CARGO_BIN_EXE_vodpipe"))
        .args(args)
        .env("VODPIPE_CACHE_DIR", cache_dir())
        .env("VODPIPE_LOG", "vodpipe_embedded=info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, received) = mpsc::channel();
    let reader = std::thread::spawn({
        let stderr = second.stderr.take().unwrap();
        let log = second_log.clone();
        move || {
            let mut all = String::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                all.push_str(&line);
                all.push('\n');
                let _ = lines.send(line);
            }
            std::fs::write(log, &all).unwrap();
            all
        }
    });
    let mut handed_back = 0;
    for line in received.iter() {
        if line.contains("another process is writing this job; trying it again in 1 s") {
            handed_back += 1;
            if handed_back == 2 {
                break;
            }
        }
    }
    signal(first.id(), "CONT");
    assert_eq!(handed_back, 2, "the second worker handed the job back twice");

    let first_status = first.wait().unwrap();
    let second_status = second.wait().unwrap();
    let second_output = reader.join().unwrap();
    stop.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    assert!(first_status.success(), "{}", log_of(&first_log));
    assert!(second_status.success(), "{second_output}");

    let (most_at_once, all) = seen.lock().unwrap().clone();
    assert_eq!(most_at_once, 1, "ffmpegs at once; all seen: {all:?}");
    assert!(
        all.iter().all(|f| f.parent == first.id()),
        "only the first worker ran ffmpeg: {all:?}"
    );
    let video = record(&data, "twice");
    assert_eq!(video.status, VideoStatus::Done, "{video:?}");
    assert_complete(&data, &video);
    // The message the second worker kept handing back was deleted once the result was
    // queued, and its tries used up none of its receives.
    assert_eq!(database(&data).queued().unwrap(), 0);
    assert_eq!(database(&data).dead_letters().unwrap(), vec![]);
}
