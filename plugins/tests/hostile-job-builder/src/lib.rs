//! Returns a job document that is not what the contract promises, as its config asks.

use vodpipe_plugin_sdk::job_builder::{Config, JobBuilder, JobContext, JobDocument, Plan, Reader};

struct Hostile;

/// `mode`: how to misbehave.
struct Mode(String);

impl Config for Mode {
    fn read(reader: &mut Reader) -> Self {
        Mode(reader.string("mode", "ok", &[]))
    }
}

impl JobBuilder for Hostile {
    type Config = Mode;

    fn build(_plan: Plan, context: JobContext, Mode(mode): Mode) -> Result<JobDocument, String> {
        // Behave for the host's activation dry run; misbehave for jobs marked by the tests.
        let mode = if context.video_id == "trigger" {
            mode.as_str()
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
