//! What a plan costs on AWS, estimated from a cost model (the policy bundle's
//! `pricing/aws.toml`, parsed and checked by `vodpipe-policy`): MediaConvert's bill for
//! encoding it, S3's for keeping it, CloudFront's for delivering it.
//!
//! Estimates, from list prices: the first usage tier of each price, no free tier, no volume
//! discount, average bitrates without container overhead. [`CostEstimate::assumptions`] says
//! so in sentences a report prints next to the figures.

use serde::{Deserialize, Serialize};

use crate::job::JobDocument;
use crate::plan::{Plan, Rendition};
use crate::probe::Probe;

/// AWS bills storage and transfer in GB of 2^30 bytes (its "GB" is a GiB).
pub const BYTES_PER_BILLED_GB: f64 = (1u64 << 30) as f64;
const SECONDS_PER_HOUR: f64 = 3600.0;

/// The prices and the view mix a [`CostEstimate`] is computed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostModel {
    /// Always "USD": every figure is in US dollars.
    pub currency: String,
    /// The AWS region the prices are for, e.g. "us-east-1".
    pub region: String,
    pub mediaconvert: MediaConvertPrices,
    pub s3: S3Prices,
    pub cloudfront: CloudFrontPrices,
    /// The share of full views watched at each rung size, largest first; the shares sum to 1.
    pub view_mix: Vec<ViewShare>,
}

/// Where a block of prices was read, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quoted {
    /// The pricing page's URL.
    pub source: String,
    /// The date the prices were read from it, `YYYY-MM-DD`.
    pub as_of: String,
    /// What a reader of the estimate should know about these prices (a figure not found on
    /// the page, a derived one).
    pub note: Option<String>,
}

/// MediaConvert on-demand prices, USD per minute of output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaConvertPrices {
    pub quoted: Quoted,
    /// One table per tier, codec and passes the file prices.
    pub tables: Vec<PriceTable>,
    /// The thumbnail's frame-capture output, per minute of output; `None` when the model
    /// does not price it (the estimate then leaves it out and says so).
    pub frame_capture: Option<f64>,
}

/// Prices for one tier, codec and number of passes, by resolution and frame-rate class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceTable {
    pub tier: Tier,
    pub codec: Codec,
    pub passes: Passes,
    pub sd: FrameRatePrices,
    pub hd: FrameRatePrices,
    pub uhd: FrameRatePrices,
}

/// USD per output minute for each frame-rate class MediaConvert bills.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FrameRatePrices {
    /// Up to 30 fps.
    pub up_to_30: f64,
    /// Above 30, up to 60 fps.
    pub up_to_60: f64,
    /// Above 60, up to 120 fps, when the file prices it.
    pub up_to_120: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct S3Prices {
    pub quoted: Quoted,
    /// S3 Standard, first tier.
    pub standard_usd_per_gb_month: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudFrontPrices {
    pub quoted: Quoted,
    /// Data transfer out to the internet, first tier.
    pub egress_usd_per_gb: f64,
}

/// The share of full views watched at rungs of one size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ViewShare {
    pub short_side: u32,
    pub share: f64,
}

/// MediaConvert's on-demand pricing tiers. The professional tier bills the features the basic
/// one lacks, multi-pass encoding among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Basic,
    Professional,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Codec {
    H264,
    H265,
    Av1,
}

/// How many encoding passes a job's video outputs take, from its `QualityTuningLevel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Passes {
    /// `SINGLE_PASS` (MediaConvert's default, what vodpipe's job builder leaves it at) or
    /// `SINGLE_PASS_HQ`: the basic tier's speed-optimised and balanced single pass.
    SinglePass,
    /// `MULTI_PASS_HQ`: a professional-tier feature.
    MultiPassHq,
}

impl Passes {
    /// The passes of a job builder's job: multi-pass when any output's codec settings ask for
    /// a `MULTI_PASS*` quality tuning level.
    pub fn from_job(job: &JobDocument) -> Passes {
        Passes::from_create_job(&job.to_value())
    }

