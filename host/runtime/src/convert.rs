//! Between the domain's types and the plugin contract's.

use vodpipe_core as core;

use crate::bindings::types as wit;

pub fn probe(p: &core::Probe) -> wit::Probe {
    wit::Probe {
        width: p.width,
        height: p.height,
        rotation: p.rotation,
        duration_ms: p.duration_ms,
        frame_rate: p.frame_rate,
        video_bitrate: p.video_bitrate,
        total_bitrate: p.total_bitrate,
        has_audio: p.has_audio,
        container: p.container.clone(),
        video_codec: p.video_codec.clone(),
    }
}

pub fn preset(p: &core::LadderPreset) -> wit::Preset {
    wit::Preset {
        name: p.name.clone(),
        segment_seconds: p.segment_seconds,
        frame_rate_cap: p.frame_rate_cap,
        allow_upscale: p.allow_upscale,
        thumbnail_at_seconds: p.thumbnail_at_seconds,
        thumbnail_width: p.thumbnail_width,
        rungs: p
            .rungs
            .iter()
            .map(|r| wit::Rung {
                name: r.name.clone(),
                short_side: r.short_side,
                video_bitrate: r.video_bitrate,
                max_bitrate: r.max_bitrate,
                profile: r.profile.clone(),
                level: r.level.clone(),
                audio_bitrate: r.audio_bitrate,
            })
            .collect(),
        config: p.plugin_config.to_string(),
    }
}

pub fn plan_from(p: wit::Plan) -> core::Plan {
    core::Plan {
        renditions: p
            .renditions
            .into_iter()
            .map(|r| core::Rendition {
                name: r.name,
                width: r.width,
                height: r.height,
                video_bitrate: r.video_bitrate,
                max_bitrate: r.max_bitrate,
                profile: r.profile,
                level: r.level,
                frame_rate_cap: r.frame_rate_cap,
                audio_bitrate: r.audio_bitrate,
            })
            .collect(),
        segment_seconds: p.segment_seconds,
        thumbnail: p.thumbnail.map(|t| core::Thumbnail {
            at_seconds: t.at_seconds,
            width: t.width,
            height: t.height,
        }),
    }
}

pub fn plan_to(p: &core::Plan) -> wit::Plan {
    wit::Plan {
        renditions: p
            .renditions
            .iter()
            .map(|r| wit::Rendition {
                name: r.name.clone(),
                width: r.width,
                height: r.height,
                video_bitrate: r.video_bitrate,
                max_bitrate: r.max_bitrate,
                profile: r.profile.clone(),
                level: r.level.clone(),
                frame_rate_cap: r.frame_rate_cap,
                audio_bitrate: r.audio_bitrate,
            })
            .collect(),
        segment_seconds: p.segment_seconds,
        thumbnail: p.thumbnail.as_ref().map(|t| wit::Thumbnail {
            at_seconds: t.at_seconds,
            width: t.width,
            height: t.height,
        }),
    }
}

pub fn context(c: &core::JobContext) -> wit::JobContext {
    wit::JobContext {
        video_id: c.video_id.clone(),
        input_uri: c.input_uri.clone(),
        output_prefix: c.output_prefix.clone(),
        role: c.role.clone(),
        queue: c.queue.clone(),
    }
}

pub fn video(v: &core::Video) -> wit::Video {
    wit::Video {
        id: v.id.clone(),
        user_id: v.user_id.clone(),
        title: v.title.clone(),
        status: match v.status {
            core::VideoStatus::Processing => wit::VideoStatus::Processing,
            core::VideoStatus::Done => wit::VideoStatus::Done,
            core::VideoStatus::Failed => wit::VideoStatus::Failed,
        },
        source_key: v.source_key.clone(),
    }
}

pub fn job_result(r: &core::JobResult) -> wit::JobResult {
    wit::JobResult {
        job_id: r.job_id.clone(),
        status: match r.status {
            core::JobStatus::Complete => wit::JobStatus::Complete,
            core::JobStatus::Error => wit::JobStatus::Error,
        },
        error_code: r.error_code,
        error_message: r.error_message.clone(),
        playlist_path: r.playlist_path.clone(),
        outputs: r
            .outputs
            .iter()
            .map(|o| wit::JobOutput {
                path: o.path.clone(),
                width: o.width,
                height: o.height,
                duration_ms: o.duration_ms,
            })
            .collect(),
        thumbnail_path: r.thumbnail_path.clone(),
    }
}

pub fn action_from(a: wit::Action) -> core::Action {
    match a {
        wit::Action::SetDone => core::Action::SetDone,
        wit::Action::SetFailed(reason) => {
            core::Action::SetFailed(reason.chars().take(core::action::MAX_REASON_CHARS).collect())
        }
        wit::Action::RecordPlayback(p) => core::Action::RecordPlayback(p),
        wit::Action::RecordThumbnail(p) => core::Action::RecordThumbnail(p),
        wit::Action::RecordRenditions(list) => core::Action::RecordRenditions(
            list.into_iter()
                .map(|r| core::Rendered {
                    name: r.name,
                    width: r.width,
                    height: r.height,
                    playlist_path: r.playlist_path,
                })
                .collect(),
        ),
        wit::Action::RecordDuration(ms) => core::Action::RecordDuration(ms),
        wit::Action::DeleteSource => core::Action::DeleteSource,
    }
}

pub fn problems_from(problems: Vec<wit::ConfigProblem>) -> Vec<core::ConfigProblem> {
    problems
        .into_iter()
        .map(|p| core::ConfigProblem {
            key: p.key,
            message: p.message,
        })
        .collect()
}

/// Bytes a plugin's answer occupies, counted as it crossed the boundary: fixed-size fields
/// plus every string.
pub mod size {
    use super::wit;

    const RENDITION_FIXED: usize = 48;

    pub fn plan(p: &wit::Plan) -> usize {
        p.renditions
            .iter()
            .map(|r| RENDITION_FIXED + r.name.len() + r.profile.len() + r.level.len())
            .sum::<usize>()
            + 32
    }

    pub fn job_document(d: &wit::JobDocument) -> usize {
        d.create_job.len() + d.metadata.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>()
    }

    pub fn actions(actions: &[wit::Action]) -> usize {
        actions
            .iter()
            .map(|a| match a {
                wit::Action::SetFailed(s) | wit::Action::RecordPlayback(s) | wit::Action::RecordThumbnail(s) => {
                    8 + s.len()
                }
                wit::Action::RecordRenditions(list) => list
                    .iter()
                    .map(|r| 16 + r.name.len() + r.playlist_path.len())
                    .sum::<usize>(),
                _ => 8,
            })
            .sum()
    }

    pub fn problems(problems: &[wit::ConfigProblem]) -> usize {
        problems.iter().map(|p| p.key.len() + p.message.len()).sum()
    }

    pub fn refusal(message: &str) -> usize {
        message.len()
    }
}
