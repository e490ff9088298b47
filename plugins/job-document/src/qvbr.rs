//! What a QVBR quality level means to vodpipe: each embedded encoder's constant rate factor that
//! holds it, as the embedded transcoder runs QVBR (capped CRF), and the way back (x264's) for
//! planners that choose a level from a CRF they measured.

/// The quality level QVBR holds when the document leaves it to the encoder (AUTO).
pub const DEFAULT_QUALITY_LEVEL: f64 = 7.0;

/// The encoders the embedded transcoder runs, each with its own CRF scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoder {
    /// H.264: 0 to 51.
    X264,
    /// HEVC: 0 to 51, not x264's for the same quality.
    X265,
    /// AV1: 1 to 63, whole numbers only.
    SvtAv1,
}

impl Encoder {
    /// (quality level, CRF), by level, as measured for this encoder.
    pub fn level_crf(self) -> &'static [(f64, f64); 10] {
        match self {
            Encoder::X264 => &LEVEL_CRF,
            Encoder::X265 => &LEVEL_CRF_X265,
            Encoder::SvtAv1 => &LEVEL_CRF_SVT_AV1,
        }
    }

    /// The encoder's constant rate factor for a QVBR quality level (1 to 10, in thirds): the
    /// CRF at which the median VMAF of the quality corpus's 720p rungs reaches the level's
    /// target (`bench/crf.py`, docs/quality.md), linear between levels, to a tenth (SVT-AV1
    /// takes whole numbers: rounded to one).
    pub fn crf_for_level(self, level: f64) -> f64 {
        let table = self.level_crf();
        let level = level.clamp(1.0, 10.0);
        let at = table.partition_point(|(l, _)| *l <= level).clamp(1, table.len() - 1);
        let ((l0, c0), (l1, c1)) = (table[at - 1], table[at]);
        let crf = c0 + (c1 - c0) * (level - l0) / (l1 - l0);
        match self {
            Encoder::SvtAv1 => crf.round(),
            Encoder::X264 | Encoder::X265 => (crf * 10.0).round() / 10.0,
        }
    }
}

/// x264's constant rate factor for a QVBR quality level: [`Encoder::crf_for_level`] of
/// [`Encoder::X264`], the scale planners measure content on.
pub fn crf_for_level(level: f64) -> f64 {
    Encoder::X264.crf_for_level(level)
}

/// The lowest quality level, in thirds as MediaConvert counts them, whose CRF is `crf` or
/// lower: the cheapest level that holds at least that CRF's quality. 1 when even level 1 is
/// better than `crf`, 10 when no level reaches it.
pub fn level_for_crf(crf: f64) -> f64 {
    (3..=30)
        .map(|third| f64::from(third) / 3.0)
        .find(|level| crf_for_level(*level) <= crf)
        .unwrap_or(10.0)
}

/// Rounds a level to the thirds MediaConvert keeps (QvbrQualityLevel plus its fine tune).
pub fn round_to_thirds(level: f64) -> f64 {
    (level * 3.0).round() / 3.0
}

/// x264's (quality level, CRF), by level: see [`Encoder::crf_for_level`]. Each level's target VMAF and the
/// measured curve are in docs/quality.md ("Constant quality"); `bench/crf.py` prints this
/// table from them (level 10's 98 is above the median at CRF 12, the lowest measured).
pub const LEVEL_CRF: [(f64, f64); 10] = [
    (1.0, 35.7),
    (2.0, 33.8),
    (3.0, 32.0),
    (4.0, 30.0),
    (5.0, 28.1),
    (6.0, 26.0),
    (7.0, 23.5),
    (8.0, 20.4),
    (9.0, 16.8),
    (10.0, 12.0),
];

/// x265's (quality level, CRF), measured as [`LEVEL_CRF`] is (x265 ultrafast, Main) at CRF 16
/// to 40: level 10's 98 and level 9's 96 are above the median at CRF 16, so both take it.
pub const LEVEL_CRF_X265: [(f64, f64); 10] = [
    (1.0, 36.0),
    (2.0, 33.8),
    (3.0, 31.7),
    (4.0, 29.7),
    (5.0, 28.0),
    (6.0, 25.0),
    (7.0, 22.7),
    (8.0, 19.5),
    (9.0, 16.0),
    (10.0, 16.0),
];

/// SVT-AV1's (quality level, CRF), measured as [`LEVEL_CRF`] is (preset 10, Main, 8-bit) at
/// CRF 20 to 60: levels 1 and 2 (VMAF 60 and 68) are below the median at CRF 60 and level 10
/// (98) above it at CRF 20, so they take those ends.
pub const LEVEL_CRF_SVT_AV1: [(f64, f64); 10] = [
    (1.0, 60.0),
    (2.0, 60.0),
    (3.0, 58.6),
    (4.0, 54.4),
    (5.0, 51.0),
    (6.0, 46.3),
    (7.0, 42.1),
    (8.0, 38.2),
    (9.0, 31.2),
    (10.0, 20.0),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_map_to_crf_monotonically_within_the_measured_range() {
        let crfs: Vec<f64> = (3..=30).map(|third| crf_for_level(f64::from(third) / 3.0)).collect();
        assert!(
            crfs.windows(2).all(|w| w[0] >= w[1]),
            "a higher level never gets a higher CRF: {crfs:?}"
        );
        assert_eq!(crf_for_level(0.0), crf_for_level(1.0));
        assert_eq!(crf_for_level(12.0), crf_for_level(10.0));
        for (level, crf) in LEVEL_CRF {
            assert_eq!(crf_for_level(level), crf, "a measured point is its own answer");
        }
    }

    #[test]
    fn every_encoders_levels_map_into_its_range_monotonically() {
        for (encoder, range) in [
            (Encoder::X264, 0.0..=51.0),
            (Encoder::X265, 0.0..=51.0),
            (Encoder::SvtAv1, 1.0..=63.0),
        ] {
            let crfs: Vec<f64> = (3..=30)
                .map(|third| encoder.crf_for_level(f64::from(third) / 3.0))
                .collect();
            assert!(crfs.windows(2).all(|w| w[0] >= w[1]), "{encoder:?}: {crfs:?}");
            assert!(crfs.iter().all(|crf| range.contains(crf)), "{encoder:?}: {crfs:?}");
            assert!(crfs[0] > crfs[crfs.len() - 1], "{encoder:?}: levels must differ");
        }
        assert!(
            (3..=30).all(|third| Encoder::SvtAv1.crf_for_level(f64::from(third) / 3.0).fract() == 0.0),
            "SVT-AV1 takes whole CRFs"
        );
    }

    #[test]
    fn the_level_for_a_crf_holds_at_least_that_crf() {
        assert_eq!(level_for_crf(23.5), 7.0);
        assert_eq!(level_for_crf(40.0), 1.0, "below level 1's quality: level 1");
        assert_eq!(level_for_crf(5.0), 10.0, "above level 10's: level 10");
        for tenth in 120..=357 {
            let crf = f64::from(tenth) / 10.0;
            let level = level_for_crf(crf);
            assert!(crf_for_level(level) <= crf, "{crf} → {level}");
            if level > 1.0 {
                assert!(
                    crf_for_level(level - 1.0 / 3.0) > crf,
                    "{crf} → {level} is the cheapest"
                );
            }
            assert_eq!(level, round_to_thirds(level));
        }
    }
}
