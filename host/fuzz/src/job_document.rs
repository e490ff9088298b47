//! Reading a MediaConvert `CreateJob` document (the `job_document` target): the core's shape
//! check, then the embedded transcoder's reader and the ffmpeg command it builds. Also
//! replayed by `host/embedded/tests/fuzz_corpus.rs`.

use vodpipe_core::JobDocument;
use vodpipe_embedded::ffmpeg::{arguments, translate};

/// Reads `data` as a job document the way the pipeline does, checking that nothing panics,
/// that a refusal names every setting and why, and that an accepted job makes a command.
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(why) = JobDocument::parse(text.to_owned(), Vec::new()) {
        assert!(!why.is_empty(), "a refused job document without a reason");
    }
    let Ok(document) = serde_json::from_str::<serde_json::Value>(text) else {
        return;
    };
    match translate(&document) {
        Ok(job) => {
            assert!(!job.variants.is_empty(), "a job without renditions: {job:?}");
            for source_size in [None, Some((1920, 1080)), Some((1, 1)), Some((1080, 1920))] {
                let args = arguments(&job, source_size);
                let input = args
                    .iter()
                    .position(|a| a == "-i")
                    .expect("no -i in the ffmpeg arguments");
                assert!(input + 1 < args.len(), "-i without an input: {args:?}");
            }
        }
        Err(problems) => {
            assert!(!problems.is_empty(), "refused without a reason");
            for problem in &problems {
                assert!(!problem.path.is_empty() && !problem.message.is_empty(), "{problem:?}");
            }
        }
    }
}
