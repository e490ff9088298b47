//! Replays the `job_document` fuzz corpus (`host/fuzz/corpus/job_document`) with the fuzz
//! target's own checks, so every document the fuzzer kept, and every crash it found, stays
//! handled on stable.

use vodpipe_embedded::ffmpeg::translate;

#[path = "../../fuzz/src/job_document.rs"]
mod harness;

#[test]
fn job_document_corpus() {
    vodpipe_test_support::corpus::replay("job_document", harness::check);
}

/// The corpus grew from documents the job builder writes, which the transcoder takes: the
/// fuzzer explored accepted jobs, not only refusals.
#[test]
fn the_corpus_holds_jobs_the_transcoder_accepts() {
    let accepted = std::fs::read_dir(vodpipe_test_support::corpus::corpus_dir("job_document"))
        .unwrap()
        .filter_map(|entry| serde_json::from_slice(&std::fs::read(entry.unwrap().path()).unwrap()).ok())
        .filter(|document| translate(document).is_ok())
        .count();
    assert!(accepted > 0, "no document of the corpus is a job the transcoder takes");
}

/// Found by the fuzzer: `{"": "Septings"}` was refused at the path ``, which names nothing. A key
/// that is not a plain name is quoted, wherever it is.
#[test]
fn a_refused_key_that_is_not_a_plain_name_is_quoted() {
    let paths = |document: serde_json::Value| -> Vec<String> {
        translate(&document)
            .unwrap_err()
            .into_iter()
            .map(|problem| problem.path)
            .collect()
    };
    assert!(paths(serde_json::json!({ "": "Septings" })).contains(&"[\"\"]".to_owned()));
    let nested = paths(serde_json::json!({ "Settings": { "Inputs": [], "Output Groups": [], "a\"b": 1 } }));
    assert!(nested.contains(&"Settings[\"Output Groups\"]".to_owned()), "{nested:?}");
    assert!(nested.contains(&"Settings[\"a\\\"b\"]".to_owned()), "{nested:?}");
    assert!(nested.contains(&"Settings.OutputGroups".to_owned()), "{nested:?}");
}
