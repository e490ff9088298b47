//! Ladder rules: which rungs a source gets and at what size.
//!
//! - Rungs are short sides: 720 is 1280x720 for landscape and 720x1280 for portrait.
//! - No upscaling unless the preset allows it: a rung taller than the source is skipped.
//! - A source smaller than every rung gets one rendition at its own (even) size.
//! - Sizes keep the source's aspect ratio and are even, as H.264 4:2:0 needs.
//! - Every rendition's H.264 level conforms to its size, frame rate and max bitrate
//!   ([`h264`]): `"auto"` is the lowest such level, a level too low is raised.
//! - A thumbnail time the clip does not outlast by more than a frame moves to its middle.

/// H.264 levels live with the job document, which names them; planners choose them.
pub use vodpipe_job_document::h264;

pub mod content_aware;

#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// Display size, rotation already applied.
    pub width: u32,
    pub height: u32,
    pub frame_rate: f64,
    pub duration_ms: u64,
    pub has_audio: bool,
}

/// A rung's video codec: H.264 (its profile and level are the rung's), or HEVC or AV1 at a
/// bit depth (their encoders choose profile and level).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Codec {
    #[default]
    H264,
    Hevc {
        bit_depth: u8,
    },
    Av1 {
        bit_depth: u8,
    },
}

impl Codec {
    /// `h264`, `hevc` or `av1`.
    pub fn name(self) -> &'static str {
        match self {
            Self::H264 => "h264",
            Self::Hevc { .. } => "hevc",
            Self::Av1 { .. } => "av1",
        }
    }
}

/// How the plan is packaged: the preset's, passed on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Packaging {
    #[default]
    Ts,
    Cmaf,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rung {
    pub name: String,
    pub short_side: u32,
    pub video_bitrate: u64,
    pub max_bitrate: u64,
    pub codec: Codec,
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
    pub packaging: Packaging,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rendition {
    pub name: String,
    pub width: u32,
    pub height: u32,
    /// The average (VBR), or with `quality_level` the average that quality is expected to cost.
    pub video_bitrate: u64,
    pub max_bitrate: u64,
    /// Constant quality under `max_bitrate` (QVBR, 1 to 10 in thirds) instead of an average.
    pub quality_level: Option<f64>,
    pub codec: Codec,
    /// H.264's; `main` and `auto` for the other codecs.
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
    pub packaging: Packaging,
    /// What the rules changed from the preset and why (a level raised), for the planner's log.
    pub notes: Vec<String>,
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
    rungs.sort_by_key(|r| std::cmp::Reverse(r.short_side));

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
                quality_level: None,
                codec: r.codec,
                profile: r.profile.clone(),
                level: r.level.clone(),
                frame_rate_cap,
                audio_bitrate: audio(r),
            }
        })
        .collect();

    if renditions.is_empty() {
        // Smaller than the smallest rung: one rendition at the source's own size, with the
        // smallest rung's bitrates scaled down by pixel count; in a ladder of several codecs,
        // one of each (named `240p`, `240p-av1`).
        let short = even_floor(source_short);
        let (width, height) = fit(source, short);
        let one_codec = rungs.iter().all(|r| r.codec == rungs[0].codec);
        let mut codecs: Vec<Codec> = Vec::new();
        for smallest in rungs.iter().rev() {
            if codecs.contains(&smallest.codec) {
                continue;
            }
            let name = match smallest.codec {
                Codec::H264 => format!("{short}p"),
                _ if one_codec => format!("{short}p"),
                codec => format!("{short}p-{}", codec.name()),
            };
            codecs.push(smallest.codec);
            let pixels = (short as f64 / smallest.short_side as f64).powi(2);
            renditions.push(Rendition {
                name,
                width,
                height,
                video_bitrate: scaled(smallest.video_bitrate, pixels * bitrate_factor),
                max_bitrate: scaled(smallest.max_bitrate, pixels * bitrate_factor),
                quality_level: None,
                codec: smallest.codec,
                profile: smallest.profile.clone(),
                level: smallest.level.clone(),
                frame_rate_cap,
                audio_bitrate: audio(smallest),
            });
        }
    }

    let mut notes = Vec::new();
    for r in renditions.iter_mut().filter(|r| r.codec == Codec::H264) {
        r.level = level(r, &mut notes)?;
    }

    let thumbnail = ladder.thumbnail_at_seconds.map(|at| {
        let frame_seconds = 1.0
            / if source.frame_rate > 0.0 {
                source.frame_rate
            } else {
                ladder.frame_rate_cap
            };
        let at_seconds = thumbnail_time(at, source.duration_ms, frame_seconds);
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
        packaging: ladder.packaging,
        notes,
    })
}

