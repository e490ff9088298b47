//! `vodpipe policy diff`: what changing the policy from OLD to NEW does, per source: the
//! plan (rungs added, removed, changed), the estimated cost and, with `--encode`, the measured
//! bits and quality of both. Its gates make it a CI check.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, anyhow, bail};
use clap::Args;
use serde::Serialize;
use serde_json::{Value, json};
use vodpipe_core::plan_diff::{PlanDiff, diff};
use vodpipe_core::ports::{Policy, Prober};
use vodpipe_core::{Plan, Probe};
use vodpipe_embedded::ffprobe::FfprobeProber;
use vodpipe_policy::bundle::MANIFEST;
use vodpipe_policy::{Bundle, BundleFiles, DirFiles};
use vodpipe_quality::Measurer;
use vodpipe_runtime::reload::load;
use vodpipe_runtime::{Limits, LoadedPolicy, PluginRuntime};

use crate::cost::{Cost, percent};
use crate::quality::{Report, measure_preset};

/// A gate that failed ends the command with this status (1 is an error, 2 a usage error).
pub const GATE_FAILED: u8 = 3;

#[derive(Args)]
pub struct DiffArgs {
    /// The policy before: a bundle directory, `builtin`, a preset name of the base bundle
    /// (`--policy`, else the built-in one), or a published bundle's hash (prefix) with
    /// `--bucket`. Omitted: the active bundle (the bucket's with `--bucket`, else the built-in).
    old: Option<String>,
    /// The policy after, in the same forms. Omitted: the bundle in the current directory.
    new: Option<String>,
    /// Sources to plan (and encode) for; sample sources of common sizes when none is given.
    files: Vec<PathBuf>,
    /// Every video file in DIR is a source.
    #[arg(long, value_name = "DIR")]
    corpus: Option<PathBuf>,
    /// The bundle whose presets OLD and NEW may name; the built-in bundle when omitted.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Encode every source with both policies and measure bits and quality.
    #[arg(long)]
    encode: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Where encodes, reports and charts go with --encode.
    #[arg(long, default_value = "vodpipe-quality")]
    out: PathBuf,
    /// Fail (exit 3) if any cost estimate (MediaConvert, storage, egress) over all sources
    /// rises by more than PCT percent.
    #[arg(long, value_name = "PCT")]
    max_cost_increase: Option<f64>,
    /// Fail (exit 3) if any rung of any source loses more than DB of SSIM (dB); needs --encode.
    #[arg(long, value_name = "DB", requires = "encode")]
    max_quality_drop: Option<f64>,
    /// Fail (exit 3) if any rung of any source loses more than POINTS of VMAF; needs --encode.
    #[arg(long, value_name = "POINTS", requires = "encode")]
    max_vmaf_drop: Option<f64>,
    #[command(flatten)]
    sampling: crate::quality::SamplingArg,
    /// The policy bucket, to name published bundles by hash (AWS mode).
    #[arg(long, env = "VODPIPE_POLICY_BUCKET")]
    bucket: Option<String>,
    #[arg(long, env = "VODPIPE_POLICY_PREFIX", default_value = "policy")]
    prefix: String,
}

/// One side of the diff.
pub struct Side {
    /// How the user named it.
    pub label: String,
    pub policy: LoadedPolicy,
}

/// A source the two policies are compared on.
struct Source {
    label: String,
    file: Option<PathBuf>,
    probe: Probe,
}

#[derive(Serialize)]
struct SourceDiff {
    source: String,
    probe: Probe,
    plan: PlanDiff,
    old_plan: Plan,
    new_plan: Plan,
    cost: CostChange,
    #[serde(skip_serializing_if = "Option::is_none")]
    encode: Option<EncodeDiff>,
}

#[derive(Serialize)]
struct CostChange {
    old: Cost,
    new: Cost,
}

#[derive(Serialize)]
struct EncodeDiff {
    old: Report,
    new: Report,
    rungs: Vec<RungScores>,
}

/// One rung's measured figures on both sides (matched by name).
#[derive(Serialize, Clone)]
struct RungScores {
    name: String,
    old: Option<vodpipe_quality::Scores>,
    new: Option<vodpipe_quality::Scores>,
}