    /// [`Passes::from_job`] on a `CreateJob` request as a JSON tree (the whole request, or its
    /// `Settings`).
    pub fn from_create_job(create_job: &serde_json::Value) -> Passes {
        let settings = create_job.get("Settings").unwrap_or(create_job);
        let outputs = settings
            .get("OutputGroups")
            .and_then(|groups| groups.as_array())
            .into_iter()
            .flatten()
            .filter_map(|group| group.get("Outputs")?.as_array())
            .flatten();
        let multi_pass = outputs
            .filter_map(|output| output.pointer("/VideoDescription/CodecSettings")?.as_object())
            .flat_map(|codec| codec.values())
            .filter_map(|settings| settings.get("QualityTuningLevel")?.as_str())
            .any(|level| level.starts_with("MULTI_PASS"));
        if multi_pass {
            Passes::MultiPassHq
        } else {
            Passes::SinglePass
        }
    }

    /// The tier a job with these passes is billed at (multi-pass is a professional feature).
    pub fn tier(self) -> Tier {
        match self {
            Passes::SinglePass => Tier::Basic,
            Passes::MultiPassHq => Tier::Professional,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Passes::SinglePass => "single-pass",
            Passes::MultiPassHq => "multi-pass HQ",
        }
    }
}

impl Tier {
    fn describe(self) -> &'static str {
        match self {
            Tier::Basic => "basic",
            Tier::Professional => "professional",
        }
    }
}

/// MediaConvert's output resolution classes, by the output's height in lines: SD below 720,
/// HD from 720 to 1080, UHD above 1080 (up to 2160).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolutionClass {
    Sd,
    Hd,
    Uhd,
}

impl ResolutionClass {
    /// By the picture's short side (its height, or a portrait picture's width): a 1080x1920
    /// portrait rendition has as many pixels as a 1920x1080 one and is HD too.
    pub fn of(width: u32, height: u32) -> Self {
        match width.min(height) {
            0..720 => ResolutionClass::Sd,
            720..=1080 => ResolutionClass::Hd,
            _ => ResolutionClass::Uhd,
        }
    }
}

/// MediaConvert's output frame-rate classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrameRateClass {
    UpTo30,
    UpTo60,
    UpTo120,
}

impl FrameRateClass {
    pub fn of(fps: f64) -> Self {
        if fps <= 30.0 {
            FrameRateClass::UpTo30
        } else if fps <= 60.0 {
            FrameRateClass::UpTo60
        } else {
            FrameRateClass::UpTo120
        }
    }
}

impl FrameRatePrices {
    pub fn get(&self, class: FrameRateClass) -> Option<f64> {
        match class {
            FrameRateClass::UpTo30 => Some(self.up_to_30),
            FrameRateClass::UpTo60 => Some(self.up_to_60),
            FrameRateClass::UpTo120 => self.up_to_120,
        }
    }
}

impl PriceTable {
    pub fn get(&self, resolution: ResolutionClass, frame_rate: FrameRateClass) -> Option<f64> {
        match resolution {
            ResolutionClass::Sd => &self.sd,
            ResolutionClass::Hd => &self.hd,
            ResolutionClass::Uhd => &self.uhd,
        }
        .get(frame_rate)
    }
}

impl CostModel {
    /// The table for a tier, codec and passes, when the model has one.
    pub fn table(&self, tier: Tier, codec: Codec, passes: Passes) -> Option<&PriceTable> {
        self.mediaconvert
            .tables
            .iter()
            .find(|t| t.tier == tier && t.codec == codec && t.passes == passes)
    }
}

/// What a plan costs, by the cost model. Every figure is an estimate in USD.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostEstimate {
    /// MediaConvert's charge per minute of source: every rendition (and the thumbnail, when
    /// the model prices it) is an output billed per minute. `None` when the model has no
    /// price for an output of this plan (see the assumptions).
    pub mediaconvert_usd_per_source_minute: Option<f64>,
    /// S3 Standard, a month of keeping one hour of content at every rendition.
    pub storage_usd_per_month_per_content_hour: f64,
    /// CloudFront, 1,000 views of one hour of content spread over the rungs by the view mix.
    pub egress_usd_per_1000_views_per_content_hour: f64,
    /// For this source's own duration, when known (egress for 1,000 full views of it).
    pub egress_usd_per_1000_full_views: Option<f64>,
    /// Human sentences: tier, region, price dates, view mix, "estimate".
    pub assumptions: Vec<String>,
}

