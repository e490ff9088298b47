//! Constant quality per rung, chosen from what the content analysis measured: each rung is
//! encoded at the highest quality level the preset allows unless that costs more than the
//! rung's budget (the preset's average for it), in which case at the level expected to cost
//! about the budget. Simple content gets its ceiling for a fraction of the budget; busy
//! content gets what the budget buys, with the rung's peak as the hard limit.

use vodpipe_job_document::qvbr;

use crate::{MAX_VIDEO_BITRATE, MIN_VIDEO_BITRATE, Plan};

/// How bits grow with the pixels when only one size was measured (the exponent of
/// [`crate::cap_to_source`]), and the bounds of what two sizes may say: a measured exponent
/// outside them is noise.
const SIZE_EXPONENT: f64 = 0.75;
const SIZE_EXPONENT_RANGE: (f64, f64) = (0.4, 1.3);

/// What one size of the content analysis measured: (CRF, bit/s), lowest CRF first.
#[derive(Debug, Clone, PartialEq)]
struct SizeCurve {
    pixels: f64,
    points: Vec<(f64, u64)>,
}

impl SizeCurve {
    /// ln(bit/s) at `crf`: linear in CRF between the measured points, beyond them the
    /// nearest pair's slope.
    fn log_bitrate(&self, crf: f64) -> f64 {
        let n = self.points.len();
        let at = self.points.partition_point(|(c, _)| *c <= crf).clamp(1, n - 1);
        let (a, b) = (self.points[at - 1], self.points[at]);
        let (la, lb) = ((a.1 as f64).ln(), (b.1 as f64).ln());
        la + (lb - la) * (crf - a.0) / (b.0 - a.0)
    }
}

/// One size the analysis sampled: `(width, height, [(CRF, bit/s)])`.
pub type SizeSamples = (u32, u32, Vec<(f64, u64)>);

/// What the content analysis measured: the average bitrate of sampled windows at a few CRFs,
/// at one or two sizes.
#[derive(Debug, Clone, PartialEq)]
pub struct RateModel {
    /// Smallest first.
    sizes: Vec<SizeCurve>,
}

impl RateModel {
    /// A model of `(width, height, [(CRF, bit/s)])` per size; sizes with fewer than two
    /// usable points (distinct CRFs, bitrates above zero) are left out, and `None` when no
    /// size is left.
    pub fn new(samples: Vec<SizeSamples>) -> Option<Self> {
        let mut sizes: Vec<SizeCurve> = samples
            .into_iter()
            .filter_map(|(width, height, mut points)| {
                points.retain(|(crf, bitrate)| crf.is_finite() && *bitrate > 0);
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                points.dedup_by(|a, b| a.0 == b.0);
                let pixels = f64::from(width) * f64::from(height);
                (points.len() >= 2 && pixels > 0.0).then_some(SizeCurve { pixels, points })
            })
            .collect();
        sizes.sort_by(|a, b| a.pixels.total_cmp(&b.pixels));
        sizes.dedup_by(|a, b| a.pixels == b.pixels);
        (!sizes.is_empty()).then_some(Self { sizes })
    }

    /// Expected bit/s at `crf` for a picture of `pixels`: from the measured size nearest in
    /// log-pixels, grown with the pixels at the exponent the two sizes measured at this CRF
    /// (within 0.4..=1.3), or 3/4 with one size. Below the smallest size the exponent is at
    /// most 3/4: small pictures cost more per pixel than a steep large-size exponent says
    /// (the corpus's 60 fps sports clip measured 1.2 between 360p and 720p, and its 240p
    /// rung, planned at that, ran into its peak).
    pub fn bitrate_at(&self, crf: f64, pixels: f64) -> f64 {
        let (small, large) = (&self.sizes[0], &self.sizes[self.sizes.len() - 1]);
        let exponent = if self.sizes.len() == 1 {
            SIZE_EXPONENT
        } else {
            let slope = (large.log_bitrate(crf) - small.log_bitrate(crf)) / (large.pixels / small.pixels).ln();
            slope.clamp(SIZE_EXPONENT_RANGE.0, SIZE_EXPONENT_RANGE.1)
        };
        let nearest = if (pixels / small.pixels).ln().abs() <= (pixels / large.pixels).ln().abs() {
            small
        } else {
            large
        };
        let exponent = if pixels < small.pixels {
            exponent.min(SIZE_EXPONENT)
        } else {
            exponent
        };
        (nearest.log_bitrate(crf) + exponent * (pixels / nearest.pixels).ln()).exp()
    }
}

