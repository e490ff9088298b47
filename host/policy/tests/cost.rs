//! The cost model the repository ships (`ladders/pricing/aws.toml`, the built-in bundle's
//! `pricing/aws.toml`) parses, and prices the default preset's plan for a 1080p source as
//! its own figures say it should.

use std::path::Path;

use vodpipe_core::cost::{Passes, estimate};
use vodpipe_core::{Plan, Probe, Rendition, Thumbnail};
use vodpipe_ladder_math as rules;
use vodpipe_policy::{parse_cost_model, parse_ladder};

fn repository_file(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel)).unwrap()
}

/// The default preset's plan for a 1920x1080, 30 fps, 10-minute source with audio, by the
/// rules the shipped planner runs.
fn default_plan() -> (Plan, Probe) {
    let preset = parse_ladder(
        "ladders/default.toml",
        &repository_file("ladders/default.toml"),
        Some("default"),
    )
    .unwrap();
    let mut probe = Probe::from_size(1920, 1080);
    (probe.frame_rate, probe.duration_ms) = (30.0, 600_000);
    let source = rules::Source {
        width: 1920,
        height: 1080,
        frame_rate: probe.frame_rate,
        duration_ms: probe.duration_ms,
        has_audio: true,
    };
    let ladder = rules::Ladder {
        packaging: vodpipe_ladder_math::Packaging::Ts,
        rungs: preset
            .rungs
            .iter()
            .map(|r| rules::Rung {
                codec: vodpipe_ladder_math::Codec::H264,
                name: r.name.clone(),
                short_side: r.short_side,
                video_bitrate: r.video_bitrate,
                max_bitrate: r.max_bitrate,
                profile: r.profile.clone(),
                level: r.level.clone(),
                audio_bitrate: r.audio_bitrate,
            })
            .collect(),
        allow_upscale: preset.allow_upscale,
        frame_rate_cap: preset.frame_rate_cap,
        segment_seconds: preset.segment_seconds,
        thumbnail_at_seconds: preset.thumbnail_at_seconds,
        thumbnail_width: preset.thumbnail_width,
    };
    let plan = rules::plan(&source, &ladder, 1.0).unwrap();
    let plan = Plan {
        packaging: vodpipe_core::Packaging::Ts,
        renditions: plan
            .renditions
            .into_iter()
            .map(|r| Rendition {
                bit_depth: 8,
                codec: vodpipe_core::VideoCodec::H264,
                name: r.name,
                width: r.width,
                height: r.height,
                video_bitrate: r.video_bitrate,
                max_bitrate: r.max_bitrate,
                quality_level: None,
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
    };
    plan.check(&probe, &preset).unwrap();
    (plan, probe)
}

fn close(actual: f64, expected: f64) {
    assert!((actual - expected).abs() < 1e-9, "{actual} != {expected}");
}

#[test]
fn the_shipped_model_prices_the_default_plan() {
    let model = parse_cost_model("ladders/pricing/aws.toml", &repository_file("ladders/pricing/aws.toml"))
        .unwrap_or_else(|d| panic!("{d}"));
    assert_eq!((model.currency.as_str(), model.region.as_str()), ("USD", "us-east-1"));
    let (plan, source) = default_plan();
    let names: Vec<&str> = plan.renditions.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["1080p", "720p", "480p", "360p", "240p"]);

    let estimate = estimate(&model, &plan, &source, Passes::SinglePass);
    // Two HD renditions at $0.015 and three SD ones at $0.0075 a minute, all at 30 fps; the
    // thumbnail is not priced.
    close(
        estimate.mediaconvert_usd_per_source_minute.unwrap(),
        2.0 * 0.015 + 3.0 * 0.0075,
    );
    // 5128 + 3128 + 1496 + 896 + 464 = 11,112 kb/s for an hour, at $0.023 per 2^30 bytes.
    let stored_gb = 11_112_000.0 * 3600.0 / 8.0 / 1_073_741_824.0;
    close(estimate.storage_usd_per_month_per_content_hour, stored_gb * 0.023);
    // The view mix over the five rungs: 0.35 * 5128 + 0.30 * 3128 + 0.20 * 1496 + 0.10 * 896
    // + 0.05 * 464 = 3145.2 kb/s per view, 1,000 views, $0.085 per 2^30 bytes.
    let viewed_gb = 1000.0 * 3_145_200.0 * 3600.0 / 8.0 / 1_073_741_824.0;
    close(estimate.egress_usd_per_1000_views_per_content_hour, viewed_gb * 0.085);
    // Ten minutes of source.
    close(
        estimate.egress_usd_per_1000_full_views.unwrap(),
        viewed_gb * 0.085 / 6.0,
    );
    // Plausible, in round figures: about 5 cents a minute to encode, 11 cents a month to keep
    // an hour, $112 to deliver an hour to 1,000 viewers.
    assert!((0.05..0.06).contains(&estimate.mediaconvert_usd_per_source_minute.unwrap()));
    assert!((0.10..0.11).contains(&estimate.storage_usd_per_month_per_content_hour));
    assert!((110.0..115.0).contains(&estimate.egress_usd_per_1000_views_per_content_hour));

    let assumptions = estimate.assumptions.join("\n");
    for expected in [
        "list prices for us-east-1",
        "basic tier, H.264, single-pass",
        "https://aws.amazon.com/mediaconvert/pricing/, as of",
        "https://aws.amazon.com/s3/pricing/",
        "https://aws.amazon.com/cloudfront/pricing/",
        "1080: 35%, 720: 30%, 480: 20%, 360: 10%, 240: 5%",
        "frame-capture output is not priced",
        "derived",
    ] {
        assert!(
            assumptions.contains(expected),
            "`{expected}` missing from:\n{assumptions}"
        );
    }
}

#[test]
fn the_shipped_model_has_no_professional_prices() {
    // None were found; a multi-pass job gets no MediaConvert figure rather than a made-up one.
    let model = parse_cost_model("ladders/pricing/aws.toml", &repository_file("ladders/pricing/aws.toml")).unwrap();
    let (plan, source) = default_plan();
    let estimate = estimate(&model, &plan, &source, Passes::MultiPassHq);
    assert_eq!(estimate.mediaconvert_usd_per_source_minute, None);
    assert!(estimate.storage_usd_per_month_per_content_hour > 0.0);
}
