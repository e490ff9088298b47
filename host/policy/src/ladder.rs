//! Ladder presets: `ladders/<name>.toml`. Every key is described in docs/ladders.md.
//!
//! ```toml
//! schema = 1
//! name = "default"
//! description = "1080p down to 240p, never upscaled"
//! segment_seconds = 6
//! frame_rate_cap = 30
//! allow_upscale = false
//! analyse_content = false   # true: sample encodes measure the content before planning
//! planner = "ladder-content-aware"   # written for this planner (the bundle pins it)
//! packaging = "ts"    # or "cmaf": fragmented MP4 for HLS and DASH, the audio shared
//!
//! [thumbnail]
//! at_seconds = 2.0
//! width = 640
//!
//! [[rungs]]
//! name = "720p"
//! short_side = 720
//! video_kbps = 3000
//! max_kbps = 4500
//! codec = "h264"     # or "hevc", "av1" (packaging "cmaf" only)
//! profile = "main"    # h264 only
//! level = "auto"      # h264 only; or "3.1": raised when too low for a rendition
//! bit_depth = 8       # hevc and av1: 8 or 10
//! audio_kbps = 128
//!
//! [plugin]      # free-form, for the planner plugin
//! ```

use std::collections::HashMap;
use std::ops::Range;

use vodpipe_core::ladder::limits;
use vodpipe_core::{LadderPreset, Packaging, Rung, VideoCodec};

use crate::diag::Diagnostics;
use crate::fields::{Fields, Source, to_json};
use crate::levels;

/// The only ladder schema this host reads.
pub const LADDER_SCHEMA: i64 = 1;

/// Parses and checks a ladder preset. `file` is how positions name the file; when
/// `expected_name` is given, the preset's `name` must equal it (the file stem).
pub fn parse_ladder(file: &str, text: &str, expected_name: Option<&str>) -> Result<LadderPreset, Diagnostics> {
    check_ladder(file, text, expected_name).map(|checked| checked.preset)
}

/// A valid preset, and what in it is valid but likely not what its author meant.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedLadder {
    pub preset: LadderPreset,
    /// In file order: a rung whose level is too low for a 16:9 source at the preset's
    /// `frame_rate_cap` (plans raise it), or that no level a plan may name can carry.
    pub warnings: Diagnostics,
}

/// [`parse_ladder`], with the warnings of a valid preset.
pub fn check_ladder(file: &str, text: &str, expected_name: Option<&str>) -> Result<CheckedLadder, Diagnostics> {
    let mut src = Source::new(file, text);
    let preset = read(&mut src, expected_name);
    let diagnostics = std::mem::take(&mut src.diagnostics);
    match preset {
        Some(preset) if diagnostics.is_empty() => Ok(CheckedLadder {
            preset,
            warnings: std::mem::take(&mut src.warnings).sorted(),
        }),
        _ => Err(diagnostics.sorted()),
    }
}

