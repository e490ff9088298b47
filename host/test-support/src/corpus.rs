//! Runs a fuzz target's check over every file of its corpus, for the stable tests of the
//! fuzzed crates. A failing input is named.
//!
//! The checks themselves stay in `host/fuzz/src/<target>.rs`, included by path by each
//! crate's test: `host/fuzz` is cargo-fuzz's own (nightly) workspace, and a crate's tests
//! cannot depend on a crate that depends on that crate.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

/// `host/fuzz/corpus/<target>`, found from the crate under test (every fuzzed crate is a
/// sibling of `host/fuzz`). Read when the test runs, not baked in when this crate is built: a
/// build cache shared by two checkouts would otherwise point one at the other's corpus.
pub fn corpus_dir(target: &str) -> PathBuf {
    let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo test, which sets CARGO_MANIFEST_DIR");
    PathBuf::from(crate_dir).join("../fuzz/corpus").join(target)
}

/// Checks every input of `target`'s corpus; panics naming each input whose check panicked.
pub fn replay(target: &str, check: impl Fn(&[u8])) {
    let dir = corpus_dir(target);
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the corpus {} cannot be read: {e}", dir.display()))
        .map(|entry| entry.expect("a corpus entry").path())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "the corpus {} is empty", dir.display());
    let failed: Vec<String> = inputs
        .iter()
        .filter(|input| {
            let bytes = std::fs::read(input).expect("a corpus input");
            catch_unwind(AssertUnwindSafe(|| check(&bytes))).is_err()
        })
        .map(|input| input.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} inputs failed (messages above):\n{}",
        failed.len(),
        inputs.len(),
        failed.join("\n")
    );
}