/// Estimates what `plan` for `source` costs, its job encoding with `passes`.
///
/// MediaConvert: per rendition, the H.264 price for the tier of `passes`, the rendition's
/// resolution class and the frame-rate class of min(source frame rate, rendition cap).
/// Storage: every rendition's average video plus audio bitrate for an hour. Egress: the view
/// mix over the plan's rungs; a size the plan lacks gives its share to the nearest rung it has.
pub fn estimate(model: &CostModel, plan: &Plan, source: &Probe, passes: Passes) -> CostEstimate {
    let mut assumptions = vec![format!(
        "Estimate from {} list prices for {} (first usage tier; no free tier or volume discount); \
         a bill can differ.",
        model.currency, model.region
    )];

    let mediaconvert = mediaconvert_per_minute(model, plan, source, passes, &mut assumptions);

    let hour_bytes = |bits_per_second: u64| bits_per_second as f64 * SECONDS_PER_HOUR / 8.0;
    let stored_gb: f64 = plan
        .renditions
        .iter()
        .map(|r| hour_bytes(total_bitrate(r)) / BYTES_PER_BILLED_GB)
        .sum();
    let storage = stored_gb * model.s3.standard_usd_per_gb_month;
    assumptions.push(format!(
        "Storage: S3 Standard at ${}/GB-month ({}), {:.3} GB per content hour for the renditions \
         at their average bitrates (GB = 2^30 bytes, as AWS bills); the uploaded source is not counted.",
        model.s3.standard_usd_per_gb_month,
        quoted(&model.s3.quoted),
        stored_gb
    ));

    let (view_hour_bytes, mix) = viewed_bytes_per_hour(model, plan);
    let egress = 1000.0 * view_hour_bytes / BYTES_PER_BILLED_GB * model.cloudfront.egress_usd_per_gb;
    assumptions.push(format!(
        "Egress: CloudFront at ${}/GB ({}), full views at average bitrates; view mix {mix}.",
        model.cloudfront.egress_usd_per_gb,
        quoted(&model.cloudfront.quoted)
    ));
    let duration_hours = source.duration_ms as f64 / 3_600_000.0;
    let egress_full_views = (source.duration_ms > 0).then_some(egress * duration_hours);
    if egress_full_views.is_none() {
        assumptions.push("The source's duration is unknown: no figure for full views of it.".into());
    }
    for quoted in [&model.mediaconvert.quoted, &model.s3.quoted, &model.cloudfront.quoted] {
        if let Some(note) = &quoted.note {
            assumptions.push(format!("Note on {}: {note}", quoted.source));
        }
    }

    CostEstimate {
        mediaconvert_usd_per_source_minute: mediaconvert,
        storage_usd_per_month_per_content_hour: storage,
        egress_usd_per_1000_views_per_content_hour: egress,
        egress_usd_per_1000_full_views: egress_full_views,
        assumptions,
    }
}

fn mediaconvert_per_minute(
    model: &CostModel,
    plan: &Plan,
    source: &Probe,
    passes: Passes,
    assumptions: &mut Vec<String>,
) -> Option<f64> {
    let tier = passes.tier();
    let what = format!("{} tier, H.264, {}", tier.describe(), passes.describe());
    let Some(table) = model.table(tier, Codec::H264, passes) else {
        assumptions.push(format!(
            "MediaConvert: no price in the model for {what} outputs: no MediaConvert figure."
        ));
        return None;
    };
    let mut total = 0.0;
    let mut missing = Vec::new();
    for rendition in &plan.renditions {
        let resolution = ResolutionClass::of(rendition.width, rendition.height);
        let frame_rate = FrameRateClass::of(output_frame_rate(rendition, source));
        match table.get(resolution, frame_rate) {
            Some(price) => total += price,
            None => missing.push(format!("{} ({resolution:?}, {frame_rate:?})", rendition.name)),
        }
    }
    assumptions.push(format!(
        "MediaConvert: on-demand {what} ({}), each rendition an output billed per minute by its \
         resolution class (by the short side: SD below 720, HD 720 to 1080, UHD above) and the frame-rate class of \
         min(source, rendition cap).",
        quoted(&model.mediaconvert.quoted)
    ));
    if plan.thumbnail.is_some() {
        match model.mediaconvert.frame_capture {
            Some(price) => total += price,
            None => assumptions.push(
                "MediaConvert: the thumbnail's frame-capture output is not priced (the model has no \
                 frame_capture price)."
                    .into(),
            ),
        }
    }
    if missing.is_empty() {
        Some(total)
    } else {
        assumptions.push(format!(
            "MediaConvert: no price in the model for {}: no MediaConvert figure.",
            missing.join(", ")
        ));
        None
    }
}

