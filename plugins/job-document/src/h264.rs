//! H.264 levels: which level a stream of a given size, frame rate, peak bitrate and profile
//! conforms to, after ITU-T H.264 Annex A. The level is what a player checks before it
//! decodes, and what `CODECS="avc1.PPCCLL"` announces; a stream over its level's limits may be
//! refused or stutter on the devices that trust it.
//!
//! A stream conforms to a level when (A.3.1 a and f, A.3.2 a, Table A-1):
//! - its frame is at most MaxFS macroblocks, and neither side is over Sqrt(MaxFS * 8)
//!   macroblocks;
//! - frame size times frame rate is at most MaxMBPS macroblocks per second;
//! - its peak bitrate is at most MaxBR times the profile's cpbBrVclFactor (Table A-2: 1000 bit/s
//!   for Baseline and Main, 1250 bit/s for High).
//!
//! Level 1b is left out: no preset can ask for it, and MediaConvert cannot write it.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// The H.264 profiles vodpipe encodes; `BASELINE`, `MAIN` or `HIGH` in a job document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Profile {
    Baseline,
    Main,
    High,
}

impl Profile {
    /// `"baseline"`, `"main"` or `"high"`, as presets and plans write them.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "baseline" => Some(Self::Baseline),
            "main" => Some(Self::Main),
            "high" => Some(Self::High),
            _ => None,
        }
    }

    /// cpbBrVclFactor of Table A-2: the unit of MaxBR, in bit/s.
    pub fn vcl_factor(self) -> u64 {
        match self {
            Self::Baseline | Self::Main => 1_000,
            Self::High => 1_250,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Baseline => "baseline",
            Self::Main => "main",
            Self::High => "high",
        }
    }

    /// The RFC 6381 codec string of a stream of this profile at `level_idc` (a [`Level::idc`],
    /// or whatever an SPS says): `avc1.PPCCLL`, with profile_idc, the constraint flags libx264
    /// writes (set0 for Baseline, set1 for Baseline and Main, which it encodes without
    /// Baseline's extra tools; never set2 or set3), and level_idc.
    pub fn avc1(self, level_idc: u8) -> String {
        let (profile_idc, constraints) = match self {
            Self::Baseline => (0x42, 0xc0),
            Self::Main => (0x4d, 0x40),
            Self::High => (0x64, 0x00),
        };
        format!("avc1.{profile_idc:02x}{constraints:02x}{level_idc:02x}")
    }
}

/// A level, by its `level_idc` (ten times the level: 31 is 3.1). Ordered from lowest to highest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Level(u8);

impl Level {
    /// The highest level a plan may name: MediaConvert's `CodecLevel` (and so the host's plan
    /// check) stops at `LEVEL_5_2`.
    pub const HIGHEST_IN_A_PLAN: Level = Level(52);

    /// `"3.1"`, `"4"` or `"4.0"`: a level of Table A-1.
    pub fn parse(text: &str) -> Option<Self> {
        let (major, minor) = text.split_once('.').unwrap_or((text, "0"));
        let one_digit = |s: &str| s.len() == 1 && s.as_bytes()[0].is_ascii_digit();
        if !one_digit(major) || !one_digit(minor) {
            return None;
        }
        Self::from_idc((major.as_bytes()[0] - b'0') * 10 + (minor.as_bytes()[0] - b'0'))
    }

    /// `level_idc` as the SPS and RFC 6381 (`avc1.PPCCLL`) write it.
    pub fn idc(self) -> u8 {
        self.0
    }

    /// The level of a `level_idc` (an SPS's, as ffprobe reports it), when Table A-1 has it.
    pub fn from_idc(idc: u8) -> Option<Self> {
        TABLE_A_1.iter().find(|row| row.level.0 == idc).map(|row| row.level)
    }

    /// The levels a plan may name, lowest first.
    pub fn in_a_plan() -> impl Iterator<Item = Level> {
        TABLE_A_1
            .iter()
            .map(|row| row.level)
            .take_while(|level| *level <= Self::HIGHEST_IN_A_PLAN)
    }

    /// This level's row of Table A-1.
    pub fn limits(self) -> &'static Limits {
        TABLE_A_1
            .iter()
            .find(|row| row.level == self)
            .expect("a Level is only made from a row of the table")
    }
}

/// `3.1`, `4.0`: always major and minor, so a level reads the same everywhere.
impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0 / 10, self.0 % 10)
    }
}