#[derive(Serialize)]
struct Gate {
    name: &'static str,
    limit: f64,
    value: f64,
    passed: bool,
    detail: String,
}

pub fn run(args: DiffArgs) -> anyhow::Result<ExitCode> {
    let runtime = PluginRuntime::new(crate::cache_dir(), Limits::default()).map_err(|e| anyhow!("{e}"))?;
    let base = crate::policy::files(args.policy.as_deref());
    let old = match &args.old {
        Some(name) => resolve(&runtime, base.as_ref(), name, &args)?,
        None => active(&runtime, &args)?,
    };
    let new = match &args.new {
        Some(name) => resolve(&runtime, base.as_ref(), name, &args)?,
        None => {
            if !Path::new(MANIFEST).is_file() {
                bail!("no bundle in the current directory ({MANIFEST}); name NEW (a bundle directory or a preset)");
            }
            resolve(&runtime, base.as_ref(), ".", &args)?
        }
    };
    let sources = sources(&args)?;
    if args.encode && sources.iter().any(|s| s.file.is_none()) {
        bail!("--encode needs source files (FILE... or --corpus DIR)");
    }
    let measurer = args.encode.then(|| Measurer {
        sampling: args.sampling.sample,
        ..Measurer::default()
    });
    if let Some(Err(reason)) = measurer.as_ref().map(|m| &m.vmaf) {
        eprintln!("warning: VMAF will be null: {reason}");
    }

    let mut diffs = Vec::new();
    for source in &sources {
        diffs.push(compare(&old, &new, source, measurer.as_ref(), &args.out)?);
    }
    let totals = totals(&diffs);
    let gates = gates(&args, &diffs)?;
    let passed = gates.iter().all(|g| g.passed);

    if args.json {
        let output = json!({
            "old": describe(&old),
            "new": describe(&new),
            "sources": diffs,
            "totals": totals,
            "gates": gates,
            "passed": passed,
        });
        println!("{}", serde_json::to_string_pretty(&output)?);
    } else {
        println!("old: {}", summary(&old));
        println!("new: {}", summary(&new));
        for d in &diffs {
            print_source(d);
        }
        if args.encode {
            print_totals(&totals);
        }
        for g in &gates {
            println!(
                "gate {}: {} ({})",
                g.name,
                if g.passed { "passed" } else { "FAILED" },
                g.detail
            );
        }
    }
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(GATE_FAILED)
    })
}

/// `policy publish`: the plan diff of the bundle in `files` against the active one, on the
/// sample sources.
pub fn print_against_active(active: &Bundle, files: &dyn BundleFiles) -> anyhow::Result<()> {
    let runtime = PluginRuntime::new(crate::cache_dir(), Limits::default()).map_err(|e| anyhow!("{e}"))?;
    let old = Side {
        label: format!("active ({})", &active.content_hash[..12]),
        policy: LoadedPolicy::load(&runtime, active).map_err(plugin_errors)?,
    };
    let new = Side {
        label: "to publish".into(),
        policy: load(&runtime, files, None)?,
    };
    println!("plan changes against the active bundle:");
    println!("old: {}", summary(&old));
    println!("new: {}", summary(&new));
    for source in samples() {
        print_source(&compare(&old, &new, &source, None, Path::new("."))?);
    }
    Ok(())
}

fn plugin_errors(errors: Vec<vodpipe_core::PluginError>) -> anyhow::Error {
    anyhow!(
        "{}",
        errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
    )
}

