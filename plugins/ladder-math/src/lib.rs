//! Ladder rules: which rungs a source gets and at what size.
//!
//! - Rungs are short sides: 720 is 1280x720 for landscape and 720x1280 for portrait.
//! - No upscaling unless the preset allows it: a rung taller than the source is skipped.
//! - A source smaller than every rung gets one rendition at its own (even) size.
//! - Sizes keep the source's aspect ratio and are even, as H.264 4:2:0 needs.

#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// Display size, rotation already applied.
    pub width: u32,
    pub height: u32,
    pub frame_rate: f64,
    pub duration_ms: u64,
    pub has_audio: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rung {
    pub name: String,
    pub short_side: u32,
    pub video_bitrate: u64,
    pub max_bitrate: u64,
    pub profile: String,
    pub level: String,
    pub audio_bitrate: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ladder {
    pub rungs: Vec<Rung>,
    pub allow_upscale: bool,
    pub frame_rate_cap: f64,
    pub segment_seconds: u32,
    pub thumbnail_at_seconds: Option<f64>,
    pub thumbnail_width: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rendition {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub video_bitrate: u64,
    pub max_bitrate: u64,
    pub profile: String,
    pub level: String,
    pub frame_rate_cap: f64,
    pub audio_bitrate: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Thumbnail {
    pub at_seconds: f64,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub renditions: Vec<Rendition>,
    pub segment_seconds: u32,
    pub thumbnail: Option<Thumbnail>,
}

/// Bitrates stay in this range, whatever a factor or a tiny source asks for (the host
/// refuses plans outside 50 kb/s..=60 Mb/s).
pub const MIN_VIDEO_BITRATE: u64 = 64_000;
pub const MAX_VIDEO_BITRATE: u64 = 60_000_000;

/// Plans `source` on `ladder`, multiplying every video bitrate by `bitrate_factor`
/// (1.0 for the plain table; per-title planners pass their own).
pub fn plan(source: &Source, ladder: &Ladder, bitrate_factor: f64) -> Result<Plan, String> {
    if source.width < 2 || source.height < 2 {
        return Err(format!(
            "the source has no usable picture size ({}x{})",
            source.width, source.height
        ));
    }
    if ladder.rungs.is_empty() {
        return Err("the ladder has no rungs".into());
    }
    let source_short = source.width.min(source.height);
    let mut rungs: Vec<&Rung> = ladder.rungs.iter().collect();
    rungs.sort_by(|a, b| b.short_side.cmp(&a.short_side));

    let frame_rate_cap = if source.frame_rate > 0.0 {
        source.frame_rate.min(ladder.frame_rate_cap)
    } else {
        ladder.frame_rate_cap
    };
    let audio = |rung: &Rung| source.has_audio.then_some(rung.audio_bitrate);
    let scaled =
        |bitrate: u64, factor: f64| ((bitrate as f64 * factor) as u64).clamp(MIN_VIDEO_BITRATE, MAX_VIDEO_BITRATE);

    let mut renditions: Vec<Rendition> = rungs
        .iter()
        .filter(|r| ladder.allow_upscale || r.short_side <= source_short)
        .map(|r| {
            let (width, height) = fit(source, r.short_side);
            Rendition {
                name: r.name.clone(),
                width,
                height,
                video_bitrate: scaled(r.video_bitrate, bitrate_factor),
                max_bitrate: scaled(r.max_bitrate, bitrate_factor),
                profile: r.profile.clone(),
                level: r.level.clone(),
                frame_rate_cap,
                audio_bitrate: audio(r),
            }
        })
        .collect();

    if renditions.is_empty() {
        // Smaller than the smallest rung: one rendition at the source's own size, with the
        // smallest rung's bitrates scaled down by pixel count.
        let smallest = rungs[rungs.len() - 1];
        let short = even_floor(source_short);
        let (width, height) = fit(source, short);
        let pixels = (short as f64 / smallest.short_side as f64).powi(2);
        renditions.push(Rendition {
            name: format!("{short}p"),
            width,
            height,
            video_bitrate: scaled(smallest.video_bitrate, pixels * bitrate_factor),
            max_bitrate: scaled(smallest.max_bitrate, pixels * bitrate_factor),
            profile: smallest.profile.clone(),
            level: smallest.level.clone(),
            frame_rate_cap,
            audio_bitrate: audio(smallest),
        });
    }

    let thumbnail = ladder.thumbnail_at_seconds.map(|at| {
        let duration = source.duration_ms as f64 / 1000.0;
        // A thumbnail past the end would capture nothing: take the middle of short videos.
        let at_seconds = if duration > 0.0 && at >= duration {
            duration / 2.0
        } else {
            at
        };
        let width = even_floor(ladder.thumbnail_width.min(source.width));
        let height = even_round(width as f64 * source.height as f64 / source.width as f64);
        Thumbnail {
            at_seconds,
            width,
            height,
        }
    });

    Ok(Plan {
        renditions,
        segment_seconds: ladder.segment_seconds,
        thumbnail,
    })
}

/// The size with `short_side` as the short side, keeping the source's aspect ratio.
fn fit(source: &Source, short_side: u32) -> (u32, u32) {
    let (short, long) = if source.width >= source.height {
        (source.height, source.width)
    } else {
        (source.width, source.height)
    };
    let scaled_long = even_round(short_side as f64 * long as f64 / short as f64);
    let short_side = even_round(short_side as f64);
    if source.width >= source.height {
        (scaled_long, short_side)
    } else {
        (short_side, scaled_long)
    }
}

/// Nearest even integer, at least 2.
pub fn even_round(x: f64) -> u32 {
    (((x / 2.0).round() as u32) * 2).max(2)
}

fn even_floor(x: u32) -> u32 {
    (x & !1).max(2)
}

/// Conversions between the planner world's types and these rules' own.
#[cfg(feature = "sdk")]
pub mod sdk {
    use vodpipe_plugin_sdk::planner::{Plan, Preset, Probe, Rendition, Thumbnail};

    pub fn source(probe: &Probe) -> crate::Source {
        let (width, height) = probe.display_size();
        crate::Source {
            width,
            height,
            frame_rate: probe.frame_rate,
            duration_ms: probe.duration_ms,
            has_audio: probe.has_audio,
        }
    }

    pub fn ladder(preset: Preset) -> crate::Ladder {
        crate::Ladder {
            rungs: preset
                .rungs
                .into_iter()
                .map(|r| crate::Rung {
                    name: r.name,
                    short_side: r.short_side,
                    video_bitrate: r.video_bitrate,
                    max_bitrate: r.max_bitrate,
                    profile: r.profile,
                    level: r.level,
                    audio_bitrate: r.audio_bitrate,
                })
                .collect(),
            allow_upscale: preset.allow_upscale,
            frame_rate_cap: preset.frame_rate_cap,
            segment_seconds: preset.segment_seconds,
            thumbnail_at_seconds: preset.thumbnail_at_seconds,
            thumbnail_width: preset.thumbnail_width,
        }
    }

    pub fn plan_out(plan: crate::Plan) -> Plan {
        Plan {
            renditions: plan
                .renditions
                .into_iter()
                .map(|r| Rendition {
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
            segment_seconds: plan.segment_seconds,
            thumbnail: plan.thumbnail.map(|t| Thumbnail {
                at_seconds: t.at_seconds,
                width: t.width,
                height: t.height,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rung(short_side: u32, kbps: u64) -> Rung {
        Rung {
            name: format!("{short_side}p"),
            short_side,
            video_bitrate: kbps * 1000,
            max_bitrate: kbps * 1500,
            profile: "main".into(),
            level: "3.1".into(),
            audio_bitrate: 128_000,
        }
    }

    fn ladder() -> Ladder {
        Ladder {
            rungs: [1080, 720, 480, 360, 240]
                .iter()
                .map(|s| rung(*s, *s as u64 * 4))
                .collect(),
            allow_upscale: false,
            frame_rate_cap: 30.0,
            segment_seconds: 6,
            thumbnail_at_seconds: Some(1.0),
            thumbnail_width: 640,
        }
    }

    fn source(width: u32, height: u32) -> Source {
        Source {
            width,
            height,
            frame_rate: 30.0,
            duration_ms: 10_000,
            has_audio: true,
        }
    }

    fn sizes(plan: &Plan) -> Vec<(u32, u32)> {
        plan.renditions.iter().map(|r| (r.width, r.height)).collect()
    }

    #[test]
    fn landscape_720p_gets_four_rungs_without_upscaling() {
        let plan = plan(&source(1280, 720), &ladder(), 1.0).unwrap();
        assert_eq!(sizes(&plan), [(1280, 720), (854, 480), (640, 360), (426, 240)]);
    }

    #[test]
    fn source_of_370_lines_gets_360_and_240() {
        let plan = plan(&source(658, 370), &ladder(), 1.0).unwrap();
        assert_eq!(sizes(&plan), [(640, 360), (426, 240)]);
    }

    #[test]
    fn portrait_uses_the_short_side() {
        let plan = plan(&source(720, 1280), &ladder(), 1.0).unwrap();
        assert_eq!(sizes(&plan), [(720, 1280), (480, 854), (360, 640), (240, 426)]);
    }

    #[test]
    fn tiny_source_gets_one_rendition_at_its_own_even_size() {
        let plan = plan(&source(177, 99), &ladder(), 1.0).unwrap();
        assert_eq!(sizes(&plan), [(176, 98)]);
        assert!(plan.renditions[0].video_bitrate >= MIN_VIDEO_BITRATE);
    }

    #[test]
    fn factor_shifts_bitrates_and_silent_sources_get_no_audio() {
        let mut silent = source(1920, 1080);
        silent.has_audio = false;
        let plain = plan(&silent, &ladder(), 1.0).unwrap();
        let shifted = plan(&silent, &ladder(), 0.5).unwrap();
        assert_eq!(
            shifted.renditions[0].video_bitrate * 2,
            plain.renditions[0].video_bitrate
        );
        assert!(plain.renditions.iter().all(|r| r.audio_bitrate.is_none()));
    }

    #[test]
    fn thumbnail_past_the_end_moves_to_the_middle() {
        let mut short = source(1280, 720);
        short.duration_ms = 800;
        let plan = plan(&short, &ladder(), 1.0).unwrap();
        let thumb = plan.thumbnail.unwrap();
        assert_eq!((thumb.at_seconds, thumb.width, thumb.height), (0.4, 640, 360));
    }

    #[test]
    fn zero_sized_source_is_refused() {
        assert!(plan(&source(0, 0), &ladder(), 1.0).unwrap_err().contains("0x0"));
    }
}