/// `CodecLevel` of MediaConvert's H264Settings: `AUTO` (the encoder chooses) or a level a plan
/// may name, `LEVEL_1` to `LEVEL_5_2` (whole levels without `_0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodecLevel {
    Auto,
    Level(Level),
}

impl CodecLevel {
    /// A plan's or preset's level: `"auto"`, `"3.1"`, `"4"` or `"4.0"`, up to
    /// [`Level::HIGHEST_IN_A_PLAN`].
    pub fn from_plan(text: &str) -> Option<Self> {
        if text == "auto" {
            return Some(Self::Auto);
        }
        Level::parse(text)
            .filter(|level| *level <= Level::HIGHEST_IN_A_PLAN)
            .map(Self::Level)
    }

    /// `AUTO`, `LEVEL_3`, `LEVEL_3_1`.
    pub fn name(self) -> String {
        match self {
            Self::Auto => "AUTO".to_owned(),
            Self::Level(level) if level.0 % 10 == 0 => format!("LEVEL_{}", level.0 / 10),
            Self::Level(level) => format!("LEVEL_{}_{}", level.0 / 10, level.0 % 10),
        }
    }

    /// The one whose [`CodecLevel::name`] is `name`: the model's names only (`LEVEL_3`, never
    /// `LEVEL_3_0`).
    fn from_name(name: &str) -> Option<Self> {
        std::iter::once(Self::Auto)
            .chain(Level::in_a_plan().map(Self::Level))
            .find(|level| level.name() == name)
    }
}

impl Serialize for CodecLevel {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for CodecLevel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::from_name(&name).ok_or_else(|| {
            de::Error::invalid_value(de::Unexpected::Str(&name), &"AUTO or a level from LEVEL_1 to LEVEL_5_2")
        })
    }
}

/// One row of Table A-1, the columns a level is chosen by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub level: Level,
    /// MaxMBPS: macroblocks per second.
    pub max_mbps: u64,
    /// MaxFS: macroblocks per frame.
    pub max_fs: u64,
    /// MaxBR, in units of the profile's cpbBrVclFactor.
    pub max_br: u64,
}

const fn row(idc: u8, max_mbps: u64, max_fs: u64, max_br: u64) -> Limits {
    Limits {
        level: Level(idc),
        max_mbps,
        max_fs,
        max_br,
    }
}

/// ITU-T H.264 (08/2021) Table A-1, levels 1 to 6.2 without 1b, lowest first.
pub const TABLE_A_1: [Limits; 19] = [
    row(10, 1_485, 99, 64),
    row(11, 3_000, 396, 192),
    row(12, 6_000, 396, 384),
    row(13, 11_880, 396, 768),
    row(20, 11_880, 396, 2_000),
    row(21, 19_800, 792, 4_000),
    row(22, 20_250, 1_620, 4_000),
    row(30, 40_500, 1_620, 10_000),
    row(31, 108_000, 3_600, 14_000),
    row(32, 216_000, 5_120, 20_000),
    row(40, 245_760, 8_192, 20_000),
    row(41, 245_760, 8_192, 50_000),
    row(42, 522_240, 8_704, 50_000),
    row(50, 589_824, 22_080, 135_000),
    row(51, 983_040, 36_864, 240_000),
    row(52, 2_073_600, 36_864, 240_000),
    row(60, 4_177_920, 139_264, 240_000),
    row(61, 8_355_840, 139_264, 480_000),
    row(62, 16_711_680, 139_264, 800_000),
];

/// What a level is chosen for: one rendition as it will be encoded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stream {
    pub width: u32,
    pub height: u32,
    pub frame_rate: f64,
    /// Peak (VBV maximum) bitrate, bit/s.
    pub max_bitrate: u64,
    pub profile: Profile,
}

impl Stream {
    /// Width and height in 16x16 macroblocks (progressive: frame_mbs_only).
    fn macroblocks(&self) -> (u64, u64) {
        (u64::from(self.width.div_ceil(16)), u64::from(self.height.div_ceil(16)))
    }
}

/// `854x480 at 60 fps, max 2100 kb/s, main profile`: how messages name a stream.
impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}x{} at {} fps, max {} kb/s, {} profile",
            self.width,
            self.height,
            frame_rate(self.frame_rate),
            self.max_bitrate / 1000,
            self.profile.name()
        )
    }
}