/// Plans (and encodes) one source with both sides.
fn compare(
    old: &Side,
    new: &Side,
    source: &Source,
    measurer: Option<&Measurer>,
    out: &Path,
) -> anyhow::Result<SourceDiff> {
    let plan = |side: &Side| {
        let probe = crate::plan::with_analysis(source.probe.clone(), source.file.as_deref(), side.policy.preset());
        side.policy.plan(&probe).map_err(|e| {
            anyhow!(
                "{} (`{}`) cannot plan {}: {e}",
                side.label,
                side.policy.preset().name,
                source.label
            )
        })
    };
    let (old_plan, new_plan) = (plan(old)?, plan(new)?);
    let cost = CostChange {
        old: crate::cost::estimate(&old.policy, &old_plan, &source.probe),
        new: crate::cost::estimate(&new.policy, &new_plan, &source.probe),
    };
    let encode = match (measurer, &source.file) {
        (Some(measurer), Some(file)) => {
            let stem = file
                .file_stem()
                .map_or("source".into(), |s| s.to_string_lossy().into_owned());
            let work = |side: &str| out.join(&stem).join(format!("diff-{side}"));
            let old_report = measure_preset(file, &source.probe, &old.policy, measurer, &work("old"), false)?;
            let new_report = measure_preset(file, &source.probe, &new.policy, measurer, &work("new"), false)?;
            let mut names: Vec<String> = old_report.renditions.iter().map(|r| r.name.clone()).collect();
            for r in &new_report.renditions {
                if !names.contains(&r.name) {
                    names.push(r.name.clone());
                }
            }
            let find = |report: &Report, name: &str| report.renditions.iter().find(|r| r.name == name).cloned();
            let rungs = names
                .into_iter()
                .map(|name| RungScores {
                    old: find(&old_report, &name),
                    new: find(&new_report, &name),
                    name,
                })
                .collect();
            let mut chart_reports = vec![old_report.clone(), new_report.clone()];
            chart_reports[0].preset = format!("old: {}", old.label);
            chart_reports[1].preset = format!("new: {}", new.label);
            let chart = out.join(format!("{stem}.diff.svg"));
            std::fs::write(&chart, crate::quality::chart_of(&stem, &chart_reports))
                .with_context(|| format!("writing {}", chart.display()))?;
            Some(EncodeDiff {
                old: Report {
                    chart: Some(chart.display().to_string()),
                    ..old_report
                },
                new: Report {
                    chart: Some(chart.display().to_string()),
                    ..new_report
                },
                rungs,
            })
        }
        _ => None,
    };
    Ok(SourceDiff {
        source: source.label.clone(),
        probe: source.probe.clone(),
        plan: diff(&old_plan, &new_plan),
        old_plan,
        new_plan,
        cost,
        encode,
    })
}

/// A side named on the command line.
fn resolve(runtime: &Arc<PluginRuntime>, base: &dyn BundleFiles, name: &str, args: &DiffArgs) -> anyhow::Result<Side> {
    let side = |policy| Side {
        label: name.to_owned(),
        policy,
    };
    let path = Path::new(name);
    if name == "builtin" {
        let files = vodpipe_plugin_artifacts::builtin_files();
        return Ok(side(load(runtime, &files, None)?));
    }
    if path.join(MANIFEST).is_file() {
        return Ok(side(load(runtime, &DirFiles(path.to_owned()), None)?));
    }
    if path.is_dir() {
        bail!("{}: not a policy bundle (no {MANIFEST})", path.display());
    }
    if base.read(&format!("ladders/{name}.toml"))?.is_some() {
        return Ok(side(load(runtime, base, Some(name))?));
    }
    if let Some(bucket) = &args.bucket
        && name.len() >= 6
        && name.chars().all(|c| c.is_ascii_hexdigit())
    {
        return Ok(side(published(runtime, bucket, &args.prefix, Some(name))?));
    }
    bail!(
        "`{name}` is not a bundle directory, `builtin`, a preset of {} or (with --bucket) a published bundle",
        base.describe("ladders")
    )
}

/// The active bundle: the policy bucket's with --bucket, else the built-in one.
fn active(runtime: &Arc<PluginRuntime>, args: &DiffArgs) -> anyhow::Result<Side> {
    match &args.bucket {
        Some(bucket) => Ok(Side {
            label: "active".into(),
            policy: published(runtime, bucket, &args.prefix, None)?,
        }),
        None => Ok(Side {
            label: "builtin".into(),
            policy: load(runtime, &vodpipe_plugin_artifacts::builtin_files(), None)?,
        }),
    }
}

