//! PLUGIN_NAME: a vodpipe post-processor. On a completed job it records the playback (and the
//! DASH manifest of a CMAF job), thumbnail, duration and renditions and marks the video done
//! (and, if configured, deletes the raw upload); on a failed one it marks the video failed
//! with the job's message.
//!
//! Config (the `[post_processor.config]` table of `bundle.toml`):
//! - `delete_source` (default false): delete the raw upload after a successful job.

use vodpipe_plugin_sdk::post_processor::{
    Action, Config, JobResult, JobStatus, PostProcessor, Reader, Rendered, Video,
};

struct Settings {
    delete_source: bool,
}

impl Config for Settings {
    fn read(reader: &mut Reader) -> Self {
        Settings {
            delete_source: reader.boolean("delete_source", false),
        }
    }
}

struct PluginName;

impl PostProcessor for PluginName {
    type Config = Settings;

    fn process(_video: Video, result: JobResult, settings: Settings) -> Result<Vec<Action>, String> {
        if result.status == JobStatus::Error {
            let detail = result.error_message.unwrap_or_else(|| "no details".to_owned());
            return Ok(vec![Action::SetFailed(format!("processing failed: {detail}"))]);
        }
        let playlist = result
            .playlist_path
            .ok_or("the job completed without a master playlist")?;
        let mut actions = vec![Action::RecordPlayback(playlist)];
        if let Some(mpd) = result.dash_manifest_path {
            actions.push(Action::RecordDashManifest(mpd));
        }
        if let Some(thumbnail) = result.thumbnail_path {
            actions.push(Action::RecordThumbnail(thumbnail));
        }
        if let Some(longest) = result.outputs.iter().map(|o| o.duration_ms).max() {
            actions.push(Action::RecordDuration(longest));
        }
        let renditions = result
            .outputs
            .iter()
            .map(|o| Rendered {
                name: rendition_name(&o.path),
                width: o.width,
                height: o.height,
                playlist_path: o.path.clone(),
            })
            .collect();
        actions.push(Action::RecordRenditions(renditions));
        actions.push(Action::SetDone);
        if settings.delete_source {
            actions.push(Action::DeleteSource);
        }
        Ok(actions)
    }
}

/// "index_720p.m3u8" → "720p": the part after the last '_' is the rendition's name.
fn rendition_name(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file.strip_suffix(".m3u8").unwrap_or(file);
    stem.rsplit_once('_').map_or(stem, |(_, name)| name).to_owned()
}

vodpipe_plugin_sdk::export_post_processor!(PluginName);