/// The frame rate a rendition is encoded at: the source's, capped; the cap when the source's
/// is unknown.
fn output_frame_rate(rendition: &Rendition, source: &Probe) -> f64 {
    if source.frame_rate > 0.0 {
        source.frame_rate.min(rendition.frame_rate_cap)
    } else {
        rendition.frame_rate_cap
    }
}

fn total_bitrate(rendition: &Rendition) -> u64 {
    rendition.video_bitrate + rendition.audio_bitrate.unwrap_or(0)
}

/// Bytes delivered for one hour of one full view, the views spread by the mix, and the mix
/// as people read it (with the shares moved to another rung).
fn viewed_bytes_per_hour(model: &CostModel, plan: &Plan) -> (f64, String) {
    let mut bytes = 0.0;
    let mut described = Vec::new();
    for view in &model.view_mix {
        let percent = view.share * 100.0;
        let Some(rendition) = nearest_rung(plan, view.short_side) else {
            continue;
        };
        bytes += view.share * total_bitrate(rendition) as f64 * SECONDS_PER_HOUR / 8.0;
        let side = short_side(rendition);
        if side == view.short_side {
            described.push(format!("{}: {percent:.0}%", view.short_side));
        } else {
            described.push(format!(
                "{}: {percent:.0}% (watched at {}, the plan's nearest rung)",
                view.short_side, rendition.name
            ));
        }
    }
    (bytes, described.join(", "))
}

fn short_side(rendition: &Rendition) -> u32 {
    rendition.width.min(rendition.height)
}

/// The plan's rendition nearest in size to `side`; of two as near, the larger.
fn nearest_rung(plan: &Plan, side: u32) -> Option<&Rendition> {
    plan.renditions
        .iter()
        .min_by_key(|r| (short_side(r).abs_diff(side), std::cmp::Reverse(short_side(r))))
}

