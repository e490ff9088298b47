//! The embedded transcoder: runs the MediaConvert job document a job-builder plugin wrote,
//! with one ffmpeg process that decodes the source once and encodes every rendition
//! (split + scale), then writes the HLS master playlist itself from what was produced.
//!
//! Only the subset of MediaConvert settings listed in [`translate`] is understood; any other
//! setting, or a value ffmpeg cannot honour, refuses the job with the field's path.
//!
//! Four steps, one module each: `job` reads the document, `args` makes ffmpeg's
//! arguments, `process` runs ffmpeg, `playlists` reads back what it wrote and writes the
//! master playlist, the I-frame playlists and (CMAF) the DASH MPD, with what `fmp4` and `ts`
//! read of the segments.

mod args;
pub mod fmp4;
mod job;
mod playlists;
mod process;
mod ts;

pub use args::{arguments, fit, source_filters};
pub use job::{Audio, Encoding, HlsJob, Problem, Rate, ThumbnailJob, Variant, translate};
pub use playlists::bandwidth;
pub use process::{MachineFailure, error_result, run, test_pattern};
