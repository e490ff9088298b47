//! vodpipe's domain: what a source is, what a ladder preset says, what a plan and a job are,
//! what a post-processor may ask for, what a plan costs by a cost model, and the ports adapters
//! implement.
//!
//! Nothing here knows about wasmtime, AWS, HTTP or SQLite.

pub mod action;
pub mod auth;
#[cfg(feature = "contract-tests")]
pub mod contract;
pub mod cost;
pub mod job;
pub mod ladder;
pub mod pipeline;
pub mod plan;
pub mod plan_diff;
pub mod ports;
pub mod probe;
pub mod stage;
pub mod time;
pub mod video;

pub use action::{Action, Rendered};
pub use cost::{CostEstimate, CostModel, Passes};
pub use job::{JobContext, JobDocument, JobOutput, JobResult, JobStateChange, JobStatus};
pub use ladder::{LadderPreset, Packaging, Rung, VideoCodec};
pub use plan::{Plan, Rendition, Thumbnail};
pub use probe::{Analysis, ContentAnalysis, Probe, RatePoint, SizeSample};
pub use stage::{ConfigProblem, PluginError, PluginFailure, Stage};
pub use video::{Cursor, Described, Details, Outcome, Page, Video, VideoRecord, VideoStatus, ulid_time_ms};
