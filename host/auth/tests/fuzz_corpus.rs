//! Replays the `cognito_jwt` fuzz corpus (`host/fuzz/corpus/cognito_jwt`) with the fuzz target's
//! own checks, so every input the fuzzer kept, and every crash it found, stays handled on
//! stable.

#[path = "../../fuzz/src/cognito.rs"]
mod harness;

#[test]
fn cognito_jwt_corpus() {
    vodpipe_test_support::corpus::replay("cognito_jwt", harness::check);
}