/// A published bundle by hash prefix, or the active one (`None`).
fn published(
    runtime: &Arc<PluginRuntime>,
    bucket: &str,
    prefix: &str,
    hash: Option<&str>,
) -> anyhow::Result<LoadedPolicy> {
    let bundle = crate::policy::block_on(bucket, prefix, |store| async move {
        let hash = match hash {
            Some(prefix) => crate::policy::resolve(&store, prefix).await?,
            None => match store.active().await? {
                Some((pointer, _)) => pointer.bundle,
                None => bail!("no bundle is active at {}", store.location()),
            },
        };
        Ok(store.download(&hash).await?)
    })?;
    LoadedPolicy::load(runtime, &bundle).map_err(plugin_errors)
}

/// The sources: the files named, the corpus, or sample sources of common shapes.
fn sources(args: &DiffArgs) -> anyhow::Result<Vec<Source>> {
    let mut files = args.files.clone();
    if let Some(dir) = &args.corpus {
        let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
            .collect();
        found.sort();
        if found.is_empty() {
            bail!("{}: no files in the corpus", dir.display());
        }
        files.extend(found);
    }
    if files.is_empty() {
        return Ok(samples());
    }
    files
        .into_iter()
        .map(|file| {
            let probe = FfprobeProber::default()
                .probe(&file)
                .map_err(|e| anyhow!("{}: {e}", file.display()))?;
            Ok(Source {
                label: file.display().to_string(),
                file: Some(file),
                probe,
            })
        })
        .collect()
}

/// Sources of the shapes uploads mostly have, for a plan-only diff without files.
fn samples() -> Vec<Source> {
    [
        ("sample 1920x1080 30 fps", 1920, 1080, 30.0),
        ("sample 1280x720 60 fps", 1280, 720, 60.0),
        ("sample 3840x2160 30 fps", 3840, 2160, 30.0),
        ("sample 1080x1920 portrait 30 fps", 1080, 1920, 30.0),
        ("sample 854x480 25 fps", 854, 480, 25.0),
    ]
    .into_iter()
    .map(|(label, width, height, fps)| {
        let mut probe = Probe::from_size(width, height);
        probe.frame_rate = fps;
        probe.duration_ms = 60_000;
        probe.has_audio = true;
        Source {
            label: label.into(),
            file: None,
            probe,
        }
    })
    .collect()
}

fn describe(side: &Side) -> Value {
    json!({
        "label": side.label,
        "bundle": side.policy.bundle_name,
        "hash": side.policy.content_hash,
        "preset": side.policy.preset().name,
    })
}

fn summary(side: &Side) -> String {
    format!(
        "{} (bundle `{}` {}, preset `{}`)",
        side.label,
        side.policy.bundle_name,
        &side.policy.content_hash[..12.min(side.policy.content_hash.len())],
        side.policy.preset().name
    )
}

fn print_source(d: &SourceDiff) {
    println!("\n{}", d.source);
    if d.plan.is_empty() {
        println!("  plan: unchanged ({} rungs)", d.old_plan.renditions.len());
    }
    for r in &d.plan.added {
        println!(
            "  + {:<8} {}x{} {} kb/s (max {}) {} {}",
            r.name,
            r.width,
            r.height,
            r.video_bitrate / 1000,
            r.max_bitrate / 1000,
            r.profile,
            r.level
        );
    }
    for r in &d.plan.removed {
        println!(
            "  - {:<8} {}x{} {} kb/s",
            r.name,
            r.width,
            r.height,
            r.video_bitrate / 1000
        );
    }
    for c in &d.plan.changed {
        let fields: Vec<String> = c
            .fields
            .iter()
            .map(|f| format!("{} {} -> {}", f.field, f.old, f.new))
            .collect();
        println!("  ~ {:<8} {}", c.name, fields.join(", "));
    }
    for f in d.plan.segment_seconds.iter().chain(&d.plan.thumbnail) {
        println!("  ~ {} {} -> {}", f.field, f.old, f.new);
    }
    crate::cost::print_change(&d.cost.old, &d.cost.new, "  ");
    if let Some(e) = &d.encode {
        println!(
            "  {:<8} {:>21} {:>17} {:>17} {:>17}",
            "measured", "avg kb/s", "VMAF", "SSIM dB", "PSNR dB"
        );
        let pair = |o: Option<f64>, n: Option<f64>, decimals: usize| {
            let f = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.decimals$}"));
            format!("{} -> {}", f(o), f(n))
        };
        for r in &e.rungs {
            let (o, n) = (r.old.as_ref(), r.new.as_ref());
            println!(
                "  {:<8} {:>21} {:>17} {:>17} {:>17}",
                r.name,
                pair(o.map(|s| s.avg_kbps), n.map(|s| s.avg_kbps), 0),
                pair(o.and_then(|s| s.vmaf), n.and_then(|s| s.vmaf), 2),
                pair(o.and_then(|s| s.ssim_db), n.and_then(|s| s.ssim_db), 2),
                pair(o.and_then(|s| s.psnr_db), n.and_then(|s| s.psnr_db), 2),
            );
        }
        if let Some(chart) = &e.new.chart {
            println!("  chart: {chart}");
        }
    }
}

