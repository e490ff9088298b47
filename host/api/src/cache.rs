//! A micro-cache for the public listing's first page: the home page every visitor loads, the
//! same bytes for everyone. Rendered JSON is kept per page size for a second, so a burst of
//! visitors costs one database read per second instead of one each. A video that becomes
//! `done` shows up within that second; the API's own writes (record, delete) clear it at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Bytes;

pub struct PageCache {
    ttl: Duration,
    pages: Mutex<HashMap<usize, (Instant, Bytes)>>,
}

impl PageCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            pages: Mutex::new(HashMap::new()),
        }
    }

    /// The first page of `limit` videos, if rendered less than the TTL ago.
    pub fn get(&self, limit: usize) -> Option<Bytes> {
        let pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        pages
            .get(&limit)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, page)| page.clone())
    }

    pub fn put(&self, limit: usize, page: Bytes) {
        if self.ttl.is_zero() {
            return;
        }
        let mut pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        pages.insert(limit, (Instant::now(), page));
    }

    pub fn clear(&self) {
        self.pages.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_expire_and_clear() {
        let cache = PageCache::new(Duration::from_millis(50));
        assert_eq!(cache.get(20), None);
        cache.put(20, Bytes::from_static(b"[]"));
        assert_eq!(cache.get(20), Some(Bytes::from_static(b"[]")));
        assert_eq!(cache.get(10), None, "per page size");
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get(20), None, "expired");
        cache.put(20, Bytes::from_static(b"[]"));
        cache.clear();
        assert_eq!(cache.get(20), None);

        let off = PageCache::new(Duration::ZERO);
        off.put(20, Bytes::from_static(b"[]"));
        assert_eq!(off.get(20), None);
    }
}
