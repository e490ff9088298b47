//! Replays the header prober's fuzz corpora (`host/fuzz/corpus/mp4_header` and
//! `matroska_header`) with the fuzz targets' own checks, so every input the fuzzer kept, and
//! every crash it found, stays handled on stable.

#[path = "../../fuzz/src/probe_header.rs"]
mod harness;

#[test]
fn mp4_header_corpus() {
    vodpipe_test_support::corpus::replay("mp4_header", harness::check);
}

#[test]
fn matroska_header_corpus() {
    vodpipe_test_support::corpus::replay("matroska_header", harness::check);
}
