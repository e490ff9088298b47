//! H.264 level limits, from ITU-T H.264 (08/2021) Annex A: Table A-1 "Level limits" and
//! Table A-2 (cpbBrVclFactor), with the frame-size rules of A.3.1 (items a and f). A stream
//! conforms to a level when its frame size, macroblock rate and maximum bitrate are all
//! within that level's limits.

/// One row of Table A-1 (the columns a decoder is chosen by).
struct Level {
    /// `level_idc` as in the SPS and in RFC 6381 `avc1.PPCCLL` (level 1b, coded with
    /// constraint_set3, is left out: vodpipe never asks for it).
    idc: u32,
    /// MaxMBPS: macroblocks per second.
    max_mbps: u64,
    /// MaxFS: macroblocks per frame.
    max_fs: u64,
    /// MaxBR in units of cpbBrVclFactor bits/s.
    max_br: u64,
}

/// Table A-1: (level_idc, MaxMBPS, MaxFS, MaxBR).
const TABLE_A_1: [(u32, u64, u64, u64); 16] = [
    (10, 1_485, 99, 64),
    (11, 3_000, 396, 192),
    (12, 6_000, 396, 384),
    (13, 11_880, 396, 768),
    (20, 11_880, 396, 2_000),
    (21, 19_800, 792, 4_000),
    (22, 20_250, 1_620, 4_000),
    (30, 40_500, 1_620, 10_000),
    (31, 108_000, 3_600, 14_000),
    (32, 216_000, 5_120, 20_000),
    (40, 245_760, 8_192, 20_000),
    (41, 245_760, 8_192, 50_000),
    (42, 522_240, 8_704, 50_000),
    (50, 589_824, 22_080, 135_000),
    (51, 983_040, 36_864, 240_000),
    (52, 2_073_600, 36_864, 240_000),
];

fn levels() -> impl Iterator<Item = Level> {
    TABLE_A_1.iter().map(|&(idc, max_mbps, max_fs, max_br)| Level {
        idc,
        max_mbps,
        max_fs,
        max_br,
    })
}

/// Table A-2: cpbBrVclFactor by `profile_idc` (High: 1250; Baseline, Main, Extended: 1000).
fn vcl_factor(profile_idc: u32) -> u64 {
    match profile_idc {
        100 => 1_250,
        66 | 77 | 88 => 1_000,
        other => panic!("profile_idc {other}: not one vodpipe encodes (Baseline 66, Main 77, High 100)"),
    }
}

/// What a level is checked against: the stream as encoded and the bitrate cap it was given.
#[derive(Debug, Clone, Copy)]
pub struct Stream {
    pub profile_idc: u32,
    pub width: u32,
    pub height: u32,
    pub frames_per_second: f64,
    /// The encoder's peak rate (its VBV maximum), bits per second.
    pub max_bitrate: u64,
}

/// Why `level_idc` does not fit `stream`, or `Ok` when it does.
pub fn check(level_idc: u32, stream: Stream) -> Result<(), String> {
    let level = levels()
        .find(|l| l.idc == level_idc)
        .ok_or_else(|| format!("level_idc {level_idc} is not in Table A-1"))?;
    let width_mbs = u64::from(stream.width.div_ceil(16));
    let height_mbs = u64::from(stream.height.div_ceil(16));
    let frame_mbs = width_mbs * height_mbs;
    let mut problems = Vec::new();
    // A.3.1 a: PicWidthInMbs * FrameHeightInMbs <= MaxFS.
    if frame_mbs > level.max_fs {
        problems.push(format!("{frame_mbs} macroblocks per frame > MaxFS {}", level.max_fs));
    }
    // A.3.1 f: each dimension at most Sqrt(MaxFS * 8) macroblocks.
    let side_limit = ((level.max_fs * 8) as f64).sqrt();
    if width_mbs as f64 > side_limit || height_mbs as f64 > side_limit {
        problems.push(format!(
            "{width_mbs}x{height_mbs} macroblocks: a side exceeds Sqrt(MaxFS*8) = {side_limit:.1}"
        ));
    }
    // Macroblock processing rate (A.3.1 a, A.3.2 a): frame size times frame rate.
    let mbps = frame_mbs as f64 * stream.frames_per_second;
    if mbps > level.max_mbps as f64 * 1.000_001 {
        problems.push(format!("{mbps:.0} macroblocks per second > MaxMBPS {}", level.max_mbps));
    }
    let max_br = level.max_br * vcl_factor(stream.profile_idc);
    if stream.max_bitrate > max_br {
        problems.push(format!("max bitrate {} b/s > MaxBR {max_br} b/s", stream.max_bitrate));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("level {}: {}", display(level_idc), problems.join("; ")))
    }
}

/// The smallest level `stream` conforms to, for the failure messages.
pub fn smallest(stream: Stream) -> Option<String> {
    levels().find(|l| check(l.idc, stream).is_ok()).map(|l| display(l.idc))
}

/// `31` → `3.1`.
pub fn display(level_idc: u32) -> String {
    format!("{}.{}", level_idc / 10, level_idc % 10)
}

#[test]
fn table_a_1_limits_bite_where_the_standard_says() {
    let hd = |fps: f64, max_bitrate: u64| Stream {
        profile_idc: 100,
        width: 1280,
        height: 720,
        frames_per_second: fps,
        max_bitrate,
    };
    // 720p30 is the textbook 3.1 stream; at 60 fps it needs 3.2.
    assert_eq!(check(31, hd(30.0, 4_500_000)), Ok(()));
    assert!(check(31, hd(60.0, 4_500_000)).unwrap_err().contains("MaxMBPS 108000"));
    assert_eq!(smallest(hd(60.0, 4_500_000)).as_deref(), Some("3.2"));
    // High's bitrate cap is 1.25 times Main's: 17.5 Mb/s at 3.1.
    assert_eq!(check(31, hd(30.0, 17_500_000)), Ok(()));
    assert!(check(31, hd(30.0, 17_500_001)).unwrap_err().contains("MaxBR"));
    // 1080p (1088 coded lines = 68 macroblock rows): 8160 macroblocks, over 3.2's 5120.
    let full_hd = Stream {
        width: 1920,
        height: 1080,
        ..hd(30.0, 7_500_000)
    };
    assert!(check(32, full_hd).unwrap_err().contains("MaxFS 5120"));
    assert_eq!(smallest(full_hd).as_deref(), Some("4.0"));
    assert_eq!(
        smallest(Stream {
            frames_per_second: 60.0,
            ..full_hd
        })
        .as_deref(),
        Some("4.2")
    );
    // A.3.1 f: a very wide picture breaks the side limit before the area limit.
    let strip = Stream {
        width: 16 * 120,
        height: 16,
        ..hd(1.0, 1_000)
    };
    assert!(check(30, strip).unwrap_err().contains("Sqrt(MaxFS*8)"));
}
