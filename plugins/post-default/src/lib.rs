//! Post-processor: on COMPLETE, records playback (the master playlist, and the DASH manifest
//! when the job wrote one), thumbnail, renditions and duration, marks the video done and
//! deletes the raw upload; on ERROR, marks it failed with a reason a person understands (the
//! raw upload is kept so the job can be retried).
//!
//! Config (`[post_processor.config]` of the bundle):
//! - `delete_source` (default true): delete the raw upload after a successful job.

use vodpipe_plugin_sdk::post_processor::{
    Action, Config, JobResult, JobStatus, PostProcessor, Reader, Rendered, Video,
};

struct PostDefault;

struct Settings {
    delete_source: bool,
}

impl Config for Settings {
    fn read(reader: &mut Reader) -> Self {
        Settings {
            delete_source: reader.boolean("delete_source", true),
        }
    }
}

impl PostProcessor for PostDefault {
    type Config = Settings;

    fn process(_video: Video, result: JobResult, settings: Settings) -> Result<Vec<Action>, String> {
        let delete = settings.delete_source;
        match result.status {
            JobStatus::Error => Ok(vec![Action::SetFailed(failure_reason(&result))]),
            JobStatus::Complete => {
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
                let renditions: Vec<Rendered> = result
                    .outputs
                    .iter()
                    .map(|o| Rendered {
                        name: rendition_name(&o.path),
                        width: o.width,
                        height: o.height,
                        playlist_path: o.path.clone(),
                    })
                    .collect();
                if let Some(longest) = result.outputs.iter().map(|o| o.duration_ms).max() {
                    actions.push(Action::RecordDuration(longest));
                }
                actions.push(Action::RecordRenditions(renditions));
                actions.push(Action::SetDone);
                if delete {
                    actions.push(Action::DeleteSource);
                }
                Ok(actions)
            }
        }
    }
}

/// "index_720p.m3u8" → "720p": the part after the last '_' is the name modifier.
fn rendition_name(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file.strip_suffix(".m3u8").unwrap_or(file);
    stem.rsplit_once('_').map_or(stem, |(_, name)| name).to_owned()
}

/// MediaConvert's error codes are documented; turn the common ones into plain words.
fn failure_reason(result: &JobResult) -> String {
    let detail = result.error_message.clone().unwrap_or_else(|| "no details".into());
    let summary = match result.error_code {
        Some(1010) | Some(1030) | Some(1040) => "the upload could not be read as a video",
        Some(1020) | Some(1021) | Some(1022) => "the uploaded file could not be found or read",
        Some(1050) | Some(1056) | Some(1060) => "the video uses a format that cannot be processed",
        Some(1401) | Some(1432) | Some(1433) => "the processing service was not allowed to read or write media",
        Some(1999) | None => "processing failed",
        Some(_) => "processing failed",
    };
    format!("{summary}: {detail}")
}

vodpipe_plugin_sdk::export_post_processor!(PostDefault);
