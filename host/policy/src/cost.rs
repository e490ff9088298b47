//! The cost model: `pricing/aws.toml` in a bundle, named by `bundle.toml`'s `[cost] model`.
//! Every key is described in docs/ladders.md ("Cost model").
//!
//! ```toml
//! schema = 1
//! currency = "USD"
//! region = "us-east-1"
//!
//! [mediaconvert]                 # USD per minute of output
//! source = "https://aws.amazon.com/mediaconvert/pricing/"
//! as_of = "2026-12-01"
//! note = "..."                   # optional, printed with every estimate
//! frame_capture = 0.0            # optional: the thumbnail output
//!
//! [mediaconvert.basic.h264.single_pass]    # required; other tiers, codecs, passes optional
//! sd = { up_to_30 = 0.0075, up_to_60 = 0.009375, up_to_120 = 0.01125 }   # up_to_120 optional
//! hd = { ... }
//! uhd = { ... }
//!
//! [s3]
//! source = "https://aws.amazon.com/s3/pricing/"
//! as_of = "2026-12-01"
//! standard_usd_per_gb_month = 0.023
//!
//! [cloudfront]
//! source = "https://aws.amazon.com/cloudfront/pricing/"
//! as_of = "2026-12-01"
//! egress_usd_per_gb = 0.085
//!
//! [view_mix]                     # rung short side = share of full views; sums to 1
//! 1080 = 0.35
//! 720 = 0.65
//! ```

use std::ops::Range;

use toml_edit::{Item, Value};
use vodpipe_core::cost::{
    CloudFrontPrices, Codec, CostModel, FrameRatePrices, MediaConvertPrices, Passes, PriceTable, Quoted, S3Prices,
    Tier, ViewShare,
};
use vodpipe_core::ladder::limits;

use crate::diag::Diagnostics;
use crate::fields::{Fields, Source};

/// The only cost model schema this host reads.
pub const COST_SCHEMA: i64 = 1;
/// How far the view mix's shares may sum from 1 (they are written as decimals).
const SHARE_TOLERANCE: f64 = 1e-6;

/// Parses and checks a cost model. `file` is how positions name the file. Every mistake is
/// reported, each as `file:line:col: key.path: message`.
pub fn parse_cost_model(file: &str, text: &str) -> Result<CostModel, Diagnostics> {
    let mut src = Source::new(file, text);
    let model = read(&mut src);
    let diagnostics = std::mem::take(&mut src.diagnostics);
    match model {
        Some(model) if diagnostics.is_empty() => Ok(model),
        _ => Err(diagnostics.sorted()),
    }
}

fn read(src: &mut Source) -> Option<CostModel> {
    let doc = src.parse()?;
    let mut root = Fields::new(doc.as_table(), "", None);
    let schema = root.integer(src, "schema", true, COST_SCHEMA..=COST_SCHEMA, "");
    let currency = root.string(src, "currency", true);
    if let Some((currency, span)) = &currency
        && currency != "USD"
    {
        src.error(
            span.clone(),
            "currency",
            format!("`{currency}` is not supported: vodpipe's estimates are in USD"),
        );
    }
    let region = root.string(src, "region", true);
    if let Some((region, span)) = &region
        && region.trim().is_empty()
    {
        src.error(span.clone(), "region", "must name an AWS region, e.g. `us-east-1`");
    }
    let mediaconvert = root
        .table(src, "mediaconvert", true)
        .and_then(|t| read_mediaconvert(src, t));
    let s3 = root.table(src, "s3", true).and_then(|mut t| {
        let quoted = read_quoted(src, &mut t);
        let price = price(src, &mut t, "standard_usd_per_gb_month", true);
        t.finish(src);
        Some(S3Prices {
            quoted: quoted?,
            standard_usd_per_gb_month: price?,
        })
    });
    let cloudfront = root.table(src, "cloudfront", true).and_then(|mut t| {
        let quoted = read_quoted(src, &mut t);
        let price = price(src, &mut t, "egress_usd_per_gb", true);
        t.finish(src);
        Some(CloudFrontPrices {
            quoted: quoted?,
            egress_usd_per_gb: price?,
        })
    });
    let view_mix = root
        .item(src, "view_mix", true)
        .and_then(|item| read_view_mix(src, item));
    root.finish(src);

    schema?;
    Some(CostModel {
        currency: currency?.0,
        region: region?.0,
        mediaconvert: mediaconvert?,
        s3: s3?,
        cloudfront: cloudfront?,
        view_mix: view_mix?,
    })
}