/// The preset's bounds on quality.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Levels {
    /// The highest level any rung gets: past it, more bits buy little a viewer sees.
    pub ceiling: f64,
    /// The lowest level a rung's budget may push it to.
    pub floor: f64,
}

/// The share of its budget a constant-quality rendition is expected to cost at most: above
/// it the peak (the budget) would bind often, and x264's CRF under a binding peak spends its
/// bits worse than its average-bitrate mode at the same average (the corpus's 60 fps sports
/// clip at 720p: 1.9 VMAF lower for 18% more bits, docs/quality.md).
pub const HEADROOM: f64 = 0.9;

/// Chooses each rendition's rate control; `plan` comes at the preset's bitrates (VBR),
/// already capped to the source, and each rendition's average is its budget.
///
/// With a model: the highest level, in thirds from the ceiling down to the floor, that the
/// model expects to cost at most [`HEADROOM`] of the budget becomes a constant quality with
/// the budget as its peak and the expected cost as its average; a rendition for which even
/// the floor costs more keeps VBR at its budget and peak, as the preset has it (what the
/// budget buys, spent as well as the encoder can). Without a model: the ceiling for every
/// rendition, the budget as its peak and its expected cost (the encoder adapts below it).
/// Says what it chose, for the planner's log.
pub fn choose_levels(plan: &mut Plan, model: Option<&RateModel>, levels: Levels) -> Vec<String> {
    let mut notes = Vec::new();
    for rendition in &mut plan.renditions {
        let budget = rendition.video_bitrate;
        // The quality levels are measured for x264 (docs/quality.md); other encoders' rate
        // factors mean other qualities.
        if rendition.codec != crate::Codec::H264 {
            notes.push(format!(
                "rendition `{}`: VBR at its {} kb/s budget (quality levels are measured for H.264 only)",
                rendition.name,
                budget / 1000
            ));
            continue;
        }
        let pixels = f64::from(rendition.width) * f64::from(rendition.height);
        let chosen = match model {
            None => Some((levels.ceiling, budget as f64)),
            Some(model) => affordable_level(model, pixels, budget as f64 * HEADROOM, levels),
        };
        let Some((level, expected)) = chosen else {
            notes.push(format!(
                "rendition `{}`: VBR at its {} kb/s budget (even level {:.2} is expected to cost more)",
                rendition.name,
                budget / 1000,
                levels.floor
            ));
            continue;
        };
        let expected = (expected as u64).clamp(MIN_VIDEO_BITRATE.min(budget), budget.min(MAX_VIDEO_BITRATE));
        notes.push(format!(
            "rendition `{}`: quality level {level:.2} (CRF {}), expected {} kb/s under a {} kb/s peak (its budget)",
            rendition.name,
            qvbr::crf_for_level(level),
            expected / 1000,
            budget / 1000
        ));
        rendition.quality_level = Some(level);
        rendition.max_bitrate = budget;
        rendition.video_bitrate = expected;
    }
    notes
}

/// The highest level in thirds between the floor and the ceiling expected to cost at most
/// `limit`, with that cost.
fn affordable_level(model: &RateModel, pixels: f64, limit: f64, levels: Levels) -> Option<(f64, f64)> {
    let (lowest, highest) = (
        (levels.floor * 3.0).ceil() as u32,
        (levels.ceiling * 3.0).floor() as u32,
    );
    (lowest..=highest)
        .rev()
        .map(|third| {
            let level = f64::from(third) / 3.0;
            (level, model.bitrate_at(qvbr::crf_for_level(level), pixels))
        })
        .find(|(_, cost)| *cost <= limit)
}

