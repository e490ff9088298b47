//! H.264 levels of rungs and plans, held to ITU-T H.264 Table A-1 with the shipped planners'
//! own table (`vodpipe-ladder-math`'s `h264`). A level too low for a rendition is raised by
//! those planners; these checks tell people so, where they look: `vodpipe policy check` for a
//! preset, `vodpipe plan` for a plan.

use vodpipe_core::{LadderPreset, Plan, Rendition, Rung};
use vodpipe_ladder_math::h264::{self, Choice, Level, Profile, Stream};

/// What `rung` would need from a 16:9 landscape source at `frame_rate_cap` (the fastest and,
/// for its short side, the most common case), when its level does not give it that: the
/// message of a `rungs[i].level` warning.
pub fn rung_warning(rung: &Rung, frame_rate_cap: f64) -> Option<String> {
    let profile = Profile::parse(&rung.profile)?;
    let stream = Stream {
        width: vodpipe_ladder_math::even_round(f64::from(rung.short_side) * 16.0 / 9.0),
        height: rung.short_side,
        frame_rate: frame_rate_cap,
        max_bitrate: rung.max_bitrate,
        profile,
    };
    match h264::choose(&rung.level, &stream) {
        Ok(Choice::Raised { requested, to }) => Some(format!(
            "level {requested} is too low for a 16:9 source at the frame_rate_cap ({stream}): plans raise it \
             to {to}; \"auto\" picks the lowest conformant level for each video"
        )),
        Ok(Choice::Auto(_) | Choice::AsRequested(_)) => None,
        Err(why) => Some(format!("for a 16:9 source at the frame_rate_cap, {why}")),
    }
}

/// Levels in `plan` that a person should know about, one sentence each: a rung's level that
/// the planner raised (the plan's level is above the one its rung of `preset` asks for), and a
/// level that is too low for its rendition (a planner that does not raise levels).
pub fn plan_warnings(preset: &LadderPreset, plan: &Plan) -> Vec<String> {
    plan.renditions
        .iter()
        .filter_map(|rendition| rendition_warning(preset, rendition))
        .collect()
}

