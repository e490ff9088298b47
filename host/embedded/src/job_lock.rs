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
//! The lock is only ever tried, never waited for: a worker that finds it taken hands its
//! message back to the queue and goes on with other work. Whether the job already finished is
//! the queue's record to say (its result was sent), not the lock file's.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

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

    /// Takes the lock if it is free; `None` while another process (or another [`JobLock`] in
    /// this one) holds it.
    pub fn try_acquire(output_dir: &Path) -> io::Result<Option<JobLock>> {
        let path = Self::path_for(output_dir);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| with_path(e, parent))?;
        }
        let file = OpenOptions::new()
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

    #[test]
    fn the_lock_file_sits_next_to_the_output_directory() {
        assert_eq!(
            JobLock::path_for(Path::new("/data/media/01J")),
            Path::new("/data/media/01J.lock")
        );
        assert_eq!(JobLock::path_for(Path::new("/")), Path::new("/.vodpipe.lock"));
    }

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("media/v1");
        let first = JobLock::try_acquire(&out).unwrap().expect("the lock was free");
        assert_eq!(first.path(), dir.path().join("media/v1.lock"));
        // Refused at once, however often it asks, while the first holds it.
        for _ in 0..3 {
            assert!(JobLock::try_acquire(&out).unwrap().is_none());
        }
        // Another job's lock is another file.
        assert!(JobLock::try_acquire(&dir.path().join("media/v2")).unwrap().is_some());
        drop(first);
        assert!(JobLock::try_acquire(&out).unwrap().is_some(), "free again");
    }

    #[test]
    fn a_child_holding_the_lock_keeps_it_until_it_dies() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("media/v1");
        let lock = JobLock::try_acquire(&out).unwrap().unwrap();
        let mut child = crate::child::command_holding("sleep", &lock).arg("30").spawn().unwrap();
        drop(lock);
        // This process let go, but its child still holds the same open file.
        assert!(JobLock::try_acquire(&out).unwrap().is_none());
        child.kill().unwrap();
        child.wait().unwrap();
        // Free once every holder is gone. Another test's child, forked in the same instant,
        // holds a copy of every descriptor of this process until its exec closes them, so
        // the lock may stay taken for that instant: asked again until free (or 10 s).
        let freed = (0..1000).any(|_| {
            let free = JobLock::try_acquire(&out).unwrap().is_some();
            if !free {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            free
        });
        assert!(freed, "the lock stayed taken after its holders were gone");
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
