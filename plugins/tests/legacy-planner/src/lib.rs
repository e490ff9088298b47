//! A 0.1.0 planner: every rung that fits the source, at the source's shape, with the rung's
//! bitrates, profile and level as strings (the 0.1.0 types), and a log line saying so.

wit_bindgen::generate!({
    path: "../../wit/v0.1.0",
    world: "vodpipe:plugin/planner@0.1.0",
});

use vodpipe::plugin::log;
use vodpipe::plugin::types::{Rendition, Thumbnail};

struct Legacy;

fn even(x: f64) -> u32 {
    ((x / 2.0).round() as u32).max(1) * 2
}

impl Guest for Legacy {
    fn validate_config(config: String) -> Result<(), Vec<ConfigProblem>> {
        if config.trim() == "{}" {
            Ok(())
        } else {
            Err(vec![ConfigProblem {
                key: String::new(),
                message: "takes no config".into(),
            }])
        }
    }

    fn plan(source: Probe, preset: Preset) -> Result<Plan, String> {
        let (width, height) = if source.rotation % 180 == 90 {
            (source.height, source.width)
        } else {
            (source.width, source.height)
        };
        let short = width.min(height);
        let renditions: Vec<Rendition> = preset
            .rungs
            .iter()
            .filter(|rung| preset.allow_upscale || rung.short_side <= short)
            .map(|rung| {
                let scale = |x: u32| even(f64::from(x) * f64::from(rung.short_side) / f64::from(short));
                Rendition {
                    name: rung.name.clone(),
                    width: scale(width),
                    height: scale(height),
                    video_bitrate: rung.video_bitrate,
                    max_bitrate: rung.max_bitrate,
                    profile: rung.profile.clone(),
                    level: rung.level.clone(),
                    frame_rate_cap: preset.frame_rate_cap,
                    audio_bitrate: source.has_audio.then_some(rung.audio_bitrate),
                }
            })
            .collect();
        if renditions.is_empty() {
            return Err(format!("no rung fits a {width}x{height} source"));
        }
        log::write(
            log::Level::Info,
            &format!("legacy planner: {} renditions", renditions.len()),
        );
        Ok(Plan {
            renditions,
            segment_seconds: preset.segment_seconds,
            thumbnail: preset.thumbnail_at_seconds.map(|at_seconds| Thumbnail {
                at_seconds,
                width: preset.thumbnail_width,
                height: even(f64::from(preset.thumbnail_width) * f64::from(height) / f64::from(width)),
            }),
        })
    }
}

export!(Legacy);
