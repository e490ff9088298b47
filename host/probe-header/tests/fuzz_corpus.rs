//! Replays the header prober's fuzz corpora (`host/fuzz/corpus/mp4_header` and
//! `matroska_header`) with the fuzz targets' own checks, so every input the fuzzer kept, and
//! every crash it found, stays handled on stable.

#[path = "../../fuzz/src/probe_header.rs"]
mod harness;
#[path = "../../fuzz/src/replay.rs"]
mod replay;

#[test]
fn mp4_header_corpus() {
    replay::replay("mp4_header", harness::check);
}

#[test]
fn matroska_header_corpus() {
    replay::replay("matroska_header", harness::check);
}