/// The H.264 level `rendition` gets for the one its rung asks for (see [`h264::choose`]),
/// written as a plan writes levels (`3.1`, `4.0`).
fn level(rendition: &Rendition, notes: &mut Vec<String>) -> Result<String, String> {
    let profile = h264::Profile::parse(&rendition.profile).ok_or_else(|| {
        format!(
            "rendition `{}`: `{}` is not an H.264 profile (baseline, main, high)",
            rendition.name, rendition.profile
        )
    })?;
    let stream = h264::Stream {
        width: rendition.width,
        height: rendition.height,
        frame_rate: rendition.frame_rate_cap,
        max_bitrate: rendition.max_bitrate,
        profile,
    };
    let choice =
        h264::choose(&rendition.level, &stream).map_err(|why| format!("rendition `{}`: {why}", rendition.name))?;
    if let h264::Choice::Raised { requested, to } = choice {
        notes.push(format!(
            "rendition `{}`: level {requested} is too low for {stream}; raised to {to}",
            rendition.name
        ));
    }
    Ok(choice.level().to_string())
}

/// When to take the thumbnail: at `at` seconds, unless the clip (`duration_ms`, 0 when
/// unknown) does not outlast `at` by more than one frame. Then no frame may start at or after
/// `at` (a 2.0 s clip at 25 fps ends with the frame at 1.96 s), so the thumbnail is the frame
/// in the middle of the clip, taken half a frame before that frame starts: whether a capture
/// takes the first frame at or after its time (ffmpeg) or the frame shown at it, it gets a
/// frame of the clip, and a one-frame clip gets its frame at 0.
fn thumbnail_time(at: f64, duration_ms: u64, frame_seconds: f64) -> f64 {
    let duration = duration_ms as f64 / 1000.0;
    // Durations are whole milliseconds: half of one is rounding, not time.
    if duration_ms == 0 || duration > at + frame_seconds + 0.0005 {
        return at;
    }
    // The nudge keeps a middle that falls on a frame's start (1.001 s at 23.976 fps) on that
    // frame, however the division rounds.
    let middle_frame = (duration / 2.0 / frame_seconds + 1e-9).floor();
    // Whole milliseconds, as a job document states times; half a frame is wider than that.
    let seconds = ((middle_frame - 0.5).max(0.0) * frame_seconds * 1000.0).round() / 1000.0;
    seconds.min(at)
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

/// Caps every rendition's bitrates at what the source spends on its own picture, scaled to
/// the rendition's size as bits scale with pixels (about their 3/4 power, between the
/// default ladder's own steps): a source already compressed at few bits gains no quality
/// from more, only size. The peak keeps its ratio to the average; nothing goes below
/// [`MIN_VIDEO_BITRATE`]. Says which renditions it lowered, for the planner's log.
pub fn cap_to_source(plan: &mut Plan, source: &Source, source_bitrate: u64) -> Vec<String> {
    let source_pixels = f64::from(source.width) * f64::from(source.height);
    if source_bitrate == 0 || source_pixels <= 0.0 {
        return Vec::new();
    }
    let mut notes = Vec::new();
    for rendition in &mut plan.renditions {
        let pixels = f64::from(rendition.width) * f64::from(rendition.height);
        let scale = (pixels / source_pixels).powf(SOURCE_CAP_EXPONENT).min(1.0);
        let cap = ((source_bitrate as f64 * scale) as u64).max(MIN_VIDEO_BITRATE);
        if rendition.video_bitrate > cap {
            let ratio = rendition.max_bitrate as f64 / rendition.video_bitrate as f64;
            notes.push(format!(
                "rendition `{}`: {} kb/s capped at {} kb/s, what the source spends on that many pixels",
                rendition.name,
                rendition.video_bitrate / 1000,
                cap / 1000
            ));
            rendition.video_bitrate = cap;
            rendition.max_bitrate = ((cap as f64 * ratio) as u64).max(cap);
        }
    }
    notes
}

/// Bits grow about as this power of the pixels: see [`cap_to_source`].
const SOURCE_CAP_EXPONENT: f64 = 0.75;

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
    use vodpipe_plugin_sdk::planner::{
        BitDepth, H264Format, Level, Packaging, Plan, Preset, Probe, Profile, QvbrRate, RateControl, Rendition,
        Thumbnail, VbrRate, VideoCodec,
    };

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

    /// The preset's rungs; a rung's rate is its average and peak whichever the mode (presets
    /// write VBR rungs).
    pub fn ladder(preset: Preset) -> crate::Ladder {
        crate::Ladder {
            rungs: preset
                .rungs
                .into_iter()
                .map(|r| {
                    let (codec, profile, level) = match r.codec {
                        VideoCodec::H264(h264) => (crate::Codec::H264, h264.profile.name(), h264.level.name()),
                        VideoCodec::Hevc(depth) => (
                            crate::Codec::Hevc {
                                bit_depth: depth.bits() as u8,
                            },
                            "main",
                            "auto",
                        ),
                        VideoCodec::Av1(depth) => (
                            crate::Codec::Av1 {
                                bit_depth: depth.bits() as u8,
                            },
                            "main",
                            "auto",
                        ),
                    };
                    crate::Rung {
                        name: r.name,
                        short_side: r.short_side,
                        video_bitrate: r.rate.average_bitrate(),
                        max_bitrate: r.rate.max_bitrate(),
                        codec,
                        profile: profile.to_owned(),
                        level: level.to_owned(),
                        audio_bitrate: r.audio_bitrate,
                    }
                })
                .collect(),
            allow_upscale: preset.allow_upscale,
            frame_rate_cap: preset.frame_rate_cap,
            segment_seconds: preset.segment_seconds,
            thumbnail_at_seconds: preset.thumbnail_at_seconds,
            thumbnail_width: preset.thumbnail_width,
            packaging: match preset.packaging {
                Packaging::Ts => crate::Packaging::Ts,
                Packaging::Cmaf => crate::Packaging::Cmaf,
            },
        }
    }

    /// The plan in the planner world's types. Its notes (a level raised) go to the host's log
    /// at `info`: `vodpipe plan` and `vodpipe policy check` show them to people as warnings.
    pub fn plan_out(plan: crate::Plan) -> Plan {
        for note in &plan.notes {
            vodpipe_plugin_sdk::log::info(note);
        }
        Plan {
            renditions: plan
                .renditions
                .into_iter()
                .map(|r| Rendition {
                    name: r.name,
                    width: r.width,
                    height: r.height,
                    rate: match r.quality_level {
                        None => RateControl::Vbr(VbrRate {
                            bitrate: r.video_bitrate,
                            max_bitrate: r.max_bitrate,
                        }),
                        Some(quality_level) => RateControl::Qvbr(QvbrRate {
                            quality_level,
                            max_bitrate: r.max_bitrate,
                            expected_bitrate: r.video_bitrate,
                        }),
                    },
                    codec: match r.codec {
                        // The rules only write names they read from the preset or the level table.
                        crate::Codec::H264 => VideoCodec::H264(H264Format {
                            profile: Profile::parse(&r.profile).unwrap_or(Profile::High),
                            level: Level::parse(&r.level).unwrap_or(Level::Auto),
                        }),
                        crate::Codec::Hevc { bit_depth } => VideoCodec::Hevc(depth(bit_depth)),
                        crate::Codec::Av1 { bit_depth } => VideoCodec::Av1(depth(bit_depth)),
                    },
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
            packaging: match plan.packaging {
                crate::Packaging::Ts => Packaging::Ts,
                crate::Packaging::Cmaf => Packaging::Cmaf,
            },
        }
    }

    fn depth(bits: u8) -> BitDepth {
        if bits == 10 { BitDepth::Ten } else { BitDepth::Eight }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_low_bitrate_source_never_gets_a_rung_above_what_it_has() {
        let source = super::Source {
            width: 1280,
            height: 720,
            frame_rate: 30.0,
            duration_ms: 10_000,
            has_audio: false,
        };
        let mut plan = super::Plan {
            packaging: super::Packaging::Ts,
            renditions: [
                ("720p", 1280, 720, 3_000_000),
                ("360p", 640, 360, 800_000),
                ("tiny", 64, 36, 64_000),
            ]
            .map(|(name, width, height, bitrate)| super::Rendition {
                codec: super::Codec::H264,
                name: name.into(),
                width,
                height,
                video_bitrate: bitrate,
                max_bitrate: bitrate * 3 / 2,
                quality_level: None,
                profile: "main".into(),
                level: "auto".into(),
                frame_rate_cap: 30.0,
                audio_bitrate: None,
            })
            .to_vec(),
            segment_seconds: 6,
            thumbnail: None,
            notes: Vec::new(),
        };
        let notes = super::cap_to_source(&mut plan, &source, 1_200_000);
        let rates: Vec<(u64, u64)> = plan
            .renditions
            .iter()
            .map(|r| (r.video_bitrate, r.max_bitrate))
            .collect();
        // 720p: the source's own 1.2 Mb/s; 360p: a quarter of the pixels, 1.2 M x 0.25^0.75.
        assert_eq!(rates, [(1_200_000, 1_800_000), (424_264, 636_396), (64_000, 96_000)]);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].contains("`720p`: 3000 kb/s capped at 1200 kb/s"), "{notes:?}");
        // A source that spends more than the ladder keeps the ladder's figures.
        let before = plan.clone();
        assert!(super::cap_to_source(&mut plan, &source, 50_000_000).is_empty());
        assert_eq!(plan, before);
        assert!(
            super::cap_to_source(&mut plan, &source, 0).is_empty(),
            "an unknown bitrate caps nothing"
        );
    }

    use super::*;

    fn rung(short_side: u32, kbps: u64) -> Rung {
        Rung {
            codec: Codec::H264,
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
            packaging: Packaging::Ts,
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
    fn a_ladder_of_two_codecs_plans_each_and_chooses_levels_for_h264_only() {
        let mut ladder = ladder();
        ladder.packaging = Packaging::Cmaf;
        for side in [720, 360] {
            let mut av1 = rung(side, side as u64 * 2);
            (av1.name, av1.codec, av1.profile, av1.level) = (
                format!("{side}p-av1"),
                Codec::Av1 { bit_depth: 10 },
                "main".into(),
                "auto".into(),
            );
            ladder.rungs.push(av1);
        }
        let plan = plan(&source(1280, 720), &ladder, 1.0).unwrap();
        assert_eq!(plan.packaging, Packaging::Cmaf);
        let av1: Vec<(&str, &str)> = plan
            .renditions
            .iter()
            .filter(|r| r.codec == Codec::Av1 { bit_depth: 10 })
            .map(|r| (r.name.as_str(), r.level.as_str()))
            .collect();
        assert_eq!(av1, [("720p-av1", "auto"), ("360p-av1", "auto")]);
        assert!(plan.notes.iter().all(|note| !note.contains("av1")), "{:?}", plan.notes);
        assert_eq!(
            plan.renditions.iter().filter(|r| r.codec == Codec::H264).count(),
            4,
            "720p down to 240p in H.264"
        );

        // A source smaller than every rung gets one rendition of each codec.
        let tiny = super::plan(&source(160, 90), &ladder, 1.0).unwrap();
        let names: Vec<(&str, Codec)> = tiny.renditions.iter().map(|r| (r.name.as_str(), r.codec)).collect();
        assert_eq!(names, [("90p", Codec::H264), ("90p-av1", Codec::Av1 { bit_depth: 10 })]);
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

    fn thumbnail_at(duration_ms: u64, frame_rate: f64) -> f64 {
        let mut clip = source(1280, 720);
        clip.duration_ms = duration_ms;
        clip.frame_rate = frame_rate;
        let mut ladder = ladder();
        ladder.thumbnail_at_seconds = Some(2.0);
        plan(&clip, &ladder, 1.0).unwrap().thumbnail.unwrap().at_seconds
    }

    #[test]
    fn a_thumbnail_time_the_clip_does_not_outlast_by_a_frame_moves_to_the_middle() {
        // 2.0 s at 25 fps: the last frame starts at 1.96 s. The middle frame (25th, at 1.0 s),
        // half a frame early.
        assert_eq!(thumbnail_at(2000, 25.0), 0.98);
        // At 23.976 fps, 48 frames last 2.002 s; the 24th starts at 1.001 s.
        assert_eq!(thumbnail_at(2002, 24_000.0 / 1001.0), 0.98);
        // One frame past 2.0 s (51 frames at 25 fps) still moves; two frames past do not.
        assert_eq!(thumbnail_at(2040, 25.0), 0.98);
        assert_eq!(thumbnail_at(2080, 25.0), 2.0);
        // Shorter than the thumbnail time, as before.
        assert_eq!(thumbnail_at(800, 25.0), 0.38);
        // A one-frame clip: its frame, at 0.
        assert_eq!(thumbnail_at(33, 30.0), 0.0);
        // Long clips and clips of unknown length keep the preset's time.
        assert_eq!(thumbnail_at(60_000, 25.0), 2.0);
        assert_eq!(thumbnail_at(0, 25.0), 2.0);
        // An unknown frame rate counts frames at the preset's cap (30 here).
        assert_eq!(thumbnail_at(2030, 0.0), 0.983);
    }

    #[test]
    fn the_thumbnail_keeps_its_size_when_it_moves() {
        let mut short = source(1280, 720);
        short.duration_ms = 800;
        let thumb = plan(&short, &ladder(), 1.0).unwrap().thumbnail.unwrap();
        assert_eq!((thumb.width, thumb.height), (640, 360));
    }

    fn levels(plan: &Plan) -> Vec<&str> {
        plan.renditions.iter().map(|r| r.level.as_str()).collect()
    }

    #[test]
    fn auto_levels_follow_size_frame_rate_and_bitrate() {
        let mut ladder = ladder();
        for rung in &mut ladder.rungs {
            rung.level = "auto".into();
        }
        let mut hd = source(1920, 1080);
        assert_eq!(
            levels(&plan(&hd, &ladder, 1.0).unwrap()),
            ["4.0", "3.1", "3.1", "3.0", "2.1"]
        );
        // A 60 fps source under a 60 fps cap needs more; under a 30 fps cap it does not.
        hd.frame_rate = 60.0;
        ladder.frame_rate_cap = 60.0;
        let sixty = plan(&hd, &ladder, 1.0).unwrap();
        assert_eq!(levels(&sixty), ["4.2", "3.2", "3.1", "3.1", "3.0"]);
        assert!(sixty.notes.is_empty(), "{:?}", sixty.notes);
        ladder.frame_rate_cap = 30.0;
        assert_eq!(levels(&plan(&hd, &ladder, 1.0).unwrap())[0], "4.0");
        // An unknown source rate plans for the cap.
        hd.frame_rate = 0.0;
        ladder.frame_rate_cap = 60.0;
        assert_eq!(levels(&plan(&hd, &ladder, 1.0).unwrap())[0], "4.2");
        // A per-title factor that lifts the max bitrate lifts the level with it: 1080p's max
        // of 6480 kb/s times 4 is over 4.0's 20,000 kb/s in Main.
        hd.frame_rate = 30.0;
        assert_eq!(levels(&plan(&hd, &ladder, 4.0).unwrap())[0], "4.1");
    }

    #[test]
    fn a_level_too_low_is_raised_with_a_note_and_one_high_enough_is_kept() {
        let mut ladder = ladder();
        ladder.frame_rate_cap = 60.0;
        ladder.rungs[1].level = "4.1".into(); // 720p
        let mut hd = source(1920, 1080);
        hd.frame_rate = 60.0;
        let plan = plan(&hd, &ladder, 1.0).unwrap();
        // Every rung asked for 3.1: 1080p60 needs 4.2, 720p kept its 4.1, 240p60 fits 3.1.
        assert_eq!(levels(&plan), ["4.2", "4.1", "3.1", "3.1", "3.1"]);
        assert_eq!(
            plan.notes,
            [
                "rendition `1080p`: level 3.1 is too low for 1920x1080 at 60 fps, max 6480 kb/s, main profile; raised to 4.2"
            ]
        );
    }

    #[test]
    fn the_tiny_rendition_gets_a_level_for_its_own_size() {
        let mut ladder = ladder();
        for rung in &mut ladder.rungs {
            rung.level = "auto".into();
        }
        let plan = plan(&source(177, 99), &ladder, 1.0).unwrap();
        assert_eq!(levels(&plan), ["1.2"]);
    }

    #[test]
    fn a_rendition_no_plan_level_can_carry_fails_the_plan_with_its_name() {
        let mut ladder = ladder();
        ladder.frame_rate_cap = 120.0;
        ladder.rungs.push(Rung {
            level: "auto".into(),
            ..rung(2160, 16_000)
        });
        let mut uhd = source(3840, 2160);
        uhd.frame_rate = 120.0;
        let why = plan(&uhd, &ladder, 1.0).unwrap_err();
        assert!(
            why.starts_with(
                "rendition `2160p`: 3840x2160 at 120 fps, max 24000 kb/s, main profile needs H.264 level 6.0"
            ),
            "{why}"
        );
    }

    #[test]
    fn an_unknown_profile_is_refused_with_the_rendition() {
        let mut ladder = ladder();
        ladder.rungs[0].profile = "high10".into();
        let why = plan(&source(1920, 1080), &ladder, 1.0).unwrap_err();
        assert_eq!(
            why,
            "rendition `1080p`: `high10` is not an H.264 profile (baseline, main, high)"
        );
    }

    #[test]
    fn zero_sized_source_is_refused() {
        assert!(plan(&source(0, 0), &ladder(), 1.0).unwrap_err().contains("0x0"));
    }
}
