//! Bundles assembled in memory from the built plugins, for the runtime's tests.
#![allow(dead_code)]

use std::sync::Arc;

use vodpipe_core::{JobContext, Probe};
use vodpipe_plugin_artifacts::{Guest, LADDERS, by_name, sha256_hex};
use vodpipe_policy::MemoryFiles;
use vodpipe_runtime::reload::load;
use vodpipe_runtime::{Limits, LoadedPolicy, PluginRuntime};

pub fn guest(name: &str) -> Guest {
    by_name(name).unwrap_or_else(|| panic!("plugin {name} is built"))
}

/// A bundle with the given plugins, preset text and stage configs.
pub struct Spec<'a> {
    pub planner: &'a str,
    pub job_builder: &'a str,
    pub post_processor: &'a str,
    pub preset: &'a str,
    /// Extra preset text appended to the chosen shipped preset (e.g. a `[plugin]` table).
    pub preset_extra: &'a str,
    pub job_builder_config: &'a str,
    pub post_processor_config: &'a str,
}

impl Default for Spec<'_> {
    fn default() -> Self {
        Self {
            planner: "ladder-table",
            job_builder: "mediaconvert-hls",
            post_processor: "post-default",
            preset: "default",
            preset_extra: "",
            job_builder_config: "{}",
            post_processor_config: "{}",
        }
    }
}

impl Spec<'_> {
    pub fn files(&self) -> MemoryFiles {
        let stage = |key: &str, plugin: &str, config: Option<&str>| {
            let config = config.map_or(String::new(), |c| format!("config = {c}\n"));
            format!(
                "[{key}]\nplugin = \"plugins/{plugin}.wasm\"\nsha256 = \"{}\"\n{config}\n",
                sha256_hex(guest(plugin).wasm)
            )
        };
        let manifest = format!(
            "schema = 1\nname = \"test\"\n\n[ladder]\npreset = \"{}\"\n\n{}{}{}",
            self.preset,
            stage("planner", self.planner, None),
            stage("job_builder", self.job_builder, Some(self.job_builder_config)),
            stage("post_processor", self.post_processor, Some(self.post_processor_config)),
        );
        let mut files = MemoryFiles {
            label: "test-bundle".into(),
            ..Default::default()
        };
        files.files.insert("bundle.toml".into(), manifest.into_bytes());
        for (name, text) in LADDERS {
            let mut text = text.to_string();
            if *name == self.preset {
                text.push_str(self.preset_extra);
            }
            files.files.insert(format!("ladders/{name}.toml"), text.into_bytes());
        }
        for plugin in [self.planner, self.job_builder, self.post_processor] {
            files
                .files
                .insert(format!("plugins/{plugin}.wasm"), guest(plugin).wasm.to_vec());
        }
        files
    }

    pub fn load(&self, runtime: &Arc<PluginRuntime>) -> LoadedPolicy {
        load(runtime, &self.files(), None).unwrap_or_else(|e| panic!("{e}"))
    }
}

pub fn runtime() -> Arc<PluginRuntime> {
    PluginRuntime::new(None, Limits::default()).unwrap()
}

pub fn source(width: u32, height: u32) -> Probe {
    Probe {
        width,
        height,
        rotation: 0,
        duration_ms: 30_000,
        frame_rate: 30.0,
        video_bitrate: Some(4_000_000),
        total_bitrate: Some(4_200_000),
        has_audio: true,
        container: "mov,mp4,m4a,3gp,3g2,mj2".into(),
        video_codec: "h264".into(),
        analysis: Default::default(),
    }
}

/// The job context of an AWS-mode video, for building jobs.
pub fn context() -> JobContext {
    JobContext {
        video_id: "01JDVP6Q7Z8X9Y0A1B2C3D4E5F".into(),
        input_uri: "s3://uploads/01JDVP6Q7Z8X9Y0A1B2C3D4E5F".into(),
        output_prefix: "s3://media/01JDVP6Q7Z8X9Y0A1B2C3D4E5F/".into(),
        role: "arn:aws:iam::123456789012:role/vodpipe-mediaconvert".into(),
        queue: None,
    }
}