/// Corpus totals of the measured encodes.
#[derive(Serialize, Default)]
struct Totals {
    /// Megabits of every rendition of every source, each side.
    old_megabits: f64,
    new_megabits: f64,
    /// Mean VMAF / SSIM dB per rung name over the sources that have the rung on both sides.
    rungs: BTreeMap<String, RungMeans>,
    /// The rung of a source that lost the most SSIM (dB) from old to new.
    worst: Option<Worst>,
}

#[derive(Serialize, Default)]
struct RungMeans {
    sources: usize,
    old_vmaf: Option<f64>,
    new_vmaf: Option<f64>,
    old_ssim_db: f64,
    new_ssim_db: f64,
}

#[derive(Serialize)]
struct Worst {
    source: String,
    rung: String,
    ssim_db_drop: f64,
    vmaf_drop: Option<f64>,
}

fn totals(diffs: &[SourceDiff]) -> Totals {
    let mut totals = Totals::default();
    let mut vmaf_sums: BTreeMap<String, (f64, f64, usize)> = BTreeMap::new();
    for d in diffs {
        let Some(e) = &d.encode else { continue };
        let seconds = d.probe.duration_ms as f64 / 1000.0;
        totals.old_megabits += e.old.renditions.iter().map(|r| r.avg_kbps).sum::<f64>() * seconds / 1000.0;
        totals.new_megabits += e.new.renditions.iter().map(|r| r.avg_kbps).sum::<f64>() * seconds / 1000.0;
        for r in &e.rungs {
            let (Some(o), Some(n)) = (&r.old, &r.new) else { continue };
            let (Some(os), Some(ns)) = (o.ssim_db, n.ssim_db) else {
                continue;
            };
            let means = totals.rungs.entry(r.name.clone()).or_default();
            means.sources += 1;
            means.old_ssim_db += os;
            means.new_ssim_db += ns;
            if let (Some(ov), Some(nv)) = (o.vmaf, n.vmaf) {
                let sums = vmaf_sums.entry(r.name.clone()).or_default();
                sums.0 += ov;
                sums.1 += nv;
                sums.2 += 1;
            }
            let drop = os - ns;
            if totals.worst.as_ref().is_none_or(|w| drop > w.ssim_db_drop) {
                totals.worst = Some(Worst {
                    source: d.source.clone(),
                    rung: r.name.clone(),
                    ssim_db_drop: drop,
                    vmaf_drop: o.vmaf.zip(n.vmaf).map(|(o, n)| o - n),
                });
            }
        }
    }
    for (name, means) in &mut totals.rungs {
        means.old_ssim_db /= means.sources as f64;
        means.new_ssim_db /= means.sources as f64;
        if let Some((o, n, count)) = vmaf_sums.get(name).filter(|s| s.2 == means.sources) {
            means.old_vmaf = Some(o / *count as f64);
            means.new_vmaf = Some(n / *count as f64);
        }
    }
    totals
}