fn read(src: &mut Source, expected_name: Option<&str>) -> Option<LadderPreset> {
    let doc = src.parse()?;
    let mut root = Fields::new(doc.as_table(), "", None);

    let schema = root.integer(src, "schema", true, LADDER_SCHEMA..=LADDER_SCHEMA, "");
    let name = root.string(src, "name", true);
    if let (Some((name, span)), Some(expected)) = (&name, expected_name)
        && name != expected
    {
        src.error(
            span.clone(),
            "name",
            format!("`{name}` must match the file name `{expected}`"),
        );
    }
    if let Some((name, span)) = &name
        && !vodpipe_core::plan::valid_name(name)
    {
        src.error(span.clone(), "name", "must be 1-32 letters, digits, '-' or '_'");
    }
    let description = root
        .string(src, "description", false)
        .map(|(d, _)| d)
        .unwrap_or_default();
    let segment_seconds = root.integer(
        src,
        "segment_seconds",
        true,
        limits::MIN_SEGMENT_SECONDS.into()..=limits::MAX_SEGMENT_SECONDS.into(),
        "s",
    );
    let frame_rate_cap = root
        .number(src, "frame_rate_cap", false, 1.0..=limits::MAX_FRAME_RATE)
        .or(Some(30.0));
    let allow_upscale = root.boolean(src, "allow_upscale", false);
    let analyse_content = root.boolean(src, "analyse_content", false);
    let planner = root.string(src, "planner", false);
    let packaging = match root.string(src, "packaging", false) {
        None => Some(Packaging::Ts),
        Some((name, span)) => {
            let packaging = Packaging::parse(&name);
            if packaging.is_none() {
                src.error(span, "packaging", format!("`{name}` is not one of ts, cmaf"));
            }
            packaging
        }
    };
    if let Some((planner, span)) = &planner
        && !vodpipe_core::plan::valid_name(planner)
    {
        src.error(
            span.clone(),
            "planner",
            "must be a plugin name: letters, digits, '-' or '_'",
        );
    }

    let (mut thumbnail_at_seconds, mut thumbnail_width) = (None, 640);
    if let Some(mut thumbnail) = root.table(src, "thumbnail", false) {
        thumbnail_at_seconds = thumbnail.number(src, "at_seconds", true, 0.0..=86_400.0);
        thumbnail_width = thumbnail.integer(src, "width", false, 64..=3840, "px").unwrap_or(640) as u32;
        if thumbnail_width % 2 != 0 {
            src.error(thumbnail.span(), "thumbnail.width", "must be even");
        }
        thumbnail.finish(src);
    }

    let rung_tables = root.tables(src, "rungs", true);
    if rung_tables.is_empty() && root.item(src, "rungs", false).is_some() {
        src.error(root.span(), "rungs", "a ladder needs at least one rung");
    }
    if rung_tables.len() > limits::MAX_RUNGS {
        src.error(
            None,
            "rungs",
            format!("{} rungs; at most {} are allowed", rung_tables.len(), limits::MAX_RUNGS),
        );
    }
    let mut rungs = Vec::new();
    let mut names: HashMap<String, usize> = HashMap::new();
    let mut sides: HashMap<(u32, VideoCodec), usize> = HashMap::new();
    for (i, mut table) in rung_tables.into_iter().enumerate() {
        let rung = read_rung(src, &mut table);
        let span = table.span();
        table.finish(src);
        let Some((rung, level_span, codec_span)) = rung else {
            continue;
        };
        let at = format!("rungs[{i}]");
        if packaging == Some(Packaging::Ts) && !rung.codec.in_ts() {
            src.error(
                codec_span.or(span.clone()),
                &format!("{at}.codec"),
                format!(
                    "{} is written in CMAF segments only: set `packaging = \"cmaf\"`",
                    rung.codec.name()
                ),
            );
        }
        if rung.codec == VideoCodec::H264
            && let Some(cap) = frame_rate_cap
            && let Some(warning) = levels::rung_warning(&rung, cap)
        {
            // An explicit level is pointed at; "auto", written or not, at its rung.
            src.warning(level_span.or(span.clone()), &format!("{at}.level"), warning);
        }
        if let Some(first) = names.insert(rung.name.clone(), i) {
            src.error(
                span.clone(),
                &format!("{at}.name"),
                format!("duplicate rung: `{}` is also rungs[{first}]", rung.name),
            );
        }
        // A multi-codec ladder has a rung of each codec at a size.
        if let Some(first) = sides.insert((rung.short_side, rung.codec), i) {
            src.error(
                span,
                &format!("{at}.short_side"),
                format!(
                    "duplicate rung: {} {} is also rungs[{first}]",
                    rung.codec.name(),
                    rung.short_side
                ),
            );
        }
        rungs.push(rung);
    }
    rungs.sort_by_key(|r| std::cmp::Reverse(r.short_side));

    let plugin_config = root.item(src, "plugin", false).map_or(serde_json::json!({}), to_json);
    if !plugin_config.is_object() {
        src.error(None, "plugin", "expected a table");
    }
    root.finish(src);

    schema?;
    Some(LadderPreset {
        name: name?.0,
        description,
        segment_seconds: segment_seconds? as u32,
        frame_rate_cap: frame_rate_cap?,
        allow_upscale,
        thumbnail_at_seconds,
        thumbnail_width,
        rungs,
        analyse_content,
        planner: planner.map(|(name, _)| name),
        packaging: packaging?,
        plugin_config,
    })
}

/// A rung, and where its `level` and its `codec` are written (none when left out).
type ReadRung = (Rung, Option<Range<usize>>, Option<Range<usize>>);

