//! One writer per job: an exclusive `flock` on a file next to the job's output directory
//! (`media/<video id>.lock` for `media/<video id>/`), held while the job's ffmpeg runs.
//!
//! The kernel releases an flock when the last descriptor of its open file closes, so the lock
//! dies with its holder: a killed worker never leaves a stale lock to clean up. The ffmpeg
//! child inherits the descriptor ([`crate::child::command_holding`]), so the lock lasts until
//! the writer itself is gone. A lock file is deleted only with its video's media
//! ([`crate::disk::DiskStore`]'s `delete_media`), when no job of it can run any more: deleting
//! one earlier would let two processes lock two different files of the same name.
//!
//! The file also records the job whose result its holder queued: a worker that waited for the
//! lock finds the job already finished instead of running it a second time.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How often a waiting worker tries the lock again.
const POLL: Duration = Duration::from_millis(200);

#[derive(Debug)]
pub struct JobLock {
    file: File,
    path: PathBuf,
}

impl JobLock {
    /// The lock file of the job writing `output_dir`.
    pub fn path_for(output_dir: &Path) -> PathBuf {
        match output_dir.file_name() {
            Some(name) => output_dir.with_file_name(format!("{}.lock", name.to_string_lossy())),
            None => output_dir.join(".vodpipe.lock"),
        }
    }

    /// Takes the lock of `output_dir`'s job, waiting while another process (or another
    /// [`JobLock`] in this one) holds it. `waiting` is called each time the lock is found
    /// taken, about five times a second, so the caller can keep its queue message hidden.
    pub fn acquire(output_dir: &Path, mut waiting: impl FnMut()) -> io::Result<JobLock> {
        loop {
            if let Some(lock) = Self::try_acquire(output_dir)? {
                return Ok(lock);
            }
            waiting();
            std::thread::sleep(POLL);
        }
    }

    /// Takes the lock if it is free.
    pub fn try_acquire(output_dir: &Path) -> io::Result<Option<JobLock>> {
        let path = Self::path_for(output_dir);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| with_path(e, parent))?;
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| with_path(e, &path))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(JobLock { file, path })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(with_path(e, &path)),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether a holder of this lock (this one or an earlier one) recorded `job_id`'s result
    /// as queued.
    pub fn finished(&mut self, job_id: &str) -> io::Result<bool> {
        let mut text = String::new();
        self.file.seek(SeekFrom::Start(0))?;
        self.file.read_to_string(&mut text)?;
        Ok(text.lines().any(|line| line.strip_prefix("finished ") == Some(job_id)))
    }

    /// Records that `job_id`'s result is queued, so nobody runs it again. A crash half-way
    /// through leaves a line that matches no job: the job then runs again, which is safe.
    pub fn record_finished(&mut self, job_id: &str) -> io::Result<()> {
        self.file.set_len(0)?;
        self.file.seek(SeekFrom::Start(0))?;
        writeln!(self.file, "finished {job_id}")?;
        self.file.sync_data()
    }

    #[cfg(unix)]
    pub(crate) fn raw_fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(&self.file)
    }
}

fn with_path(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn the_lock_file_sits_next_to_the_output_directory() {
        assert_eq!(
            JobLock::path_for(Path::new("/data/media/01J")),
            Path::new("/data/media/01J.lock")
        );
        assert_eq!(JobLock::path_for(Path::new("/")), Path::new("/.vodpipe.lock"));
    }

    #[test]
    fn a_second_holder_waits_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("media/v1");
        let first = JobLock::acquire(&out, || panic!("the lock was free")).unwrap();
        assert!(JobLock::try_acquire(&out).unwrap().is_none());

        let (waited, waits) = mpsc::channel();
        let second = std::thread::spawn({
            let out = out.clone();
            move || {
                JobLock::acquire(&out, || {
                    let _ = waited.send(());
                })
                .unwrap()
            }
        });
        // The second one has found the lock taken (twice, so it is really polling).
        waits.recv().unwrap();
        waits.recv().unwrap();
        drop(first);
        let mut second = second.join().unwrap();
        assert!(!second.finished("v1-hls").unwrap());
        second.record_finished("v1-hls").unwrap();
        drop(second);
        let mut third = JobLock::try_acquire(&out).unwrap().expect("free again");
        assert!(third.finished("v1-hls").unwrap());
        assert!(!third.finished("v1").unwrap());
    }

    #[test]
    fn a_child_holding_the_lock_keeps_it_until_it_dies() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("media/v1");
        let lock = JobLock::acquire(&out, || {}).unwrap();
        let mut child = crate::child::command_holding("sleep", &lock).arg("30").spawn().unwrap();
        drop(lock);
        // This process let go, but its child still holds the same open file.
        assert!(JobLock::try_acquire(&out).unwrap().is_none());
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(JobLock::try_acquire(&out).unwrap().is_some());
    }

    #[test]
    fn an_unwritable_place_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("media");
        std::fs::write(&blocker, "not a directory").unwrap();
        let err = JobLock::try_acquire(&blocker.join("v1")).unwrap_err();
        assert!(err.to_string().contains("media"), "{err}");
    }
}