/// `source`, `as_of` and `note`, which every price block has.
fn read_quoted(src: &mut Source, t: &mut Fields) -> Option<Quoted> {
    let source = t.string(src, "source", true);
    if let Some((url, span)) = &source
        && !(url.starts_with("https://") && url.len() > "https://".len())
    {
        let path = t.path("source");
        src.error(
            span.clone(),
            &path,
            "must be the https:// URL of the pricing page the figures come from",
        );
    }
    let as_of = read_date(src, t, "as_of");
    let note = t.string(src, "note", false).map(|(n, _)| n);
    Some(Quoted {
        source: source?.0,
        as_of: as_of?,
        note,
    })
}

/// A date, `YYYY-MM-DD`: a string or a TOML date.
fn read_date(src: &mut Source, t: &mut Fields, key: &'static str) -> Option<String> {
    let item = t.item(src, key, true)?;
    let text = match item.as_value() {
        Some(Value::String(s)) => s.value().clone(),
        Some(Value::Datetime(d)) => d.value().to_string(),
        _ => {
            let path = t.path(key);
            src.error(
                item.span(),
                &path,
                format!("expected a date, `YYYY-MM-DD`, found {}", describe(item)),
            );
            return None;
        }
    };
    if !is_date(&text) {
        let path = t.path(key);
        src.error(item.span(), &path, format!("`{text}` is not a date, `YYYY-MM-DD`"));
        return None;
    }
    Some(text)
}

/// `YYYY-MM-DD`, a day that exists.
fn is_date(text: &str) -> bool {
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !shaped {
        return false;
    }
    let part = |range: Range<usize>| text[range].parse::<u32>().unwrap_or(0);
    let (year, month, day) = (part(0..4), part(5..7), part(8..10));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// A price in USD: a number, not negative.
fn price(src: &mut Source, t: &mut Fields, key: &'static str, required: bool) -> Option<f64> {
    let item = t.item(src, key, required)?;
    let path = t.path(key);
    let Some(value) = item.as_value().and_then(number) else {
        src.error(
            item.span(),
            &path,
            format!("expected a number (USD), found {}", describe(item)),
        );
        return None;
    };
    if !value.is_finite() {
        src.error(item.span(), &path, format!("{value} is not a price"));
        None
    } else if value < 0.0 {
        src.error(item.span(), &path, format!("{value} is negative: a price is 0 or more"));
        None
    } else {
        Some(value)
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Float(f) => Some(*f.value()),
        Value::Integer(i) => Some(*i.value() as f64),
        _ => None,
    }
}

fn describe(item: &Item) -> &'static str {
    match item.as_value() {
        Some(Value::String(_)) => "a string",
        Some(Value::Boolean(_)) => "a boolean",
        Some(Value::Datetime(_)) => "a datetime",
        Some(Value::Array(_)) => "an array",
        Some(Value::InlineTable(_)) => "a table",
        Some(Value::Integer(_) | Value::Float(_)) => "a number",
        None => "a table",
    }
}

const TIERS: [(&str, Tier); 2] = [("basic", Tier::Basic), ("professional", Tier::Professional)];
const CODECS: [(&str, Codec); 3] = [("h264", Codec::H264), ("h265", Codec::H265), ("av1", Codec::Av1)];
const PASSES: [(&str, Passes); 2] = [
    ("single_pass", Passes::SinglePass),
    ("multi_pass_hq", Passes::MultiPassHq),
];

