//! What the pipeline needs from the outside world. Adapters (embedded, AWS, wasm runtime)
//! implement these; only binaries wire them together.

use std::path::Path;

use crate::{Action, JobContext, JobDocument, JobResult, LadderPreset, Plan, PluginError, Probe, Video};

/// Learns a source's size, duration, rotation and streams.
pub trait Prober {
    fn probe(&self, source: &Path) -> Result<Probe, ProbeError>;
}

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("{0}")]
    NotAVideo(String),
    #[error("the prober could not run: {0}")]
    Unavailable(String),
}

/// The active policy: the three plugin stages and the ladder preset they run with.
/// Every output is already checked when it is returned.
pub trait Policy: Send + Sync {
    fn preset(&self) -> &LadderPreset;
    fn plan(&self, source: &Probe) -> Result<Plan, PluginError>;
    fn build_job(&self, plan: &Plan, context: &JobContext) -> Result<JobDocument, PluginError>;
    fn post_process(&self, video: &Video, result: &JobResult) -> Result<Vec<Action>, PluginError>;
}
