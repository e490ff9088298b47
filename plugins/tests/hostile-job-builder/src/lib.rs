//! Returns a job document that is not what the contract promises, as its config asks.

use vodpipe_plugin_sdk::job_builder::{JobBuilder, JobContext, JobDocument, Plan};

struct Hostile;

impl JobBuilder for Hostile {
    fn build(_plan: Plan, context: JobContext, config: &str) -> Result<JobDocument, String> {
        // Behave for the host's activation dry run; misbehave for jobs marked by the tests.
        let mode = if context.video_id == "trigger" {
            config.split('"').nth(3).unwrap_or("")
        } else {
            "ok"
        };
        let create_job = match mode {
            "ok" => "{\"Role\":\"\",\"Settings\":{\"Inputs\":[{}],\"OutputGroups\":[{}]}}".to_owned(),
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
