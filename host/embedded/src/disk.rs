//! The object store on local disk: uploads under `uploads/`, media under `media/<video id>/`.
//! Writes are atomic (temp file + rename) and keys cannot name anything outside the store.

use std::io;
use std::path::{Path, PathBuf};

use serde_json::json;
use vodpipe_core::ports::{ObjectMeta, ObjectStore, PortError, Prober};
use vodpipe_core::{Analysis, Probe};

use crate::analysis::SampleAnalyser;
use crate::ffprobe::FfprobeProber;
use crate::job_lock::JobLock;

pub struct DiskStore {
    root: PathBuf,
    prober: FfprobeProber,
    analyser: SampleAnalyser,
}

/// Object keys are ids: 1-64 letters, digits, '-' or '_'.
pub fn valid_key(key: &str) -> bool {
    (1..=64).contains(&key.len()) && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl DiskStore {
    pub fn open(root: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(root.join("uploads"))?;
        std::fs::create_dir_all(root.join("media"))?;
        // Canonical: jobs name files by absolute file:// URIs, which may not hold `..`
        // (`--out ../data`).
        let root = root.canonicalize()?;
        Ok(Self {
            root,
            prober: FfprobeProber::default(),
            analyser: SampleAnalyser::default(),
        })
    }

    fn upload_path(&self, key: &str) -> io::Result<PathBuf> {
        if !valid_key(key) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("`{key}` is not a valid object key"),
            ));
        }
        Ok(self.root.join("uploads").join(key))
    }

    /// Probes uploads with this ffprobe instead of the one on PATH.
    pub fn with_analyser(mut self, analyser: SampleAnalyser) -> Self {
        self.analyser = analyser;
        self
    }

    pub fn with_prober(mut self, prober: FfprobeProber) -> Self {
        self.prober = prober;
        self
    }

    pub fn media_dir(&self, video_id: &str) -> PathBuf {
        self.root.join("media").join(video_id)
    }

    /// A fresh temporary file in the uploads directory for an upload of `key` being received;
    /// [`DiskStore::commit_upload`] publishes it, or the caller removes it.
    pub fn upload_temp_path(&self, key: &str) -> io::Result<PathBuf> {
        let path = self.upload_path(key)?;
        let unique = ulid::Ulid::generate();
        Ok(path.with_file_name(format!(".{key}.{unique}.part")))
    }

    /// Creates the temporary file of an upload being received ([`DiskStore::upload_temp_path`]),
    /// locked (`flock`) while the returned handle lives, so that
    /// [`DiskStore::remove_abandoned_uploads`] never takes a file someone is writing.
    pub fn create_upload_temp(path: &Path) -> io::Result<std::fs::File> {
        let file = std::fs::File::create_new(path)?;
        file.lock()?;
        Ok(file)
    }

    /// Removes what uploads cut off by a crash left behind: the temporary `.part` files in
    /// `uploads/` that no process is writing (a writer holds its file's lock). Returns how many
    /// went. A file being received is skipped; one received but not yet published may go, and
    /// its upload is then refused ("could not be stored; try again later").
    pub fn remove_abandoned_uploads(&self) -> io::Result<usize> {
        let mut removed = 0;
        let entries = match std::fs::read_dir(self.root.join("uploads")) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            entries => entries?,
        };
        for entry in entries {
            let entry = entry?;
            let path = entry.path();
            if path.extension().is_none_or(|extension| extension != "part") || !entry.file_type()?.is_file() {
                continue;
            }
            let Ok(file) = std::fs::File::open(&path) else {
                continue;
            };
            if file.try_lock().is_ok() {
                match std::fs::remove_file(&path) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                    _ => removed += 1,
                }
            }
        }
        Ok(removed)
    }

    /// Publishes a received upload: metadata first, then the object appears at once. Refuses
    /// (`AlreadyExists`) if the key was uploaded before: one key, one upload.
    pub fn commit_upload(&self, key: &str, received: &Path, user_id: Option<&str>) -> io::Result<()> {
        let path = self.upload_path(key)?;
        if path.exists() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{key} was uploaded before"),
            ));
        }
        let meta = json!({ "user-id": user_id }).to_string();
        write_atomically(&path.with_extension("meta.json"), meta.as_bytes())?;
        std::fs::hard_link(received, &path)?;
        std::fs::remove_file(received)
    }

    /// Stores an upload (copied from `source`) with its user metadata, atomically.
    pub fn put_upload(&self, key: &str, source: &Path, user_id: Option<&str>) -> io::Result<()> {
        let path = self.upload_path(key)?;
        let meta = json!({ "user-id": user_id }).to_string();
        write_atomically(&path.with_extension("meta.json"), meta.as_bytes())?;
        let tmp = path.with_extension("part");
        std::fs::copy(source, &tmp)?;
        std::fs::rename(&tmp, &path)
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("part");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

fn unavailable(e: io::Error) -> PortError {
    PortError::Unavailable(e.to_string())
}

impl ObjectStore for DiskStore {
    fn head(&self, key: &str) -> Result<Option<ObjectMeta>, PortError> {
        let Ok(path) = self.upload_path(key) else {
            return Ok(None);
        };
        let size = match std::fs::metadata(&path) {
            Ok(meta) => meta.len(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(unavailable(e)),
        };
        let meta: serde_json::Value = std::fs::read(path.with_extension("meta.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        Ok(Some(ObjectMeta {
            size,
            user_id: meta["user-id"].as_str().map(str::to_owned),
        }))
    }

    fn source_uri(&self, key: &str) -> String {
        format!("file://{}", self.root.join("uploads").join(key).display())
    }

    fn output_prefix(&self, video_id: &str) -> String {
        format!("file://{}/", self.media_dir(video_id).display())
    }

    fn probe(&self, key: &str) -> Result<Probe, PortError> {
        let path = self.upload_path(key).map_err(|e| PortError::Rejected(e.to_string()))?;
        self.prober.probe(&path)
    }

    fn analyse(&self, key: &str, probe: &Probe, frame_rate_cap: f64) -> Analysis {
        match self.upload_path(key) {
            Ok(path) => self.analyser.outcome(&path, probe, frame_rate_cap),
            // Not seen: the probe just read the upload under the same key.
            Err(e) => Analysis::Failed { reason: e.to_string() },
        }
    }

    fn delete_source(&self, key: &str) -> Result<(), PortError> {
        let path = self.upload_path(key).map_err(unavailable)?;
        for file in [path.with_extension("meta.json"), path] {
            match std::fs::remove_file(&file) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(unavailable(e)),
                _ => {}
            }
        }
        Ok(())
    }

    fn delete_media(&self, video_id: &str) -> Result<(), PortError> {
        if !valid_key(video_id) {
            return Ok(());
        }
        let dir = self.media_dir(video_id);
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(unavailable(e)),
            _ => {}
        }
        // The job's lock file goes with its media: a deleted video has no job left to run.
        match std::fs::remove_file(JobLock::path_for(&dir)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(unavailable(e)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_uploads_nobody_is_writing_are_removed_as_abandoned() {
        let dir = tempfile::tempdir().unwrap();
        let store = DiskStore::open(dir.path()).unwrap();
        let abandoned = store.upload_temp_path("01ABANDONED").unwrap();
        drop(DiskStore::create_upload_temp(&abandoned).unwrap());
        let receiving = store.upload_temp_path("01RECEIVING").unwrap();
        let writer = DiskStore::create_upload_temp(&receiving).unwrap();
        let kept = dir.path().join("uploads").join("01KEPT");
        std::fs::write(&kept, b"a finished upload").unwrap();

        assert_eq!(store.remove_abandoned_uploads().unwrap(), 1);
        assert!(!abandoned.exists());
        assert!(receiving.exists(), "a file being received is left alone");
        assert!(kept.exists(), "published uploads are not temporary");
        drop(writer);
        assert_eq!(store.remove_abandoned_uploads().unwrap(), 1);
        assert!(!receiving.exists());
    }
}
