//! The budgeted, caching reader the parsers go through.

use vodpipe_core::ports::PortError;

use crate::{HEAD_BYTES, MAX_BYTES_READ, MAX_READS, RangeSource};

pub(crate) struct Reader<'a> {
    source: &'a dyn RangeSource,
    len: u64,
    /// The first `HEAD_BYTES` of the source, read up front: it holds the signature and, for most
    /// files, every header the parsers need.
    head: Vec<u8>,
    /// The most recent read past the head, kept because a box body is often read with the next
    /// box's header behind it.
    last: Vec<u8>,
    last_offset: u64,
    reads: u32,
    bytes: u64,
}

impl<'a> Reader<'a> {
    pub fn new(source: &'a dyn RangeSource) -> Result<Self, PortError> {
        let len = source.len()?;
        if len == 0 {
            return Err(PortError::Rejected("the file is empty".into()));
        }
        let mut reader = Self {
            source,
            len,
            head: Vec::new(),
            last: Vec::new(),
            last_offset: 0,
            reads: 0,
            bytes: 0,
        };
        reader.head = reader.fetch(0, len.min(HEAD_BYTES))?;
        Ok(reader)
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn head(&self) -> &[u8] {
        &self.head
    }

    pub fn reads(&self) -> u32 {
        self.reads
    }

    /// Whether one more read of `len` bytes stays within the budget.
    pub fn affordable(&self, len: u64) -> bool {
        self.reads < MAX_READS && self.bytes.saturating_add(len) <= MAX_BYTES_READ
    }

    /// `len` bytes at `offset`, served from what was already read where possible. When the source
    /// must be asked, up to `ahead` more bytes are fetched in the same request and kept for the
    /// next call: one ranged GET costs far more in latency than a few extra bytes.
    pub fn read(&mut self, offset: u64, len: u64, ahead: u64) -> Result<Vec<u8>, PortError> {
        let end = offset
            .checked_add(len)
            .filter(|&end| end <= self.len)
            .ok_or_else(|| PortError::Rejected(format!("a header points past the end of the file (byte {offset})")))?;
        let mut out = Vec::new();
        let mut at = offset;
        for (base, buffer) in [(0, &self.head), (self.last_offset, &self.last)] {
            if let Some(start) = at.checked_sub(base)
                && let Ok(start) = usize::try_from(start)
                && let Some(cached) = buffer.get(start..)
            {
                let take = cached.len().min(usize::try_from(end - at).unwrap_or(usize::MAX));
                out.extend_from_slice(&cached[..take]);
                at += take as u64;
            }
        }
        if at < end {
            let missing = end - at;
            let fetch = missing.saturating_add(ahead).min(self.len - at);
            let fetched = self.fetch(at, fetch)?;
            // `fetch` returned exactly `fetch >= missing` bytes, and `missing` fits the budget.
            out.extend_from_slice(&fetched[..missing as usize]);
            self.last = fetched;
            self.last_offset = at;
        }
        Ok(out)
    }

    fn fetch(&mut self, offset: u64, len: u64) -> Result<Vec<u8>, PortError> {
        if !self.affordable(len) {
            return Err(PortError::Rejected(format!(
                "the file's headers are too large or too scattered to probe (more than {MAX_READS} reads or {} MiB)",
                MAX_BYTES_READ >> 20
            )));
        }
        self.reads += 1;
        self.bytes += len;
        let data = self.source.read_at(offset, len)?;
        if data.len() as u64 != len {
            return Err(PortError::Unavailable(format!(
                "the source returned {} bytes for a read of {len} at offset {offset} (did it change while probing?)",
                data.len()
            )));
        }
        Ok(data)
    }
}
