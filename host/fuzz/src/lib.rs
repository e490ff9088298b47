//! The checks each fuzz target runs, one module per fuzzed crate. They use only that crate's
//! public API and its dependencies, so each crate's `tests/fuzz_corpus.rs` includes its module
//! and replays the target's corpus on stable with `vodpipe_test_support::corpus::replay`.

pub mod cognito;
pub mod job_document;
pub mod policy;
pub mod presign;
pub mod probe_header;
pub mod upload;