/// Drops renditions that are near-duplicates of the next larger kept one: the same quality
/// level at an expected bitrate within `min_step` of it (where a floor or the source's cap
/// squeezes the bitrates together), so a player switching between them gains nothing it can
/// see. Renditions whose budget chose their level differ in quality and stay: their
/// bitrates follow the preset's steps. The largest and the smallest renditions are always
/// kept (the smallest is what a poor connection plays); when the smallest is a near-duplicate
/// of the one above, that one goes. Says what it dropped.
pub fn drop_near_duplicates(plan: &mut Plan, min_step: f64) -> Vec<String> {
    let renditions = std::mem::take(&mut plan.renditions);
    let count = renditions.len();
    let mut kept: Vec<crate::Rendition> = Vec::with_capacity(count);
    let mut notes = Vec::new();
    for (i, rendition) in renditions.into_iter().enumerate() {
        let last = i + 1 == count;
        let Some(previous) = kept.last() else {
            kept.push(rendition);
            continue;
        };
        let step = previous.video_bitrate as f64 / rendition.video_bitrate as f64;
        if step >= min_step || previous.quality_level != rendition.quality_level {
            kept.push(rendition);
            continue;
        }
        let dropped = if last && kept.len() > 1 {
            let dropped = kept.pop().expect("kept has two or more");
            kept.push(rendition);
            dropped
        } else if last {
            // Only the largest is kept so far: keep both rather than one rendition.
            kept.push(rendition);
            continue;
        } else {
            rendition
        };
        notes.push(format!(
            "rendition `{}` dropped: at the same quality level, {} kb/s is within {min_step}x of its neighbour",
            dropped.name,
            dropped.video_bitrate / 1000
        ));
    }
    plan.renditions = kept;
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rendition;

    fn model() -> RateModel {
        // At 640x360: CRF 18 → 1,000 kb/s, CRF 28 → 250 kb/s (halving every 5 CRF).
        RateModel::new(vec![(640, 360, vec![(28.0, 250_000), (18.0, 1_000_000)])]).unwrap()
    }

    fn rendition(name: &str, width: u32, height: u32, kbps: u64) -> Rendition {
        Rendition {
            codec: crate::Codec::H264,
            name: name.into(),
            width,
            height,
            video_bitrate: kbps * 1000,
            max_bitrate: kbps * 1500,
            quality_level: None,
            profile: "high".into(),
            level: "auto".into(),
            frame_rate_cap: 30.0,
            audio_bitrate: None,
        }
    }

    fn plan(renditions: Vec<Rendition>) -> Plan {
        Plan {
            packaging: crate::Packaging::Ts,
            renditions,
            segment_seconds: 6,
            thumbnail: None,
            notes: Vec::new(),
        }
    }

    #[test]
    fn the_model_interpolates_in_log_bitrate_and_scales_with_pixels() {
        let m = model();
        let at_sample = 640.0 * 360.0;
        assert!((m.bitrate_at(18.0, at_sample) - 1_000_000.0).abs() < 1.0);
        assert!(
            (m.bitrate_at(23.0, at_sample) - 500_000.0).abs() < 1.0,
            "halfway in CRF is halfway in log"
        );
        assert!(
            (m.bitrate_at(33.0, at_sample) - 125_000.0).abs() < 1.0,
            "the end slope beyond the points"
        );
        let four_times = m.bitrate_at(18.0, at_sample * 4.0);
        assert!(
            (four_times / 1_000_000.0 - 4f64.powf(0.75)).abs() < 1e-9,
            "one size: the 3/4 power"
        );
        assert!(
            RateModel::new(vec![(640, 360, vec![(18.0, 1000)])]).is_none(),
            "one point is no slope"
        );
        assert!(RateModel::new(vec![(640, 360, vec![(18.0, 1000), (18.0, 900)])]).is_none());
    }

    #[test]
    fn two_sizes_measure_how_this_content_grows_with_the_picture() {
        // Grain-like: 4x the pixels cost 4x the bits (exponent 1) at CRF 18, 2x (0.5) at 28.
        let m = RateModel::new(vec![
            (1280, 720, vec![(18.0, 4_000_000), (28.0, 200_000)]),
            (640, 360, vec![(18.0, 1_000_000), (28.0, 100_000)]),
        ])
        .unwrap();
        let (small, large) = (640.0 * 360.0, 1280.0 * 720.0);
        assert!(
            (m.bitrate_at(18.0, large) - 4_000_000.0).abs() < 1.0,
            "a measured size is its own answer"
        );
        assert!((m.bitrate_at(28.0, small) - 100_000.0).abs() < 1.0);
        let at_1080 = m.bitrate_at(18.0, 1920.0 * 1080.0);
        assert!(
            (at_1080 / 4_000_000.0 - 2.25).abs() < 1e-9,
            "exponent 1 beyond the larger size"
        );
        let at_1080 = m.bitrate_at(28.0, 1920.0 * 1080.0);
        assert!((at_1080 / 200_000.0 - 2.25f64.powf(0.5)).abs() < 1e-9);
        // Below the smaller size, at most 3/4: a quarter of the pixels costs at least a third.
        let at_180 = m.bitrate_at(18.0, small / 4.0);
        assert!((at_180 / 1_000_000.0 - 0.25f64.powf(0.75)).abs() < 1e-9);
        // A measured exponent beyond 1.3 is held to it.
        let noisy = RateModel::new(vec![
            (640, 360, vec![(18.0, 100_000), (28.0, 50_000)]),
            (1280, 720, vec![(18.0, 10_000_000), (28.0, 5_000_000)]),
        ])
        .unwrap();
        assert!((noisy.bitrate_at(18.0, large * 2.0) / 10_000_000.0 - 2f64.powf(1.3)).abs() < 1e-9);
    }

    #[test]
    fn cheap_content_gets_the_ceiling_costly_content_a_lower_level_and_the_costliest_vbr() {
        let levels = Levels {
            ceiling: 9.0,
            floor: 5.0,
        };
        // 720p at the ceiling's CRF 16.8 is expected to cost 1000 kb/s × 2^(1.2/5) × 4^0.75 ≈ 3.3 Mb/s.
        let mut cheap = plan(vec![rendition("720p", 1280, 720, 5000)]);
        choose_levels(&mut cheap, Some(&model()), levels);
        let r = &cheap.renditions[0];
        assert_eq!(r.quality_level, Some(9.0));
        assert!((3_200_000..3_400_000).contains(&r.video_bitrate), "{}", r.video_bitrate);
        assert_eq!(r.max_bitrate, 5_000_000, "the budget is the peak");

        // A 2 Mb/s budget: the highest level expected within 90% of it.
        let mut costly = plan(vec![rendition("720p", 1280, 720, 2000)]);
        choose_levels(&mut costly, Some(&model()), levels);
        let r = &costly.renditions[0];
        let level = r.quality_level.unwrap();
        assert!((5.0..9.0).contains(&level), "{level}");
        assert!(r.video_bitrate <= 1_800_000, "{}", r.video_bitrate);
        let one_third_up = model().bitrate_at(qvbr::crf_for_level(level + 1.0 / 3.0), 1280.0 * 720.0);
        assert!(
            one_third_up > 1_700_000.0,
            "a third higher would not fit: {one_third_up}"
        );

        // 300 kb/s: even the floor (CRF 28.1, ~700 kb/s) costs more: VBR at the budget, as the preset has it.
        let mut starved = plan(vec![rendition("720p", 1280, 720, 300)]);
        choose_levels(&mut starved, Some(&model()), levels);
        let r = &starved.renditions[0];
        assert_eq!(
            (r.quality_level, r.video_bitrate, r.max_bitrate),
            (None, 300_000, 450_000)
        );

        // Without a model: the ceiling under the budget.
        let mut unmeasured = plan(vec![rendition("720p", 1280, 720, 1500)]);
        choose_levels(&mut unmeasured, None, levels);
        let r = &unmeasured.renditions[0];
        assert_eq!(
            (r.quality_level, r.video_bitrate, r.max_bitrate),
            (Some(9.0), 1_500_000, 1_500_000)
        );
    }

    fn at_level(mut r: Rendition, level: f64) -> Rendition {
        r.quality_level = Some(level);
        r
    }

    #[test]
    fn near_duplicates_go_but_the_largest_and_smallest_stay() {
        let mut p = plan(vec![
            rendition("1080p", 1920, 1080, 2000),
            rendition("720p", 1280, 720, 1800),
            rendition("480p", 854, 480, 900),
            rendition("360p", 640, 360, 700),
            rendition("240p", 426, 240, 600),
        ]);
        for r in &mut p.renditions {
            r.quality_level = Some(9.0);
        }
        let notes = drop_near_duplicates(&mut p, 1.5);
        let names: Vec<&str> = p.renditions.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["1080p", "480p", "240p"], "{notes:?}");
        assert_eq!(notes.len(), 2);

        let mut two = plan(vec![
            rendition("720p", 1280, 720, 1000),
            rendition("360p", 640, 360, 900),
        ]);
        drop_near_duplicates(&mut two, 1.5);
        assert_eq!(two.renditions.len(), 2, "a ladder of two keeps both");

        // Close in bits but not in quality (the budget chose the larger one's level): both stay.
        let mut budgeted = plan(vec![
            at_level(rendition("1080p", 1920, 1080, 5000), 5.0),
            at_level(rendition("720p", 1280, 720, 3700), 5.333),
            at_level(rendition("480p", 854, 480, 1500), 6.0),
        ]);
        drop_near_duplicates(&mut budgeted, 1.4);
        assert_eq!(budgeted.renditions.len(), 3);
    }
}
