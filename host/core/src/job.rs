use serde::{Deserialize, Serialize};

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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobDocument {
    pub create_job: serde_json::Value,
    pub metadata: Vec<(String, String)>,
}

/// Job documents larger than this are refused: real ones are a few kilobytes.
pub const MAX_JOB_DOCUMENT_BYTES: usize = 256 * 1024;

impl JobDocument {
    /// Parses and checks a job builder's output: a JSON object with `Settings.Inputs` and
    /// a non-empty `Settings.OutputGroups`.
    pub fn parse(create_job: &str, metadata: Vec<(String, String)>) -> Result<Self, String> {
        if create_job.len() > MAX_JOB_DOCUMENT_BYTES {
            return Err(format!(
                "the job document is {} bytes; at most {MAX_JOB_DOCUMENT_BYTES} are allowed",
                create_job.len()
            ));
        }
        let value: serde_json::Value =
            serde_json::from_str(create_job).map_err(|e| format!("the job document is not valid JSON: {e}"))?;
        let settings = value.get("Settings").ok_or("the job document has no `Settings`")?;
        if !settings
            .get("Inputs")
            .is_some_and(|i| i.as_array().is_some_and(|a| a.len() == 1))
        {
            return Err("`Settings.Inputs` must hold exactly one input".into());
        }
        if !settings
            .get("OutputGroups")
            .is_some_and(|g| g.as_array().is_some_and(|a| !a.is_empty()))
        {
            return Err("`Settings.OutputGroups` must be a non-empty list".into());
        }
        Ok(Self {
            create_job: value,
            metadata,
        })
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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobOutput {
    pub path: String,
    pub width: u32,
    pub height: u32,
    pub duration_ms: u64,
}
