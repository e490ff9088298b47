//! The job document vodpipe speaks: the subset of AWS Elemental MediaConvert's `CreateJob`
//! request that the job-builder plugin writes (compiled to wasm32-wasip2) and the embedded
//! transcoder runs (on the host), described once, and the H.264 profiles and levels it names
//! ([`h264`]: Table A-1, the level a stream needs, the `avc1` codec string).
//!
//! MediaConvert reads the same JSON in AWS mode; the tests hold what the job builder writes to
//! botocore's model of the API. [`CreateJob::read`] (feature `read`) reads a document strictly,
//! naming every unknown key and the first value that does not fit by its path.

mod create_job;
pub mod h264;
pub mod qvbr;
#[cfg(feature = "read")]
mod read;

pub use create_job::*;
#[cfg(feature = "read")]
pub use read::Problem;
