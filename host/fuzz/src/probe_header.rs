//! The header prober over untrusted bytes (the `mp4_header` and `matroska_header` targets; the
//! same entry point as production, each with its own corpus). Also replayed by
//! `host/probe-header/tests/fuzz_corpus.rs`.

use vodpipe_probe_header::{Counted, MATROSKA_CONTAINER, MAX_BYTES_READ, MAX_READS, MP4_CONTAINER, PortError, probe};

/// Probes `data` as an uploaded file and checks what the prober promises for any input: no
/// panic, reads within the budget, a result that names a picture size and a known container,
/// and the same answer twice.
pub fn check(data: &[u8]) {
    let source = Counted::new(data);
    let result = probe(&source);
    assert!(
        source.reads() <= u64::from(MAX_READS),
        "{} reads, the budget is {MAX_READS}",
        source.reads()
    );
    assert!(
        source.bytes_read() <= MAX_BYTES_READ,
        "{} bytes read, the budget is {MAX_BYTES_READ}",
        source.bytes_read()
    );
    match &result {
        Ok(probe) => {
            assert!(
                probe.width > 0 && probe.height > 0,
                "a probe without a picture size: {probe:?}"
            );
            assert!(
                [MP4_CONTAINER, MATROSKA_CONTAINER].contains(&probe.container.as_str()),
                "unknown container in {probe:?}"
            );
            assert!([0, 90, 180, 270].contains(&probe.rotation), "rotation in {probe:?}");
            assert!(
                probe.frame_rate.is_finite() && probe.frame_rate >= 0.0,
                "frame rate in {probe:?}"
            );
        }
        Err(PortError::Rejected(why)) => assert!(!why.is_empty(), "NotAVideo without a reason"),
        Err(other) => panic!("in-memory bytes can only be NotAVideo, got {other:?}"),
    }
    assert_eq!(
        format!("{result:?}"),
        format!("{:?}", probe(&data)),
        "a second probe disagrees"
    );
}