fn read_mediaconvert(src: &mut Source, mut t: Fields) -> Option<MediaConvertPrices> {
    let quoted = read_quoted(src, &mut t);
    let frame_capture = price(src, &mut t, "frame_capture", false);
    let mut tables = Vec::new();
    let mut complete = true;
    for (tier_key, tier) in TIERS {
        let Some(mut tier_table) = t.table(src, tier_key, tier == Tier::Basic) else {
            continue;
        };
        for (codec_key, codec) in CODECS {
            let required = tier == Tier::Basic && codec == Codec::H264;
            let Some(mut codec_table) = tier_table.table(src, codec_key, required) else {
                continue;
            };
            for (passes_key, passes) in PASSES {
                // The basic tier's single-pass H.264 is what vodpipe's job builder writes.
                let required = required && passes == Passes::SinglePass;
                let Some(mut prices) = codec_table.table(src, passes_key, required) else {
                    continue;
                };
                match read_price_table(src, &mut prices, tier, codec, passes) {
                    Some(table) => tables.push(table),
                    None => complete = false,
                }
                prices.finish(src);
            }
            codec_table.finish(src);
        }
        tier_table.finish(src);
    }
    t.finish(src);
    if !complete {
        return None;
    }
    Some(MediaConvertPrices {
        quoted: quoted?,
        tables,
        frame_capture,
    })
}

fn read_price_table(src: &mut Source, t: &mut Fields, tier: Tier, codec: Codec, passes: Passes) -> Option<PriceTable> {
    let mut class = |key: &'static str| {
        let mut prices = t.table(src, key, true)?;
        let up_to_30 = price(src, &mut prices, "up_to_30", true);
        let up_to_60 = price(src, &mut prices, "up_to_60", true);
        let up_to_120 = price(src, &mut prices, "up_to_120", false);
        prices.finish(src);
        Some(FrameRatePrices {
            up_to_30: up_to_30?,
            up_to_60: up_to_60?,
            up_to_120,
        })
    };
    let (sd, hd, uhd) = (class("sd"), class("hd"), class("uhd"));
    Some(PriceTable {
        tier,
        codec,
        passes,
        sd: sd?,
        hd: hd?,
        uhd: uhd?,
    })
}

/// `[view_mix]`: rung short side (a key) = share of full views, the shares summing to 1.
fn read_view_mix(src: &mut Source, item: &Item) -> Option<Vec<ViewShare>> {
    let Some(table) = item.as_table_like() else {
        src.error(item.span(), "view_mix", "expected a table of rung size = share");
        return None;
    };
    let sides = limits::MIN_SHORT_SIDE..=limits::MAX_SHORT_SIDE;
    let mut shares = Vec::new();
    let mut valid = true;
    for (key, value) in table.iter() {
        let path = format!("view_mix.{key}");
        let key_span = table.get_key_value(key).and_then(|(k, _)| k.span());
        let side = key.parse::<u32>().ok().filter(|side| sides.contains(side));
        if side.is_none() {
            src.error(
                key_span,
                &path,
                format!(
                    "`{key}` is not a rung size: keys are short sides in pixels ({}..={})",
                    sides.start(),
                    sides.end()
                ),
            );
            valid = false;
        }
        let share = match value.as_value().and_then(number) {
            Some(share) if (0.0..=1.0).contains(&share) => Some(share),
            Some(share) => {
                src.error(value.span(), &path, format!("{share} is not a share (0..=1)"));
                None
            }
            None => {
                src.error(
                    value.span(),
                    &path,
                    format!(
                        "expected a number, the share of views (0..=1), found {}",
                        describe(value)
                    ),
                );
                None
            }
        };
        match (side, share) {
            (Some(short_side), Some(share)) => shares.push(ViewShare { short_side, share }),
            _ => valid = false,
        }
    }
    if !valid {
        return None;
    }
    if shares.is_empty() {
        src.error(item.span(), "view_mix", "needs at least one rung size and its share");
        return None;
    }
    let sum: f64 = shares.iter().map(|s| s.share).sum();
    if (sum - 1.0).abs() > SHARE_TOLERANCE {
        src.error(
            item.span(),
            "view_mix",
            format!("the shares sum to {}; they must sum to 1", round(sum)),
        );
        return None;
    }
    shares.sort_by_key(|s| std::cmp::Reverse(s.short_side));
    Some(shares)
}

/// A sum as people write it, without float noise (0.95, not 0.9500000000000001).
fn round(value: f64) -> f64 {
    (value * 1e9).round() / 1e9
}
