//! Replays the `policy_bundle` fuzz corpus (`host/fuzz/corpus/policy_bundle`) with the fuzz
//! target's own checks, so every input the fuzzer kept, and every crash it found, stays handled
//! on stable.

use vodpipe_policy::Bundle;

#[path = "../../fuzz/src/policy.rs"]
mod harness;

#[test]
fn policy_bundle_corpus() {
    vodpipe_test_support::corpus::replay("policy_bundle", harness::check);
}

/// The harness reads a bundle as the seeds write it: the `good` snapshot bundle loads.
#[test]
fn the_harness_reads_the_good_bundle() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui/bundles/good");
    let text = format!(
        "{}{}ladders/minimal.toml\n{}",
        std::fs::read_to_string(dir.join("bundle.toml")).unwrap(),
        harness::FILE_MARKER,
        std::fs::read_to_string(dir.join("ladders/minimal.toml")).unwrap()
    );
    let bundle = Bundle::load(&harness::files(&text), None).unwrap();
    assert_eq!((bundle.name.as_str(), bundle.preset.name.as_str()), ("good", "minimal"));
}