fn rendition_warning(preset: &LadderPreset, rendition: &Rendition) -> Option<String> {
    // "auto" in a plan leaves the level to the encoder; an unknown profile or level is
    // refused by the plan check before this is asked.
    let planned = Level::parse(&rendition.level)?;
    let stream = Stream {
        width: rendition.width,
        height: rendition.height,
        frame_rate: rendition.frame_rate_cap,
        max_bitrate: rendition.max_bitrate,
        profile: Profile::parse(&rendition.profile)?,
    };
    let name = &rendition.name;
    if !h264::conforms(planned, &stream) {
        let needed = h264::lowest_conformant(&stream).map_or_else(|| "more than 6.2".to_owned(), |l| l.to_string());
        return Some(format!(
            "rendition `{name}`: level {planned} is too low for {stream} (it needs {needed}): players may refuse \
             or stutter on it"
        ));
    }
    let requested = preset
        .rungs
        .iter()
        .find(|rung| rung.name == *name)
        .and_then(|rung| Level::parse(&rung.level))?;
    (planned > requested).then(|| {
        format!("rendition `{name}`: the preset's level {requested} is too low for {stream}; raised to {planned}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rung(name: &str, short_side: u32, max_kbps: u64, profile: &str, level: &str) -> Rung {
        Rung {
            bit_depth: 8,
            codec: vodpipe_core::VideoCodec::H264,
            name: name.into(),
            short_side,
            video_bitrate: max_kbps * 1000 * 2 / 3,
            max_bitrate: max_kbps * 1000,
            profile: profile.into(),
            level: level.into(),
            audio_bitrate: 128_000,
        }
    }

    #[test]
    fn a_rung_too_low_for_the_cap_is_named_with_the_level_it_gets() {
        let warning = rung_warning(&rung("480p", 480, 2100, "main", "3.0"), 30.0).unwrap();
        assert_eq!(
            warning,
            "level 3.0 is too low for a 16:9 source at the frame_rate_cap (854x480 at 30 fps, max 2100 kb/s, \
             main profile): plans raise it to 3.1; \"auto\" picks the lowest conformant level for each video"
        );
        assert_eq!(rung_warning(&rung("480p", 480, 2100, "main", "3.1"), 60.0), None);
        assert_eq!(rung_warning(&rung("480p", 480, 2100, "main", "auto"), 60.0), None);
        assert!(
            rung_warning(&rung("720p", 720, 4500, "high", "3.1"), 60.0)
                .unwrap()
                .contains("plans raise it to 3.2")
        );
    }

    #[test]
    fn a_rung_no_plan_level_can_carry_at_the_cap_is_named_even_when_auto() {
        let warning = rung_warning(&rung("2160p", 2160, 24_000, "high", "auto"), 120.0).unwrap();
        assert!(
            warning.starts_with(
                "for a 16:9 source at the frame_rate_cap, 3840x2160 at 120 fps, max 24000 kb/s, high profile needs \
                 H.264 level 6.0; plans stop at 5.2"
            ),
            "{warning}"
        );
    }

    fn rendition(name: &str, (width, height): (u32, u32), fps: f64, max_kbps: u64, level: &str) -> Rendition {
        Rendition {
            bit_depth: 8,
            codec: vodpipe_core::VideoCodec::H264,
            name: name.into(),
            width,
            height,
            video_bitrate: max_kbps * 1000 * 2 / 3,
            max_bitrate: max_kbps * 1000,
            quality_level: None,
            profile: "main".into(),
            level: level.into(),
            frame_rate_cap: fps,
            audio_bitrate: Some(96_000),
        }
    }

    fn preset(rungs: Vec<Rung>) -> LadderPreset {
        LadderPreset {
            packaging: vodpipe_core::Packaging::Ts,
            name: "test".into(),
            description: String::new(),
            segment_seconds: 6,
            frame_rate_cap: 60.0,
            allow_upscale: false,
            thumbnail_at_seconds: None,
            thumbnail_width: 640,
            rungs,
            analyse_content: false,
            planner: None,
            plugin_config: serde_json::json!({}),
        }
    }

    fn plan(renditions: Vec<Rendition>) -> Plan {
        Plan {
            packaging: vodpipe_core::Packaging::Ts,
            renditions,
            segment_seconds: 6,
            thumbnail: None,
        }
    }

    #[test]
    fn a_raised_level_and_a_level_too_low_are_both_told() {
        let preset = preset(vec![
            rung("480p", 480, 2100, "main", "3.0"),
            rung("360p", 360, 1200, "main", "3"),
            rung("240p", 240, 600, "main", "auto"),
        ]);
        let plan = plan(vec![
            // Raised by the planner, as the shipped ones do.
            rendition("480p", (854, 480), 60.0, 2100, "3.1"),
            // Kept by a planner that does not raise: not conformant at 60 fps.
            rendition("360p", (640, 360), 60.0, 1200, "3.0"),
            // Chosen by the planner from "auto".
            rendition("240p", (426, 240), 60.0, 600, "3.0"),
        ]);
        assert_eq!(
            plan_warnings(&preset, &plan),
            [
                "rendition `480p`: the preset's level 3.0 is too low for 854x480 at 60 fps, max 2100 kb/s, main \
                 profile; raised to 3.1",
                "rendition `360p`: level 3.0 is too low for 640x360 at 60 fps, max 1200 kb/s, main profile (it needs \
                 3.1): players may refuse or stutter on it",
            ]
        );
    }

    #[test]
    fn a_plan_true_to_its_preset_has_nothing_to_tell() {
        let preset = preset(vec![
            rung("720p", 720, 4500, "main", "4.0"),
            rung("480p", 480, 2100, "main", "auto"),
        ]);
        let plan = plan(vec![
            rendition("720p", (1280, 720), 60.0, 4500, "4.0"),
            rendition("480p", (854, 480), 60.0, 2100, "3.1"),
            // The encoder's choice, and a rendition of no rung (a tiny source's own size).
            rendition("98p", (176, 98), 60.0, 100, "auto"),
            rendition("96p", (170, 96), 30.0, 100, "1.2"),
        ]);
        assert!(plan_warnings(&preset, &plan).is_empty());
    }
}