fn quoted(quoted: &Quoted) -> String {
    format!("{}, as of {}", quoted.source, quoted.as_of)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Thumbnail;

    fn quoted() -> Quoted {
        Quoted {
            source: "https://example.com/prices".into(),
            as_of: "2025-01-01".into(),
            note: None,
        }
    }

    fn prices(base: f64) -> FrameRatePrices {
        FrameRatePrices {
            up_to_30: base,
            up_to_60: base * 2.0,
            up_to_120: None,
        }
    }

    /// Round figures, so the expected results are sums done by hand.
    fn model() -> CostModel {
        CostModel {
            currency: "USD".into(),
            region: "test-region-1".into(),
            mediaconvert: MediaConvertPrices {
                quoted: quoted(),
                tables: vec![PriceTable {
                    tier: Tier::Basic,
                    codec: Codec::H264,
                    passes: Passes::SinglePass,
                    sd: prices(0.01),
                    hd: prices(0.02),
                    uhd: prices(0.04),
                }],
                frame_capture: None,
            },
            s3: S3Prices {
                quoted: quoted(),
                standard_usd_per_gb_month: 0.02,
            },
            cloudfront: CloudFrontPrices {
                quoted: quoted(),
                egress_usd_per_gb: 0.1,
            },
            view_mix: vec![
                ViewShare {
                    short_side: 1080,
                    share: 0.5,
                },
                ViewShare {
                    short_side: 480,
                    share: 0.5,
                },
            ],
        }
    }

    fn rendition(name: &str, width: u32, height: u32, video: u64, audio: Option<u64>) -> Rendition {
        Rendition {
            bit_depth: 8,
            codec: crate::VideoCodec::H264,
            name: name.into(),
            width,
            height,
            video_bitrate: video,
            max_bitrate: video * 3 / 2,
            quality_level: None,
            profile: "main".into(),
            level: "auto".into(),
            frame_rate_cap: 30.0,
            audio_bitrate: audio,
        }
    }

    /// 1080p at 4.0 Mb/s + 0.128 audio, 480p at 0.872 + 0.128: 5 Mb/s in all.
    fn plan() -> Plan {
        Plan {
            packaging: crate::Packaging::Ts,
            renditions: vec![
                rendition("1080p", 1920, 1080, 3_872_000, Some(128_000)),
                rendition("480p", 854, 480, 872_000, Some(128_000)),
            ],
            segment_seconds: 6,
            thumbnail: None,
        }
    }

    fn source(fps: f64, duration_ms: u64) -> Probe {
        let mut probe = Probe::from_size(1920, 1080);
        (probe.frame_rate, probe.duration_ms) = (fps, duration_ms);
        probe
    }

    fn close(actual: f64, expected: f64) {
        assert!((actual - expected).abs() < 1e-12, "{actual} != {expected}");
    }

    #[test]
    fn hand_computed_figures() {
        let estimate = estimate(&model(), &plan(), &source(25.0, 30 * 60_000), Passes::SinglePass);
        // HD 0.02 + SD 0.01 per minute.
        close(estimate.mediaconvert_usd_per_source_minute.unwrap(), 0.03);
        // 5 Mb/s for an hour: 5e6 * 3600 / 8 = 2.25e9 bytes = 2.25e9 / 2^30 GB, at $0.02.
        let stored_gb = 2.25e9 / 1_073_741_824.0;
        close(estimate.storage_usd_per_month_per_content_hour, stored_gb * 0.02);
        // Half the views at 4 Mb/s, half at 1 Mb/s: 2.5 Mb/s per view, 1,000 views, $0.1/GB.
        let viewed_gb = 1000.0 * 2.5e6 * 3600.0 / 8.0 / 1_073_741_824.0;
        close(estimate.egress_usd_per_1000_views_per_content_hour, viewed_gb * 0.1);
        // Half an hour of source.
        close(estimate.egress_usd_per_1000_full_views.unwrap(), viewed_gb * 0.1 / 2.0);
        let text = estimate.assumptions.join("\n");
        assert!(text.contains("Estimate"), "{text}");
        assert!(text.contains("basic tier, H.264, single-pass"), "{text}");
        assert!(
            text.contains("test-region-1") && text.contains("as of 2025-01-01"),
            "{text}"
        );
        assert!(text.contains("1080: 50%, 480: 50%"), "{text}");
    }

    #[test]
    fn frame_rate_class_is_the_source_rate_capped() {
        let mut plan = plan();
        plan.renditions[0].frame_rate_cap = 60.0;
        // A 50 fps source: the 1080p rung keeps 50 (HD above 30: 0.04), the 480p one is capped
        // at 30 (SD up to 30: 0.01).
        let estimate = estimate(&model(), &plan, &source(50.0, 0), Passes::SinglePass);
        close(estimate.mediaconvert_usd_per_source_minute.unwrap(), 0.05);
        // An unknown source rate is taken to be the cap.
        let estimate = super::estimate(&model(), &plan, &source(0.0, 0), Passes::SinglePass);
        close(estimate.mediaconvert_usd_per_source_minute.unwrap(), 0.05);
        assert_eq!(estimate.egress_usd_per_1000_full_views, None);
        assert!(estimate.assumptions.iter().any(|a| a.contains("duration is unknown")));
    }

    #[test]
    fn resolution_class_is_by_the_short_side() {
        assert_eq!(ResolutionClass::of(1278, 719), ResolutionClass::Sd);
        assert_eq!(ResolutionClass::of(1280, 720), ResolutionClass::Hd);
        assert_eq!(ResolutionClass::of(1920, 1080), ResolutionClass::Hd);
        assert_eq!(ResolutionClass::of(1080, 1920), ResolutionClass::Hd, "portrait");
        assert_eq!(ResolutionClass::of(720, 1280), ResolutionClass::Hd, "portrait");
        assert_eq!(ResolutionClass::of(1920, 1081), ResolutionClass::Uhd);
        assert_eq!(FrameRateClass::of(29.97), FrameRateClass::UpTo30);
        assert_eq!(FrameRateClass::of(30.0), FrameRateClass::UpTo30);
        assert_eq!(FrameRateClass::of(59.94), FrameRateClass::UpTo60);
        assert_eq!(FrameRateClass::of(120.0), FrameRateClass::UpTo120);
    }

    #[test]
    fn a_missing_rung_size_is_watched_at_the_nearest_one() {
        let mut plan = plan();
        plan.renditions.remove(0);
        // Both halves of the mix now watch the 480p rung at 1 Mb/s.
        let estimate = estimate(&model(), &plan, &source(30.0, 0), Passes::SinglePass);
        let viewed_gb = 1000.0 * 1e6 * 3600.0 / 8.0 / 1_073_741_824.0;
        close(estimate.egress_usd_per_1000_views_per_content_hour, viewed_gb * 0.1);
        let text = estimate.assumptions.join("\n");
        assert!(
            text.contains("1080: 50% (watched at 480p, the plan's nearest rung)"),
            "{text}"
        );
        // Of two rungs as near, the larger.
        let plan = Plan {
            renditions: vec![
                rendition("a", 1280, 720, 100_000, None),
                rendition("b", 640, 360, 100_000, None),
            ],
            ..plan
        };
        assert_eq!(nearest_rung(&plan, 540).unwrap().name, "a");
    }

    #[test]
    fn a_price_the_model_lacks_gives_no_mediaconvert_figure() {
        // Multi-pass is professional; the model prices only the basic single pass.
        let estimate = estimate(&model(), &plan(), &source(30.0, 0), Passes::MultiPassHq);
        assert_eq!(estimate.mediaconvert_usd_per_source_minute, None);
        let text = estimate.assumptions.join("\n");
        assert!(text.contains("professional tier, H.264, multi-pass HQ"), "{text}");
        // Above 60 fps, which the model leaves unpriced.
        let mut plan = plan();
        plan.renditions[1].frame_rate_cap = 120.0;
        let estimate = super::estimate(&model(), &plan, &source(100.0, 0), Passes::SinglePass);
        assert_eq!(estimate.mediaconvert_usd_per_source_minute, None);
        assert!(estimate.assumptions.iter().any(|a| a.contains("480p (Sd, UpTo120)")));
        // Storage and egress do not depend on MediaConvert's prices.
        assert!(estimate.storage_usd_per_month_per_content_hour > 0.0);
    }

    #[test]
    fn the_thumbnail_is_priced_when_the_model_prices_frame_capture() {
        let mut plan = plan();
        plan.thumbnail = Some(Thumbnail {
            at_seconds: 2.0,
            width: 640,
            height: 360,
        });
        let unpriced = estimate(&model(), &plan, &source(30.0, 0), Passes::SinglePass);
        close(unpriced.mediaconvert_usd_per_source_minute.unwrap(), 0.03);
        assert!(
            unpriced
                .assumptions
                .iter()
                .any(|a| a.contains("frame-capture output is not priced"))
        );
        let mut model = model();
        model.mediaconvert.frame_capture = Some(0.005);
        let priced = estimate(&model, &plan, &source(30.0, 0), Passes::SinglePass);
        close(priced.mediaconvert_usd_per_source_minute.unwrap(), 0.035);
    }

    #[test]
    fn passes_come_from_the_quality_tuning_level() {
        let job = |level: Option<&str>| {
            let mut h264 = serde_json::json!({ "RateControlMode": "VBR" });
            if let Some(level) = level {
                h264["QualityTuningLevel"] = level.into();
            }
            serde_json::json!({ "Settings": { "OutputGroups": [
                { "Outputs": [ { "VideoDescription": { "CodecSettings": { "Codec": "FRAME_CAPTURE" } } } ] },
                { "Outputs": [ { "VideoDescription": { "CodecSettings": { "Codec": "H_264", "H264Settings": h264 } } } ] },
            ] } })
        };
        assert_eq!(Passes::from_create_job(&job(None)), Passes::SinglePass);
        assert_eq!(
            Passes::from_create_job(&job(Some("SINGLE_PASS_HQ"))),
            Passes::SinglePass
        );
        assert_eq!(
            Passes::from_create_job(&job(Some("MULTI_PASS_HQ"))),
            Passes::MultiPassHq
        );
        // The settings alone read the same.
        assert_eq!(
            Passes::from_create_job(&job(Some("MULTI_PASS_HQ"))["Settings"]),
            Passes::MultiPassHq
        );
        // A job builder's document.
        let mut create_job = job(Some("MULTI_PASS_HQ"));
        create_job["Settings"]["Inputs"] = serde_json::json!([{ "FileInput": "s3://bucket/source" }]);
        let document = JobDocument::parse(create_job.to_string(), Vec::new()).unwrap();
        assert_eq!(Passes::from_job(&document), Passes::MultiPassHq);
        assert_eq!(Passes::MultiPassHq.tier(), Tier::Professional);
        assert_eq!(Passes::SinglePass.tier(), Tier::Basic);
    }

    #[test]
    fn an_estimate_serialises() {
        let estimate = estimate(&model(), &plan(), &source(30.0, 60_000), Passes::SinglePass);
        let json = serde_json::to_value(&estimate).unwrap();
        assert!(json["mediaconvert_usd_per_source_minute"].is_f64(), "{json}");
        let back: CostEstimate = serde_json::from_value(json).unwrap();
        assert_eq!(back, estimate);
        let model_json = serde_json::to_value(model()).unwrap();
        assert_eq!(model_json["mediaconvert"]["tables"][0]["passes"], "single_pass");
    }
}
