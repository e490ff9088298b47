//! Returns a job document that is not what the contract promises, as its config asks.

use vodpipe_plugin_sdk::job_builder::{JobBuilder, JobContext, JobDocument, Plan};

struct Hostile;

impl JobBuilder for Hostile {
    fn build(_plan: Plan, _context: JobContext, config: &str) -> Result<JobDocument, String> {
        let create_job = match config.split('"').nth(3).unwrap_or("") {
            "not-json" => "{\"Settings\": [unterminated".to_owned(),
            "no-output-groups" => "{\"Role\":\"\",\"Settings\":{\"Inputs\":[{}]}}".to_owned(),
            "huge" => format!("{{\"Role\":\"{}\"}}", "x".repeat(8 << 20)),
            other => return Err(format!("unknown mode `{other}`")),
        };
        Ok(JobDocument {
            create_job,
            metadata: Vec::new(),
        })
    }
}

vodpipe_plugin_sdk::export_job_builder!(Hostile);
