use std::fmt;

use serde::{Deserialize, Serialize};

/// The three places a plugin decides policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    Planner,
    JobBuilder,
    PostProcessor,
}

impl Stage {
    pub const ALL: [Stage; 3] = [Stage::Planner, Stage::JobBuilder, Stage::PostProcessor];

    /// The WIT world name, also the bundle table name with '-' for '_'.
    pub fn world(self) -> &'static str {
        match self {
            Stage::Planner => "planner",
            Stage::JobBuilder => "job-builder",
            Stage::PostProcessor => "post-processor",
        }
    }

    pub fn bundle_key(self) -> &'static str {
        match self {
            Stage::Planner => "planner",
            Stage::JobBuilder => "job_builder",
            Stage::PostProcessor => "post_processor",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.world())
    }
}

/// A problem a plugin's `validate-config` found in its config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigProblem {
    pub key: String,
    pub message: String,
}

/// A plugin call that did not produce a usable answer. The host goes on serving.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("plugin `{plugin}` ({stage}): {failure}")]
pub struct PluginError {
    pub plugin: String,
    pub stage: Stage,
    pub failure: PluginFailure,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PluginFailure {
    #[error("could not be loaded: {0}")]
    Load(String),
    #[error("trapped: {0}")]
    Trap(String),
    #[error("ran past its {0} ms deadline and was stopped")]
    Timeout(u64),
    #[error("tried to use more than its {0} bytes of memory and was stopped")]
    MemoryLimit(u64),
    #[error("returned an answer larger than the {0}-byte limit")]
    OutputTooLarge(usize),
    #[error("returned an invalid answer: {0}")]
    InvalidOutput(String),
    /// The plugin was built for an older contract that cannot carry what the preset asks
    /// for (HEVC rungs for a 0.2.0 planner, CMAF for a 0.2.0 job builder).
    #[error("was built for an older contract: {0}")]
    OlderContract(String),
    /// The plugin ran fine and said no, e.g. a source it cannot plan.
    #[error("refused: {0}")]
    Refused(String),
    #[error("found problems in its config: {}", .0.iter().map(|p| format!("{}: {}", p.key, p.message)).collect::<Vec<_>>().join("; "))]
    Config(Vec<ConfigProblem>),
    /// Failed on the reference video the host runs through every stage before it activates
    /// a bundle, not on an upload; `sample` describes that video.
    #[error("in the activation dry run ({sample}): {failure}")]
    DryRun {
        sample: String,
        failure: Box<PluginFailure>,
    },
}