fn print_totals(t: &Totals) {
    println!("\ntotals over the sources");
    println!(
        "  bits: {:.1} Mb -> {:.1} Mb ({:+.1}%)",
        t.old_megabits,
        t.new_megabits,
        percent(t.old_megabits, t.new_megabits)
    );
    for (name, m) in &t.rungs {
        let vmaf = match (m.old_vmaf, m.new_vmaf) {
            (Some(o), Some(n)) => format!(", VMAF {o:.2} -> {n:.2}"),
            _ => String::new(),
        };
        println!(
            "  {name:<8} mean SSIM {:.2} -> {:.2} dB{vmaf} ({} source{})",
            m.old_ssim_db,
            m.new_ssim_db,
            m.sources,
            if m.sources == 1 { "" } else { "s" }
        );
    }
    if let Some(w) = &t.worst {
        println!(
            "  worst rung: {} of {}, SSIM {:+.2} dB{}",
            w.rung,
            w.source,
            -w.ssim_db_drop,
            w.vmaf_drop.map(|v| format!(", VMAF {:+.2}", -v)).unwrap_or_default()
        );
    }
}

/// The CI gates asked for, each with its measured value.
fn gates(args: &DiffArgs, diffs: &[SourceDiff]) -> anyhow::Result<Vec<Gate>> {
    let mut gates = Vec::new();
    if let Some(limit) = args.max_cost_increase {
        type Figure = fn(&vodpipe_core::CostEstimate) -> Option<f64>;
        let dimensions: [(&str, Figure); 3] = [
            ("MediaConvert", |e| e.mediaconvert_usd_per_source_minute),
            ("storage", |e| Some(e.storage_usd_per_month_per_content_hour)),
            ("egress", |e| Some(e.egress_usd_per_1000_views_per_content_hour)),
        ];
        // Summed over the sources; `None` when a side lacks the figure for any of them.
        let sum = |figure: Figure| {
            diffs.iter().try_fold((0.0, 0.0), |(old, new), d| {
                let o = d.cost.old.estimate().and_then(figure)?;
                let n = d.cost.new.estimate().and_then(figure)?;
                Some((old + o, new + n))
            })
        };
        let mut worst: Option<(f64, &str)> = None;
        for (name, figure) in dimensions {
            let (old, new) = sum(figure).ok_or_else(|| {
                anyhow!("--max-cost-increase: no {name} estimate on both sides (a bundle without a cost model, or a price the model lacks)")
            })?;
            let change = percent(old, new);
            if worst.is_none_or(|(w, _)| change > w) {
                worst = Some((change, name));
            }
        }
        let (value, name) = worst.expect("three dimensions");
        gates.push(Gate {
            name: "max-cost-increase",
            limit,
            value,
            passed: value <= limit,
            detail: format!("largest cost change {value:+.1}% ({name}), limit +{limit}%"),
        });
    }
    let worst_drop = |pick: fn(&vodpipe_quality::Scores) -> Option<f64>| -> Option<(f64, String)> {
        diffs
            .iter()
            .filter_map(|d| d.encode.as_ref().map(|e| (d, e)))
            .flat_map(|(d, e)| {
                e.rungs.iter().filter_map(move |r| {
                    let drop = pick(r.old.as_ref()?)? - pick(r.new.as_ref()?)?;
                    Some((drop, format!("{} of {}", r.name, d.source)))
                })
            })
            .max_by(|a, b| a.0.total_cmp(&b.0))
    };
    for (name, limit, pick, unit) in [
        (
            "max-quality-drop",
            args.max_quality_drop,
            (|s: &vodpipe_quality::Scores| s.ssim_db) as fn(&vodpipe_quality::Scores) -> Option<f64>,
            "dB SSIM",
        ),
        ("max-vmaf-drop", args.max_vmaf_drop, |s| s.vmaf, "VMAF points"),
    ] {
        let Some(limit) = limit else { continue };
        let (value, rung) = worst_drop(pick).ok_or_else(|| anyhow!("--{name}: no rung was measured on both sides"))?;
        gates.push(Gate {
            name,
            limit,
            value,
            passed: value <= limit,
            detail: format!("largest drop {value:.2} {unit} ({rung}), limit {limit}"),
        });
    }
    Ok(gates)
}
