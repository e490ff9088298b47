//! Where the bytes come from: the [`RangeSource`] port, a file implementation and a counting wrapper.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use vodpipe_core::ports::PortError;

/// Random access to the source: S3 ranged GETs in AWS mode, a file in tests.
///
/// The prober asks only for ranges inside `0..len()`, and expects exactly `len` bytes back.
pub trait RangeSource {
    /// Size of the source in bytes.
    fn len(&self) -> Result<u64, PortError>;
    /// Bytes `offset..offset + len`.
    fn read_at(&self, offset: u64, len: u64) -> Result<Vec<u8>, PortError>;
    /// Whether the source has no bytes at all.
    fn is_empty(&self) -> Result<bool, PortError> {
        Ok(self.len()? == 0)
    }
}

impl<T: RangeSource + ?Sized> RangeSource for &T {
    fn len(&self) -> Result<u64, PortError> {
        (**self).len()
    }
    fn read_at(&self, offset: u64, len: u64) -> Result<Vec<u8>, PortError> {
        (**self).read_at(offset, len)
    }
}

/// Bytes in memory, for tests and for sources already downloaded.
impl RangeSource for [u8] {
    fn len(&self) -> Result<u64, PortError> {
        Ok(<[u8]>::len(self) as u64)
    }
    fn read_at(&self, offset: u64, len: u64) -> Result<Vec<u8>, PortError> {
        let range = usize::try_from(offset)
            .ok()
            .and_then(|start| Some(start..start.checked_add(usize::try_from(len).ok()?)?));
        range
            .and_then(|range| self.get(range))
            .map(<[u8]>::to_vec)
            .ok_or_else(|| past_the_end(offset, len, <[u8]>::len(self) as u64))
    }
}

impl RangeSource for Vec<u8> {
    fn len(&self) -> Result<u64, PortError> {
        RangeSource::len(self.as_slice())
    }
    fn read_at(&self, offset: u64, len: u64) -> Result<Vec<u8>, PortError> {
        self.as_slice().read_at(offset, len)
    }
}

/// A local file (wrap it in [`Counted`] to see what a probe read).
pub struct FileSource {
    // A mutex rather than positioned reads keeps this portable; probing is sequential anyway.
    file: Mutex<File>,
    len: u64,
}

impl FileSource {
    pub fn open(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        Ok(Self {
            file: Mutex::new(file),
            len,
        })
    }
}

impl RangeSource for FileSource {
    fn len(&self) -> Result<u64, PortError> {
        Ok(self.len)
    }

    fn read_at(&self, offset: u64, len: u64) -> Result<Vec<u8>, PortError> {
        if offset.checked_add(len).is_none_or(|end| end > self.len) {
            return Err(past_the_end(offset, len, self.len));
        }
        let size = usize::try_from(len).map_err(|_| past_the_end(offset, len, self.len))?;
        let mut buffer = vec![0; size];
        let mut file = self
            .file
            .lock()
            .map_err(|_| PortError::Unavailable("the source file lock is poisoned".into()))?;
        file.seek(SeekFrom::Start(offset))
            .and_then(|_| file.read_exact(&mut buffer))
            .map_err(|e| PortError::Unavailable(format!("cannot read {len} bytes at offset {offset}: {e}")))?;
        Ok(buffer)
    }
}

/// Counts the reads made through any source, e.g. to log how much of an S3 object a probe fetched.
pub struct Counted<S> {
    inner: S,
    bytes_read: AtomicU64,
    reads: AtomicU64,
}

impl<S> Counted<S> {
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            bytes_read: AtomicU64::new(0),
            reads: AtomicU64::new(0),
        }
    }

    /// Bytes returned by `read_at` so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }

    /// Successful calls to `read_at` so far.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    pub fn inner(&self) -> &S {
        &self.inner
    }

    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: RangeSource> RangeSource for Counted<S> {
    fn len(&self) -> Result<u64, PortError> {
        self.inner.len()
    }

    fn read_at(&self, offset: u64, len: u64) -> Result<Vec<u8>, PortError> {
        let bytes = self.inner.read_at(offset, len)?;
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.bytes_read.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(bytes)
    }
}

fn past_the_end(offset: u64, len: u64, size: u64) -> PortError {
    PortError::Unavailable(format!(
        "read of {len} bytes at offset {offset} is past the end of the {size}-byte source"
    ))
}