/// `60`, `29.97`, `23.976`: a frame rate without trailing zeros.
pub fn frame_rate(fps: f64) -> String {
    let text = format!("{fps:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Every limit of `level` that `stream` exceeds, in words; empty when it conforms.
pub fn exceeded(level: Level, stream: &Stream) -> Vec<String> {
    let limits = level.limits();
    let (width_mbs, height_mbs) = stream.macroblocks();
    let frame_mbs = width_mbs * height_mbs;
    let mut exceeded = Vec::new();
    if frame_mbs > limits.max_fs {
        exceeded.push(format!("{frame_mbs} macroblocks a frame > MaxFS {}", limits.max_fs));
    }
    // Compared squared, so the limit stays an integer: side <= Sqrt(MaxFS * 8).
    let side = width_mbs.max(height_mbs);
    if side * side > limits.max_fs * 8 {
        exceeded.push(format!(
            "a side of {side} macroblocks > Sqrt(MaxFS*8) = {:.1}",
            ((limits.max_fs * 8) as f64).sqrt()
        ));
    }
    // A frame rate from a probe is a float (29.97..., 59.94...): a rate that lands exactly on a
    // limit (720p60 on 3.2's 216,000) must not miss it by a rounding error.
    let mbps = frame_mbs as f64 * stream.frame_rate;
    if mbps > limits.max_mbps as f64 * (1.0 + 1e-9) {
        exceeded.push(format!("{mbps:.0} macroblocks a second > MaxMBPS {}", limits.max_mbps));
    }
    let max_bitrate = limits.max_br * stream.profile.vcl_factor();
    if stream.max_bitrate > max_bitrate {
        exceeded.push(format!(
            "max bitrate {} kb/s > MaxBR {} kb/s",
            stream.max_bitrate / 1000,
            max_bitrate / 1000
        ));
    }
    exceeded
}

pub fn conforms(level: Level, stream: &Stream) -> bool {
    exceeded(level, stream).is_empty()
}

/// The lowest level of Table A-1 that `stream` conforms to; none when even 6.2 is too low.
pub fn lowest_conformant(stream: &Stream) -> Option<Level> {
    TABLE_A_1
        .iter()
        .map(|row| row.level)
        .find(|level| conforms(*level, stream))
}

/// The level a rendition gets when its rung asks for `requested`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// `"auto"`: the lowest conformant level.
    Auto(Level),
    /// The requested level, which conforms.
    AsRequested(Level),
    /// The requested level is too low for the stream: raised to the lowest conformant one.
    Raised { requested: Level, to: Level },
}

impl Choice {
    pub fn level(&self) -> Level {
        match self {
            Choice::Auto(level) | Choice::AsRequested(level) | Choice::Raised { to: level, .. } => *level,
        }
    }
}

/// The level for `stream` when its rung asks for `requested` (`"auto"` or a level): the
/// requested one when it conforms, otherwise the lowest one that does, up to
/// [`Level::HIGHEST_IN_A_PLAN`]. A stream too big or too fast for every level a plan may name
/// is refused, with what it would need.
pub fn choose(requested: &str, stream: &Stream) -> Result<Choice, String> {
    let needed = lowest_conformant(stream);
    let needed = match needed {
        Some(level) if level <= Level::HIGHEST_IN_A_PLAN => level,
        _ => {
            let needs = needed.map_or_else(|| "more than level 6.2".to_owned(), |l| format!("level {l}"));
            return Err(format!(
                "{stream} needs H.264 {needs}; plans stop at {} (MediaConvert's highest level): \
                 lower the preset's frame_rate_cap or remove the rung",
                Level::HIGHEST_IN_A_PLAN
            ));
        }
    };
    if requested == "auto" {
        return Ok(Choice::Auto(needed));
    }
    let requested = Level::parse(requested).ok_or_else(|| format!("`{requested}` is not an H.264 level"))?;
    Ok(if requested >= needed {
        Choice::AsRequested(requested)
    } else {
        Choice::Raised { requested, to: needed }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(width: u32, height: u32, frame_rate: f64, max_kbps: u64, profile: Profile) -> Stream {
        Stream {
            width,
            height,
            frame_rate,
            max_bitrate: max_kbps * 1000,
            profile,
        }
    }

    fn lowest(width: u32, height: u32, frame_rate: f64, max_kbps: u64, profile: Profile) -> String {
        lowest_conformant(&stream(width, height, frame_rate, max_kbps, profile))
            .map(|l| l.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn the_textbook_sizes_get_their_textbook_levels() {
        // 854x480 is 54x30 = 1620 macroblocks: 48,600 a second at 30 fps, over 3.0's 40,500.
        assert_eq!(lowest(854, 480, 30.0, 2100, Profile::Main), "3.1");
        assert_eq!(lowest(1280, 720, 30.0, 4500, Profile::High), "3.1");
        // 3600 x 60 = 216,000: exactly 3.2's MaxMBPS.
        assert_eq!(lowest(1280, 720, 60.0, 4500, Profile::High), "3.2");
        // 1080 lines are 68 macroblock rows (1088 coded): 8160 macroblocks, over 3.2's MaxFS.
        assert_eq!(lowest(1920, 1080, 30.0, 7500, Profile::High), "4.0");
        assert_eq!(lowest(1920, 1080, 60.0, 7500, Profile::High), "4.2");
        assert_eq!(lowest(3840, 2160, 60.0, 24000, Profile::High), "5.2");
        assert_eq!(lowest(426, 240, 30.0, 600, Profile::Baseline), "2.1");
        assert_eq!(lowest(640, 360, 30.0, 1200, Profile::Main), "3.0");
        assert_eq!(lowest(176, 144, 15.0, 64, Profile::Baseline), "1.0");
    }

    #[test]
    fn ntsc_rates_count_as_what_they_are() {
        // 59.94 fps stays under 3.2 at 720p; 29.97 under 3.1.
        assert_eq!(lowest(1280, 720, 60_000.0 / 1001.0, 4500, Profile::High), "3.2");
        assert_eq!(lowest(1280, 720, 30_000.0 / 1001.0, 4500, Profile::High), "3.1");
        // 1080p at 59.94: 489,111 macroblocks a second, over 4.1's 245,760.
        assert_eq!(lowest(1920, 1080, 60_000.0 / 1001.0, 7500, Profile::High), "4.2");
    }

    #[test]
    fn the_max_bitrate_pushes_the_level_up() {
        // 720p30 fits 3.1 by size and rate; 3.1 carries 14,000 kb/s in Main, 17,500 in High.
        assert_eq!(lowest(1280, 720, 30.0, 14_000, Profile::Main), "3.1");
        assert_eq!(lowest(1280, 720, 30.0, 14_001, Profile::Main), "3.2");
        assert_eq!(lowest(1280, 720, 30.0, 17_500, Profile::High), "3.1");
        assert_eq!(lowest(1280, 720, 30.0, 17_501, Profile::High), "3.2");
        // 4.0 and 4.1 share their frame limits; only the bitrate tells them apart.
        assert_eq!(lowest(1920, 1080, 30.0, 25_000, Profile::High), "4.0");
        assert_eq!(lowest(1920, 1080, 30.0, 25_001, Profile::High), "4.1");
        // A tiny picture at a huge bitrate: the bitrate alone decides.
        assert_eq!(lowest(320, 240, 30.0, 60_000, Profile::Main), "5.0");
        assert_eq!(lowest(320, 240, 30.0, 800_001, Profile::Main), "");
    }

    #[test]
    fn a_long_thin_picture_breaks_the_side_limit_before_the_area_limit() {
        // 120x1 macroblocks: 120 is within 3.0's MaxFS 1620 but over Sqrt(1620*8) = 113.8.
        let strip = stream(1920, 16, 1.0, 100, Profile::Main);
        let why = exceeded(Level::parse("3").unwrap(), &strip);
        assert_eq!(why.len(), 1, "{why:?}");
        assert!(why[0].contains("Sqrt(MaxFS*8) = 113.8"), "{why:?}");
        assert_eq!(lowest_conformant(&strip).unwrap().to_string(), "3.1");
        // The same, standing up.
        assert_eq!(lowest(16, 1920, 1.0, 100, Profile::Main), "3.1");
    }

    #[test]
    fn every_exceeded_limit_is_named() {
        let why = exceeded(
            Level::parse("3.0").unwrap(),
            &stream(1280, 720, 60.0, 12_000, Profile::Main),
        );
        let text = why.join("; ");
        assert!(text.contains("3600 macroblocks a frame > MaxFS 1620"), "{text}");
        assert!(text.contains("216000 macroblocks a second > MaxMBPS 40500"), "{text}");
        assert!(text.contains("max bitrate 12000 kb/s > MaxBR 10000 kb/s"), "{text}");
    }

    #[test]
    fn codec_levels_read_and_write_mediaconvert_names() {
        for (plan, name) in [
            ("auto", "AUTO"),
            ("1", "LEVEL_1"),
            ("3.0", "LEVEL_3"),
            ("3.1", "LEVEL_3_1"),
            ("5.2", "LEVEL_5_2"),
        ] {
            let level = CodecLevel::from_plan(plan).unwrap();
            assert_eq!(level.name(), name);
            assert_eq!(serde_json::to_string(&level).unwrap(), format!("\"{name}\""));
            assert_eq!(
                serde_json::from_str::<CodecLevel>(&format!("\"{name}\"")).unwrap(),
                level
            );
        }
        assert_eq!(CodecLevel::from_plan("6.0"), None, "above what a plan may name");
        for name in [
            "LEVEL_3_0",
            "LEVEL_6",
            "LEVEL_3.1",
            "LEVEL_",
            "level_3",
            "auto",
            "LEVEL_3_1_1",
        ] {
            let error = serde_json::from_str::<CodecLevel>(&format!("\"{name}\""))
                .unwrap_err()
                .to_string();
            assert!(
                error.contains("expected AUTO or a level from LEVEL_1 to LEVEL_5_2"),
                "{name}: {error}"
            );
        }
        assert_eq!(Level::in_a_plan().count(), 16);
    }

    #[test]
    fn codec_strings_name_profile_constraints_and_level() {
        let level = |text| Level::parse(text).unwrap().idc();
        assert_eq!(Profile::Baseline.avc1(level("3.0")), "avc1.42c01e");
        assert_eq!(Profile::Main.avc1(level("3.1")), "avc1.4d401f");
        assert_eq!(Profile::High.avc1(level("4.0")), "avc1.640028");
        assert_eq!(serde_json::to_string(&Profile::High).unwrap(), "\"HIGH\"");
    }

    #[test]
    fn levels_parse_as_presets_write_them() {
        for (text, idc) in [
            ("1", 10),
            ("1.0", 10),
            ("1.1", 11),
            ("3", 30),
            ("3.0", 30),
            ("5.2", 52),
            ("6.2", 62),
        ] {
            assert_eq!(Level::parse(text).map(Level::idc), Some(idc), "{text}");
        }
        for text in ["", "auto", "3.3", "1b", "31", "3.10", "-3", "3.", ".1", "７"] {
            assert_eq!(Level::parse(text), None, "{text}");
        }
        assert_eq!(Level::parse("4").unwrap().to_string(), "4.0");
        assert!(Level::parse("3.2").unwrap() < Level::parse("4").unwrap());
    }

    #[test]
    fn a_level_too_low_is_raised_and_one_high_enough_is_kept() {
        let hd60 = stream(1280, 720, 60.0, 4500, Profile::High);
        assert_eq!(choose("auto", &hd60), Ok(Choice::Auto(Level(32))));
        assert_eq!(
            choose("3.1", &hd60),
            Ok(Choice::Raised {
                requested: Level(31),
                to: Level(32)
            })
        );
        assert_eq!(choose("3.2", &hd60), Ok(Choice::AsRequested(Level(32))));
        // Higher than needed is the preset's choice (an older player's list, say): kept.
        assert_eq!(choose("4.1", &hd60), Ok(Choice::AsRequested(Level(41))));
        assert_eq!(choose("3.2", &hd60).unwrap().level().to_string(), "3.2");
        assert!(
            choose("9.9", &hd60)
                .unwrap_err()
                .contains("`9.9` is not an H.264 level")
        );
    }

    #[test]
    fn a_stream_beyond_the_levels_a_plan_may_name_is_refused_with_what_it_needs() {
        let uhd120 = stream(3840, 2160, 120.0, 24_000, Profile::High);
        let why = choose("auto", &uhd120).unwrap_err();
        assert_eq!(
            why,
            "3840x2160 at 120 fps, max 24000 kb/s, high profile needs H.264 level 6.0; plans stop at 5.2 \
             (MediaConvert's highest level): lower the preset's frame_rate_cap or remove the rung"
        );
        let too_fast_for_any = stream(3840, 2160, 1000.0, 24_000, Profile::High);
        assert!(
            choose("5.1", &too_fast_for_any)
                .unwrap_err()
                .contains("needs H.264 more than level 6.2")
        );
    }
}
