//! Which pictures a measurement scores: every one, or one in N chosen so that no periodic
//! structure of the encode or the content can line up with the choice.
//!
//! Picture `i` (counted at the rendition's frame rate from the first) is scored when the
//! fractional part of `i / φ` falls below `1 / N`: a golden-ratio (Weyl) sequence, which
//! picks one picture in N evenly over time but with gaps of two lengths in an aperiodic
//! order. A fixed period would alias with x264's mini-GOPs (a reference B-frame every 2 or 4
//! pictures scores higher than its neighbours), with keyframe intervals and with animation
//! drawn on twos or threes; libvmaf's own `--subsample` is such a period, and it moved a
//! fast pan's 1080p VMAF from 90.5 to 97.2 at one in 6.
//!
//! VMAF's motion feature compares a picture with the one before it, so each scored picture
//! travels to `vmaf` behind its predecessor (and the first picture alone, as libvmaf gives
//! the first picture no motion anyway); `vmaf --subsample 2` then scores exactly the pictures
//! chosen here. Because no two chosen pictures are neighbours when N ≥ 3, the pairs never
//! overlap and the chosen pictures always sit at even positions of what `vmaf` reads.
//! SSIM and PSNR are pooled over both pictures of every pair.

use serde::Serialize;

/// What `vodpipe quality` samples unless told otherwise: one picture in this many
/// (docs/performance.md has the error against every picture and the time saved).
pub const DEFAULT: Sampling = Sampling { one_in: 8 };

/// 1/φ, the step of the sequence.
const STEP: f64 = 0.618_033_988_749_894_9;

/// Which pictures are scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Sampling {
    one_in: u32,
}

impl Sampling {
    /// Every picture is scored.
    pub const EVERY_PICTURE: Self = Self { one_in: 1 };

    /// One picture in `n`; `n` is 1 (every picture) or at least 3 (so that no two chosen
    /// pictures are neighbours).
    pub fn one_in(n: u32) -> Result<Self, String> {
        match n {
            1 | 3..=1000 => Ok(Self { one_in: n }),
            _ => Err(format!(
                "one picture in {n} cannot be sampled: use 1 (every picture) or 3 to 1000"
            )),
        }
    }

    pub fn n(self) -> u32 {
        self.one_in
    }

    /// Whether picture `i` is scored.
    pub fn scores(self, i: u64) -> bool {
        self.one_in == 1 || (i as f64 * STEP).fract() < 1.0 / f64::from(self.one_in)
    }

    /// Whether picture `i` is handed to the measurement: scored, or just before one.
    pub fn compares(self, i: u64) -> bool {
        self.scores(i) || self.scores(i + 1)
    }

    /// The ffmpeg filter that keeps the pictures [`Sampling::compares`] keeps, on a stream
    /// at `rate` (an ffmpeg rational such as `30000/1001`) whose first picture is at 0;
    /// `None` for every picture.
    pub fn select_filter(self, rate: &str) -> Option<String> {
        if self.one_in == 1 {
            return None;
        }
        let index = format!("round(t*({rate}))");
        let scored = |i: &str| format!("lt(mod(({i})*{STEP},1),1/{})", self.one_in);
        Some(format!("select='{}+{}'", scored(&index), scored(&format!("{index}+1"))))
    }

    /// The `--subsample` of the `vmaf` tool that reads the selected pictures.
    pub fn vmaf_subsample(self) -> u32 {
        if self.one_in == 1 { 1 } else { 2 }
    }

    /// In words: "every picture", "one picture in 8".
    pub fn describe(self) -> String {
        match self.one_in {
            1 => "every picture".into(),
            n => format!("one picture in {n}"),
        }
    }
}

/// The `N` of one in N, as it is written on a command line.
impl std::fmt::Display for Sampling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.one_in)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_picture_in_n_is_scored_and_no_two_are_neighbours() {
        for n in [3, 4, 6, 8, 12, 30] {
            let sampling = Sampling::one_in(n).unwrap();
            let scored: Vec<u64> = (0..30_000).filter(|&i| sampling.scores(i)).collect();
            let share = scored.len() as f64 / 30_000.0;
            assert!((share * f64::from(n) - 1.0).abs() < 0.01, "n={n}: {share}");
            assert!(scored.windows(2).all(|w| w[1] - w[0] >= 2), "n={n}");
            assert_eq!(scored[0], 0);
        }
    }

    #[test]
    fn no_period_lines_up_with_the_choice() {
        // Every position within a period (a mini-GOP, a keyframe interval, animation on
        // twos) gets its share of the scored pictures.
        let sampling = Sampling::one_in(6).unwrap();
        for period in [2u64, 3, 4, 6, 8, 12, 16, 24, 48, 60] {
            let mut counts = vec![0u32; period as usize];
            for i in (0..60_000).filter(|&i| sampling.scores(i)) {
                counts[(i % period) as usize] += 1;
            }
            let expected = 10_000.0 / period as f64;
            for (position, &count) in counts.iter().enumerate() {
                let off = (f64::from(count) - expected).abs() / expected;
                assert!(
                    off < 0.05,
                    "period {period}, position {position}: {count} vs {expected}"
                );
            }
        }
    }

    #[test]
    fn scored_pictures_sit_at_even_positions_of_what_vmaf_reads() {
        let sampling = Sampling::one_in(5).unwrap();
        let handed: Vec<u64> = (0..5_000).filter(|&i| sampling.compares(i)).collect();
        for (position, &i) in handed.iter().enumerate() {
            assert_eq!(sampling.scores(i), position % 2 == 0, "picture {i} at {position}");
        }
    }

    #[test]
    fn the_filter_keeps_what_the_rust_side_keeps() {
        let filter = Sampling::one_in(8).unwrap().select_filter("30000/1001").unwrap();
        assert_eq!(
            filter,
            format!(
                "select='lt(mod((round(t*(30000/1001)))*{STEP},1),1/8)\
                 +lt(mod((round(t*(30000/1001))+1)*{STEP},1),1/8)'"
            )
        );
        assert_eq!(Sampling::EVERY_PICTURE.select_filter("30/1"), None);
        assert_eq!(Sampling::EVERY_PICTURE.vmaf_subsample(), 1);
    }

    #[test]
    fn two_in_a_row_cannot_be_asked_for() {
        assert!(Sampling::one_in(2).unwrap_err().contains("use 1"));
        assert!(Sampling::one_in(0).is_err());
        assert_eq!(Sampling::one_in(1).unwrap(), Sampling::EVERY_PICTURE);
        assert_eq!(Sampling::one_in(7).unwrap().describe(), "one picture in 7");
        assert_eq!(Sampling::one_in(7).unwrap().to_string(), "7");
    }
}
