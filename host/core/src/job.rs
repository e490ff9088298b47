use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// Where a job reads from and writes to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobContext {
    pub video_id: String,
    pub input_uri: String,
    /// Ends in '/'.
    pub output_prefix: String,
    /// MediaConvert service role ARN; empty in embedded mode.
    pub role: String,
    pub queue: Option<String>,
}

/// A MediaConvert `CreateJob` request (as JSON) plus what the host records with the job.
///
/// The request is kept as the plugin wrote it (checked, not re-encoded): adapters submit it
/// as it is, and reading it into a tree is left to those that need one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobDocument {
    pub create_job: Box<RawValue>,
    pub metadata: Vec<(String, String)>,
}

/// Job documents larger than this are refused: real ones are a few kilobytes.
pub const MAX_JOB_DOCUMENT_BYTES: usize = 256 * 1024;

/// The parts of a `CreateJob` request the host relies on; everything else is the plugin's.
#[derive(Deserialize)]
struct RequiredShape {
    #[serde(rename = "Settings")]
    settings: RequiredSettings,
}

#[derive(Deserialize)]
struct RequiredSettings {
    #[serde(rename = "Inputs")]
    inputs: Vec<IgnoredAny>,
    #[serde(rename = "OutputGroups")]
    output_groups: Vec<IgnoredAny>,
}

impl JobDocument {
    /// Parses and checks a job builder's output: a JSON object with `Settings.Inputs` holding
    /// one input and a non-empty `Settings.OutputGroups`.
    pub fn parse(create_job: String, metadata: Vec<(String, String)>) -> Result<Self, String> {
        if create_job.len() > MAX_JOB_DOCUMENT_BYTES {
            return Err(format!(
                "the job document is {} bytes; at most {MAX_JOB_DOCUMENT_BYTES} are allowed",
                create_job.len()
            ));
        }
        let raw = RawValue::from_string(create_job).map_err(|e| format!("the job document is not valid JSON: {e}"))?;
        let shape: RequiredShape =
            serde_json::from_str(raw.get()).map_err(|e| format!("the job document is not a CreateJob request: {e}"))?;
        if shape.settings.inputs.len() != 1 {
            return Err("`Settings.Inputs` must hold exactly one input".into());
        }
        if shape.settings.output_groups.is_empty() {
            return Err("`Settings.OutputGroups` must be a non-empty list".into());
        }
        Ok(Self {
            create_job: raw,
            metadata,
        })
    }

    /// The request as a JSON tree.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(self.create_job.get()).expect("checked when parsed")
    }

    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobStatus {
    Complete,
    Error,
}

/// What a finished transcode job reports (MediaConvert's "Job State Change" event, or the
/// embedded transcoder's equivalent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobResult {
    pub job_id: String,
    pub status: JobStatus,
    pub error_code: Option<i32>,
    pub error_message: Option<String>,
    /// Relative to the job's output prefix.
    pub playlist_path: Option<String>,
    pub outputs: Vec<JobOutput>,
    pub thumbnail_path: Option<String>,
    /// The DASH MPD of a CMAF job, relative to the job's output prefix. Results queued before
    /// it existed read as none.
    #[serde(default)]
    pub dash_manifest_path: Option<String>,
}

/// A finished job's result and the video it is for: what both modes' job-state messages
/// carry to [`crate::pipeline::Pipeline::on_job_state`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobStateChange {
    pub video_id: String,
    pub result: JobResult,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobOutput {
    pub path: String,
    pub width: u32,
    pub height: u32,
    pub duration_ms: u64,
}