fn read_rung(src: &mut Source, t: &mut Fields) -> Option<ReadRung> {
    let kbps = |v: i64| v as u64 * 1000;
    let name = t.string(src, "name", true);
    if let Some((name, span)) = &name
        && !vodpipe_core::plan::valid_rendition_name(name)
    {
        let path = t.path("name");
        src.error(
            span.clone(),
            &path,
            "must be 1-32 letters, digits or '-' (it names HLS files)",
        );
    }
    let short_side = t.integer(
        src,
        "short_side",
        true,
        limits::MIN_SHORT_SIDE.into()..=limits::MAX_SHORT_SIDE.into(),
        "px",
    );
    if let Some(side) = short_side
        && side % 2 != 0
    {
        let path = t.path("short_side");
        src.error(t.span(), &path, format!("{side} is odd; sizes must be even"));
    }
    let video_range = (limits::MIN_VIDEO_BITRATE / 1000) as i64..=(limits::MAX_VIDEO_BITRATE / 1000) as i64;
    let video = t.integer(src, "video_kbps", true, video_range.clone(), " kbps");
    let max = t.integer(src, "max_kbps", false, video_range, " kbps");
    if let (Some(video), Some(max)) = (video, max)
        && max < video
    {
        let path = t.path("max_kbps");
        src.error(
            t.span(),
            &path,
            format!("{max} kbps is below video_kbps ({video} kbps)"),
        );
    }
    let codec_written = t.string(src, "codec", false);
    let codec = match &codec_written {
        None => Some(VideoCodec::H264),
        Some((name, span)) => {
            let codec = VideoCodec::parse(name);
            if codec.is_none() {
                let path = t.path("codec");
                src.error(span.clone(), &path, format!("`{name}` is not one of h264, hevc, av1"));
            }
            codec
        }
    };
    let bit_depth = t.integer(src, "bit_depth", false, 8..=10, " bits");
    if let (Some(codec), Some(depth)) = (codec, bit_depth)
        && !codec.bit_depths().contains(&(depth as u8))
    {
        let path = t.path("bit_depth");
        src.error(
            t.span(),
            &path,
            format!(
                "{} is encoded at {} bits, not {depth}",
                codec.name(),
                codec.bit_depths_text()
            ),
        );
    }
    let profile = t.string(src, "profile", false);
    if let Some((p, span)) = &profile
        && !limits::valid_profile(p)
    {
        let path = t.path("profile");
        src.error(
            span.clone(),
            &path,
            format!("`{p}` is not one of {}", limits::profiles()),
        );
    }
    let level = t.string(src, "level", false);
    if let Some((l, span)) = &level
        && !limits::valid_level(l)
    {
        let path = t.path("level");
        src.error(
            span.clone(),
            &path,
            format!("`{l}` is not an H.264 level ({})", limits::levels()),
        );
    }
    // HEVC's and AV1's profile follows the bit depth and their encoders choose the level.
    if let Some(codec) = codec.filter(|c| *c != VideoCodec::H264) {
        for (key, written) in [("profile", &profile), ("level", &level)] {
            if let Some((_, span)) = written {
                let path = t.path(key);
                src.error(
                    span.clone(),
                    &path,
                    format!("applies to h264 rungs only ({} chooses its own)", codec.name()),
                );
            }
        }
    }
    let audio_range = (limits::MIN_AUDIO_BITRATE / 1000) as i64..=(limits::MAX_AUDIO_BITRATE / 1000) as i64;
    let audio = t.integer(src, "audio_kbps", false, audio_range, " kbps").unwrap_or(128);
    let video = video?;
    let (level, level_span) = level.map_or_else(|| ("auto".to_owned(), None), |(l, span)| (l, span));
    let codec = codec?;
    let rung = Rung {
        name: name?.0,
        short_side: short_side? as u32,
        video_bitrate: kbps(video),
        max_bitrate: kbps(max.unwrap_or((video * 3 / 2).min((limits::MAX_VIDEO_BITRATE / 1000) as i64))),
        codec,
        bit_depth: bit_depth.map_or(8, |depth| depth as u8),
        profile: profile.map_or_else(|| "main".to_owned(), |(p, _)| p),
        level,
        audio_bitrate: kbps(audio),
    };
    Some((rung, level_span, codec_written.and_then(|(_, span)| span)))
}
